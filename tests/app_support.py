"""Helpers shared by the AppTest page tests."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def train_until_verdict(at: AppTest, timeout: float = 120) -> str:
    """Press Train, then rerun the page until the diagnosis card shows; return the verdict line."""
    at.button(key="train").click().run()
    assert not at.exception
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
        assert not at.exception
        verdicts = [m.value for m in [*at.success, *at.warning, *at.error] if m.value.startswith("**Verdict")]
        if verdicts:
            return verdicts[0]
    raise AssertionError("no verdict appeared before the timeout")


def last_run(at: AppTest):  # type: ignore[no-untyped-def]
    """The newest training run of this AppTest's workspace, read back from the run store."""
    from core.store.runs import open_store

    runs = open_store().list_runs(at.session_state["workspace"], kinds=("train", "fix"), limit=1)
    assert runs, "no run was stored for this workspace"
    return runs[0]
