"""Reference models fitted on the same split: is the network beating something simple?

`trivial` predicts the majority class / the mean; `linear` is logistic or ridge regression. Their
validation loss is on the network's scale (cross-entropy, or MSE on the standardized target).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score

from core.data import Dataset

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


def compute_baselines(dataset: Dataset) -> Baselines:
    if dataset.task == "classification":
        models = {"trivial": DummyClassifier(strategy="prior"), "linear": LogisticRegression(max_iter=500)}
    else:
        models = {"trivial": DummyRegressor(strategy="mean"), "linear": Ridge(alpha=1.0)}
    result: Baselines = {}
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter; the score says what matters
            model.fit(dataset.x_train, dataset.y_train)
        result[name] = _score(model, dataset)
    return result
