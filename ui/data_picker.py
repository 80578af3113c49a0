"""The dataset picker: a built-in dataset and its settings, or an uploaded CSV (read, choose the target, preview)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.builtin import BUILTIN, NOISE_RANGE, SAMPLES_RANGE, SYNTHETIC, load_builtin
from core.data.columns import ROW_CAP, ColumnInfo, TaskGuess, analyze_columns, default_target, guess_task, profile
from core.data.csvfile import CsvTable, DataError, read_table, to_safe_csv
from core.data.dataset import Dataset, build_dataset
from ui import session, state
from ui.choice import DataChoice
from ui.session import DATA_KNOBS
from ui.text import plain

UPLOAD = "Upload a CSV…"


@st.cache_data(show_spinner=False, max_entries=32, max_size="128MB")  # shared: the same built-in sets for everyone
def _builtin(name: str, samples: int, noise: float, seed: int) -> Dataset:
    return load_builtin(name, samples=samples, noise=noise, seed=seed)


# An upload is one session's: its datasets are cached per session (freed when it ends), two at most.
@st.cache_data(show_spinner="Preparing the features…", scope="session", max_entries=2, max_size="256MB")
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
    cached = state.CSV_READ.get()
    if cached is not None and cached[0] == upload.file_id:
        if isinstance(cached[1], str):
            raise DataError(cached[1])
        return cached[1]
    bar = st.sidebar.progress(0.0, text="Reading the file…")
    try:
        try:
            def report(share: float, what: str) -> None:
                bar.progress(min(1.0, share), text=plain(what))

            table = read_table(upload.getvalue(), progress=report)
            bar.progress(1.0, text="Profiling the columns…")
            result = (table, analyze_columns(table.frame))
        except DataError:
            raise
        except Exception as exc:  # a reader bug or a file no check foresaw: say so, keep the page
            raise DataError(f"the file could not be read ({type(exc).__name__}: {exc})") from exc
    except DataError as exc:
        state.CSV_READ.set((upload.file_id, str(exc)))
        raise
    finally:
        bar.empty()
    state.CSV_READ.set((upload.file_id, result))
    return result


def dataset_widgets(seed: int) -> DataChoice | None:
    """The dataset picker. A file that fails to load shows its message here and the last good
    dataset stays in use."""
    sb = st.sidebar
    sb.header("Data")
    choice = sb.selectbox("Dataset", list(BUILTIN) + [UPLOAD], key="dataset_name")
    try:
        loaded = _upload_widgets(seed) if choice == UPLOAD else _builtin_widgets(choice, seed)
    except DataError as exc:
        sb.error(f"Could not use this data: {plain(str(exc))}")
        loaded = None
    if loaded is not None:
        state.LAST_GOOD_DATA.set(loaded)
        return loaded
    previous = state.LAST_GOOD_DATA.get()
    if previous is not None:
        sb.info(f"Still using the previous dataset, {plain(previous.dataset.name)}.")
    return previous


# ---------------------------------------------------------------------------------------------------
# Built-in datasets: Samples and Noise.
#
# The remembered value (state.KNOBS, kept by ui.session) is what the sliders start from:
# it is their element default (`value=`), and the user's moves update it (on_change). Before, the
# sliders had no `value=`, so their element default was their minimum (50, 0.00): whenever the browser
# mounted one anew without being told its value, or the server registered it without its state, it
# showed that minimum and the next rerun sent it back as if the user had chosen it; the run that
# followed trained on 50 rows (30 train). The element id does not include `value` (only key, min,
# max, step), so a new default does not make a new widget.

SAMPLES_STEP = 10  # 20, 30, ... 100,000: every slider position is a value load_builtin accepts
NOISE_STEP = 0.05
DATA_SLIDERS: dict[str, tuple[str, float, float, float, str]] = {
    "samples": (
        "Samples",
        SAMPLES_RANGE[0],
        SAMPLES_RANGE[1],
        SAMPLES_STEP,
        "Rows generated: 60 % train, 20 % validation, 20 % test.",
    ),
    "noise": ("Noise", NOISE_RANGE[0], NOISE_RANGE[1], NOISE_STEP, "How far the points scatter from the clean pattern."),
}


def knob(key: str) -> Any:
    """The remembered value of a data knob (samples, noise), within the range the slider offers."""
    value = session.remembered().get(key, DATA_KNOBS[key])
    if key in DATA_SLIDERS:
        _, low, high, _, _ = DATA_SLIDERS[key]
        kind = int if key == "samples" else float
        try:
            value = kind(value)
        except (TypeError, ValueError):
            value = DATA_KNOBS[key]
        if not low <= value <= high:
            value = DATA_KNOBS[key]
        return kind(value)
    return value


def _keep_move(key: str) -> None:
    """Callback of a data slider: the user moved it; remember the value it reports."""
    session.remembered()[key] = state.widget_value(key)


def _data_slider(key: str) -> Any:
    label, low, high, step, help_text = DATA_SLIDERS[key]
    if key == "samples":
        low, high, step = int(low), int(high), int(step)
    if state.has_widget_value(key) and not low <= state.widget_value(key) <= high:
        state.set_widget_value(key, knob(key))  # saved by an older version with other ranges
    return st.sidebar.slider(
        label, low, high, value=knob(key), step=step, key=key, on_change=_keep_move, args=(key,), help=help_text
    )


def _builtin_widgets(choice: str, seed: int) -> DataChoice:
    state.CSV_READ.clear()  # the uploader forgets its file when hidden: so do we
    if choice in SYNTHETIC:
        samples, noise = int(_data_slider("samples")), float(_data_slider("noise"))
    else:
        samples, noise = knob("samples"), knob("noise")
    spec: dict[str, Any] = {"name": choice, "seed": seed}
    if choice in SYNTHETIC:
        spec |= {"samples": samples, "noise": noise}
    return DataChoice(_builtin(choice, samples, noise, seed), f"{choice}:{samples}:{noise}:{seed}", spec)


# ---------------------------------------------------------------------------------------------------
# An uploaded CSV, in three steps: 1. read the file, 2. choose the target (and the task), 3. preview.

UPLOAD_HELP = (
    "A table saved as text: one row per example, one column to predict. Commas, semicolons, tabs or pipes; "
    "UTF-8 or Windows-1252; decimal points or commas. Up to 50 MB here (the command line has no limit). "
    f"Files over {ROW_CAP:,} rows train on a random sample of {ROW_CAP:,}."
)

TASKS = ("classification", "regression")
# The user's choices for the file now loaded: {"file": file_id, "target": str, "tasks": {target: task},
# "exclude": [columns]}. Like the data sliders, the target, task and left-out widgets are told these
# values on every run (their own state could outlive a file or a target and show a stale choice).


def _choices() -> dict[str, Any]:
    choices = state.CSV_CHOICES.setdefault(lambda: {"file": None, "target": None, "tasks": {}, "exclude": []})
    assert choices is not None
    return choices


def _new_target() -> None:
    """Callback of the target box: a new target gets its detected task (or the one chosen for it before),
    and is never among the left-out columns."""
    choices = _choices()
    target = state.CSV_TARGET.get()
    choices["target"] = target
    choices["exclude"] = [c for c in choices["exclude"] if c != target]


def _new_task() -> None:
    """Callback of the task radio: the user's task, for this file and this target only."""
    choices = _choices()
    choices["tasks"][choices["target"]] = state.CSV_TASK.get()


def _new_exclude() -> None:
    _choices()["exclude"] = list(state.CSV_EXCLUDE.get())


def _upload_widgets(seed: int) -> DataChoice | None:
    """Upload, then the three steps. A file that cannot be read raises DataError (dataset_widgets shows
    it next to the uploader and keeps the previous dataset); a target that cannot be trained on shows
    its message at step 2, with the preview still there to see why."""
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
    table, infos = _read_step(upload)
    target, task, exclude = _target_step(table, infos)
    loaded = _dataset_step(upload, table, infos, target, task, exclude, seed)
    _preview_step(table, infos, target, exclude)
    return loaded


def _read_step(upload: Any) -> tuple[CsvTable, list[ColumnInfo]]:
    """Step 1: read and profile the file (once per upload). A new file starts with its own defaults."""
    sb = st.sidebar
    sb.markdown("**1 · Read the file**")
    choices = _choices()
    if choices["file"] != upload.file_id:
        choices.update(file=upload.file_id, target=None, tasks={}, exclude=[])
    table, infos = _csv_columns(upload)  # DataError: shown by dataset_widgets, nothing else changes
    sb.caption(plain(f"{table.rows:,} rows × {len(infos):,} columns; {table.describe()}."))
    return table, infos


def _task_words(target: str, task: str, guess: TaskGuess) -> str:
    if task != guess.task:
        return f"You chose {task}. Detected: {guess.task}, because {guess.reason}."
    words = f"Detected: {guess.task}, because {guess.reason}."
    if guess.ambiguous:
        words += f" Few whole numbers can be classes or amounts: is {target!r} a label or a quantity? Change it above if needed."
    return words


def _target_step(table: CsvTable, infos: list[ColumnInfo]) -> tuple[str, str, tuple[str, ...]]:
    """Step 2: what to predict, and how. The task is the detected one until the user picks another for
    this file and target; it is never blank."""
    sb = st.sidebar
    sb.markdown("**2 · Choose what to predict**")
    choices = _choices()
    columns = [info.name for info in infos]
    if choices["target"] not in columns:
        choices["target"] = default_target(infos)
    state.CSV_TARGET.set(choices["target"])
    target = str(sb.selectbox("Target column (what to predict)", columns, key=state.CSV_TARGET.key, on_change=_new_target))
    guess = guess_task(table.frame[target])
    task = choices["tasks"].get(target, guess.task)
    state.CSV_TASK.set(task)
    task = str(
        sb.radio(
            "Task",
            TASKS,
            key=state.CSV_TASK.key,
            horizontal=True,
            format_func=lambda option: f"{option} (detected)" if option == guess.task else option,
            on_change=_new_task,
            help="Classification predicts one of a few labels; regression predicts an amount.",
        )
    )
    sb.caption(plain(_task_words(target, task, guess)))
    others = [c for c in columns if c != target]
    state.CSV_EXCLUDE.set([c for c in choices["exclude"] if c in others])
    exclude = tuple(
        sb.multiselect(
            "Leave out columns", others, key=state.CSV_EXCLUDE.key, on_change=_new_exclude, help="Not used as features."
        )
    )
    return target, task, exclude


def _dataset_step(
    upload: Any, table: CsvTable, infos: list[ColumnInfo], target: str, task: str, exclude: tuple[str, ...], seed: int
) -> DataChoice | None:
    """The features for the chosen target and task, or the reason there are none (shown at step 2)."""
    sb = st.sidebar
    try:
        dataset = _csv(table, infos, upload.file_id, target, task, exclude, seed, upload.name)
    except DataError as exc:
        sb.error(f"Could not use this data: {plain(str(exc))}")
        return None
    for note in dataset.notes:
        sb.caption(plain(f"Note: {note}"))
    spec = {"file": upload.name, "target": target, "task": task, "exclude": list(exclude), "seed": seed}
    return DataChoice(dataset, f"csv:{upload.file_id}:{target}:{task}:{'|'.join(exclude)}:{seed}", spec)


def _preview_step(table: CsvTable, infos: list[ColumnInfo], target: str, exclude: tuple[str, ...]) -> None:
    """Step 3: the first rows and what FitLab makes of each column."""
    sb = st.sidebar
    sb.markdown("**3 · Preview**")
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
