"""More evidence on demand, below the diagnosis: the learning-rate finder and the learning curve.

Both run as jobs in the worker processes, like training; their results are runs of kind `lr_find` /
`learning_curve` in the store, so they survive a reload too. Each panel names the data and settings
it came from.
"""

from __future__ import annotations

import streamlit as st

from core.charts import learning_curve_figure, lr_finder_figure
from core.hyperparameters import Hyperparameters
from core.jobs import LABELS, submit_run
from core.learning_curve import LearningCurveResult, interpret
from core.lr_finder import LrFinderResult
from ui import runs, session
from ui.data_picker import DataChoice
from ui.knobs import apply_value
from ui.text import plain

PANELS = {
    "lr_find": (
        "Find a learning rate",
        "Learning-rate range test (fastai/Lightning): train on a sweep of rising learning rates and suggest one "
        "from the shape of the loss.",
    ),
    "learning_curve": (
        "Would more data help?",
        "Train on 10 %, 25 %, 50 % and 100 % of the training set and compare the final losses.",
    ),
}


def _latest(kind: str) -> runs.RunView | None:
    found = session.store().list_runs(session.workspace(), kinds=(kind,), limit=1)
    return runs.RunView.of(found[0]) if found else None


def panels(choice: DataChoice | None, hp: Hyperparameters | None) -> dict[str, str]:
    """The two buttons and their latest results. Returns {kind: run id} of the jobs still queued or
    running, for the page's live loop to watch (`finished`)."""
    st.subheader("More evidence")
    ready = choice is not None and hp is not None
    columns = dict(zip(PANELS, st.columns(2), strict=True))
    watching: dict[str, str] = {}
    for kind, (label, help_text) in PANELS.items():
        column = columns[kind]
        view = _latest(kind)
        busy = view is not None and view.active
        if column.button(label, key=kind, disabled=not ready or busy, help=help_text) and ready and not busy:
            assert choice is not None and hp is not None
            store, ws = session.store(), session.workspace()
            spec = submit_run(store, workspace=ws, kind=kind, dataset=choice.dataset, hp=hp, spec=choice.spec)
            session.session_jobs().add(spec.run_id)
            session.executor().submit(spec)
            view = _latest(kind)
        if view is None:
            continue
        if view.active:
            watching[kind] = view.id
        with column:
            _show(kind, view)
    return watching


def finished(watching: dict[str, str]) -> bool:
    """Has any of these jobs ended since the page drew them?"""
    for run_id in watching.values():
        marker = session.store().marker(run_id)
        if marker is None or marker[0] not in runs.ACTIVE:
            return True
    return False


def _show(kind: str, view: runs.RunView) -> None:
    st.caption(f"On {plain(runs.data_words(view.run.dataset))}; {plain(runs.knob_words(view.hp))}.")
    if view.status == "queued":
        st.info(f"{LABELS[kind]}: queued, position {session.store().queue_position(view.id)}.")
    elif view.status == "running":
        st.info(f"{LABELS[kind]} is running…")
    elif view.status == "failed":
        st.error(view.run.error or f"{LABELS[kind]} failed")
    elif kind == "lr_find" and "lr_find" in view.extra:
        result = LrFinderResult.from_dict(view.extra["lr_find"])
        st.plotly_chart(lr_finder_figure(result), key="lr_chart")
        st.caption(result.reason)
        if result.suggestion_index >= 0:
            st.button(
                f"Use {result.snapped_suggestion:g}",
                key="use_lr",
                on_click=apply_value,
                args=("learning_rate", result.snapped_suggestion),
            )
    elif kind == "learning_curve" and "learning_curve" in view.extra:
        curve = LearningCurveResult.from_dict(view.extra["learning_curve"])
        if curve.points:
            st.plotly_chart(learning_curve_figure(curve), key="curve_chart")
        st.info(interpret(curve))


def data_sentence() -> str | None:
    """The learning curve's one-sentence answer, once it has run, for the diagnosis card."""
    view = _latest("learning_curve")
    if view is None or view.status != "completed" or "learning_curve" not in view.extra:
        return None
    return f"Would more data help? {interpret(LearningCurveResult.from_dict(view.extra['learning_curve']))}"
