"""The diagnosis card: verdict, evidence, recommendations with their Apply buttons, and the Fix-it path."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.diagnosis import Diagnosis, heading
from core.figures.charts import fix_path_figure
from core.history import History
from core.hyperparameters import (
    Hyperparameters,
)
from ui import state
from ui.knobs import apply_value, use_settings
from ui.session import hp_key


def diagnosis_card(diagnosis: Diagnosis, hp: Hyperparameters | None, *, applicable: bool = True) -> None:
    """The verdict, its evidence and the advice; `applicable=False` (a log: no knobs here) shows no Apply buttons.

    Title, colour and wording are the rule's own (core.diagnosis.rules)."""
    title, kind = heading(diagnosis)
    box = {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.warning)
    with st.container(key="verdict"):  # a stable place: the browser tests and the benchmark find it cheaply
        box(f"**Verdict: {title}** — {diagnosis.summary}")
    with st.container(border=True, key="evidence"):
        st.markdown("**Evidence**")
        for line in diagnosis.evidence:
            st.text(f"• {line}")
    if not diagnosis.recommendations:
        st.caption("Nothing to change: keep these settings.")
        return
    if not applicable or hp is None:
        st.markdown("**What to try** (best first)")
        for rec in diagnosis.recommendations:
            value = "" if rec.value is None else f" to `{rec.value}`"
            st.markdown(f"**{rec.knob.replace('_', ' ')}**: {rec.action}{value}  \n{rec.reason}")
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
            disabled=rec.value is None or state.widget_value(hp_key(rec.knob)) == rec.value,
        )


def fix_path(fix: dict[str, Any], *, log_scale: bool = False) -> None:
    """The path Fix it for me took (its stored JSON): one change per round, each round's verdict and curves."""
    st.subheader("Fix it for me: the path")
    rows, curves = [], []
    for entry in fix["rounds"]:
        change = entry.get("change")
        what = "as you set it" if change is None else f"{change['knob'].replace('_', ' ')} → {change['value']}"
        kept = entry.get("kept_val_loss")
        rows.append(
            {
                "round": entry["round"],
                "change": what,
                "verdict": entry["diagnosis"]["verdict"].replace("_", " "),
                "validation loss (kept model)": None if kept is None else round(kept, 4),
                "epochs": len(entry["history"]),
            }
        )
        curves.append((f"round {entry['round']}: {what}", History.from_dicts(entry["history"])))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.plotly_chart(fix_path_figure(curves, log_scale=log_scale), key="fix_chart")
    first, last = fix["rounds"][0].get("kept_val_loss"), fix["rounds"][-1].get("kept_val_loss")
    fixed = fix["final_verdict"] == "good_fit"
    outcome = "reached a good fit" if fixed else f"ended at {fix['final_verdict'].replace('_', ' ')}"
    losses = f"validation loss {_loss(first)} → {_loss(last)}"
    st.caption(f"{len(rows) - 1} change(s); {outcome}; {losses}" + (" (improved)." if fix["improved"] else " (not improved)."))
    final = Hyperparameters.from_dict(fix["final_hyperparameters"])
    st.button("Use the final settings", key="use_fix", on_click=use_settings, args=(final,))


def _loss(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
