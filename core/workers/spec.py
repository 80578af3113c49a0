"""What the web process hands a worker: a picklable `JobSpec`, made by `submit_run` after the run is recorded.

No torch here: the web process imports this to queue jobs; only the worker runs them (core.workers.jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.data.dataset import Dataset
from core.hyperparameters import Hyperparameters
from core.recording import open_run
from core.store.runs import RunStore

KINDS = ("train", "fix", "lr_find", "learning_curve", "tune")
LABELS = {
    "train": "Training",
    "fix": "Fix it for me",
    "lr_find": "Learning-rate finder",
    "learning_curve": "Learning curve",
    "tune": "Search",
}


@dataclass(frozen=True)
class JobSpec:
    run_id: str
    kind: str  # one of KINDS
    store_url: str
    dataset: Dataset = field(repr=False)
    hp: Hyperparameters
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"rounds": 3} for fix


def submit_run(
    store: RunStore,
    *,
    workspace: str,
    kind: str,
    dataset: Dataset,
    hp: Hyperparameters,
    spec: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> JobSpec:
    """Record a queued run in the store and return the job that will run it (`spec`: how the data was made)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
    run_id = open_run(store, workspace=workspace, kind=kind, dataset=dataset, hp=hp, spec=spec)
    return JobSpec(run_id, kind, store.url, dataset, hp, dict(options or {}))
