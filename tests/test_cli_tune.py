"""`python -m core tune`: a readable table and JSON, studies kept in a storage and in the run store,
and one `error:` line with exit 2 for every bad setting."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from core.cli.commands import main
from core.store.runs import RunStore

SMALL = ["--dataset", "moons", "--samples", "150", "--epochs", "4"]


def test_tune_prints_the_trials_and_the_best(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tune", *SMALL, "--strategy", "random", "--trials", "3", "--search", "learning_rate=1e-3:1e-1:log"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "random search, 3 trials" in out and "best: trial" in out
    assert err.count("trial ") >= 3  # one progress line per trial


def test_tune_json_and_a_storage_that_a_second_call_continues(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    args = ["tune", *SMALL, "--trials", "2", "--search", "width=4:32", "--storage", storage, "--study", "mine", "--json", "-"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) >= {"study", "strategy", "pruner", "n_trials", "states", "best", "best_params", "trials"}
    assert payload["n_trials"] == 2 and payload["study"] == "mine"
    assert main(args) == 0  # the same study again: its two trials are taken, nothing more runs
    assert json.loads(capsys.readouterr().out)["n_trials"] == 2
    assert len(optuna.load_study(study_name="mine", storage=storage).trials) == 2


def test_tune_with_db_keeps_every_trial_as_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    workspace = "Zq3-classroom_42"  # the form the dashboard makes
    assert main(["tune", *SMALL, "--trials", "3", "--search", "dropout=0:0.5", "--db", db, "--workspace", workspace]) == 0
    runs = RunStore(db).list_runs(workspace, kinds=("trial",))
    assert len(runs) == 3 and all(r.history for r in runs)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--search", "colour=1:2"], "unknown or unsearchable knob 'colour'"),
        (["--search", "learning_rate=5:9"], "learning_rate must be between"),
        (["--trials", "0"], "--trials must be at least 1"),
        (["--storage", "sqlite:///x.db"], "--storage needs --study"),
        (["--study", "lonely"], "--study needs --storage"),
        (["--strategy", "genetic"], "invalid choice: 'genetic'"),
        (["--timeout", "-3"], "timeout must be above 0"),
        (["--storage", "nosuchdb://x", "--study", "s"], "cannot open the study storage"),
    ],
)
def test_bad_tune_settings_are_one_error_line(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["tune", *SMALL, "--trials", "2", *[a for a in extra if a]] if "--trials" not in extra else ["tune", *SMALL, *extra])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and message in err[-1], err
    assert not any("Traceback" in line for line in err)
