"""Hostile CSV files (issue 20): every file a user hands in is read within bounded time and memory.

Each case is generated here, at a scale that trips the limits of core.limits (lowered with
`monkeypatch.setenv` where the defaults would need big files): a ZIP bomb renamed .csv, a CSV too wide,
one too deep (read as a seeded sample), binary junk, a file over FITLAB_MAX_FILE_MB, and the CLI on a
wide file. The defaults at full scale (a 2 GiB ZIP bomb, 100,000 columns, 10 million rows) are measured
by hand; see the issue.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core.data.csvfile as csvfile
from core.data.csvfile import DataError, read_table
from core.data.dataset import load_csv

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


def _traced(call):
    """(the call's DataError message, seconds, peak bytes Python allocated during it)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DataError) as refused:
            call()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(refused.value), seconds, peak


# ---------------------------------------------------------------- ZIP bombs


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A 200 MB `mimetype` entry of zeros, deflated to about 200 KB, in a file named .csv."""
    path = tmp_path_factory.mktemp("bomb") / "data.csv"
    zeros = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("mimetype", "w") as entry:
        for _ in range(200):
            entry.write(zeros)
    assert path.stat().st_size < 1 * MB
    return path


def test_a_zip_bomb_is_named_without_being_decompressed(zip_bomb: Path) -> None:
    message, seconds, peak = _traced(lambda: read_table(zip_bomb))
    assert message == "this is not a CSV file: it looks like a ZIP archive; extract the CSV from it first"
    assert seconds < 2, seconds
    assert peak < 50 * MB, f"reading the file type took {peak / MB:.0f} MB"


def test_a_zip_bomb_as_upload_bytes_is_refused_as_quickly(zip_bomb: Path) -> None:
    content = zip_bomb.read_bytes()
    message, seconds, peak = _traced(lambda: read_table(content))
    assert "ZIP archive" in message
    assert seconds < 2 and peak < 50 * MB


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_bzip2_bomb_is_not_opened_at_all() -> None:
    """bzip2 decompresses a whole block per read: 40 MB of zeros come from a few hundred bytes."""
    content = _zip({"mimetype": bytes(40 * MB)}, zipfile.ZIP_BZIP2)
    message, seconds, peak = _traced(lambda: read_table(content))
    assert "ZIP archive" in message and peak < 5 * MB


def test_a_broken_or_odd_zip_is_a_zip_archive() -> None:
    odt = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    with pytest.raises(DataError, match="OpenDocument spreadsheet"):
        read_table(odt)  # a real Office file is still named as what it is
    local, central = odt.find(b"PK\x03\x04"), odt.find(b"PK\x01\x02")
    unsupported = bytearray(odt)
    unsupported[local + 8 : local + 10] = unsupported[central + 10 : central + 12] = (99).to_bytes(2, "little")
    encrypted = bytearray(odt)
    encrypted[local + 6] |= 1
    encrypted[central + 8] |= 1
    corrupt = bytearray(_zip({"mimetype": b"application/vnd.oasis.opendocument.text" * 20}, zipfile.ZIP_DEFLATED))
    corrupt[40:60] = b"\xff" * 20
    for content in (bytes(unsupported), bytes(encrypted), bytes(corrupt), odt[:60]):
        with pytest.raises(DataError, match=r"looks like a ZIP archive; extract the CSV"):
            read_table(content)


def test_a_zip_of_very_many_entries_is_not_listed() -> None:
    content = _zip({f"f{i}": b"" for i in range(25_000)})  # a 1.2 MB list of entries
    message, seconds, _ = _traced(lambda: read_table(content))
    assert "ZIP archive" in message and seconds < 1


# ---------------------------------------------------------------- columns


def _wide_csv(columns: int, rows: int = 3) -> bytes:
    lines = [",".join(f"c{i}" for i in range(columns))]
    lines += [",".join(str((i + r) % 7) for i in range(columns)) for r in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_csv_with_too_many_columns_is_refused_before_it_is_parsed(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_COLUMNS", "50")
    parsed = []  # neither record pass nor pandas sees the file: the header line alone decides
    for module, name in ((csvfile, "_fast_scan"), (csvfile, "_scan"), (pd, "read_csv")):
        monkeypatch.setattr(module, name, lambda *a, name=name, **k: parsed.append(name))
    with pytest.raises(DataError) as refused:
        read_table(_wide_csv(60))
    assert str(refused.value).startswith("the file has 60 columns; FitLab reads at most 50 columns (FITLAB_MAX_CSV_COLUMNS)")
    assert parsed == []


def test_the_column_limit_counts_fields_not_delimiters_in_quoted_names(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_COLUMNS", "50")
    header = ",".join(f'"name {i}, with a comma"' for i in range(40))
    rows = "\n".join(",".join(str(r * i % 5) for i in range(40)) for r in range(12))
    table = read_table(f"{header}\n{rows}\n".encode())
    assert table.frame.shape == (12, 40)
    with pytest.raises(DataError, match="has 51 columns"):
        read_table(("\n".join([",".join(f'"n{i}"' for i in range(51)), ",".join("1" * 51)]) + "\n").encode())


def test_a_header_whose_quoted_names_span_lines_is_counted_too(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_COLUMNS", "5")
    content = b'a,"b\nc",d,e,f,g,h\n1,2,3,4,5,6,7\n'  # the first line alone has 2 fields
    with pytest.raises(DataError, match=r"the file has 7 columns.*FITLAB_MAX_CSV_COLUMNS"):
        read_table(content)


def test_the_default_column_limit_refuses_100_000_columns_at_once() -> None:
    message, seconds, _ = _traced(lambda: read_table(_wide_csv(100_000, rows=1)))
    assert "100,000 columns" in message and "FITLAB_MAX_CSV_COLUMNS" in message
    assert seconds < 2


# ---------------------------------------------------------------- rows


def _deep_csv(rows: int) -> bytes:
    return ("id,x,label\n" + "".join(f"{i},{i * 3 % 101},{i % 2}\n" for i in range(rows))).encode()


def test_a_csv_with_too_many_rows_is_read_as_a_seeded_sample(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "1000")
    content = _deep_csv(5_000)
    table = read_table(content)
    frame = table.frame
    assert len(frame) == 1000
    assert (
        "the file has 5,000 rows; FitLab read a random sample of 1,000 of them (seed 0; the limit is FITLAB_MAX_CSV_ROWS)"
        in table.notes
    )
    ids = frame["id"].to_numpy()
    assert np.all(np.diff(ids) > 0), "the sample keeps the file's order"
    assert ids.max() > 4_000 and ids.min() < 1_000, "a random sample, not the first rows"
    assert (frame["x"] == ids * 3 % 101).all() and (frame["label"] == ids % 2).all(), "whole rows, as in the file"
    pd.testing.assert_frame_equal(read_table(content).frame, frame)  # seeded: the same rows every time
    assert load_csv(content, "label").notes[0] == table.notes[0]


def test_the_record_pass_never_sees_more_rows_than_the_limit(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "100")
    seen: list[int] = []
    original = csvfile._fast_scan

    def counting(text: str, delimiter: str):
        seen.append(text.count("\n"))
        return original(text, delimiter)

    monkeypatch.setattr(csvfile, "_fast_scan", counting)
    read_table(_deep_csv(2_000) + b"\n" * 500)
    assert seen == [101]  # the header and 100 rows


def test_a_deep_csv_with_multiline_quoted_values_reads_its_first_rows(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "20")
    rows = "".join(f'{i},"line one\nline two",{i % 2}\n' for i in range(100))
    table = read_table(f"id,text,label\n{rows}".encode())
    assert table.frame["id"].tolist() == list(range(20))
    assert table.frame["text"].iloc[0] == "line one\nline two"
    assert any("read the first 20 of them, not a random sample" in n and "FITLAB_MAX_CSV_ROWS" in n for n in table.notes)


def test_quoted_values_on_one_line_are_still_sampled(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "50")
    rows = "".join(f'{i},"a, b and ""c""",{i % 2}\n' for i in range(500))
    table = read_table(f"id,text,label\n{rows}".encode())
    assert len(table.frame) == 50 and table.frame["id"].max() > 100
    assert (table.frame["text"] == 'a, b and "c"').all()
    assert "random sample of 50" in table.notes[0]


def test_without_sampling_too_many_rows_are_refused(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "10")
    with pytest.raises(DataError, match=r"the file has 30 rows; FitLab reads at most 10 rows \(FITLAB_MAX_CSV_ROWS\)"):
        read_table(_deep_csv(30), sample_rows=False)
    assert len(read_table(_deep_csv(10), sample_rows=False).frame) == 10


def test_line_numbers_of_skipped_rows_are_the_file_s_after_sampling(monkeypatch) -> None:
    lines = [f"{i},{i % 7},{i % 2}" for i in range(4_000)]
    short = range(100, 4_000, 200)
    for i in short:
        lines[i] = f"{i},5"  # too few fields
    text = "\n" + "id,x,label\n" + "\n".join(lines) + "\n\n\n"  # a blank line above the header
    expected = [i + 3 for i in short]  # lines[i] is line i + 3 of the file
    assert read_table(text.encode()).skipped_lines == expected
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "4000")  # more lines than that: lines are picked out, none dropped
    assert read_table(text.encode()).skipped_lines == expected
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "3000")
    sampled = read_table(text.encode()).skipped_lines
    assert sampled and set(sampled) < set(expected)


def test_a_malformed_limit_setting_names_its_variable(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_CSV_ROWS", "lots")
    with pytest.raises(DataError, match="FITLAB_MAX_CSV_ROWS must be a whole number"):
        read_table(_deep_csv(5))


# ---------------------------------------------------------------- bytes that are no CSV, and big files


def test_random_bytes_are_refused_with_a_clear_message() -> None:
    for seed in range(5):
        junk = np.random.default_rng(seed).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
        with pytest.raises(DataError, match=r"not a (text|CSV) file"):
            read_table(junk)


def test_deeply_nested_brackets_are_no_crash() -> None:
    with pytest.raises(DataError):
        read_table(b"[" * 100_000)  # json.loads would raise RecursionError


def test_big_json_is_named_without_being_parsed(monkeypatch) -> None:
    monkeypatch.setattr(csvfile, "JSON_PARSE_CHARS", 1_000)
    monkeypatch.setattr(csvfile.json, "loads", lambda *a, **k: pytest.fail("parsed the whole text"))
    with pytest.raises(DataError, match="looks like JSON"):
        read_table(("[" + ",".join(["[1,2]"] * 1_000) + "]\n").encode())


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_FILE_MB", "1")
    path = tmp_path / "big.csv"
    path.write_bytes(b"1,2,3\n" * 250_000)  # 1.5 MB
    message, _, peak = _traced(lambda: read_table(path))
    assert message.startswith("the file is 1.5 MB; FitLab reads at most 1 MB (FITLAB_MAX_FILE_MB)")
    assert peak < MB // 2
    with pytest.raises(DataError, match="FITLAB_MAX_FILE_MB"):
        read_table(path.read_bytes())
    with pytest.raises(DataError, match="FITLAB_MAX_FILE_MB"):
        load_csv(str(path), "label")


def test_an_endless_stream_is_read_only_to_the_limit(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_MAX_FILE_MB", "2")

    class Endless:
        asked = 0

        def read(self, size: int = -1) -> bytes:
            assert size > 0, "asked for everything"
            self.asked += size
            return b"1" * size

    stream = Endless()
    with pytest.raises(DataError, match=r"the file is over 2 MB; FitLab reads at most 2 MB \(FITLAB_MAX_FILE_MB\)"):
        read_table(stream)  # type: ignore[arg-type]
    assert stream.asked == 2 * MB + 1


# ---------------------------------------------------------------- the numpy record pass agrees with the csv module


def test_the_fast_record_pass_reads_files_as_the_csv_module_does(monkeypatch) -> None:
    pieces = ["a", "1", "2.5", "", " ", ",", ",,", ";", "\t", "é", "\u00a0", "\x1c", "x y", "\n", "\n\n", "  \n", "a,b\n"]
    pieces += ["1,2,3\n", "4,x,\n", "5,6\n", ",,\n", "7,8,9,\n"] * 3
    rng = random.Random(0)

    def outcome(content: bytes) -> tuple[pd.DataFrame | None, object]:
        try:
            table = read_table(content)
        except DataError as exc:
            return None, str(exc)
        return table.frame, (table.notes, table.skipped_lines, table.has_header)

    fast_used = []
    fast_scan = csvfile._fast_scan

    def counted(text: str, delimiter: str):
        layout = fast_scan(text, delimiter)
        fast_used.append(layout is not None)
        return layout

    for _ in range(300):
        text = "h1,h2,h3\n" + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 50)))
        with monkeypatch.context() as patched:
            patched.setattr(csvfile, "_fast_scan", counted)
            fast = outcome(text.encode())
        with monkeypatch.context() as patched:
            patched.setattr(csvfile, "_fast_scan", lambda text, delimiter: None)
            slow = outcome(text.encode())
        assert fast[1] == slow[1], repr(text)
        if fast[0] is not None:
            assert slow[0] is not None
            pd.testing.assert_frame_equal(fast[0], slow[0])
    assert sum(fast_used) > 150, sum(fast_used)


# ---------------------------------------------------------------- the CLI


def test_the_cli_refuses_a_wide_csv_with_one_line(tmp_path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(_wide_csv(60))
    env = {**os.environ, "FITLAB_MAX_CSV_COLUMNS": "50"}
    result = subprocess.run(
        [sys.executable, "-m", "core", "train", "--csv", str(path), "--target", "c0", "--epochs", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.startswith("error: the file has 60 columns; FitLab reads at most 50 columns (FITLAB_MAX_CSV_COLUMNS)")
    assert "Traceback" not in result.stderr and result.stdout == ""
