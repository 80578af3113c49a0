"""How long the Learn page takes to draw a big run, in a real browser (issue 21: a 4 x 512 network's
300-epoch run in <= 2 s warm).

    python bench/bench_learn_page.py [--repeats 5]

A FitLab server in its own process and data directory; the run is trained by the worker's own job
function into that server's store (moons, 1,000 rows, 4 x 512, 300 epochs, no early stopping); then
Chromium opens the Learn page with the run's workspace and we time from navigation until the last chart
of the page (the layer view's weight distribution) is drawn. The first load is cold (a new server
session); the next ones are reloads of the same page (warm: the server has run the page before).
Report: bench/REPORT-learn-page.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from core.data.builtin import load_builtin  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402
from core.store.runs import new_workspace_id, open_store  # noqa: E402
from core.workers.jobs import run_job  # noqa: E402
from core.workers.spec import submit_run  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

REPORT = Path(__file__).with_name("REPORT-learn-page.md")
LAST_CHART = ".st-key-learn_distribution .js-plotly-plot .main-svg"
WATCH = """window.__drawn = {}; new MutationObserver(() => {
  for (const el of document.querySelectorAll('[class*="st-key-learn"]')) {
    const key = [...el.classList].find(c => c.startsWith('st-key-'));
    if (!(key in window.__drawn) && el.querySelector('.main-svg, canvas, p')) window.__drawn[key] = Math.round(performance.now());
  }
}).observe(document, {subtree: true, childList: true});"""


def _pick(page, run_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Choose a run in the Learn page's "Run shown" box and wait until it is drawn and the page is idle."""
    page.get_by_label("Run shown").click()
    page.get_by_role("option").filter(has_text=run_id[:6]).click()
    page.get_by_text(text).wait_for(timeout=60_000)
    page.locator(LAST_CHART).first.wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        try:
            ws = new_workspace_id()
            store = open_store(server.db_url)
            small = Hyperparameters(hidden_layers=1, width=8, epochs=3, seed=0)
            other = submit_run(store, workspace=ws, kind="train", dataset=load_builtin("moons"), hp=small, spec={"name": "moons"})
            run_job(other)  # a small run to switch from
            hp = Hyperparameters(hidden_layers=4, width=512, epochs=300, early_stopping=False, seed=0)
            started = time.perf_counter()
            job = submit_run(store, workspace=ws, kind="train", dataset=load_builtin("moons"), hp=hp, spec={"name": "moons"})
            status = run_job(job)  # the newest run: the page opens on it
            trained = time.perf_counter() - started
            run = store.get(job.run_id)
            assert run is not None and run.extra is not None
            dynamics = run.extra.get("dynamics") or {}
            size = len(str(run.extra))
            times, switches, drawn = [], [], {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.add_init_script(WATCH)  # when each part of the page first shows: where the time goes
                empty = []
                for attempt in range(args.repeats + 1):
                    begun = time.perf_counter()  # a (re)load of the page, which opens on the big run
                    page.goto(f"{server.url}/learn?ws={ws}")
                    page.get_by_text("2 x 512 weights").wait_for(timeout=60_000)
                    page.locator(LAST_CHART).first.wait_for(timeout=60_000)
                    times.append(time.perf_counter() - begun)
                    drawn = page.evaluate("() => window.__drawn")
                    _pick(page, other.run_id, "2 x 8 weights")
                    begun = time.perf_counter()  # warm: the page and its chart library are loaded; pick the big run
                    _pick(page, job.run_id, "2 x 512 weights")
                    switches.append(time.perf_counter() - begun)
                    print(f"load {attempt}: reload {times[-1]:.2f} s, switch {switches[-1]:.2f} s", flush=True)
                    begun = time.perf_counter()  # the same page on a workspace with no run: what any page load costs
                    page.goto(f"{server.url}/learn?ws={new_workspace_id()}")
                    page.get_by_text("No run in this workspace yet").wait_for(timeout=60_000)
                    empty.append(time.perf_counter() - begun)
                browser.close()
        finally:
            server.stop()
    cold, warm = times[0], times[1:]
    parts = ", ".join(f"{key.removeprefix('st-key-learn_')} {ms} ms" for key, ms in sorted(drawn.items(), key=lambda kv: kv[1]))
    body = (
        "# The Learn page on a big run\n\n"
        f"`python bench/bench_learn_page.py --repeats {args.repeats}` ({time.strftime('%Y-%m-%d')}; 2-core machine, "
        "Chromium headless, server and browser on the same machine)\n\n"
        f"- The run: moons, 1,000 rows, 4 x 512 ReLU, Adam, 300 epochs, no early stopping; trained by the worker's job "
        f"function in {trained:.0f} s ({status}); its per-layer record holds {len(dynamics.get('epochs', []))} measured epochs "
        f"and {len(dynamics.get('snapshots', []))} histogram snapshots; the run's extra JSON is {size / 1e6:.2f} MB.\n"
        f"- **Warm** (the page open on another run, its chart library loaded; the big run picked in *Run shown*, "
        f"until its last chart is drawn and the page is idle): **median {statistics.median(switches[1:]):.2f} s**, "
        f"max {max(switches[1:]):.2f} s over {len(switches) - 1} (first: {switches[0]:.2f} s).\n"
        f"- A reload of the page on the big run, until its last chart is drawn: first {cold:.2f} s, then median "
        f"{statistics.median(warm):.2f} s, max {max(warm):.2f} s over {len(warm)}. When each part first showed (ms after "
        f"navigation, last reload): {parts}. Every chart appears at once, after the browser has parsed Plotly's "
        "library again (about 1 s here); a page with no chart skips that.\n"
        f"- The same page on an empty workspace (loading Streamlit, the session, the script; no run to draw): "
        f"median {statistics.median(empty[1:]):.2f} s. Drawing the run itself adds "
        f"**{statistics.median(warm) - statistics.median(empty[1:]):.2f} s**.\n"
    )
    REPORT.write_text(body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
