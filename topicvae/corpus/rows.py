"""Row sources: the rows of a documents × words matrix held in memory or stored as shards on disk
(:mod:`topicvae.corpus.shards`), read a shard at a time. torch-free, so that LDA on shards
(:mod:`topicvae.models.lda`) needs no torch; the VAE trainer's epoch order over them is
:mod:`topicvae.models.vae.batches`.

A row source has ``shape``, ``shard_rows`` (the number of rows of each shard, in row order),
``take(rows)`` (those rows, in that order, as one csr_matrix), ``blocks(rows)`` (sorted rows
shard by shard, as the ``(shard, rows of it)`` pairs the counts that set up a network read,
:mod:`topicvae.models.vae.statistics`) and ``blocks_keeping(rows, keep)`` (the same, each shard's
``keep`` rows taken out in the same pass: stacked with :func:`stack`, ``take(keep)``):

- :class:`MemoryRows`: a csr_matrix held in memory (one shard unless told where shards end);
- :class:`ShardedRows`: rows of shards read by a loader (a saved corpus's ``read_shard``), at
  most one shard held at a time.

``fit`` of the VAEs and of gensim's LDA (:mod:`topicvae.models.lda`) takes either in place of a
matrix; ``runs.train_run`` hands them a :class:`ShardedRows` for a corpus of several shards.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp


class MemoryRows:
    """A csr_matrix in memory as a row source; ``shard_rows`` says where its shards end (None: one
    shard, the order training on a plain matrix has always had)."""

    def __init__(self, X: sp.csr_matrix, shard_rows: Sequence[int] | None = None):
        self.X = X.tocsr()
        self.shard_rows = [int(n) for n in shard_rows] if shard_rows is not None else [X.shape[0]]
        if not self.shard_rows or sum(self.shard_rows) != X.shape[0] or min(self.shard_rows) < 0:
            raise ValueError(f"shard_rows {self.shard_rows} are not the sizes of shards of the matrix's "
                             f"{X.shape[0]} rows")
        self.shape = X.shape

    def take(self, rows: np.ndarray) -> sp.csr_matrix:
        return self.X[rows]

    def blocks_keeping(self, rows: np.ndarray | None, keep: np.ndarray
                       ) -> Iterator[tuple[sp.csr_matrix, np.ndarray | None, sp.csr_matrix | None]]:
        """:meth:`blocks` with, third, the matrix's ``keep`` rows (sorted, none of ``rows``): ``take(keep)``."""
        for X, local in self.blocks(rows):
            yield X, local, self.take(keep)

    def blocks(self, rows: np.ndarray | None = None) -> Iterator[tuple[sp.csr_matrix, np.ndarray | None]]:
        """The matrix and its ``rows`` (sorted; None: all) as one block: counted in place, not copied."""
        yield self.X, (None if rows is None or len(rows) == self.X.shape[0] else np.asarray(rows))

    def release(self) -> None:
        """(Nothing to let go: the matrix is the caller's.)"""


class ShardedRows:
    """Rows of a matrix stored as consecutive shards of ``shard_rows`` rows, read with ``load(k)``
    (shard k as a csr_matrix) and at most one held at a time. ``select`` (sorted rows of the whole;
    None: all) makes the source that matrix's rows ``select`` alone, numbered from 0 (e.g. a
    corpus's training split), so that it stands for ``whole[select]`` without that ever being
    built; its ``shard_rows`` attribute then counts the selected rows in each shard.

    ``take`` expects rows that visit the shards one after another, as an epoch's do; rows that
    go back and forth between shards read them again (correct, only slower)."""

    def __init__(self, shard_rows: Sequence[int], n_words: int, load: Callable[[int], sp.csr_matrix],
                 select: np.ndarray | None = None, numbers: Sequence[int] | None = None):
        self._starts = np.concatenate([[0], np.cumsum(shard_rows)]).astype(np.int64)
        self._load = load
        self._select = None if select is None else np.asarray(select, dtype=np.int64)
        per_shard = (np.diff(self._starts) if self._select is None
                     else np.diff(np.searchsorted(self._select, self._starts)))
        self.shard_rows = [int(n) for n in per_shard]
        self.shape = (sum(self.shard_rows), int(n_words))
        self._held: tuple[int, sp.csr_matrix] | None = None
        # the shards' numbers in the corpus (``numbers``; default 0, 1, ...), and those read so far
        self.numbers = list(range(len(shard_rows))) if numbers is None else [int(k) for k in numbers]
        self.shards_read: set[int] = set()

    def _shard(self, k: int) -> sp.csr_matrix:
        if self._held is None or self._held[0] != k:
            self._held = None  # let the previous shard go before the next is read
            self._held = (k, self._load(k))
            self.shards_read.add(self.numbers[k])
        return self._held[1]

    def part(self, shards: Sequence[int]) -> tuple["ShardedRows", np.ndarray]:
        """The source's rows in ``shards`` (sorted shard numbers) alone, as a source of their own that reads
        those shards only, and which rows of this source they are (sorted): a data-parallel process's
        share of a corpus in shards."""
        shards = [int(k) for k in shards]
        sizes = np.diff(self._starts)
        source_starts = np.concatenate([[0], np.cumsum(self.shard_rows)]).astype(np.int64)
        positions = np.concatenate([np.arange(source_starts[k], source_starts[k + 1]) for k in shards] or
                                   [np.zeros(0, np.int64)])
        select = None
        if self._select is not None:  # the selected rows of each shard, renumbered in the shards kept
            new_starts = np.concatenate([[0], np.cumsum(sizes[shards])]).astype(np.int64)
            select = np.concatenate([self._select[source_starts[k]:source_starts[k + 1]] - self._starts[k] + new_starts[i]
                                     for i, k in enumerate(shards)] or [np.zeros(0, np.int64)])
        sub = ShardedRows(sizes[shards], self.shape[1], lambda j: self._load(shards[j]), select=select,
                          numbers=[self.numbers[k] for k in shards])
        return sub, positions

    def take(self, rows: np.ndarray) -> sp.csr_matrix:
        rows = np.asarray(rows, dtype=np.int64)
        whole = rows if self._select is None else self._select[rows]
        shard = np.searchsorted(self._starts, whole, side="right") - 1
        cuts = np.flatnonzero(np.diff(shard)) + 1  # where a run of rows from one shard ends
        parts = []
        for run in np.split(np.arange(len(whole)), cuts):
            if len(run):
                k = int(shard[run[0]])
                parts.append(self._shard(k)[whole[run] - self._starts[k]])
        return stack(parts, self.shape[1])

    def blocks(self, rows: np.ndarray | None = None) -> Iterator[tuple[sp.csr_matrix, np.ndarray | None]]:
        """The source's ``rows`` (sorted; None: all) shard by shard, one shard read at a time: (shard, its
        rows among them; None when all of them), skipping the shards that hold none."""
        whole = self._whole_rows(rows)
        cuts = np.searchsorted(whole, self._starts)
        for k in range(len(self._starts) - 1):
            local = whole[cuts[k]:cuts[k + 1]] - self._starts[k]
            size = int(self._starts[k + 1] - self._starts[k])
            if len(local):
                yield self._shard(k), (None if len(local) == size else local)

    def blocks_keeping(self, rows: np.ndarray | None, keep: np.ndarray
                       ) -> Iterator[tuple[sp.csr_matrix, np.ndarray | None, sp.csr_matrix | None]]:
        """:meth:`blocks` of ``rows`` with, third, the shard's rows among ``keep`` (sorted, none of ``rows``)
        taken out (None: it holds none): one pass reads both, and :func:`stack` of the kept parts is
        ``take(keep)``. A shard that holds ``keep`` rows only comes with an empty array of ``rows``."""
        whole, kept = self._whole_rows(rows), self._whole_rows(keep)
        cuts, kept_cuts = np.searchsorted(whole, self._starts), np.searchsorted(kept, self._starts)
        for k in range(len(self._starts) - 1):
            local = whole[cuts[k]:cuts[k + 1]] - self._starts[k]
            local_kept = kept[kept_cuts[k]:kept_cuts[k + 1]] - self._starts[k]
            size = int(self._starts[k + 1] - self._starts[k])
            if len(local) or len(local_kept):
                shard = self._shard(k)
                yield shard, (None if len(local) == size else local), (shard[local_kept] if len(local_kept) else None)

    def _whole_rows(self, rows: np.ndarray | None) -> np.ndarray:
        """The rows of the whole matrix that the source's ``rows`` (None: all) are."""
        if rows is None:
            return np.arange(self._starts[-1]) if self._select is None else self._select
        rows = np.asarray(rows, dtype=np.int64)
        return rows if self._select is None else self._select[rows]

    def release(self) -> None:
        """Let the shard held go (after training)."""
        self._held = None


def stack(parts: list[sp.csr_matrix], n_words: int) -> sp.csr_matrix:
    """Rows of shards, in order, as one csr_matrix (one part as it is; none: 0 × ``n_words``)."""
    if not parts:
        return sp.csr_matrix((0, n_words))
    return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")


def as_row_source(X) -> MemoryRows | ShardedRows:
    """``X`` itself when it is a row source (it has ``blocks``), else the csr_matrix ``X`` as one shard."""
    return X if hasattr(X, "blocks") else MemoryRows(X)


def count_tokens(X) -> int:
    """The sum of the counts of ``X``, a csr matrix or a row source (added up block by block)."""
    if not hasattr(X, "blocks"):
        return int(round(X.sum()))
    return int(round(sum(float((B if rows is None else B[rows]).sum()) for B, rows in X.blocks())))
