"""The Compare page in a real browser (issue 10's must-show): train three runs, compare two (overlay and
diff visible), download the run JSON, the CSV and the model, open one of them in Train."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import torch
from playwright.sync_api import Page, expect

from core.export.runs import RUN_JSON_KEYS
from core.store.runs import StoredRun, open_store
from tests.browser.conftest import Server
from tests.browser.support import shot, slider

pytestmark = pytest.mark.browser

EPOCHS = 5
ROW_HEIGHT = 35  # Streamlit's dataframe: header and rows are 35 px high at the default row height


def _train(page: Page, running_server: Server, ws: str, count: int) -> StoredRun:
    """Press Train and wait until this workspace has `count` finished runs; the newest one."""
    expect(page.locator(".st-key-train button")).to_be_enabled(timeout=30_000)
    page.locator(".st-key-train button").click()
    store = open_store(running_server.db_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = store.list_runs(ws, kinds=("train",))
        if len(runs) == count and runs[0].status not in ("queued", "running"):
            expect(page.get_by_text(f"Run {runs[0].id[:6]}", exact=False).first).to_be_visible(timeout=15_000)
            try:
                expect(page.locator(".st-key-train button")).to_be_enabled(timeout=15_000)
            except AssertionError:
                shot(page, "debug-compare-train")
                raise AssertionError(
                    f"run {count} finished but Train stayed disabled: pages/train.py read the run as active, then as "
                    "finished later in the same script run, and never reran (a very short run can end in between)"
                ) from None
            return runs[0]
        time.sleep(0.3)
    raise AssertionError(f"run {count} did not finish within 60 s")


def _tick_row(page: Page, row: int) -> None:
    """Tick a row's box in the runs table (the row-marker column at the grid's left edge, on a canvas)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def _download(page: Page, button) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_train_three_compare_two_export_and_open_in_train(page: Page, running_server: Server) -> None:
    started = time.monotonic()
    ws = parse_qs(urlparse(page.url).query)["ws"][0]
    epochs = slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("Home")
    for _ in range(EPOCHS - 1):
        epochs.press("ArrowRight")
    expect(epochs).to_have_attribute("aria-valuetext", str(EPOCHS))
    rate = slider(page, "Learning rate")
    trained = []
    for count, value in enumerate(("0.001", "0.003", "0.01"), start=1):
        if count > 1:
            rate.focus()
            rate.press("ArrowRight")
        expect(rate).to_have_attribute("aria-valuetext", value)
        trained.append(_train(page, running_server, ws, count))
    assert [r.hyperparameters["learning_rate"] for r in trained] == [0.001, 0.003, 0.01]

    page.get_by_role("link", name="Compare runs").click()
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible(timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["ws"][0] == ws  # the same workspace
    expect(page.get_by_text("3 run(s) in this workspace")).to_be_visible()
    newest, middle = trained[2], trained[1]  # the table lists the newest first
    _tick_row(page, 0)
    expect(page.get_by_text("One run selected")).to_be_visible(timeout=15_000)
    _tick_row(page, 1)
    expect(page.get_by_role("heading", name="Curves")).to_be_visible(timeout=15_000)

    loss = page.locator(".st-key-compare_loss .js-plotly-plot")
    expect(loss).to_be_visible()
    traces = loss.evaluate("plot => plot.data.map(t => t.name)")
    assert f"run {newest.id[:6]}" in traces and f"run {middle.id[:6]}" in traces
    expect(page.locator(".st-key-compare_metric .js-plotly-plot")).to_be_visible()
    diff = page.locator(".st-key-compare_diff table")
    expect(diff).to_contain_text("Learning rate")
    expect(diff).to_contain_text("0.01")
    expect(diff).to_contain_text("0.003")
    expect(diff).not_to_contain_text("Width")  # only what differs

    card = page.locator(f".st-key-card_{newest.id}")
    name, data = _download(page, card.get_by_role("button", name="Run (JSON)"))
    assert name == f"fitlab-run-{newest.id[:6]}.json"
    payload = json.loads(data)
    assert tuple(payload) == RUN_JSON_KEYS and payload["hyperparameters"]["learning_rate"] == 0.01
    assert len(payload["history"]) == len(newest.history) > 0

    name, data = _download(page, page.locator(".st-key-runs_csv").get_by_role("button", name="Selected runs as CSV"))
    assert name == "fitlab-runs.csv"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["run"] for r in rows) == sorted([newest.id, middle.id])
    assert sorted(float(r["learning_rate"]) for r in rows) == [0.003, 0.01]

    name, data = _download(page, card.get_by_role("button", name="Model parameters (.pt)"))
    assert name == f"fitlab-model-{newest.id[:6]}.pt"
    state = torch.load(io.BytesIO(data), weights_only=True)
    assert state and all(isinstance(v, torch.Tensor) for v in state.values())
    name, data = _download(page, card.get_by_role("button", name="Model config (JSON)"))
    assert name == f"fitlab-model-{newest.id[:6]}.json"
    config = json.loads(data)
    assert config["format"] == "fitlab-model" and config["hyperparameters"]["learning_rate"] == 0.01
    assert set(config["hyperparameters"]) <= set(newest.hyperparameters)  # the knobs in the config, not in the .pt

    page.set_viewport_size({"width": 1400, "height": 2300})  # Streamlit scrolls inside its main block: show it all
    page.get_by_role("heading", name="Compare runs").scroll_into_view_if_needed()
    expect(loss).to_be_in_viewport()
    shot(page, "compare-two-runs")
    page.set_viewport_size({"width": 1400, "height": 1200})

    page.locator(f".st-key-open_{middle.id}").get_by_role("button", name="Open in Train").click()
    expect(page.locator(".st-key-train button")).to_be_visible(timeout=30_000)
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.003")
    expect(slider(page, "Epochs (maximum)")).to_have_attribute("aria-valuetext", str(EPOCHS))
    expect(page.get_by_text(f"Run {middle.id[:6]}").first).to_be_visible()
    shot(page, "compare-open-in-train")
    assert time.monotonic() - started < 90
