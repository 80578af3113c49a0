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
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FITLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {"FITLAB_DATA_DIR": str(data_dir)}
    env.pop("FITLAB_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def paint(page: Page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator("h1").first.wait_for(state="visible", timeout=120_000)
    page.locator(".st-key-train button").wait_for(state="visible", timeout=120_000)
    page.locator(".st-key-data_chart .js-plotly-plot").wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - started


def one(browser: object) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp))
        try:
            time.sleep(1.0)
            idle = rss_mb(proc.pid)
            results = {"rss_start_mb": idle}
            for label in ("cold", "warm"):
                context = browser.new_context(viewport={"width": 1400, "height": 1200})  # type: ignore[attr-defined]
                results[label] = paint(context.new_page(), url)
                context.close()
                if label == "cold":
                    results["rss_after_page_mb"] = rss_mb(proc.pid)
            return results
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--label", default="this tree")
    parser.add_argument("--report", help="append a row to this Markdown report")
    args = parser.parse_args()
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
