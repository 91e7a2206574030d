"""Data-parallel training across processes (PyTorch DistributedDataParallel).

Start one process per core or GPU with torchrun; each reads its own share of every
epoch's minibatches and gradients are averaged after each step::

    torchrun --nproc_per_node=4 -m topicvae.train CORPUS --model prodlda --topics 50

On several machines, run the same command on each with ``--nnodes``, ``--node_rank``
and ``--rdzv_endpoint HOST:PORT`` (see torchrun's documentation). gloo is used on the
CPU, NCCL on GPUs. Only rank 0 writes checkpoints and the run folder.

A process's share (:func:`share_of`): on a corpus in at least as many shards as processes, its own
shards (shard k to process k mod N), which are all it reads while training; the counts that set
up the network are summed over the processes, each epoch visits the process's shards in a
seeded order and every process takes as many steps as the one with the fewest documents.
Otherwise (a matrix in memory, or fewer shards) every process reads every shard and takes every
N-th document of each epoch's order (:func:`shard`).
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import torch


def requested() -> bool:
    """True when this process was started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


#: whether this module joined the process group (and so leaves it in :func:`finish`)
_joined = False


def init(device: torch.device) -> None:
    """Join the process group torchrun describes in the environment (once per process)."""
    global _joined
    import torch.distributed as dist

    if dist.is_initialized() or not requested():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend=backend)
    _joined = True


def finish() -> None:
    """Leave the process group :func:`init` joined, once every process has finished training.

    Rank 0 goes on alone (θ of every document, the run folder) while the other processes exit; a
    process that exited still holding the group could abort in the group's teardown (gloo) while
    rank 0 works, and take the whole torchrun job down with it.
    """
    global _joined
    if not _joined:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    _joined = False


def active() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    if active():
        import torch.distributed as dist

        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    if active():
        import torch.distributed as dist

        return dist.get_world_size()
    return 1


def is_main() -> bool:
    """True in the one process that writes files and shows progress."""
    return rank() == 0


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over all processes (in place; unchanged when not distributed)."""
    if active():
        import torch.distributed as dist

        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def wrap(net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``net`` inside DistributedDataParallel when distributed, else ``net`` itself."""
    if not active():
        return net
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)


def shard(perm, n_rows: int):
    """This process's rows of an epoch's shuffled order: every world_size-th, all shards equal
    in length (so every process takes the same number of steps)."""
    size = world_size()
    if size == 1:
        return perm
    keep = (n_rows // size) * size
    return perm[:keep][rank()::size]


def barrier() -> None:
    if active():
        import torch.distributed as dist

        dist.barrier()


@dataclasses.dataclass(frozen=True)
class Share:
    """What one process trains on: a row source, its training and validation rows (sorted), and whether
    it is the process's own shards (``by_shards``; then counts are summed over the processes)."""

    source: object
    train_rows: np.ndarray
    val_rows: np.ndarray
    by_shards: bool = False


def own_shards(n_shards: int) -> list[int] | None:
    """The shards of a corpus of ``n_shards`` this process trains on (k with k mod N = its rank), or None
    (every shard) when not distributed or with fewer shards than processes."""
    size = world_size()
    if size == 1 or n_shards < size:
        return None
    return list(range(rank(), n_shards, size))


def share_of(source, train_rows: np.ndarray, val_rows: np.ndarray) -> Share:
    """This process's :class:`Share` of a row source's ``train_rows`` and ``val_rows`` (sorted)."""
    shards = own_shards(len(source.shard_rows)) if hasattr(source, "part") else None
    if shards is None:
        return Share(source, train_rows, val_rows)
    part, positions = source.part(shards)
    return Share(part, _positions_in(positions, train_rows), _positions_in(positions, val_rows), by_shards=True)


def _positions_in(positions: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Where the ``rows`` that are among ``positions`` (both sorted) stand in ``positions``."""
    at = np.searchsorted(positions, rows)
    inside = at < len(positions)
    inside[inside] = positions[at[inside]] == rows[inside]
    return at[inside]


def summed(*arrays: np.ndarray) -> list[np.ndarray]:
    """Each array summed element-wise over all processes (in float64, returned in its own dtype)."""
    if not active():
        return list(arrays)
    flat = torch.from_numpy(np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays]))
    all_reduce_sum(flat)
    out, at = [], 0
    for a in arrays:
        a = np.asarray(a)
        out.append(flat[at:at + a.size].numpy().reshape(a.shape).astype(a.dtype))
        at += a.size
    return out


def summed_counts(counts):
    """A :class:`~.statistics.DocumentCounts` summed over the processes."""
    n_docs, n_tokens, doc_freq, word_count = summed(np.array([counts.n_docs]), np.array([counts.n_tokens]),
                                                    counts.doc_freq, counts.word_count)
    return dataclasses.replace(counts, n_docs=int(n_docs[0]), n_tokens=float(n_tokens[0]), doc_freq=doc_freq,
                               word_count=word_count)


def summed_cooccurrence(co):
    """A :class:`~.statistics.Cooccurrence` summed over the processes (a sparse one through a dense copy)."""
    import scipy.sparse as sp

    dense = co.counts.toarray() if sp.issparse(co.counts) else co.counts
    counts, doc_freq, n_docs = summed(dense, co.doc_freq, np.array([co.n_docs]))
    counts = sp.csr_matrix(counts) if sp.issparse(co.counts) else counts
    return dataclasses.replace(co, counts=counts, doc_freq=doc_freq, n_docs=int(n_docs[0]))


def equal_share(order: np.ndarray) -> np.ndarray:
    """``order`` cut to the length of the shortest over the processes, so that every process takes the
    same number of steps (as DistributedDataParallel needs)."""
    if not active():
        return order
    import torch.distributed as dist

    n = torch.tensor([len(order)], dtype=torch.int64)
    dist.all_reduce(n, op=dist.ReduceOp.MIN)
    return order[:int(n)]


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux: its own high-water mark, ``VmHWM``; elsewhere
    ``ru_maxrss``, which may count what the process that started it held)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1024 if sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / scale
