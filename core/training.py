"""Training: a generator of per-epoch records, with early stopping, a divergence guard and stop requests.

Speed choices (measured on these 2-core machines, see bench/bench_training.py): one intra-op thread,
the whole training set as one tensor permuted once per epoch and sliced into batches, the loss summed
in a tensor and read once per epoch, fused optimizers, evaluation under inference_mode in one pass.
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data import Dataset
from core.history import EarlyStopping, EpochRecord, History
from core.hyperparameters import Hyperparameters
from core.model import build_model

SGD_MOMENTUM = 0.9
EVAL_CHUNK = 65_536
_SEED_LOCK = threading.Lock()  # torch's global RNG seeds weight init: one builder at a time


def configure_threads() -> int:
    """One intra-op thread unless FITLAB_TORCH_THREADS says otherwise.

    Small MLPs spend their time in per-op overhead; two threads on two shared cores ran many times
    slower than one (performance notes), and one leaves a core for the web server.
    """
    wanted = int(os.environ.get("FITLAB_TORCH_THREADS", "1"))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def is_diverged(record: EpochRecord) -> bool:
    """Non-finite losses end a run (as Lightning's check_finite and fastai's TerminateOnNaN do)."""
    return not (math.isfinite(record.train_loss) and math.isfinite(record.val_loss))


def _loss_function(task: str) -> nn.Module:
    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def _make_optimizer(model: nn.Module, hp: Hyperparameters) -> torch.optim.Optimizer:
    params = list(model.parameters())
    if hp.optimizer == "sgd":
        return torch.optim.SGD(params, lr=hp.learning_rate, momentum=SGD_MOMENTUM, weight_decay=hp.weight_decay, foreach=True)
    if hp.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=hp.learning_rate, weight_decay=hp.weight_decay, fused=True)
    return torch.optim.Adam(params, lr=hp.learning_rate, weight_decay=hp.weight_decay, fused=True)


def _tensors(x: np.ndarray, y: np.ndarray, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    target = torch.from_numpy(np.array(y))  # a copy: inputs may be read-only views
    target = target.long() if task == "classification" else target.float().reshape(-1, 1)
    return torch.from_numpy(np.array(x, dtype=np.float32)), target


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> tuple[float, float]:
    """(loss, metric) on a whole split: accuracy for classification, R^2 for regression."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        outputs = torch.cat([model(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)])
        loss = float(_loss_function(task)(outputs, y))
        if task == "classification":
            metric = float((outputs.argmax(dim=1) == y).float().mean())
        else:
            residual = float(((outputs - y) ** 2).sum())
            total = float(((y - y.mean()) ** 2).sum())
            metric = 1.0 - residual / total if total > 0 else 0.0
    model.train(was_training)
    return loss, metric


@dataclass
class Trainer:
    """Iterate to train: each step is one epoch and yields its EpochRecord.

    After iteration, `status` says why it ended (completed, early_stopped, diverged, stopped),
    `best_epoch` is the epoch with the lowest validation loss and `model` holds the weights that
    are kept: the best epoch's when early stopping is on or the run diverged, the last otherwise.
    `kept_epoch` records which: the one truth that diagnosis, charts, the store and the CLI read
    (0 when no epoch was recorded).
    """

    dataset: Dataset
    hp: Hyperparameters
    stop_event: threading.Event | None = None
    history: History = field(default_factory=History)
    status: str = "pending"
    best_epoch: int = 0
    kept_epoch: int = 0
    model: nn.Module | None = None

    def __post_init__(self) -> None:
        configure_threads()
        ds = self.dataset
        with _SEED_LOCK:
            torch.manual_seed(self.hp.seed)
            self.model = build_model(ds.n_inputs, ds.n_outputs, self.hp)
        self._x_train, self._y_train = _tensors(ds.x_train, ds.y_train, ds.task)
        self._x_val, self._y_val = _tensors(ds.x_val, ds.y_val, ds.task)

    @property
    def stop_requested(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def __iter__(self) -> Iterator[EpochRecord]:
        assert self.model is not None
        model, hp, task = self.model, self.hp, self.dataset.task
        loss_fn = _loss_function(task)
        optimizer = _make_optimizer(model, hp)
        shuffler = torch.Generator().manual_seed(hp.seed)
        stopper = EarlyStopping(hp.patience)
        best_state: dict[str, torch.Tensor] | None = None
        n = len(self._x_train)
        self.status = "running"
        model.train()
        for epoch in range(1, hp.epochs + 1):
            started = time.perf_counter()
            order = torch.randperm(n, generator=shuffler)
            x_epoch, y_epoch = self._x_train[order], self._y_train[order]
            for start in range(0, n, hp.batch_size):
                if self.stop_requested:
                    break
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x_epoch[start : start + hp.batch_size]), y_epoch[start : start + hp.batch_size])
                loss.backward()
                optimizer.step()
            if self.stop_requested:  # the unfinished epoch is not recorded
                self.status = "stopped"
                break
            train_loss, train_metric = evaluate(model, self._x_train, self._y_train, task)
            val_loss, val_metric = evaluate(model, self._x_val, self._y_val, task)
            record = EpochRecord(epoch, train_loss, val_loss, train_metric, val_metric, time.perf_counter() - started)
            self.history.append(record)
            if is_diverged(record):
                self.status = "diverged"
                yield record
                break
            if stopper.improved(epoch, val_loss):
                best_state = copy.deepcopy(model.state_dict())
            self.best_epoch = stopper.best_epoch
            yield record
            if hp.early_stopping and stopper.should_stop:
                self.status = "early_stopped"
                break
        else:
            self.status = "completed"
        if best_state is not None and (hp.early_stopping or self.status == "diverged"):
            model.load_state_dict(best_state)
            self.kept_epoch = self.best_epoch
        else:
            self.kept_epoch = len(self.history)
        model.eval()

    @property
    def stopped_early(self) -> bool:
        return self.status == "early_stopped"

    def evaluate_test(self) -> tuple[float, float]:
        assert self.model is not None
        x, y = _tensors(self.dataset.x_test, self.dataset.y_test, self.dataset.task)
        return evaluate(self.model, x, y, self.dataset.task)


def train(dataset: Dataset, hp: Hyperparameters, stop_event: threading.Event | None = None) -> Iterator[EpochRecord]:
    """The plain generator form: `for record in train(dataset, hp): ...`."""
    return iter(Trainer(dataset, hp, stop_event))


def predict(model: nn.Module, x: np.ndarray, task: str) -> np.ndarray:
    """Class probabilities (n, classes) or regression outputs (n,) for preprocessed inputs."""
    model.eval()
    with torch.inference_mode():
        out = model(torch.as_tensor(x, dtype=torch.float32))
        if task == "classification":
            return torch.softmax(out, dim=1).numpy()
        return out.reshape(-1).numpy()
