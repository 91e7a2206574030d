"""Infer: a new text's topic mixture (the run's own preprocessing and vocabulary) and its nearest documents."""

import numpy as np
import pandas as pd
import streamlit as st

from topicvae.analysis import documents
from topicvae.interfaces.app import common, figures

MAX_UPLOAD_CHARS = 2_000_000  # a topic mixture needs far less text; more only makes inference slow


@st.cache_data(max_entries=64, show_spinner="Inferring the topic mixture…")
def _infer(key: tuple, corpora_dir: str, text: str, _run) -> dict:
    result = documents.infer_text(_run, text, corpora_dir=corpora_dir)
    out = {"theta": result.theta[0], "n_tokens": int(result.n_tokens[0]), "n_known": int(result.n_known[0])}
    if result.z_std is not None:
        out["z_std"] = np.asarray(result.z_std[0], dtype=np.float64)
    return out


def upload_text(data: bytes, limit: int = MAX_UPLOAD_CHARS) -> tuple[str, int]:
    """The first ``limit`` characters of an uploaded file (UTF-8, bad bytes replaced) and its length in characters."""
    text = data.decode("utf-8", errors="replace")
    return text[:limit], len(text)


def _text() -> str:
    """The pasted text, or the uploaded file's (saying when only its beginning is used)."""
    text = st.text_area("Paste a text", height=180, key="infer_text",
                        placeholder="Paste a document here and press Ctrl+Enter (or click outside the box).")
    upload = st.file_uploader("…or upload a text file", type=["txt", "md", "csv", "json"], key="infer_upload")
    if upload is None:
        return text
    text, total = upload_text(upload.getvalue())
    if total > len(text):
        st.warning(f"The uploaded file **{common.md_escape(upload.name)}** has {total:,} characters; only its "
                   f"first {len(text):,} ({100 * len(text) / total:.1f} %) were used, so the mixture "
                   "describes the beginning of the file.", icon=":material/warning:")
    else:
        st.caption(f"Using the uploaded file **{common.md_escape(upload.name)}** ({len(text):,} characters).")
    return text


def _counts(result: dict) -> None:
    """How many of the text's tokens the model reads (the others do not change the mixture)."""
    unread = result["n_tokens"] - result["n_known"]
    if result["n_known"] == 0:
        st.warning("None of the text's words is among those the model reads, so its mixture is the model's "
                   "answer for an empty document.", icon=":material/warning:")
    st.markdown(f"**{result['n_tokens']:,}** tokens after preprocessing, **{result['n_known']:,}** of them among the "
                f"words the model reads ({unread:,} not read: outside the run's vocabulary, or outside the part "
                f"of it the model's encoder reads). The mixture sums to **{result['theta'].sum():.3f}**.")


def _mixture(run, held, labels: list[str], result: dict) -> None:
    """The text's topic mixture as bars and as a table, with its spread."""
    theta = result["theta"]
    st.subheader("Topic mixture")
    st.plotly_chart(figures.mixture_figure(theta, labels, colour="#2ca02c", x_title="θ (share of the text)"),
                    width="stretch", config={"displayModeBar": False}, key="infer_mixture")
    spread = f"θ entropy **{float(documents.theta_entropy(theta)):.2f}** nats (uniform: {np.log(len(theta)):.2f})"
    if "z_std" in result:
        spread += f" · mean posterior σ **{result['z_std'].mean():.3f}**"
        if held.z_std is not None:
            spread += (f" (the run's documents{', a sample' if held.sampled else ''}: "
                       f"median {np.median(held.z_std.mean(axis=1)):.3f})")
    st.markdown(spread)
    table = pd.DataFrame({"topic": np.arange(len(theta)), "label": labels, "θ": theta})
    st.dataframe(table.sort_values("θ", ascending=False), hide_index=True, width="stretch",
                 column_config={"θ": st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0)})


def _nearest(run, corpus, held, theta: np.ndarray) -> None:
    """The run's ten documents closest to the text's mixture, the first five with their text."""
    st.subheader("Nearest documents")
    st.caption("The run's documents whose topic mixture is closest (Jensen–Shannon distance between θs)"
               + (f", among a random sample of {len(held.rows):,} of its {held.n_docs:,}." if held.sampled else "."))
    rows, dist = documents.nearest_documents(theta, held.theta, n=10, metric="js")
    if corpus is None:
        st.dataframe(pd.DataFrame({"row": held.rows[rows], "distance": dist}), hide_index=True)
        return
    titles = common.titles(run, corpus, held)
    frame = documents.document_facts(held.docs, rows)
    frame.insert(0, "title", titles[rows])
    frame.insert(0, "distance", dist)
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"distance": st.column_config.NumberColumn(format="%.3f")})
    for r, d in zip(rows[:5], dist[:5]):
        with st.expander(f"{d:.3f} · {common.md_escape(titles[r])}"):
            common.show_text(held.docs["text"].iloc[r])


def page() -> None:
    """The Infer page: a pasted or uploaded text's topic mixture and its nearest documents."""
    run, corpus, labels = common.run_page(
        "infer", "Infer topics of a new text",
        lambda run: f"Run **{run.name}** ({run.model_name}, {run.n_topics} topics): the text is cleaned and "
                    "tokenized as the run's corpus was, and only words of its vocabulary count.")
    corpora_dir, _ = common.folders()
    text = _text()
    if not text or not text.strip():
        st.info("Paste or upload a text to see its topic mixture.")
        return
    result = _infer(common.run_key(run), str(corpora_dir), text, run)
    _counts(result)
    held = common.document_view(run, corpus)
    left, right = st.columns([1, 1], gap="large")
    with left:
        _mixture(run, held, labels, result)
    with right:
        _nearest(run, corpus, held, result["theta"])


common.render(page)
