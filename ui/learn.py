"""The Learn page's pieces: a run's parameters (learned) beside its hyperparameters (chosen), layer by layer.

Everything shown is read from the run store: the model file's tensors (`extra["parameters"]`, written by
the worker from the run's own state_dict) and the per-layer record (`extra["dynamics"]`, live while the
run trains). The sentences come from core.diagnosis.dynamics, the same code as the verdict's findings,
so the page and the diagnosis cannot disagree. No torch in the web process.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.diagnosis.dynamics import DEAD_SHARE, SATURATED_SHARE, layer_reading, live_findings, reading
from core.dynamics import Dynamics
from core.figures import inside as figures
from core.hyperparameters import Hyperparameters
from core.records import RunRecord
from core.store.runs import RunStore
from ui import runs, state
from ui.text import plain

LEARN_KINDS = ("train", "fix", "trial")
# While the page follows a run, its fragment reruns every second; Streamlit greys a rerunning fragment's
# elements (to a third) once a rerun takes more than a moment, which on a busy server (a class training)
# is every second: a blinking page on a projector. The elements are redrawn in place, never stale for long.
STEADY = "<style>.st-key-learn_live [data-stale='true'] { opacity: 1 !important; transition: none !important; }</style>"


def steady() -> None:
    """Keep the followed run's charts at full strength while the fragment reruns (a fixed style, no user text)."""
    st.html(STEADY)


def pick_run(store: RunStore, ws: str) -> runs.RunView | None:
    """ "Run shown": the workspace's runs, the one the Train page shows selected (the two pages share it)."""
    views = [runs.RunView.of(r) for r in store.list_runs(ws, kinds=LEARN_KINDS, limit=50)]
    if not views:
        return None
    ids = [v.id for v in views]
    shown = state.SHOWN_RUN.get()
    if shown not in ids:
        shown = ids[0]
    # No status or verdict in the label: the picker is drawn once while the run trains, and a label that
    # changes under a selected option is not redrawn by the browser (it kept saying "queued").
    kinds = {"fix": "Fix it for me, ", "trial": "search trial, "}
    labels = {
        v.id: f"{runs.when(v.run)} · run {runs.short_id(v.id)} · {kinds.get(v.run.kind, '')}{v.run.dataset.get('name')}"
        for v in views
    }
    if state.LEARN_PICKER.get() != shown:
        state.LEARN_PICKER.set(shown)
    picked = st.selectbox("Run shown", ids, format_func=labels.__getitem__, key=state.LEARN_PICKER.key, on_change=_picked)
    state.SHOWN_RUN.set(picked)
    return next(v for v in views if v.id == picked)


def _picked() -> None:
    """The box changed: that run is now the one shown (here and on the Train page), before the script reruns."""
    state.SHOWN_RUN.set(state.LEARN_PICKER.get())


def comparison(view: runs.RunView, record: RunRecord, d: Dynamics | None) -> None:
    """The document's comparison table, made live with this run's numbers."""
    left, right = st.columns(2)
    tensors = record.parameters.get("tensors") or []
    with left.container(border=True, key="learn_parameters"):
        st.markdown("#### Parameters: learned")
        if tensors:
            table = pd.DataFrame(
                [{"tensor": t["key"], "shape": " x ".join(str(n) for n in t["shape"]), "count": int(t["count"])} for t in tensors]
            )
            total = int(table["count"].sum())
            st.dataframe(table, hide_index=True, width="stretch", key="learn_state_dict")
            st.markdown(f"**{total:,} numbers** in the model file (the `state_dict`, `.pt`): weights and biases.")
        elif d is not None:
            total = sum(layer.count for layer in d.layers)
            st.markdown(f"**{total:,} weights and biases**; the model file's list appears when the run ends.")
        epochs = d.epochs[-1] if d is not None and d.epochs else len(view.history)
        st.caption(f"Found by backpropagation: random at epoch 0, refined by every mini-batch for {epochs} epoch(s).")
    with right.container(border=True, key="learn_hyperparameters"):
        st.markdown("#### Hyperparameters: chosen")
        knobs = view.hp.to_dict()
        st.dataframe(
            pd.DataFrame([{"knob": k.replace("_", " "), "value": str(v)} for k, v in knobs.items()]),
            hide_index=True,
            width="stretch",
            key="learn_knobs",
        )
        found = "a search (the Tune page)" if view.run.kind == "trial" else "you, on the sliders"
        st.caption(f"Set before training by {found}; not in the model file (they go in its separate JSON config).")


def verdict_reading(view: runs.RunView, d: Dynamics | None) -> None:
    """The sentence on the whole network, beside the verdict it agrees with."""
    diagnosis = view.diagnosis
    if diagnosis is None and not view.active:
        st.info(f"This run ended without a verdict ({runs.STATUS_WORDS.get(view.status, view.status)}): nothing to read inside.")
        return
    sentence = reading(d, diagnosis.inside if diagnosis else [], diagnosis.verdict if diagnosis else None)
    flagged = bool(diagnosis.inside) if diagnosis is not None else bool(live_findings(d))
    with st.container(key="learn_reading"):
        if flagged:
            st.warning(f"**Inside the network** — {plain(sentence)}")
        else:
            st.info(f"**Inside the network** — {plain(sentence)}")
    if diagnosis is not None:
        st.caption(f"The verdict on this run: {diagnosis.verdict.replace('_', ' ')}.")


def network_charts(d: Dynamics, hp: Hyperparameters) -> None:
    """Each chart beside the knob that shapes it."""
    rows = [
        (
            "gradient",
            figures.gradient_depth_figure(d),
            f"**depth** = {hp.hidden_layers} hidden layer(s), **activation** = {hp.activation}",
        ),
        (
            "update",
            figures.layer_stat_figure(d, "update_ratio"),
            f"**learning rate** = {hp.learning_rate:g}, **optimizer** = {hp.optimizer}",
        ),
        ("norm", figures.layer_stat_figure(d, "weight_norm"), f"**weight decay** = {hp.weight_decay:g}"),
        (
            "drift",
            figures.layer_stat_figure(d, "drift"),
            f"**learning rate** = {hp.learning_rate:g} and **epochs** = {hp.epochs}",
        ),
    ]
    units = figures.units_figure(d)
    if units is not None:
        threshold = DEAD_SHARE if hp.activation in ("relu", "leaky_relu", "gelu") else SATURATED_SHARE
        rows.insert(1, ("units", units, f"**activation** = {hp.activation} (finding above {threshold:.0%})"))
    for index in range(0, len(rows), 2):
        for column, (name, figure, knob) in zip(st.columns(2), rows[index : index + 2], strict=False):
            column.plotly_chart(figure, key=f"learn_chart_{name}")
            column.caption(f"Shaped by {knob}. {HELP_LINE.get(name, '')}")


HELP_LINE = {
    "gradient": "A gradient that fades towards the input leaves the first layers unable to learn.",
    "units": "A dead unit outputs nothing for every row; a saturated one sits where its slope is flat.",
    "update": "How far each epoch moved the weights, relative to their size.",
    "norm": "Weight decay pulls this down; an overfitting network often grows it.",
    "drift": "From random (0) to learned: a layer that never leaves 0 % never learned.",
}


def layer_view(d: Dynamics, matrices: dict[str, list[list[float]]], hp: Hyperparameters) -> None:
    """One layer at a time: its count, its sentence, its weights as a heatmap (small ones) and their distribution."""
    names = [layer.name for layer in d.layers]
    index = st.radio("Layer", range(len(names)), format_func=names.__getitem__, horizontal=True, key=state.LEARN_LAYER.key)
    index = min(int(index or 0), len(names) - 1)
    layer = d.layers[index]
    shaped = f"**width** = {hp.width}" if layer.activation is not None else "the data's outputs"
    with st.container(key="learn_layer_reading"):
        st.info(plain(layer_reading(d, index)))
    st.caption(f"Its count is shaped by {shaped}: inputs x outputs weights plus one bias per output.")
    left, right = st.columns(2)
    if d.snapshots:
        left.plotly_chart(figures.distribution_figure(d, index, "weights"), key="learn_distribution")
        right.plotly_chart(figures.snapshot_figure(d, index, "weights"), key="learn_snapshot")
    matrix = matrices.get(layer.weight)
    if matrix:
        st.plotly_chart(figures.matrix_figure(matrix, f"{layer.name}: the weight matrix ({layer.weight})"), key="learn_matrix")
    else:
        st.caption(f"The {layer.name}'s matrix ({layer.outputs} x {layer.inputs}) is too large for a readable heatmap.")


def run_view(current: runs.RunView, record: RunRecord, d: Dynamics | None) -> None:
    """The run shown, top to bottom: status, the comparison table, what the layers say, the charts, one layer."""
    st.caption(f"Status: {runs.STATUS_WORDS.get(current.status, current.status)}.")
    comparison(current, record, d)
    st.subheader("What the layers say")
    verdict_reading(current, d)
    if d is None or not d.epochs:
        return
    if current.active:
        st.caption(f"Training: epoch {d.epochs[-1]} measured so far; this page follows it.")
    network_charts(d, current.hp)
    st.subheader("One layer at a time")
    layer_view(d, record.parameters.get("matrices") or {}, current.hp)
