"""Hostile training logs (issue 20): every log a user hands in is read within bounded time and memory.

Each case is generated here, at a scale that trips the limits of core.limits (lowered with
`monkeypatch.setenv` where the defaults would need big files): a log of more epochs than
FITLAB_MAX_LOG_EPOCHS (read from evenly spaced epochs, said in a note), one too wide, one over
FITLAB_MAX_FILE_MB, NaN and inf values, Lightning rows without an epoch, binary junk, Markdown and HTML
in names and lines, lines made to make a regular expression backtrack, and the downsampled chart of a
long log. The full-scale files (1.8 million rows, 35 MB) are measured by hand; see the issue.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import time

import numpy as np
import pytest

from core.cli.commands import main
from core.data.csvfile import DataError
from core.figures.curves import DRAW_POINTS, loss_figure, metric_figure
from core.history import EpochRecord, History
from core.logs.reader import diagnose_log, read_training_log

MB = 1_000_000


def _curve(epochs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A decaying noisy training loss and a validation loss that bottoms out and rises again."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs) / epochs
    train = 2.0 * np.exp(-5 * t) + 0.1 + rng.normal(0, 0.01, epochs)
    val = 2.0 * np.exp(-5 * t) + 0.15 + 0.3 * np.maximum(t - 0.5, 0) + rng.normal(0, 0.01, epochs)
    return train, val


def _plain_log(train: np.ndarray, val: np.ndarray, cells: dict[int, tuple[str, str]] | None = None) -> bytes:
    """`epoch,loss,val_loss` from epoch 0 (Keras' layout); `cells`: epoch -> (loss, val_loss) written as given."""
    rows = [f"{i},{t:.6f},{v:.6f}" for i, (t, v) in enumerate(zip(train, val, strict=True))]
    for epoch, (t, v) in (cells or {}).items():
        rows[epoch] = f"{epoch},{t},{v}"
    return ("epoch,loss,val_loss\n" + "\n".join(rows) + "\n").encode()


def _timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


# ---------------------------------------------------------------- more epochs than FITLAB_MAX_LOG_EPOCHS


def test_a_long_log_is_read_from_evenly_spaced_epochs_with_a_note(monkeypatch):
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "500")
    train, val = _curve(5_000)
    best = int(np.argmin(val))
    log, seconds = _timed(lambda: read_training_log(_plain_log(train, val), name="long.csv"))
    epochs = [r.epoch for r in log.history]
    assert len(epochs) <= 500 and epochs == sorted(epochs)
    assert epochs[0] == 1 and epochs[-1] == 5_000  # the first and the last epoch
    assert best + 1 in epochs  # the lowest validation loss: the best epoch stays the best epoch
    assert log.logged_epochs == 5_000
    assert log.notes[0].startswith("The log has 5,000 epochs; FitLab read ")
    assert "evenly spaced" in log.notes[0] and "500 epochs (FITLAB_MAX_LOG_EPOCHS)" in log.notes[0]
    assert f"the lowest validation loss: epoch {best + 1}" in log.notes[0]
    assert "of 5,000 epochs (evenly spaced, FITLAB_MAX_LOG_EPOCHS)" in log.describe()
    assert diagnose_log(log).verdict == "overfitting"
    assert seconds < 3


def test_a_nan_in_the_middle_of_a_long_log_is_kept_and_the_verdict_is_the_full_logs(monkeypatch):
    # The Diverged rule reads the first non-finite loss, wherever it is: the full log says `diverged`
    # at that epoch, so the sample keeps it and says the same.
    train, val = _curve(5_000)
    data = _plain_log(train, val, {2_345: ("nan", "0.5")})
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "10000")
    whole = read_training_log(data)
    full = diagnose_log(whole)
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "500")
    log = read_training_log(data)
    assert 2_346 in [r.epoch for r in log.history]  # epoch 2345 of the log, counted from 1
    assert all(r == whole.history[r.epoch - 1] for r in log.history)  # the epochs read are the log's, unchanged
    assert "the first NaN/inf loss (epoch 2346)" in log.notes[0]
    sampled = diagnose_log(log)
    assert full.verdict == sampled.verdict == "diverged"
    assert sampled.evidence[0] == full.evidence[0] == "training loss became nan at epoch 2346; the run was ended there"


def test_a_lightning_log_of_many_step_rows_is_read_in_bounded_time():
    # 400,000 rows, 40 epochs: the rows are aggregated on whole columns, not one Python loop per row.
    epochs, steps = 40, 10_000
    rng = np.random.default_rng(1)
    lines = ["epoch,step,train_loss_epoch,train_loss_step,val_loss"]
    step = 0
    for epoch in range(epochs):
        losses = rng.random(steps - 2)
        lines += [f"{epoch},{step + i},,{loss:.4f}," for i, loss in enumerate(losses)]
        lines += [f"{epoch},{step + steps - 2},,,{1 / (epoch + 1):.4f}", f"{epoch},{step + steps - 1},{2 / (epoch + 1):.4f},,"]
        step += steps
    data = ("\n".join(lines) + "\n").encode()
    log, seconds = _timed(lambda: read_training_log(data, name="metrics.csv"))
    assert [r.epoch for r in log.history] == list(range(1, epochs + 1))
    assert log.history["train_loss"][:2] == [2.0, 1.0] and log.history["val_loss"][-1] == 0.025
    assert f"{len(lines) - 1} rows (step, validation and epoch-end rows interleaved) aggregated into 40 epochs." in log.notes
    assert log.logged_epochs is None
    assert seconds < 3


def test_a_long_text_log_is_parsed_from_a_sample_of_its_lines(monkeypatch):
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "100")
    train, val = _curve(1_000)
    lines = [
        f"Epoch [{i + 1}/1000], Train Loss: {t:.4f}, Val Loss: {v:.4f}" for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]
    lines[600] = "Epoch [601/1000], Train Loss: nan, Val Loss: 0.5"
    log = read_training_log(("\n".join(lines) + "\n").encode(), name="train.log")
    epochs = [r.epoch for r in log.history]
    assert len(epochs) <= 100 and epochs[0] == 1 and epochs[-1] == 1_000 and 601 in epochs
    assert any(n.startswith("The text log has 1,000 lines with an epoch and a loss, in 1,000 epochs") for n in log.notes)
    assert log.logged_epochs == 1_000
    assert diagnose_log(log).evidence[0] == "training loss became nan at epoch 601; the run was ended there"


# ---------------------------------------------------------------- too big, too wide, a wrong setting


def test_a_log_over_the_byte_limit_is_refused_naming_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("FITLAB_MAX_FILE_MB", "1")
    train, val = _curve(80_000)
    data = _plain_log(train, val)
    assert len(data) > 1.5 * MB
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    for source in (path, data, io.BytesIO(data), io.StringIO(data.decode())):
        with pytest.raises(DataError, match=r"FitLab reads at most 1 MB \(FITLAB_MAX_FILE_MB\)"):
            read_training_log(source)


@pytest.mark.parametrize("where", ["header", "row"])
def test_a_log_wider_than_the_column_limit_is_refused_naming_the_setting(monkeypatch, where):
    monkeypatch.setenv("FITLAB_MAX_LOG_COLUMNS", "20")
    names = ["epoch", "loss", "val_loss"] + [f"m{i}" for i in range(27 if where == "header" else 0)]
    rows = [",".join(["0", "1.0", "1.1"] + ["0.5"] * (len(names) - 3)), "1,0.9,1.0" + ",7" * (40 if where == "row" else 0)]
    data = ("\n".join([",".join(names), *rows]) + "\n").encode()
    with pytest.raises(DataError) as refused:
        read_training_log(data, name="wide.csv")
    message = str(refused.value)
    assert "FitLab reads logs of at most 20 columns (FITLAB_MAX_LOG_COLUMNS)" in message
    assert message.startswith("the header (row 1) names 30 columns" if where == "header" else "row 3 has 43 cells")


def test_a_wrong_limit_setting_is_a_clear_data_error(monkeypatch):
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "many")
    with pytest.raises(DataError, match="FitLab's limit setting is wrong: FITLAB_MAX_LOG_EPOCHS must be a whole number"):
        read_training_log(b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n")


def test_the_cli_refuses_a_big_or_wide_log_in_one_line_and_notes_a_sample(monkeypatch, tmp_path, capsys):
    train, val = _curve(3_000)
    path = tmp_path / "log.csv"
    path.write_bytes(_plain_log(train, val))
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "300")
    assert main(["diagnose", "--history", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("note: The log has 3,000 epochs; FitLab read ")
    assert "300 of 3,000 epochs" in out or "of 3,000 epochs (evenly spaced" in out
    monkeypatch.setenv("FITLAB_MAX_LOG_COLUMNS", "2")
    assert main(["diagnose", "--history", str(path)]) != 0
    out, err = capsys.readouterr()
    assert err.startswith("error: the header (row 1) names 3 columns") and "FITLAB_MAX_LOG_COLUMNS" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    monkeypatch.setenv("FITLAB_MAX_FILE_MB", "1")
    path.write_bytes(_plain_log(*_curve(80_000)))
    assert main(["diagnose", "--history", str(path)]) != 0
    out, err = capsys.readouterr()
    assert err.startswith("error: the file is ") and "FITLAB_MAX_FILE_MB" in err and "Traceback" not in err


# ---------------------------------------------------------------- values and rows that are not what they seem


def test_nan_and_inf_values_give_a_clear_verdict():
    data = b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,inf\n2,-inf,0.9\n3,NaN,nan\n4,0.5,0.6\n"
    log = read_training_log(data)
    assert math.isinf(log.history[1].val_loss) and math.isinf(log.history[2].train_loss)
    assert math.isnan(log.history[3].train_loss)
    diagnosis = diagnose_log(log)
    assert diagnosis.verdict == "diverged"
    assert diagnosis.evidence[0] == "validation loss became inf at epoch 2; the run was ended there"
    every = read_training_log(b"epoch,loss,val_loss\n0,nan,nan\n1,nan,nan\n2,nan,nan\n")
    assert diagnose_log(every).verdict == "diverged"


def test_lightning_rows_without_an_epoch():
    # LearningRateMonitor rows (a step and a learning rate, no epoch) are skipped and said so; a row with
    # a loss but no epoch cannot be placed: one sentence naming the row.
    monitor = (
        b"epoch,lr-Adam,step,train_loss_step,val_loss\n,0.001,0,,\n0,,9,0.9,\n0,,9,,0.95\n,0.001,10,,\n1,,19,0.8,\n1,,19,,0.9\n"
    )
    log = read_training_log(monitor, name="metrics.csv")
    assert [r.epoch for r in log.history] == [1, 2]
    assert "2 row(s) without an epoch skipped (LearningRateMonitor writes such rows)." in log.notes
    stray = b"epoch,step,train_loss_step,val_loss\n0,9,0.9,\n,10,0.85,\n0,19,,0.9\n"
    with pytest.raises(DataError) as refused:
        read_training_log(stray, name="metrics.csv")
    assert str(refused.value) == "row 3: has a value for train_loss_step but its epoch cell is empty"


@pytest.mark.parametrize("seed", range(6))
def test_binary_junk_is_one_clear_sentence(seed):
    rng = random.Random(seed)
    junk = bytes(rng.randrange(256) for _ in range(20_000))
    with pytest.raises(DataError) as refused:
        read_training_log(junk, name="junk.bin")
    assert str(refused.value).startswith(("junk.bin is not a text CSV file", "junk.bin is not UTF-8 text"))
    # Junk that is valid UTF-8 text: read or refused with a DataError, never another exception.
    text = "".join(rng.choice('ab,;\t\n 0.5épоch%"NA') for _ in range(20_000)).encode()
    with contextlib.suppress(DataError):
        read_training_log(text, name="junk.txt")


def test_markdown_and_html_in_names_and_lines_are_kept_as_plain_text():
    names = ["epoch", "<script>alert(1)</script>", "loss", "val_loss", "**bold** [x](javascript:alert(1))"]
    rows = ["0,<b>a</b>,1.0,1.1,0.1", "1,<b>a</b>,0.9,1.0,0.2"]
    log = read_training_log(("\n".join([",".join(names), *rows]) + "\n").encode(), name="<img src=x onerror=alert(1)>.csv")
    assert log.history["train_loss"] == [1.0, 0.9]
    assert log.notes[-1] == "Not used: `<script>alert(1)</script>`, `**bold** [x](javascript:alert(1))`."
    text = b"<h1>log</h1>\nEpoch 1/2 | <b>Train Loss</b>: 0.9 | Val Loss: 1.0 [x](http://x)\n"
    text += b"Epoch 2/2 | Train Loss: 0.8 | Val Loss: 0.9\n"
    log = read_training_log(text, name="train.log")  # `<b>Train Loss</b>: 0.9` names no loss: epoch 1 has one loss only
    assert log.format == "text" and log.history["val_loss"] == [0.9] and log.columns["val_loss"] == "Val Loss"
    with pytest.raises(DataError) as refused:
        read_training_log(b"<html>\n<body><p>hi</p></body>\n</html>\n", name="page.html")
    assert str(refused.value).endswith("its first line is '<html>'")  # quoted as text: escaping it is the page's work


@pytest.mark.parametrize(
    "line",
    [
        "Epoch 1 loss" + " " * 50_000 + "x",  # spaces after a label
        "Epoch 1 loss: 0.5 " + "ab " * 30_000,  # a run of words without a value
        "Epoch 1 loss: 0.5 " + "a" * 100_000,  # one endless word
        "Epoch" + " " * 50_000 + "x loss: 0.5",  # spaces after `epoch`, then no number
        "Epoch 1 loss: 0.5" + " " * 50_000 + "x",  # spaces, then no separator
    ],
    ids=["spaces-after-label", "words", "long-word", "spaces-after-epoch", "spaces-then-no-separator"],
)
def test_lines_made_to_backtrack_are_read_in_bounded_time(line):
    # Each of these took the old patterns time growing with the square of the line's length (minutes).
    data = ("\n".join([line] * 5 + ["Epoch 2 loss: 0.4 val_loss: 0.5", "Epoch 3 loss: 0.3 val_loss: 0.45"]) + "\n").encode()
    started = time.perf_counter()
    with contextlib.suppress(DataError):
        read_training_log(data, name="train.log")
    assert time.perf_counter() - started < 2


def test_quoted_cells_read_like_unquoted_ones():
    # A file with quote characters is read by the csv module, one without by numpy and pandas: alike.
    plain = b"epoch,phase,loss,val_loss\n0,a,1.0,1.1\n1,a,0.9,\n\n2,a,NA,0.95\n3,a,0.7,0.9,\n"
    quoted = b'"epoch","phase","loss","val_loss"\n0,"a",1.0,1.1\n1,"a","0.9",\n\n2,a,NA,"0.95"\n3,a,0.7,0.9,\n'
    one, other = read_training_log(plain), read_training_log(quoted)
    assert one.history == other.history and one.notes == other.notes and one.columns == other.columns


# ---------------------------------------------------------------- the chart of a long log


def _history(train: np.ndarray, val: np.ndarray) -> History:
    return History(
        EpochRecord(i + 1, float(t), float(v), float(1 - t / 3), float(1 - v / 3), math.nan)
        for i, (t, v) in enumerate(zip(train, val, strict=True))
    )


def test_a_long_history_is_drawn_from_a_downsample_that_keeps_its_shape():
    train, val = _curve(20_000)
    train[7_777] = 9.0  # a one-epoch spike
    val[12_345] = 0.01  # a one-epoch dip
    history = _history(train, val)
    fig, seconds = _timed(lambda: loss_figure(history))
    size = len(fig.to_json())
    drawn_train, drawn_val = fig.data[0], fig.data[2]
    assert len(drawn_train.x) <= DRAW_POINTS + 2 and list(drawn_train.x) == list(drawn_val.x)
    assert max(drawn_train.y) == 9.0 and min(drawn_train.y) == float(train.min())
    assert min(drawn_val.y) == 0.01 and max(drawn_val.y) == float(val.max())
    assert drawn_train.x[0] == 1 and drawn_train.x[-1] == 20_000
    assert "downsampled" in fig.layout.title.text
    assert [t.x[0] for t in fig.data if str(t.name).startswith("best epoch")] == [12_346]  # from the full history
    assert size < 0.5 * MB, size
    assert seconds < 3
    metric = metric_figure(history)
    assert "downsampled" in metric.layout.title.text and len(metric.to_json()) < 0.5 * MB
    short = loss_figure(history[:100])
    assert len(short.data[0].x) == 100 and short.layout.title.text == "Loss"  # a short run is drawn whole


def test_a_blow_up_still_shows_in_a_downsampled_chart():
    train, val = _curve(10_000)
    train[6_000:] = np.inf
    val[6_000:] = np.nan
    fig = loss_figure(_history(train, val))
    x = list(fig.data[0].x)
    assert 6_000 in x and 6_001 in x  # the last finite epoch and the first blown-up one
    assert math.isinf(fig.data[0].y[x.index(6_001)])
