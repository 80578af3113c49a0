"""Shared links in a real browser: the knobs travel, the runs do not (unless the workspace is in the link)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import shot, slider

pytestmark = pytest.mark.browser


def _fresh(browser, url: str) -> Page:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    opened = context.new_page()
    opened.goto(url)
    opened.locator(".st-key-train button").wait_for(timeout=60_000)
    return opened


def _workspace(page: Page) -> str:
    return parse_qs(urlparse(page.url).query)["ws"][0]


def test_a_shared_link_opens_the_same_knobs_in_a_fresh_browser_without_the_runs(page: Page, browser) -> None:  # type: ignore[no-untyped-def]
    rate = slider(page, "Learning rate")
    rate.focus()
    rate.press("ArrowRight")
    rate.press("ArrowRight")
    expect(rate).to_have_attribute("aria-valuetext", "0.01")
    dropout = slider(page, "Dropout")
    dropout.focus()
    for _ in range(4):
        dropout.press("ArrowRight")
    expect(dropout).to_have_attribute("aria-valuetext", "0.20")
    page.get_by_text("Share these settings").click()
    code = page.locator('[data-testid="stExpander"]').filter(has_text="Share these settings").locator("code").first
    expect(code).to_contain_text("learning_rate=0.01")
    expect(code).to_contain_text("dropout=0.2")  # the slider's last step reaches the server after its thumb moves
    link = code.inner_text().strip()
    assert "ws=" not in link  # the author's workspace stays out unless the box is ticked
    shot(page, "share-panel")

    other = _fresh(browser, link)
    try:
        expect(slider(other, "Learning rate")).to_have_attribute("aria-valuetext", "0.01")
        expect(slider(other, "Dropout")).to_have_attribute("aria-valuetext", "0.20")
        assert _workspace(other) != _workspace(page)
        assert "learning_rate" not in other.url  # applied once, then out of the address bar
        other.reload()
        other.locator(".st-key-train button").wait_for(timeout=60_000)
        expect(slider(other, "Learning rate")).to_have_attribute("aria-valuetext", "0.01")
        shot(other, "share-opened")
    finally:
        other.context.close()


def test_a_teachers_preset_link_and_a_bad_value(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    opened = _fresh(browser, f"{server}/?preset=underfitting")
    try:
        expect(slider(opened, "Hidden layers")).to_have_attribute("aria-valuetext", "0")
    finally:
        opened.context.close()
    opened = _fresh(browser, f"{server}/?learning_rate=5&width=64")
    try:
        expect(opened.get_by_text("The link's setting was not used")).to_be_visible()
        expect(opened.get_by_text("learning_rate")).to_be_visible()
        expect(slider(opened, "Width")).to_have_attribute("aria-valuetext", "64")  # the rest of the link applied
    finally:
        opened.context.close()
