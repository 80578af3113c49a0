"""The argument parser of `python -m core`: its sub-commands, their flags and their help.

A bad argument raises UsageError (never argparse's own exit), so that the commands (core/cli/commands.py)
print it as one line `error: ...` and exit with code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from core.data.builtin import BUILTIN
from core.experiments.fix import DEFAULT_ROUNDS, MAX_ROUNDS
from core.experiments.learning_curve import DEFAULT_FRACTIONS
from core.experiments.lr_finder import DEFAULT_END, DEFAULT_START, DEFAULT_STEPS
from core.hyperparameters import KNOBS, SCENARIOS, HyperparameterError, flag_help, parse_value


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _hp_type(name: str) -> Callable[[str], Any]:
    """The argparse type of --NAME: the field's own parsing and range check, so a bad value names the range."""

    def convert(text: str) -> Any:
        try:
            return parse_value(name, text)
        except HyperparameterError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def _add_hyperparameter_flags(group: argparse._ArgumentGroup) -> None:
    """One flag per Hyperparameters field (--learning-rate ...), typed, ranged and explained by its metadata."""
    for name, knob in KNOBS.items():
        flag = "--" + name.replace("_", "-")
        if knob.kind == "bool":
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, help=flag_help(name))
        elif knob.kind == "choice":
            group.add_argument(flag, dest=name, choices=knob.choices, help=flag_help(name))
        else:
            group.add_argument(flag, dest=name, type=_hp_type(name), help=flag_help(name))


def _add_train_options(p: argparse.ArgumentParser) -> None:
    source = p.add_argument_group("data (one of --dataset, --csv, or a --scenario's dataset)")
    source.add_argument("--dataset", choices=BUILTIN, help="built-in dataset")
    source.add_argument("--samples", type=int, help="rows for synthetic datasets (default 1000)")
    source.add_argument("--noise", type=float, help="noise for synthetic datasets (default 0.2)")
    source.add_argument("--csv", metavar="PATH", help="a CSV file")
    source.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    source.add_argument("--task", choices=("classification", "regression"), help="override the detected task of a CSV target")
    source.add_argument("--exclude", metavar="COL[,COL]", help="CSV columns to leave out of the features, comma-separated")
    knobs = p.add_argument_group("hyperparameters (explicit flags override a --scenario)")
    _add_hyperparameter_flags(knobs)
    p.add_argument("--scenario", choices=tuple(SCENARIOS), help="a teaching preset: dataset and hyperparameters")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON to PATH, or '-' for stdout")


def _add_store_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("run store")
    group.add_argument(
        "--db",
        metavar="URL",
        help="also save the finished run to this run store: sqlite:///PATH, a file path, or postgresql://USER@HOST:PORT/DB",
    )
    group.add_argument(
        "--workspace",
        metavar="ID",
        default=None,
        help="the store workspace to save under, as the dashboard's ?ws=ID link names it (default: a new random one, printed)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="FitLab: train a network, see why it fits badly.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_predict(commands)
    _add_diagnose(commands)
    _add_fix(commands)
    _add_lr_find(commands)
    _add_learning_curve(commands)
    _add_tune(commands)
    return parser


def _add_train(commands: argparse._SubParsersAction[_Parser]) -> None:
    train = commands.add_parser("train", help="train a network and diagnose the run")
    _add_train_options(train)
    _add_store_options(train)
    train.add_argument(
        "--save-model",
        metavar="PATH.pt",
        help="save the trained model: its parameters (a state_dict) to PATH.pt, its hyperparameters and "
        "preprocessing to PATH.json beside it (for `predict`)",
    )


def _add_predict(commands: argparse._SubParsersAction[_Parser]) -> None:
    predict = commands.add_parser("predict", help="predict new rows with a model saved by `train --save-model`")
    predict.add_argument("--model", required=True, metavar="PATH.pt", help="the model's parameters (state_dict)")
    predict.add_argument("--config", required=True, metavar="PATH.json", help="the model's hyperparameters and preprocessing")
    predict.add_argument("--csv", required=True, metavar="PATH", help="the rows to predict: a CSV with the training columns")
    predict.add_argument("--out", metavar="PATH", help="write the predictions CSV here instead of to stdout")


def _add_diagnose(commands: argparse._SubParsersAction[_Parser]) -> None:
    diag = commands.add_parser(
        "diagnose", help="diagnose a per-epoch log: Keras CSVLogger, Lightning metrics.csv, or epoch,train_loss,val_loss"
    )
    diag.add_argument("--history", required=True, metavar="LOG.csv")
    diag.add_argument("--json", metavar="PATH|-")


def _add_fix(commands: argparse._SubParsersAction[_Parser]) -> None:
    fix = commands.add_parser("fix", help="Fix it for me: train, diagnose, apply the top advice, repeat")
    _add_train_options(fix)
    _add_store_options(fix)
    fix.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"fixes to try after the first run, 1..{MAX_ROUNDS} (default {DEFAULT_ROUNDS})",
    )


def _add_lr_find(commands: argparse._SubParsersAction[_Parser]) -> None:
    lr_find = commands.add_parser("lr-find", help="learning-rate range test: sweep the learning rate, suggest one")
    _add_train_options(lr_find)
    sweep = lr_find.add_argument_group("sweep")
    sweep.add_argument("--start", type=float, default=DEFAULT_START, help=f"first learning rate (default {DEFAULT_START:g})")
    sweep.add_argument("--end", type=float, default=DEFAULT_END, help=f"last learning rate (default {DEFAULT_END:g})")
    sweep.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"mini-batches in the sweep (default {DEFAULT_STEPS})")


def _add_learning_curve(commands: argparse._SubParsersAction[_Parser]) -> None:
    curve = commands.add_parser("learning-curve", help="would more data help? train on growing shares of the training set")
    _add_train_options(curve)
    shares = curve.add_argument_group("learning curve")
    shares.add_argument(
        "--fractions",
        default=",".join(f"{f:g}" for f in DEFAULT_FRACTIONS),
        help="shares of the training set, increasing, comma-separated (default %(default)s)",
    )
    shares.add_argument(
        "--equal-steps",
        dest="equal_steps",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give every share as many optimizer steps as the full set (scales epochs and patience; default on)",
    )


def _add_tune(commands: argparse._SubParsersAction[_Parser]) -> None:
    tune = commands.add_parser(
        "tune", help="hyperparameter search with Optuna: grid, random or Bayesian (TPE), pruned by the diagnosis"
    )
    _add_train_options(tune)
    search = tune.add_argument_group("search")
    search.add_argument("--strategy", choices=("grid", "random", "tpe"), default="tpe", help="sampler (default tpe: Bayesian)")
    search.add_argument("--trials", type=int, default=20, help="trials in the whole study, all processes together (default 20)")
    search.add_argument("--timeout", type=float, metavar="S", help="stop starting trials after S seconds")
    search.add_argument(
        "--search",
        metavar="SPACE",
        help="knobs and ranges: learning_rate=1e-4:1e-1:log,width=16:512,optimizer=adam|sgd "
        "(default: learning rate, width, depth, dropout, weight decay over their full ranges)",
    )
    search.add_argument("--pruner", choices=("none", "median", "diagnosis"), default="diagnosis", help="(default diagnosis)")
    search.add_argument("--grid-points", type=int, default=3, help="values per numeric knob in a grid search (default 3)")
    search.add_argument("--warmup", type=int, default=10, help="epochs before a trial may be pruned (default 10)")
    search.add_argument(
        "--storage", metavar="URL", help="Optuna RDB storage (sqlite:///file.db, postgresql://...): processes join one study"
    )
    search.add_argument("--study", metavar="NAME", help="the study's name in --storage")
    _add_store_options(tune)
