"""Recommendations as the rules write them: one knob, one move on its slider grid, one reason.

Values come from the hyperparameter metadata (core/hyperparameters.py: slider grids, RANGES and the
cheat sheet's start values), so "Apply" always lands on a value the dashboard offers.
"""

from __future__ import annotations

from typing import Any

from core.diagnosis.result import Recommendation
from core.hyperparameters import (
    BATCH_SIZE_STEPS,
    LEARNING_RATE_STEPS,
    RANGES,
    USUAL_LEARNING_RATE,
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
