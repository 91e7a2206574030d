"""Topics: labels, relevant words (λ slider), prevalence, coherence, representative documents, intertopic map,
the topic hierarchy and a form that merges two topics into a new run."""

import numpy as np
import streamlit as st

from topicvae import paths
from topicvae.analysis import topics
from topicvae.errors import RunError, TopicVAEError
from topicvae.interfaces.app import common, figures
from topicvae.runs import model_class
from topicvae.runs.labels import save_labels
from topicvae.runs.merging import merge_topics, topic_hierarchy
from topicvae.scoring import representation as representations

MAP_KEY = "intertopic_map"


def _save_label(run_path: str, k: int, widget_key: str) -> None:
    if _saved(run_path, {k: st.session_state[widget_key]}):
        st.toast(f"Label of topic {k} saved", icon=":material/check:")
    else:  # the box shows the label in use again, not the text that was not saved
        st.session_state.pop(widget_key, None)


def _saved(run_path: str, labels: dict) -> bool:
    """Save ``labels``; False, with a toast saying why, when labels.json is damaged (the page says how to
    mend it)."""
    try:
        save_labels(run_path, labels)
    except RunError as exc:
        st.toast(f"Not saved: {exc}", icon=":material/error:")
        return False
    return True


def _save_table_labels(run_path: str, run_name: str, editor_key: str) -> None:
    """Save the labels edited in the topic table, then start the table afresh from the saved labels."""
    edits = st.session_state[editor_key].get("edited_rows", {})
    changes = {int(row): str(cells["label"] or "") for row, cells in edits.items() if "label" in cells}
    if changes and _saved(run_path, changes):
        for k in changes:  # the label box above the chart shows the new name too
            st.session_state.pop(f"label_{run_name}_{k}", None)
        st.toast(f"Saved {len(changes)} label{'s' if len(changes) > 1 else ''}", icon=":material/check:")
    version_key = f"_topic_table_version_{run_name}"
    st.session_state[version_key] = st.session_state.get(version_key, 0) + 1


def _clicked_topic(run_name: str) -> None:
    """Apply a click on the intertopic map (once per new click) to the topic picker."""
    k = common.new_click(f"{MAP_KEY}_{run_name}", "_map_last_click", run_name)
    if k is not None:
        st.session_state[f"topic_{run_name}"] = k


def _topic_panel(run, view: common.TopicView, labels: list[str], coherence, coherence_source: str) -> int:
    """The topic picker, its label box, its numbers and its most relevant words; returns the topic."""
    K = run.n_topics
    k = st.selectbox("Topic", list(range(K)), format_func=lambda i: labels[i], key=f"topic_{run.name}")
    label_key = f"label_{run.name}_{k}"
    st.text_input("Label (saved with the run; used on every page and in exports)", value=labels[k],
                  key=label_key, on_change=_save_label, args=(str(run.path), k, label_key))
    c1, c2, c3 = st.columns(3)
    c1.metric("Prevalence", common.percent(view.prevalence[k]),
              help="share of the corpus's tokens" if view.weighted else "mean θ over documents")
    if coherence is not None and np.isfinite(coherence[k]):
        c2.metric("Coherence (NPMI)", f"{coherence[k]:.3f}", help=coherence_source)
    else:
        c2.metric("Coherence (NPMI)", "–", help=coherence_source)
    c3.metric("Rank by prevalence", f"{int((view.prevalence > view.prevalence[k]).sum()) + 1} of {K}")
    lam = st.slider("Relevance λ", 0.0, 1.0, 0.6, 0.05, key="relevance_lambda",
                    help="λ = 1: most probable words in the topic; λ = 0: words most specific to it "
                         "(lift). Sievert & Shirley (2014) suggest 0.6.")
    table = topics.top_relevant_words(run.topic_word, k, lam, view.p_w, run.vocab, n=20,
                                      prevalence=view.prevalence, total_tokens=view.total_tokens)
    st.plotly_chart(figures.words_figure(table), width="stretch", config={"displayModeBar": False},
                    key=f"words_{run.name}")
    st.caption(f"The most relevant words at λ = {lam:.2f} (LDAvis relevance, whatever the words are ranked by "
               "below): " + " · ".join(table["word"].head(10)))
    return k


def _map_panel(run, view: common.TopicView, labels: list[str], words: list[list[str]], k: int) -> None:
    """The intertopic distance map; a click on a circle picks its topic."""
    st.subheader("Intertopic distance map")
    st.caption("Jensen–Shannon distances between topics, placed in 2-D by classical MDS; "
               "circle area = prevalence. Click a circle to focus its topic.")
    st.plotly_chart(figures.intertopic_figure(view, labels, words, k), width="stretch",
                    key=f"{MAP_KEY}_{run.name}", on_select="rerun", selection_mode="points",
                    config={"displayModeBar": False})


def _representative_documents(run, corpus, k: int) -> None:
    """The five documents with the highest θ_k, the first one open."""
    st.subheader("Most representative documents")
    if corpus is None:
        st.info("Document texts are unavailable because the run's corpus is missing or changed.")
        return
    held = common.document_view(run, corpus)
    if held.sampled:
        st.caption(f"Among a random sample of {len(held.rows):,} of the run's {held.n_docs:,} documents.")
    rows = topics.representative_docs(held.theta, k, n=5)
    ids, titles = held.ids, common.titles(run, corpus, held)
    for rank, r in enumerate(rows):
        head = f"θ = {held.theta[r, k]:.2f} · {common.md_escape(ids[r])} · {common.md_escape(titles[r])}"
        with st.expander(head, expanded=rank == 0):
            common.show_text(held.docs["text"].iloc[r])


def _all_topics(run, corpus, view: common.TopicView, labels: list[str], words, coherence,
                coherence_source: str) -> None:
    """Every topic in a table whose label column can be edited."""
    st.subheader("All topics")
    st.caption(f"Edit a label in the table to rename its topic (a label not edited is the topic's three most "
               f"probable words). Top words by {representations.describe(common.representation(corpus))}. "
               f"Coherence: {coherence_source}.")
    table = topics.topic_table(words, labels, view.prevalence, coherence)
    version = st.session_state.get(f"_topic_table_version_{run.name}", 0)
    editor_key = f"topic_table_{run.name}_{version}"
    st.data_editor(table, hide_index=True, width="stretch", key=editor_key, on_change=_save_table_labels,
                   args=(str(run.path), run.name, editor_key), disabled=[c for c in table.columns if c != "label"],
                   column_config={"label": st.column_config.TextColumn(width="medium"),
                                  "prevalence": st.column_config.ProgressColumn(
                                      format="percent", min_value=0.0, max_value=float(view.prevalence.max())),
                                  "coherence": st.column_config.NumberColumn(format="%.3f")})


@st.cache_resource(max_entries=16, show_spinner=False)
def _hierarchy(key: tuple, _run):
    return topic_hierarchy(_run)


def _hierarchy_panel(run, labels: list[str]) -> None:
    """The dendrogram of the agglomerative merges (what `topicvae reduce` cuts) and the merge form."""
    st.subheader("Topic hierarchy")
    st.caption("Topics joined step by step, closest first (Ward's linkage on the Jensen–Shannon distances "
               "of their word distributions, brought to a common entropy so that words count, not how "
               "peaked a topic is): `topicvae reduce RUN --topics K` keeps the K groups left after the "
               "first merges.")
    tree = _hierarchy(common.run_key(run), run)
    st.plotly_chart(figures.dendrogram_figure(tree.linkage, labels), width="stretch",
                    config={"displayModeBar": False}, key=f"dendrogram_{run.name}")
    _merge_form(run, labels)


def _merge_form(run, labels: list[str]) -> None:
    """Two topics, a name and a button: a new run with the two merged (the run shown stays as it is)."""
    with st.form(f"merge_form_{run.name}"):
        st.markdown("**Merge two topics into a new run** (this run is left as it is)")
        c1, c2 = st.columns(2)
        a = c1.selectbox("First topic", list(range(run.n_topics)), format_func=lambda i: labels[i],
                         key=f"merge_a_{run.name}")
        b = c2.selectbox("Second topic", list(range(run.n_topics)), index=1, format_func=lambda i: labels[i],
                         key=f"merge_b_{run.name}")
        name = st.text_input("Name of the new run", value=f"{run.name}-merged", key=f"merge_name_{run.name}")
        submitted = st.form_submit_button("Merge into a new run", key=f"merge_button_{run.name}")
    if submitted:
        corpora_dir, runs_dir = common.folders()
        problem = _merge_form_problem(a, b, name.strip(), runs_dir)
        if problem:
            st.error(problem, icon=":material/error:")
            return
        try:
            tuning = " and fine-tuning the new run" if model_class(run.model_name).fixed_topics_fit else ""
            with st.spinner(f"Merging topics {a} and {b}{tuning}…"):
                new = merge_topics(run, [[a, b]], name=name.strip() or None, runs_dir=runs_dir,
                                   corpora_dir=corpora_dir)
        except TopicVAEError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.success(f"New run **{common.md_escape(new.name)}**: {new.n_topics} topics, topics {a} and {b} "
                   f"merged. Pick it in the sidebar to explore it.", icon=":material/check:")


def _merge_form_problem(a: int, b: int, name: str, runs_dir) -> str | None:
    """What the merge form asks that cannot be done, in the form's words (``merge_topics`` checks the
    rest and words its refusals for the command line)."""
    if a == b:
        return "Pick two different topics to merge."
    if name:
        try:
            taken = paths.resolve_run_dir(name, runs_dir).exists()
        except TopicVAEError as exc:
            return f"That name cannot be used: {exc}"
        if taken:
            return f"A run named {name!r} already exists; choose another name for the new run."
    return None


def page() -> None:
    """The Topics page: one topic in detail beside the intertopic map, then every topic."""
    run, corpus, labels = common.run_page(
        "topics", "Topics",
        lambda run: f"Run **{run.name}**: {run.model_name}, {run.n_topics} topics, corpus "
                    f"{run.config.get('corpus')}, {run.config.get('epochs')} epochs")
    if common.representation_picker() != common.representation(corpus):
        st.warning("That representation needs the run's training documents; the words are shown by probability.",
                   icon=":material/warning:")
    words = common.top_words(run, 10, corpus)
    view = common.topic_view(run, corpus)
    coherence, coherence_source = common.coherence(run, corpus)

    topic_key = f"topic_{run.name}"
    _clicked_topic(run.name)
    if st.session_state.get(topic_key) not in range(run.n_topics):
        st.session_state[topic_key] = int(np.argmax(view.prevalence))

    left, right = st.columns([5, 6], gap="large")
    with right:
        k = _topic_panel(run, view, labels, coherence, coherence_source)
    with left:
        _map_panel(run, view, labels, words, k)
    _representative_documents(run, corpus, k)
    _all_topics(run, corpus, view, labels, words, coherence, coherence_source)
    _hierarchy_panel(run, labels)


common.render(page)
