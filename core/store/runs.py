"""The run store: every run is a row, in SQLite by default or any SQLAlchemy database by URL.

SQLite (a file under the data directory) serves one server and its worker processes: WAL journal mode
and a 30 s busy timeout let workers append progress while the web server reads. PostgreSQL
(`FITLAB_DB=postgresql://user@host/db`) serves several servers or a Dask cluster.

Rows hold plain JSON (non-finite numbers stored as null) and the model's state_dict as bytes. The
web process, the workers and the CLI all go through this module; nothing else knows the schema.

One Train-page job per workspace: at most one run of kind train or fix (ONE_JOB_KINDS) is queued or
running in a workspace, kept by the database itself (a partial unique index, ONE_JOB_INDEX, on SQLite
and PostgreSQL), so two sessions pressing Train at once start one run; the other gets `WorkspaceBusy`.
The evidence jobs (lr_find, learning_curve) may run beside a training run, and a search's jobs (tune)
and their trials run several at once by design: they are not covered.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.jsonsafe import json_safe
from core.store.retry import retry_race

ROOT = Path(__file__).resolve().parents[2]
DB_FILE = "runs.sqlite"
ACTIVE = ("queued", "running")
FINISHED = ("completed", "early_stopped", "diverged", "stopped", "failed")
WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
GENERATED_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # secrets.token_urlsafe(12)
GENERATED_MIN_DISTINCT = 8
SQLITE_BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another process's write to finish
ONE_JOB_KINDS = ("train", "fix")  # the Train page's job: at most one queued or running per workspace
ONE_JOB_INDEX = "ux_runs_one_active_job"  # the partial unique index that keeps it (see _ensure_one_job_index)
BUSY = "this workspace already has a run queued or running: wait for it or stop it"
DUPLICATE = "another run of this workspace was queued or running at the same time (only one can be); press Train to start again"
ORPHANED = "the process that started this run has ended; press Train to start it again"

metadata = sa.MetaData()
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workspace", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("created", sa.Float, nullable=False, index=True),
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("owner", sa.String(300), nullable=False),
    sa.Column("worker", sa.String(300)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("dataset", sa.JSON),
    sa.Column("fingerprint", sa.String(128)),
    sa.Column("hyperparameters", sa.JSON),
    sa.Column("history", sa.JSON),
    sa.Column("best_epoch", sa.Integer),
    sa.Column("kept_epoch", sa.Integer),
    sa.Column("test", sa.JSON),
    sa.Column("baselines", sa.JSON),
    sa.Column("diagnosis", sa.JSON),
    sa.Column("extra", sa.JSON),
    sa.Column("model_state", sa.LargeBinary),
    sa.Index("ix_runs_status_created", "status", "created"),
)
baselines_table = sa.Table(
    "baselines",
    metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)
COLUMNS = [c for c in runs.columns if c.name != "model_state"]


class StoreError(ValueError):
    """The run store cannot be used (unreachable server, bad URL, unwritable file)."""


class WorkspaceBusy(StoreError):
    """A train or fix run was refused: its workspace already has one queued or running (`run_id`, if known)."""

    def __init__(self, workspace: str, run_id: str | None = None) -> None:
        super().__init__(BUSY)
        self.workspace, self.run_id = workspace, run_id


@dataclass(frozen=True)
class StoredRun:
    id: str
    workspace: str
    kind: str
    created: float
    started: float | None
    finished: float | None
    updated: float
    owner: str
    worker: str | None
    status: str
    error: str | None
    stop_requested: bool
    dataset: dict[str, Any]
    fingerprint: str | None
    hyperparameters: dict[str, Any]
    history: list[dict[str, Any]]
    best_epoch: int | None
    kept_epoch: int | None
    test: dict[str, Any] | None
    baselines: dict[str, Any] | None
    diagnosis: dict[str, Any] | None
    extra: dict[str, Any] | None


def new_workspace_id() -> str:
    """A random workspace id (96 bits): the only key to a workspace's runs, so it is never a guessable word."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if generated_workspace_id(candidate):  # 1 in ~10^5 draws repeats too much: draw again
            return candidate


def valid_workspace_id(text: object) -> bool:
    """What the store accepts as a workspace: only the token alphabet, 8 to 64 characters."""
    return isinstance(text, str) and WORKSPACE_ID.fullmatch(text) is not None  # fullmatch: `$` passes a trailing newline


def generated_workspace_id(text: object) -> bool:
    """An id of the form `new_workspace_id` makes: what a URL (?ws=) or the CLI's --workspace must give.

    16 characters of the token alphabet, at least 8 of them different: `?ws=aaaaaaaa` or a word someone
    picked to share (`cli-runs`) opens nothing; a new workspace is made instead."""
    return isinstance(text, str) and GENERATED_ID.fullmatch(text) is not None and len(set(text)) >= GENERATED_MIN_DISTINCT


def data_dir() -> Path:
    return Path(os.environ.get("FITLAB_DATA_DIR") or ROOT / "data")


def normalize_url(text: str) -> str:
    """A SQLAlchemy URL from what a user may type: a URL, `postgresql://…`, or a plain file path."""
    text = text.strip()
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def default_url() -> str:
    configured = os.environ.get("FITLAB_DB", "").strip()
    if configured:
        return normalize_url(configured)
    return f"sqlite:///{(data_dir() / DB_FILE).resolve()}"


def masked(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: still never show what may be a password (user:secret@host)
        return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: switching to WAL may wait for a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class RunStore:
    """One database. Picklable by URL: a worker process opens its own connections."""

    def __init__(self, url: str | None = None) -> None:
        self.url = normalize_url(url) if url else default_url()
        self._engine: Engine | None = None
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self._engine, self._pid = state["url"], None, os.getpid()

    def __repr__(self) -> str:
        return f"RunStore({masked(self.url)!r})"

    @property
    def engine(self) -> Engine:
        """Created on first use, and again in a forked child: connections never cross a fork."""
        if self._engine is not None and self._pid != os.getpid():
            self._engine.dispose(close=False)  # the parent's connections stay open for the parent
            self._engine = None
        if self._engine is None:
            self._engine = self._connect()
            self._pid = os.getpid()
        return self._engine

    def close(self) -> None:
        """Close this process's connections (the store opens new ones if used again)."""
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None

    def _connect(self) -> Engine:
        try:
            url = make_url(self.url)
        except Exception:
            example = "sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            raise StoreError(f"not a database URL: {masked(self.url)!r} (expected e.g. {example})") from None
        try:
            if url.get_backend_name() == "sqlite":
                if url.database and url.database != ":memory:":
                    _private_sqlite_file(Path(url.database))
                engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=_connect_args(url))
            _create_tables(engine)
        except (SQLAlchemyError, OSError, ImportError) as exc:
            detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"cannot use the run store at {masked(self.url)}: {detail}") from None
        return engine

    # ------------------------------------------------------------ writing runs

    def create_run(
        self,
        *,
        workspace: str,
        kind: str,
        dataset: dict[str, Any],
        fingerprint: str,
        hyperparameters: dict[str, Any],
        owner: str,
        status: str = "queued",
    ) -> str:
        """Record a new run; its id. A train or fix run while the workspace has one queued or running raises
        `WorkspaceBusy` (a run left active by a process of this host that has ended is failed first)."""
        values = {
            "workspace": workspace,
            "kind": kind,
            "owner": owner,
            "status": status,
            "stop_requested": False,
            "dataset": json_safe(dataset),
            "fingerprint": fingerprint,
            "hyperparameters": json_safe(hyperparameters),
            "history": [],
        }
        for _ in range(3):
            run_id, now = uuid.uuid4().hex, time.time()
            try:
                with self.engine.begin() as conn:
                    conn.execute(runs.insert().values(id=run_id, created=now, updated=now, **values))
                return run_id
            except IntegrityError:  # the one-job index: another run of this workspace is active
                if kind not in ONE_JOB_KINDS or status not in ACTIVE:
                    raise
                blocking = self.active_run(workspace, ONE_JOB_KINDS)
                if blocking is not None and not self._fail_if_orphaned(blocking):
                    raise WorkspaceBusy(workspace, blocking.id) from None
                # it ended meanwhile, or its process is gone: try again
        raise WorkspaceBusy(workspace)

    def _fail_if_orphaned(self, run: StoredRun) -> bool:
        """Fail an active run recorded by a process of this host that no longer exists (a CLI run killed
        with kill -9, a server that never restarted): it would keep its workspace busy for ever."""
        owner_host, _, pid = run.owner.rpartition(":")
        if owner_host != socket.gethostname() or not pid.isdigit() or local_process_alive(int(pid)):
            return False
        self.fail(run.id, ORPHANED)
        return True

    def claim(self, run_id: str, worker: str) -> bool:
        """queued -> running, for exactly one worker. A run stopped while queued ends as 'stopped'."""
        now = time.time()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == "queued", runs.c.stop_requested.is_(False))
                .values(status="running", started=now, updated=now, worker=worker)
            ).rowcount
            if claimed:
                return True
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == "queued", runs.c.stop_requested.is_(True))
                .values(status="stopped", finished=now, updated=now, error=None)
            )
        return False

    def update_progress(
        self, run_id: str, history: list[dict[str, Any]], extra: dict[str, Any] | None = None, *, cleaned: bool = False
    ) -> None:
        """Write a running run's history so far (and its extra). `cleaned`: the caller already made every
        record JSON-safe with `json_safe` (a worker cleans each epoch once, not the whole history per write)."""
        values: dict[str, Any] = {"history": history if cleaned else json_safe(history), "updated": time.time()}
        if extra is not None:
            values["extra"] = extra if cleaned else json_safe(extra)
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running").values(**values))

    def finish(
        self,
        run_id: str,
        *,
        status: str,
        history: list[dict[str, Any]],
        best_epoch: int | None = None,
        kept_epoch: int | None = None,
        test: dict[str, Any] | None = None,
        baselines: dict[str, Any] | None = None,
        diagnosis: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        model_state: bytes | None = None,
        error: str | None = None,
    ) -> None:
        if status not in FINISHED:
            raise ValueError(f"a finished run's status is one of {', '.join(FINISHED)}, not {status!r}")
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status != "failed")  # a run failed by its supervisor stays failed
                .values(
                    status=status,
                    finished=now,
                    updated=now,
                    history=json_safe(history),
                    best_epoch=best_epoch,
                    kept_epoch=kept_epoch,
                    test=json_safe(test),
                    baselines=json_safe(baselines),
                    diagnosis=json_safe(diagnosis),
                    extra=json_safe(extra),
                    model_state=model_state,
                    error=error,
                )
            )

    def fail(self, run_id: str, message: str, *, only_if_active: bool = True) -> bool:
        now = time.time()
        query = runs.update().where(runs.c.id == run_id)
        if only_if_active:
            query = query.where(runs.c.status.in_(ACTIVE))
        with self.engine.begin() as conn:
            return bool(conn.execute(query.values(status="failed", error=message, finished=now, updated=now)).rowcount)

    def request_stop(self, run_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(stop_requested=True, updated=time.time()))

    def stop_requested(self, run_id: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.select(runs.c.stop_requested).where(runs.c.id == run_id)).scalar())

    def keep_running(self, run_id: str) -> bool:
        """Should the worker running this run go on? Not once a stop is asked, nor once the run is no longer
        'running' (failed by a restarted server or its supervisor, deleted): it ends the job, and the
        status stands (`finish` never overwrites a failed run)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs.c.status, runs.c.stop_requested).where(runs.c.id == run_id)).first()
        return row is not None and row.status == "running" and not row.stop_requested

    def delete_run(self, run_id: str, workspace: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(runs.delete().where(runs.c.id == run_id, runs.c.workspace == workspace)).rowcount)

    # ------------------------------------------------------------ reading runs

    @staticmethod
    def _row(row: Any) -> StoredRun:
        values = dict(row._mapping)
        values["dataset"] = values.get("dataset") or {}
        values["hyperparameters"] = values.get("hyperparameters") or {}
        values["history"] = values.get("history") or []
        values["stop_requested"] = bool(values.get("stop_requested"))
        return StoredRun(**values)

    def get(self, run_id: str) -> StoredRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*COLUMNS).where(runs.c.id == run_id)).first()
        return self._row(row) if row is not None else None

    def marker(self, run_id: str) -> tuple[str, float] | None:
        """(status, updated) of a run: what a page polls, without reading the history or the model."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs.c.status, runs.c.updated).where(runs.c.id == run_id)).first()
        return (row.status, row.updated) if row is not None else None

    def model_state(self, run_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(runs.c.model_state).where(runs.c.id == run_id)).scalar()
        return bytes(value) if value is not None else None

    def list_runs(self, workspace: str, *, kinds: tuple[str, ...] | None = None, limit: int = 100) -> list[StoredRun]:
        """This workspace's runs, newest first; never another workspace's."""
        query = sa.select(*COLUMNS).where(runs.c.workspace == workspace)
        if kinds:
            query = query.where(runs.c.kind.in_(kinds))
        query = query.order_by(runs.c.created.desc(), runs.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [self._row(row) for row in conn.execute(query)]

    def active_run(self, workspace: str, kinds: tuple[str, ...] = ONE_JOB_KINDS) -> StoredRun | None:
        query = (
            sa.select(*COLUMNS)
            .where(runs.c.workspace == workspace, runs.c.kind.in_(kinds), runs.c.status.in_(ACTIVE))
            .order_by(runs.c.created.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._row(row) if row is not None else None

    def queue_position(self, run_id: str) -> int | None:
        """1-based place among every queued run in this store (all workspaces), oldest first."""
        with self.engine.connect() as conn:
            mine = conn.execute(sa.select(runs.c.created, runs.c.status).where(runs.c.id == run_id)).first()
            if mine is None or mine.status != "queued":
                return None
            ahead = conn.execute(
                sa.select(sa.func.count())
                .select_from(runs)
                .where(
                    runs.c.status == "queued",
                    sa.or_(runs.c.created < mine.created, sa.and_(runs.c.created == mine.created, runs.c.id < run_id)),
                )
            ).scalar()
        return int(ahead or 0) + 1

    def active_runs(self) -> list[StoredRun]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*COLUMNS).where(runs.c.status.in_(ACTIVE)).order_by(runs.c.created))
            return [self._row(row) for row in rows]

    def fail_orphans(self, message: str, is_alive: Callable[[int], bool]) -> int:
        """Fail the queued/running runs submitted by a process of this host that no longer exists."""
        host = socket.gethostname()
        count = 0
        for run in self.active_runs():
            owner_host, _, pid = run.owner.rpartition(":")
            if owner_host == host and pid.isdigit() and not is_alive(int(pid)) and self.fail(run.id, message):
                count += 1
        return count

    # ------------------------------------------------------------ baselines and workspaces

    def get_baselines(self, fingerprint: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(baselines_table.c.value).where(baselines_table.c.fingerprint == fingerprint)).scalar()
        return value if value is not None else None

    def put_baselines(self, fingerprint: str, value: dict[str, Any]) -> None:
        try:
            with self.engine.begin() as conn:
                updated = conn.execute(
                    baselines_table.update().where(baselines_table.c.fingerprint == fingerprint).values(value=json_safe(value))
                ).rowcount
                if not updated:
                    conn.execute(
                        baselines_table.insert().values(fingerprint=fingerprint, value=json_safe(value), created=time.time())
                    )
        except IntegrityError:  # another worker stored the same data's baselines a moment earlier
            pass

    def workspace_state(self, workspace: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(workspaces.c.state).where(workspaces.c.id == workspace)).scalar()
        return value if value is not None else None

    def save_workspace_state(self, workspace: str, state: dict[str, Any]) -> None:
        now = time.time()
        try:
            with self.engine.begin() as conn:
                updated = conn.execute(
                    workspaces.update().where(workspaces.c.id == workspace).values(state=json_safe(state), updated=now)
                ).rowcount
                if not updated:
                    conn.execute(workspaces.insert().values(id=workspace, state=json_safe(state), updated=now))
        except IntegrityError:  # two tabs of one workspace saved at once: the other write stands
            pass


def _private_sqlite_file(path: Path) -> None:
    """The SQLite file readable by its owner only (0600; SQLite gives its -wal and -shm files the same
    mode), made before SQLite opens it; a folder FitLab makes for it (the default `data/`) is 0700.

    A folder the user named and that already exists is theirs: only the file's mode is set."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif folder.resolve() == data_dir().resolve() and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)  # FitLab's own data folder, made world-readable by an older version
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # the mode applies when the file is new
    if path.stat().st_uid == os.getuid():
        path.chmod(0o600)


def _create_tables(engine: Engine) -> None:
    """`create_all`, safe when several processes open a fresh database at once; then the one-job index.

    Two processes may both see a table missing and both create it: the loser's CREATE fails
    ("already exists"); looking again then finds every table there.
    """
    retry_race(
        lambda: metadata.create_all(engine, checkfirst=True),
        tries=3,
        pause=lambda attempt: 0.1 * (attempt + 1),
        raced=lambda exc: isinstance(exc, IntegrityError) or "already exists" in str(exc),  # not e.g. an unreachable server
    )
    if engine.dialect.name in ("sqlite", "postgresql"):  # partial indexes; another database relies on the pages' check
        retry_race(lambda: _ensure_one_job_index(engine), raced=_lost_race)


def _lost_race(exc: BaseException) -> bool:
    """Another process made the index (or a duplicate run) meanwhile, or held the lock: look again. Not a
    database user without the right to create an index: that is said at once."""
    text = str(exc).lower()
    return isinstance(exc, IntegrityError) or any(word in text for word in ("locked", "already exists", "deadlock"))


def _ensure_one_job_index(engine: Engine) -> None:
    """At most one queued or running train/fix run per workspace, in the database (ONE_JOB_INDEX).

    A database made before the index existed may hold several such runs in one workspace (two sessions
    pressed Train at once): all but one are failed first (the running one, else the oldest), so that the
    index can be made. Processes opening the database at once may race: the loser tries again."""
    if ONE_JOB_INDEX in {index["name"] for index in sa.inspect(engine).get_indexes("runs")}:
        return
    kinds = ", ".join(f"'{kind}'" for kind in ONE_JOB_KINDS)
    active = ", ".join(f"'{status}'" for status in ACTIVE)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # one process at a time, and no new run until the index is there
            conn.execute(sa.text("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE"))
        found = conn.execute(
            sa.select(runs.c.id, runs.c.workspace)
            .where(runs.c.kind.in_(ONE_JOB_KINDS), runs.c.status.in_(ACTIVE))
            .order_by(sa.case((runs.c.status == "running", 0), else_=1), runs.c.created, runs.c.id)
        ).all()
        kept: set[str] = set()
        extra: list[str] = []
        for row in found:
            if row.workspace in kept:
                extra.append(row.id)
            kept.add(row.workspace)
        if extra:
            now = time.time()
            conn.execute(
                runs.update()
                .where(runs.c.id.in_(extra), runs.c.status.in_(ACTIVE))
                .values(status="failed", error=DUPLICATE, finished=now, updated=now)
            )
        conn.execute(
            sa.text(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {ONE_JOB_INDEX} ON runs (workspace) "
                f"WHERE status IN ({active}) AND kind IN ({kinds})"
            )
        )


def local_process_alive(pid: int) -> bool:
    """Is there a process with this id on this machine (one of another user counts)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):  # not a process id at all
        return False
    return True


def _connect_args(url: Any) -> dict[str, Any]:
    return {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}


_OPEN: dict[tuple[int, str], RunStore] = {}


def open_store(url: str | None = None) -> RunStore:
    """One RunStore per URL per process (engines are never shared across processes)."""
    resolved = normalize_url(url) if url else default_url()
    key = (os.getpid(), resolved)
    if key not in _OPEN:
        _OPEN[key] = RunStore(resolved)
    return _OPEN[key]
