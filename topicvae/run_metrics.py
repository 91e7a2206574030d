"""Evaluate runs and compare them: the metrics of GUIDE §4 for one trained run.

``evaluate_run`` writes ``runs/<run>/metrics.json``; ``compare_runs`` puts several
runs' metrics side by side and aligns the topics of two runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import evaluation, paths
from .corpus import Corpus
from .errors import ConfigError, CorpusError, RunError

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"

#: the columns of a comparison table, in order, with their headings
METRIC_COLUMNS = {
    "npmi": "NPMI", "c_v": "C_v", "diversity": "diversity@25", "perplexity": "perplexity (bound)",
    "label_accuracy": "label acc.", "label_nmi": "label NMI", "label_purity": "purity",
    "train_seconds": "train s", "infer_docs_per_s": "infer docs/s",
}


def run_corpus(run, corpora_dir: str | Path | None = None) -> Corpus:
    """The corpus a run was trained on; :class:`RunError` when it is gone or has changed."""
    name = run.config.get("corpus")
    try:
        corpus = Corpus.load(name, corpora_dir)
    except CorpusError as exc:
        raise RunError(f"run {run.name!r} was trained on corpus {name!r}, which is gone ({exc})") from exc
    if corpus.checksum != run.config.get("corpus_checksum"):
        raise RunError(f"corpus {name!r} has changed since run {run.name!r} was trained (bow checksum differs); "
                       "train the run again")
    return corpus


def _reference_bow(run, corpus: Corpus, reference: str, corpora_dir) -> tuple[sp.csr_matrix, str, Corpus, np.ndarray]:
    """The reference documents as counts over the run's vocabulary, with a label saying which."""
    if reference in ("test", "train"):
        rows = corpus.split_rows(reference)
        label = reference
        if len(rows) == 0:
            rows, label = corpus.split_rows("train"), "train (the corpus has no test split)"
        return corpus.bow[rows], label, corpus, rows
    try:
        ref = Corpus.load(reference, corpora_dir)
    except CorpusError as exc:
        raise ConfigError(f"--reference must be test, train or a corpus name: {exc}") from exc
    index = {w: j for j, w in enumerate(ref.vocab)}
    pairs = [(index[w], j) for j, w in enumerate(run.vocab) if w in index]
    if not pairs:
        raise ConfigError(f"reference corpus {reference!r} shares no word with run {run.name!r}")
    src, dst = np.array(pairs).T
    select = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(ref.n_words, len(run.vocab)))
    return (ref.bow @ select).tocsr(), f"corpus {reference}", ref, np.arange(ref.n_docs)


def _reference_texts(ref: Corpus, rows: np.ndarray, max_docs: int = 20000) -> list[list[str]]:
    """The reference documents tokenized again with their corpus's preprocessing (for C_v)."""
    from .config import PreprocessSettings, from_dict
    from .ingestion import tokenize_texts

    rows = rows[:max_docs]
    settings = from_dict(PreprocessSettings, ref.manifest.get("preprocess", {}))
    tok = tokenize_texts(ref.docs["text"].iloc[rows].tolist(), settings)
    return [tok.tokens(i) for i in range(len(tok))]


def evaluate_run(run, reference: str = "test", corpora_dir: str | Path | None = None,
                 with_c_v: bool = True, save: bool = True) -> dict:
    """Every GUIDE §4 metric of ``run``; written to ``metrics.json`` in the run folder when ``save``.

    Args:
        run: a :class:`topicvae.runs.Run`.
        reference: ``test`` (held-out documents; the headline), ``train``, or a corpus name,
            for NPMI and C_v. A corpus without a test split falls back to train, and says so.
        with_c_v: also compute C_v (re-tokenizes the reference texts; a few seconds).
    """
    corpus = run_corpus(run, corpora_dir)
    ref_bow, ref_label, ref_corpus, ref_rows = _reference_bow(run, corpus, reference, corpora_dir)
    top10 = run.top_words(10)
    topic_ids = evaluation.top_word_ids(run.topic_word, 10)
    npmi, npmi_topics = evaluation.npmi(topic_ids, ref_bow)
    metrics = {
        "run": run.name, "model": run.model_name, "n_topics": run.n_topics, "corpus": corpus.name,
        "reference": ref_label, "reference_docs": int(ref_bow.shape[0]),
        "npmi": round(float(npmi), 4), "npmi_per_topic": [round(float(v), 4) for v in npmi_topics],
        "diversity": round(float(evaluation.topic_diversity(run.topic_word, 25)), 4),
    }
    if ref_label == "test" and corpus.has_split("train"):
        # the same topics scored on the documents they were trained on: the gap to the
        # held-out figure shows how much of the coherence exists only in the training documents
        train_rows = corpus.split_rows("train")
        metrics["npmi_train"] = round(float(evaluation.npmi(topic_ids, corpus.bow[train_rows])[0]), 4)
        metrics["train_docs"] = int(len(train_rows))
    if with_c_v:
        try:
            cv, cv_topics = evaluation.c_v(top10, _reference_texts(ref_corpus, ref_rows))
            metrics["c_v"] = round(float(cv), 4)
        except ValueError as exc:
            logger.warning("C_v skipped: %s", exc)
            metrics["c_v"] = None
    model = run.model
    test_rows = corpus.split_rows("test")
    metrics["perplexity"] = None
    metrics["perplexity_kind"] = None
    bounded = model.log_bound(corpus.bow[test_rows]) if len(test_rows) else None
    if bounded is not None:
        bound, n_tokens = bounded
        metrics["perplexity"] = round(float(evaluation.perplexity(bound, n_tokens)), 2)
        metrics["perplexity_kind"] = f"upper bound from the {type(model).bound_kind}, test split"
        if run.config.get("params", {}).get("likelihood") == "bernoulli":
            metrics["perplexity_kind"] += " (Bernoulli word presence: not comparable with multinomial models)"
    labels = corpus.docs["label"]
    if labels.notna().sum() and labels.nunique(dropna=True) > 1:
        train_rows = corpus.split_rows("train")
        split = (train_rows, test_rows) if len(test_rows) and len(train_rows) < corpus.n_docs else (None, None)
        lm = evaluation.label_metrics(run.doc_topic, labels.astype(object).where(labels.notna(), None).tolist(),
                                      *split)
        metrics.update({"label_accuracy": round(lm["accuracy"], 4), "label_accuracy_method": lm["accuracy_method"],
                        "label_nmi": round(lm["nmi"], 4), "label_purity": round(lm["purity"], 4)})
    sample = corpus.bow[: min(corpus.n_docs, 5000)]
    model.transform(sample[:10])  # warm-up: first-call costs are not inference speed
    metrics["infer_docs_per_s"] = round(float(evaluation.inference_speed(model, sample)), 1)
    metrics["train_seconds"] = run.config.get("fit_seconds")
    metrics["evaluated"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if save:
        with paths.atomic_file(run.path / METRICS_FILE) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
    return metrics


def read_metrics(run) -> dict | None:
    """The saved ``metrics.json`` of a run, or None when it was never evaluated."""
    file = Path(run.path) / METRICS_FILE
    if not file.is_file():
        return None
    try:
        metrics = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{file} is damaged ({str(exc).splitlines()[0]}); run `topicvae evaluate {run.name}` "
                       "again to rewrite it") from None
    if not isinstance(metrics, dict):
        raise RunError(f"{file} is damaged (not a JSON object); run `topicvae evaluate {run.name}` again")
    return metrics


def metrics_table(rows: list[dict]) -> pd.DataFrame:
    """One row per run: run, model, K, corpus, reference and the METRIC_COLUMNS."""
    cols = ["run", "model", "n_topics", "corpus", "reference", *METRIC_COLUMNS]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def format_metrics(metrics: dict) -> str:
    """The text ``topicvae evaluate`` prints: one metric per line, with its reference."""
    ref = metrics["reference"]
    lines = [f"{metrics['run']}: {metrics['model']}, {metrics['n_topics']} topics, corpus {metrics['corpus']}"]
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
        add("label_accuracy", "label accuracy", note=f"   {metrics.get('label_accuracy_method')}")
        add("label_nmi", "label NMI (argmax θ)")
        add("label_purity", "label purity")
    add("train_seconds", "train seconds", "{:.1f}")
    add("infer_docs_per_s", "inference docs/s", "{:,.0f}")
    return "\n".join(lines)


def align_runs(run_a, run_b, n_words: int = 8) -> pd.DataFrame:
    """Topics of two runs matched one-to-one (Hungarian on Jensen–Shannon distance).

    Raises :class:`ConfigError` when the runs have different vocabularies (their topic-word
    distributions live in different spaces, so no distance between them means anything).
    """
    if run_a.vocab != run_b.vocab:
        raise ConfigError(f"runs {run_a.name!r} and {run_b.name!r} have different vocabularies, "
                          "so their topics cannot be aligned (metrics can still be compared)")
    pairs, dist = evaluation.align_topics(run_a.topic_word, run_b.topic_word)
    wa, wb = run_a.top_words(n_words), run_b.top_words(n_words)
    rows = [{"topic_a": i, "words_a": " ".join(wa[i]), "topic_b": j, "words_b": " ".join(wb[j]),
             "js_distance": round(float(d), 4)} for (i, j), d in zip(pairs, dist)]
    return pd.DataFrame(rows).sort_values("js_distance", kind="stable").reset_index(drop=True)
