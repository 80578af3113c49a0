"""A classroom on one server, measured in a real browser (Debian's Chromium driven by Playwright).

Two measurements, each against a fresh FitLab server with its own run store:

  sessions   N browser sessions (default 10 and 30) open the page and press Train on the default
             settings at the same moment; each session's time from its click to its verdict is
             recorded. Reports median and max, and whether a queue position was shown.
  overfit    The `overfitting` preset trained from the browser (click Train -> verdict on the page)
             against the same training in a plain process, as `python -m core train --scenario
             overfitting` runs it (time of run_experiment, baselines included, after imports), on the
             same machine, alternating, 3 times each. Target: browser <= 1.3 x CLI.

    .venv/bin/python bench/bench_classroom.py                 # both, writes bench/REPORT-classroom.md
    .venv/bin/python bench/bench_classroom.py --sessions 10   # one session count only
    .venv/bin/python bench/bench_classroom.py --only overfit
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

CLI_TRAINING = """
import time
from core.baselines import compute_baselines
from core.data import load_builtin
from core.experiment import run_experiment
from core.hyperparameters import SCENARIOS, scenario_hyperparameters
preset = SCENARIOS["overfitting"]["dataset"]
hp = scenario_hyperparameters("overfitting")
dataset = load_builtin(preset["name"], samples=preset["samples"], noise=preset["noise"], seed=hp.seed)
started = time.perf_counter()
result = run_experiment(dataset, hp)
print(time.perf_counter() - started, result.diagnosis.verdict, len(result.history))
"""


def sessions_run(browser, count: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory(prefix="fitlab-bench-") as data:
        server = Server(Path(data))
        contexts = []
        try:
            contexts = [browser.new_context(viewport={"width": 1300, "height": 900}) for _ in range(count)]
            pages = [context.new_page() for context in contexts]
            for page in pages:
                page.goto(server.url)
            for page in pages:
                page.locator(".st-key-train button").wait_for(timeout=120_000)
            clicked: list[float] = []
            for page in pages:
                page.locator(".st-key-train button").click()
                clicked.append(time.monotonic())
            spread = clicked[-1] - clicked[0]
            took: dict[int, float] = {}
            queued = 0
            seen_queue: set[int] = set()
            deadline = time.monotonic() + 1200
            while len(took) < count and time.monotonic() < deadline:
                for index, page in enumerate(pages):
                    if index in took:
                        continue
                    if index not in seen_queue and page.get_by_text("Queued, position").count():
                        seen_queue.add(index)
                    if page.get_by_text("Verdict:").count():
                        took[index] = time.monotonic() - clicked[index]
                time.sleep(0.2)
            queued = len(seen_queue)
            errors = sum(page.locator(".stException").count() for page in pages)
        finally:
            for context in contexts:
                context.close()
            server.stop()
    times = sorted(took.values())
    return {
        "sessions": count,
        "verdicts": len(times),
        "median": statistics.median(times) if times else float("nan"),
        "max": max(times) if times else float("nan"),
        "min": min(times) if times else float("nan"),
        "queued_pages": queued,
        "exceptions": errors,
        "click_spread": spread,
    }


def cli_training_seconds() -> tuple[float, str, int]:
    out = subprocess.run([sys.executable, "-c", CLI_TRAINING], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    seconds, verdict, epochs = out.split()
    return float(seconds), verdict, int(epochs)


def browser_overfit_seconds(browser) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory(prefix="fitlab-bench-") as data:
        server = Server(Path(data))
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        try:
            page = context.new_page()
            page.goto(server.url)
            page.locator(".st-key-train button").wait_for(timeout=120_000)
            page.locator(".st-key-scenario").click()
            page.get_by_role("option", name="overfitting").click()
            page.wait_for_timeout(1000)  # the preset's rerun settles
            started = time.monotonic()
            page.locator(".st-key-train button").click()
            page.get_by_text("Verdict:").wait_for(timeout=600_000)
            seconds = time.monotonic() - started
            verdict = page.get_by_text("Verdict:").inner_text().split("—")[0].strip()
        finally:
            context.close()
            server.stop()
    return seconds, verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="*", default=[10, 30])
    parser.add_argument("--only", choices=("sessions", "overfit"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report", default=str(ROOT / "bench" / "REPORT-classroom.md"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.monotonic()
    results, pairs = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        if args.only in (None, "sessions"):
            for count in args.sessions:
                result = sessions_run(browser, count)
                print(result, flush=True)
                results.append(result)
        if args.only in (None, "overfit"):
            for _ in range(args.repeats):
                cli = cli_training_seconds()
                web = browser_overfit_seconds(browser)
                print(f"cli {cli[0]:.1f} s ({cli[1]}, {cli[2]} epochs)  browser {web[0]:.1f} s ({web[1]})", flush=True)
                pairs.append((cli, web))
        browser.close()
    lines = [
        "# A classroom on one server: measured in a real browser",
        "",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`",
        f"- machine: {platform.machine()}, `nproc` {os.cpu_count()}, Python {platform.python_version()}; "
        f"worker processes: FITLAB_WORKERS={os.environ.get('FITLAB_WORKERS', 'unset (= cores)')}",
        f"- load average before: {'/'.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}; wall time {time.monotonic() - started:.0f} s",
        "- browser: Debian Chromium, headless, driven by Playwright; one fresh server and run store per measurement",
        "",
    ]
    if results:
        lines += [
            "## N sessions press Train at the same moment (default settings: moons, 1000 points, up to 50 epochs)",
            "",
            "Time to verdict = from a session's click to its verdict on its page.",
            "",
            "| sessions | verdicts | median s | max s | min s | pages showing a queue position | exceptions | click spread s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            lines.append(
                f"| {r['sessions']} | {r['verdicts']} | {r['median']:.1f} | {r['max']:.1f} | {r['min']:.1f} | "
                f"{r['queued_pages']} | {r['exceptions']} | {r['click_spread']:.1f} |"
            )
        lines.append("")
    if pairs:
        lines += [
            "## The `overfitting` preset: browser against CLI training, same machine, alternating",
            "",
            "CLI = `run_experiment` timed inside a plain Python process (what `python -m core train --scenario overfitting`"
            " runs, baselines included, imports excluded). Browser = click Train to verdict shown.",
            "",
            "| try | CLI s | browser s | browser / CLI | verdict (CLI / browser) |",
            "|---:|---:|---:|---:|---|",
        ]
        for index, (cli, web) in enumerate(pairs, start=1):
            lines.append(f"| {index} | {cli[0]:.1f} | {web[0]:.1f} | {web[0] / cli[0]:.2f} | {cli[1]} / {web[1]} |")
        ratio = statistics.median(web[0] for _, web in pairs) / statistics.median(cli[0] for cli, _ in pairs)
        lines += ["", f"Median browser / median CLI: **{ratio:.2f}x** (target <= 1.3x).", ""]
    Path(args.report).write_text("\n".join(lines))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
