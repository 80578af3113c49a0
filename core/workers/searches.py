"""Starting a search: one study in the study storage, and one "tune" job per worker that joins it.

Each job runs trials until the study's trial slots are taken (core.tuning.study); the run ids of the
jobs are kept on the study, so a page can stop them and show their progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.data.dataset import Dataset
from core.hyperparameters import Hyperparameters
from core.store import studies
from core.store.runs import RunStore
from core.tuning.study import TuneSettings
from core.workers.executor import Executor
from core.workers.spec import submit_run


def start_search(
    store: RunStore,
    executor: Executor,
    storage: str,
    workspace: str,
    settings: TuneSettings,
    hp: Hyperparameters,
    dataset: Dataset,
    data_spec: dict[str, Any],
    *,
    kind: str = "search",
    extra: dict[str, Any] | None = None,
    remember: Callable[[str], None] | None = None,
) -> list[str]:
    """Create the study, queue its jobs (at most one per worker, no more than trials), return their run ids.

    `remember(run_id)` is called for each job before it is queued (the page keeps them as the session's)."""
    name = studies.new_study_name(workspace)
    workers = max(1, min(int(getattr(executor, "workers", 2)), settings.n_trials))
    settings_dict = settings.to_dict()
    studies.create(storage, name, {"kind": kind, "settings": settings_dict, "dataset": data_spec, **(extra or {})})
    run_ids = []
    options = {"settings": settings_dict, "study": name, "storage": storage}
    for _ in range(workers):
        spec = submit_run(store, workspace=workspace, kind="tune", dataset=dataset, hp=hp, spec=data_spec, options=options)
        run_ids.append(spec.run_id)
        if remember is not None:
            remember(spec.run_id)
        executor.submit(spec)
    studies.set_attr(storage, name, "runs", run_ids)
    return run_ids
