"""Data-parallel training across processes (PyTorch DistributedDataParallel).

Start one process per core or GPU with torchrun; each reads its own share of every
epoch's minibatches and gradients are averaged after each step::

    torchrun --nproc_per_node=4 -m topicvae.train CORPUS --model prodlda --topics 50

On several machines, run the same command on each with ``--nnodes``, ``--node_rank``
and ``--rdzv_endpoint HOST:PORT`` (see torchrun's documentation). gloo is used on the
CPU, NCCL on GPUs. Only rank 0 writes checkpoints and the run folder.
"""

from __future__ import annotations

import os

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
