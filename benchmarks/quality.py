"""Topic quality across corpora, K and seeds: ProdLDA (defaults and plain), NVDM, gensim LDA, tomotopy; one table.

    python benchmarks/quality.py [--corpora ng,ng2k,sample,m10,...] [--topics 20,50,100] [--seeds 0,1]
                                 [--models prodlda,nvdm,plain,lda,ldamulticore,tomotopy]
                                 [--variant 'LABEL:name=value;name=value' ...] [--threads 1] [--no-cv]
                                 [--quick] [--out FILE] [--json FILE] [--shared DIR] [--cache DIR]

Corpora (``--corpora``, each key is also the corpus name), made by topicvae's own ingestion
(:func:`topicvae.ingest`) and cached in ``--cache`` (``benchmarks/.cache/quality/``; reused when
present and made with the same settings, re-ingested otherwise):

- ``ng``: ``20news-bydate.tar.gz`` from ``--shared`` with topicvae's default settings (no flags);
- ``ng2k``, ``ng5k``, ``ng10k``, ``ng20k``: the same archive with ``strip=headers,quotes,signatures``
  and a 2,000 / 5,000 / 10,000 / 20,000-word vocabulary;
- ``sample``: ``builtin:sample``;
- ``m10``, ``dblp``, ``dbpedia_it``: OCTIS' ``octis/M10.tsv``, ``DBLP.tsv``, ``DBPedia_IT.tsv`` under
  ``--shared`` (headerless ``text<TAB>split<TAB>label``), ingested with ``fmt="octis"`` as
  ``topicvae ingest --format octis`` does: OCTIS' ``val`` rows stay a split of their own, so the
  models train on OCTIS' ``train`` rows and are scored on its ``test`` rows, as OCTIS' models are.
  (The m10, dblp and dbpedia_it rows of ``docs/quality.md`` and ``docs/quality-before.md`` are older:
  the benchmark converted ``val`` to ``train`` then, so they trained on both.)
  ``dbpedia_it`` is ingested as Italian (``--language it``: Italian stop words and lemmas);
  ``dbpedia_it_en``, not in the default set, is the same file with the English default, for comparison;

A corpus whose source is missing is skipped, with the reason. A corpus without a test split gets
a seeded one here (20 % of its rows, a permutation with seed 0), the same for every model.

Every (corpus, K, model, seed) cell trains in its own subprocess, one after the other, on the same
corpus files, and sends its scores back as JSON (as ``train.py`` does). Threads (``--threads``,
default 1) set ``OMP/MKL/OPENBLAS_NUM_THREADS`` of the child, the VAEs' torch threads and
tomotopy's workers; ``LdaModel`` is single-process, ``LdaMulticore`` has 2 workers. Models:
``prodlda`` and ``nvdm`` with topicvae's defaults, ``plain`` = ProdLDA with :data:`PLAIN` (the
paper's ProdLDA, README), ``lda`` / ``ldamulticore`` = topicvae's gensim wrapper (10 passes),
``tomotopy`` = ``benchmarks/tomotopy_lda.py`` (1,000 Gibbs iterations; left out with a note when
tomotopy is not installed), any other model class of :mod:`topicvae.models.vae` by its ``name``
attribute or class name (built like NVDM), and ``--variant`` ProdLDA rows (``train.py``'s syntax).

Scores per cell (:func:`score_topics`; all from :mod:`topicvae.evaluation` except c_npmi):
NPMI of the top-10 words with the test documents as reference (held-out; what ``topicvae
evaluate`` reports) and with the training documents; their gap (train − held-out); diversity of
the top 25; held-out NPMI of the topics read out at least 0.85 diverse (:func:`diverse_readout`:
the model's own topics if they already are; LDA's share their frequent words, and this puts them
beside ProdLDA's at the diversity its target asks for); the median training-document frequency
of all topics' top-10 words; C_v and gensim's
``c_npmi`` (window 10) over the test documents' tokens (the corpus's preprocessing, text order,
out-of-vocabulary tokens kept; tokenized once and cached); label NMI of argmax θ on the test
documents; train seconds (wall time of ``fit``, first-use imports warmed up before the clock);
peak RSS of the child. The table shows means over seeds ± half their range; a second table, the
verdict, compares the default ProdLDA with tomotopy and LdaModel at each (corpus, K)
(:data:`TARGETS`).

``--quick`` is a smoke run (sample and m10 unless ``--corpora`` is given, K=20 unless ``--topics``
is given, the first seed, the first 2,000 training documents, VAEs 3 epochs, LDA 2 passes,
tomotopy 50 iterations, no C_v): it checks that everything runs, its figures are not for quoting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from bench_common import (LABELS, SHARED, machine, own_peak_rss_mb, parse_variant,  # benchmarks/bench_common.py
                          reference_tokens, run_child, versions, warm_imports)

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "quality"

#: the paper's plain ProdLDA (README, ``topicvae train``): the settings that turn today's defaults off
PLAIN = {"embedding_dim": 0, "beta_decay": 0, "diversity": 0, "min_topic_df": 0, "topic_init": "random", "topic_lr": None,
         "exclusivity": 0.0, "reliability_df": 0.0, "prevalence": 0.0, "lead_coherence": 0.0, "epochs": 100,
         "patience": 10}

MODEL_LABELS = {**LABELS, "plain": "ProdLDA (plain)"}
DEFAULT_MODELS = "prodlda,nvdm,plain,lda,ldamulticore,tomotopy"
STRIP = ("headers", "quotes", "signatures")
NG = "20news-bydate.tar.gz"

#: key → source (relative to --shared unless ``builtin:``), preprocessing and vocabulary settings
#: (keyword arguments of topicvae.config.PreprocessSettings / VocabSettings), and the source format
#: where detection is not what is wanted (the OCTIS TSVs are detected too; named here for the cache check)
CORPORA = {
    "ng": {"source": NG, "preprocess": {}, "vocab": {}},
    "ng2k": {"source": NG, "preprocess": {"strip": STRIP}, "vocab": {"max_vocab": 2000}},
    "ng5k": {"source": NG, "preprocess": {"strip": STRIP}, "vocab": {"max_vocab": 5000}},
    "ng10k": {"source": NG, "preprocess": {"strip": STRIP}, "vocab": {"max_vocab": 10000}},
    "ng20k": {"source": NG, "preprocess": {"strip": STRIP}, "vocab": {"max_vocab": 20000}},
    "sample": {"source": "builtin:sample", "preprocess": {}, "vocab": {}},
    "m10": {"source": "octis/M10.tsv", "preprocess": {}, "vocab": {}, "format": "octis"},
    "dblp": {"source": "octis/DBLP.tsv", "preprocess": {}, "vocab": {}, "format": "octis"},
    "dbpedia_it": {"source": "octis/DBPedia_IT.tsv", "preprocess": {"lang": "it"}, "vocab": {}, "format": "octis"},
    # the same with the English default tokenizer, for comparison (not in the default set)
    "dbpedia_it_en": {"source": "octis/DBPedia_IT.tsv", "preprocess": {}, "vocab": {}, "format": "octis"},
}
QUICK_CORPORA = ("sample", "m10")
DEFAULT_CORPORA = tuple(k for k in CORPORA if k != "dbpedia_it_en")

TOP_N = 10             # words per topic for NPMI, C_v, c_npmi and the median df
DIVERSITY_TOP = 25     # words per topic for diversity
C_NPMI_WINDOW = 10     # gensim c_npmi sliding window
HELD_OUT = 0.2         # share of the rows held out when a corpus has no test split
SPLIT_SEED = 0
LDA_PASSES, TOMOTOPY_ITERATIONS = 10, 1000
QUICK = {"docs": 2000, "epochs": 3, "passes": 2, "iterations": 50}

#: what the project's targets compare (the verdict table): the default ProdLDA's held-out NPMI at
#: least tomotopy's at these K, with at least this diversity; at least LdaModel's at these K; its
#: train time at most this share of tomotopy's
TARGETS = {"beat_tomotopy_at": (20, 50), "min_diversity": 0.85, "beat_lda_at": (100,), "max_time_ratio": 0.5}

#: the exclusivity exponents γ tried, in order, to read a model's topics out at least
#: TARGETS["min_diversity"] diverse (:func:`diverse_readout`)
EXCLUSIVITY_STEPS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

#: per-cell numbers that are averaged over seeds (name, heading, format)
COLUMNS = [("npmi", "NPMI held-out", "{:.3f}"), ("npmi_train", "NPMI train", "{:.3f}"), ("gap", "gap", "{:+.3f}"),
           ("diversity", "div@25", "{:.3f}"), ("npmi_diverse", "NPMI held-out at div ≥ 0.85", "{:.3f}"),
           ("median_df", "median df", "{:.0f}"), ("cv", "C_v", "{:.3f}"),
           ("c_npmi", "c_npmi", "{:.3f}"), ("nmi", "label NMI", "{:.3f}"), ("fit_s", "train s", "{:.1f}"),
           ("rss_mb", "peak RSS MB", "{:.0f}")]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- corpora
def settings(key: str):
    """(PreprocessSettings, VocabSettings) of corpus ``key``."""
    from topicvae.config import PreprocessSettings, VocabSettings

    spec = CORPORA[key]
    return PreprocessSettings(**spec["preprocess"]), VocabSettings(**spec["vocab"])


def source_of(key: str, shared: Path) -> Path | str:
    src = CORPORA[key]["source"]
    return src if src.startswith("builtin:") else shared / src


def prepare_corpus(key: str, shared: Path, cache: Path, n_process: int = 2):
    """(corpus, None) from the cache, ingested when missing or made with other settings;
    (None, reason) when its source is missing."""
    import topicvae
    from topicvae.config import to_dict

    pre, voc = settings(key)
    fmt = CORPORA[key].get("format")
    if (cache / key / "manifest.json").is_file():
        c = topicvae.Corpus.load(key, corpora_dir=cache)
        same_format = fmt is None or c.manifest.get("source", {}).get("format") == fmt
        if c.manifest.get("preprocess") == to_dict(pre) and c.manifest.get("vocab") == to_dict(voc) and same_format:
            return c, None
        log(f"{key}: the cached corpus was made with other settings; ingesting it again")
    src = source_of(key, shared)
    if isinstance(src, Path) and not src.is_file():
        return None, f"no {src.name} at {src.parent}"
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # nothing in the cache belongs in git
    t = time.perf_counter()
    c = topicvae.ingest(str(src), key, fmt=fmt, preprocess=pre, vocab=voc, corpora_dir=cache,
                        force=True, n_process=n_process)
    log(f"ingested {key} into {cache} in {time.perf_counter() - t:.1f}s")
    return c, None


def split_rows(c) -> tuple[np.ndarray, np.ndarray, bool]:
    """(train rows, test rows, made here): the corpus's own split when it has a test split, else a
    seeded :data:`HELD_OUT` share of its rows (permutation with :data:`SPLIT_SEED`) as test."""
    if c.has_split("test"):
        return c.split_rows("train"), c.split_rows("test"), False
    rows = c.split_rows("train")  # every document when the corpus has no split at all
    perm = np.random.default_rng(SPLIT_SEED).permutation(rows)
    n_test = int(round(HELD_OUT * len(rows)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test]), True


def has_labels(c) -> bool:
    labels = c.docs["label"] if "label" in c.docs else None
    return labels is not None and bool(labels.notna().sum()) and labels.nunique(dropna=True) > 1


def tokens_file(c, cache: Path) -> Path:
    """Where the test documents' tokens of corpus ``c`` are cached (named by its bow checksum)."""
    return cache / f"{c.name}-test-tokens-{(c.checksum or 'unsaved')[:12]}.json"


# ---------------------------------------------------------------------------- scoring
def c_npmi(topics: list[list[str]], tokens: list[list[str]], window: int = C_NPMI_WINDOW,
           top_n: int = TOP_N) -> float | None:
    """gensim ``CoherenceModel(coherence='c_npmi', window_size=window, topn=top_n)`` over ``tokens``,
    mean over topics. Top words absent from the tokens are dropped from their topic (gensim cannot
    score them); a topic left with fewer than 2 words is left out; None when none is left."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = Dictionary(tokens)
    known = dictionary.token2id
    kept = [present for present in ([w for w in t[:top_n] if w in known] for t in topics) if len(present) >= 2]
    if not kept:
        return None
    cm = CoherenceModel(topics=kept, texts=tokens, dictionary=dictionary, coherence="c_npmi",
                        window_size=window, topn=max(len(t) for t in kept), processes=1)
    return float(np.mean(cm.get_coherence_per_topic()))


def score_topics(topic_word, X_train, X_test, *, vocab=None, tokens=None, cv: bool = False,
                 top_n: int = TOP_N) -> dict:
    """The topic scores of one cell.

    Args:
        topic_word: (K, V) topic-word matrix (larger = more probable).
        X_train: sparse counts of the documents the model trained on.
        X_test: sparse counts of the held-out (test) documents.
        vocab: the V words (needed with ``tokens``).
        tokens: the test documents' tokens, for c_npmi and C_v (None: both None).
        cv: also compute C_v (:func:`topicvae.evaluation.c_v`).

    Returns:
        dict: ``npmi`` (held-out: test reference, as ``topicvae evaluate``), ``npmi_train``,
        ``gap`` (train − held-out), ``diversity`` (top 25), ``median_df`` (median number of
        training documents containing each of all topics' top-``top_n`` words), ``c_npmi``,
        ``cv``, ``npmi_per_topic`` (held-out).
    """
    import scipy.sparse as sp

    from topicvae import evaluation

    ids = evaluation.top_word_ids(topic_word, top_n)
    npmi, per_topic = evaluation.npmi(ids, X_test, top_n)
    npmi_train, _ = evaluation.npmi(ids, X_train, top_n)
    df = np.asarray((sp.csr_matrix(X_train) > 0).sum(axis=0)).ravel()
    diverse, gamma = diverse_readout(topic_word)
    npmi_diverse = npmi if gamma == 0 else evaluation.npmi(evaluation.top_word_ids(diverse, top_n), X_test, top_n)[0]
    out = {"npmi": float(npmi), "npmi_train": float(npmi_train), "gap": float(npmi_train - npmi),
           "diversity": float(evaluation.topic_diversity(topic_word, DIVERSITY_TOP)),
           "npmi_diverse": float(npmi_diverse),
           "median_df": float(np.median(df[np.concatenate(ids)])), "c_npmi": None, "cv": None,
           "npmi_per_topic": [float(v) for v in per_topic]}
    if tokens is not None:
        words = [[vocab[j] for j in t] for t in ids]
        out["c_npmi"] = c_npmi(words, tokens, top_n=top_n)
        if cv:
            try:
                out["cv"] = float(evaluation.c_v(words, texts=tokens, top_n=top_n)[0])
            except ValueError as exc:  # a topic with fewer than 2 words in the texts
                log(f"C_v skipped: {exc}")
    return out


def diverse_readout(topic_word, min_diversity: float = TARGETS["min_diversity"]) -> tuple[np.ndarray, float]:
    """The topics read out at least ``min_diversity`` diverse (top 25), and the γ that did it.

    ProdLDA's own exclusive read-out (:func:`topicvae.models.vae.networks.exclusive_topics`) with
    the first γ of :data:`EXCLUSIVITY_STEPS` that reaches the diversity (the last if none does),
    so a word shared by topics stays high in its strongest one only. γ = 0: the model's own
    read-out, already diverse enough. It puts models whose topics share their most frequent
    words (LDA's) beside one whose read-out keeps them apart on equal terms: NPMI at the same
    diversity.
    """
    import torch

    from topicvae import evaluation
    from topicvae.models.vae.networks import exclusive_topics

    p = np.asarray(topic_word, dtype=np.float64)
    if evaluation.topic_diversity(p, DIVERSITY_TOP) >= min_diversity:
        return p, 0.0
    for gamma in EXCLUSIVITY_STEPS[1:]:
        read = exclusive_topics(torch.from_numpy(p), gamma).numpy()
        if evaluation.topic_diversity(read, DIVERSITY_TOP) >= min_diversity:
            break
    return read, gamma


def label_nmi(theta: np.ndarray, labels) -> float:
    """NMI of argmax θ against the labels, rows without a label left out: the ``nmi`` of
    :func:`topicvae.evaluation.label_metrics` over these rows."""
    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    labels = np.asarray(labels, dtype=object)
    keep = ~pd.isna(pd.Series(labels)).to_numpy()
    return float(normalized_mutual_info_score(labels[keep].astype(str), np.asarray(theta)[keep].argmax(axis=1)))


# ---------------------------------------------------------------------------- one cell, in a child
def model_class(name: str):
    """The topic-model class of :mod:`topicvae.models.vae` whose ``name`` attribute (or class name) is
    ``name``; KeyError listing those there are."""
    import inspect

    import topicvae.models.vae as vae
    from topicvae.models.base import TopicModel

    classes = [obj for obj in vars(vae).values()
               if isinstance(obj, type) and issubclass(obj, TopicModel) and not inspect.isabstract(obj)
               and getattr(obj, "name", None) not in (None, "vae")]
    for cls in classes:
        if name in (cls.name, cls.__name__) or name.lower() == cls.__name__.lower():
            return cls
    raise KeyError(f"no model named {name!r} in topicvae.models.vae (there: {', '.join(c.name for c in classes)})")


def build_model(job: dict):
    """The unfitted model of a job."""
    kind, seed, k, threads, quick = job["kind"], job["seed"], job["topics"], job["threads"], job["quick"]
    if kind == "tomotopy":
        from tomotopy_lda import TomotopyLDA  # benchmarks/tomotopy_lda.py

        return TomotopyLDA(k, iterations=QUICK["iterations"] if quick else TOMOTOPY_ITERATIONS, workers=threads,
                           seed=seed, **job["params"])
    if kind in ("lda", "ldamulticore"):
        from topicvae.models.lda import LDA

        return LDA(k, passes=QUICK["passes"] if quick else LDA_PASSES, workers=1 if kind == "lda" else 2, seed=seed,
                   history_docs=0, **job["params"])
    params = {"seed": seed, "threads": threads, "device": "cpu", **job["params"]}
    if quick:
        params["epochs"] = QUICK["epochs"]
    return model_class(kind)(k, **params)


def run_job(job: dict) -> dict:
    """Fit and score one cell (in this process); a JSON-ready dict."""
    from topicvae.corpus import Corpus

    c = Corpus.load(job["corpus"], job["cache"])
    train, test, _ = split_rows(c)
    if job["quick"]:
        train = train[:QUICK["docs"]]
    X_train, X_test = c.bow[train], c.bow[test]
    tokens = json.loads(Path(job["tokens"]).read_text())
    model = build_model(job)
    warm_imports(job["kind"])
    t = time.perf_counter()
    model.fit(X_train, progress=False)
    fit_s = time.perf_counter() - t
    scores = score_topics(model.topic_word_, X_train, X_test, vocab=c.vocab, tokens=tokens, cv=job["cv"])
    nmi = label_nmi(model.transform(X_test), c.docs["label"].to_numpy()[test]) if has_labels(c) else None
    per_topic = np.asarray(scores.pop("npmi_per_topic"))
    top = [" ".join(w) for w in model.top_words(c.vocab, TOP_N)]
    order = np.argsort(-per_topic, kind="stable")
    return {**scores, "nmi": nmi, "fit_s": fit_s, "rss_mb": own_peak_rss_mb(),
            "epochs": len(model.history_) if model.supports_resume else None,  # (LDA's are passes)
            "best_epoch": getattr(model, "best_epoch_", None),
            "best_topics": [[float(per_topic[k]), top[k]] for k in order[:3]],
            "worst_topics": [[float(per_topic[k]), top[k]] for k in order[-3:]],
            "params": model.get_params()}


def spawn(job: dict, threads: int) -> dict:
    """Run one job in its own process; its result, or ``{"error": ...}`` when it failed."""
    proc = run_child(__file__, job, threads)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        log(f"  {job['label']} on {job['corpus']} K={job['topics']} seed {job['seed']} failed:\n{proc.stderr[-3000:]}")
        return {"error": lines[-1] if lines else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- tables
def aggregate(rows: list[dict]) -> list[dict]:
    """One dict per (corpus, K, model), in the order of the rows: the fixed fields and, for every
    :data:`COLUMNS` number, its mean over the seeds (``name``) and half its range (``name_hr``, None
    with one seed); a number a seed did not measure (None) is left out of its mean. Failed rows
    (with ``error``) are left out."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if not r.get("error"):
            groups.setdefault((r["corpus"], r["K"], r["model"]), []).append(r)
    out = []
    for (corpus, k, model), rs in groups.items():
        a = {"corpus": corpus, "K": k, "model": model, "kind": rs[0].get("kind"), "V": rs[0].get("V"),
             "n_train": rs[0].get("n_train"), "n_test": rs[0].get("n_test"), "seeds": [r.get("seed") for r in rs]}
        for name, _, _ in COLUMNS:
            vals = [float(r[name]) for r in rs if r.get(name) is not None]
            a[name] = float(np.mean(vals)) if vals else None
            a[f"{name}_hr"] = (max(vals) - min(vals)) / 2 if len(vals) > 1 else None
        out.append(a)
    return out


def _cell(a: dict, name: str, fmt: str) -> str:
    if a.get(name) is None:
        return ""
    hr = a.get(f"{name}_hr")
    text = fmt.format(a[name])
    return text if hr is None else f"{text} ± {fmt.format(hr).lstrip('+')}"


def table(agg: list[dict]) -> str:
    head = ["corpus", "V", "n_train", "n_test", "K", "model"] + [h for _, h, _ in COLUMNS]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a in agg:
        cells = [a["corpus"], f"{a['V']:,}", f"{a['n_train']:,}", f"{a['n_test']:,}", str(a["K"]), a["model"]]
        cells += [_cell(a, name, fmt) for name, _, fmt in COLUMNS]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdict(agg: list[dict], targets: dict = TARGETS) -> list[dict]:
    """Per (corpus, K) where the default ProdLDA ran: its held-out NPMI, that minus tomotopy's and
    minus LdaModel's, its diversity, its train time ÷ tomotopy's (None where the other did not run),
    and which :data:`TARGETS` apply and hold (``targets``: list of (description, met))."""
    by = {(a["corpus"], a["K"], a["model"]): a for a in agg}
    out = []
    for corpus, k in dict.fromkeys((a["corpus"], a["K"]) for a in agg):
        p = by.get((corpus, k, MODEL_LABELS["prodlda"]))
        if p is None:
            continue
        tomo = by.get((corpus, k, MODEL_LABELS["tomotopy"]))
        lda = by.get((corpus, k, MODEL_LABELS["lda"]))
        v = {"corpus": corpus, "K": k, "npmi": p["npmi"], "diversity": p["diversity"],
             "vs_tomotopy": p["npmi"] - tomo["npmi"] if tomo else None,
             "vs_tomotopy_diverse": p["npmi"] - tomo["npmi_diverse"] if tomo and tomo.get("npmi_diverse") is not None else None,
             "vs_lda": p["npmi"] - lda["npmi"] if lda else None,
             "time_ratio": p["fit_s"] / tomo["fit_s"] if tomo and tomo["fit_s"] else None}
        checks = []
        if k in targets["beat_tomotopy_at"]:
            checks.append(("NPMI ≥ tomotopy", None if v["vs_tomotopy"] is None else v["vs_tomotopy"] >= 0))
            checks.append((f"div ≥ {targets['min_diversity']:g}", v["diversity"] >= targets["min_diversity"]))
        if k in targets["beat_lda_at"]:
            checks.append(("NPMI ≥ LdaModel", None if v["vs_lda"] is None else v["vs_lda"] >= 0))
        checks.append((f"time ≤ {targets['max_time_ratio']:g}× tomotopy",
                       None if v["time_ratio"] is None else v["time_ratio"] <= targets["max_time_ratio"]))
        v["targets"] = checks
        out.append(v)
    return out


def _targets_text(checks: list[tuple[str, bool | None]]) -> str:
    parts = []
    for label, met in (("met", True), ("missed", False), ("not measured", None)):
        names = [name for name, ok in checks if ok is met]
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts)


def verdict_table(vs: list[dict]) -> str:
    head = ["corpus", "K", "ProdLDA NPMI", "− tomotopy", "− tomotopy at div ≥ 0.85", "− LdaModel", "ProdLDA div@25",
            "time ÷ tomotopy", "targets"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def f(x, fmt):
        return "" if x is None else fmt.format(x)

    for v in vs:
        cells = [v["corpus"], str(v["K"]), f(v["npmi"], "{:.3f}"), f(v["vs_tomotopy"], "{:+.3f}"),
                 f(v.get("vs_tomotopy_diverse"), "{:+.3f}"), f(v["vs_lda"], "{:+.3f}"), f(v["diversity"], "{:.3f}"), f(v["time_ratio"], "{:.2f}"),
                 _targets_text(v["targets"])]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------------- the run
def model_specs(names: list[str], variants: list[str], have_tomotopy: bool) -> tuple[list[tuple[str, str, dict]], list[str]]:
    """(rows to train as (label, kind, params), notes about models left out); SystemExit on an unknown name."""
    specs, notes = [], []
    for m in names:
        if m == "tomotopy" and not have_tomotopy:
            notes.append("tomotopy is not installed (pip install -e '.[bench]'): its rows are left out")
        elif m == "plain":
            specs.append((MODEL_LABELS["plain"], "prodlda", dict(PLAIN)))
        elif m in MODEL_LABELS:
            specs.append((MODEL_LABELS[m], m, {}))
        else:
            try:
                cls = model_class(m)
            except KeyError as exc:
                sys.exit(f"unknown model {m!r}: choose from {', '.join(MODEL_LABELS)} or a model of "
                         f"topicvae.models.vae ({exc.args[0]})")
            specs.append((cls.__name__, cls.name, {}))
    specs += [(f"ProdLDA [{label}]", "prodlda", params) for label, params in map(parse_variant, variants)]
    return specs, notes


def code_version() -> str:
    """Where the topicvae that the children import comes from, and its git commit (``PYTHONPATH``
    can point the benchmark at another checkout, e.g. to measure an earlier commit)."""
    import subprocess

    import topicvae

    root = Path(topicvae.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "topicvae"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    where = f"commit {commit}{' with uncommitted changes to topicvae/' if dirty else ''}" if commit else "no git checkout"
    return f"{root} ({where})"


def header(args, argv: list[str], seeds: list[int], topics: list[int], specs, notes: list[str],
           corpora: list[dict]) -> str:
    shown = shlex.join(["python", "benchmarks/quality.py", *argv])
    lines = ["# Topic quality", "",
             f"Measured {dt.date.today().isoformat()} with `{shown}` on {machine()}.", "",
             f"Libraries: {versions()}.", "", f"topicvae measured: {code_version()}.", ""]
    if args.quick:
        lines += [f"**Smoke run (`--quick`): first {QUICK['docs']:,} training documents, VAEs {QUICK['epochs']} "
                  f"epochs, LDA {QUICK['passes']} passes, tomotopy {QUICK['iterations']} iterations, no C_v. "
                  "It checks that everything runs; its figures are not for quoting.**", ""]
    models = "; ".join(f"{label}" + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")
                       for label, _, params in specs)
    lines += [f"Every (corpus, K, model, seed) trained in its own process, one after the other, with "
              f"{args.threads} thread(s) (LdaMulticore: 2 workers); K = {', '.join(map(str, topics))}; "
              f"seeds {', '.join(map(str, seeds))}. Models: {models}.",
              "",
              f"Cells are means over the seeds ± half their range. NPMI of the top {TOP_N} words by document "
              "co-occurrence in the test documents (held-out, as `topicvae evaluate`) or in the training "
              f"documents (train); gap = train − held-out; div@{DIVERSITY_TOP} = unique top-{DIVERSITY_TOP} words "
              f"over {DIVERSITY_TOP}·K; NPMI held-out at div ≥ {TARGETS['min_diversity']:g} = held-out NPMI of "
              "the topics read out with each word lowered in the topics that weigh it less than its strongest "
              f"one does, by (share)^γ, for the first γ of {', '.join(f'{g:g}' for g in EXCLUSIVITY_STEPS)} that "
              f"reaches that diversity (γ = 0: the model's own top words); median df = median number of training documents containing each of all "
              f"topics' top-{TOP_N} words; C_v and gensim c_npmi (window {C_NPMI_WINDOW}) over the test documents' "
              "tokens; label NMI of argmax θ on the test documents; train s = wall time of `fit`; peak RSS "
              "of the child process (its own high-water mark). Blank: not measured (C_v off, no labels)."]
    skipped = [f"- {c['key']}: skipped ({c['skipped']})" for c in corpora if c.get("skipped")]
    if skipped:
        lines += ["", *skipped]
    made = [c["key"] for c in corpora if c.get("made_split")]
    if made:
        lines += ["", f"Without a test split, {', '.join(made)} held out a seeded {HELD_OUT:.0%} of "
                      f"{'its' if len(made) == 1 else 'their'} documents (seed {SPLIT_SEED})."]
    lines += [f"\nNote: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(run_job(json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", help=f"comma-separated, any of {', '.join(CORPORA)} (default: all but dbpedia_it_en; "
                                      f"--quick: {', '.join(QUICK_CORPORA)})")
    ap.add_argument("--topics", help="comma-separated K (default 20,50,100; --quick: 20)")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help="comma-separated, any of prodlda, nvdm, plain, lda, ldamulticore, tomotopy, or the name "
                         "of another model of topicvae.models.vae")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL:name=value;...",
                    help="an extra ProdLDA row with these settings (repeatable)")
    ap.add_argument("--seeds", default="0,1", help="comma-separated seeds; the table shows means (--quick: the first)")
    ap.add_argument("--threads", type=int, default=1, help="threads per model (default 1)")
    ap.add_argument("--quick", action="store_true", help="CI-sized smoke run (see above); figures not for quoting")
    ap.add_argument("--no-cv", action="store_true", help="skip C_v")
    ap.add_argument("--shared", type=Path, default=SHARED, help=f"the shared corpora (default {SHARED})")
    ap.add_argument("--cache", type=Path, default=CACHE, help="corpora folder for the ingested corpora")
    ap.add_argument("--n-process", type=int, help="processes for ingestion and tokenizing (default 2; --quick: 1)")
    ap.add_argument("--out", type=Path, help="also write the report (Markdown) to this file")
    ap.add_argument("--json", type=Path, help="also write the raw rows (one per cell and seed) to this file")
    args = ap.parse_args()

    keys = [k.strip() for k in (args.corpora or ",".join(QUICK_CORPORA if args.quick else DEFAULT_CORPORA)).split(",")
            if k.strip()]
    bad = [k for k in keys if k not in CORPORA]
    if bad:
        ap.error(f"unknown corpus/corpora {', '.join(bad)}; choose from {', '.join(CORPORA)}")
    topics = [int(k) for k in (args.topics or ("20" if args.quick else "20,50,100")).split(",") if k.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()][: 1 if args.quick else None]
    cv = not (args.no_cv or args.quick)
    n_process = args.n_process or (1 if args.quick else 2)
    import importlib.util

    specs, notes = model_specs([m.strip() for m in args.models.split(",") if m.strip()], args.variant,
                               importlib.util.find_spec("tomotopy") is not None)
    for n in notes:
        log(n)

    corpora = []
    for key in keys:  # ingest and tokenize every corpus once, before the children
        c, reason = prepare_corpus(key, args.shared, args.cache, n_process)
        if c is None:
            log(f"{key}: skipped ({reason})")
            corpora.append({"key": key, "skipped": reason})
            continue
        train, test, made = split_rows(c)
        path = tokens_file(c, args.cache)
        reference_tokens(c, test, path, n_process=n_process)
        n_train = min(len(train), QUICK["docs"]) if args.quick else len(train)
        info = {"key": key, "V": c.n_words, "n_train": n_train, "n_test": len(test), "made_split": made,
                "labels": has_labels(c), "tokens": str(path)}
        corpora.append(info)
        counts = c.manifest.get("counts", {})
        log(f"corpus {key}: {counts.get('kept', c.n_docs):,} of {counts.get('read', c.n_docs):,} documents kept, "
            f"{n_train:,} train / {len(test):,} test{' (seeded split)' if made else ''}, {c.n_words:,} words"
            f"{'' if info['labels'] else ', no labels'}")
        del c

    head = header(args, sys.argv[1:], seeds, topics, specs, notes, corpora)
    print(head, flush=True)
    rows: list[dict] = []
    for info in (c for c in corpora if not c.get("skipped")):
        for k in topics:
            if k >= info["V"]:
                log(f"  {info['key']}: K={k} is not below its {info['V']} words; skipped")
                continue
            for label, kind, params in specs:
                for seed in seeds:
                    job = {"label": label, "kind": kind, "params": params, "seed": seed, "topics": k,
                           "threads": args.threads, "quick": args.quick, "cv": cv, "corpus": info["key"],
                           "cache": str(args.cache), "tokens": info["tokens"]}
                    r = spawn(job, args.threads)
                    rows.append({"corpus": info["key"], "V": info["V"], "n_train": info["n_train"],
                                 "n_test": info["n_test"], "K": k, "model": label, "kind": kind, "seed": seed, **r})
                    if "error" not in r:
                        log(f"  {info['key']} K={k} {label} seed {seed}: {r['fit_s']:.1f}s, NPMI {r['npmi']:.3f} "
                            f"(train {r['npmi_train']:.3f}), diversity {r['diversity']:.3f}")
    agg = aggregate(rows)
    failed = [r for r in rows if r.get("error")]
    report = [head, "## Results\n", table(agg)]
    vs = verdict(agg)
    if vs:
        report += ["\n## Verdict\n",
                   f"The default ProdLDA against tomotopy and LdaModel (held-out NPMI, means over seeds). Targets: "
                   f"NPMI ≥ tomotopy's at K = {', '.join(map(str, TARGETS['beat_tomotopy_at']))} with diversity ≥ "
                   f"{TARGETS['min_diversity']:g}; NPMI ≥ LdaModel's at K = "
                   f"{', '.join(map(str, TARGETS['beat_lda_at']))}; train time ≤ {TARGETS['max_time_ratio']:g} × "
                   f"tomotopy's{' (a smoke run: not a verdict)' if args.quick else ''}.\n",
                   verdict_table(vs)]
    if failed:
        report += ["\n## Failed\n"] + [f"- {r['corpus']} K={r['K']} {r['model']} seed {r['seed']}: {r['error']}"
                                       for r in failed]
    text = "\n".join(report[1:])
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report) + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
