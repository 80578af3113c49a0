"""core.workers.jobs: a job as a worker runs it, here called in this process against a real SQLite store."""

from __future__ import annotations

import io
import threading
import time

import pytest
import torch

from core.data.dataset import Dataset
from core.experiments.baselines import fingerprint
from core.experiments.results import LearningCurveResult, LrFinderResult, interpret
from core.hyperparameters import Hyperparameters
from core.store.runs import RunStore, open_store
from core.training.model import build_model
from core.workers.jobs import run_job
from core.workers.spec import JobSpec, submit_run


@pytest.fixture
def store(tmp_path) -> RunStore:
    return open_store(f"sqlite:///{tmp_path / 'runs.sqlite'}")


def _submit(store: RunStore, dataset: Dataset, hp: Hyperparameters, kind: str = "train", **options) -> JobSpec:
    return submit_run(store, workspace="ws-test-0001", kind=kind, dataset=dataset, hp=hp, spec={"name": "moons"}, options=options)


def test_training_job_stores_history_records_model_and_verdict(store: RunStore, tiny_moons: Dataset) -> None:
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=6, early_stopping=False, seed=0)
    spec = _submit(store, tiny_moons, hp)
    assert store.get(spec.run_id).status == "queued"
    assert run_job(spec) == "completed"
    run = store.get(spec.run_id)
    assert run.status == "completed" and run.error is None
    assert [r["epoch"] for r in run.history] == [1, 2, 3, 4, 5, 6]
    assert run.kept_epoch == 6  # no early stopping: the last epoch's weights are kept
    assert 1 <= run.best_epoch <= 6
    assert run.diagnosis["verdict"] in {"not_converged", "underfitting", "good_fit", "overfitting", "lr_too_high"}
    assert set(run.baselines) == {"trivial", "linear", "boosted"}
    assert run.dataset["spec"] == {"name": "moons"} and run.dataset["name"] == tiny_moons.name
    assert run.started is not None and run.finished >= run.started
    # The stored weights are the model's: loading them reproduces the last validation loss.
    model = build_model(tiny_moons.n_inputs, tiny_moons.n_outputs, hp)
    model.load_state_dict(torch.load(io.BytesIO(store.model_state(spec.run_id))))
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(tiny_moons.x_val, dtype=torch.float32))
        loss = torch.nn.functional.cross_entropy(out, torch.tensor(tiny_moons.y_val.copy()).long())
    assert float(loss) == pytest.approx(run.history[-1]["val_loss"], rel=1e-4)
    surface = run.extra["surface"]
    assert surface["kind"] == "binary" and len(surface["z"]) == len(surface["grid_b"])
    assert len(surface["points"]["validation"]["a"]) == len(tiny_moons.y_val)
    # Baselines are cached in the store for the next run on the same data.
    assert store.get_baselines(fingerprint(tiny_moons)) is not None


def test_early_stopped_job_keeps_the_trainers_epoch(store: RunStore, tiny_moons: Dataset) -> None:
    hp = Hyperparameters(hidden_layers=2, width=64, epochs=300, batch_size=8, learning_rate=0.01, patience=3, seed=0)
    spec = _submit(store, tiny_moons, hp)
    run_job(spec)
    run = store.get(spec.run_id)
    assert run.status == "early_stopped"
    assert run.kept_epoch == run.best_epoch < len(run.history)
    # The diagnosis read the Trainer's kept epoch: its note names the restored epoch.
    assert any(f"restored epoch {run.kept_epoch}" in line for line in run.diagnosis["evidence"])


def test_stop_while_queued_never_trains(store: RunStore, tiny_moons: Dataset, small_hp: Hyperparameters) -> None:
    spec = _submit(store, tiny_moons, small_hp)
    store.request_stop(spec.run_id)
    assert run_job(spec) == "stopped"
    run = store.get(spec.run_id)
    assert run.history == [] and run.started is None


def test_stop_while_running_ends_within_a_second_and_keeps_the_curve(store: RunStore, tiny_moons: Dataset) -> None:
    hp = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=4, early_stopping=False, seed=0)
    spec = _submit(store, tiny_moons, hp)
    worker = threading.Thread(target=run_job, args=(spec,))
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(store.get(spec.run_id).history) < 2:
        time.sleep(0.05)
    seen = len(store.get(spec.run_id).history)
    assert seen >= 2, "no progress reached the store"
    asked = time.monotonic()
    store.request_stop(spec.run_id)
    worker.join(timeout=10)
    took = time.monotonic() - asked
    run = store.get(spec.run_id)
    assert run.status == "stopped"
    assert took < 1.5, f"stop took {took:.2f} s"
    assert seen <= len(run.history) < 1000


def test_fix_job_stores_its_path(store: RunStore, tiny_moons: Dataset) -> None:
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=15, learning_rate=0.3, seed=0)
    spec = _submit(store, tiny_moons, hp, kind="fix", rounds=2)
    run_job(spec)
    run = store.get(spec.run_id)
    fix = run.extra["fix"]
    assert 1 <= len(fix["rounds"]) <= 3
    assert fix["rounds"][0]["change"] is None and fix["rounds"][0]["hyperparameters"]["learning_rate"] == 0.3
    assert fix["final_verdict"] == run.diagnosis["verdict"]
    assert run.hyperparameters["learning_rate"] == 0.3  # the row keeps what the user asked for
    assert len(run.history) == len(fix["rounds"][-1]["history"])  # the row's curve: the final round's


def test_lr_finder_and_learning_curve_jobs_round_trip(store: RunStore, tiny_moons: Dataset, small_hp: Hyperparameters) -> None:
    lr = _submit(store, tiny_moons, small_hp, kind="lr_find")
    assert run_job(lr) == "completed"
    found = LrFinderResult.from_dict(store.get(lr.run_id).extra["lr_find"])
    assert len(found.learning_rates) == len(found.losses) > 10
    assert found.learning_rates == sorted(found.learning_rates)
    curve = _submit(store, tiny_moons, small_hp, kind="learning_curve")
    assert run_job(curve) == "completed"
    stored = store.get(curve.run_id).extra["learning_curve"]
    result = LearningCurveResult.from_dict(stored)
    assert [p.fraction for p in result.points] == [0.1, 0.25, 0.5, 1.0]
    assert interpret(result) == stored["interpretation"]


def test_a_job_that_raises_is_marked_failed_with_its_message(store: RunStore, tiny_moons: Dataset, small_hp) -> None:
    spec = _submit(store, tiny_moons, small_hp)
    broken = JobSpec(spec.run_id, "train", spec.store_url, tiny_moons, small_hp.replace(epochs=2), {})
    object.__setattr__(broken, "kind", "no_such_kind")
    assert run_job(broken) == "failed"
    assert "no_such_kind" in store.get(spec.run_id).error


def test_unknown_kind_is_refused_before_anything_is_stored(store: RunStore, tiny_moons: Dataset, small_hp) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        _submit(store, tiny_moons, small_hp, kind="bake")
    assert store.list_runs("ws-test-0001") == []
