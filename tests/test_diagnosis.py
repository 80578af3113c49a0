"""core.diagnosis on hand-made curves: no training, every verdict from a curve built to show it."""

from __future__ import annotations

import json
import math
import re
from dataclasses import fields

import pytest

from core.diagnosis import VERDICTS, Diagnosis, diagnose
from core.hyperparameters import SCENARIOS, Hyperparameters
from tests.conftest import make_history

KNOBS = {f.name for f in fields(Hyperparameters)}
ACTIONS = {"increase", "decrease", "enable", "disable", "set"}

BINARY_BASELINES = {"trivial": {"val_loss": 0.69, "val_metric": 0.5}, "linear": {"val_loss": 0.45, "val_metric": 0.8}}


def _recommendations_are_consistent(diagnosis: Diagnosis, hp: Hyperparameters | None) -> None:
    """Every recommendation names a knob, a known action, and (with hp) a value that moves the right way."""
    for rec in diagnosis.recommendations:
        assert rec.knob in KNOBS, rec
        assert rec.action in ACTIONS, rec
        assert isinstance(rec.reason, str) and rec.reason, rec
        if hp is None or rec.value is None:
            continue
        current = getattr(hp, rec.knob)
        hp.replace(**{rec.knob: rec.value})  # "Apply" must give valid hyperparameters
        if rec.action == "increase":
            assert rec.value > current, rec
        elif rec.action == "decrease":
            assert rec.value < current, rec
        elif rec.action == "enable":
            assert rec.value is True and current is False, rec
        elif rec.action == "disable":
            assert rec.value is False and current is True, rec


def _rec(diagnosis: Diagnosis, knob: str):
    matches = [r for r in diagnosis.recommendations if r.knob == knob]
    assert matches, f"no recommendation for {knob}: {diagnosis.recommendations}"
    return matches[0]


# ---------------------------------------------------------------- curves


def falling(n: int, start: float = 1.0, rate: float = 0.9, floor: float = 0.0) -> list[float]:
    return [floor + (start - floor) * rate**i for i in range(n)]


def overfitting_curves(n: int = 30, best: int = 10):
    """Training falls all the way; validation falls until epoch `best`, then climbs back up."""
    train = falling(n, start=0.7, rate=0.9)
    val = [t + 0.05 for t in train[:best]]
    val += [val[-1] + 0.03 * (i + 1) for i in range(n - best)]
    return train, val


def converged_curves(n: int = 30):
    """Fast fall, then a long flat plateau; validation just above training."""
    train = [0.1 + 0.6 * math.exp(-i / 3) for i in range(n)]
    val = [t + 0.02 for t in train]
    return train, val


# ---------------------------------------------------------------- verdicts


def test_verdicts_are_the_six_and_cover_the_scenarios():
    assert set(VERDICTS) == {"diverged", "lr_too_high", "not_converged", "underfitting", "overfitting", "good_fit"}
    assert {s["expected"] for s in SCENARIOS.values()} <= set(VERDICTS)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("where", ["train", "val"])
def test_non_finite_loss_is_diverged(bad, where):
    train, val = [1.0, 0.8, 0.6, 0.5], [1.0, 0.85, 0.7, 0.6]
    (train if where == "train" else val)[3] = bad
    diagnosis = diagnose(make_history(train, val))
    assert diagnosis.verdict == "diverged"
    assert any("epoch 4" in line for line in diagnosis.evidence)


def test_explosion_is_diverged():
    # finite, but the last epochs shoot to 15x and 60x the best loss, far above where training started
    train = [1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.2, 3.0, 12.0]
    diagnosis = diagnose(make_history(train), Hyperparameters(learning_rate=0.01))
    assert diagnosis.verdict == "diverged"
    assert diagnosis.evidence
    assert _rec(diagnosis, "learning_rate").action == "decrease"


def test_diverged_recommends_a_much_smaller_learning_rate():
    hp = Hyperparameters(learning_rate=0.1)
    diagnosis = diagnose(make_history([1.0, 0.5, math.nan]), hp)
    assert diagnosis.verdict == "diverged"
    rec = _rec(diagnosis, "learning_rate")
    assert rec.action == "decrease" and rec.value <= hp.learning_rate / 3
    _recommendations_are_consistent(diagnosis, hp)


def sawtooth(n: int = 20) -> list[float]:
    """Every other epoch jumps back up by 0.3, and the troughs creep upwards."""
    return [1.0] + [0.5 + 0.01 * i + (0.3 if i % 2 else 0.0) for i in range(1, n)]


def test_sawtooth_is_lr_too_high():
    hp = Hyperparameters(learning_rate=0.3, early_stopping=False)
    train = sawtooth()
    diagnosis = diagnose(make_history(train, [t + 0.05 for t in train], 0.7, 0.7), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "lr_too_high"
    rec = _rec(diagnosis, "learning_rate")
    assert rec.action == "decrease" and rec.value < hp.learning_rate
    _recommendations_are_consistent(diagnosis, hp)


def test_sawtooth_without_hyperparameters_or_baselines_is_still_lr_too_high():
    diagnosis = diagnose(make_history(sawtooth()))
    assert diagnosis.verdict == "lr_too_high"
    assert _rec(diagnosis, "learning_rate").action == "decrease"


def test_validation_u_shape_is_overfitting():
    train, val = overfitting_curves(n=30, best=10)
    hp = Hyperparameters(early_stopping=False, epochs=30)
    diagnosis = diagnose(make_history(train, val, 0.99, 0.8), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "overfitting"
    assert any(re.search(r"\bepoch 10\b", line) for line in diagnosis.evidence), diagnosis.evidence
    dropout = _rec(diagnosis, "dropout")
    assert dropout.action == "increase" and 0 < dropout.value <= 0.9
    assert _rec(diagnosis, "early_stopping").action == "enable"
    epochs = _rec(diagnosis, "epochs")
    assert epochs.action == "decrease" and epochs.value == 10  # validation was best at epoch 10
    _recommendations_are_consistent(diagnosis, hp)


def test_overfitting_cut_off_by_early_stopping_is_a_handled_secondary_finding():
    # Patience ran out 12 epochs after the best (epoch 8): the kept weights are epoch 8's, before the rise.
    train, val = overfitting_curves(n=20, best=8)
    hp = Hyperparameters(early_stopping=True, patience=12)
    diagnosis = diagnose(make_history(train, val), hp)
    assert diagnosis.verdict == "good_fit"
    assert "overfitting" in diagnosis.secondary
    assert any("restored epoch 8" in line for line in diagnosis.evidence)
    assert any(line.startswith("also overfitting, handled") for line in diagnosis.evidence)


def test_overfitting_cut_off_by_early_stopping_is_still_the_verdict_when_worse_than_linear():
    train, val = overfitting_curves(n=20, best=8)
    best_val = min(val)
    baselines = {
        "trivial": {"val_loss": 10 * best_val, "val_metric": 0.5},
        "linear": {"val_loss": 0.5 * best_val, "val_metric": 0.9},
    }
    hp = Hyperparameters(early_stopping=True, patience=12)
    diagnosis = diagnose(make_history(train, val), hp, baselines)
    assert diagnosis.verdict == "overfitting"
    assert any("no better than a linear model" in line for line in diagnosis.evidence)
    assert all(r.knob != "early_stopping" for r in diagnosis.recommendations)  # already on
    _recommendations_are_consistent(diagnosis, hp)


def test_overfitting_dropout_recommendation_grows_from_the_current_rate():
    train, val = overfitting_curves()
    hp = Hyperparameters(dropout=0.5)
    rec = _rec(diagnose(make_history(train, val), hp), "dropout")
    assert rec.action == "increase" and 0.5 < rec.value <= 0.9


def test_still_falling_at_the_end_is_not_converged():
    train = falling(30, start=1.0, rate=0.93)
    val = [t + 0.05 for t in train]
    hp = Hyperparameters(epochs=30)
    diagnosis = diagnose(make_history(train, val, 0.8, 0.78), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "not_converged"
    assert _rec(diagnosis, "epochs").action == "increase"
    assert _rec(diagnosis, "epochs").value > 30
    _recommendations_are_consistent(diagnosis, hp)


def test_not_converged_with_a_tiny_learning_rate_recommends_a_larger_one():
    train = falling(30, start=1.0, rate=0.97)
    hp = Hyperparameters(learning_rate=1e-5, epochs=30)
    diagnosis = diagnose(make_history(train, [t + 0.05 for t in train]), hp)
    assert diagnosis.verdict == "not_converged"
    rec = _rec(diagnosis, "learning_rate")
    assert rec.action == "increase" and rec.value > 1e-5
    _recommendations_are_consistent(diagnosis, hp)


def flat_high(n: int = 20) -> tuple[list[float], list[float]]:
    train = [0.70, 0.69, 0.685] + [0.68] * (n - 3)
    val = [0.70, 0.695, 0.69] + [0.69] * (n - 3)
    return train, val


def test_flat_loss_at_the_trivial_baseline_is_underfitting():
    train, val = flat_high()
    hp = Hyperparameters()
    diagnosis = diagnose(make_history(train, val, 0.52, 0.5), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "underfitting"
    width = _rec(diagnosis, "width")
    assert width.action == "increase" and width.value > hp.width
    _recommendations_are_consistent(diagnosis, hp)


def test_flat_loss_without_baselines_is_underfitting():
    train, val = flat_high()
    assert diagnose(make_history(train, val)).verdict == "underfitting"


def test_no_better_than_the_linear_model_is_underfitting():
    # well below the trivial model, but no better than logistic regression: capacity unused
    train = [0.6, 0.45, 0.4] + [0.38] * 17
    val = [0.6, 0.46, 0.42] + [0.40] * 17
    baselines = {"trivial": {"val_loss": 0.69, "val_metric": 0.5}, "linear": {"val_loss": 0.39, "val_metric": 0.84}}
    diagnosis = diagnose(make_history(train, val, 0.84, 0.83), Hyperparameters(), baselines)
    assert diagnosis.verdict == "underfitting"
    assert any("linear" in line for line in diagnosis.evidence)


def test_underfitting_linear_model_is_told_to_add_hidden_layers():
    train, val = flat_high()
    hp = Hyperparameters(hidden_layers=0, dropout=0.3, weight_decay=1e-3)
    diagnosis = diagnose(make_history(train, val), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "underfitting"
    assert _rec(diagnosis, "hidden_layers").action == "increase"
    assert _rec(diagnosis, "dropout").action == "decrease"
    assert _rec(diagnosis, "weight_decay").action == "decrease"
    _recommendations_are_consistent(diagnosis, hp)


def test_clean_converged_curve_well_below_baselines_is_good_fit():
    train, val = converged_curves()
    hp = Hyperparameters(epochs=30)
    diagnosis = diagnose(make_history(train, val, 0.96, 0.95), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "good_fit"
    assert diagnosis.secondary == []
    assert diagnosis.evidence
    _recommendations_are_consistent(diagnosis, hp)


def test_good_fit_without_baselines():
    train, val = converged_curves()
    assert diagnose(make_history(train, val)).verdict == "good_fit"


def test_good_fit_epoch_recommendation_never_increases_epochs():
    # 6 epochs, validation best at epoch 3 (position 0.4 <= 0.5), early stopping off:
    # the rule recommends epochs = best + 5 = 8, labelled "decrease", above the current 6.
    hp = Hyperparameters(epochs=6, early_stopping=False)
    train = [1.0, 0.3, 0.2, 0.2, 0.2, 0.2]
    val = [1.0, 0.35, 0.25, 0.251, 0.252, 0.252]
    diagnosis = diagnose(make_history(train, val, 0.9, 0.88), hp, BINARY_BASELINES)
    assert diagnosis.verdict == "good_fit"
    _recommendations_are_consistent(diagnosis, hp)


def test_explosion_after_a_zero_loss_is_diverged():
    diagnosis = diagnose(make_history([1.0, 0.0, 2.0, 2.0]))
    assert diagnosis.verdict == "diverged"


# ---------------------------------------------------------------- the result object


def test_empty_history_is_not_converged():
    diagnosis = diagnose([])
    assert diagnosis.verdict == "not_converged"
    assert diagnosis.evidence


def test_single_epoch_is_not_converged():
    assert diagnose(make_history([0.5], [0.6])).verdict == "not_converged"


def test_secondary_verdicts_are_listed_in_the_evidence():
    # unstable *and* overfitting: lr_too_high first, overfitting as secondary (metric gap)
    train = sawtooth()
    diagnosis = diagnose(make_history(train, [t + 0.05 for t in train], 0.99, 0.6))
    assert diagnosis.verdict == "lr_too_high"
    assert "overfitting" in diagnosis.secondary
    assert any(line.startswith("also overfitting") for line in diagnosis.evidence)
    assert diagnosis.verdict not in diagnosis.secondary


@pytest.mark.parametrize(
    "curves",
    [converged_curves(), overfitting_curves(), flat_high(), (sawtooth(), sawtooth()), ([1.0, math.nan], [1.0, 1.0])],
)
def test_to_dict_is_json_ready(curves):
    diagnosis = diagnose(make_history(*curves), Hyperparameters(), BINARY_BASELINES)
    data = diagnosis.to_dict()
    assert set(data) == {"verdict", "title", "severity", "summary", "evidence", "recommendations", "secondary", "inside"}
    assert data["verdict"] in VERDICTS and data["summary"]
    for rec in data["recommendations"]:
        assert set(rec) == {"knob", "action", "value", "reason"}
    json.dumps(data, allow_nan=False)


# ---------------------------------------------------------------- rules against the baselines and early stopping


def test_training_loss_far_above_boosted_trees_is_underfitting():
    # 0.5 is 28 % better than guessing (0.69) and well below the linear model (0.68), but boosted trees
    # reach 0.1 on unseen data: 0.5 > 0.1 + 10 % of the 0.69 scale
    train, val = [0.5] * 20, [0.52] * 20
    hp = Hyperparameters(epochs=20, early_stopping=False)
    baselines = {
        "trivial": {"val_loss": 0.69, "val_metric": 0.5},
        "linear": {"val_loss": 0.68, "val_metric": 0.55},
        "boosted": {"val_loss": 0.1, "val_metric": 0.95},
    }
    diagnosis = diagnose(make_history(train, val, 0.75, 0.74), hp, baselines)
    assert diagnosis.verdict == "underfitting"
    assert any("gradient-boosted trees" in line for line in diagnosis.evidence), diagnosis.evidence
    _recommendations_are_consistent(diagnosis, hp)
    # boosted trees at 0.45: 0.5 is within 0.069 of them, so the same curve is no longer underfitting
    close = {**baselines, "boosted": {"val_loss": 0.45, "val_metric": 0.8}}
    assert diagnose(make_history(train, val, 0.75, 0.74), hp, close).verdict == "good_fit"


def test_metric_gap_at_chance_level_is_not_overfitting():
    # 0.55 vs 0.45 around a trivial 0.5: both are guessing, the gap is noise; the losses are equal
    train, _ = converged_curves()
    hp = Hyperparameters(epochs=30, early_stopping=False)
    diagnosis = diagnose(make_history(train, train, 0.55, 0.45), hp, BINARY_BASELINES)
    assert diagnosis.verdict != "overfitting"
    assert "overfitting" not in diagnosis.secondary
    # the same gap well above chance (0.95 vs 0.80: 0.15, 16 % relative) is overfitting
    assert diagnose(make_history(train, train, 0.95, 0.80), hp, BINARY_BASELINES).verdict == "overfitting"


def test_spike_below_the_trivial_loss_is_not_diverged():
    # the last epoch is 8x the best (0.05) and above the start (0.3), but still better than guessing (0.69)
    train = [0.3, 0.2, 0.12, 0.08, 0.06, 0.05, 0.05, 0.05, 0.05, 0.4]
    val = [t + 0.02 for t in train]
    hp = Hyperparameters(epochs=10, early_stopping=False)
    diagnosis = diagnose(make_history(train, val), hp, BINARY_BASELINES)
    assert diagnosis.verdict != "diverged"
    assert "diverged" not in diagnosis.secondary
    # ending at 1.0, above the trivial 0.69, it is
    worse = train[:-1] + [1.0]
    assert diagnose(make_history(worse, [t + 0.02 for t in worse]), hp, BINARY_BASELINES).verdict == "diverged"


def test_run_ended_by_early_stopping_is_never_not_converged():
    # validation best at index 14 (epoch 15), then 5 epochs slightly worse: patience 5 ran out at epoch 20 of 100
    train = [0.9 * 0.85**i for i in range(20)]
    val = [0.85**i for i in range(15)]
    val += [val[14] * (1 + 0.005 * (k + 1)) for k in range(5)]
    hp = Hyperparameters(early_stopping=True, patience=5, epochs=100)
    diagnosis = diagnose(make_history(train, val), hp)
    assert diagnosis.verdict != "not_converged"
    assert "not_converged" not in diagnosis.secondary
    assert any("early stopping ended the run at epoch 20" in line for line in diagnosis.evidence), diagnosis.evidence
    assert any("restored epoch 15" in line for line in diagnosis.evidence)


def test_late_best_is_not_converged_only_when_the_budget_ended_the_run():
    # best at epoch 17 of 20 (last quarter), still falling 15 % there: with patience 3 and room for 100 epochs,
    # early stopping ended it (it had stopped improving); with a budget of 20, the budget did
    train = [0.9 * 0.85**i for i in range(20)]
    val = [0.85**i for i in range(17)]
    val += [val[16] * (1 + 0.005 * (k + 1)) for k in range(3)]
    ended_by_patience = Hyperparameters(early_stopping=True, patience=3, epochs=100)
    diagnosis = diagnose(make_history(train, val), ended_by_patience)
    assert diagnosis.verdict != "not_converged" and "not_converged" not in diagnosis.secondary
    ended_by_budget = Hyperparameters(early_stopping=True, patience=3, epochs=20)
    assert diagnose(make_history(train, val), ended_by_budget).verdict == "not_converged"


def test_run_ended_by_the_trainers_early_stopping_on_sub_threshold_creep_is_not_not_converged():
    from core.training.trainer import EarlyStopping

    hp = Hyperparameters(learning_rate=1e-4, early_stopping=True, patience=3, epochs=50)
    train = [1.0, 0.9, 0.8, 0.7, 0.6]
    val = [1.0, 0.5, 0.49999, 0.49998, 0.49997]  # each step below 1e-4 of 0.5: not an improvement to the Trainer
    stopper = EarlyStopping(hp.patience)
    for epoch, loss in enumerate(val, start=1):
        stopper.improved(epoch, loss)
    assert stopper.should_stop and stopper.best_epoch == 2  # the Trainer ends this run at epoch 5, restoring epoch 2
    diagnosis = diagnose(make_history(train, val), hp)
    assert diagnosis.verdict != "not_converged"


# ---------------------------------------------------------------- issue 8: the rule registry


def test_adding_a_verdict_is_one_rule_class_and_one_line_in_the_registry():
    from core.diagnosis import RULES, Finding, Rule, diagnose_with

    class TooShort(Rule):  # the toy rule: detect, name, advise
        verdict = "too_short"
        title = "Too short to judge"
        severity = "warning"
        summary = "Fewer than five epochs: the curves cannot show a trend yet."

        def detect(self, s):
            return Finding([f"only {s.n} epochs were logged"]) if s.n < 5 else None

        def recommend(self, s, advice):
            advice.add("epochs", "increase", None, "Train at least five epochs before judging the fit.")

    registry = (RULES[0], TooShort(), *RULES[1:])  # the one line: its place in the priority
    diagnosis = diagnose_with(registry, make_history([1.0, 0.8, 0.7], [1.0, 0.85, 0.75]))
    assert diagnosis.verdict == "too_short"
    assert diagnosis.title == "Too short to judge" and diagnosis.summary == TooShort.summary
    assert diagnosis.evidence[0] == "only 3 epochs were logged"
    assert [r.knob for r in diagnosis.recommendations] == ["epochs"]
    # not in the registry: the same curve gets a built-in verdict
    assert diagnose(make_history([1.0, 0.8, 0.7], [1.0, 0.85, 0.75])).verdict != "too_short"
    # a later rule that also fires is a secondary finding, in registry order
    registry_late = (*RULES[:-1], TooShort(), RULES[-1])
    late = diagnose_with(registry_late, make_history([1.0, 0.8, 0.7], [1.0, 0.85, 0.75]))
    assert late.verdict != "too_short" and "too_short" in late.secondary


def test_every_rule_names_a_verdict_the_card_can_show():
    from core.diagnosis import PRIORITY, RULES, TITLES

    assert RULES[-1].verdict == "good_fit" and RULES[0].verdict == "diverged"
    for rule in RULES:
        assert rule.verdict in VERDICTS and rule.title and rule.severity in ("error", "warning", "success") and rule.summary
    assert set(PRIORITY) == set(VERDICTS) - {"good_fit"}
    assert TITLES["good_fit"] == "Good fit" and TITLES["lr_too_high"] == "Learning rate too high"


def test_heading_of_an_older_stored_diagnosis_falls_back_to_the_verdicts_rule():
    from core.diagnosis import heading

    old = Diagnosis.from_dict({"verdict": "overfitting", "summary": "s", "evidence": [], "recommendations": []})
    assert heading(old) == ("Overfitting", "warning")
    new = diagnose(make_history(*converged_curves()))
    assert Diagnosis.from_dict(new.to_dict()) == new
    assert heading(new) == ("Good fit", "success")


# ---------------------------------------------------------------- issue 8: the systematic misses on real logs


def test_frozen_accuracy_near_chance_is_a_constant_predictor():
    # accuracy frozen at the majority share 0.55 on both splits for 20 epochs; loss 0.80 -> 0.685 (ln 2 = 0.693)
    train = [0.80, 0.72, 0.70] + [0.69 - 0.0002 * i for i in range(17)]
    val = [0.75, 0.70, 0.695] + [0.69 - 0.0002 * i for i in range(17)]
    diagnosis = diagnose(make_history(train, val, 0.55, 0.55), metric_name="accuracy")
    assert diagnosis.verdict == "underfitting"
    assert diagnosis.title == "Underfitting: a constant predictor"
    assert any("repeat one value (0.55) for 20 epochs" in line for line in diagnosis.evidence), diagnosis.evidence
    assert any("chance level ln 2 = 0.693" in line for line in diagnosis.evidence)


def test_still_falling_validation_at_the_last_epoch_beats_a_metric_gap():
    # tiny validation set: train accuracy 1.0 vs val 0.85 (a gap), but val loss falls every epoch to its best at the end
    train = [0.77, 0.2, 0.09, 0.044, 0.023, 0.010, 0.0089, 0.0086, 0.0097, 0.0050]
    val = [0.42, 0.37, 0.29, 0.22, 0.18, 0.16, 0.148, 0.140, 0.131, 0.120]
    diagnosis = diagnose(make_history(train, val, 1.0, 0.85), metric_name="accuracy")
    assert diagnosis.verdict == "not_converged"
    assert "overfitting" in diagnosis.secondary  # the gap is still reported


def test_both_losses_crawling_at_a_poor_accuracy_is_underfitting_not_a_metric_gap():
    # 3 classes (ln 3 = 1.099): 250 epochs creeping to train 0.97 / val 1.068, accuracy 0.55 vs 0.49
    n = 250
    train = [1.42 - 0.45 * (1 - math.exp(-i / 40)) for i in range(n)]
    val = [1.18 - 0.112 * (1 - math.exp(-i / 40)) for i in range(n)]
    acc_train = [0.30 + 0.25 * (1 - math.exp(-i / 40)) for i in range(n)]
    acc_val = [0.32 + 0.17 * (1 - math.exp(-i / 40)) for i in range(n)]
    diagnosis = diagnose(make_history(train, val, acc_train, acc_val), metric_name="acc")
    assert diagnosis.verdict == "underfitting", diagnosis.evidence
    assert any("ln 3" in line for line in diagnosis.evidence)
    # told the class count, the evidence says so rather than estimating it
    told = diagnose(make_history(train, val, acc_train, acc_val), metric_name="acc", classes=3)
    assert told.verdict == "underfitting" and any("for 3 classes" in line for line in told.evidence)


def test_validation_bottoming_and_climbing_20_percent_while_training_falls_is_overfitting():
    n = 30
    train = [0.9 * 0.93**i for i in range(n)]
    val = [0.9 * 0.9**i + 0.38 for i in range(12)]  # bottoms near 0.41 at epoch 12
    val += [val[-1] * (1 + 0.2 * (k + 1) / (n - 12)) for k in range(n - 12)]  # then +20 % by the end
    assert diagnose(make_history(train, val)).verdict == "overfitting"
    assert diagnose(make_history(train, val, 0.9, 0.8), metric_name="accuracy").verdict == "overfitting"


def test_validation_stalled_while_the_gap_widens_is_overfitting():
    # val best at epoch 6 of 11 and ~5 % worse after; training loss falls by two thirds after it
    train = [1.49, 0.61, 0.35, 0.25, 0.21, 0.161, 0.124, 0.102, 0.082, 0.064, 0.053]
    val = [0.85, 0.38, 0.276, 0.235, 0.2311, 0.2309, 0.2328, 0.234, 0.2318, 0.2539, 0.2427]
    diagnosis = diagnose(make_history(train, val, 0.98, 0.92), metric_name="accuracy")
    assert diagnosis.verdict == "overfitting"
    assert any("has not improved since epoch 6" in line for line in diagnosis.evidence), diagnosis.evidence


def test_a_learning_rate_ramp_with_validation_swinging_is_lr_too_high():
    # a schedule ramping 0.001 -> 0.1 while validation loss swings between 1.4 and 8.6
    lrs = [0.001 * 1.6**i for i in range(11)] + [0.1] * 9
    train = [2.3, 1.9, 1.7, 1.6, 1.5, 1.45, 1.42, 1.40, 1.41, 1.39, 1.40, 1.38, 1.39, 1.37, 1.38, 1.36, 1.37, 1.36, 1.36, 1.35]
    val = [2.2, 1.8, 1.6, 1.5, 2.4, 1.4, 3.9, 1.6, 8.6, 2.0, 5.1, 1.5, 4.4, 1.9, 6.0, 1.7, 3.2, 1.6, 7.5, 2.1]
    history = make_history(train, val)
    diagnosis = diagnose(history, learning_rates=lrs)
    assert diagnosis.verdict == "lr_too_high", diagnosis.evidence
    assert any("learning rate rose from 0.001 to 0.1" in line for line in diagnosis.evidence)
    assert _rec(diagnosis, "learning_rate").action == "decrease"
    # without the learning-rate column there is nothing to explain the swings by
    assert diagnose(history).verdict != "lr_too_high"


def test_a_blow_up_that_recovers_is_lr_too_high_and_handled_when_the_kept_epoch_comes_after_it():
    train = [1.59, 0.133, 1.416, 1.08, 0.441, 0.114, 0.061, 0.039, 0.037, 0.037, 0.039, 0.048, 0.040, 0.045]
    val = [0.330, 0.092, 789.0, 0.995, 0.146, 0.084, 0.087, 0.024, 0.025, 0.047, 0.045, 0.100, 0.070, 0.073]
    diagnosis = diagnose(make_history(train, val))
    assert diagnosis.verdict == "lr_too_high"
    assert "blew up" in diagnosis.evidence[0] and "789" in diagnosis.evidence[0]
    # the same curve from a run that restores its best weights (epoch 8, after the recovery): handled
    restored = diagnose(make_history(train, val), Hyperparameters(early_stopping=True, patience=6, epochs=14), kept_epoch=8)
    assert restored.verdict != "lr_too_high"
    assert any(line.startswith("also lr too high, handled") for line in restored.evidence)


def test_a_loss_ending_at_the_chance_level_is_a_collapse_not_a_divergence():
    # Adam at 0.3: falls to 0.03, then the network dies and predicts a constant: 0.693 = ln 2 at the end
    train = [0.30, 0.12, 0.06, 0.04, 0.033, 0.05, 0.2, 0.5, 0.69, 0.693, 0.693, 0.693]
    hp = Hyperparameters(learning_rate=0.3, early_stopping=False, epochs=12)
    diagnosis = diagnose(
        make_history(train, [t + 0.01 for t in train]), hp, BINARY_BASELINES | {"trivial": {"val_loss": 0.693, "val_metric": 0.5}}
    )
    assert diagnosis.verdict == "lr_too_high"


# ---------------------------------------------------------------- issue 8: honest good fit


def test_a_kept_model_no_better_than_linear_is_not_a_good_fit():
    # the dashboard's case: converged, close curves, kept validation loss 0.415 vs the linear model's 0.40
    train = [0.37 + 0.4 * math.exp(-i / 3) for i in range(30)]
    val = [t + 0.045 for t in train]
    baselines = {"trivial": {"val_loss": 0.69, "val_metric": 0.5}, "linear": {"val_loss": 0.40, "val_metric": 0.82}}
    hp = Hyperparameters(epochs=30, early_stopping=False)
    diagnosis = diagnose(make_history(train, val, 0.83, 0.82), hp, baselines)
    assert diagnosis.verdict == "underfitting"
    assert diagnosis.title == "Underfitting: no better than a linear model"
    assert any("the linear model's 0.4" in line for line in diagnosis.evidence), diagnosis.evidence
    _recommendations_are_consistent(diagnosis, hp)
    # 10 % better than linear: a good fit, and the summary says what it was checked against
    better = diagnose(make_history(train, [v - 0.06 for v in val], 0.83, 0.82), hp, baselines)
    assert better.verdict == "good_fit"
    assert "beats a linear model's (0.4)" in better.summary


def test_an_overfit_rescued_by_early_stopping_that_loses_to_linear_is_still_overfitting():
    train, val = overfitting_curves(n=20, best=8)
    best_val = min(val)
    baselines = {"trivial": {"val_loss": 0.69, "val_metric": 0.5}, "linear": {"val_loss": 0.99 * best_val, "val_metric": 0.9}}
    diagnosis = diagnose(make_history(train, val), Hyperparameters(early_stopping=True, patience=12), baselines)
    assert diagnosis.verdict == "overfitting"  # restored epoch 8 is 1 % worse than linear: regularize, do not stop here


def test_good_fit_summary_says_what_was_checked():
    train, val = converged_curves()
    without = diagnose(make_history(train, val))
    assert without.verdict == "good_fit"
    assert "baselines" in without.summary and "clearly beats" not in without.summary
    assert any(line.startswith("no baselines in a log") for line in without.evidence)
    logged = diagnose(make_history(train, val, 0.96, 0.95), metric_name="accuracy")
    assert logged.verdict == "good_fit" and "chance level" in logged.summary
    with_baselines = diagnose(make_history(train, val, 0.96, 0.95), Hyperparameters(epochs=30), BINARY_BASELINES)
    assert "linear model" in with_baselines.summary
    assert not any(line.startswith("no baselines") for line in with_baselines.evidence)


def test_a_log_without_validation_is_judged_on_its_training_loss_not_called_diverged():
    # validation never logged (NaN in every epoch): not a blow-up; training still falls 6 % in the last epoch
    train = [1.99, 1.4, 1.1, 0.9, 0.78, 0.68, 0.6, 0.559, 0.514, 0.483]
    diagnosis = diagnose(make_history(train, [math.nan] * 10))
    assert diagnosis.verdict == "not_converged"
    assert any("judged on the training loss" in line for line in diagnosis.evidence)
    # a validation loss that was measured and then became NaN is still a divergence
    assert diagnose(make_history(train, [1.0, 0.9, math.nan] + [math.nan] * 7)).verdict == "diverged"


def test_validation_at_its_best_while_training_still_falls_fast_is_not_converged():
    # val flattens at its best over the last three epochs (0.3169, 0.3171, 0.3173) while training falls 8 % per epoch
    train = [5.82, 2.1, 1.5, 1.2, 1.0, 0.9, 0.8, 0.727, 0.68, 0.627]
    val = [1.463, 0.9, 0.6, 0.5, 0.42, 0.37, 0.34, 0.3169, 0.3171, 0.3173]
    assert diagnose(make_history(train, val, math.nan, 0.89), metric_name="acc").verdict == "not_converged"


def test_a_run_stopped_by_hand_while_improving_gets_no_knob_advice() -> None:
    """Stopped by the user at epoch 40 of 200 on a falling curve: the same curve that ended on its own
    gets "raise the learning rate / more epochs"; stopped by hand it says so and advises nothing."""
    from core.history import EpochRecord as Record

    history = [Record(i, 1.0 - 0.02 * i, 1.05 - 0.02 * i, 0.5, 0.5, 0.01) for i in range(1, 41)]
    hp = Hyperparameters(epochs=200, learning_rate=1e-4)
    ended = diagnose(history, hp, None, status="completed", kept_epoch=40)
    stopped = diagnose(history, hp, None, status="stopped", kept_epoch=40)
    assert ended.verdict == stopped.verdict == "not_converged"
    assert {r.knob for r in ended.recommendations} >= {"learning_rate"}
    assert stopped.recommendations == []
    assert "stopped" in stopped.title.lower() and "epoch 40 of up to 200" in stopped.evidence[0]


def test_a_run_stopped_before_its_first_epoch_is_not_judged() -> None:
    result = diagnose([], Hyperparameters(), None, status="stopped")
    assert result.title == "Stopped before the first epoch"
    assert result.recommendations == []
    assert diagnose([], Hyperparameters(), None).recommendations  # an empty log still gets the usual advice


def test_lows_before_is_min_of_every_prefix_nans_and_infinities_included() -> None:
    """The rules' running minimum (one pass, so a 20,000-epoch log diagnoses in well under a second) must
    answer exactly what `min(values[:i])` answered, NaN placement included."""
    import random

    from core.diagnosis.signals import lows_before

    rng = random.Random(0)
    for _ in range(5000):
        values = [rng.choice([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, rng.random()]) for _ in range(rng.randint(1, 10))]
        lows = lows_before(values)
        assert len(lows) == len(values) + 1
        for i in range(1, len(values) + 1):
            expected = min(values[:i])
            assert lows[i] == expected or (math.isnan(lows[i]) and math.isnan(expected)), (values, i)
