"""Train & diagnose: set the knobs, train in a background worker, watch the curves, read the verdict."""

from __future__ import annotations

import streamlit as st

from core.charts import boundary_figure, loss_figure, metric_figure
from core.hyperparameters import SCENARIOS, Hyperparameters
from core.jobs import FixJob, TrainingJob
from pages import evidence, widgets


class JobSlot:
    """This browser session's training job; released (and the job stopped) when the tab closes."""

    job: TrainingJob | None = None

    def release(self) -> None:
        if self.job is not None:
            self.job.stop()


@st.cache_resource(scope="session", on_release=lambda slot: slot.release())
def job_slot() -> JobSlot:
    return JobSlot()


def start(choice: widgets.DataChoice, hp: Hyperparameters, fix: bool = False) -> None:
    baselines = widgets.baselines_for(choice.dataset, choice.dataset_id)
    job = FixJob(choice.dataset, hp, baselines=baselines) if fix else TrainingJob(choice.dataset, hp, baselines=baselines)
    job_slot().job = job.start()
    st.session_state["collected"] = False
    st.session_state["fix_result"] = None


def collect(slot: JobSlot) -> None:
    """Once a job has ended, keep its result (once) as the run to show."""
    job = slot.job
    if job is None or not job.done or st.session_state.get("collected", True):
        return
    st.session_state["collected"] = True
    if job.error:
        st.session_state["train_error"] = job.error
    elif job.result is not None:
        st.session_state["train_error"] = None
        st.session_state.setdefault("runs", []).append(job.result)
        st.session_state["last_dataset"] = job.dataset
        st.session_state["fix_result"] = job.fix if isinstance(job, FixJob) else None


widgets.init_state()
slot = job_slot()
collect(slot)

st.sidebar.selectbox(
    "Teaching scenario",
    list(SCENARIOS),
    index=None,
    placeholder="Pick a preset…",
    key="scenario",
    on_change=widgets.apply_scenario,
    format_func=lambda name: f"{name.replace('_', ' ')}",
    help="Presets that show one fit problem each. They set the dataset and the knobs.",
)
if st.session_state.get("scenario"):
    st.sidebar.caption(SCENARIOS[st.session_state["scenario"]]["description"])
hp_seed = int(st.session_state[widgets._key("seed")])
choice = widgets.dataset_widgets(hp_seed)
hp = widgets.hyperparameter_widgets()
if choice is not None and hp is not None:
    widgets.parameter_table(choice.dataset, hp)

st.title("FitLab: why does my network fit badly?")
left, middle, right, info = st.columns([1, 1.4, 1, 4], vertical_alignment="center")
busy = slot.job is not None and slot.job.running
ready = not busy and choice is not None and hp is not None
# Started from the script body, not a callback: the run uses the knobs exactly as this rerun read them.
if left.button("Train", key="train", type="primary", disabled=not ready) and ready:
    start(choice, hp)  # type: ignore[arg-type]
fix_help = "Train, diagnose, apply the top recommendation, and repeat until a good fit (at most 3 changes)."
if middle.button("Fix it for me", key="fix", disabled=not ready, help=fix_help) and ready:
    start(choice, hp, fix=True)  # type: ignore[arg-type]
running = slot.job is not None and slot.job.running
right.button("Stop", key="stop", disabled=not running, on_click=lambda: slot.job and slot.job.stop())
if choice is not None:
    ds = choice.dataset
    info.caption(
        f"Dataset **{widgets.plain(ds.name)}** ({ds.task}): {len(ds.y_train)} train / {len(ds.y_val)} validation / "
        f"{len(ds.y_test)} test rows, {ds.n_inputs} inputs."
    )
if st.session_state.get("train_error"):
    st.error(st.session_state["train_error"])
log_scale = st.toggle("Log-scale loss axis", key="log_scale")


@st.fragment(run_every=0.5 if running else None)
def live_view() -> None:
    job = slot.job
    runs = st.session_state.get("runs", [])
    if job is not None and not st.session_state.get("collected", True):
        records = job.snapshot()
        step = f"Fix it for me, round {job.current_round}: " if isinstance(job, FixJob) else ""
        st.progress(min(1.0, len(records) / job.hp.epochs), text=f"{step}epoch {len(records)} of up to {job.hp.epochs}")
        baselines, best, task = job.baselines, None, job.dataset.task
        if job.done:
            st.rerun()  # the run ended: redraw the whole page with its verdict
    elif runs:
        result = runs[-1]
        records, baselines, best, task = result.history, result.baselines, result.best_epoch, result.dataset["task"]
        st.caption(
            f"Last run: {result.status.replace('_', ' ')} after {len(records)} epoch(s); best epoch {best}; "
            f"test loss {result.test['loss']:.4g}, test metric {result.test['metric']:.3f}."
        )
    else:
        st.info("Press **Train** to start. Curves appear here while the network trains.")
        return
    if records:
        chart_left, chart_right = st.columns(2)
        chart_left.plotly_chart(loss_figure(records, log_scale=log_scale, baselines=baselines, best_epoch=best), key="loss_chart")
        chart_right.plotly_chart(metric_figure(records, task), key="metric_chart")


live_view()

runs = st.session_state.get("runs", [])
if runs and not running:
    result = runs[-1]
    st.subheader("Diagnosis")
    if st.session_state.get("fix_result") is not None:
        widgets.fix_path(st.session_state["fix_result"], log_scale=log_scale)
    widgets.diagnosis_card(result.diagnosis, result.hyperparameters)
    if sentence := evidence.data_sentence():
        st.info(sentence)
    dataset = st.session_state.get("last_dataset")
    if dataset is not None and dataset.is_2d and result.model is not None:
        st.plotly_chart(boundary_figure(dataset, result.model), key="boundary_chart")

evidence.panels(choice.dataset if choice is not None else None, hp)
