"""Real-browser fixtures: Debian's Chromium, driven by Playwright, against ONE FitLab server for all tests.

Skipped (with the reason) only when no Chromium is installed; under CI (CI=true) that is a failure.
Screenshots are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("FITLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Many sessions in one browser: pages that are not in front must keep their timers (Streamlit's
    # fragment polling) running, as each student's own browser would.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}; .ci/run installs it", pytrace=False)
    collect_ignore_glob = ["test_*.py"]  # pytest reads this: the browser tests are not collected
    print(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)

from playwright.sync_api import Page, sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A FitLab server in its own process, with its own data directory (its run store)."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.data_dir, self.port = data_dir, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = f"sqlite:///{data_dir / 'runs.sqlite'}"
        environment = os.environ | {"FITLAB_DATA_DIR": str(data_dir)} | (env or {})
        environment.pop("FITLAB_DB", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=(data_dir / "server.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode() == "ok":
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail("the Streamlit server did not become healthy within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a worker still busy: don't let teardown hang
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The one server all browser tests share (its own fresh run store)."""
    instance = Server(tmp_path_factory.mktemp("fitlab-data"))
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def server(running_server: Server) -> str:
    return running_server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(server: str, browser) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.goto(server)
    page.locator(".st-key-train button").wait_for(timeout=60_000)
    yield page
    context.close()
