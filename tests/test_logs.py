"""core.logs: reading per-epoch logs written by other tools (Keras CSVLogger, plain CSV)."""

from __future__ import annotations

import math

import pytest

from core.data import DataError
from core.history import History
from core.logs import read_history_csv


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
