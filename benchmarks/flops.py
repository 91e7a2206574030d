"""Achieved GFLOP/s of ProdLDA training against a dense-matmul peak measured on the same machine.

    python benchmarks/flops.py [--threads 1] [--topics 50] [--epochs 4]

1. Peak: the best of several fp32 ``torch.mm`` of two 2048 × 2048 matrices with the same
   number of torch threads (the fastest thing the CPU does in fp32).
2. Work per epoch: ProdLDA with topicvae's defaults on the ``news2k`` corpus that
   ``benchmarks/train.py`` builds (20 Newsgroups train split, 2,000 words). The FLOPs of
   one epoch are counted by ``torch.utils.flop_counter.FlopCounterMode`` (every dense
   matmul, forward and backward) as the difference between a 2-epoch and a 1-epoch fit,
   so one-off work (word embeddings, final θ) cancels; the sparse first encoder layer,
   which the counter does not see, is added as 2·nnz·H for its forward sum and 2·nnz·H
   for its weight gradient. Element-wise work (batch norm, softmax, Adam) is not counted,
   as is usual for FLOP/s figures.
3. Time per epoch: the mean wall time of epochs 2..E of an E-epoch fit without the counter.

Prints the work, the time, achieved GFLOP/s and its share of the peak.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def matmul_peak(n: int = 2048, repeats: int = 7) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as benchmarks/train.py)")
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=4, help="epochs of the timed fit (the first is not timed)")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import torch
    import torch._dynamo  # noqa: F401  (imported by the optimizer on first use: keep its import out of the timings)
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(HERE))
    from train import ARCHIVE, CACHE, corpus  # benchmarks/train.py's corpus

    from topicvae.models.vae.model import ProdLDA

    torch.set_num_threads(args.threads)
    c = corpus(ARCHIVE, CACHE)
    X = c.bow[c.split_rows("train")]
    peak = matmul_peak()

    def fit(epochs: int) -> ProdLDA:
        return ProdLDA(args.topics, epochs=epochs, threads=args.threads, device="cpu", seed=0).fit(X)

    counted = []
    for epochs in (1, 2):
        with FlopCounterMode(display=False) as counter:
            model = fit(epochs)
        counted.append(counter.get_total_flops())
    dense = counted[1] - counted[0]
    n_train = model.n_train_docs_
    width = model.net_.encoder.first.weight.shape[1]  # H: the first layer's weight is V × H
    nnz_train = X.nnz * n_train / X.shape[0]  # the training rows' share of the stored counts (sampled rows)
    sparse = 2 * 2 * nnz_train * width
    flops = dense + sparse
    model = fit(args.epochs)
    seconds = sum(h["seconds"] for h in model.history_[1:]) / (args.epochs - 1)
    achieved = flops / seconds / 1e9
    print(f"ProdLDA (defaults, K={args.topics}) on {CACHE.name}/news2k: {n_train:,} training documents, "
          f"{X.shape[1]:,} words, {args.threads} torch thread(s)\n")
    print("| quantity | value |\n|---|---|")
    print(f"| dense matmul FLOPs per epoch (counted) | {dense / 1e9:.2f} G |")
    print(f"| sparse first layer FLOPs per epoch (2·2·nnz·H) | {sparse / 1e9:.2f} G |")
    print(f"| seconds per epoch | {seconds:.3f} |")
    print(f"| achieved | {achieved:.1f} GFLOP/s |")
    print(f"| dense fp32 matmul peak (2048², {args.threads} thread(s)) | {peak:.1f} GFLOP/s |")
    print(f"| share of peak | {achieved / peak:.1%} |")


if __name__ == "__main__":
    main()
