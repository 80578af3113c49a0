"""The "Diagnose a log" page through Streamlit's AppTest: real uploads of each logger's layout, the example button."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.text import plain

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "ui" / "assets" / "example_logs"  # the examples the Diagnose page offers


def _open() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("pages/diagnose.py").run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="log_file").set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def _verdicts(at: AppTest) -> list[str]:
    return [m.value for m in [*at.success, *at.warning, *at.error] if m.value.startswith("**Verdict")]


def _chart(at: AppTest, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    return json.loads(chart.proto.spec)


def _trace(spec: dict, name: str) -> list:
    return next(t for t in spec["data"] if t.get("name") == name)["y"]


def test_the_page_starts_empty_with_a_hint() -> None:
    at = _open()
    assert [i.value for i in at.info] == ["Upload a log, paste one, or press **Try an example**."]
    assert not at.get("plotly_chart")


@pytest.mark.parametrize(
    ("sample", "title", "verdict", "epochs", "metric_traces"),
    [
        ("keras_overfitting.csv", "Keras CSVLogger", "Overfitting", 30, ["train accuracy", "validation accuracy"]),
        ("lightning_metrics.csv", "PyTorch Lightning CSVLogger (metrics.csv)", "Learning rate too high", 15, ["validation acc"]),
        ("plain_not_converged.csv", "plain per-epoch CSV", "Not converged yet", 20, None),
    ],
    ids=["keras", "lightning", "plain"],
)
def test_each_format_uploads_to_curves_and_a_verdict(sample, title, verdict, epochs, metric_traces) -> None:
    at = _upload(_open(), sample, (LOGS / sample).read_bytes())
    metric = "no metric" if metric_traces is None else f"metric {plain(repr(metric_traces[-1].split()[-1]))}"
    assert at.markdown[0].value == f"**{plain(sample)}**: read as **{title}**, {epochs} epoch(s), {metric}."
    assert _verdicts(at)[0].startswith(f"**Verdict: {verdict}**")
    loss = _chart(at, "log_loss_chart")
    assert len(_trace(loss, "train loss")) == len(_trace(loss, "validation loss")) == epochs
    charts = at.get("plotly_chart")
    if metric_traces is None:
        assert len(charts) == 1
        assert "This log has no metric column: only the losses are drawn." in [c.value for c in at.caption]
    else:
        assert [t["name"] for t in _chart(at, "log_metric_chart")["data"]] == metric_traces
    # Advice without Apply buttons: a log has no knobs on this page.
    assert not [b for b in at.button if b.key and b.key.startswith("apply_")]
    assert any(m.value.startswith("**What to try** (best first)") for m in at.markdown)


def test_try_an_example_loads_a_bundled_log_and_the_picker_switches_it() -> None:
    at = _open()
    at.button(key="try_example").click().run()
    assert not at.exception
    assert at.markdown[0].value.startswith(f"**{plain('keras_overfitting.csv')}**: read as **Keras CSVLogger**")
    assert _verdicts(at)[0].startswith("**Verdict: Overfitting**")
    at.selectbox(key="log_example").select("Keras CSVLogger: regression (mae) with a learning-rate schedule").run()
    assert at.markdown[0].value.startswith(f"**{plain('keras_regression_mae.csv')}**")
    assert _verdicts(at)[0].startswith("**Verdict: Good fit**")
    notes = "\n".join(m.value for m in at.expander[0].markdown)
    assert plain("`mae`") in notes and plain("lower is better") in notes
    # A new upload wins over the example.
    _upload(at, "metrics.csv", (LOGS / "lightning_step_only.csv").read_bytes())
    assert at.markdown[0].value.startswith(f"**{plain('metrics.csv')}**: read as **PyTorch Lightning CSVLogger (metrics.csv)**")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"epoch,loss,val_loss\n0,0.9,0.95\n1,0.8,low\n",
            "Could not read broken.csv: row 3, column val_loss: expected a number, got 'low'",
        ),
        (
            b"\x00\x01\x02binary\xff\xfe",
            "Could not read broken.csv: broken.csv is not a text CSV file: it holds binary data "
            "(a TensorBoard event file or a checkpoint?)",
        ),
    ],
    ids=["text-in-a-loss", "binary"],
)
def test_a_malformed_log_shows_its_message_and_nothing_else(content, message) -> None:
    at = _upload(_open(), "broken.csv", content)
    detail = message.removeprefix("Could not read broken.csv: ")
    assert [e.value for e in at.error] == [f"Could not read {plain('broken.csv')}: {plain(detail)}"]
    assert not at.get("plotly_chart")
    assert not _verdicts(at)


def test_a_pasted_keras_console_log_gets_curves_and_a_verdict() -> None:
    """Keras console output pasted from a notebook (a real README's, tests/logs/formats/README.md names it)."""
    text = (Path(__file__).parent / "logs" / "formats" / "keras-console-eip-session3-README.md").read_text()
    at = _open()
    at.text_area(key="log_paste").input(text).run()
    assert not at.exception
    assert any("Keras console output" in str(m.value) and "50 epoch(s)" in str(m.value) for m in at.markdown)
    assert _verdicts(at), "a verdict is shown"
    assert len(_trace(_chart(at, "log_loss_chart"), "validation loss")) == 50
