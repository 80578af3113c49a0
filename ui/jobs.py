"""Starting a job from a page: record the run, remember it as this session's, hand it to the executor."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.hyperparameters import Hyperparameters
from core.store.runs import WorkspaceBusy
from core.workers.spec import JobSpec, submit_run
from ui import session, state
from ui.choice import DataChoice


def start_job(kind: str, choice: DataChoice, hp: Hyperparameters, options: dict[str, Any] | None = None) -> JobSpec:
    """Queue a job of `kind` on this workspace's data and knobs; closing the tab stops it (session jobs)."""
    spec = submit_run(
        session.store(),
        workspace=session.workspace(),
        kind=kind,
        dataset=choice.dataset,
        hp=hp,
        spec=choice.spec,
        options=options,
    )
    session.session_jobs().add(spec.run_id)
    session.executor().submit(spec)
    return spec


def start_and_show(kind: str, choice: DataChoice, hp: Hyperparameters) -> None:
    """The Train page's Train and Fix it for me: start the job, show its run, and draw the page again."""
    try:
        spec = start_job(kind, choice, hp)
    except WorkspaceBusy as exc:  # another tab of this workspace started one a moment earlier: the store refused
        message = str(exc)
        st.warning(message[:1].upper() + message[1:], icon=":material/hourglass_top:")
        return
    state.SHOWN_RUN.set(spec.run_id)
    # This script run drew Train and Fix it for me enabled and would keep them so for the whole run (it stays
    # in the live loop): rerun, so that they are drawn disabled while the job is queued or running.
    st.rerun()
