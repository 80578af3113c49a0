"""The "Diagnose a log" page in a real browser: reached from the sidebar, a Keras log uploaded, curves and verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import points, shot

pytestmark = pytest.mark.browser

KERAS_LOG = Path(__file__).resolve().parents[2] / "ui" / "assets" / "example_logs" / "keras_overfitting.csv"


def test_upload_a_keras_log_and_read_its_verdict(page: Page) -> None:
    page.get_by_role("link", name="Diagnose a log").click()
    expect(page.get_by_text("Upload a log, paste one, or press Try an example.")).to_be_visible(timeout=30_000)

    page.locator(".st-key-log_file input[type=file]").set_input_files(str(KERAS_LOG))
    expect(page.locator(".st-key-log_format")).to_contain_text(
        "keras_overfitting.csv: read as Keras CSVLogger, 30 epoch(s), metric 'accuracy'.", timeout=30_000
    )
    expect(page.get_by_text("Verdict: Overfitting")).to_be_visible()
    expect(page.get_by_text("What to try (best first)")).to_be_visible()
    expect(page.locator("[class*='st-key-apply_'] button")).to_have_count(0)  # a log has no knobs to apply
    page.locator(".st-key-log_metric_chart .js-plotly-plot").wait_for()
    assert points(page, "log_loss_chart", "validation loss") == 30
    assert points(page, "log_metric_chart", "validation accuracy") == 30
    page.set_viewport_size({"width": 1400, "height": 1700})  # the app scrolls inside itself: show the advice too
    expect(page.get_by_text("What to try (best first)")).to_be_in_viewport()
    shot(page, "diagnose-keras-log")

    # A broken log replaces it with one specific message, and no chart.
    broken = {"name": "broken.csv", "mimeType": "text/csv", "buffer": b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8,low\n"}
    page.locator(".st-key-log_file input[type=file]").set_input_files(broken)
    expect(page.get_by_text("Could not read broken.csv: row 3, column val_loss: expected a number, got 'low'")).to_be_visible(
        timeout=30_000
    )
    expect(page.locator(".st-key-log_loss_chart")).to_have_count(0)
    shot(page, "diagnose-broken-log")
