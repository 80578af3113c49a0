"""Train & diagnose: set the knobs, send a job to a worker process, watch its curves, read the verdict.

The page never trains: it records a queued run in the run store, hands it to the executor and reads
the run back from the store (queue position, live epochs, verdict) from a fragment that polls twice
a second while the run is queued or running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.figures.charts import data_figure, loss_figure, metric_figure, surface_figure
from core.hyperparameters import SCENARIOS, Hyperparameters
from core.workers.spec import submit_run
from ui import data_picker, estimate, evidence, knobs, live_chart, runs, session, share, state, verdict
from ui.choice import DataChoice
from ui.text import plain

POLL_SECONDS = 0.25  # how often the page looks at the store while a run is queued or running
REDRAW_SECONDS = 2.0  # at most one redraw every 2 s: each redraw costs Chromium about 0.2 s of its main thread
# (the Plotly charts are re-created), and on a 2-core server that CPU is the worker's. At 0.5 s the renderer
# took 112 % CPU and the worker's epochs ran a third slower (bench/bench_classroom.py, REPORT-classroom.md).

ws = session.workspace()
store = session.store()
pool = session.executor()
session.init_knobs()
link_problems = share.apply_link()  # a shared link's data and knobs, once per session, before the widgets

st.sidebar.selectbox(
    "Teaching scenario",
    list(SCENARIOS),
    index=None,
    placeholder="Pick a preset…",
    key=state.SCENARIO.key,
    on_change=knobs.apply_scenario,
    format_func=lambda name: f"{name.replace('_', ' ')}",
    help="Presets that show one fit problem each. They set the dataset and the knobs.",
)
if scenario := state.SCENARIO.get():
    st.sidebar.caption(SCENARIOS[scenario]["description"])
hp_seed = int(state.widget_value(session.hp_key("seed")))
choice = data_picker.dataset_widgets(hp_seed)
hp = knobs.hyperparameter_widgets()
if choice is not None and hp is not None:
    knobs.parameter_table(choice.dataset, hp)
session.remember_knobs()
share.share_panel(session.remembered(), ws, builtin=choice is None or "file" not in choice.spec)


def start(choice: DataChoice, hp: Hyperparameters, kind: str) -> None:
    spec = submit_run(store, workspace=ws, kind=kind, dataset=choice.dataset, hp=hp, spec=choice.spec)
    session.session_jobs().add(spec.run_id)
    state.SHOWN_RUN.set(spec.run_id)
    pool.submit(spec)
    # This script run drew Train and Fix it for me enabled and would keep them so for the whole run (it stays
    # in the live loop below): rerun, so that they are drawn disabled while the job is queued or running.
    st.rerun()


st.title("FitLab: why does my network fit badly?")
link_slot = st.container()  # present in every script run, like every slot below: see estimate_slot
for problem in link_problems:
    link_slot.warning(f"The link's setting was not used: {plain(problem)}", icon=":material/link_off:")
active = store.active_run(ws)
left, middle, right, info = st.columns([1, 1.4, 1, 4], vertical_alignment="center")
ready = active is None and choice is not None and hp is not None
# Started from the script body, not a callback: the run uses the knobs exactly as this rerun read them.
train_clicked = left.button("Train", key="train", type="primary", disabled=not ready)
if train_clicked and active is None and choice is not None and hp is not None:
    start(choice, hp, "train")
fix_help = "Train, diagnose, apply the top recommendation, and repeat until a good fit (at most 3 changes)."
fix_clicked = middle.button("Fix it for me", key="fix", disabled=not ready, help=fix_help)
if fix_clicked and active is None and choice is not None and hp is not None:
    start(choice, hp, "fix")
if right.button("Stop", key="stop", disabled=active is None) and active is not None:
    store.request_stop(active.id)
if choice is not None:
    ds = choice.dataset
    info.caption(
        f"Dataset **{plain(ds.name)}** ({ds.task}): {len(ds.y_train)} train / {len(ds.y_val)} validation / "
        f"{len(ds.y_test)} test rows, {ds.n_inputs} inputs. Training runs on {pool.description}."
    )
# A slot in every script run, filled only before a run: an element drawn in some script runs and not in
# others shifts every later element's place, and the browser then shows the old and the new copy of the
# panels below (two "Find a learning rate" buttons) until the script run ends -- which a live loop delays.
estimate_slot = st.empty()
if choice is not None and hp is not None and active is None:
    estimate.show(estimate_slot, choice, hp)  # how long Train will take, calibrated here; a warning for minutes
log_scale = st.toggle("Log-scale loss axis", key="log_scale")

history_runs = [runs.RunView.of(r) for r in store.list_runs(ws, kinds=("train", "fix"), limit=50)]
if active is not None:
    state.SHOWN_RUN.set(active.id)
shown_id = state.SHOWN_RUN.get()
if history_runs and shown_id not in [v.id for v in history_runs]:
    shown_id = history_runs[0].id
# Fixed slots: the same elements at the same places in every rerun. During a run this script run stays in
# the live loop below and never ends, so anything the last rerun drew and this one does not overwrite
# (the old verdict, the picker) would stay on the page, stale, until the run ends.
picker_slot = st.empty()
if len(history_runs) > 1 and active is None:
    labels = {v.id: runs.run_label(v) for v in history_runs}
    # "shown_run" is the truth (a new run takes it over); the picker only changes it through its callback.
    # Its own state would otherwise outlive the reruns in which it was hidden and bring an old run back.
    state.RUN_PICKER.set(shown_id)
    picker_slot.selectbox(
        "Run shown",
        list(labels),
        format_func=labels.__getitem__,
        key=state.RUN_PICKER.key,
        on_change=lambda: state.SHOWN_RUN.set(state.RUN_PICKER.get()),
        help="Every run of this workspace is kept (also across reloads and server restarts).",
    )


def run_heading(view: runs.RunView) -> None:
    """Above every chart: the data and the settings of the run shown, not the sidebar's."""
    st.markdown(f"**Run {runs.short_id(view.id)}** ({runs.when(view.run)}) on {plain(runs.data_words(view.run.dataset))}")
    st.caption(plain(runs.knob_words(view.hp)))


@dataclass(frozen=True)
class LiveSlots:
    """The live view's places, made once per script run. The loop below rewrites only the status line
    and the two charts in place: rebuilding the whole view each time re-created every element in the
    browser (about 40 layouts and 0.2 s of Chromium's main thread per redraw, measured over CDP)."""

    heading: DeltaGenerator
    status: DeltaGenerator
    live: DeltaGenerator  # the live component, in every script run (empty when nothing streams): see make()
    charts: DeltaGenerator

    @classmethod
    def make(cls) -> LiveSlots:
        slots = cls(st.empty(), st.empty(), st.empty(), st.empty())
        # Mounted from the first screen on, with nothing to show (no height), at the same place and key in
        # every script run: its frame loads Plotly.js while the student reads the page, and a run's live
        # charts draw into that same frame. Mounted at the first redraw instead, loading Plotly.js took
        # ~2 s of Chromium's main thread in the middle of the run (CDP profile, `overfitting` preset) -- CPU
        # that a 2-core server takes from the worker that trains.
        live_chart.show(slots.live, [], key="live_charts", hold=True)
        return slots


def curves(slots: LiveSlots, view: runs.RunView, best: int | None, *, live: bool) -> None:
    """Loss and metric charts. While a run streams they go to the live component, which updates the
    same charts in place at every redraw; a finished run's charts are Plotly charts with their toolbar."""
    if not view.history:
        if not live:
            live_chart.show(slots.live, [], key="live_charts")
        return
    loss = loss_figure(view.history, log_scale=log_scale, baselines=view.baselines, best_epoch=best)
    metric = metric_figure(view.history, view.task)
    if live:
        figures = [live_chart.payload(loss), live_chart.payload(metric)]
        if surface := view.extra.get("live_surface"):  # the worker draws it every ~2 s for 2-feature data
            boundary = surface_figure(surface)
            boundary.update_layout(title=f"What the network predicts, at epoch {surface.get('epoch', '?')}")
            figures.append(live_chart.payload(boundary, full=True))
        live_chart.show(slots.live, figures, key="live_charts")
        slots.charts.empty()
        return
    with slots.charts.container():
        left, right = st.columns(2)
        left.plotly_chart(loss, key="loss_chart")
        right.plotly_chart(metric, key="metric_chart")
    live_chart.show(slots.live, [], key="live_charts")  # cleared once the finished run's charts are sent


def live_view(slots: LiveSlots, view: runs.RunView | None, *, heading: bool = True) -> None:
    if view is None:
        live_chart.show(slots.live, [], key="live_charts")
        slots.status.info(
            "Press **Train** to start. Below: the data the network will learn from; while it trains, its loss curves "
            "and (for two features) what it predicts over the plane appear here."
        )
        if choice is not None:  # the first minute: the data itself, before anything is trained
            slots.charts.plotly_chart(data_figure(choice.dataset), key="data_chart")
        return
    if heading:
        with slots.heading.container():
            run_heading(view)
    if view.status == "queued":
        position = store.queue_position(view.id)
        slots.status.info(
            f"Queued, position {position}: waiting for a free worker ({pool.description}).", icon=":material/hourglass_top:"
        )
    elif view.status == "running":
        step = f"Fix it for me, round {view.extra.get('round', 0)}: " if view.run.kind == "fix" else ""
        epochs = len(view.history)
        slots.status.progress(min(1.0, epochs / view.hp.epochs), text=f"{step}epoch {epochs} of up to {view.hp.epochs}")
        curves(slots, view, None, live=True)
    else:
        test = view.run.test or {}
        words = runs.STATUS_WORDS.get(view.status, view.status)
        scores = ""
        if test.get("loss") is not None:
            scores = f"; test loss {test['loss']:.4g}, test metric {test['metric']:.3f}"
        kept = ""
        if view.run.kept_epoch:
            kept = f"; best epoch {view.run.best_epoch}, kept epoch {view.run.kept_epoch}"
        with slots.status.container():
            if view.status == "failed":
                st.error(f"This run failed: {view.run.error}")
            st.caption(f"Last run: {words} after {len(view.history)} epoch(s){kept}{scores}.")
        curves(slots, view, view.run.best_epoch, live=False)


def _view(run_id: str | None) -> runs.RunView | None:
    run = store.get(run_id) if run_id else None
    return runs.RunView.of(run) if run is not None else None


live_slots = LiveSlots.make()
diagnosis_slot = st.empty()
shown_view = _view(shown_id)
if active is not None and active.id == shown_id and shown_view is not None and not shown_view.active:
    # It ended between the two reads above (a short run): this script run drew Train disabled and Stop
    # enabled for a run that is over, and would not come back; draw the page again as it is now.
    st.rerun()


def diagnosis_view(view: runs.RunView) -> None:
    with diagnosis_slot.container():
        if view.diagnosis is not None and view.history:
            st.subheader("Diagnosis")
            if view.run.kind == "fix" and "fix" in view.extra:
                verdict.fix_path(view.extra["fix"], log_scale=log_scale)
            verdict.diagnosis_card(view.diagnosis, view.hp)
            if sentence := evidence.data_sentence():
                st.info(sentence)
            if "surface" in view.extra:
                st.plotly_chart(surface_figure(view.extra["surface"]), key="boundary_chart")
        elif view.status == "stopped":
            st.info("Stopped before the first epoch: nothing to diagnose. Press **Train** to start again.")


if shown_view is not None and not shown_view.active:
    # The verdict is sent before the finished run's charts, which sit above it: the browser shows what the
    # student waited for first, while the live charts stay until the final ones replace them. Sent after,
    # it waited for Chromium to build the three final Plotly charts (~0.5-1 s of its main thread at the
    # end of the `overfitting` preset, CDP profile).
    diagnosis_view(shown_view)
live_view(live_slots, shown_view)

watching = evidence.panels(choice, hp)

# Live updates: while something of this workspace is queued or running, this script run stays here and
# redraws the live view from the store (it looks every POLL_SECONDS, redraws every REDRAW_SECONDS at most;
# server-side: no browser timer to lose under load). Touching a widget interrupts it, and the new run comes
# back here; when the run ends the page reruns once to show its verdict.
if (shown_view is not None and shown_view.active) or watching:
    # Each look reads only (status, updated); the whole run is read when a redraw is due and it changed.
    # With 30 sessions on one server, reading every history four times a second held the GIL that all
    # sessions share.
    signature, drawn = None, 0.0
    while True:
        time.sleep(POLL_SECONDS)
        marker = store.marker(shown_id) if shown_id else None
        if marker is None and not watching:
            break
        status = marker[0] if marker is not None else None
        active_now = status in runs.ACTIVE
        if shown_view is not None and shown_view.active and not active_now:
            # The run is over: its verdict goes on the page from here, at once, and the rerun then draws
            # the rest (buttons enabled, the final charts). Waiting for the whole page's rerun first put
            # ~0.15 s of script and the browser's rebuild of every element before the verdict.
            if (ended := _view(shown_id)) is not None:
                diagnosis_view(ended)
            st.rerun()
        if watching and evidence.finished(watching):
            st.rerun()
        position = store.queue_position(shown_id) if shown_id and status == "queued" else None
        now = (marker, position)
        if now != signature and active_now and time.monotonic() - drawn >= REDRAW_SECONDS:
            current = _view(shown_id)
            if current is None:
                break
            drawn = time.monotonic()
            signature = now
            live_view(live_slots, current, heading=False)
        if not active_now and not watching:
            break
