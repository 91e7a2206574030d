"""Where the CPU of ``ingest --workers 1`` and ``--workers 2`` goes: what bounds the two-worker speed-up.

    python benchmarks/ingest_cpu.py --generated 1000000

On the generated CSV of ``benchmarks/ingest.py`` (made there, cached in benchmarks/.cache/), each in a
fresh process: (1) the in-process ingest, its tokenizing CPU-seconds timed apart from the rest;
(2) the two-worker ingest, the driver's CPU-seconds at the end of the first pass and in all, and the
workers' (its child processes, counted when they exit); (3) a two-worker local cluster started, given
one tiny partition per worker and closed: the workers' start. With no waiting at all the speed-up
is at most twice the in-process CPU-seconds over the two-worker run's. Dask settings can be tried
through its environment variables (``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``: the workers
inherit them).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

from ingest import generated_csv  # benchmarks/ingest.py


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def in_process(source: str) -> dict:
    """The ``--workers 1`` ingest, ``tokenize_partition`` timed in CPU-seconds."""
    from topicvae import ingest
    from topicvae.corpus import ingestion

    spent = [0.0]
    tokenize = ingestion.tokenize_partition

    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return tokenize(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - t

    ingestion.tokenize_partition = timed
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        ingest(source, "cpu", corpora_dir=d, workers=1)
    total = cpu(resource.RUSAGE_SELF)
    return {"wall": time.perf_counter() - t0, "cpu": total, "tokenize": spent[0], "rest": total - spent[0]}


def two_workers(source: str) -> dict:
    """The ``--workers 2`` ingest: the driver's CPU at the end of the first pass and in all, the workers'."""
    from topicvae import ingest
    from topicvae.corpus import ingestion

    first_pass = {}
    choose = ingestion._choose_vocabulary

    def noted(*args, **kwargs):
        first_pass.update(wall=time.perf_counter() - t0, driver=cpu(resource.RUSAGE_SELF))
        return choose(*args, **kwargs)

    ingestion._choose_vocabulary = noted
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        ingest(source, "cpu", corpora_dir=d, workers=2)
    return {"wall": time.perf_counter() - t0, "driver": cpu(resource.RUSAGE_SELF),
            "workers": cpu(resource.RUSAGE_CHILDREN), "first_pass_wall": first_pass["wall"],
            "first_pass_driver": first_pass["driver"]}


def cluster_start(_source: str) -> dict:
    """A two-worker local cluster started, one tiny partition tokenized on each worker, closed (the
    source is not read)."""
    from topicvae.corpus import cluster
    from topicvae.text.settings import PreprocessSettings
    from topicvae.text.tokenize import tokenize_partition

    t0 = time.perf_counter()
    run = cluster.runner(2)
    list(run.imap(tokenize_partition, [(i, (["a few words"], PreprocessSettings())) for i in range(2)]))
    run.close()
    return {"wall": time.perf_counter() - t0, "workers": cpu(resource.RUSAGE_CHILDREN)}


JOBS = {"in_process": in_process, "two_workers": two_workers, "cluster_start": cluster_start}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, default=1_000_000, help="documents of the generated CSV")
    ap.add_argument("--one", choices=list(JOBS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    source = str(generated_csv(args.generated))
    if args.one:
        print(json.dumps(JOBS[args.one](source)))
        return
    r = {}
    for job in JOBS:
        done = subprocess.run([sys.executable, __file__, "--generated", str(args.generated), "--one", job],
                              capture_output=True, text=True, check=True)
        r[job] = json.loads(done.stdout.strip().splitlines()[-1])
    one, two, start = r["in_process"], r["two_workers"], r["cluster_start"]
    print(f"# CPU-seconds of ingesting {args.generated:,} generated documents")
    print("| run | wall s | CPU s | of it |")
    print("|---|---|---|---|")
    print(f"| --workers 1 | {one['wall']:.1f} | {one['cpu']:.1f} | tokenizing {one['tokenize']:.1f}, "
          f"the rest {one['rest']:.1f} |")
    print(f"| --workers 2 | {two['wall']:.1f} | {two['driver'] + two['workers']:.1f} | workers {two['workers']:.1f} "
          f"(of it their start, below), driver {two['driver']:.1f} ({two['first_pass_driver']:.1f} in the first "
          f"pass, which ends at {two['first_pass_wall']:.1f} s) |")
    print(f"| a 2-worker cluster started and closed | {start['wall']:.1f} | {start['workers']:.1f} | workers |")
    bound = 2 * one["cpu"] / (two["driver"] + two["workers"])
    print(f"\nspeed-up {one['wall'] / two['wall']:.2f}x; with no waiting at most 2 x {one['cpu']:.1f} / "
          f"{two['driver'] + two['workers']:.1f} = {bound:.2f}x. The workers past their start: "
          f"{two['workers'] - start['workers']:.1f} CPU-s, tokenizing {one['tokenize']:.1f} in process")


if __name__ == "__main__":
    main()
