"""Where the VAE trainer's minibatches come from, and the order an epoch visits the documents in.

Training reads a matrix whose rows may lie in shards (:mod:`topicvae.corpus.shards`): a corpus larger
than memory is read one shard at a time. :func:`epoch_order` defines one epoch's order once,
for both kinds of row source: the shards in a seeded random order, and within each shard its
training rows in a seeded random order. For one shard that is ``torch.randperm(n, generator)``,
the order training always used, so results on a matrix in memory stay bitwise the same. The
same rows in the same order make the same minibatches, so training from shards on disk gives
the same model as training from the same matrix in memory cut at the same rows.

The row sources themselves (:class:`~topicvae.corpus.rows.MemoryRows`,
:class:`~topicvae.corpus.rows.ShardedRows`) are torch-free, in :mod:`topicvae.corpus.rows`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def epoch_order(shard_sizes: Sequence[int], generator: torch.Generator) -> np.ndarray:
    """One epoch's order of the rows of shards of ``shard_sizes`` rows: positions 0..Σ-1 (counted
    through the shards in row order), shard after shard in a seeded random order, each shard's
    rows in a seeded random order. One shard: ``torch.randperm(n, generator=generator)`` exactly."""
    sizes = [int(n) for n in shard_sizes]
    if len(sizes) == 1:
        return torch.randperm(sizes[0], generator=generator).numpy()
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    visit = torch.randperm(len(sizes), generator=generator).numpy()
    parts = [starts[k] + torch.randperm(sizes[k], generator=generator).numpy() for k in visit]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def epoch_rows(shard_rows: Sequence[int], rows: np.ndarray | None, generator: torch.Generator) -> np.ndarray:
    """The rows of a matrix cut into shards of ``shard_rows`` rows that one epoch trains on, in the order
    it trains on them (:func:`epoch_order`): ``rows`` (sorted; None: all) shard by shard."""
    if rows is None:
        return epoch_order(shard_rows, generator)
    bounds = np.concatenate([[0], np.cumsum(shard_rows)]).astype(np.int64)
    per_shard = np.diff(np.searchsorted(rows, bounds))  # how many of ``rows`` lie in each shard
    return rows[epoch_order(per_shard, generator)]
