"""The knobs in the sidebar: every hyperparameter widget, the presets, the Apply callbacks.

Every hyperparameter widget is keyed `hp_<field>` so that a scenario preset or an Apply button can
set it through st.session_state before the widget is drawn; `ui.session` keeps their values when
another page is shown and across reloads.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pandas as pd
import streamlit as st

from core.data import (
    Dataset,
)
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
from ui.session import DEFAULTS, hp_key, set_knob

_key = hp_key


def apply_value(knob: str, value: Any) -> None:
    """Callback of an Apply button: set the knob's widget to the recommended value."""
    set_knob(_key(knob), value)


def apply_scenario() -> None:
    name = st.session_state.get("scenario")
    if name not in SCENARIOS:
        return
    preset = SCENARIOS[name]
    use_settings(DEFAULTS.replace(**preset["hyperparameters"]))
    for key in ("name", "samples", "noise"):
        set_knob("dataset_name" if key == "name" else key, preset["dataset"][key])


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


def use_settings(hp: Hyperparameters) -> None:
    """Callback: set every knob to these hyperparameters."""
    for f in fields(Hyperparameters):
        set_knob(hp_key(f.name), getattr(hp, f.name))
