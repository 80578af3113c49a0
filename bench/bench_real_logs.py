"""FitLab's verdicts on the corpus of real per-epoch logs in tests/logs/real/ (issue 8).

    python bench/bench_real_logs.py            # print per-file verdicts, write bench/REPORT-real-logs.md
    python bench/bench_real_logs.py --verbose  # also print the evidence of each verdict

Every file of tests/logs/real/labels.csv is read with core.logs.reader.read_training_log and diagnosed with
core.logs.reader.diagnose_log, exactly as the dashboard's "Diagnose a log" page does. The labels were written
from the curves before FitLab read the files; ambiguous ones are listed but not scored, and a file
that cannot be read counts as a miss.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios import confusion as scenario_confusion  # noqa: E402  (bench/, the script's own folder)

from core.data.csvfile import DataError  # noqa: E402
from core.diagnosis import VERDICTS  # noqa: E402
from core.logs.reader import diagnose_log, read_training_log  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "logs" / "real"
UNREADABLE = "unreadable"


def run_file(row: dict[str, str]) -> dict[str, Any]:
    path = CORPUS / row["file"]
    result: dict[str, Any] = {
        "file": row["file"],
        "label": row["label"],
        "ambiguous": row["ambiguous"].strip().lower() == "yes",
        "reading": row["reading"],
    }
    try:
        log = read_training_log(path)
        diagnosis = diagnose_log(log)
    except DataError as exc:
        return result | {"verdict": UNREADABLE, "evidence": [str(exc)], "epochs": 0, "secondary": []}
    return result | {
        "verdict": diagnosis.verdict,
        "evidence": diagnosis.evidence,
        "epochs": len(log.history),
        "secondary": diagnosis.secondary,
    }


def confusion(rows: list[dict[str, Any]]) -> str:
    return scenario_confusion(rows, (UNREADABLE,))


def _cell(text: str, limit: int = 220) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print each verdict's evidence")
    parser.add_argument("--report", default=str(Path(__file__).with_name("REPORT-real-logs.md")))
    args = parser.parse_args()
    with (CORPUS / "labels.csv").open(newline="", encoding="utf-8") as handle:
        labels = list(csv.DictReader(handle))
    started = time.perf_counter()
    rows = [run_file(row) for row in labels]
    elapsed = time.perf_counter() - started
    scored = [r for r in rows if not r["ambiguous"]]
    ambiguous = [r for r in rows if r["ambiguous"]]
    correct = sum(r["label"] == r["verdict"] for r in scored)
    unreadable = sum(r["verdict"] == UNREADABLE for r in scored)
    bad_as_good = [r for r in scored if r["label"] != "good_fit" and r["verdict"] == "good_fit"]
    for r in rows:
        mark = "  ~ " if r["ambiguous"] else ("ok  " if r["label"] == r["verdict"] else "XX  ")
        print(f"{mark}{r['file']:62s} label {r['label']:14s} verdict {r['verdict']:14s} {r['epochs']:4d} ep")
        if args.verbose or (not r["ambiguous"] and r["label"] != r["verdict"]):
            for line in r["evidence"]:
                print(f"        {line}")
    per_verdict = []
    for label in VERDICTS:
        of_label = [r for r in scored if r["label"] == label]
        if of_label:
            hits = sum(r["verdict"] == label for r in of_label)
            per_verdict.append(f"| {label} | {hits}/{len(of_label)} | {hits / len(of_label):.0%} |")
    share = correct / len(scored) if scored else 0.0
    summary = (
        f"{len(rows)} logs, {len(scored)} unambiguous (scored), {len(ambiguous)} ambiguous (listed, not scored). "
        f"Accuracy on the unambiguous logs: {correct}/{len(scored)} = {share:.0%}; unreadable (counted as misses): "
        f"{unreadable}; bad runs called good_fit: {len(bad_as_good)}. {elapsed:.1f} s."
    )
    table = confusion(scored)
    print("\n" + table + "\n\n" + summary)
    per_file = "\n".join(
        f"| `{r['file']}` | {r['label']} | {r['verdict']} | {'ok' if r['label'] == r['verdict'] else '**miss**'} | "
        f"{_cell(r['evidence'][0] if r['evidence'] else '')} |"
        for r in scored
    )
    listed = "\n".join(f"| `{r['file']}` | {r['label']} | {r['verdict']} | {_cell(r['reading'], 160)} |" for r in ambiguous)
    agree = sum(r["label"] == r["verdict"] for r in ambiguous)
    Path(args.report).write_text(
        "# Real training logs: FitLab's verdicts against human labels\n\n"
        f"`python bench/bench_real_logs.py` ({time.strftime('%Y-%m-%d')}). Corpus: `tests/logs/real/` (see its README: "
        "53 per-epoch logs from public repositories, labelled from their curves before FitLab read them). "
        "Each file is read with `core.logs.reader.read_training_log` and diagnosed with `core.logs.reader.diagnose_log`; "
        "no hyperparameters or baselines are known for a log.\n\n"
        f"{summary}\n\n## Accuracy per label (unambiguous logs)\n\n| label | correct | share |\n|---|---|---|\n"
        + "\n".join(per_verdict)
        + f"\n\n## Confusion matrix (unambiguous logs)\n\n{table}\n\n"
        "## Per file (unambiguous)\n\n| file | label | verdict | ok | first line of evidence |\n"
        f"|---|---|---|---|---|\n{per_file}\n\n"
        f"## Ambiguous logs (not scored; the reader's best guess agrees on {agree}/{len(ambiguous)})\n\n"
        f"| file | best guess | verdict | why it is ambiguous |\n|---|---|---|---|\n{listed}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
