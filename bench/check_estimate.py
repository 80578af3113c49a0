"""How close core.experiments.estimate's time estimate lands: estimate vs the real Trainer for 8 varied settings.

For each setting: the estimate (from this process's calibration, measured first), then the actual wall
time of building and iterating core.training.trainer.Trainer over every epoch (early stopping off, so that the
run is as long as the estimate assumes). Writes bench/REPORT-estimate.md with actual/estimate per setting,
the median and the worst ratio. Takes about a minute on a 2-core machine.

    .venv/bin/python bench/check_estimate.py
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.data.builtin import load_builtin  # noqa: E402
from core.experiments.estimate import duration_words, estimate_seconds, measure_machine  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-estimate.md"
# (dataset, samples, hidden layers, width, batch size, epochs): small to wide, batch 1 to 512.
SETTINGS = (
    ("moons", 1000, 2, 128, 32, 200),  # the page's default network
    ("moons", 300, 1, 8, 1, 60),  # batch 1: per-step overhead only
    ("circles", 2000, 3, 64, 16, 40),
    ("spiral", 1000, 4, 256, 64, 80),
    ("moons", 5000, 2, 512, 256, 20),  # wide: arithmetic only
    ("xor", 500, 8, 32, 8, 80),  # deep and narrow
    ("digits", 1797, 2, 128, 32, 100),  # 64 inputs, 10 classes
    ("sine", 3000, 2, 64, 128, 200),  # regression
)


def actual_seconds(dataset, hp) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    trainer = Trainer(dataset, hp)
    for _ in trainer:
        pass
    return time.perf_counter() - started


def main() -> None:
    calibration = measure_machine()
    rows = []
    for name, samples, layers, width, batch, epochs in SETTINGS:
        dataset = load_builtin(name, samples=samples, noise=0.2, seed=0)  # samples: synthetic sets only
        hp = Hyperparameters(hidden_layers=layers, width=width, batch_size=batch, epochs=epochs, early_stopping=False)
        estimate = estimate_seconds(dataset, hp, calibration)
        actual = actual_seconds(dataset, hp)
        ratio = actual / estimate.seconds
        label = f"{name} {len(dataset.y_train)} train rows, {layers}×{width}, batch {batch}, {epochs} epochs"
        rows.append((label, estimate.seconds, actual, ratio))
        print(f"{label:60s} estimate {estimate.seconds:7.2f} s  actual {actual:7.2f} s  ratio {ratio:5.2f}", flush=True)
    ratios = [r[3] for r in rows]
    worst = max(ratios, key=lambda r: max(r, 1 / r))
    median = statistics.median(ratios)
    print(f"median actual/estimate {median:.2f}, worst {worst:.2f}")
    lines = [
        "# Time estimate vs actual training time",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), by `bench/check_estimate.py`.",
        "",
        f"Calibration probe (core.experiments.estimate.measure_machine): {calibration.probe_seconds:.2f} s; per step "
        f"{calibration.per_step * 1e6:.0f} µs, per layer per step {calibration.per_layer * 1e6:.0f} µs, "
        f"per 10⁹ multiply-adds {calibration.per_mac * 1e9:.2f} s, per epoch {calibration.per_epoch * 1e3:.1f} ms.",
        "",
        "Actual: building and iterating `core.training.trainer.Trainer` over every epoch (early stopping off), in this process.",
        "",
        "| setting | estimate | actual | actual / estimate |",
        "|---|---:|---:|---:|",
        *[f"| {label} | {est:.2f} s ({duration_words(est)}) | {act:.2f} s | {ratio:.2f} |" for label, est, act, ratio in rows],
        "",
        f"**Median actual/estimate: {median:.2f}. Worst: {worst:.2f}** (the ratio farthest from 1 either way).",
        "",
    ]
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
