"""Downloads: the document-vector CSV and the topic table of the selected run (the same files as `topicvae export`)."""

import tempfile
from pathlib import Path

import streamlit as st

from topicvae.analysis import command_lines, documents, topics
from topicvae.analysis.export import export_documents
from topicvae.corpus import DOCS_FILE
from topicvae.interfaces.app import common
from topicvae.runs import DOC_TOPIC_FILE, Z_MEAN_FILE, Z_STD_FILE
from topicvae.scoring import representation as representations


def documents_csv(run, corpus, labels: list[str]) -> bytes:
    """The document-vector CSV, made by the export module (streamed in chunks to a temporary file) from
    the run's arrays as the page read and checked them."""
    with tempfile.TemporaryDirectory(prefix="topicvae-download-") as tmp:
        out = Path(tmp) / "documents.csv"
        export_documents(Path(corpus.path) / DOCS_FILE, run.array(DOC_TOPIC_FILE, mmap_mode="r"), out, labels,
                         z_mean=run.array(Z_MEAN_FILE, required=False, mmap_mode="r"),
                         z_std=run.array(Z_STD_FILE, required=False, mmap_mode="r"))
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
    if (run.path / Z_MEAN_FILE).is_file():
        columns += ", `mu_*` and `sigma_*` (posterior mean and standard deviation), `theta_entropy`"
    n_docs = run.array(DOC_TOPIC_FILE, mmap_mode="r").shape[0]
    st.markdown(f"One row per document ({n_docs:,} rows): {columns}.")
    if corpus is None:
        st.info("The document table needs the run's corpus (ids, labels, splits), which is missing or changed.")
    elif n_docs > documents.SAMPLE_DOCS:
        st.info(f"{n_docs:,} documents are more than a browser download should hold; write the file with "
                f"`{command_lines.export_command(run.name)}` (streamed, in chunks).")
    else:
        st.download_button("Download documents CSV", data=lambda: documents_csv(run, corpus, labels),
                           file_name=f"{run.name}-documents.csv", mime="text/csv", icon=":material/download:",
                           key="download_documents")

    st.subheader("Topic table")
    common.representation_picker()
    method = common.representation(corpus)
    view = common.topic_view(run, corpus)
    coherence, source = common.coherence(run, corpus)
    table = topics.labelled_topics(run, labels, view.prevalence, coherence, corpus=corpus, representation=method,
                                   word_ids=common.top_word_ids(run, common.RANKED_WORDS, corpus))
    st.markdown(f"The first {int(table['rank'].max())} words of each topic by {representations.describe(method)}, "
                f"with their weight p(w|k) (the model's own), the topic's label, prevalence and coherence ({source}).")
    st.download_button("Download topic table CSV", data=table.to_csv(index=False).encode("utf-8"),
                       file_name=f"{run.name}-topics.csv", mime="text/csv", icon=":material/download:",
                       key="download_topics")
    st.dataframe(table.head(60), hide_index=True, width="stretch", height=300)


common.render(page)
