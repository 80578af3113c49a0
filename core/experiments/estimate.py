"""How long a training run will take, before it starts: a cost model calibrated on this machine.

One epoch of core.training.trainer.Trainer costs

    steps × (per_step + per_layer × linear layers)        the op dispatch of each optimizer step
    + per_mac × weights × (4 × train rows + val rows)     the arithmetic: forward + backward (~3 passes) on the
                                                          training rows, then the evaluation of train and val
    + per_epoch                                           the shuffle, the evaluation's dispatch, the record

with steps = ceil(train rows / batch size). The four constants are measured here, once per process, by a
short probe of the real Trainer on four small networks chosen so that each term dominates one of them
(batch 1 on a narrow network: the per-step overhead; a wide network at a large batch: the arithmetic),
then fitted by least squares. The probe takes about 0.3-0.7 s, in a process of its own; its result is
cached (`calibration()`).

An estimate is for the longest run the knobs allow (every epoch): early stopping may end it sooner.
It covers the training loop, not the job around it (queueing for a worker, the baselines fitted once per
dataset, the test evaluation). bench/check_estimate.py measures how close it lands.
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from core.data.builtin import load_builtin
from core.data.dataset import Dataset
from core.hyperparameters import Hyperparameters
from core.training.shapes import parameter_counts

WARN_SECONDS = 60.0  # from here on the page warns: a minute of waiting in a lesson is long
PROBE_EPOCHS = 3  # per probe network; the first is a warm-up and is not used
# (hidden layers, width, batch size, samples): the network, its batch and the rows of each probe.
PROBES: tuple[tuple[int, int, int, int], ...] = (
    (1, 4, 1, 200),  # 120 steps of almost nothing: per-step cost, few layers
    (5, 4, 1, 200),  # the same with 6 linear layers: per-layer cost of a step
    (2, 128, 256, 1000),  # 3 steps on 600 rows of a 17k-weight network: the arithmetic
    (1, 4, 1024, 1000),  # 1 step of almost nothing: the per-epoch cost
)


@dataclass(frozen=True)
class Calibration:
    """Seconds per unit of each term of the cost model, measured on this machine."""

    per_step: float
    per_layer: float
    per_mac: float
    per_epoch: float
    probe_seconds: float  # how long the probe took

    def epoch_seconds(self, train_rows: int, val_rows: int, n_inputs: int, n_outputs: int, hp: Hyperparameters) -> float:
        steps, layers, macs = _terms(train_rows, val_rows, n_inputs, n_outputs, hp)
        return steps * self.per_step + steps * layers * self.per_layer + macs * self.per_mac + self.per_epoch


@dataclass(frozen=True)
class Estimate:
    seconds: float  # the whole run, every epoch
    per_epoch: float
    epochs: int
    text: str  # one short sentence for a caption
    warning: str | None  # a sentence when the run would take WARN_SECONDS or more, else None

    @property
    def slow(self) -> bool:
        return self.warning is not None


def _terms(train_rows: int, val_rows: int, n_inputs: int, n_outputs: int, hp: Hyperparameters) -> tuple[int, int, float]:
    steps = math.ceil(train_rows / hp.batch_size) if train_rows else 0
    layers = hp.hidden_layers + 1
    weights = sum(r.weights for r in parameter_counts(n_inputs, n_outputs, hp))
    return steps, layers, float(weights) * (4 * train_rows + val_rows)


def _probe_epoch_seconds(dataset: Dataset, hp: Hyperparameters) -> float:
    from core.training.trainer import Trainer  # torch: imported when a probe runs, not with this module

    trainer = Trainer(dataset, hp)
    seconds = [record.seconds for record in trainer]
    return statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]


def measure_machine() -> Calibration:
    """Run the probe (about 0.3-0.7 s) and fit the cost model's constants."""
    started = time.perf_counter()
    rows, seen = [], []
    for hidden_layers, width, batch_size, samples in PROBES:
        dataset = load_builtin("moons", samples=samples, noise=0.2, seed=0)
        hp = Hyperparameters(
            hidden_layers=hidden_layers, width=width, batch_size=batch_size, epochs=PROBE_EPOCHS, early_stopping=False
        )
        steps, layers, macs = _terms(len(dataset.y_train), len(dataset.y_val), dataset.n_inputs, dataset.n_outputs, hp)
        rows.append([steps, steps * layers, macs, 1.0])
        seen.append(_probe_epoch_seconds(dataset, hp))
    a, b = np.array(rows), np.array(seen)
    scale = a.max(axis=0)  # columns of very different sizes: fit on a scaled matrix
    coefficients = _nonnegative_least_squares(a / scale, b) / scale
    per_step, per_layer, per_mac, per_epoch = (float(c) for c in coefficients)
    return Calibration(per_step, per_layer, per_mac, per_epoch, time.perf_counter() - started)


def _nonnegative_least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with every coefficient >= 0 (a cost is never negative): drop negative ones and refit."""
    free = np.ones(a.shape[1], dtype=bool)
    solution = np.zeros(a.shape[1])
    for _ in range(a.shape[1]):
        fitted, *_ = np.linalg.lstsq(a[:, free], b, rcond=None)
        solution[:] = 0.0
        solution[free] = fitted
        if (fitted >= 0).all():
            break
        free[np.flatnonzero(free)[fitted < 0]] = False
    return np.maximum(solution, 0.0)


_LOCK = threading.Lock()
_CALIBRATION: Calibration | None = None


def calibration() -> Calibration:
    """This process's calibration: measured on first use, then kept.

    The probe trains, so it runs in a short-lived process of its own: the process asking (the web
    server) never imports torch. That process's start adds 1.5-2 s, once per server (3.2-3.5 s in all
    against 1.4-1.5 s in-process, the same constants). It is spawned: a script that calls this needs the
    usual `if __name__ == "__main__":` guard (app.py has it)."""
    global _CALIBRATION
    with _LOCK:
        if _CALIBRATION is None:
            context = multiprocessing.get_context("spawn")  # no fork: the web server has threads
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                _CALIBRATION = pool.submit(measure_machine).result()
        return _CALIBRATION


def duration_words(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def estimate_seconds(dataset: Dataset, hp: Hyperparameters, calibrated: Calibration | None = None) -> Estimate:
    """How long training `hp` on `dataset` will take here, every epoch run (early stopping may end it sooner)."""
    cal = calibrated or calibration()
    per_epoch = cal.epoch_seconds(len(dataset.y_train), len(dataset.y_val), dataset.n_inputs, dataset.n_outputs, hp)
    total = per_epoch * hp.epochs
    sooner = "; early stopping may end it sooner" if hp.early_stopping else ""
    epochs = f"{hp.epochs} epoch{'s' if hp.epochs != 1 else ''}"
    text = f"Training will take {duration_words(total)} ({epochs} × {per_epoch:.2g} s{sooner})."
    warning = None
    if total >= WARN_SECONDS:
        warning = (
            f"This run would take {duration_words(total)} on this machine. Fewer epochs, fewer rows, a larger batch "
            "size or a smaller network would be faster."
        )
    return Estimate(total, per_epoch, hp.epochs, text, warning)
