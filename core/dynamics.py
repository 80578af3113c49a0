"""What happened inside the network while it trained: per layer, per epoch (stdlib only; row 0).

The worker measures it (core.training.probe), the run store keeps it with the run (`extra["dynamics"]`,
live like the loss), the diagnosis reads it (core.diagnosis.dynamics) and the Learn page draws it.

Per layer and epoch (epoch 0 is the network as initialised, before any update):
- `weight_norm`, `bias_norm`: the Frobenius norm of the layer's weight matrix and bias vector;
- `grad_norm`: the norm of the loss's gradient with respect to the weight matrix on the epoch's last
  mini-batch (None at epoch 0);
- `update_ratio`: how far the epoch moved the weights, ||W_e - W_(e-1)|| / ||W_(e-1)|| (None at epoch 0);
- `drift`: how far from the initial weights, ||W_e - W_0|| / ||W_0||;
- `dead`: for a hidden layer of the ReLU family, the share of its units that output nothing for every
  validation probe row (None for other layers); `saturated`: for tanh and sigmoid, the share of
  (row, unit) inputs in the flat tails of the curve (None for other layers).
Histograms of each layer's weights and biases are kept at `snapshot` epochs only (the first
five, then about 30 spread over the run, and the last), so a long run's record stays small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

STATS = ("weight_norm", "bias_norm", "grad_norm", "update_ratio", "drift", "dead", "saturated")
FIRST_SNAPSHOTS = 5  # every one of the first epochs: the distributions change fastest there
SNAPSHOTS = 30  # then about this many over the whole budget
HISTOGRAM_BINS = 20


def snapshot_epochs(budget: int) -> set[int]:
    """The epochs whose histograms are kept for a run of up to `budget` epochs (the last one is added by the
    recorder when the run ends)."""
    stride = max(1, math.ceil(budget / SNAPSHOTS))
    return set(range(FIRST_SNAPSHOTS + 1)) | set(range(0, budget + 1, stride))


@dataclass(frozen=True)
class LayerInfo:
    """One Linear layer of the network, as the model file names it."""

    name: str  # "hidden layer 1" ... "output layer"
    weight: str  # the state_dict key of its weight matrix, e.g. "0.weight"
    bias: str  # ... and of its bias, e.g. "0.bias"
    inputs: int
    outputs: int
    activation: str | None  # the activation after it (None for the output layer)

    @property
    def count(self) -> int:
        """Learned parameters: inputs x outputs weights and one bias per output."""
        return self.inputs * self.outputs + self.outputs

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weight": self.weight,
            "bias": self.bias,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "activation": self.activation,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LayerInfo:
        activation = values.get("activation")
        return cls(
            str(values["name"]),
            str(values["weight"]),
            str(values["bias"]),
            int(values["inputs"]),
            int(values["outputs"]),
            None if activation is None else str(activation),
        )


@dataclass(frozen=True)
class Histogram:
    low: float
    high: float
    counts: list[int]

    def to_list(self) -> list[Any]:
        return [self.low, self.high, list(self.counts)]

    @classmethod
    def from_list(cls, values: list[Any]) -> Histogram:
        return cls(_number(values[0]), _number(values[1]), [int(c) for c in values[2]])

    def centers(self) -> list[float]:
        width = (self.high - self.low) / max(1, len(self.counts))
        return [self.low + width * (i + 0.5) for i in range(len(self.counts))]


@dataclass
class Snapshot:
    epoch: int
    weights: list[Histogram]  # one per layer
    biases: list[Histogram]


@dataclass
class Dynamics:
    """A run's record: layers, the epochs measured and, per statistic, one row per epoch of one value per layer."""

    layers: list[LayerInfo]
    activation: str
    probe_val_rows: int = 0  # validation rows of the dead / saturated count
    epochs: list[int] = field(default_factory=list)
    stats: dict[str, list[list[float | None]]] = field(default_factory=lambda: {name: [] for name in STATS})
    snapshots: list[Snapshot] = field(default_factory=list)

    def add(self, epoch: int, values: dict[str, list[float | None]]) -> None:
        self.epochs.append(epoch)
        for name in STATS:
            self.stats[name].append(list(values[name]))

    def series(self, name: str, layer: int) -> list[float | None]:
        """One statistic of one layer, epoch by epoch (aligned with `epochs`)."""
        return [row[layer] for row in self.stats[name]]

    def at(self, name: str, epoch_index: int) -> list[float | None]:
        return list(self.stats[name][epoch_index])

    @property
    def hidden(self) -> list[int]:
        """Indexes of the hidden layers (those followed by an activation)."""
        return [i for i, layer in enumerate(self.layers) if layer.activation is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [layer.to_dict() for layer in self.layers],
            "activation": self.activation,
            "probe_val_rows": self.probe_val_rows,
            "epochs": list(self.epochs),
            "stats": {name: [[_clean(v) for v in row] for row in rows] for name, rows in self.stats.items()},
            "snapshots": [
                {"epoch": s.epoch, "weights": [h.to_list() for h in s.weights], "biases": [h.to_list() for h in s.biases]}
                for s in self.snapshots
            ],
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Dynamics:
        stats = values.get("stats") or {}
        return cls(
            layers=[LayerInfo.from_dict(layer) for layer in values.get("layers", [])],
            activation=str(values.get("activation", "")),
            probe_val_rows=int(values.get("probe_val_rows", 0)),
            epochs=[int(e) for e in values.get("epochs", [])],
            stats={name: [[_optional(v) for v in row] for row in stats.get(name, [])] for name in STATS},
            snapshots=[
                Snapshot(
                    int(s["epoch"]),
                    [Histogram.from_list(h) for h in s.get("weights", [])],
                    [Histogram.from_list(h) for h in s.get("biases", [])],
                )
                for s in values.get("snapshots", [])
            ],
        )


def _clean(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a diverged run's norms are stored as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
