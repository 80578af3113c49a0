"""FitLab: a dashboard for understanding why a neural network fits badly and which knob to turn.

Run with `make run`. Pages are listed here; compare, tune and learn pages will join the train page.
"""

import streamlit as st

st.set_page_config(page_title="FitLab", page_icon=":material/monitoring:", layout="wide")

pages = [
    st.Page("pages/train.py", title="Train & diagnose", icon=":material/model_training:", default=True),
    st.Page("pages/diagnose.py", title="Diagnose a log", icon=":material/upload_file:"),
]
st.navigation(pages).run()
