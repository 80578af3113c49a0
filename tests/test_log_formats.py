"""JSON histories (core/logs/jsonlog.py), each on a real file of its format (tests/logs/formats/README.md
names the sources), plus pandas' dumps of a Keras history and broken JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from core.data.csvfile import DataError
from core.logs.reader import read_training_log

FORMATS = Path(__file__).parent / "logs" / "formats"
KERAS = FORMATS / "keras-covid-cnn-training_history.json"
HF_EVAL = FORMATS / "huggingface-lora-imdb-distilbert-trainer_state.json"
HF_TRAIN = FORMATS / "huggingface-bert-weibo-rumor-train-only-trainer_state.json"


def test_keras_history_json() -> None:
    raw = json.loads(KERAS.read_text())
    log = read_training_log(KERAS)
    assert log.format == "keras_json"
    assert log.history["train_loss"] == raw["loss"] and log.history["val_loss"] == raw["val_loss"]
    assert log.history["val_metric"] == raw["val_accuracy"] and log.metric_name == "accuracy"
    assert [r.epoch for r in log.history] == [1, 2, 3]
    assert any("history.history" in note for note in log.notes)


@pytest.mark.parametrize("orient", ["columns", "records", "index_list"])
def test_pandas_dumps_of_a_keras_history(tmp_path: Path, orient: str) -> None:
    raw = json.loads(KERAS.read_text())
    frame = pd.DataFrame(raw)
    path = tmp_path / "history.json"
    if orient == "index_list":
        path.write_text(json.dumps({k: list(v) for k, v in raw.items()}))
    else:
        path.write_text(frame.to_json(orient=orient))
    log = read_training_log(path)
    assert log.history["val_loss"] == pytest.approx(raw["val_loss"])
    assert log.history["train_loss"] == pytest.approx(raw["loss"])


def test_trainer_state_with_evaluations() -> None:
    raw = json.loads(HF_EVAL.read_text())["log_history"]
    evals = [row for row in raw if "eval_loss" in row]
    log = read_training_log(HF_EVAL)
    assert log.format == "huggingface"
    assert log.history["val_loss"] == [row["eval_loss"] for row in evals]
    # the first point's training loss: the mean of the losses logged before the first evaluation (step 125)
    first = [row["loss"] for row in raw if "loss" in row and row["step"] <= evals[0]["step"]]
    assert len(first) == 6 and log.history["train_loss"][0] == pytest.approx(sum(first) / len(first))
    assert len(log.history) == 3 and log.learning_rates is not None
    assert any("3 evaluations" in note for note in log.notes)


def test_trainer_state_without_evaluations() -> None:
    raw = json.loads(HF_TRAIN.read_text())["log_history"]
    losses = [row["loss"] for row in raw if "loss" in row]
    log = read_training_log(HF_TRAIN)
    assert log.history["train_loss"] == losses  # the closing summary row (train_loss, train_runtime) left out
    assert len(losses) == 51 and all(math.isnan(v) for v in log.history["val_loss"])
    assert any("no evaluations" in note for note in log.notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"loss": [0.5, 0.4', "not valid JSON"),
        ('{"name": "resnet", "layers": 50}', "not a training history"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"log_history": [{"epoch": 1, "step": 5}]}', "no `loss` or `eval_loss`"),
    ],
)
def test_broken_json_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_training_log(path)


KERAS_CONSOLE = FORMATS / "keras-console-eip-session3-README.md"


def test_keras_console_output_in_a_readme() -> None:
    """Verbose=1 output pasted into a README, with LearningRateScheduler lines (`Epoch 00002: ...`) between."""
    log = read_training_log(KERAS_CONSOLE)
    assert log.format == "keras_console" and len(log.history) == 50
    assert log.history[0].train_loss == 1.5255 and log.history[0].val_loss == 2.9379
    assert log.history[-1].val_loss == 0.5463 and log.history[-1].val_metric == 0.8225
    assert log.metric_name == "accuracy"


@pytest.mark.parametrize(
    "lines",
    [
        # verbose=2 (constructed in Keras' own layout)
        [
            "Epoch 1/3",
            "32/32 - 1s - loss: 0.9000 - val_loss: 0.9500 - 1s/epoch - 20ms/step",
            "Epoch 2/3",
            "32/32 - 0s - loss: 0.7000 - val_loss: 0.8000",
            "Epoch 3/3",
            "32/32 - 0s - loss: 0.6000 - val_loss: 0.7900",
        ],
        # Keras 3's bar, with the bar's earlier states pasted too; metrics before the loss
        [
            "Epoch 1/3",
            "\x1b[1m 1/32\x1b[0m ━━━━━━━━━━━━━━━━━━━━ 5s 200ms/step - accuracy: 0.4 - loss: 1.2",
            "32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 9ms/step - accuracy: 0.6 - loss: 0.9000 - val_accuracy: 0.6 - val_loss: 0.9500",
            "Epoch 2/3",
            "32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.7 - loss: 0.7000 - val_accuracy: 0.6 - val_loss: 0.8000",
            "Epoch 3/3",
            "32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.8 - loss: 0.6000 - val_accuracy: 0.7 - val_loss: 0.7900",
        ],
        # TF1's `Train on N samples` line and an [====] bar
        [
            "Train on 800 samples, validate on 200 samples",
            "Epoch 1/3",
            "800/800 [==============================] - 1s 1ms/sample - loss: 0.9000 - val_loss: 0.9500",
            "Epoch 2/3",
            "800/800 [==============================] - 0s 301us/sample - loss: 0.7000 - val_loss: 0.8000",
            "Epoch 3/3",
            "800/800 [==============================] - 0s 298us/sample - loss: 0.6000 - val_loss: 0.7900",
        ],
    ],
    ids=["verbose-2", "keras-3", "tf1"],
)
def test_keras_console_layouts(lines: list[str]) -> None:
    log = read_training_log("\n".join(lines).encode(), name="console.txt")
    assert log.history["train_loss"] == [0.9, 0.7, 0.6] and log.history["val_loss"] == [0.95, 0.8, 0.79]
