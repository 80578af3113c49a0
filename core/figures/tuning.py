"""Hyperparameter search (core/tuning/study.py): the trials of one study, the knobs' importance, a one-knob validation curve."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import BEST_COLOR, RISE_COLOR, TRAIN_COLOR, VAL_COLOR, layout

if TYPE_CHECKING:
    from core.tuning.study import TrialOutcome

TRIAL_COLORS = {"complete": TRAIN_COLOR, "pruned": "#9ca3af", "failed": RISE_COLOR, "running": VAL_COLOR}
LOG_KNOBS = ("learning_rate", "weight_decay")


def _finished(trials: Sequence[TrialOutcome]) -> list[TrialOutcome]:
    return [t for t in trials if t.state == "complete" and t.value is not None and np.isfinite(t.value)]


def tune_history_figure(trials: Sequence[TrialOutcome]) -> go.Figure:
    """Each trial's kept validation loss by trial number, pruned trials at their last reported loss, and
    the best so far as a step line: how the search converged."""
    fig = go.Figure()
    ordered = sorted(trials, key=lambda t: t.number)
    for state in ("complete", "pruned", "failed"):
        group = [t for t in ordered if t.state == state]
        xs, ys, texts = [], [], []
        for t in group:
            value = t.value
            if value is None and t.history:  # pruned: where it stood when it was stopped
                value = t.history[-1].get("val_loss")
            if value is None or not np.isfinite(value):
                continue
            xs.append(t.number)
            ys.append(value)
            texts.append(html.escape(t.reason or ", ".join(f"{k}={_short(v)}" for k, v in t.params.items())))
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name=f"{state} ({len(group)})",
                    marker={"color": TRIAL_COLORS[state], "size": 9, "symbol": "x" if state == "pruned" else "circle"},
                    hovertext=texts,
                    hovertemplate="trial %{x}: %{y:.4g}<br>%{hovertext}<extra></extra>",
                )
            )
    best_x, best_y, best = [], [], float("inf")
    for t in ordered:
        if t in _finished(ordered) and t.value is not None and t.value < best:
            best = t.value
        if np.isfinite(best):
            best_x.append(t.number)
            best_y.append(best)
    if best_x:
        fig.add_trace(go.Scatter(x=best_x, y=best_y, mode="lines", name="best so far", line={"color": BEST_COLOR, "shape": "hv"}))
    layout(fig, "Optimization history", "trial", "kept validation loss")
    return fig.update_layout(height=360, legend={"orientation": "h", "y": -0.25})


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def importance_figure(importances: dict[str, float]) -> go.Figure:
    """Which searched knobs mattered most for the validation loss (Optuna's importance, sums to 1)."""
    names = sorted(importances, key=importances.__getitem__)
    fig = go.Figure(
        go.Bar(
            x=[importances[n] for n in names],
            y=[n.replace("_", " ") for n in names],
            orientation="h",
            marker={"color": TRAIN_COLOR},
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    layout(fig, "Hyperparameter importance", "share of the validation loss's variation", "")
    return fig.update_layout(height=max(220, 60 + 40 * len(names)), xaxis={"tickformat": ".0%", "range": [0, 1]})


def tune_parallel_figure(trials: Sequence[TrialOutcome]) -> go.Figure:
    """Parallel coordinates: one line per finished trial through its searched knobs, coloured (and ending)
    by its kept validation loss. Text choices are numbered on their axis."""
    done = _finished(trials)
    names = sorted({k for t in done for k in t.params})
    dimensions = []
    for name in names:
        values = [t.params.get(name) for t in done]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            numbers = [float(v) for v in values if v is not None]
            if name in LOG_KNOBS and all(v > 0 for v in numbers):
                dimensions.append({"label": f"log10 {name}", "values": np.log10(numbers).tolist()})
            else:
                dimensions.append({"label": name, "values": numbers})
        else:
            labels = sorted({str(v) for v in values})
            dimensions.append(
                {
                    "label": name,
                    "values": [labels.index(str(v)) for v in values],
                    "tickvals": list(range(len(labels))),
                    "ticktext": labels,
                }
            )
    losses = [float(t.value) for t in done if t.value is not None]
    dimensions.append({"label": "kept val loss", "values": losses})
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": losses,
                "colorscale": "Viridis",
                "reversescale": True,
                "showscale": True,
                "colorbar": {"title": "val loss"},
            },
            dimensions=dimensions,
        )
    )
    return fig.update_layout(
        title="Knobs against kept validation loss (one line per finished trial)",
        height=380,
        margin={"l": 60, "r": 40, "t": 70, "b": 20},
    )


def validation_curve_figure(knob: str, trials: Sequence[TrialOutcome], *, fixed: dict[str, Any] | None = None) -> go.Figure:
    """Kept validation loss (and metric) against one knob, the other knobs fixed (a one-knob grid search)."""
    done = sorted(_finished(trials), key=lambda t: t.params.get(knob, 0))
    xs = [t.params.get(knob) for t in done]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=xs, y=[t.value for t in done], mode="lines+markers", name="kept validation loss", line={"color": VAL_COLOR})
    )
    if any(t.metric is not None for t in done):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[t.metric for t in done],
                mode="lines+markers",
                name="validation metric",
                line={"color": TRAIN_COLOR, "dash": "dot"},
            ),
            secondary_y=True,
        )
    if done:
        best = min(done, key=lambda t: float(t.value or 0))
        fig.add_trace(
            go.Scatter(
                x=[best.params.get(knob)],
                y=[best.value],
                mode="markers",
                name="lowest loss",
                marker={"symbol": "star", "size": 16, "color": BEST_COLOR},
            )
        )
    others = ", ".join(f"{k.replace('_', ' ')} {_short(v)}" for k, v in (fixed or {}).items())
    title = f"Validation curve: {knob.replace('_', ' ')}" + (f" (fixed: {html.escape(others)})" if others else "")
    layout(fig, title, knob.replace("_", " "), "kept validation loss")
    if knob in LOG_KNOBS:
        fig.update_xaxes(type="log")
    fig.update_yaxes(title_text="validation metric", secondary_y=True)
    return fig.update_layout(height=360, legend={"orientation": "h", "y": -0.25})
