"""How ProdLDA's topics start: word embeddings from the corpus's own co-occurrence, and clusters of them.

With embeddings, ProdLDA's decoder is β = ρ T (:class:`.networks.ProdLDANet`), ρ fixed word
embeddings and T learned topic embeddings. :func:`ppmi_embeddings` makes ρ from the documents
themselves: the positive pointwise mutual information of document co-occurrence
(:func:`ppmi_matrix`, :func:`ppmi_of_counts`) factorised by a truncated SVD
(:func:`ppmi_factors`), so that words close in ρ occur in the same documents, which is what
NPMI rewards. :func:`embedding_clusters` cuts ρ into K balanced clusters of co-occurring
words, where the topic embeddings T start (``topic_init="clusters"``).

Shapes: V words, W embedded words, K topics, d embedding dimensions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp
import torch

from topicvae.corpus.rows import as_row_source
from topicvae.models.vae.statistics import DENSE_LIMIT, Cooccurrence, count_cooccurrence, sample_rows
from topicvae.models.vae.transport import sinkhorn_plan


#: context distribution smoothing of the PPMI embeddings (Levy, Goldberg & Dagan 2015): each context
#: word's probability is taken as its document frequency to this power, renormalised
PPMI_CONTEXT_SMOOTHING = 0.75
#: the most documents whose co-occurrence the word embeddings count (a seeded sample above it)
PPMI_MAX_DOCS = 100_000


def ppmi_embeddings(X, dim: int, seed: int = 0, dense_limit: int = DENSE_LIMIT,
                    max_docs: int = PPMI_MAX_DOCS, rows: np.ndarray | None = None,
                    words: np.ndarray | None = None,
                    context_smoothing: float = PPMI_CONTEXT_SMOOTHING,
                    combine: Callable[[Cooccurrence], Cooccurrence] | None = None) -> np.ndarray:
    """Word embeddings from the documents' own co-occurrence: float32 (V, d), rows of unit length.

    The positive pointwise mutual information of document co-occurrence,
    ``PPMI(w, v) = max(0, log(D(w, v) / (D(w)·P_a(v))))`` with D counting the documents
    that contain the word(s) (diagonal left out) and ``P_a(v) = D(v)^a / Σ_u D(u)^a · Σ_u D(u) / |D|``
    the context word's document share smoothed with ``a = context_smoothing`` (a = 1 is plain
    PMI, ``D(v) / |D|``). Below 1 it raises the share of rare context words, so that meeting one
    of them once no longer counts as a strong association: plain PMI is biased towards rare
    words (Levy, Goldberg & Dagan 2015), and topics grown from such embeddings list words that
    co-occur in a handful of training documents only. Factorised by a truncated SVD:
    ``E = U_d · S_d^½`` (Levy & Goldberg 2014: the matrix that skip-gram word2vec
    factorises implicitly, here with the whole document as the window). Words close in E
    occur in the same documents, which is what NPMI rewards. A word that co-occurs with
    nothing more often than chance gets a zero row. ``d`` is capped at V − 1.

    ``X``: a csr_matrix, or a row source (:mod:`topicvae.corpus.rows`, e.g. a corpus's shards on disk) read in
    one pass, a shard at a time (:func:`.statistics.count_cooccurrence`). The V × V matrix is
    dense float32 (4·V² bytes: 16 MB for 2,000 words, 400 MB for 10,000) up to ``dense_limit``
    words and sparse above (only positive entries stored).
    The SVD is exact up to 1,000 words, above it scikit-learn's randomized SVD (seeded, four
    power iterations: fewer approximate the leading singular vectors less closely, which cost
    the topics coherence; docs/model-defaults.md). Above ``max_docs`` documents the counts come
    from a seeded random sample of that many, so the cost stops growing with the corpus.
    ``rows``: the documents of X to count (sorted; None: all). ``words``: the columns of X to
    embed (sorted; None: all); the other words get zero rows, and ``d`` is capped by the number
    of embedded words. ``combine``: what the counts become before they are factorised (data-parallel:
    the sum over the processes' shares, :func:`.distributed.summed_cooccurrence`).
    """
    source = as_row_source(X)
    n_all = source.shape[1]
    rows = np.arange(source.shape[0]) if rows is None else np.asarray(rows)
    embedded = words if words is not None and len(words) < n_all else None
    co = count_cooccurrence(source.blocks(sample_rows(rows, max_docs, seed)), n_all, embedded, dense_limit)
    if combine is not None:
        co = combine(co)
    emb = ppmi_factors(ppmi_of_counts(co, context_smoothing), dim, seed)
    if embedded is None:
        return emb
    full = np.zeros((n_all, dim), np.float32)
    full[embedded, :emb.shape[1]] = emb
    return full


def ppmi_factors(ppmi: np.ndarray | sp.csr_matrix, dim: int, seed: int = 0) -> np.ndarray:
    """The unit rows of ``U_d · S_d^½`` of the truncated SVD of a PPMI matrix (W × W): float32 (W, d),
    d capped at W − 1; exact up to 1,000 words, randomized (seeded) above."""
    n_words = ppmi.shape[0]
    dim = int(min(dim, n_words - 1))
    if n_words <= 1000:
        dense = ppmi.toarray() if sp.issparse(ppmi) else ppmi
        u, s, _ = np.linalg.svd(dense.astype(np.float64))
        u, s = u[:, :dim], s[:dim]
    else:
        from sklearn.utils.extmath import randomized_svd

        u, s, _ = randomized_svd(ppmi, dim, n_iter=4, random_state=seed)
    emb = u * np.sqrt(np.maximum(s, 0.0))
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return (emb / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def ppmi_matrix(X: sp.csr_matrix, context_smoothing: float = PPMI_CONTEXT_SMOOTHING,
                dense_limit: int = DENSE_LIMIT) -> np.ndarray | sp.csr_matrix:
    """The PPMI of document co-occurrence of X's columns (:func:`ppmi_embeddings` defines it): (V, V)
    float32, row w and column v for the word and its context word; dense up to ``dense_limit`` words,
    else sparse (its positive entries)."""
    X = sp.csr_matrix(X)
    return ppmi_of_counts(count_cooccurrence([(X, None)], X.shape[1], dense_limit=dense_limit), context_smoothing)


def ppmi_of_counts(co: Cooccurrence, context_smoothing: float = PPMI_CONTEXT_SMOOTHING) -> np.ndarray | sp.csr_matrix:
    """The PPMI (:func:`ppmi_embeddings`) of counted co-occurrence, dense or sparse as the counts are
    (a dense array of counts is turned into the PPMI in place)."""
    df = co.doc_freq
    inv_df = np.divide(1.0, df, out=np.zeros_like(df), where=df > 0)
    share = df.astype(np.float64) ** context_smoothing  # P_a(v), with the total of the plain shares
    share *= df.sum(dtype=np.float64) / (co.n_docs * share.sum())
    inv_share = np.divide(1.0, share, out=np.zeros_like(share), where=share > 0).astype(np.float32)
    if not sp.issparse(co.counts):
        ppmi = co.counts
        ppmi *= inv_df[:, None]
        ppmi *= inv_share[None, :]
        with np.errstate(divide="ignore"):
            np.log(ppmi, out=ppmi)  # −inf where two words never meet
        np.fill_diagonal(ppmi, 0.0)
        np.maximum(ppmi, 0.0, out=ppmi)
        return ppmi
    counts = co.counts.tocoo()
    off = counts.row != counts.col
    wi, wj = counts.row[off], counts.col[off]
    pmi = np.log(counts.data[off] * inv_df[wi] * inv_share[wj])
    keep = pmi > 0
    n_words = len(df)
    return sp.csr_matrix((pmi[keep], (wi[keep], wj[keep])), shape=(n_words, n_words))


def embedding_clusters(emb: np.ndarray, mass: np.ndarray, n_topics: int, seed: int = 0,
                       rounds: int = 20, eps: float = 0.1) -> np.ndarray:
    """K balanced clusters of the word embeddings: float32 (K, d) unit-length centroids.

    Spherical k-means (scikit-learn's, on the unit rows of ``emb`` weighted by ``mass``,
    seeded) followed by ``rounds`` of balanced reassignment: the words' mass goes to the
    centroids by the entropic optimal-transport plan that gives every cluster an equal
    share (:func:`sinkhorn_plan`, the same assignment the ``diversity`` term trains
    towards) and each centroid moves to the mean of what it received. Words that occur in
    the same documents have close embeddings, so each cluster is a group of co-occurring
    words: a topic to start from. Only rows with positive mass take part. k-means runs on one
    thread: its sums over threads would otherwise make the clusters depend on the core count.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    keep = np.flatnonzero(mass > 0)
    E = emb[keep].astype(np.float64)
    E /= np.linalg.norm(E, axis=1, keepdims=True).clip(1e-12)
    w = mass[keep].astype(np.float64)
    with threadpool_limits(1):
        centres = KMeans(n_topics, n_init=4, random_state=seed).fit(E, sample_weight=w).cluster_centers_
    centres /= np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-12)
    w_t = torch.from_numpy(w)
    for _ in range(rounds):
        sim = E @ centres.T
        plan = sinkhorn_plan(torch.from_numpy(-sim / max(sim.std(), 1e-12)), eps, 50, w_t).numpy()
        centres = plan.T @ E
        centres /= np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-12)
    return centres.astype(np.float32)
