"""Merging a run's topics into a new run: ``topicvae merge`` (the topics a person names) and
``topicvae reduce`` (the closest topics, down to a number of topics), and the topic hierarchy
the dashboard draws.

Both write a new, complete run beside the source, which is only read:

1. the groups: each new topic is a group of old ones (the others stay alone), numbered in
   the order of their smallest old topic, so topics that are not merged keep their order;
2. the model: :meth:`topicvae.models.base.TopicModel.merged` builds a model of fewer topics from
   the fitted one (for ProdLDA and GSM: θ of a merged topic is the sum of its parts' θ and its
   decoder column their least-squares blend, see :mod:`topicvae.models.vae.merge_network`; for LDA its
   variational parameters and α are its parts' summed);
3. a short fine-tune (``epochs``, :data:`FINE_TUNE_EPOCHS` by default) on the run's training
   documents through :func:`topicvae.runs.train_run` (``start_from``), which writes the run. By
   default it trains the encoder and the background only and leaves the merged topics as the
   merge made them (``train_topics=True`` trains them too): measured on 20 Newsgroups, training
   the topics as well lowers the perplexity bound a little more but costs the merged topics
   diversity and NPMI (docs/merge.md). LDA has nothing to fit with its topics fixed (it infers each
   document's θ from them, with no encoder): it is written as merged, and ``train_topics`` trains it on for ``epochs``
   passes. ``config.json`` records ``derived_from`` (the source run),
   ``lineage`` (for each new topic, the old topics it came from) and ``merge`` (how);
4. labels: the names a person saved for the old topics carry over; a merged topic gets its
   parts' names joined with " + ".

The hierarchy (:func:`topic_hierarchy`) is the agglomerative clustering of the topics' word
distributions by Jensen–Shannon distance (the distance ``topicvae compare`` uses), after two
choices that measurement forced (20 Newsgroups, ProdLDA K = 50; docs/merge.md):

- the distributions are first tempered to a common entropy (:func:`comparable_topics`). Topics
  differ far more in how peaked they are than in which words they favour: on the raw rows the
  19 most peaked topics were at distance 0.9-1 from everything and the 31 flattest within 0.2-0.6
  of each other, so every linkage method merged the flat topics, whatever their words, into one
  group of 23-31 before joining anything else;
- Ward's linkage: the Jensen–Shannon distance is a Hilbertian metric (it embeds isometrically in
  a Hilbert space, Fuglede & Topsøe 2004), so Ward's minimum-variance criterion is defined on it,
  and it keeps groups of comparable size (at K = 20: groups of 1-5 topics, each one theme:
  hockey, baseball, space, Christianity, the Middle East, PC hardware, X11 and graphics files...)
  where average linkage still left one group of 10.

``reduce`` cuts the hierarchy at the number of topics asked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from topicvae import paths
from topicvae.errors import ConfigError, RunError
from topicvae.runs import NOTHING, Run, checked_train_rows, discard_run, run_state, train_run
from topicvae.runs.labels import carry_labels
from topicvae.runs.workspace import run_corpus
from topicvae.scoring import metrics as evaluation

logger = logging.getLogger(__name__)

#: epochs of training after a merge: measured on 20 Newsgroups (docs/merge.md)
FINE_TUNE_EPOCHS = 5


# ---------------------------------------------------------------------------- the hierarchy
@dataclass
class Hierarchy:
    """The agglomerative merges of a run's topics.

    Attributes:
        linkage: scipy's linkage matrix (K − 1, 4): row i merges clusters ``linkage[i, 0]`` and
            ``linkage[i, 1]`` (ids below K are topics, K + j the cluster of row j) at height
            ``linkage[i, 2]`` (Ward's merge cost, in Jensen–Shannon distance; for two single topics
            their distance), into a cluster of ``linkage[i, 3]`` topics.
        distances: the (K, K) Jensen–Shannon distances between the topics at a common entropy.
    """

    linkage: np.ndarray
    distances: np.ndarray

    @property
    def n_topics(self) -> int:
        return self.distances.shape[0]

    def groups(self, n_topics: int) -> list[list[int]]:
        """The topics in ``n_topics`` groups: the hierarchy cut after its first K − n_topics merges."""
        from scipy.cluster.hierarchy import cut_tree

        labels = cut_tree(self.linkage, n_clusters=n_topics)[:, 0]
        return normalise_groups([np.flatnonzero(labels == c).tolist() for c in np.unique(labels)], self.n_topics)

    def merges(self) -> list[tuple[list[int], list[int], float]]:
        """The merges in order: (topics of one side, topics of the other, height)."""
        members = {k: [k] for k in range(self.n_topics)}
        out = []
        for i, (a, b, dist, _) in enumerate(self.linkage):
            left, right = members.pop(int(a)), members.pop(int(b))
            members[self.n_topics + i] = sorted(left + right)
            out.append((left, right, float(dist)))
        return out


def topic_hierarchy(run: Run) -> Hierarchy:
    """Ward's agglomerative clustering of ``run``'s topics by the Jensen–Shannon distance of their
    word distributions at a common entropy (:func:`comparable_topics`; see the module's docstring)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    tw = run.topic_word
    rows = comparable_topics(tw[:, tw.max(axis=0) > 0])  # (words no topic has change no distance)
    dist = evaluation.js_distance_matrix(rows, rows)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    return Hierarchy(linkage(squareform(dist, checks=False), method="ward"), dist)


def comparable_topics(topic_word: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Each row of ``topic_word`` raised to the power γ_k (and renormalised) that gives it the median
    entropy of the rows: the words keep their order within a topic, and topics are compared by
    which words they favour rather than by how peaked they are. γ_k is found by bisection on log γ
    (30 halvings of [−7, 7]: log γ to 1e-8)."""
    logp = np.log(np.clip(np.asarray(topic_word, dtype=np.float64), 1e-300, None))
    logp -= logp.max(axis=1, keepdims=True)

    def tempered(gamma):
        q = np.exp(gamma[:, None] * logp)
        return q / q.sum(axis=1, keepdims=True)

    def entropy(q):
        return -(q * np.log(np.clip(q, 1e-300, None))).sum(axis=1)

    target = np.median(entropy(tempered(np.ones(len(logp)))))
    lo, hi = np.full(len(logp), -7.0), np.full(len(logp), 7.0)  # log γ from e^-7 to e^7
    for _ in range(iterations):
        mid = (lo + hi) / 2
        flatter = entropy(tempered(np.exp(mid))) > target  # too flat: sharpen (raise γ)
        lo, hi = np.where(flatter, mid, lo), np.where(flatter, hi, mid)
    return tempered(np.exp((lo + hi) / 2))


# ---------------------------------------------------------------------------- groups
def normalise_groups(groups: Sequence[Sequence[int]], n_topics: int) -> list[list[int]]:
    """``groups`` (lists of topic ids to merge) completed into a partition of 0..K−1: every topic
    not named stands alone; groups ordered by their smallest topic, topics within a group sorted.

    Raises:
        ConfigError: an id that is not a topic, a topic named twice, a group of one topic, or
            a result of fewer than 2 topics.
    """
    seen: set[int] = set()
    out = []
    for group in groups:
        ids = [int(k) for k in group]
        bad = [k for k in ids if not 0 <= k < n_topics]
        if bad:
            raise ConfigError(f"no topic {bad[0]} in this run: topics are numbered 0 to {n_topics - 1} "
                              "(see: topicvae topics RUN)")
        twice = sorted({k for k in ids if ids.count(k) > 1} | (set(ids) & seen))
        if twice:
            raise ConfigError(f"topic {twice[0]} is named more than once; name each topic in one group only")
        seen.update(ids)
        out.append(sorted(ids))
    out += [[k] for k in range(n_topics) if k not in seen]
    if len(out) < 2:
        raise ConfigError(f"merging these topics would leave {len(out)} topic; a run needs at least 2")
    return sorted(out, key=lambda g: g[0])


def merge_groups(groups: Sequence[Sequence[int]], n_topics: int) -> list[list[int]]:
    """The partition for ``topicvae merge``: :func:`normalise_groups` after checking that every
    group names at least two topics."""
    if not groups:
        raise ConfigError("name the topics to merge, e.g. 3,7")
    for group in groups:
        if len(set(int(k) for k in group)) < 2:
            named = ",".join(map(str, group))
            twice = f"topic {group[0]} is named more than once in {named}" if len(group) > 1 else f"got {named}"
            raise ConfigError(f"a merge needs at least two different topics ({twice}); name two or more, e.g. 3,7")
    return normalise_groups(groups, n_topics)


def parse_groups(texts: Sequence[str]) -> list[list[int]]:
    """``["3,7", "1,2,5"]`` → ``[[3, 7], [1, 2, 5]]``; :class:`ConfigError` for anything but integers."""
    out = []
    for text in texts:
        try:
            out.append([int(x) for x in text.split(",") if x.strip()])
        except ValueError:
            raise ConfigError(f"topics to merge are comma-separated topic numbers such as 3,7; got {text!r}") from None
    return out


# ---------------------------------------------------------------------------- new runs
def merge_topics(run: Run, groups: Sequence[Sequence[int]], name: str | None = None,
                 runs_dir: str | Path | None = None, corpora_dir: str | Path | None = None,
                 epochs: int = FINE_TUNE_EPOCHS, train_topics: bool = False, progress: bool = False,
                 **params) -> Run:
    """A new run in which each of ``groups`` (lists of two or more topic ids of ``run``) is one topic.

    Args:
        run: the source run (only read).
        groups: the topics to merge, e.g. ``[[3, 7]]``; topics not named stay as they are.
        name: the new run's name (default ``<run>-merged``).
        runs_dir: where the new run goes (default: the source run's folder).
        corpora_dir: where the run's corpus is.
        epochs: epochs of training after the merge (at least 1).
        train_topics: let that training change the merged topics too (default: only the encoder
            and the background learn, the topics stay as merged).
        progress: show the training progress bar.
        **params: other model settings for the fine-tune (e.g. ``threads=1``); ``train_rows`` (the
            corpus rows the merged network is fitted and fine-tuned on, default its 'train' split)
            as :func:`topicvae.runs.train_run` takes it.

    Raises:
        ConfigError: bad groups, a model that cannot merge (NVDM, seeded runs), a bad setting.
        RunError: the new name is taken, the corpus is gone or changed.
    """
    partition = merge_groups(groups, run.n_topics)
    return derive_run(run, partition, name or f"{run.name}-merged", runs_dir, corpora_dir, epochs, train_topics,
                      progress, params, how="merge")


def reduce_topics(run: Run, n_topics: int, name: str | None = None, runs_dir: str | Path | None = None,
                  corpora_dir: str | Path | None = None, epochs: int = FINE_TUNE_EPOCHS, train_topics: bool = False,
                  progress: bool = False, **params) -> Run:
    """A new run of ``n_topics`` topics: ``run``'s closest topics merged (:func:`topic_hierarchy`
    cut at ``n_topics``). Arguments as :func:`merge_topics`; the default name is ``<run>-k<n_topics>``.

    Raises:
        ConfigError: ``n_topics`` not from 2 to K − 1, a model that cannot merge, a bad setting.
        RunError: the new name is taken, the corpus is gone or changed.
    """
    if isinstance(n_topics, bool) or not isinstance(n_topics, (int, np.integer)) or not 2 <= n_topics < run.n_topics:
        raise ConfigError(f"reduce needs fewer topics than the run's {run.n_topics} and at least 2, "
                          f"got {n_topics!r}; e.g. --topics {max(2, run.n_topics // 2)}")
    partition = topic_hierarchy(run).groups(int(n_topics))
    return derive_run(run, partition, name or f"{run.name}-k{n_topics}", runs_dir, corpora_dir, epochs,
                      train_topics, progress, params, how="reduce")


def derive_run(run: Run, partition: list[list[int]], name: str, runs_dir, corpora_dir, epochs: int,
               train_topics: bool, progress: bool, params: dict, how: str) -> Run:
    """Write the run of ``partition`` (a partition of ``run``'s topics, :func:`normalise_groups`' order)."""
    root = paths.runs_dir(run.path.parent if runs_dir is None else runs_dir)
    _check_new_name(name, root, run)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ConfigError(f"the fine-tune needs at least 1 epoch, got {epochs!r}")
    corpus = run_corpus(run, corpora_dir)
    logger.info("%s: run %s's %d topics into %d as run %s", how, run.name, run.n_topics, len(partition), name)
    rows = checked_train_rows(corpus, params.get("train_rows"))
    merged = run.model.merged(partition, corpus.rows(rows), fixed_topics=not train_topics)
    tuned = _fine_tuned(type(merged).fixed_topics_fit, train_topics)
    extra = {"derived_from": run.name, "lineage": partition,
             "merge": {"how": how, "from_topics": run.n_topics, "fine_tune_epochs": int(epochs) if tuned else 0,
                       "fine_tuned": tuned or "nothing"}}
    new = train_run(corpus, run.model_name, len(partition), name=name, runs_dir=root, start_from=merged,
                    config_extra=extra, progress=progress, **{merged.epochs_setting: int(epochs)}, **params)
    logger.info("run %s: the merged network trained on for %d epoch(s)", name, int(epochs))
    try:
        carry_labels(run.path, new.path, partition)
    except BaseException:  # (a full disk): no run without its labels, and the name stays free for a retry
        discard_run(new)
        raise
    return new


def _fine_tuned(fixed_topics_fit: str | None, train_topics: bool) -> str | None:
    """What the fine-tune trains: the part the model fits with fixed topics ("encoder"), and the topics
    with ``train_topics``; None when nothing (LDA with fixed topics)."""
    if train_topics:
        return "topics" if fixed_topics_fit is None else f"{fixed_topics_fit} and topics"
    return fixed_topics_fit


def _check_new_name(name: str, root: Path, source: Run) -> None:
    """Refuse, before any work, a new name that is unsafe, the source's own, or taken."""
    paths.check_name(name, "run name")
    if root.resolve() / name == source.path.resolve():
        raise RunError(f"the new run cannot replace its source {source.name!r}; choose another --name")
    if run_state(root, name) != NOTHING:
        raise RunError(f"run {name!r} already exists in {root}; choose another --name")


def lineage(run: Run) -> list[list[int]] | None:
    """For each topic of a merged or reduced run, the topics of its source it came from (None otherwise)."""
    value = run.config.get("lineage")
    return [list(map(int, g)) for g in value] if isinstance(value, list) else None


def format_merge(new: Run, source: Run, n_words: int = 8) -> str:
    """What ``topicvae merge`` / ``reduce`` print: the new run, then each topic with the old ones it came from."""
    groups = lineage(new) or [[k] for k in range(new.n_topics)]
    seconds = new.config.get("fit_seconds") or 0.0
    tuned = (new.config.get("merge") or {}).get("fine_tuned", "model")
    how = "no fine-tuning (none needed)" if tuned == "nothing" else \
        f"{new.config.get('epochs')} epochs of fine-tuning the {tuned}"
    head = (f"run {new.name!r}: {new.model_name}, {new.n_topics} topics from the {source.n_topics} of "
            f"{source.name!r}, {how}, {seconds:.1f} s -> {new.path}")
    width = max(len(str(new.n_topics - 1)), len("new"))
    origin_width = max(len("from"), *(len("+".join(map(str, g))) for g in groups))
    lines = [head, f"{'new':>{width}}  {'from':<{origin_width}}  top words"]
    for k, (words, g) in enumerate(zip(new.top_words(n_words), groups)):
        lines.append(f"{k:>{width}}  {'+'.join(map(str, g)):<{origin_width}}  {' '.join(words)}")
    return "\n".join(lines)
