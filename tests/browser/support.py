"""Helpers for the browser tests: read Plotly data off the page, screenshots, sliders."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Locator, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


POINTS_JS = """([chart, trace]) => {
    // A keyed chart (a finished run) or, while a run streams, the chart that holds the trace.
    let plots = [...document.querySelectorAll(`.st-key-${chart} .js-plotly-plot`)];
    if (!plots.length) plots = [...document.querySelectorAll(".js-plotly-plot")];
    for (const plot of plots) {
        const found = (plot.data || []).find(t => t.name === trace);
        if (found) return found.x.length;
    }
    return 0;
}"""


def live_frame(page: Page) -> Frame | None:
    """The live-chart component's frame (ui/live_chart.py) while a run streams, if the page shows one."""
    page.evaluate("0")  # one round trip: Playwright's sync API learns of new frames only while it talks to the page
    return next((frame for frame in page.frames if "live_chart" in frame.url), None)


def live_chart_node(page: Page) -> int:
    """A number that names the live loss chart's DOM node: the same number after a redraw means the chart
    was updated in place (not thrown away and re-created, which blinks); 0 when no live chart is shown."""
    frame = live_frame(page)
    if frame is None:
        return 0
    return int(
        frame.evaluate(
            """() => {
                const plot = document.querySelector(".js-plotly-plot");
                if (!plot) return 0;
                if (!plot.__fitlabNode) plot.__fitlabNode = (window.__fitlabNodes = (window.__fitlabNodes || 0) + 1);
                return plot.__fitlabNode;
            }"""
        )
    )


def points(page: Page, chart: str = "loss_chart", trace: str = "train loss") -> int:
    """Points of one trace in a Plotly chart on the page right now, read from Plotly's own data: the
    finished run's chart on the page, or the live chart in its component frame while a run streams."""
    found = int(page.evaluate(POINTS_JS, [chart, trace]))
    frame = live_frame(page)
    if not found and frame is not None:
        try:
            found = int(frame.evaluate(POINTS_JS, [chart, trace]))
        except PlaywrightError:  # the frame went away: the run just ended
            found = int(page.evaluate(POINTS_JS, [chart, trace]))
    return found


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept in test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def slider(page: Page, label: str) -> Locator:
    return page.locator(".stSlider").filter(has_text=label).get_by_role("slider")


def set_batch(page: Page, batch: int) -> Locator:
    """Move the Batch size slider (options 1, 2, 4, 8, ...) to the power of two `batch` by keyboard, as a
    user would; returns the slider's handle, for the caller to check its aria-valuetext."""
    handle = slider(page, "Batch size")
    handle.focus()
    handle.press("Home")
    for _ in range(batch.bit_length() - 1):
        handle.press("ArrowRight")
    return handle
