"""How many parameters a network of these knobs learns, per layer: arithmetic, no torch.

The web process shows these counts beside the knobs; it must not import torch to do so.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.hyperparameters import Hyperparameters


@dataclass(frozen=True)
class LayerParameters:
    layer: str  # "hidden 1", ..., "output"
    shape: str  # "2 -> 128"
    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def parameter_counts(n_inputs: int, n_outputs: int, hp: Hyperparameters) -> list[LayerParameters]:
    """Learned parameters per linear layer: what training adjusts, as opposed to the knobs above."""
    rows = []
    size = n_inputs
    sizes = [hp.width] * hp.hidden_layers + [n_outputs]
    for index, out in enumerate(sizes):
        name = "output" if index == len(sizes) - 1 else f"hidden {index + 1}"
        rows.append(LayerParameters(name, f"{size} -> {out}", weights=size * out, biases=out))
        size = out
    return rows
