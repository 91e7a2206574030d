"""The numbers behind the dashboard: relevance, prevalence, maps, trends, neighbours, status.

Every page of the dashboard (:mod:`topicvae.app`) is a thin view over these functions;
nothing here imports Streamlit, so each can be tested and used from a notebook. Arrays follow the run
layout (:mod:`topicvae.runs`): ``topic_word`` is (K, V) with rows summing to 1 and
``doc_topic`` is θ, (n_docs, K), in corpus row order.

- Names coming from a user interface go through :func:`resolve_run_dir` /
  :func:`resolve_corpus_dir`, which refuse anything that would leave the configured folder.
- :func:`relevance` ranks a topic's words as LDAvis does (Sievert & Shirley 2014).
- :func:`intertopic_map` places topics in 2-D by classical MDS of their Jensen–Shannon distances.
- :func:`document_map` embeds the documents in 2-D (UMAP when installed, else PCA) once
  per run and keeps the result in the run folder (``doc_map.npy`` + ``doc_map.json``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import paths
from .corpus import MANIFEST_FILE, Corpus, list_corpora
from .errors import ConfigError, RunError
from .text.preprocess import HEADER_LINE
from .runs import CONFIG_FILE, DOC_TOPIC_FILE, Z_MEAN_FILE, Run, list_runs

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
MAP_FILE = "doc_map.npy"
MAP_META_FILE = "doc_map.json"
MAP_METHODS = ("auto", "umap", "pca")
MAP_SOURCES = ("theta", "mu")

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


# ---------------------------------------------------------------------------- commands shown to people
def cmd_quickstart() -> str:
    return "topicvae quickstart"


def cmd_train(corpus: str, model: str = "prodlda", n_topics: int = 20) -> str:
    return f"topicvae train {corpus} --model {model} --topics {n_topics}"


def cmd_evaluate(run: str) -> str:
    return f"topicvae evaluate {run}"


def cmd_ingest() -> str:
    return "topicvae ingest builtin:sample --name sample"


# ---------------------------------------------------------------------------- safe names
def resolve_inside(root: str | os.PathLike, name: str, what: str = "name") -> Path:
    """The folder ``root/name``, refusing a name or a link that leads outside ``root``.

    Raises:
        ConfigError: ``name`` is not a plain folder name (see :func:`topicvae.paths.check_name`)
            or ``root/name`` resolves (through a symbolic link) to a place outside ``root``.
    """
    paths.check_name(name, what)
    base = Path(root).resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise ConfigError(f"{what} {name!r} leads outside {base}; only folders inside it can be opened")
    return target


def resolve_run_dir(name: str, runs_dir: str | os.PathLike | None = None) -> Path:
    return resolve_inside(paths.runs_dir(runs_dir), name, "run name")


def resolve_corpus_dir(name: str, corpora_dir: str | os.PathLike | None = None) -> Path:
    return resolve_inside(paths.corpora_dir(corpora_dir), name, "corpus name")


def load_run(name: str, runs_dir: str | os.PathLike | None = None) -> Run:
    """:meth:`Run.load` after :func:`resolve_run_dir` (for names typed or picked in the app)."""
    folder = resolve_run_dir(name, runs_dir)
    return Run.load(name, folder.parent)


def load_corpus(name: str, corpora_dir: str | os.PathLike | None = None) -> Corpus:
    """:meth:`Corpus.load` after :func:`resolve_corpus_dir`."""
    folder = resolve_corpus_dir(name, corpora_dir)
    return Corpus.load(name, folder.parent)


# ---------------------------------------------------------------------------- metrics, status
def read_metrics(run_path: str | os.PathLike) -> dict | None:
    """The run's ``metrics.json`` (written by ``topicvae evaluate``) as a dict, or None when absent or unreadable."""
    file = Path(run_path) / METRICS_FILE
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s: %s", file, exc)
        return None
    return data if isinstance(data, dict) else None


def _number(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


@dataclass
class CorpusStatus:
    """Whether the corpus a run was trained on is still there, unchanged.

    Attributes:
        state: ``ok``, ``missing`` (not in the corpora folder), ``changed`` (other
            bag-of-words checksum or document count), ``damaged`` (the file on disk does
            not match its manifest) or ``unknown`` (the run does not name its corpus).
        name: the corpus name recorded by the run.
        message: one line for people (empty when ok).
    """

    state: str
    name: str | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def corpus_status(run: Run, corpora_dir: str | os.PathLike | None = None, verify: bool = False) -> CorpusStatus:
    """Compare the run's recorded corpus (name, checksum, document count) with the corpora folder.

    Reads only the manifest unless ``verify`` is set, in which case the checksum of
    ``bow.npz`` on disk is recomputed too.
    """
    name = run.config.get("corpus")
    root = paths.corpora_dir(corpora_dir).resolve()
    if not name:
        return CorpusStatus("unknown", None, f"run {run.name!r} does not record which corpus it was trained on")
    try:
        folder = resolve_inside(root, name, "corpus name")
    except ConfigError as exc:
        return CorpusStatus("missing", name, str(exc))
    manifest_file = folder / MANIFEST_FILE
    if not manifest_file.is_file():
        return CorpusStatus("missing", name, (
            f"the corpus {name!r} this run was trained on is not in {root} (deleted or moved): document "
            f"texts, labels and coherence are unavailable; ingest it again under that name or start the "
            f"app with --corpora-dir pointing at its folder"))
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        return CorpusStatus("damaged", name, f"the manifest of corpus {name!r} cannot be read ({exc})")
    recorded = run.config.get("corpus_checksum")
    current = manifest.get("checksums", {}).get("bow.npz")
    n_docs = manifest.get("counts", {}).get("kept")
    if recorded and current and recorded != current:
        return CorpusStatus("changed", name, (
            f"corpus {name!r} changed since run {run.name!r} was trained (its bag-of-words checksum differs), "
            f"so its documents no longer match the run's rows; train the run again on it"))
    if n_docs is not None and run.config.get("n_docs") is not None and int(n_docs) != int(run.config["n_docs"]):
        return CorpusStatus("changed", name, (
            f"corpus {name!r} has {n_docs} documents but run {run.name!r} was trained with "
            f"{run.config['n_docs']}; train the run again on it"))
    if verify and current and paths.sha256_file(folder / "bow.npz") != current:
        return CorpusStatus("damaged", name, (
            f"corpus {name!r}: bow.npz does not match the checksum in its manifest; ingest it again with --force"))
    return CorpusStatus("ok", name)


# ---------------------------------------------------------------------------- overview
def corpora_overview(corpora_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per corpus: name, documents, vocabulary, tokens, labels, splits, source."""
    rows = []
    root = paths.corpora_dir(corpora_dir)
    for name in list_corpora(root):
        try:
            m = json.loads((root / name / MANIFEST_FILE).read_text())
        except (OSError, ValueError):
            continue
        c = m.get("counts", {})
        rows.append({
            "corpus": name,
            "documents": c.get("kept"),
            "vocabulary": c.get("vocabulary"),
            "tokens": c.get("tokens"),
            "labels": c.get("labels"),
            "splits": ", ".join(f"{k} {v:,}" for k, v in (c.get("splits") or {}).items()) or "-",
            "source": (m.get("source") or {}).get("path", ""),
        })
    return pd.DataFrame(rows, columns=["corpus", "documents", "vocabulary", "tokens", "labels", "splits", "source"])


def runs_overview(runs_dir: str | os.PathLike | None = None,
                  corpora_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per complete run: settings, training summary, metrics.json values and corpus status."""
    rows = []
    root = paths.runs_dir(runs_dir)
    for s in list_runs(root):
        run = Run(root / s["name"], json.loads((root / s["name"] / CONFIG_FILE).read_text()))
        metrics = read_metrics(run.path) or {}
        status = corpus_status(run, corpora_dir)
        row = {"run": s["name"], "corpus": s.get("corpus"), "model": s.get("model"), "K": s.get("n_topics"),
               "epochs": s.get("epochs"), "fit s": _number(s.get("fit_seconds"))}
        for key, title in METRIC_NAMES.items():
            row[title] = _number(metrics.get(key))
        row["evaluated"] = bool(metrics)
        row["corpus status"] = status.state
        rows.append(row)
    columns = ["run", "corpus", "model", "K", "epochs", "fit s", *METRIC_NAMES.values(), "evaluated", "corpus status"]
    return pd.DataFrame(rows, columns=columns)


def next_steps(corpora: pd.DataFrame, runs: pd.DataFrame) -> list[tuple[str, str]]:
    """(why, command) for what is missing: no corpus, a corpus without runs, a run not evaluated."""
    if corpora.empty and runs.empty:
        return [("nothing here yet: ingest the built-in sample", cmd_quickstart())]
    steps = []
    if corpora.empty:
        steps.append(("no corpus in the corpora folder", cmd_ingest()))
    trained = set(runs["corpus"]) if not runs.empty else set()
    for name in corpora["corpus"]:
        if name not in trained:
            steps.append((f"corpus {name!r} has no run yet", cmd_train(name)))
    for _, r in runs.iterrows():
        if not r["evaluated"]:
            steps.append((f"run {r['run']!r} is not evaluated yet", cmd_evaluate(r["run"])))
        if r["corpus status"] not in ("ok",):
            steps.append((f"run {r['run']!r}: its corpus {r['corpus']!r} is {r['corpus status']}",
                          cmd_train(r["corpus"], r["model"], int(r["K"])) + " --force"))
    return steps


def metrics_table(runs: Sequence[Run]) -> pd.DataFrame:
    """Rows: settings and metrics; columns: the runs. Missing values are None (shown blank)."""
    data = {}
    for run in runs:
        m = read_metrics(run.path) or {}
        col = {"model": run.model_name, "corpus": run.config.get("corpus"), "topics (K)": run.n_topics,
               "epochs": run.config.get("epochs"), "fit s": _number(run.config.get("fit_seconds")),
               "metrics reference": m.get("reference") if m else "not evaluated"}
        for key, title in METRIC_NAMES.items():
            v = _number(m.get(key))
            col[title] = None if v is None else round(v, 4)
        data[run.name] = col
    return pd.DataFrame(data).astype(object).where(lambda d: d.notna(), None)


# ---------------------------------------------------------------------------- topics
def topic_prevalence(doc_topic: np.ndarray, doc_lengths: np.ndarray | None = None) -> np.ndarray:
    """Share of the corpus in each topic: θ averaged over documents, weighted by length when given.

    Args:
        doc_topic: (n_docs, K) θ.
        doc_lengths: (n_docs,) tokens per document (LDAvis weights by length), or None.

    Returns:
        (K,) float64 summing to 1.
    """
    theta = np.asarray(doc_topic, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[0] == 0:
        raise ValueError(f"doc_topic must be a non-empty (n_docs, K) array, got shape {theta.shape}")
    w = np.ones(theta.shape[0]) if doc_lengths is None else np.asarray(doc_lengths, dtype=np.float64)
    if w.shape != (theta.shape[0],):
        raise ValueError(f"doc_lengths has shape {w.shape}, expected ({theta.shape[0]},)")
    if w.sum() <= 0:
        w = np.ones(theta.shape[0])
    p = w @ theta
    return p / p.sum()


def word_marginal(topic_word: np.ndarray, prevalence: np.ndarray) -> np.ndarray:
    """p(w) = Σ_k p(k) p(w|k): the model's overall word distribution, (V,) summing to 1."""
    p = np.asarray(prevalence, dtype=np.float64) @ np.asarray(topic_word, dtype=np.float64)
    return p / p.sum()


def relevance(topic_word: np.ndarray, lam: float, p_w: np.ndarray) -> np.ndarray:
    """LDAvis relevance ``λ·log p(w|k) + (1−λ)·log(p(w|k)/p(w))`` of every word in every topic.

    λ = 1 ranks words by probability within the topic; λ = 0 by lift (how much more
    frequent the word is in the topic than overall); Sievert & Shirley found λ ≈ 0.6
    easiest to interpret.

    Args:
        topic_word: (K, V) p(w|k).
        lam: λ in [0, 1].
        p_w: (V,) overall word probabilities.

    Returns:
        (K, V) float64.
    """
    if not 0.0 <= float(lam) <= 1.0:
        raise ConfigError(f"the relevance weight λ must be between 0 and 1, got {lam}")
    log_phi = np.log(np.clip(np.asarray(topic_word, dtype=np.float64), 1e-300, None))
    log_pw = np.log(np.clip(np.asarray(p_w, dtype=np.float64), 1e-300, None))
    return log_phi - (1.0 - float(lam)) * log_pw[None, :]


def top_relevant_words(topic_word: np.ndarray, k: int, lam: float, p_w: np.ndarray, vocab: Sequence[str],
                       n: int = 20, prevalence: np.ndarray | None = None,
                       total_tokens: float | None = None) -> pd.DataFrame:
    """The ``n`` most relevant words of topic ``k``, most relevant first.

    Columns: word, relevance, p_w_k (p(w|k)), p_w (p(w)), lift (p(w|k)/p(w)) and, with
    ``prevalence`` and ``total_tokens``, ``overall`` (expected count of the word in the
    corpus) and ``in_topic`` (expected count drawn from topic k; never above ``overall``).
    """
    K, V = topic_word.shape
    if not 0 <= k < K:
        raise ConfigError(f"topic {k} does not exist; topics are 0 to {K - 1}")
    rel = relevance(topic_word[k:k + 1], lam, p_w)[0]
    n = min(n, V)
    top = np.argpartition(-rel, n - 1)[:n] if n < V else np.arange(V)
    top = top[np.lexsort((top, -rel[top]))]
    phi = topic_word[k, top]
    out = pd.DataFrame({"word": [vocab[j] for j in top], "relevance": rel[top], "p_w_k": phi,
                        "p_w": p_w[top], "lift": phi / np.clip(p_w[top], 1e-300, None)})
    if prevalence is not None and total_tokens is not None:
        out["overall"] = p_w[top] * total_tokens
        out["in_topic"] = phi * prevalence[k] * total_tokens
    return out


def classical_mds(distances: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) multidimensional scaling.

    Double-centres the squared distances, ``B = −½ J D² J``, and returns the top
    eigenvectors scaled by the square roots of their (non-negative) eigenvalues; for
    Euclidean distances the pairwise distances of the result equal the input. Each axis
    is flipped so that its largest coordinate is positive (a deterministic sign).

    Args:
        distances: (n, n) symmetric, zero diagonal.
        n_components: output dimensions.

    Returns:
        (n, n_components) float64 coordinates centred on the origin.
    """
    D = np.asarray(distances, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {D.shape}")
    n = D.shape[0]
    if n == 0:
        return np.zeros((0, n_components))
    D = 0.5 * (D + D.T)
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (D ** 2) @ J
    vals, vecs = np.linalg.eigh(B)
    order = np.argsort(vals)[::-1][:n_components]
    vals, vecs = np.clip(vals[order], 0.0, None), vecs[:, order]
    X = vecs * np.sqrt(vals)[None, :]
    if X.shape[1] < n_components:
        X = np.hstack([X, np.zeros((n, n_components - X.shape[1]))])
    for j in range(X.shape[1]):
        i = np.argmax(np.abs(X[:, j]))
        if X[i, j] < 0:
            X[:, j] = -X[:, j]
    return X


def intertopic_map(topic_word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (K, 2), Jensen–Shannon distances (K, K)) of the topics, by classical MDS."""
    from .evaluation import js_distance_matrix

    D = js_distance_matrix(topic_word, topic_word)
    np.fill_diagonal(D, 0.0)
    return classical_mds(D, 2), D


def representative_docs(doc_topic: np.ndarray, k: int, n: int = 5, rows: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the ``n`` documents with the highest θ_k (ties: lower row first).

    Args:
        doc_topic: (n_docs, K) θ.
        k: the topic.
        n: how many.
        rows: only consider these rows (e.g. those whose corpus text is available).
    """
    rows = np.arange(doc_topic.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return rows
    col = np.asarray(doc_topic[rows, k], dtype=np.float64)
    order = np.lexsort((rows, -col))[:n]
    return rows[order]


def topic_coherence(run: Run, corpus: Corpus | None, metrics: dict | None = None) -> tuple[np.ndarray | None, str]:
    """Per-topic NPMI of the run's top-10 words, and where it comes from.

    Uses ``npmi_per_topic`` from ``metrics.json`` when it has one value per topic;
    otherwise computes NPMI (:func:`topicvae.evaluation.npmi`) against the corpus's
    test split (the train split when there is no test split). Returns (None, reason)
    when neither is possible.
    """
    from .evaluation import npmi

    per_topic = (metrics or {}).get("npmi_per_topic")
    if isinstance(per_topic, list) and len(per_topic) == run.n_topics:
        values = np.array([np.nan if _number(v) is None else float(v) for v in per_topic])
        return values, f"NPMI on the {(metrics or {}).get('reference', 'reference')} split (metrics.json)"
    if corpus is None:
        return None, "coherence unavailable: the corpus is missing and the run is not evaluated"
    split = "test" if corpus.has_split("test") else "train"
    rows = corpus.split_rows(split)
    if len(rows) == 0 or corpus.n_words != run.topic_word.shape[1]:
        return None, "coherence unavailable: the corpus does not match the run's vocabulary"
    _, values = npmi(run.topic_word, corpus.bow[rows], top_n=10)
    return values, f"NPMI on the {split} split (computed here; `{cmd_evaluate(run.name)}` stores it)"


def topic_table(top_words: list[list[str]], labels: Sequence[str], prevalence: np.ndarray,
                coherence: np.ndarray | None = None) -> pd.DataFrame:
    """One row per topic: topic, label, prevalence, coherence (NPMI), top words."""
    out = pd.DataFrame({"topic": np.arange(len(labels)), "label": list(labels),
                        "prevalence": np.asarray(prevalence, dtype=np.float64),
                        "coherence": np.nan if coherence is None else np.asarray(coherence, dtype=np.float64),
                        "top words": [" ".join(w) for w in top_words]})
    return out


def topic_download_table(run: Run, labels: Sequence[str], prevalence: np.ndarray,
                         coherence: np.ndarray | None = None) -> pd.DataFrame:
    """The run's topic table (topic, rank, word, weight of the top 20 words) with label, prevalence, coherence."""
    t = run.topics.copy()
    t.insert(1, "label", [labels[k] for k in t["topic"]])
    t.insert(2, "prevalence", np.asarray(prevalence)[t["topic"].to_numpy()])
    if coherence is not None:
        t.insert(3, "coherence_npmi", np.asarray(coherence)[t["topic"].to_numpy()])
    return t


# ---------------------------------------------------------------------------- documents
def theta_entropy(theta: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row of θ; log K for a uniform mixture, 0 for a single topic."""
    p = np.clip(np.asarray(theta, dtype=np.float64), 1e-12, 1.0)
    p = p / p.sum(axis=-1, keepdims=True)
    return -(p * np.log(p)).sum(axis=-1)


def first_line(text, width: int = 100) -> str:
    """The first non-blank line of ``text``, cut to ``width`` characters (with an ellipsis)."""
    if not isinstance(text, str):
        return ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= width else line[: width - 1].rstrip() + "…"
    return ""




def document_title(text, width: int = 100) -> str:
    """A short title: the Subject of a mail or news post that starts with headers, else its first line."""
    if not isinstance(text, str):
        return ""
    lines = text.lstrip("\n").splitlines()
    if lines and HEADER_LINE.match(lines[0]):
        for line in lines[:60]:
            if not line.strip():
                break
            m = HEADER_LINE.match(line)
            if m and m.group(1).lower() == "subject" and m.group(2).strip():
                return first_line(m.group(2), width)
    return first_line(text, width)


def filter_documents(docs: pd.DataFrame, doc_topic: np.ndarray, topics: Sequence[int] | None = None,
                     labels: Sequence[str] | None = None, splits: Sequence[str] | None = None,
                     query: str | None = None) -> np.ndarray:
    """Boolean mask of the documents whose dominant topic, label and split are among those
    given (None or empty: any) and whose text contains ``query`` (case-insensitive)."""
    n = len(docs)
    if doc_topic.shape[0] != n:
        raise ValueError(f"document table has {n} rows but θ has {doc_topic.shape[0]}")
    mask = np.ones(n, dtype=bool)
    if topics:
        mask &= np.isin(np.asarray(doc_topic).argmax(axis=1), np.asarray(list(topics), dtype=np.int64))
    if labels and "label" in docs:
        mask &= docs["label"].astype(str).isin([str(x) for x in labels]).to_numpy()
    if splits and "split" in docs:
        mask &= docs["split"].astype(str).isin([str(x) for x in splits]).to_numpy()
    if query and query.strip() and "text" in docs:
        found = docs["text"].astype(str).str.contains(query.strip(), case=False, regex=False, na=False)
        mask &= found.to_numpy(dtype=bool)
    return mask


def sample_rows(rows: np.ndarray, max_points: int, seed: int = 0) -> np.ndarray:
    """At most ``max_points`` of ``rows``, a seeded random sample kept in row order."""
    rows = np.asarray(rows, dtype=np.int64)
    if max_points <= 0 or len(rows) <= max_points:
        return rows
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(rows, size=max_points, replace=False))


def nearest_documents(theta: np.ndarray, doc_topic: np.ndarray, n: int = 10,
                      metric: str = "js") -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` documents whose θ is closest to ``theta``.

    Args:
        theta: (K,) a topic mixture.
        doc_topic: (n_docs, K) the run's θ.
        n: how many.
        metric: ``js`` (Jensen–Shannon distance, base 2, in [0, 1]) or ``cosine`` (1 − cosine similarity).

    Returns:
        (row indices, distances), nearest first.
    """
    q = np.asarray(theta, dtype=np.float64).ravel()
    Q = np.asarray(doc_topic, dtype=np.float64)
    if Q.shape[1] != q.shape[0]:
        raise ValueError(f"theta has {q.shape[0]} topics but doc_topic has {Q.shape[1]}")
    if metric == "js":
        from .evaluation import js_distance_matrix

        d = js_distance_matrix(q[None, :], np.clip(Q, 0.0, None) + 1e-300)[0]
    elif metric == "cosine":
        norms = np.linalg.norm(Q, axis=1) * max(np.linalg.norm(q), 1e-300)
        d = 1.0 - (Q @ q) / np.clip(norms, 1e-300, None)
    else:
        raise ConfigError(f"unknown distance {metric!r}; use 'js' or 'cosine'")
    n = min(n, len(d))
    idx = np.lexsort((np.arange(len(d)), d))[:n]
    return idx, d[idx]


def infer_text(run: Run, text: str, corpora_dir: str | os.PathLike | None = None):
    """θ of one new text under ``run`` (:func:`topicvae.inference.infer_texts`), for pasted text.

    Mail headers are stripped only when the text starts with them
    (:func:`topicvae.text.preprocess.strip_headers`), so a pasted paragraph keeps its words.

    Returns:
        :class:`topicvae.inference.Inferred` for the single text.
    """
    from .inference import infer_texts

    return infer_texts(run, [text], corpora_dir=corpora_dir)


# ---------------------------------------------------------------------------- the document map
@dataclass
class DocMap:
    """2-D coordinates of every document of a run.

    Attributes:
        coords: (n_docs, 2) float32, corpus row order.
        meta: method ('umap' or 'pca'), source ('theta' or 'mu'), fingerprint of the
            source array, n_docs, seconds to compute, created.
        from_cache: True when read from the run folder rather than computed now.
    """

    coords: np.ndarray
    meta: dict = field(default_factory=dict)
    from_cache: bool = False


def umap_available() -> bool:
    import importlib

    try:
        importlib.import_module("umap")
    except Exception:  # ImportError, or a broken numba install
        return False
    return True


def _map_input(run: Run, source: str) -> tuple[np.ndarray, Path]:
    if source == "theta":
        X = run.doc_topic
        if X is None:
            raise RunError(f"run {run.name!r} has no {DOC_TOPIC_FILE}; train it again")
        # square roots of θ: Euclidean distance between them is the Hellinger distance
        return np.sqrt(np.clip(np.asarray(X, dtype=np.float64), 0.0, None)), run.path / DOC_TOPIC_FILE
    if source == "mu":
        X = run.z_mean
        if X is None:
            raise ConfigError(f"run {run.name!r} ({run.model_name}) has no posterior mean μ; map it by θ")
        X = np.asarray(X, dtype=np.float64)
        return (X - X.mean(axis=0)) / np.clip(X.std(axis=0), 1e-12, None), run.path / Z_MEAN_FILE
    raise ConfigError(f"unknown map source {source!r}; use one of {', '.join(MAP_SOURCES)}")


def embed_2d(X: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """(n, 2) embedding of the rows of ``X`` by ``umap`` or ``pca``."""
    n = X.shape[0]
    if n < 3 or X.shape[1] < 2:
        out = np.zeros((n, 2), dtype=np.float32)
        m = min(2, X.shape[1])
        out[:, :m] = X[:, :m]
        return out
    if method == "umap":
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, random_state=seed)
        return np.asarray(reducer.fit_transform(X), dtype=np.float32)
    if method == "pca":
        Xc = X - X.mean(axis=0, keepdims=True)
        # thin SVD of an (n, K) matrix with small K: exact and deterministic
        _, s, vt = np.linalg.svd(Xc, full_matrices=False)
        Y = Xc @ vt[:2].T
        for j in range(Y.shape[1]):
            i = np.argmax(np.abs(Y[:, j]))
            if Y[i, j] < 0:
                Y[:, j] = -Y[:, j]
        if Y.shape[1] < 2:
            Y = np.hstack([Y, np.zeros((n, 2 - Y.shape[1]))])
        return Y.astype(np.float32)
    raise ConfigError(f"unknown map method {method!r}; use one of {', '.join(MAP_METHODS)}")


def read_map_cache(run: Run, source: str = "theta", method: str = "auto") -> DocMap | None:
    """The cached map of ``run`` if it was made from the current source array (same sha256)."""
    meta_file, map_file = run.path / MAP_META_FILE, run.path / MAP_FILE
    if not meta_file.is_file() or not map_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text())
        coords = np.load(map_file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable document map cache of run %s: %s", run.name, exc)
        return None
    src_file = run.path / (DOC_TOPIC_FILE if source == "theta" else Z_MEAN_FILE)
    if meta.get("source") != source or (method != "auto" and meta.get("method") != method):
        return None
    if not src_file.is_file() or meta.get("source_sha256") != paths.sha256_file(src_file):
        return None
    if coords.shape != (meta.get("n_docs"), 2):
        return None
    return DocMap(coords=coords, meta=meta, from_cache=True)


def _atomic_write(folder: Path, fname: str, write) -> None:
    with paths.atomic_file(folder / fname) as tmp:
        write(tmp)


def document_map(run: Run, source: str = "theta", method: str = "auto", refresh: bool = False,
                 seed: int = 0) -> DocMap:
    """2-D map of the run's documents, computed once and cached in the run folder.

    The embedding is UMAP when the ``umap-learn`` package imports, else PCA, of √θ
    (so that distances are Hellinger distances between topic mixtures) or of the
    standardised posterior mean μ of the VAE. The result is written to
    ``doc_map.npy`` with ``doc_map.json`` (method, source, sha256 of the source array)
    by write-then-rename; a cache made from another version of the source array is
    ignored. A run folder that cannot be written is not an error: the map is then
    recomputed on the next call.

    Args:
        run: the run.
        source: ``theta`` or ``mu``.
        method: ``auto`` (UMAP if installed, else PCA, or whatever the cache holds), ``umap`` or ``pca``.
        refresh: recompute even when a cache exists.
        seed: UMAP's random state.
    """
    if method not in MAP_METHODS:
        raise ConfigError(f"unknown map method {method!r}; use one of {', '.join(MAP_METHODS)}")
    if source not in MAP_SOURCES:
        raise ConfigError(f"unknown map source {source!r}; use one of {', '.join(MAP_SOURCES)}")
    if not refresh:
        cached = read_map_cache(run, source, method)
        if cached is not None:
            return cached
    chosen = method if method != "auto" else ("umap" if umap_available() else "pca")
    if chosen == "umap" and not umap_available():
        raise ConfigError("UMAP is not installed (pip install umap-learn); use the PCA map")
    X, src_file = _map_input(run, source)
    t0 = time.perf_counter()
    coords = embed_2d(X, chosen, seed=seed)
    seconds = time.perf_counter() - t0
    meta = {"method": chosen, "source": source, "source_file": src_file.name,
            "source_sha256": paths.sha256_file(src_file), "n_docs": int(coords.shape[0]),
            "seconds": round(seconds, 3), "seed": seed,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        def write_coords(p: Path) -> None:
            with open(p, "wb") as f:
                np.save(f, coords, allow_pickle=False)

        # coordinates first, description last: a description always names complete coordinates
        _atomic_write(run.path, MAP_FILE, write_coords)
        _atomic_write(run.path, MAP_META_FILE, lambda p: p.write_text(json.dumps(meta, indent=1)))
    except OSError as exc:
        logger.warning("could not cache the document map in %s: %s", run.path, exc)
        meta["cache_error"] = str(exc)
    logger.info("document map of run %s: %s of %s for %d documents in %.1fs", run.name, chosen, source,
                coords.shape[0], seconds)
    return DocMap(coords=coords, meta=meta, from_cache=False)


# ---------------------------------------------------------------------------- trends
def prevalence_by_label(doc_topic: np.ndarray, labels: Sequence) -> pd.DataFrame:
    """Mean θ of the documents of each label: index label, one column per topic, plus ``n_docs``.

    Documents without a label are left out. Rows are sorted by ``n_docs``, largest first.
    """
    lab = pd.Series(list(labels), dtype=object)
    keep = lab.notna().to_numpy() & (lab.astype(str).str.strip() != "").to_numpy()
    if not keep.any():
        return pd.DataFrame(columns=[*range(doc_topic.shape[1]), "n_docs"])
    theta = pd.DataFrame(np.asarray(doc_topic, dtype=np.float64)[keep])
    theta["label"] = lab[keep].astype(str).to_numpy()
    g = theta.groupby("label", sort=True)
    out = g.mean()
    out["n_docs"] = g.size()
    return out.sort_values("n_docs", ascending=False, kind="stable")


def parse_dates(values: Sequence) -> pd.Series:
    """Document dates as naive UTC timestamps (NaT where missing or unparseable)."""
    s = pd.Series(list(values), dtype=object)
    parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None)


def pick_frequency(dates: pd.Series) -> str:
    """'Y', 'M', 'W' or 'D': a period that gives a readable number of points for the span of ``dates``."""
    d = dates.dropna()
    if d.empty:
        return "M"
    span = (d.max() - d.min()).days
    if span > 3 * 365:
        return "Y"
    if span > 90:
        return "M"
    if span > 21:
        return "W"
    return "D"


def prevalence_over_time(doc_topic: np.ndarray, dates: Sequence, freq: str = "auto") -> pd.DataFrame:
    """Mean θ per period: index = period start (Timestamp), one column per topic, plus ``n_docs``.

    Args:
        doc_topic: (n_docs, K) θ.
        dates: n_docs dates (strings or timestamps; missing or unparseable ones are left out).
        freq: ``auto`` (:func:`pick_frequency`), or a pandas period: ``Y``, ``Q``, ``M``, ``W``, ``D``.
    """
    parsed = parse_dates(dates)
    keep = parsed.notna().to_numpy()
    K = doc_topic.shape[1]
    if not keep.any():
        return pd.DataFrame(columns=[*range(K), "n_docs"])
    if freq == "auto":
        freq = pick_frequency(parsed)
    periods = parsed[keep].dt.to_period(freq).dt.start_time.to_numpy()
    theta = pd.DataFrame(np.asarray(doc_topic, dtype=np.float64)[keep])
    theta["period"] = periods
    g = theta.groupby("period", sort=True)
    out = g.mean()
    out["n_docs"] = g.size()
    out.index.name = "period"
    return out


def has_dates(docs: pd.DataFrame) -> bool:
    return "date" in docs and parse_dates(docs["date"]).notna().any()


# ---------------------------------------------------------------------------- comparing runs
def shared_vocabulary(tw_a: np.ndarray, vocab_a: Sequence[str], tw_b: np.ndarray,
                      vocab_b: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Both topic-word matrices over the union of the vocabularies (zeros for absent words)."""
    if list(vocab_a) == list(vocab_b):
        return tw_a, tw_b, list(vocab_a)
    union = list(dict.fromkeys([*vocab_a, *vocab_b]))
    index = {w: j for j, w in enumerate(union)}
    A = np.zeros((tw_a.shape[0], len(union)))
    B = np.zeros((tw_b.shape[0], len(union)))
    A[:, [index[w] for w in vocab_a]] = tw_a
    B[:, [index[w] for w in vocab_b]] = tw_b
    return A, B, union


def align_runs(run_a: Run, run_b: Run, labels_a: Sequence[str], labels_b: Sequence[str],
               n_words: int = 8) -> pd.DataFrame:
    """Topics of two runs matched one-to-one (:func:`topicvae.evaluation.align_topics`), closest first.

    Runs on different vocabularies are compared over the union of their words.
    Columns: topic_a, label_a, words_a, topic_b, label_b, words_b, js_distance, shared words.
    """
    from .evaluation import align_topics

    A, B, _ = shared_vocabulary(run_a.topic_word, run_a.vocab, run_b.topic_word, run_b.vocab)
    pairs, dist = align_topics(A, B)
    words_a, words_b = run_a.top_words(n_words), run_b.top_words(n_words)
    rows = []
    for (i, j), d in zip(pairs, dist):
        rows.append({"topic_a": i, "label_a": labels_a[i], "words_a": " ".join(words_a[i]),
                     "topic_b": j, "label_b": labels_b[j], "words_b": " ".join(words_b[j]),
                     "js_distance": float(d), "shared words": len(set(words_a[i]) & set(words_b[j]))})
    out = pd.DataFrame(rows)
    return out.sort_values(["js_distance", "topic_a"], kind="stable").reset_index(drop=True)
