"""Overview: the corpora and the runs side by side, and the command that makes what is missing."""

import streamlit as st

from topicvae.analysis import overview
from topicvae.interfaces.app import common


def page() -> None:
    """The Overview page: corpora and runs side by side, damaged files and corpora named, what to run next."""
    corpora_dir, runs_dir = common.folders()
    corpora = overview.corpora_overview(corpora_dir)
    runs = overview.runs_overview(runs_dir, corpora_dir)
    if corpora.empty and runs.empty:
        common.empty_state()
        return

    st.title("Overview")
    st.caption(f"Corpora in `{corpora_dir}` · runs in `{runs_dir}`")
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader(f"Corpora ({len(corpora)})")
        if corpora.empty:
            st.info("No corpus in the corpora folder.")
        else:
            st.dataframe(corpora.drop(columns=["source"]), hide_index=True, width="stretch",
                         column_config={"documents": st.column_config.NumberColumn(format="localized"),
                                        "vocabulary": st.column_config.NumberColumn(format="localized"),
                                        "tokens": st.column_config.NumberColumn(format="compact")})
    with right:
        st.subheader(f"Runs ({len(runs)})")
        if runs.empty:
            st.info("No trained run yet.")
        else:
            shown = runs.drop(columns=["metrics error", "files error"]).dropna(axis=1, how="all")  # (no run has)
            st.dataframe(shown, hide_index=True, width="stretch",
                         column_config={"fit s": st.column_config.NumberColumn(format="%.1f"),
                                        "evaluated": st.column_config.CheckboxColumn()})
            if not runs["evaluated"].any():
                st.caption("No run is evaluated yet, so there are no metrics to show.")
    for _, r in runs.iterrows():
        if r["files"] == "damaged":
            st.error(f"Run **{r['run']}** is damaged: {common.md_escape(r['files error'])}. `topicvae verify "
                     f"{r['run']}` checks every file; train it again with `--force`.", icon=":material/error:")
            continue
        if isinstance(r["metrics error"], str):
            st.error(f"Run **{r['run']}**: {common.md_escape(r['metrics error'])}", icon=":material/error:")
        if r["corpus status"] != "ok":
            st.warning(f"Run **{r['run']}**: its corpus **{r['corpus']}** is {r['corpus status']} "
                       "(see the Topics page of that run for details).", icon=":material/warning:")

    steps = overview.next_steps(corpora, runs)
    if steps:
        st.subheader("What next")
        st.markdown("Run these in a terminal, then reload this page:")
        for why, command in steps:
            st.markdown(f"- {why}:")
            st.code(command, language="bash")


common.render(page)
