"""Reference models fitted on the same split: is the network beating something simple?

`trivial` predicts the class shares / the mean; `linear` is logistic or ridge regression; `boosted`
is scikit-learn's histogram gradient-boosted trees, a strong tabular model that stands in for "what
is achievable" (Ng's optimal error is unknown). Validation loss is on the network's scale
(cross-entropy, or MSE on the standardized target). Results are cached per dataset fingerprint.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score
from threadpoolctl import threadpool_limits

from core.data.dataset import Dataset

Baselines = dict[str, dict[str, float]]


def _score(model: object, dataset: Dataset) -> dict[str, float]:
    x, y = dataset.x_val, dataset.y_val
    if dataset.task == "classification":
        proba = np.clip(model.predict_proba(x), 1e-7, 1)  # type: ignore[attr-defined]
        labels = list(range(dataset.n_outputs))
        full = np.zeros((len(x), len(labels)))
        full[:, model.classes_] = proba  # type: ignore[attr-defined]
        full /= full.sum(axis=1, keepdims=True)
        return {"val_loss": float(log_loss(y, full, labels=labels)), "val_metric": float(np.mean(full.argmax(1) == y))}
    pred = model.predict(x)  # type: ignore[attr-defined]
    return {"val_loss": float(np.mean((pred - y) ** 2)), "val_metric": float(r2_score(y, pred))}


_CACHE: dict[str, Baselines] = {}
_CACHE_SIZE = 64


def fingerprint(dataset: Dataset) -> str:
    """Identifies the split's contents: same arrays, same baselines."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(dataset.task.encode())
    return digest.hexdigest()


def compute_baselines(dataset: Dataset) -> Baselines:
    key = fingerprint(dataset)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _fit_all(dataset)
    return {name: dict(values) for name, values in _CACHE[key].items()}


def _fit_all(dataset: Dataset) -> Baselines:
    seed = 0
    models: dict[str, object]
    if dataset.task == "classification":
        models = {
            "trivial": DummyClassifier(strategy="prior"),
            "linear": LogisticRegression(max_iter=1000),
            "boosted": HistGradientBoostingClassifier(random_state=seed),
        }
    else:
        models = {
            "trivial": DummyRegressor(strategy="mean"),
            "linear": Ridge(alpha=1.0),
            "boosted": HistGradientBoostingRegressor(random_state=seed),
        }
    result: Baselines = {}
    for name, model in models.items():
        # One OpenMP thread: boosted trees' spinning threads ran ~90x slower next to a busy server.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")  # convergence chatter; the score says what matters
            model.fit(dataset.x_train, dataset.y_train)  # type: ignore[attr-defined]
        result[name] = _score(model, dataset)
    return result
