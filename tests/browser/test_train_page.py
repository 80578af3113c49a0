"""The train page in a real browser: live curves, a slider touched mid-run, Stop, a scenario preset."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.support import live_chart_node, live_frame, points, set_batch, shot, slider

pytestmark = pytest.mark.browser


def test_default_trains_with_live_updates_survives_a_slider_and_stops(page: Page) -> None:
    # A long run: early stopping off, 1000 epochs, so there is time to watch, touch and stop it.
    page.locator(".st-key-hp_early_stopping").get_by_text("Early stopping").click()
    epochs = slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("End")
    expect(epochs).to_have_attribute("aria-valuetext", "1000")
    # Batch 8: ~75 steps an epoch, a run of a minute or more. At batch 32 a quiet machine trained the 1000
    # epochs in ~8 s, before the slider below was touched.
    expect(set_batch(page, 8)).to_have_attribute("aria-valuetext", "8")

    page.locator(".st-key-train button").click()
    seen: list[int] = []
    nodes: set[int] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(set(seen)) < 3:
        seen.append(points(page))
        if seen[-1]:
            nodes.add(live_chart_node(page))
        time.sleep(0.4)
    distinct = sorted(set(n for n in seen if n > 0))
    assert len(distinct) >= 2, f"the loss chart did not update during the run: {seen}"
    assert distinct[-1] < 1000, "the run ended before updates could be seen"
    # Updated in place: one chart node through every redraw (a re-created chart blinks out each time).
    assert len(nodes - {0}) == 1, f"the live chart was re-created during the run (nodes {sorted(nodes)})"
    shot(page, "train-running")

    # Move a slider mid-run: the script reruns, the worker keeps training.
    before_touch = points(page)
    dropout = slider(page, "Dropout")
    dropout.focus()
    dropout.press("ArrowRight")
    expect(dropout).to_have_attribute("aria-valuetext", "0.05")
    time.sleep(2.0)
    after_touch = points(page)
    assert live_chart_node(page) in nodes, "the rerun after a slider move re-created the live chart"
    assert after_touch > before_touch, f"training did not continue after a slider move ({before_touch} -> {after_touch})"
    expect(page.locator(".st-key-stop button")).to_be_enabled()

    # Stop: ends within a second or two and keeps the partial curve.
    page.locator(".st-key-stop button").click()
    expect(page.locator(".st-key-train button")).to_be_enabled(timeout=5_000)
    expect(page.get_by_text("Last run: stopped")).to_be_visible(timeout=5_000)
    expect(page.locator(".st-key-loss_chart .js-plotly-plot")).to_be_visible(timeout=5_000)  # the final chart
    kept = points(page)
    assert kept >= after_touch, f"the partial curve was lost on Stop ({after_touch} -> {kept})"
    assert kept < 1000
    expect(page.get_by_text("Verdict:")).to_be_visible()
    shot(page, "train-stopped")


def test_scenario_preset_trains_to_its_verdict(page: Page) -> None:
    page.locator(".st-key-scenario").click()
    page.get_by_role("option", name="underfitting").click()
    expect(slider(page, "Hidden layers")).to_have_attribute("aria-valuetext", "0")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text("Verdict: Underfitting")).to_be_visible(timeout=60_000)
    expect(page.locator(".st-key-apply_0 button")).to_be_visible()
    page.locator(".st-key-apply_0 button").click()  # first advice: add hidden layers
    expect(slider(page, "Hidden layers")).to_have_attribute("aria-valuetext", "2")
    shot(page, "scenario-underfitting")


def test_fix_it_for_me_shows_its_path(page: Page) -> None:
    page.locator(".st-key-scenario").click()
    page.get_by_role("option", name="lr too high").click()
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.3")
    page.locator(".st-key-fix").get_by_role("button", name="Fix it for me").click()
    expect(page.get_by_text("Fix it for me: the path")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Verdict: Good fit")).to_be_visible()
    assert points(page, "fix_chart", "round 0: as you set it (validation)") > 0
    # One panel per round (small multiples): a short fixed round is not squeezed beside a long round 0.
    panels = page.evaluate(
        """() => {
            const plot = document.querySelector(".st-key-fix_chart .js-plotly-plot");
            const rounds = {};
            for (const t of plot.data) {
                const m = String(t.name || "").match(/^round (\\d+)/);
                if (m) (rounds[m[1]] = rounds[m[1]] || new Set()).add(t.xaxis || "x");
            }
            return Object.values(rounds).map(s => [...s].join(","));
        }"""
    )
    assert len(panels) >= 2 and len(set(panels)) == len(panels), f"rounds share a panel: {panels}"
    page.locator(".st-key-use_fix button").click()
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.001")
    shot(page, "fix-it-for-me")


def test_the_decision_boundary_moves_while_the_network_trains(page: Page) -> None:
    """2-feature data: the predicted surface, with the validation points on it, is redrawn during the run."""
    page.locator(".st-key-hp_early_stopping").get_by_text("Early stopping").click()
    epochs = slider(page, "Epochs (maximum)")
    epochs.focus()
    epochs.press("End")
    expect(epochs).to_have_attribute("aria-valuetext", "1000")
    # Batch 8: ~75 steps an epoch, a run of a minute or more. At batch 32 a quiet machine trained the 1000
    # epochs in ~8 s, before the slider below was touched.
    expect(set_batch(page, 8)).to_have_attribute("aria-valuetext", "8")
    page.locator(".st-key-train button").click()
    surfaces: list[str] = []
    titles: set[str] = set()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(set(surfaces)) < 3:
        frame = live_frame(page)
        if frame is not None:
            try:
                seen = frame.evaluate(
                    """() => {
                        const plot = [...document.querySelectorAll(".js-plotly-plot")]
                            .find(p => (p.data || []).some(t => t.type === "heatmap"));
                        if (!plot) return null;
                        const heat = plot.data.find(t => t.type === "heatmap");
                        const names = plot.data.map(t => String(t.name || ""));
                        const title = plot.layout.title;
                        return {z: JSON.stringify(heat.z), names, title: String((title && title.text) || title)};
                    }"""
                )
            except PlaywrightError:  # the frame went away between two looks
                seen = None
            if seen:
                surfaces.append(seen["z"])
                titles.add(seen["title"])
                assert any("validation" in name for name in seen["names"]), seen["names"]
        time.sleep(0.5)
    shot(page, "train-boundary-live")
    assert len(set(surfaces)) >= 3, f"the boundary changed {len(set(surfaces)) - 1} time(s) during the run (titles {titles})"
    assert len(titles) >= 3, titles  # each redraw names its epoch
    page.locator(".st-key-stop button").click()
    expect(page.get_by_text("Last run: stopped")).to_be_visible(timeout=10_000)
