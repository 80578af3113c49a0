"""Plotly figures built from a run's history: loss, metric, decision boundary, parameter counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from torch import nn

from core.data import Dataset, transform
from core.history import EpochRecord
from core.training import predict

TRAIN_COLOR = "#2563eb"
VAL_COLOR = "#ea580c"
BEST_COLOR = "#16a34a"
BASELINE_COLORS = {"trivial": "#6b7280", "linear": "#7c3aed"}
CLASS_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#db2777", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563", "#dc2626", "#059669"]


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=340,
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
    return fig


def _best_index(history: Sequence[EpochRecord]) -> int | None:
    finite = [i for i, r in enumerate(history) if np.isfinite(r.val_loss)]
    return min(finite, key=lambda i: history[i].val_loss) if finite else None


def loss_figure(
    history: Sequence[EpochRecord],
    *,
    log_scale: bool = False,
    baselines: dict[str, dict[str, float]] | None = None,
    best_epoch: int | None = None,
) -> go.Figure:
    """Train and validation loss per epoch, the best epoch marked, baselines as dashed lines."""
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=[r.train_loss for r in history], name="train loss", line={"color": TRAIN_COLOR}))
    fig.add_trace(go.Scatter(x=epochs, y=[r.val_loss for r in history], name="validation loss", line={"color": VAL_COLOR}))
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
    # Labels alternate sides so that two baselines with similar losses stay readable.
    for index, (name, values) in enumerate((baselines or {}).items()):
        if values.get("val_loss") is not None and np.isfinite(values["val_loss"]):
            fig.add_hline(
                y=values["val_loss"],
                line={"dash": "dash", "color": BASELINE_COLORS.get(name, "#6b7280"), "width": 1},
                annotation_text=f"{name} model (validation)",
                annotation_position="top left" if index % 2 == 0 else "bottom right",
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


def boundary_figure(dataset: Dataset, model: nn.Module, resolution: int = 120) -> go.Figure:
    """What the model predicts over the plane of a 2-feature dataset, with the training points on top."""
    if not dataset.is_2d or dataset.raw_train is None:
        raise ValueError("a decision boundary needs a dataset with exactly two features")
    raw = dataset.raw_train
    a, b = dataset.feature_names
    pad_a = 0.1 * float(raw[a].max() - raw[a].min()) or 1.0
    pad_b = 0.1 * float(raw[b].max() - raw[b].min()) or 1.0
    grid_a = np.linspace(float(raw[a].min()) - pad_a, float(raw[a].max()) + pad_a, resolution)
    grid_b = np.linspace(float(raw[b].min()) - pad_b, float(raw[b].max()) + pad_b, resolution)
    mesh_a, mesh_b = np.meshgrid(grid_a, grid_b)
    points = pd.DataFrame({a: mesh_a.ravel(), b: mesh_b.ravel()})
    output = predict(model, transform(dataset, points), dataset.task)
    fig = go.Figure()
    if dataset.task == "classification" and dataset.n_outputs == 2:
        z, title, colorscale = output[:, 1].reshape(mesh_a.shape), f"P(class {dataset.classes[1]})", "RdBu_r"
        fig.add_trace(
            go.Contour(
                x=grid_a,
                y=grid_b,
                z=z,
                colorscale=colorscale,
                opacity=0.55,
                zmin=0,
                zmax=1,
                contours={"start": 0, "end": 1, "size": 0.1},
                colorbar={"title": title},
                name=title,
            )
        )
    elif dataset.task == "classification":
        z = output.argmax(axis=1).reshape(mesh_a.shape)
        scale = [[i / max(1, dataset.n_outputs - 1), CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(dataset.n_outputs)]
        fig.add_trace(
            go.Heatmap(x=grid_a, y=grid_b, z=z, colorscale=scale, opacity=0.35, showscale=False, name="predicted class")
        )
    else:
        fig.add_trace(
            go.Contour(
                x=grid_a,
                y=grid_b,
                z=output.reshape(mesh_a.shape),
                colorscale="Viridis",
                opacity=0.6,
                colorbar={"title": "prediction (std.)"},
                name="prediction",
            )
        )
    if dataset.task == "classification":
        for index, label in enumerate(dataset.classes):
            mask = dataset.y_train == index
            fig.add_trace(
                go.Scatter(
                    x=raw[a][mask],
                    y=raw[b][mask],
                    mode="markers",
                    name=f"class {label} (train)",
                    marker={
                        "color": CLASS_COLORS[index % len(CLASS_COLORS)],
                        "size": 6,
                        "line": {"width": 0.5, "color": "white"},
                    },
                )
            )
    else:
        fig.add_trace(
            go.Scatter(
                x=raw[a],
                y=raw[b],
                mode="markers",
                name="training points",
                marker={"color": dataset.y_train, "colorscale": "Viridis", "size": 5, "line": {"width": 0.5, "color": "white"}},
            )
        )
    fig.update_layout(
        title="What the model learned",
        xaxis_title=a,
        yaxis_title=b,
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
