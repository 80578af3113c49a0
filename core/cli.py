"""`python -m core train|diagnose`: the command-line contract other tools rely on.

Bad input prints one line `error: ...` on stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from core.data import BUILTIN, DataError, load_builtin, load_csv
from core.diagnosis import diagnose
from core.experiment import RunResult, clean_json, run_experiment
from core.hyperparameters import ACTIVATIONS, OPTIMIZERS, SCENARIOS, HyperparameterError, Hyperparameters
from core.logs import read_history_csv
from core.training import EpochRecord

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


HP_FLAGS: list[tuple[str, type, str]] = [
    ("learning_rate", float, "optimizer step size, 1e-5..1 (default 0.001)"),
    ("batch_size", int, "examples per update, 1..1024 (default 32)"),
    ("epochs", int, "maximum passes over the training set, 1..1000 (default 50)"),
    ("patience", int, "epochs without improvement before early stopping (default 10)"),
    ("hidden_layers", int, "hidden layers, 0..8 (default 2)"),
    ("width", int, "neurons per hidden layer, 1..1024 (default 128)"),
    ("dropout", float, "dropout rate, 0..0.9 (default 0)"),
    ("weight_decay", float, "L2 weight decay, 0..0.1 (default 0)"),
    ("seed", int, "random seed (default 0)"),
]


def _add_train_options(p: argparse.ArgumentParser) -> None:
    source = p.add_argument_group("data (one of --dataset, --csv, or a --scenario's dataset)")
    source.add_argument("--dataset", choices=BUILTIN, help="built-in dataset")
    source.add_argument("--samples", type=int, help="rows for synthetic datasets (default 1000)")
    source.add_argument("--noise", type=float, help="noise for synthetic datasets (default 0.2)")
    source.add_argument("--csv", metavar="PATH", help="a CSV file")
    source.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    knobs = p.add_argument_group("hyperparameters (explicit flags override a --scenario)")
    for name, kind, text in HP_FLAGS:
        knobs.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    knobs.add_argument("--early-stopping", dest="early_stopping", action=argparse.BooleanOptionalAction, help="on by default")
    knobs.add_argument("--optimizer", choices=OPTIMIZERS)
    knobs.add_argument("--activation", choices=ACTIVATIONS)
    p.add_argument("--scenario", choices=tuple(SCENARIOS), help="a teaching preset: dataset and hyperparameters")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON to PATH, or '-' for stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="FitLab: train a network, see why it fits badly.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a network and diagnose the run")
    _add_train_options(train)
    diag = commands.add_parser("diagnose", help="diagnose a per-epoch log (epoch, train_loss or loss, val_loss)")
    diag.add_argument("--history", required=True, metavar="LOG.csv")
    diag.add_argument("--json", metavar="PATH|-")
    return parser


def _hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    values: dict[str, Any] = dict(SCENARIOS[args.scenario]["hyperparameters"]) if args.scenario else {}
    for name in [n for n, _, _ in HP_FLAGS] + ["early_stopping", "optimizer", "activation"]:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    return Hyperparameters.from_dict(values)


def _dataset(args: argparse.Namespace, seed: int) -> Any:
    if args.csv and args.dataset:
        raise UsageError("choose either --dataset or --csv, not both")
    if args.csv:
        if not args.target:
            raise UsageError("--csv needs --target COLUMN")
        return load_csv(args.csv, args.target, seed=seed)
    if args.target:
        raise UsageError("--target only applies with --csv")
    preset = SCENARIOS[args.scenario]["dataset"] if args.scenario and not args.dataset else {}
    name = args.dataset or preset.get("name")
    if name is None:
        raise UsageError("choose --dataset NAME, --csv PATH --target COLUMN, or --scenario NAME")
    samples = args.samples if args.samples is not None else preset.get("samples", 1000)
    noise = args.noise if args.noise is not None else preset.get("noise", 0.2)
    return load_builtin(name, samples=samples, noise=noise, seed=seed)


def _write_json(target: str, payload: dict[str, Any]) -> None:
    text = json.dumps(clean_json(payload), indent=2, allow_nan=False)
    if target == "-":
        sys.stdout.write(text + "\n")
        return
    try:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror}") from None


def _print_epoch(record: EpochRecord) -> None:
    print(
        f"epoch {record.epoch:4d}  train_loss {record.train_loss:.4f}  val_loss {record.val_loss:.4f}  "
        f"train_metric {record.train_metric:.3f}  val_metric {record.val_metric:.3f}",
        flush=True,
    )


def _print_diagnosis(payload: dict[str, Any]) -> None:
    diagnosis = payload["diagnosis"]
    print(f"\nverdict: {diagnosis['verdict']}  {diagnosis['summary']}")
    for line in diagnosis["evidence"]:
        print(f"  - {line}")
    if diagnosis["recommendations"]:
        print("recommendations:")
        for rec in diagnosis["recommendations"]:
            print(f"  * {rec['knob']}: {rec['action']} -> {rec['value']}  ({rec['reason']})")


def _train(args: argparse.Namespace) -> None:
    hp = _hyperparameters(args)
    dataset = _dataset(args, hp.seed)
    for note in dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    quiet = args.json == "-"
    result: RunResult = run_experiment(dataset, hp, on_epoch=None if quiet else _print_epoch)
    payload = result.to_dict()
    if not quiet:
        test = payload["test"]
        print(
            f"\n{result.status} after {len(result.history)} epoch(s); best epoch {result.best_epoch}; "
            f"test loss {test['loss']}, test metric {test['metric']}"
        )
        _print_diagnosis(payload)
    if args.json:
        _write_json(args.json, payload)


def _diagnose(args: argparse.Namespace) -> None:
    history = read_history_csv(args.history)
    best = min(
        range(len(history)), key=lambda i: history[i].val_loss if history[i].val_loss == history[i].val_loss else float("inf")
    )
    payload = {
        "hyperparameters": None,
        "dataset": None,
        "history": [r.to_dict() for r in history],
        "best_epoch": history[best].epoch,
        "stopped_early": None,
        "test": None,
        "baselines": None,
        "diagnosis": diagnose(history).to_dict(),
    }
    if args.json != "-":
        _print_diagnosis(payload)
    if args.json:
        _write_json(args.json, payload)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            _train(args)
        else:
            _diagnose(args)
    except (UsageError, HyperparameterError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        print(f"error: unexpected failure ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 1
    return 0
