"""tomotopy's Gibbs-sampling LDA behind the fit / transform / log_bound / topic_word_ interface, for
the benchmarks only (the ``bench`` extra installs tomotopy). It is the strongest LDA
measured on this machine, so the VAEs are compared against it too."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _words(X: sp.csr_matrix, i: int) -> list[str]:
    row = slice(X.indptr[i], X.indptr[i + 1])
    return [str(j) for j, c in zip(X.indices[row], X.data[row]) for _ in range(int(c))]


class TomotopyLDA:
    """tomotopy ``LDAModel`` (collapsed Gibbs sampling) on a CSR count matrix.

    Word ids are passed as strings and mapped back, so ``topic_word_`` columns follow X's
    (rows sum to 1; a word absent from the training documents weighs 1e-12 before normalising).
    It has the attributes of topicvae's model contract that the benchmarks read
    (:class:`topicvae.models.base.TopicModel`), without being one of topicvae's models.
    """

    name = "tomotopy"
    supports_resume = False
    supports_warm_start = False

    def __init__(self, n_topics: int, iterations: int = 1000, alpha: float = 0.1, eta: float = 0.01,
                 seed: int = 0, workers: int = 2, infer_iterations: int = 100):
        self.n_topics, self.iterations, self.alpha, self.eta = n_topics, iterations, alpha, eta
        self.seed, self.workers, self.infer_iterations = seed, workers, infer_iterations

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("n_topics", "iterations", "alpha", "eta", "seed", "workers",
                                                "infer_iterations")}

    def fit(self, X: sp.csr_matrix, progress: bool = False) -> "TomotopyLDA":
        import tomotopy as tp

        X = sp.csr_matrix(X)
        self.n_words_ = X.shape[1]
        self.model_ = tp.LDAModel(k=self.n_topics, alpha=self.alpha, eta=self.eta, seed=self.seed)
        for i in range(X.shape[0]):
            words = _words(X, i)
            if words:
                self.model_.add_doc(words)
        self.model_.train(self.iterations, workers=self.workers)
        vocab = list(self.model_.used_vocabs)
        cols = np.array([int(w) for w in vocab])
        tw = np.full((self.n_topics, self.n_words_), 1e-12)
        for k in range(self.n_topics):
            tw[k, cols] = self.model_.get_topic_word_dist(k)
        self.topic_word_ = tw / tw.sum(axis=1, keepdims=True)
        return self

    def _docs(self, X: sp.csr_matrix) -> tuple[list, list[int], int, int]:
        """(tomotopy documents, their rows of X, tokens in them, tokens left out): each row's tokens of
        the words the model was trained on (tomotopy knows no others); rows left with none are left out."""
        X = sp.csr_matrix(X)
        known = set(self.model_.used_vocabs)
        docs, rows, kept, dropped = [], [], 0, 0
        for i in range(X.shape[0]):
            tokens = _words(X, i)
            words = [w for w in tokens if w in known]
            kept, dropped = kept + len(words), dropped + len(tokens) - len(words)
            if words:
                docs.append(self.model_.make_doc(words))
                rows.append(i)
        return docs, rows, kept, dropped

    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        docs, rows, _, _ = self._docs(X)
        theta = np.full((X.shape[0], self.n_topics), 1.0 / self.n_topics)
        if docs:
            inferred, _ = self.model_.infer(docs, iterations=self.infer_iterations, workers=self.workers)
            theta[rows] = np.asarray(inferred, dtype=np.float64)  # one topic distribution per document
        return theta / theta.sum(axis=1, keepdims=True)

    def log_bound(self, X: sp.csr_matrix) -> tuple[float, int]:
        """(Σ_d log_ll_d, tokens scored): tomotopy's held-out log-likelihood of the documents of ``X``.

        ``LDAModel.infer(docs, iterations=infer_iterations, together=False)`` (tomotopy 0.14) samples
        each document's topic assignments z_d on its own, ``infer_iterations`` Gibbs sweeps with the
        trained topic-word counts held fixed, and returns as ``log_ll_d``
        ``log p(z_d | α) + log p(w_d | z_d, training counts, η)``: the Dirichlet-multinomial of the
        document's topic counts (θ integrated out) plus the collapsed predictive of its words given
        their topics (β integrated out, the training counts as its posterior), i.e. the joint
        ``log p(w_d, z_d)`` at the last sample (``LDAModel.hpp``: ``getLLDocs`` of the document plus
        the change of ``getLLRest`` when it joins the training state). For any z_d it is at most
        ``log p(w_d)``, so like the VAEs' ELBO and gensim's bound it is a lower bound of the log
        likelihood, one sample's rather than an expectation's. Tokens of words the model never saw
        in training cannot be scored: they are left out of both sums (their count is in
        ``unscored_tokens_``), as are documents left with no token.
        """
        docs, _, kept, dropped = self._docs(X)
        self.unscored_tokens_ = dropped
        if not docs:
            return 0.0, 0
        _, log_ll = self.model_.infer(docs, iterations=self.infer_iterations, workers=self.workers, together=False)
        return float(np.sum(log_ll)), kept

    def top_words(self, vocab, n: int = 10) -> list[list[str]]:
        order = np.argsort(-self.topic_word_, axis=1, kind="stable")[:, :n]
        return [[vocab[j] for j in row] for row in order]
