"""One job as a worker process runs it: claim the run, train, stream progress into the run store, finish.

Everything a job needs travels in a picklable `JobSpec` (the store by URL, the dataset, the knobs), so
the same function runs in a local process pool or on a Dask worker on another machine. Nothing here
is shared with the web process: progress flows back through the run store, and so do stop requests
(a watcher thread polls the run's `stop_requested` flag and its status, and sets the Event the Trainer
checks between mini-batches: Stop, and a run the store marked failed while it ran -- a restarted
server's `fail_orphans`, a second run of the workspace failed on opening an old database -- both end the
job within a second, and a failed run stays failed).
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from typing import Any

from torch import nn

from core.data.dataset import Dataset
from core.dynamics import Dynamics
from core.experiments.baselines import Baselines, compute_baselines, fingerprint
from core.experiments.fix import fix_run
from core.experiments.learning_curve import learning_curve
from core.experiments.lr_finder import find_learning_rate
from core.experiments.run import run_experiment
from core.experiments.surface import SURFACE_RESOLUTION, boundary_surface
from core.history import EpochRecord
from core.jsonsafe import json_safe
from core.recording import identity, record_result
from core.store.runs import RunStore, open_store
from core.workers.spec import LABELS, JobSpec

LIVE_SURFACE_SECONDS = 2.0  # the page redraws at most every 2 s (ui/live.py REDRAW_SECONDS)
LIVE_SURFACE_FIRST = 0.5  # the first live boundary soon after the start: the student sees it begin
LIVE_SURFACE_RESOLUTION = 40  # 1,600 predictions: a few ms for the default network
LIVE_SURFACE_MIN_RESOLUTION = 24  # a wide, deep network draws its live boundary coarser (see LIVE_SURFACE_BUDGET)
LIVE_SURFACE_BUDGET = 0.02  # seconds one live boundary may take (4 x 512 units: 31 us a point, 1,600 points 50 ms)
LIVE_SURFACE_SHARE = 0.05  # at most 5 % of the training time goes to drawing the live boundary
FINAL_SURFACE_BUDGET = 0.08  # seconds for the finished run's boundary, before the verdict can be shown
PROGRESS_INTERVAL = 0.5  # seconds between progress writes (the page redraws at most once a second)
STOP_POLL_INTERVAL = 0.2  # seconds between stop-flag reads: Stop takes effect well within a second


class StopWatcher:
    """Polls the run in a daemon thread and sets `event` once it should end: a stop is asked, or the store
    no longer calls it running (`RunStore.keep_running`)."""

    def __init__(self, store: RunStore, run_id: str, interval: float = STOP_POLL_INTERVAL) -> None:
        self.event = threading.Event()
        self._done = threading.Event()
        self._store, self._run_id, self._interval = store, run_id, interval
        self._thread = threading.Thread(target=self._watch, name="fitlab-stop-watcher", daemon=True)

    def __enter__(self) -> StopWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._done.wait(self._interval):
            try:
                if not self._store.keep_running(self._run_id):
                    self.event.set()
                    return
            except Exception:  # a database hiccup must not kill the run; the next poll retries
                traceback.print_exc()


class ProgressWriter:
    """Collects per-epoch records and writes them to the store at most every PROGRESS_INTERVAL s."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.rows: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}  # JSON-safe values only (written as they are)
        self._last = 0.0
        self._dynamics: Dynamics | None = None
        self._dynamics_written = -1

    def dynamics(self, record: Dynamics) -> None:
        """The run's per-layer record (growing in place): written with the next flush, live like the loss."""
        self._dynamics = record

    def epoch(self, record: EpochRecord) -> None:
        self.rows.append(json_safe(record.to_dict()))  # cleaned once per record: a flush writes them all as they are
        self.flush(force=False)

    def new_round(self, index: int) -> None:
        self.rows = []
        self.extra["round"] = index
        self._dynamics, self._dynamics_written = None, -1
        self.extra.pop("dynamics", None)

    def flush(self, force: bool = True) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            if self._dynamics is not None and len(self._dynamics.epochs) != self._dynamics_written:
                self._dynamics_written = len(self._dynamics.epochs)
                self.extra["dynamics"] = json_safe(self._dynamics.to_dict())
            self.store.update_progress(self.run_id, self.rows, self.extra, cleaned=True)


class LiveSurface:
    """The decision boundary (or regression surface) of a 2-feature run while it trains, for the page.

    Drawn from the network as it is after an epoch, at a coarse grid, at most every LIVE_SURFACE_SECONDS
    and never more than LIVE_SURFACE_SHARE of the training time (a wide network on a slow machine
    draws it less often): the student sees the boundary move, the run is not slowed down for it."""

    def __init__(self, dataset: Dataset, progress: ProgressWriter) -> None:
        self.dataset, self.progress = dataset, progress
        self.is_2d = dataset.is_2d  # once: the property looks at the data's columns (0.4 ms, 300 epochs)
        self._points: dict[str, Any] | None = None  # the data points, the same in every redraw
        self._next = time.monotonic() + LIVE_SURFACE_FIRST
        self.drawn = 0
        self.resolution = LIVE_SURFACE_RESOLUTION
        self.per_point: float | None = None  # seconds per predicted grid point, the cheapest draw so far

    def __call__(self, record: EpochRecord, model: nn.Module) -> None:
        now = time.monotonic()
        if not self.is_2d or now < self._next:
            return
        drawn_at = self.resolution
        surface = boundary_surface(self.dataset, model, drawn_at, points=self._points)
        surface["epoch"] = record.epoch
        surface = json_safe(surface)
        self._points = surface["points"]
        cost = time.monotonic() - now
        self.drawn += 1
        per_point = cost / drawn_at**2
        self.per_point = per_point if self.per_point is None else min(self.per_point, per_point)
        low, high = LIVE_SURFACE_MIN_RESOLUTION, LIVE_SURFACE_RESOLUTION
        self.resolution = resolution_for(LIVE_SURFACE_BUDGET, self.per_point, low, high)
        self.progress.extra["live_surface"] = surface  # JSON-safe already: each flush writes it as it is
        self._next = time.monotonic() + max(LIVE_SURFACE_SECONDS, cost / LIVE_SURFACE_SHARE)
        self.progress.flush(force=True)

    def final_resolution(self) -> int:
        """The finished run's boundary: SURFACE_RESOLUTION unless this network is slow to evaluate, then as
        fine as FINAL_SURFACE_BUDGET allows (80 x 80 through 4 x 512 units took 0.2 s, all of it between the
        last epoch and the verdict)."""
        if self.per_point is None:
            return SURFACE_RESOLUTION
        return resolution_for(FINAL_SURFACE_BUDGET, self.per_point, LIVE_SURFACE_RESOLUTION, SURFACE_RESOLUTION)


def resolution_for(budget: float, per_point: float, low: int, high: int) -> int:
    """The grid size whose predictions take about `budget` seconds at `per_point` seconds each, in [low, high]."""
    if per_point <= 0:
        return high
    return max(low, min(high, int(math.sqrt(budget / per_point))))


def _baselines(store: RunStore, dataset: Dataset) -> Baselines:
    """Baselines are cached in the store by dataset fingerprint: every worker and server shares them."""
    key = fingerprint(dataset)
    cached = store.get_baselines(key)
    if cached is not None:
        return {name: {k: (math.nan if v is None else float(v)) for k, v in scores.items()} for name, scores in cached.items()}
    value = compute_baselines(dataset)
    store.put_baselines(key, json_safe(value))
    return value


def _train(spec: JobSpec, store: RunStore, stop: threading.Event, progress: ProgressWriter) -> None:
    dataset = spec.dataset
    live = LiveSurface(dataset, progress)
    result = run_experiment(
        dataset,
        spec.hp,
        stop_event=stop,
        on_epoch=progress.epoch,
        on_model=live,
        baselines=_baselines(store, dataset),
        on_dynamics=progress.dynamics,
    )
    record_result(store, spec.run_id, result, dataset, {}, live.final_resolution())


def _run(spec: JobSpec, store: RunStore, stop: threading.Event) -> None:
    dataset, hp = spec.dataset, spec.hp
    progress = ProgressWriter(store, spec.run_id)
    if spec.kind == "train":
        _train(spec, store, stop, progress)
    elif spec.kind == "fix":
        baselines = _baselines(store, dataset)

        def on_epoch(index: int, record: EpochRecord) -> None:
            if progress.extra.get("round") != index:
                progress.new_round(index)
            progress.epoch(record)

        outcome = fix_run(
            dataset,
            hp,
            int(spec.options.get("rounds", 3)),
            stop_event=stop,
            baselines=baselines,
            on_epoch=on_epoch,
            on_model=(live := LiveSurface(dataset, progress)),
            on_dynamics=progress.dynamics,
        )
        record_result(store, spec.run_id, outcome.final, dataset, {"fix": outcome.to_dict()}, live.final_resolution())
    elif spec.kind == "lr_find":
        found = find_learning_rate(dataset, hp)
        store.finish(spec.run_id, status="completed", history=[], extra={"lr_find": found.to_dict()})
    elif spec.kind == "learning_curve":
        curve = learning_curve(dataset, hp, stop_event=stop)
        status = "stopped" if curve.stopped else "completed"
        store.finish(spec.run_id, status=status, history=[], extra={"learning_curve": curve.to_dict()})
    elif spec.kind == "tune":
        # One of the search's jobs (one per worker process): it joins the study and runs trials until the
        # study's slots are taken (core/tuning/study.py, core/store/slots.py); each trial is a run of kind
        # "trial" in this workspace.
        from core.tuning.study import TuneSettings, run_study

        run = store.get(spec.run_id)
        settings = TuneSettings.from_dict(spec.options["settings"])
        tuned = run_study(
            dataset,
            hp,
            settings,
            storage=spec.options["storage"],
            study_name=spec.options["study"],
            store=store,
            workspace=run.workspace if run is not None else None,
            dataset_spec=(run.dataset.get("spec") if run is not None else None),
            stop_event=stop,
        )
        status = "stopped" if stop.is_set() else "completed"
        store.finish(spec.run_id, status=status, history=[], extra={"tune": tuned.to_dict() | {"trials": []}})
    else:
        raise ValueError(f"unknown job kind {spec.kind!r}")


def run_job(spec: JobSpec) -> str:
    """The worker's entry point. Returns the run's final status; errors end up in the store, not here."""
    store = open_store(spec.store_url)
    if not store.claim(spec.run_id, worker=identity()):
        run = store.get(spec.run_id)
        return run.status if run is not None else "missing"
    try:
        with StopWatcher(store, spec.run_id) as watcher:
            _run(spec, store, watcher.event)
    except ValueError as exc:  # settings this job cannot work with: the message is for the user
        store.fail(spec.run_id, f"{LABELS.get(spec.kind, spec.kind)}: {exc}")
    except Exception as exc:
        traceback.print_exc()
        store.fail(spec.run_id, f"{LABELS.get(spec.kind, spec.kind)} failed: {type(exc).__name__}: {exc}")
    run = store.get(spec.run_id)
    return run.status if run is not None else "missing"


def warm_up() -> int:
    """Run once in each new worker: import torch and the training code before the first real job."""
    from core.training.optim import configure_threads

    return configure_threads()
