"""Topic representations: the order in which each topic's words are listed, never the topics themselves.

A topic model's topics are a (K, V) matrix ``topic_word`` (row k: topic k's weights over the V
words, larger = more probable). A representation ranks each row's words for display and evaluation
and leaves the matrix untouched, so every model (our VAEs, gensim LDA, tomotopy) is read through the
same functions and compared like with like:

- ``probability``: the model's own order, most probable first.
- ``relevance``: LDAvis relevance (Sievert & Shirley 2014), λ = :data:`RELEVANCE_LAMBDA`.
- ``frex``: FREX, the harmonic mean of frequency and exclusivity (Airoldi & Bischof 2016; STM's
  ``labelTopics``), weight :data:`FREX_WEIGHT` on exclusivity.
- ``lead_words``: lead words chosen among the topic's most probable for their co-occurrence in the
  training documents (:func:`coherent_leads`), then the topic's other words.

Use :func:`top_words`; :func:`methods`, :func:`describe`, :func:`needs_documents` and
:func:`check_method` are for CLIs and tables.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import scipy.sparse as sp

from topicvae.errors import ConfigError

#: the representation :func:`top_words` uses unless told: chosen on validation documents carved from
#: the training split, where it gave both ProdLDA's and tomotopy's topics the highest held-out NPMI
#: (docs/quality.md, "Choosing the default representation")
DEFAULT: str = "lead_words"
#: LDAvis relevance λ (Sievert & Shirley 2014: λ ≈ 0.6 in their user study)
RELEVANCE_LAMBDA = 0.6
#: FREX weight on exclusivity (Airoldi & Bischof 2016; STM's labelTopics default)
FREX_WEIGHT = 0.5
#: c of the lead words' choice: how much their co-occurrence weighs against their probability (chosen on
#: validation documents, with the three below kept: benchmarks/lead_words_constants.py, docs/quality.md)
LEAD_COHERENCE = 10.0
#: the lead words picked per topic
N_LEAD = 10
#: of how many of the topic's most probable words they are picked
POOL = 60
#: the reference corpus, as a share of the training documents, whose co-occurrence E expects
REFERENCE_SHARE = 0.25
#: how much lower (in standard deviations of the pool's log weights) a word scores for each topic
#: it already leads
SHARED_PENALTY = 1.0
#: the floor of a weight before its logarithm
_FLOOR = 1e-300


# ---------------------------------------------------------------------------- public API

def top_words(topic_word, X_train=None, method: str = DEFAULT, n: int = 10) -> np.ndarray:
    """(K, n) int64 word ids, each topic's words in the representation's order, best first.

    ``topic_word``: any (K, V) array-like of non-negative weights (rows need not sum to 1); it is
    read through a float64 copy and never changed. ``X_train``: the training documents (csr counts
    with the same V columns, or a row source over them, :meth:`topicvae.corpus.Corpus.rows`, read a
    shard at a time to the same result), required by ``lead_words``, used by ``relevance`` for the words'
    frequencies, ignored by the others. ``n`` above V is capped at V.
    """
    spec = _METHODS[check_method(method)]
    phi = _as_weights(topic_word)
    X = _as_documents(X_train, phi.shape[1])
    if spec.needs_documents and X is None:
        raise ConfigError(f"the {method} representation needs the training documents")
    return spec.rank(phi, X, _capped(n, phi.shape[1])).astype(np.int64, copy=False)


def methods() -> list[str]:
    """The representations' names, in a stable order (the default one among them)."""
    return list(_METHODS)


def describe(method: str) -> str:
    """One line naming ``method`` and its setting, for CLIs and tables."""
    return _METHODS[check_method(method)].describe()


def needs_documents(method: str) -> bool:
    """Whether ``method`` needs the training documents (``X_train`` of :func:`top_words`)."""
    return _METHODS[check_method(method)].needs_documents


def check_method(method: str) -> str:
    """``method`` if it names a representation; otherwise a :class:`ConfigError` listing them."""
    if method not in _METHODS:
        raise ConfigError(f"unknown representation {method!r}; choose from {', '.join(_METHODS)}")
    return method


# ---------------------------------------------------------------------------- inputs

def _as_weights(topic_word) -> np.ndarray:
    """A float64 copy of the (K, V) topic-word weights, checked: finite and non-negative."""
    phi = np.array(topic_word, dtype=np.float64, copy=True)
    if phi.ndim != 2 or 0 in phi.shape:
        raise ValueError(f"topic_word must be a non-empty (K, V) matrix, got shape {phi.shape}")
    if not np.isfinite(phi).all() or (phi < 0).any():
        raise ValueError("topic_word must hold finite, non-negative weights")
    return phi


def _as_documents(X_train, n_words: int):
    """The training documents as csr counts, or the row source given (:mod:`topicvae.corpus.rows`: a
    sharded corpus's rows, read a shard at a time); None stays None. With the topics' V columns."""
    if X_train is None:
        return None
    X = X_train if hasattr(X_train, "blocks") else sp.csr_matrix(X_train)
    if X.shape[1] != n_words:
        raise ConfigError(f"the training documents have {X.shape[1]} words, the topics {n_words}; "
                          "use the documents the model was trained on")
    return X


def _capped(n: int, n_words: int) -> int:
    """``n`` words per topic, at most the vocabulary; fewer than one is refused."""
    if n < 1:
        raise ConfigError(f"the number of words per topic must be at least 1, got {n}")
    return min(int(n), n_words)


def _distributions(phi: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows of zeros stay zero): the topics as distributions."""
    sums = phi.sum(axis=1, keepdims=True)
    return np.divide(phi, sums, out=np.zeros_like(phi), where=sums > 0)


def _best_first(score: np.ndarray, phi: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` words of each row by ``score``, highest first; ties by weight, then by word id."""
    return np.lexsort((-phi, -score), axis=-1)[:, :n]


# ---------------------------------------------------------------------------- probability

def probability(phi: np.ndarray, X: sp.csr_matrix | None, n: int) -> np.ndarray:
    """The model's own order: each topic's words by weight, ties by word id."""
    return np.argsort(-phi, axis=1, kind="stable")[:, :n]


# ---------------------------------------------------------------------------- relevance

def word_shares(phi: np.ndarray, X: sp.csr_matrix | None) -> np.ndarray:
    """p(w), the marginal probability of each word: its share of the training tokens, add-one
    smoothed (never 0), or without documents the mean of the topics (equal topic prevalence)."""
    if X is None:
        return _distributions(phi).mean(axis=0)
    counts = np.zeros(phi.shape[1])
    for block in _row_blocks(X):
        counts += np.asarray(block.sum(axis=0), dtype=np.float64).ravel()
    counts += 1.0
    return counts / counts.sum()


def _row_blocks(X):
    """The rows of the documents ``X`` (a csr matrix or a row source) a block at a time: the matrix
    itself, or each shard's rows of a row source (:meth:`topicvae.corpus.rows.ShardedRows.blocks`)."""
    from topicvae.corpus.rows import as_row_source

    for block, local in as_row_source(X).blocks():
        yield block if local is None else block[local]


def relevance_scores(phi: np.ndarray, p_w: np.ndarray, lam: float | None = None) -> np.ndarray:
    """LDAvis relevance r(w, k) = λ log φ_kw + (1 − λ) log(φ_kw / p(w)) of every word in every topic:
    (K, V) float64 (λ None: RELEVANCE_LAMBDA). λ = 1 is the probability order; lower λ lifts the
    words rare outside the topic."""
    lam = RELEVANCE_LAMBDA if lam is None else lam
    log_phi = np.log(np.maximum(np.asarray(phi, dtype=np.float64), _FLOOR))
    log_p = np.log(np.maximum(np.asarray(p_w, dtype=np.float64), _FLOOR))
    return log_phi - (1.0 - float(lam)) * log_p[None, :]


def relevance(phi: np.ndarray, X: sp.csr_matrix | None, n: int) -> np.ndarray:
    """Each topic's words by LDAvis relevance (:func:`relevance_scores`, λ = RELEVANCE_LAMBDA), p(w)
    from the training documents (:func:`word_shares`)."""
    return _best_first(relevance_scores(_distributions(phi), word_shares(phi, X)), phi, n)


# ---------------------------------------------------------------------------- frex

def exclusivity(phi: np.ndarray) -> np.ndarray:
    """excl_kw = φ_kw / Σ_j φ_jw: the share of word w's weight (over the normalised topics) that
    topic k holds; 0 for a word no topic holds."""
    dist = _distributions(phi)
    total = dist.sum(axis=0, keepdims=True)
    return np.divide(dist, total, out=np.zeros_like(dist), where=total > 0)


def frex(phi: np.ndarray, X: sp.csr_matrix | None, n: int) -> np.ndarray:
    """FREX = 1 / (w / ECDF_k(excl) + (1 − w) / ECDF_k(φ)), w = FREX_WEIGHT: the ECDFs are taken
    over the vocabulary within each topic (rank / V, ties given their average rank, as STM's
    ``frank``), so a word scores high only if both frequent in the topic and exclusive to it."""
    from scipy.stats import rankdata  # (scipy.stats takes a third of a second to import: only here)

    w = FREX_WEIGHT
    V = phi.shape[1]
    freq = rankdata(phi, method="average", axis=1) / V
    excl = rankdata(exclusivity(phi), method="average", axis=1) / V
    return _best_first(1.0 / (w / excl + (1.0 - w) / freq), phi, n)


# ---------------------------------------------------------------------------- lead words
#
# A topic is read by its first words. Ranked by weight alone, they need not occur together: on short
# documents (titles) the words of a topic's top ten are often each tied to the topic through
# different documents. The lead words are picked among the topic's most probable ones so that they
# also occur together, counting a pair's co-occurrence only as far as it is likely to be seen again:
#
#     E(w, u) = (1 − exp(−n/4)) · NPMI(w, u) − exp(−n/4)
#
# with n the training documents holding both words and NPMI their normalised PMI there: the expected
# NPMI on a reference corpus a quarter the size of the training documents (a 20 % held-out split),
# where a pair never seen together scores −1.
#
# Greedy, one word at a time: a topic's first word is its most probable one; each next word, of the
# topic's POOL most probable, maximises z(w) + c · mean_{u chosen} E(w, u) − s · L(w), with z the
# word's log weight in standard deviations of the pool's log weights, c = LEAD_COHERENCE, L(w) the
# number of topics (chosen before, in topic order) that w already leads and s = SHARED_PENALTY: the
# words that co-occur most are the common ones, and without it many topics would lead with the same
# few. The topic's other words follow in their order, those that lead another topic after the rest.

def co_occurrence(X: sp.csr_matrix, words: np.ndarray) -> tuple[np.ndarray, int]:
    """(documents holding both words, for every pair of ``words``; the number of documents): the
    diagonal holds each word's document frequency."""
    B = sp.csc_matrix(X[:, words] > 0, dtype=np.float64)
    return np.asarray((B.T @ B).toarray()), max(X.shape[0], 1)


def pair_scores(together: np.ndarray, n_docs: int, reference_share: float = REFERENCE_SHARE) -> np.ndarray:
    """E(w, u) (above) for every pair of the words of a square block of :func:`co_occurrence` (its
    diagonal: their document frequencies); −1 where a word never occurs."""
    df = np.diag(together) / n_docs
    with np.errstate(divide="ignore", invalid="ignore"):
        p = together / n_docs
        npmi = np.log(p / np.outer(df, df)) / -np.log(p)
    npmi[together == 0] = -1.0
    npmi[~np.isfinite(npmi)] = 1.0  # both words in every document: perfect co-occurrence
    missing = np.exp(-together * reference_share)
    return (1.0 - missing) * npmi - missing


def coherent_leads(topic_word: np.ndarray, X: sp.csr_matrix, coherence: float,
                   n_lead: int = N_LEAD, pool: int = POOL, shared: float = SHARED_PENALTY,
                   reference_share: float = REFERENCE_SHARE) -> np.ndarray:
    """Each topic's lead words (above): (K, N_LEAD) word ids, in order, −1 past ``n_lead``; −1 rows
    for every topic when some topic has fewer than two words of positive weight. ``topic_word``: (K, V), larger = more probable; ``X``: the training documents
    (csr counts)."""
    K = topic_word.shape[0]
    pool = min(pool, int((topic_word > 0).sum(axis=1).min()))
    n_lead = min(n_lead, pool)
    leads = np.full((K, N_LEAD), -1, dtype=np.int64)
    if pool < 2:
        return leads
    order = np.argsort(-topic_word, axis=1, kind="stable")[:, :pool]
    words = np.unique(order)
    at = np.searchsorted(words, order)  # each pool word's index in ``words``
    # each topic's pool's co-occurrence, one block of documents (a shard) at a time, added up: K·pool² counts
    together = np.zeros((K, pool, pool))
    for block in _row_blocks(X):
        B = sp.csc_matrix(block[:, words] > 0, dtype=np.float64)  # (the columns of one topic's pool are cheap to take)
        for k in range(K):
            together[k] += co_occurrence(B, at[k])[0]
    n_docs = max(X.shape[0], 1)
    log_w = np.log(np.take_along_axis(topic_word, order, axis=1))
    z = (log_w - log_w[:, :1]) / np.maximum(log_w.std(axis=1, keepdims=True), 1e-12)
    uses = np.zeros(len(words))  # how many topics each word leads so far
    for k in range(K):
        chosen = [0]
        pairs = pair_scores(together[k], n_docs, reference_share)  # (pool, pool): one topic's, not (K·pool)²
        for _ in range(n_lead - 1):
            score = z[k] + coherence * pairs[:, chosen].mean(axis=1) - shared * uses[at[k]]
            score[chosen] = -np.inf
            chosen.append(int(np.argmax(score)))
        leads[k, :n_lead] = order[k, chosen]
        uses[at[k, chosen]] += 1
    return leads


def _lead_order(weights: np.ndarray, lead: np.ndarray, led: np.ndarray, pool: int = POOL) -> np.ndarray:
    """One topic's words (ids, all V): its ``lead`` words; then, of its most probable words (``pool``,
    or down to its last lead word), those of positive weight that lead no topic, then those that lead
    another (``led``: how many topics each word leads); then the rest, all by weight."""
    order = np.argsort(-weights, kind="stable")
    if not len(lead):
        return order
    depth = max(int(np.flatnonzero(np.isin(order, lead)).max()) + 1, pool)
    top = order[:depth]
    rest = top[(weights[top] > 0) & ~np.isin(top, lead)]
    elsewhere = led[rest] > 0  # (rest holds none of this topic's leads, so these lead another)
    head = np.concatenate([lead, rest[~elsewhere], rest[elsewhere]])
    return np.concatenate([head, order[~np.isin(order, head)]])


def lead_words(phi: np.ndarray, X: sp.csr_matrix | None, n: int) -> np.ndarray:
    """Each topic's lead words (:func:`coherent_leads`, c = LEAD_COHERENCE, from the training
    documents ``X``), then its other words as :func:`_lead_order` lists them. Ids only: the weights
    are not handed out again."""
    if X is None:
        raise ConfigError("the lead_words representation needs the training documents")
    return lead_word_order(phi, X, n)


def lead_word_order(phi: np.ndarray, X: sp.csr_matrix, n: int, coherence: float = LEAD_COHERENCE,
                    pool: int = POOL, shared: float = SHARED_PENALTY,
                    reference_share: float = REFERENCE_SHARE) -> np.ndarray:
    """:func:`lead_words` with its constants as arguments (``benchmarks/lead_words_constants.py`` chooses
    them on validation documents): (K, n) word ids."""
    leads = coherent_leads(phi, X, coherence, pool=pool, shared=shared, reference_share=reference_share)
    led = np.bincount(leads[leads >= 0], minlength=phi.shape[1])  # how many topics each word leads
    return np.stack([_lead_order(phi[k], row[row >= 0], led, pool)[:n] for k, row in enumerate(leads)])


# ---------------------------------------------------------------------------- the registry

class _Method(NamedTuple):
    rank: Callable[[np.ndarray, sp.csr_matrix | None, int], np.ndarray]
    describe: Callable[[], str]  # (called each time, so that it shows the constants' current values)
    needs_documents: bool


_METHODS: dict[str, _Method] = {
    "probability": _Method(probability, lambda: "probability (the model's own order)", False),
    "relevance": _Method(relevance, lambda: f"relevance (LDAvis, λ = {RELEVANCE_LAMBDA:g})", False),
    "frex": _Method(frex, lambda: f"frex (Airoldi & Bischof, exclusivity weight {FREX_WEIGHT:g})", False),
    "lead_words": _Method(lead_words, lambda: f"lead_words (co-occurring lead words, c = {LEAD_COHERENCE:g})",
                          True),
}
