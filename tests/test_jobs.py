"""core.jobs: a training run in a background thread that the dashboard polls and stops."""

from __future__ import annotations

import dataclasses
import threading
import time

from core.hyperparameters import Hyperparameters
from core.jobs import BackgroundTask, FixJob, TrainingJob

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


# ---------------------------------------------------------------- FixJob

FIX_HP = Hyperparameters(
    learning_rate=1.0, optimizer="adam", early_stopping=False, epochs=30, hidden_layers=1, width=4, batch_size=32, seed=0
)


def test_fix_job_records_hold_only_the_current_round(tiny_moons):
    job = FixJob(tiny_moons, FIX_HP, rounds=2).start()
    assert job.wait(timeout=60)
    assert job.error is None
    assert job.fix is not None and job.result is job.fix.final
    assert len(job.fix.rounds) >= 2  # learning rate 1.0 with Adam is not a good fit: at least one fix
    # every round's epochs start again at 1; records were reset, so they are the last round's alone
    assert job.snapshot() == list(job.fix.final.history)
    assert [r.epoch for r in job.snapshot()] == list(range(1, len(job.fix.final.history) + 1))
    assert job.current_round == len(job.fix.rounds) - 1
    assert job.done and not job.running
    assert job.finished >= job.started > 0


def test_fix_job_failure_becomes_a_message(tiny_moons):
    job = FixJob(tiny_moons, FIX_HP, rounds=0).start()  # rounds must be 1..10
    assert job.wait(timeout=30)
    assert job.fix is None and job.result is None
    assert job.error is not None and job.error.startswith("Fix it for me failed:")
    assert "rounds" in job.error
    assert job.finished >= job.started > 0


def test_fix_job_stops_on_request(tiny_moons):
    job = FixJob(tiny_moons, LONG, rounds=3).start()
    try:
        assert _wait_for(lambda: len(job.snapshot()) >= 1), "no epochs were published"
    finally:
        job.stop()
    assert job.wait(timeout=10)
    assert job.error is None and job.fix is not None
    assert job.fix.stopped and len(job.fix.rounds) == 1
    assert job.result is job.fix.final and job.result.status == "stopped"
    assert job.snapshot() == list(job.result.history)


# ---------------------------------------------------------------- BackgroundTask


def test_background_task_keeps_the_result():
    task = BackgroundTask(lambda stop: ("done", stop.is_set()), label="sum")
    assert not task.running and not task.done and task.result is None
    assert task.start() is task
    assert task.wait(timeout=10)
    assert task.done and not task.running
    assert task.result == ("done", False)
    assert task.error is None


def test_background_task_value_error_is_a_message_with_the_label():
    def work(stop: threading.Event) -> None:
        raise ValueError("fractions must be between 0 and 1")

    task = BackgroundTask(work, label="learning curve").start()
    assert task.wait(timeout=10)
    assert task.result is None
    assert task.error == "learning curve: fractions must be between 0 and 1"


def test_background_task_other_errors_are_a_failure_message():
    def work(stop: threading.Event) -> None:
        raise RuntimeError("out of memory")

    task = BackgroundTask(work, label="lr finder").start()
    assert task.wait(timeout=10)
    assert task.result is None
    assert task.error is not None and task.error.startswith("lr finder failed:") and "out of memory" in task.error


def test_background_task_stop_sets_the_event_the_work_receives():
    started = threading.Event()
    seen: list[threading.Event] = []

    def work(stop: threading.Event) -> bool:
        seen.append(stop)
        started.set()
        return stop.wait(timeout=10)  # True only if the stop request arrived

    task = BackgroundTask(work, label="waiter").start()
    assert started.wait(timeout=10)
    assert task.running and not task.done
    assert not seen[0].is_set()
    task.stop()
    assert task.wait(timeout=10)
    assert seen[0].is_set()
    assert task.result is True
    assert task.done and not task.running and task.error is None
