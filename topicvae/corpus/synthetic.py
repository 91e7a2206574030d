"""Synthetic corpora with known topics, for tests and scale benchmarks.

:func:`sample_lda_corpus` draws documents from LDA's generative story. It never builds
the dense documents × vocabulary matrix of word probabilities: it draws each document's
topic counts, then the words of all tokens of one topic at once, a chunk of documents
at a time, so memory grows with the number of tokens of one chunk, not with n_docs × V.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from topicvae.errors import ConfigError

_CHUNK_DOCS = 10_000  # documents sampled at once: bounds memory (fixed, so results depend on seed only)


def sample_lda_corpus(
    n_docs: int,
    n_topics: int,
    n_words: int,
    doc_len: int | np.ndarray = 100,
    alpha: float | np.ndarray = 0.1,
    beta: float = 0.05,
    seed: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Sample a bag-of-words corpus from LDA with known topics.

    θ_d ~ Dirichlet(alpha), φ_k ~ Dirichlet(beta · 1_V), and each of the N_d tokens of
    document d takes a topic z ~ θ_d and a word w ~ φ_z.

    Args:
        n_docs: number of documents.
        n_topics: number of topics K.
        n_words: vocabulary size V.
        doc_len: tokens per document, an int (every document) or an int array (n_docs,).
        alpha: Dirichlet concentration of θ, a float (symmetric) or an array (K,).
        beta: symmetric Dirichlet concentration of each topic's word distribution.
        seed: seed of the numpy Generator; the same arguments give the same corpus.

    Returns:
        (X, topic_word, theta): X a csr_matrix (n_docs, V) of int32 counts with sorted
        indices; topic_word float64 (K, V), rows sum to 1; theta float64 (n_docs, K),
        rows sum to 1.
    """
    if n_docs < 1 or n_topics < 1 or n_words < 1:
        raise ConfigError("sample_lda_corpus needs n_docs, n_topics and n_words of at least 1")
    rng = np.random.default_rng(seed)
    lengths = np.broadcast_to(np.asarray(doc_len, dtype=np.int64), (n_docs,))
    if (lengths < 0).any():
        raise ConfigError("doc_len must not be negative")
    alpha_vec = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (n_topics,))

    topic_word = rng.dirichlet(np.full(n_words, float(beta)), size=n_topics)
    theta = rng.dirichlet(alpha_vec, size=n_docs)
    cdf = np.cumsum(topic_word, axis=1)
    cdf /= cdf[:, -1:]

    blocks = [_sample_block(rng, lengths[start:start + _CHUNK_DOCS], theta[start:start + _CHUNK_DOCS], cdf, n_words)
              for start in range(0, n_docs, _CHUNK_DOCS)]
    X = sp.vstack(blocks, format="csr", dtype=np.int32) if len(blocks) > 1 else blocks[0]
    X.sort_indices()
    return X, topic_word, theta


def _sample_block(rng: np.random.Generator, lengths: np.ndarray, theta: np.ndarray, cdf: np.ndarray,
                  n_words: int) -> sp.csr_matrix:
    """The counts of a block of documents of ``lengths`` tokens and topic mixtures ``theta``: each
    document's tokens per topic, then each token's word from its topic's cumulative distribution ``cdf``."""
    n_docs, n_topics = theta.shape
    counts = rng.multinomial(lengths, theta)  # tokens of each (document, topic) pair: (n_docs, K) ints
    rows, cols = [], []
    for k in range(n_topics):
        n_k = counts[:, k]
        total = int(n_k.sum())
        if total == 0:
            continue
        rows.append(np.repeat(np.arange(n_docs, dtype=np.int32), n_k))
        words = np.searchsorted(cdf[k], rng.random(total), side="right")
        cols.append(np.minimum(words, n_words - 1).astype(np.int32))
    if rows:
        r, c = np.concatenate(rows), np.concatenate(cols)
        data = np.ones(len(r), dtype=np.int32)
    else:
        r = c = data = np.zeros(0, dtype=np.int32)
    block = sp.csr_matrix((data, (r, c)), shape=(n_docs, n_words), dtype=np.int32)
    block.sum_duplicates()
    return block


TRUE_TOPIC_WORD_FILE = "true_topic_word.npy"


def topic_recovery(true: np.ndarray, learned: np.ndarray, top: int = 10) -> tuple[float, float]:
    """How well learned topics recover planted ones.

    Each true topic is matched to one learned topic (Hungarian matching on cosine
    similarity of the topic-word rows). Returns (mean cosine of the matched pairs, mean
    share of a true topic's ``top`` words among its match's ``top`` words).
    """
    from scipy.optimize import linear_sum_assignment

    a = true / np.linalg.norm(true, axis=1, keepdims=True)
    b = learned / np.linalg.norm(learned, axis=1, keepdims=True)
    cos = a @ b.T
    rows, cols = linear_sum_assignment(-cos)
    top_true, top_learned = np.argsort(-true, axis=1)[:, :top], np.argsort(-learned, axis=1)[:, :top]
    overlap = [len(set(top_true[i]) & set(top_learned[j])) / top for i, j in zip(rows, cols)]
    return float(cos[rows, cols].mean()), float(np.mean(overlap))


def make_synthetic_corpus(name: str, n_docs: int, n_topics: int = 50, n_words: int = 10_000, doc_len: int = 100,
                          alpha: float = 0.1, beta: float = 0.05, test_fraction: float = 0.1, seed: int = 0,
                          corpora_dir=None, force: bool = False):
    """Sample an LDA corpus and save it in the corpus format, straight from the sparse matrix.

    Words are named ``w00000``...; each document's label is its largest true topic
    (``t07``); a seeded ``test_fraction`` of documents forms the test split. The true
    topic-word matrix is saved beside the corpus as ``true_topic_word.npy``.

    Returns:
        The saved :class:`topicvae.corpus.Corpus`.
    """
    import pandas as pd

    from topicvae.corpus import Corpus

    X, topic_word, theta = sample_lda_corpus(n_docs, n_topics, n_words, doc_len, alpha, beta, seed)
    width = len(str(n_words - 1))
    vocab = [f"w{j:0{width}d}" for j in range(n_words)]
    split = np.where(np.random.default_rng(seed + 1).random(n_docs) < test_fraction, "test", "train")
    docs = pd.DataFrame({
        "id": pd.array([f"d{i}" for i in range(n_docs)], dtype="string"),
        "text": pd.array([""] * n_docs, dtype="string"),
        "label": pd.array(np.char.add("t", np.char.zfill(theta.argmax(axis=1).astype(str), 2)), dtype="string"),
        "date": pd.array([None] * n_docs, dtype="string"),
        "split": pd.array(split, dtype="string"),
        "n_tokens": np.asarray(X.sum(axis=1)).ravel().astype(np.int64),
    })
    del theta
    manifest = {"name": name, "source": {"path": f"synthetic:lda(K={n_topics},V={n_words},len={doc_len},"
                                                 f"alpha={alpha},beta={beta},seed={seed})", "format": "synthetic"},
                "counts": {"read": n_docs, "kept": n_docs, "vocabulary": n_words, "tokens": int(X.sum()),
                           "dropped": {}, "splits": {k: int(v) for k, v in zip(*np.unique(split, return_counts=True))},
                           "labels": int(docs["label"].nunique())}}
    corpus = Corpus(name=name, bow=X, vocab=vocab, docs=docs, manifest=manifest)
    path = corpus.save(corpora_dir, force=force)
    np.save(path / TRUE_TOPIC_WORD_FILE, topic_word, allow_pickle=False)
    return corpus
