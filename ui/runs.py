"""Runs as the pages show them: a stored row turned back into history, diagnosis and knobs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.diagnosis import Diagnosis
from core.history import History
from core.hyperparameters import Hyperparameters
from core.records import RunRecord
from core.store.runs import ACTIVE, StoredRun

STATUS_WORDS = {
    "queued": "queued",
    "running": "running",
    "completed": "completed",
    "early_stopped": "ended by early stopping",
    "diverged": "diverged",
    "stopped": "stopped",
    "failed": "failed",
}


@dataclass
class RunView:
    run: StoredRun
    history: History
    hp: Hyperparameters
    diagnosis: Diagnosis | None

    @classmethod
    def of(cls, run: StoredRun) -> RunView:
        diagnosis = Diagnosis.from_dict(run.diagnosis) if run.diagnosis else None
        return cls(run, History.from_dicts(run.history or []), Hyperparameters.from_dict(run.hyperparameters), diagnosis)

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def active(self) -> bool:
        return self.run.status in ACTIVE

    @property
    def task(self) -> str:
        return RunRecord(self.run).task

    @property
    def baselines(self) -> dict[str, dict[str, float]] | None:
        return RunRecord(self.run).baselines

    @property
    def extra(self) -> dict[str, Any]:
        return self.run.extra or {}


def short_id(run_id: str) -> str:
    return run_id[:6]


def data_words(dataset: dict[str, Any]) -> str:
    """The data of a run, as it was made: 'moons (1000 samples, noise 0.2, seed 0)' or the file and target."""
    spec = dataset.get("spec") or {}
    name = str(dataset.get("name", "?"))
    if "file" in spec:
        excluded = f", {len(spec.get('exclude') or [])} column(s) left out" if spec.get("exclude") else ""
        return f"{spec['file']} → {spec.get('target')} ({spec.get('task')}{excluded})"
    parts = []
    if "samples" in spec:
        parts.append(f"{spec['samples']} samples")
    if "noise" in spec:
        parts.append(f"noise {spec['noise']:g}")
    if "seed" in spec:
        parts.append(f"seed {spec['seed']}")
    rows = dataset.get("rows") or {}
    if rows:
        parts.append(f"{rows.get('train')}/{rows.get('val')}/{rows.get('test')} rows")
    return f"{name} ({', '.join(parts)})" if parts else name


def knob_words(hp: Hyperparameters) -> str:
    """Every hyperparameter of a run on one line."""
    stopping = f"early stopping (patience {hp.patience})" if hp.early_stopping else "no early stopping"
    regular = f"dropout {hp.dropout:g}, weight decay {hp.weight_decay:g}"
    shape = "no hidden layer" if hp.hidden_layers == 0 else f"{hp.hidden_layers}×{hp.width} {hp.activation}"
    return (
        f"{hp.optimizer} lr {hp.learning_rate:g}, batch {hp.batch_size}, up to {hp.epochs} epochs, {stopping}; {shape}; {regular}"
    )


def when(run: StoredRun) -> str:
    return dt.datetime.fromtimestamp(run.created).strftime("%H:%M:%S")


def run_label(view: RunView) -> str:
    """One line naming a run in a picker: time, id, data, verdict."""
    verdict = view.diagnosis.verdict.replace("_", " ") if view.diagnosis else STATUS_WORDS.get(view.status, view.status)
    kind = "Fix it for me, " if view.run.kind == "fix" else ""
    return f"{when(view.run)} · run {short_id(view.id)} · {kind}{view.run.dataset.get('name')} · {verdict}"
