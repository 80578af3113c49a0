"""Compare runs: this workspace's runs in one sortable table; for the 2 to 6 selected, their curves overlaid,
the knobs that differ, their verdicts side by side, parallel coordinates; Open in Train, exports, delete.

Only the workspace in the URL is read (RunStore.list_runs); the logic is in core/compare.py, the
pieces in ui/compare.py.
"""

from __future__ import annotations

import streamlit as st

from core import compare
from core.export.runs import runs_csv_bytes
from ui import compare as view
from ui import session

# --- session: the workspace in the URL and its run store
ws = session.workspace()
store = session.store()
session.init_knobs()  # Open in Train changes the remembered knobs: start from this workspace's own

# --- the runs table: pick 2 to 6
st.title("Compare runs")
stored = store.list_runs(ws, kinds=compare.LISTED_KINDS, limit=200)
if not stored:
    st.info(
        "No runs in this workspace yet. Train a few on the **Train & diagnose** page (change one knob between "
        "them, e.g. the learning rate), then come back here to compare them.",
        icon=":material/compare_arrows:",
    )
    st.page_link("pages/train.py", label="Go to Train & diagnose", icon=":material/model_training:")
    st.stop()

st.caption(
    f"{len(stored)} run(s) in this workspace, newest first. Click a column header to sort; tick the boxes on the "
    f"left to compare {compare.MIN_COMPARED} to {compare.MAX_COMPARED} runs."
)
chosen, message = compare.compared(view.runs_table(stored))
if message:
    st.info(message, icon=":material/info:")
if not chosen:
    st.stop()
labels = [compare.default_label(r) for r in chosen]

# --- curves and the knobs that differ
if len(chosen) >= compare.MIN_COMPARED:
    st.subheader("Curves")
    log_scale = st.toggle("Log-scale loss axis", key="compare_log_scale")
    left, right = st.columns(2)
    left.plotly_chart(compare.overlay_figure(chosen, "loss", labels=labels, log_scale=log_scale), key="compare_loss")
    right.plotly_chart(compare.overlay_figure(chosen, "metric", labels=labels), key="compare_metric")
    st.caption("Download a chart as PNG with the camera icon of its toolbar (top right of the chart).")

    st.subheader("What differs")
    diff = compare.hp_diff(chosen, labels=labels)
    if diff.empty:
        st.info("Every knob and the data are the same in these runs: any difference in their curves is chance.")
    else:
        st.container(key="compare_diff").table(compare.diff_styler(diff), width="content")
        st.caption(f"Only the knobs that differ; highlighted: a value unlike the first run's ({labels[0]}). – = not recorded.")

# --- verdicts side by side, each with Open in Train and its downloads
st.subheader("Verdicts" if len(chosen) > 1 else "The selected run")
for column, run, label in zip(st.columns(len(chosen)), chosen, labels, strict=True):
    with column.container(border=True, key=f"card_{run.id}"):
        view.run_card(run, label, store.model_state(run.id))

# --- parallel coordinates
if len(chosen) >= compare.MIN_COMPARED:
    st.subheader("Hyperparameters against the validation loss")
    placed = compare.with_kept_loss(chosen)
    if len(chosen) < 3:
        st.caption("Parallel coordinates need at least 3 selected runs: select one more to see them.")
    elif len(placed) < 2:
        st.caption("Parallel coordinates need at least 2 runs with a kept validation loss (failed or stopped runs have none).")
    else:
        st.plotly_chart(compare.parallel_figure(chosen, labels=labels), key="compare_parallel")

# --- export and delete
st.subheader("Export and delete")
st.download_button(
    f"Selected runs as CSV ({len(chosen)} row(s))",
    runs_csv_bytes(chosen),
    file_name="fitlab-runs.csv",
    mime="text/csv",
    key="runs_csv",
    on_click="ignore",
    icon=":material/download:",
    help="One row per run, one column per score and hyperparameter; opens in Excel",
)
view.delete_step(ws, chosen, labels)
