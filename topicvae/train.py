"""``python -m topicvae.train ARGS`` is ``topicvae train ARGS``: the entry point for torchrun.

    torchrun --nproc_per_node=2 -m topicvae.train news --model prodlda --topics 50

Every process trains on its share of each epoch's minibatches (DistributedDataParallel;
gloo on the CPU, NCCL on GPUs); rank 0 writes the run. See
:mod:`topicvae.models.vae.distributed`.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
