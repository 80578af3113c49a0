"""Several stored runs side by side: one table, overlaid curves, the knobs that differ, parallel coordinates.

Pure functions of `StoredRun`s (the run store's rows): DataFrames and Plotly figures, no Streamlit.
The table has the columns of the CSV export (core.export.runs_table), so what a user sorts on the page
is what they download.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.charts import CLASS_COLORS
from core.export import SCORE_COLUMNS
from core.export import runs_table as export_table
from core.history import History
from core.hyperparameters import KNOBS, Hyperparameters
from core.store import StoredRun

RUN_COLORS = CLASS_COLORS  # one colour per run, in the order the runs were picked (at most 6 are compared)
HYPERPARAMETERS = [f.name for f in fields(Hyperparameters)]
DATA_KEYS = ("dataset", "samples", "noise")  # the data knobs, compared with the hyperparameters
TABLE_RENAMES = {
    "kept_epoch": "kept epoch",
    "kept_val_loss": "kept val loss",
    "kept_val_metric": "kept val metric",
    "test_loss": "test loss",
    "test_metric": "test metric",
    "epochs_run": "epochs",
}
METRIC_NAMES = {"classification": "accuracy", "regression": "R²"}


def short_id(run: StoredRun) -> str:
    return run.id[:6]


def default_label(run: StoredRun) -> str:
    return f"run {short_id(run)}"


def _labels(runs: Sequence[StoredRun], labels: Sequence[str] | None) -> list[str]:
    if labels is None:
        return [default_label(r) for r in runs]
    if len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs")
    return list(labels)


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


def kept_val_loss(run: StoredRun) -> float:
    """Validation loss at the kept epoch (the model the run keeps); NaN when it has none."""
    kept = run.kept_epoch or 0
    if not 0 < kept <= len(run.history):
        return math.nan
    value = run.history[kept - 1].get("val_loss")
    return float(value) if value is not None and math.isfinite(float(value)) else math.nan


def data_knobs(run: StoredRun) -> dict[str, Any]:
    """What the data knobs were: the dataset's name (or the CSV file) and, for synthetic data, samples and noise."""
    spec = run.dataset.get("spec") or {}
    name = spec.get("file") or spec.get("name") or run.dataset.get("name")
    return {"dataset": name, "samples": spec.get("samples"), "noise": spec.get("noise")}


# ---------------------------------------------------------------- the table


def runs_table(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """One row per run: when, what data, verdict, kept and test scores, epochs, seconds, every hyperparameter.

    `run` holds the short id; the rows are in the order of `runs`.
    """
    frame = export_table(runs)
    for name in HYPERPARAMETERS:  # a run stored by an older version may lack a knob: still one column each
        if name not in frame.columns:
            frame[name] = None
    if len(frame):
        frame["run"] = [short_id(r) for r in runs]
        frame["created"] = [dt.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M:%S") for r in runs]
        frame["verdict"] = frame["verdict"].str.replace("_", " ")
    ordered = [*SCORE_COLUMNS, *HYPERPARAMETERS]
    rest = [c for c in frame.columns if c not in ordered]
    return frame[ordered + rest].rename(columns=TABLE_RENAMES)


# ---------------------------------------------------------------- curves overlaid


def overlay_figure(
    runs: Sequence[StoredRun],
    metric: str = "loss",
    *,
    labels: Sequence[str] | None = None,
    log_scale: bool = False,
) -> go.Figure:
    """The runs' curves on one chart, one colour per run: validation solid, training dotted.

    `metric` is "loss" or "metric" (accuracy or R²). Each run's best epoch (lowest validation loss) is a
    star, its kept epoch (the model it keeps, when that is another epoch) an open circle.
    """
    if metric not in ("loss", "metric"):
        raise ValueError(f"metric is 'loss' or 'metric', not {metric!r}")
    names = _labels(runs, labels)
    tasks = {str(r.dataset.get("task", "classification")) for r in runs}
    metric_name = METRIC_NAMES[tasks.pop()] if len(tasks) == 1 else "accuracy / R²"
    what = "loss" if metric == "loss" else metric_name
    fig = go.Figure()
    for index, (run, name) in enumerate(zip(runs, names, strict=True)):
        color, group = run_color(index), f"run{index}"
        history = History.from_dicts(run.history or [])
        epochs = [r.epoch for r in history]
        train, val = history[f"train_{metric}"], history[f"val_{metric}"]
        fig.add_scatter(
            x=epochs, y=val, mode="lines", name=name, legendgroup=group, line={"color": color, "width": 2.5},
            hovertemplate=f"{name}<br>epoch %{{x}}<br>validation {what} %{{y:.4g}}<extra></extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=epochs, y=train, mode="lines", name=f"{name} (training)", legendgroup=group, showlegend=False,
            line={"color": color, "width": 1.5, "dash": "dot"}, opacity=0.8,
            hovertemplate=f"{name}<br>epoch %{{x}}<br>training {what} %{{y:.4g}}<extra></extra>",
        )  # fmt: skip
        marks = [("best", run.best_epoch, "star", 15)]
        if run.kept_epoch and run.kept_epoch != run.best_epoch:
            marks.append(("kept", run.kept_epoch, "circle-open", 13))
        for word, epoch, symbol, size in marks:
            if not epoch or not 0 < epoch <= len(history):
                continue
            value = val[epoch - 1]
            if not math.isfinite(value):
                continue
            fig.add_scatter(
                x=[epoch], y=[value], mode="markers", name=f"{name} {word} epoch {epoch}", legendgroup=group,
                showlegend=False, meta=word,
                marker={"color": color, "symbol": symbol, "size": size, "line": _outline(color, symbol)},
                hovertemplate=f"{name}<br>{word} epoch {epoch}<br>validation {what} %{{y:.4g}}<extra></extra>",
            )  # fmt: skip
    title = f"{'Loss' if metric == 'loss' else metric_name.capitalize()}: validation solid, training dotted; ★ best epoch, ○ kept"
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        xaxis_title="epoch",
        yaxis_title=what,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=400,
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0},
        hovermode="closest",
    )
    if metric == "loss" and log_scale:
        fig.update_yaxes(type="log")
    return fig


# ---------------------------------------------------------------- the knobs that differ


def format_value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def knob_values(run: StoredRun) -> dict[str, Any]:
    """Every knob of a run, the data knobs first, then the hyperparameters in their field order."""
    values = data_knobs(run)
    values.update({name: run.hyperparameters.get(name) for name in HYPERPARAMETERS})
    return values


def hp_diff(runs: Sequence[StoredRun], *, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The knobs (data and hyperparameters) whose values differ between the runs: one row per knob,
    one column per run, values as text. Empty (no rows) when every knob is the same."""
    names = _labels(runs, labels)
    values = [knob_values(r) for r in runs]
    rows = {}
    for knob in [*DATA_KEYS, *HYPERPARAMETERS]:
        texts = [format_value(v[knob]) for v in values]
        if len(set(texts)) > 1:
            rows[knob] = texts
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=names) if rows else pd.DataFrame(columns=names)
    frame.index.name = "knob"
    return frame


def knob_label(knob: str) -> str:
    if knob in KNOBS:
        return KNOBS[knob].label
    return knob.capitalize()


# ---------------------------------------------------------------- parallel coordinates


def with_kept_loss(runs: Sequence[StoredRun]) -> list[int]:
    """Indexes of the runs that have a kept validation loss (the others cannot be placed on its axis)."""
    return [i for i, r in enumerate(runs) if math.isfinite(kept_val_loss(r))]


def _dimension(knob: str, raw: list[Any]) -> dict[str, Any]:
    """One parcoords axis. Ladder knobs (learning rate, batch size, ...) are placed by their step on the
    ladder, so a log-spaced knob reads evenly; choices and toggles by their position."""
    spec = KNOBS[knob]
    label = spec.label.split(" (")[0]
    if spec.kind in ("choice", "bool"):
        choices = list(spec.choices) if spec.kind == "choice" else [False, True]
        present = [c for c in choices if c in raw] + [v for v in dict.fromkeys(raw) if v not in choices]
        return {
            "label": label,
            "values": [present.index(v) for v in raw],
            "tickvals": list(range(len(present))),
            "ticktext": [format_value(v) for v in present],
            "range": [-0.25, max(len(present) - 1, 1) + 0.25],
        }
    steps = list(spec.steps)
    if steps and all(v in steps for v in raw):
        used = sorted(set(raw))
        return {
            "label": label,
            "values": [steps.index(v) for v in raw],
            "tickvals": [steps.index(v) for v in used],
            "ticktext": [format_value(v) for v in used],
        }
    return {"label": label, "values": [float(v) if v is not None else math.nan for v in raw]}


def parallel_figure(runs: Sequence[StoredRun], *, labels: Sequence[str] | None = None) -> go.Figure:
    """Parallel coordinates, one line per run that has a kept validation loss: the run, each
    hyperparameter that differs between them, and the kept validation loss (also the line's colour,
    green = low). With nothing differing, every tunable hyperparameter is shown."""
    names = _labels(runs, labels)
    keep = with_kept_loss(runs)
    shown = [runs[i] for i in keep]
    losses = [kept_val_loss(r) for r in shown]
    tunable = [k for k in HYPERPARAMETERS if KNOBS[k].tunable]
    varying = [k for k in HYPERPARAMETERS if len({format_value(r.hyperparameters.get(k)) for r in shown}) > 1]
    dimensions = [
        {
            "label": "run",
            "values": list(range(len(shown))),
            "tickvals": list(range(len(shown))),
            "ticktext": [names[i] for i in keep],
        }
    ]
    dimensions += [_dimension(k, [r.hyperparameters.get(k) for r in shown]) for k in (varying or tunable)]
    dimensions.append({"label": "kept val loss", "values": losses})
    fig = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": losses,
                "colorscale": "RdYlGn",
                "reversescale": True,
                "showscale": True,
                "colorbar": {"title": {"text": "val loss"}},
            },
            labelangle=-20,
            labelside="top",
        )
    )
    fig.update_layout(
        title={"text": "Hyperparameters against the kept validation loss (drag along an axis to filter)", "font": {"size": 14}},
        margin={"l": 60, "r": 40, "t": 100, "b": 30},
        height=440,
    )
    return fig


def _outline(color: str, symbol: str) -> dict[str, object]:
    """A star gets a thin white outline, other markers a ring in the run's colour."""
    return {"color": "white" if symbol == "star" else color, "width": 1 if symbol == "star" else 2.5}
