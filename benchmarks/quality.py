"""Topic quality across corpora, K and seeds, every model scored the same way: ProdLDA (defaults and
plain), NVDM, GSM, gensim LDA, tomotopy; one table and a verdict.

    python benchmarks/quality.py [--corpora ng,ng2k,sample,m10,...] [--topics 20,50,100] [--seeds 0,1]
                                 [--models prodlda,nvdm,plain,lda,ldamulticore,tomotopy]
                                 [--variant 'LABEL:name=value;name=value' ...] [--reference test|validation]
                                 [--threads 1] [--no-cv] [--quick] [--out FILE] [--json FILE]
                                 [--shared DIR] [--cache DIR] [--save-topics DIR]

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
  ``dbpedia_it`` is ingested as Italian (``--language it``: Italian stop words and lemmas);
  ``dbpedia_it_en``, not in the default set, is the same file with the English default, for comparison.

A corpus whose source is missing is skipped, with the reason. A corpus without a test split gets
a seeded one here (20 % of its rows, a permutation with seed 0), the same for every model.

Reference documents (``--reference``): ``test`` (the default) scores every model on the test rows;
``validation`` carves a seeded 20 % of the training rows (a permutation with seed 0) as the
reference, trains on the other 80 % and does not touch the test rows. Settings are chosen with
``--reference validation`` and reported with ``--reference test``.

Every (corpus, K, model, seed) cell trains in its own subprocess, one after the other, on the same
corpus files, and sends its scores back as JSON (as ``train.py`` does). Threads (``--threads``,
default 1) set ``OMP/MKL/OPENBLAS_NUM_THREADS`` of the child, the VAEs' torch threads and
tomotopy's workers; ``LdaModel`` is single-process, ``LdaMulticore`` has 2 workers. Models:
``prodlda`` and ``nvdm`` with topicvae's defaults, ``plain`` = ProdLDA with :data:`PLAIN` (the
paper's ProdLDA, README), ``lda`` / ``ldamulticore`` = topicvae's gensim wrapper (10 passes),
``tomotopy`` = ``benchmarks/tomotopy_lda.py`` (1,000 Gibbs iterations; left out with a note when
tomotopy is not installed), any other model class of :mod:`topicvae.models.vae` by its ``name``
attribute or class name (built like NVDM), and ``--variant`` ProdLDA rows (``train.py``'s syntax;
``--variant 'initial:epochs=0'`` scores the network as initialised, and the verdict then compares
the trained ProdLDA with it) or, as ``--variant 'tomotopy/LABEL:alpha=0.01;eta=0.001'``, tomotopy rows
with other priors (the verdict compares with the default tomotopy only).

Every model is scored alike (:func:`score_topics`, :func:`run_job`). Its topics are its
``topic_word_``, read through :func:`topicvae.scoring.representation.top_words` under two representations,
``probability`` and :data:`topicvae.scoring.representation.DEFAULT` (once when they are the same), with the
training documents the model saw: under each, NPMI of the top 10 words
(:func:`topicvae.scoring.metrics.npmi`) with the reference documents (held-out; what ``topicvae
evaluate`` reports on the test split) and with the training documents, and the diversity of the top
25 (unique words over 25·K). Under ``probability`` only: the gap (train − held-out NPMI), the median
training-document frequency of all topics' top-10 words, C_v and gensim's ``c_npmi`` (window 10)
over the reference documents' tokens (the corpus's preprocessing, text order, out-of-vocabulary
tokens kept; tokenized once and cached). Of θ (``transform``): θ accuracy (scikit-learn
``LogisticRegression(max_iter=2000)`` fit on θ of the training documents and their labels, accuracy
on θ of the reference documents) and label NMI of argmax θ on the reference documents, both on
labelled corpora with the unlabelled rows left out. Held-out perplexity ``exp(−Σ log bound / Σ
tokens)`` of the reference documents from each model's own ``log_bound``: the VAEs' ELBO, gensim's
variational bound, tomotopy's log-likelihood of ``infer`` (:meth:`TomotopyLDA.log_bound`); each
bounds or estimates the log likelihood its own way, so across model families it is indicative.
Train seconds (wall time of ``fit``, first-use imports warmed up before the clock) and peak RSS of
the child. The table shows means over seeds ± half their range; a second table, the verdict,
compares the default ProdLDA with tomotopy (and with its own initial topics when an ``initial``
variant ran) at each (corpus, K) (:data:`TARGETS`).

Each finished cell's row is printed as it finishes and, with ``--json``, appended to that file as
one JSON line, so a run that is stopped keeps the cells it finished; ``--out`` gets the report at
the end.

``--quick`` is a smoke run (sample and m10 unless ``--corpora`` is given, K=20 unless ``--topics``
is given, the first seed, the first 2,000 training documents, VAEs at most 3 epochs, LDA 2 passes,
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

from topicvae.scoring import representation
from bench_common import (LABELS, SHARED, machine, own_peak_rss_mb, parse_variant,  # benchmarks/bench_common.py
                          reference_tokens, run_child, versions, warm_imports)

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "quality"

#: the paper's plain ProdLDA (README, ``topicvae train``): the settings that turn today's defaults off
PLAIN = {"embedding_dim": 0, "beta_decay": 0, "diversity": 0, "min_topic_df": 0, "topic_init": "random", "topic_lr": None,
         "epochs": 100, "patience": 10}

MODEL_LABELS = {**LABELS, "plain": "ProdLDA (plain)"}
DEFAULT_MODELS = "prodlda,nvdm,plain,lda,ldamulticore,tomotopy"
STRIP = ("headers", "quotes", "signatures")
NG = "20news-bydate.tar.gz"

#: key → source (relative to --shared unless ``builtin:``), preprocessing and vocabulary settings
#: (keyword arguments of topicvae.text.settings.PreprocessSettings / VocabSettings), and the source format
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
HELD_OUT = 0.2         # share of the rows held out when a corpus has no test split, and of the training rows
                       # held out as the reference with --reference validation
SPLIT_SEED = 0
REFERENCES = ("test", "validation")
LDA_PASSES, TOMOTOPY_ITERATIONS = 10, 1000
QUICK = {"docs": 2000, "epochs": 3, "passes": 2, "iterations": 50}
PROBABILITY = "probability"
#: the label of a ``--variant`` row that the verdict takes for the untrained ProdLDA (``initial:epochs=0``)
INITIAL = "[initial]"

#: what the project's targets compare (the verdict table): the default ProdLDA's held-out NPMI at
#: least tomotopy's under both representations at these K, with at least this diversity under both;
#: its θ accuracy at least tomotopy's; its train time at most this share of tomotopy's
TARGETS = {"beat_tomotopy_at": (20, 50), "min_diversity": 0.85, "max_time_ratio": 0.5}


#: more representations every cell is scored under (``--representations``, e.g. to choose the default
#: on validation documents), beside probability and the default
EXTRA_READINGS: list[str] = []


def readings() -> list[tuple[str, str]]:
    """(representation, key suffix) under which every model's topics are scored: ``probability``
    (suffix ``""``), :data:`topicvae.scoring.representation.DEFAULT` (suffix ``"_def"``; once when they are
    the same) and each of :data:`EXTRA_READINGS` (suffix ``"_NAME"``)."""
    out = [(PROBABILITY, "")]
    if representation.DEFAULT != PROBABILITY:
        out.append((representation.DEFAULT, "_def"))
    out += [(m, f"_{m}") for m in EXTRA_READINGS if m not in (PROBABILITY, representation.DEFAULT)]
    return out


def columns() -> list[tuple[str, str, str]]:
    """Per-cell numbers that are averaged over seeds (name, heading, format), in table order."""
    out = [("npmi", f"NPMI held-out ({PROBABILITY})", "{:.3f}"), ("npmi_train", f"NPMI train ({PROBABILITY})", "{:.3f}"),
           ("gap", "gap", "{:+.3f}"), ("diversity", f"div@{DIVERSITY_TOP} ({PROBABILITY})", "{:.3f}")]
    for method, suffix in readings()[1:]:
        out += [(f"npmi{suffix}", f"NPMI held-out ({method})", "{:.3f}"),
                (f"npmi_train{suffix}", f"NPMI train ({method})", "{:.3f}"),
                (f"diversity{suffix}", f"div@{DIVERSITY_TOP} ({method})", "{:.3f}")]
    return out + [("median_df", "median df", "{:.0f}"), ("cv", f"C_v ({PROBABILITY})", "{:.3f}"),
                  ("c_npmi", f"c_npmi ({PROBABILITY})", "{:.3f}"),
                  ("acc", "θ accuracy", "{:.3f}"), ("nmi", "label NMI", "{:.3f}"),
                  ("ppl", "held-out perplexity", "{:,.0f}"), ("fit_s", "train s", "{:.1f}"),
                  ("infer_docs_s", "infer docs/s", "{:,.0f}"),
                  ("rss_mb", "peak RSS MB", "{:.0f}")]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- corpora
def settings(key: str):
    """(PreprocessSettings, VocabSettings) of corpus ``key``."""
    from topicvae.text.settings import PreprocessSettings, VocabSettings

    spec = CORPORA[key]
    return PreprocessSettings(**spec["preprocess"]), VocabSettings(**spec["vocab"])


def source_of(key: str, shared: Path) -> Path | str:
    src = CORPORA[key]["source"]
    return src if src.startswith("builtin:") else shared / src


def prepare_corpus(key: str, shared: Path, cache: Path, n_process: int = 2):
    """(corpus, None) from the cache, ingested when missing or made with other settings;
    (None, reason) when its source is missing."""
    import topicvae
    from topicvae.text.settings import to_dict

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


def reference_rows(c, reference: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(training rows, reference rows) for ``--reference``: ``test``: :func:`split_rows`' train and
    test rows; ``validation``: of :func:`split_rows`' training rows, a seeded :data:`HELD_OUT` share
    (permutation with :data:`SPLIT_SEED`) as the reference and the rest to train on (the test rows
    are not used)."""
    train, test, _ = split_rows(c)
    if reference == "test":
        return train, test
    if reference != "validation":
        raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}")
    return validation_carve(train)


def validation_carve(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the rows to train on, the validation rows) of ``rows``: a seeded :data:`HELD_OUT` share
    (permutation with :data:`SPLIT_SEED`) held out, both sorted."""
    perm = np.random.default_rng(SPLIT_SEED).permutation(rows)
    n_ref = int(round(HELD_OUT * len(rows)))
    return np.sort(perm[n_ref:]), np.sort(perm[:n_ref])


def tokens_file(c, cache: Path, reference: str = "test") -> Path:
    """Where the reference documents' tokens of corpus ``c`` are cached (named by the reference and
    the corpus's bow checksum)."""
    return cache / f"{c.name}-{reference}-tokens-{(c.checksum or 'unsaved')[:12]}.json"


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
    """The topic scores of one cell, under every representation of :func:`readings`.

    Args:
        topic_word: (K, V) topic-word matrix (larger = more probable): the model's ``topic_word_``.
        X_train: sparse counts of the documents the model trained on (the representations' documents).
        X_test: sparse counts of the reference (held-out) documents.
        vocab: the V words (needed with ``tokens``).
        tokens: the reference documents' tokens, for c_npmi and C_v (None: both None).
        cv: also compute C_v (:func:`topicvae.scoring.metrics.c_v`).

    Returns:
        dict: under ``probability``: ``npmi`` (held-out: reference documents, as ``topicvae
        evaluate`` on the test split), ``npmi_train``, ``gap`` (train − held-out), ``diversity``
        (top 25), ``npmi_per_topic`` (held-out), ``median_df`` (median number of training documents
        containing each of all topics' top-``top_n`` words), ``c_npmi``, ``cv``; under
        :data:`topicvae.scoring.representation.DEFAULT`, when it is another: ``npmi_def``, ``npmi_train_def``,
        ``gap_def``, ``diversity_def``, ``npmi_per_topic_def``.
    """
    return _scores(topic_word, X_train, X_test, vocab=vocab, tokens=tokens, cv=cv, top_n=top_n)[0]


def _scores(topic_word, X_train, X_test, *, vocab=None, tokens=None, cv: bool = False,
            top_n: int = TOP_N) -> tuple[dict, dict[str, np.ndarray]]:
    """(:func:`score_topics`' dict, {key suffix: (K, top_n) top-word ids under that representation})."""
    import scipy.sparse as sp

    from topicvae.scoring import metrics as evaluation
    out, top = {}, {}
    for method, suffix in readings():
        ids = representation.top_words(topic_word, X_train, method, top_n)
        # (as K id lists: npmi takes a (K, n) array for a topic-word matrix and checks its width)
        npmi, per_topic = evaluation.npmi(list(ids), X_test, top_n)
        npmi_train, _ = evaluation.npmi(list(ids), X_train, top_n)
        wide = representation.top_words(topic_word, X_train, method, DIVERSITY_TOP)
        out.update({f"npmi{suffix}": float(npmi), f"npmi_train{suffix}": float(npmi_train),
                    f"gap{suffix}": float(npmi_train - npmi),
                    f"diversity{suffix}": float(evaluation.topic_diversity(list(wide), DIVERSITY_TOP)),
                    f"npmi_per_topic{suffix}": [float(v) for v in per_topic]})
        top[suffix] = ids
    ids = top[""]
    df = np.asarray((sp.csr_matrix(X_train) > 0).sum(axis=0)).ravel()
    out.update({"median_df": float(np.median(df[ids.ravel()])), "c_npmi": None, "cv": None})
    if tokens is not None:
        words = [[vocab[j] for j in t] for t in ids]
        out["c_npmi"] = c_npmi(words, tokens, top_n=top_n)
        if cv:
            try:
                out["cv"] = float(evaluation.c_v(words, texts=tokens, top_n=top_n)[0])
            except ValueError as exc:  # a topic with fewer than 2 words in the texts
                log(f"C_v skipped: {exc}")
    return out, top


def label_scores(theta_train: np.ndarray, labels_train, theta_ref: np.ndarray, labels_ref) -> tuple:
    """(θ accuracy, label NMI) of the reference documents, by :func:`topicvae.scoring.metrics.label_metrics`:
    ``LogisticRegression(max_iter=2000)`` fit on θ of the training documents and their labels, scored on
    the reference documents, and the NMI of their argmax θ; rows without a label left out. (None, None)
    when the training rows have fewer than two labels or no reference row has one."""
    import pandas as pd

    from topicvae.scoring.metrics import label_metrics

    labels = np.concatenate([np.asarray(labels_train, dtype=object), np.asarray(labels_ref, dtype=object)])
    n_train = len(labels_train)
    train_labels = pd.Series(labels[:n_train]).dropna()
    if train_labels.nunique() < 2 or pd.Series(labels[n_train:]).notna().sum() == 0:
        return None, None
    m = label_metrics(np.vstack([theta_train, theta_ref]), labels, np.arange(n_train), np.arange(n_train, len(labels)))
    return m["accuracy"], m["nmi"]


def held_out_perplexity(model, X_ref) -> float | None:
    """:func:`topicvae.scoring.metrics.perplexity` of the model's own ``log_bound(X_ref)`` (None when it
    has none or the documents have no token it scores)."""
    from topicvae.scoring import metrics as evaluation
    bound = model.log_bound(X_ref) if hasattr(model, "log_bound") else None
    if bound is None or not bound[1]:
        return None
    return evaluation.perplexity(*bound)


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
    if quick:  # at most QUICK["epochs"]: a variant's epochs=0 (the initial network) stays 0
        epochs = params.get("epochs")
        params["epochs"] = QUICK["epochs"] if epochs is None else min(epochs, QUICK["epochs"])
    return model_class(kind)(k, **params)


def saved_topics_path(job: dict) -> Path:
    """Where ``--save-topics`` puts one cell's ``topic_word_``."""
    label = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in job["label"])
    folder = Path(job["save_topics"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job['corpus']}-{job['topics']}-{label}-s{job['seed']}-{job.get('reference', 'test')}.npy"


def run_job(job: dict) -> dict:
    """Fit and score one cell (in this process); a JSON-ready dict."""
    from topicvae.corpus import Corpus

    EXTRA_READINGS[:] = job.get("readings", [])
    c = Corpus.load(job["corpus"], job["cache"])
    train, ref = reference_rows(c, job.get("reference", "test"))
    if job["quick"]:
        train = train[:QUICK["docs"]]
    X_train, X_ref = c.bow[train], c.bow[ref]
    tokens = json.loads(Path(job["tokens"]).read_text())
    model = build_model(job)
    warm_imports(job["kind"])
    t = time.perf_counter()
    model.fit(X_train, progress=False)
    fit_s = time.perf_counter() - t
    if job.get("save_topics"):
        np.save(saved_topics_path(job), model.topic_word_)
    scores, top = _scores(model.topic_word_, X_train, X_ref, vocab=c.vocab, tokens=tokens, cv=job["cv"])
    model.transform(X_ref[:10])  # warm-up: first-call costs are not inference speed
    t = time.perf_counter()
    theta_ref = model.transform(X_ref)
    infer_docs_s = X_ref.shape[0] / max(time.perf_counter() - t, 1e-12)
    acc = nmi = None
    if has_labels(c):
        labels = c.docs["label"].to_numpy()
        acc, nmi = label_scores(model.transform(X_train), labels[train], theta_ref, labels[ref])
    out = {**scores, "acc": acc, "nmi": nmi, "ppl": held_out_perplexity(model, X_ref), "fit_s": fit_s,
           "infer_docs_s": infer_docs_s,
           "rss_mb": own_peak_rss_mb(),
           "epochs": len(model.history_) if model.supports_resume else None,  # (LDA's are passes)
           "best_epoch": getattr(model, "best_epoch_", None)}
    for method, suffix in readings():  # each reading's best and worst three topics (held-out NPMI)
        per_topic = np.asarray(out.pop(f"npmi_per_topic{suffix}"))
        words = [" ".join(c.vocab[j] for j in row) for row in top[suffix]]
        order = np.argsort(-per_topic, kind="stable")
        out[f"best_topics{suffix}"] = [[float(per_topic[k]), words[k]] for k in order[:3]]
        out[f"worst_topics{suffix}"] = [[float(per_topic[k]), words[k]] for k in order[-3:]]
    if getattr(model, "unscored_tokens_", None) is not None:  # tokens its log_bound left out (tomotopy's)
        out["unscored_tokens"] = int(model.unscored_tokens_)
    return {**out, "params": model.get_params()}


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
    :func:`columns` number, its mean over the seeds (``name``) and half its range (``name_hr``, None
    with one seed); a number a seed did not measure (None) is left out of its mean. Failed rows
    (with ``error``) are left out."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if not r.get("error"):
            groups.setdefault((r["corpus"], r["K"], r["model"]), []).append(r)
    out = []
    for (corpus, k, model), rs in groups.items():
        a = {"corpus": corpus, "K": k, "model": model, "kind": rs[0].get("kind"), "V": rs[0].get("V"),
             "n_train": rs[0].get("n_train"), "n_ref": rs[0].get("n_ref"), "seeds": [r.get("seed") for r in rs]}
        for name, _, _ in columns():
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


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table_head(seed: bool = False) -> str:
    """The heading lines of :func:`table` (with a seed column: of :func:`cell_line`)."""
    head = ["corpus", "V", "n_train", "n_ref", "K", "model"] + (["seed"] if seed else []) + [h for _, h, _ in columns()]
    return _row(head) + "\n|" + "---|" * len(head)


def _fixed(a: dict) -> list[str]:
    return [a["corpus"], f"{a['V']:,}", f"{a['n_train']:,}", f"{a['n_ref']:,}", str(a["K"]), a["model"]]


def cell_line(r: dict) -> str:
    """One finished cell (a row of :func:`run_job` with its fixed fields) as a line of a table under
    ``table_head(seed=True)``; a failed cell shows its error."""
    if r.get("error"):
        return _row(_fixed(r) + [str(r["seed"]), f"failed: {r['error']}"])
    return _row(_fixed(r) + [str(r["seed"])] + [_cell(r, name, fmt) for name, _, fmt in columns()])


def table(agg: list[dict]) -> str:
    return "\n".join([table_head()] + [_row(_fixed(a) + [_cell(a, name, fmt) for name, _, fmt in columns()])
                                      for a in agg])


def _diff(a: dict | None, b: dict | None, name: str) -> float | None:
    """a[name] − b[name], None where either is missing."""
    if a is None or b is None or a.get(name) is None or b.get(name) is None:
        return None
    return a[name] - b[name]


def verdict(agg: list[dict], targets: dict = TARGETS) -> list[dict]:
    """Per (corpus, K) where the default ProdLDA ran: its held-out NPMI and diversity under each
    representation of :func:`readings` and its NPMI minus tomotopy's under each (``vs_tomotopy``,
    ``vs_tomotopy_def``), its θ accuracy minus tomotopy's, its train time ÷ tomotopy's, and, when a
    variant row labelled with :data:`INITIAL` ran there, its NPMI (probability) minus that row's and
    both perplexities; None where a number is missing. ``targets``: which :data:`TARGETS` apply and
    hold (list of (description, met), met None where not measured)."""
    by = {(a["corpus"], a["K"], a["model"]): a for a in agg}
    out = []
    for corpus, k in dict.fromkeys((a["corpus"], a["K"]) for a in agg):
        p = by.get((corpus, k, MODEL_LABELS["prodlda"]))
        if p is None:
            continue
        tomo = by.get((corpus, k, MODEL_LABELS["tomotopy"]))
        initial = next((a for a in agg if a["corpus"] == corpus and a["K"] == k and INITIAL in a["model"]), None)
        v = {"corpus": corpus, "K": k, "acc": p.get("acc"), "acc_vs_tomotopy": _diff(p, tomo, "acc"),
             "time_ratio": p["fit_s"] / tomo["fit_s"] if tomo and tomo.get("fit_s") else None,
             "vs_initial": _diff(p, initial, "npmi"), "ppl": p.get("ppl"),
             "ppl_initial": initial.get("ppl") if initial else None}
        for _, suffix in readings():
            v.update({f"npmi{suffix}": p.get(f"npmi{suffix}"), f"diversity{suffix}": p.get(f"diversity{suffix}"),
                      f"tomotopy_npmi{suffix}": tomo.get(f"npmi{suffix}") if tomo else None,
                      f"vs_tomotopy{suffix}": _diff(p, tomo, f"npmi{suffix}")})
        checks = []
        if k in targets["beat_tomotopy_at"]:
            for method, suffix in readings():
                d = v[f"vs_tomotopy{suffix}"]
                checks.append((f"NPMI ≥ tomotopy ({method})", None if d is None else d >= 0))
            for method, suffix in readings():
                div = v[f"diversity{suffix}"]
                checks.append((f"div ≥ {targets['min_diversity']:g} ({method})",
                               None if div is None else div >= targets["min_diversity"]))
        d = v["acc_vs_tomotopy"]
        checks.append(("θ accuracy ≥ tomotopy", None if d is None else d >= 0))
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
    def f(x, fmt):
        return "" if x is None else fmt.format(x)

    head = ["corpus", "K"]
    for method, _ in readings():
        head += [f"ProdLDA NPMI ({method})", "− tomotopy"]
    head += [f"ProdLDA div@{DIVERSITY_TOP} ({method})" for method, _ in readings()]
    head += ["θ accuracy − tomotopy", "time ÷ tomotopy", f"NPMI ({PROBABILITY}) − initial", "perplexity vs initial",
             "targets"]
    out = [_row(head), "|" + "---|" * len(head)]
    for v in vs:
        cells = [v["corpus"], str(v["K"])]
        for _, suffix in readings():
            cells += [f(v[f"npmi{suffix}"], "{:.3f}"), f(v[f"vs_tomotopy{suffix}"], "{:+.3f}")]
        cells += [f(v[f"diversity{suffix}"], "{:.3f}") for _, suffix in readings()]
        ppl = "" if v["ppl"] is None or v["ppl_initial"] is None else f"{v['ppl']:,.0f} vs {v['ppl_initial']:,.0f}"
        cells += [f(v["acc_vs_tomotopy"], "{:+.3f}"), f(v["time_ratio"], "{:.2f}"), f(v["vs_initial"], "{:+.3f}"),
                  ppl, _targets_text(v["targets"])]
        out.append(_row(cells))
    return "\n".join(out)


def summary(vs: list[dict]) -> str | None:
    """One line: on how many (corpus, K) with both the default ProdLDA and tomotopy the ProdLDA's
    held-out NPMI is at least tomotopy's, under each representation, and both means; None when
    there is no such cell."""
    both = [v for v in vs if v["vs_tomotopy"] is not None]
    if not both:
        return None
    counts, means = [], []
    for method, suffix in readings():
        got = [v for v in both if v[f"vs_tomotopy{suffix}"] is not None]
        wins = sum(v[f"vs_tomotopy{suffix}"] >= 0 for v in got)
        counts.append(f"{wins} of {len(got)}{' cells' if not counts else ''} ({method})")
        if got:
            means.append(f"{np.mean([v[f'npmi{suffix}'] for v in got]):.3f} vs "
                         f"{np.mean([v[f'tomotopy_npmi{suffix}'] for v in got]):.3f} ({method})")
    return f"ProdLDA ≥ tomotopy on {', '.join(counts)}; mean NPMI {', '.join(means)}."


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
    for label, params in map(parse_variant, variants):
        kind, _, label = label.rpartition("/")  # 'tomotopy/LABEL:...' is a tomotopy row; a plain LABEL, ProdLDA's
        if kind == "tomotopy":
            if have_tomotopy:
                specs.append((f"{MODEL_LABELS['tomotopy']} [{label}]", "tomotopy", params))
        elif kind:
            sys.exit(f"a --variant is for ProdLDA (LABEL:...) or tomotopy (tomotopy/LABEL:...), not {kind!r}")
        else:
            specs.append((f"ProdLDA [{label}]", "prodlda", params))
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
        lines += [f"**Smoke run (`--quick`): first {QUICK['docs']:,} training documents, VAEs at most "
                  f"{QUICK['epochs']} epochs, LDA {QUICK['passes']} passes, tomotopy {QUICK['iterations']} iterations, "
                  "no C_v. It checks that everything runs; its figures are not for quoting.**", ""]
    models = "; ".join(f"{label}" + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")
                       for label, _, params in specs)
    if args.reference == "validation":
        ref = (f"**Reference: validation** (`--reference validation`): a seeded {HELD_OUT:.0%} of each corpus's "
               f"training documents (seed {SPLIT_SEED}); the models trained on the other "
               f"{1 - HELD_OUT:.0%}; the test documents were not used. n_ref counts these validation documents.")
    else:
        ref = ("**Reference: test** (`--reference test`): the models trained on the training documents and every "
               "held-out figure is on the test documents (n_ref).")
    names = " and ".join(representation.describe(m) for m, _ in readings())
    lines += [f"Every (corpus, K, model, seed) trained in its own process, one after the other, with "
              f"{args.threads} thread(s) (LdaMulticore: 2 workers); K = {', '.join(map(str, topics))}; "
              f"seeds {', '.join(map(str, seeds))}. Models: {models}.",
              "",
              ref + " Settings are to be chosen with `--reference validation` and reported with "
              "`--reference test`.",
              "",
              f"Every model is scored the same way. Its topics (`topic_word_`, the model's own distribution) are "
              f"read under {names} (`topicvae.scoring.representation.top_words`, with the training documents): under "
              f"each, NPMI of the top {TOP_N} words by document co-occurrence in the reference documents "
              f"(held-out) and in the training documents (train), and div@{DIVERSITY_TOP} = unique "
              f"top-{DIVERSITY_TOP} words over {DIVERSITY_TOP}·K. Under `{PROBABILITY}` only: gap = train − "
              f"held-out NPMI; median df = median number of training documents containing each of all topics' "
              f"top-{TOP_N} words; C_v and gensim c_npmi (window {C_NPMI_WINDOW}) over the reference documents' "
              "tokens. θ accuracy: logistic regression (scikit-learn, max_iter 2000) fit on θ of the training "
              "documents and their labels, accuracy on θ of the reference documents; label NMI of argmax θ on "
              "the reference documents (both: labelled corpora, unlabelled rows left out). Held-out perplexity = "
              "exp(−Σ log bound / Σ tokens) of the reference documents, from each model's own bound or estimate: "
              "the VAEs' ELBO (one sample), gensim LDA's variational bound, tomotopy's log-likelihood of "
              "`infer` (log p(w_d, z_d) at its last Gibbs sample of each document; tokens of words unseen in "
              "training left out); they are computed differently, so across model families the figures are "
              "indicative only. train s = wall time of `fit`; infer docs/s = documents per second of `transform` "
              "on the reference documents (one call, after a warm-up); peak RSS of the child process (its own high-water "
              "mark). Cells are means over the seeds ± half their range. Blank: not measured (C_v off, no "
              "labels, no bound)."]
    skipped = [f"- {c['key']}: skipped ({c['skipped']})" for c in corpora if c.get("skipped")]
    if skipped:
        lines += ["", *skipped]
    made = [c["key"] for c in corpora if c.get("made_split")]
    if made:
        lines += ["", f"Without a test split, {', '.join(made)} held out a seeded {HELD_OUT:.0%} of "
                      f"{'its' if len(made) == 1 else 'their'} documents as test (seed {SPLIT_SEED})."]
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
                    help="an extra ProdLDA row with these settings (repeatable); 'initial:epochs=0' is the "
                         "untrained network, which the verdict compares the trained ProdLDA with")
    ap.add_argument("--seeds", default="0,1", help="comma-separated seeds; the table shows means (--quick: the first)")
    ap.add_argument("--reference", choices=REFERENCES, default="test",
                    help="the documents every held-out figure is on: test (default; for reporting) or validation "
                         f"(a seeded {HELD_OUT * 100:.0f}%% of the training documents, the test documents unused; for "
                         "choosing settings)")
    ap.add_argument("--threads", type=int, default=1, help="threads per model (default 1)")
    ap.add_argument("--quick", action="store_true", help="CI-sized smoke run (see above); figures not for quoting")
    ap.add_argument("--no-cv", action="store_true", help="skip C_v")
    ap.add_argument("--shared", type=Path, default=SHARED, help=f"the shared corpora (default {SHARED})")
    ap.add_argument("--cache", type=Path, default=CACHE, help="corpora folder for the ingested corpora")
    ap.add_argument("--n-process", type=int, help="processes for ingestion and tokenizing (default 2; --quick: 1)")
    ap.add_argument("--out", type=Path, help="also write the report (Markdown) to this file, at the end")
    ap.add_argument("--json", type=Path, help="also write the raw rows to this file, one JSON line per cell (and "
                                              "seed) as it finishes")
    ap.add_argument("--save-topics", type=Path, metavar="DIR",
                    help="also save each cell's topic_word_ as DIR/CORPUS-K-LABEL-sSEED-REFERENCE.npy "
                         "(for benchmarks/lead_words_constants.py)")
    ap.add_argument("--representations", default="",
                    help="more representations to score every cell under, comma-separated (any of "
                         f"{', '.join(representation.methods())}), beside probability and the default")
    args = ap.parse_args()
    EXTRA_READINGS[:] = [m.strip() for m in args.representations.split(",") if m.strip()]
    for m in EXTRA_READINGS:
        if m not in representation.methods():
            ap.error(f"unknown representation {m!r}; choose from {', '.join(representation.methods())}")

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
        made = split_rows(c)[2]
        train, ref = reference_rows(c, args.reference)
        path = tokens_file(c, args.cache, args.reference)
        reference_tokens(c, ref, path, n_process=n_process)
        n_train = min(len(train), QUICK["docs"]) if args.quick else len(train)
        info = {"key": key, "V": c.n_words, "n_train": n_train, "n_ref": len(ref), "made_split": made,
                "labels": has_labels(c), "tokens": str(path)}
        corpora.append(info)
        counts = c.manifest.get("counts", {})
        log(f"corpus {key}: {counts.get('kept', c.n_docs):,} of {counts.get('read', c.n_docs):,} documents kept, "
            f"{n_train:,} train / {len(ref):,} {args.reference}{' (seeded test split)' if made else ''}, "
            f"{c.n_words:,} words{'' if info['labels'] else ', no labels'}")
        del c

    head = header(args, sys.argv[1:], seeds, topics, specs, notes, corpora)
    print(head, flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text("")  # one line per cell is appended as it finishes
    print("## Cells, as they finish\n", flush=True)
    print(table_head(seed=True), flush=True)
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
                           "cache": str(args.cache), "tokens": info["tokens"], "reference": args.reference,
                           "readings": EXTRA_READINGS,
                           "save_topics": str(args.save_topics) if args.save_topics else None}
                    r = {"corpus": info["key"], "V": info["V"], "n_train": info["n_train"], "n_ref": info["n_ref"],
                         "K": k, "model": label, "kind": kind, "seed": seed, "reference": args.reference,
                         **spawn(job, args.threads)}
                    rows.append(r)
                    print(cell_line(r), flush=True)
                    if args.json:
                        with args.json.open("a") as fh:
                            fh.write(json.dumps(r) + "\n")
    agg = aggregate(rows)
    failed = [r for r in rows if r.get("error")]
    report = [head, "## Results\n", table(agg)]
    vs = verdict(agg)
    if vs:
        beat = ", ".join(map(str, TARGETS["beat_tomotopy_at"]))
        report += ["\n## Verdict\n",
                   f"The default ProdLDA against tomotopy (means over seeds), under "
                   f"{' and '.join(f'`{m}`' for m, _ in readings())}; and against its own untrained network where "
                   f"a `{INITIAL}` variant ran. Targets: held-out NPMI ≥ tomotopy's under each representation at "
                   f"K = {beat} with diversity ≥ {TARGETS['min_diversity']:g} under each; θ accuracy ≥ tomotopy's; "
                   f"train time ≤ {TARGETS['max_time_ratio']:g} × tomotopy's"
                   f"{' (a smoke run: not a verdict)' if args.quick else ''}.\n",
                   verdict_table(vs)]
        line = summary(vs)
        if line:
            report += ["", line]
    if failed:
        report += ["\n## Failed\n"] + [f"- {r['corpus']} K={r['K']} {r['model']} seed {r['seed']}: {r['error']}"
                                       for r in failed]
    text = "\n".join(report[1:])
    print("\n" + text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report) + "\n")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
