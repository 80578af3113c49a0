"""The labelled scenario suite: runs whose fit problem is known from how they were built.

    python bench/scenarios.py            # diagnose every case, print the confusion matrix
    python bench/scenarios.py --fix      # also run "Fix it for me" on every bad case
    python bench/scenarios.py --only overfit_moons,linear_circles

Each case names its dataset, its hyperparameters and why its label follows from that construction
(not from what the diagnosis says). The report goes to bench/REPORT-scenarios.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.builtin import load_builtin  # noqa: E402
from core.diagnosis import VERDICTS  # noqa: E402
from core.experiments.fix import fix_run  # noqa: E402
from core.experiments.run import run_experiment  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402

BAD = ("diverged", "lr_too_high", "not_converged", "underfitting", "overfitting")


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    why: str
    dataset: str
    samples: int = 1000
    noise: float = 0.2
    hp: dict[str, Any] = field(default_factory=dict)

    def load(self, seed: int = 0) -> Any:
        return load_builtin(self.dataset, samples=self.samples, noise=self.noise, seed=seed)

    def hyperparameters(self, seed: int = 0) -> Hyperparameters:
        return Hyperparameters(**{**self.hp, "seed": seed})


ENOUGH = {"epochs": 300, "early_stopping": True, "patience": 20}
HUGE = {"hidden_layers": 4, "width": 512, "epochs": 300, "early_stopping": False, "batch_size": 16}
LINEAR = {"hidden_layers": 0, "learning_rate": 0.01, "epochs": 200, "early_stopping": True, "patience": 20}

GOOD = "a right-sized network, Adam at the cheat sheet's 0.001, enough epochs with early stopping on enough clean data"
OVER = "tiny noisy data, 4x512 network (~800k weights for ~100 rows), no regularization, 300 epochs, no early stopping"
LIN = "no hidden layer is a linear model, and this target is not linear in the inputs"
HIGH = "Adam at a learning rate >= 100x its usual start (or SGD+momentum at 1.0) overshoots on every step"
SLOW = "learning rate 100x below the usual start, or far too few epochs, for a problem the same network solves"
DIV = "SGD+momentum at learning rate 1.0 on a regression target: the squared error grows each step until it overflows"

CASES: list[Case] = [
    # good fits
    Case("good_moons", "good_fit", GOOD, "moons", hp=ENOUGH),
    Case("good_moons_noisy", "good_fit", GOOD, "moons", 2000, 0.3, hp=ENOUGH),
    Case("good_circles", "good_fit", GOOD, "circles", 1000, 0.1, hp=ENOUGH),
    Case("good_xor", "good_fit", GOOD, "xor", 1000, 0.1, hp=ENOUGH),
    Case("good_gaussians", "good_fit", GOOD, "gaussians", hp=ENOUGH),
    Case(
        "good_spiral",
        "good_fit",
        GOOD + " (3 layers: spirals need depth)",
        "spiral",
        hp={**ENOUGH, "hidden_layers": 3, "learning_rate": 0.003},
    ),
    Case("good_sine", "good_fit", GOOD, "sine", 1000, 0.1, hp=ENOUGH),
    Case("good_iris", "good_fit", GOOD, "iris", hp={**ENOUGH, "batch_size": 16}),
    Case("good_wine", "good_fit", GOOD, "wine", hp={**ENOUGH, "batch_size": 16}),
    Case("good_breast_cancer", "good_fit", GOOD, "breast_cancer", hp=ENOUGH),
    Case("good_digits", "good_fit", GOOD, "digits", hp={**ENOUGH, "epochs": 100, "patience": 10}),
    # overfitting
    Case("overfit_moons", "overfitting", OVER, "moons", 150, 0.4, hp=HUGE),
    Case("overfit_circles", "overfitting", OVER, "circles", 150, 0.25, hp=HUGE),
    Case("overfit_xor", "overfitting", OVER, "xor", 150, 0.4, hp=HUGE),
    Case("overfit_gaussians", "overfitting", OVER, "gaussians", 120, 1.0, hp=HUGE),
    Case("overfit_spiral", "overfitting", OVER, "spiral", 150, 0.6, hp=HUGE),
    Case("overfit_sine", "overfitting", OVER, "sine", 100, 0.5, hp=HUGE),
    Case("overfit_diabetes", "overfitting", OVER + " (diabetes: 265 noisy training rows)", "diabetes", hp=HUGE),
    Case("overfit_moons_tiny", "overfitting", OVER, "moons", 100, 0.3, hp=HUGE),
    Case("overfit_sine_noisy", "overfitting", OVER, "sine", 200, 0.8, hp=HUGE),
    Case(
        "overfit_breast_cancer",
        "overfitting",
        OVER + " (341 training rows, 30 features)",
        "breast_cancer",
        hp={**HUGE, "epochs": 200},
    ),
    # underfitting
    Case("linear_circles", "underfitting", LIN, "circles", 1000, 0.1, hp=LINEAR),
    Case("linear_xor", "underfitting", LIN, "xor", 1000, 0.1, hp=LINEAR),
    Case("linear_spiral", "underfitting", LIN, "spiral", hp=LINEAR),
    Case("linear_moons", "underfitting", LIN + " (a line gets ~88 %, a network ~97 %)", "moons", hp=LINEAR),
    Case("linear_sine", "underfitting", LIN, "sine", 1000, 0.1, hp=LINEAR),
    Case(
        "tiny_spiral",
        "underfitting",
        "one hidden layer of 2 neurons cannot wind two spirals",
        "spiral",
        hp={"hidden_layers": 1, "width": 2, "learning_rate": 0.01, "epochs": 200, "patience": 20},
    ),
    Case(
        "tiny_xor",
        "underfitting",
        "one neuron wide: a single bend cannot carve four quadrants",
        "xor",
        1000,
        0.1,
        hp={"hidden_layers": 1, "width": 1, "learning_rate": 0.01, "epochs": 200, "patience": 20},
    ),
    Case(
        "tiny_circles",
        "underfitting",
        "one hidden neuron draws one line; a ring needs at least three",
        "circles",
        1000,
        0.1,
        hp={"hidden_layers": 1, "width": 1, "learning_rate": 0.01, "epochs": 200, "patience": 20},
    ),
    # learning rate too high
    Case("high_moons_adam", "lr_too_high", HIGH, "moons", hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40}),
    Case("high_moons_adam1", "lr_too_high", HIGH, "moons", hp={"learning_rate": 1.0, "early_stopping": False, "epochs": 40}),
    Case(
        "high_circles_adam",
        "lr_too_high",
        HIGH,
        "circles",
        1000,
        0.1,
        hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40},
    ),
    Case(
        "high_gaussians_adam", "lr_too_high", HIGH, "gaussians", hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40}
    ),
    Case(
        "high_xor_adam", "lr_too_high", HIGH, "xor", 1000, 0.1, hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40}
    ),
    Case(
        "high_breast_cancer_adam",
        "lr_too_high",
        HIGH,
        "breast_cancer",
        hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40},
    ),
    Case(
        "high_moons_sgd",
        "lr_too_high",
        HIGH,
        "moons",
        hp={"learning_rate": 1.0, "optimizer": "sgd", "early_stopping": False, "epochs": 40},
    ),
    Case("high_spiral_adam", "lr_too_high", HIGH, "spiral", hp={"learning_rate": 0.3, "early_stopping": False, "epochs": 40}),
    # not converged
    Case("slow_moons", "not_converged", SLOW, "moons", hp={"learning_rate": 1e-5, "epochs": 30}),
    Case("slow_circles", "not_converged", SLOW, "circles", 1000, 0.1, hp={"learning_rate": 1e-5, "epochs": 30}),
    Case("slow_breast_cancer", "not_converged", SLOW, "breast_cancer", hp={"learning_rate": 1e-5, "epochs": 30}),
    Case("slow_sine", "not_converged", SLOW, "sine", 1000, 0.1, hp={"learning_rate": 1e-4, "epochs": 20}),
    Case("slow_digits", "not_converged", SLOW, "digits", hp={"learning_rate": 1e-5, "epochs": 20}),
    Case("short_spiral", "not_converged", SLOW + " (15 epochs for a spiral)", "spiral", hp={"hidden_layers": 3, "epochs": 15}),
    Case(
        "slow_moons_sgd",
        "not_converged",
        SLOW + " (SGD at 1e-4)",
        "moons",
        hp={"learning_rate": 1e-4, "optimizer": "sgd", "epochs": 30},
    ),
    # diverged
    Case(
        "diverge_sine_sgd",
        "diverged",
        DIV,
        "sine",
        1000,
        0.1,
        hp={"learning_rate": 1.0, "optimizer": "sgd", "early_stopping": False, "epochs": 30},
    ),
    Case(
        "diverge_diabetes_sgd",
        "diverged",
        DIV,
        "diabetes",
        hp={"learning_rate": 1.0, "optimizer": "sgd", "early_stopping": False, "epochs": 30},
    ),
    Case(
        "diverge_sine_sgd_wide",
        "diverged",
        DIV + " (4x512)",
        "sine",
        1000,
        0.1,
        hp={"learning_rate": 1.0, "optimizer": "sgd", "hidden_layers": 4, "width": 512, "early_stopping": False, "epochs": 30},
    ),
]


def run_case(job: tuple[Case, int, bool]) -> dict[str, Any]:
    case, seed, fix = job
    started = time.perf_counter()
    row: dict[str, Any] = {}
    if fix and case.label != "good_fit":
        outcome = fix_run(case.load(seed), case.hyperparameters(seed), rounds=3)
        result = outcome.rounds[0]
        row = {
            "fix_improved": outcome.improved,
            "fix_fixed": outcome.fixed,
            "fix_path": " -> ".join(
                r.diagnosis.verdict if c is None else f"{c.knob}={c.value}: {r.diagnosis.verdict}"
                for r, c in zip(outcome.rounds, outcome.changes, strict=True)
            ),
            "fix_val": (outcome.rounds[0].kept_val_loss, outcome.final.kept_val_loss),
        }
    else:
        result = run_experiment(case.load(seed), case.hyperparameters(seed))
    best_val = min((r.val_loss for r in result.history), default=float("nan"))
    return row | {
        "name": case.name,
        "label": case.label,
        "verdict": result.diagnosis.verdict,
        "secondary": result.diagnosis.secondary,
        "epochs": len(result.history),
        "val_loss_end": result.history[-1].val_loss if result.history else float("nan"),
        "val_loss_best": best_val,
        "seconds": time.perf_counter() - started,
        "evidence": result.diagnosis.evidence[:2],
    }


def confusion(rows: list[dict[str, Any]], extra_columns: tuple[str, ...] = ()) -> str:
    """Markdown confusion matrix of rows {label, verdict}; `extra_columns` are verdict columns beyond VERDICTS."""
    columns = [*VERDICTS, *extra_columns]
    counts = Counter((r["label"], r["verdict"]) for r in rows)
    short = {v: v.replace("_", " ")[:11] for v in columns}
    lines = [
        "| label \\ verdict | " + " | ".join(short[v] for v in columns) + " | correct |",
        "|---" * (len(columns) + 2) + "|",
    ]
    for label in VERDICTS:
        total = sum(counts[(label, v)] for v in columns)
        if total:
            cells = [str(counts[(label, v)]) if counts[(label, v)] else "·" for v in columns]
            lines.append(f"| **{label}** | " + " | ".join(cells) + f" | {counts[(label, label)]}/{total} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=0, help="data and weight seed; other seeds are a held-out check")
    parser.add_argument("--fix", action="store_true", help="also run Fix it for me (3 rounds) on every bad case")
    parser.add_argument("--report", help="where to write the markdown report (default bench/REPORT-scenarios[-seedN][-fix].md)")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(run_case, [(c, args.seed, args.fix) for c in cases]))
    elapsed = time.perf_counter() - started
    correct = sum(r["label"] == r["verdict"] for r in rows)
    bad_as_good = [r for r in rows if r["label"] != "good_fit" and r["verdict"] == "good_fit"]
    datasets = sorted({c.dataset for c in cases})
    for r in rows:
        mark = "ok " if r["label"] == r["verdict"] else "XX "
        print(
            f"{mark}{r['name']:26s} label {r['label']:14s} verdict {r['verdict']:14s} {r['epochs']:4d} ep "
            f"{r['seconds']:5.1f}s  {r['secondary']}  {r['evidence'][:1]}"
        )
    summary = (
        f"{len(rows)} runs over {len(datasets)} datasets ({', '.join(datasets)}); "
        f"accuracy {correct}/{len(rows)} = {correct / len(rows):.0%}; bad runs called good_fit: {len(bad_as_good)}; "
        f"{elapsed:.0f} s with {args.workers} workers"
    )
    table = confusion(rows)
    print("\n" + table + "\n\n" + summary)
    fixed_part = ""
    if args.fix:
        bad = [r for r in rows if r["label"] != "good_fit"]
        improved = sum(r["fix_improved"] for r in bad)
        fixed = sum(r["fix_fixed"] for r in bad)
        paths = "\n".join(f"| {r['name']} | {r['fix_path']} | {r['fix_val'][0]:.4g} -> {r['fix_val'][1]:.4g} |" for r in bad)
        fixed_part = (
            f"\n\n## Fix it for me (3 rounds)\n\nbad runs whose kept validation loss ended lower: {improved}/{len(bad)} = "
            f"{improved / len(bad):.0%}; reached good_fit: {fixed}/{len(bad)} = {fixed / len(bad):.0%}\n\n"
            f"| case | path | validation loss |\n|---|---|---|\n{paths}\n"
        )
        print(fixed_part)
    listing = "\n".join(f"| {c.name} | {c.label} | {c.dataset} | {c.why} |" for c in cases)
    if not args.only:
        suffix = (f"-seed{args.seed}" if args.seed else "") + ("-fix" if args.fix else "")
        report = Path(args.report) if args.report else Path(__file__).with_name(f"REPORT-scenarios{suffix}.md")
        command = " ".join(["python bench/scenarios.py", *sys.argv[1:]])
        report.write_text(
            f"# Scenario suite\n\n`{command}` ({time.strftime('%Y-%m-%d')})\n\n{table}\n\n{summary}{fixed_part}\n\n"
            f"## Cases and why their labels hold\n\n| case | label | dataset | construction |\n|---|---|---|---|\n{listing}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
