"""Train & diagnose: set the knobs, send a job to a worker process, watch its curves, read the verdict.

The page never trains: it records a queued run in the run store, hands it to the executor and reads
the run back from the store (queue position, live epochs, verdict) while the run is queued or running
(ui/live.py). Top to bottom: session, sidebar, actions, the run shown, evidence, the live loop.
"""

from __future__ import annotations

import streamlit as st

from ui import data_picker, estimate, evidence, knobs, live, session, share, state
from ui.jobs import start_and_show
from ui.text import plain

# --- session: the workspace in the URL, its run store and workers, the knobs (a shared link's first)
ws = session.workspace()
store = session.store()
pool = session.executor()
session.init_knobs()
link_problems = share.apply_link()  # a shared link's data and knobs, once per session, before the widgets

# --- sidebar: teaching presets, data, knobs, the parameters they make, the share link
knobs.scenario_picker()
choice = data_picker.dataset_widgets(int(state.widget_value(session.hp_key("seed"))))
hp = knobs.hyperparameter_widgets()
if choice is not None and hp is not None:
    knobs.parameter_table(choice.dataset, hp)
session.remember_knobs()
share.share_panel(session.remembered(), ws, builtin=choice is None or "file" not in choice.spec)

# --- actions: Train, Fix it for me, Stop (started from the script body, not a callback: the run uses the
# knobs exactly as this rerun read them)
st.title("FitLab: why does my network fit badly?")
link_slot = st.container()  # present in every script run, like every slot below: see estimate_slot
for problem in link_problems:
    link_slot.warning(f"The link's setting was not used: {plain(problem)}", icon=":material/link_off:")
active = store.active_run(ws)
left, middle, right, info = st.columns([1, 1.4, 1, 4], vertical_alignment="center")
ready = active is None and choice is not None and hp is not None
if left.button("Train", key="train", type="primary", disabled=not ready) and ready and choice and hp:
    start_and_show("train", choice, hp)
fix_help = "Train, diagnose, apply the top recommendation, and repeat until a good fit (at most 3 changes)."
if middle.button("Fix it for me", key="fix", disabled=not ready, help=fix_help) and ready and choice and hp:
    start_and_show("fix", choice, hp)
if right.button("Stop", key="stop", disabled=active is None) and active is not None:
    store.request_stop(active.id)
if choice is not None:
    ds = choice.dataset
    info.caption(
        f"Dataset **{plain(ds.name)}** ({ds.task}): {len(ds.y_train)} train / {len(ds.y_val)} validation / "
        f"{len(ds.y_test)} test rows, {ds.n_inputs} inputs. Training runs on {pool.description}."
    )
# A slot in every script run, filled only before a run: an element drawn in some script runs and not in
# others shifts every later element's place, and the browser then shows the old and the new copy of the
# panels below (two "Find a learning rate" buttons) until the script run ends -- which a live loop delays.
estimate_slot = st.empty()  # filled below, once the first screen is drawn
log_scale = st.toggle("Log-scale loss axis", key="log_scale")

# --- the run shown, in fixed slots: the same elements at the same places in every rerun. During a run this
# script run stays in the live loop and never ends, so anything the last rerun drew and this one does not
# overwrite (the old verdict, the picker) would stay on the page, stale, until the run ends.
page = live.Page(store, pool.description, choice, log_scale)
shown_id, history_runs = live.shown_run(store, ws, active.id if active is not None else None)
picker_slot = st.empty()
if len(history_runs) > 1 and active is None:
    live.run_picker(picker_slot, history_runs, shown_id)
live_slots = live.LiveSlots.make()
diagnosis_slot = st.empty()
shown_view = live.view_of(store, shown_id)
if active is not None and active.id == shown_id and shown_view is not None and not shown_view.active:
    # It ended between the two reads above (a short run): this script run drew Train disabled and Stop
    # enabled for a run that is over, and would not come back; draw the page again as it is now.
    st.rerun()
if shown_view is not None and not shown_view.active:
    # The verdict is sent before the finished run's charts, which sit above it: the browser shows what the
    # student waited for first, while the live charts stay until the final ones replace them.
    live.diagnosis_view(diagnosis_slot, shown_view, log_scale=log_scale)
live.live_view(live_slots, shown_view, page)

# --- how long Train will take (a warning for minutes): filled in after the charts, because the first
# estimate in a server calibrates this machine in a process of its own (torch stays out of the server),
# about 3 s while the workers start: the data chart does not wait for it
if choice is not None and hp is not None and active is None:
    estimate.show(estimate_slot, choice, hp)

# --- evidence: the learning-rate finder and the learning curve
watching = evidence.panels(choice, hp)

# --- live updates while this workspace's run or an evidence job is queued or running
if (shown_view is not None and shown_view.active) or watching:
    live.follow(page, live_slots, diagnosis_slot, shown_view, watching)
