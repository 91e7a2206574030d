"""The Corpus: a bag-of-words matrix, its vocabulary and its document table, on disk.

Layout of ``corpora/<name>/``::

    bow.npz          CSR matrix, documents × vocabulary, integer counts (scipy.sparse.save_npz);
                     a corpus of more than ``shards.SHARD_DOCS`` documents has shards instead,
                     bow-00000.npz, bow-00001.npz, ... of consecutive documents (:mod:`.shards`)
    vocab.json       list of words; column j of bow is vocab[j]
    docs.parquet     one row per bow row: id, text, label, date, split, n_tokens, metadata
    vectorizer.json  the fitted text → counts transformer (settings, phrases, vocabulary);
                     absent in corpora ingested before it was saved
    manifest.json    source, settings, counts, checksums and sizes of the files, the shards
                     (``"shards"``: file, rows, bytes, sha256 of each), package version

The rest of the corpus layer: :mod:`.shards` (the bag-of-words' shard files and manifest
records), :mod:`.rows` (the row sources models read), :mod:`.ingestion` (a source → a saved
corpus) with :mod:`.cluster` (who tokenizes), :mod:`.report` (``topicvae corpus-info``) and
:mod:`.synthetic` (corpora with known topics).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from topicvae import paths
from topicvae.corpus.shards import SHARD_DOCS, bow_checksum, read_shard, shard_records, shard_starts, write_shards
from topicvae.errors import CorpusError, first_line

if TYPE_CHECKING:
    from topicvae.text.vectorizer import Vectorizer

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
        bow: csr_matrix (n_docs, n_words) of int32 counts. A corpus loaded from several shards
            reads and stacks them on first use (and keeps the result); code that can work a
            shard at a time uses :meth:`iter_shards` instead.
        vocab: list of n_words words.
        docs: DataFrame with n_docs rows (id, text, label, date, split, n_tokens, ...). A corpus loaded
            from several shards reads it on first use; :meth:`split_rows` reads its split column alone.
        manifest: dict of provenance, settings and counts.
        path: folder it was loaded from or saved to (None before saving).
        vectorizer: the fitted :class:`~topicvae.text.vectorizer.Vectorizer` to save with the
            corpus (``ingest`` sets it; :meth:`load` leaves it None, read it with
            :func:`topicvae.text.vectorizer.corpus_vectorizer`).
    """

    name: str
    # (bow and docs are properties, below: None until a sharded corpus's matrix or table is first used;
    # left out of repr and ==, which would read them)
    bow: sp.csr_matrix | None = field(repr=False, compare=False)
    vocab: list[str]
    docs: pd.DataFrame | None = field(repr=False, compare=False)
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    vectorizer: "Vectorizer | None" = None

    @property
    def n_docs(self) -> int:
        return self._bow.shape[0] if self._bow is not None else int(shard_starts(self.shards)[-1])

    @property
    def n_words(self) -> int:
        return self._bow.shape[1] if self._bow is not None else len(self.vocab)

    @property
    def checksum(self) -> str | None:
        """The bag-of-words digest the manifest records (:func:`topicvae.corpus.shards.bow_checksum`: the
        sha256 of ``bow.npz``, or of the shards' digests)."""
        return bow_checksum(self.manifest)

    @property
    def shards(self) -> list[dict]:
        """The shards of the bag-of-words in row order: ``{"file", "rows", "bytes", "sha256"}`` each (one
        shard, ``file`` None, for a corpus not yet saved)."""
        if self.path is None:
            return [{"file": None, "rows": int(self._bow.shape[0]), "bytes": None, "sha256": None}]
        records = shard_records(self.manifest)
        if records[0]["rows"] is None:  # a corpus written before shards: its one file, read at load
            records = [{**records[0], "rows": int(self._bow.shape[0])}]
        return records

    def iter_shards(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        """(first row, csr_matrix of the shard's rows) of every shard in row order, reading one shard
        at a time from disk (slices of ``bow`` when the whole matrix is in memory already)."""
        records = self.shards
        starts = shard_starts(records)
        for i, record in enumerate(records):
            if self._bow is not None:
                yield int(starts[i]), self._bow if len(records) == 1 else self._bow[starts[i]:starts[i + 1]]
            else:
                yield int(starts[i]), self.read_shard(i)

    def read_shard(self, index: int) -> sp.csr_matrix:
        """Shard ``index`` read from disk (:class:`CorpusError` when it is damaged or does not fit)."""
        record = self.shards[index]
        try:
            X = read_shard(self.path, record)
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise damaged(self.name, self.path.parent, f"{record['file']}: {first_line(exc)}") from None
        if X.shape != (int(record["rows"]), len(self.vocab)):
            raise damaged(self.name, self.path.parent, f"{record['file']} has shape {X.shape}, the manifest "
                          f"and vocab.json say ({record['rows']}, {len(self.vocab)})")
        return X

    def rows(self, select: np.ndarray | None = None):
        """The documents ``select`` (sorted row indices; None: all) as a row source
        (:mod:`topicvae.corpus.rows`), numbered from 0: a :class:`~topicvae.corpus.rows.ShardedRows` over
        the shards on disk for a corpus of several shards whose matrix is not in memory (one shard read
        at a time; the whole matrix is never built), else a :class:`~topicvae.corpus.rows.MemoryRows` of
        the rows of the matrix (no copy when all of them)."""
        from topicvae.corpus.rows import MemoryRows, ShardedRows

        if self._bow is None and self.path is not None and len(self.shards) > 1:
            return ShardedRows([r["rows"] for r in self.shards], self.n_words, self.read_shard,
                               select=None if select is None else np.asarray(select, dtype=np.int64))
        return MemoryRows(self.bow if select is None else self.bow[select])

    def document_lengths(self) -> np.ndarray:
        """Tokens of each document (the bag-of-words' row sums): from the matrix when it is in memory, else
        from the table's ``n_tokens`` column (ingest and update write those row sums there), else counted
        over the shards; the first two read no shard."""
        if self._bow is not None:
            return np.asarray(self._bow.sum(axis=1)).ravel()
        n_tokens = self.column("n_tokens")
        if n_tokens is not None and len(n_tokens) == self.n_docs and n_tokens.notna().all():
            return n_tokens.to_numpy(dtype=np.int64)
        return self.token_counts()[0]

    def token_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(tokens of each document (n_docs,), occurrences of each word (n_words,)) as the matrix's row
        and column sums, in one pass over the shards (:meth:`iter_shards`; the whole matrix is not built)."""
        lengths, words = [], None
        for _, X in self.iter_shards():
            lengths.append(np.asarray(X.sum(axis=1)).ravel())
            column_sums = np.asarray(X.sum(axis=0)).ravel()
            words = column_sums if words is None else words + column_sums
        return np.concatenate(lengths), words

    def column(self, name: str, rows: np.ndarray | None = None) -> pd.Series | None:
        """One column of the document table (None when the table has none), of the documents ``rows``
        (sorted row indices; None: all), without reading the rest of a table not read yet: its other
        columns (the texts, say), and with ``rows`` the row groups that hold none of them."""
        if name == "split" and rows is None:
            return self._split_column()
        if self._docs is not None or self.path is None:
            values = self.docs[name] if name in self.docs else None
            return values if values is None or rows is None else values.iloc[rows].reset_index(drop=True)
        if name not in _parquet_columns(self.path / DOCS_FILE):
            return None
        try:
            if rows is None:
                return pd.read_parquet(self.path / DOCS_FILE, columns=[name])[name]
            return _column_rows(self.path / DOCS_FILE, name, np.asarray(rows, dtype=np.int64))
        except (OSError, ValueError, KeyError) as exc:
            raise damaged(self.name, self.path.parent, f"{DOCS_FILE}: {first_line(exc)}") from None

    def column_names(self) -> list[str]:
        """The document table's columns, without reading a table not read yet (from its footer)."""
        if self._docs is not None or self.path is None:
            return list(self.docs.columns)
        return _parquet_columns(self.path / DOCS_FILE)

    def table(self, rows: np.ndarray) -> pd.DataFrame:
        """The document table's ``rows`` (sorted row indices), numbered from 0: of a table not read yet, only
        the row groups that hold them are read (a dashboard's sample of a large corpus)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._docs is not None or self.path is None:
            return self.docs.iloc[rows].reset_index(drop=True)
        try:
            return _table_rows(self.path / DOCS_FILE, None, rows)
        except (OSError, ValueError, KeyError) as exc:
            raise damaged(self.name, self.path.parent, f"{DOCS_FILE}: {first_line(exc)}") from None

    def split_rows(self, split: str) -> np.ndarray:
        """Row indices of the documents in ``split`` ('train', 'test', ...).

        A corpus without splits has every document in 'train'. A sharded corpus whose table is not read
        yet reads its split column alone.
        """
        splits = self._split_column()
        if splits is None or splits.isna().all():
            return np.arange(self.n_docs) if split == "train" else np.arange(0)
        return np.flatnonzero(splits.to_numpy() == split)

    def _split_column(self) -> pd.Series | None:
        """The documents' split column (None when the table has none), without reading the rest of a
        table not read yet."""
        if self._docs is not None or self.path is None:
            return self.docs["split"] if "split" in self.docs else None
        if not hasattr(self, "_splits"):  # read once (a sharded corpus's table is not read for it)
            try:
                self._splits = pd.read_parquet(self.path / DOCS_FILE, columns=["split"])["split"]
            except (OSError, ValueError, KeyError) as exc:  # no such column (pyarrow: KeyError/ValueError), damage
                if "split" in _parquet_columns(self.path / DOCS_FILE):
                    raise damaged(self.name, self.path.parent, f"{DOCS_FILE}: {first_line(exc)}") from None
                self._splits = None
        return self._splits

    def has_split(self, split: str) -> bool:
        return len(self.split_rows(split)) > 0

    # ------------------------------------------------------------------ I/O
    def save(self, corpora_dir: str | Path | None = None, force: bool = False, shard_docs: int = SHARD_DOCS) -> Path:
        """Write the corpus atomically to ``<corpora_dir>/<name>/`` and return that path.

        The bag-of-words is written in shards of at most ``shard_docs`` documents (one shard:
        ``bow.npz``, as before shards) and docs.parquet in row groups of the same documents.
        """
        paths.check_name(self.name, "corpus name")
        final = paths.corpora_dir(corpora_dir) / self.name
        if final.exists() and not force:
            raise CorpusError(f"corpus {self.name!r} already exists in {final.parent}; pass --force to replace it")
        with paths.atomic_dir(final, force=force) as tmp:
            records = write_shards(tmp, self.bow, shard_docs)
            self.docs = parquet_ready(self.docs)
            # row groups as the shards, so that a shard's documents are read alone (one shard: as before)
            self.docs.to_parquet(tmp / DOCS_FILE, index=False,
                                 **({} if len(records) == 1 else {"row_group_size": shard_docs}))
            self.write_files(tmp, records)
        self.path = final
        return final

    def write_files(self, folder: Path, records: list[dict]) -> None:
        """Beside the shards (``records``) and docs.parquet written in ``folder`` already, write
        vocab.json, vectorizer.json and, last, manifest.json with the checksums and sizes of them all.
        (:meth:`save` calls it; a streamed ingest, which writes the shards and the table as it goes, too.)"""
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False))
        files = (VOCAB_FILE, DOCS_FILE)
        if self.vectorizer is not None:
            self.vectorizer.save(folder)
            files += (VECTORIZER_FILE,)
        self.manifest.setdefault("checksums", {})
        self.manifest.setdefault("sizes", {})
        self.manifest["checksums"].pop(BOW_FILE, None)
        self.manifest["sizes"].pop(BOW_FILE, None)
        if len(records) == 1:  # bow.npz keeps its entries as before shards (its record has them already)
            self.manifest["checksums"][BOW_FILE] = records[0]["sha256"]
            self.manifest["sizes"][BOW_FILE] = records[0]["bytes"]
        for fname in files:
            self.manifest["checksums"][fname] = paths.sha256_file(folder / fname)
            self.manifest["sizes"][fname] = (folder / fname).stat().st_size
        self.manifest["shards"] = records
        (folder / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str))

    @classmethod
    def load(cls, name: str, corpora_dir: str | Path | None = None) -> "Corpus":
        """Read ``<corpora_dir>/<name>/``; raise :class:`CorpusError` listing the corpora that exist.

        A corpus of one shard is read whole; of several, only its table and vocabulary (each
        shard must be there with the size written), the shards when used."""
        paths.check_name(name, "corpus name")
        root = paths.corpora_dir(corpora_dir)
        folder = root / name
        if not (folder / MANIFEST_FILE).is_file():
            have = ", ".join(list_corpora(root)) or "none"
            raise CorpusError(f"no corpus named {name!r} in {root} (corpora there: {have})")
        try:
            manifest = read_manifest(name, root)
            records = shard_records(manifest)
            bow = sp.load_npz(folder / records[0]["file"]).tocsr() if len(records) == 1 else None
            vocab = json.loads((folder / VOCAB_FILE).read_text())
            # a sharded corpus's table (texts included) is read when first used: training needs its splits only
            docs = pd.read_parquet(folder / DOCS_FILE) if bow is not None else None
            n_rows = len(docs) if docs is not None else _parquet_rows(folder / DOCS_FILE)
        except CorpusError:
            raise
        except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise damaged(name, root, f"{first_line(exc)}") from None
        if bow is None:
            problem = _shards_problem(folder, records)
            if problem:
                raise damaged(name, root, problem)
        n_docs = bow.shape[0] if bow is not None else int(shard_starts(records)[-1])
        n_words = bow.shape[1] if bow is not None else len(vocab) if isinstance(vocab, list) else -1
        if not isinstance(vocab, list) or (n_docs, n_words) != (n_rows, len(vocab)):
            what = "bow.npz" if bow is not None else "the shards"
            raise damaged(name, root, f"{what}, vocab.json and docs.parquet do not fit together")
        return cls(name=name, bow=bow, vocab=vocab, docs=docs, manifest=manifest, path=folder)

    def verify_checksum(self) -> bool:
        """True when every shard of the bag-of-words on disk still has the checksum the manifest recorded."""
        return self.path is not None and bow_file_problem(self.path, self.manifest, need_digest=True) is None


def bow_file_problem(folder: Path, manifest: dict, need_digest: bool = False) -> tuple[str, str] | None:
    """The first file of the bag-of-words in ``folder`` (``bow.npz``, or each shard) that is not as
    ``manifest`` records it: (its name, what is wrong in words, :func:`topicvae.paths.file_problem`;
    ``need_digest``: a digest not recorded is a mismatch), or None. ValueError: the manifest's shards are not a list of shards.
    (The one walk over the shards' checksums of ``verify_checksum``, ``topicvae verify`` and the
    workspace's corpus status.)"""
    records = shard_records(manifest)
    if len(records) == 1 and records[0].get("sha256") != bow_checksum(manifest):
        # bow.npz alone: the digest manifest.json's checksums record for it is the corpus's checksum too
        records = [*records, {**records[0], "sha256": bow_checksum(manifest)}]
    for record in records:
        problem = paths.file_problem(folder / record["file"], record.get("sha256"), record.get("bytes"), need_digest)
        if problem:
            return record["file"], problem
    return None


def _bow_get(corpus: Corpus) -> sp.csr_matrix:
    """``Corpus.bow``: the matrix held, or the shards read and stacked on first use (then held)."""
    if corpus._bow is None and corpus.path is not None:
        corpus._bow = sp.vstack([X for _, X in corpus.iter_shards()], format="csr")
    return corpus._bow


def _bow_set(corpus: Corpus, value: sp.csr_matrix | None) -> None:
    corpus._bow = value


# set after the dataclass is made, so that its __init__ still takes ``bow`` (and stores it through the setter)
Corpus.bow = property(_bow_get, _bow_set, doc="the bag-of-words matrix, csr (n_docs, n_words); see the class")


def _docs_get(corpus: Corpus) -> pd.DataFrame:
    """``Corpus.docs``: the table held, or a sharded corpus's docs.parquet read on first use (then held)."""
    if corpus._docs is None and corpus.path is not None:
        try:
            corpus._docs = pd.read_parquet(corpus.path / DOCS_FILE)
        except (OSError, ValueError) as exc:
            raise damaged(corpus.name, corpus.path.parent, f"{DOCS_FILE}: {first_line(exc)}") from None
    return corpus._docs


def _docs_set(corpus: Corpus, value: pd.DataFrame | None) -> None:
    corpus._docs = value


# (as bow: the dataclass's __init__ stores ``docs`` through the setter)
Corpus.docs = property(_docs_get, _docs_set, doc="the document table, one row per bow row; see the class")


def _parquet_rows(path: Path) -> int:
    """The number of rows of a Parquet file, from its footer (the data is not read)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _column_rows(path: Path, name: str, rows: np.ndarray) -> pd.Series:
    """Column ``name`` of the Parquet file's ``rows`` (sorted), reading only the row groups that hold them."""
    values = _table_rows(path, [name], rows)
    return (values[name] if len(values.columns) else pd.Series([], dtype=object)).rename(name)


def _table_rows(path: Path, columns: list[str] | None, rows: np.ndarray) -> pd.DataFrame:
    """The Parquet file's ``rows`` (sorted) with ``columns`` (None: all), numbered from 0, reading only the
    row groups that hold them."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    sizes = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    cuts = np.searchsorted(rows, starts)
    parts = []
    for i in range(file.num_row_groups):
        local = rows[cuts[i]:cuts[i + 1]] - starts[i]
        if len(local):
            parts.append(file.read_row_group(i, columns=columns).to_pandas().iloc[local])
    if not parts:
        return file.schema_arrow.empty_table().to_pandas()[columns or slice(None)]
    return pd.concat(parts, ignore_index=True)


def _parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(path).schema_arrow.names)


def _shards_problem(folder: Path, records: list[dict]) -> str | None:
    """What is wrong with the shard files that a look at them shows (missing, another size), or None."""
    for r in records:
        file = folder / r["file"]
        if not file.is_file():
            return f"{r['file']} is missing"
        if r.get("bytes") is not None and file.stat().st_size != r["bytes"]:
            return f"{r['file']} has {file.stat().st_size:,} bytes, {r['bytes']:,} were written"
    return None


def _as_text(value) -> str | None:
    """A metadata value as text: JSON for lists and mappings (it reads back), str() for the rest."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _kind(value) -> str:
    """What Arrow makes of a value: booleans, numbers and text are kinds of their own."""
    return _kind_of_type(type(value))


def _kinds(values) -> set[str]:
    """The :func:`_kind` of each of ``values``, as a set, from their Python types (a kind is its type's)."""
    return {_kind_of_type(t) for t in set(map(type, values))}


def _kind_of_type(t: type) -> str:
    if issubclass(t, (bool, np.bool_)):
        return "bool"
    return "number" if issubclass(t, (int, float, np.number)) else t.__name__


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
        raise damaged(name, root, f"manifest.json cannot be read: {first_line(exc)}") from None
    if not isinstance(manifest, dict):
        raise damaged(name, root, "manifest.json is not a JSON object")
    return manifest


def damaged(name: str, root: Path, problem: str) -> CorpusError:
    """The one-line error for a corpus folder that cannot be used as it is; ``.problem`` says what alone."""
    error = CorpusError(f"corpus {name!r} in {root} is damaged ({problem}); `topicvae verify {name}` lists what "
                        "is wrong, ingest it again with --force")
    error.problem = problem
    return error
