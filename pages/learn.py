"""Parameters & hyperparameters: inside the network of the run shown, layer by layer, live while it trains.

The user's document opens with the distinction this page makes concrete: parameters (weights and
biases) are learned by backpropagation, start random and are saved in the model file; hyperparameters
are chosen before training and are not. Top to bottom: session, the run, the comparison table with
this run's numbers, what the layers say (the same findings as the verdict), the charts beside the
knobs that shape them, one layer at a time. The pieces are in ui/learn.py.
"""

from __future__ import annotations

import streamlit as st

from core.records import RunRecord
from ui import learn, session

REFRESH_SECONDS = 1.0  # while the run trains, the page reads it again this often (the worker writes every 0.5 s)

# --- session: the workspace in the URL and its run store
ws = session.workspace()
store = session.store()

st.title("Parameters & hyperparameters")
st.caption(
    "**Parameters** (weights and biases) are learned: they start random and backpropagation refines them; "
    "they are what the model file holds. **Hyperparameters** are the knobs you choose before training; "
    "they shape how the parameters are found, and are not in the model file."
)

# --- the run: the one the Train page shows, or another of this workspace's
view = learn.pick_run(store, ws)
if view is None:
    st.info("No run in this workspace yet: press **Train** on the Train & diagnose page, then come back here.")
    st.page_link("pages/train.py", label="Go to Train & diagnose", icon=":material/model_training:")
    st.stop()


@st.fragment(run_every=REFRESH_SECONDS if view.active else None)
def inside(run_id: str, was_active: bool) -> None:
    """The run as the store has it now: redrawn every REFRESH_SECONDS while it trains, once when it ends."""
    stored = store.get(run_id)
    if stored is None:
        st.warning("This run was deleted.")
        return
    current = learn.runs.RunView.of(stored)
    if was_active and not current.active:
        st.rerun(scope="app")  # the run ended: draw the whole page once more (its run picker too), without the refresh
    record = RunRecord(stored)
    d = record.dynamics
    with st.container(key="learn_live"):
        learn.run_view(current, record, d)


learn.steady()
inside(view.id, view.active)
