"""core.training.trainer: per-epoch records, reproducibility, early stopping, stop requests, divergence."""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import time

import numpy as np
import pytest
import torch

from core.data.builtin import load_builtin
from core.history import EpochRecord, History
from core.hyperparameters import Hyperparameters
from core.training.model import build_model
from core.training.optim import configure_threads, make_optimizer, to_tensors
from core.training.trainer import (
    EarlyStopping,
    Trainer,
    evaluate,
    is_diverged,
    predict,
    train,
)

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


# ---------------------------------------------------------------- the same numbers as the textbook loop


def _textbook_run(ds, hp):
    """The loop the Trainer's speed-ups replace: model(x), an nn loss module, torch.optim, a state_dict deepcopy."""
    torch.manual_seed(hp.seed)
    model = build_model(ds.n_inputs, ds.n_outputs, hp)
    x, y = to_tensors(ds.x_train, ds.y_train, ds.task)
    x_val, y_val = to_tensors(ds.x_val, ds.y_val, ds.task)
    loss_fn = torch.nn.CrossEntropyLoss() if ds.task == "classification" else torch.nn.MSELoss()
    optimizer = make_optimizer(model, hp)  # fused Adam / AdamW, foreach SGD
    shuffler = torch.Generator().manual_seed(hp.seed)
    stopper = EarlyStopping(hp.patience)
    curves, best_state, diverged = [], None, False
    model.train()
    for epoch in range(1, hp.epochs + 1):
        order = torch.randperm(len(x), generator=shuffler)
        x_epoch, y_epoch = x[order], y[order]
        for start in range(0, len(x), hp.batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x_epoch[start : start + hp.batch_size]), y_epoch[start : start + hp.batch_size]).backward()
            optimizer.step()
        train_loss, train_metric = evaluate(model, x, y, ds.task)
        val_loss, val_metric = evaluate(model, x_val, y_val, ds.task)
        curves.append([epoch, train_loss, val_loss, train_metric, val_metric])
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            diverged = True
            break
        if stopper.improved(epoch, val_loss):
            best_state = copy.deepcopy(model.state_dict())
        if hp.early_stopping and stopper.should_stop:
            break
    if best_state is not None and (hp.early_stopping or diverged):
        model.load_state_dict(best_state)
    return curves, model


@pytest.mark.parametrize(
    ("dataset", "changes"),
    [
        ("tiny_moons", dict(optimizer="adam", weight_decay=1e-3)),
        ("tiny_moons", dict(optimizer="sgd", weight_decay=1e-3, learning_rate=0.05)),
        ("tiny_moons", dict(optimizer="adamw", weight_decay=1e-2)),
        ("tiny_moons", dict(dropout=0.3, activation="tanh")),
        ("tiny_gaussians", dict(dropout=0.2, activation="gelu", batch_size=7)),
        ("tiny_gaussians", dict(activation="leaky_relu", hidden_layers=0)),
        ("tiny_sine", dict(activation="sigmoid")),
        ("tiny_sine", dict(optimizer="sgd", learning_rate=0.05, batch_size=1, epochs=3)),
        ("noisy_small", dict(hidden_layers=3, width=64, learning_rate=0.01, patience=2, epochs=100)),  # restores
    ],
)
def test_the_trainer_computes_what_the_textbook_loop_computes(request, dataset, changes):
    # Functional forward, flat parameter buffers and the direct fused optimizer update are elementwise the
    # same ops as model(x) + torch.optim: the histories and the kept weights agree bit for bit.
    ds = request.getfixturevalue(dataset)
    hp = Hyperparameters(hidden_layers=2, width=16, epochs=6, batch_size=16, learning_rate=0.01, seed=2).replace(**changes)
    expected_curves, expected_model = _textbook_run(ds, hp)
    trainer = Trainer(ds, hp)
    assert _curves(list(trainer)) == expected_curves
    for ours, theirs in zip(trainer.model.state_dict().values(), expected_model.state_dict().values(), strict=True):
        assert torch.equal(ours, theirs)


def test_parameters_get_their_own_storage_back(tiny_moons, small_hp):
    def check(model):
        params = list(model.parameters())
        assert len({p.untyped_storage().data_ptr() for p in params}) == len(params)
        assert all(p.is_contiguous() and p.grad is None for p in params)

    trainer = Trainer(tiny_moons, small_hp.replace(epochs=2))
    list(trainer)
    check(trainer.model)
    abandoned = Trainer(tiny_moons, small_hp.replace(epochs=5))
    iterator = iter(abandoned)
    next(iterator)
    iterator.close()  # what a consumer's `break` out of the loop does to the generator
    check(abandoned.model)
    assert not abandoned.model.training


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


# ---------------------------------------------------------------- kept_epoch: whose weights the model holds


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


class _StopAfter(threading.Event):
    """A stop event that sets itself on its n-th check: a stop request at an exact mini-batch."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.checks_left = checks

    def is_set(self) -> bool:
        self.checks_left -= 1
        if self.checks_left <= 0:
            self.set()
        return super().is_set()


def test_kept_epoch_is_the_best_epoch_after_early_stopping(noisy_small):
    trainer = Trainer(noisy_small, _big(epochs=200, patience=2, early_stopping=True))
    history = list(trainer)
    assert trainer.status == "early_stopped"
    assert trainer.kept_epoch == trainer.best_epoch < len(history)
    assert _val_loss_now(trainer) == pytest.approx(history[trainer.kept_epoch - 1].val_loss, abs=1e-6)


def test_kept_epoch_is_the_last_epoch_of_a_completed_run(noisy_small):
    trainer = Trainer(noisy_small, _big(epochs=20, patience=2, early_stopping=False))
    history = list(trainer)
    assert trainer.status == "completed"
    assert trainer.kept_epoch == len(history) == 20
    assert trainer.best_epoch != trainer.kept_epoch  # it overfits: the best epoch is not the one kept
    assert _val_loss_now(trainer) == pytest.approx(history[-1].val_loss, abs=1e-6)


def test_kept_epoch_of_a_diverged_run_is_the_restored_best_epoch(tiny_sine):
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=50, optimizer="sgd", learning_rate=1.0, early_stopping=False)
    trainer = Trainer(tiny_sine, hp)
    history = list(trainer)
    assert trainer.status == "diverged"
    assert trainer.kept_epoch == trainer.best_epoch
    assert 1 <= trainer.kept_epoch < len(history)
    assert _val_loss_now(trainer) == pytest.approx(history[trainer.kept_epoch - 1].val_loss, rel=1e-5, abs=1e-5)


def test_kept_epoch_when_the_first_epoch_diverges_is_that_epoch(tiny_moons, small_hp):
    x = tiny_moons.x_train.copy()
    x[0, 0] = np.inf
    trainer = Trainer(dataclasses.replace(tiny_moons, x_train=x), small_hp.replace(epochs=20))
    history = list(trainer)
    assert trainer.status == "diverged" and len(history) == 1
    assert trainer.best_epoch == 0 and trainer.kept_epoch == 1  # no finite epoch to restore: its weights stay


def test_kept_epoch_is_zero_when_stopped_before_any_epoch(tiny_moons, small_hp):
    stop = threading.Event()
    stop.set()
    trainer = Trainer(tiny_moons, small_hp, stop_event=stop)
    initial = _weights(trainer.model)
    assert list(trainer) == []
    assert trainer.status == "stopped" and trainer.kept_epoch == 0
    assert all(torch.equal(a, b) for a, b in zip(_weights(trainer.model), initial, strict=True))


def test_a_stop_mid_epoch_keeps_the_last_recorded_epoch(noisy_small):
    # 60 training rows in batches of 16: 4 checks per epoch and one after it; the 13th check is in epoch 3
    trainer = Trainer(noisy_small, _big(epochs=10, early_stopping=False), stop_event=_StopAfter(13))
    history = list(trainer)
    assert trainer.status == "stopped" and len(history) == 2
    assert trainer.kept_epoch == 2
    assert _val_loss_now(trainer) == pytest.approx(history[-1].val_loss, abs=1e-6)  # epoch 3's 2 steps undone


def test_a_stop_in_the_first_epoch_keeps_the_initial_weights(noisy_small):
    trainer = Trainer(noisy_small, _big(epochs=10), stop_event=_StopAfter(3))
    initial = _weights(trainer.model)
    assert list(trainer) == []
    assert trainer.status == "stopped" and trainer.kept_epoch == 0
    assert all(torch.equal(a, b) for a, b in zip(_weights(trainer.model), initial, strict=True))


def test_a_stop_with_early_stopping_keeps_the_best_epoch(noisy_small):
    trainer = Trainer(noisy_small, _big(epochs=50, patience=50, early_stopping=True), stop_event=_StopAfter(5 * 8 + 2))
    history = list(trainer)
    assert trainer.status == "stopped" and len(history) == 8
    assert trainer.kept_epoch == trainer.best_epoch
    assert _val_loss_now(trainer) == pytest.approx(history[trainer.kept_epoch - 1].val_loss, abs=1e-6)


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
