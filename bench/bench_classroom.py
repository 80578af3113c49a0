"""A classroom on one server, measured in a real browser (Debian's Chromium driven by Playwright).

Two measurements, each against a fresh FitLab server with its own run store:

  sessions   N browser sessions (default 10 and 30) open the page and press Train on the default
             settings at the same moment; each session's time from its click to its verdict is
             recorded. Reports median and max, and whether a queue position was shown. `--batch 32 4`
             repeats it at batch 4 (8x the steps: runs long enough for a queue to form on the pages).
  overfit    The `overfitting` preset trained from the browser (click Train -> verdict on the page)
             against the same training in a plain process, as `python -m core train --scenario
             overfitting` runs it (time of run_experiment, baselines included, after imports), on the
             same machine, alternating, 3 times each, on one server started WARM_SECONDS before the first
             click (a classroom's server is up before anyone clicks). Target: browser <= 1.3 x CLI.

    .venv/bin/python bench/bench_classroom.py                 # both, writes bench/REPORT-classroom.md
    .venv/bin/python bench/bench_classroom.py --sessions 10   # one session count only
    .venv/bin/python bench/bench_classroom.py --batch 32 4 --repeats 5   # what REPORT-classroom.md holds
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
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from core.hyperparameters import Hyperparameters  # noqa: E402
from core.store.runs import open_store  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402
from tests.browser.support import set_batch  # noqa: E402

WARM_SECONDS = 10
DEFAULT_BATCH = Hyperparameters().batch_size

CLI_TRAINING = """
import time
from core.experiments.baselines import compute_baselines
from core.data.builtin import load_builtin
from core.experiments.run import run_experiment
from core.hyperparameters import SCENARIOS, scenario_hyperparameters
preset = SCENARIOS["overfitting"]["dataset"]
hp = scenario_hyperparameters("overfitting")
dataset = load_builtin(preset["name"], samples=preset["samples"], noise=preset["noise"], seed=hp.seed)
started = time.perf_counter()
result = run_experiment(dataset, hp)
print(time.perf_counter() - started, result.diagnosis.verdict, len(result.history))
"""


# Each page notes, by its own clock, when it first shows a queue position and a verdict. Polling 30 pages
# one after another from here took up to 30 s a sweep on 2 cores and blurred the times.
WATCH_SCRIPT = """
setInterval(() => {
  const text = document.body ? document.body.textContent : "";
  if (!window.__queued && text.includes("Queued, position")) window.__queued = Date.now();
  if (!window.__verdict && text.includes("Verdict:")) window.__verdict = Date.now();
}, 100);
"""


def sessions_run(browser, count: int, batch: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory(prefix="fitlab-bench-") as data:
        server = Server(Path(data))
        contexts = []
        try:
            contexts = [browser.new_context(viewport={"width": 1300, "height": 900}) for _ in range(count)]
            for context in contexts:
                context.add_init_script(WATCH_SCRIPT)
            pages = [context.new_page() for context in contexts]
            for page in pages:
                page.goto(server.url)
            for page in pages:
                page.locator(".st-key-train button").wait_for(timeout=120_000)
            if batch != DEFAULT_BATCH:
                for page in pages:
                    handle = set_batch(page, batch)
                    _until(lambda h=handle: h.get_attribute("aria-valuetext") == str(batch), 10)
            clicked: list[float] = []
            for page in pages:
                clicked.append(time.time() * 1000)
                page.locator(".st-key-train button").click()
            spread = (clicked[-1] - clicked[0]) / 1000
            seen: dict[int, tuple[float | None, float | None]] = {}
            deadline = time.monotonic() + 1200
            while len([v for v in seen.values() if v[1]]) < count and time.monotonic() < deadline:
                time.sleep(1.0)
                for index, page in enumerate(pages):
                    if not (seen.get(index) or (None, None))[1]:
                        seen[index] = tuple(page.evaluate("[window.__queued || null, window.__verdict || null]"))  # type: ignore[assignment]
            took = {i: (v[1] - clicked[i]) / 1000 for i, v in seen.items() if v[1]}
            queued = sum(1 for v in seen.values() if v[0])
            errors = sum(page.locator(".stException").count() for page in pages)
            store = open_store(server.db_url)
            finished, lag = [], []  # click to the run's end in the store; the run's end to its verdict on the page
            for index, page in enumerate(pages):
                run = store.list_runs(parse_qs(urlparse(page.url).query)["ws"][0], limit=1)[0]
                if run.finished is not None and index in took:
                    finished.append(run.finished - clicked[index] / 1000)
                    lag.append(took[index] - finished[-1])
        finally:
            for context in contexts:
                context.close()
            server.stop()
    times = sorted(took.values())
    return {
        "sessions": count,
        "batch": batch,
        "verdicts": len(times),
        "median": statistics.median(times) if times else float("nan"),
        "max": max(times) if times else float("nan"),
        "min": min(times) if times else float("nan"),
        "queued_pages": queued,
        "exceptions": errors,
        "click_spread": spread,
        "finished_median": statistics.median(finished) if finished else float("nan"),
        "lag_median": statistics.median(lag) if lag else float("nan"),
        "lag_max": max(lag) if lag else float("nan"),
    }


def cli_training_seconds() -> tuple[float, str, int]:
    out = subprocess.run([sys.executable, "-c", CLI_TRAINING], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    seconds, verdict, epochs = out.split()
    return float(seconds), verdict, int(epochs)


def _until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not reached within {timeout} s")
        time.sleep(interval)


class OverfitPage:
    """One server, warm (as a classroom's server is when a student clicks), and one page on the preset."""

    def __init__(self, browser, data: Path) -> None:  # type: ignore[no-untyped-def]
        self.server = Server(data)
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.page = self.context.new_page()
        self.page.goto(self.server.url)
        self.page.locator(".st-key-train button").wait_for(timeout=120_000)
        self.page.locator(".st-key-scenario").click()
        self.page.get_by_role("option", name="overfitting").click()
        self.page.wait_for_timeout(WARM_SECONDS * 1000)  # the preset's rerun settles; the workers finish importing
        self.parts: list[tuple[float, float]] = []

    def train_seconds(self) -> tuple[float, str]:
        verdict = self.page.locator(".st-key-verdict")
        started = time.monotonic()
        self.page.locator(".st-key-train button").click()
        # Polled from here, 10 times a second, by one class selector: Playwright's own wait_for polls inside
        # the page on every animation frame, and a text search walks the whole DOM (its text engine took
        # ~0.35 s of the renderer's main thread in a 9 s run, CDP profile): CPU the timed worker shares.
        if verdict.count():  # the last try's verdict goes away first
            _until(lambda: not verdict.count(), 60)
        _until(lambda: verdict.count() > 0, 600)
        seconds = time.monotonic() - started
        self.parts.append(self._parts())
        return seconds, verdict.inner_text().split("—")[0].strip()

    def _parts(self) -> tuple[float, float]:
        """The newest run's time from submitted to claimed by a worker, and in the worker (from the store)."""
        run = open_store(self.server.db_url).list_runs(parse_qs(urlparse(self.page.url).query)["ws"][0], limit=1)[0]
        assert run.started is not None and run.finished is not None
        return run.started - run.created, run.finished - run.started

    def close(self) -> None:
        self.context.close()
        self.server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="*", default=[10, 30])
    parser.add_argument(
        "--batch", type=int, nargs="*", default=[DEFAULT_BATCH], help="batch sizes for the sessions part (powers of 2)"
    )
    parser.add_argument("--only", choices=("sessions", "overfit"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report", default=str(ROOT / "bench" / "REPORT-classroom.md"))
    args = parser.parse_args()
    if any(b < 1 or b & (b - 1) for b in args.batch):
        parser.error(f"--batch takes powers of 2 (the slider's options), not {args.batch}")
    load_before = os.getloadavg()
    started = time.monotonic()
    results, pairs, parts = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        if args.only in (None, "sessions"):
            for batch in args.batch:
                for count in args.sessions:
                    result = sessions_run(browser, count, batch)
                    print(result, flush=True)
                    results.append(result)
        if args.only in (None, "overfit"):
            with tempfile.TemporaryDirectory(prefix="fitlab-bench-") as data:
                overfit = OverfitPage(browser, Path(data))
                try:
                    for _ in range(args.repeats):
                        cli = cli_training_seconds()
                        web = overfit.train_seconds()
                        print(f"cli {cli[0]:.1f} s ({cli[1]}, {cli[2]} epochs)  browser {web[0]:.1f} s ({web[1]})", flush=True)
                        pairs.append((cli, web))
                    parts = overfit.parts
                finally:
                    overfit.close()
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
        "- browser: Debian Chromium, headless, driven by Playwright; a fresh server and run store for each session count;"
        f" for the preset, one server, clicked {WARM_SECONDS} s after it started, all tries on one page",
        "",
    ]
    if results:
        lines += [
            "## N sessions press Train at the same moment (default settings: moons, 1000 points, up to 50 epochs;"
            f" batch {DEFAULT_BATCH} unless the row says otherwise)",
            "",
            "Time to verdict = from a session's click to its verdict on its page.",
            "",
            "Run ended = from the click to the run's end in the store (median); lag = from the run's end to its"
            " verdict on the page (median / max). Pages showing a queue position: seen by the page's own 100 ms check.",
            "",
            "| sessions | batch | verdicts | median s | max s | min s | run ended, median s | lag median / max s |"
            " pages showing a queue position | exceptions | click spread s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            lines.append(
                f"| {r['sessions']} | {r['batch']} | {r['verdicts']} | {r['median']:.1f} | {r['max']:.1f} | {r['min']:.1f} | "
                f"{r['finished_median']:.1f} | {r['lag_median']:.1f} / {r['lag_max']:.1f} | "
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
            "The browser's time in parts, from the run store: click to claimed by a worker (the page submits"
            " the job, a worker takes it), in the worker (training, baselines, diagnosis, saving), and the rest"
            " (the page noticing the end and drawing the verdict).",
            "",
            "| try | CLI s | browser s | browser / CLI | to a worker s | in the worker s | to the verdict s"
            " | verdict (CLI / browser) |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for index, ((cli, web), (queued, worked)) in enumerate(zip(pairs, parts, strict=True), start=1):
            rest = web[0] - queued - worked
            lines.append(
                f"| {index} | {cli[0]:.1f} | {web[0]:.1f} | {web[0] / cli[0]:.2f} | {queued:.2f} | {worked:.1f} | "
                f"{rest:.2f} | {cli[1]} / {web[1]} |"
            )
        ratio = statistics.median(web[0] for _, web in pairs) / statistics.median(cli[0] for cli, _ in pairs)
        lines += ["", f"Median browser / median CLI: **{ratio:.2f}x** (target <= 1.3x).", ""]
    Path(args.report).write_text("\n".join(lines))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
