"""Recommendations as the rules write them: one knob, one move on its slider grid, one reason; and
ADVICE, the default advice of each verdict (a rule may write its own).

Values come from the hyperparameter metadata (core/hyperparameters.py: slider grids, RANGES and the
cheat sheet's start values), so "Apply" always lands on a value the dashboard offers.
"""

from __future__ import annotations

from typing import Any

from core.diagnosis.result import Recommendation
from core.diagnosis.signals import Signals
from core.hyperparameters import (
    BATCH_SIZE_STEPS,
    DROPOUT_AGAINST_OVERFITTING,
    DROPOUT_STEP,
    HIDDEN_LAYERS_START,
    LEARNING_RATE_STEPS,
    LONG_RUN_EPOCHS,
    RANGES,
    USUAL_LEARNING_RATE,
    WEIGHT_DECAY_START,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    Hyperparameters,
    snap,
)

STEPS: dict[str, tuple[float, ...]] = {
    "learning_rate": LEARNING_RATE_STEPS,
    "batch_size": BATCH_SIZE_STEPS,
    "width": WIDTH_STEPS,
    "weight_decay": WEIGHT_DECAY_STEPS,
}
INTEGER_KNOBS = ("batch_size", "width", "epochs", "hidden_layers")


class Advice:
    """Collects recommendations in order (best first) and drops no-ops."""

    def __init__(self, hp: Hyperparameters | None) -> None:
        self.hp = hp
        self.items: list[Recommendation] = []

    def add(self, knob: str, action: str, value: Any, reason: str) -> None:
        if self.hp is not None and value == getattr(self.hp, knob):
            return  # already at its limit: no point recommending a no-op
        if any(r.knob == knob for r in self.items):
            return  # one move per knob: the first (strongest) wins
        self.items.append(Recommendation(knob, action, value, reason))

    def step(self, knob: str, direction: int, count: int = 1) -> Any:
        """The current value moved `count` steps up (+1) or down (-1) its slider grid; None without knobs."""
        if self.hp is None:
            return None
        steps = STEPS[knob]
        index = steps.index(snap(float(getattr(self.hp, knob)), steps)) + direction * count
        value = steps[max(0, min(len(steps) - 1, index))]
        return int(value) if knob in INTEGER_KNOBS else value

    def clamp(self, knob: str, value: float) -> Any:
        low, high = RANGES[knob]
        clamped = max(low, min(high, value))
        return int(clamped) if knob in INTEGER_KNOBS else round(clamped, 6)

    def usual_learning_rate(self) -> float:
        return USUAL_LEARNING_RATE[self.hp.optimizer if self.hp else "adam"]


# ---------------------------------------------------------------- advice per verdict


def ADVICE_USUAL(s: Signals) -> float:  # noqa: N802 - reads like the constant it stands for
    return Advice(s.hp).usual_learning_rate()


def no_advice(s: Signals, a: Advice) -> None:
    """A verdict without default advice (a rule that writes its own)."""


def _diverged(s: Signals, a: Advice) -> None:
    a.add(
        "learning_rate",
        "decrease",
        a.step("learning_rate", -2),
        "Cheat sheet: too high a learning rate overshoots and diverges; cut it about 10x.",
    )
    if s.hp:
        a.add(
            "batch_size",
            "increase",
            a.step("batch_size", +1),
            "Larger batches give smoother, more stable steps (cheat sheet: batch size).",
        )


def _lr_too_high(s: Signals, a: Advice) -> None:
    hp = s.hp
    if hp and s.extreme_lr:  # far too high: back to the usual start
        usual = a.usual_learning_rate()
        a.add(
            "learning_rate",
            "decrease",
            usual,
            f"Cheat sheet (learning rate: too high overshoots and bounces): {hp.learning_rate:g} is far above the usual "
            f"start for {hp.optimizer}, {usual:g}.",
        )
    else:
        reason = "Cheat sheet (learning rate: too high overshoots and bounces): about 3x smaller steps settle."
        if s.lr_ramp() is not None:
            reason += " The logged schedule raised it: cap the schedule's peak lower, or warm up for longer."
        a.add("learning_rate", "decrease", a.step("learning_rate", -1), reason)
    if hp:
        a.add("batch_size", "increase", a.step("batch_size", +1), "Cheat sheet: large batches give stable, smooth updates.")


def _not_converged(s: Signals, a: Advice) -> None:
    hp = s.hp
    if hp and s.low_lr:  # far below the usual start: go back to it rather than creep up
        usual = a.usual_learning_rate()
        a.add(
            "learning_rate",
            "increase",
            max(usual, a.step("learning_rate", +1)),
            f"Cheat sheet (learning rate: too low learns very slowly): {hp.learning_rate:g} is far below the usual start "
            f"for {hp.optimizer}, {usual:g}.",
        )
    if hp:
        # Cheat sheet strategy: set epochs high and let early stopping end the run.
        longer = max(hp.epochs * 2, LONG_RUN_EPOCHS) if hp.early_stopping else hp.epochs * 2
        a.add(
            "epochs",
            "increase",
            a.clamp("epochs", longer),
            "Cheat sheet (epochs: too few underfit): it was still improving, so train longer"
            + ("; early stopping will end the run when it stops improving." if hp.early_stopping else "."),
        )
    a.add(
        "learning_rate",
        "increase",
        a.step("learning_rate", +1),
        "Cheat sheet: a learning rate too low learns very slowly; about 3x larger steps.",
    )


def _underfitting(s: Signals, a: Advice) -> None:
    hp = s.hp
    if hp is None:
        a.add("width", "increase", None, "Cheat sheet (underfits: increase width and depth).")
        return
    if hp.hidden_layers == 0:
        a.add(
            "hidden_layers",
            "increase",
            HIDDEN_LAYERS_START,
            "Cheat sheet (underfits: increase depth): with no hidden layer the model is linear.",
        )
    if hp.dropout > 0:
        a.add(
            "dropout",
            "decrease",
            RANGES["dropout"][0],
            "Cheat sheet (underfits: remove dropout): it limits what the model can fit.",
        )
    if hp.weight_decay > 0:
        a.add(
            "weight_decay",
            "decrease",
            RANGES["weight_decay"][0],
            "Weight decay pulls weights to zero; off while the model underfits.",
        )
    a.add("width", "increase", a.step("width", +1), "Cheat sheet (underfits: increase width): more neurons capture more detail.")
    if hp.hidden_layers > 0:
        a.add(
            "hidden_layers",
            "increase",
            a.clamp("hidden_layers", hp.hidden_layers + 1),
            "Cheat sheet (underfits: increase depth): deeper nets learn more complex features.",
        )
    a.add("epochs", "increase", a.clamp("epochs", hp.epochs * 2), "Cheat sheet (underfits: more epochs).")
    a.add("learning_rate", "increase", a.step("learning_rate", +1), "Cheat sheet (underfits: increase learning rate).")
    a.add(
        "batch_size",
        "decrease",
        a.step("batch_size", -1),
        "Cheat sheet (underfits: smaller batches add noise that can escape poor regions).",
    )


def _overfitting(s: Signals, a: Advice) -> None:
    # Strongest levers first (Tuning Playbook); contested cheat-sheet rows last, and said so.
    hp = s.hp
    if hp is None:
        a.add("dropout", "increase", None, "Cheat sheet (overfits: add dropout 0.2-0.5, weight decay, early stopping).")
        return
    if not hp.early_stopping:
        a.add(
            "early_stopping",
            "enable",
            True,
            "Cheat sheet (epochs: too many overfit; use early stopping): keeps the best epoch's weights.",
        )
    low, high = DROPOUT_AGAINST_OVERFITTING
    step = DROPOUT_STEP if hp.dropout < high else DROPOUT_STEP / 2
    dropout = round(min(high if hp.dropout < high else RANGES["dropout"][1], hp.dropout + step), 2)
    a.add(
        "dropout",
        "increase",
        dropout,
        f"Cheat sheet (overfits: increase dropout, {low:g}-{high:g}): forces redundancy.",
    )
    a.add(
        "weight_decay",
        "increase",
        a.step("weight_decay", +1) if hp.weight_decay > 0 else WEIGHT_DECAY_START,
        f"Weight decay (L2) keeps weights small and the model smoother; typical {WEIGHT_DECAY_START:g}.",
    )
    if hp.width > 16:
        a.add("width", "decrease", a.step("width", -1), "Cheat sheet (overfits: decrease width): less capacity to memorize.")
    if hp.hidden_layers > 1:
        a.add("hidden_layers", "decrease", hp.hidden_layers - 1, "Cheat sheet (overfits: decrease depth).")
    if not hp.early_stopping and s.best < s.n - 1:
        a.add(
            "epochs",
            "decrease",
            max(1, s.epochs[s.best]),
            "Cheat sheet (overfits: fewer epochs): validation was best at this epoch.",
        )
    a.add(
        "learning_rate",
        "decrease",
        a.step("learning_rate", -1),
        "Cheat sheet (overfits: decrease learning rate). Contested: the Tuning Playbook calls a smaller learning rate a "
        "poor regularizer; prefer the levers above.",
    )
    a.add(
        "batch_size",
        "increase",
        a.step("batch_size", +1),
        "Cheat sheet (overfits: increase batch size, 'sometimes helps'). Contested: Karpathy lists smaller batches as the "
        "regularizer and the Tuning Playbook says not to tune regularization with batch size.",
    )


def _good_fit(s: Signals, a: Advice) -> None:
    hp = s.hp
    if hp and s.n and s.best / max(1, s.n - 1) <= 0.5 and not hp.early_stopping and s.epochs[s.best] + 5 < hp.epochs:
        a.add(
            "epochs",
            "decrease",
            max(1, s.epochs[s.best] + 5),
            "Validation was best early: fewer epochs give the same model sooner (cheat sheet: epochs 20-50).",
        )


ADVICE = {
    "diverged": _diverged,
    "lr_too_high": _lr_too_high,
    "not_converged": _not_converged,
    "underfitting": _underfitting,
    "overfitting": _overfitting,
    "good_fit": _good_fit,
}
