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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        try:
            ws = new_workspace_id()
            hp = Hyperparameters(hidden_layers=4, width=512, epochs=300, early_stopping=False, seed=0)
            store = open_store(server.db_url)
            started = time.perf_counter()
            job = submit_run(store, workspace=ws, kind="train", dataset=load_builtin("moons"), hp=hp, spec={"name": "moons"})
            status = run_job(job)
            trained = time.perf_counter() - started
            run = store.get(job.run_id)
            assert run is not None and run.extra is not None
            dynamics = run.extra.get("dynamics") or {}
            size = len(str(run.extra))
            times = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                for attempt in range(args.repeats + 1):
                    begun = time.perf_counter()
                    page.goto(f"{server.url}/learn?ws={ws}")
                    page.locator(LAST_CHART).first.wait_for(timeout=60_000)
                    times.append(time.perf_counter() - begun)
                    print(f"load {attempt}: {times[-1]:.2f} s", flush=True)
                browser.close()
        finally:
            server.stop()
    cold, warm = times[0], times[1:]
    body = (
        "# The Learn page on a big run\n\n"
        f"`python bench/bench_learn_page.py --repeats {args.repeats}` ({time.strftime('%Y-%m-%d')}; 2-core machine, "
        "Chromium headless, server and browser on the same machine)\n\n"
        f"- The run: moons, 1,000 rows, 4 x 512 ReLU, Adam, 300 epochs, no early stopping; trained by the worker's job "
        f"function in {trained:.0f} s ({status}); its per-layer record holds {len(dynamics.get('epochs', []))} measured epochs "
        f"and {len(dynamics.get('snapshots', []))} histogram snapshots; the run's extra JSON is {size / 1e6:.2f} MB.\n"
        f"- From navigation to the page's last chart drawn: **cold {cold:.2f} s**; warm (reloads) "
        f"**median {statistics.median(warm):.2f} s**, max {max(warm):.2f} s over {len(warm)}.\n"
    )
    REPORT.write_text(body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
