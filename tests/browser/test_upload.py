"""Bring your own CSV in a real browser: a broken file, then a good one, in the same session.

The broken upload must say what the file is next to the uploader and keep everything the student
had (the dataset, the slider they moved, the run they made); the good one must show its preview and
column profile, show awkward column names literally, and train.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.support import ARTIFACTS, shot, slider

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _upload(page: Page, name: str, content: bytes) -> None:
    files = [{"name": name, "mimeType": "text/csv", "buffer": content}]
    page.locator(".st-key-csv input[type=file]").set_input_files(files=files)


def test_broken_upload_keeps_everything_then_a_good_file_trains(page: Page, tmp_path: Path) -> None:
    # A first run on the built-in data, with a slider moved: both must survive the broken upload.
    epochs = slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("Home")
    for _ in range(2):
        epochs.press("ArrowRight")
    expect(epochs).to_have_attribute("aria-valuetext", "3")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text("Last run:")).to_be_visible(timeout=30_000)

    page.locator(".st-key-dataset_name").click()
    page.get_by_role("option", name="Upload a CSV…").click()
    _upload(page, "grades.csv", (CORPUS / "excel_workbook_renamed.csv").read_bytes())
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("it looks like an Excel workbook (.xlsx)")).to_be_visible(timeout=15_000)
    expect(sidebar.get_by_text("Still using the previous dataset, moons.")).to_be_visible()
    expect(page.get_by_text("Last run:")).to_be_visible()  # the run so far is still shown
    expect(page.get_by_text("Verdict:")).to_be_visible()
    expect(epochs).to_have_attribute("aria-valuetext", "3")  # and the slider kept its value
    expect(page.locator(".st-key-train button")).to_be_enabled()

    # The good file: awkward column names (Markdown, HTML, a formula) must show as written.
    _upload(page, "awkward.csv", (CORPUS / "markdown_and_formula_names.csv").read_bytes())
    expect(sidebar.get_by_text("120 rows × 4 columns; comma-separated, UTF-8.")).to_be_visible(timeout=15_000)
    expect(sidebar.get_by_text("Could not use this data")).to_have_count(0)
    expect(sidebar.get_by_text("Still using the previous dataset")).to_have_count(0)
    expect(page.locator(".st-key-csv_target input")).to_have_value("label")
    profile = sidebar.get_by_test_id("stExpander").filter(has_text="Preview and column profile")
    expect(profile.get_by_test_id("stDataFrame")).to_have_count(2)  # the preview and the column profile
    expect(page.get_by_text("Dataset awkward.csv (classification)")).to_be_visible()  # the rerun has settled
    option = page.get_by_role("option", name="**bold** <b>x</b>")
    for _ in range(3):  # a rerun that lands just after the click closes the dropdown again: open it anew
        page.locator(".st-key-csv_exclude").click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    option.click()
    page.keyboard.press("Escape")
    note = sidebar.get_by_text("Note: left out by you: '**bold** <b>x</b>'")
    expect(note).to_be_visible(timeout=10_000)
    assert sidebar.locator("strong, b").filter(has_text="bold").count() == 0, "a column name was rendered as Markdown/HTML"
    expect(page.get_by_text("Dataset awkward.csv (classification)")).to_be_visible()
    shot(page, "upload-profile")
    # The profile's caption says to widen the sidebar: drag its edge, then keep a picture of the profile.
    before = sidebar.bounding_box()
    handle = page.get_by_test_id("stSidebarResizeHandle").bounding_box()
    assert before is not None and handle is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + 450, handle["y"] + handle["height"] / 2, steps=5)
    page.mouse.up()
    after = sidebar.bounding_box()
    assert after is not None and after["width"] > before["width"] + 200, (before, after)
    ARTIFACTS.mkdir(exist_ok=True)
    profile.screenshot(path=str(ARTIFACTS / "upload-profile-sidebar.png"))

    epochs.focus()
    epochs.press("ArrowRight")  # 4 epochs: this run's caption cannot be the first run's
    expect(epochs).to_have_attribute("aria-valuetext", "4")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text("Last run: completed after 4 epoch(s)")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Verdict:")).to_be_visible()
    shot(page, "upload-trained")

    # Over the 50 MB upload limit: the uploader refuses it with its own message; the loaded file stays.
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"x,y\n" + b"1,2\n" * (13 * 1024 * 1024))  # 52 MB
    page.locator(".st-key-csv input[type=file]").set_input_files(str(huge))
    refusal = page.locator(".st-key-csv").get_by_role("alert")
    expect(refusal).to_have_text("Error: File must be 50.0MB or smaller.", timeout=15_000)
    expect(refusal).to_be_visible()
    expect(sidebar.get_by_text("A file shown in red was refused as too big")).to_be_visible()  # in words, not a tooltip
    expect(page.get_by_text("Dataset awkward.csv (classification)")).to_be_visible()
    expect(page.get_by_text("Last run: completed after 4 epoch(s)")).to_be_visible()
    sidebar.get_by_text("A file shown in red was refused as too big").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "upload-too-big.png"), clip={"x": 0, "y": 0, "width": 600, "height": 700})
