"""`topicvae reduce` against training at the smaller K directly: topic quality, likelihood and time.

    python benchmarks/merge.py [--corpus ng] [--from 50] [--to 20] [--epochs 0,1,3,5] [--seeds 0]
                               [--model prodlda] [--threads 1] [--reference test|validation]
                               [--shared DIR] [--cache DIR]

On a corpus of ``benchmarks/quality.py`` (``--corpus``, default ``ng``: 20 Newsgroups with topicvae's
default ingestion, cached as there), per seed: trains the model at K = ``--from`` and at K = ``--to``
(the defaults of the model, one thread), then reduces the first to ``--to`` topics with
:func:`topicvae.runs.merging.reduce_topics` and each fine-tune length of ``--epochs`` (0: the merged model
before any training, scored in memory; no run is written for it): the default fine-tune (the
encoder learns, the merged topics stay) and, with ``--train-topics``, the one that trains the
topics too. Every model is scored with
``quality.score_topics`` (NPMI of the top 10 words on the reference documents and on the training
documents, diversity of the top 25) and the perplexity bound on the reference documents
(``log_bound``: a fresh Monte-Carlo ELBO for the VAEs).

Reference documents (``--reference``, as in ``quality.py``): ``test`` (the default) trains on the
training rows and scores on the test rows; ``validation`` holds a seeded share of the training rows
out as the reference, trains, merges and fine-tunes on the rest, and leaves the test rows unused:
settings are chosen with it.

Times: ``train s`` is the run's ``fit_seconds`` (training only, as ``topicvae train`` records it);
for a reduced run ``reduce s`` is the wall time of the whole ``reduce_topics`` call (hierarchy,
merged network, fine-tune and writing the run), and ``÷ direct`` divides that by the direct
model's ``train s``. Runs are written under ``--cache``/``runs``; the two trained ones are trained
again each time unless ``--reuse``.

Prints one Markdown table per seed, then the verdict of the target: held-out NPMI and diversity
within 0.03 of the direct model (or above it), in under a quarter of its training time.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from bench_common import SHARED, machine, versions, warm_imports  # benchmarks/bench_common.py
import quality  # benchmarks/quality.py: the corpora and score_topics

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "merge"
TOLERANCE, TIME_SHARE = 0.03, 0.25


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def scores(model, c, train, test) -> dict:
    """NPMI held-out and train, diversity and the reference documents' perplexity bound of a fitted model."""
    from topicvae.scoring import metrics as evaluation
    s = quality.score_topics(model.topic_word_, c.bow[train], c.bow[test])
    bound = model.log_bound(c.bow[test])
    return {"npmi": s["npmi"], "npmi_train": s["npmi_train"], "diversity": s["diversity"],
            "perplexity": evaluation.perplexity(*bound) if bound else None}


def reusable(name: str, runs_dir: Path, c):
    """The complete run ``name`` trained on this version of corpus ``c`` (``--reuse``), else None."""
    from topicvae.errors import RunError
    from topicvae.runs import Run

    try:
        run = Run.load(name, runs_dir)
    except RunError:
        return None
    return run if run.config.get("corpus_checksum") == c.checksum else None


def measure_seed(c, seed: int, args, runs_dir: Path) -> list[dict]:
    """The rows of one seed: the model at --from, at --to, and the reduced ones."""
    from topicvae.runs import train_run
    from topicvae.runs.merging import reduce_topics, topic_hierarchy

    train, test = quality.reference_rows(c, args.reference)
    # gensim's LDA has no torch threads or device (it trains on one core)
    torch_params = {} if args.model == "lda" else {"threads": args.threads, "device": "cpu"}
    params = {"seed": seed, **torch_params}
    rows = []
    big = None
    for k in (args.from_k, args.to_k):
        name = f"{c.name}-{args.model}-k{k}-s{seed}" + ("-validation" if args.reference == "validation" else "")
        run = reusable(name, runs_dir, c) if args.reuse else None
        if run is None:
            log(f"seed {seed}: training {args.model} K={k}")
            run = train_run(c, args.model, k, name=name, runs_dir=runs_dir, force=True, progress=False,
                            train_rows=train, **params)
        rows.append({"what": f"trained at K={k}", "K": k, "epochs": run.config["epochs"],
                     "train_s": run.config["fit_seconds"], **scores(run.model, c, train, test)})
        big = big or run
    direct_s = rows[1]["train_s"]
    groups = topic_hierarchy(big).groups(args.to_k)
    for epochs in args.epochs:
        if epochs == 0:
            t = time.perf_counter()
            merged = big.model.merged(groups, c.bow[train])
            rows.append({"what": f"reduced {args.from_k}→{args.to_k}, no fine-tune", "K": args.to_k, "epochs": 0,
                         "reduce_s": time.perf_counter() - t, **scores(merged, c, train, test)})
            continue
        for train_topics in (False, True) if args.train_topics else (False,):
            what = "encoder and topics" if train_topics else "encoder"
            log(f"seed {seed}: reducing K={args.from_k} to {args.to_k} with {epochs} epochs ({what})")
            name = f"{big.name}-to{args.to_k}-e{epochs}{'-topics' if train_topics else ''}"
            shutil.rmtree(runs_dir / name, ignore_errors=True)  # reduce does not replace runs
            t = time.perf_counter()
            run = reduce_topics(big, args.to_k, name=name, runs_dir=runs_dir, corpora_dir=Path(c.path).parent,
                                epochs=epochs, train_topics=train_topics, train_rows=train, **torch_params)
            wall = time.perf_counter() - t
            rows.append({"what": f"reduced {args.from_k}→{args.to_k}, fine-tune: {what}", "K": args.to_k,
                         "epochs": epochs, "train_s": run.config["fit_seconds"], "reduce_s": wall,
                         **scores(run.model, c, train, test)})
    for r in rows:
        r["seed"] = seed
        r["time_share"] = r["reduce_s"] / direct_s if r.get("reduce_s") is not None else None
    return rows


def table(rows: list[dict], direct: dict) -> str:
    head = ["model", "epochs", "NPMI held-out", "NPMI train", "div@25", "held-out perplexity", "train s", "reduce s",
            "÷ direct", "Δ NPMI", "Δ div"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def f(v, fmt):
        return "" if v is None else fmt.format(v)

    for r in rows:
        reduced = r.get("reduce_s") is not None
        out.append("| " + " | ".join([
            r["what"], str(r["epochs"]), f(r["npmi"], "{:.3f}"), f(r["npmi_train"], "{:.3f}"),
            f(r["diversity"], "{:.3f}"), f(r["perplexity"], "{:,.0f}"), f(r.get("train_s"), "{:.1f}"),
            f(r.get("reduce_s"), "{:.1f}"), f(r.get("time_share"), "{:.2f}"),
            f(r["npmi"] - direct["npmi"] if reduced else None, "{:+.3f}"),
            f(r["diversity"] - direct["diversity"] if reduced else None, "{:+.3f}")]) + " |")
    return "\n".join(out)


def verdict(rows: list[dict], direct: dict) -> list[str]:
    out = []
    for r in rows:
        if r.get("reduce_s") is None or not r["epochs"]:
            continue
        ok_npmi = r["npmi"] - direct["npmi"] >= -TOLERANCE  # within 0.03, or better
        ok_div = r["diversity"] - direct["diversity"] >= -TOLERANCE
        ok_time = r["time_share"] < TIME_SHARE
        met = "met" if ok_npmi and ok_div and ok_time else "missed"
        out.append(f"- {r['what']} (seed {r['seed']}): {met} (NPMI {r['npmi'] - direct['npmi']:+.3f}, "
                   f"diversity {r['diversity'] - direct['diversity']:+.3f}, time {r['time_share']:.2f} of the direct "
                   "training)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="ng", choices=sorted(quality.CORPORA), help="corpus of quality.py (default: ng)")
    p.add_argument("--from", dest="from_k", type=int, default=50, help="K of the model that is reduced (default: 50)")
    p.add_argument("--to", dest="to_k", type=int, default=20, help="K it is reduced to, and trained at (default: 20)")
    p.add_argument("--epochs", default="0,1,3,5", help="fine-tune epochs to measure; 0 = none (default: 0,1,3,5)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    p.add_argument("--model", default="prodlda", choices=("prodlda", "gsm", "lda"),
                   help="prodlda (default), gsm or lda (gensim's LdaModel: written as merged, with no fine-tune "
                        "unless --train-topics)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    p.add_argument("--shared", type=Path, default=SHARED, help=f"the shared corpora (default: {SHARED})")
    p.add_argument("--cache", type=Path, default=CACHE, help=f"runs and corpora (default: {CACHE})")
    p.add_argument("--reference", default="test", choices=quality.REFERENCES,
                   help="the documents scored: test (default) or validation, carved from the training rows")
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    p.add_argument("--train-topics", action="store_true",
                   help="also measure the fine-tune that trains the merged topics too (reduce --train-topics)")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the trained K=--from and K=--to runs of an earlier call (their train s is theirs)")
    argv = sys.argv[1:]
    args = p.parse_args(argv)
    args.epochs = [int(e) for e in args.epochs.split(",")]
    import torch

    torch.set_num_threads(args.threads)
    c, why = quality.prepare_corpus(args.corpus, args.shared, quality.CACHE)
    if c is None:
        sys.exit(f"corpus {args.corpus}: {why}")
    args.cache.mkdir(parents=True, exist_ok=True)
    warm_imports(args.model)
    all_rows = []
    print(f"# reduce {args.from_k} → {args.to_k} topics vs training at {args.to_k}\n")
    print(f"`{shlex.join(['python', 'benchmarks/merge.py', *argv])}` on {machine()}; {quality.code_version()}.\n")
    print(f"Libraries: {versions()}.\n")
    print(f"Reference documents: {args.reference}.\n")
    print(f"Corpus {args.corpus}: {c.n_docs:,} documents, V = {c.n_words:,}; {args.model} with its defaults, "
          f"{args.threads} thread(s).\n")
    for seed in (int(s) for s in args.seeds.split(",")):
        rows = measure_seed(c, seed, args, args.cache / "runs")
        all_rows += rows
        direct = rows[1]
        print(f"## seed {seed}\n\n{table(rows, direct)}\n")
        print("\n".join(verdict(rows, direct)) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(all_rows, indent=1))


if __name__ == "__main__":
    main()
