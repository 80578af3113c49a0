"""The dataset picker through AppTest: Samples and Noise keep their values through runs and reruns, and
the CSV task radio always shows the task that will be trained on (detected, or the user's own choice).
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core.data.builtin import NOISE_RANGE, SAMPLES_RANGE
from core.store.runs import open_store
from tests.app_support import APP, last_run
from ui.data_picker import TASKS
from ui.text import plain


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def _during_run(at: AppTest, timeout: float = 2) -> AppTest:
    """One rerun while a run is going on: the page stays in its live loop, so AppTest gives up after a
    moment (as a browser would interrupt it with the next interaction)."""
    try:
        at.run(timeout=timeout)
    except RuntimeError as exc:  # AppTest's "script run timed out": the live loop was still going
        assert "timed out" in str(exc)
    return at


def _mounts_at(at: AppTest, key: str) -> list[float]:
    """The value a browser shows for this slider when it mounts it without being told one (its default)."""
    return list(at.slider(key=key).proto.default)


def test_slider_ranges_are_the_limits_core_accepts() -> None:
    at = _open()
    samples, noise = at.slider(key="samples"), at.slider(key="noise")
    assert (samples.min, samples.max) == SAMPLES_RANGE and (noise.min, noise.max) == NOISE_RANGE
    for value, rows in ((SAMPLES_RANGE[0], 12), (SAMPLES_RANGE[1], 60_000)):
        at.slider(key="samples").set_value(value).run()
        assert not at.exception and not at.sidebar.error
        assert any(c.value.startswith(f"Dataset **moons** (classification): {rows} train") for c in at.caption)
    at.slider(key="noise").set_value(NOISE_RANGE[1]).run()
    assert not at.sidebar.error and at.slider(key="noise").value == NOISE_RANGE[1]


def test_samples_and_noise_survive_train_pressed_during_a_run() -> None:
    at = _open()
    at.toggle(key="hp_early_stopping").set_value(False)
    at.slider(key="hp_epochs").set_value(1000)
    at.select_slider(key="hp_batch_size").set_value(1)  # 78 updates an epoch: a run of a minute or more
    at.slider(key="samples").set_value(130)
    at.slider(key="noise").set_value(0.35).run()
    at.button(key="train").click()
    _during_run(at, timeout=10)  # long enough for the click's script run to start the job on a loaded machine
    workspace = at.session_state["workspace"]
    store = open_store()
    active = store.active_run(workspace)
    assert active is not None, "the run should be going on"
    for interaction in ("train", "rerun", "train", "log_scale"):
        if interaction == "train":
            at.button(key="train").click()  # pressed again during the run
        elif interaction == "log_scale":
            at.toggle(key="log_scale").set_value(True)
        _during_run(at)
        assert (at.slider(key="samples").value, at.slider(key="noise").value) == (130, 0.35), interaction
        # A slider the browser mounts anew shows the remembered value, not its minimum.
        assert _mounts_at(at, "samples") == [130], interaction
        assert _mounts_at(at, "noise") == [0.35], interaction
        assert at.session_state["knobs"]["samples"] == 130 and at.session_state["knobs"]["noise"] == 0.35
    store.request_stop(active.id)
    deadline = time.monotonic() + 60
    while store.active_run(workspace) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert (at.slider(key="samples").value, at.slider(key="noise").value) == (130, 0.35)
    # The next run trains on what the sliders show.
    at.slider(key="hp_epochs").set_value(2).run()
    at.button(key="train").click().run()
    deadline = time.monotonic() + 60
    while store.active_run(workspace) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    run = last_run(at)
    assert run.id != active.id
    assert run.dataset["spec"]["samples"] == 130 and run.dataset["spec"]["noise"] == 0.35
    assert sum(run.dataset["rows"].values()) == 130 and run.dataset["rows"]["train"] == 78


def test_samples_come_back_after_a_dataset_without_them() -> None:
    at = _open()
    at.slider(key="samples").set_value(440).run()
    at.selectbox(key="dataset_name").select("iris").run()
    assert "samples" not in [s.key for s in at.slider]  # iris has no Samples/Noise
    at.run()
    at.selectbox(key="dataset_name").select("circles").run()
    assert at.slider(key="samples").value == 440 and _mounts_at(at, "samples") == [440]


def _csv(rows: int = 200, seed: int = 0) -> bytes:
    """label (text: classes), size (fractions: amounts), grade (1-5: could be either), colour (text)."""
    lines = ["size,grade,colour,label"]
    for i in range(rows):
        j = i + seed
        lines.append(f"{(j * 37 % 100) / 7:.3f},{j % 5 + 1},{('red', 'blue', 'green')[j % 3]},{'yes' if j % 4 < 2 else 'no'}")
    return "\n".join(lines).encode()


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.sidebar.file_uploader(key="csv").set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def _task(at: AppTest) -> tuple[str | None, list[str], str]:
    """The radio's value, its option labels and the sentence under it."""
    radio = at.radio(key="csv_task")
    sentence = next(c.value for c in at.sidebar.caption if c.value.startswith(("Detected", "You chose")))
    return radio.value, list(radio.options), sentence


def _labels(detected: str) -> list[str]:
    return [f"{t} (detected)" if t == detected else t for t in TASKS]


@pytest.fixture()
def uploaded() -> AppTest:
    at = _open()
    at.slider(key="hp_epochs").set_value(2)
    at.selectbox(key="dataset_name").select("Upload a CSV…").run()
    return _upload(at, "shop.csv", _csv())


def test_the_task_is_the_detected_one_and_follows_the_target(uploaded: AppTest) -> None:
    at = uploaded
    assert at.selectbox(key="csv_target").value == "label"
    value, labels, sentence = _task(at)
    assert value == "classification" and labels == _labels("classification")
    assert sentence.startswith(plain("Detected: classification, because it holds labels"))
    at.selectbox(key="csv_target").select("size").run()
    value, labels, sentence = _task(at)
    assert value == "regression" and labels == _labels("regression")  # never "classification" over "Detected: regression"
    assert sentence == plain("Detected: regression, because it holds numbers with fractions.")
    assert not at.sidebar.error
    assert any("(regression)" in c.value for c in at.caption if c.value.startswith("Dataset "))


def test_few_whole_numbers_show_the_detected_task_and_say_it_is_a_guess(uploaded: AppTest) -> None:
    at = uploaded
    at.selectbox(key="csv_target").select("grade").run()
    value, labels, sentence = _task(at)
    assert value == "classification" and labels == _labels("classification")  # chosen, and really in use
    assert plain("Few whole numbers can be classes or amounts") in sentence
    assert any("(classification)" in c.value for c in at.caption if c.value.startswith("Dataset "))
    assert not any("Still using the previous dataset" in i.value for i in at.sidebar.info)


def test_the_users_task_sticks_to_its_file_and_target(uploaded: AppTest) -> None:
    at = uploaded
    at.selectbox(key="csv_target").select("grade").run()
    at.radio(key="csv_task").set_value("regression").run()
    value, _, sentence = _task(at)
    assert value == "regression"
    assert sentence.startswith(plain("You chose regression. Detected: classification, because 5 distinct whole numbers"))
    assert any("(regression)" in c.value for c in at.caption if c.value.startswith("Dataset "))
    at.selectbox(key="csv_target").select("label").run()
    assert _task(at)[0] == "classification"  # another target: its own detected task
    at.selectbox(key="csv_target").select("grade").run()
    assert _task(at)[0] == "regression"  # back: the user's choice for this target
    at.run()
    assert _task(at)[0] == "regression"
    # A new file: its own defaults again.
    _upload(at, "other.csv", _csv(seed=1))
    assert at.selectbox(key="csv_target").value == "label" and _task(at)[0] == "classification"
    at.selectbox(key="csv_target").select("grade").run()
    assert _task(at)[0] == "classification"


def test_the_task_is_never_blank_after_several_uploads(uploaded: AppTest) -> None:
    at = uploaded
    for round_ in range(4):
        at.selectbox(key="csv_target").select("grade").run()
        assert _task(at)[0] == "classification", round_
        at.selectbox(key="csv_target").select("size").run()
        assert _task(at)[0] == "regression", round_
        _upload(at, f"file{round_}.csv", _csv(seed=round_ + 1))
        value, labels, _ = _task(at)
        assert value == "classification" and labels == _labels("classification"), round_


def test_a_file_that_cannot_be_read_shows_a_specific_error_and_keeps_the_rest(uploaded: AppTest) -> None:
    at = uploaded
    assert any(c.value.startswith(f"Dataset **{plain('shop.csv')}**") for c in at.caption)
    _upload(at, "broken.csv", b"\x00\x01\x02" * 50)
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and errors[0].startswith("Could not use this data: ") and len(errors[0]) > 40
    assert any(f"Still using the previous dataset, {plain('shop.csv')}." in i.value for i in at.sidebar.info)
    assert "csv_target" not in [box.key for box in at.sidebar.selectbox]
    assert at.slider(key="hp_epochs").value == 2
