"""Several stored runs side by side: one table, overlaid curves, the knobs that differ, parallel coordinates.

Pure functions of `StoredRun`s (the run store's rows): DataFrames, Stylers and Plotly figures, no
Streamlit. The table has the columns of the CSV export (core.export.runs.runs_table), so what a user sorts
on the page is what they download. Also what the Compare page's buttons need: which runs a selection
compares, a run's data and knobs for "Open in Train", its data rebuilt for the model export.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler

from core.data.builtin import BUILTIN, SYNTHETIC, load_builtin
from core.data.dataset import Dataset
from core.diagnosis import Diagnosis, heading
from core.export.runs import SCORE_COLUMNS
from core.export.runs import runs_table as export_table
from core.figures.charts import CLASS_COLORS
from core.history import History
from core.hyperparameters import KNOBS, HyperparameterError, Hyperparameters
from core.records import RunRecord
from core.store.runs import ACTIVE, StoredRun

RUN_COLORS = CLASS_COLORS  # one colour per run, in the order the runs were picked (at most 6 are compared)
HYPERPARAMETERS = [f.name for f in fields(Hyperparameters)]
DATA_KEYS = ("dataset", "samples", "noise")  # the data knobs, compared with the hyperparameters
TABLE_RENAMES = {
    "kept_epoch": "kept epoch",
    "kept_val_loss": "kept val loss",
    "kept_val_metric": "kept val metric",
    "test_loss": "test loss",
    "test_metric": "test metric",
    "epochs_run": "epochs run",  # not "epochs": that is the hyperparameter (the most it may run)
}
METRIC_NAMES = {"classification": "accuracy", "regression": "R²"}
LISTED_KINDS = ("train", "fix", "trial")  # the runs the Compare page lists (not the LR finder's or learning curves')
MIN_COMPARED, MAX_COMPARED = 2, 6
DIFF_HIGHLIGHT = "background-color: #fef3c7; font-weight: 600"  # a value unlike the first run's


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
    """Validation loss at the kept epoch (the model the run keeps); NaN when it has none (a gap in a chart)."""
    value = RunRecord(run).kept_val_loss
    return math.nan if value is None else value


def data_knobs(run: StoredRun) -> dict[str, Any]:
    """What the data knobs were: the dataset's name (or the CSV file) and, for synthetic data, samples and noise."""
    spec = RunRecord(run).data_spec
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
    """The runs' curves on one chart, one colour per run: validation solid, training dashed.

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
        _overlay_run(fig, run, name, index, metric, what)
    _overlay_layout(fig, metric, metric_name, what)
    if metric == "loss" and log_scale:
        fig.update_yaxes(type="log")
    return fig


def _overlay_run(fig: go.Figure, run: StoredRun, name: str, index: int, metric: str, what: str) -> None:
    """One run's validation (solid) and training (dashed) curves, its best and kept epochs marked."""
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
        line={"color": color, "width": 1.5, "dash": "dash"}, opacity=0.8,
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


def _overlay_layout(fig: go.Figure, metric: str, metric_name: str, what: str) -> None:
    """The overlay's title (which marks it shows), axis titles, size and legend."""
    shown = "Loss" if metric == "loss" else metric_name if metric_name == "R²" else metric_name.capitalize()
    kept_marks = any(t.meta == "kept" for t in fig.data)
    title = f"{shown}: validation solid, training dashed, ★ best epoch" + (", ○ kept" if kept_marks else "")
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        xaxis_title="epoch",
        yaxis_title=what,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=400,
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0},
        hovermode="closest",
    )


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
    if any(v is None for v in raw):  # a run from an older version lacks this knob: "–" below its values
        present = sorted({v for v in raw if v is not None}) + [None]
        return {
            "label": label,
            "values": [present.index(v) for v in raw],
            "tickvals": list(range(len(present))),
            "ticktext": [format_value(v) for v in present],
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
    green = low). With nothing differing, every tunable hyperparameter is shown.

    ValueError when no run has a kept validation loss (nothing to draw)."""
    names = _labels(runs, labels)
    keep = with_kept_loss(runs)
    if not keep:
        raise ValueError("no run has a kept validation loss")
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


# ---------------------------------------------------------------- the diff, highlighted


def diff_marks(diff: pd.DataFrame) -> pd.DataFrame:
    """True where a run's value differs from the first run's (the reference column) in `hp_diff`'s table."""
    if diff.empty or not len(diff.columns):
        return pd.DataFrame(False, index=diff.index, columns=diff.columns)
    first = diff.iloc[:, 0]
    return diff.apply(lambda column: column != first)


def diff_styler(diff: pd.DataFrame) -> Styler:
    """`hp_diff`'s table for display: knob labels ("Learning rate") as the index, the values unlike the first
    run's highlighted."""
    marks = diff_marks(diff)
    styles = pd.DataFrame(
        [[DIFF_HIGHLIGHT if mark else "" for mark in row] for row in marks.itertuples(index=False)],
        index=diff.index,
        columns=diff.columns,
    )
    labelled = diff.rename(index=lambda knob: knob_label(str(knob)))  # Streamlit's table shows the raw index
    labelled.index.name = "knob"
    styles.index = labelled.index
    return labelled.style.apply(lambda _: styles, axis=None)


# ---------------------------------------------------------------- what the page's buttons need


def compared(selected: Sequence[StoredRun]) -> tuple[list[StoredRun], str | None]:
    """The runs a selection compares (at most the first MAX_COMPARED) and what to tell the user, if anything."""
    runs = list(selected)
    if not runs:
        return [], f"Select {MIN_COMPARED} to {MAX_COMPARED} runs in the table (the boxes on the left) to compare them."
    if len(runs) < MIN_COMPARED:
        return runs, f"One run selected: select at least one more to overlay their curves (up to {MAX_COMPARED})."
    if len(runs) > MAX_COMPARED:
        return runs[:MAX_COMPARED], (
            f"{len(runs)} runs selected: at most {MAX_COMPARED} are compared, so only the first {MAX_COMPARED} are used "
            "(for the charts, the exports and delete). Unselect some to choose which."
        )
    return runs, None


def verdict_lines(run: StoredRun) -> tuple[str, str, str]:
    """(headline, severity, first evidence line) of a run's verdict; severity is error, warning, success or info.

    A run without a diagnosis (failed, stopped early on, still going) says what happened instead."""
    if run.diagnosis:
        diagnosis = Diagnosis.from_dict(run.diagnosis)
        title, severity = heading(diagnosis)
        first = diagnosis.evidence[0] if diagnosis.evidence else diagnosis.summary
        return title, severity, first
    if run.status == "failed":
        return "Failed", "error", run.error or "the run failed before it finished"
    if run.status in ACTIVE:
        return run.status.capitalize(), "info", "no verdict yet: the run is not finished"
    return f"No verdict ({run.status.replace('_', ' ')})", "warning", f"{len(run.history)} epoch(s): nothing to diagnose"


def split_active(runs: Sequence[StoredRun]) -> tuple[list[StoredRun], list[StoredRun]]:
    """(the runs that may be deleted, the queued or running ones that may not: stop them first)."""
    return [r for r in runs if r.status not in ACTIVE], [r for r in runs if r.status in ACTIVE]


@dataclass(frozen=True)
class TrainSettings:
    """What "Open in Train" sets: the data knobs (empty for an uploaded file) and every hyperparameter."""

    data: dict[str, Any]  # dataset_name, and samples and noise for the synthetic datasets
    hyperparameters: Hyperparameters
    notes: list[str]  # what could not be set as the run had it, one sentence each


def train_settings(run: StoredRun) -> TrainSettings:
    """A run's dataset and knobs as the Train page's widgets take them.

    A knob the run lacks (stored by an older version) or that this version no longer accepts keeps
    its default, and a note says so; an uploaded CSV cannot be loaded again from the store."""
    spec = RunRecord(run).data_spec
    notes: list[str] = []
    data: dict[str, Any] = {}
    name = spec.get("name") or run.dataset.get("name")
    if "file" in spec:
        notes.append(
            f"This run trained on an uploaded file ({spec['file']}): it cannot be re-opened automatically. "
            "Upload it again on the Train page (target "
            f"{spec.get('target', '?')}); the knobs are set."
        )
    elif name in BUILTIN:
        data["dataset_name"] = name
        if name in SYNTHETIC:
            for key in ("samples", "noise"):
                if spec.get(key) is not None:
                    data[key] = int(spec[key]) if key == "samples" else float(spec[key])
    else:
        notes.append(f"The dataset {name!r} is not a built-in one: the data was not changed; the knobs are set.")
    values: dict[str, Any] = {}
    missing = [k for k in HYPERPARAMETERS if k not in run.hyperparameters]
    if missing:
        notes.append(f"The run does not record {', '.join(missing)} (an older version): the default is used.")
    for knob in HYPERPARAMETERS:
        if knob not in run.hyperparameters:
            continue
        try:
            Hyperparameters.from_dict({**values, knob: run.hyperparameters[knob]})
        except (HyperparameterError, TypeError, ValueError):
            notes.append(f"{knob} = {format_value(run.hyperparameters[knob])} is not accepted any more: the default is used.")
            continue
        values[knob] = run.hyperparameters[knob]
    return TrainSettings(data, Hyperparameters.from_dict(values), notes)


def rebuildable(run: StoredRun) -> bool:
    """Whether the run's data can be made again from its spec: a built-in dataset, not an uploaded file."""
    spec = RunRecord(run).data_spec
    return "file" not in spec and spec.get("name") in BUILTIN


def rebuild_dataset(run: StoredRun) -> Dataset | None:
    """A built-in run's data made again from its spec (the same rows, split and fitted preprocessing), for
    the model's config; None for an uploaded file (the store does not keep the file)."""
    if not rebuildable(run):
        return None
    spec = RunRecord(run).data_spec
    name = spec["name"]
    return load_builtin(
        str(name), samples=int(spec.get("samples", 1000)), noise=float(spec.get("noise", 0.2)), seed=int(spec.get("seed", 0))
    )


def file_name(run: StoredRun, what: str) -> str:
    """Download names: "run" -> fitlab-run-<id>.json, "model" -> fitlab-model-<id>.pt, "config" -> fitlab-model-<id>.json."""
    names = {"run": "fitlab-run-{}.json", "model": "fitlab-model-{}.pt", "config": "fitlab-model-{}.json"}
    if what not in names:
        raise ValueError(f"what is one of {', '.join(names)}, not {what!r}")
    return names[what].format(short_id(run))
