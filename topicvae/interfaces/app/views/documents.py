"""Documents: a 2-D map of the documents' topic mixtures, filters, and one document in detail."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from topicvae.analysis import documents
from topicvae.interfaces.app import common, figures

POINT_CHOICES = [1000, 2000, 3000, 5000, 10000, 20000]
DEFAULT_POINTS = 3000


@dataclass
class Choices:
    """What the controls above the map ask for."""

    colour_by: str
    source: str
    max_points: int
    topics: list
    labels: list
    splits: list
    query: str


@dataclass
class Selection:
    """The documents the choices pick, with what the map and the list show of each."""

    docs: pd.DataFrame | None  # None when the run's corpus is missing or changed
    ids: np.ndarray
    titles: np.ndarray
    hover: np.ndarray  # titles escaped for Plotly's HTML hover labels
    codes: np.ndarray  # colour category of every document
    names: list  # the categories
    matching: np.ndarray  # rows that pass the filters
    shown: np.ndarray  # the sample of them drawn on the map


def _apply_map_click(run_name: str) -> None:
    row = common.new_click(f"docmap_{run_name}", "_doc_last_click", run_name)
    if row is not None:
        st.session_state[f"doc_row_{run_name}"] = row


def _find_id(run_name: str, ids: np.ndarray) -> None:
    """Open the document whose id was typed (kept open even outside the filters), or remember, for this
    run only, that there is none."""
    missing = f"_doc_id_missing_{run_name}"
    wanted = st.session_state.get(f"doc_id_{run_name}", "").strip()
    if not wanted:
        st.session_state.pop(missing, None)
        return
    hits = np.flatnonzero(ids == wanted)
    if len(hits):
        st.session_state[f"doc_row_{run_name}"] = int(hits[0])
        st.session_state.pop(missing, None)
    else:
        st.session_state[missing] = wanted


def _values(docs: pd.DataFrame | None, column: str) -> list[str]:
    """The distinct values of a document column, for a filter (none when the column is empty or absent)."""
    if docs is None or column not in docs or not docs[column].notna().any():
        return []
    return sorted(docs[column].dropna().astype(str).unique())


def _controls(run, corpus, view: documents.DocumentView, labels: list[str]) -> Choices:
    """The two rows of controls: colouring, map source, points shown; then the filters."""
    docs = view.docs
    c1, c2, c3 = st.columns(3)
    colour_by = c1.radio("Colour by", ["dominant topic", "label"], horizontal=True, key="doc_colour_by",
                         disabled=corpus is None)
    sources = {"θ (topic mixture)": "theta"}
    if view.z_std is not None:  # (a VAE run: it has μ and σ)
        sources["μ (posterior mean)"] = "mu"
    source = sources[c2.radio("Map of", list(sources), horizontal=True, key=f"doc_source_{run.name}")]
    max_points = c3.selectbox("Points shown at most", POINT_CHOICES, index=POINT_CHOICES.index(DEFAULT_POINTS),
                              key="doc_max_points", format_func=lambda n: f"{n:,}")
    f1, f2, f3, f4 = st.columns([3, 3, 2, 3])
    topics = f1.multiselect("Dominant topic", list(range(run.n_topics)), format_func=lambda k: labels[k],
                            key=f"doc_topics_{run.name}")
    label_values, split_values = _values(docs, "label"), _values(docs, "split")
    label_choice = f2.multiselect("Label", label_values, key=f"doc_labels_{run.name}", disabled=not label_values)
    split_choice = f3.multiselect("Split", split_values, key=f"doc_splits_{run.name}", disabled=not split_values)
    query = f4.text_input("Text contains", key=f"doc_query_{run.name}", disabled=corpus is None)
    return Choices(colour_by, source, max_points, topics, label_choice, split_choice, query)


def _select(run, corpus, view: documents.DocumentView, labels: list[str], choices: Choices) -> Selection:
    """Apply the filters and the colouring to the documents of the view (positions in it)."""
    docs = view.docs
    mask = documents.filter_documents(docs, view.theta, choices.topics, choices.labels, choices.splits, choices.query)
    titles, hover = common.titles(run, corpus, view), common.titles(run, corpus, view, html_escaped=True)
    codes, names = documents.categories(docs, view.theta, [figures.short_label(l, 40) for l in labels],
                                        by=choices.colour_by)
    matching = np.flatnonzero(mask)
    return Selection(docs, view.ids, titles, hover, codes, names, matching,
                     documents.sample_rows(matching, choices.max_points))


def _selected_row(run, sel: Selection, choices: Choices) -> int:
    """The open document: the last one clicked or looked up by id, else the first shown; when the filters
    change so that it no longer matches, the first one shown that does (one looked up by id outside the
    filters stays open until they change)."""
    row_key, filters_key = f"doc_row_{run.name}", f"_doc_filters_{run.name}"
    _apply_map_click(run.name)
    filters = (tuple(choices.topics), tuple(choices.labels), tuple(choices.splits), choices.query)
    changed = st.session_state.get(filters_key) != filters
    st.session_state[filters_key] = filters
    row = st.session_state.get(row_key)
    if row is None or not 0 <= row < len(sel.ids) or (changed and len(sel.shown) and not _matches(sel, row)):
        st.session_state[row_key] = int(sel.shown[0]) if len(sel.shown) else 0
    return int(st.session_state[row_key])


def _matches(sel: Selection, row: int) -> bool:
    """Whether document ``row`` passes the filters."""
    at = np.searchsorted(sel.matching, row)
    return bool(at < len(sel.matching) and sel.matching[at] == row)


def _map(run, view: documents.DocumentView, sel: Selection, source: str, selected: int) -> None:
    """The document map with its caption, and the colour key when there are too many colours for a legend."""
    dmap = common.doc_map(run, view, source)  # even with nothing to show: the next filter finds it made
    if len(sel.matching) == 0:
        st.info("No document matches these filters.")
        return
    method = {"umap": "UMAP", "pca": "PCA"}.get(dmap.meta.get("method"), dmap.meta.get("method"))
    sampled = " (a random sample; narrow the filters to see others)" if len(sel.shown) < len(sel.matching) else ""
    held = (f"{len(sel.ids):,} in the run" if not view.sampled
            else f"of a random sample of {len(sel.ids):,} of the run's {view.n_docs:,}")
    st.caption(f"Showing {len(sel.shown):,} of {len(sel.matching):,} matching documents "
               f"({held}){sampled}. Map: {method} of "
               f"{'√θ (Hellinger distances)' if source == 'theta' else 'standardised μ'}"
               f"{', read from the run folder' if dmap.from_cache else ''}. Click a point to open it.")
    fig = figures.map_figure(dmap.coords, sel.shown, sel.codes, sel.names, sel.hover, selected)
    st.plotly_chart(fig, width="stretch", key=f"docmap_{run.name}", on_select="rerun",
                    selection_mode="points", config={"displayModeBar": False})
    if len(sel.names) > figures.LEGEND_MAX:
        with st.expander("Colour key"):
            st.html(figures.colour_key(sel.names, np.bincount(sel.codes[sel.shown], minlength=len(sel.names))))


def _heading(run, view: documents.DocumentView, sel: Selection, selected: int) -> None:
    """The id box, the open document's title and its id, label, split and date."""
    st.text_input("Open a document by id", key=f"doc_id_{run.name}", on_change=_find_id, args=(run.name, sel.ids),
                  placeholder=f"e.g. {sel.ids[selected]}")
    missing = st.session_state.get(f"_doc_id_missing_{run.name}")
    if missing:
        st.caption(f"No document with id {missing!r}" + (" in the sample this page holds." if view.sampled else "."))
    if not _matches(sel, selected):
        st.caption("This document does not match the filters.")
    st.markdown(f"#### {common.md_escape(sel.titles[selected] or 'Document ' + sel.ids[selected])}")
    facts = [f"{'id' if sel.docs is not None else 'row'} **{common.md_escape(sel.ids[selected])}**"]
    if sel.docs is not None:
        for col in ("label", "split", "date"):
            if col in sel.docs and pd.notna(sel.docs[col].iloc[selected]):
                facts.append(f"{col} **{common.md_escape(sel.docs[col].iloc[selected])}**")
    st.markdown(" · ".join(facts))


def _mixture(run, view: documents.DocumentView, labels: list[str], selected: int) -> None:
    """The open document's topic mixture, its entropy and, for a VAE, its posterior σ."""
    t = np.asarray(view.theta[selected], dtype=np.float64)
    entropy = float(documents.theta_entropy(t))
    st.markdown(f"Dominant topic **{common.md_escape(labels[int(t.argmax())])}** (θ = {t.max():.2f}) · "
                f"θ entropy **{entropy:.2f}** nats (0 = one topic, {np.log(run.n_topics):.2f} = uniform)")
    st.plotly_chart(figures.mixture_figure(t, labels, n=10), width="stretch", config={"displayModeBar": False},
                    key=f"mixture_{run.name}")
    if view.z_std is None:
        st.caption(f"{run.model_name} gives no posterior uncertainty (σ); θ entropy is its only spread measure.")
        return
    sigma = np.asarray(view.z_std[selected], dtype=np.float64)
    st.markdown(f"**Posterior uncertainty** — mean σ = {sigma.mean():.3f} "
                f"({'sample' if view.sampled else 'run'} median {np.median(view.z_std.mean(axis=1)):.3f}); "
                "larger σ = less certain")
    st.plotly_chart(figures.sigma_figure(sigma, labels if len(sigma) == run.n_topics else None), width="stretch",
                    config={"displayModeBar": False}, key=f"sigma_{run.name}")


def _document(run, view: documents.DocumentView, labels: list[str], sel: Selection, selected: int) -> None:
    """The open document: heading, mixture, uncertainty and text."""
    _heading(run, view, sel, selected)
    _mixture(run, view, labels, selected)
    if sel.docs is not None:
        with st.container(height=320):
            common.show_text(sel.docs["text"].iloc[selected], 8000)


def _matching_list(view: documents.DocumentView, labels: list[str], sel: Selection) -> None:
    """The first 500 matching documents as a table."""
    if sel.docs is None or not len(sel.matching):
        return
    with st.expander(f"List of matching documents (first {min(len(sel.matching), 500):,})"):
        frame = documents.matching_table(sel.docs, sel.matching[:500], sel.titles, view.theta, labels)
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={"θ": st.column_config.NumberColumn(format="%.2f")})


def page() -> None:
    """The Documents page: controls, the map, the open document, the list of matches."""
    run, corpus, labels = common.run_page("documents", "Documents")
    view = common.document_view(run, corpus)
    if view.sampled:
        st.caption(view.sample_note() + " Filters, the map and the list cover the sample; `topicvae export` "
                   "writes every document.")
    choices = _controls(run, corpus, view, labels)
    sel = _select(run, corpus, view, labels, choices)
    selected = _selected_row(run, sel, choices)
    left, right = st.columns([3, 2], gap="large")
    with left:
        _map(run, view, sel, choices.source, selected)
    with right:
        _document(run, view, labels, sel, selected)
    _matching_list(view, labels, sel)


common.render(page)
