"""Would more data help? Train on growing shares of the training set and read the learning curve.

Each point trains a fresh model with the same hyperparameters and seed on a seeded, stratified
subset of the training rows (scikit-learn's `train_test_split`), always scored on the full
validation set. The loss recorded is the kept model's, as the Trainer keeps it: the best epoch's
with early stopping on, the last epoch's otherwise; training loss is measured on the rows that
point trained on, as scikit-learn's `learning_curve` does.

Equal steps (on by default): an epoch over 10 % of the data is a tenth of the optimizer steps, so
with the same `epochs` the small-data points are simply trained less, and the curve then says
"more data helps" when what helped was more steps. Measured on spiral (1000 samples, default
knobs): at 10 % with 50 epochs training loss stayed at 0.29 (validation 0.31); with the same number
of steps as the full run it reached 0.002 (validation 0.09). So `epochs` and `patience` are scaled by
the ratio of batches per epoch (full set / subset), capped at the knob's maximum of 1000; every other
hyperparameter is the same. `equal_steps=False` keeps the epochs as given.

Reading it (Ng's bias/variance rules for learning curves): validation loss still falling at the full
set means more data would likely help; a large train/validation gap that narrows with data is high
variance, which data cures; a curve that has flattened means the model, not the data, is the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from core.data.dataset import Dataset
from core.experiments.run import clean_json
from core.hyperparameters import RANGES, Hyperparameters
from core.training.trainer import Trainer, _tensors, configure_threads, evaluate

DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
MIN_ROWS_PER_CLASS = 2  # a class with one row cannot be told apart from a label error
MIN_REGRESSION_ROWS = 2

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


class LearningCurveError(ValueError):
    """Fractions that cannot make a learning curve; the message says which and why."""


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
        return clean_json(
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


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(f) for f in fractions)
    if not values:
        raise LearningCurveError("give at least one fraction of the training set")
    for value in values:
        if not (math.isfinite(value) and 0 < value <= 1):
            raise LearningCurveError(f"fractions must be in (0, 1], got {value:g}")
    if list(values) != sorted(set(values)):
        raise LearningCurveError("fractions must be distinct and in increasing order")
    return values


def subset_indices(dataset: Dataset, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a seeded, stratified `fraction` of the training rows.

    Classification keeps the class proportions (`train_test_split(stratify=...)`) and then tops up
    any class left with fewer than MIN_ROWS_PER_CLASS rows from that class's unused rows.
    """
    y = np.asarray(dataset.y_train)
    total = len(y)
    everything = np.arange(total)
    if fraction >= 1.0:
        return everything
    if dataset.task != "classification":
        rows = max(MIN_REGRESSION_ROWS, round(fraction * total))
        if rows >= total:
            return everything
        chosen, _ = train_test_split(everything, train_size=rows, random_state=seed)
        return np.sort(chosen)
    classes = np.unique(y)
    rows = max(len(classes) * MIN_ROWS_PER_CLASS, round(fraction * total))
    if rows >= total - len(classes) + 1:  # too close to everything for a stratified split
        return everything
    chosen, rest = train_test_split(everything, train_size=rows, random_state=seed, stratify=y)
    rng = np.random.default_rng(seed)
    extra = []
    for label in classes:
        missing = MIN_ROWS_PER_CLASS - int(np.sum(y[chosen] == label))
        if missing > 0:
            pool = rest[y[rest] == label]
            extra.extend(rng.permutation(pool)[:missing].tolist())
    return np.sort(np.concatenate([chosen, np.asarray(extra, dtype=chosen.dtype)]))


def _subset(dataset: Dataset, indices: np.ndarray) -> Dataset:
    raw = dataset.raw_train.iloc[indices].reset_index(drop=True) if dataset.raw_train is not None else None
    return replace(dataset, x_train=dataset.x_train[indices], y_train=dataset.y_train[indices], raw_train=raw)


def scaled_hyperparameters(hp: Hyperparameters, full_rows: int, rows: int) -> Hyperparameters:
    """`hp` with epochs and patience scaled so that `rows` get as many optimizer steps as `full_rows`."""
    full_batches, batches = math.ceil(full_rows / hp.batch_size), math.ceil(rows / hp.batch_size)
    ceiling = int(RANGES["epochs"][1])
    return hp.replace(
        epochs=min(ceiling, math.ceil(hp.epochs * full_batches / batches)),
        patience=min(ceiling, math.ceil(hp.patience * full_batches / batches)),
    )


def learning_curve(
    dataset: Dataset,
    hp: Hyperparameters,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    *,
    stop_event: threading.Event | None = None,
    equal_steps: bool = True,
    on_point: Callable[[LearningCurvePoint], None] | None = None,
) -> LearningCurveResult:
    """Train once per fraction (smallest first); a stop request ends it and keeps the points so far.

    `on_point` is called with each point as it is finished (progress for the CLI and the page).
    """
    values = check_fractions(fractions)
    configure_threads()
    result = LearningCurveResult(
        task=dataset.task, train_rows=len(dataset.y_train), val_rows=len(dataset.y_val), equal_steps=equal_steps
    )
    for fraction in values:
        if stop_event is not None and stop_event.is_set():
            result.stopped = True
            break
        started = time.perf_counter()
        indices = subset_indices(dataset, fraction, hp.seed)
        subset = _subset(dataset, indices)
        point_hp = scaled_hyperparameters(hp, result.train_rows, len(indices)) if equal_steps else hp
        trainer = Trainer(subset, point_hp, stop_event)
        for _record in trainer:
            pass
        if trainer.status == "stopped" or not trainer.history:
            result.stopped = True
            break
        assert trainer.model is not None
        train_loss, train_metric = evaluate(trainer.model, *_tensors(subset.x_train, subset.y_train, subset.task), subset.task)
        val_loss, val_metric = evaluate(trainer.model, *_tensors(subset.x_val, subset.y_val, subset.task), subset.task)
        result.points.append(
            LearningCurvePoint(
                fraction=fraction,
                rows=len(indices),
                train_loss=train_loss,
                val_loss=val_loss,
                train_metric=train_metric,
                val_metric=val_metric,
                best_epoch=trainer.best_epoch,
                epochs=len(trainer.history),
                max_epochs=point_hp.epochs,
                status=trainer.status,
                seconds=time.perf_counter() - started,
            )
        )
        if on_point is not None:
            on_point(result.points[-1])
    return result


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
