"""Per-epoch training logs written by other tools, read into a History for diagnosis.

Three layouts are recognised; rows are counted like lines of the file, the header is row 1.

- ``keras``: Keras' ``CSVLogger``. One row per epoch, epochs from 0, ``epoch`` then the logged keys
  sorted: ``epoch,accuracy,loss,val_accuracy,val_loss`` (any metric: ``mae``, ``auc``, ...).
- ``lightning``: PyTorch Lightning's ``CSVLogger`` (``metrics.csv``). Columns sorted, with ``epoch``
  and ``step``; step rows (``train_loss_step``), validation rows (``val_loss``) and epoch rows
  (``train_loss_epoch``) interleaved, each row empty where it logs nothing. Aggregated to one record
  per epoch: a ``*_epoch`` column where there is one, else the last value logged in the epoch.
- ``plain``: ``epoch,train_loss,val_loss`` (optionally ``train_<metric>``, ``val_<metric>``), one row
  per epoch, as a hand-written training loop would write it.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from core.data import DataError
from core.diagnosis import Diagnosis, diagnose
from core.history import EpochRecord, History

FORMATS = {
    "keras": "Keras CSVLogger",
    "lightning": "PyTorch Lightning CSVLogger (metrics.csv)",
    "plain": "plain per-epoch CSV",
}
Source = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]

# A column name is split into [split_] base [_suffix]: `val_acc`, `train_loss_epoch`, Keras' bare `loss`.
SPLITS = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}
SUFFIXES = ("epoch", "step")  # Lightning's on_epoch / on_step copies of one logged value
MISSING = {"", "na", "n/a", "null", "none"}  # Keras writes NA for keys an interrupted epoch did not log
# Metric names by direction, matched on the words of the base name (`sparse_categorical_accuracy`, `auc_1`).
HIGHER_IS_BETTER = {"acc", "accuracy", "auc", "auroc", "f1", "fbeta", "precision", "recall", "r2", "iou", "dice", "ap", "map"}
LOWER_IS_BETTER = {"mae", "mse", "rmse", "msle", "mape", "error", "crossentropy", "hinge", "logcosh", "perplexity", "kld", "nll"}


@dataclass(frozen=True)
class TrainingLog:
    history: History  # one record per epoch, epochs counted from 1 like FitLab's own runs
    format: str  # a key of FORMATS
    metric_name: str | None  # the log's name for train_metric / val_metric ("accuracy", "mae"); None: no metric
    metric_higher_is_better: bool | None  # None when the direction of an unfamiliar metric is unknown
    columns: dict[str, str]  # history field -> the log column(s) it was read from
    notes: list[str] = field(default_factory=list)  # how the log was read, one sentence each

    @property
    def format_title(self) -> str:
        return FORMATS[self.format]

    def describe(self) -> str:
        labels = {"train_loss": "training loss", "val_loss": "validation loss"}
        labels |= {"train_metric": f"training {self.metric_name}", "val_metric": f"validation {self.metric_name}"}
        used = ", ".join(f"{labels[key]} from `{column}`" for key, column in self.columns.items())
        return f"{self.format_title}, {len(self.history)} epoch(s): {used}."


@dataclass(frozen=True)
class _Column:
    index: int
    name: str  # as the header spells it
    split: str  # train, val, test
    base: str  # loss, accuracy, mae, ...
    suffix: str  # epoch, step, or "" (Lightning's copies of one value)
    prefixed: bool  # `train_loss` rather than Keras' bare `loss`


def read_history_csv(path: str | os.PathLike[str]) -> History:
    """The per-epoch History of a log file; see read_training_log for what else is known."""
    return read_training_log(path).history


def read_training_log(source: Source, name: str | None = None) -> TrainingLog:
    """Read a Keras, Lightning or plain per-epoch CSV from a path, bytes or an open file.

    Raises DataError with one sentence naming the row and column at fault and what was expected.
    """
    if name is None:
        name = str(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "the log"))
    text = _read_text(source, name)
    header, rows = _split_rows(text, name)
    columns, epoch_index = _columns(header)
    fmt = _detect_format(columns, epoch_index, header)
    if not rows:
        raise DataError(f"{name} has a header but no epochs")
    train_loss = _loss_columns(columns, "train", header, fmt)
    val_loss = _loss_columns(columns, "val", header, fmt)
    metric, train_metric, val_metric = _metric_columns(columns)
    wanted = {
        "train_loss": train_loss,
        "val_loss": val_loss,
        "train_metric": train_metric,
        "val_metric": val_metric,
    }
    notes: list[str] = []
    if epoch_index is not None and header[epoch_index] == "":
        notes.append("The first, unnamed column (a pandas index, as `DataFrame.to_csv()` writes it) is read as the epoch.")
    if fmt == "lightning":
        records, picked = _aggregate_epochs(rows, header, epoch_index, wanted, notes)
    else:
        records, picked = _one_row_per_epoch(rows, header, epoch_index, wanted, notes)
    history = _number_epochs(records, notes, fmt)
    if not (picked["train_metric"] or picked["val_metric"]):
        metric = None  # named in the header but never logged
    higher = _direction(metric) if metric else None
    if metric and higher is not True:
        how = "lower is better" if higher is False else "its direction is unknown to FitLab"
        notes.append(
            f"Metric `{metric}`: {how}, so the verdict reads the losses only "
            "(the rule on the train/validation metric gap assumes higher is better)."
        )
    used = {column for read_from in picked.values() for column in read_from}
    ignored = [h for i, h in enumerate(header) if h not in used and i != epoch_index and _norm(h) != "step"]
    if ignored:
        notes.append(f"Not used: {', '.join(f'`{h}`' for h in ignored)}.")
    columns_read = {key: " / ".join(read_from) for key, read_from in picked.items() if read_from}
    return TrainingLog(history, fmt, metric, higher, columns_read, notes)


def diagnose_log(log: TrainingLog) -> Diagnosis:
    """The verdict on a log: no hyperparameters or baselines are known, so advice has no values.

    A metric where lower is better (mae) would read as a reversed train/validation gap: it is left out.
    """
    history = log.history
    if log.metric_higher_is_better is not True:
        history = History(replace(r, train_metric=math.nan, val_metric=math.nan) for r in history)
    return diagnose(history)


# ---------------------------------------------------------------- reading the text


def _read_text(source: Source, name: str) -> str:
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise DataError(f"file not found: {source}") from None
        except IsADirectoryError:
            raise DataError(f"{source} is a folder; give the CSV file inside it (Lightning: metrics.csv)") from None
        except OSError as exc:
            raise DataError(f"cannot read {source}: {exc.strerror}") from None
    else:
        content = source.read()
        if isinstance(content, str):
            return content
        data = content
    if b"\x00" in data[:4096]:
        raise DataError(f"{name} is not a text CSV file: it holds binary data (a TensorBoard event file or a checkpoint?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at position {exc.start}") from None


def _split_rows(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows, each with its row number (blank lines skipped, still counted)."""
    if not text.strip():
        raise DataError(f"{name} is empty")
    if text.lstrip()[0] in "{[":
        raise DataError(
            f"{name} looks like JSON, not CSV: give the CSV file a logger wrote "
            "(Keras' CSVLogger, Lightning's metrics.csv, or epoch,train_loss,val_loss)"
        )
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = "," if "," in first_line else max(";\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                _check_header(header)
                continue
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]  # a trailing separator
            if len(cells) != len(header):
                raise DataError(
                    f"row {reader.line_num} has {len(cells)} cell(s) but the header names {len(header)} columns "
                    f"({', '.join(header)})"
                )
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DataError(f"row {reader.line_num}: not valid CSV ({exc})") from None
    assert header is not None  # the text is not blank
    return header, rows


def _check_header(header: list[str]) -> None:
    if all(_is_number(cell) for cell in header):
        raise DataError(
            f"row 1 should name the columns (for example epoch,loss,val_loss) but holds numbers: {', '.join(header[:6])}"
        )
    seen: dict[str, str] = {}
    for position, cell in enumerate(header, start=1):
        if cell == "" and position > 1:
            raise DataError(f"column {position} has no name in the header (row 1)")
        key = _norm(cell)
        if cell and key in seen:
            raise DataError(f"the header (row 1) names the same column twice: {seen[key]!r} and {cell!r}")
        seen[key] = cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _norm(name: str) -> str:
    """`Val/Loss`, `val-loss` and `val_loss` are one name."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


# ---------------------------------------------------------------- columns and format


def _columns(header: list[str]) -> tuple[list[_Column], int | None]:
    """The value columns and the position of the epoch column (the unnamed pandas index if none)."""
    normalized = [_norm(h) for h in header]
    epoch_index = normalized.index("epoch") if "epoch" in normalized else (0 if header[0] == "" else None)
    columns = []
    for index, key in enumerate(normalized):
        if index == epoch_index or key in ("epoch", "step", ""):
            continue
        words = key.split("_")
        suffix = words.pop() if len(words) > 1 and words[-1] in SUFFIXES else ""
        prefixed = len(words) > 1 and words[0] in SPLITS
        split = SPLITS[words.pop(0)] if prefixed else "train"  # Keras names training values bare: `loss`
        columns.append(_Column(index, header[index], split, "_".join(words), suffix, prefixed))
    return columns, epoch_index


def _detect_format(columns: list[_Column], epoch_index: int | None, header: list[str]) -> str:
    if "step" in (_norm(h) for h in header) or any(c.suffix for c in columns):
        if epoch_index is None:
            raise DataError(
                "this looks like Lightning's metrics.csv (a step column or *_epoch / *_step names) but it has no "
                f"epoch column to group its rows by; found columns: {', '.join(header)}"
            )
        return "lightning"
    losses = [c for c in columns if c.split == "train" and c.base == "loss"]
    return "keras" if losses and not any(c.prefixed for c in losses) else "plain"


def _order(column: _Column) -> tuple[int, int]:
    # Lightning: the epoch mean first, then a value logged once per epoch, then the last step.
    return (0 if column.prefixed else 1, {"epoch": 0, "": 1, "step": 2}[column.suffix])


def _loss_columns(columns: list[_Column], split: str, header: list[str], fmt: str) -> list[_Column]:
    found = sorted((c for c in columns if c.split == split and c.base == "loss"), key=_order)
    if found:
        return found
    listed = ", ".join(header)
    if split == "train":
        names = "train_loss or loss" + (", or train_loss_epoch / train_loss_step" if fmt == "lightning" else "")
        raise DataError(f"the log needs a training loss column ({names}); found columns: {listed}")
    hint = (
        "Lightning logs val_loss when validation_step calls self.log('val_loss', ...)"
        if fmt == "lightning"
        else "Keras writes val_loss only when fit() is given validation_data or validation_split"
    )
    raise DataError(f"the log needs a validation loss column (val_loss); found columns: {listed}. {hint}")


def _direction(metric: str) -> bool | None:
    words = set(metric.split("_"))
    if words & HIGHER_IS_BETTER or any(w.startswith("acc") for w in words):
        return True
    if words & LOWER_IS_BETTER:
        return False
    return None


def _metric_columns(columns: list[_Column]) -> tuple[str | None, list[_Column], list[_Column]]:
    """The metric to show: accuracy-like first, then other known ones; one logged for validation if any."""
    candidates = [c for c in columns if c.split in ("train", "val") and c.base != "loss"]
    validated = {c.base for c in candidates if c.split == "val"}
    # A bare training-side name without a val_ twin is not a metric (`learning_rate`, Lightning's `lr-Adam`).
    bases = list(dict.fromkeys(c.base for c in candidates if c.base in validated or c.prefixed))
    if not bases:
        return None, [], []

    def rank(base: str) -> tuple[int, int]:
        both = any(c.base == base and c.split == "train" for c in candidates) and base in validated
        direction = _direction(base)
        accuracy = any(w.startswith("acc") for w in base.split("_"))
        return (0 if both else 1, 0 if accuracy else 1 if direction else 2 if direction is False else 3)

    metric = min(bases, key=rank)
    train = sorted((c for c in candidates if c.base == metric and c.split == "train"), key=_order)
    val = sorted((c for c in candidates if c.base == metric and c.split == "val"), key=_order)
    return metric, train, val


# ---------------------------------------------------------------- values


def _value(cell: str, line: int, column: str) -> float | None:
    text = cell.strip()
    if text.lower() in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(f"row {line}, column {column}: expected a number, got {text!r}") from None


def _whole(cell: str, line: int, column: str) -> int | None:
    if cell.strip().lower() in MISSING:
        return None
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value != int(value) or value < 0:
        raise DataError(f"row {line}, column {column}: expected a whole number (0, 1, 2, ...), got {cell.strip()!r}")
    return int(value)


def _pick_value(values: dict[int, float], group: list[_Column]) -> tuple[float | None, str | None]:
    for column in group:
        if column.index in values:
            return values[column.index], column.name
    return None, None


def _one_row_per_epoch(
    rows: list[tuple[int, list[str]]],
    header: list[str],
    epoch_index: int | None,
    wanted: dict[str, list[_Column]],
    notes: list[str],
) -> tuple[list[tuple[int, dict[str, float]]], dict[str, list[str]]]:
    """Keras and plain logs: every row is one epoch; an empty loss cell stays NaN (and is noted)."""
    records: list[tuple[int, dict[str, float]]] = []
    picked = {key: [group[0].name] if group else [] for key, group in wanted.items()}
    empty: dict[str, list[int]] = {}
    previous: tuple[int, int] | None = None  # (epoch, row)
    for position, (line, cells) in enumerate(rows):
        if epoch_index is None:
            epoch = position
        else:
            column = header[epoch_index] or "epoch (the unnamed first column)"
            found = _whole(cells[epoch_index], line, column)
            if found is None:
                raise DataError(f"row {line}, column {column}: expected the epoch number, got an empty cell")
            epoch = found
            if previous is not None and epoch <= previous[0]:
                again = "appears again" if epoch == previous[0] else f"goes back from {previous[0]}"
                raise DataError(
                    f"row {line}: epoch {epoch} {again} (row {previous[1]}); a one-row-per-epoch log needs increasing "
                    "epochs. Does the file hold two runs (CSVLogger(append=True))? Keep one run's rows."
                )
            previous = (epoch, line)
        values: dict[str, float] = {}
        for key, group in wanted.items():
            value = _value(cells[group[0].index], line, group[0].name) if group else None
            if value is None and key.endswith("loss"):
                empty.setdefault(group[0].name, []).append(line)
            values[key] = math.nan if value is None else value
        records.append((epoch, values))
    for column, lines in empty.items():
        notes.append(f"Empty `{column}` in row(s) {_list(lines)}: read as NaN, which the diagnosis reads as a run that blew up.")
    return records, picked


def _aggregate_epochs(
    rows: list[tuple[int, list[str]]],
    header: list[str],
    epoch_index: int | None,
    wanted: dict[str, list[_Column]],
    notes: list[str],
) -> tuple[list[tuple[int, dict[str, float]]], dict[str, list[str]]]:
    """Lightning: rows grouped by epoch; per value its *_epoch column, else the last value in the epoch."""
    assert epoch_index is not None
    used = [c for group in wanted.values() for c in group]
    per_epoch: dict[int, dict[int, float]] = {}  # epoch -> column index -> last value
    counts: dict[int, dict[int, int]] = {}  # how many rows of the epoch logged each column
    step_index = next((i for i, h in enumerate(header) if _norm(h) == "step"), None)
    last: tuple[int, int] | None = None
    skipped = 0
    for line, cells in rows:
        if step_index is not None:
            _whole(cells[step_index], line, header[step_index])
        values = {c.index: v for c in used if (v := _value(cells[c.index], line, c.name)) is not None}
        epoch = _whole(cells[epoch_index], line, header[epoch_index])
        if epoch is None:
            if values:
                column = next(c.name for c in used if c.index in values)
                raise DataError(f"row {line}: has a value for {column} but its epoch cell is empty")
            skipped += 1  # e.g. LearningRateMonitor rows: only the learning rate and the step
            continue
        if last is not None and epoch < last[0]:
            raise DataError(
                f"row {line}: epoch goes back from {last[0]} (row {last[1]}) to {epoch}; a metrics.csv holds one run, "
                "in epoch order. Keep one run's rows."
            )
        last = (epoch, line)
        if values:
            per_epoch.setdefault(epoch, {}).update(values)
            for index in values:
                counts.setdefault(epoch, {})[index] = counts.get(epoch, {}).get(index, 0) + 1
    for key in ("train_loss", "val_loss"):
        if not any(c.index in v for v in per_epoch.values() for c in wanted[key]):
            names = " / ".join(c.name for c in wanted[key])
            why = "did validation run? " if key == "val_loss" else ""
            raise DataError(f"column {names} has no values in any row: {why}a diagnosis needs both losses per epoch")
    records: list[tuple[int, dict[str, float]]] = []
    sources: dict[str, list[str]] = {key: [] for key in wanted}
    incomplete: list[int] = []
    for epoch, values in per_epoch.items():
        record: dict[str, float | None] = {}
        for key, group in wanted.items():
            record[key], source = _pick_value(values, group)
            if source is not None and source not in sources[key]:
                sources[key].append(source)
        losses = record["train_loss"], record["val_loss"]
        blew_up = any(v is not None and not math.isfinite(v) for v in losses)
        if None in losses and not blew_up:  # one loss only: left out, unless the other blew up (that is the finding)
            incomplete.append(epoch + 1)
            continue
        records.append((epoch + 1, {k: math.nan if v is None else v for k, v in record.items()}))
    if not records:
        raise DataError("no epoch has both a training and a validation loss: did validation run at the end of an epoch?")
    notes.append(f"{len(rows)} rows (step, validation and epoch-end rows interleaved) aggregated into {len(records)} epochs.")
    if skipped:
        notes.append(f"{skipped} row(s) without an epoch skipped (LearningRateMonitor writes such rows).")
    if incomplete:
        notes.append(
            f"Epoch(s) {_list(incomplete)} left out: only one of the two losses was logged "
            "(validation skipped that epoch, or the run ended mid-epoch)."
        )
    for key, read_from in sources.items():
        repeated = [c for c in wanted[key] if c.name in read_from and c.suffix != "epoch" and _repeats(counts, c.index)]
        for step_column in repeated:
            notes.append(
                f"`{step_column.name}` is logged every few steps: each epoch shows its last value "
                "(self.log(..., on_epoch=True) would log the epoch mean)."
            )
    return records, sources


def _repeats(counts: dict[int, dict[int, int]], index: int) -> bool:
    return any(per_column.get(index, 0) > 1 for per_column in counts.values())


def _number_epochs(records: list[tuple[int, dict[str, float]]], notes: list[str], fmt: str) -> History:
    """Records counted from 1 like FitLab's own runs. Lightning counts from 0 (already shifted while
    grouping); a Keras or plain log is shifted when its first epoch is 0."""
    offset = 1 if fmt != "lightning" and records and records[0][0] == 0 else 0
    if offset or fmt == "lightning":
        who = {"keras": "Keras", "lightning": "Lightning"}.get(fmt, "The log")
        notes.append(f"{who} counts epochs from 0: epoch 0 of the log is epoch 1 here.")
    return History(
        EpochRecord(epoch + offset, v["train_loss"], v["val_loss"], v["train_metric"], v["val_metric"], math.nan)
        for epoch, v in records
    )


def _list(items: Iterable[int], limit: int = 8) -> str:
    shown = [str(i) for i in items]
    return ", ".join(shown[:limit]) + (f" and {len(shown) - limit} more" if len(shown) > limit else "")
