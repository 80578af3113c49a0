"""Every control offers what validation accepts: the sidebar, `Hyperparameters(...)` and the CLI agree.

The page's ranges are read from the rendered widgets (AppTest), the CLI's from its parser and its exit
codes, validation's from what `Hyperparameters(...)` accepts: three places that each once defined
their own ranges (the patience slider stopped at 100 while validation and the CLI went to 1000).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import fields
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.cli.commands import build_parser, main
from core.hyperparameters import RANGES, HyperparameterError, Hyperparameters
from tests.app_support import APP

FIELDS = [f.name for f in fields(Hyperparameters)]
NUMERIC = [f.name for f in fields(Hyperparameters) if f.type in ("int", "float")]
WHOLE = {f.name for f in fields(Hyperparameters) if f.type == "int"}
CHOICES = [f.name for f in fields(Hyperparameters) if f.type == "str"]
TRAINING_COMMANDS = ("train", "fix", "lr-find", "learning-curve")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _accepted(name: str, value: Any) -> bool:
    try:
        Hyperparameters(**{name: value})
    except HyperparameterError:
        return False
    return True


def _below(name: str, value: float) -> float:
    return value - 1 if name in WHOLE else math.nextafter(value, -math.inf)


def _above(name: str, value: float) -> float:
    return value + 1 if name in WHOLE else math.nextafter(value, math.inf)


def _shown(name: str, value: float) -> str:
    return str(int(value)) if name in WHOLE else f"{value:g}"


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def _widgets(at: AppTest) -> dict[str, Any]:
    """Every hyperparameter widget on the page, by field name (its key is hp_<field>)."""
    found: dict[str, Any] = {}
    for kind in ("slider", "select_slider", "number_input", "selectbox", "toggle"):
        for widget in at.get(kind):
            if widget.key and widget.key.startswith("hp_"):
                assert widget.key[3:] not in found, f"two widgets for {widget.key}"
                found[widget.key[3:]] = widget
    return found


def _page_range(name: str, widget: Any) -> tuple[float, float]:
    """The lowest and highest value the widget lets a person pick."""
    cast = int if name in WHOLE else float
    if widget.type == "select_slider":
        values = [cast(float(option)) for option in widget.options]
        assert values == sorted(values), name
        return values[0], values[-1]
    return cast(widget.min), cast(widget.max)


def test_the_page_has_one_widget_per_hyperparameter(page: AppTest) -> None:
    assert set(_widgets(page)) == set(FIELDS)


@pytest.mark.parametrize("name", NUMERIC)
def test_each_slider_spans_exactly_the_validated_range(page: AppTest, name: str) -> None:
    low, high = _page_range(name, _widgets(page)[name])
    assert (low, high) == RANGES[name]
    assert _accepted(name, low) and _accepted(name, high), "the page offers a value validation rejects"
    assert not _accepted(name, _below(name, low)), "validation accepts values below the page's lowest"
    assert not _accepted(name, _above(name, high)), "validation accepts values above the page's highest"


def test_every_option_of_every_ladder_is_valid(page: AppTest) -> None:
    ladders = {name: w for name, w in _widgets(page).items() if w.type == "select_slider"}
    assert ladders
    for name, widget in ladders.items():
        cast = int if name in WHOLE else float
        assert all(_accepted(name, cast(float(option))) for option in widget.options), name


@pytest.mark.parametrize("name", CHOICES)
def test_each_selectbox_offers_exactly_the_valid_choices(page: AppTest, name: str) -> None:
    options = list(_widgets(page)[name].options)
    assert options and all(_accepted(name, option) for option in options)
    with pytest.raises(HyperparameterError) as info:
        Hyperparameters(**{name: "nonsense"})
    assert str(info.value).startswith(f"{name} must be one of {', '.join(options)},")


def test_the_ends_of_every_slider_are_no_impossible_setting() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    for end in (0, 1):
        widgets = _widgets(at)
        for name in NUMERIC:
            value = _page_range(name, widgets[name])[end]
            widgets[name].set_value(value)
        at.run()
        assert not at.exception
        assert not [e.value for e in at.sidebar.error], f"page {'maximum' if end else 'minimum'} rejected"
        assert all(at.session_state[f"hp_{n}"] == _page_range(n, _widgets(at)[n])[end] for n in NUMERIC)


def test_patience_is_disabled_without_early_stopping() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.slider(key="hp_patience").disabled
    at.toggle(key="hp_early_stopping").set_value(False).run()
    assert at.slider(key="hp_patience").disabled


# ---------------------------------------------------------------- the command line


def _actions(command: str) -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {s: a for a in sub.choices[command]._actions for s in a.option_strings}


@pytest.mark.parametrize("command", TRAINING_COMMANDS)
def test_every_hyperparameter_has_a_flag(command: str) -> None:
    actions = _actions(command)
    for name in FIELDS:
        assert _flag(name) in actions, (command, name)
        assert actions[_flag(name)].dest == name
    assert "--no-early-stopping" in actions


@pytest.mark.parametrize("name", NUMERIC)
def test_flag_help_names_the_validated_range(name: str) -> None:
    low, high = RANGES[name]
    text = _actions("train")[_flag(name)].help or ""
    assert f"{_shown(name, low)}..{_shown(name, high)}" in text, text


@pytest.mark.parametrize("name", CHOICES)
def test_flag_choices_are_the_page_choices(page: AppTest, name: str) -> None:
    assert list(_actions("train")[_flag(name)].choices or ()) == list(_widgets(page)[name].options)


@pytest.mark.parametrize("command", ["train", "fix"])
@pytest.mark.parametrize("name", NUMERIC)
def test_the_page_ends_parse_on_the_command_line(page: AppTest, command: str, name: str) -> None:
    low, high = _page_range(name, _widgets(page)[name])
    for value in (low, high):
        args = build_parser().parse_args([command, "--dataset", "moons", f"{_flag(name)}={value!r}"])
        assert getattr(args, name) == value and type(getattr(args, name)) is type(value)


@pytest.mark.parametrize("command", ["train", "fix"])
@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("end", ["below", "above"])
def test_an_out_of_range_flag_is_one_error_line_naming_the_range(
    page: AppTest, command: str, name: str, end: str, capsys: pytest.CaptureFixture[str]
) -> None:
    low, high = _page_range(name, _widgets(page)[name])
    value = _below(name, low) if end == "below" else _above(name, high)
    # FLAG=VALUE: argparse would read a separate "-5e-324" as an option, not as the flag's value
    code = main([command, "--dataset", "moons", "--samples", "100", f"{_flag(name)}={value!r}"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: argument {_flag(name)}: {name} must be between ")
    assert f"between {_shown(name, low)} and {_shown(name, high)}, got " in err


@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--epochs", "2.5", "epochs must be a whole number, got '2.5'"),
        ("--batch-size", "lots", "batch_size must be a whole number, got 'lots'"),
        ("--learning-rate", "fast", "learning_rate must be a number, got 'fast'"),
        ("--learning-rate", "nan", "learning_rate must be a finite number, got nan"),
        ("--dropout", "inf", "dropout must be a finite number, got inf"),
        ("--optimizer", "rmsprop", "invalid choice: 'rmsprop'"),
    ],
)
def test_malformed_flags_are_one_error_line(flag: str, value: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--dataset", "moons", flag, value])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err
