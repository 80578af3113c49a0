"""Training-dynamics findings (core/diagnosis/dynamics.py): thresholds on records built by hand, the verdict
gate, what the verdict says, and runs really trained to show each pathology."""

from __future__ import annotations

import pytest

from core.data.builtin import load_builtin
from core.diagnosis import diagnose
from core.diagnosis.dynamics import (
    DEAD_SHARE,
    DYNAMICS_RULES,
    SATURATED_SHARE,
    STALL_DRIFT,
    VANISHING_RATIO,
    inspect,
    reading,
)
from core.dynamics import Dynamics, LayerInfo
from core.experiments.run import run_experiment
from core.history import EpochRecord
from core.hyperparameters import Hyperparameters


def _record(activation: str = "relu", epochs: int = 30, **columns: list[float | None]) -> Dynamics:
    """A 2-hidden-layer record whose every epoch holds the given per-layer values (3 layers)."""
    hidden = activation
    layers = [
        LayerInfo("hidden layer 1", "0.weight", "0.bias", 2, 8, hidden),
        LayerInfo("hidden layer 2", "2.weight", "2.bias", 8, 8, hidden),
        LayerInfo("output layer", "4.weight", "4.bias", 8, 2, None),
    ]
    d = Dynamics(layers, activation)
    defaults: dict[str, list[float | None]] = {
        "weight_norm": [1.0, 1.0, 1.0],
        "bias_norm": [0.1, 0.1, 0.1],
        "grad_norm": [0.1, 0.1, 0.1],
        "update_ratio": [0.01, 0.01, 0.01],
        "drift": [1.0, 1.0, 1.0],
        "dead": [0.0, 0.0, None] if activation in ("relu", "leaky_relu", "gelu") else [None, None, None],
        "saturated": [0.0, 0.0, None] if activation in ("tanh", "sigmoid") else [None, None, None],
    }
    for epoch in range(epochs + 1):
        d.add(epoch, defaults | columns)
    return d


def _names(d: Dynamics, verdict: str = "underfitting", epochs: int = 30) -> list[str]:
    return [f.name for f in inspect(d, verdict, epochs)]


def test_a_healthy_record_says_nothing() -> None:
    assert _names(_record()) == []


@pytest.mark.parametrize(("share", "found"), [(DEAD_SHARE - 0.01, False), (DEAD_SHARE, True), (0.95, True)])
def test_dead_units_threshold(share: float, found: bool) -> None:
    assert ("dead_units" in _names(_record(dead=[0.1, share, None]))) is found


@pytest.mark.parametrize(("share", "found"), [(SATURATED_SHARE, False), (SATURATED_SHARE + 0.01, True)])
def test_saturation_threshold(share: float, found: bool) -> None:
    assert ("saturated_units" in _names(_record("tanh", saturated=[share, 0.0, None]))) is found


@pytest.mark.parametrize(("first", "found"), [(0.1 * VANISHING_RATIO * 1.01, False), (0.1 * VANISHING_RATIO * 0.99, True)])
def test_vanishing_threshold(first: float, found: bool) -> None:
    assert ("vanishing_gradients" in _names(_record("sigmoid", grad_norm=[first, 0.01, 0.1]))) is found


def test_no_gradient_at_all_is_not_vanishing() -> None:
    """Every unit dead: the output layer's gradient is 0 too, and the ratio says nothing."""
    assert "vanishing_gradients" not in _names(_record(grad_norm=[0.0, 0.0, 0.0], dead=[0.9, 1.0, None]))


def test_stalled_needs_enough_epochs() -> None:
    small = {"drift": [0.05, STALL_DRIFT * 0.9, 0.1]}
    assert _names(_record(**small), "not_converged", 30) == ["stalled_updates"]
    assert _names(_record(**small), "not_converged", 10) == []  # a short run moves little for lack of time
    assert _names(_record(drift=[0.05, STALL_DRIFT, 0.1]), "not_converged", 30) == []


def test_exploding_gradients() -> None:
    d = _record()
    d.stats["grad_norm"][-1] = [0.1, 0.1, 0.1 * 1e4]
    assert _names(d, "lr_too_high")[0] == "exploding_gradients"


@pytest.mark.parametrize("verdict", ["good_fit", "overfitting"])
def test_silent_where_the_network_learned(verdict: str) -> None:
    """Even a record with every pathology says nothing when the loss says the network learned."""
    d = _record("relu", dead=[0.99, 0.99, None], grad_norm=[1e-9, 0.1, 0.1], drift=[0.01, 0.01, 0.01])
    assert _names(d, verdict) == []
    assert len(_names(d, "underfitting")) >= 2


def test_no_record_no_finding() -> None:
    assert inspect(None, "underfitting", 30) == []
    assert "no per-layer record" in reading(None, [], "underfitting")


def test_every_rule_has_advice() -> None:
    from core.diagnosis.advice import Advice

    for rule in DYNAMICS_RULES:
        advice = Advice(Hyperparameters(activation="sigmoid", optimizer="sgd", hidden_layers=8, learning_rate=0.01))
        rule.recommend(advice)
        assert advice.items, rule.name


def _history(losses: list[float]) -> list[EpochRecord]:
    return [EpochRecord(i + 1, loss, loss, 0.5, 0.5, 0.01) for i, loss in enumerate(losses)]


def test_the_verdict_says_what_explains_it() -> None:
    hp = Hyperparameters(activation="sigmoid", optimizer="sgd", hidden_layers=3, learning_rate=0.01, epochs=30)
    flat = _history([0.693] * 30)
    d = _record("sigmoid", grad_norm=[1e-7, 1e-4, 0.1])
    plain = diagnose(flat, hp, classes=2)
    explained = diagnose(flat, hp, classes=2, dynamics=d)
    assert explained.verdict == plain.verdict  # the loss decides the verdict; the layers explain it
    assert plain.inside == [] and explained.inside[0]["name"] == "vanishing_gradients"
    assert "vanishing gradients" in explained.title and "Inside the network" in explained.summary
    assert explained.evidence[0].startswith("inside the network, vanishing gradients")
    first = explained.recommendations[0]
    assert (first.knob, first.value) == ("activation", "relu")  # not "more epochs"
    assert reading(d, explained.inside, explained.verdict).startswith("Vanishing gradients")


@pytest.mark.parametrize(
    ("label", "hp"),
    [
        (
            "vanishing_gradients",
            {"hidden_layers": 8, "width": 32, "activation": "sigmoid", "optimizer": "sgd", "learning_rate": 0.01},
        ),
        ("dead_units", {"optimizer": "sgd", "learning_rate": 1.0}),
        ("saturated_units", {"activation": "tanh", "learning_rate": 0.3}),
    ],
)
def test_constructed_pathologies_are_found(label: str, hp: dict[str, object]) -> None:
    """Small versions of bench/bench_dynamics.py's suite (the full one, with its held-out seed, is a bench)."""
    result = run_experiment(load_builtin("circles", samples=300, seed=0), Hyperparameters(**hp, epochs=40, early_stopping=False))
    assert [f["name"] for f in result.diagnosis.inside][:1] == [label]
    assert result.diagnosis.verdict != "good_fit"


def test_a_good_run_has_a_record_and_no_finding() -> None:
    result = run_experiment(load_builtin("moons", samples=300, seed=0), Hyperparameters(epochs=60, width=32))
    assert result.dynamics is not None and len(result.dynamics.epochs) >= 3
    assert result.diagnosis.inside == []
    assert [f.name for rule in DYNAMICS_RULES if (f := rule.detect(result.dynamics, len(result.history)))] == []


def test_a_run_still_training_is_read_so_far() -> None:
    """No verdict yet: the page must not say "nothing wrong" over a record that already shows the problem."""
    sick = _record("sigmoid", grad_norm=[1e-8, 1e-5, 0.1])
    assert reading(sick, [], None).startswith("So far (the verdict comes when the run ends): vanishing gradients")
    assert reading(_record(), [], None).startswith("So far nothing unusual")
    assert reading(_record(), [], "good_fit").startswith("Nothing wrong inside the network. At epoch 30:")


def test_dead_units_in_a_narrow_layer_ask_for_width_first() -> None:
    """A layer of one unit loses all of it at once (bench/scenarios.py's tiny_circles): width, then the rate."""
    from core.diagnosis.advice import Advice
    from core.diagnosis.dynamics import BY_NAME

    narrow, wide = Advice(Hyperparameters(width=1, learning_rate=0.01)), Advice(Hyperparameters(width=128, learning_rate=0.01))
    BY_NAME["dead_units"].recommend(narrow)
    BY_NAME["dead_units"].recommend(wide)
    assert [(r.knob, r.value) for r in narrow.items][:2] == [("width", 4), ("learning_rate", 0.001)]
    assert [(r.knob, r.value) for r in wide.items][:2] == [("learning_rate", 0.001), ("activation", "leaky_relu")]
