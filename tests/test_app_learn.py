"""The Learn page ("Parameters & hyperparameters") through AppTest, on runs really trained by the worker's
job function into the test session's store: what it lists is the model file, and what it says agrees
with the diagnosis, for every teaching preset and every dynamics construction of bench/bench_dynamics.py."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.data.builtin import load_builtin
from core.diagnosis import Diagnosis
from core.diagnosis.dynamics import DynamicsFinding
from core.export.models import model_files
from core.export.state import load_state
from core.hyperparameters import SCENARIOS, Hyperparameters
from core.records import RunRecord
from core.store.runs import new_workspace_id, open_store
from core.workers.jobs import run_job
from core.workers.spec import submit_run
from tests.app_support import APP

CONSTRUCTIONS: dict[str, dict[str, Any]] = {  # bench/bench_dynamics.py's, shortened to 40 epochs
    "vanishing_gradients": {"hidden_layers": 8, "width": 32, "activation": "sigmoid", "optimizer": "sgd", "learning_rate": 0.01},
    "dead_units": {"optimizer": "sgd", "learning_rate": 1.0},
    "saturated_units": {"activation": "tanh", "learning_rate": 0.3},
    "stalled_updates": {"learning_rate": 1e-5},
}
CASES: list[tuple[str, str, int, dict[str, Any]]] = [
    (f"preset {name}", s["dataset"]["name"], min(300, s["dataset"]["samples"]), s["hyperparameters"])
    for name, s in SCENARIOS.items()
] + [(f"construction {name}", "circles", 300, hp) for name, hp in CONSTRUCTIONS.items()]


def _train(ws: str, name: str, samples: int, knobs: dict[str, Any]) -> str:
    store, dataset = open_store(), load_builtin(name, samples=samples, seed=0)
    hp = Hyperparameters(**{**knobs, "epochs": min(40, int(knobs.get("epochs", 40))), "seed": 0})
    spec = {"name": name, "samples": samples, "noise": 0.2, "seed": 0}
    job = submit_run(store, workspace=ws, kind="train", dataset=dataset, hp=hp, spec=spec)
    assert run_job(job) in ("completed", "early_stopped", "diverged")
    return job.run_id


def _learn(ws: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = ws
    at.switch_page("pages/learn.py").run()
    assert not at.exception, at.exception
    return at


def _sentence(at: AppTest) -> str:
    texts = [e.value for e in [*at.info, *at.warning] if "Inside the network" in str(e.value)]
    assert len(texts) == 1, texts
    return str(texts[0]).split("—", 1)[1].strip()


@pytest.mark.parametrize(("label", "name", "samples", "knobs"), CASES, ids=[c[0] for c in CASES])
def test_the_sentence_agrees_with_the_diagnosis(label: str, name: str, samples: int, knobs: dict[str, Any]) -> None:
    ws = new_workspace_id()
    _train(ws, name, samples, knobs)
    stored = open_store().list_runs(ws)[0]
    diagnosis = Diagnosis.from_dict(stored.diagnosis or {})
    at = _learn(ws)
    sentence = _sentence(at)
    if diagnosis.inside:
        first = DynamicsFinding.from_dict(diagnosis.inside[0])
        assert sentence.startswith(first.title), (label, sentence)
        assert first.title.lower() in diagnosis.title  # the Train page's verdict names the same finding
    else:
        assert sentence.startswith("Nothing"), (label, sentence)
    assert any(diagnosis.verdict.replace("_", " ") in str(c.value) for c in at.caption)
    if label.startswith("construction"):
        assert [f["name"] for f in diagnosis.inside][:1] == [label.split()[1]], diagnosis.inside


def test_the_listed_tensors_are_the_model_file() -> None:
    ws = new_workspace_id()
    _train(ws, "moons", 200, {"hidden_layers": 2, "width": 16, "epochs": 5})
    store = open_store()
    stored = store.list_runs(ws)[0]
    at = _learn(ws)
    table = at.dataframe[0].value  # the first table: the model file's tensors (the knobs are the second)
    state_bytes = store.model_state(stored.id)
    assert state_bytes is not None
    exported, _config = model_files(stored, load_builtin("moons", samples=200, seed=0), state_bytes)
    state = load_state(exported)
    assert list(table["tensor"]) == list(state)  # exactly the model file's keys, in its order
    assert int(table["count"].sum()) == sum(t.numel() for t in state.values())
    for row, (key, tensor) in zip(table.itertuples(), state.items(), strict=True):
        assert row.count == tensor.numel() and row.shape == " x ".join(str(n) for n in tensor.shape), key
    d = RunRecord(stored).dynamics
    assert d is not None and sum(layer.count for layer in d.layers) == int(table["count"].sum())
    assert at.get("plotly_chart"), "the layer charts are drawn"


def test_no_run_yet() -> None:
    at = _learn(new_workspace_id())
    assert any("No run in this workspace yet" in str(i.value) for i in at.info)


def test_picking_another_run_shows_it() -> None:
    ws = new_workspace_id()
    first = _train(ws, "moons", 200, {"hidden_layers": 1, "width": 4, "epochs": 3})
    _train(ws, "moons", 200, {"hidden_layers": 1, "width": 8, "epochs": 3})
    at = _learn(ws)
    assert any("2 x 8 weights" in str(i.value) for i in at.info)  # the newest run first
    at.selectbox(key="learn_picker").set_value(first).run()
    assert not at.exception
    assert any("2 x 4 weights" in str(i.value) for i in at.info), [i.value for i in at.info]
    at.run()  # and it stays picked on the next rerun
    assert any("2 x 4 weights" in str(i.value) for i in at.info)
