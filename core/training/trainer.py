"""Training: a generator of per-epoch records, with early stopping, a divergence guard and stop requests.

Speed choices (measured on these 2-core machines, see bench/bench_training.py and its report): one
intra-op thread; the whole training set as one tensor permuted once per epoch and split into batches;
no loss read back during the epoch; per step as few op dispatches as the math allows: the network run
as plain functional ops (core.training.model.functional_forward, no Module.__call__), F.cross_entropy / F.mse_loss
called directly, the parameters and gradients living in two flat buffers (_FlatParameters) so that
zeroing the gradients, the fused optimizer update and saving or restoring the best weights are one op
each; evaluation under inference_mode in cache-sized chunks. All of it computes the same numbers as
the textbook loop (model(x), nn.CrossEntropyLoss, torch.optim with fused=True, a state_dict deepcopy):
tests/test_training.py compares the histories bit for bit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.data.dataset import Dataset
from core.dynamics import Dynamics
from core.history import EarlyStopping, EpochRecord, History
from core.hyperparameters import Hyperparameters
from core.training.model import build_model, functional_forward
from core.training.optim import SEED_LOCK, SGD_MOMENTUM, configure_threads, loss_function, to_tensors
from core.training.probe import Probe

EVAL_CHUNK = 2048  # rows per forward pass: 20k rows took 25 ms in one pass, 16 ms in 2k chunks (cache-sized)


def is_diverged(record: EpochRecord) -> bool:
    """Non-finite losses end a run (as Lightning's check_finite and fastai's TerminateOnNaN do)."""
    return not (math.isfinite(record.train_loss) and math.isfinite(record.val_loss))


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> tuple[float, float]:
    """(loss, metric) on a whole split: accuracy for classification, R^2 for regression."""
    was_training = model.training
    model.eval()
    try:
        return _scores(model, x, y, task)
    finally:
        model.train(was_training)


def has_mode_layers(model: nn.Module) -> bool:
    """Does train() / eval() change what the model computes (dropout, batch norm)?"""
    return any(isinstance(m, (nn.Dropout, nn.modules.batchnorm._BatchNorm)) for m in model.modules())


def _scores(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor, task: str) -> tuple[float, float]:
    """evaluate's work, with the model (or its functional forward) already in the mode to evaluate in."""
    with torch.inference_mode():
        outputs = torch.cat([forward(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)])
        loss = float(loss_function(task)(outputs, y))
        if task == "classification":
            metric = float((outputs.argmax(dim=1) == y).float().mean())
        else:
            residual = float(((outputs - y) ** 2).sum())
            total = float(((y - y.mean()) ** 2).sum())
            metric = 1.0 - residual / total if total > 0 else 0.0
    return loss, metric


class _FlatParameters:
    """A model's parameters as views into one contiguous buffer, and their gradients into another.

    Zeroing the gradients is then one op, and so is saving or restoring the weights (early stopping's
    best epoch); the SGD update runs on the one flat tensor. Backward accumulates into the existing
    gradient views in place, so the gradients stay in the buffer. `release()` gives every parameter
    its own storage back (the model outlives the run; nothing else should share a buffer with it).
    """

    def __init__(self, model: nn.Module) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.spans: list[tuple[int, int]] = []
        total = 0
        for p in self.params:
            self.spans.append((total, total + p.numel()))
            total += p.numel()
        dtype = self.params[0].dtype if self.params else torch.float32
        self.data = torch.empty(total, dtype=dtype)
        self.grad = torch.zeros(total, dtype=dtype)
        self.released = False
        with torch.no_grad():
            for p, data, grad in zip(self.params, self.views(self.data), self.views(self.grad), strict=True):
                data.copy_(p)
                p.data = data
                p.grad = grad

    def views(self, buffer: torch.Tensor) -> list[torch.Tensor]:
        """One view per parameter, in its shape, into a buffer laid out like `data`."""
        return [buffer[start:end].view_as(p) for p, (start, end) in zip(self.params, self.spans, strict=True)]

    def release(self) -> None:
        if self.released:
            return
        with torch.no_grad():
            for p in self.params:
                p.data = p.data.clone()
                p.grad = None
        self.released = True


class _Snapshot:
    """A copy of a model's weights (the flat buffer) and buffers, saved and restored in place: one copy each."""

    def __init__(self, flat: _FlatParameters, buffers: list[torch.Tensor]) -> None:
        self._flat, self._buffers = flat, buffers
        self._weights = flat.data.clone()
        self._saved = [b.clone() for b in buffers]

    def save(self) -> None:
        self._weights.copy_(self._flat.data)
        for saved, buffer in zip(self._saved, self._buffers, strict=True):
            saved.copy_(buffer)

    def restore(self) -> None:
        self._flat.data.copy_(self._weights)
        for saved, buffer in zip(self._saved, self._buffers, strict=True):
            buffer.copy_(saved)


def _flat_step(flat: _FlatParameters, hp: Hyperparameters) -> Callable[[], None]:
    """One update by the optimizer `make_optimizer` builds, computing what its step() computes.

    Optimizer.step's per-call bookkeeping (grouping tensors by device and dtype, hooks, profiler
    records, a step counter per parameter) cost about 45 us a step, more than the update itself.
    Adam and AdamW call the fused kernel that torch.optim's fused=True path calls, in one call over
    the per-parameter views; not over the flat tensor, because the kernel's vector body and its
    scalar tail round differently and each parameter's tail must stay a tail. They share one step
    counter (torch.optim keeps one per parameter, all equal). SGD runs the ops of torch.optim's
    foreach path on the one flat tensor. tests/test_training.py checks the histories against the
    textbook loop with torch.optim, bit for bit.
    """
    lr, weight_decay = hp.learning_rate, hp.weight_decay
    if hp.optimizer == "sgd":
        params, grads = flat.data, flat.grad
        momentum: list[torch.Tensor] = []

        def sgd() -> None:
            g = grads if weight_decay == 0 else torch.add(grads, params, alpha=weight_decay)
            if momentum:
                momentum[0].mul_(SGD_MOMENTUM).add_(g)
            else:  # the first step: the buffer starts as the gradient
                momentum.append(g.detach().clone())
            params.add_(momentum[0], alpha=-lr)

        return sgd

    params_list, grads_list = flat.views(flat.data), flat.views(flat.grad)
    exp_avgs, exp_avg_sqs = flat.views(torch.zeros_like(flat.data)), flat.views(torch.zeros_like(flat.data))
    step = torch.zeros((), dtype=torch.float32)  # the dtype torch.optim gives a fused step counter
    steps = [step] * len(params_list)
    fused = torch._fused_adamw_ if hp.optimizer == "adamw" else torch._fused_adam_
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim's defaults, which make_optimizer keeps

    def adam() -> None:
        step.add_(1)
        fused(
            params_list,
            grads_list,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            amsgrad=False,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=weight_decay,
            eps=eps,
            maximize=False,
        )

    return adam


@dataclass
class Trainer:
    """Iterate to train: each step is one epoch and yields its EpochRecord.

    After iteration, `status` says why it ended (completed, early_stopped, diverged, stopped),
    `best_epoch` is the epoch with the lowest validation loss (0 when no epoch had a finite one) and
    `model` holds the weights that are kept: the best epoch's when early stopping is on or the run
    diverged, the last recorded epoch's otherwise (a stop request mid-epoch rolls the unfinished
    epoch's updates back). `kept_epoch` is the epoch whose weights `model` holds: `best_epoch` when
    the best weights were restored, else the last recorded epoch, 0 when no epoch was recorded (the
    initial weights). It is the one truth that diagnosis, charts, the store and the CLI read.

    With `record_dynamics`, a Probe measures the layers after each epoch (and at epoch 0) into
    `dynamics` (core.dynamics): the same losses, a few per cent more time per epoch.
    """

    dataset: Dataset
    hp: Hyperparameters
    stop_event: threading.Event | None = None
    history: History = field(default_factory=History)
    status: str = "pending"
    best_epoch: int = 0
    kept_epoch: int = 0
    model: nn.Module | None = None
    record_dynamics: bool = False
    dynamics: Dynamics | None = None

    def __post_init__(self) -> None:
        configure_threads()
        ds = self.dataset
        with SEED_LOCK:
            torch.manual_seed(self.hp.seed)
            self.model = build_model(ds.n_inputs, ds.n_outputs, self.hp)
        self._x_train, self._y_train = to_tensors(ds.x_train, ds.y_train, ds.task)
        self._x_val, self._y_val = to_tensors(ds.x_val, ds.y_val, ds.task)

    @property
    def stop_requested(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def __iter__(self) -> Iterator[EpochRecord]:
        assert self.model is not None
        model, hp, task = self.model, self.hp, self.dataset.task
        forward = functional_forward(model)
        # Without dropout or batch norm the two modes compute the same: no Module.train() walk per epoch.
        switch_modes = has_mode_layers(model)
        if not switch_modes:
            model.train()
        loss_of = F.cross_entropy if task == "classification" else F.mse_loss
        flat = _FlatParameters(model)
        step = _flat_step(flat, hp)
        zero_grad = flat.grad.zero_
        buffers = list(model.buffers())  # none in build_model's networks; kept with the weights anyway
        last = _Snapshot(flat, buffers)  # the weights at the end of the last recorded epoch (0: the initial ones)
        best: _Snapshot | None = None  # the best epoch's, in storage allocated once (no deepcopy per improvement)
        shuffler = torch.Generator().manual_seed(hp.seed)
        stopper = EarlyStopping(hp.patience)
        stop_event = self.stop_event
        n = len(self._x_train)
        probe = None
        if self.record_dynamics:
            probe = Probe(model, self._x_val, hp.activation, hp.epochs)
            self.dynamics = probe.record
            probe.measure(0)
        self.status = "running"
        try:
            for epoch in range(1, hp.epochs + 1):
                started = time.perf_counter()
                if switch_modes:  # again each epoch: a consumer may have predicted (eval mode) between epochs
                    model.train()
                order = torch.randperm(n, generator=shuffler)
                x_batches = self._x_train[order].split(hp.batch_size)
                y_batches = self._y_train[order].split(hp.batch_size)
                stopped = False
                for x_batch, y_batch in zip(x_batches, y_batches, strict=True):
                    if stop_event is not None and stop_event.is_set():
                        stopped = True
                        break
                    zero_grad()
                    loss_of(forward(x_batch), y_batch).backward()
                    step()
                if stopped or self.stop_requested:  # the unfinished epoch is not recorded, nor kept
                    self.status = "stopped"
                    last.restore()
                    break
                if switch_modes:
                    model.eval()
                train_loss, train_metric = _scores(forward, self._x_train, self._y_train, task)
                val_loss, val_metric = _scores(forward, self._x_val, self._y_val, task)
                if probe is not None:
                    probe.after_epoch(epoch)
                record = EpochRecord(epoch, train_loss, val_loss, train_metric, val_metric, time.perf_counter() - started)
                self.history.append(record)
                last.save()
                if is_diverged(record):
                    self.status = "diverged"
                    yield record
                    break
                if stopper.improved(epoch, val_loss):
                    if best is None:
                        best = _Snapshot(flat, buffers)
                    else:
                        best.save()
                self.best_epoch = stopper.best_epoch
                yield record
                if hp.early_stopping and stopper.should_stop:
                    self.status = "early_stopped"
                    break
            else:
                self.status = "completed"
            if probe is not None and self.history:
                probe.finish(self.history[-1].epoch)
            if best is not None and (hp.early_stopping or self.status == "diverged"):
                best.restore()
                self.kept_epoch = self.best_epoch
            else:
                self.kept_epoch = len(self.history)
        finally:  # also when the consumer abandons the iteration
            flat.release()
            model.eval()

    @property
    def stopped_early(self) -> bool:
        return self.status == "early_stopped"

    def evaluate_test(self) -> tuple[float, float]:
        assert self.model is not None
        x, y = to_tensors(self.dataset.x_test, self.dataset.y_test, self.dataset.task)
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
