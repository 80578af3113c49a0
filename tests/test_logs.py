"""core.logs.reader: reading per-epoch logs written by other tools (Keras CSVLogger, Lightning metrics.csv, plain CSV)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from core.data.csvfile import DataError
from core.diagnosis import diagnose
from core.history import History
from core.logs.reader import diagnose_log, read_history_csv, read_training_log


def _write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


KERAS = "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.60,0.90,0.55,0.95\n1,0.70,0.70,0.65,0.80\n2,0.80,0.50,0.70,0.72\n"


def test_keras_csv_logger_file(tmp_path):
    history = read_history_csv(_write(tmp_path, KERAS))
    assert isinstance(history, History)
    assert [r.epoch for r in history] == [1, 2, 3]  # Keras counts from 0; records count from 1
    assert history["train_loss"] == [0.90, 0.70, 0.50]
    assert history["val_loss"] == [0.95, 0.80, 0.72]
    assert history["train_metric"] == [0.60, 0.70, 0.80]
    assert history["val_metric"] == [0.55, 0.65, 0.70]
    assert all(math.isnan(r.seconds) for r in history)  # not in the log


def test_plain_epoch_train_loss_val_loss(tmp_path):
    history = read_history_csv(_write(tmp_path, "epoch,train_loss,val_loss\n1,1.0,1.1\n2,0.8,0.9\n3,0.6,0.85\n"))
    assert [r.epoch for r in history] == [1, 2, 3]  # already 1-based: unchanged
    assert history["train_loss"] == [1.0, 0.8, 0.6]
    assert history["val_loss"] == [1.1, 0.9, 0.85]
    assert all(math.isnan(r.train_metric) and math.isnan(r.val_metric) for r in history)


def test_without_an_epoch_column_rows_are_numbered(tmp_path):
    history = read_history_csv(_write(tmp_path, "loss,val_loss\n1.0,1.1\n0.8,0.9\n"))
    assert [r.epoch for r in history] == [1, 2]


def test_column_names_are_matched_case_insensitively(tmp_path):
    history = read_history_csv(_write(tmp_path, "Epoch,Loss,Val_Loss\n1,1.0,1.1\n2,0.8,0.9\n"))
    assert history["val_loss"] == [1.1, 0.9]


def test_nan_cells_are_kept_as_nan(tmp_path):
    history = read_history_csv(_write(tmp_path, "epoch,train_loss,val_loss\n1,1.0,1.1\n2,nan,0.9\n3,0.5,\n"))
    assert math.isnan(history[1].train_loss)
    assert math.isnan(history[2].val_loss)
    assert history[0].val_loss == 1.1


def test_a_log_without_validation_loss_is_read_and_says_so(tmp_path):
    # Issue 8: real logs without validation (a training-only loop) are read; val_loss is NaN for lack
    # of one, which val_loss_missing tells apart from a blow-up.
    log = read_training_log(_write(tmp_path, "epoch,loss,accuracy\n0,1.0,0.5\n1,0.8,0.6\n"))
    assert log.history["train_loss"] == [1.0, 0.8]
    assert all(math.isnan(v) for v in log.history["val_loss"])
    assert log.val_loss_missing == (1, 2) and not log.has_val_loss
    assert any(note.startswith("The log has no validation loss") for note in log.notes)


def test_missing_training_loss_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="training loss"):
        read_history_csv(_write(tmp_path, "epoch,val_loss\n1,1.0\n2,0.8\n"))


def test_text_loss_is_a_data_error_naming_the_row(tmp_path):
    with pytest.raises(DataError, match="row 3"):  # header is row 1
        read_history_csv(_write(tmp_path, "epoch,loss,val_loss\n1,1.0,1.1\n2,high,0.9\n"))


def test_header_only_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no epochs"):
        read_history_csv(_write(tmp_path, "epoch,loss,val_loss\n"))


def test_empty_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="empty"):
        read_history_csv(_write(tmp_path, ""))


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_history_csv(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "text",
    ["epoch,loss,val_loss\n0,1.0,1.1\n,0.8,0.9\n", "epoch,loss,val_loss\nfirst,1.0,1.1\nsecond,0.8,0.9\n"],
    ids=["blank-epoch", "text-epoch"],
)
def test_bad_epoch_cell_is_a_data_error(tmp_path, text):
    with pytest.raises(DataError):
        read_history_csv(_write(tmp_path, text))


# ---------------------------------------------------------------- read_training_log: the sample logs

LOGS = Path(__file__).resolve().parents[1] / "ui" / "assets" / "example_logs"  # the Diagnose page's examples


def _csv_rows(name: str) -> list[dict[str, str]]:
    """The sample's rows as the csv module reads them: the expectations below come from the file itself."""
    with open(LOGS / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_keras_sample_is_read_as_keras_with_its_accuracy():
    log = read_training_log(LOGS / "keras_overfitting.csv")
    rows = _csv_rows("keras_overfitting.csv")
    assert log.format == "keras" and log.format_title == "Keras CSVLogger"
    assert log.metric_name == "accuracy" and log.metric_higher_is_better is True
    assert [r.epoch for r in log.history] == [int(row["epoch"]) + 1 for row in rows] == list(range(1, 31))
    assert log.history["train_loss"] == [float(row["loss"]) for row in rows]
    assert log.history["val_loss"] == [float(row["val_loss"]) for row in rows]
    assert log.history["train_metric"] == [float(row["accuracy"]) for row in rows]
    assert log.history["val_metric"] == [float(row["val_accuracy"]) for row in rows]
    assert log.columns == {"train_loss": "loss", "val_loss": "val_loss", "train_metric": "accuracy", "val_metric": "val_accuracy"}
    assert log.notes == ["Keras counts epochs from 0: epoch 0 of the log is epoch 1 here."]
    assert log.describe() == (
        "Keras CSVLogger, 30 epoch(s): training loss from `loss`, validation loss from `val_loss`, "
        "training accuracy from `accuracy`, validation accuracy from `val_accuracy`."
    )
    assert diagnose_log(log).verdict == "overfitting"


def test_keras_regression_sample_keeps_mae_out_of_the_verdict():
    log = read_training_log(LOGS / "keras_regression_mae.csv")
    rows = _csv_rows("keras_regression_mae.csv")
    assert log.format == "keras"
    assert log.metric_name == "mae" and log.metric_higher_is_better is False
    assert log.history["val_metric"] == [float(row["val_mae"]) for row in rows]
    assert log.notes == [
        "Keras counts epochs from 0: epoch 0 of the log is epoch 1 here.",
        "Metric `mae`: lower is better, so the verdict reads the losses only "
        "(the rule on the train/validation metric gap assumes higher is better).",
    ]
    assert log.columns["learning_rate"] == "learning_rate"  # read into learning_rates, so no longer "Not used"
    assert log.learning_rates == [float(row["learning_rate"]) for row in rows]
    diagnosis = diagnose_log(log)
    assert diagnosis.verdict == "good_fit"
    assert not any("nan" in line for line in diagnosis.evidence), diagnosis.evidence


def test_lightning_sample_takes_the_epoch_means_and_validation_rows():
    log = read_training_log(LOGS / "lightning_metrics.csv")
    rows = _csv_rows("lightning_metrics.csv")
    epoch_rows = [row for row in rows if row["train_loss_epoch"]]
    val_rows = [row for row in rows if row["val_loss"]]
    assert len(rows) == 66 and len(epoch_rows) == len(val_rows) == 15
    assert log.format == "lightning"
    assert [r.epoch for r in log.history] == list(range(1, 16))
    assert log.history["train_loss"] == [float(row["train_loss_epoch"]) for row in epoch_rows]
    assert log.history["val_loss"] == [float(row["val_loss"]) for row in val_rows]
    assert log.history["val_metric"] == [float(row["val_acc"]) for row in val_rows]
    assert all(math.isnan(v) for v in log.history["train_metric"])  # Lightning logged no training accuracy
    assert log.metric_name == "acc"
    assert log.columns == {"train_loss": "train_loss_epoch", "val_loss": "val_loss", "val_metric": "val_acc"}
    assert log.notes == [
        "66 rows (step, validation and epoch-end rows interleaved) aggregated into 15 epochs.",
        "Lightning counts epochs from 0: epoch 0 of the log is epoch 1 here.",
        "Not used: `train_loss_step`.",
    ]
    assert diagnose_log(log).verdict == "lr_too_high"


def test_lightning_step_level_loss_takes_the_last_value_of_each_epoch():
    log = read_training_log(LOGS / "lightning_step_only.csv")
    rows = _csv_rows("lightning_step_only.csv")
    last_step: dict[str, float] = {}
    for row in rows:
        if row["train_loss"]:
            last_step[row["epoch"]] = float(row["train_loss"])
    assert len(last_step) == 6
    assert log.history["train_loss"] == list(last_step.values())
    assert log.history["train_metric"] == [float(row["train_acc_epoch"]) for row in rows if row["train_acc_epoch"]]
    assert log.columns["train_metric"] == "train_acc_epoch"  # the epoch mean, not train_acc_step
    assert log.notes == [
        "42 rows (step, validation and epoch-end rows interleaved) aggregated into 6 epochs.",
        "6 row(s) without an epoch skipped (LearningRateMonitor writes such rows).",
        "`train_loss` is logged every few steps: each epoch shows its last value "
        "(self.log(..., on_epoch=True) would log the epoch mean).",
        "Lightning counts epochs from 0: epoch 0 of the log is epoch 1 here.",
        "Not used: `lr-Adam`, `train_acc_step`.",
    ]


def test_plain_sample_is_read_as_plain_without_a_metric():
    log = read_training_log(LOGS / "plain_not_converged.csv")
    rows = _csv_rows("plain_not_converged.csv")
    assert log.format == "plain" and log.metric_name is None and log.metric_higher_is_better is None
    assert [r.epoch for r in log.history] == [int(row["epoch"]) for row in rows] == list(range(1, 21))
    assert log.history["train_loss"] == [float(row["train_loss"]) for row in rows]
    assert log.columns == {"train_loss": "train_loss", "val_loss": "val_loss"}
    assert log.notes == []
    diagnosis = diagnose_log(log)
    assert diagnosis.verdict == "not_converged"
    assert diagnosis.recommendations[0].knob == "learning_rate" and diagnosis.recommendations[0].value is None


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "binary-file", "text-file"])
def test_a_path_bytes_or_an_open_file_read_alike(kind):
    path = LOGS / "lightning_metrics.csv"
    source = {
        "path": path,
        "str": str(path),
        "bytes": path.read_bytes(),
        "binary-file": io.BytesIO(path.read_bytes()),
        "text-file": io.StringIO(path.read_text(encoding="utf-8")),
    }[kind]
    log = read_training_log(source)
    assert log.history == read_training_log(path).history
    assert len(log.history) == 15 and log.format == "lightning"


def test_the_name_in_messages_comes_from_the_source():
    with pytest.raises(DataError, match=r"^the log is empty$"):
        read_training_log(b"")
    with pytest.raises(DataError, match=r"^upload\.csv is empty$"):
        read_training_log(b"  \n", name="upload.csv")
    upload = io.BytesIO(b"")
    upload.name = "metrics.csv"
    with pytest.raises(DataError, match=r"^metrics\.csv is empty$"):
        read_training_log(upload)


# ---------------------------------------------------------------- read_training_log: more layouts


def _read(text: str):
    return read_training_log(text.encode("utf-8"), name="log.csv")


def test_keras_auc_metric_and_the_accuracy_is_preferred_when_both_are_logged():
    log = _read("epoch,auc,loss,val_auc,val_loss\n0,0.7,0.6,0.68,0.62\n1,0.8,0.5,0.77,0.55\n")
    assert (log.format, log.metric_name, log.metric_higher_is_better) == ("keras", "auc", True)
    assert log.history["val_metric"] == [0.68, 0.77]
    both = _read("epoch,accuracy,auc_1,loss,val_accuracy,val_auc_1,val_loss\n0,0.6,0.7,0.6,0.58,0.68,0.62\n")
    assert both.metric_name == "accuracy"
    assert both.notes[-1] == "Not used: `auc_1`, `val_auc_1`."


def test_keras_sparse_categorical_accuracy_counts_as_accuracy():
    log = _read("epoch,loss,sparse_categorical_accuracy,val_loss,val_sparse_categorical_accuracy\n0,1.2,0.5,1.1,0.52\n")
    assert log.metric_name == "sparse_categorical_accuracy" and log.metric_higher_is_better is True


def test_an_unfamiliar_metric_is_shown_but_kept_out_of_the_verdict():
    log = _read("epoch,loss,val_loss,val_wobble,wobble\n0,1.0,1.0,0.2,0.9\n1,0.8,0.85,0.2,0.9\n")
    assert log.metric_name == "wobble" and log.metric_higher_is_better is None
    assert "Metric `wobble`: its direction is unknown to FitLab" in log.notes[1]


def test_a_lower_is_better_metric_would_mislead_the_gap_rule_so_diagnose_log_leaves_it_out():
    # Training mae above validation mae (dropout is on while Keras measures training): read as a
    # "higher is better" gap it would say overfitting; the losses say good fit.
    lines = ["epoch,loss,mae,val_loss,val_mae"] + [
        f"{e},{0.7 * 0.7**e + 0.3:.4f},0.40,{0.55 * 0.7**e + 0.45:.4f},0.30" for e in range(20)
    ]
    log = _read("\n".join(lines) + "\n")
    assert diagnose(log.history).verdict == "overfitting"  # the metric read the wrong way round
    assert diagnose_log(log).verdict == "good_fit"


def test_keras_na_cells_of_an_interrupted_epoch_are_nan():
    log = _read("epoch,loss,val_loss\n0,0.9,0.95\n1,nan,NA\n")  # TerminateOnNaN: no validation ran
    assert math.isnan(log.history[1].train_loss) and math.isnan(log.history[1].val_loss)
    assert log.notes[0] == "Empty `val_loss` in row(s) 3: read as NaN, which the diagnosis reads as a run that blew up."
    assert diagnose_log(log).verdict == "diverged"


def test_a_pandas_index_column_is_read_as_the_epoch():
    log = _read(",loss,accuracy,val_loss,val_accuracy\n0,0.9,0.6,0.95,0.55\n1,0.7,0.7,0.8,0.65\n")
    assert [r.epoch for r in log.history] == [1, 2]
    assert log.format == "keras"
    assert log.notes[0] == "The first, unnamed column (a pandas index, as `DataFrame.to_csv()` writes it) is read as the epoch."


def test_semicolons_slashes_and_spaces_in_names():
    log = _read("Epoch; Train/Loss; Val/Loss; val/acc\n1; 0.9; 1.0; 0.5\n2; 0.7; 0.8; 0.6\n")
    assert log.format == "plain"
    assert log.history["train_loss"] == [0.9, 0.7]
    assert log.history["val_metric"] == [0.5, 0.6]
    assert log.columns["val_loss"] == "Val/Loss"


LIGHTNING_HEADER = "epoch,step,train_loss_epoch,train_loss_step,val_loss\n"


def test_lightning_epochs_without_validation_are_left_out():
    # check_val_every_n_epoch=2: validation in epochs 1 and 3 (0-based), training every epoch.
    rows = "".join(
        f"{e},{10 * e + 9},,{0.9 - 0.1 * e},\n"
        + (f"{e},{10 * e + 9},,,{1.0 - 0.1 * e}\n" if e % 2 else "")
        + f"{e},{10 * e + 9},{0.85 - 0.1 * e},,\n"
        for e in range(4)
    )
    log = _read(LIGHTNING_HEADER + rows)
    assert [r.epoch for r in log.history] == [2, 4]
    assert log.history["train_loss"] == pytest.approx([0.75, 0.55])
    assert "Epoch(s) 1, 3 left out: only one of the two losses was logged" in log.notes[1]


def test_lightning_a_nan_training_loss_is_kept_even_without_validation():
    log = _read(LIGHTNING_HEADER + "0,9,,0.9,\n0,9,,,1.0\n0,9,0.8,,\n1,19,,nan,\n1,19,nan,,\n")
    assert len(log.history) == 2 and math.isnan(log.history[1].train_loss)
    assert diagnose_log(log).verdict == "diverged"


def test_lightning_test_rows_are_ignored():
    log = _read(
        "epoch,step,test_acc,test_loss,train_loss,val_acc,val_loss\n0,9,,,0.7,,\n0,9,,,,0.6,0.75\n1,19,,,0.5,,\n"
        "1,19,,,,0.7,0.6\n2,20,0.71,0.58,,,\n"
    )
    assert len(log.history) == 2
    assert log.notes[-1] == "Not used: `test_acc`, `test_loss`."


# ---------------------------------------------------------------- malformed logs: one specific sentence


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8\n",
            "row 3 has 2 cell(s) but the header names 3 columns (epoch, loss, val_loss)",
        ),
        (b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8,low\n", "row 3, column val_loss: expected a number, got 'low'"),
        (
            b"epoch,loss,val_loss\n0.5,0.9,0.95\n",
            "row 2, column epoch: expected a whole number (0, 1, 2, ...), got '0.5'",
        ),
        (b"epoch,loss,val_loss\n-1,0.9,0.95\n", "row 2, column epoch: expected a whole number (0, 1, 2, ...), got '-1'"),
        (b"epoch,loss,val_loss\n0,0.9,0.95\n,0.8,0.9\n", "row 3, column epoch: expected the epoch number, got an empty cell"),
        (
            b"epoch,step,val_loss\n0,9,0.9\n",
            "the log needs a training loss column (train_loss or loss, or train_loss_epoch / train_loss_step); "
            "found columns: epoch, step, val_loss",
        ),
        (
            b"step,train_loss_step,val_loss\n9,0.9,\n",
            "this looks like Lightning's metrics.csv (a step column or *_epoch / *_step names) but it has no epoch "
            "column to group its rows by; found columns: step, train_loss_step, val_loss",
        ),
        (
            b"epoch,step,train_loss,val_loss\n0,9,0.9,\n,9,0.8,\n",
            "row 3: has a value for train_loss but its epoch cell is empty",
        ),
        (
            b"epoch,step,train_loss,val_loss\n0,nine,0.9,\n",
            "row 2, column step: expected a whole number (0, 1, 2, ...), got 'nine'",
        ),
        (
            b"epoch,step,train_loss,val_loss\n0,9,,0.9\n1,19,0.8,\n",
            "no epoch has both a training and a validation loss: did validation run at the end of an epoch?",
        ),
        (  # a JSON history is read (tests/test_log_formats.py); JSON that holds something else is not
            b'{"name": "resnet", "layers": [50]}',
            "log.csv is JSON but not a training history: expected Keras' history.history "
            '({"loss": [...], "val_loss": [...]}) or a Hugging Face trainer_state.json (with log_history)',
        ),
        (
            b"\x00\x01events.out.tfevents",
            "log.csv is not a text CSV file: it holds binary data (a TensorBoard event file or a checkpoint?)",
        ),
        (b"epoch,loss,val_loss\n0,0.9,\xff\n", "log.csv is not UTF-8 text: byte 0xff at position 26"),
        (
            b"0,0.9,0.95\n1,0.8,0.9\n",
            "row 1 should name the columns (for example epoch,loss,val_loss) but holds numbers: 0, 0.9, 0.95",
        ),
        (b"epoch,loss,Loss,val_loss\n0,1,1,1\n", "the header (row 1) names the same column twice: 'loss' and 'Loss'"),
        (b"epoch,,val_loss\n0,1,1\n", "column 2 has no name in the header (row 1)"),
        (b"epoch,loss,val_loss\n", "log.csv has a header but no epochs"),
    ],
    ids=[
        "short-row",
        "text-value",
        "fractional-epoch",
        "negative-epoch",
        "empty-epoch",
        "lightning-without-training-loss",
        "lightning-without-epoch-column",
        "lightning-value-without-epoch",
        "lightning-text-step",
        "lightning-losses-never-in-one-epoch",
        "json",
        "binary",
        "not-utf8",
        "no-header",
        "duplicate-column",
        "unnamed-column",
        "header-only",
    ],
)
def test_malformed_logs_say_where_and_what_was_expected(content, message):
    with pytest.raises(DataError) as info:
        read_training_log(content, name="log.csv")
    assert str(info.value) == message


def test_a_folder_is_not_a_log(tmp_path):
    with pytest.raises(DataError) as info:
        read_training_log(tmp_path)
    assert str(info.value) == f"{tmp_path} is a folder; give the CSV file inside it (Lightning: metrics.csv)"


# ---------------------------------------------------------------- issue 8: layouts of real logs (tests/logs/real)


def test_several_runs_in_one_file_the_last_with_two_epochs_is_read():
    # An aborted 1-epoch run, then a 3-epoch run, then a 2-epoch run (CSVLogger(append=True)).
    log = _read("epoch,loss,val_loss\n0,2.0,2.1\n0,1.0,1.1\n1,0.9,1.0\n2,0.8,0.95\n0,0.7,0.8\n1,0.6,0.7\n")
    assert log.runs == 3
    assert log.history["train_loss"] == [0.7, 0.6] and [r.epoch for r in log.history] == [1, 2]
    assert "The file holds 3 runs (epochs restart at rows 3 and 6); read the last, 2 epochs (rows 6-7)." in log.notes


def test_an_aborted_one_epoch_run_before_the_real_run_is_read_not_refused():
    log = _read("epoch,loss,val_loss\n0,2.0,2.1\n0,1.0,1.1\n1,0.9,1.0\n2,0.8,0.95\n3,0.7,0.9\n")
    assert len(log.history) == 4 and log.history[0].train_loss == 1.0
    assert log.notes[0].startswith("The file holds 2 runs (epochs restart at row 3); read the last, 4 epochs")


def test_a_trailing_one_epoch_run_is_passed_over_for_the_run_before_it():
    log = _read("epoch,loss,val_loss\n1,1.0,1.1\n2,0.9,1.0\n3,0.8,0.95\n1,2.0,2.1\n")
    assert log.history["train_loss"] == [1.0, 0.9, 0.8]
    assert "read the last with 2 or more epochs (later runs have 1 epoch), 3 epochs (rows 2-4)" in log.notes[0]


def test_a_run_label_column_is_named_in_the_runs_note():
    log = _read("model,epoch,train_loss,val_loss\nA,1,1.0,1.1\nA,2,0.9,1.0\nB,1,0.8,0.9\nB,2,0.7,0.8\n")
    assert log.history["train_loss"] == [0.8, 0.7]
    assert log.notes[0].endswith("2 epochs (rows 4-5, model B).")
    assert log.notes[-1] == "Not used: `model`."


def test_lightning_runs_appended_read_the_last():
    log = _read(LIGHTNING_HEADER + "0,9,0.9,,\n0,9,,,1.0\n1,19,0.8,,\n1,19,,,0.9\n0,9,0.7,,\n0,9,,,0.8\n1,19,0.6,,\n1,19,,,0.7\n")
    assert log.history["train_loss"] == [0.7, 0.6] and log.runs == 2


def test_a_short_row_in_an_earlier_run_is_passed_over_but_not_in_the_run_read():
    log = _read("epoch,loss,val_loss\n0\n0,1.0,1.1\n1,0.9,1.0\n")
    assert log.history["val_loss"] == [1.1, 1.0]
    with pytest.raises(DataError, match=r"^row 3 has 1 cell\(s\) but the header names 3 columns"):
        _read("epoch,loss,val_loss\n0,1.0,1.1\n1\n")


def test_keras_append_rows_longer_than_the_first_runs_header_are_its_val_twins():
    log = read_training_log(b"epoch;loss\r\n0;0.5\r\n0;0.4;0.45\r\n1;0.3;0.41\r\n", name="log.csv")
    assert log.history["val_loss"] == [0.45, 0.41]
    assert log.columns["val_loss"] == "val_loss"
    assert "so they are read as `val_loss`, in Keras' order" in log.notes[0]


def test_accuracy_in_percent_is_read_as_a_fraction():
    log = _read("epoch,train_loss,train_acc,val_loss,val_acc\n1,1.0,50.0,1.1,45.5\n2,0.8,70.0,0.9,60.25\n")
    assert log.history["train_metric"] == [0.5, 0.7]
    assert log.history["val_metric"] == pytest.approx([0.455, 0.6025])
    assert "`val_acc` is in percent (up to 60.25): read as a fraction (divided by 100)." in log.notes


def test_accuracy_as_a_fraction_is_left_alone():
    log = _read("epoch,train_loss,train_acc,val_loss,val_acc\n1,1.0,0.5,1.1,0.45\n")
    assert log.history["val_metric"] == [0.45] and not any("percent" in n for n in log.notes)


TEXT_LOG = """2025-04-24 21:16:20,207 - INFO - Class weights: [1.02, 9.40]
2025-04-24 21:17:53,828 - INFO - Epoch [1/50], Train Loss: 1.9463, Train Acc: 20.34%, Val Loss: 1.9097, Val Acc: 17.37%
2025-04-24 21:17:53,900 - INFO - Saved best model at epoch 1
2025-04-24 21:19:45,876 - INFO - Epoch [2/50], Train Loss: 1.9370, Train Acc: 22.31%, Val Loss: 1.8992, Val Acc: 24.71%
2025-04-24 21:21:00,000 - INFO - Total training epochs: 50
2025-04-24 21:21:15,541 - INFO - Epoch [1/50], Train Loss: 1.9385, Train Acc: 22.06%, Val Loss: 1.8775, Val Acc: 17.72%
2025-04-24 21:22:53,539 - INFO - Epoch [2/50], Train Loss: 1.8916, Train Acc: 22.37%, Val Loss: 1.7674, Val Acc: 29.27%
2025-04-24 21:24:46,063 - INFO - Epoch [3/50], Train Loss: 1.7140, Train Acc: 35.58%, Val Loss: 1.5319, Val Acc: 42.57%
"""


def test_text_log_lines_among_other_lines_with_percent_and_two_runs():
    log = _read(TEXT_LOG)
    assert log.format == "text" and log.format_title == "text training log"
    assert log.history["train_loss"] == [1.9385, 1.8916, 1.7140]
    assert log.history["val_loss"] == [1.8775, 1.7674, 1.5319]
    assert log.history["val_metric"] == pytest.approx([0.1772, 0.2927, 0.4257])
    assert log.columns == {
        "train_loss": "Train Loss",
        "val_loss": "Val Loss",
        "train_metric": "Train Acc",
        "val_metric": "Val Acc",
    }
    assert log.notes[0] == "Text log: 5 line(s) with an epoch number and a loss read; 3 other line(s) skipped."
    assert log.notes[1] == "The file holds 2 runs (epochs restart at row 6); read the last, 3 epochs (rows 6-8)."
    assert "`Val Acc` is in percent (up to 42.57): read as a fraction (divided by 100)." in log.notes


def test_text_log_pipe_segments_give_a_bare_label_the_split_before_it():
    log = _read(
        "INFO - Epoch 1/50 | Train Loss: 0.2143 Acc: 0.8993 | Val Loss: 0.0870 Acc: 0.9710\n"
        "INFO - Model saved: ckpt_acc_0.9710.pth\n"
        "INFO - Epoch 2/50 | Train Loss: 0.0909 Acc: 0.9675 | Val Loss: 0.0768 Acc: 0.9720\n"
    )
    assert log.history["train_metric"] == [0.8993, 0.9675]
    assert log.history["val_metric"] == [0.9710, 0.9720]
    assert log.columns["train_metric"] == "Train Acc" and log.columns["val_metric"] == "Val Acc"


def test_text_log_with_a_learning_rate_in_brackets():
    log = _read(
        "{'epoch': 300.0,\n 'lr_factor': 0.5}\n"
        "13:55 INFO: Epoch [001/300] - Train Loss: 145.13, Valid Loss: 70.66, LR: [0.001]\n"
        "13:55 INFO:   [SAVE] Best model at epoch 1.\n"
        " 13:56 INFO: Epoch [002/300] - Train Loss: 71.43, Valid Loss: 58.69, LR: [0.0005]\n"
    )
    assert [r.epoch for r in log.history] == [1, 2]
    assert log.history["val_loss"] == [70.66, 58.69]
    assert log.learning_rates == [0.001, 0.0005] and log.columns["learning_rate"] == "LR"


def test_text_log_batch_lines_and_end_of_epoch_lines_make_one_epoch():
    # PyTorch's word_language_model example: running loss every 200 batches, validation at the end.
    lines = []
    for epoch in (1, 2):
        for batch, loss in ((200, 6.5), (400, 6.1)):
            lines.append(
                f"| epoch {epoch:3d} | {batch:5d}/ 2983 batches | lr 20.00 | ms/batch 11.61 | loss {loss - epoch:5.2f} | ppl 600"
            )
        lines.append("-" * 40)
        lines.append(f"| end of epoch {epoch:3d} | time: 35.58s | valid loss {5.5 - epoch:5.2f} | valid ppl 245")
    log = _read("\n".join(lines) + "\n")
    assert log.runs == 1
    assert log.history["train_loss"] == [5.1, 4.1]  # the last running loss of each epoch
    assert log.history["val_loss"] == [4.5, 3.5]
    assert log.learning_rates == [20.0, 20.0]
    assert "`loss` is logged every few steps: each epoch shows its last value (a running value, not the epoch mean)." in log.notes


def test_text_log_with_a_test_split_only_uses_it_for_validation():
    log = _read(
        "INFO - Epoch 1/35, Train Loss: 1.6279, Test Acc: 59.86%\nINFO - Epoch 2/35, Train Loss: 1.2434, Test Acc: 69.33%\n"
    )
    assert log.history["val_metric"] == pytest.approx([0.5986, 0.6933])
    assert not log.has_val_loss
    assert any("`Test Acc`, measured every epoch, stand(s) in for validation" in n for n in log.notes)


def test_a_text_file_without_epoch_lines_is_one_clear_sentence():
    with pytest.raises(DataError) as info:
        _read("command on AWS EC2 SSH:\ntraining output:\nTraining complete.\n")
    assert str(info.value) == (
        "log.csv is neither a CSV with a header row (epoch,loss,val_loss) nor a text log with lines like "
        "'Epoch 3/50, Train Loss: 0.41, Val Loss: 0.45'; its first line is 'command on AWS EC2 SSH:'"
    )


YOLO = (
    "                  epoch,         train/box_loss,         train/cls_loss,   metrics/mAP50-95(B),"
    "    metrics/mAP50(B),           val/box_loss,           val/cls_loss,      lr/pg0\r\n"
    "0,1.0,2.0,0,0,0,0,0.01\r\n1,0.9,1.5,0,0,0,0,0.009\r\n2,0.8,1.2,0.45,0.6,1.1,1.3,0.008\r\n"
)


def test_yolo_results_losses_are_sums_of_parts_and_zero_validation_is_missing():
    log = _read(YOLO)
    assert log.format == "yolo"
    assert log.history["train_loss"] == pytest.approx([3.0, 2.4, 2.0])
    assert math.isnan(log.history[0].val_loss) and log.history[2].val_loss == pytest.approx(2.4)
    assert log.val_loss_missing == (1, 2) and log.has_val_loss
    assert math.isnan(log.history[0].val_metric) and log.history[2].val_metric == 0.45  # mAP50-95 first
    assert log.metric_name == "map50_95_b" and log.metric_higher_is_better is True
    assert log.learning_rates == [0.01, 0.009, 0.008]
    assert "The training loss is the sum train/box_loss + train/cls_loss (as Ultralytics adds them)." in log.notes
    assert "Validation loss 0 in row(s) 2, 3: validation was off in those epochs" in " ".join(log.notes)


def test_cr_cr_lf_line_ends_are_one_line_break():
    log = read_training_log(KERAS.replace("\n", "\r\r\n").encode(), name="log.csv")
    assert log.history["val_loss"] == [0.95, 0.80, 0.72]
    assert log.notes[0] == "Lines end in \\r\\r\\n (written twice in Windows text mode): each is read as one line break."


def test_blank_lines_between_rows_and_camel_case_names():
    log = _read("Epoch,TrainLoss,ValLoss,ValAcc\n\n1,5.8,1.46,0.70\n\n2,2.3,0.76,0.79\n\n")
    assert log.history["train_loss"] == [5.8, 2.3] and log.history["val_metric"] == [0.70, 0.79]


def test_learning_rate_column_is_kept_per_epoch():
    log = _read("epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n0,0.5,0.001,1.0,0.4,1.1\n1,0.6,0.0005,0.9,0.5,1.0\n")
    assert log.learning_rates == [0.001, 0.0005]
    assert log.columns["learning_rate"] == "learning_rate"
    assert log.describe().endswith("learning rate from `learning_rate`.")
    assert _read(KERAS).learning_rates is None


def test_lightning_learning_rate_on_step_rows_only_is_not_per_epoch():
    log = read_training_log(LOGS / "lightning_step_only.csv")
    assert log.learning_rates is None and "learning_rate" not in log.columns


def test_batch_rows_with_a_summary_row_per_epoch():
    log = _read(
        "Epoch,Batch,Loss\r\n1,1,0.24\r\n1,101,22.7\r\n1,summary,1.99,0.30,6986\r\n"
        "2,1,0.15\r\n2,101,16.5\r\n2,summary,1.50,0.49,6986\r\n"
    )
    assert log.format == "plain" and log.history["train_loss"] == [1.99, 1.50]
    assert not log.has_val_loss
    assert "6 rows (several per epoch, by `Batch`) aggregated into 2 epochs" in " ".join(log.notes)


def test_two_validation_sets_the_first_is_read_and_named():
    log = _read(
        "epoch,train_loss,train_acc,real_val_loss,real_val_acc,font_val_loss,font_val_acc\n"
        "1,2.0,0.6,0.9,0.9,1.7,0.7\n2,0.9,0.9,0.8,0.95,1.6,0.75\n"
    )
    assert log.columns == {
        "train_loss": "train_loss",
        "val_loss": "real_val_loss",
        "train_metric": "train_acc",
        "val_metric": "real_val_acc",
    }
    assert log.history["val_loss"] == [0.9, 0.8]
    assert "Several validation sets: read `real_val_loss` (the first), not `font_val_loss`." in log.notes


def test_multi_output_keras_reads_the_total_losses():
    log = _read("epoch,a_pred_loss,b_pred_loss,loss,val_a_pred_loss,val_b_pred_loss,val_loss\n0,0.2,0.3,0.5,0.25,0.3,0.55\n")
    assert log.history["train_loss"] == [0.5] and log.history["val_loss"] == [0.55]
    assert any(n.startswith("Losses per output (`a_pred_loss`") for n in log.notes)


def test_a_text_phase_column_is_not_a_run_boundary():
    log = _read("epoch,phase,train_loss,val_loss\n1,warmup,1.0,1.1\n2,warmup,0.9,1.0\n3,full,0.8,0.9\n")
    assert len(log.history) == 3 and log.runs == 1
    assert log.notes == ["Not used: `phase`."]


def test_no_plain_loss_column_takes_the_mean_loss():
    log = _read("data_loss,epoch,mean_loss,step\nnan,0,nan,492\nnan,1,nan,985\n")
    assert log.columns["train_loss"] == "mean_loss" and len(log.history) == 2
    assert all(math.isnan(v) for v in log.history["train_loss"]) and not log.has_val_loss
