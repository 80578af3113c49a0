"""core.experiments.learning_curve: training on growing shares of the data, and the sentence that reads the curve."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pandas as pd
import pytest

from core.data.dataset import prepare
from core.experiments.learning_curve import LearningCurveError, learning_curve, scaled_hyperparameters, subset_indices
from core.experiments.results import FLAT_WITHIN, STILL_FALLING, LearningCurvePoint, LearningCurveResult, interpret
from core.hyperparameters import Hyperparameters
from core.training.trainer import Trainer

# ---------------------------------------------------------------- subsets


def test_subset_is_stratified_seeded_and_sorted(tiny_moons):
    y = tiny_moons.y_train  # 120 rows, 60 per class
    indices = subset_indices(tiny_moons, 0.25, seed=0)
    assert len(indices) == 30
    assert np.all(np.diff(indices) > 0)  # sorted, no repeats
    assert np.bincount(y[indices]).tolist() == [15, 15]
    assert np.array_equal(indices, subset_indices(tiny_moons, 0.25, seed=0))
    assert not np.array_equal(indices, subset_indices(tiny_moons, 0.25, seed=1))
    assert np.array_equal(subset_indices(tiny_moons, 1.0, seed=0), np.arange(len(y)))


def test_tiny_share_keeps_two_rows_of_every_class(tiny_gaussians):
    indices = subset_indices(tiny_gaussians, 0.01, seed=0)  # 1 % of 120 rows, three classes
    counts = np.bincount(tiny_gaussians.y_train[indices], minlength=3)
    assert counts.tolist() == [2, 2, 2]


def test_rare_class_is_topped_up_to_two_rows():
    # 95 % / 5 % classes: a proportional 10 % share of 114/6 training rows would hold 0 or 1 of the rare one
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    target = pd.Series(["common"] * 190 + ["rare"] * 10)
    dataset = prepare(frame, target, name="imbalanced", task="classification", seed=0)
    rare = dataset.classes.index("rare")
    indices = subset_indices(dataset, 0.1, seed=0)
    assert int(np.sum(dataset.y_train[indices] == rare)) == 2
    assert int(np.sum(dataset.y_train[indices] != rare)) >= 10


def test_regression_subset(tiny_sine):
    indices = subset_indices(tiny_sine, 0.5, seed=0)
    assert len(indices) == 60 and len(set(indices.tolist())) == 60


@pytest.mark.parametrize("fractions", [(), (0.0, 1.0), (0.5, 1.5), (0.5, 0.25), (0.5, 0.5), (math.nan,)])
def test_impossible_fractions_are_refused(tiny_moons, small_hp, fractions):
    with pytest.raises(LearningCurveError):
        learning_curve(tiny_moons, small_hp, fractions)


def test_equal_steps_scales_epochs_and_patience():
    hp = Hyperparameters(epochs=50, patience=10, batch_size=32)
    scaled = scaled_hyperparameters(hp, full_rows=600, rows=60)  # 19 batches per epoch against 2
    assert (scaled.epochs, scaled.patience) == (475, 95)
    assert scaled.replace(epochs=50, patience=10) == hp  # nothing else changes
    assert scaled_hyperparameters(hp.replace(epochs=300), full_rows=600, rows=10).epochs == 1000  # the knob's maximum


# ---------------------------------------------------------------- training


def test_learning_curve_trains_each_share(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=6, seed=0)
    result = learning_curve(tiny_moons, hp, (0.25, 0.5, 1.0))
    assert [p.fraction for p in result.points] == [0.25, 0.5, 1.0]
    assert [p.rows for p in result.points] == [30, 60, 120]
    assert result.train_rows == 120 and result.val_rows == 40
    # equal steps: 30 rows are 1 batch per epoch against 4 for the full set, so 4x the epochs
    assert [p.max_epochs for p in result.points] == [24, 12, 6]
    for point in result.points:
        assert math.isfinite(point.train_loss) and math.isfinite(point.val_loss)
        assert 1 <= point.best_epoch <= point.epochs <= point.max_epochs
        assert 0.0 <= point.val_metric <= 1.0


def test_full_share_is_the_trainers_kept_model(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=8, patience=2, seed=1)
    point = learning_curve(tiny_moons, hp, (1.0,)).points[0]
    trainer = Trainer(tiny_moons, hp)
    history = list(trainer)
    best = history[trainer.best_epoch - 1]  # early stopping restores the best epoch
    assert point.best_epoch == trainer.best_epoch and point.epochs == len(history)
    assert point.val_loss == pytest.approx(best.val_loss, rel=1e-5)
    assert point.train_loss == pytest.approx(best.train_loss, rel=1e-5)


def test_without_equal_steps_every_share_gets_the_same_epochs(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=3, early_stopping=False)
    result = learning_curve(tiny_moons, hp, (0.25, 1.0), equal_steps=False)
    assert [p.max_epochs for p in result.points] == [3, 3] == [p.epochs for p in result.points]
    assert result.to_dict()["equal_steps"] is False


def test_a_stop_request_keeps_the_points_so_far(tiny_moons, small_hp):
    stop = threading.Event()
    seen: list[LearningCurvePoint] = []

    def on_point(point: LearningCurvePoint) -> None:
        seen.append(point)
        stop.set()  # ask to stop once the first share is done

    result = learning_curve(tiny_moons, small_hp, (0.25, 0.5, 1.0), stop_event=stop, on_point=on_point)
    assert result.stopped
    assert [p.fraction for p in result.points] == [0.25] and seen == result.points


def test_a_stop_requested_before_the_start_trains_nothing(tiny_moons, small_hp):
    stop = threading.Event()
    stop.set()
    result = learning_curve(tiny_moons, small_hp, stop_event=stop)
    assert result.stopped and result.points == []
    assert "Too few" in interpret(result)


def test_to_dict_is_strict_json_with_the_sentence(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=2)
    result = learning_curve(tiny_moons, hp, (0.5, 1.0))
    result.points.append(_point(1.0, 0.1, math.nan))  # a diverged point
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["points"][-1]["val_loss"] is None
    assert payload["interpretation"] == interpret(result)
    assert {"fraction", "rows", "train_loss", "val_loss", "best_epoch", "epochs", "status"} <= set(payload["points"][0])


# ---------------------------------------------------------------- interpret, on hand-made curves


def _point(fraction: float, train: float, val: float, best: int = 10, epochs: int = 20, status: str = "early_stopped"):
    return LearningCurvePoint(fraction, int(600 * fraction), train, val, math.nan, math.nan, best, epochs, epochs, status, 0.1)


def _curve(*rows: tuple[float, float, float]) -> LearningCurveResult:
    return LearningCurveResult("classification", 600, 200, points=[_point(*row) for row in rows])


def test_still_falling_means_more_data_helps():
    text = interpret(_curve((0.1, 0.30, 0.41), (0.25, 0.25, 0.30), (0.5, 0.18, 0.20), (1.0, 0.11, 0.12)))
    assert text == ("Validation loss fell from 0.41 at 10 % to 0.12 at 100 % and was still falling: more data would likely help.")


def test_a_narrowing_gap_is_high_variance():
    text = interpret(_curve((0.1, 0.02, 0.40), (0.25, 0.04, 0.26), (0.5, 0.07, 0.17), (1.0, 0.09, 0.12)))
    assert "gap narrowed from 0.38 at 10 % to 0.03 at 100 %" in text
    assert "high variance, more data would likely help" in text


def test_a_flat_curve_means_change_the_model():
    text = interpret(_curve((0.1, 0.40, 0.45), (0.25, 0.36, 0.39), (0.5, 0.35, 0.37), (1.0, 0.35, 0.365)))
    assert text == (
        "Validation loss went from 0.45 at 10 % to 0.36 at 100 % and flattened after 50 %: "
        "more data is unlikely to help; change the model instead."
    )


def test_flat_from_the_start():
    text = interpret(_curve((0.1, 0.69, 0.693), (1.0, 0.69, 0.692)))
    assert text.startswith("Validation loss hardly changed from 0.69 at 10 % to 0.69 at 100 %")
    assert "unlikely to help" in text


def test_flat_with_a_large_gap_means_regularize():
    text = interpret(_curve((0.1, 0.01, 0.42), (0.5, 0.01, 0.30), (1.0, 0.01, 0.295)))
    assert "flattened after 50 %" in text and "regularize" in text and "(0.01)" in text


def test_the_still_falling_threshold_is_the_constant():
    above = 0.30 * (1 - STILL_FALLING) - 1e-3
    below = 0.30 * (1 - STILL_FALLING) + 1e-3
    assert "still falling" in interpret(_curve((0.1, 0.25, 0.40), (0.5, 0.25, 0.30), (1.0, 0.25, above)))
    assert "unlikely to help" in interpret(_curve((0.1, 0.25, 0.40), (0.5, 0.25, 0.30), (1.0, 0.25, below)))
    assert FLAT_WITHIN > 0


def test_an_unconverged_full_run_adds_a_caveat():
    result = _curve((0.1, 0.30, 0.41), (1.0, 0.11, 0.12))
    result.points[-1] = _point(1.0, 0.11, 0.12, best=20, epochs=20, status="completed")
    assert "still improving at its last epoch" in interpret(result)


def test_small_losses_keep_two_significant_digits():
    text = interpret(_curve((0.1, 0.004, 0.040), (0.5, 0.010, 0.019), (1.0, 0.013, 0.015)))
    assert "from 0.04 at 10 % to 0.015 at 100 %" in text


def test_figure_plots_both_losses_against_rows():
    from core.figures.charts import learning_curve_figure

    fig = learning_curve_figure(_curve((0.1, 0.02, 0.40), (0.5, 0.07, 0.17), (1.0, 0.09, 0.12)))
    train, val = fig.data
    assert (train.name, val.name) == ("train loss", "validation loss")
    assert list(train.x) == [60, 300, 600] and list(val.y) == [0.40, 0.17, 0.12]
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.ticktext[0] == "60<br>(10 %)"
