"""Fix it for me: one small loss panel per round, on a shared loss axis."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.curves import best_index
from core.figures.style import BEST_COLOR
from core.history import EpochRecord

ROUND_COLORS = [
    "#6b7280",
    "#2563eb",
    "#16a34a",
    "#ea580c",
    "#7c3aed",
    "#db2777",
    "#0891b2",
    "#ca8a04",
    "#4b5563",
    "#dc2626",
    "#059669",
]


FIX_PANEL_PX = 240  # height of one row of Fix-it panels, the gap to the next row included
FIX_ROW_GAP_PX = 80  # between rows: the epoch ticks above and a two-line panel title
FIX_TITLE_CHARS = 44


def _round_title(label: str, history: Sequence[EpochRecord]) -> str:
    """ "round 1: learning rate → 0.001" over "best 0.0751 at epoch 38 of 40", escaped and shortened."""
    head, _, change = label.partition(": ")
    change = change if len(change) <= FIX_TITLE_CHARS else change[: FIX_TITLE_CHARS - 1] + "…"
    first = f"<b>{html.escape(head)}</b>" + (f": {html.escape(change)}" if change else "")
    best = best_index(history)
    if best is None:
        return f"{first}<br>no finite validation loss in {len(history)} epoch(s)"
    return f"{first}<br>best {history[best].val_loss:.3g} at epoch {history[best].epoch} of {len(history)}"


def fix_path_figure(
    rounds: Sequence[tuple[str, Sequence[EpochRecord]]], *, log_scale: bool = False, columns: int | None = None
) -> go.Figure:
    """Fix it for me: one small panel per round, validation loss (solid) and training loss (dotted).

    `rounds` pairs a label ("round 1: learning rate 0.3 -> 0.001") with that round's history. Rounds
    train for very different numbers of epochs (300, then 12): overlaid on one epoch axis the short
    round is a sliver at the left edge. Each panel has its own epoch axis, so every round fills its
    width, and all panels share one loss axis, so the levels compare at a glance; each round's best
    epoch is starred and its title says the best validation loss and the epochs it ran.
    """
    count = max(1, len(rounds))
    cols = columns or (count if count <= 3 else 3 if count <= 9 else 4)
    rows = -(-count // cols)
    # Fixed margins, so that the spacing below is in known pixels: the title on top, the last row's
    # epoch titles and the legend (two entries a row on a wide page) below.
    plot_px = rows * FIX_PANEL_PX
    bottom = 50 + 20 * -(-count // 2)
    titles = [_round_title(label, history) for label, history in rounds]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes="all",
        subplot_titles=titles or None,
        horizontal_spacing=0.05 if cols > 1 else 0.0,
        vertical_spacing=min(0.5 / rows, FIX_ROW_GAP_PX / plot_px) if rows > 1 else 0.0,
    )
    for index, (label, history) in enumerate(rounds):
        row, col = index // cols + 1, index % cols + 1
        _round_traces(fig, label, history, ROUND_COLORS[index % len(ROUND_COLORS)], row, col)
        last_in_column = index + cols >= len(rounds)
        fig.update_xaxes(title_text="epoch" if last_in_column else None, row=row, col=col)
    fig.update_annotations(font={"size": 11})  # the panel titles
    fig.update_layout(
        title="Fix it for me: each round's loss (solid: validation, dotted: training, ★ best epoch)",
        height=90 + plot_px + bottom,
        margin={"l": 10, "r": 10, "t": 90, "b": bottom},
        hovermode="x unified",
        # One entry per round (its validation curve), below the epoch titles; clicking one hides that round.
        legend={"orientation": "h", "x": 0, "y": -48 / plot_px, "yanchor": "top"},
    )
    fig.update_yaxes(title_text="loss", col=1)
    if log_scale:
        fig.update_yaxes(type="log")
    return fig


def _round_traces(fig: go.Figure, label: str, history: Sequence[EpochRecord], color: str, row: int, col: int) -> None:
    """One round's panel: validation loss (solid, in the legend), training loss (dotted), its best epoch starred."""
    epochs = [r.epoch for r in history]
    mode = "lines+markers" if len(history) <= 30 else "lines"  # a round of one epoch is still a point
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[r.val_loss for r in history],
            name=f"{label} (validation)",
            mode=mode,
            marker={"size": 4},
            line={"color": color},
        ),
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[r.train_loss for r in history],
            name=f"{label} (training)",
            line={"color": color, "dash": "dot", "width": 1},
            showlegend=False,
        ),
        row=row,
        col=col,
    )
    best = best_index(history)
    if best is not None:
        fig.add_trace(
            go.Scatter(
                x=[history[best].epoch],
                y=[history[best].val_loss],
                name=f"{label}: best epoch ({history[best].epoch})",
                mode="markers",
                marker={"symbol": "star", "size": 12, "color": BEST_COLOR, "line": {"width": 0.5, "color": "white"}},
                showlegend=False,
            ),
            row=row,
            col=col,
        )
