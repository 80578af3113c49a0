"""More evidence on demand, below the diagnosis: the learning-rate finder and the learning curve.

Both run as BackgroundTasks (never inside the page script); a fragment polls them while they run.
"""

from __future__ import annotations

import streamlit as st

from core.charts import learning_curve_figure, lr_finder_figure
from core.data import Dataset
from core.hyperparameters import Hyperparameters
from core.jobs import BackgroundTask
from core.learning_curve import interpret, learning_curve
from core.lr_finder import find_learning_rate
from pages.widgets import apply_value


def _tasks() -> dict[str, BackgroundTask]:
    return st.session_state.setdefault("tasks", {})


def _start(name: str, task: BackgroundTask) -> None:
    old = _tasks().get(name)
    if old is not None and old.running:
        return
    _tasks()[name] = task.start()


def panels(dataset: Dataset | None, hp: Hyperparameters | None) -> None:
    st.subheader("More evidence")
    ready = dataset is not None and hp is not None
    lr_col, curve_col = st.columns(2)
    if (
        lr_col.button(
            "Find a learning rate",
            key="lr_find",
            disabled=not ready,
            help="Learning-rate range test (fastai/Lightning): "
            "train on a sweep of rising learning rates and suggest one from the shape of the loss.",
        )
        and ready
    ):
        _start("lr_find", BackgroundTask(lambda stop: find_learning_rate(dataset, hp), label="Learning-rate finder"))  # type: ignore[arg-type]
    if (
        curve_col.button(
            "Would more data help?",
            key="learning_curve",
            disabled=not ready,
            help="Train on 10 %, 25 %, 50 % and 100 % of the training set and compare the final losses.",
        )
        and ready
    ):
        _start(
            "learning_curve", BackgroundTask(lambda stop: learning_curve(dataset, hp, stop_event=stop), label="Learning curve")
        )  # type: ignore[arg-type]
    running = any(task.running for task in _tasks().values())
    _results(lr_col, curve_col, running)


def _results(lr_col, curve_col, running: bool) -> None:  # type: ignore[no-untyped-def]
    @st.fragment(run_every=0.5 if running else None)
    def show() -> None:
        tasks = _tasks()
        for name, column in (("lr_find", lr_col), ("learning_curve", curve_col)):
            task = tasks.get(name)
            if task is None:
                continue
            if task.running:
                column.info(f"{task.label} is running…")
            elif task.error:
                column.error(task.error)
            elif name == "lr_find":
                result = task.result
                column.plotly_chart(lr_finder_figure(result), key="lr_chart")
                column.caption(result.reason)
                if result.suggestion_index >= 0:
                    column.button(
                        f"Use {result.snapped_suggestion:g}",
                        key="use_lr",
                        on_click=apply_value,
                        args=("learning_rate", result.snapped_suggestion),
                    )
            else:
                column.plotly_chart(learning_curve_figure(task.result), key="curve_chart")
                column.info(interpret(task.result))
        if running and not any(task.running for task in tasks.values()):
            st.rerun()

    show()


def data_sentence() -> str | None:
    """The learning curve's one-sentence answer, once it has run, for the diagnosis card."""
    task = _tasks().get("learning_curve")
    if task is None or not task.done or task.error or task.result is None:
        return None
    return f"Would more data help? {interpret(task.result)}"
