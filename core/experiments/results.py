"""What the learning-rate finder and the learning curve found, as plain data the pages read and draw.

No torch here (the web process reads these from the run store); the experiments that produce them are
core.experiments.lr_finder and core.experiments.learning_curve, in the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.jsonsafe import json_safe

# Thresholds for `interpret`, relative so that they read the same for cross-entropy and for the
# standardized regression MSE.
# Still falling: the last step (e.g. 50 % -> 100 %, a doubling) cut validation loss by >= 5 %.
# Below that, the gain from doubling again is in the noise of a ~200-row validation set.
STILL_FALLING = 0.05
# Flattened after a fraction: from there on, validation loss ends within 5 % of that point's value.
FLAT_WITHIN = 0.05
# Large gap (variance): validation loss >= 1.5x training loss *and* at least 0.05 above it (the
# absolute floor keeps two near-zero losses, 0.002 vs 0.004, from counting as a gap).
LARGE_GAP_RATIO = 1.5
LARGE_GAP_ABSOLUTE = 0.05
# Narrowing: the gap at the largest fraction is at most 70 % of the gap at the smallest.
GAP_NARROWED = 0.7



@dataclass
class LrFinderResult:
    learning_rates: list[float]  # one per step actually taken, exponentially spaced
    losses: list[float]  # raw mini-batch training loss at each step (before that step's update)
    smoothed: list[float]  # bias-corrected exponential moving average of `losses`
    suggestion: float  # the rule's learning rate, unclipped; NaN when no finite loss was recorded
    suggestion_index: int  # index into learning_rates / losses; -1 when there is no suggestion
    snapped_suggestion: float  # suggestion clipped to the knob's range and snapped to a slider step
    rule: str  # "valley"
    stopped_early: bool  # True when the loss blew up before the last planned step
    reason: str  # one sentence: why the sweep ended and where the suggestion sits
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "learning_rates": list(self.learning_rates),
                "losses": list(self.losses),
                "smoothed": list(self.smoothed),
                "suggestion": self.suggestion,
                "suggestion_index": self.suggestion_index,
                "snapped_suggestion": self.snapped_suggestion,
                "rule": self.rule,
                "stopped_early": self.stopped_early,
                "reason": self.reason,
                "seconds": self.seconds,
            }
        )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LrFinderResult:
        """The inverse of to_dict; JSON nulls (non-finite numbers) come back as NaN."""

        def floats(name: str) -> list[float]:
            return [math.nan if v is None else float(v) for v in values[name]]

        suggestion = values.get("suggestion")
        return cls(
            learning_rates=floats("learning_rates"),
            losses=floats("losses"),
            smoothed=floats("smoothed"),
            suggestion=math.nan if suggestion is None else float(suggestion),
            suggestion_index=int(values["suggestion_index"]),
            snapped_suggestion=float(values["snapped_suggestion"]),
            rule=str(values["rule"]),
            stopped_early=bool(values["stopped_early"]),
            reason=str(values["reason"]),
            seconds=float(values.get("seconds") or 0.0),
        )


@dataclass(frozen=True)
class LearningCurvePoint:
    fraction: float  # share of the training set asked for
    rows: int  # training rows actually used (small shares are topped up to 2 per class)
    train_loss: float  # kept model, on its own training rows
    val_loss: float  # kept model, on the full validation set
    train_metric: float
    val_metric: float
    best_epoch: int
    epochs: int  # epochs run
    max_epochs: int  # the epoch budget it had (scaled up for small shares with equal_steps)
    status: str  # the Trainer's: completed, early_stopped, diverged, stopped
    seconds: float

    @property
    def gap(self) -> float:
        return self.val_loss - self.train_loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "rows": self.rows,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "train_metric": self.train_metric,
            "val_metric": self.val_metric,
            "best_epoch": self.best_epoch,
            "epochs": self.epochs,
            "max_epochs": self.max_epochs,
            "status": self.status,
            "seconds": self.seconds,
        }


@dataclass
class LearningCurveResult:
    task: str
    train_rows: int  # size of the full training set
    val_rows: int
    equal_steps: bool = True
    points: list[LearningCurvePoint] = field(default_factory=list)
    stopped: bool = False  # a stop request ended it before every fraction was trained

    def column(self, name: str) -> list[float]:
        return [float(getattr(point, name)) for point in self.points]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "task": self.task,
                "train_rows": self.train_rows,
                "val_rows": self.val_rows,
                "equal_steps": self.equal_steps,
                "points": [point.to_dict() for point in self.points],
                "stopped": self.stopped,
                "interpretation": interpret(self),
            }
        )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LearningCurveResult:
        """The inverse of to_dict; JSON nulls (non-finite numbers) come back as NaN."""
        points = []
        for point in values.get("points", []):
            fields_: dict[str, Any] = {k: (math.nan if v is None else v) for k, v in point.items()}
            points.append(LearningCurvePoint(**fields_))
        return cls(
            task=str(values["task"]),
            train_rows=int(values["train_rows"]),
            val_rows=int(values["val_rows"]),
            equal_steps=bool(values.get("equal_steps", True)),
            points=points,
            stopped=bool(values.get("stopped", False)),
        )


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def _loss(value: float) -> str:
    """Two decimals, or two significant digits for small losses (0.015, not 0.01)."""
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.2g}"


def _large_gap(point: LearningCurvePoint) -> bool:
    return point.gap >= LARGE_GAP_ABSOLUTE and point.val_loss >= LARGE_GAP_RATIO * point.train_loss


def interpret(result: LearningCurveResult) -> str:
    """One sentence: would more data help, and why (thresholds are the module constants above)."""
    points = [p for p in result.points if math.isfinite(p.val_loss) and math.isfinite(p.train_loss)]
    if len(points) < 2:
        return "Too few finished points to read a learning curve: train on at least two shares of the data."
    first, before, last = points[0], points[-2], points[-1]
    span = f"from {_loss(first.val_loss)} at {_percent(first.fraction)} to {_loss(last.val_loss)} at {_percent(last.fraction)}"
    # The largest share's best epoch was its last: it was still improving, so more epochs may help as well.
    caveat = (
        f" (the {_percent(last.fraction)} run was still improving at its last epoch, so more epochs may help too)"
        if last.status == "completed" and last.best_epoch == last.epochs
        else ""
    )
    still_falling = before.val_loss > 0 and (before.val_loss - last.val_loss) / before.val_loss >= STILL_FALLING
    if still_falling:
        if _large_gap(first) and last.gap <= GAP_NARROWED * first.gap:
            return (
                f"The train/validation gap narrowed from {_loss(first.gap)} at {_percent(first.fraction)} to "
                f"{_loss(max(last.gap, 0.0))} at {_percent(last.fraction)} while validation loss was still falling ({span}): "
                f"high variance, more data would likely help{caveat}."
            )
        return f"Validation loss fell {span} and was still falling: more data would likely help{caveat}."
    flat_from = next(p for p in points if p.val_loss <= 0 or (p.val_loss - last.val_loss) / p.val_loss < FLAT_WITHIN)
    if flat_from is first:
        trend = f"Validation loss hardly changed {span}"
    else:
        trend = f"Validation loss went {span} and flattened after {_percent(flat_from.fraction)}"
    if _large_gap(last):
        return (
            f"{trend}, yet training loss ({_loss(last.train_loss)}) stays well below it: more data is unlikely to help; "
            f"regularize or shrink the model instead{caveat}."
        )
    return f"{trend}: more data is unlikely to help; change the model instead{caveat}."
