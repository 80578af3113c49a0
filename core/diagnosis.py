"""Diagnosis: a pure function of (history, hyperparameters, baselines) -> Diagnosis.

Rules follow ../shared/docs/diagnosis-guide.md (Prechelt's generalization loss, the Tuning
Playbook's instability and best-epoch position, Ng's avoidable bias against baselines), calibrated
on the scenario presets. Recommendations come from the cheat sheet in the user's document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.history import EpochRecord
from core.hyperparameters import (
    BATCH_SIZE_STEPS,
    LEARNING_RATE_STEPS,
    RANGES,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    Hyperparameters,
    snap,
)

VERDICTS = ("diverged", "lr_too_high", "not_converged", "underfitting", "overfitting", "good_fit")
# Which problem is reported first when several show (the guide's rule order): a run that blew up or
# bounces says nothing reliable about fit; variance before convergence; bias last.
PRIORITY = ("diverged", "lr_too_high", "overfitting", "not_converged", "underfitting")

SUMMARIES = {
    "diverged": "Training blew up: the loss became infinite, NaN, or exploded far above where it started.",
    "lr_too_high": "Training is unstable: the loss keeps jumping back up instead of settling. The steps are too big.",
    "not_converged": "The model was still improving when training ended: it needs more (or faster) training.",
    "underfitting": "The model fits even the training data poorly (high bias): it is too simple or too constrained.",
    "overfitting": "The model memorizes the training data: training keeps improving while validation gets worse (high variance).",
    "good_fit": "Training converged, validation follows training closely, and the model clearly beats the simple baselines.",
}

# Thresholds, each a starting point from the guide adjusted on the scenario presets.
EXPLOSION_FACTOR = 4.0  # fastai / Lightning LR finders stop at 4x the best loss
SKIP_SHARE = 0.10  # the first 10 % of epochs are warm-up
TAIL_SHARE = 0.25  # the last 25 % decide "still improving" (Tuning Playbook)
UNSTABLE_RISE = 0.05  # a rise counts when it exceeds 5 % of the loss scale...
UNSTABLE_SHARE = 0.20  # ...in at least 20 % of epochs (AUTOTRAINER)
OVERFIT_GL = 10.0  # generalization loss, percent (Prechelt's GL, relaxed from 2 for small validation sets)
OVERFIT_GL_STRONG = 25.0
OVERFIT_TRAIN_DROP = 0.10  # training loss fell >= 10 % after the best validation epoch
OVERFIT_METRIC_GAP = 0.10  # validation metric >= 10 % (relative) below training (Deepchecks)
CONVERGED_TAIL_DROP = 0.03  # validation still falling >= 3 % across the tail
UNDERFIT_GAIN = 0.10  # Deepchecks: gain over the trivial model below 0.1
UNDERFIT_VS_LINEAR = 0.95  # training loss no better than the linear model's validation loss
EXTREME_LR = {"adam": 0.01, "adamw": 0.01, "sgd": 0.3}  # at or above: evidence of instability
LOW_LR = {"adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}  # at or below: evidence of slow progress


@dataclass(frozen=True)
class Recommendation:
    knob: str  # a Hyperparameters field
    action: str  # increase, decrease, enable, disable, set
    value: Any  # the concrete new value (None when the current value is unknown)
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diagnosis:
    verdict: str
    summary: str
    evidence: list[str]
    recommendations: list[Recommendation]
    secondary: list[str] = field(default_factory=list)  # other verdicts whose signs are present

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "secondary": list(self.secondary),
        }


@dataclass
class _Signals:
    """Measurements of a history that the rules read; each rule adds its evidence."""

    train: list[float]
    val: list[float]
    train_metric: list[float]
    val_metric: list[float]
    epochs: list[int]
    best: int = 0  # index of the lowest validation loss
    evidence: dict[str, list[str]] = field(default_factory=dict)


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.3e}"


def _finite(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _check_diverged(s: _Signals) -> list[str]:
    for i, (t, v) in enumerate(zip(s.train, s.val, strict=True)):
        if not (math.isfinite(t) and math.isfinite(v)):
            which = "training" if not math.isfinite(t) else "validation"
            return [f"{which} loss became {t if which == 'training' else v} at epoch {s.epochs[i]}; the run was ended there"]
    # Exploded and did not come back: the last epoch sits far above the best and above the start.
    # A spike that recovers is instability (see _check_unstable), not divergence.
    skip = max(1, math.ceil(SKIP_SHARE * len(s.train)))
    if len(s.train) > skip:
        low = min(s.train[:-1])
        last = s.train[-1]
        if last > EXPLOSION_FACTOR * low and last > s.train[0]:
            times = f"{last / low:.0f}x its best" if low > 0 else "far above its best"
            return [
                f"training loss ended at {_fmt(last)} in epoch {s.epochs[-1]}, {times} "
                f"({_fmt(low)}) and above where it started ({_fmt(s.train[0])})"
            ]
    return []


def _loss_scale(s: _Signals, baselines: dict[str, dict[str, float]] | None) -> float:
    """How big a loss change matters: the trivial model's loss, else the first epoch's."""
    if baselines and "trivial" in baselines:
        return baselines["trivial"]["val_loss"]
    return max(s.train[0], 1e-12)


def _check_unstable(s: _Signals, hp: Hyperparameters | None, scale: float) -> list[str]:
    skip = max(1, math.ceil(SKIP_SHARE * len(s.train)))
    if len(s.train) - skip < 4:
        return []
    rises = [
        i
        for i in range(skip, len(s.train))
        if s.train[i] - min(s.train[:i]) > UNSTABLE_RISE * scale and s.train[i] > 1.01 * s.train[i - 1]
    ]
    share = len(rises) / (len(s.train) - skip)
    extreme = hp is not None and hp.learning_rate >= EXTREME_LR[hp.optimizer]
    if share >= UNSTABLE_SHARE or (extreme and share >= UNSTABLE_SHARE / 2):
        epochs = ", ".join(str(s.epochs[i]) for i in rises[:6]) + (" ..." if len(rises) > 6 else "")
        found = [
            f"training loss jumped back up in {len(rises)} of {len(s.train) - skip} epochs after warm-up "
            f"({share:.0%}; epochs {epochs}) instead of settling"
        ]
        if extreme and hp is not None:
            found.append(f"learning rate {hp.learning_rate:g} is high for {hp.optimizer} (usual start 0.001)")
        return found
    return []


def _check_overfitting(s: _Signals, hp: Hyperparameters | None, unstable: bool = False) -> list[str]:
    """A validation loss that rises while training falls, or a wide metric gap.

    In an unstable run validation swings with training, so only the metric gap counts there.
    """
    found: list[str] = []
    best, n = s.best, len(s.val)
    v_min, v_end = s.val[best], s.val[-1]
    gl = 100 * (v_end / v_min - 1) if v_min > 0 else 0.0
    t_drop = (s.train[best] - min(s.train[best:])) / s.train[best] if s.train[best] > 0 else 0.0
    rising = not unstable and best < n - 1 and (gl >= OVERFIT_GL_STRONG or (gl >= OVERFIT_GL and t_drop >= OVERFIT_TRAIN_DROP))
    if rising:
        found.append(
            f"validation loss bottomed at {_fmt(v_min)} in epoch {s.epochs[best]} and ended at {_fmt(v_end)} "
            f"({gl:.0f} % worse) while training loss kept falling ({_fmt(s.train[best])} -> {_fmt(min(s.train[best:]))})"
        )
    tm, vm = s.train_metric[-1], s.val_metric[-1]
    if math.isfinite(tm) and math.isfinite(vm) and tm > 0 and (tm - vm) / abs(tm) >= OVERFIT_METRIC_GAP:
        found.append(f"final validation metric {vm:.3f} is {(tm - vm) / abs(tm):.0%} below training's {tm:.3f}")
    if found and hp is not None and hp.early_stopping and best < n - 1:
        found.append(f"early stopping kept the weights of epoch {s.epochs[best]}, before validation got worse")
    return found


def _check_not_converged(s: _Signals, hp: Hyperparameters | None) -> list[str]:
    """Best validation epoch in the last quarter and still falling there (Tuning Playbook).

    A very small learning rate makes "still falling" slow: then a steady fall counts however small.
    """
    n = len(s.val)
    if n < 2:
        return ["only one epoch was trained"]
    tail = max(2, math.ceil(TAIL_SHARE * n))
    start = n - tail
    position = s.best / max(1, n - 1)
    tail_drop = (s.val[start] - s.val[s.best]) / s.val[start] if s.val[start] > 0 else 0.0
    falling = sum(s.train[i] < s.train[i - 1] for i in range(start + 1, n)) / max(1, tail - 1)
    slow = hp is not None and hp.learning_rate <= LOW_LR[hp.optimizer]
    steady = tail_drop >= CONVERGED_TAIL_DROP and falling >= 0.6
    creeping = slow and tail_drop > 0 and falling >= 0.8
    if position >= 1 - TAIL_SHARE and (steady or creeping):
        found = [
            f"the best validation loss came at epoch {s.epochs[s.best]} of {s.epochs[-1]}, and it fell "
            f"{tail_drop:.1%} over the last {tail} epochs; training loss fell in {falling:.0%} of them"
        ]
        if slow and hp is not None:
            found.append(
                f"learning rate {hp.learning_rate:g} is low for {hp.optimizer} (usual start 0.001): small steps, slow progress"
            )
        return found
    return []


def _check_underfitting(s: _Signals, baselines: dict[str, dict[str, float]] | None) -> list[str]:
    t_best = min(s.train)  # the best fit of the training data the network reached
    found = []
    if baselines and "trivial" in baselines:
        trivial = baselines["trivial"]["val_loss"]
        gain = (trivial - t_best) / trivial if trivial > 0 else 1.0
        if gain < UNDERFIT_GAIN:
            how = f"only {gain:.0%} better than" if gain > 0 else "no better than"
            found.append(
                f"training loss {_fmt(t_best)} is {how} always guessing the majority class or the mean "
                f"({_fmt(trivial)}); a useful model gains at least {UNDERFIT_GAIN:.0%}"
            )
        linear = baselines.get("linear")
        if (
            not found
            and linear
            and linear["val_loss"] > UNDERFIT_GAIN * trivial
            and t_best >= UNDERFIT_VS_LINEAR * linear["val_loss"]
        ):
            found.append(
                f"training loss {_fmt(t_best)} is no better than a plain linear model's validation loss "
                f"({_fmt(linear['val_loss'])}): the network is not using its extra capacity"
            )
    elif s.train[0] > 0 and (s.train[0] - t_best) / s.train[0] < UNDERFIT_GAIN:
        found.append(f"training loss barely moved: {_fmt(s.train[0])} -> {_fmt(t_best)}")
    return found


def diagnose(
    history: Sequence[EpochRecord],
    hp: Hyperparameters | None = None,
    baselines: dict[str, dict[str, float]] | None = None,
) -> Diagnosis:
    if not history:
        return Diagnosis(
            "not_converged", "No epoch was completed.", ["the history is empty"], _recommend("not_converged", hp, None)
        )
    s = _Signals(
        train=[float(r.train_loss) for r in history],
        val=[float(r.val_loss) for r in history],
        train_metric=[float(r.train_metric) for r in history],
        val_metric=[float(r.val_metric) for r in history],
        epochs=[int(r.epoch) for r in history],
    )
    findings: dict[str, list[str]] = {}
    diverged = _check_diverged(s)
    if diverged:
        findings["diverged"] = diverged
    else:
        s.best = min(range(len(s.val)), key=lambda i: s.val[i])
        scale = _loss_scale(s, baselines)
        unstable = _check_unstable(s, hp, scale)
        if unstable:
            findings["lr_too_high"] = unstable
        for verdict, found in (
            ("overfitting", _check_overfitting(s, hp, unstable="lr_too_high" in findings)),
            ("not_converged", _check_not_converged(s, hp)),
            ("underfitting", _check_underfitting(s, baselines)),
        ):
            if found:
                findings[verdict] = found
    order = [v for v in PRIORITY if v in findings]
    verdict = order[0] if order else "good_fit"
    evidence = findings.get(verdict, [])
    if verdict == "good_fit":
        evidence = _good_fit_evidence(s, baselines)
    secondary = order[1:]
    for other in secondary:
        evidence = evidence + [f"also {other.replace('_', ' ')}: {findings[other][0]}"]
    return Diagnosis(verdict, SUMMARIES[verdict], evidence, _recommend(verdict, hp, s), secondary)


def _good_fit_evidence(s: _Signals, baselines: dict[str, dict[str, float]] | None) -> list[str]:
    found = [
        f"best validation loss {_fmt(s.val[s.best])} at epoch {s.epochs[s.best]}; training loss there {_fmt(s.train[s.best])}",
        f"final metric: training {s.train_metric[-1]:.3f}, validation {s.val_metric[-1]:.3f}",
    ]
    if baselines:
        parts = [f"{name} {_fmt(b['val_loss'])}" for name, b in baselines.items()]
        found.append("baseline validation losses: " + ", ".join(parts))
    return found


# ---------------------------------------------------------------- recommendations


def _step(value: float, steps: tuple[float, ...], direction: int, count: int = 1) -> float:
    """Move `count` steps up (+1) or down (-1) the slider grid from the step nearest `value`."""
    index = steps.index(snap(value, steps)) + direction * count
    return steps[max(0, min(len(steps) - 1, index))]


def _recommend(verdict: str, hp: Hyperparameters | None, s: _Signals | None) -> list[Recommendation]:
    recs: list[Recommendation] = []

    def add(knob: str, action: str, value: Any, reason: str) -> None:
        if hp is not None and value == getattr(hp, knob):
            return  # already at its limit: no point recommending a no-op
        recs.append(Recommendation(knob, action, value, reason))

    lr = hp.learning_rate if hp else None
    if verdict == "diverged":
        add(
            "learning_rate",
            "decrease",
            _step(lr, LEARNING_RATE_STEPS, -2) if lr else None,
            "Cheat sheet: too high a learning rate overshoots and diverges; cut it about 10x.",
        )
        if hp:
            add(
                "batch_size",
                "increase",
                _step(hp.batch_size, BATCH_SIZE_STEPS, +1),
                "Larger batches give smoother, more stable steps (cheat sheet: batch size).",
            )
    elif verdict == "lr_too_high":
        add(
            "learning_rate",
            "decrease",
            _step(lr, LEARNING_RATE_STEPS, -1) if lr else None,
            "Cheat sheet: a learning rate too high bounces around the minimum; about 3x smaller steps settle.",
        )
        if hp:
            add(
                "batch_size",
                "increase",
                _step(hp.batch_size, BATCH_SIZE_STEPS, +1),
                "Cheat sheet: large batches give stable, smooth updates.",
            )
    elif verdict == "not_converged":
        slow = hp is not None and hp.learning_rate <= LOW_LR[hp.optimizer]
        if hp and slow:  # far below the usual start: go back to it rather than creep up
            add(
                "learning_rate",
                "increase",
                max(0.001, _step(hp.learning_rate, LEARNING_RATE_STEPS, +1)),
                f"Cheat sheet: a learning rate too low learns very slowly; {hp.learning_rate:g} is far below the "
                "usual start of 0.001.",
            )
        if hp:
            add(
                "epochs",
                "increase",
                min(int(RANGES["epochs"][1]), hp.epochs * 2),
                "Cheat sheet: too few epochs underfit; it was still improving, so train longer "
                "(keep early stopping on so it ends itself).",
            )
        if not slow:
            add(
                "learning_rate",
                "increase",
                _step(lr, LEARNING_RATE_STEPS, +1) if lr else None,
                "Cheat sheet: a learning rate too low learns very slowly; about 3x larger steps.",
            )
    elif verdict == "underfitting":
        if hp and hp.hidden_layers == 0:
            add(
                "hidden_layers",
                "increase",
                2,
                "Cheat sheet (underfits: increase depth): with no hidden layer the model is linear.",
            )
        if hp and hp.dropout > 0:
            add("dropout", "decrease", 0.0, "Cheat sheet (underfits: remove dropout): it limits what the model can fit.")
        if hp and hp.weight_decay > 0:
            add("weight_decay", "decrease", 0.0, "Weight decay pulls weights to zero; off while the model underfits.")
        if hp:
            add(
                "width",
                "increase",
                int(_step(hp.width, WIDTH_STEPS, +1)),
                "Cheat sheet (underfits: increase width): more neurons capture more detail.",
            )
            if hp.hidden_layers > 0:
                add(
                    "hidden_layers",
                    "increase",
                    min(8, hp.hidden_layers + 1),
                    "Cheat sheet (underfits: increase depth): deeper nets learn more complex features.",
                )
            add("epochs", "increase", min(1000, hp.epochs * 2), "Cheat sheet (underfits: more epochs).")
            add(
                "learning_rate",
                "increase",
                _step(hp.learning_rate, LEARNING_RATE_STEPS, +1),
                "Cheat sheet (underfits: increase learning rate).",
            )
            add(
                "batch_size",
                "decrease",
                int(_step(hp.batch_size, BATCH_SIZE_STEPS, -1)),
                "Cheat sheet (underfits: smaller batches add noise that can escape poor regions).",
            )
        else:
            add("width", "increase", None, "Cheat sheet (underfits: increase width and depth).")
    elif verdict == "overfitting":
        # Strongest levers first (Tuning Playbook); contested cheat-sheet rows last, and said so.
        if hp and not hp.early_stopping:
            add(
                "early_stopping",
                "enable",
                True,
                "Cheat sheet (epochs: too many overfit; use early stopping): keeps the best epoch's weights.",
            )
        if hp:
            add(
                "dropout",
                "increase",
                round(min(0.5, hp.dropout + 0.2), 2) if hp.dropout < 0.5 else round(min(0.9, hp.dropout + 0.1), 2),
                "Cheat sheet (overfits: increase dropout, 0.2-0.5): forces redundancy.",
            )
            add(
                "weight_decay",
                "increase",
                _step(hp.weight_decay, WEIGHT_DECAY_STEPS, +1) if hp.weight_decay > 0 else 1e-4,
                "Weight decay (L2) keeps weights small and the model smoother; typical 1e-4.",
            )
            if hp.width > 16:
                add(
                    "width",
                    "decrease",
                    int(_step(hp.width, WIDTH_STEPS, -1)),
                    "Cheat sheet (overfits: decrease width): less capacity to memorize.",
                )
            if hp.hidden_layers > 1:
                add("hidden_layers", "decrease", hp.hidden_layers - 1, "Cheat sheet (overfits: decrease depth).")
            if s is not None and not hp.early_stopping and s.best < len(s.val) - 1:
                add(
                    "epochs",
                    "decrease",
                    max(1, s.epochs[s.best]),
                    "Cheat sheet (overfits: fewer epochs): validation was best at this epoch.",
                )
            add(
                "learning_rate",
                "decrease",
                _step(hp.learning_rate, LEARNING_RATE_STEPS, -1),
                "Cheat sheet (overfits: decrease learning rate). Contested: the Tuning Playbook calls a smaller "
                "learning rate a poor regularizer; prefer the levers above.",
            )
            add(
                "batch_size",
                "increase",
                int(_step(hp.batch_size, BATCH_SIZE_STEPS, +1)),
                "Cheat sheet (overfits: increase batch size, 'sometimes helps'). Contested: Karpathy lists smaller "
                "batches as the regularizer and the Tuning Playbook says not to tune regularization with batch size.",
            )
        else:
            add("dropout", "increase", None, "Cheat sheet (overfits: add dropout 0.2-0.5, weight decay, early stopping).")
    elif verdict == "good_fit" and hp and s is not None:
        n = len(s.val)
        if s.best / max(1, n - 1) <= 0.5 and not hp.early_stopping and s.epochs[s.best] + 5 < hp.epochs:
            add(
                "epochs",
                "decrease",
                max(1, s.epochs[s.best] + 5),
                "Validation was best early: fewer epochs give the same model sooner (cheat sheet: epochs 20-50).",
            )
    return recs
