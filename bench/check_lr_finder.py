"""Does the learning-rate finder's suggestion train well? A check on the default dataset.

For each seed: the default dataset (moons, 1000 samples, noise 0.2, split by that seed) and the
default Hyperparameters with that seed. Run `find_learning_rate`, then train twice for the same
epochs with the same seed: once at the default learning rate (0.001), once at the snapped
suggestion (what "use it" puts on the slider). The suggestion passes a seed when

  1. it does not diverge: no non-finite loss, and training loss does not end > 4x its best and above
     its start (the README's `diverged` rule), and
  2. it does not end worse: the validation loss of the model the run ends with (early stopping is on
     by default, so the restored best epoch's) is at most the default's plus TOLERANCE_SE paired
     standard errors.

Why a paired standard error: a validation loss is the mean of per-row losses over ~200 rows, so it
carries sampling noise. Both models are scored on the same rows, so the noise of their *difference*
is std(per-row difference) / sqrt(rows). A gap inside two of those is not a measurable difference
(about a 2.3 % one-sided false alarm rate); a gap beyond it is a real "worse". A fixed relative
tolerance would instead be too strict where losses are tiny and too loose where they are large.

For comparison only (not part of the pass/fail): Lightning's steepest-slope rule on the same sweep
is trained too, and the same check is run with SGD (momentum 0.9), where the default 0.001 is a poor
start, to see whether the suggestion also *helps* rather than merely does no harm.

    .venv/bin/python bench/check_lr_finder.py              # 10 seeds, writes bench/REPORT-lr-finder.md
    .venv/bin/python bench/check_lr_finder.py --seeds 3 --report /tmp/r.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/check_lr_finder.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.data.builtin import load_builtin  # noqa: E402
from core.data.dataset import Dataset  # noqa: E402
from core.experiments.lr_finder import find_learning_rate, snap_learning_rate  # noqa: E402
from core.experiments.results import LrFinderResult  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402
from core.training.optim import to_tensors  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

DATASET = {"name": "moons", "samples": 1000, "noise": 0.2}
DEFAULT_SEEDS = 10
TOLERANCE_SE = 2.0  # paired standard errors of the validation-loss difference (see the docstring)
DIVERGENCE_FACTOR = 4.0  # the README's `diverged`: training loss ends > 4x its best and above its start
STEEPEST_SKIP = 10  # Lightning skips the first 10 points of the sweep
DEFAULT_REPORT = ROOT / "bench" / "REPORT-lr-finder.md"


@dataclass
class Run:
    learning_rate: float
    status: str
    epochs: int
    best_epoch: int
    val_loss: float  # the kept model's (best epoch with early stopping)
    last_val_loss: float
    val_accuracy: float
    diverged: bool
    row_losses: np.ndarray  # per validation row, of the kept model
    seconds: float


@dataclass
class SeedResult:
    seed: int
    optimizer: str
    finder: LrFinderResult
    default: Run
    suggested: Run
    steepest_lr: float
    steepest: Run

    def difference(self, other: Run) -> tuple[float, float]:
        """(validation loss of `other` minus the default's, paired standard error of that difference)."""
        diff = other.row_losses - self.default.row_losses
        return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))

    def passes(self) -> bool:
        delta, se = self.difference(self.suggested)
        return not self.suggested.diverged and delta <= TOLERANCE_SE * se


def _row_losses(trainer: Trainer, dataset: Dataset) -> np.ndarray:
    assert trainer.model is not None
    x, y = to_tensors(dataset.x_val, dataset.y_val, dataset.task)
    with torch.inference_mode():
        return torch.nn.functional.cross_entropy(trainer.model(x), y, reduction="none").numpy()


def train(dataset: Dataset, hp: Hyperparameters) -> Run:
    started = time.perf_counter()
    trainer = Trainer(dataset, hp)
    for _record in trainer:
        pass
    history = trainer.history
    train_losses = history["train_loss"]
    finite = all(math.isfinite(v) for v in train_losses + history["val_loss"])
    blew_up = train_losses[-1] > DIVERGENCE_FACTOR * min(train_losses) and train_losses[-1] > train_losses[0]
    best = history[trainer.best_epoch - 1] if trainer.best_epoch else history[-1]
    kept = best if hp.early_stopping else history[-1]
    return Run(
        learning_rate=hp.learning_rate,
        status=trainer.status,
        epochs=len(history),
        best_epoch=trainer.best_epoch,
        val_loss=kept.val_loss,
        last_val_loss=history[-1].val_loss,
        val_accuracy=kept.val_metric,
        diverged=trainer.status == "diverged" or not finite or blew_up,
        row_losses=_row_losses(trainer, dataset),
        seconds=time.perf_counter() - started,
    )


def steepest_learning_rate(finder: LrFinderResult) -> float:
    """Lightning's rule on the same sweep: the most negative slope of the smoothed loss after 10 points."""
    usable = len(finder.smoothed) - 1 if finder.stopped_early else len(finder.smoothed)
    smoothed = np.array(finder.smoothed[STEEPEST_SKIP:usable])
    index = STEEPEST_SKIP + int(np.argmin(np.gradient(smoothed)))
    return snap_learning_rate(finder.learning_rates[index])


def check_seed(seed: int, optimizer: str = "adam") -> SeedResult:
    dataset = load_builtin(DATASET["name"], samples=DATASET["samples"], noise=DATASET["noise"], seed=seed)
    hp = Hyperparameters(seed=seed, optimizer=optimizer)
    finder = find_learning_rate(dataset, hp)
    steepest_lr = steepest_learning_rate(finder)
    return SeedResult(
        seed=seed,
        optimizer=optimizer,
        finder=finder,
        default=train(dataset, hp),
        suggested=train(dataset, hp.replace(learning_rate=finder.snapped_suggestion)),
        steepest_lr=steepest_lr,
        steepest=train(dataset, hp.replace(learning_rate=steepest_lr)),
    )


# ---------------------------------------------------------------- report


def _run_cells(run: Run) -> str:
    return f"{run.val_loss:.4f} | {run.last_val_loss:.4f} | {run.val_accuracy:.3f} | {run.best_epoch}/{run.epochs} {run.status}"


def table(results: list[SeedResult]) -> str:
    rows = [
        "| seed | sweep steps (s) | suggestion raw → slider | default lr 0.001: val loss kept · last · acc · best/epochs "
        "| suggestion: val loss kept · last · acc · best/epochs | Δ val loss ± paired SE | diverged | pass |",
        "|---:|---:|---|---|---|---:|---|---|",
    ]
    for r in results:
        delta, se = r.difference(r.suggested)
        rows.append(
            f"| {r.seed} | {len(r.finder.losses)} ({r.finder.seconds:.2f}) | {r.finder.suggestion:.3g} → "
            f"**{r.finder.snapped_suggestion:g}** | {_run_cells(r.default).replace(' | ', ' · ')} | "
            f"{_run_cells(r.suggested).replace(' | ', ' · ')} | {delta:+.4f} ± {se:.4f} | "
            f"{'yes' if r.suggested.diverged else 'no'} | {'✅' if r.passes() else '❌'} |"
        )
    return "\n".join(rows)


def comparison(results: list[SeedResult]) -> str:
    rows = [
        "| seed | valley → slider | Δ val loss (valley) | steepest → slider | Δ val loss (steepest) | steepest within 2 SE |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        dv, _ = r.difference(r.suggested)
        ds, ses = r.difference(r.steepest)
        ok = not r.steepest.diverged and ds <= TOLERANCE_SE * ses
        verdict = "yes" if ok else "no"
        rows.append(f"| {r.seed} | {r.finder.snapped_suggestion:g} | {dv:+.4f} | {r.steepest_lr:g} | {ds:+.4f} | {verdict} |")
    return "\n".join(rows)


def command_line() -> str:
    executable = Path(sys.executable)
    try:
        shown = str(executable.relative_to(Path.cwd()))
    except ValueError:
        shown = str(executable)
    return shlex.join([shown, *sys.argv])


def report(results: list[SeedResult], sgd: list[SeedResult], elapsed: float, load_before: str, load_after: str) -> str:
    passed = sum(r.passes() for r in results)
    mean_delta = float(np.mean([r.difference(r.suggested)[0] for r in results]))
    sgd_section = ""
    if sgd:
        sgd_better = sum(r.difference(r.suggested)[0] < -TOLERANCE_SE * r.difference(r.suggested)[1] for r in sgd)
        sgd_mean = float(np.mean([r.difference(r.suggested)[0] for r in sgd]))
        sgd_section = f"""
## Also: SGD (momentum 0.9), where the default 0.001 is a poor start (not checked)

The same runs with `--optimizer sgd`. The suggestion ends better than 0.001 by more than {TOLERANCE_SE:g} paired \
standard errors in {sgd_better}/{len(sgd)} seeds; mean Δ validation loss {sgd_mean:+.4f}.

{table(sgd).replace("default lr 0.001:", "SGD at 0.001:")}
"""
    return f"""# Learning-rate finder: does its suggestion train as well as the default?

- date: {dt.datetime.now().astimezone().isoformat(timespec="seconds")}
- command: `{command_line()}`
- torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}
- load average (1/5/15 min) before: {load_before}; after: {load_after}; wall time {elapsed:.1f} s
- data: moons, {DATASET["samples"]} samples, noise {DATASET["noise"]}, split 60/20/20 by the seed \
({len(results[0].default.row_losses)} validation rows)
- model and training: default `Hyperparameters` (Adam, batch 32, 2 x 128 ReLU, 50 epochs, early stopping \
with patience 10, which restores the best epoch), the seed fixing split, initial weights and shuffling
- sweep: `find_learning_rate` defaults (1e-7 → 10, 100 steps, stop at 4x the best smoothed loss, \
rule `{results[0].finder.rule}`); the suggestion is clipped to [1e-5, 1] and snapped to the slider's steps
- pass: the suggestion's run does not diverge and its kept model's validation loss is at most the \
default's + {TOLERANCE_SE:g} paired standard errors (see the docstring of `bench/check_lr_finder.py`)

**Result: {passed}/{len(results)} seeds pass; mean Δ validation loss (suggestion − default) {mean_delta:+.4f}.**

{table(results)}

"kept" is the validation loss of the weights the run ends with (the best epoch, restored by early \
stopping), "last" the final epoch's. Where the snapped suggestion is 0.001 the two runs are the same run.

## For comparison: Lightning's steepest-slope rule on the same sweeps (not checked)

{comparison(results)}
{sgd_section}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds 0..N-1 (default {DEFAULT_SEEDS}, at least 3)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="where to write the markdown report")
    parser.add_argument("--no-sgd", dest="sgd", action="store_false", help="skip the SGD comparison")
    args = parser.parse_args(argv)
    if args.seeds < 3:
        parser.error("use at least 3 seeds")
    load_before = "/".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()
    results = [check_seed(seed) for seed in range(args.seeds)]
    sgd = [check_seed(seed, "sgd") for seed in range(args.seeds)] if args.sgd else []
    elapsed = time.perf_counter() - started
    load_after = "/".join(f"{v:.2f}" for v in os.getloadavg())
    text = report(results, sgd, elapsed, load_before, load_after)
    print(text)
    args.report.write_text(text)
    print(f"written to {args.report}")
    return 0 if all(r.passes() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
