"""Documents: a 2-D map of the documents' topic mixtures, filters, and one document in detail."""

import html

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from topicvae import explore
from topicvae.app import common

POINT_CHOICES = [1000, 2000, 3000, 5000, 10000, 20000]
DEFAULT_POINTS = 3000
LEGEND_MAX = 20
PALETTE = px.colors.qualitative.Dark24 + px.colors.qualitative.Light24 + px.colors.qualitative.Alphabet


def _apply_map_click(run_name: str) -> None:
    row = common.new_click(f"docmap_{run_name}", "_doc_last_click", run_name)
    if row is not None:
        st.session_state[f"doc_row_{run_name}"] = row


def _find_id(run_name: str, ids: np.ndarray) -> None:
    wanted = st.session_state.get(f"doc_id_{run_name}", "").strip()
    if not wanted:
        return
    hits = np.flatnonzero(ids == wanted)
    if len(hits):
        st.session_state[f"doc_row_{run_name}"] = int(hits[0])
        st.session_state.pop("_doc_id_missing", None)
    else:
        st.session_state["_doc_id_missing"] = wanted


def map_figure(coords: np.ndarray, rows: np.ndarray, codes: np.ndarray, names: list[str],
               hover: np.ndarray, selected: int | None) -> go.Figure:
    """Documents ``rows`` as points coloured by category ``codes`` (indices into ``names``).

    Up to LEGEND_MAX categories get one trace each (and a legend); more share one trace
    (many WebGL traces are slow to draw) and the colour key is shown beside the map.
    """
    colours = np.array([PALETTE[i % len(PALETTE)] for i in range(len(names))], dtype=object)
    names_arr = np.array([html.escape(n) for n in names], dtype=object)
    fig = go.Figure()
    marker = {"size": 5, "opacity": 0.75}
    if len(names) <= LEGEND_MAX:
        for c, name in enumerate(names):
            r = rows[codes[rows] == c]
            if len(r):
                fig.add_scattergl(x=coords[r, 0], y=coords[r, 1], mode="markers", name=name, customdata=r,
                                  text=hover[r], marker={**marker, "color": colours[c]},
                                  hovertemplate="%{text}<extra>" + names_arr[c] + "</extra>")
    else:
        fig.add_scattergl(x=coords[rows, 0], y=coords[rows, 1], mode="markers", customdata=rows, showlegend=False,
                          text=hover[rows] + "<br><i>" + names_arr[codes[rows]] + "</i>",
                          marker={**marker, "color": colours[codes[rows]]}, hovertemplate="%{text}<extra></extra>")
    if selected is not None:
        fig.add_scatter(x=[coords[selected, 0]], y=[coords[selected, 1]], mode="markers", name="selected",
                        showlegend=len(names) <= LEGEND_MAX,
                        marker={"symbol": "star", "size": 18, "color": "black", "line": {"width": 1, "color": "white"}},
                        customdata=[selected], hovertemplate=f"<b>{hover[selected]}</b><extra>selected</extra>")
    fig.update_layout(height=620, margin={"l": 10, "r": 10, "t": 10, "b": 10}, dragmode="pan",
                      xaxis={"showticklabels": False, "title": None}, yaxis={"showticklabels": False, "title": None},
                      legend={"font": {"size": 10}, "itemsizing": "constant"})
    return fig


def colour_key(names: list[str], counts: np.ndarray) -> str:
    """HTML chips naming the colour of each category (for maps with too many for a legend)."""
    chips = []
    for i, (name, n) in enumerate(zip(names, counts)):
        if n:
            chips.append(f'<span style="display:inline-block;margin:2px 10px 2px 0;font-size:0.8rem">'
                         f'<span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
                         f'background:{PALETTE[i % len(PALETTE)]};margin-right:4px"></span>{html.escape(name)}</span>')
    return "<div>" + "".join(chips) + "</div>"


def mixture_figure(theta: np.ndarray, labels: list[str], n: int = 10) -> go.Figure:
    top = np.argsort(-theta, kind="stable")[:n][::-1]
    fig = go.Figure(go.Bar(x=theta[top], y=[common.short_label(labels[k], 45) for k in top], orientation="h",
                           marker_color="#1f77b4", hovertemplate="%{y}: θ = %{x:.3f}<extra></extra>"))
    fig.update_layout(height=28 * len(top) + 60, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": "θ", "range": [0, max(0.05, float(theta.max()) * 1.05)]})
    return fig


def sigma_figure(sigma: np.ndarray, labels: list[str] | None) -> go.Figure:
    names = [labels[j] if labels else f"z{j}" for j in range(len(sigma))]
    fig = go.Figure(go.Bar(x=list(range(len(sigma))), y=sigma, marker_color="#9467bd", customdata=names,
                           hovertemplate="%{customdata}: σ = %{y:.3f}<extra></extra>"))
    fig.update_layout(height=220, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"title": "posterior σ"},
                      xaxis={"title": "topic" if labels else "latent dimension",
                             "dtick": 1 if len(sigma) <= 25 else None})
    return fig


def page() -> None:
    run = common.pick_run("documents")
    corpus, status = common.corpus_for(run)
    labels = common.labels(run)
    theta = run.doc_topic
    n_docs, K = theta.shape

    st.title("Documents")
    common.show_corpus_status(status)

    c1, c2, c3 = st.columns(3)
    colour_by = c1.radio("Colour by", ["dominant topic", "label"], horizontal=True, key="doc_colour_by",
                         disabled=corpus is None)
    sources = {"θ (topic mixture)": "theta"}
    if run.z_mean is not None:
        sources["μ (posterior mean)"] = "mu"
    source = sources[c2.radio("Map of", list(sources), horizontal=True, key=f"doc_source_{run.name}")]
    max_points = c3.selectbox("Points shown at most", POINT_CHOICES, index=POINT_CHOICES.index(DEFAULT_POINTS),
                              key="doc_max_points",
                              format_func=lambda n: f"{n:,}")

    f1, f2, f3, f4 = st.columns([3, 3, 2, 3])
    topics = f1.multiselect("Dominant topic", list(range(K)), format_func=lambda k: labels[k],
                            key=f"doc_topics_{run.name}")
    has_labels = corpus is not None and "label" in corpus.docs and corpus.docs["label"].notna().any()
    has_splits = corpus is not None and "split" in corpus.docs and corpus.docs["split"].notna().any()
    label_choice = f2.multiselect("Label", sorted(corpus.docs["label"].dropna().astype(str).unique())
                                  if has_labels else [], key=f"doc_labels_{run.name}", disabled=not has_labels)
    split_choice = f3.multiselect("Split", sorted(corpus.docs["split"].dropna().astype(str).unique())
                                  if has_splits else [], key=f"doc_splits_{run.name}", disabled=not has_splits)
    query = f4.text_input("Text contains", key=f"doc_query_{run.name}", disabled=corpus is None)

    dmap = common.doc_map(run, source)
    dominant = theta.argmax(axis=1)
    if corpus is not None:
        docs = corpus.docs
        mask = explore.filter_documents(docs, theta, topics, label_choice, split_choice, query)
        ids = docs["id"].astype(str).to_numpy() if "id" in docs else np.arange(n_docs).astype(str)
        raw_titles, hover = common.titles(corpus), common.titles(corpus, html_escaped=True)
    else:
        docs = None
        mask = np.isin(dominant, topics) if topics else np.ones(n_docs, dtype=bool)
        ids = np.arange(n_docs).astype(str)
        hover = raw_titles = np.array([f"Document row {i}" for i in range(n_docs)], dtype=object)
    if colour_by == "label" and docs is not None:
        codes, uniques = pd.factorize(docs["label"].fillna("(none)").astype(str), sort=True)
        names = [str(u) for u in uniques]
    else:
        codes, names = dominant, [common.short_label(l, 40) for l in labels]
    matching = np.flatnonzero(mask)
    shown = explore.sample_rows(matching, max_points)

    row_key = f"doc_row_{run.name}"
    _apply_map_click(run.name)
    if st.session_state.get(row_key) is None or not 0 <= st.session_state[row_key] < n_docs:
        st.session_state[row_key] = int(shown[0]) if len(shown) else 0
    selected = int(st.session_state[row_key])

    method = {"umap": "UMAP", "pca": "PCA"}.get(dmap.meta.get("method"), dmap.meta.get("method"))
    left, right = st.columns([3, 2], gap="large")
    with left:
        if len(matching) == 0:
            st.info("No document matches these filters.")
        else:
            sampled = " (a random sample; narrow the filters to see others)" if len(shown) < len(matching) else ""
            st.caption(f"Showing {len(shown):,} of {len(matching):,} matching documents "
                       f"({n_docs:,} in the run){sampled}. Map: {method} of "
                       f"{'√θ (Hellinger distances)' if source == 'theta' else 'standardised μ'}"
                       f"{', read from the run folder' if dmap.from_cache else ''}. Click a point to open it.")
            fig = map_figure(dmap.coords, shown, np.asarray(codes), names, hover, selected)
            st.plotly_chart(fig, width="stretch", key=f"docmap_{run.name}", on_select="rerun",
                            selection_mode="points", config={"displayModeBar": False})
            if len(names) > LEGEND_MAX:
                with st.expander("Colour key"):
                    st.html(colour_key(names, np.bincount(np.asarray(codes)[shown], minlength=len(names))))

    with right:
        st.text_input("Open a document by id", key=f"doc_id_{run.name}", on_change=_find_id, args=(run.name, ids),
                      placeholder=f"e.g. {ids[selected]}")
        if st.session_state.get("_doc_id_missing"):
            st.caption(f"No document with id {st.session_state['_doc_id_missing']!r}.")
        st.markdown(f"#### {common.md_escape(raw_titles[selected] or 'Document ' + ids[selected])}")
        facts = [f"{'id' if docs is not None else 'row'} **{common.md_escape(ids[selected])}**"]
        if docs is not None:
            for col in ("label", "split", "date"):
                if col in docs and pd.notna(docs[col].iloc[selected]):
                    facts.append(f"{col} **{common.md_escape(docs[col].iloc[selected])}**")
        st.markdown(" · ".join(facts))
        t = np.asarray(theta[selected], dtype=np.float64)
        entropy = float(explore.theta_entropy(t))
        st.markdown(f"Dominant topic **{common.md_escape(labels[int(t.argmax())])}** (θ = {t.max():.2f}) · "
                    f"θ entropy **{entropy:.2f}** nats (0 = one topic, {np.log(K):.2f} = uniform)")
        st.plotly_chart(mixture_figure(t, labels), width="stretch", config={"displayModeBar": False},
                        key=f"mixture_{run.name}")
        if run.z_std is not None:
            sigma = np.asarray(run.z_std[selected], dtype=np.float64)
            st.markdown(f"**Posterior uncertainty** — mean σ = {sigma.mean():.3f} "
                        f"(run median {np.median(run.z_std.mean(axis=1)):.3f}); larger σ = less certain")
            st.plotly_chart(sigma_figure(sigma, labels if len(sigma) == K else None), width="stretch",
                            config={"displayModeBar": False}, key=f"sigma_{run.name}")
        else:
            st.caption(f"{run.model_name} gives no posterior uncertainty (σ); θ entropy is its only spread measure.")
        if docs is not None:
            with st.container(height=320):
                text = str(docs["text"].iloc[selected])
                st.text(text[:8000] + (" …" if len(text) > 8000 else ""))

    if docs is not None and len(matching):
        with st.expander(f"List of matching documents (first {min(len(matching), 500):,})"):
            rows = matching[:500]
            frame = common.docs_frame(corpus, rows)
            frame.insert(1, "title", [raw_titles[r] for r in rows])
            frame["dominant topic"] = [labels[dominant[r]] for r in rows]
            frame["θ"] = theta[rows, dominant[rows]]
            st.dataframe(frame, hide_index=True, width="stretch",
                         column_config={"θ": st.column_config.NumberColumn(format="%.2f")})


common.render(page)
