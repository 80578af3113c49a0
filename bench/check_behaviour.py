"""Behaviour unchanged across a refactor: the CLI's JSON before and after, compared (issue 19).

    python bench/check_behaviour.py record DIR    # before the change: write every case's JSON into DIR
    python bench/check_behaviour.py compare DIR   # after it: run again, compare with DIR, write a report

bench/behaviour/ holds what `record` wrote at 34e9ca1, the commit before the package move (issue 19).

Cases: `train --json` and `fix --json` for each of the five presets, `train --json` on two built-in
real sets (iris: classification, diabetes: regression) and on two CSV files of tests/corpus, and
`diagnose --json` on every log in tests/logs/real/. Each runs as `python -m core ...` in a fresh
process, as a user would. Timings (keys that name seconds) are dropped before the comparison; all else
must be equal: histories, verdicts, evidence, recommendations, baselines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("good_fit", "overfitting", "underfitting", "lr_too_high", "lr_too_low")
TIMING_KEYS = {"seconds", "elapsed", "elapsed_s", "duration", "duration_s", "wall_s", "train_seconds", "time_s"}


def cases() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for preset in PRESETS:
        out[f"train-{preset}"] = ["train", "--scenario", preset, "--json", "-"]
        out[f"fix-{preset}"] = ["fix", "--scenario", preset, "--json", "-"]
    out["train-iris"] = ["train", "--dataset", "iris", "--json", "-"]
    out["train-diabetes"] = ["train", "--dataset", "diabetes", "--json", "-"]
    out["train-csv-booleans"] = ["train", "--csv", "tests/corpus/booleans.csv", "--target", "label", "--json", "-"]
    out["train-csv-iso-dates"] = ["train", "--csv", "tests/corpus/iso_dates.csv", "--target", "label", "--json", "-"]
    logs = ROOT / "tests" / "logs" / "real"
    for path in sorted(logs.iterdir()):
        if path.name in ("README.md", "labels.csv"):
            continue
        out[f"diagnose-{path.name}"] = ["diagnose", "--history", str(path.relative_to(ROOT)), "--json", "-"]
    return out


def run_case(argv: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True, timeout=900)
    body: Any = None
    if proc.stdout.strip():
        try:
            body = json.loads(proc.stdout)
        except json.JSONDecodeError:
            body = {"stdout": proc.stdout}
    return {"rc": proc.returncode, "json": body, "stderr": proc.stderr.strip().splitlines()[-1:] if proc.returncode else []}


def strip_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_timings(v) for k, v in value.items() if k not in TIMING_KEYS and not k.endswith("_seconds")}
    if isinstance(value, list):
        return [strip_timings(v) for v in value]
    return value


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))}"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("directory")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    parser.add_argument("--report", default=str(Path(__file__).with_name("REPORT-behaviour.md")))
    args = parser.parse_args()
    folder = Path(args.directory)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str]] = []
    started = time.perf_counter()
    for name, argv in cases().items():
        if args.only and args.only not in name:
            continue
        result = run_case(argv)
        target = folder / f"{name}.json"
        if args.mode == "record":
            target.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
            print(f"recorded {name} rc={result['rc']}", flush=True)
            continue
        before = strip_timings(json.loads(target.read_text(encoding="utf-8")))
        diff = first_difference(before, strip_timings(result))
        rows.append((name, diff or "identical"))
        print(f"{'ok ' if diff is None else 'XX '} {name} {diff or ''}", flush=True)
    if args.mode == "compare":
        same = sum(d == "identical" for _, d in rows)
        lines = [
            "# Behaviour before and after the package layout (issue 19)",
            "",
            "`python bench/check_behaviour.py compare DIR` against JSON recorded by `record` at the commit before the move.",
            "Timings dropped; all else (histories, verdicts, evidence, recommendations, baselines, exit codes) compared.",
            "",
            f"**{same} of {len(rows)} cases identical** ({time.perf_counter() - started:.0f} s).",
            "",
            "| case | result |",
            "|---|---|",
            *[f"| {n} | {d.replace('|', '/')} |" for n, d in rows],
        ]
        Path(args.report).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return 0 if same == len(rows) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
