"""Measurements of one run that the rules read: the curves, the kept epoch, and what a log can tell.

A run from FitLab's Trainer comes with hyperparameters and baselines. A log written by another tool
has neither; what it may have instead is a metric name, a learning-rate column and (from the caller)
a class count. Those give a chance level to judge the losses against, and a schedule that explains
late drops and swings. `Signals.unavailable` records what was missing so the evidence can say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from core.history import EpochRecord, early_stopping_best
from core.hyperparameters import Hyperparameters

Baselines = dict[str, dict[str, float]]  # {name: {val_loss, val_metric}}, see core/baselines.py

SKIP_SHARE = 0.10  # the first 10 % of epochs are warm-up
UNSTABLE_RISE = 0.05  # a rise counts when it climbs 5 % of the scale above the best so far...
UNSTABLE_JUMP = 0.10  # with an extreme learning rate, epoch-to-epoch jumps of 10 % also count
EXTREME_LR = {"adam": 0.01, "adamw": 0.01, "sgd": 0.3}  # at or above: evidence of instability
LOW_LR = {"adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}  # at or below: evidence of slow progress
VALIDATED_SHARE = 0.5  # fewer epochs than this with a validation loss: the log has no validation to judge
ESTIMATE_FROM = 0.9  # the class count is read off a first-epoch loss of at least 0.9 ln 2
FROZEN_EPOCHS = 5  # a metric repeating one value this many epochs in a row...
FROZEN_SHARE = 0.30  # ...and over this share of the run is "frozen"


def fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.3e}"


def lows_before(values: Sequence[float]) -> list[float]:
    """`result[i] == min(values[:i])` for i = 1..len(values), in one pass (`result[0]`, the minimum of
    nothing, is NaN and never read). The same comparisons as Python's `min`, so NaNs fall out alike; the
    rules asked `min(values[:i])` at every epoch, which made a 20,000-epoch log take 9 s."""
    lows = [math.nan]
    for index, value in enumerate(values):
        lows.append(value if index == 0 or value < lows[-1] else lows[-1])
    return lows


@dataclass
class Signals:
    train: list[float]
    val: list[float]
    train_metric: list[float]
    val_metric: list[float]
    epochs: list[int]
    hp: Hyperparameters | None = None
    baselines: Baselines | None = None
    learning_rates: list[float] | None = None  # per epoch, from a log's lr column
    metric_name: str | None = None  # the log's name for the metric ("accuracy", "mae")
    classes: int | None = None  # class count when known (a log's caller may know it)
    scale: float = 1.0  # what "a lot" means for this loss: the chance level, else the first loss
    chance: float | None = None  # the loss of a constant predictor, when known or estimable
    chance_note: str = ""  # how the chance level was found ("ln 2 = 0.693 for 2 classes")
    best: int = 0  # index of the lowest validation loss
    restores_best: bool = False  # early stopping on: the run keeps the weights of `best`
    ended_by_early_stopping: bool = False  # and patience ran out before the epoch budget
    unavailable: list[str] = field(default_factory=list)  # what a check wanted and did not have

    @property
    def n(self) -> int:
        return len(self.val)

    @property
    def kept(self) -> int:
        """Index of the epoch whose weights the run keeps."""
        return self.best if self.restores_best else self.n - 1

    @property
    def skip(self) -> int:
        return max(1, math.ceil(SKIP_SHARE * self.n))

    @property
    def trivial(self) -> dict[str, float] | None:
        return (self.baselines or {}).get("trivial")

    @property
    def linear(self) -> dict[str, float] | None:
        return (self.baselines or {}).get("linear")

    @property
    def extreme_lr(self) -> bool:
        return self.hp is not None and self.hp.learning_rate >= EXTREME_LR[self.hp.optimizer]

    @property
    def low_lr(self) -> bool:
        return self.hp is not None and self.hp.learning_rate <= LOW_LR[self.hp.optimizer]

    @property
    def is_accuracy(self) -> bool:
        return bool(self.metric_name) and any(w.startswith("acc") for w in str(self.metric_name).lower().split("_"))

    def gain(self, loss: float) -> float | None:
        """Deepchecks' gain over the constant predictor, (chance - loss) / chance; None without a chance level."""
        if self.chance is None or self.chance <= 0:
            return None
        return (self.chance - loss) / self.chance

    @cached_property
    def train_lows(self) -> list[float]:
        """`train_lows[i]`: the lowest training loss before epoch index i (`lows_before`)."""
        return lows_before(self.train)

    @cached_property
    def val_lows(self) -> list[float]:
        """`val_lows[i]`: the lowest validation loss before epoch index i (`lows_before`)."""
        return lows_before(self.val)

    @cached_property
    def instability(self) -> list[str]:
        """Training loss climbing back up after warm-up (Tuning Playbook, AUTOTRAINER's 20 % of epochs)."""
        counted = self.n - self.skip
        if counted < 4:
            return []
        rises = []
        for i in range(self.skip, self.n):
            t = self.train
            climbed = t[i] - self.train_lows[i] > UNSTABLE_RISE * self.scale and t[i] > 1.01 * t[i - 1]
            jumped = t[i] > (1 + UNSTABLE_JUMP) * t[i - 1] and t[i] - t[i - 1] > 0.01 * self.scale
            if climbed or (self.extreme_lr and jumped):
                rises.append(i)
        share = len(rises) / counted
        if share >= 0.20 or (self.extreme_lr and share >= 0.10):
            epochs = ", ".join(str(self.epochs[i]) for i in rises[:6]) + (" ..." if len(rises) > 6 else "")
            return [
                f"training loss jumped back up in {len(rises)} of {counted} epochs after warm-up ({share:.0%}; epochs {epochs}) "
                "instead of settling"
            ]
        return []

    @cached_property
    def frozen(self) -> tuple[int, int] | None:
        """(first index, length) of the longest stretch where training and validation metrics both repeat
        one value: the model predicts the same thing whatever it is shown."""
        tm, vm = self.train_metric, self.val_metric
        if not any(math.isfinite(v) for v in vm):
            return None
        best: tuple[int, int] | None = None
        start = 0
        for i in range(1, self.n + 1):
            same = (
                i < self.n
                and math.isfinite(vm[i])
                and abs(vm[i] - vm[i - 1]) < 1e-6
                and (not math.isfinite(tm[i]) or abs(tm[i] - tm[i - 1]) < 1e-6)
            )
            if not same:
                if best is None or i - start > best[1]:
                    best = (start, i - start)
                start = i
        if best and best[1] >= max(FROZEN_EPOCHS, FROZEN_SHARE * self.n):
            return best
        return None

    def lr_ramp(self) -> tuple[int, float, float] | None:
        """(index where it peaks, first, peak) when the logged learning rate rose at least 3x during the run."""
        lrs = self.learning_rates
        if not lrs or len(lrs) != self.n or not all(math.isfinite(v) and v > 0 for v in lrs):
            return None
        peak = max(range(self.n), key=lambda i: lrs[i])
        return (peak, lrs[0], lrs[peak]) if lrs[peak] >= 3 * lrs[0] else None

    def lr_cuts(self) -> list[int]:
        """Indices where the logged learning rate fell to at most 0.7x the epoch before (a schedule's step)."""
        lrs = self.learning_rates
        if not lrs or len(lrs) != self.n:
            return []
        return [i for i in range(1, self.n) if math.isfinite(lrs[i]) and 0 < lrs[i] <= 0.7 * lrs[i - 1]]


def measure(
    history: Sequence[EpochRecord],
    hp: Hyperparameters | None,
    baselines: Baselines | None,
    *,
    kept_epoch: int | None,
    status: str | None,
    learning_rates: Sequence[float] | None,
    metric_name: str | None,
    classes: int | None,
) -> Signals:
    s = Signals(
        train=[float(r.train_loss) for r in history],
        val=[float(r.val_loss) for r in history],
        train_metric=[float(r.train_metric) for r in history],
        val_metric=[float(r.val_metric) for r in history],
        epochs=[int(r.epoch) for r in history],
        hp=hp,
        baselines=baselines,
        learning_rates=[float(v) for v in learning_rates] if learning_rates is not None else None,
        metric_name=metric_name,
        classes=classes,
    )
    measured = sum(math.isfinite(v) for v in s.val)
    first = next((i for i, v in enumerate(s.val) if math.isfinite(v)), s.n)
    # Missing, not blown up: no validation loss turns non-finite after a finite one.
    never_broke = all(math.isfinite(v) for v in s.val[first:])
    if s.n and measured < VALIDATED_SHARE * s.n and never_broke and all(math.isfinite(t) for t in s.train):
        # A log that (mostly) never measured validation: not a blow-up. Judge on the training loss,
        # which can show instability, convergence and bias, but not overfitting.
        s.val = list(s.train)
        s.val_metric = [math.nan] * s.n
        s.unavailable.append(
            f"validation loss was logged in only {measured} of {s.n} epochs: judged on the training loss, "
            "so overfitting could not be checked"
        )
    _chance_level(s)
    if not baselines:
        s.unavailable.append("no baselines (trivial, linear, boosted trees) were fitted for this run")
    finite = [i for i in range(s.n) if math.isfinite(s.val[i])]
    if finite:
        s.best = min(finite, key=lambda i: s.val[i])
    s.restores_best = hp is not None and hp.early_stopping
    kept_index = next((i for i, e in enumerate(s.epochs) if e == kept_epoch), None) if kept_epoch else None
    if hp is not None and hp.early_stopping and kept_index is not None:
        s.best = kept_index  # the Trainer restored this epoch's weights
        s.ended_by_early_stopping = status == "early_stopped"
    elif hp is not None and hp.early_stopping and finite:
        # The Trainer's own rule decides which epoch was kept and whether patience ran out. A history
        # that goes on past that stop did not come from this early stopping (a log, a hand-made
        # curve): then it is judged as a run without it.
        kept, stop = early_stopping_best(s.val, hp.patience)
        s.ended_by_early_stopping = stop == s.n - 1 and s.n < hp.epochs
        if stop is None or s.ended_by_early_stopping:
            s.best = kept
    return s


def _chance_level(s: Signals) -> None:
    """The loss of a model that ignores its input: the trivial baseline, else ln C for C classes (Karpathy:
    a fresh classifier starts at -log(1/C)), with C from the caller or estimated from the first epoch's
    loss when the metric is an accuracy."""
    first = next((v for v in s.train if math.isfinite(v)), math.nan)
    if s.trivial:
        s.chance = s.trivial["val_loss"]
        s.chance_note = f"the trivial baseline's validation loss {fmt(s.chance)}"
    elif s.classes and s.classes >= 2:
        s.chance = math.log(s.classes)
        s.chance_note = f"chance level ln {s.classes} = {s.chance:.3f} for {s.classes} classes"
    elif s.is_accuracy and s.n:
        starts = [v for v in (s.train[0], s.val[0]) if math.isfinite(v) and v > 0]
        # Only a first loss near or above ln 2 says "still near ln C": one far below it means the first
        # epoch already learned a lot (or the loss is not a plain cross-entropy), so C cannot be read off.
        if starts and min(starts) >= ESTIMATE_FROM * math.log(2):
            classes = max(2, round(math.exp(min(starts))))
            s.chance = math.log(classes)
            s.chance_note = (
                f"chance level ln {classes} = {s.chance:.3f}, taking {classes} classes from the first epoch's loss "
                f"{fmt(min(starts))} (the class count is not in the log)"
            )
    if s.chance is not None and s.chance > 0:
        s.scale = s.chance
    else:
        s.scale = max(abs(first), 1e-12) if math.isfinite(first) else 1.0
        if not s.trivial:
            s.unavailable.append("no chance level (no class count, and the metric is not an accuracy)")
