"""The decision boundary (or regression surface) of a 2-feature run, as plain data: computed in the worker.

The model lives in the worker; the page only draws this grid (core.figures.charts.surface_figure).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from core.data.dataset import Dataset, transform
from core.data.points import split_points
from core.training.trainer import predict

# Grid points per axis of a decision boundary: 80 x 80 = 6,400 predictions (120 x 120 took 0.35 s of a
# 4 x 512 network's time in the worker, at the end of every run; contours interpolate between points).
SURFACE_RESOLUTION = 80
# Points per split that a decision boundary carries (and redraws every couple of seconds during a run):
# a seeded sample of a bigger split, the same rows every time.
SURFACE_POINTS = 2000


def boundary_surface(
    dataset: Dataset,
    model: nn.Module,
    resolution: int = SURFACE_RESOLUTION,
    *,
    max_points: int | None = SURFACE_POINTS,
    points: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the model predicts over the plane of a 2-feature dataset, as plain JSON-able data.

    Computed where the model is (a worker process) and drawn by `surface_figure` wherever the page
    is: the web process never needs the model. Keys: features, task, kind (binary, multiclass,
    regression), classes, grid_a, grid_b, z (rows along grid_b), points ({split: {a, b, y, rows}}:
    at most `max_points` seeded rows per split, `rows` of them in all). `points`: those of an earlier
    surface of the same dataset (they do not change while a run trains; a live redraw reuses them).
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
    return {
        "features": [a, b],
        "task": dataset.task,
        "kind": kind,
        "classes": [str(c) for c in dataset.classes],
        "grid_a": grid_a.tolist(),
        "grid_b": grid_b.tolist(),
        "z": np.round(z.astype(float), 4).tolist(),
        "points": points if points is not None else split_points(dataset, max_points=max_points),
    }
