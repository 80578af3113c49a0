"""Live charts that change in place while a run streams, instead of being re-created at every redraw.

`st.plotly_chart` gives each chart an id that includes the figure itself, so every redraw of a
streaming run was a new element: the browser threw the old chart away, built a new one with
Plotly.newPlot (the chart blinked out for a frame) and, on a 2-core server, took that CPU from the
worker that trains. Measured over CDP on the `overfitting` preset: the renderer used 2.5–3.8 s of CPU
in a 9 s run and each redraw was a new DOM node.

This is a small Streamlit component (`live_chart/index.html`, no build step) that receives the figures
as JSON and calls `Plotly.react` on the same divs: one Plotly.js per page, loaded once, and each redraw
only diffs the data. Plotly.js is the copy that the `plotly` package ships (nothing from the internet).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import streamlit.components.v1 as components
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.utils import user_key_from_element_id
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

HERE = Path(__file__).resolve().parent / "live_chart"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
TEMPLATE = "plotly_white"  # close to Streamlit's own chart theme, which a component does not get


def _frontend() -> Path:
    """The component's files in one folder: our page and the plotly package's Plotly.js (Streamlit serves
    a component's folder only, links resolved, so the files are copied).

    The folder is this process's own: made by `mkdtemp` (mode 0700, a random name, never one that already
    existed), the copies checked against their sources by SHA-256, removed when the process ends. A
    fixed-name folder in the shared temp directory could be made first by another local user, who would
    then choose the script every page runs."""
    folder = Path(tempfile.mkdtemp(prefix="fitlab-live-chart-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for source in (HERE / "index.html", PLOTLY_JS):
        copy = folder / source.name
        shutil.copyfile(source, copy)
        if _sha256(copy) != _sha256(source):
            raise RuntimeError(f"the copy of {source.name} in {folder} does not match its source")
    return folder


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_component = components.declare_component("live_chart", path=str(_frontend()))


def _allow_redraw(key: str) -> None:
    """Let this script run draw the element with `key` again, in place.

    Streamlit refuses a key twice in one script run; the train page's live loop stays in one script run
    for the whole training and redraws the same element many times. The element must keep its key (its
    identity in the browser, so that the chart is updated, not re-created), so the key's registration
    from the previous redraw is dropped first. Streamlit 1.67 keeps those registrations in two
    ThreadSafeSets on the run context; tests/browser/test_train_page.py fails if that changes.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    for registry in (ctx.shared.widget_user_keys_this_run, ctx.shared.widget_ids_this_run):
        with registry._lock:
            stale = {item for item in registry._data if item == key or user_key_from_element_id(item) == key}
            registry._data.difference_update(stale)


def payload(figure: go.Figure, *, full: bool = False) -> dict[str, Any]:
    """A figure as the component's JSON: Plotly's own serialisation (numpy arrays included)."""
    figure.update_layout(template=TEMPLATE)
    spec = json.loads(figure.to_json())
    return {"data": spec.get("data", []), "layout": spec.get("layout", {}), "full": full}


def show(slot: DeltaGenerator, figures: Sequence[dict[str, Any]], *, key: str, hold: bool = False) -> None:
    """Draw `figures` (from `payload`) into `slot`; the next call with the same key updates them in place.

    `hold=True` places the component (its frame loads Plotly.js once, at the first screen) and leaves
    whatever it shows as it is: a rerun in the middle of a run must not clear the live charts that its
    next redraw updates in place. An empty `figures` clears them."""
    _allow_redraw(key)
    with slot:
        _component(figures=list(figures), hold=hold, key=key, default=None)

