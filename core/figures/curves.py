"""Loss and metric per epoch: the best epoch and the start of a rise marked, baselines labelled in the margin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.style import BEST_COLOR, GAP_FILL, RISE_COLOR, TRAIN_COLOR, VAL_COLOR, layout
from core.history import EpochRecord

BASELINE_COLORS = {"trivial": "#6b7280", "linear": "#7c3aed", "boosted": "#0f766e"}
# Baseline labels sit in the loss chart's right margin, outside the plotting area (so never on a curve),
# at their line's height, pushed apart to at least a label's height plus LABEL_GAP_PX. Pixel offsets are
# worked out against PLOT_HEIGHT_PX, a low estimate of the plotting area of a 380 px chart (the title,
# the x axis and a legend of up to five rows in a narrow column take the rest): the real area is taller
# or the same, so labels end up at least as far apart.
PLOT_HEIGHT_PX = 170
LABEL_FONT_PX = 11
LABEL_LINE_PX = 14  # height of one line of an 11 px label
LABEL_GAP_PX = 3
LABEL_MARGIN_PX = 96  # right margin that holds "trivial 0.693 ↑"
# The loss axis is set by the training and validation curves plus RANGE_PAD of their span on each side;
# a baseline within BASELINE_STRETCH of that span beyond the curves widens it (so the curves still fill
# two thirds of the height), one further away is labelled at the top (or bottom) edge instead.
RANGE_PAD = 0.08
BASELINE_STRETCH = 0.5
# A history of more epochs is drawn from a downsample that keeps its shape (drawn_indexes), the title says so:
# a chart of 2,000 points is ~0.1 MB of JSON, of a whole 20,000-epoch log ~1 MB.
DRAW_POINTS = 2_000


def drawn_indexes(curves: Sequence[Sequence[float]], points: int = DRAW_POINTS) -> np.ndarray | None:
    """The epochs (indexes) a long history is drawn from, None when it is drawn whole (`points` or fewer).

    The history is cut into stretches of consecutive epochs; each stretch gives the index of the lowest and
    of the highest value of every curve (the first where values tie), so that the drawn curves keep their
    shape, spikes and dips included. The first and the last epoch are always drawn, and in each stretch the
    first epoch where a curve is NaN or infinite, with the one before it, so that a blow-up still shows.
    """
    size = len(curves[0]) if curves else 0
    if size <= points:
        return None
    stretches = max(1, points // (2 * len(curves)))
    stretch = np.arange(size) * stretches // size
    picked = [np.array([0, size - 1])]
    for curve in curves:
        values = np.asarray(curve, dtype=float)
        finite = np.isfinite(values)
        for ranked in (np.where(finite, values, np.inf), np.where(finite, -values, np.inf)):  # the lowest, the highest
            order = np.lexsort((ranked, stretch))
            firsts = order[np.flatnonzero(np.diff(stretch[order], prepend=-1) != 0)]
            picked.append(firsts[np.isfinite(ranked[firsts])])
        broken = np.flatnonzero(~finite)
        if len(broken):
            first_broken = broken[np.diff(stretch[broken], prepend=-1) != 0]
            picked += [first_broken, np.maximum(first_broken - 1, 0)]
    return np.unique(np.concatenate(picked))


def _drawn_title(title: str, drawn: np.ndarray | None, size: int) -> str:
    if drawn is None:
        return title
    return f"{title} (downsampled: {len(drawn):,} of {size:,} epochs, each stretch's lowest and highest)"


def _take(drawn: np.ndarray | None, values: list[float] | list[int]) -> list:
    return values if drawn is None else [values[i] for i in drawn.tolist()]


def best_index(history: Sequence[EpochRecord]) -> int | None:
    """Index of the epoch with the lowest finite validation loss; None without one."""
    finite = [i for i, r in enumerate(history) if np.isfinite(r.val_loss)]
    return min(finite, key=lambda i: history[i].val_loss) if finite else None


def _rise_start(history: Sequence[EpochRecord], best: int, tolerance: float = 0.02, min_epochs: int = 3) -> int | None:
    """First epoch after the best from which validation loss stays above best + 2 % to the end.

    None unless that stretch lasts at least 3 epochs and ends at least 5 % above the best, so that
    the wobble at the tail of a converged run draws no marker. Worked out on whole arrays: a long log
    takes no longer than a pass over it.
    """
    best_loss = history[best].val_loss
    after = np.array([r.val_loss for r in history[best + 1 :]], dtype=float)
    if not len(after) or len(after) < min_epochs or not np.isfinite(after).all():
        return None
    if after[-1] < best_loss * 1.05:
        return None
    below = np.flatnonzero(~(after > best_loss * (1 + tolerance)))  # epochs not above the floor
    start = best + 1 + (int(below[-1]) + 1 if len(below) else 0)  # the first epoch after the last of them
    return start if start < len(history) and len(history) - start >= min_epochs else None


def _axis_value(value: float, log_scale: bool) -> float | None:
    """`value` in axis units (log10 on a log axis); None where the axis cannot show it."""
    if value is None or not np.isfinite(value) or (log_scale and value <= 0):
        return None
    return float(np.log10(value)) if log_scale else float(value)


def loss_range(
    curves: Sequence[float], baselines: Sequence[float] = (), *, log_scale: bool = False
) -> tuple[float, float] | None:
    """The loss axis range (log10 units on a log axis): every curve value with a margin, nearby baselines too.

    A baseline further than BASELINE_STRETCH of the curves' span beyond them is left out (it is drawn
    as a label at the chart's edge), so that it cannot squash the curves. None without a finite value.
    """
    values = [v for v in (_axis_value(c, log_scale) for c in curves) if v is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    span = high - low
    reach = BASELINE_STRETCH * (span if span > 0 else (0.2 if log_scale else 0.2 * abs(high) or 0.2))
    for b in (_axis_value(v, log_scale) for v in baselines):
        if b is not None and low - reach <= b <= high + reach:
            low, high = min(low, b), max(high, b)
    span = high - low
    pad = RANGE_PAD * span if span > 0 else (0.1 if log_scale else 0.1 * abs(high) or 0.1)
    bottom = low - pad
    if not log_scale and low >= 0:
        bottom = max(0.0, bottom)  # a loss is never negative: no axis below zero
    return bottom, high + pad


def _stack(wanted: list[float], heights: list[float], top: float) -> list[float]:
    """Label centres (px from the bottom) as close to `wanted` as possible, each pair apart by their half-heights plus a gap."""
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i], i))
    placed = [0.0] * len(wanted)
    previous: int | None = None
    for i in order:  # upwards: each label at least a gap above the one below
        placed[i] = wanted[i] if previous is None else max(wanted[i], placed[previous] + _apart(heights, previous, i))
        previous = i
    nxt: int | None = None
    for i in reversed(order):  # then down again from the top edge, keeping the gaps
        limit = top if nxt is None else placed[nxt] - _apart(heights, i, nxt)
        placed[i] = min(placed[i], limit)
        nxt = i
    return placed


def _apart(heights: list[float], a: int, b: int) -> float:
    return (heights[a] + heights[b]) / 2 + LABEL_GAP_PX


def _baseline_labels(fig: go.Figure, baselines: dict[str, float], axis: tuple[float, float] | None, log_scale: bool) -> None:
    """One label per baseline in the right margin, at its line or, off the chart, at the top or bottom edge."""
    items = []  # (name, value, yref, y, fraction of the height, text, lines)
    for name, value in baselines.items():
        at = _axis_value(value, log_scale)
        if axis is not None and at is not None and axis[0] <= at <= axis[1]:
            items.append((name, value, "y", at, (at - axis[0]) / (axis[1] - axis[0]), f"{name} {value:.3g}", 1))
        elif axis is not None and (at is None or at < axis[0]):
            items.append((name, value, "paper", 0.0, 0.0, f"{name} {value:.3g} ↓<br>below the chart", 2))
        elif axis is not None:
            items.append((name, value, "paper", 1.0, 1.0, f"{name} {value:.3g} ↑<br>off the chart", 2))
    wanted = [fraction * PLOT_HEIGHT_PX for *_, fraction, _, _ in items]
    heights = [float(lines * LABEL_LINE_PX) for *_, lines in items]
    placed = _stack(wanted, heights, PLOT_HEIGHT_PX)
    for (name, value, yref, y, _, text, _), want, at in zip(items, wanted, placed, strict=True):
        color = BASELINE_COLORS.get(name, "#6b7280")
        fig.add_annotation(
            name=f"baseline label {name}",
            text=text,
            hovertext=f"{name} model's validation loss: {value:.4g}",
            x=1,
            xref="paper",
            xanchor="left",
            xshift=6,
            y=y,
            yref=yref,
            yanchor="middle",
            yshift=at - want,
            align="left",
            showarrow=False,
            font={"color": color, "size": LABEL_FONT_PX},
        )


def loss_figure(
    history: Sequence[EpochRecord],
    *,
    log_scale: bool = False,
    baselines: dict[str, dict[str, float]] | None = None,
    best_epoch: int | None = None,
) -> go.Figure:
    """Train and validation loss per epoch, the best epoch marked, baselines as dashed lines.

    The y axis is set by the two curves (`loss_range`); each baseline is labelled in the right margin,
    a far one at the top edge ("trivial 0.693 ↑ off the chart") rather than stretching the axis.
    """
    train, val = [r.train_loss for r in history], [r.val_loss for r in history]
    drawn = drawn_indexes([train, val])
    fig = go.Figure()
    _loss_curves(fig, _take(drawn, [r.epoch for r in history]), _take(drawn, train), _take(drawn, val))
    index = best_index(history) if best_epoch is None else next((i for i, r in enumerate(history) if r.epoch == best_epoch), None)
    if index is not None:
        _best_marks(fig, history, index)
    lines = _baseline_losses(baselines)
    for name, value in lines.items():
        fig.add_hline(y=value, line={"dash": "dash", "color": BASELINE_COLORS.get(name, "#6b7280"), "width": 1})
    axis = loss_range(train + val, list(lines.values()), log_scale=log_scale)
    layout(fig, _drawn_title("Loss", drawn, len(history)), "epoch", "loss")
    fig.update_layout(legend_traceorder="normal")  # the filled gap trace would otherwise reverse the legend
    if lines:
        _baseline_labels(fig, lines, axis, log_scale)
        fig.update_layout(margin={"r": LABEL_MARGIN_PX})
    if log_scale:
        fig.update_yaxes(type="log")
    if axis is not None:
        fig.update_yaxes(range=list(axis))
    return fig


def _loss_curves(fig: go.Figure, epochs: list[int], train: list[float], val: list[float]) -> None:
    """Training loss, the shaded generalization gap, validation loss: three traces in that order."""
    fig.add_trace(go.Scatter(x=epochs, y=train, name="train loss", line={"color": TRAIN_COLOR}))
    # The generalization gap: shaded where validation loss sits above training loss.
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[max(v, t) if np.isfinite(v) and np.isfinite(t) else None for v, t in zip(val, train, strict=True)],
            name="gap (validation above training)",
            fill="tonexty",
            fillcolor=GAP_FILL,
            line={"width": 0},
            hoverinfo="skip",
        )
    )
    fig.add_trace(go.Scatter(x=epochs, y=val, name="validation loss", line={"color": VAL_COLOR}))


def _best_marks(fig: go.Figure, history: Sequence[EpochRecord], index: int) -> None:
    """The best epoch starred with a dotted line, and where validation loss starts rising after it, if it does."""
    best = history[index]
    fig.add_trace(
        go.Scatter(
            x=[best.epoch],
            y=[best.val_loss],
            name=f"best epoch ({best.epoch})",
            mode="markers",
            marker={"symbol": "star", "size": 14, "color": BEST_COLOR},
        )
    )
    fig.add_vline(x=best.epoch, line={"dash": "dot", "color": BEST_COLOR, "width": 1})
    rise = _rise_start(history, index)
    if rise is not None:
        fig.add_trace(
            go.Scatter(
                x=[history[rise].epoch],
                y=[history[rise].val_loss],
                name=f"validation starts rising ({history[rise].epoch})",
                mode="markers",
                marker={"symbol": "triangle-up", "size": 12, "color": RISE_COLOR},
            )
        )


def _baseline_losses(baselines: dict[str, dict[str, float]] | None) -> dict[str, float]:
    """Each baseline's validation loss, those without a finite one left out."""
    return {
        name: float(values["val_loss"])
        for name, values in (baselines or {}).items()
        if values.get("val_loss") is not None and np.isfinite(values["val_loss"])
    }


def metric_figure(history: Sequence[EpochRecord], task: str = "classification") -> go.Figure:
    name = "accuracy" if task == "classification" else "R²"
    train, val = [r.train_metric for r in history], [r.val_metric for r in history]
    drawn = drawn_indexes([train, val])
    epochs = _take(drawn, [r.epoch for r in history])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=_take(drawn, train), name=f"train {name}", line={"color": TRAIN_COLOR}))
    fig.add_trace(go.Scatter(x=epochs, y=_take(drawn, val), name=f"validation {name}", line={"color": VAL_COLOR}))
    title = name.capitalize() if task == "classification" else name
    return layout(fig, _drawn_title(title, drawn, len(history)), "epoch", name)
