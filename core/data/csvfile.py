"""Reading a CSV somebody made: bytes in, a typed DataFrame and notes out, or one sentence why not.

Real files are messy, so before pandas parses anything this module works out what the bytes are:

1. Not a CSV at all? A spreadsheet, PDF, image or archive renamed `.csv` is named as what it looks
   like (magic numbers; inside a ZIP only the entry names and a few bytes are looked at), binary data
   and HTML/JSON/XML text are refused. At most FITLAB_MAX_FILE_MB is read (core.limits).
2. The encoding: UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"), else Windows-1252
   and finally Latin-1, which decodes anything.
3. The delimiter (comma, semicolon, tab, pipe, or Excel's `sep=;` first line): the one whose field
   counts agree best over the first lines; then whether numbers use a decimal comma.
4. The limits, before any parse: a header line of more than FITLAB_MAX_CSV_COLUMNS columns is
   refused; past FITLAB_MAX_CSV_ROWS rows a seeded random sample of that many lines is kept, with a
   note (`_bounded_rows`), so that the record pass never sees more.
5. The record pass checks every record against the header: rows with too many or too few fields are
   skipped and counted, or the file is refused with a line number when they are more than a tenth of
   it; an unclosed quote is reported with its line. Text without quotes is checked by numpy for all
   lines at once (`_fast_scan`); text with quotes by the `csv` module, record by record (`_scan`).
6. pandas parses the rest; text columns that are really numbers (thousands separators, a few `?`
   placeholders) or booleans are converted, with a note each.

What a column *means* (ID, date, category, target) is core.data.dataset's business, not this module's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd

from core.limits import ARCHIVE_PEEK_BYTES, CSV_COLUMNS, CSV_ROWS, FILE_MB, Limit, LimitError
from core.wording import first_and_more

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_CHARS = 64_000  # the first lines the delimiter and the decimal mark are judged on
RAGGED_SHARE = 0.1  # more bad rows than this share of the data: refuse instead of skipping
JUNK_SHARE = 0.1  # a text column is numeric when at most this share of its values are placeholders
JUNK_TOKENS_SHOWN = 3
JSON_PARSE_CHARS = 1_000_000  # text starting with { or [ up to this size is parsed to tell JSON from CSV
ZIP_DIRECTORY_BYTES = 1_000_000  # a ZIP whose list of entries is bigger is named "a ZIP archive" unlisted
READ_CHUNK_BYTES = 1 << 24  # a file of unknown size (a pipe, a file object) is read in pieces of this size
ROW_BLOCK_BYTES = 1 << 22  # rows are counted and sampled over the bytes in blocks of this size (bounded memory)
SAMPLE_SEED = 0  # the seed of the random sample of rows read from a file with more than FITLAB_MAX_CSV_ROWS

NO_HEADER_NOTE = "the first line holds numbers, not column names: it is read as data and the columns are named 'column 1', …"

Progress = Callable[[float, str], None]


class DataError(ValueError):
    """A dataset that cannot be used, with one sentence saying why."""


@dataclass
class CsvTable:
    """A parsed CSV: typed columns plus what the reader had to decide or skip, for the notes."""

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    encoding: str = "UTF-8"
    delimiter: str = ","
    decimal: str = "."
    has_header: bool = True
    skipped_lines: list[int] = field(default_factory=list)  # 1-based line numbers of ragged rows

    @property
    def rows(self) -> int:
        return len(self.frame)

    def describe(self) -> str:
        """One line about the format, e.g. "semicolon-separated, decimal comma, Windows-1252"."""
        parts = [f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated"]
        if self.decimal == ",":
            parts.append("decimal comma")
        parts.append(self.encoding)
        if not self.has_header:
            parts.append("no header line")
        return ", ".join(parts)


# ---------------------------------------------------------------- bytes: what is this file?


def _limit(limit: Limit) -> int:
    """A limit's value; a host's malformed setting is a DataError that names the variable."""
    try:
        return limit.value()
    except LimitError as exc:
        raise DataError(f"FitLab's limit setting is wrong: {exc}") from None


def _too_big(size: int | None) -> DataError:
    limit = FILE_MB.value()
    shown = f"over {limit:,} MB" if size is None else f"{size / 1_000_000:,.1f} MB"
    if size is not None and round(size / 1_000_000, 1) <= limit:
        shown = f"{size:,} bytes"  # just over the limit: "200.0 MB" would read as within it
    return DataError(
        f"the file is {shown}; FitLab reads at most {FILE_MB.named()}: use a part of it (fewer rows or columns), "
        f"or ask whoever runs FitLab to raise {FILE_MB.env}"
    )


def _read_at_most(handle: BinaryIO, limit: int, size: int = 0) -> bytes:
    """At most `limit` + 1 bytes: read in pieces (a file's known size first), since `read(n)` sets aside
    n bytes up front."""
    chunks: list[bytes] = []
    total, want = 0, (size + 1 if 0 < size <= limit else READ_CHUNK_BYTES)
    while total <= limit:
        chunk = handle.read(min(want, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total, want = total + len(chunk), READ_CHUNK_BYTES
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_bytes(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes:
    """The file's bytes, never more than FITLAB_MAX_FILE_MB: a bigger file is refused before it is read.

    A path's size is checked first (os.fstat); a pipe or a device has none, so from a path, as from a
    file object, at most the limit plus one byte is read. Bytes already in memory (an upload) are measured.
    """
    limit = _limit(FILE_MB) * 1_000_000
    if isinstance(source, bytes):
        if len(source) > limit:
            raise _too_big(len(source))
        return source
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > limit:
                    raise _too_big(size)
                content = _read_at_most(handle, limit, size)
        except FileNotFoundError:
            raise DataError(f"file not found: {os.fspath(source)}") from None
        except IsADirectoryError:
            raise DataError(f"{os.fspath(source)} is a folder, not a CSV file") from None
        except PermissionError:
            raise DataError(f"no permission to read {os.fspath(source)}") from None
    else:
        content = _read_at_most(source, limit)
    if len(content) > limit:
        raise _too_big(None)
    return content


SAVE_AS_CSV = "save it as CSV (File > Save As > CSV) and upload that"

# (leading bytes, what the file looks like, what to do)
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel workbook (.xls) or another Microsoft Office file", SAVE_AS_CSV),
    (b"%PDF", "a PDF document", "export the table from the program that made it as CSV"),
    (b"\x89PNG", "a PNG image", "FitLab needs a table of values as text"),
    (b"\xff\xd8\xff", "a JPEG image", "FitLab needs a table of values as text"),
    (b"GIF8", "a GIF image", "FitLab needs a table of values as text"),
    (b"\x1f\x8b", "a gzip-compressed file (.gz)", "decompress it first"),
    (b"BZh", "a bzip2-compressed file (.bz2)", "decompress it first"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (.xz)", "decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the CSV from it first"),
    (b"Rar!", "a RAR archive", "extract the CSV from it first"),
    (b"PAR1", "a Parquet file", "write it out as CSV first (pandas: df.to_csv)"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV first"),
    (b"\x93NUMPY", "a NumPy array file (.npy)", "write it out as CSV first"),
    (b"\x89HDF\r\n", "an HDF5 file", "write it out as CSV first"),
    (b"MZ", "a Windows program (.exe)", "FitLab needs a CSV file"),
    (b"\x7fELF", "a Linux program", "FitLab needs a CSV file"),
    (b"{\\rtf", "a rich-text document (.rtf)", "export the table as CSV instead"),
]


def _zip_directory_is_small(content: bytes) -> bool:
    """Whether the ZIP's central directory (its list of entries) is small enough to list.

    zipfile reads the whole directory into objects: a forged archive of millions of entries (or a
    ZIP64 record claiming a huge directory) would take memory just to be named. Office documents
    have a few dozen entries.
    """
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))  # the end record, before a comment
    if end < 0 or len(content) < end + 22 or content[max(0, end - 20) : end].startswith(b"PK\x06\x07"):
        return False  # no end record, or a ZIP64 one: no Office document is that big
    return int.from_bytes(content[end + 12 : end + 16], "little") <= ZIP_DIRECTORY_BYTES


def _zip_kind(content: bytes) -> tuple[str, str]:
    """What a ZIP container holds: Office documents are ZIP files with known inner paths.

    Only the entry names and the first ARCHIVE_PEEK_BYTES of a `mimetype` entry are looked at: an
    entry is never decompressed whole (a small file can hold gigabytes of zeros).
    """
    archive_kind = "a ZIP archive", "extract the CSV from it first"
    if not _zip_directory_is_small(content):
        return archive_kind
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            mimetype = ""
            info = archive.getinfo("mimetype") if "mimetype" in names else None
            # deflate is read in bounded steps; bzip2 and LZMA decompress a whole block at once (megabytes of
            # zeros from a few bytes), and an OpenDocument's mimetype is stored uncompressed anyway
            if info is not None and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                with archive.open(info) as entry:
                    mimetype = entry.read(ARCHIVE_PEEK_BYTES).decode("ascii", "replace")
    except Exception:  # BadZipFile, zlib.error, NotImplementedError (a compression zipfile lacks), encryption, ...
        return archive_kind  # whatever stops a look inside, it is some ZIP archive
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (.xlsx)", SAVE_AS_CSV
    if "spreadsheet" in mimetype:
        return "an OpenDocument spreadsheet (.ods)", SAVE_AS_CSV
    if any(n.startswith("word/") for n in names) or "text" in mimetype:
        return "a word-processor document (.docx/.odt)", "export the table as CSV instead"
    if any(n.startswith("ppt/") for n in names) or "presentation" in mimetype:
        return "a presentation (.pptx/.odp)", "export the table as CSV instead"
    csvs = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))]
    if csvs:
        return f"a ZIP archive (it holds {csvs[0]!r})", "extract the CSV from it first"
    return archive_kind


def _refuse_known_binary(content: bytes) -> None:
    kind: tuple[str, str] | None = None
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        kind = _zip_kind(content)
    else:
        kind = next(((what, advice) for magic, what, advice in SIGNATURES if content.startswith(magic)), None)
    if kind is not None:
        raise DataError(f"this is not a CSV file: it looks like {kind[0]}; {kind[1]}")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly ASCII, so every other byte is zero."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode(content: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding name, notes). UTF-8 first; Windows-1252 and Latin-1 never fail."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
        try:
            return content.decode("utf-8"), "UTF-8", []
        except UnicodeDecodeError:
            pass  # a BOM in front of a file that is not UTF-8 after all: fall through
    bom16 = content.startswith((b"\xff\xfe", b"\xfe\xff"))
    codec = "utf-16" if bom16 else _utf16_without_bom(content[:4096])
    if codec is not None:
        try:
            return content.decode(codec), "UTF-16", []
        except UnicodeDecodeError:
            raise DataError("the file starts like UTF-16 text but is not valid UTF-16; save it as CSV (UTF-8)") from None
    if b"\x00" in content[:8192]:
        raise DataError("this is not a text file (it contains binary data); save the table as CSV")
    try:
        return content.decode("utf-8"), "UTF-8", []
    except UnicodeDecodeError as exc:
        position = exc.start
    for codec, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        line = content.count(b"\n", 0, position) + 1
        return text, label, [f"the file is not UTF-8 (first non-UTF-8 byte on line {line}); read it as {label}"]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _looks_like_json(text: str, opening: str) -> bool:
    """Whether text that starts with `{` or `[` is JSON: parsed when small; a big one (parsing it could
    take many times its size in memory) is JSON when it also ends with the matching bracket."""
    if len(text) > JSON_PARSE_CHARS:
        return text[-1000:].rstrip().endswith("}" if opening == "{" else "]")
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested deeper than Python recurses
        return False
    return True


def _refuse_other_text(text: str) -> None:
    head = text[:2000].lstrip().lower()
    if head.startswith(("<!doctype html", "<html")) or ("<html" in head[:500] and "<body" in head):
        raise DataError("this is not a CSV file: it looks like a web page (HTML); download the CSV file itself")
    if head.startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in text[:5000]:
            raise DataError(f"this is not a CSV file: it looks like an Excel 2003 XML spreadsheet; {SAVE_AS_CSV}")
        raise DataError("this is not a CSV file: it looks like XML; export the table as CSV")
    if head.startswith(("{", "[")) and _looks_like_json(text, head[0]):
        raise DataError("this is not a CSV file: it looks like JSON; write it out as CSV (pandas: pd.read_json(...).to_csv)")
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > max(2, 0.01 * len(sample)):
        raise DataError("this is not a text file (it contains binary data); save the table as CSV")


# ---------------------------------------------------------------- layout: delimiter, decimal mark, header


def _records(text: str, delimiter: str, strict: bool = False) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True, strict=strict)


def _sample(text: str) -> str:
    if len(text) <= SNIFF_CHARS:
        return text
    cut = text.rfind("\n", 0, SNIFF_CHARS)
    return text[: cut if cut > 0 else SNIFF_CHARS]


def sniff_delimiter(text: str) -> str:
    """The delimiter whose field counts agree best over the first lines (header included).

    Scored by (the header splits, share of rows with the header's field count, field count): a
    decimal comma inside a semicolon file splits rows unevenly, so the semicolon wins.
    """
    sample = _sample(text)
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(r) for r in _records(sample, delimiter) if any(cell.strip() for cell in r)][:200]
        except csv.Error:
            continue
        if not counts:
            continue
        header = counts[0]
        rows = counts[1:] or counts
        agree = sum(1 for c in rows if c == header) / len(rows)
        score = (header > 1, agree, header)
        if score > best_score:
            best, best_score = delimiter, score
    return best


NUMBER_DOT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
NUMBER_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def sniff_decimal(text: str, delimiter: str) -> str:
    """ "," when the first lines write numbers as 1,5 rather than 1.5 (only possible off-comma)."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for record in list(_records(_sample(text), delimiter))[1:200]:
        for cell in record:
            value = cell.strip()
            comma += bool(NUMBER_COMMA.match(value))
            dot += bool(NUMBER_DOT.match(value))
    return "," if comma > dot else "."


def _header_names(cells: list[str]) -> tuple[list[str], list[str]]:
    """Clean, unique column names; notes for renamed duplicates."""
    names: list[str] = []
    notes: list[str] = []
    seen: Counter[str] = Counter()
    renamed: list[str] = []
    taken = set(cells)  # sets: a header of many duplicates must not take quadratic time
    for index, cell in enumerate(cells):
        name = " ".join(cell.split()) or f"column {index + 1}"
        seen[name] += 1
        if seen[name] > 1:
            new = f"{name} ({seen[name]})"
            while new in taken:
                seen[name] += 1
                new = f"{name} ({seen[name]})"
            renamed.append(f"{name!r} -> {new!r}")
            name = new
        names.append(name)
        taken.add(name)
    if renamed:
        notes.append(f"duplicate column names were numbered: {', '.join(renamed[:5])}" + (" …" if len(renamed) > 5 else ""))
    return names, notes


def _looks_numeric(cell: str) -> bool:
    return bool(PLAIN_NUMBER.match(cell.strip()))


# ---------------------------------------------------------------- limits: columns and rows, before the record pass


def _header_start(text: str, delimiter: str) -> int:
    """Where the first line with a value starts: lines of blanks and delimiters before it are no header."""
    match = re.match(f"(?:[ \\t{re.escape(delimiter)}]*\\n)*", text)
    return match.end() if match else 0


def _fields_in(line: str, delimiter: str) -> int:
    old_limit = csv.field_size_limit(2**31 - 1)
    try:
        return len(next(csv.reader([line], delimiter=delimiter, skipinitialspace=True)))
    except (csv.Error, StopIteration):
        return line.count(delimiter) + 1
    finally:
        csv.field_size_limit(old_limit)


def _too_wide(columns: int) -> DataError:
    return DataError(
        f"the file has {columns:,} columns; FitLab reads at most {CSV_COLUMNS.named()}: keep the columns you need "
        f"(or ask whoever runs FitLab to raise {CSV_COLUMNS.env})"
    )


def _check_columns(text: str, delimiter: str) -> None:
    """Refuse a header of more than FITLAB_MAX_CSV_COLUMNS columns, judged on its line alone, before any parse.

    The delimiters on the line are an upper bound of its fields; only when that is over the limit and
    the line has quotes (a quoted name may hold the delimiter) is the line parsed to count exactly.
    """
    limit = _limit(CSV_COLUMNS)
    start = _header_start(text, delimiter)
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    columns = text.count(delimiter, start, end) + 1
    if columns > limit and text.find('"', start, end) >= 0:
        columns = _fields_in(text[start:end], delimiter)
    if columns > limit:
        raise _too_wide(columns)


def _spans(codes: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) offsets of the lines of UTF-8 bytes codes[start:end], each "\\n" excluded; `start`
    begins a line and `end` follows a "\\n" or ends the text (a last line without one counts)."""
    ends = np.flatnonzero(codes[start:end] == 10) + start
    if len(ends) == 0 or ends[-1] != end - 1:
        ends = np.append(ends, end)
    starts = np.empty_like(ends)
    starts[0] = start
    starts[1:] = ends[:-1] + 1
    return starts, ends


def _blocks(data: bytes, start: int) -> Iterator[tuple[int, int]]:
    """data[start:] in pieces of whole lines of about ROW_BLOCK_BYTES, so that per-line arrays stay small."""
    while start < len(data):
        end = data.rfind(b"\n", start, start + ROW_BLOCK_BYTES) + 1
        if end <= start:  # one line longer than a block
            end = data.find(b"\n", start + ROW_BLOCK_BYTES) + 1 or len(data)
        yield start, end
        start = end


def _quotes_span_lines(data: bytes, codes: np.ndarray) -> bool:
    """Whether a line has an odd number of quote characters: a quoted value may go on past its end.

    A quoted value that holds a line break opens on a line with an odd count (its opening quote, and
    escaped quotes come in pairs); when every line has an even count, every line is whole records.
    """
    for start, end in _blocks(data, 0):
        starts, _ = _spans(codes, start, end)
        if np.bitwise_xor.reduceat((codes[start:end] == 34).view(np.uint8), starts - start).any():
            return True
    return False


def _filled_lines(data: bytes, codes: np.ndarray, start: int, chosen: np.ndarray | None) -> tuple[list[bytes], np.ndarray]:
    """The non-empty lines of data[start:] (all, or those whose index among them is in the sorted `chosen`)
    and their 0-based line numbers counted from `start`."""
    pieces: list[bytes] = []
    numbers: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    lines = seen = 0
    for block_start, block_end in _blocks(data, start):
        starts, ends = _spans(codes, block_start, block_end)
        filled = np.flatnonzero(ends > starts)
        if chosen is not None:
            low, high = np.searchsorted(chosen, [seen, seen + len(filled)])
            seen, filled = seen + len(filled), filled[chosen[low:high] - seen]
        pieces += [data[a:b] for a, b in zip(starts[filled].tolist(), ends[filled].tolist(), strict=True)]
        numbers.append(filled + lines)
        lines += len(starts)
    return pieces, np.concatenate(numbers)


def _count_filled_lines(data: bytes, codes: np.ndarray, start: int) -> int:
    total = 0
    for block_start, block_end in _blocks(data, start):
        starts, ends = _spans(codes, block_start, block_end)
        total += int(np.count_nonzero(ends > starts))
    return total


@dataclass
class _Lines:
    """The text the record pass reads, and how its line numbers map to the file's."""

    text: str
    offset: int = 0  # lines dropped from the top of the file (Excel's "sep=" line)
    kept: np.ndarray | None = None  # when lines were picked out: each one's 0-based line in the text before
    max_records: int | None = None  # the record pass stops after this many records (quoted values span lines)

    def line(self, number: int) -> int:
        """A 1-based line number of `text` as a line number of the file."""
        if self.kept is not None:
            number = int(self.kept[number - 1]) + 1
        return number + self.offset


def _rows_note(rows: int, limit: int) -> str:
    return (
        f"the file has {rows:,} rows; FitLab read a random sample of {limit:,} of them "
        f"(seed {SAMPLE_SEED}; the limit is {CSV_ROWS.env})"
    )


def _too_deep(rows: int | None) -> DataError:
    shown = f"{rows:,}" if rows is not None else f"more than {CSV_ROWS.value():,}"
    return DataError(f"the file has {shown} rows; FitLab reads at most {CSV_ROWS.named()}: split it into smaller files")


def _bounded_rows(text: str, delimiter: str, offset: int, notes: list[str], *, sample: bool) -> _Lines:
    """The text with at most FITLAB_MAX_CSV_ROWS data rows, so that the record pass never sees more.

    Rows are the non-empty lines after the header (`str.count` first: a file of fewer lines is returned
    as it is). Past the limit a seeded random sample of that many lines is kept, with a note
    (`sample=False` refuses instead); lines are found by numpy over the UTF-8 bytes, block by block,
    and empty lines (and blank lines above the header) are dropped. Lines are rows only when no quoted
    value holds a line break: when some line has an odd number of quote characters the text is kept
    whole and the record pass reads its first records only, and says so (the first rows, not a sample:
    picking records out would take the per-record pass over all of them).
    """
    limit = _limit(CSV_ROWS)
    if text.count("\n") <= limit:
        return _Lines(text, offset)
    data = text.encode("utf-8")
    codes = np.frombuffer(data, dtype=np.uint8)
    if '"' in text and _quotes_span_lines(data, codes):
        return _Lines(text, offset, max_records=limit)
    header_start = _header_start(text, delimiter)
    head = len(text[:header_start].encode("utf-8"))
    if head >= len(data):
        raise DataError("the file is empty")
    body = data.find(b"\n", head) + 1 or len(data)
    rows = _count_filled_lines(data, codes, body)
    chosen = None
    if rows > limit:
        if not sample:
            raise _too_deep(rows)
        notes.append(_rows_note(rows, limit))
        chosen = np.sort(np.random.default_rng(SAMPLE_SEED).choice(rows, size=limit, replace=False))
    pieces, numbers = _filled_lines(data, codes, body, chosen)
    header = text.count("\n", 0, header_start)  # its 0-based line
    pieces.insert(0, data[head : body - 1] if data[body - 1 : body] == b"\n" else data[head:body])
    kept = np.concatenate(([header], numbers + header + 1))
    return _Lines(b"\n".join(pieces).decode("utf-8") + "\n", offset, kept=kept)


# ---------------------------------------------------------------- the record pass


@dataclass
class _Layout:
    header: list[str]
    width: int  # fields a good row has (the header's, without trailing unnamed columns)
    bad: list[tuple[int, int]]  # (line, fields) of rows that do not fit
    blank: int  # records with no values at all
    rows: int  # data records that fit
    stopped_at: int | None = None  # where the text was cut when more records than the pass's cap follow


def _header_width(header: list[str]) -> int:
    width = len(header)
    while width > 1 and not header[width - 1].strip():
        width -= 1  # trailing unnamed columns may be missing from the rows
    return width


def _line_start(text: str, line: int) -> int:
    """The offset where 1-based `line` starts."""
    position = 0
    for _ in range(line - 1):
        position = text.index("\n", position) + 1
    return position


def _no_line_map(line: int) -> int:
    return line


def _scan(
    text: str,
    delimiter: str,
    progress: Progress | None,
    *,
    strict: bool,
    max_records: int | None = None,
    line_of: Callable[[int], int] = _no_line_map,
) -> _Layout:
    """Every record checked against the header with the csv module; `max_records` caps the records after it."""
    total_lines = text.count("\n") + 1
    header: list[str] | None = None
    width = 0
    bad: list[tuple[int, int]] = []
    blank = rows = previous_line = seen = 0
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True, strict=strict)
    try:
        for record in reader:
            start, previous_line = previous_line + 1, reader.line_num
            if header is not None and max_records is not None:
                if seen == max_records:
                    cut = _line_start(text, start)
                    stopped = cut if re.compile(r"\S").search(text, cut) else None  # only empty lines follow
                    return _Layout(header, width, bad, blank, rows, stopped_at=stopped)
                seen += 1
            if not any(cell.strip() for cell in record):
                blank += bool(record)  # ",,," or spaces; a truly empty line is skipped by pandas anyway
                continue
            if header is None:
                header, width = record, _header_width(record)
                continue
            fields = len(record)
            extra_empty = fields > len(header) and not any(cell.strip() for cell in record[len(header) :])
            if fields == len(header) or extra_empty or width <= fields < len(header):
                rows += 1
            else:
                bad.append((start, fields))
            if progress is not None and (rows + len(bad)) % 50_000 == 0:
                progress(0.15 + 0.45 * min(1.0, reader.line_num / total_lines), f"checking rows (line {reader.line_num:,})")
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DataError(
                f'line {line_of(previous_line + 1)} opens a quoted field (") that is never closed, so the rest of the '
                "file would be one value; fix or remove that quote"
            ) from None
        if not strict:
            raise DataError(f"could not read line {line_of(previous_line + 1)} as CSV: {exc}") from None
        # a quote inside a field ('"ab"c'): read it leniently, as pandas does
        return _scan(text, delimiter, progress, strict=False, max_records=max_records, line_of=line_of)
    if header is None:
        raise DataError("the file is empty")
    return _Layout(header, width, bad, blank, rows)


VALUE_BYTES = np.ones(256, dtype=bool)  # bytes that make a field non-blank: ASCII other than white space
VALUE_BYTES[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = False  # what str.strip() strips
VALUE_BYTES[128:] = False  # non-ASCII may be a letter or Unicode white space: such lines are checked one by one


def _per_line_count(codes: np.ndarray, byte: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How often `byte` occurs on each line: summed as uint16 (numpy's fast path), and lines long enough
    to hold 65,536 of them counted again one by one."""
    counts = np.add.reduceat((codes == byte).view(np.uint8), starts, dtype=np.uint16).astype(np.int64)
    for line in np.flatnonzero(ends - starts >= 65_535).tolist():
        counts[line] = np.count_nonzero(codes[starts[line] : ends[line]] == byte)
    return counts


def _fast_scan(text: str, delimiter: str) -> _Layout | None:
    """What `_scan` finds, counted by numpy for all lines at once; None for text it cannot judge so.

    Without a quote character a record is a line and its fields are its delimiters plus one. Lines
    numpy cannot settle by their bytes (no ASCII value but other bytes, so maybe Unicode white space
    only; more fields than the header, which are fine when the extra ones are empty) are split one by
    one. Text with quotes or a NUL, or an unusual delimiter, goes to `_scan`.
    """
    if not text or '"' in text or "\x00" in text or not delimiter.isascii() or delimiter in ' "\n':
        return None
    data = text.encode("utf-8")
    codes = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _spans(codes, 0, len(codes))
    value_bytes = VALUE_BYTES.copy()
    value_bytes[ord(delimiter)] = False
    filled = ends > starts
    valued = np.logical_or.reduceat(value_bytes[codes], starts) & filled
    fields = _per_line_count(codes, ord(delimiter), starts, ends) + 1

    def cells(line: int) -> list[str]:
        return data[starts[line] : ends[line]].decode("utf-8").split(delimiter)

    for line in np.flatnonzero(filled & ~valued).tolist():
        valued[line] = any(cell.strip() for cell in cells(line))
    records = np.flatnonzero(valued)
    if len(records) == 0:
        return None  # `_scan` says the file is empty
    header = [cell.lstrip(" ") for cell in cells(int(records[0]))]  # skipinitialspace, as the csv module reads
    width, size = _header_width(header), len(header)
    lines, counts = records[1:], fields[records[1:]]
    good = (counts == size) | ((counts >= width) & (counts < size))
    for index in np.flatnonzero(counts > size).tolist():
        good[index] = not any(cell.strip() for cell in cells(int(lines[index]))[size:])
    bad = [(line + 1, count) for line, count in zip(lines[~good].tolist(), counts[~good].tolist(), strict=True)]
    return _Layout(header, width, bad, int((filled & ~valued).sum()), int(good.sum()))


def _good_records_text(text: str, delimiter: str, skip_lines: set[int]) -> str:
    """The file again without the skipped rows and blank records (only needed when there are some)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    previous_line = 0
    for record in reader:
        start, previous_line = previous_line + 1, reader.line_num
        if start in skip_lines or not any(cell.strip() for cell in record):
            continue
        writer.writerow(record)
    return out.getvalue()


def _lines(lines: list[int]) -> str:
    return first_and_more([str(n) for n in lines], 5)


# ---------------------------------------------------------------- values: numbers hiding as text


def _as_numbers(values: pd.Series, decimal: str) -> pd.Series:
    text = values.astype(str).str.strip().str.replace(r"(?<=\d)[\s\u00a0\u202f'](?=\d{3})", "", regex=True)
    if decimal == ",":
        text = text.str.replace(r"(?<=\d)\.(?=\d{3}(\D|$))", "", regex=True).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True)
    return pd.to_numeric(text, errors="coerce")


TRUE_WORDS = {"true", "false"}
# Every character `_as_numbers` can read as part of a number ("inf", "nan" and Unicode included): a value
# with any other character is text, so a column of words is told from numbers by one vectorised match.
MAYBE_NUMBER = re.compile(r"^[\s\d+\-.,'eEiInNfFtTyYaA_\u0080-\U0010FFFF]*$")


def _type_text_columns(frame: pd.DataFrame, decimal: str) -> list[str]:
    """Text columns that are really numbers or booleans become those; text values are stripped."""
    notes: list[str] = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        present = column.dropna()
        stripped = present.astype(str).str.strip()
        stripped = stripped[stripped != ""]
        if stripped.empty:
            frame[name] = pd.Series(np.nan, index=frame.index, dtype=float)
            continue
        if set(stripped.head(2000).str.lower().unique()) <= TRUE_WORDS and set(stripped.str.lower().unique()) <= TRUE_WORDS:
            frame[name] = stripped.str.lower().map({"true": True, "false": False}).reindex(frame.index).astype("boolean")
            continue
        head = stripped.head(1000)
        if head.str.match(MAYBE_NUMBER).mean() < 1 - JUNK_SHARE:
            frame[name] = stripped.reindex(frame.index)  # words: no need to try them as numbers
            continue
        column_decimal = decimal
        if decimal == "." and head.str.match(NUMBER_COMMA).all():
            column_decimal = ","  # quoted "1,5" in a comma-separated file
        if _as_numbers(head, column_decimal).notna().mean() < 1 - JUNK_SHARE:
            frame[name] = stripped.reindex(frame.index)
            continue
        numbers = _as_numbers(stripped, column_decimal)
        failed = stripped[numbers.isna()]
        if len(failed) > JUNK_SHARE * len(stripped):
            frame[name] = stripped.reindex(frame.index)
            continue
        frame[name] = numbers.reindex(frame.index).astype(float)
        if column_decimal != decimal:
            notes.append(f"column {name!r}: decimal commas read as decimal points (1,5 = 1.5)")
        if len(failed):
            tokens = ", ".join(repr(t) for t in failed.value_counts().index[:JUNK_TOKENS_SHOWN])
            more = " …" if failed.nunique() > JUNK_TOKENS_SHOWN else ""
            notes.append(f"column {name!r}: {len(failed)} value(s) that are not numbers ({tokens}{more}) read as missing")
    return notes


# ---------------------------------------------------------------- the whole read


def _parser_message(message: str) -> str:
    unclosed = re.search(r"EOF inside string starting at row (\d+)", message)
    if unclosed:
        return f'a quoted field (") in data row {unclosed.group(1)} is never closed, so the rest of the file would be one value'
    return f"could not read the file as CSV: {message.splitlines()[0] if message else 'unknown parser error'}"


def _decoded_text(source: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[str, str, list[str]]:
    """(text with "\\n" line ends, encoding name, notes): refuses empty files and files that are no CSV."""
    content = read_bytes(source)
    if not content.strip():
        raise DataError("the file is empty")
    _refuse_known_binary(content)
    text, encoding, notes = decode(content)
    del content
    _refuse_other_text(text)
    if not text.strip():
        raise DataError("the file is empty")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, notes


def _delimiter(text: str) -> tuple[str, str, int]:
    """(delimiter, text, lines dropped from its top): Excel's "sep=;" first line names the delimiter."""
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    if len(first_line) < 1_000:
        declared = re.fullmatch(r'"?sep=(.)"?,*\s*', first_line.strip(), flags=re.IGNORECASE)
        if declared:  # Excel's "sep=;" line names the delimiter
            return declared.group(1), ("" if end < 0 else text[end + 1 :]), 1
    return sniff_delimiter(text), text, 0


def _check_layout(layout: _Layout, delimiter: str, line_of: Callable[[int], int], notes: list[str]) -> list[int]:
    """The file's 1-based line numbers of the rows to skip; a DataError when the file cannot be read as a table."""
    if len(layout.header) < 2:
        raise DataError(
            "found only one column (no comma, semicolon, tab or pipe separates the values in the first line); "
            "the file needs at least two columns: one or more features and a target"
        )
    if len(layout.header) > _limit(CSV_COLUMNS):  # a header whose quoted names span lines
        raise _too_wide(len(layout.header))
    if layout.rows == 0 and not layout.bad:
        raise DataError("the file has a header but no data rows")
    bad_lines = [line_of(line) for line, _ in layout.bad]
    if layout.bad:
        fields = layout.bad[0][1]
        share = len(layout.bad) / (len(layout.bad) + layout.rows)
        if share > RAGGED_SHARE and (len(layout.bad) > 1 or layout.rows == 0):
            raise DataError(
                f"line {bad_lines[0]} has {fields} field(s) where the header has {layout.width}, and so do "
                f"{len(layout.bad) - 1} other line(s) ({share:.0%} of the rows): the rows do not line up with the "
                f"header; check the delimiter ({DELIMITER_NAMES.get(delimiter, delimiter)}) and the quoting"
            )
        notes.append(
            f"skipped {len(layout.bad)} row(s) whose number of fields does not match the header's "
            f"{layout.width} (line {_lines(bad_lines)})"
        )
    return bad_lines


def _column_names(header: list[str], notes: list[str]) -> tuple[bool, list[str]]:
    """(whether the first line is a header, the column names)."""
    has_header = not all(_looks_numeric(cell) for cell in header if cell.strip())
    if has_header:
        names, name_notes = _header_names(header)
    else:
        names = [f"column {i + 1}" for i in range(len(header))]
        name_notes = [NO_HEADER_NOTE]
    notes.extend(name_notes)
    return has_header, names


def _layout(lines: _Lines, delimiter: str, progress: Progress | None, notes: list[str], *, sample: bool) -> tuple[_Layout, str]:
    """The record pass over the bounded text: (layout, the text that holds the records it read)."""
    text = lines.text
    layout = _fast_scan(text, delimiter) if lines.max_records is None else None
    if layout is None:
        layout = _scan(text, delimiter, progress, strict=True, max_records=lines.max_records, line_of=lines.line)
    if layout.stopped_at is not None:
        limit = _limit(CSV_ROWS)
        if not sample:
            raise _too_deep(None)
        notes.append(
            f"the file has more than {limit:,} rows; FitLab read the first {limit:,} of them, not a random sample, "
            f"because quoted values in it span lines (the limit is {CSV_ROWS.env})"
        )
        text = text[: layout.stopped_at]
    return layout, text


def _checked_records(
    lines: _Lines, delimiter: str, progress: Progress | None, notes: list[str], *, sample: bool
) -> tuple[_Layout, list[int], bool, list[str], str]:
    """The record pass: (layout, skipped lines, has header, column names, the text pandas should parse)."""
    old_limit = csv.field_size_limit(2**31 - 1)
    try:
        layout, text = _layout(lines, delimiter, progress, notes, sample=sample)
        bad_lines = _check_layout(layout, delimiter, lines.line, notes)
        has_header, names = _column_names(layout.header, notes)
        if layout.blank:
            notes.append(f"skipped {layout.blank} empty row(s)")
        if layout.bad or layout.blank:
            text = _good_records_text(text, delimiter, {line for line, _ in layout.bad})
    finally:
        csv.field_size_limit(old_limit)
    return layout, bad_lines, has_header, names, text


def _parse_frame(text: str, delimiter: str, decimal: str, has_header: bool, names: list[str]) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "loss of data with index_col=False": the empty trailing fields
            return pd.read_csv(
                io.BytesIO(text.encode("utf-8")),  # bytes: a StringIO holds 4 bytes a character
                encoding="utf-8",
                sep=delimiter,
                decimal=decimal,
                header=0 if has_header else None,
                names=names,
                index_col=False,
                skipinitialspace=True,
                low_memory=False,
            )
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataError(_parser_message(str(exc))) from None


def _typed_frame(frame: pd.DataFrame, names: list[str], width: int, decimal: str, notes: list[str]) -> pd.DataFrame:
    """Empty trailing columns dropped, text columns that are numbers or booleans converted."""
    trailing = [n for i, n in enumerate(names) if i >= width and frame[n].isna().all()]
    if trailing:
        frame = frame.drop(columns=trailing)
        notes.append(f"ignored {len(trailing)} empty column(s) after the last named column (a delimiter at the end of each line)")
    notes.extend(_type_text_columns(frame, decimal))
    if decimal == ",":
        notes.insert(0, "numbers use a decimal comma (1,5 = 1.5)")
    return frame


def read_table(
    source: str | os.PathLike[str] | bytes | BinaryIO, *, progress: Progress | None = None, sample_rows: bool = True
) -> CsvTable:
    """Read a CSV from a path, bytes or a file object; a DataError with one sentence when it cannot be.

    The work is bounded by core.limits, each message naming its variable: at most FITLAB_MAX_FILE_MB
    is read; a header of more than FITLAB_MAX_CSV_COLUMNS columns is refused from its line alone,
    before anything is parsed; a file of more than FITLAB_MAX_CSV_ROWS rows is read as a seeded random
    sample of that many, with a note (`_bounded_rows`), or refused with `sample_rows=False` (where
    every row needs an answer, as when predicting).
    """

    def report(fraction: float, what: str) -> None:
        if progress is not None:
            progress(fraction, what)

    report(0.0, "checking what kind of file this is")
    text, encoding, notes = _decoded_text(source)
    report(0.1, "detecting the delimiter and the decimal mark")
    delimiter, text, line_offset = _delimiter(text)
    _check_columns(text, delimiter)
    lines = _bounded_rows(text, delimiter, line_offset, notes, sample=sample_rows)
    del text
    decimal = sniff_decimal(lines.text, delimiter)
    layout, bad_lines, has_header, names, text = _checked_records(lines, delimiter, progress, notes, sample=sample_rows)
    del lines
    report(0.6, "parsing values")
    frame = _parse_frame(text, delimiter, decimal, has_header, names)
    del text
    report(0.85, "recognising numbers, booleans and text")
    frame = _typed_frame(frame, names, layout.width, decimal, notes)
    if len(frame) == 0:
        raise DataError("the file has a header but no data rows")
    report(1.0, f"read {len(frame):,} rows × {frame.shape[1]:,} columns")
    return CsvTable(
        frame=frame,
        notes=notes,
        encoding=encoding,
        delimiter=delimiter,
        decimal=decimal,
        has_header=has_header,
        skipped_lines=bad_lines,
    )


def read_csv(source: str | os.PathLike[str] | bytes | BinaryIO) -> pd.DataFrame:
    """Only the typed frame of `read_table`."""
    return read_table(source).frame


# ---------------------------------------------------------------- exports that a spreadsheet opens safely

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A value as a spreadsheet would see it, with formulas defused: "=1+2" becomes "'=1+2".

    Plain numbers written as text ("-1.5") stay as they are; they cannot run anything.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so Excel reads the accents) with every text cell and name defused."""
    safe = frame.copy()
    safe.columns = [str(safe_cell(str(c))) for c in safe.columns]
    for name in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[name]):
            safe[name] = safe[name].map(safe_cell)
    return safe.to_csv(index=False).encode("utf-8-sig")
