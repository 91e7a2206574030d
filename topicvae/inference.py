"""Topic mixtures for new documents, with a run's own preprocessing, phrases and vocabulary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from . import paths
from .text.settings import PreprocessSettings, from_dict
from .corpus import read_manifest
from .shards import bow_checksum
from .errors import RunError, TopicVAEError
from .text.phrases import DELIMITER as PHRASE_DELIMITER
from .text.vectorizer import Vectorizer

log = logging.getLogger(__name__)


@dataclass
class Inferred:
    """θ and counts for a batch of new documents.

    Attributes:
        theta: (n, K) topic mixtures, rows sum to 1 (uniform for documents with no known word).
        bow: (n, V) counts over the run's vocabulary.
        n_tokens: (n,) tokens after preprocessing.
        n_known: (n,) of those, tokens in the vocabulary.
        z_mean, z_std: (n, K) posterior of the VAE, else None.
    """

    theta: np.ndarray
    bow: sp.csr_matrix
    n_tokens: np.ndarray
    n_known: np.ndarray
    z_mean: np.ndarray | None = None
    z_std: np.ndarray | None = None

    @property
    def n_unknown(self) -> int:
        return int(self.n_tokens.sum() - self.n_known.sum())


def run_preprocess_settings(run, corpora_dir: str | Path | None = None) -> PreprocessSettings:
    """The preprocessing the run's corpus used: from the run's config, else from the corpus manifest."""
    settings = run.config.get("preprocess")
    if settings is None:
        try:
            settings = read_manifest(run.config["corpus"], corpora_dir)["preprocess"]
        except Exception as exc:  # corpus gone: say what is missing
            raise RunError(f"run {run.name!r} does not record its preprocessing and its corpus "
                           f"{run.config.get('corpus')!r} is gone ({exc})") from exc
    return from_dict(PreprocessSettings, settings)


def run_vectorizer(run, corpora_dir: str | Path | None = None) -> Vectorizer:
    """The :class:`Vectorizer` that turns new text into counts over ``run``'s vocabulary.

    The phrase model comes from the run's corpus (its ``vectorizer.json``) while that corpus
    is still the one the run was trained on; the preprocessing is what the run records
    (:func:`run_preprocess_settings`); the vocabulary is the run's own, in its column order.
    Without the corpus's phrase model, a vocabulary holding phrases is used without joining
    them, with a warning: θ then differs from the run's for texts with those phrases.
    """
    saved = _training_vectorizer(run, corpora_dir)
    phrases = saved.phrases if saved is not None else None
    if phrases is None and any(PHRASE_DELIMITER in w for w in run.vocab):
        log.warning("run %s has phrases in its vocabulary, but the phrase model of its corpus %r is not "
                    "there (the corpus is gone or changed, or was ingested before phrase models were saved): "
                    "phrases in new text are not joined", run.name, run.config.get("corpus"))
    return Vectorizer(run_preprocess_settings(run, corpora_dir), saved.vocab if saved is not None else None,
                      phrases=phrases, vocabulary=run.vocab)


def _training_vectorizer(run, corpora_dir: str | Path | None) -> Vectorizer | None:
    """The saved vectorizer of the run's corpus; None when that corpus is gone, damaged or has
    changed since the run was trained (its phrases could then be another corpus's)."""
    name = run.config.get("corpus")
    try:
        manifest = read_manifest(name, corpora_dir)
        if bow_checksum(manifest) != run.config.get("corpus_checksum"):
            return None
        # the same bow checksum means the same vocabulary: the run's stands in for vocab.json
        return Vectorizer.for_corpus(paths.corpora_dir(corpora_dir) / name, manifest, run.vocab)
    except (TopicVAEError, OSError):
        return None


def vectorize_texts(texts: Sequence[str], vocab: list[str], settings: PreprocessSettings,
                    n_process: int = 1) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of ``texts`` over ``vocab`` after the given preprocessing (no phrases), and tokens per text."""
    return Vectorizer(settings, vocabulary=vocab).count(texts, n_process=n_process)


def infer_texts(run, texts: Sequence[str], corpora_dir: str | Path | None = None, n_process: int = 1) -> Inferred:
    """θ of new ``texts`` under ``run`` (the same input always gives the same output)."""
    X, n_tokens = run_vectorizer(run, corpora_dir).count(texts, n_process=n_process)
    n_known = np.asarray(X.sum(axis=1)).ravel()
    model = run.model
    theta = np.asarray(model.transform(X), dtype=np.float64)
    z_mean, z_std = model.posterior(X) or (None, None)
    return Inferred(theta=theta, bow=X, n_tokens=n_tokens, n_known=n_known, z_mean=z_mean, z_std=z_std)
