"""The Tune page's views: the trials so far (table and charts, redrawn live), the best trial with Apply best
and a validation curve around it, and the loop that follows a running search."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.figures.charts import importance_figure, tune_history_figure, tune_parallel_figure, validation_curve_figure
from core.hyperparameters import KNOBS, Hyperparameters, search_space_defaults
from core.store import studies
from core.store.runs import ACTIVE, RunStore, StoredRun
from core.tuning.study import TrialOutcome, TuneSettings, importances, parse_space, read_trials
from ui import session, tune_form
from ui.choice import DataChoice
from ui.text import plain

POLL_SECONDS = 1.0


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


def one_knob_space(knob: str, texts: list[str]) -> str:
    """The range a validation curve sweeps: the one set above for this knob, else its default range."""
    mine = next((t for t in texts if t.startswith(f"{knob}=")), None)
    if mine is not None:
        return mine
    default = search_space_defaults()[knob]
    if default.kind in ("choice", "bool"):
        return f"{knob}=" + "|".join(str(v).lower() if isinstance(v, bool) else str(v) for v in default.choices)
    return f"{knob}={default.low:g}:{default.high:g}" + (":log" if default.log else "")


@dataclass
class TrialsView:
    """The search shown (`study`) and the places its trials are drawn, made once per script run. Every live
    redraw draws new keyed elements, so each gets its own keys (`redraws`)."""

    study: studies.StudyInfo | None
    status: DeltaGenerator
    table: DeltaGenerator
    charts: DeltaGenerator
    redraws: int = 0

    @classmethod
    def make(cls, study: studies.StudyInfo | None) -> TrialsView:
        return cls(study, st.empty(), st.empty(), st.empty())

    def draw(self, trials: list[TrialOutcome], *, live: bool) -> None:
        if self.study is None:
            self.status.info("No search yet in this workspace: choose knobs and a budget, then press **Start search**.")
            return
        done = sum(t.state in ("complete", "pruned", "failed") for t in trials)
        pruned = sum(t.state == "pruned" for t in trials)
        settings_text = self.study.attrs.get("settings", {})
        words = tune_form.STRATEGY_WORDS.get(settings_text.get("strategy", ""), "search")
        total = settings_text.get("n_trials", "?")
        line = f"{words}: {done} of {total} trials finished ({pruned} pruned)"
        if live:
            self.status.progress(min(1.0, done / total) if isinstance(total, int) and total else 0.0, text=line)
        else:
            self.status.caption(line + ".")
        if not trials:
            return
        self.redraws += 1
        tag = "" if self.redraws == 1 else f"_{self.redraws}"
        self.table.dataframe(trials_table(trials), hide_index=True, key=f"tune_table{tag}")
        with self.charts.container():
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


def best_and_curve(
    store: RunStore,
    storage: str,
    ws: str,
    current: studies.StudyInfo,
    best: TrialOutcome,
    base_hp: Hyperparameters | None,
    choice: DataChoice | None,
    texts: list[str],
) -> bool:
    """The best trial with Apply best, then the validation curve of one knob; True while that curve is drawn."""
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
        one = parse_space(one_knob_space(knob, texts))
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
    return curve_running


def stop(store: RunStore, jobs: list[StoredRun | None]) -> None:
    """Stop every job of the search that is still queued or running."""
    for job in jobs:
        if job is not None and job.status in ACTIVE:
            store.request_stop(job.id)


def follow(view: TrialsView, store: RunStore, storage: str, jobs: list[StoredRun | None], trials_now: list[TrialOutcome]) -> None:
    """While the search runs this script run stays here and redraws the trials as they finish."""
    seen = (len(trials_now), sum(t.state != "running" for t in trials_now))
    while True:
        time.sleep(POLL_SECONDS)
        statuses = [store.get(j.id) for j in jobs if j is not None]
        still = any(s is not None and s.status in ACTIVE for s in statuses)
        fresh = read_trials(storage, view.study.name) if view.study else []
        now = (len(fresh), sum(t.state != "running" for t in fresh))
        if now != seen:
            seen = now
            view.draw(fresh, live=True)
        if not still:
            st.rerun()
