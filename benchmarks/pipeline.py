"""The whole job at scale, as a user runs it: ingest a text CSV, train one epoch, evaluate, export.

    python benchmarks/pipeline.py [--sizes 100000,1000000,10000000] [--workers 2] [--out FILE] [--keep DIR]

For each size it takes the generated CSV of benchmarks/ingest.py (N documents of 100 words drawn from a
Zipf-like vocabulary of 20,000 made-up words, seeded, cached under benchmarks/.cache/), then runs the
commands a user would, each as a process of its own, sampling every 0.2 s the RSS summed over the
command and every process it starts (Dask's workers included):

1. ``topicvae ingest CSV --workers W`` (the vocabulary: the 10,000 most frequent words, the default);
2. ``topicvae train CORPUS --model prodlda --topics 50 --epochs 1 --threads 1``;
3. ``topicvae evaluate RUN --no-c-v`` (a generated text has no meaning for C_v);
4. ``topicvae export RUN --out docs.csv``.

It prints, row by row as each size finishes (and appends to ``--out`` when given), each stage's
seconds, seconds per 1,000 documents, peak RSS and the ratio of its seconds per document to those of
the smallest size (the targets of issue 31: peak RSS ≤ 4 GiB at every stage, and that ratio ≤ 1.25).
The 1-minute load average before each stage says how much other work shared the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ingest import generated_csv, run_command_tree  # benchmarks/ingest.py

STAGES = ("ingest", "train", "evaluate", "export")


def stage_commands(source: Path, workers: int, out: Path) -> list[tuple[str, list[str]]]:
    tv = [sys.executable, "-m", "topicvae.interfaces.cli"]
    return [("ingest", [*tv, "ingest", str(source), "--name", "big", "--workers", str(workers), "--quiet"]),
            ("train", [*tv, "train", "big", "--model", "prodlda", "--topics", "50", "--epochs", "1", "--threads",
                       "1", "--name", "big", "--quiet"]),
            ("evaluate", [*tv, "evaluate", "big", "--no-c-v"]),
            ("export", [*tv, "export", "big", "--out", str(out / "docs.csv")])]


def run_size(n: int, workers: int, tmp: Path | None, keep: Path | None) -> dict:
    """The four stages on ``n`` documents, in a temporary folder under ``tmp`` (removed after), or in
    ``keep``/N (left there: the corpus ``big``, the run ``big`` and docs.csv, to open in the dashboard)."""
    source = generated_csv(n)
    rows = {}
    with tempfile.TemporaryDirectory(dir=tmp) as scratch:
        d = Path(scratch) if keep is None else keep / str(n)
        d.mkdir(parents=True, exist_ok=True)
        env = {"TOPICVAE_CORPORA_DIR": str(d / "corpora"), "TOPICVAE_RUNS_DIR": str(d / "runs"),
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        os.environ.update(env)
        for stage, cmd in stage_commands(source, workers, d):
            rows[stage] = run_command_tree(cmd)
            r = rows[stage]
            print(f"  {n:,} {stage}: {r['seconds']:.1f} s, peak RSS {r['peak_mb']:.0f} MB, load before "
                  f"{r['load']:.2f}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--workers", type=int, default=2, help="ingest --workers (default 2)")
    ap.add_argument("--out", help="also append the table's rows to this file as they are measured")
    ap.add_argument("--tmp", help="folder for the corpora and runs (default: the system's temporary folder)")
    ap.add_argument("--keep", help="leave each size's corpus, run and docs.csv in KEEP/N instead of removing them")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header = ("| documents | stage | seconds | s per 1,000 docs | per-document time vs smallest | peak RSS MB "
              "| load before |\n|---|---|---|---|---|---|---|")
    lines = [f"# topicvae's whole job from a text CSV (ProdLDA K=50, V=10,000, one epoch, ingest --workers "
             f"{args.workers}; {os.cpu_count()} cores)\n", header]
    print("\n".join(lines), flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    smallest: dict[str, float] = {}
    for n in sizes:
        rows = run_size(n, args.workers, Path(args.tmp) if args.tmp else None, Path(args.keep) if args.keep else None)
        for stage in STAGES:
            r = rows[stage]
            per_doc = r["seconds"] / n
            smallest.setdefault(stage, per_doc)
            line = (f"| {n:,} | {stage} | {r['seconds']:.1f} | {1000 * per_doc:.3f} | {per_doc / smallest[stage]:.2f}x "
                    f"| {r['peak_mb']:,.0f} | {r['load']:.2f} |")
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(line + "\n")


if __name__ == "__main__":
    main()
