"""Hyperparameter search (core/tuning/study.py): spaces from the knob metadata, the three samplers, the pruners,
trials kept as runs, and several processes sharing one study on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import optuna
import pytest

from core.data.builtin import load_builtin
from core.data.dataset import Dataset
from core.hyperparameters import KNOBS, Hyperparameters
from core.store.runs import RunStore
from core.tuning.study import (
    STRATEGIES,
    TuneError,
    TuneSettings,
    default_space,
    grid_values,
    importances,
    parse_space,
    read_trials,
    run_study,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return load_builtin("moons", samples=200, noise=0.2, seed=0)


BASE = Hyperparameters(epochs=6, width=16, patience=3)


def test_default_space_comes_from_the_knob_metadata() -> None:
    space = default_space()
    assert space["learning_rate"].log and space["weight_decay"].log
    assert (space["learning_rate"].low, space["learning_rate"].high) == KNOBS["learning_rate"].bounds
    assert space["weight_decay"].low > 0  # a log range cannot start at 0
    assert not space["dropout"].log and space["hidden_layers"].kind == "int"
    with pytest.raises(TuneError, match="seed"):
        default_space(["seed"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("learning_rate=1e-9:1e-1:log", "learning_rate"),
        ("width=64:16", "below"),
        ("colour=1:2", "unknown"),
        ("optimizer=adam|rmsprop2", "optimizer"),
        ("dropout", "name=low:high"),
        ("learning_rate=1e-3:1e-1,learning_rate=1e-2:1e-1", "twice"),
        ("weight_decay=0:0.1:log", "above 0"),
        ("", "empty"),
    ],
)
def test_a_bad_search_space_names_the_knob_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        parse_space(text)


def test_parse_space_and_grid_values() -> None:
    space = parse_space("learning_rate=1e-4:1e-1:log,width=16:512,optimizer=adam|sgd,early_stopping=true|false")
    assert space["optimizer"].choices == ("adam", "sgd") and space["early_stopping"].choices == (True, False)
    assert grid_values(space["learning_rate"], 4) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    widths = grid_values(space["width"], 3)
    assert widths[0] == 16 and widths[-1] == 512 and all(isinstance(w, int) for w in widths)
    assert grid_values(space["optimizer"]) == ["adam", "sgd"]
    assert grid_values(parse_space("dropout=0:0.5")["dropout"], 3) == pytest.approx([0.0, 0.25, 0.5])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_runs_the_trials_asked_for(moons: Dataset, strategy: str) -> None:
    settings = TuneSettings(
        strategy=strategy, n_trials=4, pruner="none", space=parse_space("learning_rate=1e-3:1e-1:log,width=8:64")
    )
    result = run_study(moons, BASE, settings)
    assert len(result.trials) == 4
    assert [t.number for t in result.trials] == [0, 1, 2, 3]
    assert all(t.state == "complete" and t.value is not None and math.isfinite(t.value) for t in result.trials)
    assert result.best is not None and result.best.value == min(t.value for t in result.trials if t.value is not None)
    assert set(result.best_params) == {"learning_rate", "width"}
    assert all(1e-3 <= t.params["learning_rate"] <= 1e-1 and 8 <= t.params["width"] <= 64 for t in result.trials)
    assert result.to_dict()["n_trials"] == 4


def test_tpe_with_a_seed_is_reproducible_and_grid_stops_at_its_size(moons: Dataset) -> None:
    def params(seed: int) -> list[dict[str, object]]:
        settings = TuneSettings(
            strategy="tpe", n_trials=4, pruner="none", seed=seed, space=parse_space("learning_rate=1e-3:1e-1:log")
        )
        return [t.params for t in run_study(moons, BASE, settings).trials]

    assert params(3) == params(3)
    assert params(3) != params(4)
    grid = TuneSettings(strategy="grid", n_trials=10, pruner="none", space=parse_space("optimizer=adam|sgd"), grid_points=3)
    result = run_study(moons, BASE, grid)
    assert len(result.trials) == 2 and "2 combinations" in result.note
    assert sorted(t.params["optimizer"] for t in result.trials) == ["adam", "sgd"]


def test_the_diagnosis_pruner_stops_an_unstable_learning_rate_and_says_why(moons: Dataset) -> None:
    hot = TuneSettings(
        strategy="random", n_trials=2, pruner="diagnosis", warmup_epochs=3, space=parse_space("learning_rate=0.5:1.0")
    )
    result = run_study(moons, BASE.replace(optimizer="adam", epochs=30, early_stopping=False), hot)
    assert [t.state for t in result.trials] == ["pruned", "pruned"]
    for trial in result.trials:
        assert trial.reason and ("learning rate" in trial.reason or "diverged" in trial.reason), trial.reason
        assert trial.epochs < 30
    calm = TuneSettings(
        strategy="random", n_trials=2, pruner="diagnosis", warmup_epochs=3, space=parse_space("learning_rate=0.005:0.02")
    )
    calm_result = run_study(moons, BASE.replace(epochs=12), calm)
    assert [t.state for t in calm_result.trials] == ["complete", "complete"], [t.reason for t in calm_result.trials]


def test_the_median_pruner_prunes_a_poor_trial(moons: Dataset) -> None:
    settings = TuneSettings(
        strategy="random", n_trials=10, pruner="median", seed=1, warmup_epochs=2, space=parse_space("learning_rate=1e-5:1e-1:log")
    )
    result = run_study(moons, BASE.replace(epochs=10, early_stopping=False), settings)
    pruned = [t for t in result.trials if t.state == "pruned"]
    assert pruned, [(t.params, t.value) for t in result.trials]
    assert all("median" in (t.reason or "") for t in pruned)
    assert len(result.trials) == 10


def test_trials_are_runs_in_the_store_and_importance_ranks_knobs(moons: Dataset, tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    settings = TuneSettings(
        strategy="random", n_trials=5, pruner="none", space=parse_space("learning_rate=1e-3:1e-1:log,width=4:64")
    )
    result = run_study(moons, BASE, settings, store=store, workspace="tune-workspace", dataset_spec={"name": "moons"})
    runs = store.list_runs("tune-workspace", kinds=("trial",))
    assert len(runs) == 5
    assert {r.id for r in runs} == {t.run_id for t in result.trials}
    for run in runs:
        assert run.status in ("completed", "early_stopped") and run.history and run.diagnosis is not None
        assert run.extra["study"] == result.study_name
    found = importances(result)
    assert set(found) == {"learning_rate", "width"} and sum(found.values()) == pytest.approx(1.0)


def test_a_stop_request_ends_the_study_early(moons: Dataset) -> None:
    stop = threading.Event()
    settings = TuneSettings(strategy="random", n_trials=50, pruner="none", space=parse_space("learning_rate=1e-3:1e-1:log"))
    result = run_study(
        moons, BASE, settings, on_trial=lambda outcome: stop.set() if outcome.number >= 1 else None, stop_event=stop
    )
    assert len(result.trials) == 2


def _processes_share_one_study(storage: str, name: str) -> None:
    command = [
        sys.executable, "-m", "core", "tune", "--dataset", "moons", "--samples", "150", "--epochs", "4",
        "--trials", "7", "--pruner", "none", "--search", "learning_rate=1e-3:1e-1:log,width=4:32",
        "--storage", storage, "--study", name, "--json", "-",
    ]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=240) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(7)), "trials lost or duplicated"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    for out, _ in outputs:  # each process reports the study as it stood when it ended: never beyond 7
        assert json.loads(out)["n_trials"] <= 7
    assert len(read_trials(storage, name)) == 7


def test_three_processes_share_one_sqlite_study_exactly(tmp_path: Path) -> None:
    _processes_share_one_study(f"sqlite:///{tmp_path / 'study.db'}", "shared-sqlite")


def test_three_processes_share_one_postgresql_study_exactly(postgres_url: str) -> None:
    _processes_share_one_study(postgres_url, "shared-postgres")
