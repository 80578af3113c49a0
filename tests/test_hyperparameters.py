"""core.hyperparameters: defaults from the cheat sheet, validation, from_dict, snap, scenarios."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest

from core.hyperparameters import (
    ACTIVATIONS,
    BATCH_SIZE_STEPS,
    HELP,
    KNOBS,
    LEARNING_RATE_STEPS,
    OPTIMIZERS,
    RANGES,
    SCENARIOS,
    WEIGHT_DECAY_STEPS,
    WIDTH_STEPS,
    HyperparameterError,
    Hyperparameters,
    Knob,
    parse_value,
    scenario_hyperparameters,
    search_space_defaults,
    snap,
)

# The documented ranges (CLI help text and the dashboard's sliders), both ends inclusive.
DOCUMENTED_RANGES = {
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

# One value just below and one just above each range.
OUT_OF_RANGE = [
    ("learning_rate", 1e-6),
    ("learning_rate", 1.5),
    ("learning_rate", 0.0),
    ("batch_size", 0),
    ("batch_size", 1025),
    ("epochs", 0),
    ("epochs", 1001),
    ("patience", 0),
    ("patience", 1001),
    ("hidden_layers", -1),
    ("hidden_layers", 9),
    ("width", 0),
    ("width", 1025),
    ("dropout", -0.1),
    ("dropout", 0.95),
    ("weight_decay", -0.001),
    ("weight_decay", 0.2),
    ("seed", -1),
    ("seed", 2**31),
]


def test_defaults_are_the_cheat_sheet_start_values():
    hp = Hyperparameters()
    assert hp.learning_rate == 0.001
    assert hp.batch_size == 32
    assert hp.epochs == 50
    assert hp.early_stopping is True
    assert hp.patience == 10
    assert hp.hidden_layers == 2
    assert hp.width == 128
    assert hp.dropout == 0.0
    assert hp.weight_decay == 0.0
    assert hp.optimizer == "adam"
    assert hp.activation == "relu"


def test_ranges_are_the_documented_ones():
    assert RANGES == DOCUMENTED_RANGES


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
def test_out_of_range_value_names_field_and_range(name, value):
    low, high = DOCUMENTED_RANGES[name]
    with pytest.raises(HyperparameterError) as info:
        Hyperparameters(**{name: value})
    message = str(info.value)
    assert name in message
    assert f"{_shown(low)} and {_shown(high)}" in message


def _shown(value: float) -> str:
    """How a message should show a bound: whole numbers exactly (2147483647, not 2.14748e+09)."""
    return str(int(value)) if isinstance(value, int) else f"{value:g}"


@pytest.mark.parametrize("name", sorted(DOCUMENTED_RANGES))
def test_both_ends_of_each_range_are_accepted(name):
    low, high = DOCUMENTED_RANGES[name]
    for value in (low, high):
        hp = Hyperparameters(**{name: value})
        assert getattr(hp, name) == value


def test_hyperparameter_error_is_a_value_error():
    assert issubclass(HyperparameterError, ValueError)


@pytest.mark.parametrize("name", ["learning_rate", "dropout", "weight_decay"])
@pytest.mark.parametrize("value", [math.nan, math.inf, "0.1", True])
def test_float_fields_reject_non_finite_and_non_numbers(name, value):
    with pytest.raises(HyperparameterError, match=name):
        Hyperparameters(**{name: value})


@pytest.mark.parametrize("name", ["batch_size", "epochs", "patience", "hidden_layers", "width", "seed"])
@pytest.mark.parametrize("value", [2.5, "4", True])
def test_int_fields_reject_fractions_text_and_bools(name, value):
    with pytest.raises(HyperparameterError, match=name):
        Hyperparameters(**{name: value})


@pytest.mark.parametrize("value", ["rmsprop", "Adam", ""])
def test_unknown_optimizer_is_rejected_with_the_choices(value):
    with pytest.raises(HyperparameterError) as info:
        Hyperparameters(optimizer=value)
    message = str(info.value)
    assert "optimizer" in message
    assert all(choice in message for choice in OPTIMIZERS)


@pytest.mark.parametrize("value", ["softmax", "ReLU", ""])
def test_unknown_activation_is_rejected_with_the_choices(value):
    with pytest.raises(HyperparameterError) as info:
        Hyperparameters(activation=value)
    message = str(info.value)
    assert "activation" in message
    assert all(choice in message for choice in ACTIVATIONS)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_early_stopping_must_be_a_bool(value):
    with pytest.raises(HyperparameterError, match="early_stopping"):
        Hyperparameters(early_stopping=value)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_optimizer_and_activation_is_accepted(optimizer, activation):
    hp = Hyperparameters(optimizer=optimizer, activation=activation)
    assert (hp.optimizer, hp.activation) == (optimizer, activation)


def test_replace_validates_the_new_value():
    hp = Hyperparameters()
    assert hp.replace(width=64).width == 64
    assert hp.width == 128  # frozen: the original is unchanged
    with pytest.raises(HyperparameterError, match="width"):
        hp.replace(width=0)


def test_instances_are_frozen():
    hp = Hyperparameters()
    with pytest.raises(AttributeError):
        hp.width = 3  # type: ignore[misc]


def test_from_dict_round_trips_to_dict():
    hp = Hyperparameters(learning_rate=0.01, width=16, dropout=0.2, optimizer="sgd", activation="tanh", seed=7)
    assert Hyperparameters.from_dict(hp.to_dict()) == hp


def test_to_dict_has_one_key_per_field():
    assert set(Hyperparameters().to_dict()) == {f.name for f in fields(Hyperparameters)}


def test_from_dict_rejects_unknown_keys_and_names_them():
    with pytest.raises(HyperparameterError) as info:
        Hyperparameters.from_dict({"width": 16, "lr": 0.1, "momentum": 0.9})
    message = str(info.value)
    assert "lr" in message and "momentum" in message


def test_from_dict_coerces_json_numbers():
    # JSON has one number type: 32.0 for a whole-number field and 1 for a float field are fine.
    hp = Hyperparameters.from_dict({"batch_size": 32.0, "learning_rate": 1, "weight_decay": 0})
    assert hp.batch_size == 32 and isinstance(hp.batch_size, int)
    assert hp.learning_rate == 1.0 and isinstance(hp.learning_rate, float)
    assert hp.weight_decay == 0.0 and isinstance(hp.weight_decay, float)


def test_from_dict_still_rejects_fractional_whole_number_fields():
    with pytest.raises(HyperparameterError, match="batch_size"):
        Hyperparameters.from_dict({"batch_size": 32.5})


def test_from_dict_of_nothing_gives_the_defaults():
    assert Hyperparameters.from_dict({}) == Hyperparameters()


@pytest.mark.parametrize(
    ("value", "steps", "expected"),
    [
        (0.001, LEARNING_RATE_STEPS, 0.001),  # exact steps stay put
        (0.0007, LEARNING_RATE_STEPS, 0.001),  # log scale: 0.0007 is 1.4x from 1e-3, 2.3x from 3e-4
        (0.0004, LEARNING_RATE_STEPS, 3e-4),
        (5.0, LEARNING_RATE_STEPS, 1.0),  # beyond the grid: the end
        (1e-9, LEARNING_RATE_STEPS, 1e-5),
        (100, BATCH_SIZE_STEPS, 128),  # 100/64 = 1.56 > 128/100 = 1.28
        (90, BATCH_SIZE_STEPS, 64),  # 90/64 = 1.406 < 128/90 = 1.422
        (3000, WIDTH_STEPS, 1024),
        (0.0, WEIGHT_DECAY_STEPS, 0.0),  # a zero step: plain distance
        (2e-6, WEIGHT_DECAY_STEPS, 1e-6),
        (0.07, WEIGHT_DECAY_STEPS, 0.1),
    ],
)
def test_snap_picks_the_nearest_step(value, steps, expected):
    assert snap(value, steps) == expected


@pytest.mark.parametrize("steps", [LEARNING_RATE_STEPS, BATCH_SIZE_STEPS, WIDTH_STEPS, WEIGHT_DECAY_STEPS])
def test_snap_always_returns_a_step(steps):
    for value in (0.0, 1e-7, 0.5, 3.0, 77.0, 1e6):
        assert snap(value, steps) in steps


def test_slider_steps_are_sorted_and_inside_the_ranges():
    for name, steps in [
        ("learning_rate", LEARNING_RATE_STEPS),
        ("batch_size", BATCH_SIZE_STEPS),
        ("width", WIDTH_STEPS),
        ("weight_decay", WEIGHT_DECAY_STEPS),
    ]:
        low, high = DOCUMENTED_RANGES[name]
        assert list(steps) == sorted(steps)
        assert all(low <= s <= high for s in steps), name


def test_every_knob_has_help_text():
    assert set(HELP) == {f.name for f in fields(Hyperparameters)}
    assert all(text.strip() for text in HELP.values())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_builds_valid_hyperparameters(name):
    preset = SCENARIOS[name]
    hp = scenario_hyperparameters(name)
    for knob, value in preset["hyperparameters"].items():
        assert getattr(hp, knob) == value
    untouched = {f.name for f in fields(Hyperparameters)} - set(preset["hyperparameters"])
    for knob in untouched:
        assert getattr(hp, knob) == getattr(Hyperparameters(), knob)


def test_scenario_applies_on_top_of_a_base():
    hp = scenario_hyperparameters("underfitting", Hyperparameters(seed=5, width=16))
    assert hp.hidden_layers == 0 and hp.seed == 5 and hp.width == 16


def test_unknown_scenario_is_rejected():
    with pytest.raises(HyperparameterError, match="nonsense"):
        scenario_hyperparameters("nonsense")


# ---------------------------------------------------------------- the field metadata


def test_every_field_carries_a_knob_of_its_own_type():
    kinds = {"float": "float", "int": "int", "bool": "bool", "str": "choice"}
    for f in fields(Hyperparameters):
        knob = f.metadata["knob"]
        assert isinstance(knob, Knob)
        assert knob.kind == kinds[str(f.type)], f.name
        assert knob.label.strip() and knob.summary.strip() and knob.help == HELP[f.name]


def test_the_choices_are_the_optimizers_and_activations():
    assert KNOBS["optimizer"].choices == OPTIMIZERS
    assert KNOBS["activation"].choices == ACTIVATIONS


@pytest.mark.parametrize("name", ["learning_rate", "batch_size", "width", "weight_decay"])
def test_each_slider_ladder_spans_the_whole_documented_range(name):
    steps = KNOBS[name].steps
    assert (steps[0], steps[-1]) == DOCUMENTED_RANGES[name]


def test_a_ladder_that_misses_the_range_is_refused_at_import(monkeypatch):
    import core.hyperparameters as module

    short = replace(KNOBS["width"], steps=WIDTH_STEPS[:-1])  # stops at 512, validation goes to 1024
    monkeypatch.setitem(module.KNOBS, "width", short)
    with pytest.raises(TypeError, match="width"):
        module._check_metadata()


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("learning_rate", "1e-3", 0.001),
        ("epochs", "1000", 1000),
        ("seed", "2147483647", 2**31 - 1),
        ("early_stopping", "off", False),
        ("optimizer", "sgd", "sgd"),
    ],
)
def test_parse_value_types_a_command_line_value(name, text, expected):
    value = parse_value(name, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("epochs", "2.5", "whole number"),
        ("epochs", "1001", "between 1 and 1000"),
        ("learning_rate", "fast", "must be a number"),
        ("learning_rate", "inf", "finite"),
        ("early_stopping", "maybe", "true or false"),
        ("activation", "softmax", "one of relu"),
    ],
)
def test_parse_value_rejects_bad_text_naming_field_and_range(name, text, needle):
    with pytest.raises(HyperparameterError) as info:
        parse_value(name, text)
    assert name in str(info.value) and needle in str(info.value)


def test_search_space_defaults_are_valid_for_a_tuner():
    space = search_space_defaults()
    assert "seed" not in space and "seed" in search_space_defaults(include_untunable=True)
    assert set(space) == {f.name for f in fields(Hyperparameters)} - {"seed"}
    assert space["learning_rate"].log and space["weight_decay"].log
    for name, spec in space.items():
        if spec.kind in ("int", "float"):
            assert spec.low is not None and spec.high is not None and spec.low < spec.high
            if spec.log:
                assert spec.low > 0, name  # a log-uniform range cannot hold 0
            for value in (spec.low, spec.high):
                Hyperparameters(**{name: int(value) if spec.kind == "int" else float(value)})
        else:
            assert spec.choices and all(Hyperparameters(**{name: c}) for c in spec.choices)
    # weight decay searches from its smallest positive slider step; 0 (off) stays on the ladder
    assert space["weight_decay"].low == min(s for s in WEIGHT_DECAY_STEPS if s > 0)
    assert 0.0 in space["weight_decay"].steps
