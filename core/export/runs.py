"""Taking runs out of FitLab: a run as JSON, runs as a CSV table, and the trained model as two files.

The model follows the user's document (parameters-and-hyperparameters.md): the **parameters** (weights
and biases, learned) go in the model file, a PyTorch `state_dict` (`.pt`, readable with
`torch.load(path, weights_only=True)`); the **hyperparameters** (chosen) are not in that file. They go,
with everything needed to turn a new table into the network's inputs (the fitted preprocessing, as
plain numbers and strings, no pickle) and its outputs back into labels, in a separate JSON config.
`load_model(pt, config)` rebuilds the network from the config and loads the parameters into it.

Everything here is pure (bytes, str and dicts in and out): the dashboard offers these as downloads,
the CLI writes them to files (`python -m core train --save-model`, `python -m core predict`).
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.data.csvfile import DataError, to_safe_csv
from core.data.dataset import ColumnInfo, Dataset, _date_format, _parse_dates, without_too_large
from core.experiments.run import RunResult, clean_json
from core.hyperparameters import HyperparameterError, Hyperparameters
from core.store.runs import StoredRun
from core.training.model import build_model
from core.training.trainer import predict

FORMAT = "fitlab-model"
VERSION = 1
RUN_JSON_KEYS = (  # the keys of `python -m core train --json`, in its order (RunResult.to_dict)
    "hyperparameters",
    "dataset",
    "history",
    "best_epoch",
    "kept_epoch",
    "kept_val_loss",
    "stopped_early",
    "status",
    "test",
    "baselines",
    "diagnosis",
)
SCORE_COLUMNS = [
    "run",
    "created",
    "kind",
    "dataset",
    "task",
    "status",
    "verdict",
    "kept_epoch",
    "kept_val_loss",
    "kept_val_metric",
    "test_loss",
    "test_metric",
    "epochs_run",
    "seconds",
]
DATE_PARTS = ("year", "month", "day", "weekday", "hour")
DATE_PART = re.compile(r"^(.*) \((year|month|day|weekday|hour)\)$")


class ExportError(DataError):
    """A run or model that cannot be exported or loaded, with one sentence why."""


# ---------------------------------------------------------------- a run as JSON, runs as CSV


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _kept_record(run: StoredRun) -> dict[str, Any]:
    kept = run.kept_epoch or 0
    return run.history[kept - 1] if 0 < kept <= len(run.history) else {}


def run_json(run: StoredRun) -> dict[str, Any]:
    """A stored run in the shape of `python -m core train --json` (the same keys, in the same order).

    `dataset` is the summary the CLI prints plus `spec`, how the data was made (the store records it).
    """
    kept_val_loss = _number(_kept_record(run).get("val_loss"))
    payload = {
        "hyperparameters": dict(run.hyperparameters),
        "dataset": dict(run.dataset),
        "history": [dict(r) for r in run.history],
        "best_epoch": run.best_epoch,
        "kept_epoch": run.kept_epoch,
        "kept_val_loss": kept_val_loss,
        "stopped_early": run.status == "early_stopped",
        "status": run.status,
        "test": run.test,
        "baselines": run.baselines,
        "diagnosis": run.diagnosis,
    }
    return clean_json(payload)


def _seconds(run: StoredRun) -> float | None:
    if run.started is not None and run.finished is not None:
        return round(run.finished - run.started, 3)
    total = sum(_number(r.get("seconds")) or 0.0 for r in run.history)
    return round(total, 3) if run.history else None


def runs_table(runs: Iterable[StoredRun]) -> pd.DataFrame:
    """One row per run: what it was, its scores, then one column per hyperparameter."""
    runs = list(runs)
    knobs: list[str] = []
    for run in runs:
        knobs.extend(k for k in run.hyperparameters if k not in knobs)
    rows = []
    for run in runs:
        kept = _kept_record(run)
        test = run.test or {}
        row: dict[str, Any] = {
            "run": run.id,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(run.created)) + " UTC",
            "kind": run.kind,
            "dataset": str(run.dataset.get("name", "")),
            "task": str(run.dataset.get("task", "")),
            "status": run.status,
            "verdict": str((run.diagnosis or {}).get("verdict", "")),
            "kept_epoch": run.kept_epoch or None,
            "kept_val_loss": _number(kept.get("val_loss")),
            "kept_val_metric": _number(kept.get("val_metric")),
            "test_loss": _number(test.get("loss")),
            "test_metric": _number(test.get("metric")),
            "epochs_run": len(run.history),
            "seconds": _seconds(run),
        }
        for knob in knobs:
            row[knob] = run.hyperparameters.get(knob)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS + [k for k in knobs if k not in SCORE_COLUMNS])
    return frame.astype({"kept_epoch": "Int64"}) if len(frame) else frame


def runs_csv_bytes(runs: Iterable[StoredRun]) -> bytes:
    """`runs_table` as CSV bytes, UTF-8 with BOM (Excel reads the accents), every text cell defused."""
    return to_safe_csv(runs_table(runs))


def runs_csv(runs: Iterable[StoredRun]) -> str:
    """`runs_table` as CSV text with formula-safe cells: "=1+2" is written as "'=1+2" (core.data.csvfile.safe_cell)."""
    return runs_csv_bytes(runs).decode("utf-8-sig")


# ---------------------------------------------------------------- the model: parameters and config


def _plain(value: Any) -> Any:
    """A NumPy scalar as a JSON number or string."""
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value
    raise ExportError(f"cannot write the value {value!r} ({type(value).__name__}) of the preprocessing as JSON")


def _fitted_steps(pipeline: Any) -> dict[str, Any]:
    return dict(pipeline.named_steps) if hasattr(pipeline, "named_steps") else {}


def preprocessing(dataset: Dataset) -> dict[str, Any]:
    """The fitted ColumnTransformer of `core.data.dataset.prepare` as plain numbers and strings.

    numeric: median imputation then standard scaling, per column; categorical: most-frequent imputation
    then one-hot (frequent categories in order, then one shared column for the infrequent and unknown ones).
    """
    pre = dataset.preprocessor
    if pre is None or not hasattr(pre, "transformers_"):
        raise ExportError("the dataset has no fitted preprocessing to export")
    numeric: list[dict[str, Any]] = []
    categorical: list[dict[str, Any]] = []
    for name, pipeline, columns in pre.transformers_:
        columns = [str(c) for c in columns]
        if name == "remainder" or not columns:
            continue
        steps = _fitted_steps(pipeline)
        if name == "numeric":
            imputer, scaler = steps["simpleimputer"], steps["standardscaler"]
            kept = [c for c, m in zip(columns, imputer.statistics_, strict=True) if not np.isnan(m)]
            medians = [m for m in imputer.statistics_ if not np.isnan(m)]
            for column, median, mean, scale in zip(kept, medians, scaler.mean_, scaler.scale_, strict=True):
                numeric.append({"name": column, "median": _plain(median), "mean": _plain(mean), "scale": _plain(scale)})
        elif name == "categorical":
            imputer, encoder = steps["simpleimputer"], steps["onehotencoder"]
            kept = [
                (c, m) for c, m in zip(columns, imputer.statistics_, strict=True) if not (isinstance(m, float) and np.isnan(m))
            ]
            infrequent = getattr(encoder, "infrequent_categories_", None) or [None] * len(kept)
            for (column, mode), categories, rare in zip(kept, encoder.categories_, infrequent, strict=True):
                rare_list = [] if rare is None else [_plain(v) for v in rare]
                categorical.append(
                    {
                        "name": column,
                        "most_frequent": _plain(mode),
                        "categories": [_plain(v) for v in categories if v not in set(rare_list)],
                        "infrequent": rare_list,
                    }
                )
        else:
            raise ExportError(f"unknown preprocessing step {name!r}")
    return {"numeric": numeric, "categorical": categorical}


def _inputs(dataset: Dataset, pre: dict[str, Any], infos: list[ColumnInfo] | None) -> list[dict[str, Any]]:
    """The columns a table to predict must have, and what each becomes (dates: year, month, ... inputs)."""
    formats = {i.name: i.date_format for i in infos or [] if i.kind == "date"}
    numeric = {c["name"] for c in pre["numeric"]}
    names = list(dataset.feature_names)
    parts: dict[str, list[str]] = {}
    for name in names:
        match = DATE_PART.match(name)
        if match and match.group(1) not in names:
            parts.setdefault(match.group(1), []).append(match.group(2))
    dates = {base: found for base, found in parts.items() if {"year", "month", "day", "weekday"} <= set(found)}
    inputs: list[dict[str, Any]] = []
    for name in names:
        match = DATE_PART.match(name)
        if match and match.group(1) in dates:
            base = match.group(1)
            if not any(i["name"] == base for i in inputs):
                inputs.append({"name": base, "kind": "date", "format": formats.get(base), "parts": dates[base]})
            continue
        inputs.append({"name": name, "kind": "number" if name in numeric else "category"})
    return inputs


def model_config(
    dataset: Dataset,
    hyperparameters: Mapping[str, Any] | Hyperparameters,
    *,
    target: str = "target",
    target_scale: tuple[float, float] | None = None,
    infos: list[ColumnInfo] | None = None,
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON config of a trained model: hyperparameters, preprocessing, classes, task, target.

    `target_scale` (mean, standard deviation of the training targets) turns a regression network's
    standardized output back into the target's units; when omitted it is read from the dataset's
    `target_mean` / `target_std` if it has them, else predictions stay standardized (and say so).
    `infos` (core.data.dataset.analyze_columns of the training table) gives date columns their format.
    """
    hp = hyperparameters if isinstance(hyperparameters, Hyperparameters) else Hyperparameters.from_dict(dict(hyperparameters))
    pre = preprocessing(dataset)
    scale = target_scale
    if scale is None and dataset.task == "regression":
        mean, std = getattr(dataset, "target_mean", None), getattr(dataset, "target_std", None)
        scale = (float(mean), float(std)) if mean is not None and std is not None else None
    return clean_json(
        {
            "format": FORMAT,
            "version": VERSION,
            "about": (
                "FitLab model config: the hyperparameters (chosen, used to build the network) and the preprocessing. "
                "The learned parameters (weights and biases) are in the .pt file, a PyTorch state_dict."
            ),
            "task": dataset.task,
            "target": target,
            "classes": list(dataset.classes),
            "target_scale": None if scale is None else {"mean": float(scale[0]), "std": float(scale[1])},
            "n_inputs": dataset.n_inputs,
            "n_outputs": dataset.n_outputs,
            "hyperparameters": hp.to_dict(),
            "feature_names": list(dataset.feature_names),
            "inputs": _inputs(dataset, pre, infos),
            "preprocessing": pre,
            "run": dict(run or {}),
        }
    )


def _check_state(state: Any, config: Mapping[str, Any]) -> nn.Module:
    """The network the config describes, with `state` loaded into it; ExportError when they do not fit."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExportError("the model file does not hold a state_dict (a mapping of parameter names to tensors)")
    try:
        hp = Hyperparameters.from_dict(dict(config["hyperparameters"]))
        model = build_model(int(config["n_inputs"]), int(config["n_outputs"]), hp)
    except (HyperparameterError, KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"the model config is not usable: {exc}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else (first[0] if first else type(exc).__name__)
        raise ExportError(f"the model file does not fit its config: {detail}") from None
    model.eval()
    return model


def state_bytes(model: nn.Module) -> bytes:
    """The model's parameters, a state_dict as `torch.save` writes it (what core/jobs.py stores)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def _load_state(data: bytes) -> Any:
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # a truncated zip, a pickle of something else, a text file
        raise ExportError(f"not a PyTorch state_dict file ({type(exc).__name__})") from None


def model_files(
    run: StoredRun,
    dataset: Dataset,
    model_state: bytes | None,
    *,
    target_scale: tuple[float, float] | None = None,
    infos: list[ColumnInfo] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """A stored run's model: (the .pt bytes, the JSON config). `model_state` is `RunStore.model_state(run.id)`.

    `dataset` is the run's data rebuilt from its spec (the preprocessing fitted on the same training rows).
    """
    if not model_state:
        raise ExportError(f"run {run.id} has no saved model (status {run.status})")
    spec = run.dataset.get("spec") or {}
    meta = {
        "id": run.id,
        "created": run.created,
        "dataset": run.dataset.get("name"),
        "status": run.status,
        "best_epoch": run.best_epoch,
        "kept_epoch": run.kept_epoch,
        "test": run.test,
    }
    config = model_config(
        dataset,
        run.hyperparameters,
        target=str(spec.get("target") or "target"),
        target_scale=target_scale,
        infos=infos,
        run=meta,
    )
    _check_state(_load_state(model_state), config)
    return model_state, config


def result_model_files(
    result: RunResult,
    dataset: Dataset,
    *,
    target: str = "target",
    target_scale: tuple[float, float] | None = None,
    infos: list[ColumnInfo] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """A just-finished run's model (the CLI's `train --save-model`): (the .pt bytes, the JSON config)."""
    if result.model is None or not result.history:
        raise ExportError("the run kept no model to save")
    meta = {
        "dataset": dataset.name,
        "status": result.status,
        "best_epoch": result.best_epoch,
        "kept_epoch": result.kept_epoch,
        "test": result.test,
    }
    config = model_config(dataset, result.hyperparameters, target=target, target_scale=target_scale, infos=infos, run=meta)
    return state_bytes(result.model), config


# ---------------------------------------------------------------- loading a model and predicting


def _date_inputs(name: str, column: pd.Series, fmt: str | None, parts: list[str]) -> dict[str, pd.Series]:
    present = column.dropna()
    if fmt is None:  # the config did not record it: read it off these values, as training did
        found = _date_format(present.astype(str)) if len(present) else None
        fmt = found[0] if found else "ISO8601"
    parsed = _parse_dates(column.astype("string"), fmt)
    values = {
        "year": parsed.dt.year,
        "month": parsed.dt.month,
        "day": parsed.dt.day,
        "weekday": parsed.dt.day_of_week,
        "hour": parsed.dt.hour + parsed.dt.minute / 60,
    }
    return {f"{name} ({part})": values[part].astype(float) for part in parts}


@dataclass
class Predictor:
    """A trained network with the preprocessing of its training data: raw rows in, predictions out."""

    model: nn.Module
    config: dict[str, Any]

    @property
    def task(self) -> str:
        return str(self.config["task"])

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.config.get("classes", [])]

    @property
    def required_columns(self) -> list[str]:
        return [str(i["name"]) for i in self.config["inputs"]]

    def features(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """The feature columns as `core.data.dataset.features` makes them, and notes on what was filled in."""
        columns = [str(c) for c in frame.columns]
        missing = [c for c in self.required_columns if c not in columns]
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise DataError(f"the table lacks column(s) the model needs: {shown}; it needs {', '.join(self.required_columns)}")
        frame = frame.set_axis(columns, axis=1).reset_index(drop=True)
        out: dict[str, pd.Series] = {}
        for spec in self.config["inputs"]:
            name, column = str(spec["name"]), frame[str(spec["name"])]
            if isinstance(column, pd.DataFrame):
                raise DataError(f"the table has more than one column named {name!r}")
            if spec["kind"] == "date":
                out.update(_date_inputs(name, column, spec.get("format"), list(spec["parts"])))
            elif spec["kind"] == "number":
                out[name] = without_too_large(pd.to_numeric(column, errors="coerce").astype(float))[0]
            else:
                out[name] = column.astype("string").astype(object).where(column.notna(), np.nan)
        features = pd.DataFrame(out, index=frame.index)
        notes = []
        gaps = {c: int(features[c].isna().sum()) for c in features.columns if features[c].isna().any()}
        if gaps:
            shown = ", ".join(f"{c!r} ({n})" for c, n in list(gaps.items())[:5])
            notes.append(f"missing or unreadable values filled in as in training (median or most frequent value): {shown}")
        return features, notes

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Raw rows to the network's inputs: the exported preprocessing, computed as scikit-learn does."""
        features, notes = self.features(frame)
        pre = self.config["preprocessing"]
        blocks: list[np.ndarray] = []
        for spec in pre["numeric"]:
            values = features[spec["name"]].to_numpy(dtype=float, na_value=np.nan).copy()
            values[np.isnan(values)] = spec["median"]
            values -= spec["mean"]
            values /= spec["scale"]
            blocks.append(values.reshape(-1, 1))
        unknown: list[str] = []
        for spec in pre["categorical"]:
            values = features[spec["name"]].where(features[spec["name"]].notna(), spec["most_frequent"]).to_numpy()
            categories, rare = list(spec["categories"]), set(spec["infrequent"])
            index = {c: i for i, c in enumerate(categories)}
            width = len(categories) + (1 if rare else 0)
            block = np.zeros((len(values), width))
            new = 0
            for row, value in enumerate(values):
                if value in index:
                    block[row, index[value]] = 1.0
                elif rare:
                    block[row, width - 1] = 1.0  # infrequent in training, or never seen: the shared column
                    new += value not in rare
                else:
                    new += 1  # never seen and no shared column: all zeros, as scikit-learn's encoder does
            if new:
                unknown.append(f"{spec['name']!r} ({new})")
            blocks.append(block)
        if unknown:
            notes.append(f"categories not seen in training, encoded as none of the known ones: {', '.join(unknown[:5])}")
        x = np.hstack(blocks) if blocks else np.zeros((len(features), 0))
        with np.errstate(over="ignore"):
            x32 = x.astype(np.float32)
        if x32.shape[1] != int(self.config["n_inputs"]):
            raise ExportError(
                f"the config's preprocessing makes {x32.shape[1]} inputs, the network takes {self.config['n_inputs']}"
            )
        return x32, notes

    def outputs(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities (n, classes), or regression values (n,) in the target's units when known."""
        return self._outputs(self.transform(frame)[0])

    def _outputs(self, x: np.ndarray) -> np.ndarray:
        out = predict(self.model, x, self.task)
        scale = self.config.get("target_scale")
        if self.task == "regression" and scale:
            return out.astype(np.float64) * scale["std"] + scale["mean"]
        return out

    def predict_with_notes(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        x, notes = self.transform(frame)
        out = self._outputs(x)
        if self.task == "classification":
            labels = np.asarray(self.classes, dtype=object)[out.argmax(axis=1)] if len(out) else np.array([], dtype=object)
            table = pd.DataFrame({"prediction": pd.Series(labels, dtype=object)})
            for i, label in enumerate(self.classes):
                table[f"p({label})"] = out[:, i].astype(np.float64)
            return table, notes
        name = "prediction" if self.config.get("target_scale") else "prediction (standardized)"
        return pd.DataFrame({name: out.astype(np.float64)}), notes

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per input row: the class label and one probability column per class, or the value."""
        return self.predict_with_notes(frame)[0]


def read_config(data: bytes | str) -> dict[str, Any]:
    try:
        config = json.loads(data)
    except UnicodeDecodeError:
        raise ExportError("the model config is not JSON: it is not UTF-8 text (a model .pt file given as --config?)") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"the model config is not JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ExportError(f'not a FitLab model config (expected "format": "{FORMAT}")')
    if config.get("version") != VERSION:
        raise ExportError(f"model config version {config.get('version')!r} is not supported (this FitLab reads {VERSION})")
    for key in ("task", "hyperparameters", "n_inputs", "n_outputs", "inputs", "preprocessing"):
        if key not in config:
            raise ExportError(f"the model config lacks {key!r}")
    return config


def load_predictor(pt: bytes, config: Mapping[str, Any] | bytes | str) -> Predictor:
    """A Predictor from the two files' contents: the state_dict bytes and the config (dict or JSON)."""
    parsed = read_config(config) if isinstance(config, (bytes, str)) else read_config(json.dumps(dict(config)))
    return Predictor(_check_state(_load_state(pt), parsed), parsed)


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read the {what} {str(path)!r}: {exc.strerror or exc}") from None


def load_model(pt_path: str | Path, config_path: str | Path) -> Predictor:
    """A Predictor from the two files `train --save-model` (or the dashboard) wrote."""
    return load_predictor(_read(pt_path, "model file"), _read(config_path, "model config"))


def config_json(config: Mapping[str, Any]) -> str:
    return json.dumps(clean_json(dict(config)), indent=2, allow_nan=False) + "\n"
