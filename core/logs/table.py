"""A log file's text, read within FITLAB_MAX_FILE_MB, and a CSV log as columns: its header, each data row's
line number and cell count, and the cells of each column (core.logs.cells).

A CSV without quote characters (what loggers write) is split by numpy and parsed by pandas at once; one
with quotes is read by the csv module, row by row, as before. Both give the same table.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import pandas as pd

from core.data.csvfile import DataError, read_bytes
from core.limits import FILE_MB, LOG_COLUMNS, Limit, LimitError
from core.logs.cells import EMPTY, NUMBER, Cells, empty_cells, first, from_numbers, from_strings, listed
from core.logs.names import STEP_NAMES, norm

Source = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]
READ_CHUNK = 1 << 20
SCAN_BLOCK_BYTES = 4 << 20  # numpy counts lines and separators this much of a file at a time
# Bytes that make a cell non-blank: ASCII other than what str.strip() strips. A line whose only other
# bytes are non-ASCII (maybe Unicode white space) is looked at on its own.
VALUE_BYTES = np.ones(256, dtype=bool)
VALUE_BYTES[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = False
VALUE_BYTES[128:] = False


@dataclass
class Table:
    header: list[str]
    lines: np.ndarray  # int64: the line of the file each data row is on (the header is row 1 when on line 1)
    columns: list[Cells]  # one per header name, each as long as `lines`
    fmt: str | None = None  # known from the parse (text); None: detected from the columns
    widths: np.ndarray | None = None  # cells per row, empty cells past the header's end not counted
    misfit: np.ndarray | None = None  # bool per row: too few or unexplained extra cells (an error in the run read)
    header_width: int = 0  # columns the header itself named (before any unnamed extra columns)
    percent: set[str] = field(default_factory=set)  # columns whose values carried a % sign
    split_line: Callable[[int], list[str]] | None = None  # a line's cells, for messages about a column read as numbers

    @property
    def rows(self) -> int:
        return len(self.lines)

    def cell(self, row: int, column: int) -> str:
        """The text of one cell, for a message."""
        raw = self.columns[column].raw
        if raw is not None:
            value = raw.iat[row]
            return value if isinstance(value, str) else ""
        assert self.split_line is not None  # a column read as numbers comes from the fast path
        cells = self.split_line(int(self.lines[row]))
        return cells[column] if column < len(cells) else ""


def limit_value(limit: Limit) -> int:
    try:
        return limit.value()
    except LimitError as exc:
        raise DataError(f"FitLab's limit setting is wrong: {exc}") from None


# ---------------------------------------------------------------- the text


def read_text(source: Source, name: str) -> str:
    """The file's text: at most FITLAB_MAX_FILE_MB is read; binary data and other encodings than UTF-8 are refused."""
    if isinstance(source, str | os.PathLike) and os.path.isdir(source):
        raise DataError(f"{source} is a folder; give the CSV file inside it (Lightning: metrics.csv)")
    limit_value(FILE_MB)
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if not isinstance(source, bytes | str | os.PathLike) and isinstance(source.read(0), str):
        return _read_text_handle(source)  # type: ignore[arg-type]
    try:
        data = read_bytes(source)  # type: ignore[arg-type]
    except OSError as exc:
        raise DataError(f"cannot read {source!s}: {exc.strerror}") from None
    if b"\x00" in data[:4096]:
        raise DataError(f"{name} is not a text CSV file: it holds binary data (a TensorBoard event file or a checkpoint?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at position {exc.start}") from None


def _read_text_handle(handle: IO[str]) -> str:
    limit = FILE_MB.bytes()
    chunks: list[str] = []
    total = 0
    while total <= limit:
        chunk = handle.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise DataError(
            f"the file is over {FILE_MB.value():,} MB; FitLab reads at most {FILE_MB.named()}: use a part of it "
            f"(fewer rows or columns), or ask whoever runs FitLab to raise {FILE_MB.env}"
        )
    return "".join(chunks)


def normalize_line_ends(text: str, notes: list[str]) -> str:
    """`\\r\\n`, `\\r` and `\\r\\r\\n` (a Windows file written once more in text mode) all end one line."""
    if "\r" not in text:
        return text
    if "\r\r\n" in text:
        notes.append("Lines end in \\r\\r\\n (written twice in Windows text mode): each is read as one line break.")
    return re.sub(r"\r+\n?", "\n", text)


# ---------------------------------------------------------------- a CSV log


@dataclass
class _Layout:
    header: list[str]
    lines: np.ndarray  # the data rows' lines
    widths: np.ndarray  # cells per data row, trailing empty cells past the header dropped
    columns: list[Cells]  # as many as the widest row
    split_line: Callable[[int], list[str]] | None = None


def csv_table(text: str, name: str, notes: list[str]) -> Table:
    """The header and the data rows, each with its row number (blank lines skipped, still counted).

    Rows longer than the header are kept: Keras' CSVLogger(append=True) keeps the first run's header
    when a later run logs more keys, so `epoch;loss` may head rows of `epoch;loss;val_loss`. Rows
    shorter than the header are an error only in the run that is read. A file with more columns than
    FITLAB_MAX_LOG_COLUMNS is refused before its rows are parsed.
    """
    if not text.strip():
        raise DataError(f"{name} is empty")
    if text.lstrip()[0] in "{[":
        raise DataError(
            f"{name} looks like JSON, not CSV: give the CSV file a logger wrote "
            "(Keras' CSVLogger, Lightning's metrics.csv, or epoch,train_loss,val_loss)"
        )
    start = len(text) - len(text.lstrip("\n"))
    end = text.find("\n", start)
    first_line = text[start:] if end < 0 else text[start:end]
    delimiter = "," if "," in first_line else max(";\t", key=first_line.count)
    max_columns = limit_value(LOG_COLUMNS)
    layout = _fast_layout(text, delimiter, name, max_columns) or _module_layout(text, delimiter, name, max_columns)
    header = layout.header
    if len(header) == 1 and not any(w in norm(header[0]).split("_") for w in ("loss", "epoch")):
        raise DataError(
            f"{name} is neither a CSV with a header row (epoch,loss,val_loss) nor a text log with lines like "
            f"'Epoch 3/50, Train Loss: 0.41, Val Loss: 0.45'; its first line is {header[0][:60]!r}"
        )
    header_width = len(header)
    explained = _name_extra_cells(header, layout, notes)
    widths = layout.widths
    misfit = (widths < header_width) | ((widths > header_width) & ~explained)
    columns = layout.columns[: len(header)]
    columns += [empty_cells(len(layout.lines)) for _ in range(len(header) - len(columns))]
    return Table(header, layout.lines, columns, None, widths, misfit, header_width, set(), layout.split_line)


def _too_wide(what: str) -> DataError:
    return DataError(
        f"{what}; FitLab reads logs of at most {LOG_COLUMNS.named()}: "
        f"keep the columns of the losses and metrics, or ask whoever runs FitLab to raise {LOG_COLUMNS.env}"
    )


def _line_spans(codes: np.ndarray) -> np.ndarray:
    """The offset each line starts at (a last line without a line break counts; no empty line after a last break)."""
    breaks = np.flatnonzero(codes == 10)
    starts = np.empty(len(breaks) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = breaks + 1
    return starts[:-1] if starts[-1] == len(codes) else starts


def _per_line_count(hits: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """How many True in `hits` per line: summed as uint16 (numpy's fast path), long lines counted again."""
    counts = np.add.reduceat(hits.view(np.uint8), starts, dtype=np.uint16).astype(np.int64)
    ends = np.append(starts[1:], size)
    for line in np.flatnonzero(ends - starts >= 65_535).tolist():
        counts[line] = np.count_nonzero(hits[starts[line] : ends[line]])
    return counts


def _scan_lines(data: bytes, delimiter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per line of `data`: (where it starts, whether it holds a value beyond separators and white space, whether
    only non-ASCII bytes might, how many separators it holds). Counted by numpy in blocks of whole lines, so
    that the arrays numpy sets aside stay small whatever the file's size."""
    value_bytes = VALUE_BYTES.copy()
    value_bytes[ord(delimiter)] = False
    parts: list[tuple[np.ndarray, ...]] = []
    start = 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + SCAN_BLOCK_BYTES) + 1
        if end <= start:  # one line longer than a block
            end = data.find(b"\n", start + SCAN_BLOCK_BYTES) + 1 or len(data)
        codes = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
        starts = _line_spans(codes)
        filled = np.logical_or.reduceat(value_bytes[codes], starts)
        unsure = ~filled & np.logical_or.reduceat(codes >= 128, starts)
        parts.append((starts + start, filled, unsure, _per_line_count(codes == ord(delimiter), starts, len(codes))))
        start = end
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    starts, filled, unsure, counts = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return starts, filled, unsure, counts


def _fast_layout(text: str, delimiter: str, name: str, max_columns: int) -> _Layout | None:
    """The layout counted by numpy and parsed by pandas; None where only the csv module reads it alike
    (quote characters, NUL bytes) or pandas' rows do not line up with the file's lines."""
    if '"' in text or "\x00" in text:
        return None
    data = text.encode("utf-8")
    starts, filled, unsure, counts = _scan_lines(data, delimiter)
    ends = np.append(starts[1:], len(data))

    def split_line(line: int) -> list[str]:
        return data[starts[line - 1] : ends[line - 1]].decode("utf-8").rstrip("\n").split(delimiter)

    for line in np.flatnonzero(unsure).tolist():
        filled[line] = any(cell.strip() for cell in split_line(line + 1))
    head = first(filled)
    if head is None:
        raise DataError(f"{name} holds no values: only separators and blank lines")
    header = [cell.strip() for cell in split_line(head + 1)]
    check_header(header, max_columns)
    rows = np.flatnonzero(filled[head + 1 :]) + head + 1
    counts = counts[head + 1 :] + 1  # the cells of every line pandas parses, blank ones too
    width = max(len(header), int(counts.max()) if len(counts) else 0)
    if width > max_columns:
        raise _too_wide(f"row {head + 2 + int(np.argmax(counts))} has {width:,} cells")
    fields = counts[rows - head - 1]
    if not len(rows):
        return _Layout(header, rows, rows, [empty_cells(0) for _ in range(width)], split_line)
    frame = _parse(data, delimiter, head + 1, width, len(starts) - head - 1)
    if frame is None:
        return None
    columns = [_column(frame, j, data, delimiter, head + 1, width) for j in range(width)]
    del frame
    if len(rows) < len(starts) - head - 1:  # blank lines: dropped
        columns = [cells.take(rows - head - 1) for cells in columns]
    return _Layout(header, rows + 1, _trim(fields, columns, len(header)), columns, split_line)


def _parse(
    data: bytes, delimiter: str, skip: int, width: int, expected: int, usecols: list[int] | None = None
) -> pd.DataFrame | None:
    """Every line after the header as a row of `width` cells (pandas infers numbers), or None where pandas
    does not give one row per line."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            names=list(range(width)),
            usecols=usecols,
            skiprows=skip,
            skip_blank_lines=False,
            keep_default_na=False,
            na_values=[""],
            dtype=str if usecols else None,
            quoting=csv.QUOTE_NONE,
            low_memory=False,
            index_col=False,
            encoding="utf-8",
            engine="c",
        )
    except (ValueError, pd.errors.ParserError):
        return None
    return frame if len(frame) == expected else None


def _column(frame: pd.DataFrame, index: int, data: bytes, delimiter: str, skip: int, width: int) -> Cells:
    series = frame[index]
    if series.dtype.kind in "fiu":
        return from_numbers(series.to_numpy(dtype=np.float64))
    if series.dtype.kind == "b":  # True/False: read again as text, as the cells were written
        again = _parse(data, delimiter, skip, width, len(frame), usecols=[index])
        assert again is not None  # the same lines parsed once already
        series = again[index]
    return from_strings(series)


def _trim(fields: np.ndarray, columns: list[Cells], header_width: int) -> np.ndarray:
    """Cells per row, empty cells at the end of a row longer than the header not counted (a trailing separator)."""
    widths = fields.copy()
    for j in range(len(columns) - 1, header_width - 1, -1):
        widths[(widths == j + 1) & (columns[j].kinds == EMPTY)] = j
    return widths


def _module_layout(text: str, delimiter: str, name: str, max_columns: int) -> _Layout:
    """The layout as the csv module reads it, row by row (quoted cells may hold separators and line breaks)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                check_header(header, max_columns)
                continue
            while len(cells) > len(header) and not cells[-1].strip():
                cells = cells[:-1]  # a trailing separator
            if len(cells) > max_columns:
                raise _too_wide(f"row {reader.line_num} has {len(cells):,} cells")
            lines.append(reader.line_num)
            rows.append(cells)
    except csv.Error as exc:
        raise DataError(f"row {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise DataError(f"{name} holds no values: only separators and blank lines")
    width = max([len(header), *(len(cells) for cells in rows)])
    texts = [pd.Series([cells[j] if j < len(cells) else None for cells in rows], dtype=object) for j in range(width)]
    columns = [from_strings(column) for column in texts]
    widths = np.array([len(cells) for cells in rows], dtype=np.int64)
    return _Layout(header, np.array(lines, dtype=np.int64), widths, columns)


def _name_extra_cells(header: list[str], layout: _Layout, notes: list[str]) -> np.ndarray:
    """The rows whose cells beyond the header are explained: Keras' append-mode val_ twins, or the
    extra values of a summary row (text in the batch column). Other long rows are an error where read."""
    widths = layout.widths
    long = widths > len(header)
    if not long.any():
        return long
    longest = int(widths[long].max())
    values = [h for h in header if norm(h) not in ("epoch", "")]
    keys = [norm(h) for h in values]
    keras = "loss" in keys and not any(k.startswith("val") or k in STEP_NAMES for k in keys)
    lines = layout.lines[long]
    if keras and longest - len(header) == len(values) and bool((widths[long] == longest).all()):
        twins = [f"val_{h}" for h in values]
        header.extend(twins)
        notes.append(
            f"Row(s) {listed(lines)} have {len(values)} more cell(s) than the header names: the header is the first "
            f"run's (CSVLogger(append=True) keeps it), so they are read as {', '.join(f'`{t}`' for t in twins)}, "
            "in Keras' order."
        )
        return long
    step = next((i for i, key in enumerate(norm(h) for h in header) if key in STEP_NAMES), None)
    if step is None:
        return np.zeros(len(widths), dtype=bool)
    summary = long & (layout.columns[step].kinds != NUMBER)
    if summary.any():
        header.extend(f"column {i + 1}" for i in range(len(header), longest))
        notes.append(
            f"Summary row(s) {listed(layout.lines[summary])} have more cells than the header names; "
            "the unnamed cells are not used."
        )
    return summary


def check_header(header: list[str], max_columns: int) -> None:
    if all(_is_number(cell) for cell in header):
        raise DataError(
            f"row 1 should name the columns (for example epoch,loss,val_loss) but holds numbers: {', '.join(header[:6])}"
        )
    if len(header) > max_columns:
        raise _too_wide(f"the header (row 1) names {len(header):,} columns")
    seen: dict[str, str] = {}
    for position, cell in enumerate(header, start=1):
        if cell == "" and position > 1:
            raise DataError(f"column {position} has no name in the header (row 1)")
        key = norm(cell)
        if cell and key in seen:
            raise DataError(f"the header (row 1) names the same column twice: {seen[key]!r} and {cell!r}")
        seen[key] = cell


def check_widths(table: Table, rows: slice) -> None:
    """A DataError for the first row of `rows` with too few cells, or unexplained extra ones."""
    if table.misfit is None or table.widths is None:
        return
    at = first(table.misfit[rows])
    if at is not None:
        row = (rows.start or 0) + at
        named = table.header[: table.header_width]
        raise DataError(
            f"row {int(table.lines[row])} has {int(table.widths[row])} cell(s) but the header names {len(named)} columns "
            f"({', '.join(named)})"
        )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
