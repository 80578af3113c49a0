"""Diagnose a log from elsewhere: a per-epoch CSV from Keras, Lightning or a hand-written loop, its curves
and FitLab's verdict. Reading and diagnosing happen in core.logs.reader; this page only draws."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from core.data.csvfile import DataError
from core.diagnosis import Diagnosis
from core.diagnosis.dynamics import NO_RECORD
from core.figures.charts import loss_figure, metric_figure
from core.logs.reader import TrainingLog, diagnose_log, read_training_log
from ui import state, verdict
from ui.text import plain

# Example logs the page offers (the tests read them too): each laid out exactly as its logger writes it.
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "ui" / "assets" / "example_logs"
EXAMPLES = {
    "Keras CSVLogger: a classifier that overfits": "keras_overfitting.csv",
    "Keras CSVLogger: regression (mae) with a learning-rate schedule": "keras_regression_mae.csv",
    "Lightning metrics.csv: bouncing training loss": "lightning_metrics.csv",
    "Lightning metrics.csv: step-level loss, learning-rate monitor": "lightning_step_only.csv",
    "Plain epoch,train_loss,val_loss: still improving": "plain_not_converged.csv",
}


PASTE_CHARS = 2_000_000  # a pasted log: 2 MB of text is tens of thousands of epochs (a file may be larger)


# Per session (freed when it ends), two logs at most, and no more than 64 MB of parsed logs: a shared
# server keeps no one's file after they leave.
@st.cache_data(show_spinner=False, scope="session", max_entries=2, max_size="64MB")
def _read(content: bytes, name: str) -> TrainingLog:
    return read_training_log(content, name=name)


@st.cache_data(show_spinner=False, scope="session", max_entries=2)
def _diagnose(content: bytes, name: str) -> Diagnosis:
    """The verdict of the log read by `_read` (every toggle reruns the page: diagnose once per log)."""
    return diagnose_log(_read(content, name))


def _choose(source: str) -> None:
    """The most recent choice wins: a new upload, or an example."""
    state.LOG_SOURCE.set(source)


def _metric_chart(log: TrainingLog) -> go.Figure:
    """The metric chart, labelled with the log's own metric name; a side the log lacks is left out."""
    label = html.escape(str(log.metric_name))  # a column name: Plotly renders <a>, <b>… in names and titles
    fig = metric_figure(log.history)
    for trace in fig.data:
        for side in ("train", "validation"):
            if str(trace.name).startswith(side):
                trace.name = f"{side} {label}"
    fig.data = tuple(t for t in fig.data if any(y == y for y in t.y))  # NaN != NaN: never logged
    title = label[:1].upper() + label[1:]
    drawn = str(fig.layout.title.text or "")
    if "(downsampled" in drawn:  # a long log is drawn from each stretch's extremes: keep saying so
        title += " " + drawn[drawn.index("(downsampled") :]
    return fig.update_layout(title=title, yaxis_title=label)


# --- the log: an upload or an example
st.title("Diagnose a log from elsewhere")
st.caption(
    "A per-epoch log from another tool: Keras' `CSVLogger` or console output, PyTorch Lightning's `CSVLogger` "
    "(`metrics.csv`), your own loop's `epoch,train_loss,val_loss` or printed lines, a Keras history or a Hugging Face "
    "`trainer_state.json`. FitLab draws the curves and gives its verdict."
)
upload_column, example_column = st.columns([3, 2], vertical_alignment="bottom")
upload = upload_column.file_uploader(
    "Training log (CSV, text or JSON history)",
    type=["csv", "txt", "tsv", "log", "json"],
    key="log_file",
    on_change=_choose,
    args=("upload",),
)
example = example_column.selectbox("Example log", list(EXAMPLES), key="log_example", on_change=_choose, args=("example",))
example_column.button("Try an example", key="try_example", on_click=_choose, args=("example",))
pasted = st.text_area(
    "Or paste a log: Keras console output as a notebook prints it, a printed training log, CSV or JSON",
    key="log_paste",
    height=110,
    max_chars=PASTE_CHARS,
    on_change=_choose,
    args=("paste",),
)

chosen = state.LOG_SOURCE.get()
if chosen == "paste" and pasted.strip():
    content, name = pasted.encode("utf-8"), "the pasted log"
elif upload is not None and chosen not in ("example", "paste"):
    content, name = upload.getvalue(), upload.name
elif chosen == "example":
    content, name = (EXAMPLES_DIR / EXAMPLES[example]).read_bytes(), EXAMPLES[example]
else:
    st.info("Upload a log, paste one, or press **Try an example**.")
    st.stop()

# --- how it was read
try:
    log = _read(content, name)
except DataError as exc:
    st.error(f"Could not read {plain(name)}: {plain(str(exc))}")
    st.stop()

metric = f"metric {plain(repr(log.metric_name))}" if log.metric_name else "no metric"
epochs = f"{len(log.history):,} epoch(s)"
if log.logged_epochs is not None:  # a long log: evenly spaced epochs were read, and the notes say which
    epochs = f"{len(log.history):,} of its {log.logged_epochs:,} epochs"
st.container(key="log_format").markdown(f"**{plain(name)}**: read as **{log.format_title}**, {epochs}, {metric}.")
with st.expander("How the log was read"):
    for line in [log.describe(), *log.notes]:  # they quote the file's column names: text, never Markdown
        st.markdown(f"- {plain(line)}")

# --- its curves
log_scale = st.toggle("Log-scale loss axis", key="log_log_scale")
left, right = st.columns(2)
left.plotly_chart(loss_figure(log.history, log_scale=log_scale), key="log_loss_chart")
if log.metric_name:
    right.plotly_chart(_metric_chart(log), key="log_metric_chart")
else:
    right.caption("This log has no metric column: only the losses are drawn.")

# --- the verdict
st.subheader("Diagnosis")
verdict.diagnosis_card(_diagnose(content, name), None, applicable=False)
st.caption(
    "A log carries no hyperparameters, so the advice names the knob and the direction; "
    "the baselines and the learning-rate evidence of a FitLab run are not available here. Inside the network: "
    f"{NO_RECORD}."
)
