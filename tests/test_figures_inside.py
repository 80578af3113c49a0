"""The figures of what happened inside the network (core.figures.inside), drawn from real training records.

Every check compares a figure's traces to the record it was drawn from (never to the figure code's own
helpers), so that a figure that drops, shifts or mislabels a layer's numbers fails here.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from core.data.builtin import load_builtin
from core.dynamics import Dynamics, Histogram, LayerInfo, Snapshot
from core.figures.inside import (
    distribution_figure,
    gradient_depth_figure,
    layer_stat_figure,
    matrix_figure,
    snapshot_figure,
    units_figure,
)
from core.hyperparameters import Hyperparameters
from core.training.trainer import Trainer

LOG_STATS = ("grad_norm", "update_ratio")
LINEAR_STATS = ("weight_norm", "drift")


def _record(data: str = "moons", samples: int = 200, **knobs: object) -> Dynamics:
    values: dict = {"epochs": 8, "early_stopping": False, **knobs}
    trainer = Trainer(load_builtin(data, samples=samples), Hyperparameters(**values), record_dynamics=True)
    list(trainer)
    assert trainer.dynamics is not None
    return trainer.dynamics


@pytest.fixture(scope="module")
def relu() -> Dynamics:
    return _record(hidden_layers=2, width=32, activation="relu")


@pytest.fixture(scope="module")
def tanh() -> Dynamics:
    return _record(hidden_layers=3, width=16, activation="tanh")


@pytest.fixture(scope="module")
def diverged() -> Dynamics:
    return _record("sine", hidden_layers=4, width=512, learning_rate=1.0, optimizer="sgd", epochs=10)


def _drawable(value: float | None, log: bool) -> bool:
    return value is not None and math.isfinite(value) and (value > 0 or not log)


def _fonts_readable(fig: go.Figure) -> None:
    """Projector-sized text: the base font, the title and every annotation at 13 px or more; short title lines."""
    assert fig.layout.font.size >= 13
    assert (fig.layout.title.font.size or fig.layout.font.size) >= 13
    assert fig.layout.title.text
    assert all(len(line) <= 60 for line in fig.layout.title.text.split("<br>")), "a long title is cut off in a column"
    for note in fig.layout.annotations:
        assert (note.font.size or fig.layout.font.size) >= 13


@pytest.mark.parametrize("stat", LOG_STATS + LINEAR_STATS)
def test_layer_stat_figure_draws_each_layers_series(relu: Dynamics, stat: str) -> None:
    fig = layer_stat_figure(relu, stat)
    log = stat in LOG_STATS
    assert [trace.name for trace in fig.data] == [layer.name for layer in relu.layers]
    for index, trace in enumerate(fig.data):
        series = relu.series(stat, index)
        kept = [(e, v) for e, v in zip(relu.epochs, series, strict=True) if _drawable(v, log)]
        assert list(trace.x) == [e for e, _ in kept]
        assert list(trace.y) == pytest.approx([v for _, v in kept])
        assert kept, f"{stat} of {relu.layers[index].name} has nothing to draw"
    assert (fig.layout.yaxis.type == "log") is log
    assert fig.layout.xaxis.title.text == "epoch"
    _fonts_readable(fig)


def test_layer_stat_figure_titles_say_what_is_drawn(relu: Dynamics) -> None:
    assert "Weight size" in layer_stat_figure(relu, "weight_norm").layout.title.text
    assert "Gradient" in layer_stat_figure(relu, "grad_norm").layout.title.text
    assert "Update size" in layer_stat_figure(relu, "update_ratio").layout.title.text
    assert "initial weights" in layer_stat_figure(relu, "drift").layout.title.text
    with pytest.raises(ValueError):
        layer_stat_figure(relu, "dead")


def test_gradient_depth_figure_has_one_bar_per_layer_from_the_last_epoch(relu: Dynamics) -> None:
    fig = gradient_depth_figure(relu)
    (bars,) = fig.data
    assert list(bars.x) == [layer.name for layer in relu.layers]
    assert list(bars.y) == pytest.approx(relu.stats["grad_norm"][-1])
    assert fig.layout.yaxis.type == "log"
    assert f"epoch {relu.epochs[-1]}" in fig.layout.title.text
    _fonts_readable(fig)
    second = gradient_depth_figure(relu, 1)
    assert list(second.data[0].y) == pytest.approx(relu.stats["grad_norm"][1])
    assert f"epoch {relu.epochs[1]}" in second.layout.title.text


def test_gradient_depth_figure_at_epoch_zero_says_there_is_no_gradient(relu: Dynamics) -> None:
    fig = gradient_depth_figure(relu, 0)  # epoch 0: before any update, no gradient recorded
    assert all(v is None for v in fig.data[0].y)
    assert any("No finite gradient" in note.text for note in fig.layout.annotations)


def test_units_figure_shows_dead_units_with_the_70_percent_line(relu: Dynamics) -> None:
    fig = units_figure(relu)
    assert fig is not None
    hidden = relu.hidden
    assert [trace.name for trace in fig.data] == [relu.layers[i].name for i in hidden]
    for index, trace in zip(hidden, fig.data, strict=True):
        kept = [(e, v) for e, v in zip(relu.epochs, relu.series("dead", index), strict=True) if v is not None]
        assert list(trace.x) == [e for e, _ in kept]
        assert list(trace.y) == pytest.approx([v for _, v in kept])
    (line,) = fig.layout.shapes
    assert line.y0 == line.y1 == pytest.approx(0.7)
    assert line.line.dash == "dash"
    assert any(note.text == "dead threshold 70 %" for note in fig.layout.annotations)
    assert fig.layout.yaxis.range[0] == 0 and 1 <= fig.layout.yaxis.range[1] <= 1.1
    assert fig.layout.yaxis.tickformat == ".0%"
    _fonts_readable(fig)


def test_units_figure_shows_saturation_with_the_50_percent_line(tanh: Dynamics) -> None:
    fig = units_figure(tanh)
    assert fig is not None
    assert len(fig.data) == len(tanh.hidden) == 3
    for index, trace in zip(tanh.hidden, fig.data, strict=True):
        assert list(trace.y) == pytest.approx([v for v in tanh.series("saturated", index) if v is not None])
    assert fig.layout.shapes[0].y0 == pytest.approx(0.5)
    assert any(note.text == "saturation threshold 50 %" for note in fig.layout.annotations)


def test_units_figure_is_none_without_a_hidden_layer() -> None:
    flat = _record(hidden_layers=0, epochs=3)
    assert flat.hidden == []
    assert units_figure(flat) is None


def _histograms(d: Dynamics, layer: int, kind: str) -> list[tuple[int, Histogram]]:
    pairs = [(s.epoch, (s.weights if kind == "weights" else s.biases)[layer]) for s in d.snapshots]
    return [(e, h) for e, h in pairs if h.counts and sum(h.counts)]


def _mean(h: Histogram) -> float:
    return sum(c * x for c, x in zip(h.counts, h.centers(), strict=True)) / sum(h.counts)


@pytest.mark.parametrize("kind", ["weights", "biases"])
def test_distribution_figure_has_one_row_per_snapshot_each_summing_to_one(relu: Dynamics, kind: str) -> None:
    for layer in range(len(relu.layers)):
        fig = distribution_figure(relu, layer, kind)
        (heat,) = fig.data
        found = _histograms(relu, layer, kind)
        assert len(found) >= 2
        assert [int(y) for y in heat.y] == [e for e, _ in found]
        assert len(heat.z) == len(found)
        x = list(heat.x)
        step = x[1] - x[0]
        low = min(h.low for _, h in found)
        high = max(h.high for _, h in found)
        assert x[0] - step / 2 == pytest.approx(low) and x[-1] + step / 2 == pytest.approx(high)
        for row, (_, h) in zip(heat.z, found, strict=True):
            assert sum(row) == pytest.approx(1.0)
            # The mass sits where the recorded values are: the means agree within one grid bin.
            assert abs(sum(share * value for share, value in zip(row, x, strict=True)) - _mean(h)) <= step
        title = fig.layout.title.text
        assert relu.layers[layer].name in title and kind in title
        assert f"epoch {found[0][0]}" in title and f"epoch {found[-1][0]}" in title
        _fonts_readable(fig)


def _hand_made(values: list[float | None], snapshots: list[Snapshot]) -> Dynamics:
    """Two layers, three epochs: every statistic of every layer takes `values` epoch by epoch."""
    layers = [
        LayerInfo("hidden layer 1", "0.weight", "0.bias", 2, 3, "relu"),
        LayerInfo("output layer", "2.weight", "2.bias", 3, 1, None),
    ]
    d = Dynamics(layers, "relu")
    for epoch, value in enumerate(values):
        d.add(epoch, {name: [value, None if name in ("dead", "saturated") else value] for name in d.stats})
    d.snapshots = snapshots
    return d


def test_distribution_figure_skips_empty_histograms_and_draws_a_constant_one() -> None:
    empty = Histogram(0.0, 0.0, [])
    constant = Histogram(0.25, 0.25, [3])  # every bias equal
    spread = Histogram(-1.0, 1.0, [1, 2, 3, 4])
    d = _hand_made(
        [1.0, 2.0, 3.0], [Snapshot(0, [spread, spread], [constant, constant]), Snapshot(2, [empty, empty], [empty, empty])]
    )
    single = distribution_figure(d, 0, "weights")
    assert [int(y) for y in single.data[0].y] == [0]  # the empty snapshot is left out
    assert sum(single.data[0].z[0]) == pytest.approx(1.0)
    assert "epoch 0" in single.layout.title.text
    flat = distribution_figure(d, 1, "biases")
    (row,) = flat.data[0].z
    assert sorted(row)[-1] == pytest.approx(1.0) and sum(row) == pytest.approx(1.0)  # all of it in one bin
    x = list(flat.data[0].x)
    assert x[row.index(max(row))] == pytest.approx(0.25, abs=x[1] - x[0])
    nothing = Dynamics(d.layers, "relu", snapshots=[Snapshot(0, [empty, empty], [empty, empty])])
    assert not distribution_figure(nothing, 0).data and not snapshot_figure(nothing, 0).data


def test_snapshot_figure_overlays_the_first_and_the_last_histogram(relu: Dynamics) -> None:
    found = _histograms(relu, 0, "weights")
    fig = snapshot_figure(relu, 0, "weights")
    assert [trace.name for trace in fig.data] == [f"epoch {found[0][0]} (random)", f"epoch {found[-1][0]} (learned)"]
    assert found[0][0] == 0
    for trace, (_, h) in zip(fig.data, [found[0], found[-1]], strict=True):
        assert list(trace.x) == pytest.approx(h.centers())
        assert list(trace.y) == pytest.approx([c / sum(h.counts) for c in h.counts])
        assert 0 < trace.opacity < 1
    assert fig.layout.barmode == "overlay"
    _fonts_readable(fig)


def test_matrix_figure_draws_the_matrix_centred_on_zero() -> None:
    matrix = [[0.5, -1.25, 0.0], [2.0, 0.125, -0.75]]
    fig = matrix_figure(matrix, "hidden layer 1: the weight matrix (0.weight)")
    (heat,) = fig.data
    assert [list(row) for row in heat.z] == matrix
    assert heat.zmid == 0
    assert heat.colorbar.title.text == "weight"
    assert fig.layout.xaxis.title.text == "input" and fig.layout.yaxis.title.text == "unit"
    assert fig.layout.title.text == "hidden layer 1: the weight matrix (0.weight)"
    assert 200 <= fig.layout.height <= 600
    _fonts_readable(fig)


def test_matrix_figure_of_a_real_layer(relu: Dynamics) -> None:
    layer = relu.layers[0]
    matrix = [[(i - j) / 10 for j in range(layer.inputs)] for i in range(layer.outputs)]
    fig = matrix_figure(matrix, layer.name)
    assert len(fig.data[0].z) == layer.outputs and len(fig.data[0].z[0]) == layer.inputs
    assert fig.layout.height <= 600


def _every_figure(d: Dynamics) -> list[go.Figure]:
    figures = [layer_stat_figure(d, stat) for stat in LOG_STATS + LINEAR_STATS]
    figures += [gradient_depth_figure(d), gradient_depth_figure(d, 0)]
    units = units_figure(d)
    figures += [units] if units is not None else []
    for layer in range(len(d.layers)):
        for kind in ("weights", "biases"):
            figures += [distribution_figure(d, layer, kind), snapshot_figure(d, layer, kind)]
    return figures


def test_a_diverged_run_draws_without_an_error(diverged: Dynamics) -> None:
    last = diverged.stats["weight_norm"][-1]
    assert any(v is None or not math.isfinite(v) for v in last), "the run was meant to diverge"
    for fig in _every_figure(diverged):
        fig.to_json()  # NaN and None become null: the browser can draw it
    bars = gradient_depth_figure(diverged).data[0]
    assert all(v is None for v in bars.y)  # a NaN gradient is not drawn as a bar


def test_a_hand_made_record_with_missing_values_draws() -> None:
    spread = Histogram(-1.0, 1.0, [1, 2, 3, 4])
    nan = Histogram(math.nan, math.nan, [])
    d = _hand_made([None, math.nan, math.inf], [Snapshot(0, [spread, nan], [spread, nan]), Snapshot(2, [nan, nan], [nan, nan])])
    for fig in _every_figure(d):
        fig.to_json()
    assert all(not trace.y for trace in layer_stat_figure(d, "weight_norm").data)
    assert any("No finite value" in note.text for note in layer_stat_figure(d, "drift").layout.annotations)
    assert units_figure(d) is None  # the hidden layer's dead shares are None, NaN and infinity: nothing to draw
