"""Plotly figures built from a run's history: loss, metric, decision boundary, parameter counts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data.dataset import Dataset
from core.data.points import split_points
from core.history import EpochRecord

if TYPE_CHECKING:
    from core.experiments.results import LearningCurveResult, LrFinderResult
    from core.tuning.study import TrialOutcome

TRAIN_COLOR = "#2563eb"
VAL_COLOR = "#ea580c"
BEST_COLOR = "#16a34a"
BASELINE_COLORS = {"trivial": "#6b7280", "linear": "#7c3aed", "boosted": "#0f766e"}
# Baseline labels sit in the loss chart's right margin, outside the plotting area (so never on a curve),
# at their line's height, pushed apart to at least a label's height plus LABEL_GAP_PX. Pixel offsets are
# worked out against PLOT_HEIGHT_PX, a low estimate of the plotting area of a 380 px chart (the title,
# the x axis and a legend of up to five rows in a narrow column take the rest): the real area is taller
# or the same, so labels end up at least as far apart.
PLOT_HEIGHT_PX = 170
LABEL_FONT_PX = 11
LABEL_LINE_PX = 14  # height of one line of an 11 px label
LABEL_GAP_PX = 3
LABEL_MARGIN_PX = 96  # right margin that holds "trivial 0.693 ↑"
# The loss axis is set by the training and validation curves plus RANGE_PAD of their span on each side;
# a baseline within BASELINE_STRETCH of that span beyond the curves widens it (so the curves still fill
# two thirds of the height), one further away is labelled at the top (or bottom) edge instead.
RANGE_PAD = 0.08
BASELINE_STRETCH = 0.5
GAP_FILL = "rgba(234, 88, 12, 0.12)"
# Points per split that the data chart draws: a seeded sample of a bigger split, the same rows every time.
DATA_POINTS = 5000
SPLIT_COLORS = {"train": TRAIN_COLOR, "validation": VAL_COLOR, "test": "#6b7280"}
RISE_COLOR = "#dc2626"
CLASS_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#db2777", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563", "#dc2626", "#059669"]


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=380,
        # Legend below the axis title, anchored at its top so that long labels never cover "epoch".
        legend={"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0},
        hovermode="x unified",
    )
    return fig


def _best_index(history: Sequence[EpochRecord]) -> int | None:
    finite = [i for i, r in enumerate(history) if np.isfinite(r.val_loss)]
    return min(finite, key=lambda i: history[i].val_loss) if finite else None


def _rise_start(history: Sequence[EpochRecord], best: int, tolerance: float = 0.02, min_epochs: int = 3) -> int | None:
    """First epoch after the best from which validation loss stays above best + 2 % to the end.

    None unless that stretch lasts at least 3 epochs and ends at least 5 % above the best, so that
    the wobble at the tail of a converged run draws no marker.
    """
    best_loss = history[best].val_loss
    after = list(range(best + 1, len(history)))
    if len(after) < min_epochs or not all(np.isfinite(history[i].val_loss) for i in after):
        return None
    if history[-1].val_loss < best_loss * 1.05:
        return None
    floor = best_loss * (1 + tolerance)
    for i in after:
        if all(history[j].val_loss > floor for j in range(i, len(history))):
            return i if len(history) - i >= min_epochs else None
    return None


def _axis_value(value: float, log_scale: bool) -> float | None:
    """`value` in axis units (log10 on a log axis); None where the axis cannot show it."""
    if value is None or not np.isfinite(value) or (log_scale and value <= 0):
        return None
    return float(np.log10(value)) if log_scale else float(value)


def loss_range(
    curves: Sequence[float], baselines: Sequence[float] = (), *, log_scale: bool = False
) -> tuple[float, float] | None:
    """The loss axis range (log10 units on a log axis): every curve value with a margin, nearby baselines too.

    A baseline further than BASELINE_STRETCH of the curves' span beyond them is left out (it is drawn
    as a label at the chart's edge), so that it cannot squash the curves. None without a finite value.
    """
    values = [v for v in (_axis_value(c, log_scale) for c in curves) if v is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    span = high - low
    reach = BASELINE_STRETCH * (span if span > 0 else (0.2 if log_scale else 0.2 * abs(high) or 0.2))
    for b in (_axis_value(v, log_scale) for v in baselines):
        if b is not None and low - reach <= b <= high + reach:
            low, high = min(low, b), max(high, b)
    span = high - low
    pad = RANGE_PAD * span if span > 0 else (0.1 if log_scale else 0.1 * abs(high) or 0.1)
    bottom = low - pad
    if not log_scale and low >= 0:
        bottom = max(0.0, bottom)  # a loss is never negative: no axis below zero
    return bottom, high + pad


def _stack(wanted: list[float], heights: list[float], top: float) -> list[float]:
    """Label centres (px from the bottom) as close to `wanted` as possible, each pair apart by their half-heights plus a gap."""
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i], i))
    placed = [0.0] * len(wanted)
    previous: int | None = None
    for i in order:  # upwards: each label at least a gap above the one below
        placed[i] = wanted[i] if previous is None else max(wanted[i], placed[previous] + _apart(heights, previous, i))
        previous = i
    nxt: int | None = None
    for i in reversed(order):  # then down again from the top edge, keeping the gaps
        limit = top if nxt is None else placed[nxt] - _apart(heights, i, nxt)
        placed[i] = min(placed[i], limit)
        nxt = i
    return placed


def _apart(heights: list[float], a: int, b: int) -> float:
    return (heights[a] + heights[b]) / 2 + LABEL_GAP_PX


def _baseline_labels(fig: go.Figure, baselines: dict[str, float], axis: tuple[float, float] | None, log_scale: bool) -> None:
    """One label per baseline in the right margin, at its line or, off the chart, at the top or bottom edge."""
    items = []  # (name, value, yref, y, fraction of the height, text, lines)
    for name, value in baselines.items():
        at = _axis_value(value, log_scale)
        if axis is not None and at is not None and axis[0] <= at <= axis[1]:
            items.append((name, value, "y", at, (at - axis[0]) / (axis[1] - axis[0]), f"{name} {value:.3g}", 1))
        elif axis is not None and (at is None or at < axis[0]):
            items.append((name, value, "paper", 0.0, 0.0, f"{name} {value:.3g} ↓<br>below the chart", 2))
        elif axis is not None:
            items.append((name, value, "paper", 1.0, 1.0, f"{name} {value:.3g} ↑<br>off the chart", 2))
    wanted = [fraction * PLOT_HEIGHT_PX for *_, fraction, _, _ in items]
    heights = [float(lines * LABEL_LINE_PX) for *_, lines in items]
    placed = _stack(wanted, heights, PLOT_HEIGHT_PX)
    for (name, value, yref, y, _, text, _), want, at in zip(items, wanted, placed, strict=True):
        color = BASELINE_COLORS.get(name, "#6b7280")
        fig.add_annotation(
            name=f"baseline label {name}",
            text=text,
            hovertext=f"{name} model's validation loss: {value:.4g}",
            x=1,
            xref="paper",
            xanchor="left",
            xshift=6,
            y=y,
            yref=yref,
            yanchor="middle",
            yshift=at - want,
            align="left",
            showarrow=False,
            font={"color": color, "size": LABEL_FONT_PX},
        )


def loss_figure(
    history: Sequence[EpochRecord],
    *,
    log_scale: bool = False,
    baselines: dict[str, dict[str, float]] | None = None,
    best_epoch: int | None = None,
) -> go.Figure:
    """Train and validation loss per epoch, the best epoch marked, baselines as dashed lines.

    The y axis is set by the two curves (`loss_range`); each baseline is labelled in the right margin,
    a far one at the top edge ("trivial 0.693 ↑ off the chart") rather than stretching the axis.
    """
    epochs = [r.epoch for r in history]
    train, val = [r.train_loss for r in history], [r.val_loss for r in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=train, name="train loss", line={"color": TRAIN_COLOR}))
    # The generalization gap: shaded where validation loss sits above training loss.
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[max(v, t) if np.isfinite(v) and np.isfinite(t) else None for v, t in zip(val, train, strict=True)],
            name="gap (validation above training)",
            fill="tonexty",
            fillcolor=GAP_FILL,
            line={"width": 0},
            hoverinfo="skip",
        )
    )
    fig.add_trace(go.Scatter(x=epochs, y=val, name="validation loss", line={"color": VAL_COLOR}))
    index = (
        _best_index(history) if best_epoch is None else next((i for i, r in enumerate(history) if r.epoch == best_epoch), None)
    )
    if index is not None:
        best = history[index]
        fig.add_trace(
            go.Scatter(
                x=[best.epoch],
                y=[best.val_loss],
                name=f"best epoch ({best.epoch})",
                mode="markers",
                marker={"symbol": "star", "size": 14, "color": BEST_COLOR},
            )
        )
        fig.add_vline(x=best.epoch, line={"dash": "dot", "color": BEST_COLOR, "width": 1})
        rise = _rise_start(history, index)
        if rise is not None:
            fig.add_trace(
                go.Scatter(
                    x=[history[rise].epoch],
                    y=[history[rise].val_loss],
                    name=f"validation starts rising ({history[rise].epoch})",
                    mode="markers",
                    marker={"symbol": "triangle-up", "size": 12, "color": RISE_COLOR},
                )
            )
    lines = {
        name: float(values["val_loss"])
        for name, values in (baselines or {}).items()
        if values.get("val_loss") is not None and np.isfinite(values["val_loss"])
    }
    for name, value in lines.items():
        fig.add_hline(y=value, line={"dash": "dash", "color": BASELINE_COLORS.get(name, "#6b7280"), "width": 1})
    axis = loss_range(train + val, list(lines.values()), log_scale=log_scale)
    _layout(fig, "Loss", "epoch", "loss")
    fig.update_layout(legend_traceorder="normal")  # the filled gap trace would otherwise reverse the legend
    if lines:
        _baseline_labels(fig, lines, axis, log_scale)
        fig.update_layout(margin={"r": LABEL_MARGIN_PX})
    if log_scale:
        fig.update_yaxes(type="log")
    if axis is not None:
        fig.update_yaxes(range=list(axis))
    return fig


def metric_figure(history: Sequence[EpochRecord], task: str = "classification") -> go.Figure:
    name = "accuracy" if task == "classification" else "R²"
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=[r.train_metric for r in history], name=f"train {name}", line={"color": TRAIN_COLOR}))
    fig.add_trace(go.Scatter(x=epochs, y=[r.val_metric for r in history], name=f"validation {name}", line={"color": VAL_COLOR}))
    return _layout(fig, name.capitalize() if task == "classification" else name, "epoch", name)


# How each split's points are drawn, on the data chart and on the decision boundary: training filled,
# validation hollow, test as crosses; the colour is the class (or the target's value).
SPLIT_STYLE: dict[str, dict[str, Any]] = {
    "train": {"symbol": "circle", "size": 6, "line": {"width": 0.5, "color": "white"}, "label": "training rows (filled)"},
    "validation": {"symbol": "circle-open", "size": 7, "line": {"width": 1.5}, "label": "validation rows (hollow)"},
    "test": {"symbol": "x-thin-open", "size": 7, "line": {"width": 1.5}, "label": "test rows (crosses)"},
}


def _point_traces(
    fig: go.Figure,
    points: dict[str, dict[str, Any]],
    task: str,
    classes: Sequence[str],
    *,
    color_range: tuple[float, float] | None = None,
    colorbar: str | None = None,
) -> None:
    """One scatter trace per split (a handful of traces whatever the class count), plus legend keys.

    The point traces carry no legend entry of their own: a marker key per split (grey, in the split's
    symbol, in the same legend group, so that clicking it hides that split) and a colour key per class.
    """
    for index, (split, values) in enumerate(points.items()):
        style = SPLIT_STYLE.get(split, SPLIT_STYLE["validation"])
        ys = np.asarray(values["y"])
        shown, rows = len(ys), int(values.get("rows", len(ys)))
        count = f"{rows:,}" if shown == rows else f"{shown:,} of {rows:,} shown"
        marker: dict[str, Any] = {"symbol": style["symbol"], "size": style["size"], "line": dict(style["line"])}
        if task == "classification":
            colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in ys]
            marker["color"] = colors
            if style["symbol"] != "circle":
                marker["line"]["color"] = colors  # open symbols are drawn by their outline
            text = [html.escape(str(classes[int(c)])) if 0 <= int(c) < len(classes) else str(c) for c in ys]
            hover = f"{split}: class %{{text}}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"
        else:
            low, high = color_range or (float(ys.min()) if len(ys) else 0.0, float(ys.max()) if len(ys) else 1.0)
            marker.update({"color": ys, "colorscale": "Viridis", "cmin": low, "cmax": high, "showscale": False})
            if style["symbol"] == "circle":
                marker["line"] = {"width": 0.5, "color": "white"}
            if colorbar is not None and index == 0:
                marker.update({"showscale": True, "colorbar": {"title": colorbar}})
            text = None
            hover = f"{split}: target %{{marker.color:.3g}}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"
        fig.add_trace(
            go.Scatter(
                x=values["a"],
                y=values["b"],
                mode="markers",
                name=f"{split} points",
                text=text,
                hovertemplate=hover,
                marker=marker,
                legendgroup=split,
                showlegend=False,
            )
        )
        key_marker = {"symbol": style["symbol"], "size": 8, "color": "#4b5563", "line": {"width": 1.5, "color": "#4b5563"}}
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{style['label']}: {count}",
                marker=key_marker,
                legendgroup=split,
                hoverinfo="skip",
            )
        )
    if task == "classification":
        for index, label in enumerate(classes):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"class {html.escape(str(label))}",
                    marker={"symbol": "square", "size": 10, "color": CLASS_COLORS[index % len(CLASS_COLORS)]},
                    hoverinfo="skip",
                )
            )


def surface_figure(surface: dict[str, Any], *, show_validation: bool = True, show_train: bool = True) -> go.Figure:
    """Draw a `boundary_surface`: the prediction over the plane, training points filled, validation hollow.

    Built to be redrawn every couple of seconds while a run trains: the prediction is one heatmap
    (an image, no contour paths to trace; a binary boundary adds a single 0.5 line), the points one
    trace per split, and `uirevision` keeps a zoom across redraws.
    """
    a, b = surface["features"]
    label_a, label_b = html.escape(a), html.escape(b)  # Plotly renders <b>, <a>… in titles: show names as text
    classes, kind = surface["classes"], surface["kind"]
    grid = {"x": surface["grid_a"], "y": surface["grid_b"], "z": surface["z"]}
    points = {
        split: values
        for split, values in surface["points"].items()
        if (split != "train" or show_train) and (split != "validation" or show_validation)
    }
    fig = go.Figure()
    color_range = None
    if kind == "binary":
        title = f"P(class {html.escape(classes[1])})"
        fig.add_trace(
            go.Heatmap(
                **grid,
                colorscale="RdBu_r",
                opacity=0.55,
                zmin=0,
                zmax=1,
                zsmooth="fast",
                colorbar={"title": title, "thickness": 12},
                name=title,
                hovertemplate=f"{title} = %{{z:.2f}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Contour(
                **grid,
                contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
                line={"width": 2, "color": "#111827"},
                showscale=False,
                hoverinfo="skip",
                name="decision boundary (P = 0.5)",
                showlegend=True,
            )
        )
    elif kind == "multiclass":
        scale = [[i / max(1, len(classes) - 1), CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(len(classes))]
        fig.add_trace(
            go.Heatmap(
                **grid,
                colorscale=scale,
                zmin=0,
                zmax=max(1, len(classes) - 1),
                opacity=0.35,
                showscale=False,
                name="predicted class",
                hovertemplate="predicted class %{z}<extra></extra>",
            )
        )
    else:
        values = [v for row in surface["z"] for v in row if v is not None]
        values += [v for split in points.values() for v in split["y"] if v is not None]
        color_range = (min(values), max(values)) if values else None  # points and surface on one colour scale
        fig.add_trace(
            go.Heatmap(
                **grid,
                colorscale="Viridis",
                opacity=0.6,
                zsmooth="fast",
                zmin=color_range[0] if color_range else None,
                zmax=color_range[1] if color_range else None,
                colorbar={"title": "prediction (std.)", "thickness": 12},
                name="prediction",
                hovertemplate="prediction %{z:.3g}<extra></extra>",
            )
        )
    _point_traces(fig, points, surface["task"], classes, color_range=color_range)
    fig.update_layout(
        title="What the model learned",
        xaxis_title=label_a,
        yaxis_title=label_b,
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15, "yanchor": "top", "x": 0},
        uirevision="surface",
    )
    fig.update_xaxes(range=[surface["grid_a"][0], surface["grid_a"][-1]])
    fig.update_yaxes(range=[surface["grid_b"][0], surface["grid_b"][-1]])
    return fig


def data_figure(dataset: Dataset, *, max_points: int | None = DATA_POINTS) -> go.Figure:
    """The dataset before any training: what the network will be asked to learn.

    Two numeric features: every row on the plane, training filled, validation hollow, test crosses,
    coloured by class (or by the target). Otherwise a summary: the class balance per split (or the
    target's histogram per split), the number of inputs in the title.
    """
    name = html.escape(dataset.name)
    rows = {"train": len(dataset.y_train), "validation": len(dataset.y_val), "test": len(dataset.y_test)}
    total = sum(rows.values())
    fig = go.Figure()
    if dataset.is_2d:
        a, b = dataset.feature_names
        points = split_points(dataset, ("train", "validation", "test"), max_points)
        values = [v for split in points.values() for v in split["y"]]
        color_range = (min(values), max(values)) if values and dataset.task == "regression" else None
        _point_traces(
            fig,
            points,
            dataset.task,
            dataset.classes,
            color_range=color_range,
            colorbar="target (std.)" if dataset.task == "regression" else None,
        )
        fig.update_layout(
            title=f"{name}: {total:,} rows on the plane of its two features",
            xaxis_title=html.escape(a),
            yaxis_title=html.escape(b),
        )
    elif dataset.task == "classification":
        for split, target in (("train", dataset.y_train), ("validation", dataset.y_val), ("test", dataset.y_test)):
            counts = np.bincount(np.asarray(target, dtype=np.int64), minlength=len(dataset.classes))
            fig.add_trace(
                go.Bar(
                    x=[html.escape(str(c)) for c in dataset.classes],
                    y=counts.tolist(),
                    name=f"{split} ({rows[split]:,} rows)",
                    marker={"color": SPLIT_COLORS[split]},
                    hovertemplate=f"{split}: %{{y}} rows of class %{{x}}<extra></extra>",
                )
            )
        fig.update_layout(
            title=f"{name}: {total:,} rows, {dataset.n_inputs} inputs, {len(dataset.classes)} classes",
            xaxis_title="class",
            yaxis_title="rows",
            barmode="group",
        )
        fig.update_xaxes(type="category")
    else:
        for split, target in (("train", dataset.y_train), ("validation", dataset.y_val), ("test", dataset.y_test)):
            fig.add_trace(
                go.Histogram(
                    x=np.asarray(target).tolist(),
                    name=f"{split} ({rows[split]:,} rows)",
                    marker={"color": SPLIT_COLORS[split]},
                    opacity=0.6,
                    nbinsx=30,
                    bingroup="target",
                )
            )
        fig.update_layout(
            title=f"{name}: {total:,} rows, {dataset.n_inputs} inputs; the target to predict",
            xaxis_title="target (standardized)",
            yaxis_title="rows",
            barmode="overlay",
        )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15, "yanchor": "top", "x": 0},
    )
    return fig


def lr_finder_figure(result: LrFinderResult) -> go.Figure:
    """Loss against learning rate (log axis): raw batch losses faint, the smoothed loss, the suggestion marked.

    The y axis stops a quarter above the highest smoothed loss before the blow-up (the last 5 steps
    of a sweep that stopped early, which fastai also leaves out), so that the exploding batches do
    not flatten the valley the suggestion comes from.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=result.learning_rates,
            y=result.losses,
            name="batch loss",
            mode="markers",
            marker={"color": TRAIN_COLOR, "size": 4, "opacity": 0.35},
        )
    )
    fig.add_trace(go.Scatter(x=result.learning_rates, y=result.smoothed, name="smoothed loss", line={"color": TRAIN_COLOR}))
    blow_up = 5 if result.stopped_early and len(result.smoothed) > 5 else 0
    before = [v for v in result.smoothed[: len(result.smoothed) - blow_up] if np.isfinite(v)]
    finite = [v for v in result.losses + result.smoothed if np.isfinite(v)]
    if before and finite:
        low, high = min(finite), max(before)
        pad = max(high - low, 1e-3)
        fig.update_yaxes(range=[max(0.0, low - 0.1 * pad), high + 0.25 * pad])
    if result.suggestion_index >= 0:
        index = result.suggestion_index
        fig.add_trace(
            go.Scatter(
                x=[result.learning_rates[index]],
                y=[result.smoothed[index]],
                name=f"suggestion ({result.rule}): {result.suggestion:.2g}",
                mode="markers",
                marker={"symbol": "star", "size": 14, "color": BEST_COLOR},
            )
        )
        fig.add_vline(x=result.snapped_suggestion, line={"dash": "dot", "color": BEST_COLOR, "width": 1})
        fig.add_annotation(  # annotations on a log axis take log10 positions (shapes take data values)
            x=float(np.log10(result.snapped_suggestion)),
            y=1,
            yref="paper",
            text=f"slider: {result.snapped_suggestion:g}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"color": BEST_COLOR},
        )
    _layout(fig, "Learning-rate finder", "learning rate (log scale)", "training loss")
    fig.update_xaxes(type="log", exponentformat="power")
    return fig


def learning_curve_figure(result: LearningCurveResult) -> go.Figure:
    """Train and validation loss of the kept model against training rows used (log axis), the gap shaded."""
    rows = [p.rows for p in result.points]
    labels = [f"{p.rows}<br>({p.fraction * 100:g} %)" for p in result.points]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=rows, y=[p.train_loss for p in result.points], name="train loss", mode="lines+markers", line={"color": TRAIN_COLOR}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rows,
            y=[p.val_loss for p in result.points],
            name="validation loss",
            mode="lines+markers",
            line={"color": VAL_COLOR},
            fill="tonexty",  # the train/validation gap
            fillcolor="rgba(234, 88, 12, 0.12)",
        )
    )
    _layout(fig, "Learning curve: would more data help?", "training rows used (log scale)", "loss (kept model)")
    fig.update_xaxes(type="log", tickvals=rows, ticktext=labels)
    fig.update_layout(legend_traceorder="normal")  # a filled trace would otherwise reverse the legend
    return fig


ROUND_COLORS = [
    "#6b7280",
    "#2563eb",
    "#16a34a",
    "#ea580c",
    "#7c3aed",
    "#db2777",
    "#0891b2",
    "#ca8a04",
    "#4b5563",
    "#dc2626",
    "#059669",
]


FIX_PANEL_PX = 240  # height of one row of Fix-it panels, the gap to the next row included
FIX_ROW_GAP_PX = 80  # between rows: the epoch ticks above and a two-line panel title
FIX_TITLE_CHARS = 44


def _round_title(label: str, history: Sequence[EpochRecord]) -> str:
    """ "round 1: learning rate → 0.001" over "best 0.0751 at epoch 38 of 40", escaped and shortened."""
    head, _, change = label.partition(": ")
    change = change if len(change) <= FIX_TITLE_CHARS else change[: FIX_TITLE_CHARS - 1] + "…"
    first = f"<b>{html.escape(head)}</b>" + (f": {html.escape(change)}" if change else "")
    best = _best_index(history)
    if best is None:
        return f"{first}<br>no finite validation loss in {len(history)} epoch(s)"
    return f"{first}<br>best {history[best].val_loss:.3g} at epoch {history[best].epoch} of {len(history)}"


def fix_path_figure(
    rounds: Sequence[tuple[str, Sequence[EpochRecord]]], *, log_scale: bool = False, columns: int | None = None
) -> go.Figure:
    """Fix it for me: one small panel per round, validation loss (solid) and training loss (dotted).

    `rounds` pairs a label ("round 1: learning rate 0.3 -> 0.001") with that round's history. Rounds
    train for very different numbers of epochs (300, then 12): overlaid on one epoch axis the short
    round is a sliver at the left edge. Each panel has its own epoch axis, so every round fills its
    width, and all panels share one loss axis, so the levels compare at a glance; each round's best
    epoch is starred and its title says the best validation loss and the epochs it ran.
    """
    count = max(1, len(rounds))
    cols = columns or (count if count <= 3 else 3 if count <= 9 else 4)
    rows = -(-count // cols)
    # Fixed margins, so that the spacing below is in known pixels: the title on top, the last row's
    # epoch titles and the legend (two entries a row on a wide page) below.
    plot_px = rows * FIX_PANEL_PX
    bottom = 50 + 20 * -(-count // 2)
    height = 90 + plot_px + bottom
    titles = [_round_title(label, history) for label, history in rounds]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes="all",
        subplot_titles=titles or None,
        horizontal_spacing=0.05 if cols > 1 else 0.0,
        vertical_spacing=min(0.5 / rows, FIX_ROW_GAP_PX / plot_px) if rows > 1 else 0.0,
    )
    for index, (label, history) in enumerate(rounds):
        row, col = index // cols + 1, index % cols + 1
        color = ROUND_COLORS[index % len(ROUND_COLORS)]
        epochs = [r.epoch for r in history]
        mode = "lines+markers" if len(history) <= 30 else "lines"  # a round of one epoch is still a point
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[r.val_loss for r in history],
                name=f"{label} (validation)",
                mode=mode,
                marker={"size": 4},
                line={"color": color},
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[r.train_loss for r in history],
                name=f"{label} (training)",
                line={"color": color, "dash": "dot", "width": 1},
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        best = _best_index(history)
        if best is not None:
            fig.add_trace(
                go.Scatter(
                    x=[history[best].epoch],
                    y=[history[best].val_loss],
                    name=f"{label}: best epoch ({history[best].epoch})",
                    mode="markers",
                    marker={"symbol": "star", "size": 12, "color": BEST_COLOR, "line": {"width": 0.5, "color": "white"}},
                    showlegend=False,
                ),
                row=row,
                col=col,
            )
        last_in_column = index + cols >= len(rounds)
        fig.update_xaxes(title_text="epoch" if last_in_column else None, row=row, col=col)
    fig.update_annotations(font={"size": 11})  # the panel titles
    fig.update_layout(
        title="Fix it for me: each round's loss (solid: validation, dotted: training, ★ best epoch)",
        height=height,
        margin={"l": 10, "r": 10, "t": 90, "b": bottom},
        hovermode="x unified",
        # One entry per round (its validation curve), below the epoch titles; clicking one hides that round.
        legend={"orientation": "h", "x": 0, "y": -48 / plot_px, "yanchor": "top"},
    )
    fig.update_yaxes(title_text="loss", col=1)
    if log_scale:
        fig.update_yaxes(type="log")
    return fig


# ---------------------------------------------------------------------------------------------------
# Hyperparameter search (core/tune.py): the trials of one study.

TRIAL_COLORS = {"complete": TRAIN_COLOR, "pruned": "#9ca3af", "failed": RISE_COLOR, "running": VAL_COLOR}
LOG_KNOBS = ("learning_rate", "weight_decay")


def _finished(trials: Sequence[TrialOutcome]) -> list[TrialOutcome]:
    return [t for t in trials if t.state == "complete" and t.value is not None and np.isfinite(t.value)]


def tune_history_figure(trials: Sequence[TrialOutcome]) -> go.Figure:
    """Each trial's kept validation loss by trial number, pruned trials at their last reported loss, and
    the best so far as a step line: how the search converged."""
    fig = go.Figure()
    ordered = sorted(trials, key=lambda t: t.number)
    for state in ("complete", "pruned", "failed"):
        group = [t for t in ordered if t.state == state]
        xs, ys, texts = [], [], []
        for t in group:
            value = t.value
            if value is None and t.history:  # pruned: where it stood when it was stopped
                value = t.history[-1].get("val_loss")
            if value is None or not np.isfinite(value):
                continue
            xs.append(t.number)
            ys.append(value)
            texts.append(html.escape(t.reason or ", ".join(f"{k}={_short(v)}" for k, v in t.params.items())))
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name=f"{state} ({len(group)})",
                    marker={"color": TRIAL_COLORS[state], "size": 9, "symbol": "x" if state == "pruned" else "circle"},
                    hovertext=texts,
                    hovertemplate="trial %{x}: %{y:.4g}<br>%{hovertext}<extra></extra>",
                )
            )
    best_x, best_y, best = [], [], float("inf")
    for t in ordered:
        if t in _finished(ordered) and t.value is not None and t.value < best:
            best = t.value
        if np.isfinite(best):
            best_x.append(t.number)
            best_y.append(best)
    if best_x:
        fig.add_trace(go.Scatter(x=best_x, y=best_y, mode="lines", name="best so far", line={"color": BEST_COLOR, "shape": "hv"}))
    _layout(fig, "Optimization history", "trial", "kept validation loss")
    return fig.update_layout(height=360, legend={"orientation": "h", "y": -0.25})


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def importance_figure(importances: dict[str, float]) -> go.Figure:
    """Which searched knobs mattered most for the validation loss (Optuna's importance, sums to 1)."""
    names = sorted(importances, key=importances.__getitem__)
    fig = go.Figure(
        go.Bar(
            x=[importances[n] for n in names],
            y=[n.replace("_", " ") for n in names],
            orientation="h",
            marker={"color": TRAIN_COLOR},
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    _layout(fig, "Hyperparameter importance", "share of the validation loss's variation", "")
    return fig.update_layout(height=max(220, 60 + 40 * len(names)), xaxis={"tickformat": ".0%", "range": [0, 1]})


def tune_parallel_figure(trials: Sequence[TrialOutcome]) -> go.Figure:
    """Parallel coordinates: one line per finished trial through its searched knobs, coloured (and ending)
    by its kept validation loss. Text choices are numbered on their axis."""
    done = _finished(trials)
    names = sorted({k for t in done for k in t.params})
    dimensions = []
    for name in names:
        values = [t.params.get(name) for t in done]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            numbers = [float(v) for v in values if v is not None]
            if name in LOG_KNOBS and all(v > 0 for v in numbers):
                dimensions.append({"label": f"log10 {name}", "values": np.log10(numbers).tolist()})
            else:
                dimensions.append({"label": name, "values": numbers})
        else:
            labels = sorted({str(v) for v in values})
            dimensions.append(
                {
                    "label": name,
                    "values": [labels.index(str(v)) for v in values],
                    "tickvals": list(range(len(labels))),
                    "ticktext": labels,
                }
            )
    losses = [float(t.value) for t in done if t.value is not None]
    dimensions.append({"label": "kept val loss", "values": losses})
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": losses,
                "colorscale": "Viridis",
                "reversescale": True,
                "showscale": True,
                "colorbar": {"title": "val loss"},
            },
            dimensions=dimensions,
        )
    )
    return fig.update_layout(
        title="Knobs against kept validation loss (one line per finished trial)",
        height=380,
        margin={"l": 60, "r": 40, "t": 70, "b": 20},
    )


def validation_curve_figure(knob: str, trials: Sequence[TrialOutcome], *, fixed: dict[str, Any] | None = None) -> go.Figure:
    """Kept validation loss (and metric) against one knob, the other knobs fixed (a one-knob grid search)."""
    done = sorted(_finished(trials), key=lambda t: t.params.get(knob, 0))
    xs = [t.params.get(knob) for t in done]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=xs, y=[t.value for t in done], mode="lines+markers", name="kept validation loss", line={"color": VAL_COLOR})
    )
    if any(t.metric is not None for t in done):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[t.metric for t in done],
                mode="lines+markers",
                name="validation metric",
                line={"color": TRAIN_COLOR, "dash": "dot"},
            ),
            secondary_y=True,
        )
    if done:
        best = min(done, key=lambda t: float(t.value or 0))
        fig.add_trace(
            go.Scatter(
                x=[best.params.get(knob)],
                y=[best.value],
                mode="markers",
                name="lowest loss",
                marker={"symbol": "star", "size": 16, "color": BEST_COLOR},
            )
        )
    others = ", ".join(f"{k.replace('_', ' ')} {_short(v)}" for k, v in (fixed or {}).items())
    title = f"Validation curve: {knob.replace('_', ' ')}" + (f" (fixed: {html.escape(others)})" if others else "")
    _layout(fig, title, knob.replace("_", " "), "kept validation loss")
    if knob in LOG_KNOBS:
        fig.update_xaxes(type="log")
    fig.update_yaxes(title_text="validation metric", secondary_y=True)
    return fig.update_layout(height=360, legend={"orientation": "h", "y": -0.25})
