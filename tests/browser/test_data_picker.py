"""The dataset picker in a real browser: Samples and Noise keep what the student set through a run and
Train pressed during it; the CSV task radio shows the task that is really used, labelled as detected.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.data.builtin import NOISE_RANGE, SAMPLES_RANGE
from tests.browser.support import shot, slider

pytestmark = pytest.mark.browser


def _press(page: Page, label: str, *keys: str) -> None:
    handle = slider(page, label)
    handle.focus()
    for key in keys:
        handle.press(key)


def test_samples_and_noise_keep_their_values_through_a_run(page: Page) -> None:
    samples, noise = slider(page, "Samples"), slider(page, "Noise")
    expect(samples).to_have_attribute("min", str(SAMPLES_RANGE[0]))
    expect(samples).to_have_attribute("max", str(SAMPLES_RANGE[1]))
    expect(noise).to_have_attribute("max", str(int(NOISE_RANGE[1])))
    _press(page, "Samples", "Home", *["ArrowRight"] * 11)  # 20 + 11 x 10
    expect(samples).to_have_attribute("aria-valuetext", "130")
    _press(page, "Noise", "Home", *["ArrowRight"] * 7)  # 7 x 0.05
    expect(noise).to_have_attribute("aria-valuetext", "0.35")
    caption = page.get_by_text("Dataset moons (classification): 78 train / 26 validation / 26 test rows")
    expect(caption).to_be_visible(timeout=15_000)
    page.locator(".st-key-hp_early_stopping label").click()  # no early stop: the run lasts
    _press(page, "Epochs (maximum)", "End")
    expect(slider(page, "Epochs (maximum)")).to_have_attribute("aria-valuetext", "1000")
    # Batch 1: 78 updates an epoch, so the run outlasts the clicks below (at batch 32 it ended within ~10 s,
    # before Stop, on a loaded CI machine).
    _press(page, "Batch size", "Home")
    expect(slider(page, "Batch size")).to_have_attribute("aria-valuetext", "1")

    page.locator(".st-key-train button").click()
    expect(page.get_by_text(re.compile(r"epoch \d+ of up to 1000"))).to_be_visible(timeout=30_000)
    train = page.locator(".st-key-train button")
    if train.is_enabled():  # the script run that started the job drew it before the job existed
        train.click()  # Train pressed during the run: the page reruns
    else:
        page.locator(".st-key-log_scale label").click()  # some other rerun during the run
    expect(page.locator(".st-key-train button")).to_be_disabled(timeout=15_000)
    page.locator(".st-key-log_scale label").click()  # and one more rerun during the run
    page.wait_for_timeout(2_000)
    expect(samples).to_have_attribute("aria-valuetext", "130")
    expect(noise).to_have_attribute("aria-valuetext", "0.35")
    shot(page, "data-picker-during-run")

    page.locator(".st-key-stop button").click()
    expect(page.get_by_text("Last run:")).to_be_visible(timeout=30_000)
    expect(samples).to_have_attribute("aria-valuetext", "130")
    expect(noise).to_have_attribute("aria-valuetext", "0.35")
    expect(caption).to_be_visible()  # the next run would train on 78 rows, not 30
    expect(page.get_by_text(re.compile(r"130 samples, noise 0\.35")).first).to_be_visible()  # the run that was made
    shot(page, "data-picker-after-run")


def _csv(seed: int) -> bytes:
    lines = ["size,grade,colour,label"]
    for i in range(200):
        j = i + seed
        lines.append(f"{(j * 37 % 100) / 7:.3f},{j % 5 + 1},{('red', 'blue', 'green')[j % 3]},{'yes' if j % 4 < 2 else 'no'}")
    return "\n".join(lines).encode()


def test_the_task_radio_shows_the_task_in_use(page: Page) -> None:
    page.locator(".st-key-dataset_name").click()
    page.get_by_role("option", name="Upload a CSV…").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    radio = page.locator(".st-key-csv_task")
    checked = radio.locator("label:has(input:checked)")

    def upload(name: str, seed: int) -> None:
        page.locator(".st-key-csv input[type=file]").set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": _csv(seed)}]
        )
        expect(sidebar.get_by_text("200 rows × 4 columns")).to_be_visible(timeout=15_000)

    def target(name: str) -> None:
        page.locator(".st-key-csv_target").click()
        page.get_by_role("option", name=name, exact=True).click()
        expect(page.locator(".st-key-csv_target input")).to_have_value(name)

    upload("shop.csv", 0)
    expect(checked).to_have_text("classification (detected)")
    expect(sidebar.get_by_text("Detected: classification, because it holds labels")).to_be_visible()

    target("size")  # fractions: regression, and the radio says so
    expect(checked).to_have_text("regression (detected)", timeout=15_000)
    expect(sidebar.get_by_text("Detected: regression, because it holds numbers with fractions.")).to_be_visible()
    expect(page.get_by_text("Dataset shop.csv (regression)")).to_be_visible()

    target("grade")  # 1 to 5: detected as classes, in use, and flagged as a guess
    expect(checked).to_have_text("classification (detected)", timeout=15_000)
    expect(sidebar.get_by_text("Few whole numbers can be classes or amounts")).to_be_visible()
    expect(page.get_by_text("Dataset shop.csv (classification)")).to_be_visible()
    radio.get_by_text("regression", exact=True).click()  # the student's own choice
    expect(checked).to_have_text("regression", timeout=15_000)
    expect(sidebar.get_by_text("You chose regression. Detected: classification")).to_be_visible()
    expect(page.get_by_text("Dataset shop.csv (regression)")).to_be_visible()
    target("label")
    expect(checked).to_have_text("classification (detected)", timeout=15_000)
    target("grade")  # back to grade: the choice made for it sticks
    expect(checked).to_have_text("regression", timeout=15_000)
    shot(page, "data-picker-task-chosen")

    for round_ in range(1, 4):  # new files: the detected task each time, never blank
        upload(f"file{round_}.csv", round_)
        expect(page.locator(".st-key-csv_target input")).to_have_value("label")
        expect(checked).to_have_text("classification (detected)", timeout=15_000)
        target("size")
        expect(checked).to_have_text("regression (detected)", timeout=15_000)
        expect(radio.locator("input:checked")).to_have_count(1)
    shot(page, "data-picker-task-detected")
