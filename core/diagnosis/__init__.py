"""Diagnosis: a pure function of (history, hyperparameters, baselines) -> Diagnosis.

The rules (core/diagnosis/rules.py) follow ../shared/docs/diagnosis-guide.md: Prechelt's
generalization loss, the Tuning Playbook's instability and best-epoch position, Ng's avoidable bias
against baselines, Karpathy's chance level. Each is one class; RULES, one ordered tuple, is the
priority. Recommendations come from the cheat sheet in the user's document, with values from the
hyperparameter metadata.
"""

from __future__ import annotations

from core.diagnosis.engine import VERDICTS, diagnose, diagnose_with, heading
from core.diagnosis.result import Diagnosis, Recommendation
from core.diagnosis.rules import RULES, Finding, Rule
from core.diagnosis.signals import Baselines, Signals

# Verdicts in the order the rules report them (the first rule of each verdict in RULES).
PRIORITY = tuple(dict.fromkeys(rule.verdict for rule in RULES if rule.verdict != "good_fit"))
TITLES = {verdict: next(r.title for r in RULES if r.verdict == verdict) for verdict in VERDICTS}

__all__ = [
    "PRIORITY",
    "RULES",
    "TITLES",
    "VERDICTS",
    "Baselines",
    "Diagnosis",
    "Finding",
    "Recommendation",
    "Rule",
    "Signals",
    "diagnose",
    "diagnose_with",
    "heading",
]
