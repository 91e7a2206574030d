"""Where an ingest's time goes: the wall and CPU seconds (all threads of this process) of its phases.

    python docs/probes/ingest_phases.py [N_DOCS] [WORKERS]

Ingests benchmarks/ingest.py's generated CSV of N_DOCS documents (default 1,000,000; written once
into benchmarks/.cache/) with ``workers`` WORKERS (default 1) into a temporary folder, timing the
first pass with the vocabulary (``_choose_vocabulary`` ends it), the second pass (``_write``: each
partition over the vocabulary, the shards and docs.parquet) and the manifest; prints one line each
and the whole ingest's, and the peak RSS of this process (docs/benchmarks.md, "Tables read
column-wise").
"""
import functools
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import ingest as bench  # noqa: E402  (benchmarks/ingest.py)

from topicvae import ingest  # noqa: E402
from topicvae.corpus import ingestion  # noqa: E402


def timed(name: str) -> None:
    """Print the wall and CPU seconds of each call of ``ingestion.<name>``."""
    fn = getattr(ingestion, name)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        print(f"{name}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} CPU-s", flush=True)
        return out

    setattr(ingestion, name, wrapper)


n_docs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
source = bench.generated_csv(n_docs)
for phase in ("_choose_vocabulary", "_write", "_manifest"):
    timed(phase)
with tempfile.TemporaryDirectory() as d:
    wall, cpu = time.perf_counter(), time.process_time()
    ingest(str(source), "phases", corpora_dir=d, workers=workers)
    print(f"ingest of {n_docs:,} documents, --workers {workers}: {time.perf_counter() - wall:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} CPU-s in this process; peak RSS of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
