"""core.cli.commands: `python -m core train|diagnose`, the contract other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.commands import main
from core.diagnosis import VERDICTS
from core.hyperparameters import SCENARIOS, Hyperparameters

REQUIRED_KEYS = {"hyperparameters", "dataset", "history", "best_epoch", "stopped_early", "test", "diagnosis"}
OPTIONAL_KEYS = {"status", "baselines", "log_format", "log_metric", "log_notes"}  # log_*: diagnose only
OPTIONAL_KEYS |= {"kept_epoch", "kept_val_loss"}  # train and fix: the Trainer's record of the weights kept
HISTORY_KEYS = {"epoch", "train_loss", "val_loss", "train_metric", "val_metric", "seconds"}
RECOMMENDATION_KEYS = {"knob", "action", "value", "reason"}


def _no_nan(token: str):
    raise AssertionError(f"JSON contains the non-standard literal {token}")


def _strict_json(text: str):
    """Parse JSON and fail on NaN / Infinity literals, which standard JSON does not allow."""
    return json.loads(text, parse_constant=_no_nan)


def _check_payload(payload: dict) -> None:
    assert REQUIRED_KEYS <= set(payload) <= REQUIRED_KEYS | OPTIONAL_KEYS
    assert payload["history"], "no epochs"
    if "kept_epoch" in payload:  # the Trainer's record: the best epoch when early stopping restored it, else the last
        hp = payload["hyperparameters"]
        restored = hp["early_stopping"] or payload.get("status") == "diverged"
        expected = payload["best_epoch"] if restored else len(payload["history"])
        assert payload["kept_epoch"] == expected
        assert payload["kept_val_loss"] == payload["history"][expected - 1]["val_loss"]
    for record in payload["history"]:
        assert set(record) == HISTORY_KEYS
    diagnosis = payload["diagnosis"]
    assert diagnosis["verdict"] in VERDICTS
    for rec in diagnosis["recommendations"]:
        assert set(rec) == RECOMMENDATION_KEYS


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- train


def test_train_writes_the_json_contract(tmp_path, capsys):
    target = tmp_path / "run.json"
    code, out, err = _run(capsys, "train", "--dataset", "moons", "--samples", "200", "--epochs", "3", "--json", str(target))
    assert code == 0, err
    payload = _strict_json(target.read_text(encoding="utf-8"))
    _check_payload(payload)
    assert [r["epoch"] for r in payload["history"]] == [1, 2, 3]
    assert payload["hyperparameters"] == Hyperparameters(epochs=3).to_dict()
    assert payload["dataset"]["name"] == "moons"
    assert sum(payload["dataset"]["rows"].values()) == 200
    assert 1 <= payload["best_epoch"] <= 3
    assert payload["stopped_early"] is False
    assert set(payload["test"]) == {"loss", "metric"} and 0.0 <= payload["test"]["metric"] <= 1.0
    # without --json - the run is also narrated on stdout
    assert out.count("epoch ") >= 3 and "verdict:" in out


def test_json_to_stdout_prints_only_json(capsys):
    code, out, err = _run(
        capsys, "train", "--dataset", "moons", "--samples", "200", "--epochs", "2", "--width", "8", "--json", "-"
    )
    assert code == 0, err
    payload = _strict_json(out)  # the whole of stdout is one JSON document
    _check_payload(payload)
    assert len(payload["history"]) == 2


def test_flags_override_the_scenario(capsys):
    code, out, err = _run(
        capsys, "train", "--scenario", "overfitting", "--epochs", "3", "--width", "8", "--samples", "120", "--json", "-"
    )
    assert code == 0, err
    payload = _strict_json(out)
    hp = payload["hyperparameters"]
    preset = SCENARIOS["overfitting"]
    assert hp["epochs"] == 3 and hp["width"] == 8  # the flags
    assert hp["hidden_layers"] == preset["hyperparameters"]["hidden_layers"]  # the rest of the preset
    assert hp["early_stopping"] is preset["hyperparameters"]["early_stopping"]
    assert payload["dataset"]["name"] == preset["dataset"]["name"]
    assert sum(payload["dataset"]["rows"].values()) == 120  # --samples beats the preset's 100
    assert len(payload["history"]) == 3


def test_boolean_and_choice_flags(capsys):
    code, out, err = _run(
        capsys,
        "train",
        "--dataset",
        "sine",
        "--samples",
        "100",
        "--epochs",
        "2",
        "--width",
        "8",
        "--no-early-stopping",
        "--optimizer",
        "sgd",
        "--activation",
        "tanh",
        "--json",
        "-",
    )
    assert code == 0, err
    payload = _strict_json(out)
    hp = payload["hyperparameters"]
    assert (hp["early_stopping"], hp["optimizer"], hp["activation"]) == (False, "sgd", "tanh")
    assert payload["dataset"]["task"] == "regression"


def test_train_on_a_csv_file(tmp_path, capsys):
    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 11},{'yes' if i % 2 else 'no'}" for i in range(40)]
    path = _write(tmp_path, "data.csv", "\n".join(rows) + "\n")
    code, out, err = _run(capsys, "train", "--csv", path, "--target", "label", "--epochs", "2", "--width", "8", "--json", "-")
    assert code == 0, err
    payload = _strict_json(out)
    assert payload["dataset"]["classes"] == ["no", "yes"]
    assert payload["dataset"]["features"] == ["a", "b"]


# ---------------------------------------------------------------- bad input


def _bad_inputs(tmp_path) -> dict[str, list[str]]:
    no_loss = _write(tmp_path, "no_loss.csv", "epoch,accuracy\n0,0.5\n1,0.6\n")  # a log without a validation loss is read
    data = _write(tmp_path, "data.csv", "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    missing = str(tmp_path / "missing.csv")
    return {
        "unknown-dataset": ["train", "--dataset", "nonsense"],
        "learning-rate-5": ["train", "--dataset", "moons", "--learning-rate", "5"],
        "learning-rate-text": ["train", "--dataset", "moons", "--learning-rate", "fast"],
        "width-0": ["train", "--dataset", "moons", "--width", "0"],
        "csv-missing-file": ["train", "--csv", missing, "--target", "y"],
        "csv-without-target": ["train", "--csv", data],
        "csv-unknown-target": ["train", "--csv", data, "--target", "z"],
        "target-without-csv": ["train", "--dataset", "moons", "--target", "y"],
        "csv-and-dataset": ["train", "--dataset", "moons", "--csv", data, "--target", "y"],
        "unknown-flag": ["train", "--dataset", "moons", "--bogus"],
        "unknown-scenario": ["train", "--scenario", "nonsense"],
        "no-data": ["train", "--epochs", "3"],
        "too-few-samples": ["train", "--dataset", "moons", "--samples", "5"],
        "no-command": [],
        "unknown-command": ["fit"],
        "diagnose-without-history": ["diagnose"],
        "diagnose-missing-file": ["diagnose", "--history", missing],
        "diagnose-no-loss": ["diagnose", "--history", no_loss],
    }


BAD_INPUT_NAMES = [
    "unknown-dataset",
    "learning-rate-5",
    "learning-rate-text",
    "width-0",
    "csv-missing-file",
    "csv-without-target",
    "csv-unknown-target",
    "target-without-csv",
    "csv-and-dataset",
    "unknown-flag",
    "unknown-scenario",
    "no-data",
    "too-few-samples",
    "no-command",
    "unknown-command",
    "diagnose-without-history",
    "diagnose-missing-file",
    "diagnose-no-loss",
]


def _assert_one_line_error(code: int, out: str, err: str) -> None:
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert err.endswith("\n")


@pytest.mark.parametrize("name", BAD_INPUT_NAMES)
def test_bad_input_is_one_error_line_and_exit_code_2(name, tmp_path, capsys):
    argv = _bad_inputs(tmp_path)[name]
    code, out, err = _run(capsys, *argv)
    _assert_one_line_error(code, out, err)
    assert out == ""  # nothing ran


def test_error_messages_say_what_is_wrong(tmp_path, capsys):
    cases = _bad_inputs(tmp_path)
    for name, needle in [
        ("unknown-dataset", "nonsense"),
        ("learning-rate-5", "learning_rate"),
        ("csv-missing-file", "missing.csv"),
        ("csv-without-target", "--target"),
        ("unknown-flag", "--bogus"),
        ("diagnose-no-loss", "training loss column"),
    ]:
        code, _, err = _run(capsys, *cases[name])
        assert code == 2 and needle in err, (name, err)


def test_unwritable_json_path_is_a_bad_input(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "out.json"
    code, out, err = _run(
        capsys, "train", "--dataset", "moons", "--samples", "100", "--epochs", "1", "--width", "4", "--json", str(target)
    )
    assert code == 2
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("train", ""),  # empty CSV: csv.Error from the delimiter sniffer
        ("train", "x,y\n" + "".join(f"{i},c{i // 4}\n" for i in range(20))),  # 5 classes, 4 test rows
        ("train", "x,y\n" + "".join(f"{i},\n" for i in range(20))),  # target column all empty
        ("diagnose", "epoch,loss,val_loss\n0,1.0,1.1\n,0.8,0.9\n"),  # blank epoch cell
    ],
    ids=["empty-csv", "classes-outnumber-test-rows", "empty-target", "blank-epoch-cell"],
)
def test_more_bad_files_are_one_error_line(kind, content, tmp_path, capsys):
    path = _write(tmp_path, "input.csv", content)
    argv = ["train", "--csv", path, "--target", "y", "--epochs", "1"] if kind == "train" else ["diagnose", "--history", path]
    code, out, err = _run(capsys, *argv)
    _assert_one_line_error(code, out, err)


# ---------------------------------------------------------------- diagnose


def _overfitting_log(tmp_path) -> str:
    # Keras-style log: epoch counted from 0; validation best at the 4th row (epoch 4), then worse
    val = [0.9, 0.7, 0.55, 0.5, 0.56, 0.63, 0.72, 0.8, 0.9, 1.0]
    train = [0.9 * 0.8**i for i in range(10)]
    lines = ["epoch,accuracy,loss,val_accuracy,val_loss"]
    lines += [f"{i},{0.6 + 0.04 * i:.2f},{train[i]:.5f},0.75,{val[i]}" for i in range(10)]
    return _write(tmp_path, "keras_log.csv", "\n".join(lines) + "\n")


def test_diagnose_a_log_as_json(tmp_path, capsys):
    code, out, err = _run(capsys, "diagnose", "--history", _overfitting_log(tmp_path), "--json", "-")
    assert code == 0, err
    payload = _strict_json(out)
    _check_payload(payload)
    assert len(payload["history"]) == 10
    assert payload["history"][0]["epoch"] == 1
    assert payload["best_epoch"] == 4
    assert payload["diagnosis"]["verdict"] == "overfitting"


def test_diagnose_prints_a_readable_verdict(tmp_path, capsys):
    code, out, err = _run(capsys, "diagnose", "--history", _overfitting_log(tmp_path))
    assert code == 0, err
    assert "verdict: overfitting" in out


def test_diagnose_writes_json_to_a_file(tmp_path, capsys):
    target = tmp_path / "diag.json"
    code, _, err = _run(capsys, "diagnose", "--history", _overfitting_log(tmp_path), "--json", str(target))
    assert code == 0, err
    assert _strict_json(target.read_text(encoding="utf-8"))["diagnosis"]["verdict"] == "overfitting"


def test_nan_is_written_as_null(tmp_path, capsys):
    log = _write(tmp_path, "nan_log.csv", "epoch,train_loss,val_loss\n1,1.0,1.1\n2,0.8,0.9\n3,nan,0.85\n")
    code, out, err = _run(capsys, "diagnose", "--history", log, "--json", "-")
    assert code == 0, err
    payload = _strict_json(out)  # fails on a NaN literal
    assert payload["history"][2]["train_loss"] is None
    assert payload["history"][0]["seconds"] is None  # not in the log: NaN -> null as well
    assert payload["history"][0]["train_loss"] == 1.0
    assert payload["diagnosis"]["verdict"] == "diverged"


# ---------------------------------------------------------------- as a separate process


def test_python_dash_m_core(repo_root, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "core", "train", "--dataset", "moons", "--samples", "200", "--epochs", "3", "--json", "-"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    payload = _strict_json(result.stdout)
    _check_payload(payload)
    assert len(payload["history"]) == 3


def test_python_dash_m_core_bad_input_exit_code(repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "core", "train", "--dataset", "moons", "--learning-rate", "5"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_one_line_error(result.returncode, result.stdout, result.stderr)


# ---------------------------------------------------------------- scenario presets


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_earns_its_verdict(name, tmp_path, capsys):
    target = tmp_path / f"{name}.json"
    code, _, err = _run(capsys, "train", "--scenario", name, "--json", str(target))
    assert code == 0, err
    payload = _strict_json(target.read_text(encoding="utf-8"))
    assert payload["diagnosis"]["verdict"] == SCENARIOS[name]["expected"], payload["diagnosis"]["evidence"]


# ---------------------------------------------------------------- diagnose: logs from other tools

LOGS = Path(__file__).resolve().parents[1] / "ui" / "assets" / "example_logs"  # the Diagnose page's examples


@pytest.mark.parametrize(
    ("sample", "log_format", "metric", "epochs", "verdict"),
    [
        ("keras_overfitting.csv", "keras", "accuracy", 30, "overfitting"),
        ("keras_regression_mae.csv", "keras", "mae", 40, "good_fit"),
        ("lightning_metrics.csv", "lightning", "acc", 15, "lr_too_high"),
        ("plain_not_converged.csv", "plain", None, 20, "not_converged"),
    ],
)
def test_diagnose_reports_the_log_format(sample, log_format, metric, epochs, verdict, capsys):
    code, out, err = _run(capsys, "diagnose", "--history", str(LOGS / sample), "--json", "-")
    assert code == 0, err
    payload = _strict_json(out)
    _check_payload(payload)
    assert payload["log_format"] == log_format
    assert payload["log_metric"] == metric
    assert len(payload["history"]) == epochs and payload["history"][0]["epoch"] == 1
    assert payload["diagnosis"]["verdict"] == verdict
    assert err.splitlines() == [f"note: {note}" for note in payload["log_notes"]]


def test_diagnose_prints_how_a_lightning_log_was_read(capsys):
    code, out, err = _run(capsys, "diagnose", "--history", str(LOGS / "lightning_metrics.csv"))
    assert code == 0, err
    assert out.splitlines()[0] == (
        "log: PyTorch Lightning CSVLogger (metrics.csv), 15 epoch(s): training loss from `train_loss_epoch`, "
        "validation loss from `val_loss`, validation acc from `val_acc`."
    )
    assert "verdict: lr_too_high" in out
    assert "  * learning_rate: decrease  (" in out  # no "-> None": a log has no value to move from
    assert "note: 66 rows (step, validation and epoch-end rows interleaved) aggregated into 15 epochs." in err


def test_diagnose_a_malformed_lightning_log_names_the_row(tmp_path, capsys):
    log = _write(tmp_path, "metrics.csv", "epoch,step,train_loss_step,val_loss\n0,9,0.9,\n0,9,,0.95\n0,19,0.8,0.9,7\n")
    code, out, err = _run(capsys, "diagnose", "--history", log)
    _assert_one_line_error(code, out, err)
    assert err == "error: row 4 has 5 cell(s) but the header names 4 columns (epoch, step, train_loss_step, val_loss)\n"


# ---------------------------------------------------------------- lr-find and learning-curve


def test_lr_find_json_to_stdout(capsys):
    from core.hyperparameters import LEARNING_RATE_STEPS

    code, out, err = _run(capsys, "lr-find", "--dataset", "moons", "--samples", "200", "--width", "16", "--json", "-")
    assert code == 0, err
    payload = _strict_json(out)  # the whole of stdout is one JSON document
    assert set(payload) == {"hyperparameters", "dataset", "lr_finder"}
    finder = payload["lr_finder"]
    assert len(finder["learning_rates"]) == len(finder["losses"]) == len(finder["smoothed"]) <= 100
    assert finder["rule"] == "valley"
    assert finder["snapped_suggestion"] in LEARNING_RATE_STEPS
    assert finder["learning_rates"][finder["suggestion_index"]] == finder["suggestion"]
    assert payload["hyperparameters"]["width"] == 16 and payload["dataset"]["name"] == "moons"


def test_lr_find_prints_the_suggestion(tmp_path, capsys):
    target = tmp_path / "lr.json"
    argv = ["lr-find", "--dataset", "circles", "--samples", "200", "--optimizer", "sgd", "--steps", "40", "--json", str(target)]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    payload = _strict_json(target.read_text(encoding="utf-8"))
    assert len(payload["lr_finder"]["losses"]) <= 40
    assert f"suggested learning rate: {payload['lr_finder']['snapped_suggestion']:g}" in out
    assert out.count("<- suggestion") == 1


def test_learning_curve_json_and_sentence(tmp_path, capsys):
    target = tmp_path / "curve.json"
    code, out, err = _run(
        capsys,
        "learning-curve",
        "--dataset",
        "moons",
        "--samples",
        "200",
        "--width",
        "16",
        "--epochs",
        "4",
        "--fractions",
        "0.5,1",
        "--json",
        str(target),
    )
    assert code == 0, err
    payload = _strict_json(target.read_text(encoding="utf-8"))
    curve = payload["learning_curve"]
    assert [p["fraction"] for p in curve["points"]] == [0.5, 1.0]
    assert [p["rows"] for p in curve["points"]] == [60, 120]
    assert curve["equal_steps"] is True and curve["points"][0]["max_epochs"] == 8
    assert curve["interpretation"] in out
    assert out.count(" %  rows ") == 2  # one progress line per share


def test_learning_curve_without_equal_steps(capsys):
    code, out, err = _run(
        capsys,
        "learning-curve",
        "--dataset",
        "moons",
        "--samples",
        "200",
        "--width",
        "8",
        "--epochs",
        "3",
        "--fractions",
        "0.25,1",
        "--no-equal-steps",
        "--json",
        "-",
    )
    assert code == 0, err
    points = _strict_json(out)["learning_curve"]["points"]
    assert [p["max_epochs"] for p in points] == [3, 3]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lr-find", "--dataset", "moons", "--start", "1", "--end", "0.1"], "0 < start < end"),
        (["lr-find", "--dataset", "moons", "--steps", "1"], "at least 2 steps"),
        (["lr-find", "--dataset", "moons", "--learning-rate", "5"], "learning_rate"),
        (["lr-find", "--epochs", "3"], "--dataset"),
        (["learning-curve", "--dataset", "moons", "--fractions", "0,1"], "(0, 1]"),
        (["learning-curve", "--dataset", "moons", "--fractions", "1,0.5"], "increasing"),
        (["learning-curve", "--dataset", "moons", "--fractions", "half"], "comma"),
        (["learning-curve", "--dataset", "nonsense"], "nonsense"),
    ],
)
def test_lr_find_and_learning_curve_bad_input(argv, message, capsys):
    code, out, err = _run(capsys, *argv)
    _assert_one_line_error(code, out, err)
    assert message in err
