"""core.export.runs: a run as JSON and CSV, the model as parameters (.pt) plus hyperparameters and preprocessing (JSON)."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

from core.cli.commands import main
from core.data.builtin import load_builtin
from core.data.columns import analyze_columns
from core.data.csvfile import DataError, read_table
from core.data.dataset import build_dataset, features, transform
from core.experiments.run import run_experiment
from core.export.models import model_config, model_files, result_model_files
from core.export.predictor import Predictor, load_predictor
from core.export.runs import RUN_JSON_KEYS, ExportError, run_json, runs_csv, runs_csv_bytes
from core.hyperparameters import Hyperparameters
from core.recording import record_result
from core.store.runs import RunStore, StoredRun
from core.training.model import build_model
from core.training.trainer import predict
from core.workers.spec import submit_run

HP = Hyperparameters(hidden_layers=1, width=8, epochs=4, batch_size=32, seed=0)


def mixed_frame(rows: int = 240, towns: int = 30, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, a category with rare values and a formula-like one, a date, a boolean, a label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "city": rng.choice(["Paris", "=Lyon", "Nice"] + [f"town{i}" for i in range(towns)], rows),
            "when": pd.date_range("2020-01-01", periods=rows, freq="D").strftime("%d.%m.%Y"),
            "member": rng.choice(["true", "false"], rows),
            "label": rng.choice(["=a", "b", "-c"], rows),
        }
    )
    frame.loc[::17, "age"] = np.nan
    frame.loc[::13, "city"] = ""
    return frame


def csv_dataset(frame: pd.DataFrame, target: str = "label"):
    table = read_table(frame.to_csv(index=False).encode())
    infos = analyze_columns(table.frame)
    return table, infos, build_dataset(table, target, infos=infos, name="mixed.csv")


@pytest.mark.parametrize("name", ["moons", "iris", "diabetes"])
def test_exported_preprocessing_equals_scikit_learns_on_builtins(name) -> None:
    dataset = load_builtin(name, samples=200)
    predictor = Predictor(build_model(dataset.n_inputs, dataset.n_outputs, HP), model_config(dataset, HP))
    for frame in (dataset.raw_train, dataset.raw_val):
        assert np.array_equal(predictor.transform(frame)[0], transform(dataset, frame))


@pytest.mark.parametrize("towns", [0, 30])  # 0: no rare categories (unseen ones encode as zeros); 30: a shared column
def test_exported_preprocessing_equals_scikit_learns_on_a_messy_csv(towns) -> None:
    table, infos, dataset = csv_dataset(mixed_frame(towns=towns))
    config = json.loads(json.dumps(model_config(dataset, HP, target="label", infos=infos)))  # plain JSON, no pickle
    assert config["inputs"] == [
        {"name": "age", "kind": "number"},
        {"name": "city", "kind": "category"},
        {"name": "when", "kind": "date", "format": "%d.%m.%Y", "parts": ["year", "month", "day", "weekday"]},
        {"name": "member", "kind": "number"},
    ]
    predictor = Predictor(build_model(dataset.n_inputs, dataset.n_outputs, HP), config)
    new = pd.DataFrame(
        {"age": [np.nan, 1e3, 35.0], "city": ["Atlantis", None, "Paris"], "when": ["01.02.2021", "31.12.2019", "bad"]}
        | {"member": [True, False, None]}
    )
    for frame in (table.frame, new):
        expected = transform(dataset, features(frame.assign(label="b"), infos, "label")[0])
        assert np.array_equal(predictor.transform(frame)[0], expected)


def test_a_date_format_not_recorded_is_read_off_the_rows() -> None:
    table, _, dataset = csv_dataset(mixed_frame())
    config = model_config(dataset, HP, target="label")  # no infos
    assert config["inputs"][2] == {"name": "when", "kind": "date", "format": None, "parts": ["year", "month", "day", "weekday"]}
    predictor = Predictor(build_model(dataset.n_inputs, dataset.n_outputs, HP), config)
    expected = transform(dataset, features(table.frame, analyze_columns(table.frame), "label")[0])
    assert np.array_equal(predictor.transform(table.frame)[0], expected)


def test_model_file_holds_the_parameters_and_the_config_the_hyperparameters() -> None:
    dataset = load_builtin("gaussians", samples=200)
    hp = HP.replace(dropout=0.2, hidden_layers=2)  # dropout modules shift the layer indices: the config must rebuild them
    result = run_experiment(dataset, hp)
    pt, config = result_model_files(result, dataset)
    state = torch.load(io.BytesIO(pt), weights_only=True)
    assert set(state) == set(result.model.state_dict())  # weights and biases only, no hyperparameters
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert config["hyperparameters"] == hp.to_dict() and config["classes"] == dataset.classes
    assert (config["task"], config["n_inputs"], config["n_outputs"]) == ("classification", 2, 3)
    predictor = load_predictor(pt, json.dumps(config))
    assert np.array_equal(predictor.outputs(dataset.raw_val), predict(result.model, dataset.x_val, "classification"))
    table = predictor.predict(dataset.raw_val)
    assert list(table.columns) == ["prediction", "p(0)", "p(1)", "p(2)"]


def test_regression_predictions_in_target_units_when_the_scale_is_known() -> None:
    dataset = load_builtin("sine", samples=200)
    result = run_experiment(dataset, HP)
    standardized = predict(result.model, dataset.x_val, "regression")
    pt, config = result_model_files(result, dataset)
    assert dataset.target_mean is not None and dataset.target_std is not None  # the Dataset records the scale
    frame = load_predictor(pt, config).predict(dataset.raw_val)
    assert list(frame.columns) == ["prediction"]  # in the target's units, not standardized
    expected = standardized.astype(np.float64) * dataset.target_std + dataset.target_mean
    assert np.allclose(frame["prediction"], expected, atol=1e-5)
    pt, config = result_model_files(result, dataset, target_scale=(10.0, 2.0))
    frame = load_predictor(pt, config).predict(dataset.raw_val)
    assert list(frame.columns) == ["prediction"]
    assert np.allclose(frame["prediction"], standardized.astype(np.float64) * 2.0 + 10.0, atol=1e-6)


def test_stored_run_exports_its_model_and_its_json(tmp_path) -> None:
    table, infos, dataset = csv_dataset(mixed_frame())
    store = RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    spec = {"file": "mixed.csv", "target": "label", "task": "classification", "exclude": [], "seed": 0}
    run_id = submit_run(store, workspace="ws-export-01", kind="train", dataset=dataset, hp=HP, spec=spec).run_id
    store.claim(run_id, worker="test")
    result = run_experiment(dataset, HP)
    record_result(store, run_id, result, dataset, {})
    run = store.get(run_id)
    assert run is not None
    payload = run_json(run)
    assert tuple(payload) == RUN_JSON_KEYS and payload["history"] == result.to_dict()["history"]
    pt, config = model_files(run, dataset, store.model_state(run_id), infos=infos)
    assert config["target"] == "label" and config["run"]["id"] == run_id
    predictor = load_predictor(pt, config)
    expected = predict(result.model, transform(dataset, features(table.frame, infos, "label")[0]), "classification")
    assert np.array_equal(predictor.outputs(table.frame), expected)
    with pytest.raises(ExportError, match="no saved model"):
        model_files(run, dataset, None)


def test_run_json_has_the_keys_and_values_of_train_json(tmp_path, capsys) -> None:
    db, out = tmp_path / "runs.sqlite", tmp_path / "run.json"
    argv = ["train", "--dataset", "moons", "--samples", "200", "--epochs", "3", "--db", str(db), "--json", str(out)]
    assert main(argv) == 0
    workspace = next(line.split()[1] for line in capsys.readouterr().err.splitlines() if line.startswith("workspace: "))
    cli = json.loads(out.read_text())
    (run,) = RunStore(f"sqlite:///{db}").list_runs(workspace)
    exported = run_json(run)
    assert list(exported) == list(cli)
    for key in cli:
        if key == "dataset":  # the store adds how the data was made
            assert cli["dataset"].items() <= exported["dataset"].items() and "spec" in exported["dataset"]
        else:
            assert exported[key] == cli[key], key


def stored(name: str, **changes) -> StoredRun:
    values = dict(
        id="r" * 32,
        workspace="ws-export-01",
        kind="train",
        created=time.time(),
        started=100.0,
        finished=102.5,
        updated=102.5,
        owner="host:1",
        worker="host:2",
        status="early_stopped",
        error=None,
        stop_requested=False,
        dataset={"name": name, "task": "classification"},
        fingerprint=None,
        hyperparameters=HP.to_dict(),
        history=[
            {"epoch": 1, "train_loss": 0.7, "val_loss": 0.6, "train_metric": 0.5, "val_metric": 0.55, "seconds": 0.1},
            {"epoch": 2, "train_loss": 0.5, "val_loss": 0.65, "train_metric": 0.7, "val_metric": 0.6, "seconds": 0.1},
        ],
        best_epoch=1,
        kept_epoch=1,
        test={"loss": 0.61, "metric": 0.58},
        baselines=None,
        diagnosis={"verdict": "overfitting"},
        extra=None,
    )
    values.update(changes)
    return StoredRun(**values)


def test_runs_csv_has_a_row_per_run_and_a_column_per_score_and_hyperparameter() -> None:
    runs = [stored("moons"), stored("iris", id="s" * 32, status="failed", history=[], kept_epoch=None, test=None, diagnosis=None)]
    frame = pd.read_csv(io.StringIO(runs_csv(runs)))
    assert list(frame["run"]) == ["r" * 32, "s" * 32]
    assert set(HP.to_dict()) <= set(frame.columns)
    first = frame.iloc[0]
    assert (first["verdict"], first["kept_epoch"], first["kept_val_loss"], first["kept_val_metric"]) == (
        "overfitting",
        1,
        0.6,
        0.55,
    )
    assert (first["test_loss"], first["test_metric"], first["epochs_run"], first["seconds"]) == (0.61, 0.58, 2, 2.5)
    assert first["learning_rate"] == HP.learning_rate and first["optimizer"] == "adam"
    assert frame.iloc[1].isna()[["kept_epoch", "test_loss", "verdict"]].all() and frame.iloc[1]["epochs_run"] == 0
    assert runs_csv_bytes(runs).startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_runs_csv_cells_are_formula_safe(name) -> None:
    frame = pd.read_csv(io.StringIO(runs_csv([stored(name, diagnosis={"verdict": name})])))
    assert frame.loc[0, "dataset"] == "'" + name and frame.loc[0, "verdict"] == "'" + name
    assert frame.loc[0, "test_loss"] == 0.61  # numbers stay numbers


def test_bad_model_files_are_one_sentence_errors() -> None:
    dataset = load_builtin("moons", samples=200)
    result = run_experiment(dataset, HP)
    pt, config = result_model_files(result, dataset)
    with pytest.raises(ExportError, match="not a PyTorch state_dict"):
        load_predictor(b"not a model", config)
    with pytest.raises(ExportError, match="not a FitLab model config"):
        load_predictor(pt, {"hello": 1})
    with pytest.raises(ExportError, match="not JSON"):
        load_predictor(pt, b"{broken")
    with pytest.raises(ExportError, match="does not fit its config"):
        load_predictor(pt, config | {"hyperparameters": HP.replace(width=16).to_dict()})
    with pytest.raises(DataError, match="lacks column"):
        load_predictor(pt, config).predict(pd.DataFrame({"x1": [1.0]}))
