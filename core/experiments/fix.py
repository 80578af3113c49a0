"""Fix it for me: train, diagnose, apply the top recommendation, repeat until good_fit or N fixes.

Round 0 is the run as the user set it up; each later round changes exactly one knob, the first
recommendation of the previous round that leads to settings not tried yet, so the path stays
readable: one change, one new curve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from core.data.dataset import Dataset
from core.diagnosis import Recommendation
from core.dynamics import Dynamics
from core.experiments.baselines import Baselines, compute_baselines
from core.experiments.run import RunResult, run_experiment
from core.history import EpochRecord
from core.hyperparameters import HyperparameterError, Hyperparameters
from core.jsonsafe import json_safe

DEFAULT_ROUNDS = 3
MAX_ROUNDS = 10


@dataclass
class FixResult:
    rounds: list[RunResult] = field(default_factory=list)
    changes: list[Recommendation | None] = field(default_factory=list)  # what led to each round; None for round 0
    stopped: bool = False  # a stop request ended the search

    @property
    def final(self) -> RunResult:
        return self.rounds[-1]

    @property
    def improved(self) -> bool:
        """The last round keeps a model with a lower validation loss than round 0."""
        return len(self.rounds) > 1 and self.final.kept_val_loss < self.rounds[0].kept_val_loss

    @property
    def fixed(self) -> bool:
        return self.final.diagnosis.verdict == "good_fit"

    def to_dict(self) -> dict[str, Any]:
        rounds = []
        for index, (result, change) in enumerate(zip(self.rounds, self.changes, strict=True)):
            entry = result.to_dict()
            entry["round"] = index
            entry["change"] = change.to_dict() if change is not None else None
            rounds.append(entry)
        return json_safe(
            {
                "rounds": rounds,
                "improved": self.improved,
                "fixed": self.fixed,
                "final_verdict": self.final.diagnosis.verdict,
                "final_hyperparameters": self.final.hyperparameters.to_dict(),
                "stopped": self.stopped,
            }
        )


def next_change(result: RunResult, tried: set[Hyperparameters]) -> tuple[Recommendation, Hyperparameters] | None:
    """The first recommendation that gives valid, untried settings."""
    for rec in result.diagnosis.recommendations:
        if rec.value is None:
            continue
        try:
            candidate = result.hyperparameters.replace(**{rec.knob: rec.value})
        except HyperparameterError:
            continue
        if candidate not in tried:
            return rec, candidate
    return None


def fix_run(
    dataset: Dataset,
    hp: Hyperparameters,
    rounds: int = DEFAULT_ROUNDS,
    *,
    stop_event: threading.Event | None = None,
    baselines: Baselines | None = None,
    on_epoch: Callable[[int, EpochRecord], None] | None = None,
    on_round: Callable[[int, RunResult, Recommendation | None], None] | None = None,
    on_model: Callable[[EpochRecord, nn.Module], None] | None = None,
    on_dynamics: Callable[[Dynamics], None] | None = None,
    dynamics: bool = True,
) -> FixResult:
    """Up to `rounds` fixes after the first run. Callbacks get (round index, ...). `dynamics=False` trains
    without the per-layer record, so only the loss curves guide the fixes (bench/bench_dynamics.py's baseline)."""
    if not 1 <= rounds <= MAX_ROUNDS:
        raise HyperparameterError(f"rounds must be between 1 and {MAX_ROUNDS}, got {rounds}")
    baselines = baselines if baselines is not None else compute_baselines(dataset)
    outcome = FixResult()
    tried: set[Hyperparameters] = set()
    change: Recommendation | None = None
    current = hp
    for index in range(rounds + 1):
        tried.add(current)
        epoch_hook = (lambda record, i=index: on_epoch(i, record)) if on_epoch else None
        result = run_experiment(
            dataset,
            current,
            stop_event=stop_event,
            on_epoch=epoch_hook,
            on_model=on_model,
            baselines=baselines,
            on_dynamics=on_dynamics,
            dynamics=dynamics,
        )
        outcome.rounds.append(result)
        outcome.changes.append(change)
        if on_round:
            on_round(index, result, change)
        if result.status == "stopped":
            outcome.stopped = True
            break
        if result.diagnosis.verdict == "good_fit" or index == rounds:
            break
        step = next_change(result, tried)
        if step is None:
            break
        change, current = step
    return outcome
