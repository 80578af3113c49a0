"""A training run in a background thread: what the dashboard starts, polls and stops.

The worker never touches the UI. It appends each EpochRecord to a list under a lock and watches a
stop Event between batches, so a stop request takes effect within one mini-batch.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.baselines import Baselines
from core.data import Dataset
from core.experiment import RunResult, run_experiment
from core.fix import FixResult, fix_run
from core.hyperparameters import Hyperparameters
from core.training import EpochRecord


class _Worker:
    """The thread lifecycle shared by jobs and tasks: a stop Event and running/done flags."""

    _stop: threading.Event
    _thread: threading.Thread | None

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done


@dataclass
class TrainingJob(_Worker):
    dataset: Dataset
    hp: Hyperparameters
    baselines: Baselines | None = None
    records: list[EpochRecord] = field(default_factory=list)
    result: RunResult | None = None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> TrainingJob:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._work, name="fitlab-training", daemon=True)
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self.result = run_experiment(
                self.dataset, self.hp, stop_event=self._stop, on_epoch=self._publish, baselines=self.baselines
            )
        except Exception as exc:  # shown to the user as a message, never a traceback in the page
            self.error = f"training failed: {exc}"
            traceback.print_exc()
        finally:
            self.finished = time.monotonic()

    def _publish(self, record: EpochRecord) -> None:
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[EpochRecord]:
        with self._lock:
            return list(self.records)


@dataclass
class FixJob(TrainingJob):
    """Fix it for me in the background: `records` hold the current round's epochs."""

    rounds: int = 3
    fix: FixResult | None = None
    current_round: int = 0

    def _work(self) -> None:
        try:
            self.fix = fix_run(
                self.dataset, self.hp, self.rounds, stop_event=self._stop, baselines=self.baselines, on_epoch=self._publish_round
            )
            self.result = self.fix.final
        except Exception as exc:  # shown to the user as a message, never a traceback in the page
            self.error = f"Fix it for me failed: {exc}"
            traceback.print_exc()
        finally:
            self.finished = time.monotonic()

    def _publish_round(self, index: int, record: EpochRecord) -> None:
        with self._lock:
            if index != self.current_round:
                self.current_round, self.records = index, []
            self.records.append(record)


@dataclass
class BackgroundTask(_Worker):
    """Any longer piece of work (LR finder, learning curve) off the page script; same contract as jobs."""

    work: Callable[[threading.Event], Any]
    label: str = "task"
    result: Any = None
    error: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> BackgroundTask:
        self._thread = threading.Thread(target=self._run, name=f"fitlab-{self.label}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self.work(self._stop)
        except ValueError as exc:  # bad settings for this task: a message for the user
            self.error = f"{self.label}: {exc}"
        except Exception as exc:
            self.error = f"{self.label} failed: {exc}"
            traceback.print_exc()
