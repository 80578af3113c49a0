"""A stored run, typed: what every reader of the run store needs and would otherwise work out again.

The store keeps a run as rows of JSON (`StoredRun`); the Compare page, the exports and the Train page
read the same few facts from it: the kept epoch's losses as floats, how the data was made, the
baselines as numbers, how long it ran. `RunRecord` reads them one way, for all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.dynamics import Dynamics
from core.store.runs import ACTIVE, StoredRun


def number(value: Any) -> float | None:
    """A finite float, or None (JSON null, NaN, infinity, text, a boolean)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


@dataclass(frozen=True)
class RunRecord:
    run: StoredRun

    @property
    def kept(self) -> dict[str, Any]:
        """The kept epoch's row of the history (the weights the run keeps); {} when it kept none."""
        kept = self.run.kept_epoch or 0
        return self.run.history[kept - 1] if 0 < kept <= len(self.run.history) else {}

    @property
    def kept_val_loss(self) -> float | None:
        """Validation loss of the kept weights; None when the run kept none or it was not finite."""
        return number(self.kept.get("val_loss"))

    @property
    def kept_val_metric(self) -> float | None:
        return number(self.kept.get("val_metric"))

    @property
    def data_spec(self) -> dict[str, Any]:
        """How the data was made: name, samples, noise, seed of a built-in set; file, target, task of a CSV."""
        return dict(self.run.dataset.get("spec") or {})

    @property
    def task(self) -> str:
        return str(self.run.dataset.get("task", "classification"))

    @property
    def baselines(self) -> dict[str, dict[str, float]] | None:
        """The reference models' scores as numbers (a JSON null, i.e. a non-finite score, as NaN)."""
        if not self.run.baselines:
            return None
        return {
            name: {k: (math.nan if v is None else float(v)) for k, v in values.items()}
            for name, values in self.run.baselines.items()
        }

    @property
    def seconds(self) -> float | None:
        """Wall time from start to finish, else the sum of the epochs' times; None before any epoch."""
        if self.run.started is not None and self.run.finished is not None:
            return round(self.run.finished - self.run.started, 3)
        total = sum(number(r.get("seconds")) or 0.0 for r in self.run.history)
        return round(total, 3) if self.run.history else None

    @property
    def active(self) -> bool:
        return self.run.status in ACTIVE

    @property
    def dynamics(self) -> Dynamics | None:
        """What the worker measured inside the layers (live while it runs); None for a run without it."""
        values = (self.run.extra or {}).get("dynamics")
        if not isinstance(values, dict):
            return None
        try:
            return Dynamics.from_dict(values)
        except (KeyError, TypeError, ValueError, IndexError):  # a record from another version: not shown
            return None

    @property
    def parameters(self) -> dict[str, Any]:
        """The model file's tensors ({"tensors": [{key, shape, count}], "matrices": {key: rows}}); {} before the end."""
        values = (self.run.extra or {}).get("parameters")
        return dict(values) if isinstance(values, dict) else {}
