"""The counts of the training documents that set up a VAE's network, computed in passes over shards.

Before its first step a network needs what the training documents say as a whole: each word's
document frequency and count (the topic vocabulary, the decoder's starting bias, the transport's
word mass), the number of documents and their mean length (the automatic number of epochs and
embedding size), and the document co-occurrence of the topic vocabulary (the PPMI word
embeddings). A corpus larger than memory is never one matrix, so each count is written once, to
consume *blocks*: ``(shard, rows of it to count or None for all)`` pairs, one shard held at a
time (a row source's ``blocks(rows)``, :mod:`topicvae.corpus.rows`). A csr_matrix in memory is one block, so
training on a matrix computes the same counts by the same code; the counts are sums of whole
numbers, so a matrix cut into shards gives them bitwise the same as the matrix whole.

- :func:`count_documents`: one pass, :class:`DocumentCounts` (document frequencies, word counts,
  documents, tokens);
- :func:`count_cooccurrence`: one pass over (a sample of) the documents, :class:`Cooccurrence`
  of some words: a W × W sum, at most the topic vocabulary's ~2,500² (dense up to a limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import scipy.sparse as sp

#: (shard, the rows of it to count, sorted; None: all) pairs, read one after another
Blocks = Iterable[tuple[sp.csr_matrix, "np.ndarray | None"]]


@dataclass(frozen=True)
class DocumentCounts:
    """What one pass over the training documents counts.

    Attributes:
        n_docs: documents counted.
        n_tokens: their tokens (the sum of their counts).
        doc_freq: float64 (V,), the documents holding each word.
        word_count: float64 (V,), each word's count over them.
    """

    n_docs: int
    n_tokens: float
    doc_freq: np.ndarray
    word_count: np.ndarray

    @property
    def mean_length(self) -> float:
        """Tokens per document (0 without documents)."""
        return self.n_tokens / self.n_docs if self.n_docs else 0.0


def _row_weight(X: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """A 0/1 weight per row of X, 1 for ``rows``: counts over those rows without copying them out."""
    weight = np.zeros(X.shape[0])
    weight[rows] = 1.0
    return weight


def _document_frequencies(X: sp.csr_matrix, rows: np.ndarray | None) -> np.ndarray:
    present = (X.data > 0).astype(np.float64)
    if rows is not None:
        present *= np.repeat(_row_weight(X, rows), np.diff(X.indptr))
    return np.bincount(X.indices, weights=present, minlength=X.shape[1])


def _word_counts(X: sp.csr_matrix, rows: np.ndarray | None) -> np.ndarray:
    if rows is None:
        return np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
    return np.asarray(X.T @ _row_weight(X, rows), dtype=np.float64).ravel()


def _tokens(X: sp.csr_matrix, rows: np.ndarray | None) -> float:
    lengths = np.asarray(X.sum(axis=1)).ravel()
    return float((lengths if rows is None else lengths[rows]).sum(dtype=np.float64))


def count_documents(blocks: Blocks, n_words: int) -> DocumentCounts:
    """Document frequencies, word counts, documents and tokens of the blocks' rows (one pass)."""
    n_docs, n_tokens = 0, 0.0
    doc_freq, word_count = np.zeros(n_words), np.zeros(n_words)
    for X, rows in blocks:
        X = sp.csr_matrix(X)
        n_docs += X.shape[0] if rows is None else len(rows)
        n_tokens += _tokens(X, rows)
        doc_freq += _document_frequencies(X, rows)
        word_count += _word_counts(X, rows)
    return DocumentCounts(n_docs=n_docs, n_tokens=n_tokens, doc_freq=doc_freq, word_count=word_count)


@dataclass(frozen=True)
class Cooccurrence:
    """Document co-occurrence of W words.

    Attributes:
        counts: (W, W) float32, the documents holding both words (the diagonal: each word's);
            a dense array, or csr above the dense limit.
        doc_freq: float32 (W,), the documents holding each word.
        n_docs: documents counted.
    """

    counts: np.ndarray | sp.csr_matrix
    doc_freq: np.ndarray
    n_docs: int


#: the most words whose co-occurrence is counted in a dense W × W array (4·W² bytes: 400 MB at 10,000)
DENSE_LIMIT = 10_000


def _presence(X: sp.csr_matrix, rows: np.ndarray | None, words: np.ndarray | None) -> sp.csr_matrix:
    """float32 0/1 of which of ``words`` (None: all) each of the ``rows`` of X holds."""
    X = sp.csr_matrix(X)
    if rows is not None:
        X = X[rows]
    if words is not None:
        X = X[:, words]
    return (X > 0).astype(np.float32)


def _add_dense_products(co: np.ndarray, B: sp.csr_matrix) -> None:
    """co += Bᵀ B, a block of columns at a time, so that the sparse product never exists whole."""
    n_words = B.shape[1]
    Bt, Bc = B.T.tocsr(), B.tocsc()
    step = max(1, (4 << 20) // max(n_words, 1))  # columns per block: the sparse product of one block
    for lo in range(0, n_words, step):            # stays small next to the dense matrix itself
        co[:, lo:lo + step] += (Bt @ Bc[:, lo:lo + step]).toarray()


def count_cooccurrence(blocks: Blocks, n_words: int, words: np.ndarray | None = None,
                       dense_limit: int = DENSE_LIMIT) -> Cooccurrence:
    """The co-occurrence of ``words`` (sorted columns; None: all ``n_words``) in the blocks' rows (one
    pass): dense when they are at most ``dense_limit``, else sparse."""
    n = n_words if words is None else len(words)
    dense = n <= dense_limit
    co = np.zeros((n, n), dtype=np.float32) if dense else None
    doc_freq, n_docs = np.zeros(n, dtype=np.float32), 0
    for X, rows in blocks:
        B = _presence(X, rows, words)
        n_docs += B.shape[0]
        doc_freq += np.asarray(B.sum(axis=0), dtype=np.float32).ravel()
        if dense:
            _add_dense_products(co, B)
        else:
            product = (B.T @ B).tocsr()
            co = product if co is None else co + product
    if co is None:
        co = sp.csr_matrix((n, n), dtype=np.float32)
    return Cooccurrence(counts=co, doc_freq=doc_freq, n_docs=n_docs)


def sample_rows(rows: np.ndarray, max_docs: int, seed: int) -> np.ndarray:
    """``rows`` (sorted), or above ``max_docs`` of them a seeded random sample of that many (sorted)."""
    if len(rows) <= max_docs:
        return rows
    return rows[np.sort(np.random.default_rng(seed).choice(len(rows), max_docs, replace=False))]


@dataclass(frozen=True)
class TrainingDocuments:
    """The documents a network is set up from: a row source (:mod:`topicvae.corpus.rows`), the rows of it that
    train (sorted; None: all) and their :class:`DocumentCounts`; ``validation``: the rows held out, taken
    in the same pass (None when none were asked for). ``shared``: they are one data-parallel process's
    share (:func:`.distributed.share_of`), and ``counts`` (like every count taken from them) are summed
    over the processes."""

    source: object
    rows: np.ndarray | None
    counts: DocumentCounts
    validation: sp.csr_matrix | None = None
    shared: bool = False


def training_documents(X, rows: np.ndarray | None = None, validation: np.ndarray | None = None) -> TrainingDocuments:
    """``X`` (a csr_matrix or a row source)'s ``rows`` (sorted; None: all), counted in one pass; the
    ``validation`` rows (sorted, none of ``rows``; None: none) are taken out in the same pass, the
    matrix ``source.take(validation)`` (on shards on disk: each shard is read once, not twice)."""
    from topicvae.corpus.rows import as_row_source, stack

    source = as_row_source(X)
    if validation is None:
        return TrainingDocuments(source=source, rows=rows, counts=count_documents(source.blocks(rows), source.shape[1]))
    kept: list[sp.csr_matrix] = []

    def counted() -> Blocks:
        for shard, local, part in source.blocks_keeping(rows, validation):
            if part is not None:
                kept.append(part)
            if local is None or len(local):  # (a shard of validation rows alone has none to count)
                yield shard, local

    counts = count_documents(counted(), source.shape[1])
    return TrainingDocuments(source=source, rows=rows, counts=counts, validation=stack(kept, source.shape[1]))
