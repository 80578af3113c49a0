"""Helpers for the browser tests: read Plotly data off the page, screenshots, sliders."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def points(page: Page, chart: str = "loss_chart", trace: str = "train loss") -> int:
    """Points of one trace in a Plotly chart on the page right now, read from Plotly's own data."""
    return int(
        page.evaluate(
            """([chart, trace]) => {
                // A keyed chart (a finished run) or, while a run streams, the chart that holds the trace.
                let plots = [...document.querySelectorAll(`.st-key-${chart} .js-plotly-plot`)];
                if (!plots.length) plots = [...document.querySelectorAll(".js-plotly-plot")];
                for (const plot of plots) {
                    const found = (plot.data || []).find(t => t.name === trace);
                    if (found) return found.x.length;
                }
                return 0;
            }""",
            [chart, trace],
        )
    )


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept in test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def slider(page: Page, label: str) -> Locator:
    return page.locator(".stSlider").filter(has_text=label).get_by_role("slider")
