"""The data on the plane of two features, and what the model learned over it (the decision boundary)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.data.dataset import Dataset
from core.data.points import split_points
from core.figures.style import CLASS_COLORS, SPLIT_COLORS

# Points per split that the data chart draws: a seeded sample of a bigger split, the same rows every time.
DATA_POINTS = 5000
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
        if task == "classification":
            marker, text, hover = _class_marker(split, style, ys, classes)
        else:
            marker, text, hover = _target_marker(split, style, ys, color_range, colorbar if index == 0 else None)
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
        _class_keys(fig, classes)


def _class_marker(
    split: str, style: dict[str, Any], ys: np.ndarray, classes: Sequence[str]
) -> tuple[dict[str, Any], list[str] | None, str]:
    """A split's markers coloured by class, the class names as hover text, and the hover template."""
    marker: dict[str, Any] = {"symbol": style["symbol"], "size": style["size"], "line": dict(style["line"])}
    colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in ys]
    marker["color"] = colors
    if style["symbol"] != "circle":
        marker["line"]["color"] = colors  # open symbols are drawn by their outline
    text = [html.escape(str(classes[int(c)])) if 0 <= int(c) < len(classes) else str(c) for c in ys]
    hover = f"{split}: class %{{text}}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"
    return marker, text, hover


def _target_marker(
    split: str,
    style: dict[str, Any],
    ys: np.ndarray,
    color_range: tuple[float, float] | None,
    colorbar: str | None,
) -> tuple[dict[str, Any], None, str]:
    """A split's markers coloured by the target on a Viridis scale (with a colour bar when `colorbar` names one)."""
    marker: dict[str, Any] = {"symbol": style["symbol"], "size": style["size"], "line": dict(style["line"])}
    low, high = color_range or (float(ys.min()) if len(ys) else 0.0, float(ys.max()) if len(ys) else 1.0)
    marker.update({"color": ys, "colorscale": "Viridis", "cmin": low, "cmax": high, "showscale": False})
    if style["symbol"] == "circle":
        marker["line"] = {"width": 0.5, "color": "white"}
    if colorbar is not None:
        marker.update({"showscale": True, "colorbar": {"title": colorbar}})
    hover = f"{split}: target %{{marker.color:.3g}}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"
    return marker, None, hover


def _class_keys(fig: go.Figure, classes: Sequence[str]) -> None:
    """One legend key per class, a square in its colour."""
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
        _binary_surface(fig, grid, classes)
    elif kind == "multiclass":
        _multiclass_surface(fig, grid, classes)
    else:
        values = [v for row in surface["z"] for v in row if v is not None]
        values += [v for split in points.values() for v in split["y"] if v is not None]
        color_range = (min(values), max(values)) if values else None  # points and surface on one colour scale
        _regression_surface(fig, grid, color_range)
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


def _binary_surface(fig: go.Figure, grid: dict[str, Any], classes: Sequence[str]) -> None:
    """P(second class) as a red-blue heatmap, the 0.5 decision boundary as one dark line."""
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


def _multiclass_surface(fig: go.Figure, grid: dict[str, Any], classes: Sequence[str]) -> None:
    """The predicted class as a heatmap in the class colours."""
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


def _regression_surface(fig: go.Figure, grid: dict[str, Any], color_range: tuple[float, float] | None) -> None:
    """The prediction as a Viridis heatmap, on the colour scale the points share."""
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
        _data_plane(fig, dataset, max_points)
        a, b = dataset.feature_names
        fig.update_layout(
            title=f"{name}: {total:,} rows on the plane of its two features",
            xaxis_title=html.escape(a),
            yaxis_title=html.escape(b),
        )
    elif dataset.task == "classification":
        _class_bars(fig, dataset, rows)
        fig.update_layout(
            title=f"{name}: {total:,} rows, {dataset.n_inputs} inputs, {len(dataset.classes)} classes",
            xaxis_title="class",
            yaxis_title="rows",
            barmode="group",
        )
        fig.update_xaxes(type="category")
    else:
        _target_histograms(fig, dataset, rows)
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


def _data_plane(fig: go.Figure, dataset: Dataset, max_points: int | None) -> None:
    """Every split's rows (a sample of a big one) on the plane of the two features."""
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


def _class_bars(fig: go.Figure, dataset: Dataset, rows: dict[str, int]) -> None:
    """The class balance: one group of bars per class, one bar per split."""
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


def _target_histograms(fig: go.Figure, dataset: Dataset, rows: dict[str, int]) -> None:
    """The target's histogram per split, overlaid on shared bins."""
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
