"""Trends: how topic prevalence differs between labels and, when documents have dates, changes over time."""

import numpy as np
import pandas as pd
import streamlit as st

from topicvae.analysis import trends
from topicvae.interfaces.app import common, figures

MAX_LABELS = 40
FREQUENCIES = {"automatic": "auto", "year": "Y", "quarter": "Q", "month": "M", "week": "W", "day": "D"}


@st.cache_resource(max_entries=16, show_spinner=False)
def _by_label(key: tuple, ckey: tuple, _theta, _labels) -> pd.DataFrame:
    return trends.prevalence_by_label(_theta, _labels)


@st.cache_resource(max_entries=32, show_spinner=False)
def _over_time(key: tuple, ckey: tuple, freq: str, _theta, _dates) -> pd.DataFrame:
    return trends.prevalence_over_time(_theta, _dates, freq)


def _by_labels(run, corpus, labels: list[str], short: list[str]) -> None:
    """The heatmap of mean θ per label, and the labels that use a chosen topic most."""
    st.subheader("Topic prevalence by label")
    held = common.document_view(run, corpus)
    if not trends.has_labels(held.docs):
        st.info("The documents have no labels. Ingest with `--label-col` (tables) or label folders to see this.")
        return
    table = _by_label(common.run_key(run), common.corpus_key(corpus), held.theta,
                      held.docs["label"].to_numpy(dtype=object))
    n_labels = len(table)
    table = table.head(MAX_LABELS)
    if n_labels > MAX_LABELS:
        st.caption(f"The {MAX_LABELS} largest of {n_labels} labels.")
    st.plotly_chart(figures.label_heatmap(table, short), width="stretch", config={"displayModeBar": False},
                    key="trend_labels")
    st.caption("Mean topic mixture θ of each label's documents (each row sums to 1)"
               + (f", in a random sample of {len(held.rows):,} of the run's {held.n_docs:,} documents."
                  if held.sampled else "."))
    focus = st.selectbox("Which labels use a topic most?", list(range(run.n_topics)),
                         format_func=lambda k: labels[k], key=f"trend_topic_{run.name}")
    st.dataframe(trends.top_labels(table, focus), hide_index=True, width="content",
                 column_config={"mean θ": st.column_config.ProgressColumn(format="%.3f", min_value=0.0,
                                                                          max_value=1.0)})


def _over_periods(run, corpus, labels: list[str], short: list[str]) -> None:
    """Mean θ of the chosen topics per period, when the documents have dates."""
    st.subheader("Topic prevalence over time")
    held = common.document_view(run, corpus)
    if not trends.has_dates(held.docs):
        st.info("The documents have no dates. Ingest with `--date-col` to see topics over time.")
        return
    K = run.n_topics
    c1, c2 = st.columns([1, 3])
    freq = FREQUENCIES[c1.selectbox("Period", list(FREQUENCIES), key="trend_freq")]
    prevalence = common.topic_view(run, corpus).prevalence
    default = [int(k) for k in np.argsort(-prevalence, kind="stable")[: min(5, K)]]
    chosen = c2.multiselect("Topics", list(range(K)), default=default, format_func=lambda k: labels[k],
                            key=f"trend_topics_{run.name}")
    over = _over_time(common.run_key(run), common.corpus_key(corpus), freq, held.theta,
                      held.docs["date"].to_numpy(dtype=object))
    if over.empty or not chosen:
        st.info("Pick at least one topic." if not chosen else "No document has a date that can be read.")
        return
    st.plotly_chart(figures.trend_lines(over, chosen, short), width="stretch", config={"displayModeBar": False},
                    key="trend_time")
    dated = int(over["n_docs"].sum())
    st.caption(f"Mean θ of the documents of each period; {dated:,} of {len(held.rows):,} documents"
               f"{' (a random sample of the run' + chr(39) + 's)' if held.sampled else ''} have a date "
               f"({len(over)} periods, {int(over['n_docs'].min())}–{int(over['n_docs'].max())} documents each).")


def page() -> None:
    """The Trends page: prevalence by label, then over time."""
    run, corpus, labels = common.run_page("trends", "Trends")
    if corpus is None:
        st.info("Trends need the documents' labels and dates, which live in the run's corpus.")
        return
    short = [figures.short_label(l, 30) for l in labels]
    _by_labels(run, corpus, labels, short)
    _over_periods(run, corpus, labels, short)


common.render(page)
