"""Export document vectors and topic tables to CSV or Parquet, streaming in chunks.

Memory stays flat for big corpora: θ (and μ, σ) are read as memory-mapped ``.npy``
arrays and the document table in Parquet record batches; each chunk is written and
dropped. Files are written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from topicvae import paths
from topicvae.paths import check_output_path
from topicvae.runs.inference import SKIP_COLUMNS, document_frame
from topicvae.scoring.representation import DEFAULT

logger = logging.getLogger(__name__)

def export_documents(docs_path: str | Path, theta: np.ndarray, out: str | Path, topic_labels: Sequence[str],
                     z_mean: np.ndarray | None = None, z_std: np.ndarray | None = None,
                     chunk_size: int = 20000, check: bool = True) -> int:
    """Write one row per document to ``out`` (``.parquet`` by suffix, CSV otherwise).

    Args:
        docs_path: the corpus ``docs.parquet`` (rows align with ``theta``).
        theta: (n_docs, K) array, typically ``np.load(..., mmap_mode="r")``.
        out: output file; its folder must exist.
        topic_labels: K topic names.
        z_mean, z_std: optional (n_docs, L) arrays for the uncertainty columns.
        check: check ``out`` first (:func:`topicvae.paths.check_output_path`); False: the caller did.

    Returns:
        The number of rows written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = check_output_path(out, {docs_path: "the document table it reads"}) if check else Path(out)
    parquet = paths.table_format(out) == "parquet"
    source = pq.ParquetFile(docs_path)
    if source.metadata.num_rows != theta.shape[0]:
        raise ValueError(f"document table has {source.metadata.num_rows} rows but θ has {theta.shape[0]}")
    from topicvae.runs import forget_pages

    columns = [c for c in source.schema_arrow.names if c not in SKIP_COLUMNS]
    written, writer = 0, None
    with paths.atomic_file(out) as tmp:
        try:
            for batch in source.iter_batches(batch_size=chunk_size, columns=columns):
                docs = batch.to_pandas()
                rows = slice(written, written + len(docs))
                frame = document_frame(docs, theta[rows], topic_labels, None if z_mean is None else z_mean[rows],
                                       None if z_std is None else z_std[rows])
                if parquet:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
                else:
                    frame.to_csv(tmp, mode="a", header=written == 0, index=False)
                written += len(docs)
                for array in (theta, z_mean, z_std):
                    forget_pages(array)
                logger.info("%d documents written to %s", written, out)
        finally:
            if writer is not None:
                writer.close()
        if written == 0:
            document_frame(pd.DataFrame(columns=columns), np.zeros((0, len(topic_labels))), topic_labels).to_csv(
                tmp, index=False)
    return written


def write_table(frame: pd.DataFrame, out: str | Path, check: bool = True) -> Path:
    """Write a whole table to CSV or Parquet (by suffix) atomically; return the path. ``check``: check
    ``out`` first (:func:`topicvae.paths.check_output_path`); False: the caller did, with what it must keep off."""
    out = check_output_path(out) if check else Path(out)
    with paths.atomic_file(out) as tmp:
        if paths.table_format(out) == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
    return out


def export_topics(topics: pd.DataFrame, out: str | Path, check: bool = True) -> Path:
    """Write a topic table (:func:`topicvae.analysis.topics.labelled_topics`) to CSV or Parquet, atomically
    (``check``: as :func:`write_table`'s)."""
    return write_table(topics, out, check)


def export_run(run, out: str | Path, corpora_dir: str | Path | None = None, with_uncertainty: bool = False,
               topics_out: str | Path | None = None, representation: str = DEFAULT) -> int:
    """Write a run's document vectors to ``out`` (and its labelled topic table to ``topics_out``).

    Args:
        run: a :class:`topicvae.runs.Run`; its corpus must still be there, unchanged.
        with_uncertainty: add the posterior mean and sd of z and θ's entropy (VAE runs).
        representation: how the topic table ranks each topic's words (:mod:`topicvae.scoring.representation`);
            the weight column is the model's own p(word | topic) either way.

    Returns:
        The number of documents written.

    Raises:
        ConfigError: an output that cannot or must not be written (:func:`topicvae.paths.check_output_path`:
            in the corpora or runs folder, ``out`` and ``topics_out`` the same file, not a regular file);
            ``with_uncertainty`` for a run without a posterior.
        RunError: the run or its corpus is damaged, gone or changed.
    """
    from topicvae.analysis.topics import labelled_topics
    from topicvae.corpus import DOCS_FILE
    from topicvae.runs import DOC_TOPIC_FILE, Z_MEAN_FILE, Z_STD_FILE
    from topicvae.runs.labels import topic_labels
    from topicvae.runs.workspace import run_corpus

    # checked once, here, before anything is read
    keep_off = paths.workspace_folders(corpora_dir, run.path.parent)
    if isinstance(run.config.get("corpus"), str):  # (where a linked corpus folder leads, too)
        keep_off[paths.corpora_dir(corpora_dir) / run.config["corpus"] / DOCS_FILE] = "the document table it reads"
    out = check_output_path(out, keep_off)
    paths.table_format(out)
    if topics_out:
        topics_out = check_output_path(topics_out, {**keep_off, out: "the --out file"})
        paths.table_format(topics_out)
    if with_uncertainty:
        run.require_posterior("export")
    corpus = run_corpus(run, corpora_dir)
    corpus_path = corpus.path
    theta = run.array(DOC_TOPIC_FILE, mmap_mode="r")
    mu = run.array(Z_MEAN_FILE, mmap_mode="r") if with_uncertainty else None
    sigma = run.array(Z_STD_FILE, mmap_mode="r") if with_uncertainty else None
    labels = topic_labels(run)
    t0 = time.perf_counter()
    n = export_documents(corpus_path / DOCS_FILE, theta, out, labels, mu, sigma, check=False)
    logger.info("run %s: %d documents written to %s in %.1fs", run.name, n, out, time.perf_counter() - t0)
    if topics_out:
        export_topics(labelled_topics(run, labels, corpus=corpus, representation=representation), topics_out,
                      check=False)
        logger.info("run %s: topic table (%s) written to %s", run.name, representation, topics_out)
    return n
