"""The store keeps "one Train-page job per workspace" itself (issue 20): on a SQLite file and on a real
PostgreSQL server (tests/postgres.py), against submissions racing in real processes and threads.

At most one train or fix run is queued or running in a workspace (core.store.runs.ONE_JOB_KINDS); a
second submission raises WorkspaceBusy, whose message the Train page shows. The evidence jobs and a
search's jobs and trials are not covered: they run beside a training run, several at once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.data.builtin import load_builtin
from core.hyperparameters import Hyperparameters
from core.recording import open_run
from core.store import runs as store_module
from core.store.runs import BUSY, DUPLICATE, ONE_JOB_INDEX, ORPHANED, RunStore, WorkspaceBusy
from core.workers.spec import submit_run

WS = "Zq3-invariant_01"
OTHER_WS = "Zq3-invariant_02"
HOST = socket.gethostname()
HP = Hyperparameters(hidden_layers=1, width=8, epochs=3, seed=0)
RACERS = 8
ROOT = Path(__file__).resolve().parents[1]


def _submit(url: str, kind: str) -> tuple[str, str]:
    """One press of Train (or Fix it for me) as the page makes it: ("ok", run id) or ("busy", message)."""
    store = RunStore(url)
    try:
        spec = submit_run(store, workspace=WS, kind=kind, dataset=_moons(), hp=HP, spec={"name": "moons"})
        return "ok", spec.run_id
    except WorkspaceBusy as exc:
        assert exc.workspace == WS and exc.run_id is not None
        return "busy", str(exc)
    finally:
        store.close()


def _moons() -> Any:
    return load_builtin("moons", samples=100, noise=0.2, seed=0)


RACER = """
import json, os, socket, sys
from core.store.runs import RunStore, WorkspaceBusy

url, workspace, kind = sys.argv[1:4]
store = RunStore(url)
store.active_run(workspace)  # connect (and open the database) before the start line: the race is the submissions
print("ready", flush=True)
sys.stdin.readline()
try:
    run_id = store.create_run(
        workspace=workspace, kind=kind, dataset={}, fingerprint="fp", hyperparameters={},
        owner=f"{socket.gethostname()}:{os.getpid()}",
    )
    print(json.dumps(["ok", run_id]), flush=True)
except WorkspaceBusy as exc:
    print(json.dumps(["busy", str(exc)]), flush=True)
sys.stdin.readline()  # alive until every racer is done: a run whose submitter is gone is fair game
"""


def _race_in_processes(url: str, kinds: list[str], workspace: str = WS) -> list[tuple[str, str]]:
    """Each submission in a process of its own (only the store imported: they start fast), all let go at once."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    pipes: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([sys.executable, "-c", RACER, url, workspace, kind], cwd=ROOT, env=env, **pipes) for kind in kinds]
    try:
        assert [proc.stdout.readline().strip() for proc in procs] == ["ready"] * len(procs)  # type: ignore[union-attr]
        for proc in procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        lines = [proc.stdout.readline() for proc in procs]  # type: ignore[union-attr]
        outcomes = [tuple(json.loads(line)) if line else ("error", "a racer died") for line in lines]
    finally:
        for proc in procs:
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(timeout=30)
    return outcomes  # type: ignore[return-value]


def _race_in_threads(url: str, kinds: list[str]) -> list[tuple[str, str]]:
    barrier, results, lock = threading.Barrier(len(kinds)), [], threading.Lock()

    def press(kind: str) -> None:
        barrier.wait(timeout=60)
        outcome = _submit(url, kind)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=press, args=(kind,)) for kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


@pytest.mark.parametrize("how", ["processes", "threads"])
def test_racing_submissions_start_exactly_one_job(store_url: str, how: str) -> None:
    kinds = ["train", "fix"] * (RACERS // 2)  # Train and Fix it for me share the workspace's one job
    RunStore(store_url).active_run(WS)  # the database exists before the racers open it
    race = _race_in_processes if how == "processes" else _race_in_threads
    outcomes = race(store_url, kinds)
    errors = [value for status, value in outcomes if status == "error"]
    assert not errors, errors[0]
    assert Counter(status for status, _ in outcomes) == {"ok": 1, "busy": RACERS - 1}, outcomes
    assert {value for status, value in outcomes if status == "busy"} == {BUSY}
    winner = next(value for status, value in outcomes if status == "ok")
    store = RunStore(store_url)
    every = store.list_runs(WS)
    assert [run.id for run in every] == [winner]  # a refused submission leaves no row behind
    active = store.active_run(WS)
    assert active is not None and active.id == winner and active.status == "queued"
    store.close()


def test_after_the_active_run_ends_a_new_one_can_be_submitted(store_url: str) -> None:
    store = RunStore(store_url)
    data = _moons()
    first = submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    with pytest.raises(WorkspaceBusy, match="already has a run queued or running: wait for it or stop it"):
        submit_run(store, workspace=WS, kind="fix", dataset=data, hp=HP)
    other = submit_run(store, workspace=OTHER_WS, kind="train", dataset=data, hp=HP)  # another workspace: its own job
    assert store.claim(first.run_id, "w:1")
    with pytest.raises(WorkspaceBusy):  # running is as busy as queued
        submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    store.finish(first.run_id, status="completed", history=[])
    second = submit_run(store, workspace=WS, kind="fix", dataset=data, hp=HP)  # finished: the workspace is free
    store.request_stop(second.run_id)
    assert store.claim(second.run_id, "w:1") is False  # stopped while queued
    third = submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    assert store.fail(third.run_id, "the worker died")
    fourth = submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    assert store.active_run(WS).id == fourth.run_id  # type: ignore[union-attr]
    assert store.active_run(OTHER_WS).id == other.run_id  # type: ignore[union-attr]
    store.close()


def test_evidence_jobs_and_a_search_run_beside_the_training_run(store_url: str) -> None:
    """What the pages allow at once: a learning-rate finder and a learning curve beside a training run, a
    search's several tune jobs, each running trials (kind "trial", claimed at once) -- all in one workspace."""
    store = RunStore(store_url)
    data = _moons()
    train = submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    others = [submit_run(store, workspace=WS, kind=kind, dataset=data, hp=HP) for kind in ("lr_find", "learning_curve")]
    tune = [submit_run(store, workspace=WS, kind="tune", dataset=data, hp=HP) for _ in range(3)]
    for job in tune:
        assert store.claim(job.run_id, "w:1")
    trials = [open_run(store, workspace=WS, kind="trial", dataset=data, hp=HP, claim=True) for _ in range(3)]
    active = {run.id for run in store.active_runs()}
    assert active == {train.run_id, *(o.run_id for o in others), *(t.run_id for t in tune), *trials}
    assert all(store.get(trial).status == "running" for trial in trials)  # type: ignore[union-attr]
    store.close()


def test_a_run_left_by_a_dead_process_of_this_host_does_not_keep_the_workspace_busy(store_url: str) -> None:
    store = RunStore(store_url)
    data = _moons()
    gone = store.create_run(  # a CLI run killed with kill -9: its process is gone, its run still "running"
        workspace=WS, kind="train", dataset={}, fingerprint="x", hyperparameters={}, owner=f"{HOST}:999999999"
    )
    assert store.claim(gone, f"{HOST}:999999999")
    fresh = submit_run(store, workspace=WS, kind="train", dataset=data, hp=HP)
    assert store.get(gone).status == "failed" and store.get(gone).error == ORPHANED  # type: ignore[union-attr]
    assert store.active_run(WS).id == fresh.run_id  # type: ignore[union-attr]

    elsewhere = store.create_run(  # another machine's process: not ours to judge, so the workspace stays busy
        workspace=OTHER_WS, kind="fix", dataset={}, fingerprint="x", hyperparameters={}, owner=f"another-{HOST}:999999999"
    )
    with pytest.raises(WorkspaceBusy) as refused:
        submit_run(store, workspace=OTHER_WS, kind="train", dataset=data, hp=HP)
    assert refused.value.run_id == elsewhere
    assert store.get(elsewhere).status == "queued"  # type: ignore[union-attr]
    store.close()


def _old_database(url: str) -> None:
    """The runs table as the store made it before the one-job index, holding what that allowed: two train
    runs and a fix run active at once in one workspace."""
    engine = sa.create_engine(url)
    store_module.metadata.create_all(engine)  # the tables, without the index (it is not part of the metadata)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {ONE_JOB_INDEX}"))
        for table in reversed(store_module.metadata.sorted_tables):
            conn.execute(table.delete())
        rows = [
            ("a-queued-older", WS, "train", "queued", 1.0),
            ("b-running", WS, "fix", "running", 2.0),
            ("c-queued-newer", WS, "train", "queued", 3.0),
            ("d-lr-find", WS, "lr_find", "running", 4.0),
            ("e-other-ws", OTHER_WS, "train", "queued", 5.0),
            ("f-done", WS, "train", "completed", 0.5),
        ]
        for run_id, workspace, kind, status, created in rows:
            conn.execute(
                store_module.runs.insert().values(
                    id=run_id, workspace=workspace, kind=kind, status=status, created=created, updated=created,
                    owner=f"{HOST}:1", stop_requested=False, history=[],
                )
            )  # fmt: skip
        assert ONE_JOB_INDEX not in {index["name"] for index in sa.inspect(conn).get_indexes("runs")}
    engine.dispose()


def test_an_old_database_gets_the_index_on_open(store_url: str) -> None:
    _old_database(store_url)
    store = RunStore(store_url)
    status = {run.id: (run.status, run.error) for run in [*store.list_runs(WS), *store.list_runs(OTHER_WS)]}
    assert ONE_JOB_INDEX in {index["name"] for index in sa.inspect(store.engine).get_indexes("runs")}
    assert status == {
        "a-queued-older": ("failed", DUPLICATE),  # the running one is kept, the others of its workspace failed
        "b-running": ("running", None),
        "c-queued-newer": ("failed", DUPLICATE),
        "d-lr-find": ("running", None),  # not a train/fix run: untouched
        "e-other-ws": ("queued", None),  # alone in its workspace
        "f-done": ("completed", None),
    }
    with pytest.raises(WorkspaceBusy):
        submit_run(store, workspace=WS, kind="train", dataset=_moons(), hp=HP)
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:  # the database itself refuses it, whoever writes
        conn.execute(
            store_module.runs.insert().values(
                id="g-sneaked", workspace=WS, kind="train", status="queued", created=9.0, updated=9.0,
                owner=f"{HOST}:1", stop_requested=False, history=[],
            )
        )  # fmt: skip
    store.close()
    reopened = RunStore(store_url)  # opening again finds the index and changes nothing
    assert reopened.get("b-running").status == "running"  # type: ignore[union-attr]
    reopened.close()


def test_an_old_database_opened_by_racing_processes_gets_one_index_and_keeps_it(store_url: str) -> None:
    """Every process of a restarted server (the server, its workers) may be the first to open an old database."""
    _old_database(store_url)
    outcomes = _race_in_processes(store_url, ["train"] * 4, workspace="Zq3-invariant_03")
    assert sorted(status for status, _ in outcomes) == ["busy", "busy", "busy", "ok"], outcomes
    store = RunStore(store_url)
    assert [run.status for run in store.list_runs(WS, kinds=("train", "fix"))] == ["failed", "running", "failed", "completed"]
    store.close()
