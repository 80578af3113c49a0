"""The data a page trains on, as the data picker chose it: a plain record every ui module may name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.data.dataset import Dataset


@dataclass
class DataChoice:
    dataset: Dataset
    dataset_id: str  # cache key: identifies the data, its settings and the split
    spec: dict[str, Any]  # how it was made, stored with each run: name, samples, noise, seed; or file, target, task
