"""One command, one report: topicvae against its baselines on 20 Newsgroups.

    python benchmarks/run.py [--quick] [--out docs/benchmarks.md]

Runs, one after the other on this machine (each contender in its own process):
1. ``benchmarks/ingest.py``: ingestion vs scikit-learn CountVectorizer on the same texts;
2. ``benchmarks/train.py`` at K=20 and K=50: ProdLDA, NVDM, gensim LdaModel (10 passes),
   gensim LdaMulticore (2 workers) and, when the ``bench`` extra is installed, tomotopy's
   Gibbs-sampling LDA: train seconds, peak RSS, NPMI (test reference), C_v, diversity,
   perplexity bound, label accuracy and NMI, inference docs/s, ratios to LdaMulticore,
   and ProdLDA's NPMI after 5, 10, ..., 25 epochs against the best LDA's (``--curve``);
3. ``benchmarks/flops.py``: achieved GFLOP/s of ProdLDA training against a dense matmul peak;
4. ``benchmarks/scale.py``: seconds per epoch and peak RSS at 10k, 100k and 1M synthetic
   documents (skipped with ``--quick``, which also trains with fewer epochs and documents).

It prints each table as it comes and writes them all to ``--out`` with the machine's
cores, memory, library versions and the exact command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path

from bench_common import machine, versions  # benchmarks/bench_common.py

HERE = Path(__file__).resolve().parent


def step(title: str, argv: list[str]) -> str:
    print(f"\n## {title}\n\n$ {shlex.join(argv)}", flush=True)
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        text = f"(failed with exit code {out.returncode}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ''})"
    else:
        text = out.stdout.strip()
    print(text, flush=True)
    root = str(HERE.parent) + os.sep  # the command as typed in the repository root
    shown = shlex.join(["python", *(a.removeprefix(root) for a in argv[1:])])
    return f"## {title}\n\n`{shown}`\n\n{text.replace(root, '')}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI-sized smoke run: small corpus slice, few epochs, no scale curve")
    ap.add_argument("--out", default=str(HERE.parent / "docs" / "benchmarks.md"))
    ap.add_argument("--seeds", default="0", help="seeds for the training tables (means are shown)")
    args = ap.parse_args()
    py = sys.executable
    models = "prodlda,nvdm,lda,ldamulticore"
    try:
        import tomotopy  # noqa: F401

        models += ",tomotopy"
    except ImportError:
        print("tomotopy not installed (pip install -e '.[bench]'): its row is left out", file=sys.stderr)
    quick = ["--quick"] if args.quick else []
    parts = [step("Ingestion", [py, str(HERE / "ingest.py")])]
    curve = [] if args.quick else ["--curve", "5,10,15,20,25"]
    for k in ((10,) if args.quick else (20, 50)):
        parts.append(step(f"Training, K={k}", [py, str(HERE / "train.py"), "--topics", str(k), "--models", models,
                                              "--seeds", args.seeds, *curve, *quick]))
    parts.append(step("Training FLOP/s", [py, str(HERE / "flops.py"), *(["--topics", "10", "--epochs", "2"]
                                                                        if args.quick else [])]))
    if not args.quick:
        png = Path(args.out).resolve().parent / "scale.png"
        parts.append(step("Scale", [py, str(HERE / "scale.py"), "--recovery-epochs", "20", "--recovery-lda-passes", "10",
                                            "--png", str(png)]))
        parts[-1] += f"\n![ProdLDA's seconds per epoch and peak memory against documents]({png.name})\n"
    header = (f"# Benchmarks\n\nMeasured {dt.date.today().isoformat()} with `python benchmarks/run.py"
              f"{' --quick' if args.quick else ''}` on {machine()}.\n\nLibraries: {versions()}.\n\n"
              "Every contender ran in its own process on the same machine in the same run; timings on shared "
              "machines vary by ±20 %, so compare within a table, not across reports.\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(header + "\n" + "\n".join(parts))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
