"""core.experiments.baselines: the trivial and linear reference models, scored on the validation split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.dataset import prepare
from core.experiments.baselines import compute_baselines


@pytest.fixture(scope="module")
def imbalanced():
    """200 rows, 70 % of class 'a' and 30 % of class 'b', two noisy features."""
    rng = np.random.default_rng(1)
    labels = np.array(["a"] * 140 + ["b"] * 60)
    centre = np.where(labels == "a", 0.0, 1.0)
    frame = pd.DataFrame({"u": centre + rng.normal(0, 1, 200), "v": rng.normal(0, 1, 200)})
    return prepare(frame, pd.Series(labels), name="imbalanced", task="classification", seed=0)


def _prior_cross_entropy(y_train: np.ndarray, y_val: np.ndarray, classes: int) -> tuple[float, float]:
    """Loss and accuracy of always predicting the training class frequencies."""
    prior = np.bincount(y_train, minlength=classes) / len(y_train)
    loss = -np.mean(np.log(np.clip(prior[y_val], 1e-7, 1)))
    accuracy = np.mean(y_val == prior.argmax())
    return float(loss), float(accuracy)


@pytest.mark.parametrize("fixture", ["tiny_moons", "tiny_gaussians", "imbalanced"])
def test_trivial_classifier_is_the_entropy_of_the_training_frequencies(fixture, request):
    ds = request.getfixturevalue(fixture)
    loss, accuracy = _prior_cross_entropy(ds.y_train, ds.y_val, len(ds.classes))
    trivial = compute_baselines(ds)["trivial"]
    assert trivial["val_loss"] == pytest.approx(loss, abs=1e-6)
    assert trivial["val_metric"] == pytest.approx(accuracy, abs=1e-9)


def test_trivial_loss_on_balanced_binary_data_is_log_two(tiny_moons):
    # stratified moons: 60/60 in training, so the prior is 1/2 and the loss ln 2 whatever the labels
    assert compute_baselines(tiny_moons)["trivial"]["val_loss"] == pytest.approx(np.log(2), abs=1e-9)


def test_trivial_accuracy_is_the_majority_share(imbalanced):
    trivial = compute_baselines(imbalanced)["trivial"]
    assert trivial["val_metric"] == pytest.approx(0.7, abs=0.03)  # 70 % of rows are 'a'


def test_linear_beats_trivial_on_moons(tiny_moons):
    result = compute_baselines(tiny_moons)
    assert set(result) == {"trivial", "linear", "boosted"}
    assert result["linear"]["val_loss"] < result["trivial"]["val_loss"]
    assert result["linear"]["val_metric"] > result["trivial"]["val_metric"]
    assert 0.0 <= result["linear"]["val_metric"] <= 1.0


def test_regression_trivial_is_the_mean_square_of_the_standardized_target(tiny_sine):
    trivial = compute_baselines(tiny_sine)["trivial"]
    y_val = tiny_sine.y_val.astype(np.float64)
    train_mean = float(tiny_sine.y_train.astype(np.float64).mean())  # ~0 after standardizing
    assert trivial["val_loss"] == pytest.approx(np.mean((y_val - train_mean) ** 2), rel=1e-5)
    assert trivial["val_loss"] == pytest.approx(np.mean(y_val**2), rel=1e-3)
    # predicting a constant explains none of the validation variance: R^2 <= 0
    assert trivial["val_metric"] <= 1e-9


def test_regression_linear_beats_trivial(tiny_sine):
    result = compute_baselines(tiny_sine)
    assert result["linear"]["val_loss"] < result["trivial"]["val_loss"]
    assert result["linear"]["val_metric"] <= 1.0


def test_baselines_are_plain_floats(tiny_moons):
    for scores in compute_baselines(tiny_moons).values():
        assert set(scores) == {"val_loss", "val_metric"}
        assert all(type(v) is float for v in scores.values())
