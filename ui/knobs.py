"""The knobs in the sidebar: every hyperparameter widget, the presets, the Apply callbacks.

Every hyperparameter widget is keyed `hp_<field>` so that a scenario preset or an Apply button can
set it (ui.state.set_widget_value) before the widget is drawn; `ui.session` keeps their values when
another page is shown and across reloads.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pandas as pd
import streamlit as st

from core.data.dataset import Dataset
from core.hyperparameters import (
    KNOBS,
    SCENARIOS,
    HyperparameterError,
    Hyperparameters,
    Knob,
)
from core.training.shapes import parameter_counts
from ui import session, state
from ui.session import DEFAULTS, hp_key, set_knob
from ui.text import plain

_key = hp_key


def apply_value(knob: str, value: Any) -> None:
    """Callback of an Apply button: set the knob's widget to the recommended value."""
    set_knob(_key(knob), value)


def apply_scenario() -> None:
    name = state.SCENARIO.get()
    if name not in SCENARIOS:
        return
    preset = SCENARIOS[name]
    use_settings(DEFAULTS.replace(**preset["hyperparameters"]))
    for key in ("name", "samples", "noise"):
        set_knob("dataset_name" if key == "name" else key, preset["dataset"][key])


def scenario_picker() -> None:
    """The sidebar's teaching presets: picking one sets the dataset and the knobs (apply_scenario)."""
    st.sidebar.selectbox(
        "Teaching scenario",
        list(SCENARIOS),
        index=None,
        placeholder="Pick a preset…",
        key=state.SCENARIO.key,
        on_change=apply_scenario,
        format_func=lambda name: f"{name.replace('_', ' ')}",
        help="Presets that show one fit problem each. They set the dataset and the knobs.",
    )
    if scenario := state.SCENARIO.get():
        st.sidebar.caption(SCENARIOS[scenario]["description"])


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def knob_widget(name: str, knob: Knob) -> None:
    """The sidebar widget of one knob, from its metadata: it offers exactly the values validation accepts."""
    sb = st.sidebar
    common: dict[str, Any] = {"key": _key(name), "help": knob.help}
    if knob.requires is not None:
        common["disabled"] = not state.widget_value(_key(knob.requires))
    # The remembered value is also the element's default: a widget the browser mounts anew (after another
    # page, e.g. Tune's "Apply best") shows it, not its first option (the learning rate showed 1e-05).
    remembered = session.remembered().get(_key(name), getattr(DEFAULTS, name))
    widget = knob.widget
    if widget == "toggle":
        sb.toggle(knob.label, value=bool(remembered), **common)
    elif widget == "selectbox":
        index = knob.choices.index(remembered) if remembered in knob.choices else 0
        sb.selectbox(knob.label, knob.choices, index=index, **common)
    elif widget == "select_slider":
        fmt = _fmt_number if knob.kind == "float" else str
        value = remembered if remembered in knob.steps else knob.steps[0]
        sb.select_slider(knob.label, knob.steps, value=value, format_func=fmt, **common)
    else:
        low, high = knob.bounds
        step = knob.step if knob.step is not None else 1
        if knob.kind == "int":
            low, high, step = int(low), int(high), int(step)
        else:
            low, high, step = float(low), float(high), float(step)
        draw = sb.slider if widget == "slider" else sb.number_input
        value = remembered if isinstance(remembered, (int, float)) and low <= remembered <= high else low
        draw(knob.label, min_value=low, max_value=high, value=type(low)(value), step=step, **common)


def hyperparameter_widgets() -> Hyperparameters | None:
    """Every must-know knob, each with its cheat-sheet help. None (and a visible error) if invalid.

    Widgets, ranges, ladders, choices, labels and help come from the field metadata in
    core.hyperparameters (KNOBS), grouped under their sections in field order; a knob without a
    section (the seed) comes last."""
    groups = list(dict.fromkeys(knob.group for knob in KNOBS.values() if knob.group))
    for group in [*groups, ""]:
        if group:
            st.sidebar.subheader(group)
        for name, knob in KNOBS.items():
            if knob.group == group:
                knob_widget(name, knob)
    try:
        return Hyperparameters(**{f.name: state.widget_value(_key(f.name)) for f in fields(Hyperparameters)})
    except HyperparameterError as exc:
        st.sidebar.error(f"Impossible setting: {plain(str(exc))}")
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
