"""Documents of one run: titles, filters, samples, θ entropy, nearest documents, inference of a pasted text."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from topicvae.errors import ConfigError
from topicvae.scoring.metrics import theta_entropy  # noqa: F401  (the dashboard reads it from here)
from topicvae.text.preprocess import HEADER_LINE

FACT_COLUMNS = ("id", "label", "split", "date")
#: the most documents an analysis of a large run reads: above it the dashboard's pages, the label metrics,
#: the representations' counts of the training documents and the dashboard's own NPMI take a seeded random
#: sample of this many (:func:`sample_rows`), and say so
SAMPLE_DOCS = 200_000
#: the most shards such a sample of a corpus's documents is drawn from (:func:`shard_sample`), so that
#: reading it reads at most this many shards and row groups, whatever the corpus's size
SAMPLE_SHARDS = 20


# ---------------------------------------------------------------------------- the documents a page holds
@dataclass
class DocumentView:
    """The documents the dashboard's document pages work with: all of a run's, or past ``SAMPLE_DOCS`` a seeded
    random sample of them, so that a page holds the θ rows and table rows of at most that many documents
    whatever the corpus's size. Positions 0..len(rows)-1 index ``theta`` and ``docs``; ``rows`` maps them
    to corpus rows."""

    rows: np.ndarray  # corpus rows, sorted
    n_docs: int  # documents in the run
    theta: np.ndarray  # (len(rows), K) θ of those rows
    docs: pd.DataFrame | None  # their document table (None when the run's corpus is missing or changed)
    z_std: np.ndarray | None = None  # (len(rows), L) posterior σ of those rows (VAE runs)

    @property
    def ids(self) -> np.ndarray:
        """The documents' ids as strings; their corpus row numbers when there is no id column or no table."""
        return document_ids(self.docs, self.rows)

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.n_docs

    def sample_note(self) -> str:
        """'' for a whole run, else a sentence saying the page shows a sample."""
        if not self.sampled:
            return ""
        return (f"This run has {self.n_docs:,} documents; this page works with a random sample of "
                f"{len(self.rows):,} of them.")


def document_view(run, corpus, max_docs: int | None = None, seed: int = 0) -> DocumentView:
    """The run's documents as the pages hold them (:class:`DocumentView`): θ read memory-mapped, and of a
    run above ``max_docs`` (default :data:`SAMPLE_DOCS`) only the sampled rows (:func:`shard_sample`) of θ,
    σ and the table."""
    from topicvae.runs import DOC_TOPIC_FILE, Z_STD_FILE, rows_of

    theta = run.array(DOC_TOPIC_FILE, mmap_mode="r")
    z_std = run.array(Z_STD_FILE, required=False, mmap_mode="r")
    n_docs = theta.shape[0]
    rows = view_rows(n_docs, corpus, max_docs, seed)
    sampled = len(rows) < n_docs

    def held(array):
        return None if array is None else rows_of(array, rows) if sampled else np.array(array)

    docs = None
    if corpus is not None:
        docs = corpus.table(rows) if sampled else corpus.docs
    return DocumentView(rows, n_docs, held(theta), docs, held(z_std))



# ---------------------------------------------------------------------------- titles
def first_line(text, width: int = 100) -> str:
    """The first non-blank line of ``text``, cut to ``width`` characters (with an ellipsis)."""
    if not isinstance(text, str):
        return ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= width else line[: width - 1].rstrip() + "…"
    return ""


def document_title(text, width: int = 100) -> str:
    """A short title: the Subject of a mail or news post that starts with headers, else its first line."""
    if not isinstance(text, str):
        return ""
    lines = text.lstrip("\n").splitlines()
    if lines and HEADER_LINE.match(lines[0]):
        for line in lines[:60]:
            if not line.strip():
                break
            m = HEADER_LINE.match(line)
            if m and m.group(1).lower() == "subject" and m.group(2).strip():
                return first_line(m.group(2), width)
    return first_line(text, width)


def document_titles(docs: pd.DataFrame) -> np.ndarray:
    """A title for every document: its ``title`` column where that is not blank, else :func:`document_title`."""
    if "title" in docs:
        titles = [t if isinstance(t, str) and t.strip() else document_title(x)
                  for t, x in zip(docs["title"], docs["text"])]
    else:
        titles = [document_title(x) for x in docs["text"]]
    return np.asarray(titles, dtype=object)


def document_facts(docs: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """id, label, split, date of the given rows (the columns that exist), renumbered from 0."""
    cols = [c for c in FACT_COLUMNS if c in docs]
    return docs.iloc[rows][cols].reset_index(drop=True)


def document_ids(docs: pd.DataFrame | None, rows: np.ndarray) -> np.ndarray:
    """The ids of the documents of ``docs`` (the table of corpus rows ``rows``) as strings; their row
    numbers when there is no id column or no table."""
    if docs is not None and "id" in docs:
        return docs["id"].astype(str).to_numpy()
    return np.asarray(rows).astype(str)


# ---------------------------------------------------------------------------- choosing documents
def filter_documents(docs: pd.DataFrame | None, doc_topic: np.ndarray, topics: Sequence[int] | None = None,
                     labels: Sequence[str] | None = None, splits: Sequence[str] | None = None,
                     query: str | None = None) -> np.ndarray:
    """Boolean mask of the documents whose dominant topic, label and split are among those
    given (None or empty: any) and whose text contains ``query`` (case-insensitive).

    With ``docs`` None (the run's corpus is gone) only the topic filter applies.
    """
    n = doc_topic.shape[0] if docs is None else len(docs)
    if doc_topic.shape[0] != n:
        raise ValueError(f"document table has {n} rows but θ has {doc_topic.shape[0]}")
    mask = np.ones(n, dtype=bool)
    if topics:
        mask &= np.isin(np.asarray(doc_topic).argmax(axis=1), np.asarray(list(topics), dtype=np.int64))
    if docs is None:
        return mask
    if labels and "label" in docs:
        mask &= docs["label"].astype(str).isin([str(x) for x in labels]).to_numpy()
    if splits and "split" in docs:
        mask &= docs["split"].astype(str).isin([str(x) for x in splits]).to_numpy()
    if query and query.strip() and "text" in docs:
        found = docs["text"].astype(str).str.contains(query.strip(), case=False, regex=False, na=False)
        mask &= found.to_numpy(dtype=bool)
    return mask


def sample_rows(rows: np.ndarray, max_points: int, seed: int = 0) -> np.ndarray:
    """At most ``max_points`` of ``rows``, a seeded random sample kept in row order."""
    rows = np.asarray(rows, dtype=np.int64)
    if max_points <= 0 or len(rows) <= max_points:
        return rows
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(rows, size=max_points, replace=False))


def view_rows(n_docs: int, corpus, max_docs: int | None = None, seed: int = 0) -> np.ndarray:
    """The corpus rows the pages of a run of ``n_docs`` documents hold (:func:`document_view`): all of
    them, or above ``max_docs`` (default :data:`SAMPLE_DOCS`) their :func:`shard_sample`."""
    return shard_sample(np.arange(n_docs), corpus, max_docs, seed)


def shard_sample(rows: np.ndarray, corpus, most: int | None = None, seed: int = 0) -> np.ndarray:
    """At most ``most`` (default :data:`SAMPLE_DOCS`) of a corpus's ``rows`` (sorted), a seeded random
    sample (:func:`sample_rows`) drawn from :data:`SAMPLE_SHARDS` of the shards that hold them, chosen at
    random too (more when those hold fewer than ``most`` of the rows): reading it reads that many shards
    (and table row groups) of a corpus of any size. All of ``rows`` when they are few; from every shard
    when they lie in few (or ``corpus`` is None)."""
    from topicvae.corpus.shards import shard_starts

    rows = np.asarray(rows, dtype=np.int64)
    most = SAMPLE_DOCS if most is None else most
    if len(rows) <= most:
        return rows
    if corpus is not None:
        shard_of = np.searchsorted(shard_starts(corpus.shards), rows, side="right") - 1
        held, counts = np.unique(shard_of, return_counts=True)
        order = np.random.default_rng(seed).permutation(len(held))
        enough = int(np.searchsorted(np.cumsum(counts[order]), most)) + 1  # shards that hold `most` rows
        chosen = held[order[:max(SAMPLE_SHARDS, enough)]]
        rows = rows[np.isin(shard_of, chosen)]
    return sample_rows(rows, most, seed)


def categories(docs: pd.DataFrame | None, doc_topic: np.ndarray, topic_names: Sequence[str],
               by: str = "dominant topic") -> tuple[np.ndarray, list[str]]:
    """(code per document, category names) to colour documents by ``label`` or by ``dominant topic``."""
    if by == "label" and docs is not None:
        codes, uniques = pd.factorize(docs["label"].fillna("(none)").astype(str), sort=True)
        return np.asarray(codes), [str(u) for u in uniques]
    return np.asarray(doc_topic).argmax(axis=1), list(topic_names)


def matching_table(docs: pd.DataFrame, rows: np.ndarray, titles: np.ndarray, doc_topic: np.ndarray,
                   labels: Sequence[str]) -> pd.DataFrame:
    """The rows as a table: id, title, label, split, date, their dominant topic's label and its θ."""
    dominant = np.asarray(doc_topic[rows]).argmax(axis=1)
    frame = document_facts(docs, rows)
    frame.insert(1, "title", [titles[r] for r in rows])
    frame["dominant topic"] = [labels[k] for k in dominant]
    frame["θ"] = np.asarray(doc_topic)[rows, dominant]
    return frame


# ---------------------------------------------------------------------------- neighbours, new texts
def nearest_documents(theta: np.ndarray, doc_topic: np.ndarray, n: int = 10,
                      metric: str = "js") -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` documents whose θ is closest to ``theta``.

    Args:
        theta: (K,) a topic mixture.
        doc_topic: (n_docs, K) the run's θ.
        n: how many.
        metric: ``js`` (Jensen–Shannon distance, base 2, in [0, 1]) or ``cosine`` (1 − cosine similarity).

    Returns:
        (row indices, distances), nearest first.
    """
    q = np.asarray(theta, dtype=np.float64).ravel()
    Q = np.asarray(doc_topic, dtype=np.float64)
    if Q.shape[1] != q.shape[0]:
        raise ValueError(f"theta has {q.shape[0]} topics but doc_topic has {Q.shape[1]}")
    if metric == "js":
        from topicvae.scoring.metrics import js_distance_matrix

        d = js_distance_matrix(q[None, :], np.clip(Q, 0.0, None) + 1e-300)[0]
    elif metric == "cosine":
        norms = np.linalg.norm(Q, axis=1) * max(np.linalg.norm(q), 1e-300)
        d = 1.0 - (Q @ q) / np.clip(norms, 1e-300, None)
    else:
        raise ConfigError(f"unknown distance {metric!r}; use 'js' or 'cosine'")
    n = min(n, len(d))
    idx = np.lexsort((np.arange(len(d)), d))[:n]
    return idx, d[idx]


def infer_text(run, text: str, corpora_dir: str | os.PathLike | None = None):
    """θ of one new text under ``run`` (:func:`topicvae.runs.inference.infer_texts`), for pasted text.

    Mail headers are stripped only when the text starts with them
    (:func:`topicvae.text.preprocess.strip_headers`), so a pasted paragraph keeps its words.

    Returns:
        :class:`topicvae.runs.inference.Inferred` for the single text.
    """
    from topicvae.runs.inference import infer_texts

    return infer_texts(run, [text], corpora_dir=corpora_dir)
