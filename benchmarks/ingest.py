"""Ingestion speed and memory: topicvae vs scikit-learn CountVectorizer on the same texts; and
``topicvae ingest --workers N`` on a generated CSV of any size.

    python benchmarks/ingest.py [--archive PATH] [--processes 1,2]
    python benchmarks/ingest.py --generated 100000 [--workers 1,2] [--partition-docs N] [--rounds 3]

Reads all 18,846 posts of the 20 Newsgroups archive (default: ../shared/corpora/).
Each contender runs in its own process so its peak RSS is its own. Both times include
reading the archive; topicvae's also includes cleaning, lemmatizing and saving the corpus.
Prints a Markdown table with the ratio to CountVectorizer (same min_df / max_df).

With ``--generated N`` it writes (once, cached in benchmarks/.cache/) a CSV of N documents of 100 words
each drawn from a Zipf-like vocabulary of 20,000 made-up words (seeded), then runs ``topicvae ingest``
on it as a command, once per ``--workers`` value, and samples every 0.2 s the resident memory of the
command and all its child processes together (the Dask nanny and worker processes included: psutil over
the process tree). It prints seconds, the peak summed RSS, the speed-up over the first value of
``--workers``, the CPU seconds of the whole process tree and the load average before each run (a
speed-up needs cores that other work leaves free), and checks that the corpora are identical (their bag-of-words digests).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
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
        corpus = ingest(archive, "bench", corpora_dir=d, workers=n_process, vocab=VocabSettings(max_vocab=None))
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


def generated_csv(n: int) -> Path:
    """A CSV of ``n`` documents (id, text, split), 100 words each, cached; seeded, so always the same."""
    import numpy as np

    path = Path(__file__).resolve().parent / ".cache" / f"generated-{n}.csv"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = np.array(["".join(rng.choice(letters, size=rng.integers(4, 10))) for _ in range(20_000)])
    p = 1.0 / np.arange(1, len(words) + 1) ** 1.05
    p /= p.sum()
    tmp = path.with_suffix(".part")
    with open(tmp, "w") as f:
        f.write("id,text,split\n")
        for start in range(0, n, 10_000):
            m = min(10_000, n - start)
            ids = rng.choice(len(words), size=(m, 100), p=p)
            for k in range(m):
                i = start + k
                f.write(f"d{i},{' '.join(words[ids[k]])},{'test' if i % 10 == 0 else 'train'}\n")
    tmp.rename(path)
    return path


def run_command_tree(cmd: list[str]) -> dict:
    """Run ``cmd``; its seconds and the peak of the RSS summed over it and all its descendants."""
    import psutil

    import os
    import resource

    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
        except psutil.NoSuchProcess:
            pass
        peak = max(peak, total)
        time.sleep(0.2)
    out, err = proc.communicate()
    if proc.returncode:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{err[-3000:]}")
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process of the tree, once reaped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "peak_mb": peak / 2**20, "stdout": out, "cpu_s": cpu, "load": load}


def generated(args) -> None:
    source = generated_csv(args.generated)
    workers = [int(x) for x in args.workers.split(",")]
    runs = []  # (round, position in --workers, result), the values alternating within each round
    with tempfile.TemporaryDirectory() as d:
        for rnd in range(1, args.rounds + 1):
            for i, w in enumerate(workers):
                name = f"w{w}-{i}-r{rnd}"
                cmd = [sys.executable, "-m", "topicvae.interfaces.cli", "ingest", str(source), "--name", name,
                       "--workers", str(w), "--quiet", "--corpora-dir", d] + (
                    ["--partition-docs", str(args.partition_docs)] if args.partition_docs else [])
                r = run_command_tree(cmd)
                manifest = json.loads((Path(d) / name / "manifest.json").read_text())
                r["digest"] = [s["sha256"] for s in manifest["shards"]]
                shutil.rmtree(Path(d) / name)
                runs.append((rnd, i, r))
                print(f"  round {rnd}, --workers {w}: {r['seconds']:.1f} s, peak RSS {r['peak_mb']:.0f} MB",
                      file=sys.stderr, flush=True)
    first = {rnd: r for rnd, i, r in runs if i == 0}
    print(f"# topicvae ingest of {source.name} ({args.generated:,} documents of 100 words, "
          f"{source.stat().st_size / 2**20:.0f} MB)")
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}\n")
    print("| round | --workers | wall s | docs/s | peak RSS MB (all processes) | speed-up | CPU s (all processes) "
          "| load before | same corpus |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rnd, i, r in runs:
        print(f"| {rnd} | {workers[i]} | {r['seconds']:.1f} | {args.generated / r['seconds']:,.0f} | {r['peak_mb']:.0f} | "
              f"{first[rnd]['seconds'] / r['seconds']:.2f}x | {r['cpu_s']:.1f} | {r['load']:.2f} | "
              f"{r['digest'] == runs[0][2]['digest']} |")
    print("\nspeed-up: over the first --workers value's run of the same round; CPU s: user + system seconds of "
          "the command and every process it started (Dask's included); load before: the 1-minute load average "
          "when the run started (other work on the machine)")
    for i, w in enumerate(workers[1:], start=1):
        ups = sorted(first[rnd]["seconds"] / r["seconds"] for rnd, j, r in runs if j == i)
        print(f"--workers {w}: speed-up median {statistics.median(ups):.2f}x over {len(ups)} round(s) "
              f"(from {ups[0]:.2f}x to {ups[-1]:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", default=str(ARCHIVE))
    ap.add_argument("--processes", default="1,2", help="topicvae --n-process values to measure")
    ap.add_argument("--generated", type=int, help="ingest a generated CSV of this many documents instead")
    ap.add_argument("--workers", default="1,2", help="--workers values to measure with --generated (default 1,2)")
    ap.add_argument("--partition-docs", type=int, help="ingest --partition-docs with --generated")
    ap.add_argument("--rounds", type=int, default=1,
                    help="with --generated, run the --workers values this many times, alternating, and print "
                         "the median speed-up (this machine's runs vary by some seconds)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generated:
        generated(args)
        return
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
