"""The Compare page's pieces: the runs table, one card per selected run (verdict, Open in Train, downloads),
and the delete step. The logic is in core/compare.py; this draws it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields

import streamlit as st

from core import compare
from core.export.models import config_json, model_files
from core.export.runs import ExportError, run_json
from core.hyperparameters import Hyperparameters
from core.store.runs import ACTIVE, StoredRun
from ui import runs, session, state
from ui.session import hp_key
from ui.text import plain

NUMBER = st.column_config.NumberColumn
COLUMNS = {
    "run": st.column_config.TextColumn("run", pinned=True, help="The run's id (its first 6 characters)"),
    "kept epoch": NUMBER(help="The epoch whose model the run keeps (early stopping restores it)"),
    "kept val loss": NUMBER(format="%.4f", help="Validation loss of the kept model: lower is better"),
    "kept val metric": NUMBER(format="%.3f", help="Accuracy or R² on the validation rows, kept model"),
    "test loss": NUMBER(format="%.4f"),
    "test metric": NUMBER(format="%.3f", help="Accuracy or R² on the test rows, measured once at the end"),
    "epochs run": NUMBER(help="Epochs the run trained (the epochs knob is the most it may train)"),
    "seconds": NUMBER(format="%.1f"),
}


def table_key(stored: Sequence[StoredRun]) -> str:
    """The table's widget key: a new one whenever a run comes or goes, so that a selection (row positions)
    never lands on other runs than the ones the user ticked."""
    newest = stored[0].id[:8] if stored else "none"
    return f"compare_table_{len(stored)}_{newest}"


def runs_table(stored: Sequence[StoredRun]) -> list[StoredRun]:
    """The sortable table with multi-row selection; returns the selected runs, in the table's order."""
    event = st.dataframe(
        compare.runs_table(stored),
        key=table_key(stored),
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        column_config=COLUMNS,
        width="stretch",
    )
    return [stored[i] for i in sorted(event.selection.rows) if 0 <= i < len(stored)]


def open_in_train(run: StoredRun) -> None:
    """Set the Train page's data knobs and every hyperparameter to this run's, show the run there, go there."""
    settings = compare.train_settings(run)
    for key, value in settings.data.items():
        session.set_knob(key, value)
    for field in fields(Hyperparameters):
        session.set_knob(hp_key(field.name), getattr(settings.hyperparameters, field.name))
    session.show_run(run.id)
    st.switch_page("pages/train.py")


def _model_config(run: StoredRun, state: bytes) -> Callable[[], str]:
    def make() -> str:  # called when the button is clicked: the data is made again only then
        dataset = compare.rebuild_dataset(run)
        if dataset is None:
            raise ExportError("an uploaded file's run has no config here")
        return config_json(model_files(run, dataset, state)[1])

    return make


def run_card(run: StoredRun, label: str, model_state: bytes | None) -> None:
    """One selected run: its data, its verdict (headline and first evidence line), Open in Train, downloads."""
    short = compare.short_id(run)
    st.markdown(f"**{label}** · {runs.when(run)}")
    st.caption(plain(runs.data_words(run.dataset)))
    title, severity, first = compare.verdict_lines(run)
    box = {"error": st.error, "success": st.success, "info": st.info}.get(severity, st.warning)
    box(f"**{plain(title)}**")
    st.caption(plain(first))
    settings = compare.train_settings(run)
    if st.button("Open in Train", key=f"open_{run.id}", icon=":material/open_in_new:", help="Load its data and knobs"):
        open_in_train(run)
    for note in settings.notes:
        st.caption(plain(note))
    if run.kind == "trial":
        st.caption("A search trial: Open in Train sets its knobs; the Train page lists Train and Fix-it runs.")
    st.download_button(
        "Run (JSON)",
        json.dumps(run_json(run), indent=2),
        file_name=compare.file_name(run, "run"),
        mime="application/json",
        key=f"json_{run.id}",
        on_click="ignore",
        icon=":material/download:",
        help="The run as `python -m core train --json` prints it: knobs, history, verdict, test scores",
    )
    if model_state is None:
        st.caption("No trained model is stored for this run." if run.status not in ACTIVE else "The model comes when it ends.")
        return
    st.download_button(
        "Model parameters (.pt)",
        model_state,
        file_name=compare.file_name(run, "model"),
        mime="application/octet-stream",
        key=f"model_{run.id}",
        on_click="ignore",
        icon=":material/download:",
        help="The learned weights and biases, a PyTorch state_dict: torch.load(path, weights_only=True)",
    )
    if compare.rebuildable(run):
        st.download_button(
            "Model config (JSON)",
            _model_config(run, model_state),
            file_name=compare.file_name(run, "config"),
            mime="application/json",
            key=f"config_{run.id}",
            on_click="ignore",
            icon=":material/download:",
            help=f"The hyperparameters and the preprocessing: python -m core predict --model fitlab-model-{short}.pt "
            f"--config fitlab-model-{short}.json --csv new.csv",
        )
    else:
        st.caption("Its config needs the uploaded file: train it with `python -m core train --save-model` instead.")


def delete_step(ws: str, chosen: Sequence[StoredRun], labels: Sequence[str]) -> None:
    """Delete the selected runs after a confirmation tick; queued and running runs are kept (stop them first)."""
    deletable, active = compare.split_active(chosen)
    names = {r.id: label for r, label in zip(chosen, labels, strict=True)}
    for run in active:
        st.warning(f"{names[run.id]} is {run.status}: it cannot be deleted. Stop it on the Train page first.")
    if not deletable:
        return
    which = ", ".join(names[r.id] for r in deletable)
    confirmed = st.checkbox(f"Yes, delete {which} from this workspace (this cannot be undone)", key=state.CONFIRM_DELETE.key)
    st.button(
        f"Delete {len(deletable)} run(s)",
        key="delete_runs",
        type="primary",
        icon=":material/delete:",
        disabled=not confirmed,
        on_click=_delete,
        args=(ws, [r.id for r in deletable]),
    )


def _delete(ws: str, run_ids: list[str]) -> None:
    """The Delete button's callback: looks again (a run may have been restarted meanwhile), deletes in `ws` only."""
    store = session.store()
    deleted = 0
    for run_id in run_ids:
        run = store.get(run_id)
        if run is not None and run.workspace == ws and run.status not in ACTIVE:
            deleted += store.delete_run(run_id, ws)
    state.CONFIRM_DELETE.set(False)
    st.toast(f"Deleted {deleted} run(s).", icon=":material/delete:")
