"""The web process never imports torch: it submits jobs and draws; workers train (issue 19).

Each page is run for real (Streamlit's AppTest: app.py, then a switch to the page) in a fresh
interpreter, and `sys.modules` is read afterwards. torch costs the server ~300 MB and seconds of
start-up; a page that pulls it in, even through a type or a constant, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("pages/train.py", "pages/diagnose.py", "pages/compare.py", "pages/tune.py")
SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=60).run()
page = sys.argv[1]
if page != "pages/train.py":
    at.switch_page(page).run()
print(json.dumps({"exception": [str(e.value) for e in at.exception], "torch": sorted(m for m in sys.modules if m == "torch"),
                  "headings": [h.value for h in at.title] + [h.value for h in at.header]}))
"""


@pytest.mark.parametrize("page", PAGES)
def test_a_page_runs_without_importing_torch(page: str, tmp_path: Path) -> None:
    env = os.environ | {"FITLAB_DATA_DIR": str(tmp_path), "FITLAB_WORKERS": "1"}
    env.pop("FITLAB_DB", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, page], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["exception"] == []
    assert report["headings"], "the page drew nothing: the check would pass vacuously"
    assert report["torch"] == [], f"{page} imported torch into the web process"


def test_the_check_sees_torch_when_it_is_imported(tmp_path: Path) -> None:
    """The same probe, with torch imported on purpose: it must report it (the check can fail)."""
    script = "import torch\n" + SCRIPT
    env = os.environ | {"FITLAB_DATA_DIR": str(tmp_path), "FITLAB_WORKERS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", script, "pages/diagnose.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1])["torch"] == ["torch"]
