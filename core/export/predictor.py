"""A saved model read back: the network rebuilt from its config, its parameters loaded, raw rows in, predictions out.

With core.export.state, the part of core.export that needs torch (`python -m core predict`; the model download
checks the parameters fit the config with `check_state`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from core.data.columns import date_format, date_part_values, parse_dates, without_too_large
from core.data.csvfile import DataError
from core.export.models import read_config
from core.export.runs import ExportError
from core.export.state import check_state, load_state
from core.training.trainer import predict
from core.wording import first_and_more


def _date_inputs(name: str, column: pd.Series, fmt: str | None, parts: list[str]) -> dict[str, pd.Series]:
    present = column.dropna()
    if fmt is None:  # the config did not record it: read it off these values, as training did
        found = date_format(present.astype(str)) if len(present) else None
        fmt = found[0] if found else "ISO8601"
    values = date_part_values(parse_dates(column.astype("string"), fmt))
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
            shown = first_and_more([repr(c) for c in missing], 10)
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


def load_predictor(pt: bytes, config: Mapping[str, Any] | bytes | str) -> Predictor:
    """A Predictor from the two files' contents: the state_dict bytes and the config (dict or JSON)."""
    parsed = read_config(config) if isinstance(config, (bytes, str)) else read_config(json.dumps(dict(config)))
    return Predictor(check_state(load_state(pt), parsed), parsed)


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read the {what} {str(path)!r}: {exc.strerror or exc}") from None


def load_model(pt_path: str | Path, config_path: str | Path) -> Predictor:
    """A Predictor from the two files `train --save-model` (or the dashboard) wrote."""
    return load_predictor(_read(pt_path, "model file"), _read(config_path, "model config"))


