"""core.workers.executor: real worker processes (spawned) and a real Dask LocalCluster, against a SQLite store."""

from __future__ import annotations

import os
import signal
import socket
import time

import distributed
import pytest

from core.data.dataset import Dataset
from core.hyperparameters import Hyperparameters
from core.store.runs import RunStore, open_store
from core.workers.executor import SERVER_RESTARTED, WORKER_DIED, DaskPool, LocalPool, default_workers
from core.workers.spec import submit_run

WS = "ws-executor-01"
LONG = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=4, early_stopping=False, seed=0)
SHORT = Hyperparameters(hidden_layers=1, width=8, epochs=4, early_stopping=False, seed=0)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return open_store(f"sqlite:///{tmp_path / 'runs.sqlite'}")


def _wait(store: RunStore, run_id: str, until, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.get(run_id)
        if until(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached the state; last: {store.get(run_id)}")


def _ended(run) -> bool:
    return run.status not in ("queued", "running")


def _submit(pool, store: RunStore, dataset: Dataset, hp: Hyperparameters, workspace: str = WS) -> str:
    spec = submit_run(store, workspace=workspace, kind="train", dataset=dataset, hp=hp, spec={"name": "moons"})
    pool.submit(spec)
    return spec.run_id


def test_workers_setting(monkeypatch) -> None:
    monkeypatch.setenv("FITLAB_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("FITLAB_WORKERS", "0")
    with pytest.raises(ValueError, match="at least 1"):
        default_workers()
    monkeypatch.setenv("FITLAB_WORKERS", "many")
    with pytest.raises(ValueError, match="whole number"):
        default_workers()
    monkeypatch.delenv("FITLAB_WORKERS")
    assert default_workers() == (os.cpu_count() or 1)


def test_local_pool_queues_stops_and_survives_a_killed_worker(store: RunStore, tiny_moons: Dataset) -> None:
    pool = LocalPool(store, workers=1)
    try:
        first = _submit(pool, store, tiny_moons, LONG)  # three workspaces: a workspace has one train run at a time
        second = _submit(pool, store, tiny_moons, LONG, "ws-executor-02")
        third = _submit(pool, store, tiny_moons, SHORT, "ws-executor-03")
        _wait(store, first, lambda r: r.status == "running" and len(r.history) >= 1)
        # One worker, busy: the others wait in line, in order.
        assert store.queue_position(second) == 1 and store.queue_position(third) == 2
        assert pool.worker_pids() and os.getpid() not in pool.worker_pids()  # training is not in this process
        store.request_stop(second)  # Stop while queued

        # SIGKILL the worker mid-run: that run fails with a message, the pool replaces the worker.
        pid = pool.running_pid(first)
        assert pid is not None and pid != os.getpid()
        before = len(store.get(first).history)
        os.kill(pid, signal.SIGKILL)
        failed = _wait(store, first, _ended)
        assert failed.status == "failed" and failed.error == WORKER_DIED
        assert len(failed.history) >= before  # the curve so far is kept

        stopped = _wait(store, second, _ended)
        assert stopped.status == "stopped" and stopped.history == []
        done = _wait(store, third, _ended)
        assert done.status == "completed" and len(done.history) == 4
        assert pid not in pool.worker_pids()
    finally:
        pool.shutdown()


def test_stop_while_running_in_a_worker_process(store: RunStore, tiny_moons: Dataset) -> None:
    pool = LocalPool(store, workers=1)
    try:
        run_id = _submit(pool, store, tiny_moons, LONG)
        _wait(store, run_id, lambda r: len(r.history) >= 2)
        asked = time.monotonic()
        store.request_stop(run_id)
        run = _wait(store, run_id, _ended, timeout=10)
        assert run.status == "stopped"
        assert time.monotonic() - asked < 2.0  # poll interval of this test included
        assert 2 <= len(run.history) < 1000
    finally:
        pool.shutdown()


def test_a_restarted_server_marks_its_predecessors_runs_failed(store: RunStore, tiny_moons: Dataset) -> None:
    finished = submit_run(store, workspace=WS, kind="train", dataset=tiny_moons, hp=SHORT)
    store.finish(finished.run_id, status="completed", history=[])
    orphan = store.create_run(
        workspace=WS,
        kind="train",
        dataset={},
        fingerprint="x",
        hyperparameters=SHORT.to_dict(),
        owner=f"{socket.gethostname()}:999999999",  # no such process
    )
    pool = LocalPool(store, workers=1)
    try:
        assert store.get(orphan).status == "failed" and store.get(orphan).error == SERVER_RESTARTED
        assert store.get(finished.run_id).status == "completed"  # a finished run is never touched
    finally:
        pool.shutdown()


def test_dask_local_cluster_runs_and_stops_jobs(store: RunStore, tiny_moons: Dataset) -> None:
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        pool = DaskPool(store, client)
        assert "Dask cluster at tcp://" in pool.description
        done = _submit(pool, store, tiny_moons, SHORT)
        run = _wait(store, done, _ended)
        assert run.status == "completed" and len(run.history) == 4
        assert run.worker is not None and not run.worker.endswith(f":{os.getpid()}")  # trained on a Dask worker
        long = _submit(pool, store, tiny_moons, LONG)
        _wait(store, long, lambda r: len(r.history) >= 1)
        store.request_stop(long)
        assert _wait(store, long, _ended, timeout=10).status == "stopped"
