"""The Tune page's pieces: the search form (knobs, ranges, strategy, budget, pruner) and starting a search."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from core.hyperparameters import KNOBS, Hyperparameters, search_space_defaults
from core.tuning.study import PRUNERS, STRATEGIES, TuneError, TuneSettings, parse_space
from core.workers.searches import start_search
from ui import session
from ui.choice import DataChoice
from ui.text import plain

STRATEGY_WORDS = {"grid": "Grid search", "random": "Random search", "tpe": "Bayesian optimization (TPE)"}
PRUNER_WORDS = {
    "diagnosis": "Diagnosis: stop trials that diverge, stay unstable, or cannot beat a trivial model",
    "median": "Median: stop trials worse than the median of earlier trials at the same epoch",
    "none": "None: every trial trains to its end",
}
DEFAULT_KNOBS = ["learning_rate", "width", "dropout"]
INTRO = (
    "Hyperparameters are chosen, not learned: a search trains one network per setting (a *trial*) and keeps the one "
    "with the lowest validation loss. **Grid** tries every combination of a few values, **random** samples the "
    "ranges, **Bayesian (TPE)** samples where earlier trials did well. The knobs you do not search keep their "
    "values from the Train page."
)


def base_hyperparameters(knobs: dict[str, Any]) -> Hyperparameters | None:
    """The Train page's knobs, the ones a search does not vary; None (with an error shown) when they are not valid."""
    try:
        return Hyperparameters(**{f.name: knobs[session.hp_key(f.name)] for f in dataclasses.fields(Hyperparameters)})
    except (KeyError, TypeError, ValueError) as exc:
        st.error(f"The knobs on the Train page are not valid: {plain(str(exc))}")
        return None


def _range_text(name: str) -> str | None:
    """One knob's range from its widgets, in the CLI's --search syntax (core.tuning.study.parse_space checks it)."""
    default = search_space_defaults()[name]
    label = KNOBS[name].label
    if default.kind in ("choice", "bool"):
        options = list(default.choices)
        picked = st.multiselect(label, options, default=options, key=f"tune_{name}_choices", format_func=str)
        return f"{name}=" + "|".join(str(v).lower() if isinstance(v, bool) else str(v) for v in picked) if picked else None
    left, right, note = st.columns([2, 2, 3], vertical_alignment="bottom")
    is_int = default.kind == "int"
    low_default, high_default = float(default.low or 0), float(default.high or 0)
    low = left.number_input(
        f"{label}: from",
        value=int(low_default) if is_int else low_default,
        format="%d" if is_int else "%g",
        key=f"tune_{name}_low",
    )
    high = right.number_input(
        f"{label}: to",
        value=int(high_default) if is_int else high_default,
        format="%d" if is_int else "%g",
        key=f"tune_{name}_high",
    )
    note.caption("searched on a log scale" if default.log else ("whole numbers" if is_int else "searched evenly"))
    return f"{name}={low:g}:{high:g}" + (":log" if default.log else "")


def search_form(base_hp: Hyperparameters | None) -> tuple[TuneSettings | None, list[str]]:
    """The form's widgets, read into settings (None, with a warning, when they cannot make a search) and the
    ranges as the CLI's --search texts."""
    space_defaults = search_space_defaults()
    searchable = [name for name in KNOBS if name in space_defaults]
    chosen = st.multiselect(
        "Knobs to search",
        searchable,
        default=[n for n in DEFAULT_KNOBS if n in searchable],
        format_func=lambda n: KNOBS[n].label,
        key="tune_knobs",
    )

    with st.container(border=True, key="tune_space"):
        texts = [t for t in (_range_text(name) for name in chosen) if t]
    left, middle, right = st.columns(3)
    strategy = left.radio(
        "Strategy", STRATEGIES, index=STRATEGIES.index("tpe"), format_func=STRATEGY_WORDS.__getitem__, key="tune_strategy"
    )
    trials = int(middle.number_input("Trials (budget)", min_value=1, max_value=200, value=12, step=1, key="tune_trials"))
    minutes = float(
        middle.number_input(
            "Minutes (budget, 0 = no limit)", min_value=0.0, max_value=120.0, value=0.0, step=1.0, key="tune_minutes"
        )
    )
    pruner = right.radio(
        "Pruning", PRUNERS, index=PRUNERS.index("diagnosis"), format_func=PRUNER_WORDS.__getitem__, key="tune_pruner"
    )

    settings: TuneSettings | None = None
    problem = None
    if not texts:
        problem = "Pick at least one knob to search."
    else:
        try:
            # The sliders of learning rate, batch size, width and weight decay offer a ladder of values: the
            # page searches that ladder, so that "Apply best" can put the best trial's values on the sliders.
            space = {
                name: dataclasses.replace(dim, ladder=bool(KNOBS[name].steps))
                for name, dim in parse_space(",".join(texts)).items()
            }
            settings = TuneSettings(
                strategy=strategy,
                n_trials=trials,
                timeout_s=minutes * 60 or None,
                pruner=pruner,
                seed=base_hp.seed if base_hp else 0,
                space=space,
            )
        except (TuneError, ValueError) as exc:
            problem = str(exc)
    if problem:
        st.warning(plain(problem))
    return settings, texts


def start(
    storage: str,
    settings: TuneSettings,
    hp: Hyperparameters,
    data: DataChoice,
    *,
    kind: str = "search",
    extra: dict[str, Any] | None = None,
) -> None:
    """Start a search on this workspace's workers; its jobs are this session's (closing the tab stops them)."""
    start_search(
        session.store(),
        session.executor(),
        storage,
        session.workspace(),
        settings,
        hp,
        data.dataset,
        data.spec,
        kind=kind,
        extra=extra,
        remember=session.session_jobs().add,
    )
    st.rerun()
