"""Hyperparameter search, measured: grid vs random vs TPE at equal budgets, and the pruners' time to a target.

    .venv/bin/python bench/bench_tune.py [--trials 10] [--seeds 0 1] [--report bench/REPORT-tune.md]

Datasets: moons and spiral (built-in, synthetic) and the breast-cancer CSV (scikit-learn's data written
out as a file and read back through FitLab's CSV path). Search space: learning rate 1e-4..1e-1 (log),
width 8..256, dropout 0..0.5; other knobs at their defaults with up to 100 epochs and early stopping (patience 10).

Part 1: best kept validation loss each strategy finds with the same number of trials (no pruning), per
seed. Part 2: TPE with no pruner / the median pruner / the diagnosis pruner, per seed: the wall time until
a trial reaches the target (the median of part 1's best losses of that dataset, times 1.05), and the
time of the whole study. Trials run in this one process, one after another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.builtin import load_builtin  # noqa: E402
from core.data.dataset import Dataset, load_csv  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402
from core.tuning.study import STRATEGIES, TrialOutcome, TuneSettings, parse_space, run_study  # noqa: E402

DEFAULT_SPACE = "learning_rate=1e-4:1e-1:log,width=8:256,dropout=0:0.5"
SPACE = DEFAULT_SPACE
BASE = Hyperparameters(epochs=100, patience=10)
PRUNERS = ("none", "median", "diagnosis")


def datasets(folder: Path) -> dict[str, Dataset]:
    from sklearn import datasets as skdatasets

    csv = folder / "breast_cancer.csv"
    skdatasets.load_breast_cancer(as_frame=True).frame.to_csv(csv, index=False)
    return {
        "moons (built-in)": load_builtin("moons", samples=800, noise=0.3, seed=0),
        "spiral (built-in)": load_builtin("spiral", samples=800, noise=0.2, seed=0),
        "breast_cancer.csv (CSV)": load_csv(str(csv), "target", seed=0),
    }


def settings(strategy: str, pruner: str, trials: int, seed: int) -> TuneSettings:
    return TuneSettings(strategy=strategy, n_trials=trials, pruner=pruner, seed=seed, space=parse_space(SPACE), grid_points=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--report", default=str(ROOT / "bench" / "REPORT-tune.md"))
    parser.add_argument("--space", default=DEFAULT_SPACE, help=f"the search space (default {DEFAULT_SPACE})")
    args = parser.parse_args()
    global SPACE
    SPACE = args.space
    started, load_before = time.monotonic(), os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        data = datasets(Path(folder))
    best: dict[tuple[str, str], list[float]] = {}
    seconds: dict[tuple[str, str], list[float]] = {}
    for name, dataset in data.items():
        for strategy in STRATEGIES:
            for seed in args.seeds:
                result = run_study(dataset, BASE, settings(strategy, "none", args.trials, seed))
                value = result.best.value if result.best and result.best.value is not None else float("nan")
                best.setdefault((name, strategy), []).append(value)
                seconds.setdefault((name, strategy), []).append(result.seconds)
                print(f"{name:28} {strategy:6} seed {seed}: best {value:.4f} in {result.seconds:.1f} s", flush=True)
    reach: dict[tuple[str, str], list[float | None]] = {}
    total: dict[tuple[str, str], list[float]] = {}
    pruned: dict[tuple[str, str], list[int]] = {}
    targets: dict[str, float] = {}
    for name, dataset in data.items():
        target = statistics.median(v for s in STRATEGIES for v in best[(name, s)]) * 1.05
        targets[name] = target
        for pruner in PRUNERS:
            for seed in args.seeds:
                clock = time.monotonic()
                hit: list[float] = []

                def on_trial(trial: TrialOutcome, clock: float = clock, hit: list[float] = hit, target: float = target) -> None:
                    if not hit and trial.state == "complete" and trial.value is not None and trial.value <= target:
                        hit.append(time.monotonic() - clock)

                result = run_study(dataset, BASE, settings("tpe", pruner, args.trials, seed), on_trial=on_trial)
                reach.setdefault((name, pruner), []).append(hit[0] if hit else None)
                total.setdefault((name, pruner), []).append(result.seconds)
                pruned.setdefault((name, pruner), []).append(sum(t.state == "pruned" for t in result.trials))
                shown = f"{hit[0]:.1f} s" if hit else "not reached"
                print(
                    f"{name:28} tpe+{pruner:9} seed {seed}: target {target:.4f} {shown}; study {result.seconds:.1f} s", flush=True
                )
    lines = [
        "# Hyperparameter search: strategies and pruners",
        "",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`",
        f"- machine: {platform.machine()}, `nproc` {os.cpu_count()}, Python {platform.python_version()}; load before "
        f"{'/'.join(f'{x:.2f}' for x in load_before)}, after "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"wall time {time.monotonic() - started:.0f} s",
        f"- search space `{SPACE}`; base: {BASE.epochs} epochs max, early stopping (patience {BASE.patience}),"
        " other knobs default;"
        f" {args.trials} trials per study; seeds {', '.join(map(str, args.seeds))}; grid: 3 values per knob (27 points, the"
        f" first {args.trials} in the grid sampler's order)",
        "",
        "## Best kept validation loss at equal budgets (no pruning)",
        "",
        "| dataset | "
        + " | ".join(f"{s} (per seed)" for s in STRATEGIES)
        + " | "
        + " | ".join(f"{s} median" for s in STRATEGIES)
        + " |",
        "|---|" + "---|" * (2 * len(STRATEGIES)),
    ]
    for name in data:
        cells = [", ".join(f"{v:.4f}" for v in best[(name, s)]) for s in STRATEGIES]
        medians = [f"**{statistics.median(best[(name, s)]):.4f}**" for s in STRATEGIES]
        lines.append(f"| {name} | " + " | ".join(cells + medians) + " |")
    lines += [
        "",
        "## Time to reach the target with TPE: no pruner / median / diagnosis",
        "",
        "Target = 1.05 × the median best loss of all strategies above (per dataset). Time from the study's start to the end"
        " of the first completed trial at or below it; '—' = not reached within the budget.",
        "",
        "| dataset | target | pruner | time to target per seed, s | median s | whole study per seed, s | pruned trials |",
        "|---|---:|---|---|---:|---|---|",
    ]
    for name in data:
        for pruner in PRUNERS:
            hits = reach[(name, pruner)]
            got = [h for h in hits if h is not None]
            median = (
                f"{statistics.median(got):.1f}"
                if len(got) == len(hits)
                else ("—" if not got else f"{statistics.median(got):.1f}*")
            )
            per_seed = ", ".join("—" if h is None else f"{h:.1f}" for h in hits)
            studies = ", ".join(f"{t:.1f}" for t in total[(name, pruner)])
            counts = ", ".join(map(str, pruned[(name, pruner)]))
            lines.append(f"| {name} | {targets[name]:.4f} | {pruner} | {per_seed} | {median} | {studies} | {counts} |")
    lines += ["", "\\* reached in only some seeds: the median of those.", ""]
    Path(args.report).write_text("\n".join(lines))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
