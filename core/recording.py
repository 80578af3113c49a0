"""A run's life in the run store, written the same way by the workers, the search and the CLI's --db.

`open_run` records a run before it trains (queued, or claimed at once by the caller that will train it);
`record_result` writes the finished run: history, verdict, baselines, the decision boundary of a
2-feature dataset, the model's parameters, and what happened inside the layers (`extra["dynamics"]`,
core.dynamics; `extra["parameters"]`: the model file's tensors, and the small weight matrices).
No torch here: the web process opens runs too, and the
trained model turns itself into bytes and a boundary grid (`RunResult.model_state`, `RunResult.surface`).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from core.data.dataset import Dataset
from core.experiments.baselines import fingerprint
from core.hyperparameters import Hyperparameters
from core.jsonsafe import json_safe
from core.store.runs import RunStore

if TYPE_CHECKING:
    from core.experiments.run import RunResult


def identity() -> str:
    """Who this process is, as the store records it (submitter and worker)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def open_run(
    store: RunStore,
    *,
    workspace: str,
    kind: str,
    dataset: Dataset,
    hp: Hyperparameters,
    spec: dict[str, Any] | None = None,
    claim: bool = False,
) -> str:
    """Record a run of `kind` in `workspace` (queued; running when `claim`), return its id.

    `spec` says how the dataset was made (name, samples, noise, seed; or file, target, task), so a page
    can name the data of the run it shows. A train or fix run in a workspace that already has one queued
    or running raises core.store.runs.WorkspaceBusy (its message is a sentence for the user)."""
    run_id = store.create_run(
        workspace=workspace,
        kind=kind,
        dataset=dataset.summary() | {"spec": spec or {}},
        fingerprint=fingerprint(dataset),
        hyperparameters=hp.to_dict(),
        owner=identity(),
    )
    if claim:
        store.claim(run_id, worker=identity())
    return run_id


def record_result(
    store: RunStore,
    run_id: str,
    result: RunResult,
    dataset: Dataset,
    extra: dict[str, Any],
    resolution: int | None = None,
) -> None:
    """The finished run, as every page and command reads it back. `resolution`: the boundary grid's size
    (None: the default, core.experiments.surface.SURFACE_RESOLUTION)."""
    payload = result.to_dict()
    surface = result.surface(dataset, resolution)
    inside: dict[str, Any] = {}
    if result.dynamics is not None:
        inside["dynamics"] = result.dynamics.to_dict()
    if (parameters := result.parameters()) is not None:
        inside["parameters"] = parameters
    store.finish(
        run_id,
        status=result.status,
        history=payload["history"],
        best_epoch=result.best_epoch,
        kept_epoch=result.kept_epoch,
        test=payload["test"],
        baselines=payload["baselines"],
        diagnosis=payload["diagnosis"],
        extra=json_safe(({"surface": surface} if surface is not None else {}) | inside | extra),
        model_state=result.model_state(),
    )
