"""core.figures.charts: every figure shows the data it was given, with its markers where the rules put them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from core.data.builtin import load_builtin
from core.data.dataset import transform
from core.experiments.results import LearningCurvePoint, LearningCurveResult, LrFinderResult
from core.experiments.surface import boundary_surface
from core.figures.charts import (
    CLASS_COLORS,
    LABEL_LINE_PX,
    LABEL_MARGIN_PX,
    PLOT_HEIGHT_PX,
    data_figure,
    fix_path_figure,
    learning_curve_figure,
    loss_figure,
    loss_range,
    lr_finder_figure,
    metric_figure,
    surface_figure,
)
from core.history import EpochRecord
from core.hyperparameters import Hyperparameters
from core.training.model import build_model

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


# A converged run whose curves live between 0.05 and 0.31, far below the trivial baseline (ln 2).
LOW_TRAIN = [0.05 + 0.25 * math.exp(-e / 10) for e in range(1, 61)]
LOW_VAL = [0.09 + 0.22 * math.exp(-e / 10) for e in range(1, 61)]
THREE = {"trivial": {"val_loss": 0.693}, "linear": {"val_loss": 0.264}, "boosted": {"val_loss": 0.141}}


def y_range(fig) -> tuple[float, float]:
    low, high = fig.layout.yaxis.range
    return low, high


def labels(fig) -> dict[str, object]:
    return {a.name.removeprefix("baseline label "): a for a in fig.layout.annotations if (a.name or "").startswith("baseline")}


def label_px(fig, label) -> float:
    """Where a baseline label's centre sits, in px above the bottom of a PLOT_HEIGHT_PX plotting area."""
    low, high = y_range(fig)
    fraction = label.y if label.yref == "paper" else (label.y - low) / (high - low)
    return fraction * PLOT_HEIGHT_PX + (label.yshift or 0)


def assert_labels_apart(fig) -> None:
    placed = [(label_px(fig, a), (a.text.count("<br>") + 1) * LABEL_LINE_PX) for a in labels(fig).values()]
    for (p, h), (q, k) in itertools.combinations(placed, 2):
        assert abs(p - q) >= (h + k) / 2, placed


def test_loss_axis_is_set_by_the_curves_not_by_a_far_baseline():
    fig = loss_figure(records(LOW_TRAIN, LOW_VAL), baselines=THREE)
    low, high = y_range(fig)
    curves = LOW_TRAIN + LOW_VAL
    assert low <= min(curves) and max(curves) <= high
    assert high < 0.693  # the trivial baseline does not stretch the axis
    assert (max(curves) - min(curves)) / (high - low) > 0.6  # the curves fill most of the height
    assert sorted(horizontal_lines(fig)) == [0.141, 0.264, 0.693]  # every baseline keeps its line


def test_a_far_baseline_is_labelled_at_the_top_edge():
    trivial = labels(loss_figure(records(LOW_TRAIN, LOW_VAL), baselines=THREE))["trivial"]
    assert trivial.yref == "paper" and trivial.y == 1
    assert "0.693" in trivial.text and "↑" in trivial.text and "off the chart" in trivial.text
    below = {"boosted": {"val_loss": 0.001}}
    boosted = labels(loss_figure(records([5.0, 4.0, 3.0], [5.5, 4.5, 3.5]), baselines=below))["boosted"]
    assert boosted.yref == "paper" and boosted.y == 0 and "below the chart" in boosted.text


def test_a_baseline_just_beyond_the_curves_widens_the_axis_instead():
    fig = loss_figure(records(LOW_TRAIN, LOW_VAL), baselines={"linear": {"val_loss": 0.36}})
    assert y_range(fig)[1] > 0.36
    linear = labels(fig)["linear"]
    assert linear.yref == "y" and linear.y == 0.36 and not linear.yshift  # alone: exactly at its line


def test_loss_range_ignores_what_it_cannot_draw():
    assert loss_range([math.nan, math.inf]) is None
    assert loss_range([0.4, math.nan, 0.2]) == pytest.approx((0.2 - 0.08 * 0.2, 0.4 + 0.08 * 0.2))
    assert loss_range([0.5, 0.5])[0] < 0.5 < loss_range([0.5, 0.5])[1]  # a flat curve still gets a height
    assert loss_range([0.01, 0.1], log_scale=True) == pytest.approx((-2.08, -0.92))
    assert loss_range([0.0, 0.1, 1.0], log_scale=True) == pytest.approx((-1.08, 0.08))  # 0 has no log
    assert loss_range([0.0, 0.1]) == pytest.approx((0.0, 0.108))  # never below zero


def test_log_scale_keeps_the_range_in_log_units():
    train, val = [0.05, 0.02, 0.01], [0.06, 0.03, 0.02]
    fig = loss_figure(records(train, val), baselines={"trivial": {"val_loss": 2.3}}, log_scale=True)
    low, high = y_range(fig)
    assert low <= math.log10(0.01) and math.log10(0.06) <= high < math.log10(2.3)
    assert labels(fig)["trivial"].yref == "paper"
    near = loss_figure(records(train, val), baselines={"linear": {"val_loss": 0.04}}, log_scale=True)
    assert labels(near)["linear"].y == pytest.approx(math.log10(0.04))  # annotations on a log axis take log10


def test_baseline_labels_sit_in_the_right_margin_never_on_the_curves():
    fig = loss_figure(records(LOW_TRAIN, LOW_VAL), baselines=THREE)
    assert set(labels(fig)) == {"trivial", "linear", "boosted"}
    for label in labels(fig).values():
        assert label.xref == "paper" and label.x >= 1 and label.xanchor == "left" and label.showarrow is False
    assert fig.layout.margin.r >= LABEL_MARGIN_PX
    assert loss_figure(records(LOW_TRAIN, LOW_VAL)).layout.margin.r < LABEL_MARGIN_PX  # no baselines, no margin


def test_close_baselines_labels_are_pushed_apart():
    close = {"trivial": {"val_loss": 0.693}, "linear": {"val_loss": 0.15}, "boosted": {"val_loss": 0.141}}
    fig = loss_figure(records(LOW_TRAIN, LOW_VAL), baselines=close)
    assert_labels_apart(fig)
    same = {"trivial": {"val_loss": 0.2}, "linear": {"val_loss": 0.2}, "boosted": {"val_loss": 0.2}}
    assert_labels_apart(loss_figure(records(LOW_TRAIN, LOW_VAL), baselines=same))


@pytest.mark.parametrize("log_scale", [False, True])
def test_baseline_labels_never_overlap(log_scale):
    rng = np.random.default_rng(0)
    for _ in range(25):
        train = sorted(rng.uniform(0.01, 2.0, 6), reverse=True)
        val = [t * rng.uniform(0.9, 1.5) for t in train]
        names = ["trivial", "linear", "boosted"]
        baselines = {n: {"val_loss": float(v)} for n, v in zip(names, rng.uniform(0.005, 3.0, 3), strict=True)}
        fig = loss_figure(records(train, val), baselines=baselines, log_scale=log_scale)
        assert_labels_apart(fig)
        low, high = y_range(fig)
        for v in train + val:
            assert low <= (math.log10(v) if log_scale else v) <= high


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


def boundary_figure(dataset, model, resolution):
    """The worker computes the grid (core.experiments.surface), the page draws it (surface_figure)."""
    return surface_figure(boundary_surface(dataset, model, resolution))


def _untrained(dataset):
    return build_model(dataset.n_inputs, dataset.n_outputs, Hyperparameters(hidden_layers=1, width=4, seed=0))


def test_boundary_needs_two_numeric_features():
    iris = load_builtin("iris")
    assert len(iris.feature_names) != 2
    with pytest.raises(ValueError):
        boundary_figure(iris, _untrained(iris), resolution=10)


def test_boundary_scatter_shows_every_training_and_validation_row_by_class(tiny_moons):
    fig = boundary_figure(tiny_moons, _untrained(tiny_moons), resolution=12)
    train, val = trace(fig, "train points"), trace(fig, "validation points")
    assert len(train.x) == len(tiny_moons.y_train) and len(val.x) == len(tiny_moons.y_val)
    assert list(train.x) == pytest.approx(tiny_moons.raw_train["x1"].tolist())
    colors = [CLASS_COLORS[c] for c in tiny_moons.y_train]
    assert list(train.marker.color) == colors  # the colour is the class
    assert [str(t) for t in train.text] == [tiny_moons.classes[c] for c in tiny_moons.y_train]
    assert val.marker.symbol == "circle-open" and train.marker.symbol == "circle"  # validation points are told apart
    assert [t.name for t in traces_starting(fig, "class ")] == [f"class {c}" for c in tiny_moons.classes]
    (surface,) = [t for t in fig.data if t.type == "heatmap"]
    assert len(surface.x) == 12 and len(surface.y) == 12
    assert all(0.0 <= p <= 1.0 for row in surface.z for p in row)  # a probability
    (line,) = [t for t in fig.data if t.type == "contour"]  # the decision boundary: one line, no filled levels
    assert line.contours.start == line.contours.end == 0.5 and line.contours.coloring == "none"


def test_boundary_redraws_cheaply_and_can_hide_the_validation_points(tiny_moons):
    surface = boundary_surface(tiny_moons, _untrained(tiny_moons), resolution=12)
    fig = surface_figure(surface)
    with_data = [t for t in fig.data if t.x is not None and len(t.x) and t.x[0] is not None]
    assert len(with_data) == 4  # heatmap, boundary line, one trace per split: not one per class and split
    assert fig.layout.uirevision is not None  # a zoom survives the redraws of a streaming run
    hidden = surface_figure(surface, show_validation=False)
    assert traces_starting(hidden, "validation") == [] and not traces_starting(hidden, "validation rows")
    assert len(trace(hidden, "train points").x) == len(tiny_moons.y_train)


def test_boundary_surface_samples_a_big_split_the_same_way_every_time(tiny_moons):
    model = _untrained(tiny_moons)
    first = boundary_surface(tiny_moons, model, resolution=8, max_points=50)
    second = boundary_surface(tiny_moons, model, resolution=8, max_points=50)
    points = first["points"]["train"]
    assert len(points["a"]) == 50 and points["rows"] == len(tiny_moons.y_train)
    assert points == second["points"]["train"]
    assert set(points["a"]) <= set(tiny_moons.raw_train["x1"].tolist())
    (key,) = traces_starting(surface_figure(first), "training rows")
    assert f"50 of {len(tiny_moons.y_train)} shown" in key.name


def test_boundary_for_three_classes(tiny_gaussians):
    fig = boundary_figure(tiny_gaussians, _untrained(tiny_gaussians), resolution=10)
    assert len(traces_starting(fig, "class ")) == 3  # one colour key per class
    assert len(trace(fig, "train points").x) == len(tiny_gaussians.y_train)
    assert len(trace(fig, "validation points").x) == len(tiny_gaussians.y_val)
    assert len(set(trace(fig, "train points").marker.color)) == 3
    (heatmap,) = [t for t in fig.data if t.type == "heatmap"]
    assert {int(v) for row in heatmap.z for v in row} <= {0, 1, 2}


def test_boundary_for_regression_shows_the_training_points(tiny_sine):
    fig = boundary_figure(tiny_sine, _untrained(tiny_sine), resolution=10)
    points = trace(fig, "train points")
    assert len(points.x) == len(tiny_sine.y_train)
    assert list(points.marker.color) == pytest.approx(list(tiny_sine.y_train))
    assert len(trace(fig, "validation points").x) == len(tiny_sine.y_val)
    (heatmap,) = [t for t in fig.data if t.type == "heatmap"]
    # the points and the prediction share one colour scale, so a point's colour compares with the surface's
    assert (points.marker.cmin, points.marker.cmax) == (heatmap.zmin, heatmap.zmax)


# ---------------------------------------------------------------- data_figure


def test_data_figure_shows_the_three_splits_apart(tiny_moons):
    fig = data_figure(tiny_moons)
    splits = {split: trace(fig, f"{split} points") for split in ("train", "validation", "test")}
    assert {s: len(t.x) for s, t in splits.items()} == {"train": 120, "validation": 40, "test": 40}
    assert len({t.marker.symbol for t in splits.values()}) == 3  # told apart by symbol
    for split, target in (("train", tiny_moons.y_train), ("validation", tiny_moons.y_val), ("test", tiny_moons.y_test)):
        assert list(splits[split].marker.color) == [CLASS_COLORS[c] for c in target]
    keys = [t.name for t in fig.data if t.showlegend is not False]
    assert keys[:3] == ["training rows (filled): 120", "validation rows (hollow): 40", "test rows (crosses): 40"]
    # the test rows are drawn where they are: put back through the preprocessing they are x_test again
    test = splits["test"]
    back = transform(tiny_moons, pd.DataFrame({"x1": list(test.x), "x2": list(test.y)}))
    assert back == pytest.approx(tiny_moons.x_test, abs=1e-4)


def test_data_figure_for_regression_colours_by_the_target(tiny_sine):
    fig = data_figure(tiny_sine)
    for split, target in (("train", tiny_sine.y_train), ("validation", tiny_sine.y_val), ("test", tiny_sine.y_test)):
        points = trace(fig, f"{split} points")
        assert list(points.marker.color) == pytest.approx(list(target))
    assert trace(fig, "train points").marker.showscale  # one colour bar, for the target
    assert not trace(fig, "test points").marker.showscale


def test_data_figure_samples_a_big_dataset(tiny_moons):
    fig = data_figure(tiny_moons, max_points=30)
    assert [len(trace(fig, f"{s} points").x) for s in ("train", "validation", "test")] == [30, 30, 30]
    assert any(t.name == "training rows (filled): 30 of 120 shown" for t in fig.data)


def test_data_figure_of_many_features_is_the_class_balance():
    iris = load_builtin("iris")
    fig = data_figure(iris)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["train (90 rows)", "validation (30 rows)", "test (30 rows)"]
    for bar, target in zip(bars, (iris.y_train, iris.y_val, iris.y_test), strict=True):
        assert list(bar.x) == iris.classes
        assert list(bar.y) == [int((target == i).sum()) for i in range(len(iris.classes))]
    assert "4 inputs" in fig.layout.title.text and "3 classes" in fig.layout.title.text


def test_data_figure_of_a_regression_table_is_the_target_histogram():
    diabetes = load_builtin("diabetes")
    fig = data_figure(diabetes)
    histograms = [t for t in fig.data if t.type == "histogram"]
    assert [len(t.x) for t in histograms] == [len(diabetes.y_train), len(diabetes.y_val), len(diabetes.y_test)]
    assert f"{diabetes.n_inputs} inputs" in fig.layout.title.text


# ---------------------------------------------------------------- fix_path_figure


def _axis(fig, ref: str, letter: str):
    return fig.layout[f"{letter}axis{ref[1:]}"]


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
    logged = fix_path_figure(rounds, log_scale=True)
    assert all(logged.layout[a].type == "log" for a in logged.layout if a.startswith("yaxis"))


def test_fix_path_gives_a_short_round_as_much_room_as_a_long_one():
    long = records([1.0 - 0.001 * i for i in range(300)], [1.1 - 0.001 * i for i in range(300)])
    rounds = [("round 0: as you set it", long), ("round 1: learning rate → 0.001", records([0.5, 0.3], [0.6, 0.4]))]
    rounds.append(("round 2: epochs → 1", records([0.25], [0.35])))
    fig = fix_path_figure(rounds)
    validation = [t for t in fig.data if t.name.endswith("(validation)")]
    axes = [t.xaxis for t in validation]
    assert len(set(axes)) == 3  # a panel each
    widths = []
    for ref in axes:
        axis = _axis(fig, ref, "x")
        assert axis.matches is None and axis.range is None  # its own epochs fill its width
        widths.append(axis.domain[1] - axis.domain[0])
    assert min(widths) == pytest.approx(max(widths)) and min(widths) > 0.25
    assert "markers" in validation[2].mode  # a round of one epoch is a visible point, not an empty line
    # one loss axis for all panels: the levels compare
    y_axes = {t.yaxis for t in validation}
    assert all(_axis(fig, ref, "y").matches in (None, "y") for ref in y_axes)
    assert sum(_axis(fig, ref, "y").matches is None for ref in y_axes) == 1


def test_fix_path_marks_and_titles_each_rounds_best_epoch():
    rounds = [
        ("round 0: as you set it", records([1.0, 0.8, 0.7, 0.6], [1.0, 0.7, 0.8, 0.9])),
        ("round 1: weight decay → 0.01", records([1.0, 0.8, 0.7], [1.0, 0.75, 0.6])),
    ]
    fig = fix_path_figure(rounds)
    for (label, _), (epoch, loss) in zip(rounds, [(2, 0.7), (3, 0.6)], strict=True):
        (star,) = traces_starting(fig, f"{label}: best epoch")
        assert list(star.x) == [epoch] and list(star.y) == [loss]
        validation = trace(fig, f"{label} (validation)")
        assert (star.xaxis, star.yaxis) == (validation.xaxis, validation.yaxis)
    titles = [a.text for a in fig.layout.annotations]
    assert "best 0.7 at epoch 2 of 4" in titles[0] and "best 0.6 at epoch 3 of 3" in titles[1]
    assert "<b>round 1</b>: weight decay → 0.01" in titles[1]
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == [f"{label} (validation)" for label, _ in rounds]  # one legend entry per round, in order


def test_fix_path_of_many_rounds_wraps_into_rows():
    rounds = [(f"round {i}: change {i}", records([1.0, 0.5], [1.1, 0.6])) for i in range(11)]
    fig = fix_path_figure(rounds)
    validation = [t for t in fig.data if t.name.endswith("(validation)")]
    domains = {tuple(_axis(fig, t.xaxis, "x").domain) + tuple(_axis(fig, t.yaxis, "y").domain) for t in validation}
    assert len(domains) == 11  # eleven panels, none on top of another
    assert fig.layout.height >= 3 * 200


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
