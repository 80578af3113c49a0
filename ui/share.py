"""Links that open the dashboard on given data and knobs: for a colleague, or a teacher's class.

A link carries the built-in dataset and its settings and every knob that differs from the cheat
sheet's start values (`?dataset=moons&samples=300&learning_rate=0.01`), or a teaching preset
(`?preset=overfitting`). It carries the workspace id (`ws=`) only when its author ticks the box:
without it whoever opens the link gets a workspace of their own and sees none of the author's runs.

Opened once per browser session: the values are checked like the CLI's flags (`parse_value`), set on
the knobs, and the link's keys are then removed from the address bar, so that a later reload shows the
knobs as the user left them.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from core.data.builtin import BUILTIN, NOISE_RANGE, SAMPLES_RANGE
from core.hyperparameters import SCENARIOS, HyperparameterError, Hyperparameters, parse_value
from ui import knobs as knob_widgets
from ui import state
from ui.session import DATA_KNOBS, DEFAULTS, default_knobs, hp_key, set_knob

HP_NAMES = tuple(f.name for f in fields(Hyperparameters))
DATA_LINK = {"dataset": "dataset_name", "samples": "samples", "noise": "noise"}  # link key -> knob
LINK_KEYS = ("preset", *DATA_LINK, *HP_NAMES)


def link_params(values: dict[str, Any], *, workspace: str | None = None) -> dict[str, str]:
    """The query of a link to these knob values: the data knobs and the knobs that differ from the start."""
    params: dict[str, str] = {}
    for key, knob in DATA_LINK.items():
        params[key] = str(values.get(knob, DATA_KNOBS[knob]))
    for name in HP_NAMES:
        value = values.get(hp_key(name), getattr(DEFAULTS, name))
        if value != getattr(DEFAULTS, name):
            params[name] = _text(value)
    if workspace:
        params["ws"] = workspace
    return params


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def page_url(params: dict[str, str]) -> str:
    """This dashboard's address (as the browser reached it) with `params` as its query."""
    url = urlsplit(st.context.url or "http://localhost:8501/")
    return urlunsplit((url.scheme, url.netloc, url.path, urlencode(params), ""))


def _parse_data(key: str, text: str) -> Any:
    if key == "dataset":
        if text not in BUILTIN:
            raise HyperparameterError(f"dataset must be one of the built-in datasets ({', '.join(BUILTIN)}), got {text!r}")
        return text
    low, high = (float(v) for v in (SAMPLES_RANGE if key == "samples" else NOISE_RANGE))
    value: float = int(text) if key == "samples" else float(text)
    if not low <= value <= high:
        raise HyperparameterError(f"{key} must be between {low:g} and {high:g}, got {text}")
    return value


def apply_link() -> list[str]:
    """Once per session, before the widgets are drawn: set the knobs a link names. Returns one message
    per value that was refused (the rest of the link still applies)."""
    if state.SHARE_APPLIED.get():
        return []
    query = {key: st.query_params[key] for key in LINK_KEYS if key in st.query_params}
    if not query:
        state.SHARE_APPLIED.set(True)
        return []
    problems: list[str] = []
    preset = query.pop("preset", None)
    if preset is not None:
        if preset in SCENARIOS:
            state.SCENARIO.set(preset)
            knob_widgets.apply_scenario()
        else:
            problems.append(f"preset must be one of {', '.join(SCENARIOS)}, got {preset!r}")
    elif query:
        for key, value in default_knobs().items():  # a link names the whole setting: the rest are start values
            set_knob(key, value)
    for key, text in query.items():
        try:
            if key in DATA_LINK:
                set_knob(DATA_LINK[key], _parse_data(key, text))
            else:
                set_knob(hp_key(key), parse_value(key, text))
        except (HyperparameterError, ValueError) as error:
            problems.append(f"{key}: {error}")
    # Marked applied only now: a first script run interrupted above (the browser's own reruns come early)
    # leaves the whole query in place, and the next run applies it again, from the start.
    state.SHARE_APPLIED.set(True)
    for key in LINK_KEYS:
        if key in st.query_params:
            del st.query_params[key]
    return problems


def share_panel(values: dict[str, Any], workspace: str, *, builtin: bool) -> None:
    """The sidebar's "Share" expander: a link to the current data and knobs, and a link per preset."""
    with st.sidebar.expander("Share these settings", icon=":material/link:"):
        if not builtin:
            st.caption("An uploaded CSV is not part of a link: the link opens on the knobs with the default dataset.")
        with_runs = st.checkbox(
            "Include my workspace (whoever opens the link sees my runs)", key="share_with_workspace", value=False
        )
        shown = dict(values)
        if not builtin:
            shown.update({k: v for k, v in DATA_KNOBS.items()})
        st.code(page_url(link_params(shown, workspace=workspace if with_runs else None)), language=None, wrap_lines=True)
        st.caption("Copy it with the icon at the right of the box.")
        st.markdown("**A link for each teaching scenario** (for a class):")
        for name in SCENARIOS:
            st.caption(name.replace("_", " "))
            st.code(page_url({"preset": name}), language=None, wrap_lines=True)
