"""Taking runs out of FitLab: a stored run as JSON (the shape of `python -m core train --json`), runs as CSV.

Everything here is pure (dicts in, bytes and str out): the dashboard offers these as downloads.
The trained model as files is core.export.models; reading those files back, core.export.predictor.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pandas as pd

from core.data.csvfile import DataError, to_safe_csv
from core.jsonsafe import json_safe
from core.records import RunRecord, number
from core.store.runs import StoredRun

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


class ExportError(DataError):
    """A run or model that cannot be exported or loaded, with one sentence why."""


# ---------------------------------------------------------------- a run as JSON, runs as CSV


def run_json(run: StoredRun) -> dict[str, Any]:
    """A stored run in the shape of `python -m core train --json` (the same keys, in the same order).

    `dataset` is the summary the CLI prints plus `spec`, how the data was made (the store records it).
    """
    kept_val_loss = RunRecord(run).kept_val_loss
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
    return json_safe(payload)


def runs_table(runs: Iterable[StoredRun]) -> pd.DataFrame:
    """One row per run: what it was, its scores, then one column per hyperparameter."""
    runs = list(runs)
    knobs: list[str] = []
    for run in runs:
        knobs.extend(k for k in run.hyperparameters if k not in knobs)
    rows = []
    for run in runs:
        record = RunRecord(run)
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
            "kept_val_loss": record.kept_val_loss,
            "kept_val_metric": record.kept_val_metric,
            "test_loss": number(test.get("loss")),
            "test_metric": number(test.get("metric")),
            "epochs_run": len(run.history),
            "seconds": record.seconds,
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
