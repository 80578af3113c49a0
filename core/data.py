"""Datasets: built-in synthetic and scikit-learn ones, CSV files, preprocessing and the split.

Everything ends in a `Dataset`: preprocessed float32 matrices for train/validation/test, the task
(classification or regression), and the fitted preprocessor so that new points (a decision-boundary
grid) go through exactly the same transformation.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SYNTHETIC = ("moons", "circles", "spiral", "xor", "gaussians", "sine")
REAL = ("iris", "wine", "breast_cancer", "digits", "diabetes")
BUILTIN = SYNTHETIC + REAL
DEFAULT_DATASET = "moons"
SAMPLES_RANGE = (20, 100_000)
NOISE_RANGE = (0.0, 2.0)

VAL_SHARE = 0.2
TEST_SHARE = 0.2
MAX_CATEGORIES = 20  # one-hot columns per categorical feature; rarer values share one column


class DataError(ValueError):
    """A dataset that cannot be used, with one sentence saying why."""


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


# ---------------------------------------------------------------- built-in data


def _spiral(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = samples // 2
    sizes = (half, samples - half)
    xs, ys = [], []
    for label, n in enumerate(sizes):
        t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi  # sqrt: even density along the arm
        angle = t + label * np.pi
        points = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (3 * np.pi)
        xs.append(points + rng.normal(0, noise * 0.25, points.shape))
        ys.append(np.full(n, label))
    return np.vstack(xs), np.concatenate(ys)


def _xor(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, (samples, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    return x + rng.normal(0, noise * 0.5, x.shape), y


def _sine(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-2, 2, (samples, 2))
    y = np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + rng.normal(0, noise, samples)
    return x, y


def _synthetic(name: str, samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if name == "moons":
        return skdatasets.make_moons(samples, noise=noise, random_state=seed)
    if name == "circles":
        return skdatasets.make_circles(samples, noise=noise, factor=0.5, random_state=seed)
    if name == "spiral":
        return _spiral(samples, noise, rng)
    if name == "xor":
        return _xor(samples, noise, rng)
    if name == "gaussians":
        centers = [(-1.0, -1.0), (1.0, 1.0), (-1.0, 1.5)]
        return skdatasets.make_blobs(samples, centers=centers, cluster_std=0.5 + noise, random_state=seed)
    return _sine(samples, noise, rng)


def load_builtin(name: str = DEFAULT_DATASET, samples: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    """A built-in dataset; `samples` and `noise` apply to the synthetic ones only."""
    if name not in BUILTIN:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(BUILTIN)}")
    notes: list[str] = []
    if name in SYNTHETIC:
        if not SAMPLES_RANGE[0] <= samples <= SAMPLES_RANGE[1]:
            raise DataError(f"samples must be between {SAMPLES_RANGE[0]} and {SAMPLES_RANGE[1]}, got {samples}")
        if not NOISE_RANGE[0] <= noise <= NOISE_RANGE[1]:
            raise DataError(f"noise must be between {NOISE_RANGE[0]:g} and {NOISE_RANGE[1]:g}, got {noise:g}")
        x, y = _synthetic(name, samples, noise, seed)
        frame = pd.DataFrame(x, columns=["x1", "x2"])
        target = pd.Series(y, name="target")
        if name != "sine":
            target = target.astype(int).astype(str)
        task = "regression" if name == "sine" else "classification"
    else:
        bunch = getattr(skdatasets, f"load_{name}")(as_frame=True)
        frame = bunch.data
        frame.columns = [str(c) for c in frame.columns]
        if name == "diabetes":
            target, task = bunch.target.astype(float), "regression"
        else:
            target = pd.Series(np.asarray(bunch.target_names)[bunch.target], name="target")
            task = "classification"
        notes.append(f"{name}: {len(frame)} rows from scikit-learn; samples and noise do not apply")
    return prepare(frame, target.reset_index(drop=True), name=name, task=task, seed=seed, notes=notes)


# ---------------------------------------------------------------- CSV files


DELIMITERS = ",;\t|"


def _read_bytes(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise DataError(f"file not found: {os.fspath(source)}") from None
        except IsADirectoryError:
            raise DataError(f"{os.fspath(source)} is a folder, not a CSV file") from None
    return source.read()


def _delimiter(text: str) -> str:
    """The delimiter among , ; tab | that the first lines agree on; a comma when none is clear."""
    try:
        return csv.Sniffer().sniff(text[:20_000], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_csv(source: str | os.PathLike[str] | bytes | BinaryIO) -> pd.DataFrame:
    """Read a CSV from a path, bytes or a file object; a clear DataError when it is not one."""
    content = _read_bytes(source)
    if not content.strip():
        raise DataError("the file is empty")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    if "\x00" in text:
        raise DataError("this is not a text file (it contains binary data); save it as CSV")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=_delimiter(text))
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataError(f"could not read the file as CSV: {str(exc).splitlines()[0]}") from None
    if frame.shape[1] < 2:
        raise DataError("the file needs at least two columns: one or more features and a target")
    if len(frame) == 0:
        raise DataError("the file has a header but no data rows")
    return frame


def detect_task(target: pd.Series) -> str:
    """Classification for text/boolean targets and whole numbers with few distinct values."""
    values = target.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "classification"
    distinct = values.nunique()
    whole = bool(np.all(np.isclose(values, np.round(values))))
    if whole and distinct <= max(2, min(20, len(values) // 10)):
        return "classification"
    return "regression"


def load_csv(source: str | os.PathLike[str] | bytes | BinaryIO, target: str, seed: int = 0, name: str | None = None) -> Dataset:
    frame = read_csv(source)
    if target not in frame.columns:
        raise DataError(f"target column {target!r} not found; columns are: {', '.join(map(str, frame.columns))}")
    y = frame[target]
    notes: list[str] = []
    missing = int(y.isna().sum())
    if missing:
        notes.append(f"dropped {missing} row(s) with no value in target {target!r}")
        keep = y.notna()
        frame, y = frame[keep], y[keep]
    if len(y) == 0:
        raise DataError(f"the target column {target!r} has no values")
    features = frame.drop(columns=[target])
    task = detect_task(y)
    y = y.astype(str) if task == "classification" else pd.to_numeric(y, errors="coerce").astype(float)
    label = name or (os.path.basename(str(source)) if isinstance(source, (str, os.PathLike)) else "uploaded.csv")
    return prepare(features.reset_index(drop=True), y.reset_index(drop=True), name=label, task=task, seed=seed, notes=notes)


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
    frame = frame.replace([np.inf, -np.inf], np.nan)
    x_train, x_val, x_test, y_train, y_val, y_test = _split(frame, target, task, seed)
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
        # Standardized target: a mean-predictor has loss 1.0, so losses read the same on every dataset.
        ys = tuple(((y - mean) / std).to_numpy(dtype=np.float32) for y in (y_train, y_val, y_test))
    return Dataset(
        name=name,
        task=task,
        feature_names=[str(c) for c in frame.columns],
        classes=[str(c) for c in classes],
        x_train=xt.astype(np.float32),
        y_train=ys[0],
        x_val=xv.astype(np.float32),
        y_val=ys[1],
        x_test=xs.astype(np.float32),
        y_test=ys[2],
        preprocessor=pre,
        raw_train=x_train.reset_index(drop=True),
        raw_val=x_val.reset_index(drop=True),
        notes=notes,
    )


def _natural_key(value: Any) -> tuple[int, Any]:
    text = str(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def transform(dataset: Dataset, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(dataset.preprocessor.transform(frame), dtype=np.float32)
