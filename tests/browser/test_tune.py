"""The Tune page in a real browser: a small search grows its trials table as trials finish, then Apply
best puts the best trial's learning rate on the Train page's slider."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import shot, slider

pytestmark = pytest.mark.browser


def test_a_small_search_grows_and_apply_best_sets_the_slider(page: Page) -> None:
    page.get_by_role("link", name="Tune").click()
    expect(page.get_by_text("Tune: search the hyperparameters")).to_be_visible(timeout=30_000)
    trials = page.locator(".st-key-tune_trials input")
    trials.fill("6")
    trials.press("Enter")
    expect(trials).to_have_value("6")
    page.wait_for_timeout(1_000)
    shot(page, "tune-before-start")
    page.locator(".st-key-tune_start button").click()
    finished: list[int] = []
    deadline = time.monotonic() + 180
    progress = re.compile(r"(\d+) of 6 trials finished")
    while time.monotonic() < deadline:
        texts = page.get_by_text(progress).all_inner_texts()
        if texts:
            found = progress.search(texts[0])
            if found and (not finished or int(found.group(1)) != finished[-1]):
                finished.append(int(found.group(1)))
                if finished[-1] == 3:
                    shot(page, "tune-running")
        if page.get_by_text("Best trial", exact=True).count():
            break
        time.sleep(0.3)
    assert len([n for n in finished if n < 6]) >= 2, f"the trials table did not grow while the search ran: {finished}"
    expect(page.get_by_text("Best trial", exact=True)).to_be_visible(timeout=10_000)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(page.locator(".st-key-tune_history .js-plotly-plot")).to_be_visible()
    best_line = page.get_by_text(re.compile(r"^Trial \d+: kept validation loss")).inner_text()
    rate = re.search(r"learning rate ([0-9.e-]+)", best_line)
    assert rate, best_line
    shot(page, "tune-finished")
    page.locator(".st-key-tune_apply button").click()
    expect(page.get_by_text("The best trial's knobs are set")).to_be_visible(timeout=10_000)
    page.get_by_role("link", name="Train & diagnose").click()
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", rate.group(1), timeout=30_000)
