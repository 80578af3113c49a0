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

from core.history import EpochRecord, early_stopping_best
from core.hyperparameters import (
    BATCH_SIZE_STEPS,
    LEARNING_RATE_STEPS,
    RANGES,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    Hyperparameters,
    snap,
)

Baselines = dict[str, dict[str, float]]  # {name: {val_loss, val_metric}}, see core/baselines.py

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

# Thresholds: the guide's starting points, calibrated on the labelled suite in bench/scenarios.py.
# "scale" is the trivial model's validation loss (ln C for C balanced classes, 1.0 for a standardized
# regression target): absolute floors in units of it keep near-zero losses from looking dramatic.
EXPLOSION_FACTOR = 4.0  # fastai / Lightning LR finders stop at 4x the best loss
SKIP_SHARE = 0.10  # the first 10 % of epochs are warm-up
TAIL_SHARE = 0.25  # the last 25 % decide "still improving" (Tuning Playbook)
UNSTABLE_RISE = 0.05  # a rise counts when it climbs 5 % of the scale above the best so far...
UNSTABLE_SHARE = 0.20  # ...in at least 20 % of epochs (AUTOTRAINER's 20 %)
UNSTABLE_JUMP = 0.10  # with an extreme learning rate, epoch-to-epoch jumps of 10 % also count
OVERFIT_GL = 10.0  # generalization loss in percent (Prechelt's GL; 2 is too touchy for ~50-row validation sets)
OVERFIT_GL_STRONG = 25.0  # ...or this much on its own
OVERFIT_TRAIN_DROP = 0.10  # training loss fell >= 10 % after the best validation epoch
OVERFIT_MIN_RISE = 0.02  # and validation rose at least 2 % of the scale in absolute terms
OVERFIT_METRIC_GAP = 0.10  # validation metric >= 10 % (relative) below training (Deepchecks)...
OVERFIT_WORSE_THAN_LINEAR = 1.10  # restored epoch >= 10 % worse than a linear model: overfit before it generalized
OVERFIT_METRIC_ABS = 0.05  # ...and 0.05 in absolute terms...
OVERFIT_ABOVE_CHANCE = 0.10  # ...with training at least 0.1 above the trivial model's metric
CONVERGED_TAIL_DROP = 0.03  # validation still falling >= 3 % across the tail...
CONVERGED_MIN_DROP = 0.01  # ...and >= 1 % of the scale
UNDERFIT_GAIN = 0.10  # Deepchecks: gain over the trivial model below 0.1
UNDERFIT_VS_LINEAR = 0.95  # training loss no better than the linear model's validation loss
UNDERFIT_VS_BOOSTED = 0.10  # training loss above boosted trees' validation loss + 10 % of the scale
EXTREME_LR = {"adam": 0.01, "adamw": 0.01, "sgd": 0.3}  # at or above: evidence of instability
LOW_LR = {"adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}  # at or below: evidence of slow progress
USUAL_LR = {"adam": 0.001, "adamw": 0.001, "sgd": 0.01}  # the cheat sheet's start (SGD: its typical 0.01)


@dataclass(frozen=True)
class Recommendation:
    knob: str  # a Hyperparameters field
    action: str  # increase, decrease, enable, disable, set
    value: Any  # the concrete new value (None when the current value is unknown)
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Recommendation:
        return cls(str(values["knob"]), str(values["action"]), values.get("value"), str(values["reason"]))


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

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Diagnosis:
        """The inverse of to_dict (a diagnosis read back from the run store)."""
        return cls(
            verdict=str(values["verdict"]),
            summary=str(values["summary"]),
            evidence=[str(line) for line in values.get("evidence", [])],
            recommendations=[Recommendation.from_dict(r) for r in values.get("recommendations", [])],
            secondary=[str(v) for v in values.get("secondary", [])],
        )


@dataclass
class _Signals:
    """Measurements of a history that the rules read."""

    train: list[float]
    val: list[float]
    train_metric: list[float]
    val_metric: list[float]
    epochs: list[int]
    scale: float = 1.0  # the trivial model's loss: what "a lot" means for this loss
    best: int = 0  # index of the lowest validation loss
    restores_best: bool = False  # early stopping on: the run keeps the weights of `best`
    ended_by_early_stopping: bool = False  # and patience ran out before the epoch budget

    @property
    def kept(self) -> int:
        """Index of the epoch whose weights the run keeps."""
        return self.best if self.restores_best else len(self.val) - 1


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.3e}"


def _check_diverged(s: _Signals) -> list[str]:
    for i, (t, v) in enumerate(zip(s.train, s.val, strict=True)):
        if not (math.isfinite(t) and math.isfinite(v)):
            which = "training" if not math.isfinite(t) else "validation"
            return [f"{which} loss became {t if which == 'training' else v} at epoch {s.epochs[i]}; the run was ended there"]
    # Blown up and not back: the last epoch far above the best, above the start, and worse than
    # guessing. A spike that recovers is instability (see _check_unstable), not divergence.
    if len(s.train) > max(1, math.ceil(SKIP_SHARE * len(s.train))):
        low, last = min(s.train[:-1]), s.train[-1]
        if last > EXPLOSION_FACTOR * low and last > s.train[0] and last > s.scale:
            times = f"{last / low:.0f}x its best" if low > 0 else "far above its best"
            return [
                f"training loss ended at {_fmt(last)} in epoch {s.epochs[-1]}, {times} ({_fmt(low)}), above where it "
                f"started ({_fmt(s.train[0])}) and worse than always guessing ({_fmt(s.scale)})"
            ]
    return []


def _check_unstable(s: _Signals, hp: Hyperparameters | None) -> list[str]:
    skip = max(1, math.ceil(SKIP_SHARE * len(s.train)))
    counted = len(s.train) - skip
    if counted < 4:
        return []
    extreme = hp is not None and hp.learning_rate >= EXTREME_LR[hp.optimizer]
    rises = []
    for i in range(skip, len(s.train)):
        climbed = s.train[i] - min(s.train[:i]) > UNSTABLE_RISE * s.scale and s.train[i] > 1.01 * s.train[i - 1]
        jumped = s.train[i] > (1 + UNSTABLE_JUMP) * s.train[i - 1] and s.train[i] - s.train[i - 1] > 0.01 * s.scale
        if climbed or (extreme and jumped):
            rises.append(i)
    share = len(rises) / counted
    if share >= UNSTABLE_SHARE or (extreme and share >= UNSTABLE_SHARE / 2):
        epochs = ", ".join(str(s.epochs[i]) for i in rises[:6]) + (" ..." if len(rises) > 6 else "")
        found = [
            f"training loss jumped back up in {len(rises)} of {counted} epochs after warm-up ({share:.0%}; epochs {epochs}) "
            "instead of settling"
        ]
        if extreme and hp is not None:
            found.append(
                f"learning rate {hp.learning_rate:g} is high for {hp.optimizer} (usual start {USUAL_LR[hp.optimizer]:g})"
            )
        return found
    return []


def _validation_rise(s: _Signals) -> str | None:
    """Validation loss climbing after its best epoch while training keeps improving (Prechelt's GL)."""
    best, v_min, v_end = s.best, s.val[s.best], s.val[-1]
    if best >= len(s.val) - 1 or v_min <= 0:
        return None
    gl = 100 * (v_end / v_min - 1)
    t_after = min(s.train[best:])
    t_drop = (s.train[best] - t_after) / s.train[best] if s.train[best] > 0 else 0.0
    big_enough = v_end - v_min >= OVERFIT_MIN_RISE * s.scale
    if big_enough and (gl >= OVERFIT_GL_STRONG or (gl >= OVERFIT_GL and t_drop >= OVERFIT_TRAIN_DROP)):
        return (
            f"validation loss bottomed at {_fmt(v_min)} in epoch {s.epochs[best]} and rose to {_fmt(v_end)} by epoch "
            f"{s.epochs[-1]} ({gl:.0f} % worse) while training loss kept falling ({_fmt(s.train[best])} -> {_fmt(t_after)})"
        )
    return None


def _metric_gap(s: _Signals, at: int, baselines: Baselines | None) -> str | None:
    """Validation metric well below training's, with training clearly above chance (Deepchecks)."""
    tm, vm = s.train_metric[at], s.val_metric[at]
    if not (math.isfinite(tm) and math.isfinite(vm)) or tm <= 0:
        return None
    chance = baselines["trivial"]["val_metric"] if baselines and "trivial" in baselines else -math.inf
    above_chance = tm >= chance + OVERFIT_ABOVE_CHANCE  # two chance-level metrics differ by noise alone
    if above_chance and tm - vm >= OVERFIT_METRIC_ABS and (tm - vm) / abs(tm) >= OVERFIT_METRIC_GAP:
        return f"at epoch {s.epochs[at]} the validation metric {vm:.3f} is {(tm - vm) / abs(tm):.0%} below training's {tm:.3f}"
    return None


def _check_overfitting(s: _Signals, unstable: bool, baselines: Baselines | None) -> tuple[list[str], str | None]:
    """(findings, handled): judged on the model the run keeps.

    A rise that early stopping cut off and whose restored epoch still beats a linear model is
    `handled`: reported as a secondary finding, not the verdict, since the kept weights predate it.
    In an unstable run validation swings with training, so only the metric gap counts there.
    """
    found: list[str] = []
    handled = None
    rise = None if unstable else _validation_rise(s)
    if rise and s.ended_by_early_stopping:
        linear = (baselines or {}).get("linear")
        if linear and s.val[s.best] > OVERFIT_WORSE_THAN_LINEAR * linear["val_loss"]:
            found.append(
                f"{rise}; even the restored epoch {s.epochs[s.best]} ({_fmt(s.val[s.best])}) is worse than a linear "
                f"model ({_fmt(linear['val_loss'])}): the network overfits before it generalizes"
            )
        else:
            handled = f"{rise}; early stopping cut it off"
    elif rise:
        found.append(rise)
    gap = _metric_gap(s, s.kept, baselines)
    if gap:
        found.append(gap)
    return found, handled


def _check_not_converged(s: _Signals, hp: Hyperparameters | None) -> list[str]:
    """Best validation epoch in the last quarter and still falling there (Tuning Playbook).

    A run that early stopping ended has, by definition, stopped improving. A very small learning
    rate makes "still falling" slow: then a steady fall counts however small.
    """
    n = len(s.val)
    if n < 2:
        return ["only one epoch was trained"]
    if s.ended_by_early_stopping:
        return []
    tail = max(2, math.ceil(TAIL_SHARE * n))
    start = n - tail
    position = s.best / max(1, n - 1)
    drop = s.val[start] - s.val[s.best]
    tail_drop = drop / s.val[start] if s.val[start] > 0 else 0.0
    falling = sum(s.train[i] < s.train[i - 1] for i in range(start + 1, n)) / max(1, tail - 1)
    slow = hp is not None and hp.learning_rate <= LOW_LR[hp.optimizer]
    steady = tail_drop >= CONVERGED_TAIL_DROP and drop >= CONVERGED_MIN_DROP * s.scale and falling >= 0.6
    creeping = slow and tail_drop > 0 and falling >= 0.8
    if position >= 1 - TAIL_SHARE and (steady or creeping):
        found = [
            f"the best validation loss came at epoch {s.epochs[s.best]} of {s.epochs[-1]}, and it fell "
            f"{tail_drop:.1%} over the last {tail} epochs; training loss fell in {falling:.0%} of them"
        ]
        if slow and hp is not None:
            found.append(
                f"learning rate {hp.learning_rate:g} is low for {hp.optimizer} (usual start {USUAL_LR[hp.optimizer]:g}): "
                "small steps, slow progress"
            )
        return found
    return []


def _check_underfitting(s: _Signals, baselines: Baselines | None) -> list[str]:
    """High bias without knowing the best possible error: compare with baselines (Ng, Deepchecks)."""
    t_best = min(s.train)  # the best fit of the training data the network reached
    if baselines and "trivial" in baselines:
        trivial = baselines["trivial"]["val_loss"]
        gain = (trivial - t_best) / trivial if trivial > 0 else 1.0
        if gain < UNDERFIT_GAIN:
            how = f"only {gain:.0%} better than" if gain > 0 else "no better than"
            return [
                f"training loss {_fmt(t_best)} is {how} always guessing the majority class or the mean "
                f"({_fmt(trivial)}); a useful model gains at least {UNDERFIT_GAIN:.0%}"
            ]
        linear = baselines.get("linear")
        if linear and linear["val_loss"] > UNDERFIT_GAIN * trivial and t_best >= UNDERFIT_VS_LINEAR * linear["val_loss"]:
            return [
                f"training loss {_fmt(t_best)} is no better than a plain linear model's validation loss "
                f"({_fmt(linear['val_loss'])}): the network is not using its extra capacity"
            ]
        boosted = baselines.get("boosted")
        if boosted and t_best > boosted["val_loss"] + UNDERFIT_VS_BOOSTED * s.scale:
            return [
                f"training loss {_fmt(t_best)} stays above what gradient-boosted trees reach on unseen validation data "
                f"({_fmt(boosted['val_loss'])}): the network cannot even fit the examples it trains on"
            ]
        return []
    if s.train[0] > 0 and (s.train[0] - t_best) / s.train[0] < UNDERFIT_GAIN:
        return [f"training loss barely moved: {_fmt(s.train[0])} -> {_fmt(t_best)}"]
    return []


def _early_stopping_note(s: _Signals) -> str | None:
    if not s.ended_by_early_stopping:
        return None
    rise = 100 * (s.val[-1] / s.val[s.best] - 1) if s.val[s.best] > 0 else 0.0
    return (
        f"early stopping ended the run at epoch {s.epochs[-1]} after {len(s.val) - 1 - s.best} epochs without a better "
        f"validation loss (it rose {rise:.0f} % after epoch {s.epochs[s.best]}) and restored epoch {s.epochs[s.best]}"
    )


def diagnose(
    history: Sequence[EpochRecord],
    hp: Hyperparameters | None = None,
    baselines: Baselines | None = None,
    *,
    kept_epoch: int | None = None,
    status: str | None = None,
) -> Diagnosis:
    """The verdict on one run. Pure: the same history, knobs and baselines give the same Diagnosis.

    A run from FitLab's Trainer passes its own record of the kept epoch and why it ended (`status`);
    a log or a hand-made curve leaves them out, and early stopping is replayed over the curve.
    """
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
    s.scale = baselines["trivial"]["val_loss"] if baselines and "trivial" in baselines else max(abs(s.train[0]), 1e-12)
    findings: dict[str, list[str]] = {}
    handled: str | None = None
    diverged = _check_diverged(s)
    if diverged:
        findings["diverged"] = diverged
    else:
        s.best = min(range(len(s.val)), key=lambda i: s.val[i])
        s.restores_best = hp is not None and hp.early_stopping
        kept_index = next((i for i, e in enumerate(s.epochs) if e == kept_epoch), None) if kept_epoch else None
        if hp is not None and hp.early_stopping and kept_index is not None:
            s.best = kept_index  # the Trainer restored this epoch's weights
            s.ended_by_early_stopping = status == "early_stopped"
        elif hp is not None and hp.early_stopping:
            # The Trainer's own rule decides which epoch was kept and whether patience ran out.
            # A history that goes on past that stop did not come from this early stopping (a log, a
            # hand-made curve): then it is judged as a run without it.
            kept, stop = early_stopping_best(s.val, hp.patience)
            s.ended_by_early_stopping = stop == len(s.val) - 1 and len(s.val) < hp.epochs
            if stop is None or s.ended_by_early_stopping:
                s.best = kept
        unstable = _check_unstable(s, hp)
        if unstable:
            findings["lr_too_high"] = unstable
        overfitting, handled = _check_overfitting(s, bool(unstable), baselines)
        for verdict, found in (
            ("overfitting", overfitting),
            ("not_converged", _check_not_converged(s, hp)),
            ("underfitting", _check_underfitting(s, baselines)),
        ):
            if found:
                findings[verdict] = found
    order = [v for v in PRIORITY if v in findings]
    verdict = order[0] if order else "good_fit"
    evidence = list(findings.get(verdict, [])) if verdict != "good_fit" else _good_fit_evidence(s, baselines)
    note = None if diverged else _early_stopping_note(s)
    if note:
        evidence.append(note)
    secondary = order[1:]
    for other in secondary:
        evidence.append(f"also {other.replace('_', ' ')}: {findings[other][0]}")
    if not diverged and handled and "overfitting" not in order:
        secondary.append("overfitting")
        evidence.append(f"also overfitting, handled: {handled}")
    return Diagnosis(verdict, SUMMARIES[verdict], evidence, _recommend(verdict, hp, s), secondary)


def _good_fit_evidence(s: _Signals, baselines: Baselines | None) -> list[str]:
    found = [
        f"best validation loss {_fmt(s.val[s.best])} at epoch {s.epochs[s.best]}; training loss there {_fmt(s.train[s.best])}",
    ]
    if math.isfinite(s.train_metric[s.kept]) or math.isfinite(s.val_metric[s.kept]):  # a log may have no metric
        found.append(
            f"metric of the kept model (epoch {s.epochs[s.kept]}): training {s.train_metric[s.kept]:.3f}, "
            f"validation {s.val_metric[s.kept]:.3f}"
        )
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
        if hp and hp.learning_rate >= EXTREME_LR[hp.optimizer]:  # far too high: back to the usual start
            usual = USUAL_LR[hp.optimizer]
            add(
                "learning_rate",
                "decrease",
                usual,
                f"Cheat sheet (learning rate: too high overshoots and bounces): {hp.learning_rate:g} is far above the "
                f"usual start for {hp.optimizer}, {usual:g}.",
            )
        else:
            add(
                "learning_rate",
                "decrease",
                _step(lr, LEARNING_RATE_STEPS, -1) if lr else None,
                "Cheat sheet (learning rate: too high overshoots and bounces): about 3x smaller steps settle.",
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
            usual = USUAL_LR[hp.optimizer]
            add(
                "learning_rate",
                "increase",
                max(usual, _step(hp.learning_rate, LEARNING_RATE_STEPS, +1)),
                f"Cheat sheet (learning rate: too low learns very slowly): {hp.learning_rate:g} is far below the "
                f"usual start for {hp.optimizer}, {usual:g}.",
            )
        if hp:
            # Cheat sheet strategy: set epochs high and let early stopping end the run.
            longer = max(hp.epochs * 2, 200) if hp.early_stopping else hp.epochs * 2
            add(
                "epochs",
                "increase",
                min(int(RANGES["epochs"][1]), longer),
                "Cheat sheet (epochs: too few underfit): it was still improving, so train longer"
                + ("; early stopping will end the run when it stops improving." if hp.early_stopping else "."),
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
