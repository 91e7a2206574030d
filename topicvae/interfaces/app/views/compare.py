"""Compare: two runs' metrics side by side, and their topics matched one-to-one by Jensen–Shannon distance."""

import streamlit as st

from topicvae.analysis import command_lines, compare
from topicvae.analysis.run_metrics import METRIC_NAMES
from topicvae.interfaces.app import common
from topicvae.scoring import representation as representations


@st.cache_resource(max_entries=16, show_spinner="Matching the topics…")
def _alignment(key_a: tuple, key_b: tuple, labels_a: tuple, labels_b: tuple, words_a: tuple, words_b: tuple,
               _run_a, _run_b):
    """The aligned topics of two runs, once per pair of run versions, labels and words shown."""
    # the dashboard compares runs on different corpora too, over the union of their words
    return compare.align_runs(_run_a, _run_b, n_words=WORDS, vocabulary="union",
                              labels=(list(labels_a), list(labels_b)), words=(words_a, words_b))


WORDS = 8  # words shown per topic


def _shown_words(run_a, run_b) -> tuple[tuple, tuple, str]:
    """Each run's topic words in the representation picked (``probability`` for a run whose corpus is
    gone, when the pick needs its documents), and a sentence saying which."""
    (corpus_a, _), (corpus_b, _) = common.corpus_for(run_a), common.corpus_for(run_b)
    method_a, method_b = common.representation(corpus_a), common.representation(corpus_b)
    words = tuple(tuple(tuple(w) for w in common.top_words(run, WORDS, corpus))
                  for run, corpus in ((run_a, corpus_a), (run_b, corpus_b)))
    if method_a == method_b:
        said = f"Top words by {representations.describe(method_a)}."
    else:
        said = (f"Top words of {run_a.name} by {representations.describe(method_a)}, of {run_b.name} by "
                f"{representations.describe(method_b)} (the representation picked needs a run's training "
                "documents, and that run's corpus is missing or changed).")
    return words[0], words[1], said


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _default_other(summaries: list[dict], first: str) -> str:
    """Another run, preferring one on the same corpus with another model (ProdLDA vs LDA)."""
    a = next(s for s in summaries if s["name"] == first)
    others = [s for s in summaries if s["name"] != first]
    ranked = sorted(others, key=lambda s: (s.get("corpus") != a.get("corpus"), s.get("model") == a.get("model")))
    return ranked[0]["name"]


def page() -> None:
    """The Compare page: pick run B, then the metrics side by side and the aligned topics."""
    run_a = common.pick_run("compare")
    summaries = common.run_summaries()
    st.title("Compare runs")
    if len(summaries) < 2:
        st.info("Comparing needs a second run. Train one on the same corpus, for example the LDA baseline:")
        st.code(command_lines.train_command(run_a.config.get("corpus", "CORPUS"), "lda", run_a.n_topics), language="bash")
        return
    names = [s["name"] for s in summaries]
    by_name = {s["name"]: s for s in summaries}
    b_key = f"compare_b_{run_a.name}"
    if st.session_state.get(b_key) not in names:
        st.session_state[b_key] = _default_other(summaries, run_a.name)
    st.caption(f"Run A is **{run_a.name}** (change it in the sidebar).")
    name_b = st.selectbox("Run B", names, key=b_key, format_func=lambda n: common.run_label(by_name[n]))
    run_b = common.get_run(name_b)
    if run_b.path == run_a.path:
        st.info("Pick two different runs.")
        return

    st.subheader("Metrics")
    evaluated = [common.metrics(run) for run in (run_a, run_b)]  # (a damaged metrics.json: one warning, None)
    table = compare.side_by_side([run_a, run_b], evaluated)
    known = [name for name in table.index
             if name not in METRIC_NAMES.values() or table.loc[name].notna().any()]
    st.dataframe(table.loc[known].map(_cell), width="stretch")
    for run, m in zip((run_a, run_b), evaluated):
        if m is None:
            st.caption(f"{run.name} is not evaluated yet: `{command_lines.evaluate_command(run.name)}`")

    st.subheader("Aligned topics")
    for newer, older in ((run_a, run_b), (run_b, run_a)):
        if newer.config.get("derived_from") == older.name:
            st.caption(f"{newer.name} continues {older.name} on new documents (`topicvae update`); the Drift "
                       "page shows how far each topic moved and how its prevalence changed.")
    la, lb = common.labels(run_a), common.labels(run_b)
    if run_a.config.get("corpus_checksum") != run_b.config.get("corpus_checksum"):
        st.caption("The runs were trained on different corpora; topics are compared over the union of "
                   "their vocabularies.")
    common.representation_picker()
    words_a, words_b, said = _shown_words(run_a, run_b)
    aligned = _alignment(common.run_key(run_a), common.run_key(run_b), tuple(la), tuple(lb), words_a, words_b,
                         run_a, run_b)
    st.caption(f"Each topic of A matched to one topic of B (Hungarian matching on Jensen–Shannon distance, 0 = "
               f"identical word distributions, 1 = disjoint); {len(aligned)} pairs, closest first. "
               f"Mean distance {aligned['js_distance'].mean():.3f}. {said}")
    shown = aligned.rename(columns={"label_a": f"A: {run_a.name}", "words_a": "A top words",
                                    "label_b": f"B: {run_b.name}", "words_b": "B top words"})
    st.dataframe(shown.drop(columns=["topic_a", "topic_b"]), hide_index=True, width="stretch",
                 column_config={"js_distance": st.column_config.ProgressColumn(
                     "JS distance", format="%.3f", min_value=0.0, max_value=1.0, width="small"),
                     "shared words": st.column_config.NumberColumn(width="small",
                                                                  help=f"of the {WORDS} words shown, those the "
                                                                       "two topics share")})


common.render(page)
