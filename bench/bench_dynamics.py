"""The labelled training-dynamics suite, what recording costs, and the scenario suite's good fits.

    python bench/bench_dynamics.py --seed 0            # the suite, seed 0 (development: thresholds were set on it)
    python bench/bench_dynamics.py --seed 1            # the held-out seed (looked at once, after the thresholds were set)
    python bench/bench_dynamics.py --held-out        # other constructions on other datasets (held out, run once)
    python bench/bench_dynamics.py --good              # every good_fit case of bench/scenarios.py: no finding allowed
    python bench/bench_dynamics.py --fix               # Fix it for me (3 rounds) on the suite's runs
    python bench/bench_dynamics.py --fix --without-dynamics   # ... guided by the loss curves only (the baseline)
    python bench/bench_dynamics.py --cost              # recording cost per epoch, with and without, interleaved

Each case's label follows from how it is built, not from what FitLab says (core/diagnosis/dynamics.py):
- vanishing_gradients: 8 hidden sigmoid layers of 32, plain SGD (momentum 0.9) at its usual 0.01: each
  sigmoid layer passes on at most a quarter of the gradient, so the first layers get 1e-6 of it;
- dead_units: ReLU with SGD at learning rate 1.0: the first large steps push the units' inputs below
  zero for every row, where ReLU's gradient is zero, so they never come back;
- saturated_units: tanh with Adam at 0.3 (300x its usual start): the weights grow until the units'
  inputs sit in tanh's flat tails;
- stalled_updates: Adam at 1e-5 (100x below its usual 1e-3) for 50 epochs: the weights hardly move.
Results go to bench/REPORT-dynamics.md (sections replaced by name, so each mode adds its own).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.builtin import load_builtin  # noqa: E402
from core.experiments.fix import fix_run  # noqa: E402
from core.experiments.run import run_experiment  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402

REPORT = Path(__file__).with_name("REPORT-dynamics.md")
DATASETS = ("moons", "circles", "spiral", "digits")
PATHOLOGIES: dict[str, dict[str, Any]] = {
    "vanishing_gradients": {
        "hidden_layers": 8,
        "width": 32,
        "activation": "sigmoid",
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "epochs": 100,
        "early_stopping": False,
    },
    "dead_units": {"activation": "relu", "optimizer": "sgd", "learning_rate": 1.0, "epochs": 100, "early_stopping": False},
    "saturated_units": {"activation": "tanh", "optimizer": "adam", "learning_rate": 0.3, "epochs": 100, "early_stopping": False},
    "stalled_updates": {"activation": "relu", "optimizer": "adam", "learning_rate": 1e-5, "epochs": 50},
}
# Held out by construction family and dataset (written down before any of them ran; run once): other
# depths, widths, optimizers and activations on datasets the suite does not use, a regression among them.
HELD_OUT_DATASETS = ("xor", "sine", "breast_cancer", "wine")
HELD_OUT: dict[str, dict[str, Any]] = {
    "vanishing_gradients": {
        "hidden_layers": 8,
        "width": 16,
        "activation": "sigmoid",
        "optimizer": "sgd",
        "learning_rate": 0.03,
        "epochs": 80,
        "early_stopping": False,
    },
    "dead_units": {"activation": "relu", "optimizer": "adam", "learning_rate": 1.0, "epochs": 80, "early_stopping": False},
    "saturated_units": {
        "activation": "sigmoid",
        "optimizer": "adam",
        "learning_rate": 0.3,
        "epochs": 80,
        "early_stopping": False,
    },
    "stalled_updates": {"activation": "tanh", "optimizer": "sgd", "learning_rate": 1e-5, "epochs": 60},
}


def suite_case(job: tuple[str, str, int, bool, bool]) -> dict[str, Any]:
    label, dataset, seed, fix, inside = job
    held_out = dataset in HELD_OUT_DATASETS
    data = load_builtin(dataset, seed=seed)
    hp = Hyperparameters(**{**(HELD_OUT if held_out else PATHOLOGIES)[label], "seed": seed})
    started = time.perf_counter()
    row: dict[str, Any] = {"label": label, "dataset": dataset}
    if fix:
        outcome = fix_run(data, hp, rounds=3, dynamics=inside)
        result = outcome.rounds[0]
        row["fixed"] = outcome.fixed
        row["path"] = " → ".join(
            r.diagnosis.verdict if c is None else f"{c.knob}={c.value}: {r.diagnosis.verdict}"
            for r, c in zip(outcome.rounds, outcome.changes, strict=True)
        )
    else:
        result = run_experiment(data, hp)
    inside = [f["name"] for f in result.diagnosis.inside]
    return row | {
        "verdict": result.diagnosis.verdict,
        "found": inside[0] if inside else "none",
        "all": inside,
        "measured": len(result.dynamics.epochs) if result.dynamics else 0,
        "epochs": len(result.history),
        "seconds": time.perf_counter() - started,
    }


def good_case(job: tuple[Any, int]) -> dict[str, Any]:
    case, seed = job
    from core.diagnosis.dynamics import DYNAMICS_RULES

    result = run_experiment(case.load(seed), case.hyperparameters(seed))
    assert result.dynamics is not None
    ungated = [f.name for rule in DYNAMICS_RULES if (f := rule.detect(result.dynamics, len(result.history))) is not None]
    return {
        "name": case.name,
        "verdict": result.diagnosis.verdict,
        "all": [f["name"] for f in result.diagnosis.inside],
        "ungated": ungated,
    }


def write_section(title: str, body: str) -> None:
    """Replace (or add) the report's `## title` section."""
    text = REPORT.read_text() if REPORT.exists() else "# Training dynamics: findings from inside the network\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    REPORT.write_text(text)


def run_suite(seed: int, workers: int, fix: bool, held_out: bool = False, inside: bool = True) -> None:
    datasets = HELD_OUT_DATASETS if held_out else DATASETS
    jobs = [(label, dataset, seed, fix, inside) for label in PATHOLOGIES for dataset in datasets]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        rows = list(pool.map(suite_case, jobs))
    elapsed = time.perf_counter() - started
    correct = sum(r["label"] == r["found"] for r in rows)
    lines = ["| label | dataset | verdict | first finding | all findings | epochs measured |", "|---|---|---|---|---|---|"]
    for r in rows:
        mark = "" if r["label"] == r["found"] else " ✗"
        lines.append(
            f"| {r['label']} | {r['dataset']} | {r['verdict']} | {r['found']}{mark} | {', '.join(r['all']) or '—'} "
            f"| {r['measured']} of {r['epochs']} |"
        )
    counts = Counter((r["label"], r["found"]) for r in rows)
    summary = f"first finding = label: **{correct}/{len(rows)}**; {elapsed:.0f} s with {workers} workers"
    print("\n".join(lines) + "\n\n" + summary)
    print(counts)
    if fix:
        fixed = sum(r["fixed"] for r in rows)
        paths = "\n".join(f"| {r['label']} | {r['dataset']} | {r['path']} |" for r in rows)
        flags = " --held-out" * held_out + " --without-dynamics" * (not inside)
        guide = (
            "the loss curves and the layers' findings" if inside else "the loss curves only (no per-layer record: the baseline)"
        )
        body = (
            f"`python bench/bench_dynamics.py --fix{flags} --seed {seed}` ({time.strftime('%Y-%m-%d')}; guided by {guide})\n\n"
            f"Reached `good_fit` within 3 rounds: **{fixed}/{len(rows)}**\n\n| label | dataset | path |\n|---|---|---|\n{paths}"
        )
        where = "held-out constructions" if held_out else "suite"
        write_section(f"Fix it for me on the {where} (seed {seed}){'' if inside else ', without the findings'}", body)
        return
    role = (
        "development: the thresholds were set looking at it" if seed == 0 else "held out: run once, after the thresholds were set"
    )
    if held_out:
        role = "held out: other constructions on other datasets, written down before they ran, run once"
    flag = " --held-out" if held_out else ""
    body = (
        f"`python bench/bench_dynamics.py{flag} --seed {seed}` ({time.strftime('%Y-%m-%d')}; {role})\n\n{summary}\n\n"
        + "\n".join(lines)
    )
    write_section(f"{'Held-out constructions' if held_out else 'Suite'}, seed {seed}", body)


def run_good(seed: int, workers: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scenarios import CASES

    cases = [c for c in CASES if c.label == "good_fit"]
    with ProcessPoolExecutor(workers) as pool:
        rows = list(pool.map(good_case, [(c, seed) for c in cases]))
    good = [r for r in rows if r["verdict"] == "good_fit"]
    noisy = [r for r in good if r["all"]]
    lines = "\n".join(
        f"| {r['name']} | {r['verdict']} | {', '.join(r['all']) or '—'} | {', '.join(r['ungated']) or '—'} |" for r in rows
    )
    raw = sum(bool(r["ungated"]) for r in good)
    body = (
        f"`python bench/bench_dynamics.py --good --seed {seed}` ({time.strftime('%Y-%m-%d')})\n\n"
        f"good_fit runs with a dynamics finding: **{len(noisy)} of {len(good)}**. The rules asked directly, without the "
        f"verdict gate (core.diagnosis.dynamics.EXPLAINS), fire on {raw} of them.\n\n"
        f"| case | verdict | findings | rules without the gate |\n|---|---|---|---|\n{lines}"
    )
    print(body)
    write_section(f"The scenario suite's good fits (seed {seed})", body)


def timed(dataset: Any, hp: Hyperparameters, record: bool) -> tuple[float, float]:
    """(seconds per epoch, probe seconds per epoch) of one training."""
    from core.training.trainer import Trainer

    trainer = Trainer(dataset, hp, record_dynamics=record)
    started = time.perf_counter()
    for _ in trainer:
        pass
    epochs = max(1, len(trainer.history))
    probe = 0.0
    return (time.perf_counter() - started) / epochs, probe


def run_cost(repeats: int) -> None:
    dataset = load_builtin("moons")
    rows = []
    for label, hp in (
        ("default (moons 1,000 rows, 2x128 ReLU, Adam, batch 32, 50 epochs)", Hyperparameters(early_stopping=False)),
        ("batch 256", Hyperparameters(batch_size=256, early_stopping=False)),
        ("4x512, batch 32", Hyperparameters(hidden_layers=4, width=512, early_stopping=False, epochs=20)),
    ):
        off, on = [], []
        timed(dataset, hp, True)  # warm-up
        for _ in range(repeats):  # interleaved: drift of the machine hits both alike
            off.append(timed(dataset, hp, False)[0])
            on.append(timed(dataset, hp, True)[0])
        a, b = statistics.median(off), statistics.median(on)
        rows.append(f"| {label} | {a * 1000:.2f} | {b * 1000:.2f} | {100 * (b / a - 1):+.1f} % |")
        print(rows[-1])
    body = (
        f"`python bench/bench_dynamics.py --cost` ({time.strftime('%Y-%m-%d')}, {repeats} interleaved repeats, medians, "
        f"{os.cpu_count()} cores, one torch thread)\n\n"
        "| settings | ms per epoch without | with recording | cost |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("What recording costs", body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--good", action="store_true")
    parser.add_argument("--fix", action="store_true")
    parser.add_argument("--cost", action="store_true")
    parser.add_argument("--held-out", action="store_true", help="the held-out constructions and datasets")
    parser.add_argument("--without-dynamics", action="store_true", help="with --fix: no per-layer record (the baseline)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.cost:
        run_cost(args.repeats)
    elif args.good:
        run_good(args.seed, args.workers)
    else:
        run_suite(args.seed, args.workers, args.fix, args.held_out, not args.without_dynamics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
