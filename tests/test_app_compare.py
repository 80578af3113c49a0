"""The Compare page through AppTest, on runs really trained (3 epochs, 200 rows) into the test session's store.

A selection is made as the browser makes it: the table's selection state, written under its widget key.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import compare
from core.data.builtin import load_builtin
from core.hyperparameters import Hyperparameters
from core.store.runs import StoredRun, new_workspace_id, open_store
from core.workers.jobs import run_job
from core.workers.spec import submit_run
from tests.app_support import APP
from ui.compare import table_key
from ui.runs import when
from ui.state import CONFIRM_DELETE

RATES = (0.001, 0.01, 0.1)
SPEC = {"name": "moons", "samples": 200, "noise": 0.2, "seed": 0}


def _train(ws: str, rates: tuple[float, ...]) -> list[StoredRun]:
    store, dataset = open_store(), load_builtin("moons", samples=200, noise=0.2, seed=0)
    for rate in rates:
        hp = Hyperparameters(learning_rate=rate, hidden_layers=1, width=8, epochs=3, seed=0)
        assert run_job(submit_run(store, workspace=ws, kind="train", dataset=dataset, hp=hp, spec=SPEC)) == "completed"
    return _listed(ws)


def _listed(ws: str) -> list[StoredRun]:
    return open_store().list_runs(ws, kinds=compare.LISTED_KINDS, limit=200)  # what the page lists, in its order


def _workspace() -> str:
    return new_workspace_id()


@pytest.fixture(scope="module")
def three() -> tuple[str, list[StoredRun]]:
    ws = _workspace()
    return ws, _train(ws, RATES)


def _compare(ws: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = ws
    at.switch_page("pages/compare.py").run()  # straight there: the Train page would wait for a queued run
    assert not at.exception
    return at


def _select(at: AppTest, ws: str, rows: list[int]) -> AppTest:
    at.session_state[table_key(_listed(ws))] = {"selection": {"rows": rows, "columns": []}}
    at.run()
    assert not at.exception
    return at


def _chart(at: AppTest, key: str) -> dict:  # type: ignore[type-arg]
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id]
    assert charts, f"no chart {key}"
    return json.loads(charts[0].proto.spec)


def test_the_page_lists_this_workspaces_runs_and_another_workspace_sees_none(three) -> None:
    ws, runs = three
    at = _compare(ws)
    table = at.dataframe[0].value
    assert list(table["run"]) == [r.id[:6] for r in runs]
    assert sorted(table["learning_rate"]) == sorted(RATES)
    assert any("Select 2 to 6" in m.value for m in at.info)
    assert not at.get("plotly_chart")

    other = _compare(_workspace())
    assert not other.dataframe
    assert any("No runs in this workspace yet" in m.value for m in other.info)


def test_selecting_two_shows_the_overlay_the_diff_and_their_verdicts(three) -> None:
    ws, runs = three
    at = _select(_compare(ws), ws, [0, 1])
    loss = _chart(at, "compare_loss")
    names = [t["name"] for t in loss["data"] if t.get("mode") == "lines"]
    labels = [f"run {r.id[:6]}" for r in runs[:2]]
    assert names == [labels[0], f"{labels[0]} (training)", labels[1], f"{labels[1]} (training)"]
    assert len([t for t in loss["data"] if t.get("meta") == "best"]) == 2
    assert _chart(at, "compare_metric")["data"][0]["name"] == labels[0]
    diff = at.table[0].value
    assert list(diff.index) == ["Learning rate"] and list(diff.columns) == labels
    styles = at.table[0].proto.arrow_data.styler.styles
    assert "row0_col1" in styles and compare.DIFF_HIGHLIGHT in styles and "row0_col0" not in styles  # highlighted
    cards = [m.value for m in at.markdown if m.value.startswith("**run ")]
    assert cards == [f"**{label}** · {when(run)}" for label, run in zip(labels, runs[:2], strict=True)]  # side by side
    assert len([b for b in at.button if b.label == "Open in Train"]) == 2
    assert any("at least 3 selected runs" in c.value for c in at.caption)  # no parallel coordinates for 2

    _select(at, ws, [0, 1, 2])
    parallel = _chart(at, "compare_parallel")["data"][0]
    assert [d["label"] for d in parallel["dimensions"]] == ["run", "Learning rate", "kept val loss"]


def test_one_selected_run_gets_a_hint_and_its_card(three) -> None:
    ws, _ = three
    at = _select(_compare(ws), ws, [0])
    assert any("at least one more" in m.value for m in at.info)
    assert at.subheader[0].value == "The selected run"


def test_open_in_train_loads_the_runs_data_and_knobs(three) -> None:
    ws, runs = three
    at = _select(_compare(ws), ws, [0, 1])
    target = runs[1]
    at.button(key=f"open_{target.id}").click().run()
    assert not at.exception
    assert at.select_slider(key="hp_learning_rate").value == target.hyperparameters["learning_rate"]
    assert at.slider(key="hp_epochs").value == 3 and at.slider(key="hp_hidden_layers").value == 1
    assert at.slider(key="samples").value == 200
    assert any(m.value.startswith(f"**Run {target.id[:6]}**") for m in at.markdown)  # the Train page shows that run


def test_delete_asks_for_confirmation_and_removes_only_that_run() -> None:
    ws, bystander = _workspace(), _workspace()
    runs = _train(ws, (0.001, 0.01))
    kept_elsewhere = _train(bystander, (0.001,))[0]
    store = open_store()
    queued = store.create_run(
        workspace=ws, kind="train", dataset={"name": "moons", "spec": SPEC}, fingerprint="x",
        hyperparameters=Hyperparameters().to_dict(), owner="test",
    )  # fmt: skip
    listed = _listed(ws)
    assert listed[0].id == queued
    victim = listed.index(next(r for r in listed if r.id == runs[0].id))

    at = _select(_compare(ws), ws, [0, victim])  # the queued run and one finished run
    assert any("is queued: it cannot be deleted" in w.value for w in at.warning)
    button = at.button(key="delete_runs")
    assert button.label == "Delete 1 run(s)" and button.disabled
    at.checkbox(key=CONFIRM_DELETE.key).check().run()
    assert not at.button(key="delete_runs").disabled
    at.button(key="delete_runs").click().run()
    assert not at.exception
    assert store.get(runs[0].id) is None
    assert store.get(runs[1].id) is not None and store.get(queued) is not None
    assert store.get(kept_elsewhere.id) is not None  # another workspace's run: untouched
    assert list(at.dataframe[0].value["run"]) == [r.id[:6] for r in _listed(ws)]  # the table lists what is left
    assert any("Select 2 to 6" in m.value for m in at.info)  # a new table: the old selection is gone
    assert store.delete_run(kept_elsewhere.id, ws) is False  # the store itself refuses another workspace's run
