"""Inside the network while it trained: per-layer figures drawn from a run's record (core.dynamics).

Each figure answers one question a student asks of a network that does (or does not) learn: how big
are the weights, how much gradient reaches each layer, how far did an epoch move them, are units dead
or saturated, and how did the weights' distribution change from random to learned. Layer names come
from core (never from the user). Values that are None, NaN or infinite (a diverged run) are skipped;
on a log axis, so are values that are not positive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from core.dynamics import Dynamics, Histogram
from core.figures.style import TRAIN_COLOR, layout

FONT_PX = 14  # readable on a projector: every text in these figures is at least this size ...
TITLE_PX = 16  # ... and the titles a little larger
WRAP_CHARS = 50  # a longer title is put on two lines
GRID_BINS = 40  # the common value grid of the distribution heatmap
START_COLOR = "#6b7280"  # the random (initial) distribution
THRESHOLD_COLOR = "#dc2626"
# stat -> (title, y axis title, log y axis)
STAT_TEXT: dict[str, tuple[str, str, bool]] = {
    "weight_norm": ("Weight size per layer (norm ‖W‖)", "‖W‖", False),
    "grad_norm": ("Gradient reaching each layer (‖∂loss/∂W‖, last mini-batch)", "‖∂loss/∂W‖ (log scale)", True),
    "update_ratio": ("Update size per epoch (‖ΔW‖ / ‖W‖)", "‖ΔW‖ / ‖W‖ (log scale)", True),
    "drift": ("Distance from the initial weights (‖W − W₀‖ / ‖W₀‖)", "‖W − W₀‖ / ‖W₀‖", False),
}
# measure -> (title, threshold, threshold label)
UNIT_TEXT: dict[str, tuple[str, float, str]] = {
    "dead": ("Dead units per hidden layer (share that outputs zero for every validation row)", 0.70, "dead threshold 70 %"),
    "saturated": (
        "Saturated inputs per hidden layer (share in the flat tails of the curve)",
        0.50,
        "saturation threshold 50 %",
    ),
}


def _value(value: float | None, log: bool = False) -> float | None:
    """`value` as a drawable float; None when it is missing, not finite, or not positive on a log axis."""
    if value is None or not math.isfinite(value) or (log and value <= 0):
        return None
    return float(value)


def _layer_colors(count: int) -> list[str]:
    """One colour per layer, dark (input side) to light green (output side), so depth reads at a glance."""
    if count <= 1:
        return [TRAIN_COLOR] * count
    return sample_colorscale("Viridis", [0.8 * i / (count - 1) for i in range(count)])


def _wrap(title: str) -> str:
    """A long title on two lines (it would be cut off in a half-width column), broken after ": " or before " (",
    whichever is nearer the middle; a short title, or one without either, as it is."""
    if len(title) <= WRAP_CHARS:
        return title
    spaces = [i + 1 for i in range(len(title)) if title.startswith(": ", i)]
    spaces += [i for i in range(len(title)) if title.startswith(" (", i)]
    if not spaces:
        return title
    space = min(spaces, key=lambda i: abs(i - len(title) / 2))
    return f"{title[:space]}<br>{title[space + 1 :]}"


def _finish(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    """The house layout with projector-sized text and a long title on two lines."""
    wrapped = _wrap(title)
    layout(fig, wrapped, x, y)
    fig.update_layout(font={"size": FONT_PX}, title_font={"size": TITLE_PX}, margin={"t": 80 if wrapped != title else 50})
    fig.update_annotations(font_size=FONT_PX)
    return fig


def _note(fig: go.Figure, text: str) -> None:
    """A sentence in the middle of an empty chart, saying why it is empty."""
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": FONT_PX})
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)


def layer_stat_figure(d: Dynamics, stat: str) -> go.Figure:
    """One line per layer over the measured epochs: weight size, gradient, update size or drift."""
    if stat not in STAT_TEXT:
        raise ValueError(f"no figure for {stat!r}: pick one of {', '.join(STAT_TEXT)}")
    title, y_title, log = STAT_TEXT[stat]
    fig = go.Figure()
    drawn = 0
    for index, (info, color) in enumerate(zip(d.layers, _layer_colors(len(d.layers)), strict=True)):
        points = [(e, _value(v, log)) for e, v in zip(d.epochs, d.series(stat, index), strict=True)]
        kept = [(e, v) for e, v in points if v is not None]
        drawn += len(kept)
        fig.add_trace(
            go.Scatter(
                x=[e for e, _ in kept],
                y=[v for _, v in kept],
                name=info.name,
                mode="lines+markers",
                line={"color": color, "width": 2.5},
                marker={"size": 6},
                hovertemplate=f"{info.name}: %{{y:.3g}}<extra></extra>",
            )
        )
    _finish(fig, title, "epoch", y_title)
    if log:
        fig.update_yaxes(type="log")
    if not drawn:
        _note(fig, "No finite value was recorded (epoch 0 has no gradient; a diverged run has none)")
    return fig


def _unit_measure(d: Dynamics) -> str | None:
    """Which measure some hidden layer has a value of: "dead" (ReLU family) or "saturated" (tanh, sigmoid)."""
    for measure in UNIT_TEXT:
        if any(_value(v) is not None for i in d.hidden for v in d.series(measure, i)):
            return measure
    return None


def units_figure(d: Dynamics) -> go.Figure | None:
    """Share of dead units (ReLU family) or saturated inputs (tanh, sigmoid) per hidden layer, with the threshold.

    None when no hidden layer has either measure (no hidden layer, or nothing was recorded).
    """
    measure = _unit_measure(d)
    if measure is None:
        return None
    title, threshold, label = UNIT_TEXT[measure]
    fig = go.Figure()
    colors = _layer_colors(len(d.layers))
    for index in d.hidden:
        points = [(e, _value(v)) for e, v in zip(d.epochs, d.series(measure, index), strict=True)]
        kept = [(e, v) for e, v in points if v is not None]
        if not kept:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e for e, _ in kept],
                y=[v for _, v in kept],
                name=d.layers[index].name,
                mode="lines+markers",
                line={"color": colors[index], "width": 2.5},
                marker={"size": 6},
                hovertemplate=f"{d.layers[index].name}: %{{y:.0%}}<extra></extra>",
            )
        )
    fig.add_hline(
        y=threshold,
        line={"dash": "dash", "color": THRESHOLD_COLOR, "width": 2},
        annotation={"text": label, "font": {"color": THRESHOLD_COLOR}},
        annotation_position="top left",
    )
    _finish(fig, title, "epoch", "share of the layer")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return fig


def gradient_depth_figure(d: Dynamics, epoch_index: int = -1) -> go.Figure:
    """One bar per layer, input side first: the gradient each receives at one measured epoch (log scale)."""
    fig = go.Figure()
    if not d.epochs:
        _note(fig, "No epoch was measured yet")
        return _finish(fig, "Gradient reaching each layer", "layer (input → output)", "‖∂loss/∂W‖")
    epoch = d.epochs[epoch_index]
    values = [_value(v, log=True) for v in d.at("grad_norm", epoch_index)]
    title = f"Gradient reaching each layer at epoch {epoch}: does it fade towards the input?"
    names = [layer.name for layer in d.layers]
    fig.add_trace(
        go.Bar(
            x=names,
            y=values,
            marker={"color": _layer_colors(len(names))},
            text=[f"{v:.2g}" if v is not None else "none" for v in values],
            textposition="outside",
            textfont={"size": FONT_PX},
            hovertemplate="%{x}: %{y:.3g}<extra></extra>",
            showlegend=False,
        )
    )
    _finish(fig, title, "layer (input → output)", "‖∂loss/∂W‖ (log scale)")
    fig.update_layout(hovermode="closest")
    if all(v is None for v in values):
        _note(fig, f"No finite gradient at epoch {epoch} (epoch 0 is before any update; a diverged run has none)")
    else:
        fig.update_yaxes(type="log")
    return fig


def _histograms(d: Dynamics, layer: int, kind: str) -> list[tuple[int, Histogram]]:
    """Each snapshot's histogram of that layer's weights (or biases), those without finite values left out."""
    if kind not in ("weights", "biases"):
        raise ValueError(f"kind is 'weights' or 'biases', not {kind!r}")
    found = []
    for snapshot in d.snapshots:
        hists = snapshot.weights if kind == "weights" else snapshot.biases
        if layer < len(hists):
            h = hists[layer]
            if h.counts and sum(h.counts) > 0 and math.isfinite(h.low) and math.isfinite(h.high):
                found.append((snapshot.epoch, h))
    return found


def _grid(hists: Sequence[Histogram]) -> tuple[float, float]:
    """The common value range of all histograms, widened a little when every value is the same."""
    low, high = min(h.low for h in hists), max(h.high for h in hists)
    if high <= low:
        pad = 0.05 * max(abs(low), 1.0)
        low, high = low - pad, high + pad
    return low, high


def rebin(h: Histogram, low: float, high: float, bins: int = GRID_BINS) -> list[float]:
    """`h` as shares of its values on `bins` equal bins from `low` to `high`: each source bin's count
    goes to the grid bin its centre falls in (a centre on the top edge goes to the last bin)."""
    total = sum(h.counts)
    shares = [0.0] * bins
    width = (high - low) / bins
    for center, count in zip(h.centers(), h.counts, strict=True):
        slot = min(bins - 1, max(0, int((center - low) // width)))
        shares[slot] += count / total
    return shares


def _layer_histograms(d: Dynamics, layer: int, kind: str) -> tuple[str, list[tuple[int, Histogram]], str]:
    """(the layer's name, its non-empty snapshots of `kind`, the value axis title)."""
    name = d.layers[layer].name if layer < len(d.layers) else f"layer {layer + 1}"
    return name, _histograms(d, layer, kind), "weight value" if kind == "weights" else "bias value"


def _nothing(fig: go.Figure, name: str, kind: str, value_title: str, y_title: str) -> go.Figure:
    _note(fig, f"No finite {kind} were recorded for {name}")
    return _finish(fig, f"{name}: {kind}", value_title, y_title)


def distribution_figure(d: Dynamics, layer: int, kind: str = "weights") -> go.Figure:
    """How a layer's weights (or biases) spread out over training: one heatmap row per snapshot epoch,
    colour = share of the layer's values in each value bin, all rows on one common value grid."""
    name, found, value_title = _layer_histograms(d, layer, kind)
    fig = go.Figure()
    if not found:
        return _nothing(fig, name, kind, value_title, "epoch")
    low, high = _grid([h for _, h in found])
    width = (high - low) / GRID_BINS
    fig.add_trace(
        go.Heatmap(
            x=[low + width * (i + 0.5) for i in range(GRID_BINS)],
            y=[epoch for epoch, _ in found],
            z=[rebin(h, low, high) for _, h in found],
            colorscale="Blues",
            zmin=0,
            colorbar={"title": {"text": f"share of the {kind}"}, "tickformat": ".0%"},
            hovertemplate=f"epoch %{{y}}, {kind[:-1]} ≈ %{{x:.3g}}: %{{z:.1%}}<extra></extra>",
        )
    )
    first, last = found[0][0], found[-1][0]
    if len(found) == 1:
        title = f"{name}: {kind} at epoch {first}"
    else:
        title = f"{name}: {kind} from {'random' if first == 0 else 'the start'} (epoch {first}) to learned (epoch {last})"
    _finish(fig, title, value_title, "epoch (one row per snapshot)")
    fig.update_yaxes(type="category")  # equal rows: the early epochs, where most changes, stay visible
    fig.update_layout(hovermode="closest")
    return fig


def snapshot_figure(d: Dynamics, layer: int, kind: str = "weights") -> go.Figure:
    """The first and the last histogram of a layer's weights (or biases), overlaid: random vs learned."""
    name, found, value_title = _layer_histograms(d, layer, kind)
    fig = go.Figure()
    if not found:
        return _nothing(fig, name, kind, value_title, "share")
    low, high = _grid([h for _, h in found])
    picks = [found[0]] if len(found) == 1 else [found[0], found[-1]]
    for position, (epoch, h) in enumerate(picks):
        last = position == len(picks) - 1 and len(picks) > 1
        label = f"epoch {epoch} (learned)" if last else (f"epoch {epoch} (random)" if epoch == 0 else f"epoch {epoch}")
        total = sum(h.counts)
        width = (h.high - h.low) / len(h.counts) if h.high > h.low else (high - low) / GRID_BINS
        fig.add_trace(
            go.Bar(
                x=h.centers(),
                y=[c / total for c in h.counts],
                width=width,
                name=label,
                marker={"color": TRAIN_COLOR if last else START_COLOR, "line": {"width": 0}},
                opacity=0.55,
                hovertemplate=f"{label}: %{{y:.1%}} near %{{x:.3g}}<extra></extra>",
            )
        )
    title = f"{name}: {kind} at the start and at the end of training"
    _finish(fig, title, value_title, f"share of the layer's {kind}")
    fig.update_layout(barmode="overlay", bargap=0, hovermode="closest")
    fig.update_yaxes(tickformat=".0%")
    return fig


def matrix_figure(matrix: list[list[float]], title: str) -> go.Figure:
    """A weight matrix as a heatmap: one row per unit (output), one column per input; red positive, blue negative.

    `title` is core's text (a layer name and its state_dict key), never the user's.
    """
    rows = len(matrix)
    columns = max((len(row) for row in matrix), default=0)
    z = [[_value(v) for v in row] for row in matrix]
    fig = go.Figure()
    if rows and columns:
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=list(range(1, columns + 1)),
                y=list(range(1, rows + 1)),
                colorscale="RdBu",
                reversescale=True,  # positive red, negative blue, zero white
                zmid=0,
                colorbar={"title": {"text": "weight"}},
                hovertemplate="unit %{y}, input %{x}: %{z:.3g}<extra></extra>",
            )
        )
    else:
        _note(fig, "This matrix is empty")
    _finish(fig, title, "input", "unit")
    fig.update_yaxes(autorange="reversed")  # unit 1 on top, as a matrix is written
    fig.update_layout(height=min(600, max(280, 140 + 12 * rows)), hovermode="closest")
    return fig
