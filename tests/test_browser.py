"""Real-browser tests: Debian's Chromium, driven by Playwright, against one running FitLab server.

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

ROOT = Path(__file__).resolve().parents[1]
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
]

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}; .ci/run installs it", pytrace=False)
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser tests skipped", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    log = subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail("the Streamlit server did not become healthy within 60 s")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
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


def _points(page: Page) -> int:
    """Epochs drawn in the loss chart right now, read from Plotly's own data on the page."""
    return int(
        page.evaluate(
            """() => {
                const plot = document.querySelector('.st-key-loss_chart .js-plotly-plot')
                    || document.querySelector('.js-plotly-plot');
                if (!plot || !plot.data) return 0;
                const train = plot.data.find(t => t.name === 'train loss');
                return train ? train.x.length : 0;
            }"""
        )
    )


def _shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _slider(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator(".stSlider").filter(has_text=label).get_by_role("slider")


def test_default_trains_with_live_updates_survives_a_slider_and_stops(page: Page) -> None:
    # A long run: early stopping off, 1000 epochs, so there is time to watch, touch and stop it.
    page.locator(".st-key-hp_early_stopping").get_by_text("Early stopping").click()
    epochs = _slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("End")
    expect(epochs).to_have_attribute("aria-valuetext", "1000")

    page.locator(".st-key-train button").click()
    seen: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(set(seen)) < 3:
        seen.append(_points(page))
        time.sleep(0.4)
    distinct = sorted(set(n for n in seen if n > 0))
    assert len(distinct) >= 2, f"the loss chart did not update during the run: {seen}"
    assert distinct[-1] < 1000, "the run ended before updates could be seen"
    _shot(page, "train-running")

    # Move a slider mid-run: the script reruns, the worker keeps training.
    before_touch = _points(page)
    dropout = _slider(page, "Dropout")
    dropout.focus()
    dropout.press("ArrowRight")
    expect(dropout).to_have_attribute("aria-valuetext", "0.05")
    time.sleep(2.0)
    after_touch = _points(page)
    assert after_touch > before_touch, f"training did not continue after a slider move ({before_touch} -> {after_touch})"
    expect(page.locator(".st-key-stop button")).to_be_enabled()

    # Stop: ends within a second or two and keeps the partial curve.
    page.locator(".st-key-stop button").click()
    expect(page.locator(".st-key-train button")).to_be_enabled(timeout=5_000)
    expect(page.get_by_text("Last run: stopped")).to_be_visible(timeout=5_000)
    kept = _points(page)
    assert kept >= after_touch, f"the partial curve was lost on Stop ({after_touch} -> {kept})"
    assert kept < 1000
    expect(page.get_by_text("Verdict:")).to_be_visible()
    _shot(page, "train-stopped")


def test_scenario_preset_trains_to_its_verdict(page: Page) -> None:
    page.locator(".st-key-scenario").click()
    page.get_by_role("option", name="underfitting").click()
    expect(_slider(page, "Hidden layers")).to_have_attribute("aria-valuetext", "0")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text("Verdict: Underfitting")).to_be_visible(timeout=60_000)
    expect(page.locator(".st-key-apply_0 button")).to_be_visible()
    page.locator(".st-key-apply_0 button").click()  # first advice: add hidden layers
    expect(_slider(page, "Hidden layers")).to_have_attribute("aria-valuetext", "2")
    _shot(page, "scenario-underfitting")
