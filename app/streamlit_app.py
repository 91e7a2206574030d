"""topicvae dashboard: the entry file declares the pages and nothing else.

Start it with ``topicvae app`` (which sets TOPICVAE_CORPORA_DIR / TOPICVAE_RUNS_DIR);
each page in ``views/`` is a thin view over functions of :mod:`topicvae.explore`. (The folder
is not called ``pages/``: Streamlit would then also serve each file as a page of its own,
without this entry file, to a browser that opens a page's address directly.)
"""

import sys
from pathlib import Path

import streamlit as st

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # the views import common.py from this folder

st.set_page_config(page_title="topicvae", page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/topics.py", title="Topics", icon=":material/bubble_chart:"),
    st.Page("views/documents.py", title="Documents", icon=":material/scatter_plot:"),
    st.Page("views/infer.py", title="Infer", icon=":material/edit_note:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/trends.py", title="Trends", icon=":material/timeline:"),
    st.Page("views/downloads.py", title="Downloads", icon=":material/download:"),
]

st.navigation(PAGES).run()
