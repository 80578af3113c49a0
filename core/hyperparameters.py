"""The knobs a person sets before training: one typed dataclass whose fields carry their own metadata.

Each field of `Hyperparameters` holds a `Knob` in its `dataclasses.field(metadata=...)`: the sidebar
label, the help text, the kind (float, int, bool or choice), the inclusive range, the slider step or
ladder, log scale, the choices. Everything else is derived from that one place:

- `validate()` (and so every `Hyperparameters(...)`): type and range checks with messages naming the range;
- the CLI flags of `python -m core train|fix|lr-find|learning-curve` (core/cli.py: `parse_value`, `flag_help`);
- the dashboard's sidebar widgets (ui/knobs.py), so the page offers exactly the validated range;
- `RANGES`, `HELP`, `INT_FIELDS`, `FLOAT_FIELDS`, `search_space_defaults()` (for a tuner).

Defaults are the start values of the cheat sheet in the user's document
(`parameters-and-hyperparameters.md`): Adam at 0.001, batch 32, 2 layers of 128, no dropout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

OPTIMIZERS = ("adam", "sgd", "adamw")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu")

# Values offered on the dashboard's sliders. Recommendations snap to these so that "Apply" can
# always set the slider to exactly the recommended value. Each ladder runs from its knob's lowest
# to its highest valid value (checked at import), so the page offers the whole validated range.
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

KnobKind = Literal["float", "int", "bool", "choice"]
KNOB = "knob"  # the key of a field's Knob in its dataclasses metadata


class HyperparameterError(ValueError):
    """A value outside its documented range; the message names the field and the range."""


@dataclass(frozen=True)
class Knob:
    """What one hyperparameter is and which values it takes: read by validation, the CLI and the sidebar."""

    label: str  # the sidebar label
    summary: str  # a short phrase: the CLI flag's help, before its range and default
    help: str  # the sidebar tooltip: what it does, typical values, what too low / too high does
    kind: KnobKind
    group: str = ""  # the sidebar section ("" = none)
    low: float | None = None  # inclusive bounds of a number
    high: float | None = None
    step: float | None = None  # the slider's step, for a number without a ladder (ints: 1)
    steps: tuple[float, ...] = ()  # the slider's ladder; advice snaps to it
    log: bool = False  # spaced on a log scale (a tuner samples it log-uniformly)
    choices: tuple[str, ...] = ()  # the values of a choice
    slider: bool = True  # False: a number box (too many values for a slider)
    requires: str | None = None  # only matters while this bool knob is on
    tunable: bool = True  # worth searching over (the seed is not)

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")

    @property
    def bounds(self) -> tuple[float, float]:
        if self.low is None or self.high is None:
            raise TypeError(f"a {self.kind} knob has no range")
        return self.low, self.high

    @property
    def widget(self) -> Literal["toggle", "selectbox", "select_slider", "slider", "number_input"]:
        """The sidebar widget that offers exactly this knob's values."""
        if self.kind == "bool":
            return "toggle"
        if self.kind == "choice":
            return "selectbox"
        if self.steps:
            return "select_slider"
        return "slider" if self.slider else "number_input"

    def format(self, value: Any) -> str:
        """A value as messages, help text and the sliders show it: ints exactly, floats with %g."""
        if self.kind == "int" and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def range_text(self) -> str:
        """`1e-05..1`, `0..8`, `adam, sgd, adamw` or `on/off`."""
        if self.kind == "bool":
            return "on/off"
        if self.kind == "choice":
            return ", ".join(self.choices)
        low, high = self.bounds
        return f"{self.format(low)}..{self.format(high)}"

    def check(self, name: str, value: Any) -> None:
        """Raise HyperparameterError, naming the field and its range, unless value is valid."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise HyperparameterError(f"{name} must be true or false, got {value!r}")
            return
        if self.kind == "choice":
            if value not in self.choices:
                raise HyperparameterError(f"{name} must be one of {', '.join(self.choices)}, got {value!r}")
            return
        if self.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise HyperparameterError(f"{name} must be a whole number, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise HyperparameterError(f"{name} must be a finite number, got {value!r}")
        low, high = self.bounds
        if not low <= value <= high:
            raise HyperparameterError(
                f"{name} must be between {self.format(low)} and {self.format(high)}, got {self.format(value)}"
            )

    def parse(self, name: str, text: str) -> Any:
        """A command-line value: converted to the knob's type and checked (HyperparameterError if bad)."""
        value: Any
        if self.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise HyperparameterError(f"{name} must be a whole number, got {text!r}") from None
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise HyperparameterError(f"{name} must be a number, got {text!r}") from None
        elif self.kind == "bool":
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "on", "off", "1", "0", "yes", "no"):
                raise HyperparameterError(f"{name} must be true or false, got {text!r}")
            value = lowered in ("true", "on", "1", "yes")
        else:
            value = text
        self.check(name, value)
        return value


@dataclass(frozen=True)
class SearchRange:
    """A tuner's default search range for one knob (Optuna: suggest_float / suggest_int / suggest_categorical)."""

    kind: KnobKind
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None  # None: continuous (floats) or 1 (ints)
    steps: tuple[float, ...] = ()  # the slider ladder, for a tuner that sticks to values the page offers
    choices: tuple[Any, ...] = ()  # a choice's values; (False, True) for a bool


def _meta(**spec: Any) -> dict[str, Knob]:
    return {KNOB: Knob(**spec)}


@dataclass(frozen=True)
class Hyperparameters:
    # step size of the optimizer; cheat sheet: 0.001 with Adam
    learning_rate: float = field(
        default=0.001,
        metadata=_meta(
            label="Learning rate",
            summary="optimizer step size",
            help=(
                "Size of each optimizer step, the single most important knob. Typical: 0.1, 0.01, "
                "0.001 (start here with Adam), 0.0001. Too low: learns very slowly. Too high: overshoots, "
                "bounces around, diverges."
            ),
            kind="float",
            group="Optimization",
            low=1e-5,
            high=1.0,
            steps=LEARNING_RATE_STEPS,
            log=True,
        ),
    )
    # examples per parameter update; cheat sheet: 32 or 64
    batch_size: int = field(
        default=32,
        metadata=_meta(
            label="Batch size",
            summary="examples per update",
            help=(
                "Examples seen before each update. Small (8-16): noisy steps, often generalizes better. "
                "Large (256-1024): smooth steps, can settle in sharp minima. Start at 32 or 64."
            ),
            kind="int",
            group="Optimization",
            low=1,
            high=1024,
            steps=BATCH_SIZE_STEPS,
        ),
    )
    # passes over the training set (upper bound with early stopping); 20-50
    epochs: int = field(
        default=50,
        metadata=_meta(
            label="Epochs (maximum)",
            summary="maximum passes over the training set",
            help=(
                "Passes over the whole training set. Too few: underfitting. Too many: memorizing "
                "(overfitting). Set it high and let early stopping end the run; 20-50 to start."
            ),
            kind="int",
            group="Optimization",
            low=1,
            high=1000,
            step=1,
        ),
    )
    # stop when validation loss stops improving, keep the best weights
    early_stopping: bool = field(
        default=True,
        metadata=_meta(
            label="Early stopping",
            summary="stop when validation loss stops improving and keep the best weights",
            help="Stop when validation loss has not improved for `patience` epochs and keep the best weights.",
            kind="bool",
            group="Optimization",
        ),
    )
    # epochs without improvement before early stopping ends the run
    patience: int = field(
        default=10,
        metadata=_meta(
            label="Patience",
            summary="epochs without improvement before early stopping",
            help="Epochs without a better validation loss before early stopping ends the run.",
            kind="int",
            group="Optimization",
            low=1,
            high=1000,
            step=1,
            requires="early_stopping",
        ),
    )
    # depth; cheat sheet: start with 2-3 layers
    hidden_layers: int = field(
        default=2,
        metadata=_meta(
            label="Hidden layers (depth)",
            summary="hidden layers",
            help=(
                "Depth: layers between input and output. Start small (1-2); deeper learns more complex "
                "features but is harder to train. 0 makes a linear model."
            ),
            kind="int",
            group="Architecture",
            low=0,
            high=8,
            step=1,
        ),
    )
    # neurons per hidden layer; cheat sheet: 128
    width: int = field(
        default=128,
        metadata=_meta(
            label="Neurons per layer (width)",
            summary="neurons per hidden layer",
            help=(
                "Neurons per hidden layer. Common: 64, 128, 256, 512. Wider captures more detail but "
                "overfits more easily and computes longer."
            ),
            kind="int",
            group="Architecture",
            low=1,
            high=1024,
            steps=WIDTH_STEPS,
        ),
    )
    # share of neurons switched off per step; cheat sheet: 0.0, 0.2-0.5 if overfitting
    dropout: float = field(
        default=0.0,
        metadata=_meta(
            label="Dropout",
            summary="dropout rate",
            help=(
                "Chance of switching a neuron off in each training step; forces redundancy. Start at 0; "
                "0.2-0.5 against overfitting; too high underfits."
            ),
            kind="float",
            group="Regularization",
            low=0.0,
            high=0.9,
            step=0.05,
        ),
    )
    # L2 penalty on weights; typical 1e-4 or 1e-5 when used
    weight_decay: float = field(
        default=0.0,
        metadata=_meta(
            label="Weight decay",
            summary="L2 weight decay",
            help="L2 penalty on large weights: smoother, simpler models. Typical 1e-4 or 1e-5; too high underfits.",
            kind="float",
            group="Regularization",
            low=0.0,
            high=0.1,
            steps=WEIGHT_DECAY_STEPS,
            log=True,
        ),
    )
    # adam, sgd (momentum 0.9) or adamw
    optimizer: str = field(
        default="adam",
        metadata=_meta(
            label="Optimizer",
            summary="optimizer",
            help="Adam adapts step sizes per weight (start here); SGD uses momentum 0.9; AdamW decouples weight decay.",
            kind="choice",
            group="Optimization",
            choices=OPTIMIZERS,
        ),
    )
    # non-linearity between layers
    activation: str = field(
        default="relu",
        metadata=_meta(
            label="Activation",
            summary="non-linearity between layers",
            help="Non-linearity between layers. ReLU is the usual start; tanh/sigmoid saturate in deep nets.",
            kind="choice",
            group="Architecture",
            choices=ACTIVATIONS,
        ),
    )
    # fixes initial weights, shuffling and the data split: same seed, same history
    seed: int = field(
        default=0,
        metadata=_meta(
            label="Seed",
            summary="random seed",
            help="Fixes initial weights, shuffling and the split: the same seed gives the same curves.",
            kind="int",
            low=0,
            high=2**31 - 1,
            step=1,
            slider=False,
            tunable=False,
        ),
    )

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


# field -> its Knob, in field order: the one source the names below are derived from.
KNOBS: dict[str, Knob] = {f.name: f.metadata[KNOB] for f in fields(Hyperparameters)}
DEFAULT_VALUES: dict[str, Any] = {f.name: f.default for f in fields(Hyperparameters)}

# field -> (low, high); both ends inclusive.
RANGES: dict[str, tuple[float, float]] = {name: knob.bounds for name, knob in KNOBS.items() if knob.numeric}
INT_FIELDS = tuple(name for name, knob in KNOBS.items() if knob.kind == "int")
FLOAT_FIELDS = tuple(name for name, knob in KNOBS.items() if knob.kind == "float")
# Help text shown next to each knob: what it does, typical values, what too low / too high does.
HELP: dict[str, str] = {name: knob.help for name, knob in KNOBS.items()}


def _check_metadata() -> None:
    """The metadata agrees with itself: defaults valid, every ladder sorted and spanning its whole range."""
    for name, knob in KNOBS.items():
        knob.check(name, DEFAULT_VALUES[name])
        if knob.numeric:
            low, high = knob.bounds
            if not low < high:
                raise TypeError(f"{name}: empty range")
            if knob.steps and (list(knob.steps) != sorted(knob.steps) or (knob.steps[0], knob.steps[-1]) != (low, high)):
                raise TypeError(f"{name}: the slider ladder must be sorted and run from {low:g} to {high:g}")
            if not knob.steps and knob.step is None:
                raise TypeError(f"{name}: a number needs a step or a ladder")
        if knob.kind == "choice" and not knob.choices:
            raise TypeError(f"{name}: a choice needs choices")
        if knob.requires is not None and KNOBS.get(knob.requires, knob).kind != "bool":
            raise TypeError(f"{name}: requires must name a bool knob")


_check_metadata()


def _coerce(name: str, value: Any) -> Any:
    if name in INT_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    if name in FLOAT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def validate(hp: Hyperparameters) -> None:
    """Every field of hp against its Knob; the first bad one raises HyperparameterError."""
    for name, knob in KNOBS.items():
        knob.check(name, getattr(hp, name))


def parse_value(name: str, text: str) -> Any:
    """A command-line value for field `name`, typed and range-checked (HyperparameterError if bad)."""
    return KNOBS[name].parse(name, text)


def flag_help(name: str) -> str:
    """The CLI help of field `name`: its summary, range and default, e.g. `optimizer step size, 1e-05..1 (default 0.001)`."""
    knob = KNOBS[name]
    default = DEFAULT_VALUES[name]
    if knob.kind == "bool":
        return f"{knob.summary} (default {'on' if default else 'off'})"
    if knob.kind == "choice":
        return f"{knob.summary} (default {default})"
    scale = ", log scale" if knob.log else ""
    return f"{knob.summary}, {knob.range_text()}{scale} (default {knob.format(default)})"


def search_space_defaults(include_untunable: bool = False) -> dict[str, SearchRange]:
    """Default search ranges for a tuner, read from the metadata: the validated range of each knob.

    Log-scale knobs (learning rate, weight decay) come with log=True; a log range cannot hold 0, so a
    log knob whose range starts at 0 (weight decay) searches from its smallest positive ladder step
    (0 itself stays in `steps`). The seed is left out unless include_untunable.
    """
    space: dict[str, SearchRange] = {}
    for name, knob in KNOBS.items():
        if not (knob.tunable or include_untunable):
            continue
        if knob.kind == "bool":
            space[name] = SearchRange("bool", choices=(False, True))
        elif knob.kind == "choice":
            space[name] = SearchRange("choice", choices=knob.choices)
        else:
            low, high = knob.bounds
            if knob.log and low <= 0:
                low = min(s for s in knob.steps if s > 0)
            step = None if knob.kind == "float" or knob.log else knob.step
            space[name] = SearchRange(knob.kind, low=low, high=high, log=knob.log, step=step, steps=knob.steps)
    return space


def snap(value: float, steps: tuple[float, ...]) -> float:
    """The step closest to value (on a log scale when all steps are positive)."""
    if all(s > 0 for s in steps) and value > 0:
        return min(steps, key=lambda s: abs(math.log(s) - math.log(value)))
    return min(steps, key=lambda s: abs(s - value))


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
