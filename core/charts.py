"""Plotly figures built from a run's history: loss, metric, decision boundary, parameter counts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from torch import nn

from core.data import Dataset, transform
from core.history import EpochRecord
from core.training import predict

if TYPE_CHECKING:
    from core.learning_curve import LearningCurveResult
    from core.lr_finder import LrFinderResult

TRAIN_COLOR = "#2563eb"
VAL_COLOR = "#ea580c"
BEST_COLOR = "#16a34a"
BASELINE_COLORS = {"trivial": "#6b7280", "linear": "#7c3aed", "boosted": "#0f766e"}
BASELINE_LABEL_SIDE = {"trivial": "top left", "linear": "bottom right", "boosted": "top right"}  # apart when close
GAP_FILL = "rgba(234, 88, 12, 0.12)"
# Grid points per axis of a decision boundary: 80 x 80 = 6,400 predictions (120 x 120 took 0.35 s of a
# 4 x 512 network's time in the worker, at the end of every run; contours interpolate between points).
SURFACE_RESOLUTION = 80
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


def loss_figure(
    history: Sequence[EpochRecord],
    *,
    log_scale: bool = False,
    baselines: dict[str, dict[str, float]] | None = None,
    best_epoch: int | None = None,
) -> go.Figure:
    """Train and validation loss per epoch, the best epoch marked, baselines as dashed lines."""
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
    for name, values in (baselines or {}).items():
        if values.get("val_loss") is not None and np.isfinite(values["val_loss"]):
            fig.add_hline(
                y=values["val_loss"],
                line={"dash": "dash", "color": BASELINE_COLORS.get(name, "#6b7280"), "width": 1},
                annotation_text=f"{name} model (validation)",
                annotation_position=BASELINE_LABEL_SIDE.get(name, "top left"),
                annotation_font_color=BASELINE_COLORS.get(name, "#6b7280"),
            )
    _layout(fig, "Loss", "epoch", "loss")
    if log_scale:
        fig.update_yaxes(type="log")
    return fig


def metric_figure(history: Sequence[EpochRecord], task: str = "classification") -> go.Figure:
    name = "accuracy" if task == "classification" else "R²"
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=[r.train_metric for r in history], name=f"train {name}", line={"color": TRAIN_COLOR}))
    fig.add_trace(go.Scatter(x=epochs, y=[r.val_metric for r in history], name=f"validation {name}", line={"color": VAL_COLOR}))
    return _layout(fig, name.capitalize() if task == "classification" else name, "epoch", name)


def boundary_surface(dataset: Dataset, model: nn.Module, resolution: int = SURFACE_RESOLUTION) -> dict[str, Any]:
    """What the model predicts over the plane of a 2-feature dataset, as plain JSON-able data.

    Computed where the model is (a worker process) and drawn by `surface_figure` wherever the page
    is: the web process never needs the model. Keys: features, task, kind (binary, multiclass,
    regression), classes, grid_a, grid_b, z (rows along grid_b), points ({split: {a, b, y}}).
    """
    if not dataset.is_2d or dataset.raw_train is None:
        raise ValueError("a decision boundary needs a dataset with exactly two features")
    raw = dataset.raw_train
    a, b = dataset.feature_names
    pad_a = 0.1 * float(raw[a].max() - raw[a].min()) or 1.0
    pad_b = 0.1 * float(raw[b].max() - raw[b].min()) or 1.0
    grid_a = np.linspace(float(raw[a].min()) - pad_a, float(raw[a].max()) + pad_a, resolution)
    grid_b = np.linspace(float(raw[b].min()) - pad_b, float(raw[b].max()) + pad_b, resolution)
    mesh_a, mesh_b = np.meshgrid(grid_a, grid_b)
    output = predict(model, transform(dataset, pd.DataFrame({a: mesh_a.ravel(), b: mesh_b.ravel()})), dataset.task)
    if dataset.task == "classification" and dataset.n_outputs == 2:
        kind, z = "binary", output[:, 1].reshape(mesh_a.shape)
    elif dataset.task == "classification":
        kind, z = "multiclass", output.argmax(axis=1).reshape(mesh_a.shape)
    else:
        kind, z = "regression", output.reshape(mesh_a.shape)
    points = {}
    for split, frame, target in (("train", dataset.raw_train, dataset.y_train), ("validation", dataset.raw_val, dataset.y_val)):
        if frame is not None:
            points[split] = {"a": frame[a].tolist(), "b": frame[b].tolist(), "y": np.asarray(target).tolist()}
    return {
        "features": [a, b],
        "task": dataset.task,
        "kind": kind,
        "classes": [str(c) for c in dataset.classes],
        "grid_a": grid_a.tolist(),
        "grid_b": grid_b.tolist(),
        "z": np.round(z.astype(float), 4).tolist(),
        "points": points,
    }


def boundary_figure(dataset: Dataset, model: nn.Module, resolution: int = SURFACE_RESOLUTION) -> go.Figure:
    """The decision boundary (or regression surface) of `model` on a 2-feature dataset."""
    return surface_figure(boundary_surface(dataset, model, resolution))


def surface_figure(surface: dict[str, Any]) -> go.Figure:
    """Draw a `boundary_surface`: the prediction over the plane, training points filled, validation hollow."""
    a, b = surface["features"]
    label_a, label_b = html.escape(a), html.escape(b)  # Plotly renders <b>, <a>… in titles: show names as text
    classes, kind = surface["classes"], surface["kind"]
    grid = {"x": surface["grid_a"], "y": surface["grid_b"], "z": surface["z"]}
    fig = go.Figure()
    if kind == "binary":
        title = f"P(class {html.escape(classes[1])})"
        fig.add_trace(
            go.Contour(
                **grid,
                colorscale="RdBu_r",
                opacity=0.55,
                zmin=0,
                zmax=1,
                contours={"start": 0, "end": 1, "size": 0.1},
                colorbar={"title": title},
                name=title,
            )
        )
    elif kind == "multiclass":
        scale = [[i / max(1, len(classes) - 1), CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(len(classes))]
        fig.add_trace(go.Heatmap(**grid, colorscale=scale, opacity=0.35, showscale=False, name="predicted class"))
    else:
        fig.add_trace(
            go.Contour(**grid, colorscale="Viridis", opacity=0.6, colorbar={"title": "prediction (std.)"}, name="prediction")
        )
    for split, values in surface["points"].items():
        hollow = split != "train"
        ys = np.asarray(values["y"])
        if surface["task"] == "classification":
            for index, label in enumerate(classes):
                mask = ys == index
                color = CLASS_COLORS[index % len(CLASS_COLORS)]
                fig.add_trace(
                    go.Scatter(
                        x=np.asarray(values["a"])[mask],
                        y=np.asarray(values["b"])[mask],
                        mode="markers",
                        name=f"class {html.escape(str(label))} ({split})",
                        marker={
                            "color": "white" if hollow else color,
                            "size": 6,
                            "symbol": "circle-open" if hollow else "circle",
                            "line": {"width": 1.5 if hollow else 0.5, "color": color if hollow else "white"},
                        },
                    )
                )
        else:
            fig.add_trace(
                go.Scatter(
                    x=values["a"],
                    y=values["b"],
                    mode="markers",
                    name=f"{split} points",
                    marker={
                        "color": values["y"],
                        "colorscale": "Viridis",
                        "size": 5,
                        "symbol": "diamond" if hollow else "circle",
                        "line": {"width": 0.5, "color": "black" if hollow else "white"},
                    },
                )
            )
    fig.update_layout(
        title="What the model learned",
        xaxis_title=label_a,
        yaxis_title=label_b,
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15},
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


def fix_path_figure(rounds: Sequence[tuple[str, Sequence[EpochRecord]]], *, log_scale: bool = False) -> go.Figure:
    """Fix it for me: each round's validation loss (solid) and training loss (dotted), overlaid.

    `rounds` pairs a label ("round 1: learning rate 0.3 -> 0.001") with that round's history.
    """
    fig = go.Figure()
    for index, (label, history) in enumerate(rounds):
        color = ROUND_COLORS[index % len(ROUND_COLORS)]
        epochs = [r.epoch for r in history]
        fig.add_trace(go.Scatter(x=epochs, y=[r.val_loss for r in history], name=f"{label} (validation)", line={"color": color}))
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[r.train_loss for r in history],
                name=f"{label} (training)",
                line={"color": color, "dash": "dot", "width": 1},
                showlegend=False,
            )
        )
    _layout(fig, "Fix it for me: each round's loss (solid: validation, dotted: training)", "epoch", "loss")
    fig.update_layout(height=400, legend={"orientation": "v", "y": -0.25})
    if log_scale:
        fig.update_yaxes(type="log")
    return fig
