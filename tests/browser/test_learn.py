"""The Learn page in a real browser, during and after a run (issue 21): an 8-layer sigmoid network on SGD,
opened from a link, followed live, ending on the finding that explains its verdict."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.support import shot

pytestmark = pytest.mark.browser

VANISHING = (
    "hidden_layers=8&width=32&activation=sigmoid&optimizer=sgd&learning_rate=0.01&epochs=600&early_stopping=false&batch_size=8"
)


DIMMEST = """async (ms) => {
  let low = 1;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (const el of document.querySelectorAll('[class*="st-key-learn_chart"]')) {
      let node = el, opacity = 1;
      while (node && node !== document.body) { opacity *= parseFloat(getComputedStyle(node).opacity); node = node.parentElement; }
      low = Math.min(low, opacity);
    }
    await new Promise(r => setTimeout(r, 50));
  }
  return low;
}"""


def _viewport_at(page, heading: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the window scrolled to `heading` (Streamlit scrolls its own container, so a full-page
    screenshot shows only the top)."""
    page.get_by_role("heading", name=heading).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    shot(page, name)


def test_learn_page_during_and_after_a_run(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{server}/?{VANISHING}")
        expect(page.locator(".st-key-train button")).to_be_enabled(timeout=60_000)
        page.locator(".st-key-train button").click()
        expect(page.locator(".st-key-stop button")).to_be_enabled(timeout=30_000)
        ws = parse_qs(urlparse(page.url).query)["ws"][0]
        train_tab = page  # stays open: closing the tab that started a run stops it
        page = context.new_page()
        page.goto(f"{server}/learn?ws={ws}")  # a second tab on the same workspace, while the run trains
        try:
            expect(page.get_by_role("heading", name="Parameters & hyperparameters")).to_be_visible(timeout=30_000)
        except AssertionError:
            shot(page, "debug-learn-open")
            raise

        following = page.get_by_text(re.compile(r"Training: epoch \d+ measured so far"))
        expect(following).to_be_visible(timeout=30_000)
        first = int(re.findall(r"epoch (\d+)", following.inner_text())[0])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the page follows the run: the measured epoch grows
            text = page.get_by_text(re.compile(r"Training: epoch \d+ measured so far")).inner_text(timeout=5_000)
            if int(re.findall(r"epoch (\d+)", text)[0]) > first:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the Learn page stayed at epoch {first} while the run trained")
        expect(page.locator(".st-key-learn_chart_gradient .js-plotly-plot").first).to_be_visible()
        # followed every second, the page does not dim: the lowest opacity of its charts over 4 s of refreshes
        dimmest = page.evaluate(DIMMEST, 4000)
        assert dimmest > 0.9, f"the Learn page dims while it follows the run (opacity down to {dimmest})"
        # no verdict yet, but the record already shows it: said as "so far", never "nothing wrong"
        expect(page.locator(".st-key-learn_reading").first).to_contain_text("So far (the verdict comes when the run ends)")
        expect(page.locator(".st-key-learn_reading").first).to_contain_text("vanishing gradients")
        _viewport_at(page, "What the layers say", "learn-during-run-charts")
        expect(page.get_by_text(re.compile(r"Training: epoch \d+ measured so far")).first).to_be_visible()  # still running
        shot(page, "learn-during-run")

        reading = page.locator(".st-key-learn_reading")
        expect(reading).to_contain_text("Vanishing gradients", timeout=180_000)
        expect(page.get_by_text(re.compile(r"Training: epoch"))).to_have_count(0)
        expect(page.locator(".st-key-learn_parameters")).to_contain_text("0.weight")
        expect(page.locator(".st-key-learn_chart_gradient .js-plotly-plot")).to_have_count(1)
        bars = page.locator(".st-key-learn_chart_gradient .js-plotly-plot").evaluate("plot => plot.data[0].y.length")
        assert bars == 9  # 8 hidden layers and the output layer
        expect(page.locator(".st-key-learn_matrix .js-plotly-plot")).to_be_visible()  # 32 x 32: small enough
        expect(page.get_by_text("Status: completed.")).to_be_visible()
        shot(page, "learn-after-run")
        expect(train_tab.get_by_role("link", name=re.compile("Look inside the network"))).to_be_visible(timeout=30_000)
        _viewport_at(page, "What the layers say", "learn-after-run-charts")
        _viewport_at(page, "One layer at a time", "learn-after-run-layer")
    finally:
        context.close()
