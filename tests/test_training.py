"""core.training: per-epoch records, reproducibility, early stopping, stop requests, divergence."""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import numpy as np
import pytest
import torch

from core.data import load_builtin
from core.history import EpochRecord, History
from core.hyperparameters import Hyperparameters
from core.training import EarlyStopping, Trainer, configure_threads, evaluate, is_diverged, predict, train

RECORD_FIELDS = ["epoch", "train_loss", "val_loss", "train_metric", "val_metric", "seconds"]
COMPARED = [f for f in RECORD_FIELDS if f != "seconds"]  # wall time differs between runs


def _val_tensors(ds):
    x = torch.from_numpy(np.array(ds.x_val, dtype=np.float32))
    y = torch.from_numpy(np.array(ds.y_val))
    y = y.long() if ds.task == "classification" else y.float().reshape(-1, 1)
    return x, y


def _val_loss_now(trainer: Trainer) -> float:
    x, y = _val_tensors(trainer.dataset)
    return evaluate(trainer.model, x, y, trainer.dataset.task)[0]


@pytest.fixture(scope="module")
def noisy_small():
    """100 noisy rows (60 for training): a large network memorizes them quickly."""
    return load_builtin("moons", samples=100, noise=0.35, seed=0)


def _big(**changes) -> Hyperparameters:
    base = dict(hidden_layers=3, width=128, batch_size=16, learning_rate=0.01, seed=0)
    base.update(changes)
    return Hyperparameters(**base)


# ---------------------------------------------------------------- records


def test_one_record_per_epoch_with_the_six_fields(tiny_moons, small_hp):
    trainer = Trainer(tiny_moons, small_hp.replace(early_stopping=False, epochs=7))
    records = list(trainer)
    assert [f.name for f in dataclasses.fields(EpochRecord)] == RECORD_FIELDS
    assert set(records[0].to_dict()) == set(RECORD_FIELDS)
    assert [r.epoch for r in records] == list(range(1, 8))
    assert trainer.status == "completed"
    assert isinstance(trainer.history, History) and list(trainer.history) == records
    for r in records:
        assert math.isfinite(r.train_loss) and r.train_loss >= 0
        assert math.isfinite(r.val_loss) and r.val_loss >= 0
        assert 0.0 <= r.train_metric <= 1.0 and 0.0 <= r.val_metric <= 1.0
        assert r.seconds >= 0
    # accuracy is a share of the 120 training / 40 validation rows
    assert all(abs(r.train_metric * 120 - round(r.train_metric * 120)) < 1e-3 for r in records)
    assert all(abs(r.val_metric * 40 - round(r.val_metric * 40)) < 1e-3 for r in records)


def test_history_column_access(tiny_moons, small_hp):
    trainer = Trainer(tiny_moons, small_hp)
    list(trainer)
    assert trainer.history["val_loss"] == [r.val_loss for r in trainer.history]
    assert trainer.history[0].epoch == 1


def test_training_reduces_the_loss_and_learns_moons(tiny_moons):
    hp = Hyperparameters(hidden_layers=2, width=16, epochs=20, learning_rate=0.01, early_stopping=False)
    records = list(train(tiny_moons, hp))
    assert records[-1].train_loss < records[0].train_loss
    assert records[-1].val_metric > 0.75  # well above the 0.5 of guessing on balanced moons


def test_regression_records_report_r2(tiny_sine):
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=10, learning_rate=0.01, early_stopping=False)
    records = list(train(tiny_sine, hp))
    assert all(r.train_metric <= 1.0 and r.val_metric <= 1.0 for r in records)
    assert records[-1].val_metric > records[0].val_metric


def test_loss_is_the_mean_over_the_split(tiny_moons, small_hp):
    trainer = Trainer(tiny_moons, small_hp.replace(epochs=2, early_stopping=False))
    last = list(trainer)[-1]
    probs = predict(trainer.model, tiny_moons.x_val, "classification")
    cross_entropy = -np.mean(np.log(probs[np.arange(len(probs)), tiny_moons.y_val]))
    accuracy = np.mean(probs.argmax(axis=1) == tiny_moons.y_val)
    assert last.val_loss == pytest.approx(cross_entropy, abs=1e-5)
    assert last.val_metric == pytest.approx(accuracy, abs=1e-6)


def test_predict_shapes(tiny_moons, tiny_sine, small_hp):
    trainer = Trainer(tiny_moons, small_hp.replace(epochs=1))
    list(trainer)
    probs = predict(trainer.model, tiny_moons.x_test, "classification")
    assert probs.shape == (len(tiny_moons.x_test), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    reg = Trainer(tiny_sine, small_hp.replace(epochs=1))
    list(reg)
    assert predict(reg.model, tiny_sine.x_test, "regression").shape == (len(tiny_sine.x_test),)


def test_evaluate_test(tiny_moons, small_hp):
    trainer = Trainer(tiny_moons, small_hp)
    list(trainer)
    loss, metric = trainer.evaluate_test()
    assert math.isfinite(loss) and loss >= 0
    assert 0.0 <= metric <= 1.0


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adamw"])
def test_every_optimizer_trains(tiny_moons, optimizer):
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=3, optimizer=optimizer, learning_rate=0.01, weight_decay=1e-4)
    records = list(train(tiny_moons, hp))
    assert len(records) == 3 and all(math.isfinite(r.train_loss) for r in records)


def test_dropout_model_evaluates_deterministically(tiny_moons):
    hp = Hyperparameters(hidden_layers=2, width=16, dropout=0.5, epochs=2, early_stopping=False)
    trainer = Trainer(tiny_moons, hp)
    list(trainer)
    assert not trainer.model.training  # left in eval mode: dropout off for predictions
    first = predict(trainer.model, tiny_moons.x_val, "classification")
    second = predict(trainer.model, tiny_moons.x_val, "classification")
    np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------- reproducibility


def _curves(history):
    return [[getattr(r, f) for f in COMPARED] for r in history]


def test_same_seed_gives_the_same_history(tiny_moons):
    hp = Hyperparameters(hidden_layers=2, width=16, epochs=6, dropout=0.2, seed=3, early_stopping=False)
    assert _curves(train(tiny_moons, hp)) == _curves(train(tiny_moons, hp))


def test_different_seed_gives_a_different_history(tiny_moons):
    hp = Hyperparameters(hidden_layers=2, width=16, epochs=3)
    assert _curves(train(tiny_moons, hp)) != _curves(train(tiny_moons, hp.replace(seed=1)))


def test_same_seed_is_reproducible_across_threads(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=3, seed=4)
    results: list[list] = [[], []]

    def work(slot: int) -> None:
        results[slot] = _curves(train(tiny_moons, hp))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results[0] and results[0] == results[1] == _curves(train(tiny_moons, hp))


# ---------------------------------------------------------------- early stopping


def test_early_stopping_ends_the_run_and_restores_the_best_weights(noisy_small):
    patience = 2
    trainer = Trainer(noisy_small, _big(epochs=200, patience=patience, early_stopping=True))
    history = list(trainer)
    assert trainer.status == "early_stopped" and trainer.stopped_early
    assert len(history) < 200
    assert 1 <= trainer.best_epoch < len(history)
    # Keras semantics: it stops exactly `patience` epochs after the last improvement
    assert len(history) == trainer.best_epoch + patience
    best = history[trainer.best_epoch - 1]
    assert best.val_loss <= min(r.val_loss for r in history) * (1 + 1e-4)
    # the model holds the best epoch's weights, not the last epoch's
    assert _val_loss_now(trainer) == pytest.approx(best.val_loss, abs=1e-5)


def test_without_early_stopping_the_run_completes_and_keeps_the_last_weights(noisy_small):
    trainer = Trainer(noisy_small, _big(epochs=20, patience=2, early_stopping=False))
    history = list(trainer)
    assert trainer.status == "completed" and not trainer.stopped_early
    assert len(history) == 20
    vals = [r.val_loss for r in history]
    assert history[trainer.best_epoch - 1].val_loss == min(vals)
    assert _val_loss_now(trainer) == pytest.approx(history[-1].val_loss, abs=1e-5)


def test_early_stopping_class_follows_patience():
    stopper = EarlyStopping(patience=2)
    assert stopper.improved(1, 1.0) and stopper.best_epoch == 1
    assert stopper.improved(2, 0.5) and not stopper.should_stop
    assert not stopper.improved(3, 0.6)
    assert not stopper.should_stop
    assert not stopper.improved(4, 0.5)  # equal is not better
    assert stopper.should_stop and stopper.best_epoch == 2 and stopper.best_loss == 0.5


def test_early_stopping_ignores_improvements_below_the_relative_threshold():
    stopper = EarlyStopping(patience=5)
    stopper.improved(1, 1.0)
    assert not stopper.improved(2, 1.0 - 1e-6)  # float noise on a plateau
    assert stopper.improved(3, 0.99)  # a 1 % gain counts
    assert stopper.waited == 0


def test_early_stopping_does_not_take_nan_as_best():
    stopper = EarlyStopping(patience=3)
    assert not stopper.improved(1, math.nan)
    assert stopper.best_epoch == 0
    assert stopper.improved(2, 2.0) and stopper.best_epoch == 2


def test_is_diverged():
    assert not is_diverged(EpochRecord(1, 0.5, 0.6, 0.5, 0.5, 0.0))
    assert is_diverged(EpochRecord(1, math.nan, 0.6, 0.5, 0.5, 0.0))
    assert is_diverged(EpochRecord(1, 0.5, math.inf, 0.5, 0.5, 0.0))
    assert not is_diverged(EpochRecord(1, 0.5, 0.6, math.nan, math.nan, 0.0))  # metrics do not count


# ---------------------------------------------------------------- stop requests


def test_stop_event_from_another_thread_ends_a_long_run_quickly(tiny_moons):
    stop = threading.Event()
    set_at: list[float] = []

    def request_stop() -> None:
        set_at.append(time.monotonic())
        stop.set()

    hp = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=1, early_stopping=False)
    trainer = Trainer(tiny_moons, hp, stop_event=stop)
    timer = threading.Timer(0.4, request_stop)
    timer.start()
    try:
        history = list(trainer)
    finally:
        timer.cancel()
    ended = time.monotonic()
    assert set_at, "the run ended before the stop request"
    assert ended - set_at[0] < 1.0
    assert trainer.status == "stopped"
    assert 0 < len(history) < 1000  # the finished epochs are kept
    assert [r.epoch for r in history] == list(range(1, len(history) + 1))
    assert trainer.model is not None and not trainer.model.training


def test_stop_requested_before_the_start_records_nothing(tiny_moons, small_hp):
    stop = threading.Event()
    stop.set()
    trainer = Trainer(tiny_moons, small_hp, stop_event=stop)
    assert list(trainer) == []
    assert trainer.status == "stopped"


# ---------------------------------------------------------------- divergence


def test_divergence_ends_the_run_without_an_exception(tiny_sine):
    # plain SGD (momentum 0.9) at learning rate 1.0 on regression overshoots until the loss is NaN
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=50, optimizer="sgd", learning_rate=1.0, early_stopping=False)
    trainer = Trainer(tiny_sine, hp)
    history = list(trainer)
    assert trainer.status == "diverged"
    assert len(history) < 50
    assert is_diverged(history[-1])
    assert all(not is_diverged(r) for r in history[:-1])  # it stopped at the first bad epoch
    # the weights of the best finite epoch are kept
    assert 1 <= trainer.best_epoch < len(history)
    assert _val_loss_now(trainer) == pytest.approx(history[trainer.best_epoch - 1].val_loss, rel=1e-5, abs=1e-5)


def test_non_finite_input_diverges_in_the_first_epoch(tiny_moons, small_hp):
    x = tiny_moons.x_train.copy()
    x[0, 0] = np.inf
    broken = dataclasses.replace(tiny_moons, x_train=x)
    trainer = Trainer(broken, small_hp.replace(epochs=20))
    history = list(trainer)
    assert trainer.status == "diverged"
    assert len(history) == 1 and not math.isfinite(history[0].train_loss)
    assert trainer.best_epoch == 0  # no finite epoch to keep


# ---------------------------------------------------------------- threads


def test_configure_threads_uses_one_thread(monkeypatch):
    monkeypatch.delenv("FITLAB_TORCH_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert configure_threads() == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_configure_threads_honours_the_environment(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("FITLAB_TORCH_THREADS", "2")
    try:
        assert configure_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_trainer_sets_one_thread(monkeypatch, tiny_moons, small_hp):
    monkeypatch.delenv("FITLAB_TORCH_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        Trainer(tiny_moons, small_hp)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
