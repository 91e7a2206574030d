"""The 2-D map of a run's documents, computed once and kept in the run folder.

:func:`document_map` embeds the documents (UMAP when ``umap-learn`` imports, else PCA)
and keeps the result as ``doc_map.npy`` with ``doc_map.json``; a cache made from
another version of the source array is ignored.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from topicvae import paths
from topicvae.analysis.topics import flip_to_positive
from topicvae.errors import ConfigError
from topicvae.runs import DOC_TOPIC_FILE, Z_MEAN_FILE, Run, rows_of

logger = logging.getLogger(__name__)

MAP_FILE = "doc_map.npy"
MAP_META_FILE = "doc_map.json"
MAP_METHODS = ("auto", "umap", "pca")
MAP_SOURCES = ("theta", "mu")


@dataclass
class DocMap:
    """2-D coordinates of every document of a run.

    Attributes:
        coords: (n_docs, 2) float32, corpus row order.
        meta: method ('umap' or 'pca'), source ('theta' or 'mu'), fingerprint of the
            source array, n_docs, seconds to compute, created.
        from_cache: True when read from the run folder rather than computed now.
    """

    coords: np.ndarray
    meta: dict = field(default_factory=dict)
    from_cache: bool = False


def umap_available() -> bool:
    """True when ``umap`` imports (it needs numba, which can be installed yet broken)."""
    import importlib

    try:
        importlib.import_module("umap")
    except Exception:  # ImportError, or a broken numba install
        return False
    return True


def _map_input(run: Run, source: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, Path]:
    """The array to embed for ``source`` (of the documents ``rows``, sorted; None: all), and the run file
    it comes from (for the cache's fingerprint). The file is memory-mapped, so only those rows are read."""
    if source == "theta":
        X = run.array(DOC_TOPIC_FILE, mmap_mode="r")  # (RunError, one line, when it is missing)
        X = X if rows is None else rows_of(X, rows)
        # square roots of θ: Euclidean distance between them is the Hellinger distance
        return np.sqrt(np.clip(np.asarray(X, dtype=np.float64), 0.0, None)), run.path / DOC_TOPIC_FILE
    if source == "mu":
        X = run.array(Z_MEAN_FILE, required=False, mmap_mode="r")
        if X is None:
            raise ConfigError(f"run {run.name!r} ({run.model_name}) has no posterior mean μ; map it by θ")
        X = np.asarray(X if rows is None else rows_of(X, rows), dtype=np.float64)
        return (X - X.mean(axis=0)) / np.clip(X.std(axis=0), 1e-12, None), run.path / Z_MEAN_FILE
    raise ConfigError(f"unknown map source {source!r}; use one of {', '.join(MAP_SOURCES)}")


def _pca_2d(X: np.ndarray) -> np.ndarray:
    """The first two principal components of the rows of ``X`` (zeros where X has fewer)."""
    n = X.shape[0]
    Xc = X - X.mean(axis=0, keepdims=True)
    # thin SVD of an (n, K) matrix with small K: exact and deterministic
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    Y = flip_to_positive(Xc @ vt[:2].T)
    if Y.shape[1] < 2:
        Y = np.hstack([Y, np.zeros((n, 2 - Y.shape[1]))])
    return Y.astype(np.float32)


def embed_2d(X: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """(n, 2) embedding of the rows of ``X`` by ``umap`` or ``pca``."""
    n = X.shape[0]
    if n < 3 or X.shape[1] < 2:
        out = np.zeros((n, 2), dtype=np.float32)
        m = min(2, X.shape[1])
        out[:, :m] = X[:, :m]
        return out
    if method == "umap":
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, random_state=seed)
        return np.asarray(reducer.fit_transform(X), dtype=np.float32)
    if method == "pca":
        return _pca_2d(X)
    raise ConfigError(f"unknown map method {method!r}; use one of {', '.join(MAP_METHODS)}")


def _rows_digest(rows: np.ndarray | None) -> str | None:
    """sha256 of the mapped rows (None: every document), so that a cache of another sample is not taken."""
    import hashlib

    return None if rows is None else hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()


def read_map_cache(run: Run, source: str = "theta", method: str = "auto", rows: np.ndarray | None = None) -> DocMap | None:
    """The cached map of ``run`` if it was made from the current source array (same sha256) for the same
    documents (``rows``; None: all)."""
    meta_file, map_file = run.path / MAP_META_FILE, run.path / MAP_FILE
    if not meta_file.is_file() or not map_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text())
        coords = np.load(map_file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable document map cache of run %s: %s", run.name, exc)
        return None
    src_file = run.path / (DOC_TOPIC_FILE if source == "theta" else Z_MEAN_FILE)
    if meta.get("source") != source or (method != "auto" and meta.get("method") != method):
        return None
    if meta.get("rows_sha256") != _rows_digest(rows):
        return None
    if not src_file.is_file() or meta.get("source_sha256") != paths.sha256_file(src_file):
        return None
    if coords.shape != (meta.get("n_docs"), 2):
        return None
    return DocMap(coords=coords, meta=meta, from_cache=True)


def _atomic_write(folder: Path, fname: str, write) -> None:
    """``write(temporary path)``, then rename it to ``folder/fname``."""
    with paths.atomic_file(folder / fname) as tmp:
        write(tmp)


def _write_map_cache(run: Run, coords: np.ndarray, meta: dict) -> None:
    """Keep the map in the run folder; a folder that cannot be written is noted in ``meta``, not raised."""
    def write_coords(p: Path) -> None:
        with open(p, "wb") as f:
            np.save(f, coords, allow_pickle=False)

    try:
        # coordinates first, description last: a description always names complete coordinates
        _atomic_write(run.path, MAP_FILE, write_coords)
        _atomic_write(run.path, MAP_META_FILE, lambda p: p.write_text(json.dumps(meta, indent=1)))
    except OSError as exc:
        logger.warning("could not cache the document map in %s: %s", run.path, exc)
        meta["cache_error"] = str(exc)


def _check_choice(method: str, source: str) -> None:
    """ConfigError for a map method or source that does not exist."""
    if method not in MAP_METHODS:
        raise ConfigError(f"unknown map method {method!r}; use one of {', '.join(MAP_METHODS)}")
    if source not in MAP_SOURCES:
        raise ConfigError(f"unknown map source {source!r}; use one of {', '.join(MAP_SOURCES)}")


def _resolve_method(method: str) -> str:
    """``umap`` or ``pca``: ``auto`` becomes UMAP when it imports; ConfigError when UMAP is asked for but absent."""
    chosen = method if method != "auto" else ("umap" if umap_available() else "pca")
    if chosen == "umap" and not umap_available():
        raise ConfigError("UMAP is not installed (pip install umap-learn); use the PCA map")
    return chosen


def document_map(run: Run, source: str = "theta", method: str = "auto", refresh: bool = False,
                 seed: int = 0, rows: np.ndarray | None = None) -> DocMap:
    """2-D map of the run's documents (or of those ``rows``: the dashboard's sample of a large run),
    computed once and cached in the run folder.

    The embedding is UMAP when the ``umap-learn`` package imports, else PCA, of √θ
    (so that distances are Hellinger distances between topic mixtures) or of the
    standardised posterior mean μ of the VAE. The result is written to
    ``doc_map.npy`` with ``doc_map.json`` (method, source, sha256 of the source array)
    by write-then-rename; a cache made from another version of the source array is
    ignored. A run folder that cannot be written is not an error: the map is then
    recomputed on the next call.

    Args:
        run: the run.
        source: ``theta`` or ``mu``.
        method: ``auto`` (UMAP if installed, else PCA, or whatever the cache holds), ``umap`` or ``pca``.
        refresh: recompute even when a cache exists.
        seed: UMAP's random state.
        rows: sorted row indices of the documents to map (None: all); ``coords[i]`` is row ``rows[i]``.
    """
    _check_choice(method, source)
    if not refresh:
        cached = read_map_cache(run, source, method, rows)
        if cached is not None:
            return cached
    chosen = _resolve_method(method)
    X, src_file = _map_input(run, source, rows)
    t0 = time.perf_counter()
    coords = embed_2d(X, chosen, seed=seed)
    seconds = time.perf_counter() - t0
    meta = {"method": chosen, "source": source, "source_file": src_file.name,
            "source_sha256": paths.sha256_file(src_file), "n_docs": int(coords.shape[0]),
            "rows_sha256": _rows_digest(rows),
            "seconds": round(seconds, 3), "seed": seed,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    _write_map_cache(run, coords, meta)
    logger.info("document map of run %s: %s of %s for %d documents in %.1fs", run.name, chosen, source,
                coords.shape[0], seconds)
    return DocMap(coords=coords, meta=meta, from_cache=False)
