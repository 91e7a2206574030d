"""A corpus's bag-of-words on disk as shards: CSR files of at most ``SHARD_DOCS`` consecutive documents.

A corpus larger than memory cannot be one matrix, so its rows are cut into shards that are
written, checked and read one at a time. A corpus of one shard keeps the single file
``bow.npz`` (the layout of every corpus before shards, whose checksums so stay the same); a
larger one has ``bow-00000.npz``, ``bow-00001.npz``, ... The manifest lists them in row order,
``"shards": [{"file", "rows", "bytes", "sha256"}, ...]``; a manifest written before shards
has no such list and stands for one shard, ``bow.npz``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from topicvae import paths

#: the most documents in one shard (``Corpus.save(shard_docs=...)`` and ``ingest(shard_docs=...)`` change it)
SHARD_DOCS = 100_000
#: the file of a corpus of one shard (and of every corpus written before shards)
SINGLE_FILE = "bow.npz"
#: the names a shard may have (a manifest naming another file, say outside the folder, is damaged)
_SHARD_NAME = re.compile(r"bow(-\d{5,})?\.npz")


def shard_file(index: int, n_shards: int) -> str:
    """The file name of shard ``index`` of ``n_shards``: ``bow.npz`` alone, else ``bow-00000.npz``, ..."""
    return SINGLE_FILE if n_shards == 1 else f"bow-{index:05d}.npz"


def shard_bounds(n_docs: int, shard_docs: int = SHARD_DOCS) -> list[tuple[int, int]]:
    """(start, stop) rows of each shard of ``n_docs`` documents; always at least one (an empty corpus
    has one empty shard)."""
    if int(shard_docs) < 1:
        raise ValueError(f"shard_docs must be at least 1, got {shard_docs!r}")
    return [(s, min(s + shard_docs, n_docs)) for s in range(0, n_docs, shard_docs)] or [(0, 0)]


#: zlib's level for the shards: 1 compresses a shard of 100,000 documents of 100 words in a sixth of the
#: time of the default level 6, into a file about 15 % larger (scipy's ``save_npz`` has no level to set)
SHARD_COMPRESSION_LEVEL = 1


def write_shard(folder: Path, file: str, X: sp.csr_matrix) -> dict:
    """Write one shard and return its manifest record. The file is what ``scipy.sparse.save_npz(compressed=True)``
    writes (a zip of the CSR's arrays, each a .npy; ``load_npz`` reads it), compressed at
    :data:`SHARD_COMPRESSION_LEVEL`."""
    import zipfile

    path = Path(folder) / file
    X = X.tocsr()
    arrays = {"indices": X.indices, "indptr": X.indptr, "format": np.array(b"csr"), "shape": np.array(X.shape),
              "data": X.data}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=SHARD_COMPRESSION_LEVEL) as zf:
        for key, array in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
    return {"file": file, "rows": int(X.shape[0]), "bytes": path.stat().st_size, "sha256": paths.sha256_file(path)}


def write_shards(folder: Path, X: sp.csr_matrix, shard_docs: int = SHARD_DOCS) -> list[dict]:
    """Write the rows of ``X`` as shards of at most ``shard_docs`` documents; their records, in row order."""
    X = X.tocsr()
    bounds = shard_bounds(X.shape[0], shard_docs)
    return [write_shard(folder, shard_file(i, len(bounds)), X[start:stop] if len(bounds) > 1 else X)
            for i, (start, stop) in enumerate(bounds)]


def read_shard(folder: Path, record: dict) -> sp.csr_matrix:
    """One shard as a csr_matrix (the caller turns read errors into its own)."""
    return sp.load_npz(Path(folder) / record["file"]).tocsr()


def shard_records(manifest: dict) -> list[dict]:
    """The manifest's shards; for a corpus written before shards, one record of ``bow.npz`` (its
    ``rows`` None: known once the file is read). ValueError when the list is not one of shards."""
    records = manifest.get("shards")
    if records is not None:
        if not isinstance(records, list) or not records or not all(
                isinstance(r, dict) and isinstance(r.get("file"), str) and _SHARD_NAME.fullmatch(r["file"])
                and isinstance(r.get("rows"), int) and r["rows"] >= 0 for r in records):
            raise ValueError("manifest.json's shards are not a list of shard files (bow-00000.npz, ...) and rows")
        return records
    return [{"file": SINGLE_FILE, "rows": None, "bytes": (manifest.get("sizes") or {}).get(SINGLE_FILE),
             "sha256": (manifest.get("checksums") or {}).get(SINGLE_FILE)}]


def shard_starts(records: list[dict]) -> np.ndarray:
    """First row of every shard and, last, the number of rows: int64 (n_shards + 1,)."""
    return np.concatenate([[0], np.cumsum([int(r["rows"]) for r in records])]).astype(np.int64)


def bow_checksum(manifest: dict) -> str | None:
    """The digest that identifies a corpus's bag-of-words (a run records it as ``corpus_checksum``):
    the sha256 of ``bow.npz`` for a corpus of one file, as it always was; for several shards, the
    sha256 of their names and digests in order (so any changed shard changes it)."""
    single = (manifest.get("checksums") or {}).get(SINGLE_FILE)
    records = manifest.get("shards")
    if single or not isinstance(records, list) or len(records) < 2:
        return single
    h = hashlib.sha256()
    for r in records:
        h.update(f"{r.get('file')} {r.get('sha256')}\n".encode())
    return "shards:" + h.hexdigest()


#: shards compressed and hashed at once, each in a thread of the writer (zlib and hashlib let go of
#: the GIL): the rows of at most this many full shards are held while they are written
WRITE_THREADS = 2


class ShardWriter:
    """Write a bag-of-words arriving in pieces of consecutive rows as shards of ``shard_docs`` rows.

    A streamed ingest adds the rows of each partition as it is encoded; a full shard is handed at
    once to a thread that stacks, sorts, compresses, writes and hashes it (:data:`WRITE_THREADS` at a
    time, so that few shards' rows are held) while the next rows arrive. The shards are the files
    :func:`write_shards` would write for the stacked matrix: ``bow-00000.npz``, ... and, when there is
    one shard only, ``bow.npz`` (renamed at :meth:`close`; its digest does not change): a shard's
    bytes depend on its rows alone, whichever thread wrote it. ``on_shard(index, rows)`` is called
    when each shard is cut with the rows of the shard, so that the document table can be cut at the
    same rows. Call :meth:`close`, or :meth:`discard` when the ingest fails.
    """

    def __init__(self, folder: Path, n_words: int, shard_docs: int = SHARD_DOCS, on_shard=None):
        if int(shard_docs) < 1:
            raise ValueError(f"shard_docs must be at least 1, got {shard_docs!r}")
        self.folder, self.n_words, self.shard_docs, self.on_shard = Path(folder), n_words, int(shard_docs), on_shard
        self.records: list[dict] = []
        self._pieces: list[sp.csr_matrix] = []
        self._held = 0
        self._writing: list = []  # a future of each shard's record, in row order
        self._pool = None

    def add(self, X: sp.csr_matrix) -> None:
        """Append the rows of ``X`` (n, n_words), handing on every shard that they fill."""
        start = 0
        while start < X.shape[0]:
            take = min(self.shard_docs - self._held, X.shape[0] - start)
            self._pieces.append(X if take == X.shape[0] else X[start:start + take])  # (a slice copies)
            self._held += take
            start += take
            if self._held == self.shard_docs:
                self._flush()

    def _flush(self) -> None:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        pieces, rows = self._pieces, self._held
        self._pieces, self._held = [], 0
        index = len(self._writing)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="topicvae-shards")
        while True:  # a failed write fails the ingest now; more than WRITE_THREADS shards are not held
            running = [f for f in self._writing if not f.done()]
            for f in self._writing:
                if f.done():
                    f.result()
            if len(running) < WRITE_THREADS:
                break
            wait(running, return_when=FIRST_COMPLETED)
        self._writing.append(self._pool.submit(_write_pieces, self.folder, f"bow-{index:05d}.npz", pieces,
                                               self.n_words))
        del pieces
        if self.on_shard is not None:
            self.on_shard(index, rows)

    def close(self) -> list[dict]:
        """Write the last, partly filled shard; the records of every shard in row order."""
        if self._held or not self._writing:
            self._flush()
        try:
            self.records = [f.result() for f in self._writing]
        finally:
            self._shutdown()
        if len(self.records) == 1:
            (self.folder / self.records[0]["file"]).rename(self.folder / SINGLE_FILE)
            self.records[0]["file"] = SINGLE_FILE
        return self.records

    def discard(self) -> None:
        """Stop after the shards being written (an ingest that failed: its folder goes)."""
        for f in self._writing:
            f.cancel()
        self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _write_pieces(folder: Path, file: str, pieces: list[sp.csr_matrix], n_words: int) -> dict:
    """Stack a shard's pieces of rows, sort each row's columns and write it (in a writer thread)."""
    X = sp.vstack(pieces, format="csr") if len(pieces) != 1 else pieces[0]
    del pieces[:]
    return write_shard(folder, file, _canonical(X, n_words))


def _canonical(X: sp.csr_matrix, n_words: int) -> sp.csr_matrix:
    """``X`` as int32 counts with int32 index arrays (int64 past 2**31 entries) and sorted indices, so
    that a shard's bytes depend on its rows alone, not on the pieces it was stacked from."""
    X = sp.csr_matrix(X, shape=(X.shape[0], n_words))
    index = np.int32 if X.nnz < 2 ** 31 - 1 else np.int64
    X = sp.csr_matrix((X.data.astype(np.int32), X.indices.astype(index), X.indptr.astype(index)),
                      shape=(X.shape[0], n_words))
    X.sort_indices()
    return X
