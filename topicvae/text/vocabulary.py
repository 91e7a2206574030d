"""Vocabulary and CSR bag-of-words from token lists (the counting steps of :mod:`topicvae.text.vectorizer`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from topicvae.errors import CorpusError
from topicvae.text.settings import VocabSettings


def count_matrix(docs: list[list[str]]) -> tuple[sp.csr_matrix, list[str]]:
    """Counts of every token type: (n_docs × n_types CSR of int32, types in column order)."""
    index: dict[str, int] = {}
    setdefault = index.setdefault
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    flat: list[int] = []
    for i, toks in enumerate(docs):
        flat.extend([setdefault(t, len(index)) for t in toks])
        indptr[i + 1] = len(flat)
    indices = np.asarray(flat, dtype=np.int32)
    data = np.ones(len(indices), dtype=np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(len(docs), len(index)))
    X.sum_duplicates()
    return X, list(index)


def count_ids(ids: list[np.ndarray], n_types: int) -> sp.csr_matrix:
    """Counts from per-document arrays of type ids: an (n_docs × n_types) int32 CSR."""
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in ids], out=indptr[1:])
    indices = np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32)
    X = sp.csr_matrix((np.ones(len(indices), dtype=np.int32), indices, indptr), shape=(len(ids), n_types))
    X.sum_duplicates()
    return X


def _df_bound(value: float, n_docs: int) -> float:
    """A df setting as a document count: a float ≤ 1 is a fraction, anything else a count."""
    return value * n_docs if isinstance(value, float) and value <= 1.0 else float(value)


@dataclass
class Vocabulary:
    """The chosen words and how many were cut by each filter."""

    words: list[str]
    columns: np.ndarray  # column of each word in the full type matrix
    cut: dict


def choose_vocabulary(X: sp.csr_matrix, types: list[str], fit_rows: np.ndarray,
                      settings: VocabSettings) -> Vocabulary:
    """Pick vocabulary columns by document frequency on ``fit_rows``; most frequent first.

    Raises :class:`CorpusError` naming the filter when no word survives.
    """
    Xf = X[fit_rows]
    df = np.bincount(Xf.indices, minlength=X.shape[1])
    tf = np.asarray(Xf.sum(axis=0)).ravel()
    return choose_by_frequencies(df, tf, types, Xf.shape[0], settings)


def choose_by_frequencies(df: np.ndarray, tf: np.ndarray, types: list[str], n_fit: int,
                          settings: VocabSettings) -> Vocabulary:
    """:func:`choose_vocabulary` from the document and token frequencies of every type over the
    ``n_fit`` documents that choose the words (``df[j]``, ``tf[j]`` of ``types[j]``), as a streamed
    ingest sums them partition by partition. The words and their order depend on these counts alone,
    not on the order of ``types``; ``columns`` index ``types``."""
    lo = _df_bound(settings.min_df, n_fit) if settings.min_df < 1 else settings.min_df
    hi = _df_bound(settings.max_df, n_fit)
    seen = df > 0
    ok_min = df >= lo
    ok_max = df <= hi
    keep = seen & ok_min & ok_max
    cut = {"types": int(seen.sum()), "below_min_df": int((seen & ~ok_min).sum()),
           "above_max_df": int((seen & ok_min & ~ok_max).sum()), "over_max_vocab": 0}
    if seen.sum() == 0:
        raise CorpusError("no tokens left after preprocessing: every document is empty once "
                          "stop words, short tokens and non-words are removed")
    if not keep.any():
        which = "--min-df" if not ok_min[seen].any() else "--max-df"
        raise CorpusError(
            f"the vocabulary is empty: no word passes {which} "
            f"(min_df={settings.min_df}, max_df={settings.max_df} over {n_fit} documents); loosen it"
        )
    cols = np.flatnonzero(keep)
    # most frequent first; ties broken by the word itself so the order is reproducible
    order = sorted(range(len(cols)), key=lambda k: (-tf[cols[k]], types[cols[k]]))
    cols = cols[order]
    if settings.max_vocab is not None and len(cols) > settings.max_vocab:
        cut["over_max_vocab"] = int(len(cols) - settings.max_vocab)
        cols = cols[: settings.max_vocab]
    return Vocabulary(words=[types[c] for c in cols], columns=cols, cut=cut)


def transform_tokens(docs: list[list[str]], vocab: list[str]) -> tuple[sp.csr_matrix, int]:
    """Count matrix of ``docs`` over a fixed vocabulary; also the number of tokens outside it."""
    index = {w: j for j, w in enumerate(vocab)}
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    flat: list[int] = []
    total = 0
    for i, toks in enumerate(docs):
        total += len(toks)
        flat.extend([index[t] for t in toks if t in index])
        indptr[i + 1] = len(flat)
    indices = np.asarray(flat, dtype=np.int32)
    X = sp.csr_matrix((np.ones(len(indices), dtype=np.int32), indices, indptr), shape=(len(docs), len(vocab)))
    X.sum_duplicates()
    return X, total - len(flat)


# ---------------------------------------------------------------------------- a partition of a streamed ingest
def partition_counts(result: dict) -> sp.csr_matrix:
    """A partition's (n_docs, n_types) counts from :func:`tokenize_partition`'s result."""
    n = len(result["types"])
    if "counts" in result:
        indptr, indices, data = result["counts"]
        return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n))
    offsets, ids = result["offsets"], result["ids"]
    return count_ids([ids[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)], n)


def partition_token_lists(result: dict) -> list[list[str]]:
    """A partition's documents as token lists, from :func:`~topicvae.text.tokenize.tokenize_partition`'s
    result with ``sequences``."""
    types, offsets, ids = result["types"], result["offsets"], result["ids"]
    return [[types[j] for j in ids[offsets[i]:offsets[i + 1]]] for i in range(len(offsets) - 1)]


def over_vocabulary(X: sp.csr_matrix, types: list[str], column: dict[str, int], n_words: int,
                    sort: bool = True) -> sp.csr_matrix:
    """A partition's counts over its own types, as counts over the vocabulary (other types dropped).

    Each type has one column or none, so no row gets a column twice: the kept entries are the new CSR
    as they stand, but for the order of each row's columns, which two transpositions (counting sorts,
    linear in the entries) put right, faster than sorting each row; with ``sort`` False they are left
    as they come (a valid CSR all the same, for a caller that sorts them later)."""
    col_of_type = np.fromiter((column.get(t, -1) for t in types), dtype=np.int64, count=len(types))
    cols = col_of_type[X.indices]
    inside = cols >= 0
    indptr = np.concatenate(([0], np.cumsum(inside)))[X.indptr]  # kept entries before each row
    Y = sp.csr_matrix((X.data[inside], cols[inside].astype(X.indices.dtype), indptr), shape=(X.shape[0], n_words))
    return Y.tocsc().tocsr() if sort else Y
