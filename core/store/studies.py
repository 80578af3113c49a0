"""Where the dashboard's searches live: Optuna studies in one RDB storage, named by workspace.

- The storage: FITLAB_TUNE_STORAGE when set; else the run store's own database when it is a server
  (PostgreSQL: every web server and worker already reaches it); else a SQLite file `tune.sqlite` in
  the data directory, beside the run store's file.
- A search of the dashboard is one study named `ws-<workspace>-<unix ms>`; its user attributes hold
  what the page needs after a reload or a server restart (the settings, the data, the jobs' run ids).
  A workspace sees only the studies named after it.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import optuna

from core.store.retry import retry_race
from core.store.runs import data_dir, default_url, normalize_url

optuna.logging.set_verbosity(optuna.logging.WARNING)

TUNE_FILE = "tune.sqlite"
PREFIX = "ws-"


def storage_url(run_store_url: str | None = None) -> str:
    configured = os.environ.get("FITLAB_TUNE_STORAGE", "").strip()
    if configured:
        return normalize_url(configured)
    url = run_store_url or default_url()
    if url.startswith("postgresql"):
        return url
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / TUNE_FILE).resolve()}"


def new_study_name(workspace: str, now: float | None = None) -> str:
    return f"{PREFIX}{workspace}-{int((now if now is not None else time.time()) * 1000)}"


_STORAGES: dict[tuple[int, str], optuna.storages.RDBStorage] = {}
_LOCK = threading.Lock()


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """One storage per URL per process. Its first opening creates Optuna's tables; two threads (or processes)
    doing that at once collide ("table studies already exists"): the loser opens it again."""
    key = (os.getpid(), url)
    with _LOCK:
        if key not in _STORAGES:
            _STORAGES[key] = retry_race(lambda: optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True}))
        return _STORAGES[key]


@dataclass(frozen=True)
class StudyInfo:
    name: str
    created: float  # unix seconds, from the name
    attrs: dict[str, Any]  # what the page stored when it started the search
    n_trials: int


def create(url: str, name: str, attrs: dict[str, Any]) -> None:
    """An empty minimizing study with the page's attributes (JSON values)."""
    study = optuna.create_study(storage=open_storage(url), study_name=name, direction="minimize", load_if_exists=True)
    for key, value in attrs.items():
        study.set_user_attr(key, value)


def set_attr(url: str, name: str, key: str, value: Any) -> None:
    optuna.load_study(study_name=name, storage=open_storage(url)).set_user_attr(key, value)


def workspace_studies(url: str, workspace: str) -> list[StudyInfo]:
    """This workspace's searches, newest first."""
    prefix = f"{PREFIX}{workspace}-"
    found = []
    for summary in optuna.get_all_study_summaries(storage=open_storage(url), include_best_trial=False):
        if not summary.study_name.startswith(prefix):
            continue
        stamp = summary.study_name[len(prefix) :]
        if not stamp.isdigit():
            continue
        found.append(StudyInfo(summary.study_name, int(stamp) / 1000, dict(summary.user_attrs), summary.n_trials))
    return sorted(found, key=lambda s: s.created, reverse=True)
