"""Trends: how topic prevalence differs between labels and, when documents have dates, changes over time."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from topicvae import explore
from topicvae.app import common

MAX_LABELS = 40
FREQUENCIES = {"automatic": "auto", "year": "Y", "quarter": "Q", "month": "M", "week": "W", "day": "D"}


@st.cache_resource(max_entries=16, show_spinner=False)
def _by_label(key: tuple, ckey: tuple, _theta, _labels) -> pd.DataFrame:
    return explore.prevalence_by_label(_theta, _labels)


@st.cache_resource(max_entries=32, show_spinner=False)
def _over_time(key: tuple, ckey: tuple, freq: str, _theta, _dates) -> pd.DataFrame:
    return explore.prevalence_over_time(_theta, _dates, freq)


def page() -> None:
    run = common.pick_run("trends")
    corpus, status = common.corpus_for(run)
    labels = common.labels(run)
    st.title("Trends")
    common.show_corpus_status(status)
    if corpus is None:
        st.info("Trends need the documents' labels and dates, which live in the run's corpus.")
        return
    theta = run.doc_topic
    K = run.n_topics
    key, ckey = common.run_key(run), common.corpus_key(corpus)
    short = [common.short_label(l, 30) for l in labels]

    st.subheader("Topic prevalence by label")
    has_labels = "label" in corpus.docs and corpus.docs["label"].notna().any()
    if not has_labels:
        st.info("The documents have no labels. Ingest with `--label-col` (tables) or label folders to see this.")
    else:
        table = _by_label(key, ckey, theta, corpus.docs["label"].to_numpy(dtype=object))
        n_labels = len(table)
        table = table.head(MAX_LABELS)
        if n_labels > MAX_LABELS:
            st.caption(f"The {MAX_LABELS} largest of {n_labels} labels.")
        values = table[list(range(K))].to_numpy()
        fig = px.imshow(values, x=[str(k) for k in range(K)],
                        y=[f"{common.short_label(str(l), 30)} ({n})" for l, n in zip(table.index, table["n_docs"])],
                        color_continuous_scale="Blues", aspect="auto",
                        labels={"x": "topic", "y": "label", "color": "mean θ"})
        fig.update_traces(customdata=np.tile(np.array(short, dtype=object), (len(table), 1)),
                          hovertemplate="%{y}<br>topic %{x}: %{customdata}<br>mean θ %{z:.3f}<extra></extra>")
        fig.update_layout(height=max(300, 22 * len(table) + 120), margin={"l": 10, "r": 10, "t": 10, "b": 10})
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key="trend_labels")
        st.caption("Mean topic mixture θ of each label's documents (each row sums to 1).")
        focus = st.selectbox("Which labels use a topic most?", list(range(K)), format_func=lambda k: labels[k],
                             key=f"trend_topic_{run.name}")
        best = table[focus].sort_values(ascending=False).head(10)
        st.dataframe(pd.DataFrame({"label": best.index, "mean θ": best.to_numpy(),
                                   "documents": table.loc[best.index, "n_docs"].to_numpy()}),
                     hide_index=True, width="content",
                     column_config={"mean θ": st.column_config.ProgressColumn(format="%.3f", min_value=0.0,
                                                                              max_value=1.0)})

    st.subheader("Topic prevalence over time")
    if "date" not in corpus.docs or not explore.has_dates(corpus.docs):
        st.info("The documents have no dates. Ingest with `--date-col` to see topics over time.")
        return
    c1, c2 = st.columns([1, 3])
    freq = FREQUENCIES[c1.selectbox("Period", list(FREQUENCIES), key="trend_freq")]
    prevalence = common.topic_view(run, corpus).prevalence
    default = [int(k) for k in np.argsort(-prevalence, kind="stable")[: min(5, K)]]
    chosen = c2.multiselect("Topics", list(range(K)), default=default, format_func=lambda k: labels[k],
                            key=f"trend_topics_{run.name}")
    over = _over_time(key, ckey, freq, theta, corpus.docs["date"].to_numpy(dtype=object))
    if over.empty or not chosen:
        st.info("Pick at least one topic." if not chosen else "No document has a date that can be read.")
        return
    long = over[chosen].rename(columns={k: short[k] for k in chosen}).reset_index().melt(
        id_vars="period", var_name="topic", value_name="mean θ")
    fig = px.line(long, x="period", y="mean θ", color="topic", markers=True)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"title": None})
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key="trend_time")
    dated = int(over["n_docs"].sum())
    st.caption(f"Mean θ of the documents of each period; {dated:,} of {corpus.n_docs:,} documents have a date "
               f"({len(over)} periods, {int(over['n_docs'].min())}–{int(over['n_docs'].max())} documents each).")


common.render(page)
