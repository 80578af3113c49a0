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
- ``text``: a printed or logging-module log, one line per epoch among other lines:
  ``Epoch [3/50], Train Loss: 1.93, Train Acc: 22.06%, Val Loss: 1.87, Val Acc: 17.72%``,
  ``Epoch 3/50 | Train Loss: x Acc: y | Val Loss: z Acc: w``, ``| end of epoch 3 | valid loss 5.1``.

A file that holds several runs (the epoch counter starts again) is read as its last run with at
least two epochs, and a note says so.
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

from core.data.csvfile import DataError
from core.diagnosis import Diagnosis, diagnose
from core.history import EpochRecord, History
from core.wording import first_and_more

FORMATS = {
    "keras": "Keras CSVLogger",
    "lightning": "PyTorch Lightning CSVLogger (metrics.csv)",
    "yolo": "Ultralytics YOLO results.csv",
    "plain": "plain per-epoch CSV",
    "text": "text training log",
}
Source = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]

# A column name is split into [qualifier_] [split_] base [_suffix]: `val_acc`, `train_loss_epoch`,
# Keras' bare `loss`, `real_val_loss` (a second validation set), `train/box_loss` (YOLO).
SPLITS = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "metrics": "val",  # Ultralytics: metrics/mAP50(B) is measured on the validation set
}
SUFFIXES = ("epoch", "step")  # Lightning's on_epoch / on_step copies of one logged value
STEP_NAMES = {"step", "batch", "iteration", "iter", "global_step", "batch_idx"}  # several rows per epoch
LEARNING_RATE_NAMES = {"lr", "learning_rate"}  # also lr/pg0 (Ultralytics), lr-Adam (Lightning)
TOTAL_WORDS = {"total", "mean", "avg", "overall"}  # `mean_loss` is the loss when there is no plain `loss`
MISSING = {"", "na", "n/a", "null", "none"}  # Keras writes NA for keys an interrupted epoch did not log
# Metric names by direction, matched on the words of the base name (`sparse_categorical_accuracy`, `auc_1`).
HIGHER_IS_BETTER = {"acc", "accuracy", "auc", "auroc", "f1", "fbeta", "precision", "recall", "r2", "iou", "dice", "ap", "map"}
LOWER_IS_BETTER = {"mae", "mse", "rmse", "msle", "mape", "error", "crossentropy", "hinge", "logcosh", "perplexity", "ppl"}
LOWER_IS_BETTER |= {"kld", "nll"}
# Text logs: `Epoch [3/50]`, `Epoch 3/50`, `| end of epoch   3 |`; then `Label: 0.5`, `Label 0.5`, `LR: [0.001]`, `Acc: 22%`.
EPOCH_MARK = re.compile(r"\bepoch\b\s*[\[(]?\s*(\d+)\s*(?:/\s*\d+)?\s*[\])]?", re.IGNORECASE)
NUMBER = r"nan|[-+]?inf|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
WORD = r"[A-Za-z][A-Za-z0-9_/.()-]*"
PAIR = re.compile(rf"({WORD}(?: {WORD})*?)(?:\s*[:=]\s*|\s+)\[?\s*({NUMBER})(%?)", re.IGNORECASE)
SEGMENT = re.compile(r"\s*(?:,|\|| - )\s*")


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
        return f"{self.format_title}, {len(self.history)} epoch(s): {used}."


@dataclass(frozen=True)
class _Column:
    index: int
    name: str  # as the header spells it
    split: str  # train, val, test
    base: str  # loss, accuracy, mae, ...
    suffix: str  # epoch, step, or "" (Lightning's copies of one value)
    prefixed: bool  # `train_loss` rather than Keras' bare `loss`
    qualifier: str = ""  # `real` in `real_val_loss`: one of several validation sets


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells), every row as long as the header
    fmt: str | None = None  # known from the parse (text); None: detected from the columns
    widths: dict[int, int] = field(default_factory=dict)  # row number -> cells it had, where fewer than the header
    header_width: int = 0  # columns the header itself named (before any unnamed extra columns)
    percent: set[str] = field(default_factory=set)  # columns whose values carried a % sign


def read_history_csv(path: str | os.PathLike[str]) -> History:
    """The per-epoch History of a log file; see read_training_log for what else is known."""
    return read_training_log(path).history


def read_training_log(source: Source, name: str | None = None) -> TrainingLog:
    """Read a Keras, Lightning, YOLO or plain per-epoch CSV, or a text log, from a path, bytes or an open file.

    Raises DataError with one sentence naming the row and column at fault and what was expected.
    """
    if name is None:
        name = str(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "the log"))
    notes: list[str] = []
    text = _normalize_line_ends(_read_text(source, name), notes)
    table = _text_log_table(text, notes) if _is_text_log(text) else _csv_table(text, name, notes)
    header, rows = table.header, table.rows
    labels = _label_columns(header, rows)
    columns, epoch_index, step_index = _columns(header, labels)
    fmt = table.fmt or _detect_format(columns, epoch_index, header)
    grouped = fmt in ("lightning", "text") or step_index is not None
    if not rows:
        raise DataError(f"{name} has a header but no epochs")
    metric, wanted = _wanted_columns(columns, header, rows, labels, fmt, notes)
    val_loss = wanted["val_loss"]
    if epoch_index is not None and header[epoch_index] == "":
        notes.append("The first, unnamed column (a pandas index, as `DataFrame.to_csv()` writes it) is read as the epoch.")
    keyed = _row_epochs(rows, header, epoch_index, step_index, fmt)
    runs = _split_runs(keyed, grouped, [c.index for c in val_loss])
    run = next((r for r in reversed(runs) if len({epoch for _, _, epoch in r}) >= 2), runs[-1])
    _check_widths(run, table)
    if grouped:
        records, picked = _aggregate_epochs(run, header, wanted, notes, fmt, step_index)
    else:
        records, picked = _one_row_per_epoch(run, wanted, notes)
    if len(runs) > 1:
        notes.append(_runs_note(runs, run, len(records), header, labels))
    metric = _percent_to_fraction(records, picked, metric, table.percent, notes)
    history = _number_epochs(records, notes, fmt)
    metric, higher = _metric_direction(metric, picked, notes)
    learning_rates = _learning_rates(records, picked)
    missing = tuple(record.epoch for record, (_, _, absent) in zip(history, records, strict=True) if absent)
    if not val_loss:
        notes.append(
            "The log has no validation loss: val_loss is NaN in every epoch for lack of one, not because "
            "training blew up; only the training curve can be judged."
        )
    _note_ignored(header, picked, epoch_index, notes)
    columns_read = {key: " / ".join(read_from) for key, read_from in picked.items() if read_from}
    return TrainingLog(history, fmt, metric, higher, columns_read, notes, learning_rates, missing, len(runs))


def _wanted_columns(
    columns: list[_Column], header: list[str], rows: list[tuple[int, list[str]]], labels: set[int], fmt: str, notes: list[str]
) -> tuple[str | None, dict[str, list[_Column]]]:
    """(the metric's name, the columns each history field is read from, in order of preference)."""
    columns = _component_sums(columns, header, rows, notes)
    columns = _test_as_validation(columns, notes)
    train_loss = _loss_columns(columns, "train", header, fmt, notes)
    val_loss = _loss_columns(columns, "val", header, fmt, notes)
    metric, train_metric, val_metric = _metric_columns(columns, val_loss)
    lr_column = next((i for i, h in enumerate(header) if _is_learning_rate(h) and i not in labels), None)
    wanted = {
        "train_loss": train_loss,
        "val_loss": val_loss,
        "train_metric": train_metric,
        "val_metric": val_metric,
        "learning_rate": [_Column(lr_column, header[lr_column], "train", "lr", "", False)] if lr_column is not None else [],
    }
    return metric, wanted


def _metric_direction(metric: str | None, picked: dict[str, list[str]], notes: list[str]) -> tuple[str | None, bool | None]:
    """(the metric, None when it was never logged; whether higher is better), noted unless higher is better."""
    if not (picked["train_metric"] or picked["val_metric"]):
        metric = None  # named in the header but never logged
    higher = _direction(metric) if metric else None
    if metric and higher is not True:
        how = "lower is better" if higher is False else "its direction is unknown to FitLab"
        notes.append(
            f"Metric `{metric}`: {how}, so the verdict reads the losses only "
            "(the rule on the train/validation metric gap assumes higher is better)."
        )
    return metric, higher


def _learning_rates(records: list[Record], picked: dict[str, list[str]]) -> list[float] | None:
    """The learning rate per record; None (and no column read) when it was not logged every epoch."""
    learning_rates: list[float] | None = [v["learning_rate"] for _, v, _ in records]
    if not learning_rates or not all(math.isfinite(v) for v in learning_rates):
        learning_rates, picked["learning_rate"] = None, []  # not logged every epoch (Lightning's step rows)
    return learning_rates


def _note_ignored(header: list[str], picked: dict[str, list[str]], epoch_index: int | None, notes: list[str]) -> None:
    used = {column for read_from in picked.values() for column in read_from}
    used |= {part for read_from in picked.values() for column in read_from for part in column.split(" + ")}
    ignored = [h for i, h in enumerate(header) if h not in used and i != epoch_index and _norm(h) != "step" and " + " not in h]
    if ignored:
        notes.append(f"Not used: {', '.join(f'`{h}`' for h in ignored)}.")


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


def _normalize_line_ends(text: str, notes: list[str]) -> str:
    """`\\r\\n`, `\\r` and `\\r\\r\\n` (a Windows file written once more in text mode) all end one line."""
    if "\r\r\n" in text:
        notes.append("Lines end in \\r\\r\\n (written twice in Windows text mode): each is read as one line break.")
    return re.sub(r"\r+\n?", "\n", text)


def _is_text_log(text: str) -> bool:
    return any(_epoch_line(line) is not None for line in text.split("\n", 2000)[:2000])


def _epoch_line(line: str) -> tuple[int, list[tuple[str, str, bool]]] | None:
    """(epoch, [(label, value, in percent)]) of a line like `Epoch 3/50, Train Loss: 0.4, Val Acc: 81%`.

    A line counts only when it has a loss: `Saved best model at epoch 3` does not. A label without a
    split word takes the one before it in its segment: `| Val Loss: 0.2 Acc: 0.9 |` gives `Val Acc`.
    """
    mark = EPOCH_MARK.search(line)
    if mark is None:
        return None
    pairs: list[tuple[str, str, bool]] = []
    for segment in SEGMENT.split(line[mark.end() :]):
        split_word = ""
        for match in PAIR.finditer(segment):
            label, value, percent = match.group(1), match.group(2), match.group(3) == "%"
            first = _norm(label).split("_")[0]
            if first in SPLITS:
                split_word = re.split(r"[ _/-]", label)[0]
            elif split_word:
                label = f"{split_word} {label}"
            pairs.append((label, value, percent))
    if not any("loss" in _norm(label).split("_") for label, _, _ in pairs):
        return None
    return int(mark.group(1)), pairs


def _text_log_table(text: str, notes: list[str]) -> _Table:
    """The epoch lines of a text log as a table: an `epoch` column, then each label in order of appearance."""
    header = ["epoch"]
    keys: dict[str, int] = {}  # normalized label -> column
    found: list[tuple[int, dict[int, str]]] = []
    percent: set[str] = set()
    other = 0
    for number, line in enumerate(text.split("\n"), start=1):
        parsed = _epoch_line(line)
        if parsed is None:
            other += bool(line.strip())
            continue
        epoch, pairs = parsed
        cells = {0: str(epoch)}
        for label, value, in_percent in pairs:
            key = _norm(label)
            if key not in keys:
                keys[key] = len(header)
                header.append(label)
            cells.setdefault(keys[key], value)  # `Acc:` twice without a split word: the first
            if in_percent:
                percent.add(header[keys[key]])
        found.append((number, cells))
    rows = [(number, [cells.get(i, "") for i in range(len(header))]) for number, cells in found]
    notes.append(f"Text log: {len(rows)} line(s) with an epoch number and a loss read; {other} other line(s) skipped.")
    return _Table(header, rows, "text", header_width=len(header), percent=percent)


def _csv_table(text: str, name: str, notes: list[str]) -> _Table:
    """The header and the data rows, each with its row number (blank lines skipped, still counted).

    Rows longer than the header are kept: Keras' CSVLogger(append=True) keeps the first run's header
    when a later run logs more keys, so `epoch;loss` may head rows of `epoch;loss;val_loss`. Rows
    shorter than the header are an error only in the run that is read.
    """
    if not text.strip():
        raise DataError(f"{name} is empty")
    if text.lstrip()[0] in "{[":
        raise DataError(
            f"{name} looks like JSON, not CSV: give the CSV file a logger wrote "
            "(Keras' CSVLogger, Lightning's metrics.csv, or epoch,train_loss,val_loss)"
        )
    first_line = text.lstrip("\n").split("\n")[0]
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
            while len(cells) > len(header) and not cells[-1].strip():
                cells = cells[:-1]  # a trailing separator
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DataError(f"row {reader.line_num}: not valid CSV ({exc})") from None
    assert header is not None  # the text is not blank
    if len(header) == 1 and not any(w in _norm(header[0]).split("_") for w in ("loss", "epoch")):
        raise DataError(
            f"{name} is neither a CSV with a header row (epoch,loss,val_loss) nor a text log with lines like "
            f"'Epoch 3/50, Train Loss: 0.41, Val Loss: 0.45'; its first line is {header[0][:60]!r}"
        )
    table = _Table(header, [], header_width=len(header))
    explained = _name_extra_cells(table, rows, notes)
    for line, cells in rows:
        if len(cells) < table.header_width or (len(cells) > table.header_width and line not in explained):
            table.widths[line] = len(cells)
        cells = cells + [""] * (len(table.header) - len(cells))
        table.rows.append((line, cells[: len(table.header)]))
    return table


def _name_extra_cells(table: _Table, rows: list[tuple[int, list[str]]], notes: list[str]) -> set[int]:
    """The rows whose cells beyond the header are explained: Keras' append-mode val_ twins, or the
    extra values of a summary row (text in the batch column). Other long rows are an error where read."""
    header = table.header
    long_rows = [(line, cells) for line, cells in rows if len(cells) > len(header)]
    if not long_rows:
        return set()
    longest = max(len(cells) for _, cells in long_rows)
    values = [h for h in header if _norm(h) not in ("epoch", "")]
    keys = [_norm(h) for h in values]
    keras = "loss" in keys and not any(k.startswith("val") or k in STEP_NAMES for k in keys)
    lines = [line for line, _ in long_rows]
    if keras and longest - len(header) == len(values) and all(len(cells) == longest for _, cells in long_rows):
        twins = [f"val_{h}" for h in values]
        header.extend(twins)
        notes.append(
            f"Row(s) {_list(lines)} have {len(values)} more cell(s) than the header names: the header is the first "
            f"run's (CSVLogger(append=True) keeps it), so they are read as {', '.join(f'`{t}`' for t in twins)}, "
            "in Keras' order."
        )
        return set(lines)
    step = next((i for i, key in enumerate(_norm(h) for h in header) if key in STEP_NAMES), None)
    summary = {line for line, cells in long_rows if step is not None and not _is_number(cells[step])}
    if summary:
        header.extend(f"column {i + 1}" for i in range(len(header), longest))
        notes.append(
            f"Summary row(s) {_list(sorted(summary))} have more cells than the header names; the unnamed cells are not used."
        )
    return summary


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


def _check_widths(run: list[tuple[int, list[str], int | None]], table: _Table) -> None:
    for line, _, _ in run:
        if line in table.widths:
            named = table.header[: table.header_width]
            raise DataError(
                f"row {line} has {table.widths[line]} cell(s) but the header names {len(named)} columns ({', '.join(named)})"
            )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _norm(name: str) -> str:
    """`Val/Loss`, `val-loss`, `val_loss` and `ValLoss` are one name."""
    name = name.strip()
    if re.fullmatch(r"[A-Za-z0-9]+", name):
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)  # camelCase: TrainLoss, ValAcc
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _is_learning_rate(name: str) -> bool:
    key = _norm(name)
    return key in LEARNING_RATE_NAMES or key.split("_")[0] == "lr"


# ---------------------------------------------------------------- columns and format


def _label_columns(header: list[str], rows: list[tuple[int, list[str]]]) -> set[int]:
    """Columns of text in every row (`phase`, `model`): labels, not values."""
    labels = set()
    for index, name in enumerate(header):
        if _norm(name) == "epoch" or (index == 0 and name == ""):
            continue
        cells = [cells[index].strip() for _, cells in rows if cells[index].strip().lower() not in MISSING]
        if cells and not any(_is_number(cell) for cell in cells):
            labels.add(index)
    return labels


def _columns(header: list[str], labels: set[int]) -> tuple[list[_Column], int | None, int | None]:
    """The value columns, the epoch column (the unnamed pandas index if none) and a step/batch column."""
    normalized = [_norm(h) for h in header]
    epoch_index = normalized.index("epoch") if "epoch" in normalized else (0 if header[0] == "" else None)
    step_index = next((i for i, key in enumerate(normalized) if key in STEP_NAMES), None)
    columns = []
    for index, key in enumerate(normalized):
        if index in (epoch_index, step_index) or index in labels or key in ("epoch", "step", ""):
            continue
        if _is_learning_rate(header[index]):
            continue
        words = key.split("_")
        suffix = words.pop() if len(words) > 1 and words[-1] in SUFFIXES else ""
        at = next((i for i, w in enumerate(words[:-1]) if w in SPLITS), None)
        prefixed = at is not None
        split = SPLITS[words[at]] if at is not None else "train"  # Keras names training values bare: `loss`
        qualifier = "_".join(words[:at]) if at is not None else ""
        base = "_".join(words[at + 1 :] if at is not None else words)
        columns.append(_Column(index, header[index], split, base, suffix, prefixed, qualifier))
    return columns, epoch_index, step_index


def _detect_format(columns: list[_Column], epoch_index: int | None, header: list[str]) -> str:
    if "step" in (_norm(h) for h in header) or any(c.suffix for c in columns):
        if epoch_index is None:
            raise DataError(
                "this looks like Lightning's metrics.csv (a step column or *_epoch / *_step names) but it has no "
                f"epoch column to group its rows by; found columns: {', '.join(header)}"
            )
        return "lightning"
    if any(h.strip().lower().startswith("metrics/") for h in header):
        return "yolo"
    losses = [c for c in columns if c.split == "train" and c.base == "loss"]
    batched = any(_norm(h) in STEP_NAMES for h in header)  # Keras' CSVLogger writes no batch rows
    return "keras" if losses and not batched and not any(c.prefixed for c in losses) else "plain"


def _component_sums(
    columns: list[_Column], header: list[str], rows: list[tuple[int, list[str]]], notes: list[str]
) -> list[_Column]:
    """A split with no plain loss but several `*_loss` parts (YOLO: box, cls, dfl) gets their sum as its loss."""
    added = []
    for split in ("train", "val"):
        mine = [c for c in columns if c.split == split and c.prefixed and not c.qualifier]
        parts = [c for c in mine if c.base.endswith("_loss") and not c.suffix]
        if any(c.base == "loss" for c in mine) or len(parts) < 2:
            continue
        name = " + ".join(c.name for c in parts)
        header.append(name)
        for _, cells in rows:
            values = [cells[c.index].strip() for c in parts]
            cells.append("" if any(v.lower() in MISSING for v in values) else repr(sum(_number(v) for v in values)))
        added.append(_Column(len(header) - 1, name, split, "loss", "", True))
        notes.append(f"The {'training' if split == 'train' else 'validation'} loss is the sum {name} (as Ultralytics adds them).")
    return columns + added


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _test_as_validation(columns: list[_Column], notes: list[str]) -> list[_Column]:
    """A log measured on a test split every epoch and on no validation split: the test split stands in."""
    if any(c.split == "val" for c in columns) or not any(c.split == "test" for c in columns):
        return columns
    tests = [c for c in columns if c.split == "test"]
    notes.append(
        f"The log has no validation columns: {', '.join(f'`{c.name}`' for c in tests)}, measured every epoch, "
        "stand(s) in for validation."
    )
    return [replace(c, split="val") if c.split == "test" else c for c in columns]


def _order(column: _Column) -> tuple[int, int]:
    # Lightning: the epoch mean first, then a value logged once per epoch, then the last step.
    return (0 if column.prefixed else 1, {"epoch": 0, "": 1, "step": 2}[column.suffix])


def _loss_columns(columns: list[_Column], split: str, header: list[str], fmt: str, notes: list[str]) -> list[_Column]:
    found = sorted((c for c in columns if c.split == split and c.base == "loss"), key=_order)
    qualifiers = list(dict.fromkeys(c.qualifier for c in found))
    if len(qualifiers) > 1:  # two validation sets: real_val_loss, font_val_loss
        found = [c for c in found if c.qualifier == qualifiers[0]]
        others = [c.name for c in columns if c.split == split and c.base == "loss" and c.qualifier != qualifiers[0]]
        notes.append(
            f"Several {'validation' if split == 'val' else 'training'} sets: read `{found[0].name}` (the first), "
            f"not {', '.join(f'`{o}`' for o in others)}."
        )
    if found:
        if split == "train" and " + " not in found[0].name and any(c.base.endswith("_loss") for c in columns):
            heads = [c.name for c in columns if c.base.endswith("_loss")]
            notes.append(
                f"Losses per output ({', '.join(f'`{h}`' for h in heads[:4])}{', ...' if len(heads) > 4 else ''}) "
                f"are left out: the losses read are the totals."
            )
        return found
    parts = [c for c in columns if c.split == split and c.base.endswith("_loss") and not c.qualifier]
    if parts:  # `mean_loss` and `data_loss` but no `loss`: the total if one says so, else the first
        pick = next((c for c in parts if set(c.base.split("_")) & TOTAL_WORDS), parts[0])
        also = [c.name for c in parts if c is not pick]
        notes.append(
            f"No plain {'loss' if split == 'train' else 'val_loss'} column: `{pick.name}` is read as the "
            f"{'training' if split == 'train' else 'validation'} loss"
            + (f" (also logged: {', '.join(f'`{a}`' for a in also)})." if also else ".")
        )
        return [pick]
    if split == "train":
        listed = ", ".join(header)
        names = "train_loss or loss" + (", or train_loss_epoch / train_loss_step" if fmt == "lightning" else "")
        raise DataError(f"the log needs a training loss column ({names}); found columns: {listed}")
    return []  # no validation: read, and said so


def _direction(metric: str) -> bool | None:
    words = set(metric.split("_"))
    if words & HIGHER_IS_BETTER or any(w.startswith(("acc", "map")) for w in words):
        return True
    if words & LOWER_IS_BETTER:
        return False
    return None


def _metric_columns(columns: list[_Column], val_loss: list[_Column]) -> tuple[str | None, list[_Column], list[_Column]]:
    """The metric to show: accuracy-like first, then other known ones; one logged for validation if any."""
    qualifier = val_loss[0].qualifier if val_loss else ""
    candidates = [
        c
        for c in columns
        if not c.base.endswith("loss")
        and ((c.split == "train" and not c.qualifier) or (c.split == "val" and c.qualifier == qualifier))
    ]
    validated = {c.base for c in candidates if c.split == "val"}
    # A bare training-side name without a val_ twin is not a metric (`time`, `seconds`, `steer_mae`).
    bases = list(dict.fromkeys(c.base for c in candidates if c.base in validated or c.prefixed))
    if not bases:
        return None, [], []

    def rank(base: str) -> tuple[int, int, int]:
        both = any(c.base == base and c.split == "train" for c in candidates) and base in validated
        direction = _direction(base)
        accuracy = any(w.startswith("acc") for w in base.split("_"))
        map_50_95 = 0 if "95" in base.split("_") else 1  # YOLO: mAP50-95 before mAP50, precision, recall
        return (0 if both else 1, 0 if accuracy else 1 if direction else 2 if direction is False else 3, map_50_95)

    metric = min(bases, key=rank)
    train = sorted((c for c in candidates if c.base == metric and c.split == "train"), key=_order)
    val = sorted((c for c in candidates if c.base == metric and c.split == "val"), key=_order)
    return metric, train, val


# ---------------------------------------------------------------- values


def _value(cell: str, line: int, column: str) -> float | None:
    text = cell.strip().rstrip("%")
    if text.lower() in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(f"row {line}, column {column}: expected a number, got {cell.strip()!r}") from None


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


def _row_epochs(
    rows: list[tuple[int, list[str]]], header: list[str], epoch_index: int | None, step_index: int | None, fmt: str
) -> list[tuple[int, list[str], int | None]]:
    """Each row with its epoch (None: a Lightning row without one, e.g. LearningRateMonitor's)."""
    keyed: list[tuple[int, list[str], int | None]] = []
    for position, (line, cells) in enumerate(rows):
        if fmt == "lightning" and step_index is not None:
            _whole(cells[step_index], line, header[step_index])
        if epoch_index is None:
            keyed.append((line, cells, position))
            continue
        column = header[epoch_index] or "epoch (the unnamed first column)"
        epoch = _whole(cells[epoch_index], line, column)
        if epoch is None and fmt != "lightning":
            raise DataError(f"row {line}, column {column}: expected the epoch number, got an empty cell")
        keyed.append((line, cells, epoch))
    return keyed


def _split_runs(
    keyed: list[tuple[int, list[str], int | None]], grouped: bool, val_indexes: list[int]
) -> list[list[tuple[int, list[str], int | None]]]:
    """Runs appended to one file: a new one starts where the epoch counter goes back or repeats.

    Where several rows make one epoch (Lightning, text logs, a batch column) an epoch may repeat, but
    a second validation loss for it starts a new run.
    """
    runs: list[list[tuple[int, list[str], int | None]]] = [[]]
    previous: int | None = None
    validated: set[int] = set()
    for line, cells, epoch in keyed:
        if epoch is None:
            runs[-1].append((line, cells, epoch))
            continue
        has_val = any(cells[i].strip().lower() not in MISSING for i in val_indexes)
        if previous is not None and (
            epoch < previous or (epoch == previous and (not grouped or (has_val and epoch in validated)))
        ):
            runs.append([])
            validated = set()
        if has_val:
            validated.add(epoch)
        runs[-1].append((line, cells, epoch))
        previous = epoch
    return runs


def _runs_note(
    runs: list[list[tuple[int, list[str], int | None]]],
    run: list[tuple[int, list[str], int | None]],
    epochs: int,
    header: list[str],
    labels: set[int],
) -> str:
    starts = [r[0][0] for r in runs[1:]]
    which = "the last" if run is runs[-1] else "the last with 2 or more epochs (later runs have 1 epoch)"
    named = [f"{header[i]} {v}" for i in sorted(labels) if len(vals := {cells[i] for _, cells, _ in run}) == 1 for v in vals]
    label = f", {', '.join(named)}" if named else ""
    rows = "row" if len(starts) == 1 else "rows"
    return (
        f"The file holds {len(runs)} runs (epochs restart at {rows} {_list(starts, last='and')}); read {which}, "
        f"{epochs} epochs (rows {run[0][0]}-{run[-1][0]}{label})."
    )


def _pick_value(values: dict[int, float], group: list[_Column]) -> tuple[float | None, str | None]:
    for column in group:
        if column.index in values:
            return values[column.index], column.name
    return None, None


Record = tuple[int, dict[str, float], bool]  # (epoch as logged, values, validation loss not logged)


def _one_row_per_epoch(
    run: list[tuple[int, list[str], int | None]], wanted: dict[str, list[_Column]], notes: list[str]
) -> tuple[list[Record], dict[str, list[str]]]:
    """Keras, YOLO and plain logs: every row is one epoch; an empty loss cell stays NaN (and is noted).

    A validation loss of exactly 0 is not a loss but validation switched off (Ultralytics writes 0):
    it is read as not logged, with the metrics of that row.
    """
    records: list[Record] = []
    picked = {key: [group[0].name] if group else [] for key, group in wanted.items()}
    empty: dict[str, list[int]] = {}
    zero: list[int] = []
    for line, cells, epoch in run:
        assert epoch is not None
        values: dict[str, float] = {}
        for key, group in wanted.items():
            value = _value(cells[group[0].index], line, group[0].name) if group else None
            if value is None and key.endswith("loss") and group:
                empty.setdefault(group[0].name, []).append(line)
            values[key] = math.nan if value is None else value
        absent = not wanted["val_loss"]
        if values["val_loss"] == 0:
            zero.append(line)
            absent, values["val_loss"] = True, math.nan
            if values["val_metric"] == 0:
                values["val_metric"] = math.nan
        records.append((epoch, values, absent))
    for column, lines in empty.items():
        notes.append(f"Empty `{column}` in row(s) {_list(lines)}: read as NaN, which the diagnosis reads as a run that blew up.")
    if zero:
        notes.append(
            f"Validation loss 0 in row(s) {_list(zero)}: validation was off in those epochs (Ultralytics writes 0), "
            "so they have no validation loss."
        )
    return records, picked


def _aggregate_epochs(
    run: list[tuple[int, list[str], int | None]],
    header: list[str],
    wanted: dict[str, list[_Column]],
    notes: list[str],
    fmt: str,
    step_index: int | None,
) -> tuple[list[Record], dict[str, list[str]]]:
    """Several rows per epoch (Lightning, text logs, a batch column): per value its *_epoch column,
    else the last value logged in the epoch."""
    per_epoch, counts, skipped = _last_values(run, [c for group in wanted.values() for c in group])
    validated, wanted = _check_logged(per_epoch, wanted, notes)
    offset = 1 if fmt == "lightning" else 0  # Lightning counts from 0; shifted here, noted in _number_epochs
    records, sources, incomplete = _epoch_records(per_epoch, wanted, validated, offset)
    if not records:
        raise DataError("no epoch has both a training and a validation loss: did validation run at the end of an epoch?")
    if fmt == "lightning":
        notes.append(f"{len(run)} rows (step, validation and epoch-end rows interleaved) aggregated into {len(records)} epochs.")
    elif fmt != "text" and step_index is not None:
        notes.append(
            f"{len(run)} rows (several per epoch, by `{header[step_index]}`) aggregated into {len(records)} epochs: "
            "each epoch shows its last row's values (a summary row where the log writes one)."
        )
    if skipped:
        notes.append(f"{skipped} row(s) without an epoch skipped (LearningRateMonitor writes such rows).")
    if incomplete:
        notes.append(
            f"Epoch(s) {_list(incomplete)} left out: only one of the two losses was logged "
            "(validation skipped that epoch, or the run ended mid-epoch)."
        )
    _note_step_values(sources, wanted, counts, fmt, notes)
    return records, sources


def _last_values(
    run: list[tuple[int, list[str], int | None]], used: list[_Column]
) -> tuple[dict[int, dict[int, float]], dict[int, dict[int, int]], int]:
    """(epoch -> column index -> last value, how many rows of the epoch logged each column, rows without an epoch)."""
    per_epoch: dict[int, dict[int, float]] = {}  # epoch -> column index -> last value
    counts: dict[int, dict[int, int]] = {}  # how many rows of the epoch logged each column
    skipped = 0
    for line, cells, epoch in run:
        values = {c.index: v for c in used if (v := _value(cells[c.index], line, c.name)) is not None}
        if epoch is None:
            if any(c.index in values for c in used if c.base != "lr"):
                column = next(c.name for c in used if c.index in values)
                raise DataError(f"row {line}: has a value for {column} but its epoch cell is empty")
            skipped += 1  # e.g. LearningRateMonitor rows: only the learning rate and the step
            continue
        per_epoch.setdefault(epoch, {}).update(values)
        for index in values:
            counts.setdefault(epoch, {})[index] = counts.get(epoch, {}).get(index, 0) + 1
    return per_epoch, counts, skipped


def _check_logged(
    per_epoch: dict[int, dict[int, float]], wanted: dict[str, list[_Column]], notes: list[str]
) -> tuple[bool, dict[str, list[_Column]]]:
    """(whether validation ran, the columns to read): a DataError without any training loss."""
    validated = any(c.index in v for v in per_epoch.values() for c in wanted["val_loss"])
    if not any(c.index in v for v in per_epoch.values() for c in wanted["train_loss"]):
        names = " / ".join(c.name for c in wanted["train_loss"])
        raise DataError(f"column {names} has no values in any row: a diagnosis needs the training loss per epoch")
    if wanted["val_loss"] and not validated:
        names = " / ".join(c.name for c in wanted["val_loss"])
        notes.append(f"Column {names} has no values in any row: validation never ran.")
        wanted = wanted | {"val_loss": [], "val_metric": []}
    return validated, wanted


def _epoch_records(
    per_epoch: dict[int, dict[int, float]], wanted: dict[str, list[_Column]], validated: bool, offset: int
) -> tuple[list[Record], dict[str, list[str]], list[int]]:
    """(one record per epoch, the columns each field was read from, epochs left out with one loss only)."""
    records: list[Record] = []
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
        if validated and None in losses and not blew_up:  # one loss only: left out, unless the other blew up
            incomplete.append(epoch + offset)
            continue
        absent = record["val_loss"] is None
        records.append((epoch + offset, {k: math.nan if v is None else v for k, v in record.items()}, absent))
    return records, sources, incomplete


def _note_step_values(
    sources: dict[str, list[str]], wanted: dict[str, list[_Column]], counts: dict[int, dict[int, int]], fmt: str, notes: list[str]
) -> None:
    """A note per value read from a column logged every few steps: the epoch shows its last value."""
    for key, read_from in sources.items():
        if key == "learning_rate" or fmt not in ("lightning", "text"):
            continue  # a batch column's last row is often a summary row: said in the note above
        repeated = [c for c in wanted[key] if c.name in read_from and c.suffix != "epoch" and _repeats(counts, c.index)]
        for step_column in repeated:
            how = (
                "(self.log(..., on_epoch=True) would log the epoch mean)"
                if fmt == "lightning"
                else "(a running value, not the epoch mean)"
            )
            notes.append(f"`{step_column.name}` is logged every few steps: each epoch shows its last value {how}.")


def _repeats(counts: dict[int, dict[int, int]], index: int) -> bool:
    return any(per_column.get(index, 0) > 1 for per_column in counts.values())


def _percent_to_fraction(
    records: list[Record], picked: dict[str, list[str]], metric: str | None, percent: set[str], notes: list[str]
) -> str | None:
    """Accuracy written in percent (`Val Acc: 81.2%`, or 81.2 in a column) is read as a fraction, 0.812."""
    if metric is None:
        return metric
    accuracy = any(w.startswith("acc") for w in metric.split("_"))
    for key in ("train_metric", "val_metric"):
        values = [v[key] for _, v, _ in records if math.isfinite(v[key])]
        marked = any(name in percent for name in picked[key])
        if values and (marked or accuracy) and 1 < max(values) <= 100:
            for _, v, _ in records:
                v[key] /= 100
            columns = " / ".join(f"`{name}`" for name in picked[key])
            notes.append(f"{columns} is in percent (up to {max(values):g}): read as a fraction (divided by 100).")
    return metric


def _number_epochs(records: list[Record], notes: list[str], fmt: str) -> History:
    """Records counted from 1 like FitLab's own runs. Lightning counts from 0 (already shifted while
    grouping); another log is shifted when its first epoch is 0."""
    offset = 1 if fmt != "lightning" and records and records[0][0] == 0 else 0
    if offset or fmt == "lightning":
        who = {"keras": "Keras", "lightning": "Lightning", "yolo": "Ultralytics"}.get(fmt, "The log")
        notes.append(f"{who} counts epochs from 0: epoch 0 of the log is epoch 1 here.")
    return History(
        EpochRecord(epoch + offset, v["train_loss"], v["val_loss"], v["train_metric"], v["val_metric"], math.nan)
        for epoch, v, _ in records
    )


def _list(items: Iterable[int], limit: int = 8, last: str = "") -> str:
    shown = [str(i) for i in items]
    if len(shown) > limit:
        return first_and_more(shown, limit)
    if last and len(shown) > 1:
        return ", ".join(shown[:-1]) + f" {last} {shown[-1]}"
    return ", ".join(shown)
