"""core.logs.reader on the real logs of tests/logs/real (issue 8): every file reads, with the epochs it holds.

The epoch counts were counted by hand from the raw files (head/tail, and for files holding several
runs, the rows of the last run with 2 or more epochs), not taken from the reader.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from core.logs.reader import read_training_log

REAL = Path(__file__).resolve().parent / "logs" / "real"

# file -> epochs of the run the reader must return, counted in the file itself.
EPOCHS = {
    # unambiguous
    "keras-brain-tumor-cnn-multirun.csv": 5,  # 4 runs; the last is rows 21-25, epochs 0-4
    "keras-brats-unet-segmentation-lr-decay.log": 24,  # epochs 0-23
    "keras-car-classifier-val-stalls-100ep.log": 100,  # 0-99
    "keras-cnn-classifier-widening-gap.csv": 11,  # 0-10
    "keras-covid-ct-segmentation-dice.csv": 20,  # 0-19
    "keras-deepfake-cnn-val-rises-7ep.csv": 7,  # 0-6, \r\r\n line ends
    "keras-deepfake-semicolon-broken-rows-unnamed-val.csv": 12,  # rows 7-18, epochs 0-11 after junk rows
    "keras-drowsiness-constant-val-acc-near-ln2.csv": 39,  # 40 lines, no epoch column
    "keras-electrical-faults-mlp-epoch-last-col.csv": 50,  # 1-50 in the last column
    "keras-heart-sound-transfer-250ep.csv": 250,  # 0-249
    "keras-image-classifier-loss-spike-val-789.csv": 14,  # 0-13
    "keras-plant-disease-cnn.csv": 9,  # 0-8
    "keras-plant-diseases-small-cnn.csv": 25,  # 0-24
    "keras-sleep-apnea-cnn-two-runs.csv": 50,  # 2 runs of 0-49; rows 52-101
    "keras-tcc-segmentation-5ep.csv": 5,  # 0-4
    "keras-tomato-leaf-cnn.csv": 29,  # 0-28
    "keras-unet-segmentation-dice-nan-metric.csv": 32,  # 0-31
    "keras-voice-id-tiny-val.log": 10,  # 0-9
    "lightning-oedometer-nan-loss-no-val.csv": 28,  # one row per epoch 0-27
    "pytorch-custom-batch-and-summary-rows-no-val.csv": 10,  # one summary row per epoch 1-10
    "pytorch-emotion-cnn-three-aborted-runs.log": 11,  # runs of 10, 8, 11 'Epoch [k/50]' lines
    "pytorch-font-cnn-two-val-sets-plateau.csv": 25,  # 1-25
    "pytorch-lenet-pokemon-classifier.csv": 30,  # 1-30
    "pytorch-minivit-summed-train-loss-no-epoch-col.csv": 50,  # 51 lines, no epoch column
    "pytorch-plant-disease-blank-line-rows.csv": 10,  # 1-10, a blank line after each
    "pytorch-resnet18-crocodile-pipe-format-two-runs.log": 50,  # 2 runs of 'Epoch k/50' lines
    "pytorch-wordlm-rnn-relu-lr20-nan-from-epoch1.md": 5,  # 5 '| end of epoch' lines
    "yolo11-drone-val-only-last-epoch-zeros.csv": 20,  # 1-20
    "yolo11-gallstone-seg-10ep.csv": 10,  # 1-10
    "yolov8-ppe-padded-header-10ep.csv": 10,  # 0-9
    # ambiguous (not scored by the bench, but read all the same)
    "cgcnn-regression-val-spikes-fixed-lr-300ep.txt": 300,  # 'Epoch [001/300]' to '[300/300]'
    "driving-steering-regression-phase-col.csv": 40,  # 1-40
    "keras-behavioral-cloning-regression-5ep.csv": 5,  # 0-4
    "keras-blood-group-fingerprint-lr-drops.csv": 35,  # 0-34
    "keras-cat-classifier-l2-dominated-loss-restart.log": 48,  # 0-1, then 0-47
    "keras-deepfake-tiny-val-near-chance.csv": 7,  # 0-6
    "keras-dog-vs-cat-semicolon-sep.csv": 4,  # 0-3
    "keras-emotion-resnet50-val-spikes.log": 17,  # 0-16
    "keras-lung-cancer-finetune-unstable-val.csv": 10,  # 0-9
    "keras-mnist-cnn-lr-schedule.csv": 30,  # 0-29
    "keras-mnist-digits-two-runs.csv": 10,  # 0-4, then 0-9
    "keras-multimodal-deepfake-multi-output-lr-decay.csv": 15,  # 0-14
    "keras-power-consumption-regression-no-epoch-col.csv": 47,  # 48 lines, no epoch column
    "keras-traffic-sign-cnn.csv": 10,  # 0-9
    "keras-traffic-sign-lr-col-val-best-at-end.csv": 10,  # 0-9
    "lightning-metrics-step-rows-image-classifier.csv": 5,  # epochs 0-4 with train and val (5: validate only)
    "lstm-timeseries-flat-val.csv": 15,  # 1-15
    "pytorch-betel-two-models-and-restart.csv": 10,  # 49 + 50 + 10 rows; the last run, QTL_Baseline 1-10
    "pytorch-cifar10-train-loss-test-acc-only.log": 35,  # 'Epoch 1/35' to '35/35'
    "pytorch-resnet152-qnn-plateau-60ep.csv": 60,  # 0-59
    "pytorch-unet-dice-no-val-loss.csv": 12,  # index 0-11
    "tabular-mlp-heart-disease.csv": 50,  # 1-50
    "volatility-prediction-loss-climbs-back.csv": 19,  # 1-19
}
# Logs that hold no validation loss at all (val_loss NaN for lack of one).
NO_VALIDATION = {
    "lightning-oedometer-nan-loss-no-val.csv",
    "pytorch-custom-batch-and-summary-rows-no-val.csv",
    "pytorch-cifar10-train-loss-test-acc-only.log",
    "pytorch-unet-dice-no-val-loss.csv",
}

with open(REAL / "labels.csv", newline="", encoding="utf-8") as handle:
    LABELS = list(csv.DictReader(handle))
UNAMBIGUOUS = [row["file"] for row in LABELS if row["ambiguous"] == "no"]
AMBIGUOUS = [row["file"] for row in LABELS if row["ambiguous"] == "yes"]


def test_every_labelled_file_has_a_hand_counted_epoch_count():
    assert len(UNAMBIGUOUS) == 30
    assert sorted(EPOCHS) == sorted(row["file"] for row in LABELS)


@pytest.mark.parametrize("name", UNAMBIGUOUS)
def test_unambiguous_log_reads_with_its_epochs(name):
    log = read_training_log(REAL / name)
    assert len(log.history) == EPOCHS[name] >= 4
    for column in ("train_loss", "val_loss"):
        assert not any(math.isinf(v) for v in log.history[column])  # finite or NaN
    assert log.has_val_loss == (name not in NO_VALIDATION)
    assert [r.epoch for r in log.history] == list(range(log.history[0].epoch, log.history[0].epoch + len(log.history)))


@pytest.mark.parametrize("name", AMBIGUOUS)
def test_ambiguous_log_reads_too(name):
    log = read_training_log(REAL / name)
    assert len(log.history) == EPOCHS[name]
    assert log.has_val_loss == (name not in NO_VALIDATION)


def test_values_come_from_the_rows_of_the_run_read():
    emotion = read_training_log(REAL / "pytorch-emotion-cnn-three-aborted-runs.log")
    # line 198: Epoch [1/50], Train Loss: 1.9408, Train Acc: 22.41%, Val Loss: 1.8798, Val Acc: 22.92%
    assert emotion.history[0].train_loss == 1.9408 and emotion.history[0].val_loss == 1.8798
    assert emotion.history[0].val_metric == pytest.approx(0.2292)
    assert emotion.runs == 3
    crocodile = read_training_log(REAL / "pytorch-resnet18-crocodile-pipe-format-two-runs.log")
    # line 130: Epoch 1/50 | Train Loss: 0.2143 Acc: 0.8993 | Val Loss: 0.0866 Acc: 0.9699
    assert (crocodile.history[0].train_metric, crocodile.history[0].val_metric) == (0.8993, 0.9699)
    assert crocodile.history[0].val_loss == 0.0866
    semicolon = read_training_log(REAL / "keras-deepfake-semicolon-broken-rows-unnamed-val.csv")
    assert semicolon.history[0].val_loss == 0.14898488324135542  # row 7: 0;0.0694...;0.1489...
    drone = read_training_log(REAL / "yolo11-drone-val-only-last-epoch-zeros.csv")
    assert drone.val_loss_missing == tuple(range(1, 20))
    assert drone.history[-1].val_loss == pytest.approx(1.17534 + 0.60804 + 1.15709)


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("keras-blood-group-fingerprint-lr-drops.csv", 0.0010000000474974513, 9.999999974752427e-07),
        ("cgcnn-regression-val-spikes-fixed-lr-300ep.txt", 0.001, 0.001),
        ("pytorch-wordlm-rnn-relu-lr20-nan-from-epoch1.md", 20.0, None),
        ("yolo11-gallstone-seg-10ep.csv", 0.000546249, 0.000181703),
    ],
)
def test_learning_rates_are_read_per_epoch(name, first, last):
    log = read_training_log(REAL / name)
    assert log.learning_rates is not None and len(log.learning_rates) == len(log.history)
    assert log.learning_rates[0] == first
    if last is not None:
        assert log.learning_rates[-1] == last
