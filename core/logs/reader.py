"""Per-epoch training logs written by other tools, read into a History for diagnosis.

Five layouts are recognised; rows are counted like lines of the file, the header is row 1.

- ``keras``: Keras' ``CSVLogger``. One row per epoch, epochs from 0, ``epoch`` then the logged keys
  sorted: ``epoch,accuracy,loss,val_accuracy,val_loss`` (any metric: ``mae``, ``auc``, ...). Also
  what ``pd.DataFrame(history.history).to_csv()`` writes: no epoch column, or an unnamed index.
- ``lightning``: PyTorch Lightning's ``CSVLogger`` (``metrics.csv``). Columns sorted, with ``epoch``
  and ``step``; step rows (``train_loss_step``), validation rows (``val_loss``) and epoch rows
  (``train_loss_epoch``) interleaved, each row empty where it logs nothing. Aggregated to one record
  per epoch: a ``*_epoch`` column where there is one, else the last value logged in the epoch.
- ``yolo``: Ultralytics' ``results.csv``: ``train/box_loss``, ``val/cls_loss``, ``metrics/mAP50(B)``;
  the loss of a split is the sum of its parts, as Ultralytics sums them.
- ``plain``: ``epoch,train_loss,val_loss`` (optionally ``train_<metric>``, ``val_<metric>``), one row
  per epoch, as a hand-written training loop would write it; a ``batch`` column means several rows
  per epoch (the last row of each epoch is read).
- JSON histories (core.logs.jsonlog): Keras' ``history.history`` saved as JSON (read as ``keras``) and
  Hugging Face Trainer's ``trainer_state.json`` (one point per evaluation, read as ``plain``).
- ``text``: a printed or logging-module log, one line per epoch among other lines:
  ``Epoch [3/50], Train Loss: 1.93, Train Acc: 22.06%, Val Loss: 1.87, Val Acc: 17.72%``,
  ``Epoch 3/50 | Train Loss: x Acc: y | Val Loss: z Acc: w``, ``| end of epoch 3 | valid loss 5.1``.

A file that holds several runs (the epoch counter starts again) is read as its last run with at
least two epochs, and a note says so.

Reading is bounded (core.limits): at most FITLAB_MAX_FILE_MB of a file and FITLAB_MAX_LOG_COLUMNS
columns, each refused with a message naming its setting. Rows are read column by column at once
(core.logs.table, core.logs.epochs), so millions of rows take seconds. A log of more epochs than
FITLAB_MAX_LOG_EPOCHS is read from evenly spaced epochs (core.logs.epochs.evenly_spaced), with the
first and the last, the extremes of the losses and the first NaN/inf loss, and a note says so: the
verdict's rules take time growing with the square of the epochs (core.diagnosis), so a verdict on
1.8 million epochs would not end.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace

import numpy as np

from core.data.csvfile import DataError
from core.diagnosis import Diagnosis, diagnose
from core.history import EpochRecord, History
from core.limits import LOG_EPOCHS
from core.logs.cells import EMPTY, NUMBER, Cells
from core.logs.epochs import (
    Records,
    aggregate_epochs,
    evenly_spaced,
    one_row_per_epoch,
    row_epochs,
    runs_note,
    split_runs,
)
from core.logs.jsonlog import NotJSON, is_json_log, json_log_csv
from core.logs.names import (
    Column,
    detect_format,
    direction,
    is_learning_rate,
    loss_columns,
    metric_columns,
    norm,
    test_as_validation,
    value_columns,
)
from core.logs.table import Source, Table, check_widths, csv_table, limit_value, normalize_line_ends, read_text
from core.logs.textlog import is_text_log, keras_console, text_log_table

FORMATS = {
    "keras": "Keras CSVLogger",
    "lightning": "PyTorch Lightning CSVLogger (metrics.csv)",
    "yolo": "Ultralytics YOLO results.csv",
    "plain": "plain per-epoch CSV",
    "text": "text training log",
    "keras_json": "Keras history saved as JSON",
    "keras_console": "Keras console output",
    "huggingface": "Hugging Face Trainer trainer_state.json",
}
__all__ = ["FORMATS", "Source", "TrainingLog", "diagnose_log", "read_history_csv", "read_training_log"]


@dataclass(frozen=True)
class TrainingLog:
    history: History  # one record per epoch, epochs counted from 1 like FitLab's own runs
    format: str  # a key of FORMATS
    metric_name: str | None  # the log's name for train_metric / val_metric ("accuracy", "mae"); None: no metric
    metric_higher_is_better: bool | None  # None when the direction of an unfamiliar metric is unknown
    columns: dict[str, str]  # history field (or "learning_rate") -> the log column(s) it was read from
    notes: list[str] = field(default_factory=list)  # how the log was read, one sentence each
    learning_rates: list[float] | None = None  # per history record, from an lr column; None: not logged every epoch
    val_loss_missing: tuple[int, ...] = ()  # epochs whose val_loss is NaN because none was logged (not a blow-up)
    runs: int = 1  # training runs found in the file; the history is the last with at least 2 epochs
    logged_epochs: int | None = None  # epochs in the log when only some were read (FITLAB_MAX_LOG_EPOCHS); None: all

    @property
    def format_title(self) -> str:
        return FORMATS[self.format]

    @property
    def has_val_loss(self) -> bool:
        """False when the log holds no validation loss at all (val_loss is NaN in every record)."""
        return len(self.val_loss_missing) < len(self.history)

    def describe(self) -> str:
        labels = {"train_loss": "training loss", "val_loss": "validation loss", "learning_rate": "learning rate"}
        labels |= {"train_metric": f"training {self.metric_name}", "val_metric": f"validation {self.metric_name}"}
        used = ", ".join(f"{labels[key]} from `{column}`" for key, column in self.columns.items())
        epochs = f"{len(self.history)} epoch(s)"
        if self.logged_epochs is not None:
            epochs = f"{len(self.history):,} of {self.logged_epochs:,} epochs (evenly spaced, {LOG_EPOCHS.env})"
        return f"{self.format_title}, {epochs}: {used}."


def read_history_csv(path: str | os.PathLike[str]) -> History:
    """The per-epoch History of a log file; see read_training_log for what else is known."""
    return read_training_log(path).history


def read_training_log(source: Source, name: str | None = None) -> TrainingLog:
    """Read a Keras, Lightning, YOLO or plain per-epoch CSV, or a text log, from a path, bytes or an open file.

    Raises DataError with one sentence naming the row and column at fault and what was expected, or the
    limit (core.limits) the file is over.
    """
    if name is None:
        name = str(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "the log"))
    notes: list[str] = []
    text = normalize_line_ends(read_text(source, name), notes)
    shown_format = None
    if is_json_log(text):
        try:
            text, shown_format = json_log_csv(text, name, notes)
        except NotJSON:
            if not is_text_log(text):  # a printed log may start with a dict of its settings
                raise
    if (console := keras_console(text, notes)) is not None:
        text, shown_format = console, "keras_console"
    table, sampled = text_log_table(text, notes) if is_text_log(text) else (csv_table(text, name, notes), None)
    del text
    header = table.header
    labels = _label_columns(table)
    columns, epoch_index, step_index = value_columns(header, labels)
    table.fmt = fmt = table.fmt or detect_format(columns, epoch_index, header)
    if not table.rows:
        raise DataError(f"{name} has a header but no epochs")
    metric, wanted = _wanted_columns(columns, table, labels, notes)
    if epoch_index is not None and header[epoch_index] == "":
        notes.append("The first, unnamed column (a pandas index, as `DataFrame.to_csv()` writes it) is read as the epoch.")
    records, picked, runs = _records(table, wanted, labels, epoch_index, step_index, notes)
    metric = _percent_to_fraction(records, picked, metric, table.percent, notes)
    offset = _epoch_offset(records, notes, fmt)
    rates = _learning_rates(records, picked)
    records, learning_rates, logged = _fewer_epochs(records, rates, offset, sampled, notes)
    metric, higher = _metric_direction(metric, picked, notes)
    if not wanted["val_loss"]:
        notes.append(
            "The log has no validation loss: val_loss is NaN in every epoch for lack of one, not because "
            "training blew up; only the training curve can be judged."
        )
    _note_ignored(header, picked, epoch_index, notes)
    columns_read = {key: " / ".join(read_from) for key, read_from in picked.items() if read_from}
    missing = tuple((records.epochs[records.absent] + offset).tolist())
    history = _history(records, offset)
    return TrainingLog(history, shown_format or fmt, metric, higher, columns_read, notes, learning_rates, missing, runs, logged)


def _records(
    table: Table,
    wanted: dict[str, list[Column]],
    labels: set[int],
    epoch_index: int | None,
    step_index: int | None,
    notes: list[str],
) -> tuple[Records, dict[str, list[str]], int]:
    """(one record per epoch of the run read, the columns each field was read from, the runs in the file)."""
    fmt = str(table.fmt)
    epochs = row_epochs(table, epoch_index, step_index, fmt)
    grouped = fmt in ("lightning", "text") or step_index is not None
    bounds, chosen = split_runs(epochs, table, grouped, [c.index for c in wanted["val_loss"]])
    rows = slice(int(bounds[chosen]), int(bounds[chosen + 1]))
    check_widths(table, rows)
    if grouped:
        records, picked = aggregate_epochs(table, rows, epochs, wanted, notes, step_index)
    else:
        records, picked = one_row_per_epoch(table, rows, epochs, wanted, notes)
    if len(bounds) > 2:
        notes.append(runs_note(table, bounds, chosen, len(records), labels))
    return records, picked, len(bounds) - 1


def _history(records: Records, offset: int) -> History:
    """The records as a History counted from 1, every NaN the one math.nan (so that records compare equal,
    NaN and all, as FitLab's own do)."""
    curves = [
        [math.nan if v != v else v for v in records.values[key].tolist()]
        for key in ("train_loss", "val_loss", "train_metric", "val_metric")
    ]
    return History(
        EpochRecord(epoch + offset, train, val, train_metric, val_metric, math.nan)
        for epoch, train, val, train_metric, val_metric in zip(records.epochs.tolist(), *curves, strict=True)
    )


def _fewer_epochs(
    records: Records, learning_rates: np.ndarray | None, offset: int, sampled: int | None, notes: list[str]
) -> tuple[Records, list[float] | None, int | None]:
    """The records read (evenly spaced ones past FITLAB_MAX_LOG_EPOCHS, said in the first note), their
    learning rates, and the number of epochs in the log when only some were read."""
    limit = limit_value(LOG_EPOCHS)
    keep = evenly_spaced(records, limit)
    if keep is None:
        logged = sampled if sampled is not None and sampled > len(records) else None
        return records, None if learning_rates is None else learning_rates.tolist(), logged
    kept = records.take(keep)
    train, val = records.values["train_loss"], np.where(records.absent, math.nan, records.values["val_loss"])
    also = "the first and the last epoch, the lowest and the highest of each loss"
    if np.isfinite(val).any():
        lowest = np.nanargmin(np.where(np.isfinite(val), val, math.nan))
        also += f" (the lowest validation loss: epoch {int(records.epochs[lowest]) + offset})"
    blown = ~np.isfinite(train) | (~np.isfinite(records.values["val_loss"]) & ~records.absent)
    if blown.any():
        also += f" and the first NaN/inf loss (epoch {int(records.epochs[np.argmax(blown)]) + offset})"
    notes.insert(
        0,
        f"The log has {len(records):,} epochs; FitLab read {len(kept):,} evenly spaced ones (about 1 in "
        f"{len(records) / len(kept):,.0f}), since it reads at most {LOG_EPOCHS.named()}. Always among them: {also}. "
        "The verdict and the curves are of these epochs.",
    )
    return kept, None if learning_rates is None else learning_rates[keep].tolist(), max(len(records), sampled or 0)


def _label_columns(table: Table) -> set[int]:
    """Columns of text in every row (`phase`, `model`): labels, not values."""
    labels = set()
    for index, name in enumerate(table.header):
        if norm(name) == "epoch" or (index == 0 and name == ""):
            continue
        cells = table.columns[index]
        if (~cells.blank).any() and not (cells.kinds == NUMBER).any():
            labels.add(index)
    return labels


def _wanted_columns(
    columns: list[Column], table: Table, labels: set[int], notes: list[str]
) -> tuple[str | None, dict[str, list[Column]]]:
    """(the metric's name, the columns each history field is read from, in order of preference)."""
    header, fmt = table.header, str(table.fmt)
    columns = _component_sums(columns, table, notes)
    columns = test_as_validation(columns, notes)
    train_loss = loss_columns(columns, "train", header, fmt, notes)
    val_loss = loss_columns(columns, "val", header, fmt, notes)
    metric, train_metric, val_metric = metric_columns(columns, val_loss)
    lr_column = next((i for i, h in enumerate(header) if is_learning_rate(h) and i not in labels), None)
    wanted = {
        "train_loss": train_loss,
        "val_loss": val_loss,
        "train_metric": train_metric,
        "val_metric": val_metric,
        "learning_rate": [Column(lr_column, header[lr_column], "train", "lr", "", False)] if lr_column is not None else [],
    }
    return metric, wanted


def _component_sums(columns: list[Column], table: Table, notes: list[str]) -> list[Column]:
    """A split with no plain loss but several `*_loss` parts (YOLO: box, cls, dfl) gets their sum as its loss."""
    added = []
    for split in ("train", "val"):
        mine = [c for c in columns if c.split == split and c.prefixed and not c.qualifier]
        parts = [c for c in mine if c.base.endswith("_loss") and not c.suffix]
        if any(c.base == "loss" for c in mine) or len(parts) < 2:
            continue
        name = " + ".join(c.name for c in parts)
        table.header.append(name)
        blank = np.zeros(table.rows, dtype=bool)
        total = np.zeros(table.rows)
        for part in parts:  # in order, as Python's sum() adds them: the same number to the last bit
            cells = table.columns[part.index]
            blank |= cells.blank
            with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as in Python
                total = total + np.where(cells.kinds == NUMBER, cells.values, math.nan)
        table.columns.append(_sum_cells(total, blank))
        added.append(Column(len(table.header) - 1, name, split, "loss", "", True))
        notes.append(f"The {'training' if split == 'train' else 'validation'} loss is the sum {name} (as Ultralytics adds them).")
    return columns + added


def _sum_cells(total: np.ndarray, blank: np.ndarray) -> Cells:
    """A column of sums, empty where a part is."""
    return Cells(np.where(blank, math.nan, total), np.where(blank, EMPTY, NUMBER).astype(np.int8))


def _metric_direction(metric: str | None, picked: dict[str, list[str]], notes: list[str]) -> tuple[str | None, bool | None]:
    """(the metric, None when it was never logged; whether higher is better), noted unless higher is better."""
    if not (picked["train_metric"] or picked["val_metric"]):
        metric = None  # named in the header but never logged
    higher = direction(metric) if metric else None
    if metric and higher is not True:
        how = "lower is better" if higher is False else "its direction is unknown to FitLab"
        notes.append(
            f"Metric `{metric}`: {how}, so the verdict reads the losses only "
            "(the rule on the train/validation metric gap assumes higher is better)."
        )
    return metric, higher


def _learning_rates(records: Records, picked: dict[str, list[str]]) -> np.ndarray | None:
    """The learning rate per record; None (and no column read) when it was not logged every epoch."""
    learning_rates = records.values["learning_rate"]
    if not len(learning_rates) or not np.isfinite(learning_rates).all():
        picked["learning_rate"] = []  # not logged every epoch (Lightning's step rows)
        return None
    return learning_rates


def _note_ignored(header: list[str], picked: dict[str, list[str]], epoch_index: int | None, notes: list[str]) -> None:
    used = {column for read_from in picked.values() for column in read_from}
    used |= {part for read_from in picked.values() for column in read_from for part in column.split(" + ")}
    ignored = [h for i, h in enumerate(header) if h not in used and i != epoch_index and norm(h) != "step" and " + " not in h]
    if ignored:
        notes.append(f"Not used: {', '.join(f'`{h}`' for h in ignored)}.")


def _percent_to_fraction(
    records: Records, picked: dict[str, list[str]], metric: str | None, percent: set[str], notes: list[str]
) -> str | None:
    """Accuracy written in percent (`Val Acc: 81.2%`, or 81.2 in a column) is read as a fraction, 0.812."""
    if metric is None:
        return metric
    accuracy = any(w.startswith("acc") for w in metric.split("_"))
    for key in ("train_metric", "val_metric"):
        values = records.values[key]
        finite = values[np.isfinite(values)]
        marked = any(name in percent for name in picked[key])
        if len(finite) and (marked or accuracy) and 1 < finite.max() <= 100:
            records.values[key] = values / 100
            columns = " / ".join(f"`{name}`" for name in picked[key])
            notes.append(f"{columns} is in percent (up to {float(finite.max()):g}): read as a fraction (divided by 100).")
    return metric


def _epoch_offset(records: Records, notes: list[str], fmt: str) -> int:
    """What makes the records count from 1 like FitLab's own runs. Lightning counts from 0 (already shifted
    while grouping); another log is shifted when its first epoch is 0."""
    offset = 1 if fmt != "lightning" and len(records) and records.epochs[0] == 0 else 0
    if offset or fmt == "lightning":
        who = {"keras": "Keras", "lightning": "Lightning", "yolo": "Ultralytics"}.get(fmt, "The log")
        notes.append(f"{who} counts epochs from 0: epoch 0 of the log is epoch 1 here.")
    return offset


def diagnose_log(log: TrainingLog) -> Diagnosis:
    """The verdict on a log: no hyperparameters or baselines are known, so advice has no values.

    A metric where lower is better (mae) would read as a reversed train/validation gap: it is left out.
    """
    history = log.history
    if log.metric_higher_is_better is not True:
        history = History(replace(r, train_metric=math.nan, val_metric=math.nan) for r in history)
    return diagnose(  # a log's own signals stand in for the baselines it lacks (core.diagnosis.signals)
        history,
        learning_rates=log.learning_rates,
        metric_name=log.metric_name if log.metric_higher_is_better else None,
    )
