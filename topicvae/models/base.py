"""The interface every topic model in topicvae follows.

Models take a ``scipy.sparse.csr_matrix`` of shape (n_docs, n_words) with integer
counts. Settings are stored by the constructor only; learned state ends in ``_``
and appears in :meth:`fit`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp


class TopicModel(ABC):
    """A topic model: documents → topic mixtures θ, topics → word distributions.

    Attributes set by ``fit``:
        topic_word_ : ndarray (n_topics, n_words), rows sum to 1.
    """

    n_topics: int

    @abstractmethod
    def fit(self, X: sp.csr_matrix, **kwargs) -> "TopicModel":
        """Learn topics from the document-term count matrix ``X`` (n_docs × n_words)."""

    @abstractmethod
    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        """θ: (n_docs, n_topics), rows sum to 1; deterministic for a fitted model."""

    def fit_transform(self, X: sp.csr_matrix, **kwargs) -> np.ndarray:
        return self.fit(X, **kwargs).transform(X)

    def top_words(self, vocab: Sequence[str], n: int = 10) -> list[list[str]]:
        """The ``n`` most probable words of each topic, most probable first."""
        order = np.argsort(-self.topic_word_, axis=1, kind="stable")[:, :n]
        return [[vocab[j] for j in row] for row in order]

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the fitted model into the folder ``path`` (no pickles)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> "TopicModel":
        """Read a model written by :meth:`save`."""
