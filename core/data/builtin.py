"""The built-in datasets: synthetic two-feature sets (and `sine` for regression) and scikit-learn's real ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets

from core.data.csvfile import DataError
from core.data.dataset import Dataset, prepare

SYNTHETIC = ("moons", "circles", "spiral", "xor", "gaussians", "sine")
REAL = ("iris", "wine", "breast_cancer", "digits", "diabetes")
BUILTIN = SYNTHETIC + REAL
DEFAULT_DATASET = "moons"
SAMPLES_RANGE = (20, 100_000)  # rows a synthetic dataset may have (load_builtin refuses others)
NOISE_RANGE = (0.0, 2.0)  # its noise




def _spiral(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = samples // 2
    sizes = (half, samples - half)
    xs, ys = [], []
    for label, n in enumerate(sizes):
        t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi  # sqrt: even density along the arm
        angle = t + label * np.pi
        points = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (3 * np.pi)
        xs.append(points + rng.normal(0, noise * 0.25, points.shape))
        ys.append(np.full(n, label))
    return np.vstack(xs), np.concatenate(ys)


def _xor(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, (samples, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    return x + rng.normal(0, noise * 0.5, x.shape), y


def _sine(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-2, 2, (samples, 2))
    y = np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + rng.normal(0, noise, samples)
    return x, y


def _synthetic(name: str, samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if name == "moons":
        return skdatasets.make_moons(samples, noise=noise, random_state=seed)
    if name == "circles":
        return skdatasets.make_circles(samples, noise=noise, factor=0.5, random_state=seed)
    if name == "spiral":
        return _spiral(samples, noise, rng)
    if name == "xor":
        return _xor(samples, noise, rng)
    if name == "gaussians":
        centers = [(-1.0, -1.0), (1.0, 1.0), (-1.0, 1.5)]
        return skdatasets.make_blobs(samples, centers=centers, cluster_std=0.5 + noise, random_state=seed)
    return _sine(samples, noise, rng)


def load_builtin(name: str = DEFAULT_DATASET, samples: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    """A built-in dataset; `samples` and `noise` apply to the synthetic ones only."""
    if name not in BUILTIN:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(BUILTIN)}")
    notes: list[str] = []
    if name in SYNTHETIC:
        if not SAMPLES_RANGE[0] <= samples <= SAMPLES_RANGE[1]:
            raise DataError(f"samples must be between {SAMPLES_RANGE[0]} and {SAMPLES_RANGE[1]}, got {samples}")
        if not NOISE_RANGE[0] <= noise <= NOISE_RANGE[1]:
            raise DataError(f"noise must be between {NOISE_RANGE[0]:g} and {NOISE_RANGE[1]:g}, got {noise:g}")
        x, y = _synthetic(name, samples, noise, seed)
        frame = pd.DataFrame(x, columns=["x1", "x2"])
        target = pd.Series(y, name="target")
        if name != "sine":
            target = target.astype(int).astype(str)
        task = "regression" if name == "sine" else "classification"
    else:
        bunch = getattr(skdatasets, f"load_{name}")(as_frame=True)
        frame = bunch.data
        frame.columns = [str(c) for c in frame.columns]
        if name == "diabetes":
            target, task = bunch.target.astype(float), "regression"
        else:
            target = pd.Series(np.asarray(bunch.target_names)[bunch.target], name="target")
            task = "classification"
        notes.append(f"{name}: {len(frame)} rows from scikit-learn; samples and noise do not apply")
    return prepare(frame, target.reset_index(drop=True), name=name, task=task, seed=seed, notes=notes)


