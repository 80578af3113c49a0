"""The real server killed with kill -9 (issue 20): `streamlit run app.py` on a fresh data directory, Train
pressed in Chromium, then SIGKILL to the server. Within 10 s none of its processes is left (workers,
resource tracker); a restarted server says the run failed, and a new run trains to the end.

Here with the browser tests (their shared Chromium, started before any other test could leave an asyncio
loop behind, which Playwright's sync API refuses); the helpers are tests/test_crash.py's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from core.store.runs import RunStore, new_workspace_id
from core.workers.entry import SERVER_GONE
from core.workers.executor import SERVER_RESTARTED
from tests.test_crash import alive, cmdline, end_leftovers, kill_and_time, stored, wait_for

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(data_dir: Path) -> tuple[subprocess.Popen[Any], str]:
    """`streamlit run app.py` with its own data directory (its run store) and two workers; its URL once healthy."""
    port = _free_port()
    env = os.environ | {"FITLAB_DATA_DIR": str(data_dir), "FITLAB_WORKERS": "2"}
    env.pop("FITLAB_DB", None)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)]
    log = (data_dir / "server.log").open("ab")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                return bool(response.read().decode() == "ok")
        except OSError:
            return False

    wait_for(healthy, 60, "the Streamlit server did not become healthy")
    return server, url


def _press_train(browser: Any, address: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(address)
    button = page.locator(".st-key-train button")
    button.wait_for(timeout=60_000)
    wait_for(button.is_enabled, 30, "Train stayed disabled")
    button.click()


def _workers_settled(server: subprocess.Popen[Any]) -> list[psutil.Process]:
    """The server's processes once only its two workers and the resource tracker are left (the page's
    first estimate calibrates in a short-lived process of its own: wait for it to end)."""
    found = [p for p in psutil.Process(server.pid).children(recursive=True) if alive(p)]
    spawned = [p for p in found if "spawn_main" in cmdline(p)]
    return found if len(spawned) == 2 else []


def test_a_real_server_killed_leaves_no_worker_and_a_restart_recovers(tmp_path: Path, browser: Any) -> None:
    ws, store = new_workspace_id(), RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    servers: list[subprocess.Popen[Any]] = []
    descendants: list[psutil.Process] = []
    try:
        server, url = _start_server(tmp_path)
        servers.append(server)
        _press_train(browser, f"{url}/?ws={ws}&epochs=1000&early_stopping=false&batch_size=1&samples=2000")
        running = wait_for(lambda: [r for r in store.list_runs(ws) if r.status == "running" and r.history], 90, "no run trained")
        descendants = wait_for(lambda: _workers_settled(server), 30, "the server's processes did not settle")
        took = kill_and_time(server, descendants)
        print(f"no process of the killed server left {took:.2f} s after its SIGKILL ({len(descendants)} processes)")

        restarted, url = _start_server(tmp_path)  # the same data directory: the same run store
        servers.append(restarted)
        _press_train(browser, f"{url}/?ws={ws}&epochs=5")  # the restarted server starts its workers for this page
        old = stored(store, running[0].id)
        assert old.status == "failed" and old.error in (SERVER_GONE, SERVER_RESTARTED), old
        new = wait_for(lambda: [r for r in store.list_runs(ws) if r.id != old.id], 30, "Train started no new run")[0]
        ended = lambda: (r := stored(store, new.id)).status not in ("queued", "running") and r  # noqa: E731
        done = wait_for(ended, 120, "the new run never ended")
        assert done.status == "completed" and len(done.history) == 5, done
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        end_leftovers(descendants)
        store.close()
