"""Hyperparameter tuning with Optuna: grid, random and Bayesian (TPE) search, pruned by the diagnosis.

A *trial* trains one network with the knobs the sampler picked (the others keep the base values) and
scores it by its kept validation loss (the loss of the weights the run keeps). Pruners end a trial
early: Optuna's `MedianPruner` (worse than the median of earlier trials at the same epoch), or the
diagnosis pruner, which stops a trial FitLab's diagnosis already judges hopeless after a warm-up:
diverged (a non-finite loss), learning rate too high (an unstable loss), or no better than always
guessing the majority class / the mean.

Several processes, on one machine or many, join one study through an RDB storage (a SQLite file or
PostgreSQL URL) and together run exactly the trials asked for: before each `study.ask()` a process
reserves a slot in a small table of the same database (`fitlab_tune_slots`) with one atomic
`UPDATE ... SET taken = taken + 1 WHERE taken < total`; only a process that got a slot asks for a
trial. So the study ends with exactly `n_trials` trials, numbered 0..n-1 (Optuna numbers them), unless
a process dies between its reservation and its trial's end: that trial stays RUNNING in Optuna (shown
as "running") and is not re-run.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import optuna

from core.data.dataset import Dataset
from core.diagnosis import diagnose
from core.experiments.baselines import Baselines, compute_baselines
from core.history import EpochRecord
from core.hyperparameters import KNOBS, HyperparameterError, Hyperparameters, parse_value, search_space_defaults, snap
from core.jsonsafe import json_safe
from core.recording import open_run, record_result
from core.store.retry import RACE_ERRORS, retry_race
from core.store.runs import RunStore, masked
from core.store.slots import TrialSlots

if TYPE_CHECKING:
    from core.experiments.run import RunResult

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

STRATEGIES = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "diagnosis")  # diagnosis: FitLab's verdicts only (not combined with the median rule)
DEFAULT_KNOBS = ("learning_rate", "width", "hidden_layers", "dropout", "weight_decay")
HOPELESS_SHARE = 0.02  # after the warm-up, a validation loss within 2 % of the trivial model's: no signal learned


class TuneError(ValueError):
    """Settings or a search space a study cannot run with: the message names the knob and the range."""


@dataclass(frozen=True)
class Dimension:
    name: str  # a Hyperparameters field
    kind: str  # float, int, choice, bool
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    step: float | None = None
    ladder: bool = False  # sample only the slider ladder within low..high (what the dashboard offers)

    def ladder_values(self) -> list[Any]:
        steps = KNOBS[self.name].steps
        assert self.low is not None and self.high is not None
        values = [s for s in steps if self.low <= s <= self.high]
        return [int(v) for v in values] if self.kind == "int" else [float(v) for v in values]

    def text(self) -> str:
        """The --search syntax of this dimension."""
        if self.kind in ("choice", "bool"):
            return f"{self.name}=" + "|".join(str(c).lower() if isinstance(c, bool) else str(c) for c in self.choices)
        return f"{self.name}={self.low:g}:{self.high:g}" + (":log" if self.log else "")


def default_space(names: Sequence[str] | None = None) -> dict[str, Dimension]:
    """The knobs' validated ranges (log scale for learning rate and weight decay), from the metadata."""
    ranges = search_space_defaults()
    wanted = list(names) if names is not None else [n for n in DEFAULT_KNOBS if n in ranges]
    space = {}
    for name in wanted:
        if name not in ranges:
            raise TuneError(f"{name!r} cannot be searched; searchable knobs: {', '.join(ranges)}")
        r = ranges[name]
        space[name] = Dimension(name, r.kind, r.low, r.high, r.log, tuple(r.choices), r.step)
    return space


def parse_space(text: str) -> dict[str, Dimension]:
    """`learning_rate=1e-4:1e-1:log,width=16:512,optimizer=adam|sgd` -> dimensions, checked against each
    knob's validated range."""
    ranges = search_space_defaults()
    space: dict[str, Dimension] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, spec = part.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not spec.strip():
            raise TuneError(f"search entry {part!r} must look like name=low:high[:log] or name=a|b")
        if name not in ranges:
            raise TuneError(f"unknown or unsearchable knob {name!r}; searchable: {', '.join(ranges)}")
        if name in space:
            raise TuneError(f"{name} is named twice in the search space")
        knob, default = KNOBS[name], ranges[name]
        if default.kind in ("choice", "bool"):
            try:
                choices = tuple(dict.fromkeys(parse_value(name, c.strip()) for c in spec.split("|")))
            except HyperparameterError as exc:
                raise TuneError(f"search {name}: {exc}") from None
            space[name] = Dimension(name, default.kind, choices=choices)
            continue
        bits = [b.strip() for b in spec.split(":")]
        log = default.log
        if len(bits) == 3 and bits[2] in ("log", "linear"):
            log = bits[2] == "log"
        elif len(bits) != 2:
            raise TuneError(f"search {name}: expected low:high or low:high:log, got {spec!r}")
        try:
            low, high = float(parse_value(name, bits[0])), float(parse_value(name, bits[1]))
        except HyperparameterError as exc:
            raise TuneError(f"search {name}: {exc} ({knob.range_text()})") from None
        if low >= high:
            raise TuneError(f"search {name}: low {bits[0]} must be below high {bits[1]}")
        if log and low <= 0:
            raise TuneError(f"search {name}: a log-scale range must start above 0, got {bits[0]}")
        space[name] = Dimension(name, default.kind, low, high, log, step=default.step)
    if not space:
        raise TuneError("the search space is empty: name at least one knob, e.g. learning_rate=1e-4:1e-1:log")
    return space


def grid_values(dim: Dimension, points: int = 3) -> list[Any]:
    """The values a grid search tries for one dimension: evenly spaced (log-spaced for a log knob), on the
    knob's slider ladder where it has one, whole numbers for ints, no repeats."""
    if dim.kind in ("choice", "bool"):
        return list(dim.choices)
    assert dim.low is not None and dim.high is not None
    points = max(2, points)
    if dim.log:
        raw = [math.exp(math.log(dim.low) + i * (math.log(dim.high) - math.log(dim.low)) / (points - 1)) for i in range(points)]
    else:
        raw = [dim.low + i * (dim.high - dim.low) / (points - 1) for i in range(points)]
    steps = tuple(s for s in KNOBS[dim.name].steps if dim.low <= s <= dim.high)
    values: list[Any] = []
    for value in raw:
        if steps:
            value = snap(value, steps)
        value = int(round(value)) if dim.kind == "int" else float(f"{value:.6g}")
        if value not in values:
            values.append(value)
    return values


@dataclass
class TuneSettings:
    strategy: str = "tpe"
    n_trials: int = 20
    timeout_s: float | None = None
    pruner: str = "diagnosis"
    seed: int = 0
    space: dict[str, Dimension] = field(default_factory=lambda: default_space(DEFAULT_KNOBS))
    warmup_epochs: int = 10
    grid_points: int = 3

    def check(self) -> None:
        if self.strategy not in STRATEGIES:
            raise TuneError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.pruner not in PRUNERS:
            raise TuneError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if not 1 <= self.n_trials <= 10_000:
            raise TuneError(f"trials must be between 1 and 10000, got {self.n_trials}")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise TuneError(f"timeout must be above 0 seconds, got {self.timeout_s:g}")
        if not self.space:
            raise TuneError("the search space is empty")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["space"] = {name: asdict(dim) | {"choices": list(dim.choices)} for name, dim in self.space.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TuneSettings:
        values = dict(data)
        space = {
            name: Dimension(**(dim | {"choices": tuple(dim.get("choices", ()))})) for name, dim in values.pop("space").items()
        }
        return cls(space=space, **values)

    def grid(self) -> dict[str, list[Any]]:
        return {name: grid_values(dim, self.grid_points) for name, dim in self.space.items()}

    def total_trials(self) -> int:
        """The trials this study runs: n_trials, or the grid's size when a grid is smaller."""
        if self.strategy != "grid":
            return self.n_trials
        return min(self.n_trials, math.prod(len(v) for v in self.grid().values()))


@dataclass
class TrialOutcome:
    number: int
    params: dict[str, Any]
    state: str  # complete, pruned, failed, running
    value: float | None  # kept validation loss
    metric: float | None  # validation metric at the kept epoch
    reason: str | None  # why it was pruned or failed, in words
    epochs: int
    seconds: float
    run_id: str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # {"epoch", "val_loss"} per reported epoch

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


@dataclass
class TuneResult:
    study_name: str
    storage: str | None
    strategy: str
    pruner: str
    trials: list[TrialOutcome]
    best: TrialOutcome | None
    best_params: dict[str, Any]
    seconds: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "study": self.study_name,
                "storage": self.storage,
                "strategy": self.strategy,
                "pruner": self.pruner,
                "n_trials": len(self.trials),
                "states": {s: sum(t.state == s for t in self.trials) for s in ("complete", "pruned", "failed", "running")},
                "best": self.best.to_dict() if self.best else None,
                "best_params": self.best_params,
                "seconds": self.seconds,
                "note": self.note,
                "trials": [t.to_dict() for t in self.trials],
            }
        )


# ---------------------------------------------------------------------------------------------------
# One study.


class _Grid(optuna.samplers.GridSampler):
    """Optuna's grid sampler without its end-of-grid `study.stop()`, which only works inside
    `study.optimize`: this module asks and tells, and its slots already stop at the grid's size."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        return None


def _sampler(settings: TuneSettings) -> optuna.samplers.BaseSampler:
    if settings.strategy == "grid":
        return _Grid(settings.grid(), seed=settings.seed)
    if settings.strategy == "random":
        return optuna.samplers.RandomSampler(seed=settings.seed)
    return optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=min(5, max(2, settings.n_trials // 4)))


def _pruner(settings: TuneSettings) -> optuna.pruners.BasePruner:
    """Optuna's pruner: the median rule for "median"; none for "diagnosis" (its rules are FitLab's own,
    `diagnosis_reason`) and for "none". Every epoch is still reported, for the history plots."""
    if settings.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=settings.warmup_epochs)
    return optuna.pruners.NopPruner()


def _suggest(trial: optuna.Trial, settings: TuneSettings) -> dict[str, Any]:
    grid = settings.grid() if settings.strategy == "grid" else {}
    params: dict[str, Any] = {}
    for name, dim in settings.space.items():
        if dim.kind in ("choice", "bool") or name in grid:
            options = grid.get(name, list(dim.choices))
            params[name] = trial.suggest_categorical(name, options)
        elif dim.ladder and dim.ladder_values():
            params[name] = trial.suggest_categorical(name, dim.ladder_values())
        elif dim.kind == "int":
            assert dim.low is not None and dim.high is not None
            params[name] = trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
        else:
            assert dim.low is not None and dim.high is not None
            params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
    return params


def best_hyperparameters(base_hp: Hyperparameters, params: dict[str, Any]) -> Hyperparameters:
    """The base knobs with a trial's values (validated: HyperparameterError for an impossible mix)."""
    return base_hp.replace(**{k: v for k, v in params.items() if k in KNOBS})


def diagnosis_reason(history: Sequence[EpochRecord], hp: Hyperparameters, baselines: Baselines | None, warmup: int) -> str | None:
    """Why the diagnosis would stop this trial now, or None: diverged, learning rate too high, or (after
    twice the warm-up) no better than the trivial model."""
    if not history:
        return None
    last = history[-1]
    if not (math.isfinite(last.train_loss) and math.isfinite(last.val_loss)):
        return f"diverged at epoch {last.epoch}: the loss is no longer a finite number (learning rate {hp.learning_rate:g})"
    if len(history) < warmup:
        return None
    verdict = diagnose(history, hp, baselines, status="running").verdict
    if verdict == "diverged":
        return f"diverged by epoch {last.epoch} (learning rate {hp.learning_rate:g})"
    finite = [r.val_loss for r in history if math.isfinite(r.val_loss)]
    best = min(finite, default=math.inf)
    reference = _baseline(baselines, "linear") or _baseline(baselines, "trivial")
    # A jumpy loss in the first epochs is common at a good learning rate: "too high" only once the warm-up
    # is over twice and the best validation loss so far is still no better than a linear model's.
    if verdict == "lr_too_high" and len(history) >= 2 * warmup and reference is not None and best >= reference:
        return (
            f"learning rate {hp.learning_rate:g} too high: the loss jumps instead of falling, and after {len(history)} "
            f"epochs it is no better than a linear model ({best:.4g} vs {reference:.4g})"
        )
    trivial = (baselines or {}).get("trivial", {}).get("val_loss")
    if trivial is not None and math.isfinite(trivial) and len(history) >= 2 * warmup:
        best = min((r.val_loss for r in history if math.isfinite(r.val_loss)), default=math.inf)
        if best >= trivial * (1 - HOPELESS_SHARE):
            return f"no better than always guessing after {len(history)} epochs (best {best:.4g}, trivial model {trivial:.4g})"
    return None


def _baseline(baselines: Baselines | None, name: str) -> float | None:
    value = (baselines or {}).get(name, {}).get("val_loss")
    return float(value) if value is not None and math.isfinite(value) else None


def _open_study(storage: str | None, name: str, settings: TuneSettings, tries: int = 6) -> optuna.Study:
    """Create or join the study. Processes that start together race to create the storage's tables and
    the study (an IntegrityError, PostgreSQL's DuplicateTable as a ProgrammingError, or SQLite's "database is
    locked" for the loser): the loser tries again."""
    def create() -> optuna.Study:
        return optuna.create_study(
            storage=storage,
            study_name=name,
            direction="minimize",
            sampler=_sampler(settings),
            pruner=_pruner(settings),
            load_if_exists=True,
        )

    try:
        return retry_race(
            create,
            tries=tries,
            errors=(*RACE_ERRORS, optuna.exceptions.DuplicatedStudyError),
            pause=lambda attempt: 0.2 + random.random() * (attempt + 1) * 0.3,
        )
    except Exception as exc:  # the race lost every time, a bad URL, an unreachable server
        raise TuneError(f"cannot open the study storage {masked(storage or '')}: {exc}") from None


def run_study(
    dataset: Dataset,
    base_hp: Hyperparameters,
    settings: TuneSettings,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    store: RunStore | None = None,
    workspace: str | None = None,
    dataset_spec: dict[str, Any] | None = None,
    stop_event: threading.Event | None = None,
    on_trial: Callable[[TrialOutcome], None] | None = None,
) -> TuneResult:
    """Run (or join, with the same storage and study name) a study; return every trial of it so far."""
    settings.check()
    if storage is not None and not study_name:
        raise TuneError("a study in a storage needs a name (--study NAME)")
    name = study_name or f"fitlab-{int(time.time() * 1000)}"
    started = time.monotonic()
    if storage is not None:
        # Processes joining one study would otherwise draw the same first trials (same seeded sampler):
        # each gets its own stream; the study's order is not reproducible across processes anyway.
        settings = dataclasses.replace(settings, seed=settings.seed * 1_000_003 + os.getpid())
    study = _open_study(storage, name, settings)
    total = settings.total_trials()
    slots = TrialSlots(storage, name, total)
    baselines = compute_baselines(dataset)
    deadline = started + settings.timeout_s if settings.timeout_s else None
    note = ""
    if settings.strategy == "grid" and total < settings.n_trials:
        note = f"the grid has {total} combinations: {total} trials instead of {settings.n_trials}"
    try:
        while not (stop_event is not None and stop_event.is_set()):
            if deadline is not None and time.monotonic() >= deadline:
                note = (note + "; " if note else "") + f"the time budget ({settings.timeout_s:g} s) ended the search"
                break
            if not slots.take():
                break
            outcome = _one_trial(
                _TrialContext(study, dataset, base_hp, settings, baselines, store, workspace, dataset_spec, stop_event)
            )
            if on_trial is not None:
                on_trial(outcome)
    finally:
        slots.close()
    trials = outcomes(study)
    best = best_trial(trials)
    return TuneResult(
        name,
        masked(storage) if storage else None,
        settings.strategy,
        settings.pruner,
        trials,
        best,
        dict(best.params) if best else {},
        time.monotonic() - started,
        note,
    )


@dataclass(frozen=True)
class _TrialContext:
    """What every trial of one run_study call needs: the study, the data, the knobs and where to record."""

    study: optuna.Study
    dataset: Dataset
    base_hp: Hyperparameters
    settings: TuneSettings
    baselines: Baselines
    store: RunStore | None
    workspace: str | None
    dataset_spec: dict[str, Any] | None
    stop_event: threading.Event | None

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()


def _one_trial(ctx: _TrialContext) -> TrialOutcome:
    from core.experiments.run import run_experiment  # torch: only where trials run

    study, store = ctx.study, ctx.store
    trial = study.ask()
    started = time.monotonic()
    params = _suggest(trial, ctx.settings)
    try:
        hp = best_hyperparameters(ctx.base_hp, params)
    except (HyperparameterError, TypeError, ValueError) as exc:
        _mark_failed(study, trial, f"impossible settings: {exc}")
        return _outcome(study, trial.number)
    run_id = None
    if store is not None and ctx.workspace:
        run_id = open_run(
            store, workspace=ctx.workspace, kind="trial", dataset=ctx.dataset, hp=hp, spec=ctx.dataset_spec, claim=True
        )
    if run_id:
        trial.set_user_attr("run_id", run_id)
    local = threading.Event()
    reason: list[str] = []
    on_epoch = _epoch_watcher(ctx, trial, hp, local, reason)
    try:
        result = run_experiment(ctx.dataset, hp, stop_event=local, on_epoch=on_epoch, baselines=ctx.baselines)
    except Exception as exc:  # a failing trial must not end the study
        _mark_failed(study, trial, f"{type(exc).__name__}: {exc}")
        if store is not None and run_id:
            store.fail(run_id, f"Search trial failed: {type(exc).__name__}: {exc}")
        return _outcome(study, trial.number)
    _record_trial(ctx, trial, result, run_id, reason[0] if reason else None, started)
    return _tell(ctx, trial, result.kept_val_loss, reason[0] if reason else None)


def _mark_failed(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    """End a trial as failed, saying why."""
    trial.set_user_attr("reason", reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


def _epoch_watcher(
    ctx: _TrialContext, trial: optuna.Trial, hp: Hyperparameters, local: threading.Event, reason: list[str]
) -> Callable[[EpochRecord], None]:
    """The trial's per-epoch callback: report the validation loss to Optuna and set `local` (the trial's own
    stop) when the pruner gives up on it, appending why to `reason`, or when the whole search is stopped."""
    settings = ctx.settings
    seen: list[EpochRecord] = []

    def on_epoch(record: EpochRecord) -> None:
        seen.append(record)
        value = record.val_loss if math.isfinite(record.val_loss) else float("inf")
        trial.report(value, record.epoch)
        why = None
        if settings.pruner == "diagnosis":
            why = diagnosis_reason(seen, hp, ctx.baselines, settings.warmup_epochs)
        if why is None and settings.pruner == "median" and math.isfinite(value) and trial.should_prune():
            why = f"worse than the median of earlier trials at epoch {record.epoch} (validation loss {value:.4g})"
        if why is not None:
            reason.append(why)
            local.set()
        if ctx.stopped():
            local.set()

    return on_epoch


def _record_trial(
    ctx: _TrialContext, trial: optuna.Trial, result: RunResult, run_id: str | None, pruned: str | None, started: float
) -> None:
    """Keep what the finished run measured on the trial (epochs, seconds, kept metric) and in the run store."""
    trial.set_user_attr("epochs", len(result.history))
    trial.set_user_attr("seconds", time.monotonic() - started)
    kept = result.kept_epoch
    metric = result.history[kept - 1].val_metric if 0 < kept <= len(result.history) else None
    if metric is not None and math.isfinite(metric):
        trial.set_user_attr("metric", float(metric))
    if ctx.store is not None and run_id:
        record_result(
            ctx.store,
            run_id,
            result,
            ctx.dataset,
            {"study": ctx.study.study_name, "trial": trial.number, "pruned": pruned},
        )


def _tell(ctx: _TrialContext, trial: optuna.Trial, kept_val_loss: float, pruned: str | None) -> TrialOutcome:
    """Tell the study how the trial ended: pruned, stopped, diverged or complete with its kept validation loss."""
    study = ctx.study
    if pruned:
        trial.set_user_attr("reason", pruned)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    elif ctx.stopped():
        _mark_failed(study, trial, "the search was stopped during this trial")
    elif not math.isfinite(kept_val_loss):
        _mark_failed(study, trial, "no finite validation loss (diverged)")
    else:
        study.tell(trial, kept_val_loss)
    return _outcome(study, trial.number)


STATE_WORDS = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "running"}


def _from_frozen(t: optuna.trial.FrozenTrial) -> TrialOutcome:
    steps = sorted(t.intermediate_values.items())
    seconds = t.user_attrs.get("seconds")
    if seconds is None and t.datetime_start and t.datetime_complete:
        seconds = (t.datetime_complete - t.datetime_start).total_seconds()
    return TrialOutcome(
        number=t.number,
        params=dict(t.params),
        state=STATE_WORDS.get(t.state.name, t.state.name.lower()),
        value=float(t.value) if t.value is not None else None,
        metric=t.user_attrs.get("metric"),
        reason=t.user_attrs.get("reason"),
        epochs=int(t.user_attrs.get("epochs", len(steps))),
        seconds=float(seconds or 0.0),
        run_id=t.user_attrs.get("run_id"),
        history=[{"epoch": int(e), "val_loss": float(v) if math.isfinite(v) else None} for e, v in steps],
    )


def _outcome(study: optuna.Study, number: int) -> TrialOutcome:
    """One trial as it stands now (Optuna numbers a study's trials 0, 1, ... in order: the index is the number)."""
    return _from_frozen(study.get_trials(deepcopy=False)[number])


def outcomes(study: optuna.Study) -> list[TrialOutcome]:
    return [_from_frozen(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


def read_trials(storage: str, study_name: str) -> list[TrialOutcome]:
    """The trials of a study another process runs (for a page polling it); [] when it does not exist yet."""
    try:
        from core.store.studies import open_storage  # one storage per URL per process: a page polls this often

        study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    except KeyError:
        return []
    return outcomes(study)


def best_trial(trials: Sequence[TrialOutcome]) -> TrialOutcome | None:
    """The complete trial with the lowest kept validation loss (None before one completes)."""
    done = [t for t in trials if t.state == "complete" and t.value is not None and math.isfinite(t.value)]
    return min(done, key=lambda t: float(t.value or 0)) if done else None


def importances(trials: Sequence[TrialOutcome] | TuneResult) -> dict[str, float]:
    """How much each searched knob explains the kept validation loss (Optuna's fANOVA, seeded); {} with
    fewer than 3 finished trials or fewer than two knobs that varied."""
    items = trials.trials if isinstance(trials, TuneResult) else list(trials)
    done = [t for t in items if t.state == "complete" and t.value is not None and math.isfinite(t.value)]
    names = sorted({k for t in done for k in t.params if len({repr(x.params.get(k)) for x in done}) > 1})
    if len(done) < 3 or len(names) < 2:
        return {}
    study = optuna.create_study(direction="minimize")
    distributions = _distributions(done, names)
    for t in done:
        if all(n in t.params for n in names):
            study.add_trial(
                optuna.trial.create_trial(
                    params={n: t.params[n] for n in names}, distributions=distributions, value=float(t.value or 0)
                )
            )
    if len(study.trials) < 3:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    found = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return {k: float(v) for k, v in found.items()}


def _distributions(trials: Sequence[TrialOutcome], names: Sequence[str]) -> dict[str, optuna.distributions.BaseDistribution]:
    result: dict[str, optuna.distributions.BaseDistribution] = {}
    for name in names:
        values = [t.params[name] for t in trials if name in t.params]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            low, high = min(values), max(values)
            log = KNOBS[name].log if name in KNOBS else False
            if all(isinstance(v, int) for v in values):
                result[name] = optuna.distributions.IntDistribution(int(low), int(high), log=log and low > 0)
            else:
                result[name] = optuna.distributions.FloatDistribution(float(low), float(high), log=log and low > 0)
        else:
            result[name] = optuna.distributions.CategoricalDistribution(sorted({v for v in values}, key=str))
    return result
