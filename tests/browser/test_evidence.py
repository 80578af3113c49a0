"""The evidence panels in a real browser: "Use" puts the finder's suggestion on the sidebar slider in one
click; after another dataset is picked the finder's result says it is stale and offers nothing to apply."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import shot, slider

pytestmark = pytest.mark.browser


def test_use_sets_the_slider_and_another_dataset_marks_the_finder_stale(page: Page) -> None:
    # One short run first: the page's live loop watches evidence jobs while a run is shown.
    epochs = slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("Home")
    expect(epochs).to_have_attribute("aria-valuetext", "1")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text("Verdict:")).to_be_visible(timeout=90_000)

    lr = slider(page, "Learning rate")
    lr.focus()
    lr.press("Home")  # 1e-05: far from any suggestion
    expect(lr).to_have_attribute("aria-valuetext", "1e-05")
    page.locator(".st-key-lr_find").get_by_role("button", name="Find a learning rate").click()
    use = page.locator(".st-key-use_lr button")
    expect(use).to_be_visible(timeout=90_000)
    label = use.inner_text().strip()
    assert label.startswith("Use ")
    suggestion = label.removeprefix("Use ")
    use.click()  # one click
    expect(lr).to_have_attribute("aria-valuetext", suggestion, timeout=10_000)
    expect(page.get_by_text(f"The learning-rate slider is at {suggestion}.")).to_be_visible()
    shot(page, "evidence-lr-used")

    # Another dataset: the finder's result is about moons, and says so.
    page.locator(".st-key-dataset_name").click()
    page.get_by_role("option", name="circles", exact=True).click()
    stale = page.get_by_text("Stale: from moons")
    expect(stale).to_be_visible(timeout=15_000)
    expect(stale).to_contain_text("not the current settings")
    expect(page.locator(".st-key-use_lr")).to_have_count(0)
    shot(page, "evidence-stale")
