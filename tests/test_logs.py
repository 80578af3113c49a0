"""core.logs: reading per-epoch logs written by other tools (Keras CSVLogger, Lightning metrics.csv, plain CSV)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from core.data import DataError
from core.diagnosis import diagnose
from core.history import History
from core.logs import diagnose_log, read_history_csv, read_training_log


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


def test_missing_val_loss_is_a_data_error(tmp_path):
    with pytest.raises(DataError) as info:
        read_history_csv(_write(tmp_path, "epoch,loss,accuracy\n0,1.0,0.5\n1,0.8,0.6\n"))
    message = str(info.value)
    assert "val_loss" in message
    assert "accuracy" in message  # it lists what it found


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

LOGS = Path(__file__).resolve().parent / "logs"


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
        "Not used: `learning_rate`.",
    ]
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
            b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8,0.9\n1,0.7,0.85\n",
            "row 4: epoch 1 appears again (row 3); a one-row-per-epoch log needs increasing epochs. "
            "Does the file hold two runs (CSVLogger(append=True))? Keep one run's rows.",
        ),
        (
            b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8,0.9\n0,0.95,0.97\n",
            "row 4: epoch 0 goes back from 1 (row 3); a one-row-per-epoch log needs increasing epochs. "
            "Does the file hold two runs (CSVLogger(append=True))? Keep one run's rows.",
        ),
        (
            b"epoch,loss,accuracy\n0,0.9,0.5\n",
            "the log needs a validation loss column (val_loss); found columns: epoch, loss, accuracy. "
            "Keras writes val_loss only when fit() is given validation_data or validation_split",
        ),
        (
            b"epoch,step,train_loss_step\n0,9,0.9\n",
            "the log needs a validation loss column (val_loss); found columns: epoch, step, train_loss_step. "
            "Lightning logs val_loss when validation_step calls self.log('val_loss', ...)",
        ),
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
            b"epoch,step,train_loss,val_loss\n0,9,0.9,\n1,19,0.8,\n",
            "column val_loss has no values in any row: did validation run? a diagnosis needs both losses per epoch",
        ),
        (
            b"epoch,step,train_loss,val_loss\n0,9,,0.9\n1,19,0.8,\n",
            "no epoch has both a training and a validation loss: did validation run at the end of an epoch?",
        ),
        (
            b"epoch,step,train_loss,val_loss\n1,9,0.9,\n1,9,,0.95\n0,19,0.8,\n",
            "row 4: epoch goes back from 1 (row 3) to 0; a metrics.csv holds one run, in epoch order. Keep one run's rows.",
        ),
        (
            b'{"loss": [0.9, 0.8]}',
            "log.csv looks like JSON, not CSV: give the CSV file a logger wrote "
            "(Keras' CSVLogger, Lightning's metrics.csv, or epoch,train_loss,val_loss)",
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
        "repeated-epoch",
        "two-runs-appended",
        "keras-without-validation",
        "lightning-without-validation",
        "lightning-without-training-loss",
        "lightning-without-epoch-column",
        "lightning-value-without-epoch",
        "lightning-text-step",
        "lightning-validation-never-logged",
        "lightning-losses-never-in-one-epoch",
        "lightning-two-runs",
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
