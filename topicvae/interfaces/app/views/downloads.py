"""Downloads: the document-vector CSV and the topic table of the selected run (the same files as `topicvae export`)."""

import tempfile
from pathlib import Path

import streamlit as st

from topicvae.analysis import topics
from topicvae.analysis.export import export_documents
from topicvae.corpus import DOCS_FILE
from topicvae.interfaces.app import common
from topicvae.scoring import representation as representations


def documents_csv(run, corpus, labels: list[str]) -> bytes:
    """The document-vector CSV, made by the export module (streamed in chunks to a temporary file) from
    the run's arrays as the page read and checked them."""
    with tempfile.TemporaryDirectory(prefix="topicvae-download-") as tmp:
        out = Path(tmp) / "documents.csv"
        export_documents(Path(corpus.path) / DOCS_FILE, run.doc_topic, out, labels,
                         z_mean=run.z_mean, z_std=run.z_std)
        return out.read_bytes()


def page() -> None:
    """The Downloads page: the document-vector CSV and the topic table."""
    run, corpus, labels = common.run_page(
        "downloads", "Downloads",
        lambda run: f"Run **{run.name}**. Topic labels edited on the Topics page are used in both files.")

    st.subheader("Document vectors")
    K = run.n_topics
    columns = f"`id`, `label`, `date`, `split`, metadata columns, `dominant_topic`, `dominant_topic_label`, " \
              f"`theta_0` … `theta_{K - 1}`"
    if run.z_mean is not None:
        columns += ", `mu_*` and `sigma_*` (posterior mean and standard deviation), `theta_entropy`"
    st.markdown(f"One row per document ({run.doc_topic.shape[0]:,} rows): {columns}.")
    if corpus is None:
        st.info("The document table needs the run's corpus (ids, labels, splits), which is missing or changed.")
    else:
        st.download_button("Download documents CSV", data=lambda: documents_csv(run, corpus, labels),
                           file_name=f"{run.name}-documents.csv", mime="text/csv", icon=":material/download:",
                           key="download_documents")

    st.subheader("Topic table")
    common.representation_picker()
    method = common.representation(corpus)
    view = common.topic_view(run, corpus)
    coherence, source = common.coherence(run, corpus)
    table = topics.labelled_topics(run, labels, view.prevalence, coherence, corpus=corpus, representation=method)
    st.markdown(f"The first {int(table['rank'].max())} words of each topic by {representations.describe(method)}, "
                f"with their weight p(w|k) (the model's own), the topic's label, prevalence and coherence ({source}).")
    st.download_button("Download topic table CSV", data=table.to_csv(index=False).encode("utf-8"),
                       file_name=f"{run.name}-topics.csv", mime="text/csv", icon=":material/download:",
                       key="download_topics")
    st.dataframe(table.head(60), hide_index=True, width="stretch", height=300)


common.render(page)
