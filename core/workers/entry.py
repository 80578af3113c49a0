"""The functions an executor sends to a worker process, importable without torch.

A process pool pickles a function by its qualified name, so the web process must be able to import it;
these two import the worker's code (torch and all) only when they run, in the worker.
"""

from __future__ import annotations

from core.workers.spec import JobSpec


def run_job(spec: JobSpec) -> str:
    """Run one job (core.workers.jobs.run_job) and return the run's final status."""
    from core.workers import jobs

    return jobs.run_job(spec)


def warm_up() -> int:
    """Run once in each new worker: import torch and the training code before the first real job."""
    from core.workers import jobs

    return jobs.warm_up()
