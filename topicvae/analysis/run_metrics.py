"""Evaluate one trained run: the metrics defined in ``docs/metrics.md``, and ``metrics.json``.

``evaluate_run`` computes them and writes ``runs/<run>/metrics.json``; ``read_metrics``
reads that file back (a damaged one is a one-line :class:`RunError`);
``format_metrics`` is the text ``topicvae evaluate`` prints.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from topicvae import paths
from topicvae.corpus import Corpus
from topicvae.corpus.rows import MemoryRows
from topicvae.errors import ConfigError, CorpusError, RunError
from topicvae.runs.workspace import run_corpus
from topicvae.scoring import metrics as evaluation, representation as representations

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"

#: metrics.json keys shown in tables, in this order, with their display names.
METRIC_NAMES: dict[str, str] = {
    "npmi": "NPMI",
    "c_v": "C_v",
    "diversity": "diversity@25",
    "perplexity": "perplexity (upper bound)",
    "label_accuracy": "label accuracy",
    "label_nmi": "label NMI",
    "label_purity": "label purity",
    "train_seconds": "train s",
    "infer_docs_per_s": "infer docs/s",
}


def number(v) -> float | None:
    """``v`` as a finite float, or None (for missing, non-numeric, boolean or infinite values)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


# ---------------------------------------------------------------------------- the reference documents
def reference_corpus(reference: str, corpora_dir=None) -> Corpus | None:
    """The corpus ``reference`` names (None for ``test`` and ``train``, the run's own documents);
    :class:`ConfigError` when it names none. Commands check it before they train (``sweep``)."""
    if reference in ("test", "train"):
        return None
    try:
        return Corpus.load(reference, corpora_dir)
    except CorpusError as exc:
        raise ConfigError(f"--reference must be test, train or a corpus name: {exc}") from exc


def _reference_bow(run, corpus: Corpus, reference: str, corpora_dir):
    """The reference documents as counts over the run's vocabulary (a row source,
    :meth:`topicvae.corpus.Corpus.rows`: a sharded corpus is read a shard at a time), with a label
    saying which, their corpus and their rows in it."""
    if reference in ("test", "train"):
        rows = corpus.split_rows(reference)
        label = reference
        if len(rows) == 0:
            rows, label = corpus.split_rows("train"), "train (the corpus has no test split)"
        return corpus.rows(rows), label, corpus, rows
    ref = reference_corpus(reference, corpora_dir)
    index = {w: j for j, w in enumerate(ref.vocab)}
    pairs = [(index[w], j) for j, w in enumerate(run.vocab) if w in index]
    if not pairs:
        raise ConfigError(f"reference corpus {reference!r} shares no word with run {run.name!r}")
    src, dst = np.array(pairs).T
    select = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(ref.n_words, len(run.vocab)))
    return _OverVocabulary(ref.rows(), select), f"corpus {reference}", ref, np.arange(ref.n_docs)


class _OverVocabulary:
    """A row source (:mod:`topicvae.corpus.rows`) of another corpus's documents as counts over the run's
    vocabulary: each block of ``source`` times ``select`` (its words × the run's; the run's words it
    lacks are columns of zeros)."""

    def __init__(self, source, select: sp.csr_matrix):
        self.source, self.select = source, select
        self.shape = (source.shape[0], select.shape[1])

    def blocks(self, rows=None):
        for X, local in self.source.blocks(rows):
            yield (X @ self.select).tocsr(), local


def _reference_texts(ref: Corpus, rows: np.ndarray, max_docs: int = 20000) -> list[list[str]]:
    """The reference documents as their corpus's vectorizer tokenizes them, phrases joined (for C_v)."""
    from topicvae.text.vectorizer import reference_tokens

    return reference_tokens(ref, rows[:max_docs])


# ---------------------------------------------------------------------------- one group of metrics each
def _coherence_metrics(corpus: Corpus, ref_bow, ref_label: str, representation: str, first: np.ndarray) -> dict:
    """NPMI of each topic's first 10 words (of ``first``, its first 25 in ``representation``) on the
    reference (and on the training documents), and diversity of its first 25."""
    topic_ids = [row[:10] for row in first]
    npmi, npmi_topics = evaluation.npmi(topic_ids, ref_bow)
    out = {"representation": representation,
           "npmi": round(float(npmi), 4), "npmi_per_topic": [round(float(v), 4) for v in npmi_topics],
           "diversity": round(float(evaluation.topic_diversity(list(first), 25)), 4)}
    if ref_label == "test" and corpus.has_split("train"):
        # the same topics scored on the documents they were trained on: the gap to the
        # held-out figure shows how much of the coherence exists only in the training documents
        train_rows = corpus.split_rows("train")
        out["npmi_train"] = round(float(evaluation.npmi(topic_ids, corpus.rows(train_rows))[0]), 4)
        out["train_docs"] = int(len(train_rows))
    return out


def _c_v_metric(run, ref_corpus: Corpus, ref_rows: np.ndarray, first: np.ndarray) -> dict:
    """C_v of each topic's first 10 words (of ``first``) over the reference texts; None (with a warning)
    when it cannot be scored."""
    try:
        cv, _ = evaluation.c_v([[run.vocab[j] for j in row[:10]] for row in first],
                               _reference_texts(ref_corpus, ref_rows))
    except ValueError as exc:
        logger.warning("C_v skipped: %s", exc)
        return {"c_v": None}
    return {"c_v": round(float(cv), 4)}


def _perplexity_metrics(run, model, corpus: Corpus) -> dict:
    """The perplexity upper bound on the test split, and what kind of bound it is."""
    out = {"perplexity": None, "perplexity_kind": None}
    test_rows = corpus.split_rows("test")
    test = corpus.rows(test_rows) if len(test_rows) else None
    # (a matrix in memory as it is; a sharded corpus's rows as a row source, which the models read a shard
    # or an evaluation batch at a time, to the bound of the stacked matrix)
    bounded = None if test is None else model.log_bound(test.X if isinstance(test, MemoryRows) else test)
    if bounded is not None:
        bound, n_tokens = bounded
        out["perplexity"] = round(float(evaluation.perplexity(bound, n_tokens)), 2)
        out["perplexity_kind"] = f"upper bound from the {type(model).bound_kind}, test split"
        if run.config.get("params", {}).get("likelihood") == "bernoulli":
            out["perplexity_kind"] += " (Bernoulli word presence: not comparable with multinomial models)"
    return out


def _label_metrics(run, corpus: Corpus) -> dict:
    """Label accuracy, NMI and purity of θ, when the documents scored have at least two labels.

    Above :data:`topicvae.analysis.documents.SAMPLE_DOCS` documents on a side (training rows, test rows; or all, without a test
    split) they come from a seeded random sample of that many of them, and say so
    (``label_sample``): θ (memory-mapped) and the label column are read for those documents alone."""
    from topicvae.analysis import documents
    from topicvae.analysis.documents import sample_rows
    from topicvae.runs import DOC_TOPIC_FILE, rows_of

    train_rows, test_rows = corpus.split_rows("train"), corpus.split_rows("test")
    has_split = len(test_rows) and len(train_rows) < corpus.n_docs
    most = documents.SAMPLE_DOCS
    sides = ([sample_rows(train_rows, most), sample_rows(test_rows, most)] if has_split
             else [sample_rows(np.arange(corpus.n_docs), most)])
    rows = np.concatenate(sides)
    order = np.argsort(rows, kind="stable")  # both read in row order, then put back in the sides' order
    labels = corpus.column("label", rows[order])
    if labels is None or not (labels.notna().sum() and labels.nunique(dropna=True) > 1):
        return {}
    theta = np.empty((len(rows), run.n_topics), dtype=np.float32)
    theta[order] = rows_of(run.array(DOC_TOPIC_FILE, mmap_mode="r"), rows[order])
    in_sides = np.empty(len(rows), dtype=object)
    in_sides[order] = labels.astype(object).where(labels.notna(), None).to_numpy()
    split = (np.arange(len(sides[0])), len(sides[0]) + np.arange(len(sides[1]))) if has_split else (None, None)
    lm = evaluation.label_metrics(theta, in_sides.tolist(), *split)
    out = {"label_accuracy": round(lm["accuracy"], 4), "label_accuracy_method": lm["accuracy_method"],
           "label_nmi": round(lm["nmi"], 4), "label_purity": round(lm["purity"], 4)}
    if len(rows) < (len(train_rows) + len(test_rows) if has_split else corpus.n_docs):
        out["label_sample"] = f"a seeded random sample of {len(rows):,} documents (at most {most:,} a side)"
    return out


def _speed_metrics(run, model, corpus: Corpus) -> dict:
    """Inference documents per second and training seconds."""
    sample = corpus.rows().take(np.arange(min(corpus.n_docs, 5000)))  # (the first shards only)
    model.transform(sample[:10])  # warm-up: first-call costs are not inference speed
    return {"infer_docs_per_s": round(float(evaluation.inference_speed(model, sample)), 1),
            "train_seconds": run.config.get("fit_seconds")}


# ---------------------------------------------------------------------------- evaluate, read, print
def evaluate_run(run, reference: str = "test", corpora_dir: str | Path | None = None,
                 with_c_v: bool = True, save: bool = True, representation: str = representations.DEFAULT) -> dict:
    """Every metric of ``docs/metrics.md`` for ``run``; written to ``metrics.json`` in the run folder when ``save``.

    Args:
        run: a :class:`topicvae.runs.Run`.
        reference: ``test`` (held-out documents; the headline), ``train``, or a corpus name,
            for NPMI and C_v. A corpus without a test split falls back to train, and says so.
        corpora_dir: the corpora folder (default: :func:`topicvae.paths.corpora_dir`).
        with_c_v: also compute C_v (re-tokenizes the reference texts; a few seconds).
        save: write ``metrics.json`` (by write-then-rename).
        representation: how each topic's words are read for NPMI, C_v and diversity
            (:mod:`topicvae.scoring.representation`); recorded as ``representation``.
    """
    from topicvae.analysis.topics import topic_word_ids

    representations.check_method(representation)
    corpus = run_corpus(run, corpora_dir)
    ref_bow, ref_label, ref_corpus, ref_rows = _reference_bow(run, corpus, reference, corpora_dir)
    metrics = {"run": run.name, "model": run.model_name, "n_topics": run.n_topics, "corpus": corpus.name,
               "reference": ref_label, "reference_docs": int(ref_bow.shape[0])}
    first = topic_word_ids(run, corpus, representation, 25)  # (each representation's first 10 are these' first)
    stages = [("coherence", lambda: _coherence_metrics(corpus, ref_bow, ref_label, representation, first))]
    if with_c_v:
        stages.append(("C_v", lambda: _c_v_metric(run, ref_corpus, ref_rows, first)))
    model = run.model
    stages += [("perplexity", lambda: _perplexity_metrics(run, model, corpus)),
               ("label metrics", lambda: _label_metrics(run, corpus)),
               ("inference speed", lambda: _speed_metrics(run, model, corpus))]
    for stage, compute in stages:
        t0 = time.perf_counter()
        metrics.update(compute())
        logger.info("run %s: %s in %.1fs", run.name, stage, time.perf_counter() - t0)
    metrics["evaluated"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if save:
        with paths.atomic_file(run.path / METRICS_FILE) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
    return metrics


def read_metrics(run) -> dict | None:
    """The saved ``metrics.json`` of a run, or None when it was never evaluated.

    Args:
        run: a :class:`topicvae.runs.Run`, or the path of a run folder.

    Raises:
        RunError: the file is there but is not a JSON object (one line, saying how to rewrite it).
    """
    folder = Path(run.path if hasattr(run, "path") else os.fspath(run))
    file = folder / METRICS_FILE
    if not file.is_file():
        return None
    again = f"run `topicvae evaluate {folder.name}` again"
    try:
        metrics = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{file} is damaged ({str(exc).splitlines()[0]}); {again} to rewrite it") from None
    if not isinstance(metrics, dict):
        raise RunError(f"{file} is damaged (not a JSON object); {again}")
    return metrics


def format_metrics(metrics: dict) -> str:
    """The text ``topicvae evaluate`` prints: one metric per line, with its reference."""
    ref = metrics["reference"]
    lines = [f"{metrics['run']}: {metrics['model']}, {metrics['n_topics']} topics, corpus {metrics['corpus']}"]
    if metrics.get("representation"):
        from topicvae.scoring.representation import describe

        lines.append(f"  topic words read by: {describe(metrics['representation'])}")

    def add(key, label, fmt="{:.4f}", note=""):
        v = metrics.get(key)
        lines.append(f"  {label:<22} {'n/a' if v is None else fmt.format(v)}{note}")

    docs = f", {metrics['reference_docs']:,} documents" if metrics.get("reference_docs") else ""
    add("npmi", "NPMI (top 10)", note=f"   reference: {ref}{docs}")
    if metrics.get("npmi_train") is not None:
        gap = metrics["npmi_train"] - metrics["npmi"]
        warn = f"; {gap:.2f} above held-out: much of it holds only in the training documents" if gap > 0.1 else ""
        add("npmi_train", "NPMI on training docs", note=f"   reference: train, {metrics['train_docs']:,} documents{warn}")
    add("c_v", "C_v (top 10)", note=f"   reference: {ref}{docs}")
    add("diversity", "diversity (top 25)")
    add("perplexity", "perplexity", "{:,.1f}", f"   {metrics.get('perplexity_kind') or 'no test split'}")
    if "label_accuracy" in metrics:
        sample = f", {metrics['label_sample']}" if metrics.get("label_sample") else ""
        add("label_accuracy", "label accuracy", note=f"   {metrics.get('label_accuracy_method')}{sample}")
        add("label_nmi", "label NMI (argmax θ)")
        add("label_purity", "label purity")
    add("train_seconds", "train seconds", "{:.1f}")
    add("infer_docs_per_s", "inference docs/s", "{:,.0f}")
    return "\n".join(lines)
