"""core.store.runs: the run store, on a SQLite file and on a real PostgreSQL server (tests/postgres.py).

The races run in real processes (multiprocessing spawn), as the web server and its workers do.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import pickle
import re
import socket
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from core.store import runs as store_module
from core.store.runs import RunStore, StoredRun, StoreError, default_url, new_workspace_id, open_store, valid_workspace_id

WS_A = "ws-aaaa-0001"
WS_B = "ws-bbbb-0002"
HOST = socket.gethostname()
RUN_FIELDS = {c.name for c in store_module.runs.columns} - {"model_state"}


@pytest.fixture
def store(store_url):
    opened = RunStore(store_url)
    yield opened
    opened.close()


def _new(store: RunStore, workspace: str = WS_A, kind: str = "train", owner: str = f"{HOST}:1", **kw: Any) -> str:
    return store.create_run(
        workspace=workspace,
        kind=kind,
        dataset={"name": "moons"},
        fingerprint="fp",
        hyperparameters={"learning_rate": 0.001},
        owner=owner,
        **kw,
    )


def _spawn(target: Callable[..., Any], jobs: list[tuple[Any, ...]], timeout: float = 90) -> list[Any]:
    """Run target(barrier, *job) in one spawned process per job, released together; their results."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    procs = [context.Process(target=_child, args=(target, barrier, results, index, job)) for index, job in enumerate(jobs)]
    for proc in procs:
        proc.start()
    try:
        out: dict[int, Any] = {}
        for _ in procs:
            index, ok, value = results.get(timeout=timeout)
            assert ok, f"child {index} raised:\n{value}"
            out[index] = value
        return [out[i] for i in range(len(jobs))]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


def _child(target: Callable[..., Any], barrier: Any, results: Any, index: int, job: tuple[Any, ...]) -> None:
    try:
        results.put((index, True, target(barrier, *job)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


# ---------------------------------------------------------------- round trip


def test_every_field_round_trips_and_non_finite_json_becomes_null(store: RunStore) -> None:
    before = time.time()
    hp = {"learning_rate": 0.001, "gap": math.nan, "nested": {"inf": math.inf, "values": [1, -math.inf, 2.5], "t": (1, 2)}}
    dataset = {"name": "moons", "rows": {"train": 120, "val": 40, "test": 40}, "spec": {"noise": 0.2, "seed": 0}}
    run_id = store.create_run(
        workspace=WS_A, kind="fix", dataset=dataset, fingerprint="fp-123", hyperparameters=hp, owner="host-a:41"
    )
    assert re.fullmatch(r"[0-9a-f]{32}", run_id)
    queued = store.get(run_id)
    assert queued is not None
    assert (queued.status, queued.workspace, queued.kind, queued.owner, queued.fingerprint) == (
        "queued",
        WS_A,
        "fix",
        "host-a:41",
        "fp-123",
    )
    assert (queued.started, queued.finished, queued.worker, queued.error) == (None, None, None, None)
    assert queued.stop_requested is False
    assert queued.history == [] and queued.extra is None and queued.test is None and queued.best_epoch is None
    assert queued.dataset == dataset
    assert queued.hyperparameters == {
        "learning_rate": 0.001,
        "gap": None,
        "nested": {"inf": None, "values": [1, None, 2.5], "t": [1, 2]},
    }
    assert before <= queued.created == queued.updated <= time.time()

    assert store.claim(run_id, "host-b:7")
    running = store.get(run_id)
    assert running is not None and running.status == "running" and running.worker == "host-b:7"
    assert running.started is not None and running.started >= running.created

    first = {"epoch": 1, "train_loss": 0.7, "val_loss": math.nan, "train_metric": 0.5, "val_metric": math.inf, "seconds": 0.01}
    second = {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6, "train_metric": 0.8, "val_metric": 0.75, "seconds": 0.01}
    time.sleep(0.01)
    store.update_progress(run_id, [first], {"round": 1})
    progressed = store.get(run_id)
    assert progressed is not None and progressed.updated > running.updated
    assert progressed.history == [first | {"val_loss": None, "val_metric": None}]
    assert progressed.extra == {"round": 1}
    store.update_progress(run_id, [first, second])  # no extra: the stored extra stays
    progressed = store.get(run_id)
    assert progressed is not None and len(progressed.history) == 2 and progressed.extra == {"round": 1}

    state = bytes(range(256)) * 300  # every byte value, NULs included
    store.finish(
        run_id,
        status="early_stopped",
        history=[first, second],
        best_epoch=2,
        kept_epoch=2,
        test={"loss": 0.4, "metric": math.nan},
        baselines={"trivial": {"loss": 0.693, "metric": 0.5}},
        diagnosis={"verdict": "good_fit", "evidence": ["gap 1 %"], "recommendations": []},
        extra={"surface": [[0.25, math.inf]], "count": np.int64(3), "share": np.float32(0.5), "nan32": np.float32("nan")},
        model_state=state,
        error=None,
    )
    done = store.get(run_id)
    assert done is not None
    assert isinstance(done, StoredRun) and {f.name for f in dataclasses.fields(done)} == RUN_FIELDS
    assert not hasattr(done, "model_state")  # the weights are read on their own, never with every listing
    assert done.status == "early_stopped" and done.best_epoch == 2 and done.kept_epoch == 2 and done.error is None
    assert done.history == [first | {"val_loss": None, "val_metric": None}, second]
    assert done.test == {"loss": 0.4, "metric": None}
    assert done.baselines == {"trivial": {"loss": 0.693, "metric": 0.5}}
    assert done.diagnosis == {"verdict": "good_fit", "evidence": ["gap 1 %"], "recommendations": []}
    assert done.extra == {"surface": [[0.25, None]], "count": 3, "share": 0.5, "nan32": None}
    assert done.started is not None and done.finished is not None
    assert done.created <= done.started <= done.finished <= done.updated <= time.time()
    assert done.hyperparameters == queued.hyperparameters and done.worker == "host-b:7"
    loaded = store.model_state(run_id)
    assert isinstance(loaded, bytes) and loaded == state
    with pytest.raises(dataclasses.FrozenInstanceError):
        done.status = "failed"  # type: ignore[misc]

    assert store.get("0" * 32) is None and store.model_state("0" * 32) is None
    with pytest.raises(ValueError, match="finished run's status"):
        store.finish(run_id, status="running", history=[])


def test_error_message_and_kinds_round_trip(store: RunStore) -> None:
    for kind in ("train", "fix", "lr_find", "learning_curve"):
        run_id = _new(store, kind=kind)
        assert store.claim(run_id, "w:1")
        store.finish(run_id, status="completed", history=[], extra={kind: {"ok": True}})
        run = store.get(run_id)
        assert run is not None and run.kind == kind and run.extra == {kind: {"ok": True}}
        assert store.model_state(run_id) is None
    failed = _new(store)
    assert store.fail(failed, "Training failed: RuntimeError: boom\nsecond line")
    run = store.get(failed)
    assert run is not None and run.error == "Training failed: RuntimeError: boom\nsecond line" and run.status == "failed"


# ---------------------------------------------------------------- claiming and stopping


def _claimer(barrier: Any, url: str, run_ids: list[str], fingerprints: list[str], name: str) -> dict[str, list[str]]:
    store = RunStore(url)
    store.stop_requested(run_ids[0])  # connect before the start line: the race is the claims, not the logins
    barrier.wait(timeout=60)
    for fp in fingerprints:  # every worker stores the same new baselines at once: duplicates must not raise
        store.put_baselines(fp, {"trivial": {"loss": 0.69, "metric": 0.5}, "by": name})
    claimed = [run_id for run_id in run_ids if store.claim(run_id, name)]
    store.close()
    return {"claimed": claimed}


def test_claim_is_exclusive_across_processes_and_concurrent_baselines_do_not_raise(store: RunStore) -> None:
    run_ids = [_new(store, workspace=f"ws-claim-{i:04d}") for i in range(16)]  # one active train run per workspace
    fingerprints = [f"fp-race-{i}" for i in range(8)]
    names = [f"{HOST}:worker{i}" for i in range(3)]
    results = _spawn(_claimer, [(store.url, run_ids, fingerprints, name) for name in names])
    counts = Counter(run_id for result in results for run_id in result["claimed"])
    assert set(counts) == set(run_ids) and set(counts.values()) == {1}, counts
    for name, result in zip(names, results, strict=True):
        for run_id in result["claimed"]:
            run = store.get(run_id)
            assert run is not None and run.status == "running" and run.worker == name
    for fp in fingerprints:
        value = store.get_baselines(fp)
        assert value is not None and value["by"] in names and value["trivial"] == {"loss": 0.69, "metric": 0.5}
    assert not any(store.claim(run_id, "late:1") for run_id in run_ids)  # running: nobody claims it again


def test_stop_while_queued_means_never_claimed_and_stopped(store: RunStore) -> None:
    run_id = _new(store)
    assert store.stop_requested(run_id) is False
    store.request_stop(run_id)
    assert store.stop_requested(run_id) is True
    assert store.claim(run_id, "w:1") is False
    run = store.get(run_id)
    assert run is not None and run.status == "stopped" and run.finished is not None and run.error is None
    assert run.started is None and run.worker is None
    assert store.claim(run_id, "w:2") is False
    assert store.get(run_id).status == "stopped"  # type: ignore[union-attr]

    running = _new(store)
    assert store.claim(running, "w:1")
    store.request_stop(running)  # a running job sees the flag and ends itself; the flag does not change the status
    assert store.stop_requested(running) is True
    assert store.get(running).status == "running"  # type: ignore[union-attr]
    assert store.stop_requested("0" * 32) is False


# ---------------------------------------------------------------- workspaces and the queue


def test_workspaces_never_see_each_others_runs(store: RunStore) -> None:
    a_old = _new(store, WS_A, "train")
    assert store.claim(a_old, "w:1")
    store.finish(a_old, status="completed", history=[])
    a_train = _new(store, WS_A, "train")
    b_lr = _new(store, WS_B, "lr_find")
    a_lr = _new(store, WS_A, "lr_find")
    b_fix = _new(store, WS_B, "fix")

    assert [r.id for r in store.list_runs(WS_A)] == [a_lr, a_train, a_old]  # newest first
    assert [r.id for r in store.list_runs(WS_B)] == [b_fix, b_lr]
    assert [r.id for r in store.list_runs(WS_A, kinds=("train",))] == [a_train, a_old]
    assert [r.id for r in store.list_runs(WS_A, limit=1)] == [a_lr]
    assert store.list_runs("ws-nobody-000") == []
    assert all(r.workspace == WS_A for r in store.list_runs(WS_A))

    active = store.active_run(WS_A)  # a_old finished; a_lr is not a train/fix run
    assert active is not None and active.id == a_train
    active_b = store.active_run(WS_B)
    assert active_b is not None and active_b.id == b_fix
    lr = store.active_run(WS_A, kinds=("lr_find",))
    assert lr is not None and lr.id == a_lr
    assert store.active_run("ws-nobody-000") is None
    assert {r.id for r in store.active_runs()} == {a_train, b_lr, a_lr, b_fix}

    assert store.delete_run(a_train, WS_B) is False  # another workspace's id: nothing happens
    assert store.get(a_train) is not None
    assert store.delete_run(a_train, WS_A) is True
    assert store.get(a_train) is None and store.delete_run(a_train, WS_A) is False


def test_queue_position_counts_every_workspace_in_order(store: RunStore) -> None:
    first = _new(store, WS_A)
    second = _new(store, WS_B)
    third = _new(store, WS_A, "lr_find")
    assert [store.queue_position(r) for r in (first, second, third)] == [1, 2, 3]
    assert store.claim(first, "w:1")
    assert [store.queue_position(r) for r in (first, second, third)] == [None, 1, 2]
    store.request_stop(second)
    assert store.claim(second, "w:1") is False  # stopped while queued: out of the queue
    assert [store.queue_position(r) for r in (second, third)] == [None, 1]
    assert store.queue_position("0" * 32) is None


def test_queue_position_breaks_equal_times_by_id(store: RunStore) -> None:
    ids = [_new(store, f"ws-equal-{i:04d}") for i in range(3)]
    with store.engine.begin() as conn:  # the same created time for all three
        conn.execute(store_module.runs.update().values(created=1000.0))
    assert sorted(ids, key=store.queue_position) == sorted(ids)


# ---------------------------------------------------------------- failing


def test_fail_only_changes_active_runs_unless_told(store: RunStore) -> None:
    queued, running, completed = (_new(store, f"ws-fail-{i:04d}") for i in range(3))
    assert store.claim(running, "w:1") and store.claim(completed, "w:1")
    store.finish(completed, status="completed", history=[{"epoch": 1}])
    assert store.fail(queued, "the server restarted") is True
    assert store.fail(running, "the worker died") is True
    assert store.fail(completed, "too late") is False
    for run_id, message in ((queued, "the server restarted"), (running, "the worker died")):
        run = store.get(run_id)
        assert run is not None and run.status == "failed" and run.error == message and run.finished is not None
    finished = store.get(completed)
    assert finished is not None and finished.status == "completed" and finished.error is None
    assert store.fail(queued, "again") is False  # failed is not active either
    assert store.fail(completed, "forced", only_if_active=False) is True
    forced = store.get(completed)
    assert forced is not None and forced.status == "failed" and forced.error == "forced"
    # a run its supervisor failed stays failed when the (late) worker finishes it
    store.finish(running, status="completed", history=[])
    assert store.get(running).status == "failed"  # type: ignore[union-attr]


def test_fail_orphans_fails_dead_local_owners_only(store: RunStore) -> None:
    dead_pid, live_pid = 999_999_001, os.getpid()
    dead_queued = _new(store, "ws-orphan-001", owner=f"{HOST}:{dead_pid}")
    dead_running = _new(store, "ws-orphan-002", owner=f"{HOST}:{dead_pid}")
    assert store.claim(dead_running, "w:1")
    dead_done = _new(store, "ws-orphan-003", owner=f"{HOST}:{dead_pid}")
    assert store.claim(dead_done, "w:1")
    store.finish(dead_done, status="completed", history=[])
    alive = _new(store, "ws-orphan-004", owner=f"{HOST}:{live_pid}")
    other_host = _new(store, "ws-orphan-005", owner=f"another-{HOST}:{dead_pid}")  # same pid, another machine: not ours
    suffix_host = _new(store, "ws-orphan-006", owner=f"x{HOST}:{dead_pid}")
    seen: list[int] = []

    def is_alive(pid: int) -> bool:
        seen.append(pid)
        return pid != dead_pid

    assert store.fail_orphans("the server restarted", is_alive) == 2
    assert dead_pid in seen and live_pid in seen
    every = (dead_queued, dead_running, dead_done, alive, other_host, suffix_host)
    statuses = {run_id: store.get(run_id).status for run_id in every}  # type: ignore[union-attr]
    assert statuses == {
        dead_queued: "failed",
        dead_running: "failed",
        dead_done: "completed",
        alive: "queued",
        other_host: "queued",
        suffix_host: "queued",
    }
    assert store.get(dead_queued).error == "the server restarted"  # type: ignore[union-attr]
    assert store.fail_orphans("again", is_alive) == 0


# ---------------------------------------------------------------- baselines and workspace state


def test_baselines_upsert(store: RunStore) -> None:
    assert store.get_baselines("fp-1") is None
    store.put_baselines("fp-1", {"trivial": {"loss": 0.69, "metric": math.nan}})
    assert store.get_baselines("fp-1") == {"trivial": {"loss": 0.69, "metric": None}}
    store.put_baselines("fp-1", {"trivial": {"loss": 0.5, "metric": 0.6}})  # same key again: replaced, no error
    assert store.get_baselines("fp-1") == {"trivial": {"loss": 0.5, "metric": 0.6}}
    assert store.get_baselines("fp-2") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store_module.baselines_table)).scalar() == 1


def test_a_duplicate_baselines_insert_is_swallowed(store: RunStore, monkeypatch) -> None:
    """The race's loser: its UPDATE found no row, another worker inserted one before its INSERT."""
    store.put_baselines("fp-dup", {"by": "first"})
    real_update = store_module.baselines_table.update
    monkeypatch.setattr(store_module.baselines_table, "update", lambda: real_update().where(sa.false()))
    store.put_baselines("fp-dup", {"by": "second"})  # the INSERT hits the primary key: no exception
    assert store.get_baselines("fp-dup") == {"by": "first"}


def test_workspace_state_upsert(store: RunStore) -> None:
    assert store.workspace_state(WS_A) is None
    store.save_workspace_state(WS_A, {"knobs": {"learning_rate": 0.01, "width": 64}, "dataset": "moons", "bad": math.inf})
    assert store.workspace_state(WS_A) == {"knobs": {"learning_rate": 0.01, "width": 64}, "dataset": "moons", "bad": None}
    store.save_workspace_state(WS_A, {"knobs": {"learning_rate": 0.1}})
    assert store.workspace_state(WS_A) == {"knobs": {"learning_rate": 0.1}}
    assert store.workspace_state(WS_B) is None
    store.save_workspace_state(WS_B, {})
    assert store.workspace_state(WS_B) == {}
    assert store.workspace_state(WS_A) == {"knobs": {"learning_rate": 0.1}}


# ---------------------------------------------------------------- SQLite under several writers


def _progress_writer(barrier: Any, url: str, run_id: str, epochs: int) -> int:
    store = RunStore(url)
    store.stop_requested(run_id)
    barrier.wait(timeout=60)
    history: list[dict[str, Any]] = []
    for epoch in range(1, epochs + 1):
        history.append({"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 1.1 / epoch, "seconds": 0.001})
        store.update_progress(run_id, history, {"epoch": epoch, "padding": "x" * 2000})
        store.stop_requested(run_id)
    extra_run = _new(store, kind="trial", owner=f"{HOST}:{os.getpid()}")  # inserts between the updates, too
    store.fail(extra_run, "done")
    store.close()
    return epochs


def test_sqlite_takes_concurrent_progress_writes_from_several_processes(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    store = RunStore(url)
    with store.engine.connect() as conn:  # every connection: WAL, and a long wait for a busy database
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
    run_ids = [_new(store, kind="trial") for _ in range(4)]  # a search's trials: several run at once
    for run_id in run_ids:
        assert store.claim(run_id, "w:1")
    epochs = 60
    results = _spawn(_progress_writer, [(url, run_id, epochs) for run_id in run_ids])
    assert results == [epochs] * len(run_ids)
    for run_id in run_ids:
        run = store.get(run_id)
        assert run is not None and [r["epoch"] for r in run.history] == list(range(1, epochs + 1))
        assert run.extra is not None and run.extra["epoch"] == epochs
    assert len(store.list_runs(WS_A)) == 8
    store.close()


def test_fresh_database_opened_by_several_processes_at_once(tmp_path) -> None:
    """Every worker may be the first to create the tables: the losers of that race must not fail."""
    url = f"sqlite:///{tmp_path / 'fresh' / 'runs.sqlite'}"
    results = _spawn(_opener, [(url,)] * 3)
    assert sorted(results) == [1, 1, 1]
    assert len(RunStore(url).list_runs(WS_A)) == 3


def _opener(barrier: Any, url: str) -> int:
    store = RunStore(url)
    barrier.wait(timeout=60)
    run_id = _new(store, kind="trial")
    found = store.get(run_id) is not None
    store.close()
    return int(found)


# ---------------------------------------------------------------- URLs, errors, processes


def test_bad_urls_raise_store_error_naming_the_url_without_its_password(tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = RunStore(f"postgresql://fitlab:s3cret-pw@127.0.0.1:{port}/runs")  # no error before first use
    with pytest.raises(StoreError) as caught:
        unreachable.list_runs(WS_A)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert f"postgresql+psycopg://fitlab:***@127.0.0.1:{port}/runs" in message and "s3cret" not in message
    assert "cannot use the run store" in message and "refused" in message.lower()

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=re.escape(f"sqlite:///{blocker}/runs.sqlite")):
        RunStore(f"sqlite:///{blocker}/runs.sqlite").get("x")
    with pytest.raises(StoreError, match="nosuchdb://u:\\*\\*\\*@h/db"):
        RunStore("nosuchdb://u:pw@h/db").get("x")
    with pytest.raises(StoreError, match="not a database URL") as caught:
        RunStore("postgresql://u:pw@host:notaport/db").get("x")
    assert ":pw@" not in str(caught.value)


def test_default_url_and_url_forms(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FITLAB_DB", raising=False)
    monkeypatch.setenv("FITLAB_DATA_DIR", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'runs.sqlite'}"
    store = RunStore()
    store.save_workspace_state(WS_A, {"ok": 1})  # the data directory is created on first use
    assert (tmp_path / "data" / "runs.sqlite").is_file()
    store.close()
    monkeypatch.setenv("FITLAB_DB", "postgresql://me@db.example:5433/fitlab")
    assert default_url() == "postgresql+psycopg://me@db.example:5433/fitlab"
    monkeypatch.setenv("FITLAB_DB", "postgres://me@db.example/fitlab")
    assert default_url() == "postgresql+psycopg://me@db.example/fitlab"
    monkeypatch.setenv("FITLAB_DB", "postgresql+psycopg://me@h/db")
    assert default_url() == "postgresql+psycopg://me@h/db"
    monkeypatch.setenv("FITLAB_DB", "sqlite:////srv/fitlab/runs.db")
    assert default_url() == "sqlite:////srv/fitlab/runs.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FITLAB_DB", "stores/mine.sqlite")  # a plain path: absolute, SQLite
    assert default_url() == f"sqlite:///{tmp_path / 'stores' / 'mine.sqlite'}"
    monkeypatch.delenv("FITLAB_DATA_DIR")
    monkeypatch.delenv("FITLAB_DB")
    assert default_url() == f"sqlite:///{store_module.ROOT / 'data' / 'runs.sqlite'}"


def test_store_pickles_by_url_and_open_store_caches_per_process(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    store = open_store(url)
    assert open_store(url) is store and open_store(str(tmp_path / "runs.sqlite")) is store  # a path is the same store
    assert open_store(f"sqlite:///{tmp_path / 'other.sqlite'}") is not store
    run_id = _new(store)
    engine = store.engine
    copy = pickle.loads(pickle.dumps(store))
    assert copy.url == url and copy.__getstate__() == {"url": url} and copy._engine is None
    assert copy.get(run_id) is not None and copy.engine is not engine
    store._pid = -1  # as if inherited through fork: a new engine, the parent's left alone
    assert store.engine is not engine and store.get(run_id) is not None
    copy.close()


def test_workspace_ids() -> None:
    ids = {new_workspace_id() for _ in range(200)}
    assert len(ids) == 200 and all(valid_workspace_id(i) for i in ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", i) for i in ids)
    for good in ("ws-test-0001", "A_b-c123", "a" * 64, "12345678"):
        assert valid_workspace_id(good), good
    bad_ids = ("", "short", "a" * 65, "../../etc/passwd", "abc def12", "ws'; DROP TABLE runs;--", "ümlautsss", "abcdefgh\n")
    for bad in (*bad_ids, None, 12345678):
        assert not valid_workspace_id(bad), bad


def test_marker_changes_with_progress_and_status_only(store: RunStore) -> None:
    run_id = _new(store)
    assert store.marker("no-such-run") is None
    queued = store.marker(run_id)
    assert queued is not None and queued[0] == "queued"
    assert store.claim(run_id, worker="w")
    running = store.marker(run_id)
    assert running is not None and running[0] == "running"
    time.sleep(0.01)
    store.update_progress(run_id, [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.0}])
    progressed = store.marker(run_id)
    assert progressed is not None and progressed[0] == "running" and progressed[1] > running[1]
    store.finish(run_id, status="completed", history=[])
    assert store.marker(run_id)[0] == "completed"  # type: ignore[index]
