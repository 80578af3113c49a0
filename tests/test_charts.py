"""core.charts: every figure shows the data it was given, with its markers where the rules put them."""

from __future__ import annotations

import math

import pytest

from core.charts import (
    boundary_figure,
    fix_path_figure,
    learning_curve_figure,
    loss_figure,
    lr_finder_figure,
    metric_figure,
)
from core.data import load_builtin
from core.history import EpochRecord
from core.hyperparameters import Hyperparameters
from core.learning_curve import LearningCurvePoint, LearningCurveResult
from core.lr_finder import LrFinderResult
from core.model import build_model

RISING = "validation starts rising"


def records(train: list[float], val: list[float], tm: float = 0.8, vm: float = 0.75) -> list[EpochRecord]:
    return [
        EpochRecord(i + 1, t, v, tm + 0.001 * i, vm + 0.001 * i, 0.01) for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]


# validation falls to its lowest at epoch 4 (0.5), dips just inside the 2 % band at epoch 5 (0.505 <= 0.51)
# and stays above it from epoch 6 on: the rise starts at epoch 6.
U_TRAIN = [1.0, 0.75, 0.55, 0.45, 0.40, 0.35, 0.30, 0.25]
U_VAL = [1.0, 0.8, 0.6, 0.5, 0.505, 0.52, 0.6, 0.7]
MONOTONE_TRAIN = [1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.41, 0.40]
MONOTONE_VAL = [1.1, 0.9, 0.7, 0.6, 0.55, 0.52, 0.51, 0.50]


def trace(fig, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, [t.name for t in fig.data]
    return matches[0]


def traces_starting(fig, prefix: str) -> list:
    return [t for t in fig.data if t.name and t.name.startswith(prefix)]


def horizontal_lines(fig) -> list[float]:
    return [s.y0 for s in fig.layout.shapes if s.y0 is not None and s.y0 == s.y1 and s.x0 != s.x1]


# ---------------------------------------------------------------- loss_figure


def test_loss_figure_traces_hold_the_history():
    history = records(U_TRAIN, U_VAL)
    fig = loss_figure(history)
    assert list(trace(fig, "train loss").x) == list(range(1, 9))
    assert list(trace(fig, "train loss").y) == U_TRAIN
    assert list(trace(fig, "validation loss").y) == U_VAL


def test_best_epoch_star_sits_at_the_lowest_validation_loss():
    fig = loss_figure(records(U_TRAIN, U_VAL))
    (star,) = traces_starting(fig, "best epoch")
    assert star.name == "best epoch (4)"
    assert list(star.x) == [4] and list(star.y) == [0.5]


def test_best_epoch_star_skips_a_non_finite_validation_loss():
    val = [1.0, 0.8, math.nan, 0.7]
    (star,) = traces_starting(loss_figure(records([1.0, 0.8, 0.7, 0.6], val)), "best epoch")
    assert list(star.x) == [4] and list(star.y) == [0.7]


def test_given_best_epoch_places_the_star_there():
    fig = loss_figure(records(U_TRAIN, U_VAL), best_epoch=6)
    (star,) = traces_starting(fig, "best epoch")
    assert list(star.x) == [6] and list(star.y) == [U_VAL[5]]


def test_baselines_are_horizontal_lines_at_their_validation_loss():
    baselines = {
        "trivial": {"val_loss": 0.69, "val_metric": 0.5},
        "linear": {"val_loss": 0.41, "val_metric": 0.8},
        "boosted": {"val_loss": 0.23, "val_metric": 0.9},
    }
    fig = loss_figure(records(U_TRAIN, U_VAL), baselines=baselines)
    assert sorted(horizontal_lines(fig)) == [0.23, 0.41, 0.69]
    assert horizontal_lines(loss_figure(records(U_TRAIN, U_VAL))) == []


def test_a_baseline_without_a_finite_loss_draws_no_line():
    baselines = {"trivial": {"val_loss": 0.69, "val_metric": 0.5}, "linear": {"val_loss": math.nan, "val_metric": 0.8}}
    assert horizontal_lines(loss_figure(records(U_TRAIN, U_VAL), baselines=baselines)) == [0.69]


def test_log_scale_sets_a_log_y_axis():
    assert loss_figure(records(U_TRAIN, U_VAL), log_scale=True).layout.yaxis.type == "log"
    assert loss_figure(records(U_TRAIN, U_VAL)).layout.yaxis.type != "log"


def test_u_shaped_validation_gets_the_rising_marker_where_it_leaves_the_band():
    (marker,) = traces_starting(loss_figure(records(U_TRAIN, U_VAL)), RISING)
    assert list(marker.x) == [6] and list(marker.y) == [U_VAL[5]]
    assert "(6)" in marker.name


def test_monotone_validation_has_no_rising_marker():
    assert traces_starting(loss_figure(records(MONOTONE_TRAIN, MONOTONE_VAL)), RISING) == []


def test_validation_that_comes_back_into_the_band_has_no_rising_marker():
    # climbs after the best epoch but ends within 2 % of it: never "stays above" the band
    val = [1.0, 0.6, 0.5, 0.6, 0.7, 0.505]
    assert traces_starting(loss_figure(records([1.0, 0.6, 0.5, 0.45, 0.4, 0.35], val)), RISING) == []


def test_gap_trace_never_lies_below_the_train_trace():
    # validation above training, then below it (a regularized model), then a NaN
    train = [1.0, 0.8, 0.6, 0.5, 0.5]
    val = [1.2, 0.9, 0.5, 0.45, math.nan]
    fig = loss_figure(records(train, val))
    gap = trace(fig, "gap (validation above training)")
    for g, t, v in zip(gap.y, train, val, strict=True):
        if math.isfinite(v):
            assert g >= t
            assert g == max(t, v)
        else:
            assert g is None


# ---------------------------------------------------------------- metric_figure


def test_metric_figure_traces_hold_the_metrics():
    history = records(U_TRAIN, U_VAL, tm=0.7, vm=0.6)
    fig = metric_figure(history)
    assert list(trace(fig, "train accuracy").y) == [r.train_metric for r in history]
    assert list(trace(fig, "validation accuracy").y) == [r.val_metric for r in history]
    assert list(trace(fig, "train accuracy").x) == [r.epoch for r in history]


def test_metric_figure_for_regression_is_r2():
    history = records(U_TRAIN, U_VAL, tm=0.3, vm=0.2)
    fig = metric_figure(history, "regression")
    assert list(trace(fig, "train R²").y) == [r.train_metric for r in history]
    assert list(trace(fig, "validation R²").y) == [r.val_metric for r in history]


# ---------------------------------------------------------------- boundary_figure


def _untrained(dataset):
    return build_model(dataset.n_inputs, dataset.n_outputs, Hyperparameters(hidden_layers=1, width=4, seed=0))


def test_boundary_needs_two_numeric_features():
    iris = load_builtin("iris")
    assert len(iris.feature_names) != 2
    with pytest.raises(ValueError):
        boundary_figure(iris, _untrained(iris), resolution=10)


def test_boundary_scatter_shows_every_training_and_validation_row_by_class(tiny_moons):
    fig = boundary_figure(tiny_moons, _untrained(tiny_moons), resolution=12)
    scatters = traces_starting(fig, "class ")
    names = [f"class {c} (train)" for c in tiny_moons.classes] + [f"class {c} (validation)" for c in tiny_moons.classes]
    assert [t.name for t in scatters] == names
    train, val = scatters[: len(tiny_moons.classes)], scatters[len(tiny_moons.classes) :]
    assert sum(len(t.x) for t in train) == len(tiny_moons.y_train)
    assert sum(len(t.x) for t in val) == len(tiny_moons.y_val)
    for index, t in enumerate(train):
        assert len(t.x) == int((tiny_moons.y_train == index).sum())
    assert all(t.marker.symbol == "circle-open" for t in val)  # validation points are told apart
    (surface,) = [t for t in fig.data if t.type == "contour"]
    assert len(surface.x) == 12 and len(surface.y) == 12
    assert all(0.0 <= p <= 1.0 for row in surface.z for p in row)  # a probability


def test_boundary_for_three_classes(tiny_gaussians):
    fig = boundary_figure(tiny_gaussians, _untrained(tiny_gaussians), resolution=10)
    scatters = traces_starting(fig, "class ")
    assert len(scatters) == 6  # 3 classes, train and validation
    assert sum(len(t.x) for t in scatters[:3]) == len(tiny_gaussians.y_train)
    (heatmap,) = [t for t in fig.data if t.type == "heatmap"]
    assert {int(v) for row in heatmap.z for v in row} <= {0, 1, 2}


def test_boundary_for_regression_shows_the_training_points(tiny_sine):
    fig = boundary_figure(tiny_sine, _untrained(tiny_sine), resolution=10)
    points = trace(fig, "train points")
    assert len(points.x) == len(tiny_sine.y_train)
    assert list(points.marker.color) == pytest.approx(list(tiny_sine.y_train))
    assert len(trace(fig, "validation points").x) == len(tiny_sine.y_val)


# ---------------------------------------------------------------- fix_path_figure


def test_fix_path_has_one_validation_trace_per_round_in_order():
    rounds = [
        ("round 0: as set up", records([1.0, 0.9, 0.95], [1.1, 1.0, 1.05])),
        ("round 1: learning rate 1 -> 0.001", records([0.9, 0.6, 0.4, 0.3], [0.95, 0.7, 0.5, 0.4])),
        ("round 2: epochs 4 -> 8", records([0.8, 0.5], [0.85, 0.55])),
    ]
    fig = fix_path_figure(rounds)
    validation = [t for t in fig.data if t.name.endswith("(validation)")]
    assert [t.name for t in validation] == [f"{label} (validation)" for label, _ in rounds]
    for t, (_, history) in zip(validation, rounds, strict=True):
        assert list(t.y) == [r.val_loss for r in history]
        assert list(t.x) == [r.epoch for r in history]
    training = [t for t in fig.data if t.name.endswith("(training)")]
    assert [list(t.y) for t in training] == [[r.train_loss for r in h] for _, h in rounds]
    assert len({t.line.color for t in validation}) == 3  # one color per round
    assert fix_path_figure(rounds, log_scale=True).layout.yaxis.type == "log"


# ---------------------------------------------------------------- lr_finder_figure


def _lr_result(suggestion_index: int = 3) -> LrFinderResult:
    lrs = [1e-5 * 10**i for i in range(6)]
    losses = [0.70, 0.69, 0.60, 0.40, 0.35, 3.0]
    smoothed = [0.70, 0.695, 0.66, 0.56, 0.49, 1.2]
    return LrFinderResult(
        learning_rates=lrs,
        losses=losses,
        smoothed=smoothed,
        suggestion=lrs[suggestion_index] if suggestion_index >= 0 else math.nan,
        suggestion_index=suggestion_index,
        snapped_suggestion=lrs[suggestion_index] if suggestion_index >= 0 else math.nan,
        rule="valley",
        stopped_early=False,
        reason="hand-made",
    )


def test_lr_finder_figure_plots_losses_against_learning_rates():
    result = _lr_result()
    fig = lr_finder_figure(result)
    raw = trace(fig, "batch loss")
    assert list(raw.x) == result.learning_rates and list(raw.y) == result.losses
    assert list(trace(fig, "smoothed loss").y) == result.smoothed
    assert fig.layout.xaxis.type == "log"
    (star,) = traces_starting(fig, "suggestion")
    assert list(star.x) == [result.learning_rates[3]] and list(star.y) == [result.smoothed[3]]


def test_lr_finder_figure_without_a_suggestion_has_no_star():
    assert traces_starting(lr_finder_figure(_lr_result(-1)), "suggestion") == []


# ---------------------------------------------------------------- learning_curve_figure


def test_learning_curve_figure_plots_both_losses_against_rows():
    points = [
        LearningCurvePoint(fraction, rows, train, val, 0.9, 0.8, 5, 10, 10, "completed", 0.1)
        for fraction, rows, train, val in [(0.1, 12, 0.05, 0.9), (0.5, 60, 0.2, 0.5), (1.0, 120, 0.25, 0.35)]
    ]
    result = LearningCurveResult(task="classification", train_rows=120, val_rows=40, points=points)
    fig = learning_curve_figure(result)
    assert list(trace(fig, "train loss").x) == [12, 60, 120]
    assert list(trace(fig, "train loss").y) == [0.05, 0.2, 0.25]
    assert list(trace(fig, "validation loss").x) == [12, 60, 120]
    assert list(trace(fig, "validation loss").y) == [0.9, 0.5, 0.35]
    assert fig.layout.xaxis.type == "log"


def test_a_wobble_at_the_tail_of_a_converged_run_has_no_rising_marker():
    # the last two epochs sit 3 % above the best: noise, not the start of overfitting
    val = [1.0, 0.5, 0.3, 0.2, 0.2, 0.2, 0.206, 0.206]
    train = [1.0, 0.5, 0.3, 0.2, 0.19, 0.19, 0.19, 0.19]
    assert traces_starting(loss_figure(records(train, val)), RISING) == []
