"""Per-epoch records of a run: what charts, diagnosis, storage and the CLI all read."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # on the whole training set at the end of the epoch, dropout off
    val_loss: float
    train_metric: float  # accuracy (classification) or R^2 (regression)
    val_metric: float
    seconds: float  # wall time of the epoch, evaluation included

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EpochRecord:
        """The inverse of to_dict; a JSON null (a non-finite loss) comes back as NaN."""

        def number(name: str) -> float:
            value = values.get(name)
            return math.nan if value is None else float(value)

        return cls(
            int(values["epoch"]),
            number("train_loss"),
            number("val_loss"),
            number("train_metric"),
            number("val_metric"),
            number("seconds"),
        )


class History(list[EpochRecord]):
    """The per-epoch records of one run, with column access: history["val_loss"]."""

    @classmethod
    def from_dicts(cls, rows: list[dict[str, Any]]) -> History:
        return cls(EpochRecord.from_dict(row) for row in rows)

    def column(self, name: str) -> list[float]:
        return [float(getattr(record, name)) for record in self]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.column(key)
        return super().__getitem__(key)


class EarlyStopping:
    """Stop when validation loss has not beaten its best for `patience` epochs (Keras semantics).

    An improvement must beat the best by a relative 1e-4 (skorch's threshold), so that float noise
    on a plateau does not keep the run alive.
    """

    def __init__(self, patience: int, min_relative_delta: float = 1e-4) -> None:
        self.patience = patience
        self.min_relative_delta = min_relative_delta
        self.best_loss = math.inf
        self.best_epoch = 0
        self.waited = 0

    def improved(self, epoch: int, val_loss: float) -> bool:
        if val_loss < self.best_loss * (1 - self.min_relative_delta) or (self.best_epoch == 0 and math.isfinite(val_loss)):
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.waited >= self.patience


def early_stopping_best(val_losses: list[float], patience: int) -> tuple[int, int | None]:
    """Replay EarlyStopping over a validation curve: (index of the epoch it keeps, index where it stops).

    The kept epoch can precede the plain minimum: gains under the 1e-4 threshold do not count. The
    stop index is None when patience never runs out.
    """
    stopper = EarlyStopping(patience)
    for epoch, loss in enumerate(val_losses, start=1):
        stopper.improved(epoch, loss)
        if stopper.should_stop:
            return stopper.best_epoch - 1, epoch - 1
    return max(0, stopper.best_epoch - 1), None
