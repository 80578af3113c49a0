"""core.records: the facts every reader takes from a stored run, read once, from a real run store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from core.records import RunRecord, number
from core.store.runs import RunStore


def _stored(tmp_path: Path, *, history: list[dict], kept: int | None, status: str = "completed", baselines=None):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = store.create_run(
        workspace="ws-records-1",
        kind="train",
        dataset={"name": "moons", "task": "classification", "spec": {"name": "moons", "samples": 200}},
        fingerprint="f",
        hyperparameters={},
        owner="test",
    )
    store.claim(run_id, worker="test")
    store.finish(run_id, status=status, history=history, best_epoch=kept, kept_epoch=kept, baselines=baselines)
    run = store.get(run_id)
    store.close()
    assert run is not None
    return run


def _epoch(i: int, val: float | None, metric: float | None = 0.9) -> dict:
    return {"epoch": i, "train_loss": 0.5, "val_loss": val, "train_metric": 0.9, "val_metric": metric, "seconds": 0.25}


def test_the_kept_epoch_is_read_from_the_history_the_store_gave_back(tmp_path: Path) -> None:
    run = _stored(tmp_path, history=[_epoch(1, 0.7), _epoch(2, 0.4, 0.8), _epoch(3, 0.6)], kept=2)
    record = RunRecord(run)
    assert record.kept["epoch"] == 2
    assert record.kept_val_loss == pytest.approx(0.4) and record.kept_val_metric == pytest.approx(0.8)
    assert record.data_spec == {"name": "moons", "samples": 200} and record.task == "classification"
    assert record.seconds is not None and record.seconds >= 0  # started and finished are both set
    assert not record.active


def test_no_kept_weights_or_a_non_finite_loss_reads_as_none(tmp_path: Path) -> None:
    diverged = _stored(tmp_path, history=[_epoch(1, math.inf)], kept=1, status="diverged")  # stored as JSON null
    assert RunRecord(diverged).kept_val_loss is None
    none_kept = _stored(tmp_path / "b", history=[_epoch(1, 0.3)], kept=0)
    assert RunRecord(none_kept).kept == {} and RunRecord(none_kept).kept_val_loss is None
    beyond = _stored(tmp_path / "c", history=[_epoch(1, 0.3)], kept=5)
    assert RunRecord(beyond).kept_val_loss is None


def test_baselines_come_back_as_numbers_with_nan_for_a_null(tmp_path: Path) -> None:
    run = _stored(
        tmp_path, history=[_epoch(1, 0.3)], kept=1, baselines={"trivial": {"val_loss": 0.69, "val_metric": float("nan")}}
    )
    baselines = RunRecord(run).baselines
    assert baselines is not None and baselines["trivial"]["val_loss"] == pytest.approx(0.69)
    assert math.isnan(baselines["trivial"]["val_metric"])


def test_number_accepts_only_finite_numbers() -> None:
    assert number("0.5") == 0.5 and number(3) == 3.0
    assert [number(v) for v in (None, True, "abc", float("nan"), float("inf"), [1])] == [None] * 6


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
