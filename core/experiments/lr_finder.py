"""Learning-rate range test: sweep the learning rate up over mini-batches and suggest where to train.

The sweep follows fastai's `lr_find` and Lightning's `lr_find` (see the diagnosis guide): a fresh
model, the run's optimizer, one mini-batch per step with the learning rate growing exponentially
from `start` to `end`, the batch losses smoothed with a bias-corrected exponential moving average
(beta 0.98), and the sweep ends once the smoothed loss exceeds `stop_factor` x its best or a loss is
not finite.

Suggestion rule: fastai's "valley" (its default), the middle of the longest decreasing stretch of
the smoothed loss. Chosen over Lightning's steepest slope because the steepest-slope point is the
arg-min of a finite difference of a noisy curve: it needs an ad-hoc "skip the first 10 points" and
still jumps with the noise, while the valley depends on the whole descent. Measured on the default
moons set, 10 seeds (`bench/REPORT-lr-finder.md`): valley suggested 0.001-0.01 for Adam and never
ended measurably worse than the default 0.001; steepest slope on the same sweeps ranged 0.003-1 and
at 1 lost 0.16 in validation loss.

The raw suggestion is kept; `snapped_suggestion` is clipped into the hyperparameter range and
snapped to the slider's steps so that "use it" can set the slider to exactly that value.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from core.data.dataset import Dataset
from core.experiments.results import LrFinderResult
from core.hyperparameters import LEARNING_RATE_STEPS, RANGES, Hyperparameters, snap
from core.training.model import build_model
from core.training.optim import SEED_LOCK, configure_threads, loss_function, make_optimizer, to_tensors

DEFAULT_START = 1e-7  # fastai's sweep: 1e-7 ... 10 in 100 steps
DEFAULT_END = 10.0
DEFAULT_STEPS = 100
DEFAULT_STOP_FACTOR = 4.0  # fastai and Lightning stop once the smoothed loss is 4x its best
DEFAULT_SMOOTHING = 0.98  # beta of the exponential moving average (fastai, Lightning)
RULE = "valley"
SKIP_END = 5  # fastai leaves the last 5 recorded steps out of the suggestion (the blow-up)


class LrFinderError(ValueError):
    """Sweep settings that cannot work (an empty or reversed range, too few steps)."""


def valley_index(losses: list[float]) -> int:
    """fastai's valley: the middle of the longest decreasing stretch of the (smoothed) loss.

    As fastai computes it: the stretch's length is that of the longest subsequence whose losses fall
    point after point (dynamic programming, O(n^2)), its end is where that subsequence ends, and its
    start is estimated from the length; the suggestion is half-way. The estimate matters: tracking
    the subsequence's true first point instead lets it thread through the noise of the flat start of
    the sweep, which on moons moved the suggestion down to 1e-4 (far up the flat part). fastai's start,
    end - length, is one short (it can return -1 for a two-point stretch); here it is end - length + 1.
    Returns -1 for an empty list.
    """
    n = len(losses)
    if n == 0:
        return -1
    run_length = [1] * n
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run_length[i] < run_length[j] + 1:
                run_length[i] = run_length[j] + 1
            if run_length[end] < run_length[i]:
                end = i
                start = end - run_length[end] + 1
    return (start + end) // 2


def snap_learning_rate(value: float) -> float:
    """Clip into the learning-rate knob's range, then snap to the nearest slider step (log scale)."""
    low, high = RANGES["learning_rate"]
    return snap(min(max(value, low), high), LEARNING_RATE_STEPS)


def _check_settings(start: float, end: float, steps: int, stop_factor: float, smoothing: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end) and 0 < start < end):
        raise LrFinderError(f"the sweep needs 0 < start < end, got start={start:g}, end={end:g}")
    if steps < 2:
        raise LrFinderError(f"the sweep needs at least 2 steps, got {steps}")
    if not stop_factor > 1:
        raise LrFinderError(f"stop_factor must be above 1, got {stop_factor:g}")
    if not 0 <= smoothing < 1:
        raise LrFinderError(f"smoothing must be in [0, 1), got {smoothing:g}")


def find_learning_rate(
    dataset: Dataset,
    hp: Hyperparameters,
    *,
    start: float = DEFAULT_START,
    end: float = DEFAULT_END,
    steps: int = DEFAULT_STEPS,
    stop_factor: float = DEFAULT_STOP_FACTOR,
    smoothing: float = DEFAULT_SMOOTHING,
) -> LrFinderResult:
    """Run the range test on a fresh model built from `hp` (its seed, optimizer, batch size, dropout).

    Mini-batches are drawn from the training set in a seeded shuffled order, reshuffled whenever the
    set is used up, so a small dataset is cycled through as often as the sweep needs. The model is
    thrown away afterwards: nothing here changes a later training run.
    """
    _check_settings(start, end, steps, stop_factor, smoothing)
    configure_threads()
    started = time.perf_counter()
    with SEED_LOCK:
        torch.manual_seed(hp.seed)
        model = build_model(dataset.n_inputs, dataset.n_outputs, hp)
    learning_rates, losses, smoothed, reason = _sweep(
        model, dataset, hp, np.geomspace(start, end, steps), stop_factor=stop_factor, smoothing=smoothing
    )
    stopped_early = bool(reason)
    if not stopped_early:
        reason = f"the sweep reached {end:g} without the loss blowing up"
    index, suggestion, snapped, explanation = _suggest(learning_rates, smoothed, steps)
    reason += explanation
    return LrFinderResult(
        learning_rates=learning_rates,
        losses=losses,
        smoothed=smoothed,
        suggestion=suggestion,
        suggestion_index=index,
        snapped_suggestion=snapped,
        rule=RULE,
        stopped_early=stopped_early,
        reason=reason,
        seconds=time.perf_counter() - started,
    )


def _sweep(
    model: torch.nn.Module,
    dataset: Dataset,
    hp: Hyperparameters,
    schedule: np.ndarray,
    *,
    stop_factor: float,
    smoothing: float,
) -> tuple[list[float], list[float], list[float], str]:
    """One mini-batch per learning rate of `schedule`: (learning rates, raw losses, smoothed losses, why it
    stopped early, or "" when it ran the whole schedule)."""
    x_train, y_train = to_tensors(dataset.x_train, dataset.y_train, dataset.task)
    loss_fn = loss_function(dataset.task)
    optimizer = make_optimizer(model, hp)
    shuffler = torch.Generator().manual_seed(hp.seed)
    n, batch_size = len(x_train), min(hp.batch_size, len(x_train))

    learning_rates: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    order, position = torch.randperm(n, generator=shuffler), 0
    reason = ""
    model.train()
    for step, learning_rate in enumerate(schedule):
        if position + batch_size > n:  # drop the ragged tail: every step sees a full batch
            order, position = torch.randperm(n, generator=shuffler), 0
        batch = order[position : position + batch_size]
        position += batch_size
        for group in optimizer.param_groups:
            group["lr"] = float(learning_rate)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x_train[batch]), y_train[batch])
        value = float(loss.detach())
        learning_rates.append(float(learning_rate))
        losses.append(value)
        if not math.isfinite(value):
            smoothed.append(math.nan)
            reason = f"the loss became non-finite at learning rate {learning_rate:.3g}"
            break
        average = smoothing * average + (1 - smoothing) * value
        current = average / (1 - smoothing ** (step + 1))  # bias correction, as fastai and Lightning
        smoothed.append(current)
        best = min(best, current)
        if step > 0 and current > stop_factor * best:
            reason = f"the smoothed loss passed {stop_factor:g}x its best at learning rate {learning_rate:.3g}"
            break
        loss.backward()
        optimizer.step()
    return learning_rates, losses, smoothed, reason


def _suggest(learning_rates: list[float], smoothed: list[float], steps: int) -> tuple[int, float, float, str]:
    """(index, suggestion, snapped suggestion, the reason's tail) from the smoothed sweep of `steps` planned steps."""
    # As fastai: the first tenth of the planned steps and the last SKIP_END recorded ones are left
    # out (the start is flat noise, the end is the blow-up); a sweep too short for that uses all of
    # its finite points. Only the step that ended a sweep can be non-finite.
    usable = len(smoothed) - 1 if smoothed and not math.isfinite(smoothed[-1]) else len(smoothed)
    skip = steps // 10
    if usable - SKIP_END - skip >= 2:
        index = skip + valley_index(smoothed[skip : usable - SKIP_END])
    else:
        index = valley_index(smoothed[:usable])
    if index < 0:
        return index, math.nan, math.nan, "; no finite loss was recorded, so there is no suggestion"
    suggestion = learning_rates[index]
    snapped = snap_learning_rate(suggestion)
    return (
        index,
        suggestion,
        snapped,
        f"; the longest descent of the smoothed loss is centred on {suggestion:.3g} (slider: {snapped:g})",
    )
