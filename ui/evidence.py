"""More evidence on demand, below the diagnosis: the learning-rate finder and the learning curve.

Both run as jobs in the worker processes, like training; their results are runs of kind `lr_find` /
`learning_curve` in the store, so they survive a reload too. Each panel names the data and settings
it came from.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.charts import learning_curve_figure, lr_finder_figure
from core.hyperparameters import Hyperparameters
from core.jobs import LABELS, submit_run
from core.learning_curve import LearningCurveResult, interpret
from core.lr_finder import LrFinderResult
from ui import runs, session
from ui.widgets import DataChoice, plain

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


def panels(choice: DataChoice | None, hp: Hyperparameters | None) -> None:
    st.subheader("More evidence")
    ready = choice is not None and hp is not None
    columns = dict(zip(PANELS, st.columns(2), strict=True))
    latest = {kind: _latest(kind) for kind in PANELS}
    for kind, (label, help_text) in PANELS.items():
        view = latest[kind]
        busy = view is not None and view.active
        if columns[kind].button(label, key=kind, disabled=not ready or busy, help=help_text) and ready and not busy:
            spec = submit_run(
                session.store(), workspace=session.workspace(), kind=kind, dataset=choice.dataset, hp=hp, spec=choice.spec
            )  # type: ignore[union-attr,arg-type]
            session.session_jobs().add(spec.run_id)
            session.executor().submit(spec)
    running = any(v is not None and v.active for v in (_latest(kind) for kind in PANELS))
    _results(columns, running)


def _results(columns: dict[str, Any], running: bool) -> None:
    @st.fragment(run_every=0.5 if running else None)
    def show() -> None:
        still_running = False
        for kind, column in columns.items():
            view = _latest(kind)
            if view is None:
                continue
            column.caption(f"On {plain(runs.data_words(view.run.dataset))}; {plain(runs.knob_words(view.hp))}.")
            if view.status == "queued":
                still_running = True
                column.info(f"{LABELS[kind]}: queued, position {session.store().queue_position(view.id)}.")
            elif view.status == "running":
                still_running = True
                column.info(f"{LABELS[kind]} is running…")
            elif view.status == "failed":
                column.error(view.run.error or f"{LABELS[kind]} failed")
            elif kind == "lr_find" and "lr_find" in view.extra:
                result = LrFinderResult.from_dict(view.extra["lr_find"])
                column.plotly_chart(lr_finder_figure(result), key="lr_chart")
                column.caption(result.reason)
                if result.suggestion_index >= 0 and column.button(f"Use {result.snapped_suggestion:g}", key="use_lr"):
                    # A fragment's callback cannot reach the sidebar: hand the value over and rerun the whole page.
                    session.set_pending(session.hp_key("learning_rate"), result.snapped_suggestion)
                    st.rerun(scope="app")
            elif kind == "learning_curve" and "learning_curve" in view.extra:
                curve = LearningCurveResult.from_dict(view.extra["learning_curve"])
                if curve.points:
                    column.plotly_chart(learning_curve_figure(curve), key="curve_chart")
                column.info(interpret(curve))
        if running and not still_running:
            st.rerun()

    show()


def data_sentence() -> str | None:
    """The learning curve's one-sentence answer, once it has run, for the diagnosis card."""
    view = _latest("learning_curve")
    if view is None or view.status != "completed" or "learning_curve" not in view.extra:
        return None
    return f"Would more data help? {interpret(LearningCurveResult.from_dict(view.extra['learning_curve']))}"
