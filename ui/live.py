"""The Train page's run view: the run's heading, status, live and final charts, its verdict, and the live loop.

The page never trains: it reads the run back from the store (queue position, live epochs, verdict).
While something of the workspace is queued or running, `follow` keeps the script run in a loop that
redraws from the store (server-side: no browser timer to lose under load).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.figures.charts import data_figure, loss_figure, metric_figure, surface_figure
from core.store.runs import RunStore
from ui import evidence, live_chart, runs, state, verdict
from ui.choice import DataChoice
from ui.text import plain

POLL_SECONDS = 0.25  # how often the page looks at the store while a run is queued or running
REDRAW_SECONDS = 2.0  # at most one redraw every 2 s: each redraw costs Chromium about 0.2 s of its main thread
# (the Plotly charts are re-created), and on a 2-core server that CPU is the worker's. At 0.5 s the renderer
# took 112 % CPU and the worker's epochs ran a third slower (bench/bench_classroom.py, REPORT-classroom.md).


@dataclass(frozen=True)
class Page:
    """What the run view needs from the page that shows it."""

    store: RunStore
    workers: str  # the executor's description, e.g. "2 local worker processes"
    choice: DataChoice | None  # the sidebar's data, drawn before anything is trained
    log_scale: bool


@dataclass(frozen=True)
class LiveSlots:
    """The live view's places, made once per script run. The loop rewrites only the status line
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


def view_of(store: RunStore, run_id: str | None) -> runs.RunView | None:
    run = store.get(run_id) if run_id else None
    return runs.RunView.of(run) if run is not None else None


def shown_run(store: RunStore, ws: str, active_id: str | None) -> tuple[str | None, list[runs.RunView]]:
    """Which run the page shows (the active one, else the one picked, else the newest), and the workspace's runs."""
    history_runs = [runs.RunView.of(r) for r in store.list_runs(ws, kinds=("train", "fix"), limit=50)]
    if active_id is not None:
        state.SHOWN_RUN.set(active_id)
    shown_id = state.SHOWN_RUN.get()
    if history_runs and shown_id not in [v.id for v in history_runs]:
        shown_id = history_runs[0].id
    return shown_id, history_runs


def run_picker(slot: DeltaGenerator, history_runs: list[runs.RunView], shown_id: str | None) -> None:
    """ "Run shown": every run of the workspace, the shown one selected."""
    labels = {v.id: runs.run_label(v) for v in history_runs}
    # "shown_run" is the truth (a new run takes it over); the picker only changes it through its callback.
    # Its own state would otherwise outlive the reruns in which it was hidden and bring an old run back.
    state.RUN_PICKER.set(shown_id)
    slot.selectbox(
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


def curves(slots: LiveSlots, view: runs.RunView, best: int | None, *, live: bool, log_scale: bool) -> None:
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


def _first_screen(slots: LiveSlots, page: Page) -> None:
    live_chart.show(slots.live, [], key="live_charts")
    slots.status.info(
        "Press **Train** to start. Below: the data the network will learn from; while it trains, its loss curves "
        "and (for two features) what it predicts over the plane appear here."
    )
    if page.choice is not None:  # the first minute: the data itself, before anything is trained
        slots.charts.plotly_chart(data_figure(page.choice.dataset), key="data_chart")


def _finished(slots: LiveSlots, view: runs.RunView, page: Page) -> None:
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
            st.error(f"This run failed: {plain(view.run.error or 'no message was recorded')}")
        st.caption(f"Last run: {words} after {len(view.history)} epoch(s){kept}{scores}.")
    curves(slots, view, view.run.best_epoch, live=False, log_scale=page.log_scale)


def live_view(slots: LiveSlots, view: runs.RunView | None, page: Page, *, heading: bool = True) -> None:
    if view is None:
        _first_screen(slots, page)
        return
    if heading:
        with slots.heading.container():
            run_heading(view)
    if view.status == "queued":
        position = page.store.queue_position(view.id)
        slots.status.info(
            f"Queued, position {position}: waiting for a free worker ({page.workers}).", icon=":material/hourglass_top:"
        )
    elif view.status == "running":
        step = f"Fix it for me, round {view.extra.get('round', 0)}: " if view.run.kind == "fix" else ""
        epochs = len(view.history)
        slots.status.progress(min(1.0, epochs / view.hp.epochs), text=f"{step}epoch {epochs} of up to {view.hp.epochs}")
        curves(slots, view, None, live=True, log_scale=page.log_scale)
    else:
        _finished(slots, view, page)


def diagnosis_view(slot: DeltaGenerator, view: runs.RunView, *, log_scale: bool) -> None:
    with slot.container():
        if view.diagnosis is not None and view.history:
            st.subheader("Diagnosis")
            if view.run.kind == "fix" and "fix" in view.extra:
                verdict.fix_path(view.extra["fix"], log_scale=log_scale)
            verdict.diagnosis_card(view.diagnosis, view.hp)
            st.page_link(
                "pages/learn.py",
                label="Look inside the network: this run's parameters, layer by layer",
                icon=":material/neurology:",
            )
            if sentence := evidence.data_sentence():
                st.info(sentence)
            if "surface" in view.extra:
                st.plotly_chart(surface_figure(view.extra["surface"]), key="boundary_chart")
        elif view.status == "stopped":
            st.info("Stopped before the first epoch: nothing to diagnose. Press **Train** to start again.")


def follow(
    page: Page,
    slots: LiveSlots,
    diagnosis_slot: DeltaGenerator,
    shown: runs.RunView | None,
    watching: dict[str, str],
) -> None:
    """Stay in this script run while the shown run (or an evidence panel's job) is queued or running.

    It looks every POLL_SECONDS, redraws every REDRAW_SECONDS at most; touching a widget interrupts it,
    and the new script run comes back here; when the run ends the page reruns once to show its verdict.
    Each look reads only (status, updated); the whole run is read when a redraw is due and it changed.
    With 30 sessions on one server, reading every history four times a second held the GIL that all
    sessions share."""
    shown_id = shown.id if shown is not None else None
    signature, drawn = None, 0.0
    while True:
        time.sleep(POLL_SECONDS)
        marker = page.store.marker(shown_id) if shown_id else None
        if marker is None and not watching:
            break
        status = marker[0] if marker is not None else None
        active_now = status in runs.ACTIVE
        if shown is not None and shown.active and not active_now:
            # The run is over: its verdict goes on the page from here, at once, and the rerun then draws
            # the rest (buttons enabled, the final charts). Waiting for the whole page's rerun first put
            # ~0.15 s of script and the browser's rebuild of every element before the verdict.
            if (ended := view_of(page.store, shown_id)) is not None:
                diagnosis_view(diagnosis_slot, ended, log_scale=page.log_scale)
            st.rerun()
        if watching and evidence.finished(watching):
            st.rerun()
        position = page.store.queue_position(shown_id) if shown_id and status == "queued" else None
        now = (marker, position)
        if now != signature and active_now and time.monotonic() - drawn >= REDRAW_SECONDS:
            current = view_of(page.store, shown_id)
            if current is None:
                break
            drawn = time.monotonic()
            signature = now
            live_view(slots, current, page, heading=False)
        if not active_now and not watching:
            break
