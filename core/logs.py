"""Per-epoch training logs written by other tools, read into a History for diagnosis."""

from __future__ import annotations

import math
import os

import pandas as pd

from core.data import DataError
from core.history import EpochRecord, History

# Accepted spellings, first match wins.
TRAIN_LOSS = ("train_loss", "loss", "training_loss")
VAL_LOSS = ("val_loss", "validation_loss", "valid_loss")
TRAIN_METRIC = ("train_metric", "accuracy", "acc", "train_accuracy", "train_acc")
VAL_METRIC = ("val_metric", "val_accuracy", "val_acc", "validation_accuracy")


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def read_history_csv(path: str | os.PathLike[str]) -> History:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"could not read {path} as CSV: {str(exc).splitlines()[0]}") from None
    columns = [str(c) for c in frame.columns]
    train_col, val_col = _pick(columns, TRAIN_LOSS), _pick(columns, VAL_LOSS)
    if train_col is None or val_col is None:
        missing = "a training loss column (train_loss or loss)" if train_col is None else "a val_loss column"
        raise DataError(f"the log needs {missing}; found columns: {', '.join(columns)}")
    tm_col, vm_col = _pick(columns, TRAIN_METRIC), _pick(columns, VAL_METRIC)
    epoch_col = _pick(columns, ("epoch",))
    if frame.empty:
        raise DataError(f"{path} has a header but no epochs")
    if epoch_col is not None:
        epochs = pd.to_numeric(frame[epoch_col], errors="coerce")
        if epochs.isna().any():
            bad = int(epochs.isna().to_numpy().argmax())
            raise DataError(f"row {bad + 2}: the epoch must be a whole number, got {frame[epoch_col].iloc[bad]!r}")
        offset = 1 if float(epochs.iloc[0]) == 0 else 0  # Keras counts epochs from 0
    history = History()
    for index, row in frame.iterrows():
        try:
            values = [float(row[c]) if c is not None else math.nan for c in (train_col, val_col, tm_col, vm_col)]
        except (TypeError, ValueError):
            raise DataError(f"row {int(str(index)) + 2}: loss values must be numbers") from None
        epoch = int(epochs.iloc[len(history)]) + offset if epoch_col is not None else len(history) + 1
        history.append(EpochRecord(epoch, values[0], values[1], values[2], values[3], math.nan))
    return history
