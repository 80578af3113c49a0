"""From rows to epochs, on whole columns at once: each row's epoch, the runs a file holds, one record per
epoch (a row per epoch, or the last value logged in an epoch of several rows), and the evenly spaced
epochs read from a log longer than FITLAB_MAX_LOG_EPOCHS."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.data.csvfile import DataError
from core.logs.cells import NUMBER, TEXT, Cells, first, listed
from core.logs.names import Column
from core.logs.table import Table

BIGGEST_EPOCH = 2**53  # an epoch number numpy counts exactly


@dataclass
class Records:
    """One entry per epoch, as arrays."""

    epochs: np.ndarray  # int64: the epoch as logged (Lightning's already counted from 1)
    values: dict[str, np.ndarray]  # train_loss, val_loss, train_metric, val_metric, learning_rate: float64, NaN: none
    absent: np.ndarray  # bool: the validation loss was not logged (not a blow-up)

    def __len__(self) -> int:
        return len(self.epochs)

    def take(self, index: np.ndarray) -> Records:
        return Records(self.epochs[index], {k: v[index] for k, v in self.values.items()}, self.absent[index])


def _raise_first(problems: list[tuple[int, int, str]]) -> None:
    """The DataError of the problem met first reading row by row (then in the order given)."""
    if problems:
        raise DataError(min(problems)[2])


# ---------------------------------------------------------------- the epoch of each row


def _not_whole(cells: Cells) -> np.ndarray:
    values = cells.values
    with np.errstate(invalid="ignore"):
        whole = (cells.kinds == NUMBER) & np.isfinite(values) & (values == np.floor(values)) & (values >= 0)
        whole &= values < BIGGEST_EPOCH
    return ~cells.blank & ~whole


def row_epochs(table: Table, epoch_index: int | None, step_index: int | None, fmt: str) -> np.ndarray:
    """Each row's epoch, -1 for none (a Lightning row without one, e.g. LearningRateMonitor's); without an
    epoch column, the row's position. A DataError for the first cell that is not a whole number."""
    problems: list[tuple[int, int, str]] = []
    header = table.header

    def whole_number(row: int, index: int, column: str) -> str:
        got = table.cell(row, index).strip()
        return f"row {int(table.lines[row])}, column {column}: expected a whole number (0, 1, 2, ...), got {got!r}"

    if fmt == "lightning" and step_index is not None:
        at = first(_not_whole(table.columns[step_index]))
        if at is not None:
            problems.append((at, 0, whole_number(at, step_index, header[step_index])))
    if epoch_index is None:
        _raise_first(problems)
        return np.arange(table.rows, dtype=np.int64)
    cells = table.columns[epoch_index]
    column = header[epoch_index] or "epoch (the unnamed first column)"
    at = first(_not_whole(cells))
    if at is not None:
        problems.append((at, 1, whole_number(at, epoch_index, column)))
    at = first(cells.blank) if fmt != "lightning" else None
    if at is not None:
        message = f"row {int(table.lines[at])}, column {column}: expected the epoch number, got an empty cell"
        problems.append((at, 1, message))
    _raise_first(problems)
    return np.where(cells.blank, -1, np.nan_to_num(cells.values, nan=-1)).astype(np.int64)


def split_runs(epochs: np.ndarray, table: Table, grouped: bool, val_indexes: list[int]) -> tuple[np.ndarray, int]:
    """Runs appended to one file: a new one starts where the epoch counter goes back or repeats.

    Where several rows make one epoch (Lightning, text logs, a batch column) an epoch may repeat, but
    a second validation loss for it starts a new run. Returns the row each run starts at followed by
    the number of rows, and the run to read: the last with 2 or more distinct epochs (a row without
    an epoch counts as one), else the last.
    """
    rows = len(epochs)
    valid = np.flatnonzero(epochs >= 0)
    e = epochs[valid]
    has_val = np.zeros(len(valid), dtype=bool)
    for index in val_indexes:
        has_val |= ~table.columns[index].blank[valid]
    down, same = e[1:] < e[:-1], e[1:] == e[:-1]
    if len(e) < 2:
        starts = np.zeros(0, dtype=bool)
    elif grouped:  # within a stretch of one epoch, each validation row after the first starts a run
        block = np.concatenate([[0], np.cumsum(~same)])
        before = np.cumsum(has_val) - has_val
        block_start = before[np.flatnonzero(np.concatenate([[True], ~same]))]
        starts = down | (same & has_val[1:] & (before[1:] - block_start[block[1:]] >= 1))
    else:
        starts = down | same
    bounds = np.concatenate([[0], valid[1:][starts], [rows]]).astype(np.int64)
    low = np.minimum.reduceat(epochs, bounds[:-1])
    high = np.maximum.reduceat(epochs, bounds[:-1])
    several = np.flatnonzero(low != high)
    return bounds, int(several[-1]) if len(several) else len(bounds) - 2


def runs_note(table: Table, bounds: np.ndarray, chosen: int, epochs: int, labels: set[int]) -> str:
    runs = len(bounds) - 1
    starts = table.lines[bounds[1:-1]].tolist()
    which = "the last" if chosen == runs - 1 else "the last with 2 or more epochs (later runs have 1 epoch)"
    a, b = int(bounds[chosen]), int(bounds[chosen + 1])
    named = []
    for index in sorted(labels):
        raw = table.columns[index].raw
        values: list[str] = [] if raw is None else raw.iloc[a:b].fillna("").unique().tolist()
        if len(values) == 1:
            named.append(f"{table.header[index]} {values[0]}")
    label = f", {', '.join(named)}" if named else ""
    rows = "row" if len(starts) == 1 else "rows"
    return (
        f"The file holds {runs} runs (epochs restart at {rows} {listed(starts, last='and')}); read {which}, "
        f"{epochs} epochs (rows {int(table.lines[a])}-{int(table.lines[b - 1])}{label})."
    )


# ---------------------------------------------------------------- one record per epoch


def one_row_per_epoch(
    table: Table, rows: slice, epochs: np.ndarray, wanted: dict[str, list[Column]], notes: list[str]
) -> tuple[Records, dict[str, list[str]]]:
    """Keras, YOLO and plain logs: every row is one epoch; an empty loss cell stays NaN (and is noted).

    A validation loss of exactly 0 is not a loss but validation switched off (Ultralytics writes 0):
    it is read as not logged, with the metrics of that row.
    """
    picked = {key: [group[0].name] if group else [] for key, group in wanted.items()}
    firsts = [column for group in wanted.values() for column in group[:1]]
    _raise_first([p for order, column in enumerate(firsts) if (p := _bad_cell(table, rows, column, order))])
    lines = table.lines[rows]
    count = len(lines)
    values: dict[str, np.ndarray] = {}
    empty: list[tuple[int, int, str, np.ndarray]] = []
    for order, (key, group) in enumerate(wanted.items()):
        if not group:
            values[key] = np.full(count, math.nan)
            continue
        cells = table.columns[group[0].index]
        values[key] = cells.values[rows].copy()
        missing = cells.missing[rows]
        if key.endswith("loss") and missing.any():
            empty.append((int(np.argmax(missing)), order, group[0].name, lines[missing]))
    absent = np.full(count, not wanted["val_loss"])
    zero = values["val_loss"] == 0
    if zero.any():
        absent |= zero
        values["val_loss"][zero] = math.nan
        values["val_metric"][zero & (values["val_metric"] == 0)] = math.nan
    for _, _, column, at in sorted(empty, key=lambda item: item[:2]):
        notes.append(f"Empty `{column}` in row(s) {listed(at)}: read as NaN, which the diagnosis reads as a run that blew up.")
    if zero.any():
        notes.append(
            f"Validation loss 0 in row(s) {listed(lines[zero])}: validation was off in those epochs (Ultralytics writes 0), "
            "so they have no validation loss."
        )
    return Records(epochs[rows].copy(), values, absent), picked


def _bad_cell(table: Table, rows: slice, column: Column, order: int) -> tuple[int, int, str] | None:
    """(row, order, message) of the first cell of `column` in `rows` that holds text, not a number."""
    at = first(table.columns[column.index].kinds[rows] == TEXT)
    if at is None:
        return None
    row = (rows.start or 0) + at
    got = table.cell(row, column.index).strip()
    return at, order, f"row {int(table.lines[row])}, column {column.name}: expected a number, got {got!r}"


@dataclass
class _Epochs:
    """Per epoch of a run (in order) and per column index: the last value logged, whether one was, how many rows logged one."""

    epochs: np.ndarray
    last: dict[int, np.ndarray]
    logged: dict[int, np.ndarray]
    counts: dict[int, np.ndarray]


def _last_values(table: Table, rows: slice, epochs: np.ndarray, used: list[Column]) -> tuple[_Epochs, int]:
    """The values of each epoch's rows, and the number of rows without an epoch (a DataError where such a row has a value)."""
    problems = [p for order, column in enumerate(used) if (p := _bad_cell(table, rows, column, order))]
    e = epochs[rows]
    without = e < 0
    present = {c.index: table.columns[c.index].present[rows] for c in used}
    stray = np.zeros(len(e), dtype=bool)
    for column in used:
        if column.base != "lr":
            stray |= present[column.index] & without
    at = first(stray)
    if at is not None:
        name = next(c.name for c in used if present[c.index][at])
        line = int(table.lines[(rows.start or 0) + at])
        problems.append((at, len(used), f"row {line}: has a value for {name} but its epoch cell is empty"))
    _raise_first(problems)
    valid = ~without
    logged_epochs = e[valid]
    starts = np.flatnonzero(np.diff(logged_epochs, prepend=-1) != 0)  # epochs never go down within a run
    group = np.cumsum(np.diff(logged_epochs, prepend=-1) != 0) - 1
    found = _Epochs(logged_epochs[starts], {}, {}, {})
    for column in used:
        mask = present[column.index][valid]
        where = group[mask]
        values = table.columns[column.index].values[rows][valid][mask]
        last = np.flatnonzero(np.append(np.diff(where) != 0, True)) if len(where) else where
        found.last[column.index] = np.full(len(starts), math.nan)
        found.last[column.index][where[last]] = values[last]
        found.logged[column.index] = np.zeros(len(starts), dtype=bool)
        found.logged[column.index][where[last]] = True
        found.counts[column.index] = np.bincount(where, minlength=len(starts))
    return found, int(without.sum())


def aggregate_epochs(
    table: Table, rows: slice, epochs: np.ndarray, wanted: dict[str, list[Column]], notes: list[str], step_index: int | None
) -> tuple[Records, dict[str, list[str]]]:
    """Several rows per epoch (Lightning, text logs, a batch column): per value its *_epoch column,
    else the last value logged in the epoch."""
    fmt = table.fmt
    found, skipped = _last_values(table, rows, epochs, [c for group in wanted.values() for c in group])
    validated, wanted = _check_logged(found, wanted, notes)
    offset = 1 if fmt == "lightning" else 0  # Lightning counts from 0; shifted here, noted in _number_epochs
    records, sources, incomplete = _epoch_records(found, wanted, validated, offset)
    if not len(records):
        raise DataError("no epoch has both a training and a validation loss: did validation run at the end of an epoch?")
    count = (rows.stop or 0) - (rows.start or 0)
    if fmt == "lightning":
        notes.append(f"{count} rows (step, validation and epoch-end rows interleaved) aggregated into {len(records)} epochs.")
    elif fmt != "text" and step_index is not None:
        notes.append(
            f"{count} rows (several per epoch, by `{table.header[step_index]}`) aggregated into {len(records)} epochs: "
            "each epoch shows its last row's values (a summary row where the log writes one)."
        )
    if skipped:
        notes.append(f"{skipped} row(s) without an epoch skipped (LearningRateMonitor writes such rows).")
    if len(incomplete):
        notes.append(
            f"Epoch(s) {listed(incomplete)} left out: only one of the two losses was logged "
            "(validation skipped that epoch, or the run ended mid-epoch)."
        )
    _note_step_values(sources, wanted, found, str(fmt), notes)
    return records, sources


def _check_logged(found: _Epochs, wanted: dict[str, list[Column]], notes: list[str]) -> tuple[bool, dict[str, list[Column]]]:
    """(whether validation ran, the columns to read): a DataError without any training loss."""
    validated = any(found.logged[c.index].any() for c in wanted["val_loss"])
    if not any(found.logged[c.index].any() for c in wanted["train_loss"]):
        names = " / ".join(c.name for c in wanted["train_loss"])
        raise DataError(f"column {names} has no values in any row: a diagnosis needs the training loss per epoch")
    if wanted["val_loss"] and not validated:
        names = " / ".join(c.name for c in wanted["val_loss"])
        notes.append(f"Column {names} has no values in any row: validation never ran.")
        wanted = wanted | {"val_loss": [], "val_metric": []}
    return validated, wanted


def _epoch_records(
    found: _Epochs, wanted: dict[str, list[Column]], validated: bool, offset: int
) -> tuple[Records, dict[str, list[str]], np.ndarray]:
    """(one record per epoch, the columns each field was read from, epochs left out with one loss only)."""
    size = len(found.epochs)
    values: dict[str, np.ndarray] = {}
    logged: dict[str, np.ndarray] = {}
    sources: dict[str, list[str]] = {}
    for key, group in wanted.items():
        value, source = np.full(size, math.nan), np.full(size, -1)
        for position in reversed(range(len(group))):  # the first column of the group that logged a value
            has = found.logged[group[position].index]
            value = np.where(has, found.last[group[position].index], value)
            source = np.where(has, position, source)
        values[key], logged[key] = value, source >= 0
        used, at = np.unique(source[source >= 0], return_index=True)
        sources[key] = [group[int(p)].name for p in used[np.argsort(at)]]  # in the order epochs first use them
    with np.errstate(invalid="ignore"):
        blew_up = (logged["train_loss"] & ~np.isfinite(values["train_loss"])) | (
            logged["val_loss"] & ~np.isfinite(values["val_loss"])
        )
    incomplete = validated & ~(logged["train_loss"] & logged["val_loss"]) & ~blew_up  # one loss only: left out
    keep = ~incomplete
    records = Records(found.epochs[keep] + offset, {k: v[keep] for k, v in values.items()}, ~logged["val_loss"][keep])
    return records, sources, found.epochs[incomplete] + offset


def _note_step_values(
    sources: dict[str, list[str]], wanted: dict[str, list[Column]], found: _Epochs, fmt: str, notes: list[str]
) -> None:
    """A note per value read from a column logged every few steps: the epoch shows its last value."""
    for key, read_from in sources.items():
        if key == "learning_rate" or fmt not in ("lightning", "text"):
            continue  # a batch column's last row is often a summary row: said in the note above
        repeated = [
            c for c in wanted[key] if c.name in read_from and c.suffix != "epoch" and bool((found.counts[c.index] > 1).any())
        ]
        for step_column in repeated:
            how = (
                "(self.log(..., on_epoch=True) would log the epoch mean)"
                if fmt == "lightning"
                else "(a running value, not the epoch mean)"
            )
            notes.append(f"`{step_column.name}` is logged every few steps: each epoch shows its last value {how}.")


# ---------------------------------------------------------------- a long log


def evenly_spaced(records: Records, limit: int) -> np.ndarray | None:
    """The records read from a log of more epochs than `limit`: evenly spaced ones, always with the first and
    the last, the lowest and the highest training and validation loss, and the first epoch whose loss is
    NaN or infinite (with the one before it), so that the verdict still sees the best epoch, a spike and a
    blow-up (a few more than `limit` when it is under 10). None when all are read."""
    size = len(records)
    if size <= limit:
        return None
    train, val = records.values["train_loss"], records.values["val_loss"]
    forced = {0, size - 1}
    for curve in (train, np.where(records.absent, math.nan, val)):
        finite = np.isfinite(curve)
        if finite.any():
            forced |= {int(np.nanargmin(np.where(finite, curve, math.nan))), int(np.nanargmax(np.where(finite, curve, math.nan)))}
    blown = first(~np.isfinite(train) | (~np.isfinite(val) & ~records.absent))
    if blown is not None:
        forced |= {blown, max(blown - 1, 0)}
    even = np.linspace(0, size - 1, max(limit - len(forced), 2)).round().astype(np.int64)
    return np.union1d(even, np.array(sorted(forced), dtype=np.int64))
