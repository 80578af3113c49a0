"""The evidence panels through AppTest: "Use" sets the slider; results about other data are marked stale
and never reach the diagnosis card of a run on other data."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from core.hyperparameters import Hyperparameters
from tests.app_support import APP, train_until_verdict
from ui.evidence import knob_changes


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def _wait_for(at: AppTest, predicate, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
        assert not at.exception
        if predicate(at):
            return
    raise AssertionError("the page never reached the expected state")


def _use_buttons(at: AppTest) -> list:  # type: ignore[type-arg]
    return [b for b in at.button if b.key == "use_lr"]


def _stale(at: AppTest) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning if w.value.startswith("Stale:")]  # markdown escapes off


def test_knob_changes_ignore_what_a_result_does_not_depend_on() -> None:
    base = Hyperparameters()
    # The range test sweeps the learning rate: taking its suggestion must not make it stale.
    assert knob_changes("lr_find", base, base.replace(learning_rate=0.01, epochs=3)) == []
    assert knob_changes("lr_find", base, base.replace(batch_size=64)) == ["batch 32 (now 64)"]
    assert knob_changes("learning_curve", base, base.replace(learning_rate=0.01)) == ["lr 0.001 (now 0.01)"]


def test_use_sets_the_slider_and_another_dataset_makes_the_finder_stale() -> None:
    at = _open()
    at.slider(key="samples").set_value(300)
    at.select_slider(key="hp_learning_rate").set_value(1e-5).run()  # far from any suggestion
    at.button(key="lr_find").click().run()
    _wait_for(at, lambda a: bool(_use_buttons(a)))
    assert not _stale(at)
    caption = [c.value.replace("\\", "") for c in at.caption if c.value.startswith("On moons")]
    assert caption and "300 samples" in caption[0]  # the panel names its data
    label = _use_buttons(at)[0].label
    at.button(key="use_lr").click().run()
    assert not at.exception
    value = at.select_slider(key="hp_learning_rate").value
    assert label == f"Use {value:g}"
    assert value != 1e-5
    # Taken: the panel says where the slider is, and the result is not stale.
    assert any(c.value == f"The learning-rate slider is at {value:g}." for c in at.caption)
    assert not _stale(at)
    # Other data: the result is marked stale, names where it came from, and offers nothing to apply.
    at.selectbox(key="dataset_name").select("circles").run()
    stale = _stale(at)
    assert len(stale) == 1, stale
    assert "from moons (300 samples" in stale[0] and "not the current settings" in stale[0] and "other data" in stale[0]
    assert not _use_buttons(at)
    # Back to the same data: the result is current again.
    at.selectbox(key="dataset_name").select("moons").run()
    assert not _stale(at)
    # Another batch size changes the test itself: stale again, saying which knob.
    at.select_slider(key="hp_batch_size").set_value(64).run()
    assert any("batch 32 (now 64)" in s for s in _stale(at))


def test_learning_curve_sentence_only_for_the_run_on_its_data() -> None:
    at = _open()
    at.slider(key="samples").set_value(300).run()
    at.slider(key="hp_epochs").set_value(3).run()
    at.button(key="learning_curve").click().run()
    _wait_for(at, lambda a: any("%" in i.value for i in a.info))
    train_until_verdict(at)  # a run on the curve's data: the sentence joins its diagnosis
    assert any(i.value.startswith("Would more data help?") for i in at.info)
    # Another dataset, trained: the diagnosis is about circles; the moons curve must not speak there.
    at.selectbox(key="dataset_name").select("circles").run()
    assert any("from moons (300 samples" in s for s in _stale(at))
    train_until_verdict(at)
    assert not any(i.value.startswith("Would more data help?") for i in at.info)
    assert any("from moons" in s for s in _stale(at))
