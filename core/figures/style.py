"""What every figure shares: the colours, and the layout of a plain one-chart figure."""

from __future__ import annotations

import plotly.graph_objects as go

TRAIN_COLOR = "#2563eb"
VAL_COLOR = "#ea580c"
BEST_COLOR = "#16a34a"
RISE_COLOR = "#dc2626"
GAP_FILL = "rgba(234, 88, 12, 0.12)"
CLASS_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#db2777", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563", "#dc2626", "#059669"]
SPLIT_COLORS = {"train": TRAIN_COLOR, "validation": VAL_COLOR, "test": "#6b7280"}


def layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    """Title, axis titles, margins, a 380 px height, the legend below the x axis, unified hover."""
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=380,
        # Legend below the axis title, anchored at its top so that long labels never cover "epoch".
        legend={"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0},
        hovermode="x unified",
    )
    return fig
