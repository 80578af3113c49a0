"""The knobs a person sets before training: one typed dataclass, its ranges and its help text.

Defaults are the start values of the cheat sheet in the user's document
(`parameters-and-hyperparameters.md`): Adam at 0.001, batch 32, 2 layers of 128, no dropout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

OPTIMIZERS = ("adam", "sgd", "adamw")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu")

# Values offered on the dashboard's sliders. Recommendations snap to these so that "Apply" can
# always set the slider to exactly the recommended value.
LEARNING_RATE_STEPS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
BATCH_SIZE_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WIDTH_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WEIGHT_DECAY_STEPS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)


# Cheat-sheet values that advice moves a knob to (the user's document), next to the slider grids
# above and the bounds in RANGES below: diagnosis recommendations read them instead of literals.
USUAL_LEARNING_RATE = {"adam": 1e-3, "adamw": 1e-3, "sgd": 1e-2}  # usual start per optimizer (SGD: the typical 0.01)
DROPOUT_AGAINST_OVERFITTING = (0.2, 0.5)  # "Typical Values: 0.2 (20%) to 0.5 (50%)"
DROPOUT_STEP = 0.2  # one recommendation adds this much dropout (0 -> 0.2 -> 0.4 ...), 0.1 past the typical top
WEIGHT_DECAY_START = 1e-4  # "Typical Values: 1e-4, 1e-5": the first weight decay to try
HIDDEN_LAYERS_START = 2  # "Start small (1-2 layers)": what a linear model (0 layers) grows to
LONG_RUN_EPOCHS = 200  # with early stopping on, "set epochs high": the budget a still-improving run gets


class HyperparameterError(ValueError):
    """A value outside its documented range; the message names the field and the range."""


@dataclass(frozen=True)
class Hyperparameters:
    learning_rate: float = 0.001  # step size of the optimizer; cheat sheet: 0.001 with Adam
    batch_size: int = 32  # examples per parameter update; cheat sheet: 32 or 64
    epochs: int = 50  # passes over the training set (upper bound with early stopping); 20-50
    early_stopping: bool = True  # stop when validation loss stops improving, keep the best weights
    patience: int = 10  # epochs without improvement before early stopping ends the run
    hidden_layers: int = 2  # depth; cheat sheet: start with 2-3 layers
    width: int = 128  # neurons per hidden layer; cheat sheet: 128
    dropout: float = 0.0  # share of neurons switched off per step; cheat sheet: 0.0, 0.2-0.5 if overfitting
    weight_decay: float = 0.0  # L2 penalty on weights; typical 1e-4 or 1e-5 when used
    optimizer: str = "adam"  # adam, sgd (momentum 0.9) or adamw
    activation: str = "relu"  # non-linearity between layers
    seed: int = 0  # fixes initial weights, shuffling and the data split: same seed, same history

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> Hyperparameters:
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Hyperparameters:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise HyperparameterError(f"unknown hyperparameter(s): {', '.join(unknown)}")
        return cls(**{k: _coerce(k, v) for k, v in values.items()})


# field -> (low, high); both ends inclusive.
RANGES: dict[str, tuple[float, float]] = {
    "learning_rate": (1e-5, 1.0),
    "batch_size": (1, 1024),
    "epochs": (1, 1000),
    "patience": (1, 1000),
    "hidden_layers": (0, 8),
    "width": (1, 1024),
    "dropout": (0.0, 0.9),
    "weight_decay": (0.0, 0.1),
    "seed": (0, 2**31 - 1),
}

INT_FIELDS = ("batch_size", "epochs", "patience", "hidden_layers", "width", "seed")
FLOAT_FIELDS = ("learning_rate", "dropout", "weight_decay")


def _coerce(name: str, value: Any) -> Any:
    if name in INT_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    if name in FLOAT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def validate(hp: Hyperparameters) -> None:
    for name in INT_FIELDS:
        value = getattr(hp, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise HyperparameterError(f"{name} must be a whole number, got {value!r}")
    for name in FLOAT_FIELDS:
        value = getattr(hp, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise HyperparameterError(f"{name} must be a finite number, got {value!r}")
    for name, (low, high) in RANGES.items():
        value = getattr(hp, name)
        if not low <= value <= high:
            raise HyperparameterError(f"{name} must be between {_fmt(low)} and {_fmt(high)}, got {_fmt(value)}")
    if not isinstance(hp.early_stopping, bool):
        raise HyperparameterError(f"early_stopping must be true or false, got {hp.early_stopping!r}")
    if hp.optimizer not in OPTIMIZERS:
        raise HyperparameterError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {hp.optimizer!r}")
    if hp.activation not in ACTIVATIONS:
        raise HyperparameterError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {hp.activation!r}")


def _fmt(value: float) -> str:
    return f"{value:g}"


def snap(value: float, steps: tuple[float, ...]) -> float:
    """The step closest to value (on a log scale when all steps are positive)."""
    if all(s > 0 for s in steps) and value > 0:
        return min(steps, key=lambda s: abs(math.log(s) - math.log(value)))
    return min(steps, key=lambda s: abs(s - value))


# Help text shown next to each knob: what it does, typical values, what too low / too high does.
HELP: dict[str, str] = {
    "learning_rate": (
        "Size of each optimizer step, the single most important knob. Typical: 0.1, 0.01, "
        "0.001 (start here with Adam), 0.0001. Too low: learns very slowly. Too high: overshoots, "
        "bounces around, diverges."
    ),
    "batch_size": (
        "Examples seen before each update. Small (8-16): noisy steps, often generalizes better. "
        "Large (256-1024): smooth steps, can settle in sharp minima. Start at 32 or 64."
    ),
    "epochs": (
        "Passes over the whole training set. Too few: underfitting. Too many: memorizing "
        "(overfitting). Set it high and let early stopping end the run; 20-50 to start."
    ),
    "early_stopping": "Stop when validation loss has not improved for `patience` epochs and keep the best weights.",
    "patience": "Epochs without a better validation loss before early stopping ends the run.",
    "hidden_layers": (
        "Depth: layers between input and output. Start small (1-2); deeper learns more complex "
        "features but is harder to train. 0 makes a linear model."
    ),
    "width": (
        "Neurons per hidden layer. Common: 64, 128, 256, 512. Wider captures more detail but "
        "overfits more easily and computes longer."
    ),
    "dropout": (
        "Chance of switching a neuron off in each training step; forces redundancy. Start at 0; "
        "0.2-0.5 against overfitting; too high underfits."
    ),
    "weight_decay": ("L2 penalty on large weights: smoother, simpler models. Typical 1e-4 or 1e-5; too high underfits."),
    "optimizer": "Adam adapts step sizes per weight (start here); SGD uses momentum 0.9; AdamW decouples weight decay.",
    "activation": "Non-linearity between layers. ReLU is the usual start; tanh/sigmoid saturate in deep nets.",
    "seed": "Fixes initial weights, shuffling and the split: the same seed gives the same curves.",
}

# Presets that teach: dataset settings plus hyperparameters. Each must earn its own verdict.
SCENARIOS: dict[str, dict[str, Any]] = {
    "good_fit": {
        "description": "Default knobs on a clean, well-sized dataset.",
        "expected": "good_fit",
        "dataset": {"name": "moons", "samples": 1000, "noise": 0.2},
        "hyperparameters": {},
    },
    "overfitting": {
        "description": "Tiny noisy data, a huge model, no regularization, long training, no early stopping.",
        "expected": "overfitting",
        "dataset": {"name": "moons", "samples": 150, "noise": 0.4},
        "hyperparameters": {
            "hidden_layers": 4,
            "width": 512,
            "epochs": 300,
            "early_stopping": False,
            "batch_size": 16,
        },
    },
    "underfitting": {
        "description": "No hidden layer (a linear model) on rings that no straight line can separate.",
        "expected": "underfitting",
        "dataset": {"name": "circles", "samples": 1000, "noise": 0.1},
        "hyperparameters": {"hidden_layers": 0, "learning_rate": 0.01},
    },
    "lr_too_high": {
        "description": "Adam with a learning rate 300x the usual start.",
        "expected": "lr_too_high",
        "dataset": {"name": "moons", "samples": 1000, "noise": 0.2},
        "hyperparameters": {"learning_rate": 0.3, "early_stopping": False, "epochs": 40},
    },
    "lr_too_low": {
        "description": "A learning rate 100x below the usual start: still learning when time runs out.",
        "expected": "not_converged",
        "dataset": {"name": "moons", "samples": 1000, "noise": 0.2},
        "hyperparameters": {"learning_rate": 1e-5, "epochs": 30},
    },
}


def scenario_hyperparameters(name: str, base: Hyperparameters | None = None) -> Hyperparameters:
    if name not in SCENARIOS:
        raise HyperparameterError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    return (base or Hyperparameters()).replace(**SCENARIOS[name]["hyperparameters"])
