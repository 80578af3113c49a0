"""core.jobs: a training run in a background thread that the dashboard polls and stops."""

from __future__ import annotations

import dataclasses
import time

from core.hyperparameters import Hyperparameters
from core.jobs import TrainingJob

LONG = Hyperparameters(hidden_layers=1, width=16, epochs=1000, batch_size=1, early_stopping=False)


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_job_runs_in_the_background_and_stops_on_request(tiny_moons):
    job = TrainingJob(tiny_moons, LONG)
    assert not job.running and not job.done
    assert job.start() is job
    try:
        assert _wait_for(lambda: len(job.snapshot()) >= 2), "no epochs were published"
        first = len(job.snapshot())
        assert _wait_for(lambda: len(job.snapshot()) > first), "records stopped growing"
        assert job.running and job.result is None
    finally:
        job.stop()
    assert job.wait(timeout=10)
    assert job.done and not job.running
    assert job.error is None
    assert job.result is not None
    assert job.result.status == "stopped"
    assert 0 < len(job.result.history) < 1000
    # every published record is in the result, in order
    assert job.snapshot() == list(job.result.history)
    assert job.finished >= job.started > 0
    assert set(job.result.baselines) == {"trivial", "linear", "boosted"}


def test_job_that_completes_by_itself(tiny_moons):
    hp = Hyperparameters(hidden_layers=1, width=8, epochs=4, early_stopping=False)
    job = TrainingJob(tiny_moons, hp).start()
    assert job.wait(timeout=30)
    assert job.error is None and job.result is not None
    assert job.result.status == "completed"
    assert [r.epoch for r in job.snapshot()] == [1, 2, 3, 4]
    assert job.result.diagnosis.verdict  # diagnosed at the end


def test_snapshot_is_a_copy(tiny_moons):
    job = TrainingJob(tiny_moons, Hyperparameters(hidden_layers=1, width=8, epochs=2)).start()
    job.wait(timeout=30)
    snap = job.snapshot()
    snap.clear()
    assert len(job.snapshot()) == 2


def test_job_failure_becomes_a_message(tiny_moons):
    # x_train with the wrong number of columns for x_val: the model cannot evaluate the validation split
    broken = dataclasses.replace(tiny_moons, x_val=tiny_moons.x_val[:, :1])
    job = TrainingJob(broken, Hyperparameters(hidden_layers=1, width=8, epochs=2)).start()
    assert job.wait(timeout=30)
    assert job.result is None
    assert job.error is not None and job.error.startswith("training failed:")
