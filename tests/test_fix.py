"""core.experiments.fix: train, diagnose, apply one recommendation, repeat; on tiny data with tiny networks."""

from __future__ import annotations

import dataclasses
import json
import math
import threading

import pytest

from core.diagnosis import Recommendation
from core.experiments.fix import FixResult, fix_run, next_change
from core.experiments.run import RunResult, run_experiment
from core.hyperparameters import HyperparameterError, Hyperparameters

# Adam at 1.0, 1000x its usual start: the loss bounces instead of settling.
TOO_HIGH = Hyperparameters(
    learning_rate=1.0, optimizer="adam", early_stopping=False, epochs=30, hidden_layers=1, width=4, batch_size=32, seed=0
)
# A sensible start that may need a few more epochs.
MODERATE = Hyperparameters(
    learning_rate=0.03, optimizer="adam", early_stopping=False, epochs=30, hidden_layers=1, width=8, batch_size=32, seed=0
)


@pytest.fixture(scope="module")
def too_high_fix(tiny_moons) -> FixResult:
    return fix_run(tiny_moons, TOO_HIGH, rounds=2)


@pytest.fixture(scope="module")
def moderate_fix(tiny_moons) -> FixResult:
    return fix_run(tiny_moons, MODERATE, rounds=3)


@pytest.fixture(scope="module")
def too_high_run(tiny_moons) -> RunResult:
    return run_experiment(tiny_moons, TOO_HIGH)


def kept_val_loss(result: RunResult) -> float:
    """From the history alone: the best epoch's loss when its weights were restored, else the last epoch's.

    The Trainer restores the best epoch when early stopping is on or the run diverged.
    """
    if not result.history:
        return math.inf
    restored = result.hyperparameters.early_stopping or result.status == "diverged"
    record = result.history[result.best_epoch - 1] if restored and result.best_epoch > 0 else result.history[-1]
    return record.val_loss if math.isfinite(record.val_loss) else math.inf


def changed_knobs(before: Hyperparameters, after: Hyperparameters) -> dict[str, object]:
    old, new = before.to_dict(), after.to_dict()
    return {k: new[k] for k in new if new[k] != old[k]}


# ---------------------------------------------------------------- the loop


def test_too_high_learning_rate_is_fixed_by_lowering_it_first(too_high_fix):
    first, second = too_high_fix.rounds[0], too_high_fix.rounds[1]
    assert first.hyperparameters == TOO_HIGH
    assert first.diagnosis.verdict == "lr_too_high"
    assert too_high_fix.changes[0] is None
    change = too_high_fix.changes[1]
    assert change.knob == "learning_rate"
    assert change == first.diagnosis.recommendations[0]  # the top recommendation, taken as is
    assert second.hyperparameters.learning_rate == change.value
    assert change.value < TOO_HIGH.learning_rate


@pytest.mark.parametrize("which", ["too_high_fix", "moderate_fix"])
def test_each_round_changes_exactly_the_knob_its_change_names(which, request):
    fix: FixResult = request.getfixturevalue(which)
    assert len(fix.rounds) == len(fix.changes) >= 1
    assert fix.changes[0] is None
    for before, after, change in zip(fix.rounds, fix.rounds[1:], fix.changes[1:], strict=False):
        assert isinstance(change, Recommendation)
        assert changed_knobs(before.hyperparameters, after.hyperparameters) == {change.knob: change.value}
        assert change in before.diagnosis.recommendations  # it came from the previous round's diagnosis
    assert len({r.hyperparameters for r in fix.rounds}) == len(fix.rounds)  # never the same settings twice


@pytest.mark.parametrize(("which", "limit"), [("too_high_fix", 2), ("moderate_fix", 3)])
def test_loop_stops_at_good_fit_or_after_the_allowed_fixes(which, limit, request):
    fix: FixResult = request.getfixturevalue(which)
    assert 1 <= len(fix.rounds) <= limit + 1
    assert not fix.stopped
    # a good fit ends the search: only the last round can be one
    assert all(r.diagnosis.verdict != "good_fit" for r in fix.rounds[:-1])
    assert fix.fixed == (fix.final.diagnosis.verdict == "good_fit")
    if not fix.fixed and len(fix.rounds) < limit + 1:
        # ended early without a good fit: only because no untried change was left
        assert next_change(fix.final, {r.hyperparameters for r in fix.rounds}) is None


@pytest.mark.parametrize("which", ["too_high_fix", "moderate_fix"])
def test_improved_compares_the_kept_validation_loss_of_first_and_last_round(which, request):
    fix: FixResult = request.getfixturevalue(which)
    first, last = kept_val_loss(fix.rounds[0]), kept_val_loss(fix.rounds[-1])
    assert fix.improved == (len(fix.rounds) > 1 and last < first)
    for result in fix.rounds:
        assert result.kept_val_loss == kept_val_loss(result)


def test_improved_with_early_stopping_uses_the_restored_epoch(tiny_moons):
    hp = MODERATE.replace(early_stopping=True, patience=3, epochs=20)
    fix = fix_run(tiny_moons, hp, rounds=1)
    for result in fix.rounds:
        if result.hyperparameters.early_stopping and result.history:
            assert result.kept_val_loss == min(r.val_loss for r in result.history[: result.best_epoch])
    assert fix.improved == (len(fix.rounds) > 1 and kept_val_loss(fix.rounds[-1]) < kept_val_loss(fix.rounds[0]))


@pytest.mark.parametrize("rounds", [0, -1, 11, 100])
def test_rounds_outside_one_to_ten_are_refused(tiny_moons, rounds):
    with pytest.raises(HyperparameterError, match="rounds"):
        fix_run(tiny_moons, TOO_HIGH, rounds=rounds)


@pytest.mark.parametrize("rounds", [1, 10])
def test_rounds_at_the_limits_are_accepted(tiny_moons, rounds):
    stop = threading.Event()
    stop.set()  # no training: only the range check matters here
    assert len(fix_run(tiny_moons, TOO_HIGH, rounds=rounds, stop_event=stop).rounds) == 1


def test_stop_request_before_the_call_ends_after_one_round(tiny_moons):
    stop = threading.Event()
    stop.set()
    fix = fix_run(tiny_moons, TOO_HIGH, rounds=3, stop_event=stop)
    assert fix.stopped is True
    assert len(fix.rounds) == 1 and fix.changes == [None]
    assert fix.final.status == "stopped"
    assert len(fix.final.history) == 0  # the unfinished first epoch is not recorded
    assert fix.improved is False
    data = fix.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["stopped"] is True and len(data["rounds"]) == 1


def test_callbacks_get_the_round_index(tiny_moons):
    epochs: list[tuple[int, int]] = []
    rounds: list[tuple[int, str, object]] = []
    fix = fix_run(
        tiny_moons,
        TOO_HIGH.replace(epochs=6),
        rounds=1,
        on_epoch=lambda i, record: epochs.append((i, record.epoch)),
        on_round=lambda i, result, change: rounds.append((i, result.diagnosis.verdict, change)),
    )
    assert [(i, v, c) for i, v, c in rounds] == [
        (i, r.diagnosis.verdict, c) for i, (r, c) in enumerate(zip(fix.rounds, fix.changes, strict=True))
    ]
    expected = [(i, rec.epoch) for i, r in enumerate(fix.rounds) for rec in r.history]
    assert epochs == expected


# ---------------------------------------------------------------- JSON


def test_to_dict_is_strict_json_with_every_round_and_its_change(too_high_fix):
    data = too_high_fix.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert set(data) == {"rounds", "improved", "fixed", "final_verdict", "final_hyperparameters", "stopped"}
    assert len(data["rounds"]) == len(too_high_fix.rounds)
    for index, (entry, result, change) in enumerate(zip(data["rounds"], too_high_fix.rounds, too_high_fix.changes, strict=True)):
        assert entry["round"] == index
        assert entry["hyperparameters"] == result.hyperparameters.to_dict()
        if index == 0:
            assert entry["change"] is None
        else:
            assert set(entry["change"]) == {"knob", "action", "value", "reason"}
            assert entry["change"]["knob"] == change.knob and entry["change"]["value"] == change.value
    assert data["improved"] == too_high_fix.improved
    assert data["fixed"] == too_high_fix.fixed
    assert data["final_verdict"] == too_high_fix.final.diagnosis.verdict == data["rounds"][-1]["diagnosis"]["verdict"]
    assert data["final_hyperparameters"] == too_high_fix.final.hyperparameters.to_dict()
    assert data["stopped"] is False


# ---------------------------------------------------------------- next_change


def test_next_change_takes_the_first_recommendation_not_tried(too_high_run):
    hp = too_high_run.hyperparameters
    recs = [r for r in too_high_run.diagnosis.recommendations if r.value is not None]
    assert len(recs) >= 2, recs
    first = hp.replace(**{recs[0].knob: recs[0].value})
    assert next_change(too_high_run, set()) == (recs[0], first)
    second = hp.replace(**{recs[1].knob: recs[1].value})
    assert next_change(too_high_run, {first}) == (recs[1], second)
    everything = {hp.replace(**{r.knob: r.value}) for r in recs}
    assert next_change(too_high_run, everything) is None


def test_next_change_skips_unknown_and_invalid_values(too_high_run):
    hp = too_high_run.hyperparameters
    unknown = Recommendation("width", "increase", None, "no value")
    invalid = Recommendation("width", "increase", 5000, "outside the range 1-1024")
    usable = Recommendation("dropout", "increase", 0.2, "fine")
    diagnosis = dataclasses.replace(too_high_run.diagnosis, recommendations=[unknown, invalid, usable])
    result = dataclasses.replace(too_high_run, diagnosis=diagnosis)
    assert next_change(result, set()) == (usable, hp.replace(dropout=0.2))
    assert next_change(result, {hp.replace(dropout=0.2)}) is None


def test_next_change_without_recommendations_is_none(too_high_run):
    diagnosis = dataclasses.replace(too_high_run.diagnosis, recommendations=[])
    assert next_change(dataclasses.replace(too_high_run, diagnosis=diagnosis), set()) is None
