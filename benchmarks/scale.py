"""How ProdLDA's cost grows with the number of documents, on synthetic LDA corpora.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--epochs 1] [--shard-docs N]
                               [--recovery-epochs 20] [--recovery-size 100000] [--recovery-lda-passes 10]

For each size it samples a corpus from a known LDA (K=50, V=10,000, 100 tokens per
document; cached under benchmarks/.cache/ as one ``bow.npz``, and with ``--shard-docs N`` a copy
in shards of N documents, which training and export read a shard at a time), then, in a fresh
process so the peak RSS is that stage's own, trains ProdLDA for a fixed number of epochs through ``train_run``
(which also computes and writes θ, μ and σ for every document), and in another fresh process
exports the document CSV as ``topicvae export`` does (``export_run``), and in a third evaluates it as
``topicvae evaluate --no-c-v`` does (``evaluate_run``). It prints seconds per
epoch, documents per second, each stage's peak RSS, and writes a PNG of the curve.
With ``--recovery-epochs N`` it trains N epochs on the 100k corpus and reports how well the
planted topics are recovered (Hungarian matching on cosine; mean cosine of matched topics
and the share of each true topic's top-10 words among its match's top 10); with
``--recovery-lda-passes P`` gensim's LdaModel is fitted on the same corpus and scored the
same way, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import peak_rss_mb  # benchmarks/bench_common.py

CACHE = Path(__file__).resolve().parent / ".cache" / "corpora"


def corpus_name(n: int, shard_docs: int = 0) -> str:
    return f"synthetic-lda-{n}" + (f"-shards{shard_docs}" if shard_docs else "")


def ensure_corpus(n: int, shard_docs: int = 0) -> None:
    """The cached corpus of ``n`` documents in one ``bow.npz``, and with ``shard_docs`` its copy in
    shards of that many. (Run in a process of its own: a child forked from a process that held a
    corpus would report that process's size as its own peak RSS.)"""
    from topicvae.corpus import list_corpora, read_manifest
    from topicvae.corpus.shards import shard_records
    from topicvae.corpus.synthetic import make_synthetic_corpus

    if corpus_name(n) not in list_corpora(CACHE) or len(shard_records(read_manifest(corpus_name(n), CACHE))) > 1:
        t = time.perf_counter()
        make_synthetic_corpus(corpus_name(n), n, n_topics=50, n_words=10_000, doc_len=100, corpora_dir=CACHE,
                              force=True)
        _resave(corpus_name(n), corpus_name(n), max(n, 1))  # (saved in shards of 100,000 above that many)
        print(f"  sampled {n:,} documents in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if shard_docs and corpus_name(n, shard_docs) not in list_corpora(CACHE):
        _resave(corpus_name(n), corpus_name(n, shard_docs), shard_docs)


def _resave(name: str, new: str, shard_docs: int) -> None:
    """Corpus ``name`` saved again as ``new`` in shards of ``shard_docs`` documents, with its true topics."""
    from topicvae.corpus import Corpus
    from topicvae.corpus.synthetic import TRUE_TOPIC_WORD_FILE

    corpus = Corpus.load(name, CACHE)
    true_topics = (corpus.path / TRUE_TOPIC_WORD_FILE).read_bytes()
    copy = Corpus(name=new, bow=corpus.bow, vocab=corpus.vocab, docs=corpus.docs, manifest=dict(corpus.manifest))
    copy.save(CACHE, shard_docs=shard_docs, force=True)
    (CACHE / new / TRUE_TOPIC_WORD_FILE).write_bytes(true_topics)


def one(n: int, epochs: int, threads: int, shard_docs: int, runs: str) -> dict:
    """Train in this process (the run is left in ``runs``); report timings and this process's peak RSS."""
    import numpy as np

    from topicvae.corpus import Corpus
    from topicvae.corpus.synthetic import TRUE_TOPIC_WORD_FILE, topic_recovery
    from topicvae.runs import train_run

    corpus = Corpus.load(corpus_name(n, shard_docs), CACHE)
    t = time.perf_counter()
    run = train_run(corpus, "prodlda", 50, name="scale", runs_dir=runs, progress=False, epochs=epochs, patience=0,
                    val_fraction=0.0, threads=threads, seed=0)
    total = time.perf_counter() - t
    peak = peak_rss_mb()
    hist = run.history
    cos, top10 = topic_recovery(np.load(corpus.path / TRUE_TOPIC_WORD_FILE), run.topic_word)  # as reported
    return {"n": n, "shards": len(corpus.shards), "epochs": len(hist), "s_per_epoch": float(hist["seconds"].mean()),
            "fit_s": run.config["fit_seconds"], "train_run_s": total, "recovery_cosine": cos,
            "recovery_top10": top10, "peak_mb": peak}


def one_export(runs: str) -> dict:
    """Export the run ``one`` left, as ``topicvae export`` does, in this process; seconds and peak RSS."""
    from topicvae.analysis.export import export_run
    from topicvae.runs import Run

    run = Run.load("scale", runs)
    with tempfile.TemporaryDirectory() as out:  # (not in the runs folder, which export refuses to write in)
        t = time.perf_counter()
        export_run(run, Path(out) / "docs.csv", corpora_dir=CACHE)
        return {"export_s": time.perf_counter() - t, "export_peak_mb": peak_rss_mb()}


def one_evaluate(runs: str) -> dict:
    """Evaluate the run ``one`` left, as ``topicvae evaluate --no-c-v`` does (``evaluate_run``: NPMI on the
    test split and on the training documents, lead words, perplexity, label metrics, speed), in this process;
    seconds and peak RSS. (C_v is left out: a synthetic corpus has no texts to tokenise.)"""
    from topicvae.analysis.run_metrics import evaluate_run
    from topicvae.runs import Run

    run = Run.load("scale", runs)
    t = time.perf_counter()
    metrics = evaluate_run(run, corpora_dir=CACHE, with_c_v=False, save=False)
    return {"evaluate_s": time.perf_counter() - t, "evaluate_peak_mb": peak_rss_mb(), "npmi": metrics["npmi"],
            "perplexity": metrics["perplexity"]}


def one_lda(n: int, passes: int) -> dict:
    """gensim's LdaModel on the same training documents: its recovery of the planted topics."""
    import numpy as np

    from topicvae.corpus import Corpus
    from topicvae.corpus.synthetic import TRUE_TOPIC_WORD_FILE, topic_recovery
    from topicvae.models.lda import LDA

    corpus = Corpus.load(corpus_name(n), CACHE)
    X = corpus.bow[corpus.split_rows("train")]
    t = time.perf_counter()
    model = LDA(50, passes=passes, workers=1, seed=0, history_docs=0).fit(X, progress=False)
    fit_s = time.perf_counter() - t
    cos, top10 = topic_recovery(np.load(corpus.path / TRUE_TOPIC_WORD_FILE), model.topic_word_)
    return {"n": n, "passes": passes, "fit_s": fit_s, "recovery_cosine": cos, "recovery_top10": top10}


def _child(args: list[str], env: dict) -> dict:
    """Run this script with ``args`` in a fresh process; the JSON it prints last (its stderr passed on)."""
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(out.stderr)
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--epochs", type=int, default=1, help="epochs timed at each size (default: 1)")
    ap.add_argument("--recovery-epochs", type=int, default=0,
                    help="also train this many epochs on --recovery-size documents and report topic recovery")
    ap.add_argument("--recovery-size", type=int, default=100_000)
    ap.add_argument("--recovery-lda-passes", type=int, default=0,
                    help="also fit gensim's LdaModel with this many passes on the recovery corpus, for comparison")
    ap.add_argument("--one-lda", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as benchmarks/train.py)")
    ap.add_argument("--shard-docs", type=int, default=0,
                    help="train and export from a copy of each corpus saved in shards of N documents (0: one file)")
    ap.add_argument("--runs", help=argparse.SUPPRESS)
    ap.add_argument("--one-export", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--one-evaluate", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ensure", help=argparse.SUPPRESS)
    ap.add_argument("--png", default=str(Path(__file__).resolve().parents[1] / "docs" / "scale.png"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_lda:
        n, passes = map(int, args.one_lda.split(":"))
        print(json.dumps(one_lda(n, passes)))
        return
    if args.one:
        n, epochs = map(int, args.one.split(":"))
        print(json.dumps(one(n, epochs, args.threads, args.shard_docs, args.runs)))
        return
    if args.one_export:
        print(json.dumps(one_export(args.runs)))
        return
    if args.one_evaluate:
        print(json.dumps(one_evaluate(args.runs)))
        return
    if args.ensure:
        n, shard_docs = map(int, args.ensure.split(":"))
        ensure_corpus(n, shard_docs)
        print(json.dumps({}))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    jobs = [(n, args.epochs) for n in sizes]
    if args.recovery_epochs:
        jobs.append((args.recovery_size, args.recovery_epochs))
    results, lda = [], None
    if args.recovery_epochs and args.recovery_lda_passes:
        jobs.append(("lda", args.recovery_size, args.recovery_lda_passes))
    for job in jobs:
        kind, (n, count) = ("lda", job[1:]) if job[0] == "lda" else ("prodlda", job)
        shard_docs = 0 if kind == "lda" else args.shard_docs
        env = {**os.environ, **{v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                                 "OPENBLAS_NUM_THREADS")}}
        _child(["--ensure", f"{n}:{shard_docs}"], env)
        flag = "--one-lda" if kind == "lda" else "--one"
        with tempfile.TemporaryDirectory() as runs:
            common = ["--threads", str(args.threads), "--shard-docs", str(args.shard_docs), "--runs", runs]
            result = _child([flag, f"{n}:{count}", *common], env)
            if kind != "lda":  # the export and the evaluation of that run, each in a process of its own
                result.update(_child(["--one-export", *common], env))
                result.update(_child(["--one-evaluate", *common], env))
        if kind == "lda":
            lda = result
        else:
            results.append(result)
        print(f"  done: {result}", file=sys.stderr)
    curve = [r for r in results if r["epochs"] == args.epochs]
    base = curve[0]
    layout = f"shards of {args.shard_docs:,} documents" if args.shard_docs else "one bow.npz"
    print(f"# ProdLDA scale curve (K=50, V=10,000, 100 tokens/document, {args.threads} threads, "
          f"{args.epochs} epoch(s) each, corpus in {layout})\n")
    print("| documents | shards | s/epoch | docs/s | s/epoch per doc vs smallest | train_run s (incl. θ, μ, σ for all) "
          "| train peak RSS MB | export CSV s | export peak RSS MB | evaluate s | evaluate peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in curve:
        per_doc = (r["s_per_epoch"] / r["n"]) / (base["s_per_epoch"] / base["n"])
        print(f"| {r['n']:,} | {r['shards']} | {r['s_per_epoch']:.1f} | {r['n'] / r['s_per_epoch']:,.0f} | "
              f"{per_doc:.2f}× | {r['train_run_s']:.1f} | {r['peak_mb']:,.0f} | {r['export_s']:.1f} | "
              f"{r['export_peak_mb']:,.0f} | {r['evaluate_s']:.1f} | {r['evaluate_peak_mb']:,.0f} |")
    for r in results:
        if r["epochs"] != args.epochs:
            print(f"\nplanted-topic recovery at {r['n']:,} documents after {r['epochs']} epochs "
                  f"({r['s_per_epoch']:.1f} s/epoch): each true topic matched to one learned topic "
                  f"(Hungarian, on cosine); mean cosine {r['recovery_cosine']:.3f}, mean share of the true "
                  f"top-10 words among the learned top 10: {r['recovery_top10']:.2f} (1 epoch at this size: "
                  + next((f"{q['recovery_cosine']:.3f} and {q['recovery_top10']:.2f}" for q in curve if q["n"] == r["n"]),
                         "not measured") + ")")
    if lda:
        print(f"\ngensim LdaModel ({lda['passes']} passes, {lda['fit_s']:.0f} s) on the same {lda['n']:,}-document "
              f"corpus: mean cosine {lda['recovery_cosine']:.3f}, top-10 share {lda['recovery_top10']:.2f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    ns = [r["n"] for r in curve]
    ax[0].loglog(ns, [r["s_per_epoch"] for r in curve], "o-", label="measured")
    ax[0].loglog(ns, [base["s_per_epoch"] * n / base["n"] for n in ns], "--", color="grey", label="linear")
    ax[0].set(xlabel="documents", ylabel="seconds per epoch", title="training time")
    ax[0].legend()
    ax[1].semilogx(ns, [r["peak_mb"] / 1024 for r in curve], "o-", label="training")
    ax[1].semilogx(ns, [r["export_peak_mb"] / 1024 for r in curve], "s-", label="export")
    ax[1].axhline(4, color="red", ls=":", label="4 GiB")
    ax[1].set(xlabel="documents", ylabel="peak RSS (GiB)", title="memory")
    ax[1].legend()
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)
    print(f"\nplot: {args.png}")


if __name__ == "__main__":
    main()
