"""``python -m topicvae.train ARGS`` is ``topicvae train ARGS``: the entry point for torchrun.

    torchrun --nproc_per_node=2 -m topicvae.train news --model prodlda --topics 50 [--verbose]

Every process trains on its share of each epoch's minibatches (DistributedDataParallel;
gloo on the CPU, NCCL on GPUs); rank 0 writes the run. See
:mod:`topicvae.models.vae.distributed`.
"""

import sys

from topicvae.interfaces.cli import main


def _argv(args: list[str]) -> list[str]:
    """``topicvae [--verbose] train ARGS``: ``--verbose`` (``-v``), topicvae's own flag, may come anywhere."""
    verbose = [a for a in args if a in ("-v", "--verbose")]
    return [*verbose[:1], "train", *[a for a in args if a not in ("-v", "--verbose")]]


if __name__ == "__main__":
    sys.exit(main(_argv(sys.argv[1:])))
