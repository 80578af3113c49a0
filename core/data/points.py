"""The rows a chart of a 2-feature dataset draws: raw feature values per split, a seeded sample of a big split.

Shared by the data chart (drawn in the web process) and the decision boundary (computed in the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.data.dataset import Dataset


def sample_rows(n: int, limit: int | None) -> np.ndarray:
    """Row indices to draw: all of them, or a seeded sorted sample of `limit` (the same rows every redraw)."""
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def _raw_test(dataset: Dataset) -> pd.DataFrame | None:
    """The test rows' raw features of an all-numeric dataset: its `raw_test` if it has one, else unscaled x_test."""
    raw = getattr(dataset, "raw_test", None)
    if raw is not None:
        return raw
    try:
        numeric = dataset.preprocessor.named_transformers_["numeric"]
        columns = [str(c) for c in dataset.preprocessor.transformers_[0][2]]
        if columns != list(dataset.feature_names):
            return None
        values = numeric[-1].inverse_transform(dataset.x_test[:, : len(columns)])  # the StandardScaler
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return pd.DataFrame(values, columns=dataset.feature_names)


def split_points(
    dataset: Dataset, splits: Sequence[str] = ("train", "validation"), max_points: int | None = None
) -> dict[str, dict[str, Any]]:
    """{split: {a, b, y, rows}} of a 2-feature dataset, raw feature values, at most `max_points` rows per split."""
    a, b = dataset.feature_names
    frames = {
        "train": (dataset.raw_train, dataset.y_train),
        "validation": (dataset.raw_val, dataset.y_val),
        "test": (_raw_test(dataset) if "test" in splits else None, dataset.y_test),
    }
    points = {}
    for split in splits:
        frame, target = frames[split]
        if frame is None:
            continue
        keep = sample_rows(len(frame), max_points)
        points[split] = {
            "a": frame[a].to_numpy()[keep].tolist(),
            "b": frame[b].to_numpy()[keep].tolist(),
            "y": np.asarray(target)[keep].tolist(),
            "rows": len(frame),
        }
    return points
