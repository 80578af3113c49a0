"""The functions an executor sends to a worker process, importable without torch.

A process pool pickles a function by its qualified name, so the web process must be able to import it;
`run_job` and `warm_up` import the worker's code (torch and all) only when they run, in the worker.

`watch_parent` is a local worker's initializer: a worker ends itself when its server is gone. Killing
the server (kill -9, the kernel's OOM killer) runs none of its clean-up, and an idle worker would wait
for work for ever (it holds both ends of its own job queue, so it never sees the server's end close),
a busy one would go on training. Linux's PR_SET_PDEATHSIG is no answer here: it fires when the *thread*
that started the child ends, and a pool starts its worker from the thread that submits to it (a page's
script thread, or the thread that replaces a dead worker), which ends long before the server. So a
daemon thread in each worker compares the worker's parent with the server's pid twice a second; when
the worker has been handed to another parent (init or a subreaper), it fails the run it was running
(the store then says so at once, on every server of a shared store) and exits.
"""

from __future__ import annotations

import os
import threading
import time

from core.workers.spec import JobSpec

PARENT_POLL_SECONDS = 0.5  # a worker outlives its server by at most this, plus FAIL_SECONDS
FAIL_SECONDS = 2.0  # how long a worker whose server is gone tries to mark its run failed before it exits
SERVER_GONE = (
    "the server stopped while this run was running (it was killed or ran out of memory); "
    "press Train to start it again"
)
_current: dict[str, tuple[str, str]] = {}  # "run": (store URL, run id) of the job this worker runs now


def run_job(spec: JobSpec) -> str:
    """Run one job (core.workers.jobs.run_job) and return the run's final status."""
    from core.workers import jobs

    _current["run"] = (spec.store_url, spec.run_id)
    try:
        return jobs.run_job(spec)
    finally:
        _current.pop("run", None)


def warm_up() -> int:
    """Run once in each new worker: import torch and the training code before the first real job."""
    from core.workers import jobs

    return jobs.warm_up()


def watch_parent(parent_pid: int, interval: float = PARENT_POLL_SECONDS) -> None:
    """A local worker's initializer: end this process soon after the server `parent_pid` is gone."""
    watcher = threading.Thread(target=_watch, args=(parent_pid, interval), name="fitlab-parent-watch", daemon=True)
    watcher.start()


def _watch(parent_pid: int, interval: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    _fail_current_run()
    os._exit(1)  # not sys.exit: the main thread may be deep in training, and nothing here is worth keeping


def _fail_current_run() -> None:
    """Mark the run this worker is running failed, giving up after FAIL_SECONDS (a locked database)."""
    current = _current.get("run")
    if current is None:
        return

    def fail() -> None:
        try:
            from core.store.runs import open_store

            open_store(current[0]).fail(current[1], SERVER_GONE)
        except Exception:  # the restarted server's fail_orphans marks it instead
            pass

    failing = threading.Thread(target=fail, name="fitlab-fail-run", daemon=True)
    failing.start()
    failing.join(FAIL_SECONDS)
