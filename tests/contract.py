"""The contract every TopicModel passes : one function, reused for each model.

    from contract import check_topic_model
    check_topic_model(lambda: MyModel(n_topics=4, seed=0), X)

``model_factory()`` returns a new, unfitted model with ``n_topics`` set; ``X`` is a
csr_matrix of counts with at least a few dozen documents.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from topicvae.errors import TopicVAEError

ATOL = 1e-5


def _check_distributions(a: np.ndarray, shape: tuple[int, int], what: str) -> None:
    assert isinstance(a, np.ndarray), f"{what} is a {type(a).__name__}, not an ndarray"
    assert a.shape == shape, f"{what} has shape {a.shape}, expected {shape}"
    assert np.isfinite(a).all(), f"{what} has NaN or inf"
    assert (a >= 0).all(), f"{what} has negative entries"
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=ATOL, err_msg=f"rows of {what} do not sum to 1")


def _check_own_topics(model, K: int, n_words: int) -> None:
    """topic_word_ is the model's own distribution: word_distribution(e_k) equals it, or with a background
    it is proportional to topic_word_[k] · exp(background_)."""
    own = model.word_distribution(np.eye(K))
    _check_distributions(own, (K, n_words), "word_distribution(np.eye(K))")
    expected = model.topic_word_
    if model.background_ is not None:
        assert np.shape(model.background_) == (n_words,), "background_ must hold one log-weight per word"
        expected = model.topic_word_ * np.exp(model.background_ - np.max(model.background_))
        expected = expected / expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(own, expected, atol=1e-6, err_msg="topic_word_ is not the model's own distribution")


def check_topic_model(model_factory, X: sp.csr_matrix, vocab: list[str] | None = None,
                      tmp_path: str | Path | None = None) -> None:
    """Fit a model from ``model_factory`` on ``X`` and check the TopicModel interface.

    Checks: fit returns the model; topic_word_ (K, V) and transform (n_docs, K) hold
    distributions; topic_word_ is what word_distribution gives for e_k (with background_ where the
    model has one); transform is deterministic and handles an empty document; top_words
    gives n distinct vocabulary words per topic; a vocabulary of the wrong size is refused;
    save → load gives the same topics and the same θ.
    """
    X = sp.csr_matrix(X)
    n_docs, n_words = X.shape
    vocab = vocab or [f"w{j}" for j in range(n_words)]

    model = model_factory()
    K = model.n_topics
    assert model.fit(X) is model, "fit must return the model"

    _check_distributions(model.topic_word_, (K, n_words), "topic_word_")
    _check_own_topics(model, K, n_words)
    theta = model.transform(X)
    _check_distributions(theta, (n_docs, K), "transform(X)")
    assert np.array_equal(theta, model.transform(X)), "transform is not deterministic"

    with_empty = sp.vstack([X[:3], sp.csr_matrix((1, n_words), dtype=X.dtype)], format="csr")
    _check_distributions(model.transform(with_empty), (4, K), "transform of an empty document")

    for n in (1, 5, n_words + 3):
        top = model.top_words(vocab, n)
        assert len(top) == K
        for words in top:
            assert len(words) == min(n, n_words)
            assert len(set(words)) == len(words), "a topic lists a word twice"
            assert set(words) <= set(vocab)

    too_wide = sp.hstack([X, sp.csr_matrix((n_docs, 1), dtype=X.dtype)], format="csr")
    with pytest.raises((TopicVAEError, ValueError)):
        model.transform(too_wide)

    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        folder = Path(tmp) / "model"
        model.save(folder)
        loaded = type(model).load(folder)
        assert loaded.n_topics == K
        np.testing.assert_array_equal(loaded.topic_word_, model.topic_word_)
        np.testing.assert_array_equal(loaded.transform(X), theta)
