"""Hostile text through every page that shows user text (AppTest): Markdown and HTML in file names, column
names, log lines and run errors must be shown as text — no link, no image, no Streamlit directive.

Each page's elements are walked whole (every Markdown-rendered field of every element: bodies, labels,
help texts, expander titles, radio options) and rendered with a GitHub-flavoured Markdown parser, as the
browser renders them; chart specs are checked for Plotly's own <a> tags. A payload that got through would
show up as an <a> or <img> pointing at the payload's hosts.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from core.data.builtin import load_builtin
from core.hyperparameters import Hyperparameters
from core.store.runs import open_store
from core.workers.spec import submit_run
from tests.app_support import APP, train_until_verdict
from ui.compare import table_key

HOSTS = ("127.0.0.1:9", "evil.example")  # nothing on the page may point at these
PAYLOAD = (
    "x` ![p](http://127.0.0.1:9/track.png?leak=1) [Click to verify your account](https://evil.example/login) `y "
    "<img src=http://127.0.0.1:9/i.png> <a href=https://evil.example>here</a> www.evil.example :red[alarm] "
    ":material/warning: **bold**"
)
DIRECTIVES = (":red[alarm]", ":material/warning:")
MARKDOWN_FIELDS = {"body", "label", "help", "placeholder", "captions"}  # what Streamlit renders as Markdown
MARKDOWN = MarkdownIt("gfm-like", {"html": False, "linkify": True})  # remark-gfm links www. and http(s):// text
MARKDOWN.linkify.set({"fuzzy_link": False})
GFM_WWW = re.compile(r"(?<![\w.])www\.evil\.example")  # GFM's www. autolink, which linkify-it leaves to fuzzy mode


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _nodes(child)


def _texts(at: AppTest) -> Iterator[tuple[str, str, str]]:
    """(element type, field, text) for every string of every element on the page, sidebar included."""
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(proto).__name__
        for key, text in _strings(MessageToDict(proto, preserving_proto_field_name=True)):
            yield kind, key, text


def _leaks(at: AppTest) -> list[str]:
    """Every place where the payload would become a link, an image or a directive in the browser."""
    found = []
    for kind, key, text in _texts(at):
        if key == "spec":  # a Plotly figure: its titles and names render <a href> and <b>
            for _, inner in _strings(json.loads(text)):
                if re.search(r"<\s*(a|img)\b", inner, re.IGNORECASE) and any(h in inner for h in HOSTS):
                    found.append(f"{kind} chart text {inner[:80]!r}")
            continue
        if key not in MARKDOWN_FIELDS and not (kind == "Radio" and key == "options"):
            continue  # plain-text fields: select options, table cells, values
        rendered = MARKDOWN.render(text)
        for tag in re.findall(r"<(?:a|img)\b[^>]*>", rendered):
            if any(h in tag for h in HOSTS):
                found.append(f"{kind}.{key}: {tag} from {text[:80]!r}")
        if GFM_WWW.search(re.sub(r"<[^>]+>", "", rendered)):
            found.append(f"{kind}.{key}: an autolinked www. address in {text[:80]!r}")
        found.extend(f"{kind}.{key}: the directive {d} in {text[:80]!r}" for d in DIRECTIVES if d in text)
    return found


def _shown(at: AppTest) -> str:
    """All text on the page as the browser shows it (Markdown rendered, tags stripped), plus the plain fields."""
    parts = []
    for _, key, text in _texts(at):
        parts.append(html.unescape(re.sub(r"<[^>]+>", "", MARKDOWN.render(text))) if key in MARKDOWN_FIELDS else text)
    return "\n".join(parts).replace("\u200b", "")


def test_the_checker_catches_an_unescaped_payload() -> None:
    """The walker must be able to fail: the payload quoted as code, the way the Diagnose page once showed a
    column name (metric `NAME`), breaks out of the code span into a link, an image and more."""
    quoted = f"metric `{PAYLOAD}`"
    at = AppTest.from_string(f"import streamlit as st\nst.markdown({quoted!r})\nst.caption({quoted!r})").run()
    leaks = _leaks(at)
    assert any("<img" in leak for leak in leaks) and any("<a" in leak for leak in leaks)
    assert any("www." in leak for leak in leaks) and any(":red[alarm]" in leak for leak in leaks)


# ------------------------------------------------------------------ Diagnose: the log's name, columns, notes, errors


def _log(rows: int = 12) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["epoch", "accuracy", "loss", "val_accuracy", "val_loss", PAYLOAD])
    for epoch in range(rows):
        loss = 1 / (epoch + 1)
        writer.writerow([epoch, 0.5 + epoch / 40, loss, 0.5 + epoch / 50, loss * 1.1, epoch])
    return out.getvalue().encode()


def _diagnose() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/diagnose.py").run()
    assert not at.exception
    return at


def test_diagnose_page_shows_a_payload_log_as_text() -> None:
    at = _diagnose()
    at.file_uploader(key="log_file").set_value((f"{PAYLOAD}.csv", _log(), "text/csv")).run()
    assert not at.exception
    assert [m.value for m in at.markdown if "Verdict" in m.value] or at.success or at.warning, "the log was read"
    assert _leaks(at) == []
    shown = _shown(at)
    assert "[Click to verify your account](https:" in shown  # the file name and the column, as written
    assert "<img src=http:" in shown


@pytest.mark.parametrize(
    "content",
    [
        f"epoch,{PAYLOAD}\n1,2\n2,3\n".encode(),  # no loss column: the message names the columns
        f'epoch,loss,val_loss\n1,0.5,0.6\n2,"{PAYLOAD}",0.5\n3,0.4,0.5\n'.encode(),  # a value that is no number
        f"{PAYLOAD}\n".encode() + bytes(range(256)) * 4,  # binary junk after a payload line
    ],
    ids=["columns", "value", "binary"],
)
def test_diagnose_page_read_errors_quote_the_file_as_text(content: bytes) -> None:
    at = _diagnose()
    at.file_uploader(key="log_file").set_value((f"{PAYLOAD}.csv", content, "text/csv")).run()
    assert not at.exception
    assert at.error, "a clear message"
    assert _leaks(at) == []
    assert not at.get("plotly_chart")


# ------------------------------------------------------------------ Train, Tune, Compare: a payload CSV and its runs


def _payload_csv(rows: int = 120) -> bytes:
    rng = np.random.default_rng(0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"id {PAYLOAD}", PAYLOAD, "size", "label"])
    for row in range(rows):
        a, b = rng.normal(size=2)
        writer.writerow([f"c{row:05d}", round(a, 4), round(b, 4), "yes" if a + b > 0 else "no"])
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def trained() -> tuple[str, AppTest]:
    """A payload CSV uploaded on the Train page and trained for 2 epochs; plus a failed run with a payload error."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.slider(key="hp_epochs").set_value(2)
    at.selectbox(key="dataset_name").select("Upload a CSV…").run()
    at.sidebar.file_uploader(key="csv").set_value((f"{PAYLOAD}.csv", _payload_csv(), "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="csv_target").value == "label"
    train_until_verdict(at)
    ws = at.session_state["workspace"]
    store = open_store()
    dataset = load_builtin("moons", samples=200, noise=0.2, seed=0)
    hp = Hyperparameters(hidden_layers=1, width=4, epochs=2, seed=0)
    made = {"file": f"{PAYLOAD}.csv", "target": PAYLOAD}
    spec = submit_run(store, workspace=ws, kind="train", dataset=dataset, hp=hp, spec=made)
    assert store.fail(spec.run_id, f"training failed on column {PAYLOAD!r}")  # failed before it trained: no verdict
    return ws, at


def test_train_page_shows_payload_file_and_column_names_as_text(trained: tuple[str, AppTest]) -> None:
    _, at = trained
    assert _leaks(at) == []
    shown = _shown(at)
    assert f"{PAYLOAD}.csv" in shown.replace("\\", "")  # the file name is on the page, as written


def test_tune_page_shows_the_payload_data_as_text(trained: tuple[str, AppTest]) -> None:
    _, at = trained
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    assert _leaks(at) == []
    at.switch_page("pages/train.py").run()


def test_compare_page_shows_payload_runs_and_errors_as_text(trained: tuple[str, AppTest]) -> None:
    ws, _ = trained
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = ws
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    listed = open_store().list_runs(ws, limit=200)
    at.session_state[table_key(listed)] = {"selection": {"rows": list(range(min(2, len(listed)))), "columns": []}}
    at.run()
    assert not at.exception
    assert len(listed) >= 2 and _leaks(at) == []
    shown = _shown(at)
    assert "training failed on column" in shown and "[Click to verify your account](https:" in shown


def test_a_long_log_is_read_from_a_sample_drawn_downsampled_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 epochs with the limit at 3,000: the heading names both counts, the notes the setting, and the
    charts (past 2,000 points) are drawn from each stretch's extremes, small enough for a browser."""
    monkeypatch.setenv("FITLAB_MAX_LOG_EPOCHS", "3000")
    epochs = np.arange(20_000)
    loss = 1 / np.sqrt(epochs + 1)
    rows = "\n".join(f"{e},{t:.6f},{t * 1.1:.6f},{0.5 + t / 4:.4f},{0.5 + t / 5:.4f}" for e, t in zip(epochs, loss, strict=True))
    at = _diagnose()
    content = f"epoch,loss,val_loss,acc,val_acc\n{rows}\n".encode()
    at.file_uploader(key="log_file").set_value(("long.csv", content, "text/csv")).run()
    assert not at.exception
    heading = at.markdown[0].value
    assert "of its 20,000 epochs" in heading, heading
    notes = "\n".join(m.value for m in at.expander[0].markdown).replace("\\", "")
    assert "20,000 epochs" in notes and "FITLAB_MAX_LOG_EPOCHS" in notes
    for key in ("log_loss_chart", "log_metric_chart"):
        chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
        assert "(downsampled" in json.loads(chart.proto.spec)["layout"]["title"]["text"], key
        assert len(chart.proto.spec) < 500_000
