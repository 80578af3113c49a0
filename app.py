"""FitLab: a dashboard for understanding why a neural network fits badly and which knob to turn.

Run with `make run`. Pages are listed here (pages/ holds pages only; their shared pieces are in ui/).
"""

from pathlib import Path

import streamlit as st

from ui import session

# Shipped, not named: a ":material/…:" or emoji page icon makes the browser fetch the favicon from
# fonts.gstatic.com / jsdelivr on every load, which fails in an offline classroom.
FAVICON = str(Path(__file__).resolve().parent / "ui" / "assets" / "favicon.png")


def main() -> None:
    st.set_page_config(page_title="FitLab", page_icon=FAVICON, layout="wide")
    session.workspace()  # every page keeps ?ws=<id> in the URL: a reload or a bookmark finds its runs and knobs
    pages = [
        st.Page("pages/train.py", title="Train & diagnose", icon=":material/model_training:", default=True),
        st.Page("pages/diagnose.py", title="Diagnose a log", icon=":material/upload_file:"),
        st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
        st.Page("pages/learn.py", title="Parameters & hyperparameters", icon=":material/neurology:"),
        st.Page("pages/tune.py", title="Tune", icon=":material/tune:"),
    ]
    st.navigation(pages).run()


# Streamlit runs this script as __main__; a spawned worker process re-imports it as __mp_main__ and
# must draw nothing.
if __name__ != "__mp_main__":
    main()
