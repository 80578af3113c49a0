"""A `Dataset`: a table's features and target, preprocessed and split, with what was done to it.

Everything ends in a `Dataset`: preprocessed float32 matrices for train/validation/test, the task
(classification or regression), and the fitted preprocessor so that new points (a decision-boundary
grid) go through exactly the same transformation. What each column of a CSV is: core.data.columns;
the built-in sets: core.data.builtin; reading the file: core.data.csvfile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.data.columns import (
    DROP_REASONS,
    MAX_CATEGORIES,
    MAX_CLASSES,
    MIN_CLASS_ROWS,
    ROW_CAP,
    SCALED_LIMIT,
    TOO_LARGE,
    ColumnInfo,
    analyze_columns,
    date_part_values,
    guess_task,
    is_whole,
    no_values,
    parse_dates,
    quoted_names,
    without_too_large,
)
from core.data.csvfile import CsvTable, DataError, read_table
from core.wording import first_and_more

VAL_SHARE = 0.2
TEST_SHARE = 0.2


@dataclass
class Dataset:
    name: str
    task: str  # "classification" or "regression"
    feature_names: list[str]  # columns as the user knows them, before one-hot encoding
    classes: list[str]  # class labels, in output order; empty for regression
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    preprocessor: Any = None  # fitted ColumnTransformer, applied to raw feature frames
    raw_train: pd.DataFrame | None = None  # raw features of the training rows (for plots)
    raw_val: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    # Regression: the training target's mean and standard deviation (the network learns the standardized
    # target; an exported model turns its outputs back into the target's units with these).
    target_mean: float | None = None
    target_std: float | None = None

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else 1

    @property
    def is_2d(self) -> bool:
        """Two numeric features: the model's predictions can be drawn over the plane."""
        if len(self.feature_names) != 2 or self.raw_train is None:
            return False
        return all(pd.api.types.is_numeric_dtype(self.raw_train[c]) for c in self.feature_names)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "rows": {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)},
            "features": list(self.feature_names),
            "inputs": self.n_inputs,
            "classes": list(self.classes),
            "notes": list(self.notes),
        }


def _date_parts(name: str, column: pd.Series, fmt: str) -> pd.DataFrame:
    parsed = parse_dates(column.astype("string"), fmt)
    values = date_part_values(parsed)
    wanted = ["year", "month", "day", "weekday"]
    if bool((parsed.dt.hour.fillna(0) != 0).any() or (parsed.dt.minute.fillna(0) != 0).any()):
        wanted.append("hour")  # a time of day only when the column has one
    return pd.DataFrame({f"{name} ({part})": values[part].astype(float) for part in wanted}, index=column.index)


@dataclass
class _FeatureChanges:
    """What `features` did to the columns, gathered for its notes."""

    dropped: dict[str, list[str]] = field(default_factory=dict)  # reason -> columns
    dates: list[str] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    infinite: list[str] = field(default_factory=list)
    imputed: list[str] = field(default_factory=list)


def _feature_column(info: ColumnInfo, column: pd.Series, changes: _FeatureChanges) -> pd.Series | pd.DataFrame:
    """One usable column as the model's input(s): dates split into parts, numbers and booleans as floats."""
    name = info.name
    if info.kind == "date" and info.date_format:
        date_parts = _date_parts(name, column, info.date_format)
        changes.dates.append(f"{name!r} ({info.date_order})")
        unread = int(date_parts.iloc[:, 0].isna().sum() - column.isna().sum())
        if unread > 0:
            changes.imputed.append(f"{name!r} ({unread} unreadable date(s))")
        return date_parts
    if info.kind == "boolean":
        column = column.astype("float")
    elif info.kind == "number":
        column, overflow = without_too_large(pd.to_numeric(column, errors="coerce").astype(float))
        if overflow:
            changes.infinite.append(f"{name!r} ({overflow})")
    else:
        column = column.astype("string").astype(object).where(column.notna(), np.nan)
        if info.distinct > MAX_CATEGORIES:
            changes.capped.append(f"{name!r} ({info.distinct})")
    missing = int(column.isna().sum())
    if missing:
        changes.imputed.append(f"{name!r} ({missing})")
    return column


def _feature_notes(changes: _FeatureChanges, excluded: list[str]) -> list[str]:
    notes: list[str] = []
    if excluded:
        notes.append(f"left out by you: {quoted_names(excluded)}")
    for reason, names in changes.dropped.items():
        notes.append(f"dropped {quoted_names(names)}: {reason}")
    if changes.dates:
        notes.append(f"dates in {', '.join(changes.dates)} are turned into year, month, day and weekday inputs")
    if changes.capped:
        notes.append(
            f"many categories in {', '.join(changes.capped)}: the {MAX_CATEGORIES - 1} most frequent values get an input each, "
            "the rest share one"
        )
    infinite, imputed = changes.infinite, changes.imputed
    if infinite:
        notes.append(
            f"values {TOO_LARGE}, treated as missing: {first_and_more(infinite, 5, 'column(s)')}"
        )
    if imputed:
        notes.append(
            "missing feature values filled in (median for numbers, most frequent value otherwise): "
            + first_and_more(imputed, 5, "column(s)")
        )
    return notes


def features(
    frame: pd.DataFrame, infos: list[ColumnInfo], target: str, exclude: tuple[str, ...] | list[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """The feature columns FitLab trains on, ready for `prepare`, and a note for everything it changed."""
    kept: dict[str, pd.Series | pd.DataFrame] = {}
    changes = _FeatureChanges()
    dropped = changes.dropped
    y = frame[target]
    for info in infos:
        name = info.name
        if name == target or name in exclude:
            continue
        if not info.usable:
            reason = info.reason if info.kind == "empty" else DROP_REASONS[info.kind]  # "constant": one note for all
            dropped.setdefault(reason, []).append(name)
            continue
        column = frame[name]
        if column.equals(y):
            dropped.setdefault("identical to the target (it would give the answer away)", []).append(name)
            continue
        kept[name] = _feature_column(info, column, changes)
    notes = _feature_notes(changes, [n for n in exclude if n != target])
    if not kept:
        why = "; ".join(f"{quoted_names(n, 3)} ({r})" for r, n in dropped.items()) if dropped else "there are no other columns"
        raise DataError(f"no usable feature columns besides the target {target!r}: dropped {why}")
    pieces = [v if isinstance(v, pd.DataFrame) else v.rename(k).to_frame() for k, v in kept.items()]
    return pd.concat(pieces, axis=1), notes


# ---------------------------------------------------------------- CSV files: target, task, the Dataset


def _column_list(columns: list[str]) -> str:
    shown = ", ".join(columns[:20])
    return shown + (f" … ({len(columns)} columns)" if len(columns) > 20 else "")


def _class_labels(y: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(y):
        return y.astype(bool).astype(str)
    if pd.api.types.is_numeric_dtype(y) and is_whole(y):
        return y.astype("int64").astype(str)
    return y.astype(str).str.strip()


def _sample_rows(index: pd.Index, labels: pd.Series | None, cap: int, seed: int) -> pd.Index:
    """A seeded sample of `cap` rows; stratified by class when every class has two rows to split."""
    if labels is not None and int(labels.value_counts().min()) >= 2:
        kept, _ = train_test_split(index.to_numpy(), train_size=cap, random_state=seed, stratify=labels.to_numpy())
    else:
        kept = np.random.default_rng(seed).choice(index.to_numpy(), size=cap, replace=False)
    return pd.Index(np.sort(kept))


def _check_choices(columns: list[str], target: str, exclude: tuple[str, ...] | list[str], task: str | None) -> None:
    if target not in columns:
        raise DataError(f"target column {target!r} not found; columns are: {_column_list(columns)}")
    unknown = [c for c in exclude if c not in columns]
    if unknown:
        raise DataError(f"cannot leave out {quoted_names(unknown)}: no such column; columns are: {_column_list(columns)}")
    if target in exclude:
        raise DataError(f"the target column {target!r} cannot also be left out")
    if task not in (None, "classification", "regression"):
        raise DataError(f"task must be classification or regression, got {task!r}")


def _target_values(frame: pd.DataFrame, target: str, infos: list[ColumnInfo], notes: list[str]) -> pd.Series:
    """The target's usable values: rows without one (or with one too large for float32) dropped and noted."""
    target_info = next(i for i in infos if i.name == target)
    if target_info.kind == "date":
        raise DataError(f"the target column {target!r} holds dates; pick a column of numbers or labels to predict")
    y, overflow = without_too_large(frame[target])
    missing = int(y.isna().sum()) - overflow
    if missing + overflow == len(y):
        raise DataError(f"the target column {target!r} has {no_values(overflow, len(y))}")
    if missing:
        notes.append(f"dropped {missing} row(s) with no value in target {target!r}")
    if overflow:
        notes.append(f"dropped {overflow} row(s) whose target {target!r} is {TOO_LARGE}")
    return y[y.notna()]


def _choose_task(y: pd.Series, target: str, task: str | None, notes: list[str]) -> str:
    """The task asked for, else the guessed one (with a note when the guess could go either way)."""
    guess = guess_task(y)
    if task is None:
        task = guess.task
        if guess.ambiguous:
            other = "regression" if task == "classification" else "classification"
            meaning = "amounts" if other == "regression" else "classes"
            notes.append(
                f"target {target!r} has {guess.reason}: treated as {task}; if they are {meaning}, choose {other} "
                f"(CLI: --task {other})"
            )
    return task


def _task_target(y: pd.Series, target: str, task: str, *, numeric: bool) -> tuple[pd.Series, pd.Series | None]:
    """(the target as the task needs it, the class labels to stratify a sample by; None for regression)."""
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            example = str(y.iloc[0])[:40]
            raise DataError(
                f"regression needs numbers to predict, but target {target!r} holds labels such as {example!r}; "
                "choose classification"
            )
        return y.astype(float), None
    y = _class_labels(y)
    _check_classes(y, target, numeric=numeric)
    return y, y


def build_dataset(
    table: CsvTable | pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    seed: int = 0,
    name: str = "uploaded.csv",
    infos: list[ColumnInfo] | None = None,
    row_cap: int = ROW_CAP,
) -> Dataset:
    """A read CSV to a Dataset: target checks, task, sampling, features, then `prepare`."""
    frame = table.frame if isinstance(table, CsvTable) else table
    notes = list(table.notes) if isinstance(table, CsvTable) else []
    columns = [str(c) for c in frame.columns]
    _check_choices(columns, target, exclude, task)
    infos = infos if infos is not None else analyze_columns(frame)
    y = _target_values(frame, target, infos, notes)
    task = _choose_task(y, target, task, notes)
    y, labels = _task_target(y, target, task, numeric=pd.api.types.is_numeric_dtype(frame[target]))
    if len(y) > row_cap:
        notes.append(
            f"{len(y):,} rows with a target: training uses a random sample of {row_cap:,} (seed {seed}) so that it "
            "stays interactive"
        )
        y = y.loc[_sample_rows(y.index, labels, row_cap, seed)]
    x, feature_notes = features(frame.loc[y.index], infos, target, exclude)
    notes.extend(feature_notes)
    return prepare(x.reset_index(drop=True), y.reset_index(drop=True), name=name, task=task, seed=seed, notes=notes)


def _check_classes(y: pd.Series, target: str, *, numeric: bool) -> None:
    counts = y.value_counts()
    classes, rows = len(counts), len(y)
    if classes < 2:
        raise DataError(f"the target {target!r} has a single class ({counts.index[0]!r}); classification needs at least two")
    if classes > MAX_CLASSES or (classes > 10 and classes > rows // 2):
        advice = "choose regression if they are amounts" if numeric else "pick another target"
        raise DataError(
            f"the target {target!r} has {classes:,} distinct values in {rows:,} rows: too many classes to learn "
            f"(at most {MAX_CLASSES}, and each needs rows in every split); {advice}"
        )
    smallest = int(counts.min())
    if smallest < MIN_CLASS_ROWS:
        raise DataError(
            f"class {counts.idxmin()!r} of target {target!r} has {smallest} row(s); each class needs at least "
            f"{MIN_CLASS_ROWS} (one each for training, validation and test): add rows, merge it into another class, "
            "or remove its rows"
        )


def load_csv(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    target: str,
    seed: int = 0,
    name: str | None = None,
    *,
    task: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    row_cap: int = ROW_CAP,
) -> Dataset:
    """Read a CSV and make a Dataset of it; every problem is a DataError with one sentence."""
    table = read_table(source)
    label = name or (os.path.basename(str(source)) if isinstance(source, (str, os.PathLike)) else "uploaded.csv")
    return build_dataset(table, target, task=task, exclude=exclude, seed=seed, name=label, row_cap=row_cap)


# ---------------------------------------------------------------- preprocessing and split


def _split(
    frame: pd.DataFrame, target: pd.Series, task: str, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    stratify = target if task == "classification" else None
    if stratify is not None:
        smallest = int(target.value_counts().min())
        if smallest < 3:
            raise DataError(
                f"class {target.value_counts().idxmin()!r} has {smallest} row(s); each class needs at least 3 "
                "to appear in the train, validation and test sets"
            )
    if len(target) < 10:
        raise DataError(f"{len(target)} rows is too few to split into train, validation and test sets (need 10)")
    if stratify is not None:
        classes, smallest_split = target.nunique(), int(len(target) * min(TEST_SHARE, VAL_SHARE))
        if smallest_split < classes:
            raise DataError(
                f"{classes} classes but only {len(target)} rows: the validation and test sets ({smallest_split} rows "
                "each) cannot hold one row of every class; add rows or merge rare classes"
            )
    x_rest, x_test, y_rest, y_test = train_test_split(frame, target, test_size=TEST_SHARE, random_state=seed, stratify=stratify)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=VAL_SHARE / (1 - TEST_SHARE),
        random_state=seed,
        stratify=y_rest if stratify is not None else None,
    )
    return x_train, x_val, x_test, y_train, y_val, y_test


def _preprocessor(frame: pd.DataFrame) -> ColumnTransformer:
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in frame.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False),
                ),
                categorical,
            ),
        ],
        sparse_threshold=0.0,
    )


def prepare(
    frame: pd.DataFrame, target: pd.Series, *, name: str, task: str, seed: int = 0, notes: list[str] | None = None
) -> Dataset:
    """Split (seeded, stratified for classification), fit preprocessing on train only, encode y."""
    notes = list(notes or [])
    if task == "classification" and target.nunique() < 2:
        raise DataError(f"the target has a single class ({target.iloc[0]!r}); classification needs at least two")
    # Categorical columns are read as text so that mixed values one-hot encode cleanly.
    frame = frame.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("string").astype(object).where(frame[column].notna(), np.nan)
    for column in frame.columns:  # a frame that did not come through `features`: same rule
        frame[column] = without_too_large(frame[column])[0]
    x_train, x_val, x_test, y_train, y_val, y_test = _split(frame, target, task, seed)
    target_scale: tuple[float | None, float | None] = (None, None)
    pre = _preprocessor(frame)
    try:
        xt = pre.fit_transform(x_train)
    except ValueError as exc:
        raise DataError(f"could not preprocess the features: {exc}") from None
    if xt.shape[1] == 0:
        raise DataError("no usable feature columns are left after preprocessing")
    xv, xs = pre.transform(x_val), pre.transform(x_test)
    if task == "classification":
        classes = sorted(target.unique().tolist(), key=_natural_key)
        index = {c: i for i, c in enumerate(classes)}
        encode = lambda s: s.map(index).to_numpy(dtype=np.int64)  # noqa: E731
        ys: tuple[np.ndarray, ...] = encode(y_train), encode(y_val), encode(y_test)
    else:
        classes = []
        mean, std = float(y_train.mean()), float(y_train.std(ddof=0)) or 1.0
        target_scale = (mean, std)
        # Standardized target: a mean-predictor has loss 1.0, so losses read the same on every dataset.
        with np.errstate(over="ignore"):
            ys = tuple(((y - mean) / std).to_numpy(dtype=np.float32) for y in (y_train, y_val, y_test))
    with np.errstate(over="ignore"):
        xs32 = [np.asarray(x).astype(np.float32) for x in (xt, xv, xs)]
    _check_scaled(xs32[1:], lambda i: str(pre.get_feature_names_out()[i]).split("__", 1)[-1])
    if task == "regression":
        _check_scaled([y.reshape(-1, 1) for y in ys[1:]], lambda i: str(target.name or "the target"))
    return Dataset(
        name=name,
        task=task,
        feature_names=[str(c) for c in frame.columns],
        classes=[str(c) for c in classes],
        x_train=xs32[0],
        y_train=ys[0],
        x_val=xs32[1],
        y_val=ys[1],
        x_test=xs32[2],
        y_test=ys[2],
        preprocessor=pre,
        raw_train=x_train.reset_index(drop=True),
        raw_val=x_val.reset_index(drop=True),
        notes=notes,
        target_mean=target_scale[0],
        target_std=target_scale[1],
    )


def _check_scaled(arrays: list[np.ndarray], name: Callable[[int], str]) -> None:
    """Validation and test values, scaled by the training rows, that no float32 loss survives.

    Scaled training values lie within ±sqrt(rows); a validation value 1e30 training standard
    deviations away (a row typed in other units) would square to inf in the network's loss and in the
    baselines' — a typo or a unit error, not something to learn from.
    """
    for array in arrays:
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(array) <= SCALED_LIMIT)  # NaN and inf included
        if bad.any():
            column = name(int(np.flatnonzero(bad.any(axis=0))[0]))
            raise DataError(
                f"column {column!r} has validation or test values more than {SCALED_LIMIT:.0e} standard "
                "deviations from its training values, too far for float32 losses; fix or remove those rows"
            )


def _natural_key(value: Any) -> tuple[int, Any]:
    text = str(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def transform(dataset: Dataset, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(dataset.preprocessor.transform(frame), dtype=np.float32)
