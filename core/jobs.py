"""A training run in a background thread: what the dashboard starts, polls and stops.

The worker never touches the UI. It appends each EpochRecord to a list under a lock and watches a
stop Event between batches, so a stop request takes effect within one mini-batch.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from core.baselines import Baselines
from core.data import Dataset
from core.experiment import RunResult, run_experiment
from core.hyperparameters import Hyperparameters
from core.training import EpochRecord


@dataclass
class TrainingJob:
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
