"""Coherent lead words: which of a topic's most probable words it is listed by.

A topic is read by its first words. Ranked by weight alone, they need not occur together: on
short documents (titles) the words of a topic's top ten are often each tied to the topic through
different documents, and most of their pairs never share a document outside the training set. This
module picks each topic's lead words among its most probable ones so that they also occur together,
counting a pair's co-occurrence only as far as it is likely to be seen again:

    E(w, u) = (1 − exp(−n/4)) · NPMI(w, u) − exp(−n/4)

with n the training documents holding both words and NPMI their normalised PMI there: the
expected NPMI on a reference corpus a quarter the size of the training documents (a 20 % held-out
split), where a pair of words never seen together scores −1 (a pair seen once or twice is likely
missing there; a pair seen in many documents keeps its NPMI).

Greedy, one word at a time: a topic's first word is its most probable one; each next word, of the
topic's ``POOL`` most probable, maximises z(w) + c · mean_{u chosen} E(w, u) − s · L(w), with z the
word's log weight in standard deviations of the pool's log weights, c the ``coherence`` setting and
L(w) the number of topics (chosen before, in topic order) that w already leads, s =
``SHARED_PENALTY``: the words that co-occur most are the common ones, and without it many topics
would lead with the same few. The topic's other words follow in their order, those that lead
another topic after the rest, so that the topics' lists stay distinct past their lead words.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: the lead words picked per topic
N_LEAD = 10
#: of how many of the topic's most probable words they are picked
POOL = 60
#: the reference corpus, as a share of the training documents, whose co-occurrence E expects
REFERENCE_SHARE = 0.25
#: how much lower (in standard deviations of the pool's log weights) a word scores for each topic
#: it already leads
SHARED_PENALTY = 1.0


def co_occurrence(X: sp.csr_matrix, words: np.ndarray) -> tuple[np.ndarray, int]:
    """(documents holding both words, for every pair of ``words``; the number of documents): the
    diagonal holds each word's document frequency."""
    B = sp.csc_matrix(X[:, words] > 0, dtype=np.float64)
    return np.asarray((B.T @ B).toarray()), max(X.shape[0], 1)


def pair_scores(together: np.ndarray, n_docs: int, reference_share: float = REFERENCE_SHARE) -> np.ndarray:
    """E(w, u) of the module docstring for every pair of the words of a square block of
    :func:`co_occurrence` (its diagonal: their document frequencies); −1 where a word never occurs."""
    df = np.diag(together) / n_docs
    with np.errstate(divide="ignore", invalid="ignore"):
        p = together / n_docs
        npmi = np.log(p / np.outer(df, df)) / -np.log(p)
    npmi[together == 0] = -1.0
    npmi[~np.isfinite(npmi)] = 1.0  # both words in every document: perfect co-occurrence
    missing = np.exp(-together * reference_share)
    return (1.0 - missing) * npmi - missing


def coherent_leads(topic_word: np.ndarray, X: sp.csr_matrix, coherence: float, skip: set[int] | None = None,
                   n_lead: int = N_LEAD, pool: int = POOL, shared: float = SHARED_PENALTY) -> np.ndarray:
    """Each topic's lead words (module docstring): (K, n_lead) word ids, in order; −1 rows for the
    topics in ``skip``, which keep their order. ``topic_word``: (K, V), larger = more probable;
    ``X``: the training documents (csr counts)."""
    K = topic_word.shape[0]
    pool = min(pool, int((topic_word > 0).sum(axis=1).min()))
    n_lead = min(n_lead, pool)
    leads = np.full((K, N_LEAD), -1, dtype=np.int64)
    if pool < 2:
        return leads
    order = np.argsort(-topic_word, axis=1, kind="stable")[:, :pool]
    words = np.unique(order)
    at = np.searchsorted(words, order)  # each pool word's index in ``words``
    B = sp.csc_matrix(X[:, words] > 0, dtype=np.float64)  # (the columns of one topic's pool are cheap to take)
    log_w = np.log(np.take_along_axis(topic_word, order, axis=1))
    z = (log_w - log_w[:, :1]) / np.maximum(log_w.std(axis=1, keepdims=True), 1e-12)
    uses = np.zeros(len(words))  # how many topics each word leads so far
    for k in range(K):
        if skip and k in skip:
            continue
        chosen = [0]
        together, n_docs = co_occurrence(B, at[k])  # one topic's pool at a time: K·pool², not (K·pool)²
        pairs = pair_scores(together, n_docs)  # (pool, pool)
        for _ in range(n_lead - 1):
            score = z[k] + coherence * pairs[:, chosen].mean(axis=1) - shared * uses[at[k]]
            score[chosen] = -np.inf
            chosen.append(int(np.argmax(score)))
        leads[k, :n_lead] = order[k, chosen]
        uses[at[k, chosen]] += 1
    return leads


def lead_first(topic_word: np.ndarray, leads: np.ndarray) -> np.ndarray:
    """``topic_word`` with each topic's lead words first: within the topic's most probable words
    (as many as its lead words reach down to), the same weights, handed out again in the order lead
    words, then the topic's other words, then those that lead another topic. Rows of ``leads`` that
    are −1 leave their topic as it is. Each row keeps its values (so its sum)."""
    out = np.array(topic_word, dtype=np.float64, copy=True)
    led = np.bincount(leads[leads >= 0], minlength=out.shape[1])  # how many topics each word leads
    for k, row in enumerate(leads):
        lead = row[row >= 0]
        if not len(lead):
            continue
        order = np.argsort(-out[k], kind="stable")
        depth = max(int(np.flatnonzero(np.isin(order, lead)).max()) + 1, POOL)
        top = order[:depth]
        top = top[out[k, top] > 0]  # (words outside the topic vocabulary stay at zero)
        rest = top[~np.isin(top, lead)]
        elsewhere = led[rest] > 0  # (rest holds none of this topic's leads, so these lead another)
        out[k, np.concatenate([lead, rest[~elsewhere], rest[elsewhere]])] = out[k, top]
    return out
