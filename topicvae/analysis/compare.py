"""Several runs side by side: their metrics in one table, and the topics of two runs matched one-to-one."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from topicvae.analysis.run_metrics import METRIC_NAMES, number, read_metrics
from topicvae.errors import ConfigError
from topicvae.scoring import metrics as evaluation

#: the columns of :func:`metrics_table` (metrics.json keys), in order
TABLE_COLUMNS = ["run", "model", "n_topics", "corpus", "reference", *METRIC_NAMES]

#: the settings rows of :func:`side_by_side`, with their display names
SETTING_NAMES = {"model": "model", "corpus": "corpus", "n_topics": "topics (K)", "epochs": "epochs",
                 "fit_seconds": "fit s", "reference": "metrics reference"}

#: how :func:`align_runs` treats two runs whose vocabularies differ
VOCABULARY_POLICIES = ("same", "union")


# ---------------------------------------------------------------------------- metrics
def metrics_table(rows: list[dict], columns: Sequence[str] = TABLE_COLUMNS) -> pd.DataFrame:
    """One row per run (one metrics dict each, as :func:`topicvae.analysis.run_metrics.evaluate_run`
    returns): the ``columns`` (default run, model, K, corpus, reference and the metrics), None where absent."""
    cols = list(columns)
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def _run_record(run, metrics: dict | None = None) -> dict:
    """The run's metrics.json (or ``metrics``, already read) with its settings from config.json (``reference``
    says when it is not evaluated)."""
    m = (read_metrics(run) if metrics is None else metrics) or {}
    return {**m, "run": run.name, "model": run.model_name, "corpus": run.config.get("corpus"),
            "n_topics": run.n_topics, "epochs": run.config.get("epochs"),
            "fit_seconds": number(run.config.get("fit_seconds")),
            "reference": m.get("reference") if m else "not evaluated"}


def side_by_side(runs: Sequence, metrics: Sequence[dict | None] | None = None) -> pd.DataFrame:
    """:func:`metrics_table` of ``runs`` turned for reading across: rows are the settings and
    metrics (display names), columns the runs; metrics to 4 decimals, missing values None.
    ``metrics``: each run's metrics as the caller read them ({} or None: not evaluated); None: read here.

    Raises:
        RunError: a run's metrics.json is damaged (:func:`topicvae.analysis.run_metrics.read_metrics`).
    """
    records = [_run_record(r) if metrics is None else _run_record(r, m or {}) for r, m in
               zip(runs, metrics if metrics is not None else [None] * len(runs))]
    table = metrics_table(records, ["run", *SETTING_NAMES, *METRIC_NAMES])
    for key in METRIC_NAMES:
        table[key] = [None if number(v) is None else round(number(v), 4) for v in table[key]]
    table = table.set_index("run").rename(columns={**SETTING_NAMES, **METRIC_NAMES}).T
    table.columns.name = None
    return table.astype(object).where(lambda d: d.notna(), None)


# ---------------------------------------------------------------------------- topics
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


def _topic_words(run_a, run_b, vocabulary: str) -> tuple[np.ndarray, np.ndarray]:
    """The two topic-word matrices over one vocabulary, as the ``vocabulary`` policy says."""
    if vocabulary not in VOCABULARY_POLICIES:
        raise ConfigError(f"unknown vocabulary policy {vocabulary!r}; use one of {', '.join(VOCABULARY_POLICIES)}")
    if run_a.vocab == run_b.vocab:
        return run_a.topic_word, run_b.topic_word
    if vocabulary == "same":
        raise ConfigError(f"runs {run_a.name!r} and {run_b.name!r} have different vocabularies, "
                          "so their topics cannot be aligned (metrics can still be compared); "
                          "the dashboard's Compare page aligns them over the union of their vocabularies "
                          "(align_runs(..., vocabulary=\"union\") from Python)")
    A, B, _ = shared_vocabulary(run_a.topic_word, run_a.vocab, run_b.topic_word, run_b.vocab)
    return A, B


def align_runs(run_a, run_b, n_words: int = 8, vocabulary: str = "same",
               labels: tuple[Sequence[str], Sequence[str]] | None = None,
               words: tuple[Sequence[Sequence[str]], Sequence[Sequence[str]]] | None = None) -> pd.DataFrame:
    """Topics of two runs matched one-to-one (Hungarian on Jensen–Shannon distance,
    :func:`topicvae.scoring.metrics.align_topics`), closest first.

    Args:
        run_a, run_b: :class:`topicvae.runs.Run`.
        n_words: top words shown per topic.
        vocabulary: what to do when the runs' vocabularies differ. ``same`` (the default of
            ``topicvae compare``) refuses with :class:`ConfigError`, since the topic-word
            distributions then live in different spaces; ``union`` (the dashboard) compares
            them over the union of their words, each topic giving zero weight to the other's words.
        labels: (labels of run_a, labels of run_b) to add ``label_a``, ``label_b`` and
            ``shared words`` (how many of the top ``n_words`` the two topics share).
        words: (words of run_a, words of run_b): each topic's words in the order a representation
            ranks them (:func:`topicvae.analysis.topics.represented_words`), of which the first
            ``n_words`` are shown; None: each run's most probable words (``probability``). The
            matching itself is on the topics' distributions, whatever the words shown.

    Returns:
        Columns topic_a, [label_a], words_a, topic_b, [label_b], words_b, js_distance
        (4 decimals), [shared words].
    """
    A, B = _topic_words(run_a, run_b, vocabulary)
    pairs, dist = evaluation.align_topics(A, B)
    if words is None:
        wa, wb = run_a.top_words(n_words), run_b.top_words(n_words)
    else:
        wa, wb = ([list(w[:n_words]) for w in ws] for ws in words)
    la, lb = labels if labels is not None else ([None] * len(wa), [None] * len(wb))
    rows = [{"topic_a": i, "label_a": la[i], "words_a": " ".join(wa[i]),
             "topic_b": j, "label_b": lb[j], "words_b": " ".join(wb[j]),
             "js_distance": round(float(d), 4), "shared words": len(set(wa[i]) & set(wb[j]))}
            for (i, j), d in zip(pairs, dist)]
    out = pd.DataFrame(rows, columns=["topic_a", "label_a", "words_a", "topic_b", "label_b", "words_b",
                                      "js_distance", "shared words"])
    if labels is None:
        out = out.drop(columns=["label_a", "label_b", "shared words"])
    return out.sort_values(["js_distance", "topic_a"], kind="stable").reset_index(drop=True)
