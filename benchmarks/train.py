"""ProdLDA, NVDM and LDA (gensim, tomotopy) trained on one corpus, side by side, in one run.

    python benchmarks/train.py [--seeds 0,1] [--topics 50] [--models prodlda,nvdm,lda,ldamulticore,tomotopy]
                               [--variant 'LABEL:name=value;name=value' ...] [--quick] [--no-cv] [--json FILE]

The corpus is made by topicvae's own ingestion from the 20 Newsgroups bydate archive
(``news2k``: headers, quotes and signatures stripped, default preprocessing, 2,000-word
vocabulary fit on the train split) and cached in ``benchmarks/.cache/`` (reused when
present). Every model trains on the train split with K topics and is scored with
:mod:`topicvae.scoring.metrics`:

- NPMI of the top-10 words with the *test* split as reference; diversity of the top 25;
  their product (one number for "coherent and distinct"); C_v of the top-10 words over
  the test documents' tokens (the corpus's own preprocessing, out-of-vocabulary tokens
  kept, so windows span the real text; tokenized once and cached);
- perplexity upper bound on the test split (``model.log_bound``; VAE: ELBO, LDA: gensim's
  variational bound; comparable only within this corpus; none for tomotopy, whose
  Gibbs sampler gives no bound);
- label NMI of argmax θ on the test split and logistic-regression accuracy (θ train → test);
- train seconds (wall time of ``fit``, after the libraries it uses are imported),
  inference docs/s (``transform`` of the test split), peak RSS of the process.

Each (model, seed) trains in its own subprocess, one after the other, so that its peak
RSS is its own and no two compete for the cores; results come back as JSON. Threads
(``--threads``, default 1): the VAE trains with that many torch threads; every child runs
with ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set to it. One
thread is the default because on a machine whose cores are shared (another process
busy on one of 2 cores) torch's OpenMP threads wait on each other at every small
operation: measured on 2 cores, ProdLDA took 13-14 s with 2 threads and 17-18 s with 1
when idle, but 199 s with 2 threads and 19 s with 1 beside one busy process (LdaModel:
26-28 s either way).
``LdaModel`` is gensim's single-process trainer (``workers=1``), ``LdaMulticore`` uses
``workers=2`` E-step processes; tomotopy's Gibbs LDA (1,000 iterations, the ``bench``
extra; ``benchmarks/tomotopy_lda.py``, α = 0.1, η = 0.01) samples with
``workers=--threads`` threads and infers θ with 100 iterations. LDA's per-pass history
is off (``history_docs=0``) so its time is pure training.

The table gives means over ``--seeds`` and the ratio of train time to ``LdaMulticore``'s
and the NPMI difference (to ``LdaModel``'s when LdaMulticore is not in the run).
``--curve 4,8,12`` also trains ProdLDA for 4, 8 and 12 epochs and reports the time at
which its NPMI first reaches that of the run's best LDA, as a fraction of that LDA's
training time. ``--variant`` adds ProdLDA rows
with other settings (for ablations); the paper's plain ProdLDA, for example::

    --variant 'plain:embedding_dim=0;beta_decay=0;diversity=0;epochs=100;patience=10'

``--quick`` is a smoke run (first 2,000 train documents, 5 epochs / 2 passes / 100
Gibbs iterations, first seed only).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench_common import (ARCHIVE, LABELS, parse_variant, peak_rss_mb,  # benchmarks/bench_common.py
                          reference_tokens, run_child, warm_imports)

CACHE = Path(__file__).resolve().parent / ".cache"
CORPUS = "news2k"

QUICK_DOCS = 2000
TOKENS_FILE = f"{CORPUS}-test-tokens.json"


# ---------------------------------------------------------------------------- corpus
def corpus(archive: Path, cache: Path):
    """The ``news2k`` corpus from the cache, ingested from ``archive`` when missing."""
    import topicvae
    from topicvae.text.settings import PreprocessSettings, VocabSettings

    if (cache / CORPUS / "manifest.json").is_file():
        return topicvae.Corpus.load(CORPUS, corpora_dir=cache)
    if not archive.is_file():
        sys.exit(f"no archive at {archive}; pass --archive PATH to 20news-bydate.tar.gz")
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # nothing in the cache belongs in git
    t = time.perf_counter()
    c = topicvae.ingest(str(archive), CORPUS, corpora_dir=cache,
                        preprocess=PreprocessSettings(strip=("headers", "quotes", "signatures")),
                        vocab=VocabSettings(max_vocab=2000), n_process=2)
    print(f"ingested {CORPUS} into {cache} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return c


def test_tokens(c, cache: Path) -> list[list[str]]:
    """The test documents' tokens (the corpus's preprocessing), for C_v; cached as JSON."""
    return reference_tokens(c, c.split_rows("test"), cache / TOKENS_FILE, n_process=2)


# ---------------------------------------------------------------------------- one model, in a child
def build(job: dict, vocab: list[str]):
    """The unfitted model of a job."""
    kind, seed, k, threads, quick = job["kind"], job["seed"], job["topics"], job["threads"], job["quick"]
    if kind == "tomotopy":
        from tomotopy_lda import TomotopyLDA  # benchmarks/tomotopy_lda.py

        return TomotopyLDA(k, iterations=100 if quick else 1000, workers=threads, seed=seed, **job["params"])
    if kind in ("lda", "ldamulticore"):
        from topicvae.models.lda import LDA

        return LDA(k, passes=2 if quick else 10, workers=1 if kind == "lda" else 2, seed=seed, history_docs=0,
                   **job["params"])
    from topicvae.runs import model_class

    params = {"seed": seed, "threads": threads, "device": "cpu", **job["params"]}
    if quick:
        params.setdefault("epochs", 5)
    return model_class(kind)(k, **params)


def run_job(job: dict) -> dict:
    """Fit and score one model (in this process); a JSON-ready dict."""
    import numpy as np

    from topicvae.scoring import metrics as evaluation
    c = corpus(Path(job["archive"]), Path(job["cache"]))
    train, test = c.split_rows("train"), c.split_rows("test")
    if job["quick"]:
        train = train[:QUICK_DOCS]
    X_train, X_test = c.bow[train], c.bow[test]
    labels = c.docs["label"].to_numpy()
    model = build(job, c.vocab)
    warm_imports(job["kind"])
    t = time.perf_counter()
    model.fit(X_train, progress=False) if job["kind"] in ("lda", "ldamulticore", "tomotopy") else model.fit(X_train)
    fit_s = time.perf_counter() - t
    tw = model.topic_word_
    npmi, per_topic = evaluation.npmi(tw, X_test)
    div = evaluation.topic_diversity(tw)
    if job.get("curve"):  # a point of the quality-over-time curve: coherence and time only
        return {"fit_s": fit_s, "epochs": job["params"].get("epochs"), "npmi": npmi, "diversity": div}
    top = model.top_words(c.vocab, 10)
    cv = evaluation.c_v(top, texts=test_tokens(c, Path(job["cache"])))[0] if job["cv"] else float("nan")
    speed = evaluation.inference_speed(model, X_test)
    theta = np.vstack([model.transform(X_train), model.transform(X_test)])
    lab = evaluation.label_metrics(theta, np.concatenate([labels[train], labels[test]]),
                                   train_rows=np.arange(len(train)),
                                   test_rows=np.arange(len(train), len(train) + len(test)), seed=job["seed"])
    bound = model.log_bound(X_test)
    ppl = evaluation.perplexity(*bound) if bound is not None else float("nan")
    order = np.argsort(-per_topic)
    return {
        "fit_s": fit_s,
        "epochs": len(model.history_) if model.supports_resume else None,  # (LDA's are passes)
        "best_epoch": getattr(model, "best_epoch_", None),
        "npmi": npmi,
        "cv": cv,
        "diversity": div,
        "quality": npmi * div,
        "ppl": ppl,
        "nmi": lab["nmi"],
        "accuracy": lab["accuracy"],
        "infer_docs_s": speed,
        "rss_mb": peak_rss_mb(),
        "n_below_0": int((per_topic < 0).sum()),
        "best_topics": [[float(per_topic[k]), " ".join(top[k])] for k in order[:5]],
        "worst_topics": [[float(per_topic[k]), " ".join(top[k])] for k in order[-3:]],
        "params": model.get_params(),
    }


def spawn(job: dict, threads: int) -> dict:
    proc = run_child(__file__, job, threads)
    if proc.returncode != 0:
        sys.exit(f"{job['label']} (seed {job['seed']}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- the table
COLUMNS = [("fit_s", "train s", "{:.1f}"), ("npmi", "NPMI (test)", "{:.3f}"), ("cv", "C_v", "{:.3f}"),
           ("diversity", "diversity@25", "{:.3f}"),
           ("quality", "NPMI×div", "{:.3f}"), ("ppl", "ppl bound (test)", "{:.0f}"), ("nmi", "label NMI", "{:.3f}"),
           ("accuracy", "label acc", "{:.3f}"), ("infer_docs_s", "infer docs/s", "{:,.0f}"),
           ("rss_mb", "peak RSS MB", "{:.0f}")]


def table(rows: list[tuple[str, list[dict]]]) -> str:
    import numpy as np

    mean = {label: {k: float(np.mean([r[k] for r in rs])) for k, _, _ in COLUMNS} for label, rs in rows}
    ref_kind = "ldamulticore" if LABELS["ldamulticore"] in mean else "lda"  # the reference: LdaMulticore
    ref = mean.get(LABELS[ref_kind])
    short = LABELS[ref_kind].removeprefix("gensim ")
    head = ["model", "epochs"] + [h for _, h, _ in COLUMNS] + ([f"time ÷ {short}", f"NPMI − {short}"] if ref else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, rs in rows:
        m = mean[label]
        epochs = "/".join(str(r["epochs"]) for r in rs) if rs[0]["epochs"] is not None else ""
        cells = [label, epochs] + ["—" if m[k] != m[k] else fmt.format(m[k]) for k, _, fmt in COLUMNS]
        if ref:
            cells += [f"{m['fit_s'] / ref['fit_s']:.2f}", f"{m['npmi'] - ref['npmi']:+.3f}"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def curve_table(curve: dict[int, list[dict]], results: list[tuple[str, list[dict]]]) -> str:
    """ProdLDA's NPMI after each number of epochs against the best LDA of the run (highest mean NPMI):
    the time it takes ProdLDA to reach that LDA's NPMI, as a fraction of the LDA's training time."""
    import numpy as np

    ldas = [(label, float(np.mean([r["npmi"] for r in rs])), float(np.mean([r["fit_s"] for r in rs])))
            for label, rs in results if label in (LABELS["lda"], LABELS["ldamulticore"], LABELS["tomotopy"])]
    best = max(ldas, key=lambda t: t[1]) if ldas else None
    head = ["epochs", "train s", "NPMI (test)", "diversity@25"] + ([f"time ÷ {best[0]}"] if best else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    reached = None
    for epochs in sorted(curve):
        fit = float(np.mean([r["fit_s"] for r in curve[epochs]]))
        npmi = float(np.mean([r["npmi"] for r in curve[epochs]]))
        div = float(np.mean([r["diversity"] for r in curve[epochs]]))
        cells = [str(epochs), f"{fit:.1f}", f"{npmi:.3f}", f"{div:.3f}"] + ([f"{fit / best[2]:.2f}"] if best else [])
        out.append("| " + " | ".join(cells) + " |")
        if best and reached is None and npmi >= best[1]:
            reached = (epochs, fit)
    if best:
        out.append("")
        if reached:
            out.append(f"ProdLDA reaches {best[0]}'s NPMI ({best[1]:.3f}, {best[2]:.1f} s of training) after "
                       f"{reached[0]} epochs, in {reached[1]:.1f} s: {reached[1] / best[2]:.2f} of its time.")
        else:
            out.append(f"ProdLDA does not reach {best[0]}'s NPMI ({best[1]:.3f}) at any of these epoch counts.")
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(run_job(json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", type=Path, default=ARCHIVE)
    ap.add_argument("--cache", type=Path, default=CACHE, help="corpora folder for the ingested corpus")
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--seeds", default="0", help="comma-separated seeds; the table shows means")
    ap.add_argument("--models", default="prodlda,nvdm,lda",
                    help="comma-separated, any of prodlda, nvdm, lda, ldamulticore, tomotopy "
                         "(ProdLDA/NVDM with topicvae's defaults)")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL:name=value;...",
                    help="an extra ProdLDA row with these settings (repeatable)")
    ap.add_argument("--threads", type=int, default=1, help="threads per model (default 1, see above)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: first {QUICK_DOCS} train documents, 5 epochs / 2 passes, first seed only")
    ap.add_argument("--no-cv", action="store_true", help="skip C_v (about 6 s per model)")
    ap.add_argument("--topics-shown", type=int, default=3, help="best and worst topics printed per model")
    ap.add_argument("--curve", default="", metavar="E1,E2,...",
                    help="also train ProdLDA (defaults) for each of these numbers of epochs and report when its NPMI "
                         "reaches the best LDA's, as a fraction of that LDA's training time (the run is seeded "
                         "and nothing depends on the total epochs, so E epochs are the first E of a longer run)")
    ap.add_argument("--json", type=Path, help="also write every result to this file")
    args = ap.parse_args()

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.quick:
        seeds = seeds[:1]
    kinds = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in kinds if m not in LABELS]
    if bad:
        ap.error(f"unknown model(s) {', '.join(bad)}; choose from {', '.join(LABELS)}")
    c = corpus(args.archive, args.cache)  # ingest (and tokenize the test split) once, before the children
    if not args.no_cv:
        test_tokens(c, args.cache)
    print(f"corpus {CORPUS}: {len(c.split_rows('train'))} train / {len(c.split_rows('test'))} test documents, "
          f"{c.n_words} words; K={args.topics}; seeds {seeds}; {args.threads} threads"
          f"{'; QUICK' if args.quick else ''}", flush=True)
    del c

    specs = [(LABELS[k], k, {}) for k in kinds]
    specs += [(f"ProdLDA [{label}]", "prodlda", params) for label, params in map(parse_variant, args.variant)]
    results: list[tuple[str, list[dict]]] = []
    for label, kind, params in specs:
        rs = []
        for seed in seeds:
            job = {"label": label, "kind": kind, "params": params, "seed": seed, "topics": args.topics,
                   "threads": args.threads, "quick": args.quick, "cv": not args.no_cv,
                   "archive": str(args.archive), "cache": str(args.cache)}
            r = spawn(job, args.threads)
            rs.append(r)
            print(f"  {label} seed {seed}: {r['fit_s']:.1f}s, NPMI {r['npmi']:.3f}, diversity {r['diversity']:.3f}, "
                  f"epochs {r['epochs']} (best {r['best_epoch']})", flush=True)
            for score, words in r["best_topics"][:args.topics_shown]:
                print(f"      + {score:+.3f} {words}")
            for score, words in r["worst_topics"][-args.topics_shown:]:
                print(f"      - {score:+.3f} {words}")
        results.append((label, rs))
    curve: dict[int, list[dict]] = {}
    for epochs in [int(e) for e in args.curve.split(",") if e.strip()]:
        for seed in seeds:
            job = {"label": "ProdLDA", "kind": "prodlda", "params": {"epochs": epochs}, "seed": seed,
                   "topics": args.topics, "threads": args.threads, "quick": False, "cv": False, "curve": True,
                   "archive": str(args.archive), "cache": str(args.cache)}
            r = spawn(job, args.threads)
            curve.setdefault(epochs, []).append(r)
            print(f"  ProdLDA {epochs} epochs seed {seed}: {r['fit_s']:.1f}s, NPMI {r['npmi']:.3f}", flush=True)
    print()
    print(table(results))
    if curve:
        print(f"\nProdLDA's coherence over training time (K={args.topics}, means over seeds {seeds}):\n")
        print(curve_table(curve, results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
