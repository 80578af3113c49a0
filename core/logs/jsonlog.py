"""Training histories saved as JSON, turned into the per-epoch CSV the rest of core.logs reads.

- Keras' ``history.history`` dumped with ``json.dump``: ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``,
  and pandas' dumps of it (``DataFrame.to_json()``: ``{"loss": {"0": ..., "1": ...}}``; ``orient="records"``:
  ``[{"loss": ..., "val_loss": ...}, ...]``). One value per epoch, epochs from 0, as Keras' CSVLogger
  writes them: read as that format.
- Hugging Face Trainer's ``trainer_state.json``: ``log_history`` holds training rows (``loss`` every
  ``logging_steps``), evaluation rows (``eval_loss``, ``eval_<metric>``) and a closing summary row
  (``train_runtime``, left out). With evaluations, each evaluation is one point of the curve: its
  ``eval_*`` values, and as training loss the mean of the ``loss`` values logged since the previous one.
  Without, each logged training row is one point. A note says which, and how many steps a point spans.

What is read and how goes into the notes the page and the CLI show.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from core.data.csvfile import DataError


class NotJSON(DataError):
    """The text starts like JSON but does not parse (a text log may start with a printed dict)."""


SUMMARY_KEYS = ("train_runtime", "total_flos", "train_samples_per_second")


def is_json_log(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def json_log_csv(text: str, name: str, notes: list[str]) -> tuple[str, str]:
    """(the JSON history as CSV text, ``epoch`` first; its format: ``keras_json`` or ``huggingface``), or
    DataError saying what the file holds instead."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotJSON(f"{name} starts like JSON but is not valid JSON ({str(exc)[:120]})") from None
    if isinstance(data, dict) and isinstance(data.get("log_history"), list):
        return _huggingface(data["log_history"], name, notes), "huggingface"
    columns = _keras_columns(data, name)
    notes.append(
        "Read as a Keras `history.history` saved as JSON: one value per epoch of "
        + ", ".join(f"`{key}`" for key in columns)
        + "."
    )
    length = max(len(values) for values in columns.values())
    rows = [[epoch] + [values[epoch] if epoch < len(values) else "" for values in columns.values()] for epoch in range(length)]
    return _csv(["epoch", *columns], rows), "keras_json"


def _keras_columns(data: Any, name: str) -> dict[str, list[Any]]:
    """{key: values by epoch} from a dict of lists, a dict of {index: value}, or a list of records."""
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        keys = list(dict.fromkeys(key for row in data for key in row))
        data = {key: [row.get(key, "") for row in data] for key in keys}
    if isinstance(data, dict):
        columns: dict[str, list[Any]] = {}
        for key, values in data.items():
            if isinstance(values, dict):  # pandas' to_json(): {"0": v0, "1": v1, ...}
                try:
                    values = [values[k] for k in sorted(values, key=lambda k: int(k))]
                except (TypeError, ValueError):
                    continue
            if isinstance(values, list) and values and all(_is_value(v) for v in values):
                columns[str(key)] = [_cell(v) for v in values]
        if any("loss" in key.lower() for key in columns):
            return columns
    raise DataError(
        f'{name} is JSON but not a training history: expected Keras\' history.history ({{"loss": [...], '
        '"val_loss": [...]}) or a Hugging Face trainer_state.json (with log_history)'
    )


def _huggingface(history: list[Any], name: str, notes: list[str]) -> str:
    rows = [row for row in history if isinstance(row, dict) and not any(key in row for key in SUMMARY_KEYS)]
    train = [row for row in rows if _is_number(row.get("loss"))]
    evals = [row for row in rows if _is_number(row.get("eval_loss"))]
    if not train and not evals:
        raise DataError(f"{name} is a trainer_state.json whose log_history has no `loss` or `eval_loss` values")
    metrics = sorted({key for row in evals for key in row if key.startswith("eval_") and key != "eval_loss"} - _EVAL_NOISE)
    metrics = [key for key in metrics if all(_is_number(row.get(key)) for row in evals)]
    rates = any(_is_number(row.get("learning_rate")) for row in train)
    header = ["epoch", "loss", "val_loss", *(f"val_{key[5:]}" for key in metrics), *(["lr"] if rates else [])]
    points: list[list[Any]] = []
    if evals:
        start = 0
        for row in evals:
            step = row.get("step", math.inf)
            window = [r for r in train[start:] if r.get("step", -1) <= step]
            start += len(window)
            losses = [float(r["loss"]) for r in window]
            rate = window[-1].get("learning_rate", "") if window else ""
            mean = sum(losses) / len(losses) if losses else ""
            points.append(
                [
                    len(points) + 1,
                    mean,
                    _cell(row["eval_loss"]),
                    *(_cell(row[key]) for key in metrics),
                    *([rate] if rates else []),
                ]
            )
        notes.append(
            f"Read as a Hugging Face Trainer trainer_state.json: each of its {len(evals)} evaluations is one point "
            f"(`eval_loss` as the validation loss); the training loss of a point is the mean of the `loss` values "
            f"logged since the evaluation before it ({len(train)} in all). Fractional epochs of the file: "
            f"{_span(evals)}."
        )
    else:
        for row in train:
            points.append([len(points) + 1, _cell(row["loss"]), "", *([row.get("learning_rate", "")] if rates else [])])
        notes.append(
            f"Read as a Hugging Face Trainer trainer_state.json with no evaluations: each of its {len(train)} logged "
            f"`loss` values is one point ({_span(train)})."
        )
    return _csv(header, points)


_EVAL_NOISE = {"eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "eval_steps"}


def _span(rows: list[dict[str, Any]]) -> str:
    epochs = [float(r["epoch"]) for r in rows if _is_number(r.get("epoch"))]
    return f"epoch {epochs[0]:g} to {epochs[-1]:g}" if epochs else "no epoch recorded"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_value(value: Any) -> bool:
    """A number, or JSON null (a NaN that json.dump wrote as null)."""
    return value is None or _is_number(value)


def _cell(value: Any) -> Any:
    """JSON null (Keras writes NaN as NaN, json.dump as NaN or null) as an empty cell's NaN."""
    return "nan" if value is None else value


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
