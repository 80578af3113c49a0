"""The Tune page through AppTest: a small real search in the worker processes, its trials table and
figures, trials kept as runs, and Apply best setting the knobs the Train page will use."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core.hyperparameters import LEARNING_RATE_STEPS
from core.store.runs import open_store
from tests.app_support import APP


def _tune_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    return at


def test_a_small_search_fills_the_table_and_apply_best_sets_the_knobs() -> None:
    at = _tune_page()
    at.multiselect(key="tune_knobs").set_value(["learning_rate"]).run()
    at.number_input(key="tune_trials").set_value(3).run()
    at.radio(key="tune_strategy").set_value("random").run()
    at.radio(key="tune_pruner").set_value("none").run()
    assert not at.warning, [w.value for w in at.warning]
    at.button(key="tune_start").click().run(timeout=240)  # the page waits in its live loop until the search ends
    assert not at.exception
    at.run()
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["state"]) <= {"complete", "pruned", "failed"}
    assert table["Learning rate"].between(1e-5, 1).all()
    ws = at.session_state["workspace"]
    trials = open_store().list_runs(ws, kinds=("trial",))
    assert len(trials) == 3  # every trial is a run: the Compare page lists them
    assert any("Best trial" in s.value for s in at.subheader)
    best_line = next(m.value for m in at.markdown if m.value.startswith("Trial **"))
    at.button(key="tune_apply").click().run()
    applied = at.session_state["knobs"]["hp_learning_rate"]
    assert applied in LEARNING_RATE_STEPS  # a value the slider offers: the page searches the slider's ladder
    assert f"learning rate {applied:g}".replace(".", "\\.") in best_line
    assert at.success and "press Train" in at.success[0].value

    # The validation curve: a one-knob grid with the other knobs at the best trial's values.
    at.selectbox(key="tune_curve_knob").set_value("learning_rate").run()
    at.button(key="tune_curve").click().run(timeout=240)  # the page looks again until the curve's jobs end
    deadline = time.monotonic() + 120
    while not any("Validation curve" in str(c.proto.spec) for c in at.get("plotly_chart")) and time.monotonic() < deadline:
        time.sleep(1)
        at.run(timeout=120)
    charts = [c for c in at.get("plotly_chart") if "Validation curve" in str(c.proto.spec)]
    assert charts, "no validation curve was drawn"
    assert len(open_store().list_runs(ws, kinds=("trial",))) == 3 + 5  # the curve's 5 grid points are runs too


@pytest.mark.parametrize("low, high", [(0.5, 0.01)])
def test_an_impossible_range_is_a_visible_message_and_start_is_disabled(low: float, high: float) -> None:
    at = _tune_page()
    at.multiselect(key="tune_knobs").set_value(["learning_rate"]).run()
    at.number_input(key="tune_learning_rate_low").set_value(low).run()
    at.number_input(key="tune_learning_rate_high").set_value(high).run()
    assert at.warning and "below" in at.warning[0].value
    assert at.button(key="tune_start").disabled
