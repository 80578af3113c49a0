"""`python -m core train|fix --db URL`: the finished run lands in the run store, as the dashboard's workers store it."""

from __future__ import annotations

import io
import json
import socket

import pytest
import torch

from core.cli.commands import main
from core.hyperparameters import Hyperparameters
from core.store.runs import RunStore, generated_workspace_id
from core.training.model import build_model

WS = "Zq3-classroom_42"  # the form the dashboard makes: 16 token characters
TINY = ("--dataset", "moons", "--samples", "200", "--epochs", "4", "--hidden-layers", "1", "--width", "8")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _workspace(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("workspace: ")]
    assert len(lines) == 1, err
    return lines[0].split()[1]


def _saved_id(err: str, url: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("saved run ")]
    assert len(lines) == 1, err
    words = lines[0].split()
    assert words[3:] == ["to", url], lines[0]
    return words[2]


def test_train_with_db_saves_the_run(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    target = tmp_path / "run.json"
    code, _, err = _run(capsys, "train", *TINY, "--seed", "3", "--db", url, "--json", str(target))
    assert code == 0, err
    run_id = _saved_id(err, url)
    payload = json.loads(target.read_text(encoding="utf-8"))

    store = RunStore(url)
    run = store.get(run_id)
    assert run is not None
    workspace = _workspace(err)  # a new random one, printed: never a well-known name anyone could open
    assert generated_workspace_id(workspace)
    assert (run.workspace, run.kind, run.status) == (workspace, "train", payload["status"])
    assert run.history == payload["history"] and len(run.history) == 4
    assert run.best_epoch == payload["best_epoch"] and run.kept_epoch == payload["kept_epoch"]
    assert run.test == payload["test"] and run.baselines == payload["baselines"]
    assert run.diagnosis == payload["diagnosis"]
    assert run.hyperparameters == payload["hyperparameters"] and run.hyperparameters["seed"] == 3
    assert {k: v for k, v in run.dataset.items() if k != "spec"} == payload["dataset"]
    assert run.dataset["spec"] == {"name": "moons", "samples": 200, "noise": 0.2, "seed": 3}
    assert run.started is not None and run.finished is not None and run.created <= run.started <= run.finished
    assert run.owner == run.worker and run.owner.startswith(socket.gethostname() + ":")
    assert run.error is None and run.extra is not None and "surface" in run.extra  # two features: the boundary
    # the stored weights are the trained model's
    state = store.model_state(run_id)
    assert state is not None
    model = build_model(2, 2, Hyperparameters.from_dict(run.hyperparameters))
    model.load_state_dict(torch.load(io.BytesIO(state)))  # raises on a missing or misshapen tensor
    assert store.list_runs(workspace) == [run]
    store.close()


def test_fix_with_db_saves_one_fix_run_under_the_workspace(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    argv = ("fix", *TINY, "--rounds", "1", "--db", str(tmp_path / "runs.sqlite"), "--workspace", WS, "--json", "-")
    code, _, err = _run(capsys, *argv)
    assert code == 0, err
    run_id = _saved_id(err, url)  # a plain path is a SQLite file
    store = RunStore(url)
    run = store.get(run_id)
    assert run is not None and run.kind == "fix" and run.workspace == WS
    assert run.status in ("completed", "early_stopped", "diverged")
    assert run.extra is not None and len(run.extra["fix"]["rounds"]) >= 1
    final = run.extra["fix"]["rounds"][-1]
    assert run.history == final["history"] and run.diagnosis == final["diagnosis"]
    assert store.model_state(run_id) is not None
    assert _workspace(err) == WS  # the one given is used
    store.close()


def test_without_db_nothing_is_saved(tmp_path, capsys) -> None:
    code, _, err = _run(capsys, "train", *TINY, "--json", str(tmp_path / "run.json"))
    assert code == 0 and "saved run" not in err


def test_unreachable_db_is_one_error_line_before_training(capsys) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = _run(capsys, "train", *TINY, "--db", f"postgresql://me:hunter2@127.0.0.1:{port}/fitlab")
    assert code == 2
    assert err.startswith("error: cannot use the run store at postgresql+psycopg://me:***@127.0.0.1:") and err.count("\n") == 1
    assert "hunter2" not in err and "Traceback" not in err
    assert "epoch " not in out  # no training happened


def test_bad_workspace_is_a_usage_error(tmp_path, capsys) -> None:
    code, _, err = _run(capsys, "train", *TINY, "--db", f"sqlite:///{tmp_path / 'r.sqlite'}", "--workspace", "cli-runs")
    assert code == 2 and err.startswith("error: --workspace must be") and not (tmp_path / "r.sqlite").exists()


def test_db_flag_is_only_on_train_and_fix(capsys) -> None:
    code, _, err = _run(capsys, "lr-find", *TINY, "--db", "sqlite:///x.sqlite")
    assert code == 2 and "unrecognized arguments: --db" in err


def test_train_with_db_saves_to_postgresql(postgres_url, capsys) -> None:
    code, out, err = _run(capsys, "train", *TINY, "--db", postgres_url, "--workspace", WS, "--json", "-")
    assert code == 0, err
    run_id = _saved_id(err, postgres_url)
    payload = json.loads(out)
    store = RunStore(postgres_url)
    run = store.get(run_id)
    assert run is not None and run.workspace == WS and run.status == payload["status"]
    assert run.history == payload["history"] and run.diagnosis == payload["diagnosis"] and run.test == payload["test"]
    state = store.model_state(run_id)
    assert state is not None and len(state) > 100
    assert run_id in [r.id for r in store.list_runs(WS)]
    store.close()


@pytest.mark.parametrize("command", ["train", "fix"])
def test_help_names_the_store_options(command, capsys) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "--db URL" in out and "--workspace ID" in out
