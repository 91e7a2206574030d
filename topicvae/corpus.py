"""The Corpus: a bag-of-words matrix, its vocabulary and its document table, on disk.

Layout of ``corpora/<name>/``::

    bow.npz          CSR matrix, documents × vocabulary, integer counts (scipy.sparse.save_npz)
    vocab.json       list of words; column j of bow is vocab[j]
    docs.parquet     one row per bow row: id, text, label, date, split, n_tokens, metadata
    vectorizer.json  the fitted text → counts transformer (settings, phrases, vocabulary);
                     absent in corpora ingested before it was saved
    manifest.json    source, settings, counts, checksums and sizes of the files, package version
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import paths
from .errors import CorpusError

if TYPE_CHECKING:
    from .text.vectorizer import Vectorizer

BOW_FILE = "bow.npz"
VOCAB_FILE = "vocab.json"
DOCS_FILE = "docs.parquet"
VECTORIZER_FILE = "vectorizer.json"  # the name topicvae.text.vectorizer writes
MANIFEST_FILE = "manifest.json"


@dataclass
class Corpus:
    """A saved (or about to be saved) corpus.

    Attributes:
        name: folder name under the corpora directory.
        bow: csr_matrix (n_docs, n_words) of int32 counts.
        vocab: list of n_words words.
        docs: DataFrame with n_docs rows (id, text, label, date, split, n_tokens, ...).
        manifest: dict of provenance, settings and counts.
        path: folder it was loaded from or saved to (None before saving).
        vectorizer: the fitted :class:`~topicvae.text.vectorizer.Vectorizer` to save with the
            corpus (``ingest`` sets it; :meth:`load` leaves it None, read it with
            :func:`topicvae.text.vectorizer.corpus_vectorizer`).
    """

    name: str
    bow: sp.csr_matrix
    vocab: list[str]
    docs: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    vectorizer: "Vectorizer | None" = None

    @property
    def n_docs(self) -> int:
        return self.bow.shape[0]

    @property
    def n_words(self) -> int:
        return self.bow.shape[1]

    @property
    def checksum(self) -> str | None:
        """sha256 of ``bow.npz`` as recorded in the manifest."""
        return self.manifest.get("checksums", {}).get(BOW_FILE)

    def split_rows(self, split: str) -> np.ndarray:
        """Row indices of the documents in ``split`` ('train', 'test', ...).

        A corpus without splits has every document in 'train'.
        """
        if "split" not in self.docs or self.docs["split"].isna().all():
            return np.arange(self.n_docs) if split == "train" else np.arange(0)
        return np.flatnonzero(self.docs["split"].to_numpy() == split)

    def has_split(self, split: str) -> bool:
        return len(self.split_rows(split)) > 0

    # ------------------------------------------------------------------ I/O
    def save(self, corpora_dir: str | Path | None = None, force: bool = False) -> Path:
        """Write the corpus atomically to ``<corpora_dir>/<name>/`` and return that path."""
        paths.check_name(self.name, "corpus name")
        final = paths.corpora_dir(corpora_dir) / self.name
        if final.exists() and not force:
            raise CorpusError(f"corpus {self.name!r} already exists in {final.parent}; pass --force to replace it")
        with paths.atomic_dir(final, force=force) as tmp:
            sp.save_npz(tmp / BOW_FILE, self.bow.tocsr(), compressed=True)
            (tmp / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False))
            self.docs = parquet_ready(self.docs)
            self.docs.to_parquet(tmp / DOCS_FILE, index=False)
            files = (BOW_FILE, VOCAB_FILE, DOCS_FILE)
            if self.vectorizer is not None:
                self.vectorizer.save(tmp)
                files += (VECTORIZER_FILE,)
            self.manifest.setdefault("checksums", {})
            self.manifest.setdefault("sizes", {})
            for fname in files:
                self.manifest["checksums"][fname] = paths.sha256_file(tmp / fname)
                self.manifest["sizes"][fname] = (tmp / fname).stat().st_size
            (tmp / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str))
        self.path = final
        return final

    @classmethod
    def load(cls, name: str, corpora_dir: str | Path | None = None) -> "Corpus":
        """Read ``<corpora_dir>/<name>/``; raise :class:`CorpusError` listing the corpora that exist."""
        paths.check_name(name, "corpus name")
        root = paths.corpora_dir(corpora_dir)
        folder = root / name
        if not (folder / MANIFEST_FILE).is_file():
            have = ", ".join(list_corpora(root)) or "none"
            raise CorpusError(f"no corpus named {name!r} in {root} (corpora there: {have})")
        try:
            manifest = read_manifest(name, root)
            bow = sp.load_npz(folder / BOW_FILE).tocsr()
            vocab = json.loads((folder / VOCAB_FILE).read_text())
            docs = pd.read_parquet(folder / DOCS_FILE)
        except CorpusError:
            raise
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise damaged(name, root, f"{_first_line(exc)}") from None
        if not isinstance(vocab, list) or bow.shape != (len(docs), len(vocab)):
            raise damaged(name, root, "bow.npz, vocab.json and docs.parquet do not fit together")
        return cls(name=name, bow=bow, vocab=vocab, docs=docs, manifest=manifest, path=folder)

    def verify_checksum(self) -> bool:
        """True when ``bow.npz`` on disk still has the checksum the manifest recorded."""
        if self.path is None:
            return False
        return paths.sha256_file(self.path / BOW_FILE) == self.checksum


def _as_text(value) -> str | None:
    """A metadata value as text: JSON for lists and mappings (it reads back), str() for the rest."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _kind(value) -> str:
    """What Arrow makes of a value: booleans, numbers and text are kinds of their own."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.number)):
        return "number"
    return type(value).__name__


def _storable(values: pd.Series) -> bool:
    """Whether Parquet stores this column as one type that reads back as the same values."""
    import pyarrow as pa

    kinds = {_kind(v) for v in values.dropna()}
    if len(kinds) > 1 or kinds & {"dict", "list", "tuple"}:
        return False  # Arrow would cast False to 0.0, '' beside numbers fails; nested values change shape
    try:
        pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return False  # e.g. an integer beyond 64 bits
    return True


def parquet_ready(docs: pd.DataFrame) -> pd.DataFrame:
    """``docs`` with each metadata column Parquet cannot store as one type turned into text.

    Metadata comes from users' files as is: a JSON Lines field may hold numbers in one
    line and '' or an object in the next. Stored as text, such a column round-trips.
    """
    mixed = [c for c in docs.columns if docs[c].dtype == object and not _storable(docs[c])]
    if not mixed:
        return docs
    docs = docs.copy()
    for c in mixed:
        docs[c] = pd.array([_as_text(v) for v in docs[c]], dtype="string")
    return docs


def list_corpora(corpora_dir: str | Path | None = None) -> list[str]:
    """Names of the complete corpora in ``corpora_dir`` (those with a manifest), sorted."""
    root = paths.corpora_dir(corpora_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / MANIFEST_FILE).is_file())


def read_manifest(name: str, corpora_dir: str | Path | None = None) -> dict:
    """The manifest of a corpus without loading its matrices (:class:`CorpusError` when unreadable)."""
    root = paths.corpora_dir(corpora_dir)
    path = root / paths.check_name(name, "corpus name") / MANIFEST_FILE
    if not path.is_file():
        raise CorpusError(f"no corpus named {name!r} in {root}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise damaged(name, root, f"manifest.json cannot be read: {_first_line(exc)}") from None
    if not isinstance(manifest, dict):
        raise damaged(name, root, "manifest.json is not a JSON object")
    return manifest


def damaged(name: str, root: Path, problem: str) -> CorpusError:
    """The one-line error for a corpus folder that cannot be used as it is; ``.problem`` says what alone."""
    error = CorpusError(f"corpus {name!r} in {root} is damaged ({problem}); `topicvae verify {name}` lists what "
                        "is wrong, ingest it again with --force")
    error.problem = problem
    return error


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
