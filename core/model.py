"""The network: a multilayer perceptron built from the hyperparameters, and its learned-parameter counts."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.hyperparameters import Hyperparameters

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


def build_model(n_inputs: int, n_outputs: int, hp: Hyperparameters) -> nn.Sequential:
    """hidden_layers x (Linear, activation[, Dropout]) then a Linear output layer.

    The dropout module is left out entirely at rate 0: its mask generation costs time even then.
    """
    layers: list[nn.Module] = []
    size = n_inputs
    for _ in range(hp.hidden_layers):
        layers.append(nn.Linear(size, hp.width))
        layers.append(_ACTIVATIONS[hp.activation]())
        if hp.dropout > 0:
            layers.append(nn.Dropout(hp.dropout))
        size = hp.width
    layers.append(nn.Linear(size, n_outputs))
    return nn.Sequential(*layers)


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
