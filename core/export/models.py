"""The trained model as two files: its parameters (.pt) and its hyperparameters and preprocessing (.json).

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

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from core.data.columns import ColumnInfo
from core.data.dataset import Dataset
from core.export.runs import ExportError
from core.hyperparameters import Hyperparameters
from core.jsonsafe import json_safe
from core.store.runs import StoredRun

if TYPE_CHECKING:
    from core.experiments.run import RunResult

FORMAT = "fitlab-model"
VERSION = 1
DATE_PARTS = ("year", "month", "day", "weekday", "hour")
DATE_PART = re.compile(r"^(.*) \((year|month|day|weekday|hour)\)$")


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
    `infos` (core.data.columns.analyze_columns of the training table) gives date columns their format.
    """
    hp = hyperparameters if isinstance(hyperparameters, Hyperparameters) else Hyperparameters.from_dict(dict(hyperparameters))
    pre = preprocessing(dataset)
    scale = target_scale
    if scale is None and dataset.task == "regression":
        mean, std = getattr(dataset, "target_mean", None), getattr(dataset, "target_std", None)
        scale = (float(mean), float(std)) if mean is not None and std is not None else None
    return json_safe(
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
    from core.export.state import check_state, load_state  # torch, only when a model is downloaded

    check_state(load_state(model_state), config)
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
    return result.model_state() or b"", config


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


def config_json(config: Mapping[str, Any]) -> str:
    return json.dumps(json_safe(dict(config)), indent=2, allow_nan=False) + "\n"
