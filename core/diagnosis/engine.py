"""diagnose(): run the rules in priority order over one run's signals and assemble the Diagnosis."""

from __future__ import annotations

from collections.abc import Sequence

from core.diagnosis.advice import ADVICE, Advice
from core.diagnosis.dynamics import explain, inspect
from core.diagnosis.result import Diagnosis
from core.diagnosis.rules import RULES, Finding, GoodFit, Rule
from core.diagnosis.signals import Baselines, Signals, fmt, measure
from core.dynamics import Dynamics
from core.history import EpochRecord
from core.hyperparameters import Hyperparameters

VERDICTS = ("diverged", "lr_too_high", "not_converged", "underfitting", "overfitting", "good_fit")


def diagnose(
    history: Sequence[EpochRecord],
    hp: Hyperparameters | None = None,
    baselines: Baselines | None = None,
    *,
    kept_epoch: int | None = None,
    status: str | None = None,
    learning_rates: Sequence[float] | None = None,
    metric_name: str | None = None,
    classes: int | None = None,
    dynamics: Dynamics | None = None,
) -> Diagnosis:
    """The verdict on one run. Pure: the same history, knobs and baselines give the same Diagnosis.

    A run from FitLab's Trainer passes its own record of the kept epoch and why it ended (`status`);
    a log or a hand-made curve leaves them out, and early stopping is replayed over the curve. A log
    may pass what it has instead of baselines: its per-epoch learning rates, its metric's name
    (an accuracy gives a chance level) and, when known, the class count. A FitLab run passes its per-layer
    record (`dynamics`): what it explains is said in the verdict (core.diagnosis.dynamics).
    """
    return diagnose_with(
        RULES,
        history,
        hp,
        baselines,
        kept_epoch=kept_epoch,
        status=status,
        learning_rates=learning_rates,
        metric_name=metric_name,
        classes=classes,
        dynamics=dynamics,
    )


def diagnose_with(
    rules: Sequence[Rule],
    history: Sequence[EpochRecord],
    hp: Hyperparameters | None = None,
    baselines: Baselines | None = None,
    *,
    kept_epoch: int | None = None,
    status: str | None = None,
    learning_rates: Sequence[float] | None = None,
    metric_name: str | None = None,
    classes: int | None = None,
    dynamics: Dynamics | None = None,
) -> Diagnosis:
    """diagnose() with another registry: the first rule of `rules` that fires names the verdict."""
    if not history:
        return _empty_history_diagnosis(hp, baselines, status)
    s = measure(
        history,
        hp,
        baselines,
        kept_epoch=kept_epoch,
        status=status,
        learning_rates=learning_rates,
        metric_name=metric_name,
        classes=classes,
    )
    fired, handled = _run_rules(rules, s)
    rule, finding = fired[0]
    evidence, secondary = _gather_evidence(s, fired, handled)
    advice = Advice(hp)
    rule.recommend(s, advice)
    diagnosis = Diagnosis(
        rule.verdict, rule.summarize(s, finding), evidence, advice.items, secondary, title=rule.title, severity=rule.severity
    )
    if status != "stopped":  # a run stopped by hand is judged on its curve so far, not explained
        explain(diagnosis, inspect(dynamics, diagnosis.verdict, s.n), hp)
    return _stopped_by_hand(diagnosis, s, hp) if status == "stopped" else diagnosis


def _empty_history_diagnosis(hp: Hyperparameters | None, baselines: Baselines | None, status: str | None) -> Diagnosis:
    """The verdict on a run with no completed epoch: stopped by hand before the first, or simply empty."""
    if status == "stopped":
        return Diagnosis(
            "not_converged",
            "Stopped before the first epoch: there is nothing to judge yet.",
            ["the run was stopped before its first epoch ended: no loss was recorded"],
            [],
            title="Stopped before the first epoch",
            severity="warning",
        )
    advice = Advice(hp)
    empty = Signals([], [], [], [], [], hp=hp, baselines=baselines)

    ADVICE["not_converged"](empty, advice)
    return Diagnosis(
        "not_converged",
        "No epoch was completed.",
        ["the history is empty"],
        advice.items,
        title="Not converged yet",
        severity="warning",
    )


def _run_rules(rules: Sequence[Rule], s: Signals) -> tuple[list[tuple[Rule, Finding]], list[tuple[Rule, str]]]:
    """The rules that fired, in priority order up to the first terminal one (never empty), and those that
    found their problem already handled, with what handled it."""
    fired: list[tuple[Rule, Finding]] = []
    handled: list[tuple[Rule, str]] = []
    for rule in rules:
        finding = rule.detect(s)
        if finding is None:
            continue
        if finding.handled is not None:
            handled.append((rule, finding.handled))
            continue
        fired.append((rule, finding))
        if rule.terminal:
            break
    if not fired:  # a registry without a catch-all
        fallback = GoodFit()
        fired.append((fallback, fallback.detect(s)))
    return fired, handled


def _gather_evidence(
    s: Signals, fired: list[tuple[Rule, Finding]], handled: list[tuple[Rule, str]]
) -> tuple[list[str], list[str]]:
    """(evidence, secondary verdicts): the first fired rule's evidence, then what else fired or was handled."""
    rule, finding = fired[0]
    evidence = list(finding.evidence)
    if not rule.terminal:
        note = _early_stopping_note(s)
        if note:
            evidence.append(note)
        evidence.extend(_what_was_missing(s))
    secondary: list[str] = []
    for other, found in fired[1:]:
        if other.verdict in (rule.verdict, "good_fit") or other.verdict in secondary:
            continue
        secondary.append(other.verdict)
        evidence.append(f"also {other.verdict.replace('_', ' ')}: {found.evidence[0]}")
    for other, text in handled:
        if other.verdict not in secondary and other.verdict != rule.verdict:
            secondary.append(other.verdict)
            evidence.append(f"also {other.verdict.replace('_', ' ')}, handled: {text}")
    return evidence, secondary


def _stopped_by_hand(diagnosis: Diagnosis, s: Signals, hp: Hyperparameters | None) -> Diagnosis:
    """A run the user stopped is judged on the epochs it ran, and says so. "Still improving" then means
    "you stopped it early", not "train faster" or "more epochs": no knob to turn yet, so no advice."""
    budget = f" of up to {hp.epochs}" if hp is not None else ""
    note = f"you stopped this run at epoch {s.epochs[-1]}{budget}: the verdict is about those {s.n} epoch(s) only"
    diagnosis.evidence.insert(0, note)
    if diagnosis.verdict != "not_converged":
        return diagnosis
    diagnosis.title = "Stopped while still improving"
    diagnosis.summary = (
        f"You stopped the run at epoch {s.epochs[-1]}{budget} while it was still improving: "
        "let it train to the end before turning a knob."
    )
    diagnosis.recommendations = []
    return diagnosis


def _early_stopping_note(s: Signals) -> str | None:
    if not s.ended_by_early_stopping:
        return None
    rise = 100 * (s.val[-1] / s.val[s.best] - 1) if s.val[s.best] > 0 else 0.0
    return (
        f"early stopping ended the run at epoch {s.epochs[-1]} after {s.n - 1 - s.best} epochs without a better "
        f"validation loss (it rose {rise:.0f} % after epoch {s.epochs[s.best]}) and restored epoch {s.epochs[s.best]}"
    )


def _what_was_missing(s: Signals) -> list[str]:
    """Say what the verdict could not be checked against (a log has no baselines)."""
    notes = [line for line in s.unavailable if line.startswith("validation loss was logged")]
    if s.baselines:
        return notes
    if s.chance is not None:
        return [f"no baselines in a log: judged against the {s.chance_note}", *notes]
    return [
        "no baselines in a log and no chance level (no class count, no accuracy metric): "
        f"judged against the first epoch's training loss {fmt(s.train[0])}",
        *notes,
    ]


def heading(diagnosis: Diagnosis) -> tuple[str, str]:
    """(title, severity) for the card: the rule's own, or the verdict's first rule's for an older stored diagnosis."""
    if diagnosis.title and diagnosis.severity:
        return diagnosis.title, diagnosis.severity
    rule = next((r for r in RULES if r.verdict == diagnosis.verdict), None)
    if rule is None:
        return diagnosis.verdict.replace("_", " ").capitalize(), "warning"
    return diagnosis.title or rule.title, diagnosis.severity or rule.severity
