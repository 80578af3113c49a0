"""What the layers say: training-dynamics findings read from a run's per-layer record (core.dynamics).

The loss curves say *that* a run fails to learn; these say *why*, from inside the network. Each rule
is one small class (as the verdict rules are) and DYNAMICS_RULES is their priority. They speak only
where a run failed to learn (EXPLAINS: the loss verdicts that a network unable to learn produces);
on a good fit, or an overfit (the network learned its training rows well), they stay silent. A log
from another tool has no per-layer record: the engine says so, and nothing is guessed.

Thresholds, and where they come from (measured values: bench/REPORT-dynamics.md):
- dead units: >= 70 % of a ReLU-family layer's units output nothing for every validation probe row
  (DeepDiagnosis's dead-node threshold; core.training.probe says what "nothing" means per activation);
- saturated units: > 50 % of a tanh or sigmoid layer's inputs in the flat tails (DeepDiagnosis: more
  than half beyond the threshold; the tails per activation in core.training.probe);
- vanishing gradients: the first layer's weight gradient under 1/1000 of the output layer's (the
  median over the run). The healthy runs of bench/scenarios.py keep it within 1/20; an 8-layer sigmoid
  network's is near 1e-6 (AutoTrainer and SageMaker Debugger compare the layers' gradients the same way);
- exploding gradients: a gradient that became infinite or NaN, or grew 1000-fold from its first reading;
- stalled updates: after >= 20 epochs, no layer's weights moved 25 % of their initial size (healthy
  runs move some layer by 80 % and more; a learning rate 100x too small moves them 1-20 %).
"""

from __future__ import annotations

import math
import statistics
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.diagnosis.advice import Advice
from core.diagnosis.result import Diagnosis
from core.dynamics import Dynamics
from core.hyperparameters import Hyperparameters

EXPLAINS = ("diverged", "lr_too_high", "not_converged", "underfitting")
DEAD_SHARE = 0.70
SATURATED_SHARE = 0.50
VANISHING_RATIO = 1e-3
EXPLODING_GROWTH = 1e3
STALL_DRIFT = 0.25
STALL_MIN_EPOCHS = 20
NARROW = 8  # a hidden layer this narrow can lose all of its units at once: dead units then ask for width first
TAIL = 1 / 3  # dead and saturated shares are read over the last third of the measured epochs

NO_RECORD = "no per-layer record: a log from another tool has only its curves, so nothing is said about the inside of the network"


@dataclass(frozen=True)
class DynamicsFinding:
    name: str  # vanishing_gradients, exploding_gradients, dead_units, saturated_units, stalled_updates
    title: str  # "Vanishing gradients"
    layer: str  # the layer it is worst in ("" when it is the whole network)
    evidence: str  # one sentence with the numbers, the threshold and its source

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DynamicsFinding:
        return cls(str(values["name"]), str(values["title"]), str(values.get("layer", "")), str(values["evidence"]))


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _tail_median(d: Dynamics, stat: str, layer: int) -> float | None:
    values = d.series(stat, layer)
    start = min(len(values) - 1, int(len(values) * (1 - TAIL))) if values else 0
    tail = _finite(values[start:])
    return statistics.median(tail) if tail else None


def toward_usual_rate(a: Advice, direction: int) -> Any:
    """The learning rate to move to: the cheat sheet's usual start for this optimizer when it lies that way,
    else one step on the slider. (Two steps at a time took Fix it for me three rounds from Adam at 0.3 to a
    good fit where the loss advice's jump to the usual start took one: bench/REPORT-dynamics.md.)"""
    if a.hp is None:
        return None
    usual = a.usual_learning_rate()
    if (a.hp.learning_rate - usual) * direction < 0:
        return usual
    return a.step("learning_rate", direction)


class DynamicsRule(ABC):
    name: str
    title: str

    @abstractmethod
    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        """The finding, or None when this record shows no sign of the problem."""

    @abstractmethod
    def recommend(self, a: Advice) -> None:
        """The knobs to turn, strongest first."""

    def found(self, layer: str, evidence: str) -> DynamicsFinding:
        return DynamicsFinding(self.name, self.title, layer, evidence)


class ExplodingGradients(DynamicsRule):
    name, title = "exploding_gradients", "Exploding gradients"

    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        for i, layer in enumerate(d.layers):
            grads = d.series("grad_norm", i)[1:]
            weights = d.series("weight_norm", i)
            if any(g is None for g in grads) and any(w is None for w in weights[1:]):
                return self.found(layer.name, f"the weights of the {layer.name} became infinite or NaN: the updates blew up")
            finite = [g for g in _finite(grads) if g > 0]
            if len(finite) >= 2 and finite[-1] >= EXPLODING_GROWTH * finite[0]:
                return self.found(
                    layer.name,
                    f"the {layer.name}'s gradient grew from {finite[0]:.3g} to {finite[-1]:.3g} "
                    f"(>= {EXPLODING_GROWTH:.0f}x, the growth AutoTrainer calls exploding)",
                )
        return None

    def recommend(self, a: Advice) -> None:
        a.add(
            "learning_rate",
            "decrease",
            toward_usual_rate(a, -1),
            "Exploding gradients: smaller steps keep the updates bounded.",
        )


class DeadUnits(DynamicsRule):
    name, title = "dead_units", "Dead units"

    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        shares = [(s, i) for i in d.hidden if (s := _tail_median(d, "dead", i)) is not None]
        if not shares:
            return None
        share, i = max(shares)
        if share < DEAD_SHARE:
            return None
        return self.found(
            d.layers[i].name,
            f"{share:.0%} of the units of the {d.layers[i].name} ({d.activation}) output nothing for every "
            f"validation row (>= {DEAD_SHARE:.0%}: DeepDiagnosis's dead-node threshold): they no longer learn",
        )

    def recommend(self, a: Advice) -> None:
        if a.hp is not None and a.hp.width < NARROW:
            a.add(
                "width",
                "increase",
                a.step("width", +2),
                f"Dead units in a layer of {a.hp.width}: one dead unit is the whole layer; more units keep some alive.",
            )
        a.add(
            "learning_rate",
            "decrease",
            toward_usual_rate(a, -1),
            "Dead units: a step too large pushed their inputs below zero for good.",
        )
        a.add(
            "activation", "set", "leaky_relu", "Dead units: leaky ReLU keeps a small slope below zero, so a unit can come back."
        )


class SaturatedUnits(DynamicsRule):
    name, title = "saturated_units", "Saturated units"

    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        shares = [(s, i) for i in d.hidden if (s := _tail_median(d, "saturated", i)) is not None]
        if not shares:
            return None
        share, i = max(shares)
        if share <= SATURATED_SHARE:
            return None
        return self.found(
            d.layers[i].name,
            f"{share:.0%} of the inputs to the {d.layers[i].name}'s {d.activation} units sit in its flat tails, where "
            f"the slope is under 3 % of its peak (> {SATURATED_SHARE:.0%}: DeepDiagnosis's saturation threshold): "
            "almost no gradient passes",
        )

    def recommend(self, a: Advice) -> None:
        a.add(
            "learning_rate",
            "decrease",
            toward_usual_rate(a, -1),
            "Saturated units: large steps grew the weights until the units saturated.",
        )
        a.add("activation", "set", "relu", "Saturated units: ReLU has no flat tail on the positive side.")


class VanishingGradients(DynamicsRule):
    name, title = "vanishing_gradients", "Vanishing gradients"

    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        if len(d.layers) < 2:
            return None
        ratios = [
            first / last
            for first, last in zip(d.series("grad_norm", 0), d.series("grad_norm", len(d.layers) - 1), strict=True)
            if first is not None and last is not None and math.isfinite(first) and math.isfinite(last) and last > 0
        ]
        if not ratios:
            return None
        ratio = statistics.median(ratios)
        if ratio >= VANISHING_RATIO:
            return None
        return self.found(
            d.layers[0].name,
            f"the gradient reaching the {d.layers[0].name} is {ratio:.1e} of the output layer's (under "
            f"{VANISHING_RATIO:g}; healthy runs stay within 1/20): after {len(d.layers) - 1} {d.activation} "
            "layers almost nothing is left to learn from",
        )

    def recommend(self, a: Advice) -> None:
        a.add("activation", "set", "relu", "Vanishing gradients: ReLU passes the gradient on unshrunk where it is active.")
        a.add(
            "optimizer", "set", "adam", "Vanishing gradients: Adam scales each weight's step, so small gradients still move it."
        )
        if a.hp is not None and a.hp.hidden_layers > 2:
            a.add(
                "hidden_layers",
                "decrease",
                a.clamp("hidden_layers", 2),
                "Vanishing gradients: fewer layers for the gradient to cross.",
            )


class StalledUpdates(DynamicsRule):
    name, title = "stalled_updates", "Updates too small"

    def detect(self, d: Dynamics, epochs: int) -> DynamicsFinding | None:
        if epochs < STALL_MIN_EPOCHS or not d.epochs:
            return None
        drift = [(v, i) for i in range(len(d.layers)) if (v := d.stats["drift"][-1][i]) is not None and math.isfinite(v)]
        if not drift:
            return None
        moved, i = max(drift)
        if moved >= STALL_DRIFT:
            return None
        return self.found(
            d.layers[i].name,
            f"in {epochs} epochs no layer's weights moved more than {moved:.0%} of their initial size "
            f"(the {d.layers[i].name}; healthy runs move some layer by 80 % and more): the steps are too small",
        )

    def recommend(self, a: Advice) -> None:
        a.add(
            "learning_rate",
            "increase",
            toward_usual_rate(a, +1),
            "Updates too small: the weights hardly moved; larger steps (the usual start when below it).",
        )


DYNAMICS_RULES: tuple[DynamicsRule, ...] = (
    ExplodingGradients(),
    DeadUnits(),
    SaturatedUnits(),
    VanishingGradients(),
    StalledUpdates(),
)
BY_NAME = {rule.name: rule for rule in DYNAMICS_RULES}


def inspect(d: Dynamics | None, verdict: str, epochs: int) -> list[DynamicsFinding]:
    """The findings of a run with verdict `verdict` over `epochs` epochs, strongest first; none for a run
    that learned (good fit, overfitting) or has no record."""
    if d is None or not d.epochs or verdict not in EXPLAINS:
        return []
    return [finding for rule in DYNAMICS_RULES if (finding := rule.detect(d, epochs)) is not None]


def explain(diagnosis: Diagnosis, findings: list[DynamicsFinding], hp: Hyperparameters | None) -> None:
    """Say in the verdict what the layers explain: the strongest finding names it in the title and the
    summary, every finding leads the evidence, and their knobs come before the verdict's own advice."""
    diagnosis.inside = [f.to_dict() for f in findings]
    if not findings:
        return
    first = findings[0]
    diagnosis.title = f"{diagnosis.title or diagnosis.verdict.replace('_', ' ').capitalize()} ({first.title.lower()})"
    where = f" in the {first.layer}" if first.layer else ""
    diagnosis.summary = f"{diagnosis.summary} Inside the network: {first.title.lower()}{where} explain(s) it."
    diagnosis.evidence[:0] = [f"inside the network, {f.title.lower()}: {f.evidence}" for f in findings]
    advice = Advice(hp)
    for finding in findings:
        BY_NAME[finding.name].recommend(advice)
    for item in diagnosis.recommendations:
        advice.add(item.knob, item.action, item.value, item.reason)
    diagnosis.recommendations = advice.items


def reading(d: Dynamics | None, inside: Sequence[dict[str, Any]], verdict: str | None) -> str:
    """One sentence on the state of the network, in plain words, that agrees with the diagnosis: its
    strongest inside finding when it has one; else what the record shows of a network that learns."""
    if d is None or not d.epochs:
        return "This run has no per-layer record (a log from another tool, or a run from before FitLab measured its layers)."
    if inside:
        first = DynamicsFinding.from_dict(dict(inside[0]))
        return f"{first.title}: {first.evidence}."
    if verdict is None:  # still training: no verdict to gate on yet, so the rules speak on the record so far
        found = live_findings(d)
        if found:
            return f"So far (the verdict comes when the run ends): {found[0].title.lower()}: {found[0].evidence}."
        return f"So far nothing unusual inside the network (the verdict comes when the run ends). {_state(d)}"
    if verdict in EXPLAINS:
        return f"Nothing inside the network explains the verdict. {_state(d)}"
    return f"Nothing wrong inside the network. {_state(d)}"


def live_findings(d: Dynamics | None) -> list[DynamicsFinding]:
    """The findings on a run still training (no verdict yet): every rule on the record so far."""
    if d is None or not d.epochs:
        return []
    return [f for rule in DYNAMICS_RULES if (f := rule.detect(d, d.epochs[-1])) is not None]


def _state(d: Dynamics) -> str:
    """The record's last measured epoch in numbers: gradient ratio, how far the weights moved, dead / saturated."""
    last = len(d.epochs) - 1
    grads = d.at("grad_norm", last)
    moved = _finite(d.at("drift", last))
    parts = [f"At epoch {d.epochs[last]}"]
    if len(grads) >= 2 and grads[0] is not None and grads[-1]:
        parts.append(f"the first layer gets {grads[0] / grads[-1]:.2g}x the output layer's gradient")
    if moved:
        parts.append(f"the weights have moved up to {max(moved):.0%} from their random start")
    dead = _finite([d.at("dead", last)[i] for i in d.hidden])
    saturated = _finite([d.at("saturated", last)[i] for i in d.hidden])
    if dead:
        parts.append(f"at most {max(dead):.0%} of a layer's units are dead")
    if saturated:
        parts.append(f"at most {max(saturated):.0%} of a layer's inputs are saturated")
    return f"{parts[0]}: {'; '.join(parts[1:])}." if len(parts) > 1 else f"{parts[0]}."


def layer_reading(d: Dynamics, layer: int) -> str:
    """What one layer's record says at its last measured epoch, in plain words."""
    info, last = d.layers[layer], len(d.epochs) - 1
    parts = [f"{info.inputs} x {info.outputs} weights + {info.outputs} biases = {info.count:,} parameters"]
    drift, grad = d.at("drift", last)[layer], d.at("grad_norm", last)[layer]
    if drift is not None:
        parts.append(f"its weights moved {drift:.0%} from their random start")
    if grad is not None:
        parts.append(f"gradient {grad:.2g}")
    dead, saturated = d.at("dead", last)[layer], d.at("saturated", last)[layer]
    if dead is not None:
        parts.append(f"{dead:.0%} of its units dead")
    if saturated is not None:
        parts.append(f"{saturated:.0%} of its inputs saturated")
    return f"{info.name.capitalize()} at epoch {d.epochs[last]}: " + "; ".join(parts) + "."
