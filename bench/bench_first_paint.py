"""The web server's memory after start and the Train page's time to first paint, cold and warm (issue 19).

    python bench/bench_first_paint.py [--repeats 5] [--report bench/REPORT-first-paint.md] [--label NAME]

Each repeat starts a fresh `streamlit run app.py` (its own data directory) and a fresh headless
Chromium. "Cold" is the first page load of that server (Python imports the page modules then);
"warm" is a second browser context opened on the same server afterwards. First paint is from
`page.goto` until the heading, the Train button and the data chart's Plotly plot are all visible.
Resident memory is the server process's own (workers excluded: they are separate processes), read
from /proc after the server answers its health check, and again after the cold page load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_first_paint.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def paint(page: Page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator("h1").first.wait_for(state="visible", timeout=120_000)
    page.locator(".st-key-train button").wait_for(state="visible", timeout=120_000)
    page.locator(".st-key-data_chart .js-plotly-plot").wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - started


def one(browser: object) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))  # the browser tests' own: `streamlit run app.py`, its own run store
        try:
            time.sleep(1.0)
            results = {"rss_start_mb": rss_mb(server.process.pid)}
            for label in ("cold", "warm"):
                context = browser.new_context(viewport={"width": 1400, "height": 1200})  # type: ignore[attr-defined]
                results[label] = paint(context.new_page(), server.url)
                context.close()
                if label == "cold":
                    results["rss_after_page_mb"] = rss_mb(server.process.pid)
            return results
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--label", default="this tree")
    parser.add_argument("--report", help="append a row to this Markdown report")
    args = parser.parse_args()
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for i in range(args.repeats):
            row = one(browser)
            rows.append(row)
            print(f"{i + 1}: " + "  ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
        browser.close()
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    line = (
        f"| {args.label} | {args.repeats} | {med['rss_start_mb']:.0f} | {med['rss_after_page_mb']:.0f} | "
        f"{med['cold']:.2f} | {med['warm']:.2f} |"
    )
    print(line)
    if args.report:
        path = Path(args.report)
        if not path.exists():
            path.write_text(
                "# Web server memory and Train page first paint\n\n"
                "`python bench/bench_first_paint.py --repeats N --label L --report this file`: medians of N fresh servers.\n"
                "First paint: from navigation until heading, Train button and data chart are visible.\n\n"
                "| tree | repeats | server RSS after start, MB | after first page, MB | first paint cold, s | warm, s |\n"
                "|---|---:|---:|---:|---:|---:|\n",
                encoding="utf-8",
            )
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
