"""Reading your own CSV: time and peak memory of FitLab's loading path on a long and a wide file.

Two generated files, written once into a temporary folder:

  long: 300,000 rows x 10 columns (6 decimals, a whole-number count, a 4-value category, an ISO date,
        a yes/no target), about 20 MB;
  wide: 2,000 rows x 2,000 columns (1,999 decimals and a 0/1 target), about 25 MB.

Each measurement runs in a fresh Python process (so peak memory is that file's alone) and times
the three steps the dashboard and `python -m core train --csv` take: `read_table` (bytes -> typed
frame: format detection, the record check, pandas, value typing), `analyze_columns` (the profile)
and `build_dataset` (target, task, the 100,000-row sample, features, split and scikit-learn
preprocessing). Peak memory is the process's ru_maxrss, reported whole and above what the imports
alone took. For scale, plain `pandas.read_csv` on the same bytes is measured the same way.
Every figure is the median of RUNS fresh processes; memory is the largest seen.

    .venv/bin/python bench/bench_csv.py             # writes bench/REPORT-csv.md
    .venv/bin/python bench/bench_csv.py --quick     # smaller files, one run, stdout only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/bench_csv.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

RUNS = 3
SHAPES = {"long": (300_000, 10), "wide": (2_000, 2_000)}
QUICK_SHAPES = {"long": (30_000, 10), "wide": (500, 2_000)}


def make_files(folder: Path, shapes: dict[str, tuple[int, int]]) -> dict[str, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows, _ = shapes["long"]
    long = pd.DataFrame({f"x{i}": rng.normal(size=rows).round(4) for i in range(6)})
    long["count"] = rng.integers(0, 50, rows)
    long["colour"] = np.array(["red", "green", "blue", "black"])[rng.integers(0, 4, rows)]
    long["day"] = (np.datetime64("2020-01-01") + rng.integers(0, 1000, rows)).astype(str)
    long["label"] = np.where(long["x0"] + rng.normal(size=rows) > 0, "yes", "no")
    rows, columns = shapes["wide"]
    wide = pd.DataFrame(rng.normal(size=(rows, columns - 1)).round(3), columns=[f"f{i}" for i in range(columns - 1)])
    wide["target"] = (wide["f0"] + rng.normal(size=rows) > 0).astype(int)
    paths = {"long": folder / "long.csv", "wide": folder / "wide.csv"}
    long.to_csv(paths["long"], index=False)
    wide.to_csv(paths["wide"], index=False)
    return paths


def measure(path: str, target: str, plain: bool) -> dict[str, float]:
    """One fresh process's figures (run as `bench_csv.py --measure`)."""
    import pandas as pd

    from core.data.columns import analyze_columns
    from core.data.csvfile import read_table
    from core.data.dataset import build_dataset

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux

    content = Path(path).read_bytes()
    baseline = rss_mb()
    if plain:
        start = time.perf_counter()
        import io

        frame = pd.read_csv(io.BytesIO(content))
        return {"read": time.perf_counter() - start, "rows": len(frame), "peak": rss_mb(), "baseline": baseline}
    start = time.perf_counter()
    table = read_table(content)
    read = time.perf_counter() - start
    infos = analyze_columns(table.frame)
    profiled = time.perf_counter() - start - read
    dataset = build_dataset(table, target, infos=infos, name=Path(path).name)
    built = time.perf_counter() - start - read - profiled
    return {
        "read": read,
        "profile": profiled,
        "build": built,
        "total": read + profiled + built,
        "rows": table.rows,
        "trained_rows": len(dataset.y_train) + len(dataset.y_val) + len(dataset.y_test),
        "inputs": dataset.n_inputs,
        "peak": rss_mb(),
        "baseline": baseline,
    }


def run_measure(path: Path, target: str, plain: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--measure", str(path), target] + (["--plain"] if plain else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files, one run, stdout only")
    parser.add_argument("--measure", nargs=2, metavar=("PATH", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], args.plain)))
        return
    shapes, runs = (QUICK_SHAPES, 1) if args.quick else (SHAPES, RUNS)
    load_before = os.getloadavg()
    started = time.perf_counter()
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    sizes: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = make_files(Path(folder), shapes)
        for name, path in paths.items():
            sizes[name] = path.stat().st_size / 1e6
            target = "label" if name == "long" else "target"
            results[name] = {
                "fitlab": [run_measure(path, target, plain=False) for _ in range(runs)],
                "pandas": [run_measure(path, target, plain=True) for _ in range(runs)],
            }
            print(name, json.dumps(results[name]), flush=True)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()
    lines = report(shapes, sizes, results, runs, load_before, load_after, wall)
    print("\n".join(lines))
    if not args.quick:
        (ROOT / "bench" / "REPORT-csv.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def report(
    shapes: dict[str, tuple[int, int]],
    sizes: dict[str, float],
    results: dict[str, dict[str, list[dict[str, float]]]],
    runs: int,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    wall: float,
) -> list[str]:
    import pandas as pd
    import sklearn

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    def peak(rows: list[dict[str, float]]) -> tuple[float, float]:
        worst = max(rows, key=lambda r: r["peak"])
        return worst["peak"], worst["peak"] - worst["baseline"]

    load = "/".join(f"{x:.2f}" for x in load_before), "/".join(f"{x:.2f}" for x in load_after)
    lines = [
        "# Reading your own CSV: time and peak memory",
        "",
        f"- date: {dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}",
        f"- command: `{shlex.join(['.venv/bin/python', 'bench/bench_csv.py'])}`",
        f"- pandas {pd.__version__}, scikit-learn {sklearn.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; `nproc`: {os.cpu_count()}",
        f"- load average (1/5/15 min) before: {load[0]}; after: {load[1]} (the machine is shared); wall time {wall:.0f} s",
        f"- each figure: median of {runs} fresh processes; peak memory: the largest ru_maxrss seen, whole and above "
        "the process after its imports and the file's bytes",
        "",
        "| file | shape | size | step | time (s) | peak RSS (MB) | above imports (MB) |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for name, per in results.items():
        rows, columns = shapes[name]
        fit, plain = per["fitlab"], per["pandas"]
        fit_peak, fit_above = peak(fit)
        plain_peak, plain_above = peak(plain)
        lines += [
            f"| {name} | {rows:,} x {columns:,} | {sizes[name]:.1f} MB | read (`read_table`) | {median(fit, 'read'):.2f} | | |",
            f"| | | | profile (`analyze_columns`) | {median(fit, 'profile'):.2f} | | |",
            f"| | | | features, split, scaling (`build_dataset`) | {median(fit, 'build'):.2f} | | |",
            f"| | | | **FitLab total** | **{median(fit, 'total'):.2f}** | **{fit_peak:.0f}** | **{fit_above:.0f}** |",
            f"| | | | for scale: plain `pd.read_csv` | {median(plain, 'read'):.2f} | {plain_peak:.0f} | {plain_above:.0f} |",
        ]
    lines.append("")
    for name, per in results.items():
        first = per["fitlab"][0]
        lines.append(
            f"- {name}: {int(first['rows']):,} rows read, {int(first['trained_rows']):,} rows in the dataset, "
            f"{int(first['inputs']):,} network inputs"
        )
    lines += [
        "",
        "The long file is over the 100,000-row cap (`core.data.columns.ROW_CAP`): it is read and profiled whole, and the",
        "dataset is a seeded stratified sample of 100,000 rows. Reading costs more than plain `pd.read_csv` because",
        "FitLab also checks every record against the header with the `csv` module (to skip or refuse ragged rows",
        "with their line numbers) and types text columns.",
    ]
    return lines


if __name__ == "__main__":
    main()
