"""Topics of one run: prevalence, LDAvis relevance, the intertopic map, coherence, topic tables.

- :func:`relevance` ranks a topic's words as LDAvis does (Sievert & Shirley 2014).
- :func:`intertopic_map` places topics in 2-D by classical MDS of their Jensen–Shannon distances.
- :func:`topic_word_ids` and :func:`represented_words`: each topic's words in a representation
  (:mod:`topicvae.scoring.representation`), from the run's own topics and its training documents.
- :func:`labelled_topics` is the topic table with labels that ``topicvae export
  --topics-out``, the quickstart and the dashboard's download all write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from topicvae.analysis import documents
from topicvae.analysis.command_lines import evaluate_command
from topicvae.analysis.run_metrics import number
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError
from topicvae.runs import DOC_TOPIC_FILE, Run
from topicvae.scoring import representation as representations


# ---------------------------------------------------------------------------- prevalence and relevance
def topic_prevalence(doc_topic: np.ndarray, doc_lengths: np.ndarray | None = None,
                     block: int = 65_536) -> np.ndarray:
    """Share of the corpus in each topic: θ averaged over documents, weighted by length when given.

    θ is read ``block`` rows at a time, so a memory-mapped θ of any size is summed in little memory.

    Args:
        doc_topic: (n_docs, K) θ (a memory-mapped array too).
        doc_lengths: (n_docs,) tokens per document (LDAvis weights by length), or None.

    Returns:
        (K,) float64 summing to 1.
    """
    from topicvae.runs import weighted_row_sum

    if doc_topic.ndim != 2 or doc_topic.shape[0] == 0:
        raise ValueError(f"doc_topic must be a non-empty (n_docs, K) array, got shape {doc_topic.shape}")
    n = doc_topic.shape[0]
    w = np.ones(n) if doc_lengths is None else np.asarray(doc_lengths, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"doc_lengths has shape {w.shape}, expected ({n},)")
    if w.sum() <= 0:
        w = np.ones(n)
    p = weighted_row_sum(doc_topic, w, block=block)
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
    return representations.relevance_scores(topic_word, p_w, lam)


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


# ---------------------------------------------------------------------------- the intertopic map
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
    return flip_to_positive(X)


def flip_to_positive(X: np.ndarray) -> np.ndarray:
    """``X`` with each column's sign flipped, in place, so that its largest-magnitude entry is positive.

    Eigenvectors and singular vectors have no sign of their own; fixing it keeps maps from
    mirroring between runs of the same data.
    """
    for j in range(X.shape[1]):
        i = np.argmax(np.abs(X[:, j]))
        if X[i, j] < 0:
            X[:, j] = -X[:, j]
    return X


def intertopic_map(topic_word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (K, 2), Jensen–Shannon distances (K, K)) of the topics, by classical MDS."""
    from topicvae.scoring.metrics import js_distance_matrix

    D = js_distance_matrix(topic_word, topic_word)
    np.fill_diagonal(D, 0.0)
    return classical_mds(D, 2), D


@dataclass
class TopicView:
    """What the topic pages need about a run, computed once per run version."""

    prevalence: np.ndarray  # (K,)
    p_w: np.ndarray  # (V,)
    total_tokens: float
    coords: np.ndarray  # (K, 2)
    distances: np.ndarray  # (K, K)
    weighted: bool  # prevalence weighted by document length


def topic_view(run: Run, corpus: Corpus | None) -> TopicView:
    """Prevalence (weighted by document length when the corpus matches the run), p(w) and the intertopic map."""
    theta = run.array(DOC_TOPIC_FILE, mmap_mode="r")  # (summed a block at a time)
    lengths = None
    if corpus is not None and corpus.n_docs == theta.shape[0]:
        lengths = corpus.document_lengths()
    prevalence = topic_prevalence(theta, lengths)
    coords, dist = intertopic_map(run.topic_word)
    total = float(lengths.sum()) if lengths is not None else float(theta.shape[0])
    return TopicView(prevalence=prevalence, p_w=word_marginal(run.topic_word, prevalence),
                     total_tokens=total, coords=coords, distances=dist, weighted=lengths is not None)


# ---------------------------------------------------------------------------- documents and coherence of a topic
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


def topic_coherence(run: Run, corpus: Corpus | None, metrics: dict | None = None,
                    representation: str = representations.DEFAULT,
                    word_ids: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
    """Per-topic NPMI of the run's first 10 words in ``representation`` (``word_ids``, (K, ≥10), when the
    caller has them already), and where it comes from.

    Uses ``npmi_per_topic`` from ``metrics.json`` when it has one value per topic and was measured
    in that representation; otherwise computes NPMI (:func:`topicvae.scoring.metrics.npmi`) against the
    corpus's test split (the train split when there is no test split). Returns (None, reason)
    when neither is possible.
    """
    from topicvae.scoring.metrics import npmi

    per_topic = (metrics or {}).get("npmi_per_topic")
    same = (metrics or {}).get("representation") == representation
    if same and isinstance(per_topic, list) and len(per_topic) == run.n_topics:
        values = np.array([np.nan if number(v) is None else float(v) for v in per_topic])
        return values, f"NPMI on the {(metrics or {}).get('reference', 'reference')} split (metrics.json)"
    if corpus is None:
        return None, "coherence unavailable: the corpus is missing and the run is not evaluated"
    split = "test" if corpus.has_split("test") else "train"
    rows = corpus.split_rows(split)
    if len(rows) == 0 or corpus.n_words != run.topic_word.shape[1]:
        return None, "coherence unavailable: the corpus does not match the run's vocabulary"
    sample = documents.shard_sample(rows, corpus)
    ids = topic_word_ids(run, corpus, representation, 10) if word_ids is None else np.asarray(word_ids)[:, :10]
    _, values = npmi(list(ids), corpus.rows(sample), top_n=10)
    where = f"the {split} split" if len(sample) == len(rows) else \
        f"a random sample of {len(sample):,} of the {len(rows):,} documents of the {split} split"
    return values, f"NPMI on {where} (computed here; `{evaluate_command(run.name)}` stores it)"


# ---------------------------------------------------------------------------- representations
def representation_documents(run: Run, corpus: Corpus | None):
    """The documents ``run`` trained on (its corpus's train split, as a row source:
    :meth:`topicvae.corpus.Corpus.rows`, a shard at a time for a sharded corpus), or None without a
    corpus that matches the run's vocabulary. Above :data:`topicvae.analysis.documents.SAMPLE_DOCS` a seeded
    sample of them (:func:`topicvae.analysis.documents.shard_sample`), so that the representations' counts
    take a pass over at most that many documents in a bounded number of shards, whatever the corpus's size."""
    if corpus is None or corpus.n_words != run.topic_word.shape[1]:
        return None
    rows = documents.shard_sample(corpus.split_rows("train"), corpus)
    return corpus.rows(rows) if isinstance(corpus, Corpus) else corpus.bow[rows]  # (or a stand-in's matrix)


def readable_representation(representation: str, corpus: Corpus | None) -> str:
    """``representation``, or ``probability`` when it needs the training documents and the run's corpus
    is not there (``corpus`` None); the caller says which it used."""
    representations.check_method(representation)
    return "probability" if corpus is None and representations.needs_documents(representation) else representation


def topic_word_ids(run: Run, corpus: Corpus | None, representation: str = representations.DEFAULT,
                   n: int = 10) -> np.ndarray:
    """Each topic's ``n`` words in ``representation``: int (K, n) ids, from the run's own topics
    (``topic_word.npy``) and, where the corpus is there, the documents it trained on."""
    representations.check_method(representation)
    X_train = representation_documents(run, corpus)
    if X_train is None and representations.needs_documents(representation):
        raise ConfigError(f"the {representation} representation needs the documents run {run.name!r} trained on, "
                          f"and its corpus {run.config.get('corpus')!r} is not there; use --representation probability")
    return representations.top_words(run.topic_word, X_train, representation, n)


def represented_words(run: Run, corpus: Corpus | None, representation: str = representations.DEFAULT,
                      n: int = 10) -> list[list[str]]:
    """:func:`topic_word_ids` as words."""
    return [[run.vocab[j] for j in row] for row in topic_word_ids(run, corpus, representation, n)]


# ---------------------------------------------------------------------------- tables
def topic_table(top_words: list[list[str]], labels: Sequence[str], prevalence: np.ndarray,
                coherence: np.ndarray | None = None) -> pd.DataFrame:
    """One row per topic: topic, label, prevalence, coherence (NPMI), top words."""
    return pd.DataFrame({"topic": np.arange(len(labels)), "label": list(labels),
                         "prevalence": np.asarray(prevalence, dtype=np.float64),
                         "coherence": np.nan if coherence is None else np.asarray(coherence, dtype=np.float64),
                         "top words": [" ".join(w) for w in top_words]})


def labelled_topics(run: Run, labels: Sequence[str], prevalence: np.ndarray | None = None,
                    coherence: np.ndarray | None = None, corpus: Corpus | None = None,
                    representation: str = representations.DEFAULT, n: int = 20,
                    word_ids: np.ndarray | None = None) -> pd.DataFrame:
    """The run's topic table: topic, label, representation, rank (in that representation), word and
    weight (the model's own p(w | topic)) of each topic's ``n`` first words, with its prevalence and
    coherence (``coherence_npmi``) when given. ``corpus``: the run's corpus (needed by the
    representations that read the training documents); ``word_ids``: the words in that representation,
    (K, ≥ n), when the caller has them already."""
    ids = topic_word_ids(run, corpus, representation, n) if word_ids is None else np.asarray(word_ids)[:, :n]
    K, n = ids.shape
    k = np.repeat(np.arange(K), n)
    t = pd.DataFrame({"topic": k, "representation": representation, "rank": np.tile(np.arange(1, n + 1), K),
                      "word": [run.vocab[j] for j in ids.ravel()], "weight": run.topic_word[k, ids.ravel()]})
    t.insert(1, "label", [labels[i] for i in k])
    if prevalence is not None:
        t.insert(2, "prevalence", np.asarray(prevalence)[k])
    if coherence is not None:
        t.insert(2 + (prevalence is not None), "coherence_npmi", np.asarray(coherence)[k])
    return t
