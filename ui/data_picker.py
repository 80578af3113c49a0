"""The dataset picker: a built-in dataset and its settings, or an uploaded CSV (read, choose the target, preview)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.data import (
    BUILTIN,
    ROW_CAP,
    SYNTHETIC,
    ColumnInfo,
    CsvTable,
    DataError,
    Dataset,
    analyze_columns,
    build_dataset,
    default_target,
    guess_task,
    load_builtin,
    profile,
    read_table,
    to_safe_csv,
)
from ui.text import plain

UPLOAD = "Upload a CSV…"


@st.cache_data(show_spinner=False, max_entries=32)
def _builtin(name: str, samples: int, noise: float, seed: int) -> Dataset:
    return load_builtin(name, samples=samples, noise=noise, seed=seed)


@st.cache_data(show_spinner="Preparing the features…", max_entries=8)
def _csv(
    _table: CsvTable,
    _infos: list[ColumnInfo],
    file_id: str,
    target: str,
    task: str,
    exclude: tuple[str, ...],
    seed: int,
    filename: str,
) -> Dataset:
    """The uploaded file as a Dataset; keyed by the upload's id and the choices, not by hashing its bytes."""
    return build_dataset(_table, target, task=task, exclude=exclude, seed=seed, name=filename, infos=_infos)


def _csv_columns(upload: Any) -> tuple[CsvTable, list[ColumnInfo]]:
    """Read and profile an upload once per session (with a progress bar); a failure is remembered too."""
    cached = st.session_state.get("csv_read")
    if cached is not None and cached[0] == upload.file_id:
        if isinstance(cached[1], str):
            raise DataError(cached[1])
        return cached[1]
    bar = st.sidebar.progress(0.0, text="Reading the file…")
    try:
        table = read_table(upload.getvalue(), progress=lambda share, what: bar.progress(min(1.0, share), text=plain(what)))
        bar.progress(1.0, text="Profiling the columns…")
        result = (table, analyze_columns(table.frame))
    except DataError as exc:
        st.session_state["csv_read"] = (upload.file_id, str(exc))
        raise
    finally:
        bar.empty()
    st.session_state["csv_read"] = (upload.file_id, result)
    return result


@dataclass
class DataChoice:
    dataset: Dataset
    dataset_id: str  # cache key: identifies the data, its settings and the split
    spec: dict[str, Any]  # how it was made, stored with each run: name, samples, noise, seed; or file, target, task


def dataset_widgets(seed: int) -> DataChoice | None:
    """The dataset picker. A file that fails to load shows its message here and the last good
    dataset stays in use."""
    sb = st.sidebar
    sb.header("Data")
    choice = sb.selectbox("Dataset", list(BUILTIN) + [UPLOAD], key="dataset_name")
    try:
        if choice == UPLOAD:
            loaded = _upload_widgets(seed)
        else:
            st.session_state.pop("csv_read", None)  # the uploader forgets its file when hidden: so do we
            if choice in SYNTHETIC:
                sb.slider("Samples", 50, 5000, step=50, key="samples")
                sb.slider("Noise", 0.0, 1.0, step=0.05, key="noise")
            samples, noise = int(st.session_state["samples"]), float(st.session_state["noise"])
            spec: dict[str, Any] = {"name": choice, "seed": seed}
            if choice in SYNTHETIC:
                spec |= {"samples": samples, "noise": noise}
            loaded = DataChoice(_builtin(choice, samples, noise, seed), f"{choice}:{samples}:{noise}:{seed}", spec)
    except DataError as exc:
        sb.error(f"Could not use this data: {plain(str(exc))}")
        loaded = None
    if loaded is not None:
        st.session_state["last_good_data"] = loaded
        return loaded
    previous: DataChoice | None = st.session_state.get("last_good_data")
    if previous is not None:
        sb.info(f"Still using the previous dataset, {plain(previous.dataset.name)}.")
    return previous


UPLOAD_HELP = (
    "A table saved as text: one row per example, one column to predict. Commas, semicolons, tabs or pipes; "
    "UTF-8 or Windows-1252; decimal points or commas. Up to 50 MB here (the command line has no limit). "
    f"Files over {ROW_CAP:,} rows train on a random sample of {ROW_CAP:,}."
)


TASKS = ("classification", "regression")


def _new_target() -> None:
    """A different target: ask the task again, and never leave the target among the left-out columns."""
    st.session_state.pop("csv_task", None)
    target = st.session_state.get("csv_target")
    st.session_state["csv_exclude"] = [c for c in st.session_state.get("csv_exclude", []) if c != target]


def _upload_widgets(seed: int) -> DataChoice | None:
    """Upload, then target, task and left-out columns, a preview with a column profile, and the notes.

    A file that cannot be read raises DataError (shown next to the uploader by dataset_widgets); a
    target that cannot be trained on shows its message here, with the profile still visible."""
    sb = st.sidebar
    upload = sb.file_uploader("CSV file", key="csv", help=UPLOAD_HELP)
    # Streamlit marks a file over server.maxUploadSize red and names the limit only in a tooltip: say it here.
    sb.caption(
        "Up to 50 MB. A file shown in red was refused as too big: train it with "
        "`python -m core train --csv FILE --target COLUMN`, or upload a sample of its rows."
    )
    if upload is None:
        sb.caption("Pick a CSV file: one row per example, one column to predict.")
        return None
    if st.session_state.get("csv_file") != upload.file_id:  # a new file: its own defaults
        for key in ("csv_target", "csv_task", "csv_exclude"):
            st.session_state.pop(key, None)
        st.session_state["csv_file"] = upload.file_id
    table, infos = _csv_columns(upload)
    columns = [info.name for info in infos]
    sb.caption(plain(f"{table.rows:,} rows × {len(columns):,} columns; {table.describe()}."))
    target = str(
        sb.selectbox(
            "Target column (what to predict)",
            columns,
            index=columns.index(default_target(infos)),
            key="csv_target",
            on_change=_new_target,
        )
    )
    guess = guess_task(table.frame[target])
    task = sb.radio(
        "Task",
        TASKS,
        index=None if guess.ambiguous else TASKS.index(guess.task),
        key="csv_task",
        horizontal=True,
        help="Classification predicts one of a few labels; regression predicts an amount.",
    )
    if task is None:
        sb.warning(plain(f"{target!r} holds {guess.reason}: are they classes or amounts? Choose the task to train on this file."))
    elif not guess.ambiguous:
        sb.caption(plain(f"Detected: {guess.task}, because {guess.reason}."))
    exclude = tuple(
        sb.multiselect("Leave out columns", [c for c in columns if c != target], key="csv_exclude", help="Not used as features.")
    )
    loaded: DataChoice | None = None
    if task is not None:
        try:
            dataset = _csv(table, infos, upload.file_id, target, str(task), exclude, seed, upload.name)
            for note in dataset.notes:
                sb.caption(plain(f"Note: {note}"))
            spec = {"file": upload.name, "target": target, "task": str(task), "exclude": list(exclude), "seed": seed}
            loaded = DataChoice(dataset, f"csv:{upload.file_id}:{target}:{task}:{'|'.join(exclude)}:{seed}", spec)
        except DataError as exc:
            sb.error(f"Could not use this data: {plain(str(exc))}")
    with sb.expander("Preview and column profile", expanded=True):
        st.caption(
            "The first 20 rows, then what FitLab makes of each column. Widen the sidebar or use a table's "
            "full-screen button to see more."
        )
        st.dataframe(table.frame.head(20), key="csv_preview", height=220)
        columns_profile = profile(infos, target, exclude)
        st.dataframe(
            columns_profile,
            key="csv_profile",
            hide_index=True,
            column_config={
                "column": st.column_config.TextColumn(width="medium", pinned=True),
                "use": st.column_config.TextColumn(width="small"),
                "type": st.column_config.TextColumn(width="small"),
                "missing": st.column_config.NumberColumn(width="small", format="percent"),
                "distinct": st.column_config.NumberColumn(width="small"),
            },
        )
        st.download_button(
            "Download the profile (CSV)",
            to_safe_csv(columns_profile),
            file_name="column-profile.csv",
            mime="text/csv",
            on_click="ignore",
            key="csv_profile_download",
        )
    return loaded
