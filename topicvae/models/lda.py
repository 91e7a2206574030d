"""gensim LDA (online variational Bayes, Hoffman et al. 2010) behind the TopicModel interface.

``workers == 1`` trains gensim's ``LdaModel``; ``workers > 1`` trains ``LdaMulticore``
(its E-steps run in that many worker processes). gensim is imported inside the methods
that need it, so importing this module is cheap.

Training streams the documents to gensim one row at a time (:class:`CSRCorpus`), from a CSR
matrix or, for a corpus larger than memory, from a row source over its shards on disk read one
shard at a time (:mod:`topicvae.corpus.rows`; a matrix is the one-shard case); the corpus
is never copied into a Python list. The word totals that seeded topics start from are counted
in the same pass-a-shard-at-a-time way (:func:`word_totals`). θ of a sharded corpus is inferred
shard by shard by the caller (a document's θ depends on that document alone). Inference (``transform``, ``log_bound``)
calls gensim's variational E-step ``LdaModel.inference`` on chunks of ``chunksize``
rows and normalises γ. That is the computation behind ``get_document_topics`` (which
would also drop small probabilities unless ``minimum_probability=0``); gensim still
loops over documents in Python, so it is about as fast (≈3k docs/s at K=50 on 2 busy cores).

Saved models hold no pickles: the variational topic parameters (``state.sstats``; the
topics are λ = η + sstats), α and η as ``.npy`` and the settings as JSON; loading
rebuilds an ``LdaModel`` from these arrays, so ``transform`` gives identical output.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import time
from pathlib import Path
from typing import ClassVar, Iterator

import numpy as np
import scipy.sparse as sp

from topicvae.errors import ConfigError, RunError
from topicvae.models.base import TopicModel
from topicvae.models.seeding import check_seed_setting

logger = logging.getLogger(__name__)

SETTINGS_FILE = "lda.json"
SSTATS_FILE = "lda_sstats.npy"
ALPHA_FILE = "lda_alpha.npy"
ETA_FILE = "lda_eta.npy"
FORMAT_VERSION = 1

#: guided topics: a seed word's η in the topics it does not seed, as a share of the base η
SEED_ELSEWHERE = 0.01

_ALPHA_NAMES = ("symmetric", "asymmetric", "auto")
_ETA_NAMES = ("symmetric", "auto")


# ---------------------------------------------------------------------------- CSR → gensim
def csr_chunk(X: sp.csr_matrix, start: int, stop: int) -> list[list[tuple[int, float]]]:
    """Rows ``start:stop`` of ``X`` as gensim bag-of-words lists ``[(word_id, count), ...]``."""
    lo, hi = X.indptr[start], X.indptr[stop]
    ids = X.indices[lo:hi].tolist()
    counts = X.data[lo:hi].astype(np.float64).tolist()
    bounds = (X.indptr[start : stop + 1] - lo).tolist()
    return [list(zip(ids[a:b], counts[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]


def blocks(X) -> Iterator[tuple[sp.csr_matrix, np.ndarray | None]]:
    """``X``'s rows as (shard, rows of it or None for all) pairs: a row source's ``blocks()``, read a
    shard at a time (:mod:`topicvae.corpus.rows`), or a csr_matrix as one shard."""
    return iter(X.blocks()) if is_row_source(X) else iter([(X, None)])


def is_row_source(X) -> bool:
    """Whether ``X`` is a row source (a corpus's shards on disk) rather than a matrix."""
    return hasattr(X, "blocks")


def word_totals(X) -> np.ndarray:
    """Each word's count over ``X`` (a matrix or a row source, read a shard at a time): float64 (V,)."""
    totals = np.zeros(X.shape[1])
    for shard, rows in blocks(X):
        totals += np.asarray((shard if rows is None else shard[rows]).sum(axis=0), dtype=np.float64).ravel()
    return totals


class CSRCorpus:
    """A CSR matrix, or a row source over shards, seen by gensim as a re-iterable stream of
    bag-of-words documents.

    Each iteration (one training pass) yields one ``[(word_id, count), ...]`` list per
    row, built on the fly, a shard at a time (:func:`blocks`). ``on_pass_start`` (optional)
    is called at the start of every iteration; gensim iterates once per pass, after
    finishing the previous pass's updates, which is how :class:`LDA` records per-pass history.
    """

    def __init__(self, X, on_pass_start=None, block: int = 1024):
        self.X = X
        self.on_pass_start = on_pass_start
        self.block = block

    def __len__(self) -> int:
        return self.X.shape[0]

    def __iter__(self) -> Iterator[list[tuple[int, float]]]:
        if self.on_pass_start is not None:
            self.on_pass_start()
        for shard, rows in blocks(self.X):
            shard = shard if rows is None else shard[rows]
            n = shard.shape[0]
            for start in range(0, n, self.block):
                yield from csr_chunk(shard, start, min(start + self.block, n))


# ---------------------------------------------------------------------------- the model
class _UniformStart:
    """Stands in for gensim's ``random_state`` during inference: ``gamma(shape, scale, size)``
    returns its mean ``shape·scale`` (1.0) everywhere instead of a random draw."""

    def gamma(self, shape, scale, size):
        return np.full(size, shape * scale)


class _PassHistory:
    """``LDA.history_`` as gensim makes its passes: each pass's training seconds and, on a fixed sample of
    training documents (``sample``), the per-word bound after it; a progress bar and a log line a pass.

    gensim tells only when a pass starts (``CSRCorpus(on_pass_start=)``): a pass ends when the next
    starts, or when training returns (:meth:`end`)."""

    def __init__(self, lda: "LDA", sample, bar):
        self.lda, self.sample, self.bar = lda, sample, bar
        self.started: float | None = None
        self.train_seconds = 0.0

    def start(self) -> None:
        if self.started is not None:
            self.end()
        self.started = time.perf_counter()

    def end(self) -> None:
        seconds = time.perf_counter() - self.started
        self.train_seconds += seconds
        entry = {"pass": len(self.lda.history_) + 1, "seconds": seconds, "train_seconds": self.train_seconds}
        if self.sample is not None:
            bound, n_tokens = self.lda.log_bound(self.sample)
            per_word = bound / n_tokens if n_tokens else float("nan")
            entry.update(bound=bound, n_tokens=n_tokens, per_word_bound=per_word,
                         perplexity=math.exp(-per_word) if n_tokens else float("nan"))
            self.bar.set_postfix(bound=f"{per_word:.3f}", refresh=False)
        self.lda.history_.append(entry)
        logger.info("LDA pass %d/%d: %.2fs%s", entry["pass"], self.lda.passes, seconds,
                    f", per-word bound {entry['per_word_bound']:.4f}" if "per_word_bound" in entry else "")
        self.bar.update(1)


class LDA(TopicModel):
    """Latent Dirichlet allocation trained by gensim's online variational Bayes.

    Settings: keyword arguments of the constructor, each declared once in
    :mod:`topicvae.models.settings` (docs/settings.md).

    Attributes set by ``fit``:
        model_: the gensim ``LdaModel`` (or ``LdaMulticore``).
        topic_word_: ndarray (n_topics, n_words), rows sum to 1 (normalised λ).
        n_words_: vocabulary size V.
        history_: one dict per pass: ``pass``, ``seconds`` (training wall time of that pass,
            excluding the history evaluation), ``train_seconds`` (cumulative), and with
            ``history_docs > 0`` also ``bound`` (summed per-document bound on the sample),
            ``n_tokens``, ``per_word_bound`` and ``perplexity`` (an upper bound).
        train_seconds_: wall seconds spent in gensim training, excluding history evaluation.
    """

    name: ClassVar[str] = "lda"
    bound_kind: ClassVar[str] = "variational bound"
    supports_warm_start: ClassVar[bool] = True
    reads_shards: ClassVar[bool] = True
    epochs_setting: ClassVar[str] = "passes"
    fixed_topics_fit: ClassVar[str | None] = None

    # ------------------------------------------------------------ settings
    def get_params(self) -> dict:
        """The settings, JSON-ready (arrays become lists)."""
        def plain(v):
            return v.tolist() if isinstance(v, np.ndarray) else v

        params = {k: plain(v) for k, v in super().get_params().items()}
        if self.seed_topics is not None:
            params["seed_topics"] = [[int(j) for j in t] for t in self.seed_topics]
        return params

    def check_params(self, n_words: int | None = None) -> None:
        """Validate every setting in one place (the priors' shapes too once ``n_words`` is known);
        raise :class:`ConfigError` with the fix."""
        super().check_params()
        self._check_prior("alpha", self.alpha, _ALPHA_NAMES, [(self.n_topics,)])
        eta_shapes = [(n_words,), (self.n_topics, n_words)] if n_words else None
        self._check_prior("eta", self.eta, _ETA_NAMES, eta_shapes)
        if self.workers > 1 and isinstance(self.alpha, str) and self.alpha == "auto":
            raise ConfigError("LDA alpha='auto' needs workers=1 (gensim's LdaMulticore cannot learn alpha)")
        check_seed_setting(self.seed_topics, self.seed_strength, self.n_topics, n_words)
        if self.seed_topics and isinstance(self.eta, str) and self.eta == "auto":
            raise ConfigError("LDA eta='auto' cannot be used with seed_topics (learning η would undo the seeds); "
                              "leave eta at its default")

    @staticmethod
    def _check_prior(name, value, names, shapes) -> None:
        if value is None and name == "eta":
            return
        if isinstance(value, str):
            if value not in names:
                raise ConfigError(f"LDA {name} must be one of {', '.join(names)}, a positive number or an array; got {value!r}")
            return
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if not value > 0:
                raise ConfigError(f"LDA {name} must be positive, got {value!r}")
            return
        arr = np.asarray(value, dtype=np.float64)
        if shapes is not None and arr.shape not in shapes:
            raise ConfigError(f"LDA {name} array has shape {arr.shape}, expected one of {shapes}")
        if not np.all(arr > 0):
            raise ConfigError(f"LDA {name} values must all be positive")

    # ------------------------------------------------------------ input checks
    def _check_X(self, X, fitted: bool = True) -> sp.csr_matrix:
        if not sp.issparse(X):
            X = np.asarray(X)
            if X.ndim != 2:
                raise ValueError(f"expected a 2-D document-term matrix, got shape {X.shape}")
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        if X.nnz and X.data.min() < 0:
            raise ValueError("the document-term matrix has negative counts")
        return self._check_words(X, fitted)

    def _check_words(self, X, fitted: bool):
        """``X`` after checking that a fitted model has its vocabulary size."""
        if fitted:
            if not hasattr(self, "model_"):
                raise RuntimeError("this LDA model is not fitted yet; call fit(X) first")
            if X.shape[1] != self.n_words_:
                raise ValueError(
                    f"the matrix has {X.shape[1]} words but the model was trained on {self.n_words_}; "
                    "use the vocabulary of the training corpus"
                )
        return X

    # ------------------------------------------------------------ training
    def _build_model(self, n_words: int, alpha, eta):
        """An untrained gensim model for ``n_words`` words with the given priors."""
        from gensim.models import LdaModel, LdaMulticore

        common = dict(
            num_topics=self.n_topics,
            id2word={i: str(i) for i in range(n_words)},
            chunksize=self.chunksize,
            passes=self.passes,
            alpha=alpha,
            eta=eta,
            iterations=self.iterations,
            eval_every=self.eval_every,
            random_state=self.seed,
        )
        if self.workers > 1:
            return LdaMulticore(workers=self.workers, **common)
        return LdaModel(**common)

    def fit(self, X: sp.csr_matrix, progress: bool = True, warm_start: bool = False) -> "LDA":
        """Learn K topics from the count matrix ``X`` (n_docs × n_words, CSR).

        Args:
            X: csr_matrix (n_docs, n_words) of counts, or a row source over a corpus's shards
                (:mod:`topicvae.corpus.rows`), streamed to gensim a shard at a time with the
                same result as the matrix in memory.
            progress: show a progress bar over passes (tqdm, on stderr).
            warm_start: train on from the gensim model this one holds (``model_``, from an earlier
                ``fit``, ``load`` or :meth:`merged`) instead of a fresh one: ``passes`` more passes
                of online VB over ``X`` (gensim's ``LdaModel.update``, which blends the documents'
                statistics into λ at the learning rate its update count has reached, so the old
                documents are not simply forgotten); η and α stay the model's; ``history_``
                starts afresh.
        """
        from tqdm.auto import tqdm

        if warm_start and not hasattr(self, "model_"):
            raise RunError("warm_start needs a fitted LDA model (model_); fit or load one first")
        # (a row source is a saved corpus's shards, whose counts were checked when it was written)
        X = self._check_words(X, warm_start) if is_row_source(X) else self._check_X(X, fitted=warm_start)
        n_docs, n_words = X.shape
        self.check_params(n_words)
        if n_docs == 0 or not _has_tokens(X):
            raise ValueError("cannot fit LDA on an empty corpus (no documents or no tokens)")

        if warm_start and getattr(self, "fixed_topics_", False):  # merged topics kept as merged: nothing to fit
            self.history_, self.train_seconds_ = [], 0.0
            return self
        if not warm_start:
            totals = word_totals(X) if self.seed_topics else None  # (counted once: η and the topics' start both use them)
            self.model_ = self._build_model(n_words, self._alpha_setting(), self._eta_setting(totals))
            if self.seed_topics:
                self._start_seeded_topics(X, totals)
        else:  # the E-step's random starts follow this training's seed, not the first one's
            from gensim.utils import get_random_state

            self.model_.random_state = get_random_state(self.seed)
        self.n_words_ = n_words
        self.history_ = []

        passes = _PassHistory(self, self._history_sample(X, n_docs), tqdm(total=self.passes, desc="LDA passes",
                                                                          unit="pass", disable=not progress))
        try:
            # (a warm start may have changed these; LdaMulticore.update takes them from the model only)
            self.model_.passes, self.model_.chunksize, self.model_.iterations = self.passes, self.chunksize, self.iterations
            with self._threads():
                self.model_.update(CSRCorpus(X, on_pass_start=passes.start))
            passes.end()
        finally:
            passes.bar.close()
        self.train_seconds_ = passes.train_seconds
        self.topic_word_ = _normalise(self.model_.get_topics())
        return self

    def _history_sample(self, X, n_docs: int):
        """The fixed, seeded sample of ``history_docs`` training documents that ``history_`` measures the
        bound on after every pass (None when ``history_docs`` is 0)."""
        n_eval = min(self.history_docs, n_docs)
        if not n_eval:
            return None
        rows = np.sort(np.random.default_rng(self.seed).choice(n_docs, size=n_eval, replace=False))
        return X.take(rows) if is_row_source(X) else X[rows]

    def _start_seeded_topics(self, X, totals: np.ndarray) -> None:
        """Start each seeded topic from the words its seed documents (those holding any of its seed
        words) hold more often than the corpus at large, in place of gensim's random start, and let
        the first E-step see η (gensim's uses the start alone). From a random start the seed words
        form a topic of their own while their documents' other words go to other topics (20
        Newsgroups: the seeded topics were the argmax of almost no document). ``totals``: each word's
        count over ``X`` (:func:`word_totals`)."""
        for k, counts in enumerate(seed_document_counts(X, self.seed_topics)):
            excess = np.clip(counts - totals * (counts.sum() / totals.sum()), 0, None)
            self.model_.state.sstats[k] = excess + 1.0  # (+1: the mean of gensim's random start)
        self.model_.sync_state()

    def _alpha_setting(self):
        return np.asarray(self.alpha, dtype=np.float32) if _is_array(self.alpha) else self.alpha

    def _eta_setting(self, totals: np.ndarray | None):
        """η for a fresh model: the setting as gensim takes it, or with ``seed_topics`` the seeded K × V matrix
        (from ``totals``, each word's count over the training documents, :func:`word_totals`)."""
        eta = np.asarray(self.eta, dtype=np.float32) if _is_array(self.eta) else self.eta
        if not self.seed_topics:
            return eta
        base = 1.0 / self.n_topics if eta is None or isinstance(eta, str) else eta  # gensim's 'symmetric' is 1/K
        return seeded_eta(base, self.n_topics, self.seed_topics, float(self.seed_strength), totals).astype(np.float32)

    # ------------------------------------------------------------ merging
    def merged(self, groups, X=None, fixed_topics: bool = False) -> "LDA":
        """A model of ``len(groups)`` topics whose topic g is the union of this model's topics
        ``groups[g]`` (a partition of 0..K-1), ready as it is: its variational parameters are its
        parts' summed (sstats, so λ'_g = η' + Σ_{k∈G} sstats_k) and so is α (the sums of a Dirichlet's
        components are Dirichlet with the summed parameters), so a document's θ'_g comes out close to
        Σ_{k∈G} θ_k. η is the setting's, for K2 topics. With ``fixed_topics``, ``fit(X, warm_start=True)``
        keeps it as it is (θ is inferred per document given λ: there is no encoder to refit); without, it trains on
        with ``passes`` passes of online VB. ``X`` is not needed. This model is not changed."""
        if not hasattr(self, "model_"):
            raise RuntimeError("this LDA model is not fitted yet; call fit(X) first")
        groups = self._merge_partition(groups)
        old = self.model_

        def summed(rows: np.ndarray) -> np.ndarray:
            return np.stack([rows[g].sum(axis=0) for g in groups])

        alpha = summed(np.asarray(old.alpha, dtype=np.float64))
        eta = summed(np.asarray(self.eta, dtype=np.float64)) if np.ndim(self.eta) == 2 else self.eta
        new = type(self)(**{**self.get_params(), "n_topics": len(groups), "alpha": alpha.tolist(), "eta": eta})
        model = new._build_model(self.n_words_, alpha.astype(old.dtype), new._eta_setting(None))
        model.state.sstats[...] = summed(np.asarray(old.state.sstats, dtype=np.float64))
        model.state.numdocs, model.num_updates = old.state.numdocs, old.num_updates
        model.sync_state()
        new.model_, new.n_words_, new.history_, new.fixed_topics_ = model, self.n_words_, [], fixed_topics
        new.topic_word_ = _normalise(model.get_topics())
        return new

    # ------------------------------------------------------------ inference
    @contextlib.contextmanager
    def _seeded(self):
        """Run gensim inference from a fixed start (γ = 1 for every document), leaving the
        training RNG untouched: a document's θ then depends on that document alone."""
        saved = self.model_.random_state
        self.model_.random_state = _UniformStart()
        try:
            yield
        finally:
            self.model_.random_state = saved

    @contextlib.contextmanager
    def _threads(self):
        """Run the block with at most ``threads`` BLAS threads (None: as the library sets them)."""
        if self.threads is None:
            yield
            return
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(self.threads)):
            yield

    def _gamma(self, X: sp.csr_matrix) -> np.ndarray:
        """Variational Dirichlet parameters γ (n_docs, K) from gensim's E-step, batched by ``chunksize``.

        Every document starts from γ = 1 (the mean of gensim's random start), so the same
        document always gets the same γ, wherever it sits in ``X``.
        """
        n = X.shape[0]
        gamma = np.empty((n, self.n_topics), dtype=np.float64)
        with self._seeded(), self._threads():
            for start in range(0, n, self.chunksize):
                stop = min(start + self.chunksize, n)
                gamma[start:stop] = self.model_.inference(csr_chunk(X, start, stop))[0]
        return gamma

    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        """θ: ndarray (n_docs, n_topics), rows sum to 1 (the normalised variational γ).

        Deterministic: the E-step starts every document from the same point, so a
        document's θ depends on that document alone, not on the others in ``X``.
        """
        X = self._check_X(X)
        gamma = self._gamma(X)
        return gamma / gamma.sum(axis=1, keepdims=True)

    def word_distribution(self, theta) -> np.ndarray:
        """p(w | θ) = Σ_k θ_k φ_k, LDA's mixture of its topics: float64 (n, n_words), rows sum to 1."""
        if not hasattr(self, "model_"):
            raise RuntimeError("this LDA model is not fitted yet; call fit(X) first")
        p = self._topic_mixtures(theta) @ self.topic_word_
        return p / p.sum(axis=1, keepdims=True)

    def log_bound(self, X: sp.csr_matrix) -> tuple[float, int]:
        """(Σ_d bound_d, Σ_d N_d): the per-document variational bound of ``X`` and its token count.

        ``bound_d = E_q[log p(w_d | θ, β)] + E_q[log p(θ_d | α) − log q(θ_d | γ_d)]`` as in
        gensim's ``LdaModel.bound``, but without the corpus-level topic term
        ``E_q[log p(β | η) − log q(β | λ)]``, so that ``exp(−Σ bound / Σ N)``
        (:func:`topicvae.scoring.metrics.perplexity`) is the per-document perplexity
        bound. (gensim's ``log_perplexity`` adds the topic term and reports ``2**(−bound)``.)
        """
        if hasattr(X, "blocks"):  # a row source (a sharded corpus's rows): each document's bound, a shard at a time
            bound, tokens = 0.0, 0
            for B, rows in X.blocks():
                B = self._check_X(B if rows is None else B[rows])
                bound += float(self._doc_bounds(B, self._gamma(B)).sum())
                tokens += int(round(B.sum()))
            return bound, tokens
        X = self._check_X(X)
        gamma = self._gamma(X)
        return float(self._doc_bounds(X, gamma).sum()), int(round(X.sum()))

    def _doc_bounds(self, X: sp.csr_matrix, gamma: np.ndarray, block: int = 2000) -> np.ndarray:
        """Per-document bound (n_docs,) given γ; vectorised over the non-zeros of ``X``."""
        from scipy.special import gammaln, psi

        lam = self.model_.state.get_lambda().astype(np.float64)
        elog_beta = psi(lam) - psi(lam.sum(axis=1))[:, None]  # (K, V)
        beta_max = elog_beta.max(axis=0)  # (V,)
        exp_beta = np.exp(elog_beta - beta_max)  # (K, V), each column's max is 1
        alpha = np.asarray(self.model_.alpha, dtype=np.float64)
        elog_theta = psi(gamma) - psi(gamma.sum(axis=1))[:, None]  # (n, K)

        out = (
            ((alpha - gamma) * elog_theta).sum(axis=1)
            + (gammaln(gamma) - gammaln(alpha)).sum(axis=1)
            + gammaln(alpha.sum())
            - gammaln(gamma.sum(axis=1))
        )
        n = X.shape[0]
        for start in range(0, n, block):
            stop = min(start + block, n)
            sub = X[start:stop]
            rows = np.repeat(np.arange(stop - start), np.diff(sub.indptr))
            cols = sub.indices
            et = elog_theta[start:stop]
            theta_max = et.max(axis=1)
            exp_theta = np.exp(et - theta_max[:, None])
            # log Σ_k exp(Elogθ_dk + Elogβ_kw), shifted by both maxima for stability
            s = np.einsum("ik,ki->i", exp_theta[rows], exp_beta[:, cols])
            lse = np.log(s) + theta_max[rows] + beta_max[cols]
            out[start:stop] += np.bincount(rows, weights=sub.data * lse, minlength=stop - start)
        return out

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model into the folder ``path`` (created if needed).

        Files: ``lda.json`` (settings, sizes, history), ``lda_sstats.npy`` (K × V),
        ``lda_alpha.npy`` (K,), ``lda_eta.npy`` (V,) or (K, V). No pickles.
        """
        import gensim

        if not hasattr(self, "model_"):
            raise RuntimeError("this LDA model is not fitted yet; call fit(X) first")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        m = self.model_
        np.save(folder / SSTATS_FILE, np.asarray(m.state.sstats), allow_pickle=False)
        np.save(folder / ALPHA_FILE, np.asarray(m.alpha), allow_pickle=False)
        np.save(folder / ETA_FILE, np.asarray(m.eta), allow_pickle=False)
        settings = self.get_params()
        for name, fname in (("alpha", ALPHA_FILE), ("eta", ETA_FILE)):
            if _is_array(settings[name]):  # user-given arrays live in the .npy file, not the JSON
                settings[name] = {"array_file": fname}
        meta = {
            "format_version": FORMAT_VERSION,
            "model": "lda",
            "gensim_version": gensim.__version__,
            "settings": settings,
            "n_words": self.n_words_,
            "dtype": str(np.dtype(m.dtype)),
            "numdocs": int(m.state.numdocs),
            "num_updates": int(m.num_updates),
            "train_seconds": getattr(self, "train_seconds_", None),
            "history": self.history_,
        }
        (folder / SETTINGS_FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, path: str | Path) -> "LDA":
        """Read a model written by :meth:`save`; its ``transform`` equals the saved model's."""
        folder = Path(path)
        missing = [f for f in (SETTINGS_FILE, SSTATS_FILE, ALPHA_FILE, ETA_FILE) if not (folder / f).is_file()]
        if missing:
            raise RunError(f"no saved LDA model in {folder} (missing {', '.join(missing)})")
        try:
            meta = json.loads((folder / SETTINGS_FILE).read_text())
            sstats = np.load(folder / SSTATS_FILE, allow_pickle=False)
            alpha = np.load(folder / ALPHA_FILE, allow_pickle=False)
            eta = np.load(folder / ETA_FILE, allow_pickle=False)
            settings, n_words = dict(meta["settings"]), int(meta["n_words"])
        except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
            raise RunError(f"the LDA model in {folder} is damaged ({exc}); train it again") from exc
        if meta.get("format_version") != FORMAT_VERSION:
            raise RunError(f"the LDA model in {folder} has format {meta.get('format_version')!r}, "
                           f"this version reads {FORMAT_VERSION}; train it again")
        for name, arr in (("alpha", alpha), ("eta", eta)):
            if isinstance(settings.get(name), dict):
                settings[name] = arr
        self = cls(**settings)
        if sstats.shape != (self.n_topics, n_words) or alpha.shape != (self.n_topics,):
            raise RunError(f"the LDA model in {folder} is damaged (array shapes do not match its settings)")

        from gensim.models import LdaModel

        dtype = np.dtype(meta.get("dtype", "float32"))
        model = LdaModel(
            num_topics=self.n_topics,
            id2word={i: str(i) for i in range(n_words)},
            chunksize=self.chunksize,
            passes=self.passes,
            alpha=alpha.astype(dtype),
            eta=eta.astype(dtype),
            iterations=self.iterations,
            eval_every=self.eval_every,
            random_state=self.seed,
            dtype=dtype,
        )
        model.state.sstats[...] = sstats
        model.state.numdocs = meta.get("numdocs", 0)
        model.num_updates = meta.get("num_updates", 0)
        model.sync_state()
        self.model_ = model
        self.n_words_ = n_words
        self.history_ = meta.get("history", [])
        self.train_seconds_ = meta.get("train_seconds")
        self.topic_word_ = _normalise(model.get_topics())
        return self


def _has_tokens(X) -> bool:
    """Whether any document of ``X`` (a matrix or a row source) holds a word, read until one does."""
    return any((shard if rows is None else shard[rows]).nnz for shard, rows in blocks(X))


def seed_document_counts(X, seed_topics: list[list[int]]) -> list[np.ndarray]:
    """For each seeded topic, the word counts (float64 (V,)) over the documents of ``X`` (a matrix or
    a row source, read a shard at a time) that hold any of its seed words."""
    out = [np.zeros(X.shape[1]) for _ in seed_topics]
    for shard, rows in blocks(X):
        shard = shard if rows is None else shard[rows]
        for total, words in zip(out, seed_topics):
            docs = np.flatnonzero(shard[:, list(words)].getnnz(axis=1) > 0)
            total += np.asarray(shard[docs].sum(axis=0), dtype=np.float64).ravel()
    return out


def seeded_eta(base, n_topics: int, seed_topics: list[list[int]], strength: float,
               counts: np.ndarray) -> np.ndarray:
    """The seeded-LDA topic-word prior (K × V) for topics 0 .. len(seed_topics) − 1.

    ``base`` (a number, V values or a K × V matrix) everywhere except at seed words: there topic k
    gets its own seed words' ``base + strength · counts[w]`` (pseudo-counts in proportion to how
    often the word occurs, so the pull is alike for frequent and rare seeds and for corpora of any
    size) and every other topic ``base · SEED_ELSEWHERE``, so that the seed words' tokens, and the
    words they occur with, gather in topic k.
    """
    prior = np.broadcast_to(np.asarray(base, dtype=np.float64), (n_topics, len(counts)))
    eta = prior.copy()
    seeded = sorted({int(j) for words in seed_topics for j in words})
    eta[:, seeded] *= SEED_ELSEWHERE
    for k, words in enumerate(seed_topics):
        words = np.asarray(words, dtype=np.int64)
        eta[k, words] = prior[k, words] + strength * counts[words]
    return eta


def _is_array(v) -> bool:
    return isinstance(v, (list, tuple, np.ndarray))


def _normalise(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a / a.sum(axis=1, keepdims=True)
