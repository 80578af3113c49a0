"""The rules: one small class per finding, and RULES, the one ordered tuple that is the priority.

Each rule measures (`detect`: a Finding with its evidence, or None), names itself (`verdict`,
`title`, `severity`, `summary`: what the diagnosis card, the CLI and the charts show) and advises
(`recommend`). Adding a finding is one class here and one line in RULES.

Order (the guide's): a run that blew up or bounces says nothing reliable about fit; a constant
predictor says nothing either; a validation loss that turns back up comes before convergence; a run
still improving at its end beats a train/validation gap; bias before the variance a metric gap
shows ("fix bias first"); good fit last, and only when nothing else fired.

Thresholds are the guide's starting points (../shared/docs/diagnosis-guide.md), calibrated on the
labelled scenario suite (bench/scenarios.py) and checked on real logs (bench/bench_real_logs.py).
"scale" is the chance level (trivial model's loss, or ln C) where known, else the first loss.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from core.diagnosis.advice import ADVICE, ADVICE_USUAL, Advice, no_advice
from core.diagnosis.signals import Signals, fmt

EXPLOSION_FACTOR = 4.0  # fastai / Lightning LR finders stop at 4x the best loss
EXPLODED_ABOVE_CHANCE = 1.10  # ...and, to count as diverged, ends >= 10 % worse than always guessing
TAIL_SHARE = 0.25  # the last 25 % decide "still improving" (Tuning Playbook)
OVERFIT_GL = 10.0  # generalization loss in percent (Prechelt's GL; 2 is too touchy for ~50-row validation sets)...
OVERFIT_GL_STRONG = 25.0  # ...or this much on its own
OVERFIT_TRAIN_DROP = 0.10  # training loss fell >= 10 % after the best validation epoch
OVERFIT_MIN_RISE = 0.02  # and validation rose at least 2 % of the scale in absolute terms
STALL_GL = 2.0  # Prechelt's own GL > 2, when validation has stalled for the last 40 % of the run...
STALL_POSITION = 0.6  # (best epoch at or before 60 % of the run)...
STALL_TRAIN_DROP = 0.50  # ...while training loss halved after the best epoch: the gap widens, not noise
OVERFIT_METRIC_GAP = 0.10  # validation metric >= 10 % (relative) below training (Deepchecks)...
OVERFIT_METRIC_ABS = 0.05  # ...and 0.05 in absolute terms...
OVERFIT_ABOVE_CHANCE = 0.10  # ...with training at least 0.1 above the trivial model's metric
FITS_TRAINING = 0.25  # a metric gap is variance only when training gains >= 25 % over chance
CONVERGED_TAIL_DROP = 0.03  # validation still falling >= 3 % across the tail...
CONVERGED_MIN_DROP = 0.01  # ...and >= 1 % of the scale
AT_END_DROP = 0.01  # best at the very last epoch: a 1 % fall over the tail is enough, with training falling
TRAIN_TAIL_DROP = 0.05  # ...or training loss still falling >= 5 % across the tail with validation at its best
UNDERFIT_GAIN = 0.10  # Deepchecks: gain over the trivial model below 0.1
UNDERFIT_VS_LINEAR = 0.95  # training loss no better than the linear model's validation loss
UNDERFIT_VS_BOOSTED = 0.10  # training loss above boosted trees' validation loss + 10 % of the scale
CONSTANT_GAIN = 0.25  # a frozen metric is a constant predictor when the loss gains < 25 % over chance
LR_SWING = 1.25  # with a rising learning rate: validation up >= 25 % from one epoch to the next...
LR_SWING_SHARE = 0.20  # ...in >= 20 % of the epochs since it rose (AUTOTRAINER's 20 %)
# Good fit must beat the linear model by 2 %: the kept epoch is the best of many on the same validation
# rows, so on a noisy plateau it sits a few percent below the curve's level by selection alone, while
# the linear model is fitted once. On the suite, right-sized networks beat it by 4-99 %
# (bench/REPORT-scenarios.md); those that do not are linear models or problems a line already solves.
LINEAR_MARGIN = 0.02


@dataclass
class Finding:
    evidence: list[str]
    handled: str | None = None  # found, but already taken care of (early stopping): a secondary note only


class Rule(ABC):
    """One finding: how to detect it, what to call it, what to advise."""

    verdict: ClassVar[str]  # one of VERDICTS
    title: ClassVar[str]  # the card's heading
    severity: ClassVar[str]  # error, warning, success
    summary: ClassVar[str]  # one sentence for a person
    terminal: ClassVar[bool] = False  # the curves are unusable after it: later rules are not run

    @abstractmethod
    def detect(self, s: Signals) -> Finding | None:
        """The finding with its evidence, or None when the rule does not hold."""

    def recommend(self, s: Signals, advice: Advice) -> None:
        """Add recommendations, best first (the verdict's default advice unless overridden)."""
        ADVICE.get(self.verdict, no_advice)(s, advice)

    def summarize(self, s: Signals, finding: Finding) -> str:
        return self.summary

    @property
    def name(self) -> str:
        return type(self).__name__


# ---------------------------------------------------------------- the rules


class Diverged(Rule):
    verdict = "diverged"
    title = "Diverged"
    severity = "error"
    summary = "Training blew up: the loss became infinite, NaN, or exploded far above where it started."
    terminal = True

    def detect(self, s: Signals) -> Finding | None:
        for i, (t, v) in enumerate(zip(s.train, s.val, strict=True)):
            if not (math.isfinite(t) and math.isfinite(v)):
                which, value = ("training", t) if not math.isfinite(t) else ("validation", v)
                return Finding([f"{which} loss became {value} at epoch {s.epochs[i]}; the run was ended there"])
        # Blown up and not back: the last epoch far above the best, above the start, and worse than
        # guessing. A spike that recovers is instability (LearningRateTooHigh), not divergence.
        if s.n > s.skip:
            low, last = min(s.train[:-1]), s.train[-1]
            # "Worse than guessing" by a clear margin: a loss that ends exactly at the chance level is a
            # network collapsed to a constant prediction (dead units after too big a step), not an explosion.
            if last > EXPLOSION_FACTOR * low and last > s.train[0] and last > EXPLODED_ABOVE_CHANCE * s.scale:
                times = f"{last / low:.0f}x its best" if low > 0 else "far above its best"
                return Finding(
                    [
                        f"training loss exploded to {fmt(last)} at epoch {s.epochs[-1]} ({times}, {fmt(low)}), above where it "
                        f"started ({fmt(s.train[0])}) and worse than always guessing ({fmt(s.scale)})"
                    ]
                )
        return None


class LearningRateTooHigh(Rule):
    verdict = "lr_too_high"
    title = "Learning rate too high"
    severity = "error"
    summary = "Training is unstable: the loss keeps jumping back up instead of settling. The steps are too big."

    def detect(self, s: Signals) -> Finding | None:
        found = list(s.instability) or self._ramp(s)
        handled = None
        if not found:
            blow_up = self._blow_up(s)
            if blow_up is None:
                return None
            line, at = blow_up
            if s.restores_best and s.best > at and s.val[s.best] < s.val_lows[at]:
                # The kept weights come after the recovery and beat everything before the spike.
                handled = f"{line}; the kept epoch {s.epochs[s.best]} comes after the recovery"
            found = [line]
        if handled:
            return Finding([], handled=handled)
        if s.extreme_lr and s.hp is not None:
            found.append(f"learning rate {s.hp.learning_rate:g} is high for {s.hp.optimizer} (usual start {ADVICE_USUAL(s):g})")
        return Finding(found)

    @staticmethod
    def _blow_up(s: Signals) -> tuple[str, int] | None:
        """A jump to >= 4x the best loss so far that undoes at least half the progress, then recovers (the run
        did not end there: that would be Diverged): an overshoot, the learning-rate finders' stop signal.

        Only before the best validation epoch: a spike after it comes when the model is already
        memorizing (Adam on a near-zero training loss), which the overfitting rules judge."""
        for i in range(s.skip, s.best):
            low = s.train_lows[i]
            progress = s.train[0] - low
            v_low = s.val_lows[i]
            both = v_low > 0 and s.val[i] > EXPLOSION_FACTOR * v_low  # an overshoot wrecks the model: both curves jump
            if both and s.train[i] > EXPLOSION_FACTOR * low and progress > 0 and s.train[i] - low >= 0.5 * progress:
                line = (
                    f"training loss blew up to {fmt(s.train[i])} at epoch {s.epochs[i]} ({s.train[i] / low:.0f}x its best so "
                    f"far, {fmt(low)}, undoing {min(1.0, (s.train[i] - low) / progress):.0%} of the progress) and came back to "
                    f"{fmt(s.train[-1])}: an overshoot, not a final divergence; validation loss jumped with it, "
                    f"{fmt(v_low)} -> {fmt(s.val[i])}"
                )
                return line, i
        return None

    @staticmethod
    def _ramp(s: Signals) -> list[str]:
        """A logged learning rate that rose (warm-up gone too far, a cyclic or range-test schedule) while
        validation swings: the schedule explains the instability."""
        ramp = s.lr_ramp()
        if ramp is None:
            return []
        _, first, peak = ramp
        lrs = s.learning_rates or []
        since = [i for i in range(1, s.n) if lrs[i] >= 3 * first]
        swings = [i for i in since if s.val[i - 1] > 0 and s.val[i] >= LR_SWING * s.val[i - 1]]
        if len(swings) >= 2 and len(swings) >= LR_SWING_SHARE * len(since):
            values = [s.val[i] for i in since]
            return [
                f"the logged learning rate rose from {first:g} to {peak:g}, and since it passed {3 * first:g} (epoch "
                f"{s.epochs[since[0]]}) validation loss jumped by >= {LR_SWING - 1:.0%} in {len(swings)} of {len(since)} "
                f"epochs, swinging between {fmt(min(values))} and {fmt(max(values))}"
            ]
        return []


class ConstantPredictor(Rule):
    verdict = "underfitting"
    title = "Underfitting: a constant predictor"
    severity = "warning"
    summary = (
        "The model predicts the same thing for every input: its accuracy is frozen and its loss sits near the chance "
        "level. It has learned nothing yet."
    )

    def detect(self, s: Signals) -> Finding | None:
        frozen = s.frozen
        gain, train_gain = s.gain(s.val[s.kept]), s.gain(min(s.train))
        # A constant predictor fits neither split: both losses stay near chance (a frozen metric on a
        # well-fitted run is a small validation set at 100 %, not a constant).
        if frozen is None or gain is None or train_gain is None or max(gain, train_gain) >= CONSTANT_GAIN:
            return None
        start, length = frozen
        return Finding(
            [
                f"training and validation metrics repeat one value ({s.val_metric[start]:.4g}) for {length} epochs in a "
                f"row (epochs {s.epochs[start]}-{s.epochs[start + length - 1]}): the predictions do not depend on the input",
                f"validation loss {fmt(s.val[s.kept])} is only {max(gain, 0.0):.0%} below the {s.chance_note}",
            ]
        )


class ValidationRise(Rule):
    verdict = "overfitting"
    title = "Overfitting"
    severity = "warning"
    summary = "The model memorizes the training data: training keeps improving while validation gets worse (high variance)."

    def detect(self, s: Signals) -> Finding | None:
        """Judged on the model the run keeps. A rise that early stopping cut off and whose restored epoch
        beats a linear model is `handled`: a secondary note, not the verdict. In an unstable run
        validation swings with training: only the metric gap (MetricGap) counts there."""
        if s.instability:
            return None
        rise = self._rise(s)
        if rise is None:
            return None
        if not s.ended_by_early_stopping:
            return Finding([rise])
        linear = s.linear
        if linear and s.val[s.best] > (1 - LINEAR_MARGIN) * linear["val_loss"]:
            return Finding(
                [
                    f"{rise}; even the restored epoch {s.epochs[s.best]} ({fmt(s.val[s.best])}) is no better than a linear "
                    f"model ({fmt(linear['val_loss'])}): the network overfits before it generalizes"
                ]
            )
        return Finding([], handled=f"{rise}; early stopping cut it off")

    @staticmethod
    def _rise(s: Signals) -> str | None:
        best, v_min, v_end = s.best, s.val[s.best], s.val[-1]
        if best >= s.n - 1 or v_min <= 0:
            return None
        gl = 100 * (v_end / v_min - 1)  # Prechelt's generalization loss
        t_after = min(s.train[best:])
        t_drop = (s.train[best] - t_after) / s.train[best] if s.train[best] > 0 else 0.0
        big_enough = v_end - v_min >= OVERFIT_MIN_RISE * s.scale
        if big_enough and (gl >= OVERFIT_GL_STRONG or (gl >= OVERFIT_GL and t_drop >= OVERFIT_TRAIN_DROP)):
            return (
                f"validation loss bottomed at {fmt(v_min)} in epoch {s.epochs[best]} and rose to {fmt(v_end)} by epoch "
                f"{s.epochs[-1]} ({gl:.0f} % worse) while training loss kept falling ({fmt(s.train[best])} -> {fmt(t_after)})"
            )
        stalled = best / max(1, s.n - 1) <= STALL_POSITION and s.n - 1 - best >= 3
        if stalled and gl >= STALL_GL and t_drop >= STALL_TRAIN_DROP:
            return (
                f"validation loss has not improved since epoch {s.epochs[best]} ({fmt(v_min)}; {fmt(v_end)} at epoch "
                f"{s.epochs[-1]}, {gl:.0f} % worse) while training loss fell {t_drop:.0%} ({fmt(s.train[best])} -> "
                f"{fmt(t_after)}): the train/validation gap keeps widening"
            )
        return None


class StillImproving(Rule):
    verdict = "not_converged"
    title = "Not converged yet"
    severity = "warning"
    summary = "The model was still improving when training ended: it needs more (or faster) training."

    def detect(self, s: Signals) -> Finding | None:
        """Best validation epoch in the last quarter and still falling there (Tuning Playbook).

        A run that early stopping ended has, by definition, stopped improving. A very small learning
        rate makes "still falling" slow: then a steady fall counts however small. Validation at its
        best in the very last epoch with training still falling counts from a 1 % fall.
        """
        n = s.n
        if n < 2:
            return Finding(["only one epoch was trained"])
        if s.ended_by_early_stopping:
            return None
        tail = max(2, math.ceil(TAIL_SHARE * n))
        start = n - tail
        position = s.best / max(1, n - 1)
        drop = s.val[start] - s.val[s.best]
        tail_drop = drop / s.val[start] if s.val[start] > 0 else 0.0
        steps = max(1, tail - 1)
        train_falling = sum(s.train[i] < s.train[i - 1] for i in range(start + 1, n)) / steps
        val_falling = sum(s.val[i] < s.val[i - 1] for i in range(start + 1, n)) / steps
        train_drop = (s.train[start] - s.train[-1]) / s.train[start] if s.train[start] > 0 else 0.0
        steady = (
            tail_drop >= CONVERGED_TAIL_DROP and drop >= CONVERGED_MIN_DROP * s.scale and max(train_falling, val_falling) >= 0.6
        )
        creeping = s.low_lr and tail_drop > 0 and train_falling >= 0.8
        at_end = (
            s.best == n - 1
            and tail_drop >= AT_END_DROP
            and drop >= CONVERGED_MIN_DROP * s.scale
            and train_falling >= 0.7
            and train_drop >= 0.01
        )
        # The guide's rule 4 on the training side: validation at (within 1 % of) its best at the end
        # while training still falls clearly (>= 5 % across the tail, in >= 70 % of its epochs).
        training = (
            s.val[-1] <= (1 + AT_END_DROP) * s.val[s.best]
            and train_drop >= TRAIN_TAIL_DROP
            and s.train[start] - s.train[-1] >= CONVERGED_MIN_DROP * s.scale
            and train_falling >= 0.7
        )
        if position < 1 - TAIL_SHARE or not (steady or creeping or at_end or training):
            return None
        found = [
            f"the best validation loss came at epoch {s.epochs[s.best]} of {s.epochs[-1]}, and it fell "
            f"{tail_drop:.1%} over the last {tail} epochs; training loss fell in {train_falling:.0%} of them"
        ]
        cuts = [i for i in s.lr_cuts() if i >= start]
        if cuts and s.learning_rates:
            found.append(
                f"the logged learning rate was cut at epoch {s.epochs[cuts[0]]} ({s.learning_rates[cuts[0] - 1]:g} -> "
                f"{s.learning_rates[cuts[0]]:g}): part of the late fall follows the schedule, and the smaller steps make "
                "further gains slower"
            )
        if s.low_lr and s.hp is not None:
            found.append(
                f"learning rate {s.hp.learning_rate:g} is low for {s.hp.optimizer} (usual start {ADVICE_USUAL(s):g}): "
                "small steps, slow progress"
            )
        return Finding(found)


class HighBias(Rule):
    verdict = "underfitting"
    title = "Underfitting"
    severity = "warning"
    summary = "The model fits even the training data poorly (high bias): it is too simple or too constrained."

    def detect(self, s: Signals) -> Finding | None:
        """High bias without knowing the best possible error: compare with the chance level and the
        baselines (Ng, Deepchecks)."""
        t_best = min(s.train)  # the best fit of the training data the network reached
        train_gain, val_gain = s.gain(t_best), s.gain(s.val[s.kept])
        against = "always guessing the majority class or the mean" if s.trivial else f"the {s.chance_note}"
        if train_gain is not None and val_gain is not None:
            chance = s.chance or 0.0
            if train_gain < UNDERFIT_GAIN:
                how = f"only {train_gain:.0%} better than" if train_gain > 0 else "no better than"
                return Finding(
                    [
                        f"training loss {fmt(t_best)} is {how} {against} ({fmt(chance)}); a useful model gains at least "
                        f"{UNDERFIT_GAIN:.0%}"
                    ]
                )
            if val_gain < UNDERFIT_GAIN and train_gain < FITS_TRAINING:
                return Finding(
                    [
                        f"neither loss gets far from {against} ({fmt(chance)}): validation {fmt(s.val[s.kept])} is "
                        f"{max(val_gain, 0.0):.0%} below it and training {fmt(t_best)} only {train_gain:.0%}; the train/"
                        "validation gap is small next to how little was learned"
                    ]
                )
        linear = s.linear
        trivial = s.trivial["val_loss"] if s.trivial else None
        if (
            linear
            and trivial
            and linear["val_loss"] > UNDERFIT_GAIN * trivial
            and t_best >= UNDERFIT_VS_LINEAR * linear["val_loss"]
        ):
            return Finding(
                [
                    f"training loss {fmt(t_best)} is no better than a plain linear model's validation loss "
                    f"({fmt(linear['val_loss'])}): the network is not using its extra capacity"
                ]
            )
        boosted = (s.baselines or {}).get("boosted")
        if boosted and t_best > boosted["val_loss"] + UNDERFIT_VS_BOOSTED * s.scale:
            return Finding(
                [
                    f"training loss {fmt(t_best)} stays above what gradient-boosted trees reach on unseen validation data "
                    f"({fmt(boosted['val_loss'])}): the network cannot even fit the examples it trains on"
                ]
            )
        if train_gain is None and s.train[0] > 0 and (s.train[0] - t_best) / s.train[0] < UNDERFIT_GAIN:
            return Finding([f"training loss barely moved: {fmt(s.train[0])} -> {fmt(t_best)}"])
        return None


class MetricGap(Rule):
    verdict = "overfitting"
    title = "Overfitting"
    severity = "warning"
    summary = (
        "The model does clearly better on its training data than on validation data (high variance): it has learned "
        "details of the training examples that do not carry over."
    )

    def detect(self, s: Signals) -> Finding | None:
        """Validation metric well below training's (Deepchecks), with training clearly above chance: two
        chance-level metrics differ by noise alone, and a poor training fit is bias, not variance."""
        at = s.kept
        tm, vm = s.train_metric[at], s.val_metric[at]
        if not (math.isfinite(tm) and math.isfinite(vm)) or tm <= 0:
            return None
        chance_metric = s.trivial["val_metric"] if s.trivial else -math.inf
        train_gain = s.gain(min(s.train))
        fits = train_gain is None or train_gain >= FITS_TRAINING
        if (
            fits
            and tm >= chance_metric + OVERFIT_ABOVE_CHANCE
            and tm - vm >= OVERFIT_METRIC_ABS
            and (tm - vm) / abs(tm) >= OVERFIT_METRIC_GAP
        ):
            return Finding(
                [f"at epoch {s.epochs[at]} the validation metric {vm:.3f} is {(tm - vm) / abs(tm):.0%} below training's {tm:.3f}"]
            )
        return None


class NoBetterThanLinear(Rule):
    verdict = "underfitting"
    title = "Underfitting: no better than a linear model"
    severity = "warning"
    summary = (
        "The network's kept model does not beat a plain linear model on validation data: its extra layers buy nothing "
        "here. Either the problem is linear, or the network is not using its capacity."
    )

    def detect(self, s: Signals) -> Finding | None:
        linear = s.linear
        kept = s.val[s.kept]
        if not linear or not math.isfinite(kept) or kept <= (1 - LINEAR_MARGIN) * linear["val_loss"]:
            return None
        lead = 1 - kept / linear["val_loss"] if linear["val_loss"] > 0 else 0.0
        how = f"only {lead:.1%} below" if lead > 0 else f"{-lead:.1%} above"
        return Finding(
            [
                f"validation loss of the kept model (epoch {s.epochs[s.kept]}) {fmt(kept)} is {how} the linear model's "
                f"{fmt(linear['val_loss'])}; a good fit beats it by at least {LINEAR_MARGIN:.0%}"
            ]
        )

    def recommend(self, s: Signals, advice: Advice) -> None:
        hp = s.hp
        if hp is not None and hp.hidden_layers > 0 and (hp.dropout > 0 or hp.weight_decay > 0):
            ADVICE["underfitting"](s, advice)  # constrained: loosen first
            return
        if hp is not None and hp.hidden_layers > 0 and not hp.early_stopping:
            advice.add(
                "early_stopping",
                "enable",
                True,
                "Keep the best epoch's weights: the last epoch's may be worse than a linear model's.",
            )
        ADVICE["underfitting"](s, advice)


class GoodFit(Rule):
    verdict = "good_fit"
    title = "Good fit"
    severity = "success"
    summary = "Training converged and validation follows training closely."

    def detect(self, s: Signals) -> Finding:
        found = [
            f"best validation loss {fmt(s.val[s.best])} at epoch {s.epochs[s.best]}; training loss there {fmt(s.train[s.best])}"
        ]
        if math.isfinite(s.train_metric[s.kept]) or math.isfinite(s.val_metric[s.kept]):  # a log may have no metric
            found.append(
                f"metric of the kept model (epoch {s.epochs[s.kept]}): training {s.train_metric[s.kept]:.3f}, "
                f"validation {s.val_metric[s.kept]:.3f}"
            )
        if s.baselines:
            parts = [f"{name} {fmt(b['val_loss'])}" for name, b in s.baselines.items()]
            found.append("baseline validation losses: " + ", ".join(parts))
        return Finding(found)

    def summarize(self, s: Signals, finding: Finding) -> str:
        kept = s.val[s.kept]
        if s.linear:
            lead = 1 - kept / s.linear["val_loss"] if s.linear["val_loss"] > 0 else 0.0
            return (
                f"{self.summary[:-1]}, and the kept model's validation loss ({fmt(kept)}) beats a linear model's "
                f"({fmt(s.linear['val_loss'])}) by {lead:.0%}."
            )
        if s.trivial:
            return f"{self.summary[:-1]}, and the kept model's validation loss ({fmt(kept)}) is well below the trivial model's."
        if s.chance is not None:
            gain = s.gain(kept) or 0.0
            return (
                f"{self.summary[:-1]}. No baselines in a log: judged against the {s.chance_note}; the kept validation loss "
                f"{fmt(kept)} is {gain:.0%} below it."
            )
        return f"{self.summary[:-1]}. No baselines or chance level were available: judged on the shape of the curves only."


# ONE tuple is the priority: the first rule that fires names the verdict, the others are secondary.
RULES: tuple[Rule, ...] = (
    Diverged(),
    LearningRateTooHigh(),
    ValidationRise(),
    StillImproving(),
    ConstantPredictor(),
    HighBias(),
    MetricGap(),
    NoBetterThanLinear(),
    GoodFit(),
)
