"""The per-layer probe (core/training/probe.py) and its record (core/dynamics.py), on real training."""

from __future__ import annotations

import json
import math

import pytest
import torch

from core.data.builtin import load_builtin
from core.dynamics import HISTOGRAM_BINS, Dynamics, snapshot_epochs
from core.hyperparameters import Hyperparameters
from core.training.probe import DEAD_BELOW, SATURATED_BEYOND, describe_layers
from core.training.trainer import Trainer


def _trained(hp: Hyperparameters, name: str = "moons", samples: int = 300, record: bool = True) -> Trainer:
    trainer = Trainer(load_builtin(name, samples=samples, seed=0), hp, record_dynamics=record)
    list(trainer)
    return trainer


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_recording_changes_no_loss(dropout: float) -> None:
    """The probe draws nothing from the training's random generator and touches no gradient it uses."""
    hp = Hyperparameters(epochs=8, dropout=dropout, early_stopping=False, width=16)
    plain = _trained(hp, record=False)
    probed = _trained(hp, record=True)
    assert [r.val_loss for r in plain.history] == [r.val_loss for r in probed.history]
    assert [r.train_loss for r in plain.history] == [r.train_loss for r in probed.history]
    assert plain.dynamics is None and probed.dynamics is not None


def test_record_matches_the_network() -> None:
    hp = Hyperparameters(epochs=6, hidden_layers=2, width=16, early_stopping=False)
    trainer = _trained(hp)
    d = trainer.dynamics
    assert d is not None and trainer.model is not None
    state = trainer.model.state_dict()
    keys = [key for layer in d.layers for key in (layer.weight, layer.bias)]
    assert keys == list(state)  # the layers name exactly the model file's tensors, in order
    assert sum(layer.count for layer in d.layers) == sum(t.numel() for t in state.values())
    assert [layer.activation for layer in d.layers] == ["relu", "relu", None]
    assert d.epochs[0] == 0 and d.epochs[-1] == 6 and d.epochs == sorted(set(d.epochs))
    # at epoch 0 nothing has moved and no gradient exists yet
    assert d.at("drift", 0) == [0.0, 0.0, 0.0]
    assert d.at("grad_norm", 0) == [None, None, None] and d.at("update_ratio", 0) == [None, None, None]
    # the last row is the weights the trainer ended with (no early stopping: the last epoch's)
    for i, layer in enumerate(d.layers):
        assert d.stats["weight_norm"][-1][i] == pytest.approx(float(state[layer.weight].norm()), rel=1e-6)
        assert d.stats["bias_norm"][-1][i] == pytest.approx(float(state[layer.bias].norm()), rel=1e-6)
        assert d.stats["dead"][-1][i] is None if layer.activation is None else 0 <= d.stats["dead"][-1][i] <= 1
        assert d.stats["saturated"][-1][i] is None


def test_histograms_count_every_weight() -> None:
    trainer = _trained(Hyperparameters(epochs=4, width=8, early_stopping=False))
    d = trainer.dynamics
    assert d is not None and trainer.model is not None
    assert [s.epoch for s in d.snapshots][0] == 0 and d.snapshots[-1].epoch == 4
    state = trainer.model.state_dict()
    last = d.snapshots[-1]
    for layer, weights, biases in zip(d.layers, last.weights, last.biases, strict=True):
        assert sum(weights.counts) == state[layer.weight].numel() and len(weights.counts) == HISTOGRAM_BINS
        assert weights.low == pytest.approx(float(state[layer.weight].min()))
        assert weights.high == pytest.approx(float(state[layer.weight].max()))
        assert sum(biases.counts) == state[layer.bias].numel()


def test_dead_units_are_those_silent_on_every_validation_row() -> None:
    """Counted again here from the finished network: a unit is dead when its input is <= 0 on all probe rows."""
    hp = Hyperparameters(epochs=30, optimizer="sgd", learning_rate=1.0, early_stopping=False, width=32)
    trainer = _trained(hp)
    d, model = trainer.dynamics, trainer.model
    assert d is not None and model is not None
    x_val = torch.as_tensor(trainer.dataset.x_val[:128], dtype=torch.float32)
    with torch.no_grad():
        first = model[0](x_val)
        second = model[2](torch.relu(first))
    expected = [float((h <= DEAD_BELOW["relu"]).all(dim=0).float().mean()) for h in (first, second)]
    assert d.stats["dead"][-1][:2] == pytest.approx(expected)
    assert max(expected) >= 0.7  # this construction kills units (the suite's dead_units case)


def test_saturated_share_counts_inputs_in_the_tails() -> None:
    hp = Hyperparameters(epochs=20, activation="tanh", learning_rate=0.3, early_stopping=False, width=16)
    trainer = _trained(hp)
    d, model = trainer.dynamics, trainer.model
    assert d is not None and model is not None
    x_val = torch.as_tensor(trainer.dataset.x_val[:128], dtype=torch.float32)
    with torch.no_grad():
        first = model[0](x_val)
    expected = float((first.abs() > SATURATED_BEYOND["tanh"]).float().mean())
    assert d.stats["saturated"][-1][0] == pytest.approx(expected)


def test_a_diverged_run_is_recorded_as_json() -> None:
    hp = Hyperparameters(epochs=30, optimizer="sgd", learning_rate=1.0, hidden_layers=4, width=256, early_stopping=False)
    trainer = _trained(hp, name="sine", samples=200)
    assert trainer.status == "diverged"
    d = trainer.dynamics
    assert d is not None
    text = json.dumps(d.to_dict(), allow_nan=False)  # no NaN or infinity reaches JSON
    back = Dynamics.from_dict(json.loads(text))
    assert back.epochs == d.epochs and back.layers == d.layers
    assert back.epochs[-1] == len(trainer.history)  # the diverged epoch is measured too
    finite = [v for row in back.stats["weight_norm"] for v in row if v is not None]
    assert all(math.isfinite(v) for v in finite)


def test_round_trip_keeps_every_number() -> None:
    d = _trained(Hyperparameters(epochs=5, width=8, activation="sigmoid")).dynamics
    assert d is not None
    back = Dynamics.from_dict(json.loads(json.dumps(d.to_dict())))
    assert back.stats == {k: [[None if v is None else float(v) for v in row] for row in rows] for k, rows in d.stats.items()}
    assert [s.epoch for s in back.snapshots] == [s.epoch for s in d.snapshots]
    assert back.snapshots[-1].weights[0].counts == d.snapshots[-1].weights[0].counts


def test_snapshot_plan() -> None:
    assert snapshot_epochs(8) == set(range(9))
    plan = snapshot_epochs(300)
    assert set(range(6)) <= plan and 300 in plan and len(plan) <= 40


def test_layers_of_a_linear_model() -> None:
    from core.training.model import build_model

    layers = describe_layers(build_model(3, 2, Hyperparameters(hidden_layers=0)))
    assert [(layer.name, layer.weight, layer.inputs, layer.outputs, layer.activation) for layer in layers] == [
        ("output layer", "0.weight", 3, 2, None)
    ]
