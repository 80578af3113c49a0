"""What outlives one script run: the workspace in the URL, the run store, the worker pool, the knobs.

- The workspace id lives in the URL (`?ws=...`): a reload or a bookmark brings back its runs and knobs;
  another browser gets its own workspace and sees none of them.
- The knob values live in `state.KNOBS` (not only in widget state, which Streamlit
  drops when a page without those widgets runs) and in the store's workspace row (for a reload).
- The store and the executor are process-wide resources; each session's running jobs are remembered in
  a session-scoped resource whose release (the tab closed) asks those jobs to stop.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import fields
from typing import Any

import streamlit as st

from core.data.builtin import DEFAULT_DATASET
from core.hyperparameters import Hyperparameters
from core.store.runs import ACTIVE, RunStore, generated_workspace_id, new_workspace_id, open_store
from core.workers.executor import Executor, make_executor
from ui import state

DEFAULTS = Hyperparameters()
DATA_KNOBS = {"dataset_name": DEFAULT_DATASET, "samples": 1000, "noise": 0.2}


def hp_key(name: str) -> str:
    return f"hp_{name}"


def default_knobs() -> dict[str, Any]:
    knobs = {hp_key(f.name): getattr(DEFAULTS, f.name) for f in fields(Hyperparameters)}
    return knobs | DATA_KNOBS


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    return open_store()


@st.cache_resource(show_spinner="Starting the worker processes…")
def executor() -> Executor:
    pool = make_executor(store())
    _stop_on_exit(pool)
    return pool


def _stop_on_exit(pool: Executor) -> None:
    """At server exit, end queued and running jobs first, so that the exit does not wait for them."""

    def stop_all() -> None:
        for run in store().active_runs():
            store().request_stop(run.id)
        pool.shutdown()

    register = getattr(threading, "_register_atexit", None)  # runs before concurrent.futures joins its workers
    if register is not None:
        register(stop_all)
    else:  # pragma: no cover - other Pythons
        atexit.register(stop_all)


class SessionJobs:
    """The runs this browser tab started; when the tab closes, the ones still going are stopped."""

    def __init__(self) -> None:
        self.run_ids: set[str] = set()

    def add(self, run_id: str) -> None:
        self.run_ids.add(run_id)

    def release(self) -> None:
        for run_id in self.run_ids:
            run = store().get(run_id)
            if run is not None and run.status in ACTIVE:
                store().request_stop(run_id)


@st.cache_resource(scope="session", on_release=lambda jobs: jobs.release())
def session_jobs() -> SessionJobs:
    return SessionJobs()


def workspace() -> str:
    """This browser's workspace id, kept in the URL on every page."""
    ws = state.WORKSPACE.get()
    if ws is None:
        asked = st.query_params.get("ws")
        ws = asked if asked is not None and generated_workspace_id(asked) else new_workspace_id()
        state.WORKSPACE.set(ws)
    if st.query_params.get("ws") != ws:
        st.query_params["ws"] = ws
    return str(ws)


def init_knobs() -> None:
    """Once per session: the knobs saved for this workspace (a reload) or the defaults; then, on every
    run, put back any widget value Streamlit dropped while another page was shown."""
    if not state.KNOBS.is_set():
        saved = store().workspace_state(workspace()) or {}
        knobs = default_knobs()
        knobs.update({k: v for k, v in (saved.get("knobs") or {}).items() if k in knobs})
        try:
            Hyperparameters(**{f.name: knobs[hp_key(f.name)] for f in fields(Hyperparameters)})
        except (TypeError, ValueError):  # saved by an older version with other ranges: start fresh
            knobs = default_knobs()
        state.KNOBS.set(knobs)
        state.SAVED_KNOBS.set(dict(knobs))
    for key, value in remembered().items():
        if not state.has_widget_value(key):
            state.set_widget_value(key, value)


def remember_knobs() -> None:
    """After the widgets are drawn: keep their values, and save them for this workspace when changed."""
    knobs = remembered()
    for key in knobs:
        if state.has_widget_value(key):
            knobs[key] = state.widget_value(key)
    if knobs != state.SAVED_KNOBS.get():
        store().save_workspace_state(workspace(), {"knobs": knobs})
        state.SAVED_KNOBS.set(dict(knobs))


def set_knob(key: str, value: Any) -> None:
    """For callbacks (Apply, presets): set the widget and the remembered value together."""
    state.set_widget_value(key, value)
    remembered()[key] = value


def remembered() -> dict[str, Any]:
    """Every knob's remembered value by widget key (the defaults until the session has its own)."""
    knobs = state.KNOBS.setdefault(default_knobs)
    assert knobs is not None
    return knobs


def show_run(run_id: str) -> None:
    """Make the Train page show this run next time it draws (Compare's "Open in Train")."""
    state.SHOWN_RUN.set(run_id)
