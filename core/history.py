"""Per-epoch records of a run: what charts, diagnosis, storage and the CLI all read."""

from __future__ import annotations

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


class History(list[EpochRecord]):
    """The per-epoch records of one run, with column access: history["val_loss"]."""

    def column(self, name: str) -> list[float]:
        return [float(getattr(record, name)) for record in self]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.column(key)
        return super().__getitem__(key)
