"""Where jobs run: one seam, two back ends.

- `LocalPool` (the default): N worker processes on this machine (N from FITLAB_WORKERS, default the
  core count). Each worker is its own single-process `concurrent.futures.ProcessPoolExecutor`, so a
  worker that dies (killed, out of memory) breaks only the job it was running: that run is marked
  failed with a message, the worker is replaced, and the queue goes on. Jobs wait in a FIFO queue
  here until a worker is free; the run store says which are queued and in what order. The workers end
  with the server, however it ends (core.workers.entry.watch_parent): a server killed with kill -9 leaves
  no worker behind, and its successor fails the runs it left queued or running (`fail_orphans`). A
  worker also ends a job whose run the store no longer calls running (core.workers.jobs.StopWatcher).
- `DaskPool`: with FITLAB_DASK_SCHEDULER=tcp://host:8786 the same jobs go to a Dask distributed
  cluster (its Client is a concurrent.futures executor), for a class bigger than one machine. Every
  Dask worker needs this repository importable and the same run store URL reachable.

Either way the web process only submits and reads the store: it never trains.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import traceback
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from core.store.runs import RunStore, local_process_alive
from core.workers.entry import run_job, warm_up, watch_parent
from core.workers.spec import LABELS, JobSpec

WORKER_DIED = (
    "the worker process running this job ended unexpectedly (it was killed or ran out of memory); "
    "the run is kept as far as it got: press Train to start again"
)
SERVER_RESTARTED = "the server restarted while this run was queued or running; press Train to start it again"


def default_workers() -> int:
    value = os.environ.get("FITLAB_WORKERS", "").strip()
    if value:
        try:
            workers = int(value)
        except ValueError:
            raise ValueError(f"FITLAB_WORKERS must be a whole number of worker processes, got {value!r}") from None
        if workers < 1:
            raise ValueError(f"FITLAB_WORKERS must be at least 1, got {workers}")
        return workers
    return os.cpu_count() or 1


class Executor(Protocol):
    description: str

    def submit(self, spec: JobSpec) -> None: ...

    def shutdown(self) -> None: ...


class _Slot:
    """One worker process (a one-process pool) and the job it runs, if any."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.pool = self._start()
        self.spec: JobSpec | None = None

    def _start(self) -> ProcessPoolExecutor:
        """A one-process pool whose worker ends when this process does (watch_parent), warming up."""
        pool = ProcessPoolExecutor(max_workers=1, mp_context=self.context, initializer=watch_parent, initargs=(os.getpid(),))
        pool.submit(warm_up)  # import torch now, not when the first user presses Train
        return pool

    def pid(self) -> int | None:
        processes = getattr(self.pool, "_processes", None) or {}
        return next(iter(processes), None)

    def replace(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._start()


class LocalPool:
    """A bounded set of worker processes with a FIFO queue in front of them."""

    def __init__(self, store: RunStore, workers: int | None = None) -> None:
        self.store = store
        self.workers = workers or default_workers()
        self.description = f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"
        self._lock = threading.Lock()
        self._queue: deque[JobSpec] = deque()
        context = multiprocessing.get_context("spawn")  # no fork: the web server has threads
        self._slots = [_Slot(context) for _ in range(self.workers)]
        self._closed = False
        store.fail_orphans(SERVER_RESTARTED, local_process_alive)

    def submit(self, spec: JobSpec) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            self._queue.append(spec)
            self._dispatch()

    def _dispatch(self) -> None:  # with the lock held
        for slot in self._slots:
            if not self._queue:
                return
            if slot.spec is None:
                spec = self._queue.popleft()
                slot.spec = spec
                future: Future[str] = slot.pool.submit(run_job, spec)
                future.add_done_callback(functools.partial(self._finished, slot, spec))

    def _finished(self, slot: _Slot, spec: JobSpec, future: Future[str]) -> None:
        error = future.exception() if not future.cancelled() else None
        with self._lock:
            if isinstance(error, BrokenProcessPool) and not self._closed:
                slot.replace()
            slot.spec = None
            if not self._closed:
                self._dispatch()
        if isinstance(error, BrokenProcessPool):
            self.store.fail(spec.run_id, WORKER_DIED)
        elif error is not None:  # run_job records its own errors; this is a failure around it
            traceback.print_exception(error)
            self.store.fail(spec.run_id, f"{LABELS.get(spec.kind, spec.kind)} failed: {type(error).__name__}: {error}")

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (for tests and the benchmark)."""
        return [pid for slot in self._slots if (pid := slot.pid()) is not None]

    def running_pid(self, run_id: str) -> int | None:
        """The process running this run right now, if any."""
        with self._lock:
            for slot in self._slots:
                if slot.spec is not None and slot.spec.run_id == run_id:
                    return slot.pid()
        return None

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), deque()
        for spec in queued:
            self.store.fail(spec.run_id, SERVER_RESTARTED)
        for slot in self._slots:
            slot.pool.shutdown(wait=False, cancel_futures=True)


class DaskPool:
    """The same jobs on a Dask distributed cluster; Dask's scheduler does the queueing."""

    def __init__(self, store: RunStore, client: Any) -> None:
        self.store = store
        self.client = client
        self.description = f"Dask cluster at {client.scheduler.address}"
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, store: RunStore, address: str) -> DaskPool:
        from distributed import Client

        try:
            client = Client(address, timeout=10)
        except OSError as exc:
            raise ValueError(f"could not reach the Dask scheduler at {address}: {exc}") from None
        return cls(store, client)

    def submit(self, spec: JobSpec) -> None:
        future = self.client.submit(run_job, spec, key=f"fitlab-{spec.kind}-{spec.run_id}", pure=False, retries=0)
        with self._lock:
            self._futures[spec.run_id] = future  # Dask forgets a task whose future is dropped
        future.add_done_callback(lambda done, spec=spec: self._finished(spec, done))

    def _finished(self, spec: JobSpec, future: Any) -> None:
        with self._lock:
            self._futures.pop(spec.run_id, None)
        if future.status == "error":
            error = future.exception()
            name = type(error).__name__
            message = WORKER_DIED if name == "KilledWorker" else f"{LABELS.get(spec.kind, spec.kind)} failed: {name}: {error}"
            self.store.fail(spec.run_id, message)
        elif future.status == "cancelled":
            self.store.fail(spec.run_id, "the Dask cluster cancelled this job")

    def shutdown(self) -> None:
        self.client.close()


def make_executor(store: RunStore) -> Executor:
    """The executor the settings ask for: Dask when FITLAB_DASK_SCHEDULER is set, local processes otherwise."""
    address = os.environ.get("FITLAB_DASK_SCHEDULER", "").strip()
    if address:
        return DaskPool.connect(store, address)
    return LocalPool(store)
