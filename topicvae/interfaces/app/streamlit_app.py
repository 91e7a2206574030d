"""topicvae dashboard: the entry file declares the pages and nothing else.

Start it with ``topicvae app`` (which sets TOPICVAE_CORPORA_DIR / TOPICVAE_RUNS_DIR);
each page in ``views/`` is a thin view over functions of :mod:`topicvae.analysis`. (The folder
is not called ``pages/``: Streamlit would then also serve each file as a page of its own,
without this entry file, to a browser that opens a page's address directly.)

A checkout's ``app/streamlit_app.py`` calls :func:`main` too, so the pages are named by
their absolute paths: Streamlit resolves relative ones against whichever file it runs.
"""

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).resolve().parent / "views"


def pages() -> list:
    return [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(VIEWS / "topics.py", title="Topics", icon=":material/bubble_chart:"),
        st.Page(VIEWS / "documents.py", title="Documents", icon=":material/scatter_plot:"),
        st.Page(VIEWS / "infer.py", title="Infer", icon=":material/edit_note:"),
        st.Page(VIEWS / "compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page(VIEWS / "drift.py", title="Drift", icon=":material/moving:"),
        st.Page(VIEWS / "trends.py", title="Trends", icon=":material/timeline:"),
        st.Page(VIEWS / "downloads.py", title="Downloads", icon=":material/download:"),
    ]


def main() -> None:
    """Run the page the browser asked for (Streamlit runs the entry file on every interaction)."""
    st.set_page_config(page_title="topicvae", page_icon=":material/hub:", layout="wide")
    st.navigation(pages()).run()


if __name__ == "__main__":  # how Streamlit runs its entry file
    main()
