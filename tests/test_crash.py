"""A server killed with kill -9 (or by the OOM killer) leaves no worker behind, and a restart recovers (issue 20).

- The real thing is tests/browser/test_crash_server.py (`streamlit run app.py`, Train in Chromium, SIGKILL).
- The same without a browser: a process that makes its executor as the server does
  (core.workers.executor.make_executor, which ui/session.py calls) and submits a long run; SIGKILL; the
  same promises, with the restart as a new LocalPool on the same store (which calls fail_orphans).
- A worker ends a run that the store marks failed while it trains (a restarted server's fail_orphans).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from core.data.dataset import Dataset
from core.hyperparameters import Hyperparameters
from core.store.runs import RunStore, StoredRun, new_workspace_id, open_store
from core.workers.entry import SERVER_GONE
from core.workers.executor import SERVER_RESTARTED, LocalPool
from core.workers.spec import submit_run

ROOT = Path(__file__).resolve().parents[1]
GONE_WITHIN = 10.0  # seconds from the server's SIGKILL until none of its processes is left
LONG = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=4, early_stopping=False, seed=0)
SHORT = Hyperparameters(hidden_layers=1, width=8, epochs=4, early_stopping=False, seed=0)
# The server's own code path: make_executor (FITLAB_WORKERS=2 local workers), a queued run, a worker trains it.
SERVER = """
import json, sys, time
from core.data.builtin import load_builtin
from core.hyperparameters import Hyperparameters
from core.store.runs import open_store
from core.workers.executor import make_executor
from core.workers.spec import submit_run

LONG = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=4, early_stopping=False, seed=0)

if __name__ == "__main__":
    url, workspace = sys.argv[1:3]
    store = open_store(url)
    pool = make_executor(store)
    data = load_builtin("moons", samples=200, noise=0.2, seed=0)
    spec = submit_run(store, workspace=workspace, kind="train", dataset=data, hp=LONG, spec={"name": "moons"})
    pool.submit(spec)
    while not store.get(spec.run_id).history:
        time.sleep(0.05)
    print(json.dumps({"run": spec.run_id, "workers": pool.worker_pids()}), flush=True)
    time.sleep(600)
"""


def wait_for(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{message} (waited {timeout:g} s)")


def alive(process: psutil.Process) -> bool:
    """Still there and not a zombie (an exited orphan that its new parent has not reaped yet)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def kill_and_time(process: subprocess.Popen[Any], descendants: list[psutil.Process]) -> float:
    """SIGKILL the server (nothing of it runs: no atexit, no finally); seconds until none of `descendants` is left."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    killed = time.monotonic()
    deadline = killed + GONE_WITHIN
    while any(alive(p) for p in descendants) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [f"{p.pid} {cmdline(p)[:120]}" for p in descendants if alive(p)]
    assert not left, f"{len(left)} process(es) of the killed server still running after {GONE_WITHIN:g} s: {left}"
    return time.monotonic() - killed


def end_leftovers(descendants: list[psutil.Process]) -> None:
    """After a failed check: end what this test started, by pid, so that it does not outlive the test."""
    for process in descendants:
        if alive(process):
            process.kill()


def stored(store: RunStore, run_id: str) -> StoredRun:
    run = store.get(run_id)
    assert run is not None
    return run


# ---------------------------------------------------------------- a worker ends a run the store failed


def test_a_worker_ends_a_run_that_the_store_marks_failed(tmp_path: Path, tiny_moons: Dataset) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    pool = LocalPool(store, workers=1)
    try:
        ws = new_workspace_id()
        long = submit_run(store, workspace=ws, kind="train", dataset=tiny_moons, hp=LONG)
        pool.submit(long)
        wait_for(lambda: len(stored(store, long.run_id).history) >= 2, 90, "the long run never trained two epochs")
        failed_at = time.monotonic()
        assert store.fail(long.run_id, SERVER_RESTARTED)  # as a restarted server's fail_orphans does
        wait_for(lambda: pool.running_pid(long.run_id) is None, 5, "the worker kept training a failed run")
        freed = time.monotonic() - failed_at
        assert freed < 2.0, f"the worker took {freed:.2f} s to end a failed run"
        run = stored(store, long.run_id)
        assert run.status == "failed" and run.error == SERVER_RESTARTED  # the worker's ending did not overwrite it
        assert len(run.history) < LONG.epochs
        short = submit_run(store, workspace=ws, kind="train", dataset=tiny_moons, hp=SHORT)  # the workspace is free
        pool.submit(short)
        done = wait_for(lambda: (r := stored(store, short.run_id)).status not in ("queued", "running") and r, 90, "no end")
        assert done.status == "completed" and len(done.history) == SHORT.epochs
    finally:
        pool.shutdown()


# ---------------------------------------------------------------- the executor's process, killed


def test_a_killed_server_process_leaves_no_worker_and_a_restart_recovers(tmp_path: Path, tiny_moons: Dataset) -> None:
    url, ws = f"sqlite:///{tmp_path / 'runs.sqlite'}", new_workspace_id()
    env = os.environ | {"FITLAB_WORKERS": "2", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, url, ws], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    descendants: list[psutil.Process] = []
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line, "the server process ended before its run started"
        started = json.loads(line)
        descendants = psutil.Process(server.pid).children(recursive=True)
        assert len(started["workers"]) == 2 and set(started["workers"]) <= {p.pid for p in descendants}
        took = kill_and_time(server, descendants)
        print(f"no process of the killed server left {took:.2f} s after its SIGKILL ({len(descendants)} processes)")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        end_leftovers(descendants)

    store = open_store(url)
    pool = LocalPool(store, workers=1)  # the restart: the same store, fail_orphans, fresh workers
    try:
        run = stored(store, started["run"])
        assert run.status == "failed" and run.error in (SERVER_GONE, SERVER_RESTARTED) and run.history
        fresh = submit_run(store, workspace=ws, kind="train", dataset=tiny_moons, hp=SHORT)
        pool.submit(fresh)
        done = wait_for(lambda: (r := stored(store, fresh.run_id)).status not in ("queued", "running") and r, 90, "no end")
        assert done.status == "completed" and len(done.history) == SHORT.epochs
    finally:
        pool.shutdown()
