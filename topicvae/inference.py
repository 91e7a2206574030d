"""Topic mixtures for new documents, with a run's own preprocessing and vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .config import PreprocessSettings, from_dict
from .corpus import read_manifest
from .errors import RunError


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


def vectorize_texts(texts: Sequence[str], vocab: list[str], settings: PreprocessSettings,
                    n_process: int = 1) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of ``texts`` over ``vocab`` after the given preprocessing, and tokens per text."""
    from .ingestion import tokenize_texts

    tokenized = tokenize_texts(list(texts), settings, n_process=n_process)
    index = {w: j for j, w in enumerate(vocab)}
    col_of_type = np.array([index.get(t, -1) for t in tokenized.types], dtype=np.int64)
    n_tokens = np.array([len(a) for a in tokenized.ids], dtype=np.int64)
    rows, cols = [], []
    for i, ids in enumerate(tokenized.ids):
        c = col_of_type[ids] if len(ids) else np.zeros(0, np.int64)
        c = c[c >= 0]
        rows.append(np.full(len(c), i))
        cols.append(c)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    X = sp.csr_matrix((np.ones(len(r), dtype=np.int32), (r, c)), shape=(len(texts), len(vocab)))
    X.sum_duplicates()
    return X, n_tokens


def infer_texts(run, texts: Sequence[str], corpora_dir: str | Path | None = None, n_process: int = 1) -> Inferred:
    """θ of new ``texts`` under ``run`` (the same input always gives the same output)."""
    settings = run_preprocess_settings(run, corpora_dir)
    X, n_tokens = vectorize_texts(texts, run.vocab, settings, n_process=n_process)
    n_known = np.asarray(X.sum(axis=1)).ravel()
    model = run.model
    theta = np.asarray(model.transform(X), dtype=np.float64)
    z_mean, z_std = model.posterior(X) or (None, None)
    return Inferred(theta=theta, bow=X, n_tokens=n_tokens, n_known=n_known, z_mean=z_mean, z_std=z_std)
