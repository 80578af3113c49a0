"""The experiments' figures: the learning-rate finder's sweep and the learning curve (loss against rows used)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from core.figures.style import BEST_COLOR, TRAIN_COLOR, VAL_COLOR, layout

if TYPE_CHECKING:
    from core.experiments.results import LearningCurveResult, LrFinderResult


def lr_finder_figure(result: LrFinderResult) -> go.Figure:
    """Loss against learning rate (log axis): raw batch losses faint, the smoothed loss, the suggestion marked.

    The y axis stops a quarter above the highest smoothed loss before the blow-up (the last 5 steps
    of a sweep that stopped early, which fastai also leaves out), so that the exploding batches do
    not flatten the valley the suggestion comes from.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=result.learning_rates,
            y=result.losses,
            name="batch loss",
            mode="markers",
            marker={"color": TRAIN_COLOR, "size": 4, "opacity": 0.35},
        )
    )
    fig.add_trace(go.Scatter(x=result.learning_rates, y=result.smoothed, name="smoothed loss", line={"color": TRAIN_COLOR}))
    blow_up = 5 if result.stopped_early and len(result.smoothed) > 5 else 0
    before = [v for v in result.smoothed[: len(result.smoothed) - blow_up] if np.isfinite(v)]
    finite = [v for v in result.losses + result.smoothed if np.isfinite(v)]
    if before and finite:
        low, high = min(finite), max(before)
        pad = max(high - low, 1e-3)
        fig.update_yaxes(range=[max(0.0, low - 0.1 * pad), high + 0.25 * pad])
    if result.suggestion_index >= 0:
        index = result.suggestion_index
        fig.add_trace(
            go.Scatter(
                x=[result.learning_rates[index]],
                y=[result.smoothed[index]],
                name=f"suggestion ({result.rule}): {result.suggestion:.2g}",
                mode="markers",
                marker={"symbol": "star", "size": 14, "color": BEST_COLOR},
            )
        )
        fig.add_vline(x=result.snapped_suggestion, line={"dash": "dot", "color": BEST_COLOR, "width": 1})
        fig.add_annotation(  # annotations on a log axis take log10 positions (shapes take data values)
            x=float(np.log10(result.snapped_suggestion)),
            y=1,
            yref="paper",
            text=f"slider: {result.snapped_suggestion:g}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"color": BEST_COLOR},
        )
    layout(fig, "Learning-rate finder", "learning rate (log scale)", "training loss")
    fig.update_xaxes(type="log", exponentformat="power")
    return fig


def learning_curve_figure(result: LearningCurveResult) -> go.Figure:
    """Train and validation loss of the kept model against training rows used (log axis), the gap shaded."""
    rows = [p.rows for p in result.points]
    labels = [f"{p.rows}<br>({p.fraction * 100:g} %)" for p in result.points]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=rows, y=[p.train_loss for p in result.points], name="train loss", mode="lines+markers", line={"color": TRAIN_COLOR}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rows,
            y=[p.val_loss for p in result.points],
            name="validation loss",
            mode="lines+markers",
            line={"color": VAL_COLOR},
            fill="tonexty",  # the train/validation gap
            fillcolor="rgba(234, 88, 12, 0.12)",
        )
    )
    layout(fig, "Learning curve: would more data help?", "training rows used (log scale)", "loss (kept model)")
    fig.update_xaxes(type="log", tickvals=rows, ticktext=labels)
    fig.update_layout(legend_traceorder="normal")  # a filled trace would otherwise reverse the legend
    return fig
