"""Widgets shared by the pages: the knobs in the sidebar, the dataset picker, the diagnosis card.

Every hyperparameter widget is keyed `hp_<field>` so that a scenario preset or an Apply button can
set it through st.session_state before the widget is drawn; `ui.session` keeps their values when
another page is shown and across reloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd
import streamlit as st

from core.charts import fix_path_figure
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
from core.diagnosis import Diagnosis, heading
from core.history import History
from core.hyperparameters import (
    ACTIVATIONS,
    BATCH_SIZE_STEPS,
    HELP,
    LEARNING_RATE_STEPS,
    OPTIMIZERS,
    SCENARIOS,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    HyperparameterError,
    Hyperparameters,
)
from core.model import parameter_counts
from ui.session import DEFAULTS, hp_key, set_knob

UPLOAD = "Upload a CSV…"


_key = hp_key


def apply_value(knob: str, value: Any) -> None:
    """Callback of an Apply button: set the knob's widget to the recommended value."""
    set_knob(_key(knob), value)


def apply_scenario() -> None:
    name = st.session_state.get("scenario")
    if name not in SCENARIOS:
        return
    preset = SCENARIOS[name]
    use_settings(DEFAULTS.replace(**preset["hyperparameters"]))
    for key in ("name", "samples", "noise"):
        set_knob("dataset_name" if key == "name" else key, preset["dataset"][key])


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def hyperparameter_widgets() -> Hyperparameters | None:
    """Every must-know knob, each with its cheat-sheet help. None (and a visible error) if invalid."""
    sb = st.sidebar
    sb.subheader("Optimization")
    sb.select_slider(
        "Learning rate", LEARNING_RATE_STEPS, key=_key("learning_rate"), help=HELP["learning_rate"], format_func=_fmt_number
    )
    sb.select_slider("Batch size", BATCH_SIZE_STEPS, key=_key("batch_size"), help=HELP["batch_size"])
    sb.slider("Epochs (maximum)", 1, 1000, key=_key("epochs"), help=HELP["epochs"])
    sb.toggle("Early stopping", key=_key("early_stopping"), help=HELP["early_stopping"])
    sb.slider(
        "Patience", 1, 100, key=_key("patience"), help=HELP["patience"], disabled=not st.session_state[_key("early_stopping")]
    )
    sb.selectbox("Optimizer", OPTIMIZERS, key=_key("optimizer"), help=HELP["optimizer"])
    sb.subheader("Architecture")
    sb.slider("Hidden layers (depth)", 0, 8, key=_key("hidden_layers"), help=HELP["hidden_layers"])
    sb.select_slider("Neurons per layer (width)", WIDTH_STEPS, key=_key("width"), help=HELP["width"])
    sb.selectbox("Activation", ACTIVATIONS, key=_key("activation"), help=HELP["activation"])
    sb.subheader("Regularization")
    sb.slider("Dropout", 0.0, 0.9, step=0.05, key=_key("dropout"), help=HELP["dropout"])
    sb.select_slider(
        "Weight decay", WEIGHT_DECAY_STEPS, key=_key("weight_decay"), help=HELP["weight_decay"], format_func=_fmt_number
    )
    sb.number_input("Seed", 0, 2**31 - 1, key=_key("seed"), help=HELP["seed"])
    try:
        return Hyperparameters(**{f.name: st.session_state[_key(f.name)] for f in fields(Hyperparameters)})
    except HyperparameterError as exc:
        sb.error(f"Impossible setting: {exc}")
        return None


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


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&/@^\"'])")


def plain(text: str) -> str:
    """User text (file and column names, values) for a Markdown element, shown exactly as written.

    Every Markdown character is backslash-escaped (which also stops `:material/icon:` and `:red[...]`),
    and a zero-width space breaks the automatic links GitHub-flavoured Markdown makes of URLs and e-mails.
    """
    text = text.replace("://", ":\u200b//").replace("@", "\u200b@")
    text = re.sub(r"(?i)www\.", "www\u200b.", text)
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


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


def parameter_table(dataset: Dataset, hp: Hyperparameters) -> None:
    """What the model learns, next to the knobs that shape it."""
    rows = parameter_counts(dataset.n_inputs, dataset.n_outputs, hp)
    total = sum(r.total for r in rows)
    st.sidebar.markdown(f"**Parameters the model will learn: {total:,}**")
    st.sidebar.caption("Weights and biases, set by backpropagation. The knobs above are hyperparameters: you set them.")
    frame = pd.DataFrame(
        [{"layer": f"{r.layer} ({r.shape.replace(' -> ', '→')})", "weights": r.weights, "biases": r.biases} for r in rows]
    )
    st.sidebar.dataframe(frame, hide_index=True, width="stretch")


def diagnosis_card(diagnosis: Diagnosis, hp: Hyperparameters | None, *, applicable: bool = True) -> None:
    """The verdict, its evidence and the advice; `applicable=False` (a log: no knobs here) shows no Apply buttons.

    Title, colour and wording are the rule's own (core.diagnosis.rules)."""
    title, kind = heading(diagnosis)
    box = {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.warning)
    box(f"**Verdict: {title}** — {diagnosis.summary}")
    with st.container(border=True, key="evidence"):
        st.markdown("**Evidence**")
        for line in diagnosis.evidence:
            st.text(f"• {line}")
    if not diagnosis.recommendations:
        st.caption("Nothing to change: keep these settings.")
        return
    if not applicable or hp is None:
        st.markdown("**What to try** (best first)")
        for rec in diagnosis.recommendations:
            value = "" if rec.value is None else f" to `{rec.value}`"
            st.markdown(f"**{rec.knob.replace('_', ' ')}**: {rec.action}{value}  \n{rec.reason}")
        return
    st.markdown("**What to try** (best first; Apply sets the knob, then press Train)")
    for index, rec in enumerate(diagnosis.recommendations):
        current = getattr(hp, rec.knob)
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f"**{rec.knob.replace('_', ' ')}**: {rec.action} `{current}` → `{rec.value}`  \n{rec.reason}")
        right.button(
            "Apply",
            key=f"apply_{index}",
            on_click=apply_value,
            args=(rec.knob, rec.value),
            disabled=rec.value is None or st.session_state.get(_key(rec.knob)) == rec.value,
        )


def use_settings(hp: Hyperparameters) -> None:
    """Callback: set every knob to these hyperparameters."""
    for f in fields(Hyperparameters):
        set_knob(_key(f.name), getattr(hp, f.name))


def fix_path(fix: dict[str, Any], *, log_scale: bool = False) -> None:
    """The path Fix it for me took (its stored JSON): one change per round, each round's verdict and curves."""
    st.subheader("Fix it for me: the path")
    rows, curves = [], []
    for entry in fix["rounds"]:
        change = entry.get("change")
        what = "as you set it" if change is None else f"{change['knob'].replace('_', ' ')} → {change['value']}"
        kept = entry.get("kept_val_loss")
        rows.append(
            {
                "round": entry["round"],
                "change": what,
                "verdict": entry["diagnosis"]["verdict"].replace("_", " "),
                "validation loss (kept model)": None if kept is None else round(kept, 4),
                "epochs": len(entry["history"]),
            }
        )
        curves.append((f"round {entry['round']}: {what}", History.from_dicts(entry["history"])))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.plotly_chart(fix_path_figure(curves, log_scale=log_scale), key="fix_chart")
    first, last = fix["rounds"][0].get("kept_val_loss"), fix["rounds"][-1].get("kept_val_loss")
    fixed = fix["final_verdict"] == "good_fit"
    outcome = "reached a good fit" if fixed else f"ended at {fix['final_verdict'].replace('_', ' ')}"
    losses = f"validation loss {_loss(first)} → {_loss(last)}"
    st.caption(f"{len(rows) - 1} change(s); {outcome}; {losses}" + (" (improved)." if fix["improved"] else " (not improved)."))
    final = Hyperparameters.from_dict(fix["final_hyperparameters"])
    st.button("Use the final settings", key="use_fix", on_click=use_settings, args=(final,))


def _loss(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
