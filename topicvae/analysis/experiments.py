"""Several runs at once: seed stability and sweeps over models and K."""

from __future__ import annotations

import logging
from typing import Sequence

import pandas as pd

from topicvae.analysis.compare import metrics_table
from topicvae.analysis.run_metrics import evaluate_run, reference_corpus
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError, RunError
from topicvae.runs import Run, check_training, default_run_name, model_class, train_run
from topicvae.scoring import metrics as evaluation

logger = logging.getLogger(__name__)


def _train_or_reuse(corpus: Corpus, model: str, k: int, name: str, runs_dir, force: bool, progress: bool,
                    params: dict) -> Run:
    """Train the run, or reuse a complete run of that name on the same corpus unless ``force``."""
    if not force:
        try:
            run = Run.load(name, runs_dir)
            if run.config.get("corpus_checksum") == corpus.checksum:
                logger.info("reusing run %s (pass force to train it again)", name)
                return run
        except RunError:
            pass
    return train_run(corpus, model, k, name=name, runs_dir=runs_dir, force=True, progress=progress, **params)


def stability_runs(corpus: Corpus, model: str, n_topics: int, seeds: Sequence[int], runs_dir=None,
                   force: bool = False, progress: bool = True, **params) -> tuple[float, list[Run]]:
    """Train one run per seed (``<corpus>-<model>-k<K>-seed<s>``) and return the mean
    aligned-topic similarity across seeds (:func:`topicvae.scoring.metrics.stability`: 1 − Jensen–Shannon
    distance of topics matched one-to-one, averaged over every pair of seeds) with the runs.

    Existing complete runs of those names are reused unless ``force``.
    """
    runs = []
    for s in seeds:
        name = f"{default_run_name(corpus.name, model, n_topics)}-seed{s}"
        runs.append(_train_or_reuse(corpus, model, n_topics, name, runs_dir, force, progress, {**params, "seed": s}))
    return evaluation.stability([r.topic_word for r in runs]), runs


def settings_for(model: str, params: dict) -> dict:
    """The subset of ``params`` that ``model`` takes (a sweep passes one set of flags to every model)."""
    names = set(model_class(model).param_names())
    return {k: v for k, v in params.items() if k in names}


def sweep(corpus: Corpus, models: Sequence[str], topics: Sequence[int], runs_dir=None, corpora_dir=None,
          reference: str = "test", force: bool = False, progress: bool = True, with_c_v: bool = False,
          **params) -> pd.DataFrame:
    """Train and evaluate every (model, K); one metrics row per run.

    ``params`` go to each model that takes them (``epochs`` to the VAEs, ``passes`` to LDA).
    Every setting is checked (:func:`check_sweep`) before the first run is trained.
    """
    check_sweep(corpus, models, topics, params, reference, corpora_dir)
    rows = []
    for model in models:
        for k in topics:
            run = _train_or_reuse(corpus, model, k, default_run_name(corpus.name, model, k), runs_dir, force,
                                  progress, settings_for(model, params))
            rows.append(evaluate_run(run, reference=reference, corpora_dir=corpora_dir, with_c_v=with_c_v))
    return metrics_table(rows)


def check_sweep(corpus: Corpus, models: Sequence[str], topics: Sequence[int], params: dict, reference: str = "test",
                corpora_dir=None) -> None:
    """:class:`ConfigError` (one line) for the first setting of a sweep that cannot work: no model or no K,
    an unknown model, a K out of range, a setting a model refuses, an unknown reference corpus. Checked
    before anything is trained or written, so a bad sweep leaves nothing behind, not even its first runs."""
    if not models:
        raise ConfigError("a sweep needs at least one model, e.g. --models prodlda,lda")
    if not topics:
        raise ConfigError("a sweep needs at least one number of topics, e.g. --topics 10,20,50")
    for model in models:
        for k in topics:
            check_training(corpus, model, k, settings_for(model, params))
    reference_corpus(reference, corpora_dir)
