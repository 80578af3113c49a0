"""core.experiments.lr_finder: the learning-rate range test and its suggestion."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.experiments.lr_finder import LrFinderError, find_learning_rate, snap_learning_rate, valley_index
from core.experiments.results import LrFinderResult
from core.hyperparameters import LEARNING_RATE_STEPS, RANGES, Hyperparameters
from core.training.trainer import Trainer

# ---------------------------------------------------------------- the valley rule on hand-made curves


def test_valley_is_the_middle_of_the_longest_descent():
    # flat start, a descent from index 1 (the last 1.0) to 8, then the blow-up
    losses = [1.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.9, 5.0]
    assert valley_index(losses) == (1 + 8) // 2


def test_valley_steps_over_a_bump_in_the_descent():
    # the bump at index 4 does not split the descent into two short ones (whose middles would be 1 or 5);
    # as in fastai, the stretch is as long as the falling subsequence (7 points) and ends at index 7
    losses = [1.0, 0.9, 0.8, 0.7, 0.75, 0.6, 0.5, 0.4, 2.0]
    assert valley_index(losses) == (1 + 7) // 2


def test_valley_prefers_the_longer_of_two_descents():
    short, long = [1.0, 0.5], [2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4]
    assert valley_index(short + long) == 2 + 3


@pytest.mark.parametrize(("losses", "expected"), [([], -1), ([0.7], 0), ([1.0, 0.5], 0), ([1.0, 2.0, 3.0], 0)])
def test_valley_edge_cases(losses, expected):
    assert valley_index(losses) == expected


@pytest.mark.parametrize(
    ("raw", "snapped"),
    [(0.00586, 0.01), (0.0017, 0.001), (0.0018, 0.003), (1e-9, 1e-5), (50.0, 1.0), (0.3, 0.3)],
)
def test_suggestion_is_clipped_and_snapped_to_the_slider(raw, snapped):
    assert snap_learning_rate(raw) == snapped


# ---------------------------------------------------------------- the sweep


@pytest.fixture(scope="module")
def moons_sweep(request) -> LrFinderResult:
    tiny_moons = request.getfixturevalue("tiny_moons")
    return find_learning_rate(tiny_moons, Hyperparameters(hidden_layers=1, width=32, seed=0))


def test_sweep_is_exponential_from_start(moons_sweep):
    lrs = np.array(moons_sweep.learning_rates)
    assert lrs[0] == pytest.approx(1e-7)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, (10.0 / 1e-7) ** (1 / 99))  # 100 steps from 1e-7 to 10
    assert len(moons_sweep.losses) == len(moons_sweep.smoothed) == len(lrs)


def test_smoothed_loss_is_the_bias_corrected_moving_average(moons_sweep):
    losses, smoothed = moons_sweep.losses, moons_sweep.smoothed
    assert smoothed[0] == pytest.approx(losses[0])  # bias correction: the first value is the first loss
    average = 0.0
    for step, value in enumerate(losses[:10]):
        average = 0.98 * average + 0.02 * value
        assert smoothed[step] == pytest.approx(average / (1 - 0.98 ** (step + 1)))


def test_adam_sweep_on_moons_blows_up_and_stops(moons_sweep):
    # Adam cannot survive learning rates near 10: the sweep ends once the smoothed loss is 4x its best
    assert moons_sweep.stopped_early
    finite = [v for v in moons_sweep.smoothed[:-1] if math.isfinite(v)]
    last = moons_sweep.smoothed[-1]
    assert not math.isfinite(last) or last > 4.0 * min(finite)
    assert "4x its best" in moons_sweep.reason or "non-finite" in moons_sweep.reason


def test_suggestion_on_moons_is_in_range_and_trains_without_diverging(tiny_moons, moons_sweep):
    result = moons_sweep
    assert result.rule == "valley"
    assert math.isfinite(result.suggestion)
    assert result.learning_rates[result.suggestion_index] == result.suggestion
    low, high = RANGES["learning_rate"]
    assert low <= result.snapped_suggestion <= high
    assert result.snapped_suggestion in LEARNING_RATE_STEPS
    # well below where the sweep blew up
    assert result.suggestion < result.learning_rates[-1] / 10

    hp = Hyperparameters(hidden_layers=1, width=32, epochs=8, learning_rate=result.snapped_suggestion, seed=0)
    trainer = Trainer(tiny_moons, hp)
    history = list(trainer)
    assert trainer.status != "diverged"
    train_losses = [r.train_loss for r in history]
    assert all(math.isfinite(v) for v in train_losses)
    assert train_losses[-1] < train_losses[0]
    assert history[trainer.best_epoch - 1].val_loss < math.log(2)  # beats guessing on two classes


def test_sweep_that_does_not_blow_up_runs_every_step(tiny_moons):
    result = find_learning_rate(tiny_moons, Hyperparameters(hidden_layers=1, width=8), start=1e-6, end=1e-3, steps=20)
    assert not result.stopped_early
    assert len(result.losses) == 20
    assert result.learning_rates[-1] == pytest.approx(1e-3)
    assert "reached" in result.reason
    assert 0 <= result.suggestion_index < 20


def test_same_seed_same_sweep_other_seed_other_sweep(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=8, seed=3)
    a = find_learning_rate(tiny_moons, hp, steps=30, end=1e-2)
    b = find_learning_rate(tiny_moons, hp, steps=30, end=1e-2)
    c = find_learning_rate(tiny_moons, hp.replace(seed=4), steps=30, end=1e-2)
    assert a.losses == b.losses
    assert a.losses != c.losses


def test_sweep_leaves_a_later_training_run_unchanged(tiny_moons, small_hp):
    before = [r.val_loss for r in Trainer(tiny_moons, small_hp)]
    find_learning_rate(tiny_moons, small_hp, steps=20)
    after = [r.val_loss for r in Trainer(tiny_moons, small_hp)]
    assert before == after


def test_batch_larger_than_the_training_set_and_regression(tiny_sine):
    # 120 training rows, batch 1024: every step uses the whole set; MSE loss on a regression target
    hp = Hyperparameters(hidden_layers=1, width=16, batch_size=1024, optimizer="sgd")
    result = find_learning_rate(tiny_sine, hp, steps=40)
    assert result.stopped_early  # SGD with momentum blows up long before 10
    assert math.isfinite(result.suggestion)
    assert result.snapped_suggestion in LEARNING_RATE_STEPS


def test_dropout_and_other_optimizers_run(tiny_gaussians):
    for optimizer in ("sgd", "adamw"):
        hp = Hyperparameters(hidden_layers=2, width=16, dropout=0.3, optimizer=optimizer)
        result = find_learning_rate(tiny_gaussians, hp, steps=30)
        assert math.isfinite(result.suggestion)


@pytest.mark.parametrize(
    "settings",
    [
        {"start": 1.0, "end": 0.1},
        {"start": 0.0},
        {"end": math.inf},
        {"steps": 1},
        {"stop_factor": 1.0},
        {"smoothing": 1.0},
    ],
)
def test_impossible_sweeps_are_refused(tiny_moons, settings):
    with pytest.raises(LrFinderError):
        find_learning_rate(tiny_moons, Hyperparameters(), **settings)


def test_to_dict_is_strict_json(moons_sweep):
    payload = moons_sweep.to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert set(payload) >= {"learning_rates", "losses", "smoothed", "suggestion", "snapped_suggestion", "rule", "reason"}
    assert json.loads(text)["snapped_suggestion"] == moons_sweep.snapped_suggestion


def test_non_finite_values_become_null():
    result = LrFinderResult(
        learning_rates=[1e-3, 1e-2],
        losses=[0.7, math.nan],
        smoothed=[0.7, math.nan],
        suggestion=1e-3,
        suggestion_index=0,
        snapped_suggestion=1e-3,
        rule="valley",
        stopped_early=True,
        reason="the loss became non-finite",
    )
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["losses"] == [0.7, None] and payload["smoothed"] == [0.7, None]


def test_figure_marks_the_suggestion_on_a_log_axis(moons_sweep):
    from core.figures.charts import lr_finder_figure

    fig = lr_finder_figure(moons_sweep)
    assert fig.layout.xaxis.type == "log"
    star = next(trace for trace in fig.data if trace.name.startswith("suggestion"))
    assert star.x[0] == moons_sweep.suggestion and star.y[0] == moons_sweep.smoothed[moons_sweep.suggestion_index]
    assert fig.layout.shapes[0].x0 == moons_sweep.snapped_suggestion  # the slider value, as a dotted line
    assert fig.layout.annotations[0].text == f"slider: {moons_sweep.snapped_suggestion:g}"
    # the blow-up at the end of the sweep does not set the y axis
    assert fig.layout.yaxis.range[1] < max(v for v in moons_sweep.losses if math.isfinite(v))
    assert fig.layout.yaxis.range[1] > moons_sweep.smoothed[moons_sweep.suggestion_index]
