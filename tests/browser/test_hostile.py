"""A log whose name, columns and values carry Markdown and HTML, on the Diagnose page of a real browser.

A local HTTP server stands for the attacker's host and counts every request it gets: the page must make
none (no image fetched, no link followed), and the payload must be on the page as the text it is.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import shot

pytestmark = pytest.mark.browser


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        _Counter.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture()
def tracker() -> Iterator[str]:
    """The address of a counting HTTP server on this machine (another host, as far as the page is concerned)."""
    _Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _payload(host: str) -> str:
    return (
        f"x` ![p](http://{host}/track.png?leak=1) [Click to verify your account](http://{host}/login) `y "
        f"<img src=http://{host}/img.png> www.example.invalid :red[alarm]"
    )


def _log(payload: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["epoch", "accuracy", "loss", "val_accuracy", "val_loss", payload])
    for epoch in range(15):
        loss = 1 / (epoch + 1)
        writer.writerow([epoch, 0.5 + epoch / 40, loss, 0.5 + epoch / 50, loss * 1.1, epoch])
    return out.getvalue().encode()


def test_a_payload_log_is_text_and_makes_no_request(page: Page, tracker: str) -> None:
    payload = _payload(tracker)
    page.get_by_role("link", name="Diagnose a log").click()
    expect(page.get_by_text("Upload a log, paste one, or press Try an example.")).to_be_visible(timeout=30_000)
    upload = {"name": f"{payload}.csv", "mimeType": "text/csv", "buffer": _log(payload)}
    page.locator(".st-key-log_file input[type=file]").set_input_files(upload)
    expect(page.locator(".st-key-verdict")).to_contain_text("Verdict", timeout=30_000)
    page.get_by_text("How the log was read").click()  # the notes quote the column names
    expect(page.get_by_text("Not used:")).to_be_visible()

    # As text: the file name heading and the note show the payload's own characters, brackets and all.
    expect(page.locator(".st-key-log_format")).to_contain_text(f"[Click to verify your account](http://{tracker}/login)")
    expect(page.get_by_text("Not used:")).to_contain_text(f"<img src=http://{tracker}/img.png>")
    expect(page.get_by_text("Not used:")).to_contain_text(":red[alarm]")
    # Nothing on the page points at the tracker, and nothing reached it.
    for selector in (f"a[href*='{tracker}']", f"img[src*='{tracker}']", "a[href*='example.invalid']"):
        expect(page.locator(selector)).to_have_count(0)
    page.wait_for_timeout(1500)  # time for any image request to arrive
    shot(page, "diagnose-payload-log")
    assert _Counter.hits == []

    # A broken payload log: the message quotes it as text, and still no request.
    broken = {"name": f"{payload}.csv", "mimeType": "text/csv", "buffer": f"epoch,{payload}\n1,2\n2,3\n".encode()}
    page.locator(".st-key-log_file input[type=file]").set_input_files(broken)
    message = page.locator("[data-testid='stAlertContentError']")
    expect(message).to_contain_text("Could not read x` ![p](http://", timeout=30_000)
    expect(page.locator(f"img[src*='{tracker}']")).to_have_count(0)
    expect(page.locator(f"a[href*='{tracker}']")).to_have_count(0)
    page.wait_for_timeout(1000)
    shot(page, "diagnose-payload-error")
    assert _Counter.hits == []
