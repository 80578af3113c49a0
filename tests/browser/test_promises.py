"""The page keeps its promises, in a real browser (issue 9): the first screen (wide and phone), Train and
Fix it for me disabled during a run, a run stopped before its first epoch, the loss chart's labels and
range, a penguins-like file's target and a file with infinities, a favicon that never leaves the server.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import ARTIFACTS, shot, slider

pytestmark = pytest.mark.browser

VERDICT = "Verdict:"


def _press(page: Page, label: str, *keys: str) -> None:
    handle = slider(page, label)
    handle.focus()
    for key in keys:
        handle.press(key)


def _traces(page: Page, chart: str) -> list[str]:
    return list(
        page.evaluate(
            """(chart) => {
                const plot = document.querySelector(`.st-key-${chart} .js-plotly-plot`);
                return plot ? plot.data.map(t => String(t.name || "")) : [];
            }""",
            chart,
        )
    )


@pytest.mark.parametrize("width,height,name", [(1400, 1000, "first-screen-wide"), (390, 844, "first-screen-phone")])
def test_the_first_screen_shows_the_data_and_loads_nothing_from_outside(  # type: ignore[no-untyped-def]
    browser, server: str, width: int, height: int, name: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(server)
        page.locator(".st-key-train button").wait_for(timeout=60_000)
        # Before anything is trained: the data itself, its three splits told apart.
        expect(page.locator(".st-key-data_chart .js-plotly-plot")).to_be_visible(timeout=30_000)
        traces = _traces(page, "data_chart")
        for split in ("train", "validation", "test"):
            assert any(split in t for t in traces), traces
        expect(page.get_by_text(re.compile(r"Training will take (about|under)"))).to_be_visible()
        page.wait_for_timeout(1_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # what the eye meets first, not the whole page
        outside = {urlparse(u).hostname for u in requests} - {"127.0.0.1", "localhost", None}
        assert outside == set(), f"the page asked other hosts: {sorted(h for h in outside if h)}"
        icon = page.evaluate("() => (document.querySelector('link[rel~=icon]') || {}).href || ''")
        assert urlparse(icon).hostname in ("127.0.0.1", "localhost") or icon.startswith("data:"), icon
    finally:
        context.close()


def test_train_and_fix_are_disabled_during_a_run_and_a_stop_before_the_first_epoch_is_no_verdict(page: Page) -> None:
    # 100,000 rows at batch 1: the first epoch takes minutes, and the estimate says so before Train.
    _press(page, "Samples", "End")
    _press(page, "Batch size", "Home")
    expect(slider(page, "Batch size")).to_have_attribute("aria-valuetext", "1")
    expect(page.get_by_text(re.compile(r"This run would take .* on this machine"))).to_be_visible(timeout=60_000)
    page.locator(".st-key-train button").click()
    stop = page.locator(".st-key-stop button")
    expect(stop).to_be_enabled(timeout=30_000)
    expect(page.locator(".st-key-train button")).to_be_disabled()
    expect(page.get_by_role("button", name="Fix it for me")).to_be_disabled()
    shot(page, "promise-running-buttons")
    stop.click()
    expect(page.get_by_text("Stopped before the first epoch: nothing to diagnose.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(VERDICT)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    expect(page.locator(".st-key-train button")).to_be_enabled()
    shot(page, "promise-stopped-before-first-epoch")


def test_a_run_stopped_by_hand_is_judged_as_such(page: Page) -> None:
    page.locator(".st-key-hp_early_stopping label").click()
    _press(page, "Epochs (maximum)", "End")
    _press(page, "Batch size", "Home", "ArrowRight", "ArrowRight", "ArrowRight")  # batch 8: a long run
    expect(slider(page, "Batch size")).to_have_attribute("aria-valuetext", "8")
    page.locator(".st-key-train button").click()
    expect(page.get_by_text(re.compile(r"epoch ([3-9]|\d\d+) of up to 1000"))).to_be_visible(timeout=60_000)
    page.locator(".st-key-stop button").click()
    expect(page.get_by_text(VERDICT)).to_be_visible(timeout=30_000)
    evidence = page.locator(".st-key-evidence")
    expect(evidence.get_by_text(re.compile(r"you stopped this run at epoch \d+ of up to 1000"))).to_be_visible()
    # Judged on the epochs it ran, not told to train faster: no learning-rate advice for a run cut short.
    expect(page.get_by_text(re.compile(r"raise the learning rate", re.IGNORECASE))).to_have_count(0)


def test_the_loss_chart_labels_do_not_overlap_and_the_curves_fill_the_axis(page: Page) -> None:
    page.locator(".st-key-scenario").click()
    page.get_by_role("option", name="underfitting").click()
    page.locator(".st-key-train button").click()
    expect(page.get_by_text(VERDICT)).to_be_visible(timeout=120_000)
    chart = page.locator(".st-key-loss_chart .js-plotly-plot")
    expect(chart).to_be_visible()
    page.wait_for_timeout(1_000)
    geometry = page.evaluate(
        """() => {
            const plot = document.querySelector(".st-key-loss_chart .js-plotly-plot");
            const area = plot.querySelector(".nsewdrag").getBoundingClientRect();
            const labels = [...plot.querySelectorAll(".infolayer .annotation, .annotation")]
                .filter(a => (a.textContent || "").match(/trivial|linear|boosted/))
                .map(a => {
                    const r = a.getBoundingClientRect();
                    return {text: a.textContent, left: r.left, top: r.top, bottom: r.bottom};
                });
            const range = plot._fullLayout.yaxis.range;
            const ys = plot.data.filter(t => /loss$/.test(String(t.name))).flatMap(t => t.y)
                .filter(v => v !== null && isFinite(v));
            return {area: {right: area.right, top: area.top, bottom: area.bottom}, labels, range,
                    low: Math.min(...ys), high: Math.max(...ys), log: plot._fullLayout.yaxis.type === "log"};
        }"""
    )
    labels = geometry["labels"]
    assert len(labels) >= 2, labels  # the baselines are labelled
    for label in labels:  # in the right margin, not over the curves
        assert label["left"] >= geometry["area"]["right"] - 1, label
    ordered = sorted(labels, key=lambda item: item["top"])
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        assert upper["bottom"] <= lower["top"] + 1, f"labels overlap: {upper['text']!r} / {lower['text']!r}"
    low, high = geometry["range"]
    span = (geometry["high"] - geometry["low"]) / (high - low)
    assert span >= 0.5, f"the curves use {span:.0%} of the loss axis (range {low:.3g}..{high:.3g})"
    shot(page, "promise-loss-chart-labels")


def _upload(page: Page, name: str, content: bytes) -> None:
    page.locator(".st-key-dataset_name").click()
    page.get_by_role("option", name="Upload a CSV…").click()
    files = [{"name": name, "mimeType": "text/csv", "buffer": content}]
    page.locator(".st-key-csv input[type=file]").set_input_files(files=files)  # type: ignore[arg-type]


def _penguins() -> bytes:
    lines = ["species,island,bill_length_mm,flipper_length_mm,sex,year"]
    for i in range(120):
        species = ("Adelie", "Gentoo", "Chinstrap")[i % 3]
        lines.append(f"{species},{('Torgersen', 'Biscoe', 'Dream')[i % 3]},{38 + i % 3 * 6 + i % 5 * 0.3:.1f},"
                     f"{190 + i % 3 * 15 + i % 7},{('male', 'female')[i % 2]},{2007 + i % 3}")
    return "\n".join(lines).encode()


def _extremes() -> bytes:
    lines = ["a,b,y"]
    for i in range(150):
        a = "inf" if i % 17 == 0 else ("1e308" if i % 19 == 0 else f"{i % 13 * 0.7:.2f}")
        b = "-inf" if i % 23 == 0 else f"{(i * 7) % 11 * 0.3:.2f}"
        lines.append(f"{a},{b},{int(i % 13 * 0.7 > 4)}")
    return "\n".join(lines).encode()


def test_a_penguins_like_file_predicts_species_and_a_file_with_infinities_trains(page: Page) -> None:
    _upload(page, "penguins.csv", _penguins())
    expect(page.locator(".st-key-csv_target input")).to_have_value("species", timeout=30_000)  # not `year`, the last column
    _upload(page, "extremes.csv", _extremes())
    expect(page.locator(".st-key-csv_target input")).to_have_value("y", timeout=30_000)
    _press(page, "Epochs (maximum)", "Home", *["ArrowRight"] * 4)
    page.locator(".st-key-train button").click()
    expect(page.get_by_text(VERDICT)).to_be_visible(timeout=90_000)  # trained: no library error about NaN
    expect(page.locator(".stException")).to_have_count(0)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(re.compile(r"too large|infinite", re.IGNORECASE)).first).to_be_visible()
    shot(page, "promise-infinities-trained")
