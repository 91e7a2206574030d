"""Fuzz every document reader with damaged sources and count what happens.

    python benchmarks/fuzz.py [--examples 10000] [--seed 0] [--readers csv,zip] [--save DIR]

Draws ``--examples`` inputs in all, split evenly over the readers, from the strategies of
tests/fuzz_inputs.py (the ones tests/test_fuzz.py uses with fewer examples), reads each
with ``read_source`` and prints a Markdown table: inputs per reader, how many gave
documents, how many raised a topicvae error, and how many raised anything else (the
target is 0), with the first reproducer of each such failure.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the shared strategies

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from fuzz_inputs import READERS, outcome, write_case  # noqa: E402


def fuzz_reader(name: str, n: int, seed_value: int, save: Path | None = None) -> tuple[Counter, list[str], float]:
    """Outcome counts of ``n`` inputs to one reader, and the first reproducer of each kind of failure.

    With ``save``, the files of each first reproducer are written to ``save/<reader>-<exception>/``.
    """
    counts: Counter = Counter()
    failures: dict[str, str] = {}

    @seed(seed_value)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=READERS[name])
    def run(case):
        kind, result, _ = outcome(case)
        counts[kind] += 1
        if kind == "other":
            frame = traceback.extract_tb(result.__traceback__)[-1] if result.__traceback__ else None
            where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
            key = f"{type(result).__name__}{where}: {str(result)[:120]}"
            kind_name = type(result).__name__
            if kind_name not in failures and save is not None:
                folder = save / f"{name}-{kind_name}"
                folder.mkdir(parents=True, exist_ok=True)
                write_case(case, bytes(folder))
            failures.setdefault(kind_name, f"{key}\n    {case!r}")

    t = time.perf_counter()
    run()
    return counts, list(failures.values()), time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="inputs in all, split over the readers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", default=",".join(READERS), help="comma-separated: " + ", ".join(READERS))
    parser.add_argument("--save", type=Path, help="write the files of each first reproducer under this folder")
    args = parser.parse_args(argv)
    names = [r for r in args.readers.split(",") if r]
    unknown = set(names) - set(READERS)
    if unknown:
        parser.error(f"unknown readers: {', '.join(sorted(unknown))}")
    per_reader = max(1, args.examples // len(names))

    print(f"fuzzing {len(names)} readers, {per_reader} inputs each, seed {args.seed}\n")
    print("| reader | inputs | documents | topicvae error | other exception | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    total: Counter = Counter()
    reproducers = []
    for name in names:
        counts, failures, seconds = fuzz_reader(name, per_reader, args.seed, args.save)
        total += counts
        reproducers += [f"- {name}: {f}" for f in failures]
        print(f"| {name} | {sum(counts.values())} | {counts['docs']} | {counts['topicvae']} | "
              f"{counts['other']} | {seconds:.1f} |", flush=True)
    print(f"| all | {sum(total.values())} | {total['docs']} | {total['topicvae']} | {total['other']} | |")
    if reproducers:
        print("\nfirst reproducer of each failure:\n" + "\n".join(reproducers))
    return 1 if total["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
