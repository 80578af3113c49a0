"""Workspaces through AppTest: the id in the URL brings back runs and knobs; page switches keep knobs;
another workspace sees nothing of them. The store is the real SQLite file of this test session."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.store.runs import generated_workspace_id, open_store
from tests.app_support import APP, last_run, train_until_verdict


def _open(ws: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if ws is not None:
        at.query_params["ws"] = ws
    at.run()
    assert not at.exception
    return at


def test_a_new_browser_gets_a_workspace_in_the_url() -> None:
    at = _open()
    ws = at.session_state["workspace"]
    assert generated_workspace_id(ws)
    assert at.query_params["ws"] in (ws, [ws])  # AppTest reports a value or a list, by version


def test_a_reload_brings_back_runs_and_knobs_and_another_workspace_sees_none() -> None:
    at = _open()
    ws = at.session_state["workspace"]
    at.slider(key="hp_hidden_layers").set_value(3)
    at.slider(key="hp_epochs").set_value(4)
    at.slider(key="samples").set_value(300).run()
    verdict = train_until_verdict(at)
    run = last_run(at)
    assert run.hyperparameters["hidden_layers"] == 3 and len(run.history) == 4

    again = _open(ws)  # a reload: a new session with the same URL
    assert again.slider(key="hp_hidden_layers").value == 3
    assert again.slider(key="hp_epochs").value == 4
    assert again.slider(key="samples").value == 300
    assert any(m.value == verdict for m in [*again.success, *again.warning, *again.error])
    assert any(m.value.startswith(f"**Run {run.id[:6]}**") for m in again.markdown)  # the run shown, named

    other = _open()
    assert other.session_state["workspace"] != ws
    assert other.slider(key="hp_hidden_layers").value == 2
    assert not [m for m in [*other.success, *other.warning, *other.error] if m.value.startswith("**Verdict")]
    assert open_store().list_runs(other.session_state["workspace"]) == []


@pytest.mark.parametrize("asked", ["../../etc/passwd", "aaaaaaaa", "aaaaaaaaaaaaaaaa", "cli-runs", "classroom-demo-1x-"])
def test_a_made_up_or_guessable_workspace_id_in_the_url_is_replaced(asked: str) -> None:
    """Only ids of the generated form open a workspace: a word or a run of one letter gets a fresh one."""
    at = _open(asked)
    assert at.session_state["workspace"] != asked
    assert generated_workspace_id(at.session_state["workspace"])


def test_switching_pages_keeps_the_knobs() -> None:
    at = _open()
    at.select_slider(key="hp_learning_rate").set_value(0.01)
    at.slider(key="hp_dropout").set_value(0.3)
    at.selectbox(key="dataset_name").select("circles").run()
    at.switch_page("pages/diagnose.py").run()
    assert not at.exception
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.select_slider(key="hp_learning_rate").value == 0.01
    assert at.slider(key="hp_dropout").value == 0.3
    assert at.selectbox(key="dataset_name").value == "circles"


def test_the_run_shown_names_its_own_data_not_the_sidebars() -> None:
    at = _open()
    at.slider(key="hp_epochs").set_value(3)
    at.slider(key="samples").set_value(200).run()
    train_until_verdict(at)
    at.selectbox(key="dataset_name").select("circles").run()  # the sidebar moves on; the run shown does not
    heading = next(m.value for m in at.markdown if m.value.startswith("**Run "))
    assert "moons" in heading and "200 samples" in heading and "circles" not in heading


def test_each_new_run_is_the_run_shown_when_it_ends() -> None:
    """The run picker's own state once outlived the reruns that hid it and brought the previous run back."""
    from ui.runs import short_id

    at = _open()
    at.slider(key="hp_epochs").set_value(3).run()
    shown = []
    for _ in range(3):
        train_until_verdict(at)
        newest = last_run(at)
        headings = [m.value for m in at.markdown if m.value.startswith("**Run ")]
        assert headings and headings[0].startswith(f"**Run {short_id(newest.id)}**"), (headings, newest.id)
        shown.append(newest.id)
    assert len(set(shown)) == 3
    assert at.selectbox(key="run_picker").value == shown[-1]
