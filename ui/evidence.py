"""More evidence on demand, below the diagnosis: the learning-rate finder and the learning curve.

Both run as jobs in the worker processes, like training; their results are runs of kind `lr_find` /
`learning_curve` in the store, so they survive a reload too. Each panel names the data and settings
it came from, and says so plainly when those are no longer the sidebar's ("stale"): a result about
other data or other knobs is never shown as if it were about the current ones. Of the stored results
the panel shows the newest one that matches the current data and settings; only when none does, the
newest one, marked stale.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.data.dataset import Dataset
from core.experiments.baselines import fingerprint
from core.experiments.results import LearningCurveResult, LrFinderResult, interpret
from core.figures.charts import learning_curve_figure, lr_finder_figure
from core.hyperparameters import Hyperparameters
from core.workers.spec import LABELS
from ui import runs, session, state
from ui.jobs import start_job
from ui.knobs import apply_value
from ui.text import plain

if TYPE_CHECKING:  # the picker is edited often; this module needs only its type
    from ui.choice import DataChoice

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
# Knobs a result does not depend on. The range test sweeps the learning rate itself and trains no epochs:
# taking its suggestion (or changing the epochs) must not make it stale. The learning curve trains with all.
IGNORED: dict[str, frozenset[str]] = {
    "lr_find": frozenset({"learning_rate", "epochs", "early_stopping", "patience"}),
    "learning_curve": frozenset(),
}
SEARCHED = 20  # how many stored results of a kind are searched for one that matches the current settings
_FINGERPRINTS: dict[str, str] = {}  # dataset_id -> fingerprint: the page reruns often, the data rarely changes


def _fingerprint(choice: DataChoice) -> str:
    key = choice.dataset_id
    if key not in _FINGERPRINTS:
        if len(_FINGERPRINTS) > 256:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[key] = fingerprint(choice.dataset)
    return _FINGERPRINTS[key]


def _latest(kind: str) -> runs.RunView | None:
    found = session.store().list_runs(session.workspace(), kinds=(kind,), limit=1)
    return runs.RunView.of(found[0]) if found else None


def _knob_name(name: str) -> str:
    return {"learning_rate": "lr", "hidden_layers": "depth", "batch_size": "batch"}.get(name, name.replace("_", " "))


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def knob_changes(kind: str, then: Hyperparameters, now: Hyperparameters) -> list[str]:
    """The knobs this kind of result depends on that differ: ['lr 0.001 (now 0.01)', ...]."""
    changed = []
    for f in fields(Hyperparameters):
        if f.name in IGNORED.get(kind, frozenset()):
            continue
        old, new = getattr(then, f.name), getattr(now, f.name)
        if old != new:
            changed.append(f"{_knob_name(f.name)} {_value(old)} (now {_value(new)})")
    return changed


def staleness(kind: str, view: runs.RunView, data: str | None, hp: Hyperparameters | None) -> str | None:
    """Why this result is not about the current data and settings (a sentence), or None if it is.

    `data` is the current dataset's fingerprint; None (no usable data, impossible knobs) counts as changed."""
    reasons = []
    if data is None or view.run.fingerprint != data:
        reasons.append("other data")
    if hp is None:
        reasons.append("other settings")
    else:
        reasons.extend(knob_changes(kind, view.hp, hp))
    if not reasons:
        return None
    return (
        f"Stale: from {plain(runs.data_words(view.run.dataset))}, {plain(_settings_words(kind, view.hp))} "
        f"— not the current settings ({'; '.join(reasons)}). Press the button again for the current ones."
    )


def _settings_words(kind: str, hp: Hyperparameters) -> str:
    if kind == "lr_find":
        shape = "no hidden layer" if hp.hidden_layers == 0 else f"{hp.hidden_layers}×{hp.width} {hp.activation}"
        return f"{hp.optimizer}, batch {hp.batch_size}, {shape}"
    return runs.knob_words(hp)


def _current(kind: str, data: str | None, hp: Hyperparameters | None) -> runs.RunView | None:
    """The result to show: a job still going, else the newest that matches the current data and settings,
    else the newest (which the panel marks stale)."""
    found = [runs.RunView.of(r) for r in session.store().list_runs(session.workspace(), kinds=(kind,), limit=SEARCHED)]
    if not found:
        return None
    if found[0].active:
        return found[0]
    for view in found:
        if view.status == "completed" and staleness(kind, view, data, hp) is None:
            return view
    return found[0]


def panels(choice: DataChoice | None, hp: Hyperparameters | None) -> dict[str, str]:
    """The two buttons and their results. Returns {kind: run id} of the jobs still queued or running,
    for the page's live loop to watch (`finished`)."""
    st.subheader("More evidence")
    ready = choice is not None and hp is not None
    data = _fingerprint(choice) if choice is not None else None
    columns = dict(zip(PANELS, st.columns(2), strict=True))
    watching: dict[str, str] = {}
    for kind, (label, help_text) in PANELS.items():
        column = columns[kind]
        view = _current(kind, data, hp)
        busy = view is not None and view.active
        if column.button(label, key=kind, disabled=not ready or busy, help=help_text) and ready and not busy:
            assert choice is not None and hp is not None
            start_job(kind, choice, hp)
            view = _latest(kind)
        if view is None:
            continue
        if view.active:
            watching[kind] = view.id
        with column:
            _show(kind, view, staleness(kind, view, data, hp), hp)
    return watching


def finished(watching: dict[str, str]) -> bool:
    """Has any of these jobs ended since the page drew them?"""
    for run_id in watching.values():
        marker = session.store().marker(run_id)
        if marker is None or marker[0] not in runs.ACTIVE:
            return True
    return False


def _show(kind: str, view: runs.RunView, stale: str | None, hp: Hyperparameters | None) -> None:
    if stale and not view.active:
        st.warning(stale, icon=":material/history:")
    else:
        st.caption(f"On {plain(runs.data_words(view.run.dataset))}; {plain(_settings_words(kind, view.hp))}.")
    if view.status == "queued":
        st.info(f"{LABELS[kind]}: queued, position {session.store().queue_position(view.id)}.")
    elif view.status == "running":
        st.info(f"{LABELS[kind]} is running…")
    elif view.status == "failed":
        st.error(plain(view.run.error or f"{LABELS[kind]} failed"))
    elif kind == "lr_find" and "lr_find" in view.extra:
        result = LrFinderResult.from_dict(view.extra["lr_find"])
        st.plotly_chart(lr_finder_figure(result), key="lr_chart")
        st.caption(result.reason)
        if result.suggestion_index >= 0 and not stale:
            # Not in a fragment: the click reruns the whole app, so the sidebar slider shows the value.
            st.button(
                f"Use {result.snapped_suggestion:g}",
                key="use_lr",
                on_click=apply_value,
                args=("learning_rate", result.snapped_suggestion),
            )
            if hp is not None and hp.learning_rate == result.snapped_suggestion:
                st.caption(f"The learning-rate slider is at {result.snapped_suggestion:g}.")
    elif kind == "learning_curve" and "learning_curve" in view.extra:
        curve = LearningCurveResult.from_dict(view.extra["learning_curve"])
        if curve.points:
            st.plotly_chart(learning_curve_figure(curve), key="curve_chart")
        if stale:
            st.caption(interpret(curve))
        else:
            st.info(interpret(curve))


def _shown_run() -> runs.RunView | None:
    """The training run the page shows: its `shown_run`, else this workspace's newest (as the page picks)."""
    store = session.store()
    shown_id = state.SHOWN_RUN.get()
    run = store.get(shown_id) if shown_id else None
    if run is None or run.kind not in ("train", "fix"):
        newest = store.list_runs(session.workspace(), kinds=("train", "fix"), limit=1)
        run = newest[0] if newest else None
    return runs.RunView.of(run) if run is not None else None


def data_sentence(shown: runs.RunView | None = None, dataset: Dataset | None = None) -> str | None:
    """The learning curve's one-sentence answer for the diagnosis card of the run shown (by default the
    page's `shown_run`), only from a learning curve on that run's data; None when there is none.

    `dataset` is accepted for callers that have the run's data at hand; the stored fingerprint is used."""
    shown = shown if shown is not None else _shown_run()
    if shown is None:
        return None
    data = shown.run.fingerprint if dataset is None else fingerprint(dataset)
    if data is None:
        return None
    found = session.store().list_runs(session.workspace(), kinds=("learning_curve",), limit=SEARCHED)
    views = [runs.RunView.of(r) for r in found if r.status == "completed" and r.fingerprint == data]
    views = [v for v in views if "learning_curve" in v.extra]
    if not views:
        return None
    # Prefer a curve measured with the run's own settings; otherwise say which settings it used.
    same = [v for v in views if not knob_changes("learning_curve", v.hp, shown.hp)]
    view = same[0] if same else views[0]
    answer = interpret(LearningCurveResult.from_dict(view.extra["learning_curve"]))
    note = "" if same else f" (measured with {plain(runs.knob_words(view.hp))}, not this run's settings)"
    return f"Would more data help? {answer}{note}"
