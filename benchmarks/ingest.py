"""Ingestion speed and memory: topicvae vs scikit-learn CountVectorizer on the same texts.

    python benchmarks/ingest.py [--archive PATH] [--processes 1,2]

Reads all 18,846 posts of the 20 Newsgroups archive (default: ../shared/corpora/).
Each contender runs in its own process so its peak RSS is its own. Both times include
reading the archive; topicvae's also includes cleaning, lemmatizing and saving the corpus.
Prints a Markdown table with the ratio to CountVectorizer (same min_df / max_df).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import ARCHIVE, peak_rss_mb  # benchmarks/bench_common.py


def run_topicvae(archive: str, n_process: int) -> dict:
    from topicvae import ingest
    from topicvae.text.settings import VocabSettings

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        corpus = ingest(archive, "bench", corpora_dir=d, n_process=n_process, vocab=VocabSettings(max_vocab=None))
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "tokens": int(corpus.bow.sum()), "docs": corpus.n_docs,
            "vocabulary": corpus.n_words, "peak_mb": peak_rss_mb()}


def run_sklearn(archive: str) -> dict:
    from sklearn.feature_extraction.text import CountVectorizer

    from topicvae.text.settings import VocabSettings
    from topicvae.text.sources import read_source

    v = VocabSettings()
    t = time.perf_counter()
    texts = [d.text for d in read_source(archive)]
    X = CountVectorizer(min_df=int(v.min_df), max_df=v.max_df, stop_words="english").fit_transform(texts)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "tokens": int(X.sum()), "docs": X.shape[0], "vocabulary": X.shape[1],
            "peak_mb": peak_rss_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ARCHIVE))
    ap.add_argument("--processes", default="1,2", help="topicvae --n-process values to measure")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        kind, _, n = args.one.partition(":")
        result = run_sklearn(args.archive) if kind == "sklearn" else run_topicvae(args.archive, int(n))
        print(json.dumps(result))
        return
    if not Path(args.archive).is_file():
        sys.exit(f"error: archive not found: {args.archive}")
    contenders = ["sklearn"] + [f"topicvae:{n}" for n in args.processes.split(",")]
    results = {}
    for c in contenders:
        out = subprocess.run([sys.executable, __file__, "--archive", args.archive, "--one", c],
                             capture_output=True, text=True, check=True).stdout
        results[c] = json.loads(out.strip().splitlines()[-1])
    base = results["sklearn"]["seconds"]
    print(f"# ingestion of {args.archive} ({results['sklearn']['docs']:,} documents)")
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}\n")
    print("| contender | wall s | output tokens | tokens/s | vocabulary | peak RSS MB | time ratio to CountVectorizer |")
    print("|---|---|---|---|---|---|---|")
    for c, r in results.items():
        name = "scikit-learn CountVectorizer" if c == "sklearn" else f"topicvae ingest, {c.split(':')[1]} process(es)"
        print(f"| {name} | {r['seconds']:.2f} | {r['tokens']:,} | {r['tokens'] / r['seconds']:,.0f} | "
              f"{r['vocabulary']:,} | {r['peak_mb']:.0f} | {r['seconds'] / base:.2f}× |")


if __name__ == "__main__":
    main()
