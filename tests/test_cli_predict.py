"""`python -m core predict` and `train --save-model`: a model trained here predicts the same in a fresh process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from core.cli.commands import main
from core.data.builtin import load_builtin
from core.data.columns import analyze_columns
from core.data.csvfile import read_table
from core.data.dataset import build_dataset, features, transform
from core.experiments.run import run_experiment
from core.export.models import config_json, result_model_files
from core.hyperparameters import Hyperparameters
from core.training.trainer import predict
from tests.test_export import mixed_frame

HP = Hyperparameters(hidden_layers=2, width=8, epochs=4, batch_size=32, dropout=0.2, seed=0)


def _predict_in_fresh_process(repo_root: Path, tmp_path: Path, pt: bytes, config: dict, rows: pd.DataFrame) -> pd.DataFrame:
    """Write the two files and the rows, run `python -m core predict` in a new interpreter, read its CSV back."""
    (tmp_path / "run.pt").write_bytes(pt)
    (tmp_path / "run.json").write_text(config_json(config), encoding="utf-8")
    rows.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "preds.csv"
    argv = ["predict", "--model", str(tmp_path / "run.pt"), "--config", str(tmp_path / "run.json")]
    argv += ["--csv", str(tmp_path / "new.csv"), "--out", str(out)]
    done = subprocess.run([sys.executable, "-m", "core", *argv], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return pd.read_csv(out, encoding="utf-8-sig", dtype={"prediction": str}, keep_default_na=False)


def _check_same(predicted: pd.DataFrame, probabilities: np.ndarray, classes: list[str]) -> None:
    assert list(predicted.columns) == ["prediction"] + [f"p({c})" for c in classes]
    assert np.allclose(predicted.iloc[:, 1:].to_numpy(dtype=float), probabilities, atol=1e-6, rtol=0)
    labels = [("'" + c if c[:1] in "=+-@" else c) for c in np.asarray(classes)[probabilities.argmax(axis=1)]]  # defused
    assert list(predicted["prediction"]) == labels


def test_builtin_model_predicts_the_same_after_export(repo_root, tmp_path) -> None:
    dataset = load_builtin("iris")
    result = run_experiment(dataset, HP)
    pt, config = result_model_files(result, dataset)
    assert set(torch.load(io.BytesIO(pt), weights_only=True)) == set(result.model.state_dict())
    rows = pd.concat([dataset.raw_train, dataset.raw_val], ignore_index=True)
    expected = predict(result.model, transform(dataset, rows), "classification")
    _check_same(_predict_in_fresh_process(repo_root, tmp_path, pt, config, rows), expected, dataset.classes)


def test_csv_model_with_categories_and_dates_predicts_the_same_after_export(repo_root, tmp_path) -> None:
    frame = mixed_frame()
    table = read_table(frame.to_csv(index=False).encode())
    infos = analyze_columns(table.frame)
    dataset = build_dataset(table, "label", infos=infos)
    result = run_experiment(dataset, HP)
    pt, config = result_model_files(result, dataset, target="label", infos=infos)
    unseen = pd.DataFrame({"age": [None], "city": ["Atlantis"], "when": ["29.02.2024"], "member": ["true"], "label": ["b"]})
    rows = pd.concat([frame, unseen], ignore_index=True)  # the target column is there and ignored
    expected_rows = read_table(rows.to_csv(index=False).encode()).frame
    expected = predict(result.model, transform(dataset, features(expected_rows, infos, "label")[0]), "classification")
    assert dataset.classes == ["-c", "=a", "b"]  # labels that look like formulas: the predictions CSV defuses them
    _check_same(_predict_in_fresh_process(repo_root, tmp_path, pt, config, rows), expected, dataset.classes)


def test_train_save_model_then_predict_from_the_cli_alone(repo_root, tmp_path) -> None:
    frame = mixed_frame(rows=120)
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.drop(columns="label").head(7).to_csv(tmp_path / "new.csv", index=False)
    cli = [sys.executable, "-m", "core"]
    train = ["train", "--csv", str(tmp_path / "train.csv"), "--target", "label", "--epochs", "3", "--width", "8"]
    train += ["--save-model", str(tmp_path / "run.pt"), "--json", str(tmp_path / "result.json")]
    done = subprocess.run(cli + train, cwd=repo_root, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    config = json.loads((tmp_path / "run.json").read_text())
    assert config["hyperparameters"] == json.loads((tmp_path / "result.json").read_text())["hyperparameters"]
    assert config["target"] == "label" and config["inputs"][2]["format"] == "%d.%m.%Y"
    predict_argv = ["predict", "--model", str(tmp_path / "run.pt"), "--config", str(tmp_path / "run.json")]
    done = subprocess.run(
        cli + predict_argv + ["--csv", str(tmp_path / "new.csv")], cwd=repo_root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    predicted = pd.read_csv(io.StringIO(done.stdout), dtype={"prediction": str})
    assert len(predicted) == 7 and list(predicted.columns) == ["prediction", "p(-c)", "p(=a)", "p(b)"]
    assert np.allclose(predicted.iloc[:, 1:].sum(axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    dataset = load_builtin("moons", samples=200)
    pt, config = result_model_files(run_experiment(dataset, HP), dataset)
    (folder / "run.pt").write_bytes(pt)
    (folder / "run.json").write_text(config_json(config), encoding="utf-8")
    pd.DataFrame({"x1": [0.1, 1.5], "x2": [0.2, -0.3]}).to_csv(folder / "ok.csv", index=False)
    return folder


def _error(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_predict_bad_inputs_are_one_error_line(saved, tmp_path, capsys) -> None:
    model, config, ok = str(saved / "run.pt"), str(saved / "run.json"), str(saved / "ok.csv")
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert "lacks column(s) the model needs: 'x1', 'x2'" in _error(
        capsys, "predict", "--model", model, "--config", config, "--csv", str(tmp_path / "cols.csv")
    )
    _error(capsys, "predict", "--model", model, "--config", config, "--csv", str(tmp_path / "binary.csv"))
    _error(capsys, "predict", "--model", model, "--config", config, "--csv", str(tmp_path / "empty.csv"))
    _error(capsys, "predict", "--model", model, "--config", config, "--csv", str(tmp_path / "missing.csv"))
    assert "not a PyTorch state_dict" in _error(capsys, "predict", "--model", config, "--config", config, "--csv", ok)
    assert "not JSON" in _error(capsys, "predict", "--model", model, "--config", model, "--csv", ok)
    assert "cannot read the model file" in _error(capsys, "predict", "--model", "nope.pt", "--config", config, "--csv", ok)
    assert main(["predict", "--model", model, "--config", config, "--csv", ok]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == "prediction,p(0),p(1)" and len(out.splitlines()) == 3


def test_predict_bad_csv_in_a_fresh_process_exits_non_zero_without_traceback(saved, repo_root, tmp_path) -> None:
    (tmp_path / "broken.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 64)  # a zip renamed .csv
    argv = [
        "predict",
        "--model",
        str(saved / "run.pt"),
        "--config",
        str(saved / "run.json"),
        "--csv",
        str(tmp_path / "broken.csv"),
    ]
    done = subprocess.run([sys.executable, "-m", "core", *argv], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_save_model_path_clashing_with_json_is_refused_before_training(tmp_path, capsys) -> None:
    argv = ["train", "--dataset", "moons", "--samples", "200", "--epochs", "2", "--save-model", str(tmp_path / "run.pt")]
    err = _error(capsys, *argv, "--json", str(tmp_path / "run.json"))
    assert "would overwrite the model config" in err and not (tmp_path / "run.pt").exists()
    assert "--save-model takes the .pt path" in _error(capsys, "train", "--dataset", "moons", "--save-model", "run.json")
