"""Tune: grid, random or Bayesian (TPE) search over chosen knobs, run by Optuna in the worker pool.

The page writes nothing but a study and its jobs: one `tune` job per worker process joins the same
Optuna study (core/store/studies.py names it after the workspace; core/workers/searches.py starts it);
the page polls the study's trials and draws them (ui/tune_view.py). Every trial is also a run in the
run store (kind "trial"), so the Compare page lists it.
"""

from __future__ import annotations

import time

import streamlit as st

from core.store import studies
from core.store.runs import ACTIVE
from core.tuning.study import best_trial, read_trials
from ui import data_picker, session, state, tune_form, tune_view

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
    tune_view.stop(store, jobs)
buttons[2].caption(
    f"Trials run on {pool.description}, one per worker at a time; Train waits for a free worker meanwhile. "
    "Each trial is kept as a run: compare them on the Compare page."
)


# --- the trials so far: table, optimization history, importance, parallel coordinates
view = tune_view.TrialsView.make(current)
trials_now = read_trials(storage, current.name) if current else []
view.draw(trials_now, live=running)

# --- the best trial: Apply best, and a validation curve of one knob around it
best = best_trial(trials_now)
curve_running = False
if current is not None and best is not None and not running:
    curve_running = tune_view.best_and_curve(store, storage, ws, current, best, base_hp, choice, texts)

# --- live updates while the search runs, or while a validation curve is drawn
if running:
    tune_view.follow(view, store, storage, jobs, trials_now)
elif current is not None and best is not None and curve_running:
    time.sleep(2 * tune_view.POLL_SECONDS)  # a validation curve is being drawn: look again, as a search does
    st.rerun()
