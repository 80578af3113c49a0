"""Tune: grid, random or Bayesian (TPE) search over chosen knobs, run by Optuna in the worker pool.

The page writes nothing but a study and its jobs: one `tune` job per worker process joins the same
Optuna study (core/store/studies.py names it after the workspace; core/workers/searches.py starts it); the page polls the study's trials and
draws them. Every trial is also a run in the run store (kind "trial"), so the Compare page lists it.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from core.figures.charts import importance_figure, tune_history_figure, tune_parallel_figure, validation_curve_figure
from core.hyperparameters import KNOBS, search_space_defaults
from core.store import studies
from core.store.runs import ACTIVE
from core.tuning.study import TrialOutcome, TuneSettings, best_trial, importances, parse_space, read_trials
from ui import data_picker, session, state, tune_form
from ui.text import plain

POLL_SECONDS = 1.0

# --- session: the workspace, its store and workers, the Train page's knobs, the study storage
ws = session.workspace()
store = session.store()
pool = session.executor()
session.init_knobs()
choice = data_picker.dataset_widgets(int(state.widget_value(session.hp_key("seed"), 0)))
session.remember_knobs()
base_hp = tune_form.base_hyperparameters(session.remembered())
storage = studies.storage_url(store.url)

# --- the search form: knobs and ranges, strategy, budget, pruning
st.title("Tune: search the hyperparameters")
st.caption(tune_form.INTRO)

space_defaults = search_space_defaults()
settings, texts = tune_form.search_form(base_hp)

searches = [s for s in studies.workspace_studies(storage, ws) if s.attrs.get("kind", "search") == "search"]
current = searches[0] if searches else None
jobs = [store.get(run_id) for run_id in (current.attrs.get("runs", []) if current else [])]
running = any(j is not None and j.status in ACTIVE for j in jobs)


# --- Start search and Stop
buttons = st.columns([1, 1, 4], vertical_alignment="center")
ready = settings is not None and base_hp is not None and choice is not None and not running
if buttons[0].button("Start search", key="tune_start", type="primary", disabled=not ready) and ready:
    assert settings is not None and base_hp is not None and choice is not None
    tune_form.start(storage, settings, base_hp, choice)
if buttons[1].button("Stop", key="tune_stop", disabled=not running):
    for job in jobs:
        if job is not None and job.status in ACTIVE:
            store.request_stop(job.id)
buttons[2].caption(
    f"Trials run on {pool.description}, one per worker at a time; Train waits for a free worker meanwhile. "
    "Each trial is kept as a run: compare them on the Compare page."
)


def trials_table(trials: list[TrialOutcome]) -> pd.DataFrame:
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        row: dict[str, Any] = {"trial": t.number, "state": t.state, "kept val loss": t.value, "val metric": t.metric}
        row |= {KNOBS[k].label if k in KNOBS else k: v for k, v in t.params.items()}
        row |= {"epochs": t.epochs, "seconds": round(t.seconds, 1), "why stopped": t.reason or ""}
        rows.append(row)
    return pd.DataFrame(rows)


def apply_best(params: dict[str, Any]) -> None:
    """Callback of "Apply best": the knobs take the best trial's values (the Train page shows them)."""
    for name, value in params.items():
        session.set_knob(session.hp_key(name), value)


def one_knob_space(knob: str) -> str:
    """The range a validation curve sweeps: the one set above for this knob, else its default range."""
    mine = next((t for t in texts if t.startswith(f"{knob}=")), None)
    if mine is not None:
        return mine
    default = space_defaults[knob]
    if default.kind in ("choice", "bool"):
        return f"{knob}=" + "|".join(str(v).lower() if isinstance(v, bool) else str(v) for v in default.choices)
    return f"{knob}={default.low:g}:{default.high:g}" + (":log" if default.log else "")


# --- the trials so far: table, optimization history, importance, parallel coordinates
status_slot, table_slot, charts_slot = st.empty(), st.empty(), st.empty()


redraws = [0]  # live redraws in this script run: each draws new keyed elements, so each gets its own keys


def draw(trials: list[TrialOutcome], *, live: bool) -> None:
    if current is None:
        status_slot.info("No search yet in this workspace: choose knobs and a budget, then press **Start search**.")
        return
    done = sum(t.state in ("complete", "pruned", "failed") for t in trials)
    pruned = sum(t.state == "pruned" for t in trials)
    settings_text = current.attrs.get("settings", {})
    words = tune_form.STRATEGY_WORDS.get(settings_text.get("strategy", ""), "search")
    total = settings_text.get("n_trials", "?")
    line = f"{words}: {done} of {total} trials finished ({pruned} pruned)"
    if live:
        status_slot.progress(min(1.0, done / total) if isinstance(total, int) and total else 0.0, text=line)
    else:
        status_slot.caption(line + ".")
    if not trials:
        return
    redraws[0] += 1
    tag = "" if redraws[0] == 1 else f"_{redraws[0]}"
    table_slot.dataframe(trials_table(trials), hide_index=True, key=f"tune_table{tag}")
    with charts_slot.container():
        st.plotly_chart(tune_history_figure(trials), key=f"tune_history{tag}")
        finished = [t for t in trials if t.state == "complete"]
        if len(finished) >= 3:
            left, right = st.columns(2)
            found = importances(trials)
            if found:
                left.plotly_chart(importance_figure(found), key=f"tune_importance{tag}")
            else:
                left.caption("Importance needs at least two searched knobs.")
            right.plotly_chart(tune_parallel_figure(trials), key=f"tune_parallel{tag}")
        else:
            st.caption("Importance and parallel coordinates appear once three trials have finished.")


trials_now = read_trials(storage, current.name) if current else []
draw(trials_now, live=running)

# --- the best trial: Apply best, and a validation curve of one knob around it
best = best_trial(trials_now)
if current is not None and best is not None and not running:
    st.subheader("Best trial")
    params = ", ".join(
        f"{KNOBS[k].label.lower()} {KNOBS[k].format(v)}" if k in KNOBS else f"{k} {v}" for k, v in best.params.items()
    )
    st.markdown(f"Trial **{best.number}**: kept validation loss **{best.value:.4g}** with {plain(params)}.")
    if st.button("Apply best", key="tune_apply", type="primary", on_click=apply_best, args=(best.params,)):
        st.success("The best trial's knobs are set: the Train page shows them; press Train there to see its diagnosis.")

    st.subheader("Validation curve")
    st.caption("One knob at a time, the others fixed at the best trial's values: how the validation loss depends on it.")
    searched = list(current.attrs.get("settings", {}).get("space", {}))
    curves = [
        s
        for s in studies.workspace_studies(storage, ws)
        if s.attrs.get("kind") == "validation_curve" and s.attrs.get("parent") == current.name
    ]
    knob = st.selectbox("Knob", searched, format_func=lambda n: KNOBS[n].label if n in KNOBS else n, key="tune_curve_knob")
    curve = next((c for c in curves if c.attrs.get("knob") == knob), None)
    curve_jobs = [store.get(r) for r in (curve.attrs.get("runs", []) if curve else [])]
    curve_running = any(j is not None and j.status in ACTIVE for j in curve_jobs)
    can_draw = bool(knob) and base_hp is not None and choice is not None
    if st.button("Draw the validation curve", key="tune_curve", disabled=curve_running or not can_draw) and can_draw:
        assert base_hp is not None and choice is not None
        one = parse_space(one_knob_space(knob))
        fixed = base_hp.replace(**{k: v for k, v in best.params.items() if k != knob})
        curve_settings = TuneSettings(strategy="grid", n_trials=5, pruner="none", seed=fixed.seed, space=one, grid_points=5)
        tune_form.start(
            storage, curve_settings, fixed, choice, kind="validation_curve", extra={"parent": current.name, "knob": knob}
        )
    if curve is not None:
        points = read_trials(storage, curve.name)
        fixed_knobs = {k: v for k, v in best.params.items() if k != knob}
        st.plotly_chart(validation_curve_figure(knob, points, fixed=fixed_knobs), key="tune_curve_chart")
        if curve_running:
            st.caption(f"Drawing: {sum(t.state == 'complete' for t in points)} of 5 points so far.")

def follow(trials_now: list[TrialOutcome]) -> None:
    """While the search runs this script run stays here and redraws the trials as they finish."""
    seen = (len(trials_now), sum(t.state != "running" for t in trials_now))
    while True:
        time.sleep(POLL_SECONDS)
        statuses = [store.get(j.id) for j in jobs if j is not None]
        still = any(s is not None and s.status in ACTIVE for s in statuses)
        fresh = read_trials(storage, current.name) if current else []
        now = (len(fresh), sum(t.state != "running" for t in fresh))
        if now != seen:
            seen = now
            draw(fresh, live=True)
        if not still:
            st.rerun()


# --- live updates while the search runs, or while a validation curve is drawn
if running:
    follow(trials_now)
elif current is not None and best is not None and curve_running:
    time.sleep(2 * POLL_SECONDS)  # a validation curve is being drawn: look again, as a search does
    st.rerun()
