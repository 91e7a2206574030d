"""Data-parallel training from a corpus in shards: torchrun's processes each read their own shards.

    python benchmarks/torchrun_shards.py [--size 1000000] [--shard-docs 10000] [--epochs 1] [--nproc 2]

On the synthetic corpus of benchmarks/scale.py (K=50, V=10,000, 100 tokens per document, cached
under benchmarks/.cache/ and saved in shards of ``--shard-docs``), it trains the default ProdLDA
for ``--epochs`` epochs twice, each as a user would from the command line:

- ``torchrun --nproc_per_node N -m topicvae.train CORPUS --batch-size 200/N --verbose``: every
  process logs the shards it trained on, the shards it read and its peak RSS while training;
- ``python -m topicvae.train CORPUS --batch-size 200``: one process, the same steps (N processes
  with batches of B average their gradients into one step of N·B documents).

It prints each process's line, whether each read its own shards only, and the ratio of the two
runs' training loss per epoch (the target: within 1 %). Nothing here is timed against a limit.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from scale import CACHE, corpus_name  # benchmarks/scale.py

LINE = re.compile(r"process (\d+) of (\d+) trained on (\d+) documents of shards \[([\d, ]*)\], "
                  r"read shards \[([\d, ]*)\]; peak RSS (\d+) MB")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(command: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return time.perf_counter() - t, out.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--shard-docs", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--nproc", type=int, default=2)
    args = ap.parse_args()
    here = Path(__file__).resolve().parent
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo",
           "TOPICVAE_CORPORA_DIR": str(CACHE)}
    subprocess.run([sys.executable, str(here / "scale.py"), "--ensure", f"{args.size}:{args.shard_docs}"], env=env,
                   check=True, capture_output=True)
    name = corpus_name(args.size, args.shard_docs)
    batch = 200
    common = [name, "--model", "prodlda", "--topics", "50", "--epochs", str(args.epochs), "--val-fraction", "0",
              "--patience", "0", "--threads", "1", "--quiet", "--seed", "0"]
    with tempfile.TemporaryDirectory() as runs:
        env["TOPICVAE_RUNS_DIR"] = runs
        ddp_s, log = _train([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={args.nproc}",
                             f"--master_port={_free_port()}", "--master_addr=127.0.0.1", "-m", "topicvae.train",
                             *common, "--batch-size", str(batch // args.nproc), "--name", "ddp", "--verbose"], env)
        one_s, _ = _train([sys.executable, "-m", "topicvae.train", *common, "--batch-size", str(batch),
                           "--name", "one"], env)
        ddp = pd.read_csv(Path(runs) / "ddp" / "history.csv")
        one = pd.read_csv(Path(runs) / "one" / "history.csv")
    print(f"# torchrun --nproc_per_node {args.nproc} on {args.size:,} documents in shards of {args.shard_docs:,} "
          f"(ProdLDA K=50, V=10,000, {args.epochs} epoch(s), 1 thread per process)\n")
    print("| process | documents trained on | its shards | shards read | read only its own | peak RSS MB (training) |")
    print("|---|---|---|---|---|---|")
    found = sorted(LINE.findall(log), key=lambda m: int(m[0]))
    if len(found) != args.nproc:
        sys.exit(f"expected {args.nproc} process lines in the log, found {len(found)}:\n{log[-3000:]}")
    for rank, _, docs, own, read, peak in found:
        own_set = {int(k) for k in own.split(",") if k.strip()}
        read_set = {int(k) for k in read.split(",") if k.strip()}
        print(f"| {rank} | {int(docs):,} | {len(own_set)} | {len(read_set)} | {'yes' if read_set <= own_set else 'NO'} "
              f"| {int(peak):,} |")
    ratio = ddp["train_loss"].to_numpy() / one["train_loss"].to_numpy()
    print(f"\ntraining loss per epoch, torchrun / one process: {', '.join(f'{r:.4f}' for r in ratio)} "
          f"(largest difference {abs(ratio - 1).max():.2%}; target within 1 %)")
    print(f"seconds of the whole command (training, then θ of every document and the run written by rank 0): "
          f"torchrun {ddp_s:.0f}, one process {one_s:.0f}")


if __name__ == "__main__":
    main()
