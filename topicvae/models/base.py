"""The interface every topic model in topicvae follows.

Models take a ``scipy.sparse.csr_matrix`` of shape (n_docs, n_words) with integer
counts. Settings are stored by the constructor only; learned state ends in ``_``
and appears in :meth:`fit`. Callers use only what this class declares (no probing
for optional methods): the defaults here say "this model has none".
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
import scipy.sparse as sp

from topicvae.errors import ConfigError
from topicvae.models import settings as declared


class TopicModel(ABC):
    """A topic model: documents → topic mixtures θ, topics → word distributions.

    Attributes set by ``fit``:
        topic_word_ : ndarray (n_topics, n_words), rows sum to 1: each topic's own word distribution,
            a function of the fitted parameters alone (no corpus statistic computed after training
            changes it). ``word_distribution(np.eye(K))`` equals it, or, for a model with a
            background (``background_`` not None), is proportional to ``topic_word_[k] * exp(background_)``.
        background_ : ndarray (n_words,) of log-weights every document adds, or None (the default).
        history_ : list of dicts, one per epoch (or pass), in order; empty when the model
            keeps none. Every entry has the same keys.
    """

    n_topics: int
    #: the model's name in the run registry (``topicvae train --model NAME``)
    name: ClassVar[str] = "model"
    #: whether ``fit(..., checkpoint=, resume=)`` can continue an interrupted training
    supports_resume: ClassVar[bool] = False
    #: whether ``fit(..., warm_start=True)`` trains on from the model's current state (a fitted,
    #: loaded or caller-built model) instead of starting afresh
    supports_warm_start: ClassVar[bool] = False
    #: whether ``fit`` takes a row source such as a corpus's shards on disk in place of a matrix
    #: (:mod:`topicvae.corpus.rows`) and reads it a shard at a time
    reads_shards: ClassVar[bool] = False
    #: the setting that counts passes over the training documents (what ``topicvae update --epochs`` sets)
    epochs_setting: ClassVar[str] = "epochs"
    #: what training a merged model on with its topics fixed (``merged(..., fixed_topics=True)``) still
    #: fits: the VAEs' encoder; None where nothing is left to fit (LDA: θ is inferred per document given the topics)
    fixed_topics_fit: ClassVar[str | None] = "encoder"
    #: what :meth:`log_bound` bounds, for the perplexity's description
    bound_kind: ClassVar[str] = "model bound"
    history_: list[dict]
    background_: np.ndarray | None = None

    def __init__(self, n_topics: int = 20, **settings):
        """Store the settings: those of this model in :mod:`topicvae.models.settings`, each with its
        default there; they are checked by :meth:`check_params` when the model fits. A setting the model
        does not take is refused (:class:`~topicvae.errors.ConfigError`), naming the models that take it."""
        own = self.param_names()
        unknown = [k for k in settings if k not in own]
        if unknown:
            raise ConfigError("; ".join(not_a_setting(self.name, k) for k in unknown))
        for name, value in {**declared.defaults(self.name), "n_topics": n_topics, **settings}.items():
            setattr(self, name, value)

    def __init_subclass__(cls, **kwargs):
        """The constructor's signature, for ``help()`` and ``inspect``: ``n_topics`` and the model's settings."""
        super().__init_subclass__(**kwargs)
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for name, default in declared.defaults(cls.name).items():
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD if name == "n_topics" else inspect.Parameter.KEYWORD_ONLY
            params.append(inspect.Parameter(name, kind, default=default))
        cls.__signature__ = inspect.Signature(params[1:])

    @classmethod
    def param_names(cls) -> list[str]:
        """The model's settings (:mod:`topicvae.models.settings`), ``n_topics`` first."""
        return declared.names(cls.name)

    def get_params(self) -> dict:
        """Every setting, JSON-ready (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in ((k, getattr(self, k)) for k in self.param_names())}

    @classmethod
    def checkpoint_problem(cls, path: Path) -> str | None:
        """Why the checkpoint file ``path`` written by ``fit(checkpoint=)`` cannot be resumed
        (unreadable, another format), or None (default: models without checkpoints have nothing to check)."""
        return None

    def check_params(self) -> None:
        """Raise :class:`~topicvae.errors.ConfigError` naming the first setting that cannot work: each checked
        against what its declaration accepts; a model adds the checks that involve the data or several
        settings."""
        reason = declared.check(self.name, {k: getattr(self, k) for k in self.param_names()})
        if reason:
            raise ConfigError(reason)

    def posterior(self, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean, standard deviation) of each document's latent z, or None for models without one."""
        return None

    def words_read(self) -> np.ndarray | None:
        """The word ids (columns of X) that :meth:`transform` reads, or None when it reads every word.
        A document with none of them gets the model's mixture for an empty document."""
        return None

    def log_bound(self, X: sp.csr_matrix) -> tuple[float, int] | None:
        """(summed lower bound of log p(X), number of tokens), or None for models without one."""
        return None

    @abstractmethod
    def fit(self, X: sp.csr_matrix, **kwargs) -> "TopicModel":
        """Learn topics from the document-term count matrix ``X`` (n_docs × n_words)."""

    @abstractmethod
    def word_distribution(self, theta: np.ndarray) -> np.ndarray:
        """p(w | θ) as the model computes it when it reconstructs a document: (n, n_words), rows sum to 1."""

    @abstractmethod
    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        """θ: (n_docs, n_topics), rows sum to 1; deterministic for a fitted model."""

    def fit_transform(self, X: sp.csr_matrix, **kwargs) -> np.ndarray:
        return self.fit(X, **kwargs).transform(X)

    def top_words(self, vocab: Sequence[str], n: int = 10) -> list[list[str]]:
        """The ``n`` most probable words of each topic, most probable first (the ``probability``
        representation; :func:`topicvae.scoring.representation.top_words` has the others)."""
        order = np.argsort(-self.topic_word_, axis=1, kind="stable")[:, :n]
        return [[vocab[j] for j in row] for row in order]

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the fitted model into the folder ``path`` (no pickles)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> "TopicModel":
        """Read a model written by :meth:`save`."""

    def merged(self, groups: Sequence[Sequence[int]], X: sp.csr_matrix, fixed_topics: bool = False) -> "TopicModel":
        """A fitted model of ``len(groups)`` topics, topic g the union of this model's topics
        ``groups[g]`` (a partition of 0..K-1), to train on with ``fit(warm_start=True)``;
        ``X``: the training documents; ``fixed_topics``: that training keeps the merged topics.
        Default: :class:`~topicvae.errors.ConfigError` (not supported)."""
        from topicvae.errors import ConfigError

        raise ConfigError(f"merging topics is not supported for {self.name} runs yet; "
                          "train a model with fewer topics instead")

    def _topic_mixtures(self, theta, dtype=np.float64) -> np.ndarray:
        """``theta`` for :meth:`word_distribution`: a (n, K) array of ``dtype`` (one row may come as
        (K,)), after checking it has one column per topic."""
        from topicvae.errors import ConfigError

        theta = np.atleast_2d(np.asarray(theta, dtype=dtype))
        if theta.ndim != 2 or theta.shape[1] != self.n_topics:
            raise ConfigError(f"theta must have {self.n_topics} columns (one per topic), got shape {theta.shape}")
        return theta

    def _merge_partition(self, groups: Sequence[Sequence[int]]) -> list[list[int]]:
        """``groups`` as sorted lists of ints, after checking :meth:`merged` may use them: the model has
        no seeded topics (their seeds belong to the old topics) and they split 0..K-1 into ≥ 2 groups."""
        from topicvae.errors import ConfigError

        if getattr(self, "seed_topics", None):
            raise ConfigError("runs with seeded topics cannot be merged yet (the seeds belong to the old "
                              "topics); train the seeded model with fewer topics instead")
        groups = [sorted(int(k) for k in g) for g in groups]
        if sorted(k for g in groups for k in g) != list(range(self.n_topics)) or len(groups) < 2:
            raise ConfigError(f"the groups must split the {self.n_topics} topics into at least 2 groups, "
                              f"each topic in exactly one; got {groups}")
        return groups


def not_a_setting(model: str, name: str, shown: str | None = None) -> str:
    """Why ``name`` (``shown`` so: the CLI's flag) is not a setting of ``model``, naming the models that take it."""
    owners = declared.owners(name)
    shown = shown or name
    return (f"{shown} is a setting of {', '.join(owners)}, not of {model}" if owners
            else f"{shown} is not a setting of any model")
