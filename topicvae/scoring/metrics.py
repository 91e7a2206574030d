"""How good are the topics? Every number in a benchmark, test or table comes from here.

The definitions, written out in ``docs/metrics.md``:

- :func:`npmi`: NPMI coherence of each topic's top-10 words, from document
  co-occurrence in a *reference* corpus (say which: ``test`` is the headline).
- :func:`c_v`: C_v coherence (Röder et al. 2015) through gensim, a second opinion.
- :func:`topic_diversity`: unique words among all topics' top-25 words over 25·K.
- :func:`perplexity`: ``exp(−Σ bound / Σ N)``, an *upper bound* on the true perplexity.
- :func:`label_metrics`: logistic-regression accuracy from θ, NMI and purity of argmax θ.
- :func:`align_topics`, :func:`js_distance_matrix`, :func:`stability`: matching topics
  of two models (Hungarian on Jensen–Shannon distance) and agreement across seeds.
- :func:`inference_speed`: documents per second of ``model.transform``.
- :func:`theta_entropy`: how spread a document's topic mixture is, in nats.

Topics can be given as a topic-word matrix (K × V, rows are distributions or any
scores where larger means more probable) or as lists of word ids, most probable first.
gensim and scikit-learn are imported inside the functions that need them.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from topicvae.corpus.rows import as_row_source
from topicvae.errors import ConfigError

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- helpers
def top_word_ids(topics, top_n: int) -> list[np.ndarray]:
    """The ``top_n`` word ids of each topic, most probable first.

    Args:
        topics: float ndarray (K, V) topic-word matrix, or K sequences of word ids
            (an integer array or lists; most probable first; only the first
            ``top_n`` of each are used).
        top_n: how many words per topic.

    Returns:
        K int arrays of length ``min(top_n, V)`` (or shorter for short id lists).
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if isinstance(topics, np.ndarray) and topics.ndim == 2 and topics.dtype.kind == "f":
        order = np.argsort(-topics, axis=1, kind="stable")[:, :top_n]
        return [row.astype(np.int64) for row in order]
    ids = [np.asarray(t, dtype=np.int64)[:top_n] for t in topics]
    for t in ids:
        if len(np.unique(t)) != len(t):
            raise ValueError(f"a topic lists the same word id twice: {t.tolist()}")
    return ids


def _binary_csr(X) -> sp.csr_matrix:
    X = sp.csr_matrix(X)
    B = (X > 0).astype(np.float64)
    return B.tocsr()


# ---------------------------------------------------------------------------- NPMI
def npmi(topics, reference_bow, top_n: int = 10) -> tuple[float, np.ndarray]:
    """NPMI coherence of each topic's top words on a reference corpus (``docs/metrics.md``).

    For each pair of a topic's top words, with ``D`` counting the reference documents
    that contain the word(s) and ``|D|`` the number of reference documents::

        P(w) = D(w)/|D|,  P(wi, wj) = D(wi, wj)/|D|
        NPMI = log(P(wi, wj) / (P(wi) P(wj))) / −log P(wi, wj)

    and NPMI = −1 when the pair never co-occurs (also when a word never occurs).
    When both words occur in every document (P(wi, wj) = 1, 0/0) the pair scores 1,
    the limit of perfect co-occurrence. A topic's score is the mean over its
    ``top_n·(top_n−1)/2`` pairs (45 for the top 10); the headline is the mean over topics.

    Implementation: the reference matrix restricted to the union of the top-word
    columns is binarised (B) and all document co-occurrence counts come from one
    sparse product ``B.T @ B`` per block of rows (:func:`document_cooccurrence`).

    Args:
        topics: ndarray (K, V) topic-word matrix, or K lists of word ids.
        reference_bow: sparse (n_docs, V) counts of the reference corpus (state in
            reports whether it is the test or the train split), or a row source over them
            (:meth:`topicvae.corpus.Corpus.rows`: a sharded corpus counted a shard at a time).
        top_n: words per topic.

    Returns:
        (mean over topics, ndarray (K,) of per-topic NPMI).
    """
    source = as_row_source(reference_bow if hasattr(reference_bow, "blocks") else sp.csr_matrix(reference_bow))
    n_docs, n_words = source.shape
    if n_docs == 0:
        raise ValueError("the NPMI reference corpus has no documents")
    ids = _checked_top_ids(topics, top_n, n_words)
    union = np.unique(np.concatenate(ids)) if ids else np.zeros(0, dtype=np.int64)
    co = document_cooccurrence(source, union)  # co[a, b] = number of docs containing both
    col = {w: k for k, w in enumerate(union.tolist())}
    per_topic = np.array([_topic_npmi(np.array([col[w] for w in words.tolist()]), co, n_docs) for words in ids])
    return float(per_topic.mean()), per_topic


def document_cooccurrence(reference, words: np.ndarray) -> np.ndarray:
    """How many documents of ``reference`` hold both words, for every pair of ``words`` (column ids):
    float64 (len(words), len(words)), its diagonal the words' document frequencies.

    ``reference``: a csr matrix or a row source (:mod:`topicvae.corpus.rows`, e.g.
    :meth:`topicvae.corpus.Corpus.rows`), whose blocks (a shard at a time) are counted one after
    another and added up: the whole matrix is never built, and the counts are the same integers."""
    co = np.zeros((len(words), len(words)))
    for X, local in as_row_source(reference).blocks():
        B = _binary_csr((X if local is None else X[local])[:, words])
        co += (B.T @ B).toarray()
    return co


def _checked_top_ids(topics, top_n: int, n_words: int) -> list[np.ndarray]:
    """Each topic's ``top_n`` word ids (:func:`top_word_ids`), checked against a reference vocabulary of
    ``n_words``: ValueError for a matrix over another vocabulary, an id outside it, or fewer than 2 words."""
    ids = top_word_ids(topics, top_n)
    if isinstance(topics, np.ndarray) and topics.ndim == 2 and topics.shape[1] != n_words:
        raise ValueError(
            f"topic-word matrix has {topics.shape[1]} words but the reference corpus has {n_words}; "
            "use the corpus the model was trained on (same vocabulary)"
        )
    if any(len(t) and (t.min() < 0 or t.max() >= n_words) for t in ids):
        raise ValueError(f"a top-word id is outside the reference vocabulary of {n_words} words")
    if any(len(t) < 2 for t in ids):
        raise ValueError("NPMI needs at least 2 words per topic")
    return ids


def _topic_npmi(local: np.ndarray, co: np.ndarray, n_docs: int) -> float:
    """The mean NPMI over the pairs of one topic's words, given as rows ``local`` of the co-document
    counts ``co`` (its diagonal: document frequencies) of ``n_docs`` reference documents."""
    i, j = np.triu_indices(len(local), k=1)
    a, b = local[i], local[j]
    joint = co[a, b]
    p_ij = joint / n_docs
    p_i, p_j = co[a, a] / n_docs, co[b, b] / n_docs
    scores = np.full(len(a), -1.0)
    seen = joint > 0
    pmi = np.log(p_ij[seen] / (p_i[seen] * p_j[seen]))
    denom = -np.log(p_ij[seen])
    scores[seen] = np.divide(pmi, denom, out=np.ones_like(pmi), where=denom > 0)
    return float(scores.mean())


# ---------------------------------------------------------------------------- diversity
def topic_diversity(topics, top_n: int = 25) -> float:
    """Unique words among the top-``top_n`` words of all topics, divided by ``top_n·K``.

    1.0 means no two topics share a top word (``topicvae evaluate`` uses the top 25).

    Args:
        topics: ndarray (K, V) topic-word matrix, or K lists of word ids.
        top_n: words per topic.
    """
    ids = top_word_ids(topics, top_n)
    if not ids:
        raise ValueError("topic_diversity needs at least one topic")
    unique = len(np.unique(np.concatenate(ids)))
    return unique / (top_n * len(ids))


# ---------------------------------------------------------------------------- C_v
def texts_from_bow(bow, vocab: Sequence[str]) -> list[list[str]]:
    """Pseudo-documents from a bag-of-words: each word repeated ``count`` times, in column order.

    Word order is lost: a sliding-window measure such as C_v sees the words of a
    document grouped by vocabulary column, not where they stood in the text.
    """
    X = sp.csr_matrix(bow)
    vocab = list(vocab)
    texts = []
    for d in range(X.shape[0]):
        lo, hi = X.indptr[d], X.indptr[d + 1]
        cols, counts = X.indices[lo:hi], X.data[lo:hi]
        order = np.argsort(cols, kind="stable")
        doc: list[str] = []
        for c, n in zip(cols[order].tolist(), counts[order].tolist()):
            doc.extend([vocab[c]] * int(n))
        texts.append(doc)
    return texts


def c_v(
    topics: Sequence[Sequence[str]],
    texts: Sequence[Sequence[str]] | None = None,
    *,
    bow=None,
    vocab: Sequence[str] | None = None,
    top_n: int = 10,
    processes: int = 1,
) -> tuple[float, np.ndarray]:
    """C_v coherence (Röder et al. 2015) via gensim ``CoherenceModel(coherence="c_v")``.

    C_v slides a window of 110 tokens over each text, so the number depends on
    which text is given; say which in any report:

    - ``texts``: the tokenized documents in their original order (preferred; what ``topicvae evaluate`` gives).
    - ``bow`` + ``vocab``: pseudo-documents rebuilt by :func:`texts_from_bow` (each
      word repeated count times, in vocabulary order), when the token order is gone.

    Top words that never occur in the texts are dropped from their topic (with a
    warning) because gensim cannot score them.

    Args:
        topics: K lists of words, most probable first (only the first ``top_n`` used).
        texts: tokenized reference documents.
        bow: sparse (n_docs, V) counts, alternative to ``texts``.
        vocab: the V words of ``bow``'s columns.
        top_n: words per topic.
        processes: worker processes for gensim (1 keeps it single-process).

    Returns:
        (mean over topics, ndarray (K,) of per-topic C_v).
    """
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    if (texts is None) == (bow is None):
        raise ValueError("give c_v either texts (tokenized documents) or bow with vocab, not both")
    if bow is not None:
        if vocab is None:
            raise ValueError("c_v with bow needs vocab (the words of its columns)")
        texts = texts_from_bow(bow, vocab)
    texts = [list(t) for t in texts]
    dictionary = Dictionary(texts)
    known = dictionary.token2id
    kept, dropped = [], 0
    for topic in topics:
        words = list(topic)[:top_n]
        present = [w for w in words if w in known]
        dropped += len(words) - len(present)
        if len(present) < 2:
            raise ValueError(f"topic {words} has fewer than 2 words that occur in the C_v texts")
        kept.append(present)
    if dropped:
        logger.warning("c_v: dropped %d top words that never occur in the reference texts", dropped)
    topn = max(len(t) for t in kept)
    cm = CoherenceModel(
        topics=kept, texts=texts, dictionary=dictionary, coherence="c_v", topn=topn, processes=processes
    )
    per_topic = np.asarray(cm.get_coherence_per_topic(), dtype=np.float64)
    return float(per_topic.mean()), per_topic


# ---------------------------------------------------------------------------- perplexity
def perplexity(total_bound: float, n_tokens: float) -> float:
    """Perplexity **upper bound** ``exp(−Σ_d bound_d / Σ_d N_d)`` (``docs/metrics.md``).

    ``total_bound`` is a lower bound on the log likelihood (the ELBO for the VAE,
    gensim's variational bound for LDA), so the result bounds the true perplexity
    from above. Never compare it across different vocabularies.
    """
    if n_tokens <= 0:
        raise ValueError("perplexity needs at least one token")
    return float(np.exp(-float(total_bound) / float(n_tokens)))


# ---------------------------------------------------------------------------- labels
def _purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    _, lab = np.unique(labels, return_inverse=True)
    _, clu = np.unique(clusters, return_inverse=True)
    table = np.zeros((clu.max() + 1, lab.max() + 1), dtype=np.int64)
    np.add.at(table, (clu, lab), 1)
    return float(table.max(axis=1).sum() / len(labels))


def label_metrics(
    theta: np.ndarray,
    labels: Sequence,
    train_rows: Sequence[int] | None = None,
    test_rows: Sequence[int] | None = None,
    seed: int = 0,
) -> dict:
    """How well θ predicts document labels (the label metrics of ``docs/metrics.md``).

    - ``accuracy``: logistic regression from θ to the label; trained on ``train_rows``
      and scored on ``test_rows`` when a split is given, else the mean of 5-fold
      stratified cross-validation over all labelled documents.
    - ``nmi``: normalised mutual information between argmax θ and the label.
    - ``purity``: each argmax-θ cluster counts its most common label, summed over N.

    NMI and purity use the test rows when a split is given, else every labelled row.
    Rows whose label is missing (None/NaN) are left out everywhere.

    Args:
        theta: ndarray (n_docs, K), rows are topic mixtures.
        labels: n_docs labels (any hashable values).
        train_rows, test_rows: row indices of the split (give both or neither).
        seed: seeds the cross-validation folds and the classifier.

    Returns:
        dict with accuracy, accuracy_method ('split' or '5-fold'), nmi, purity,
        n_train, n_eval.
    """
    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    theta = np.asarray(theta, dtype=np.float64)
    labels = np.asarray(labels, dtype=object)
    if theta.ndim != 2 or theta.shape[0] != len(labels):
        raise ValueError(f"theta has shape {theta.shape} but there are {len(labels)} labels")
    if (train_rows is None) != (test_rows is None):
        raise ValueError("give both train_rows and test_rows, or neither (then 5-fold CV is used)")
    labelled = ~pd.isna(pd.Series(labels)).to_numpy()
    if labelled.sum() < 2:
        raise ValueError("label metrics need at least 2 labelled documents")
    str_labels = labels.astype(str)

    if train_rows is not None:
        accuracy, eval_rows, n_train = _split_accuracy(theta, str_labels, labelled, train_rows, test_rows, seed)
        method = "split"
    else:
        accuracy, eval_rows, n_train = _cv_accuracy(theta, str_labels, labelled, seed)
        method = "5-fold"

    clusters = theta[eval_rows].argmax(axis=1)
    truth = str_labels[eval_rows]
    return {
        "accuracy": accuracy,
        "accuracy_method": method,
        "nmi": float(normalized_mutual_info_score(truth, clusters)),
        "purity": _purity(clusters, truth),
        "n_train": int(n_train),
        "n_eval": int(len(eval_rows)),
    }


def _classifier(seed: int):
    """The classifier every θ is scored with: scikit-learn's logistic regression, as in docs/metrics.md."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed)


def _split_accuracy(theta: np.ndarray, labels: np.ndarray, labelled: np.ndarray, train_rows, test_rows,
                    seed: int) -> tuple[float, np.ndarray, int]:
    """(accuracy on the labelled test rows of a classifier fit on the labelled train rows, those test
    rows, the number of train rows). Train rows of one class only: every test row is given that class
    (nothing else can be learnt from them)."""
    train = np.asarray(train_rows, dtype=np.int64)
    test = np.asarray(test_rows, dtype=np.int64)
    train, test = train[labelled[train]], test[labelled[test]]
    if len(train) == 0 or len(test) == 0:
        raise ValueError("label metrics need labelled documents in both the train and the test rows")
    classes = np.unique(labels[train])
    if len(classes) == 1:
        return float((labels[test] == classes[0]).mean()), test, len(train)
    clf = _classifier(seed).fit(theta[train], labels[train])
    return float((clf.predict(theta[test]) == labels[test]).mean()), test, len(train)


def _cv_accuracy(theta: np.ndarray, labels: np.ndarray, labelled: np.ndarray, seed: int) -> tuple[float, np.ndarray, int]:
    """(mean accuracy of stratified cross-validation, at most 5 folds, over the labelled rows; those rows;
    their number). One class only: accuracy 1."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    rows = np.flatnonzero(labelled)
    y = labels[rows]
    if len(np.unique(y)) < 2:
        return 1.0, rows, len(rows)
    _, counts = np.unique(y, return_counts=True)
    cv = StratifiedKFold(n_splits=max(2, int(min(5, counts.max()))), shuffle=True, random_state=seed)
    return float(cross_val_score(_classifier(seed), theta[rows], y, cv=cv).mean()), rows, len(rows)


# ---------------------------------------------------------------------------- alignment
def _rows_as_distributions(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D topic-word matrix, got shape {a.shape}")
    if (a < 0).any():
        raise ValueError("topic-word matrices must be non-negative")
    sums = a.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise ValueError("a topic-word row sums to zero")
    return a / sums


def js_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distance (base 2, in [0, 1]) between every row of ``a`` and of ``b``.

    ``JSD(p, q) = ½ KL(p‖m) + ½ KL(q‖m)``, ``m = (p + q)/2``, distance = ``sqrt(JSD)``.
    Rows are normalised to sum to 1 first. Vectorised over the rows of ``b``; memory
    is O(K_b · V).

    Args:
        a: ndarray (K_a, V).
        b: ndarray (K_b, V).

    Returns:
        ndarray (K_a, K_b).
    """
    from scipy.special import rel_entr

    p, q = _rows_as_distributions(a), _rows_as_distributions(b)
    if p.shape[1] != q.shape[1]:
        raise ValueError(f"topic-word matrices have different vocabularies: {p.shape[1]} vs {q.shape[1]} words")
    out = np.empty((p.shape[0], q.shape[0]))
    for i, row in enumerate(p):
        m = 0.5 * (row[None, :] + q)
        jsd = 0.5 * (rel_entr(row[None, :], m).sum(axis=1) + rel_entr(q, m).sum(axis=1))
        out[i] = np.sqrt(np.clip(jsd / np.log(2.0), 0.0, 1.0))
    return out


def align_topics(tw_a: np.ndarray, tw_b: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Match the topics of two models one-to-one (Hungarian on Jensen–Shannon distance).

    Args:
        tw_a: ndarray (K_a, V) topic-word matrix.
        tw_b: ndarray (K_b, V) topic-word matrix over the same vocabulary.

    Returns:
        (pairs, distances): ``min(K_a, K_b)`` pairs ``(i, j)`` — topic i of a matched to
        topic j of b, sorted by i — and ndarray of their JS distances in the same order.
    """
    from scipy.optimize import linear_sum_assignment

    dist = js_distance_matrix(tw_a, tw_b)
    rows, cols = linear_sum_assignment(dist)
    pairs = [(int(i), int(j)) for i, j in zip(rows, cols)]
    return pairs, dist[rows, cols]


def stability(topic_word_matrices: Sequence[np.ndarray]) -> float:
    """Mean best-match similarity ``1 − JS distance`` of topics across seeds (``docs/metrics.md``).

    For every pair of models, topics are matched with :func:`align_topics`; the
    similarities of the matched topics are averaged, then averaged over all pairs.
    1.0 means every seed found the same topics.
    """
    mats = list(topic_word_matrices)
    if len(mats) < 2:
        raise ConfigError("stability needs the topics of at least 2 runs (different seeds)")
    scores = []
    for a, b in itertools.combinations(mats, 2):
        _, dist = align_topics(a, b)
        scores.append(float(np.mean(1.0 - dist)))
    return float(np.mean(scores))


# ---------------------------------------------------------------------------- documents
def theta_entropy(theta) -> np.ndarray:
    """Entropy in nats, ``H(θ) = −Σ_k θ_k ln θ_k`` with ``0 ln 0 = 0``, of each topic mixture.

    0 for a document in a single topic, ``ln K`` for the uniform mixture. Each row is
    divided by its sum first: θ is stored as float32, whose rows sum to 1 only to about
    1e-7, and negative rounding noise is set to 0.

    Args:
        theta: (K,) one mixture, or (n, K) one per row.

    Returns:
        A float64 scalar array for (K,) input, else (n,).
    """
    from scipy.special import entr

    p = np.clip(np.asarray(theta, dtype=np.float64), 0.0, None)
    total = p.sum(axis=-1, keepdims=True)
    p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return entr(p).sum(axis=-1)


# ---------------------------------------------------------------------------- speed
def inference_speed(model, X) -> float:
    """Documents per second of ``model.transform(X)`` (wall clock, one call)."""
    n = X.shape[0]
    if n == 0:
        raise ValueError("inference_speed needs at least one document")
    start = time.perf_counter()
    model.transform(X)
    return n / max(time.perf_counter() - start, 1e-12)
