"""Widgets shared by the pages: the knobs in the sidebar, the dataset picker, the diagnosis card.

Every hyperparameter widget is keyed `hp_<field>` so that a scenario preset or an Apply button can
set it through st.session_state before the widget is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pandas as pd
import streamlit as st

from core.baselines import Baselines, compute_baselines
from core.data import BUILTIN, DEFAULT_DATASET, SYNTHETIC, DataError, Dataset, load_builtin, load_csv, read_csv
from core.diagnosis import Diagnosis
from core.hyperparameters import (
    ACTIVATIONS,
    BATCH_SIZE_STEPS,
    HELP,
    LEARNING_RATE_STEPS,
    OPTIMIZERS,
    SCENARIOS,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    HyperparameterError,
    Hyperparameters,
)
from core.model import parameter_counts

UPLOAD = "Upload a CSV…"
DEFAULTS = Hyperparameters()


def _key(name: str) -> str:
    return f"hp_{name}"


def init_state() -> None:
    for f in fields(Hyperparameters):
        st.session_state.setdefault(_key(f.name), getattr(DEFAULTS, f.name))
    st.session_state.setdefault("dataset_name", DEFAULT_DATASET)
    st.session_state.setdefault("samples", 1000)
    st.session_state.setdefault("noise", 0.2)


def apply_value(knob: str, value: Any) -> None:
    """Callback of an Apply button: set the knob's widget to the recommended value."""
    st.session_state[_key(knob)] = value


def apply_scenario() -> None:
    name = st.session_state.get("scenario")
    if name not in SCENARIOS:
        return
    preset = SCENARIOS[name]
    hp = DEFAULTS.replace(**preset["hyperparameters"])
    for f in fields(Hyperparameters):
        st.session_state[_key(f.name)] = getattr(hp, f.name)
    st.session_state["dataset_name"] = preset["dataset"]["name"]
    st.session_state["samples"] = preset["dataset"]["samples"]
    st.session_state["noise"] = preset["dataset"]["noise"]


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def hyperparameter_widgets() -> Hyperparameters | None:
    """Every must-know knob, each with its cheat-sheet help. None (and a visible error) if invalid."""
    sb = st.sidebar
    sb.subheader("Optimization")
    sb.select_slider(
        "Learning rate", LEARNING_RATE_STEPS, key=_key("learning_rate"), help=HELP["learning_rate"], format_func=_fmt_number
    )
    sb.select_slider("Batch size", BATCH_SIZE_STEPS, key=_key("batch_size"), help=HELP["batch_size"])
    sb.slider("Epochs (maximum)", 1, 1000, key=_key("epochs"), help=HELP["epochs"])
    sb.toggle("Early stopping", key=_key("early_stopping"), help=HELP["early_stopping"])
    sb.slider(
        "Patience", 1, 100, key=_key("patience"), help=HELP["patience"], disabled=not st.session_state[_key("early_stopping")]
    )
    sb.selectbox("Optimizer", OPTIMIZERS, key=_key("optimizer"), help=HELP["optimizer"])
    sb.subheader("Architecture")
    sb.slider("Hidden layers (depth)", 0, 8, key=_key("hidden_layers"), help=HELP["hidden_layers"])
    sb.select_slider("Neurons per layer (width)", WIDTH_STEPS, key=_key("width"), help=HELP["width"])
    sb.selectbox("Activation", ACTIVATIONS, key=_key("activation"), help=HELP["activation"])
    sb.subheader("Regularization")
    sb.slider("Dropout", 0.0, 0.9, step=0.05, key=_key("dropout"), help=HELP["dropout"])
    sb.select_slider(
        "Weight decay", WEIGHT_DECAY_STEPS, key=_key("weight_decay"), help=HELP["weight_decay"], format_func=_fmt_number
    )
    sb.number_input("Seed", 0, 2**31 - 1, key=_key("seed"), help=HELP["seed"])
    try:
        return Hyperparameters(**{f.name: st.session_state[_key(f.name)] for f in fields(Hyperparameters)})
    except HyperparameterError as exc:
        sb.error(f"Impossible setting: {exc}")
        return None


@st.cache_data(show_spinner=False, max_entries=32)
def _builtin(name: str, samples: int, noise: float, seed: int) -> Dataset:
    return load_builtin(name, samples=samples, noise=noise, seed=seed)


@st.cache_data(show_spinner=False, max_entries=16)
def _csv(content: bytes, target: str, seed: int, filename: str) -> Dataset:
    return load_csv(content, target, seed=seed, name=filename)


@st.cache_data(show_spinner=False, max_entries=16)
def _csv_columns(content: bytes) -> list[str]:
    return [str(c) for c in read_csv(content).columns]


@st.cache_data(show_spinner=False, max_entries=32)
def baselines_for(_dataset: Dataset, dataset_id: str) -> Baselines:
    return compute_baselines(_dataset)


@dataclass
class DataChoice:
    dataset: Dataset
    dataset_id: str  # cache key: identifies the data, its settings and the split


def dataset_widgets(seed: int) -> DataChoice | None:
    """The dataset picker. A file that fails to load shows its message here and the last good
    dataset stays in use."""
    sb = st.sidebar
    sb.header("Data")
    choice = sb.selectbox("Dataset", list(BUILTIN) + [UPLOAD], key="dataset_name")
    try:
        if choice == UPLOAD:
            loaded = _upload_widgets(seed)
        else:
            if choice in SYNTHETIC:
                sb.slider("Samples", 50, 5000, step=50, key="samples")
                sb.slider("Noise", 0.0, 1.0, step=0.05, key="noise")
            samples, noise = int(st.session_state["samples"]), float(st.session_state["noise"])
            loaded = DataChoice(_builtin(choice, samples, noise, seed), f"{choice}:{samples}:{noise}:{seed}")
    except DataError as exc:
        sb.error(f"Could not use this data: {exc}")
        loaded = None
    if loaded is not None:
        st.session_state["last_good_data"] = loaded
        return loaded
    previous: DataChoice | None = st.session_state.get("last_good_data")
    if previous is not None:
        sb.info(f"Still using the previous dataset, {previous.dataset.name}.")
    return previous


def _upload_widgets(seed: int) -> DataChoice | None:
    sb = st.sidebar
    upload = sb.file_uploader("CSV file", type=["csv", "txt", "tsv"], key="csv")
    if upload is None:
        sb.caption("Pick a file: one row per example, one column to predict.")
        return None
    content = upload.getvalue()
    columns = _csv_columns(content)
    target = sb.selectbox("Target column (what to predict)", columns, index=len(columns) - 1, key="csv_target")
    dataset = _csv(content, str(target), seed, upload.name)
    for note in dataset.notes:
        sb.caption(f"Note: {note}")
    return DataChoice(dataset, f"csv:{upload.file_id}:{target}:{seed}")


def parameter_table(dataset: Dataset, hp: Hyperparameters) -> None:
    """What the model learns, next to the knobs that shape it."""
    rows = parameter_counts(dataset.n_inputs, dataset.n_outputs, hp)
    total = sum(r.total for r in rows)
    st.sidebar.markdown(f"**Parameters the model will learn: {total:,}**")
    st.sidebar.caption("Weights and biases, set by backpropagation. The knobs above are hyperparameters: you set them.")
    frame = pd.DataFrame(
        [{"layer": f"{r.layer} ({r.shape.replace(' -> ', '→')})", "weights": r.weights, "biases": r.biases} for r in rows]
    )
    st.sidebar.dataframe(frame, hide_index=True, width="stretch")


VERDICT_TITLES = {
    "diverged": ("Diverged", "error"),
    "lr_too_high": ("Learning rate too high", "error"),
    "not_converged": ("Not converged yet", "warning"),
    "underfitting": ("Underfitting", "warning"),
    "overfitting": ("Overfitting", "warning"),
    "good_fit": ("Good fit", "success"),
}


def diagnosis_card(diagnosis: Diagnosis, hp: Hyperparameters) -> None:
    title, kind = VERDICT_TITLES[diagnosis.verdict]
    box = {"error": st.error, "warning": st.warning, "success": st.success}[kind]
    box(f"**Verdict: {title}** — {diagnosis.summary}")
    with st.container(border=True, key="evidence"):
        st.markdown("**Evidence**")
        for line in diagnosis.evidence:
            st.text(f"• {line}")
    if not diagnosis.recommendations:
        st.caption("Nothing to change: keep these settings.")
        return
    st.markdown("**What to try** (best first; Apply sets the knob, then press Train)")
    for index, rec in enumerate(diagnosis.recommendations):
        current = getattr(hp, rec.knob)
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f"**{rec.knob.replace('_', ' ')}**: {rec.action} `{current}` → `{rec.value}`  \n{rec.reason}")
        right.button(
            "Apply",
            key=f"apply_{index}",
            on_click=apply_value,
            args=(rec.knob, rec.value),
            disabled=rec.value is None or st.session_state.get(_key(rec.knob)) == rec.value,
        )
