"""`python -m core train|fix|predict|diagnose|lr-find|learning-curve|tune`: the command-line contract other tools rely on.

Bad input prints one line `error: ...` on stderr and exits with code 2, never a traceback.
`train` and `fix` with `--db URL` also save the finished run to that run store (core/store/runs.py).
`train --save-model run.pt` writes the model (run.pt: parameters; run.json: hyperparameters and
preprocessing, core/export/models.py); `predict --model run.pt --config run.json --csv new.csv` uses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from core.cli.parser import UsageError, build_parser
from core.data.builtin import load_builtin
from core.data.csvfile import DataError
from core.data.dataset import load_csv
from core.diagnosis import Recommendation
from core.diagnosis.dynamics import NO_RECORD
from core.experiments.fix import fix_run
from core.experiments.learning_curve import LearningCurveError, learning_curve
from core.experiments.lr_finder import LrFinderError, find_learning_rate
from core.experiments.results import LearningCurvePoint, interpret
from core.experiments.run import RunResult, run_experiment
from core.hyperparameters import KNOBS, SCENARIOS, HyperparameterError, Hyperparameters
from core.jsonsafe import json_safe
from core.logs.reader import diagnose_log, read_training_log
from core.recording import open_run, record_result
from core.store.runs import RunStore, StoreError, generated_workspace_id, masked, new_workspace_id, normalize_url
from core.training.trainer import EpochRecord

if TYPE_CHECKING:
    from core.tuning.study import TrialOutcome, TuneResult, TuneSettings

EXIT_BAD_INPUT = 2


def _tune(args: argparse.Namespace) -> None:
    from core.tuning.study import TuneError, run_study

    settings = _tune_settings(args)
    hp, dataset = _setup(args)
    settings.seed = hp.seed
    store = None
    workspace = None
    if args.db:
        workspace = _workspace(args)
        store = RunStore(args.db)
    storage = normalize_url(args.storage) if args.storage else None
    try:
        result = run_study(
            dataset,
            hp,
            settings,
            storage=storage,
            study_name=args.study,
            store=store,
            workspace=workspace,
            dataset_spec=_data_spec(args, dataset, hp.seed),
            on_trial=_print_trial,
        )
    except TuneError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        _write_json(args.json, result.to_dict())
    if args.json != "-":
        _print_tune_summary(result)
    if workspace is not None:
        _print_workspace(workspace)


def _workspace(args: argparse.Namespace) -> str:
    """The workspace `--db` saves under: the one given (of the form the dashboard makes), else a new random
    one. A workspace id is the only key to its runs, so the CLI never saves under a well-known name."""
    if args.workspace is None:
        return new_workspace_id()  # printed with the saved run: `--workspace ID` adds more runs to it
    if not generated_workspace_id(args.workspace):  # the ids the dashboard opens (?ws=ID)
        raise UsageError(
            f"--workspace must be a workspace id as the dashboard makes them (16 letters, digits, '-' or '_', "
            f"as in its ?ws= link), got {args.workspace!r}"
        )
    return str(args.workspace)


def _print_workspace(workspace: str) -> None:
    where = f"the dashboard shows its runs at ?ws={workspace}; --workspace {workspace} adds more"
    print(f"workspace: {workspace} ({where})", file=sys.stderr)


def _tune_settings(args: argparse.Namespace) -> TuneSettings:
    """The search `tune` was asked for, checked before any data is loaded."""
    from core.tuning.study import TuneError, TuneSettings, default_space, parse_space

    if args.storage and not args.study:
        raise UsageError("--storage needs --study NAME (the processes of one search share a name)")
    if args.study and not args.storage:
        raise UsageError("--study needs --storage URL")
    for flag, value, low in (("--trials", args.trials, 1), ("--grid-points", args.grid_points, 2), ("--warmup", args.warmup, 1)):
        if value < low:
            raise UsageError(f"{flag} must be at least {low}, got {value}")
    try:
        space = parse_space(args.search) if args.search else default_space()
        settings = TuneSettings(
            strategy=args.strategy,
            n_trials=args.trials,
            timeout_s=args.timeout,
            pruner=args.pruner,
            space=space,
            warmup_epochs=args.warmup,
            grid_points=args.grid_points,
        )
        settings.check()
    except TuneError as exc:
        raise UsageError(str(exc)) from None
    return settings


def _print_trial(trial: TrialOutcome) -> None:
    """One line on stderr per finished trial."""
    value = "-" if trial.value is None else f"{trial.value:.4g}"
    print(
        f"trial {trial.number:>3}  {trial.state:<8} {value:>8}  {_params_text(trial.params)}  {trial.reason or ''}",
        file=sys.stderr,
    )


def _print_tune_summary(result: TuneResult) -> None:
    states = result.to_dict()["states"]
    print(
        f"{result.strategy} search, {len(result.trials)} trials: {states['complete']} complete, {states['pruned']} pruned, "
        f"{states['failed']} failed ({result.seconds:.1f} s)"
    )
    if result.note:
        print(f"note: {result.note}")
    if result.best is not None:
        print(
            f"best: trial {result.best.number}, kept validation loss {result.best.value:.4g}: {_params_text(result.best_params)}"
        )
    else:
        print("best: none (no trial completed)")


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    values: dict[str, Any] = dict(SCENARIOS[args.scenario]["hyperparameters"]) if args.scenario else {}
    for name in KNOBS:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    return Hyperparameters.from_dict(values)


def _dataset(args: argparse.Namespace, seed: int) -> Any:
    if args.csv and args.dataset:
        raise UsageError("choose either --dataset or --csv, not both")
    if args.csv:
        if not args.target:
            raise UsageError("--csv needs --target COLUMN")
        exclude = [c.strip() for c in (args.exclude or "").split(",") if c.strip()]
        return load_csv(args.csv, args.target, seed=seed, task=args.task, exclude=exclude)
    for flag in ("target", "task", "exclude"):
        if getattr(args, flag):
            raise UsageError(f"--{flag} only applies with --csv")
    preset = SCENARIOS[args.scenario]["dataset"] if args.scenario and not args.dataset else {}
    name = args.dataset or preset.get("name")
    if name is None:
        raise UsageError("choose --dataset NAME, --csv PATH --target COLUMN, or --scenario NAME")
    samples = args.samples if args.samples is not None else preset.get("samples", 1000)
    noise = args.noise if args.noise is not None else preset.get("noise", 0.2)
    return load_builtin(name, samples=samples, noise=noise, seed=seed)


def _setup(args: argparse.Namespace) -> tuple[Hyperparameters, Any]:
    """The knobs and the data every training command starts from; data notes go to stderr."""
    hp = _hyperparameters(args)
    dataset = _dataset(args, hp.seed)
    for note in dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    return hp, dataset


def _data_spec(args: argparse.Namespace, dataset: Any, seed: int) -> dict[str, Any]:
    """How the data was made, as the dashboard records it with a run (it names the data of the run shown)."""
    if args.csv:
        exclude = [c.strip() for c in (args.exclude or "").split(",") if c.strip()]
        return {"file": Path(args.csv).name, "target": args.target, "task": dataset.task, "exclude": exclude, "seed": seed}
    preset = SCENARIOS[args.scenario]["dataset"] if args.scenario and not args.dataset else {}
    return {
        "name": dataset.name,
        "samples": args.samples if args.samples is not None else preset.get("samples", 1000),
        "noise": args.noise if args.noise is not None else preset.get("noise", 0.2),
        "seed": seed,
    }


class _Saver:
    """`--db URL`: the run is recorded in the store when training starts and finished there at the end.

    The store is opened before training, so a bad URL costs no training time.
    """

    def __init__(self, args: argparse.Namespace, kind: str, dataset: Any, hp: Hyperparameters) -> None:
        self.workspace = _workspace(args)
        self.store = RunStore(args.db)
        try:  # the workers' own way of recording a run: the dashboard reads these runs alike
            spec = _data_spec(args, dataset, hp.seed)
            self.run_id = open_run(self.store, workspace=self.workspace, kind=kind, dataset=dataset, hp=hp, spec=spec, claim=True)
        except SQLAlchemyError as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> StoreError:
        detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
        return StoreError(f"cannot save the run to {masked(self.store.url)}: {detail}")

    def finish(self, result: RunResult, dataset: Any, extra: dict[str, Any]) -> None:
        try:
            record_result(self.store, self.run_id, result, dataset, extra)
        except SQLAlchemyError as exc:
            raise self._error(exc) from None
        finally:
            self.store.close()
        print(f"saved run {self.run_id} to {masked(self.store.url)}", file=sys.stderr)
        _print_workspace(self.workspace)

    def abandon(self, message: str) -> None:
        """Training did not finish (an interrupt, a bug): the stored run says so instead of 'running'."""
        try:
            self.store.fail(self.run_id, message)
        except SQLAlchemyError:
            pass
        finally:
            self.store.close()


def _write_json(target: str, payload: dict[str, Any]) -> None:
    text = json.dumps(json_safe(payload), indent=2, allow_nan=False)
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
            value = "" if rec["value"] is None else f" -> {rec['value']}"  # a log has no settings to move from
            print(f"  * {rec['knob']}: {rec['action']}{value}  ({rec['reason']})")


def _train(args: argparse.Namespace) -> None:
    hp, dataset = _setup(args)
    quiet = args.json == "-"
    model_paths = _model_paths(args) if args.save_model else None  # checked before training: no time lost
    saver = _Saver(args, "train", dataset, hp) if args.db else None
    try:
        result: RunResult = run_experiment(dataset, hp, on_epoch=None if quiet else _print_epoch)
    except BaseException as exc:
        if saver is not None:
            saver.abandon(f"Training failed: {type(exc).__name__}: {exc}")
        raise
    if saver is not None:
        saver.finish(result, dataset, {})
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
    if model_paths is not None:
        _save_model(args, result, dataset, model_paths)


def _model_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """`--save-model PATH.pt`: the parameters go to PATH.pt, the config to PATH.json beside it."""
    pt = Path(args.save_model)
    config = pt.with_suffix(".json")
    if pt.suffix.lower() == ".json":
        raise UsageError(f"--save-model takes the .pt path of the parameters (the config goes to {config.stem}.json beside it)")
    if args.json and args.json != "-" and Path(args.json).resolve() == config.resolve():
        raise UsageError(f"--json {args.json} would overwrite the model config that --save-model writes there; pick another path")
    return pt, config


def _save_model(args: argparse.Namespace, result: RunResult, dataset: Any, paths: tuple[Path, Path]) -> None:
    from core.data.columns import analyze_columns
    from core.data.csvfile import read_table
    from core.export.models import DATE_PART, config_json, result_model_files

    infos = None
    if args.csv and any(DATE_PART.match(name) for name in dataset.feature_names):  # the date formats training read
        infos = analyze_columns(read_table(args.csv).frame)
    pt_bytes, config = result_model_files(result, dataset, target=args.target or "target", infos=infos)
    if dataset.task == "regression" and config["target_scale"] is None:
        print("note: the saved model predicts the standardized target (the data kept no mean and scale)", file=sys.stderr)
    pt, config_path = paths
    try:
        pt.write_bytes(pt_bytes)
        config_path.write_text(config_json(config), encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write the model to {exc.filename or pt}: {exc.strerror}") from None
    print(f"saved the model: parameters to {pt}, hyperparameters and preprocessing to {config_path}", file=sys.stderr)


def _predict(args: argparse.Namespace) -> None:
    from core.data.csvfile import read_table, to_safe_csv
    from core.export.predictor import load_model

    predictor = load_model(args.model, args.config)
    table = read_table(args.csv, sample_rows=False)  # a prediction for every row, or a refusal naming the limit
    predictions, notes = predictor.predict_with_notes(table.frame)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    data = to_safe_csv(predictions)
    if args.out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        sys.stdout.flush()
        return
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise DataError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"wrote {len(predictions)} prediction(s) to {args.out}", file=sys.stderr)


def _fix(args: argparse.Namespace) -> None:
    hp, dataset = _setup(args)
    quiet = args.json == "-"

    def report(index: int, result: RunResult, change: Recommendation | None) -> None:
        if quiet:
            return
        what = (
            "as given" if change is None else f"{change.knob}: {getattr(result.hyperparameters, change.knob)} ({change.action})"
        )
        print(
            f"round {index}: {what:40s} -> {result.diagnosis.verdict:14s} kept val_loss {result.kept_val_loss:.4g} "
            f"after {len(result.history)} epoch(s)",
            flush=True,
        )

    saver = _Saver(args, "fix", dataset, hp) if args.db else None
    try:
        outcome = fix_run(dataset, hp, args.rounds, on_round=report)
    except BaseException as exc:
        if saver is not None:
            saver.abandon(f"Fix it for me failed: {type(exc).__name__}: {exc}")
        raise
    if saver is not None:
        saver.finish(outcome.final, dataset, {"fix": outcome.to_dict()})
    payload = outcome.to_dict()
    if not quiet:
        verdict = "fixed: good_fit" if outcome.fixed else f"not fixed: {outcome.final.diagnosis.verdict}"
        print(
            f"\n{verdict}; validation loss {'improved' if outcome.improved else 'did not improve'} "
            f"({outcome.rounds[0].kept_val_loss:.4g} -> {outcome.final.kept_val_loss:.4g})"
        )
    if args.json:
        _write_json(args.json, payload)


def _diagnose(args: argparse.Namespace) -> None:
    log = read_training_log(args.history)
    history = log.history
    for note in log.notes:
        print(f"note: {note}", file=sys.stderr)
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
        "diagnosis": diagnose_log(log).to_dict(),
        "log_format": log.format,  # a key of core.logs.reader.FORMATS: keras, lightning, plain, huggingface, ...
        "log_metric": log.metric_name,  # what train_metric / val_metric hold, e.g. accuracy, mae; null: none
        "log_notes": log.notes,
    }
    if args.json != "-":
        print(f"log: {log.describe()}")
        _print_diagnosis(payload)
        print(f"inside the network: {NO_RECORD}")
    if args.json:
        _write_json(args.json, payload)


def _lr_find(args: argparse.Namespace) -> None:
    hp, dataset = _setup(args)
    try:
        result = find_learning_rate(dataset, hp, start=args.start, end=args.end, steps=args.steps)
    except LrFinderError as exc:
        raise UsageError(str(exc)) from None
    payload = {"hyperparameters": hp.to_dict(), "dataset": dataset.summary(), "lr_finder": result.to_dict()}
    if args.json != "-":
        shown = sorted({*range(0, len(result.losses), 10), len(result.losses) - 1, max(result.suggestion_index, 0)})
        for i in shown:
            mark = "  <- suggestion" if i == result.suggestion_index else ""
            print(f"lr {result.learning_rates[i]:.3g}  loss {result.losses[i]:.4f}  smoothed {result.smoothed[i]:.4f}{mark}")
        print(f"\nsuggested learning rate: {result.snapped_suggestion:g} (rule {result.rule}, raw {result.suggestion:.3g})")
        print(f"{len(result.losses)} steps in {result.seconds:.2f} s: {result.reason}")
    if args.json:
        _write_json(args.json, payload)


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--fractions must be numbers separated by commas, got {text!r}") from None


def _print_point(point: LearningCurvePoint) -> None:
    print(
        f"{point.fraction * 100:5g} %  rows {point.rows:6d}  train_loss {point.train_loss:.4f}  val_loss {point.val_loss:.4f}  "
        f"best epoch {point.best_epoch}/{point.epochs}  {point.status}  {point.seconds:.1f} s",
        flush=True,
    )


def _learning_curve(args: argparse.Namespace) -> None:
    hp, dataset = _setup(args)
    quiet = args.json == "-"
    try:
        result = learning_curve(
            dataset, hp, _fractions(args.fractions), equal_steps=args.equal_steps, on_point=None if quiet else _print_point
        )
    except LearningCurveError as exc:
        raise UsageError(str(exc)) from None
    payload = {"hyperparameters": hp.to_dict(), "dataset": dataset.summary(), "learning_curve": result.to_dict()}
    if not quiet:
        print(f"\n{interpret(result)}")
    if args.json:
        _write_json(args.json, payload)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            _train(args)
        elif args.command == "fix":
            _fix(args)
        elif args.command == "lr-find":
            _lr_find(args)
        elif args.command == "learning-curve":
            _learning_curve(args)
        elif args.command == "predict":
            _predict(args)
        elif args.command == "tune":
            _tune(args)
        else:
            _diagnose(args)
    except (UsageError, HyperparameterError, DataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        print(f"error: unexpected failure ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 1
    return 0
