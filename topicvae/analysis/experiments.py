"""Several runs at once: seed stability and sweeps over models and K."""

from __future__ import annotations

import json
import logging
from typing import Sequence

import pandas as pd

from topicvae.analysis.compare import metrics_table
from topicvae.analysis.run_metrics import evaluate_run, read_metrics, reference_corpus
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError, RunError
from topicvae.runs import Run, check_training, default_run_name, model_class, train_run
from topicvae.scoring import metrics as evaluation

logger = logging.getLogger(__name__)


#: settings of how a run is trained rather than of the model asked for: a run is reused whatever they were
#: (they change its numbers in the last digits, not what it learns)
HOW_NOT_WHAT = ("threads", "device")


def _plain(params: dict) -> dict:
    """``params`` as config.json holds them (tuples as lists)."""
    return json.loads(json.dumps(params, default=str))


def reusable_run(corpus: Corpus, model: str, k: int, name: str, runs_dir, force: bool, params: dict) -> Run | None:
    """The complete run ``name`` when it can stand for the one asked for (the same corpus, model and
    settings but :data:`HOW_NOT_WHAT`), None when there is none to reuse (none of that name, a damaged
    one, or ``force``: it is trained again). :class:`ConfigError` (one line) when a run of that name was
    trained otherwise: replacing it is for ``force`` to say."""
    if force:
        return None
    try:
        run = Run.load(name, runs_dir)
    except RunError:
        return None
    how = (f"with model {run.model_name!r}" if run.model_name != model
           else f"on another version of corpus {corpus.name!r}" if run.config.get("corpus_checksum") != corpus.checksum
           else None)
    if how:
        raise ConfigError(f"run {name!r} exists, trained {how}; pass --force to train it again, or remove it")
    wanted, saved = _plain(model_class(model)(k, **params).get_params()), _plain(run.config.get("params") or {})
    differ = [f"{key} {saved.get(key)!r}, asked {value!r}" for key, value in wanted.items()
              if key not in HOW_NOT_WHAT and saved.get(key) != value]
    if differ:
        raise ConfigError(f"run {name!r} exists with other settings ({'; '.join(differ)}); pass --force to train "
                          "it again with these, or remove it")
    logger.info("reusing run %s (the same settings; pass force to train it again)", name)
    return run


def _train_all(corpus: Corpus, planned: list[tuple[str, int, str, dict]], runs_dir, force: bool,
               progress: bool) -> list[Run]:
    """The runs ``planned`` ((model, K, name, settings) each): every reuse decided first
    (:func:`reusable_run`), so that a refusal comes before anything is trained, then the others trained."""
    reused = [reusable_run(corpus, model, k, name, runs_dir, force, params) for model, k, name, params in planned]
    return [run if run is not None else
            train_run(corpus, model, k, name=name, runs_dir=runs_dir, force=True, progress=progress, **params)
            for run, (model, k, name, params) in zip(reused, planned)]


def stability_runs(corpus: Corpus, model: str, n_topics: int, seeds: Sequence[int], runs_dir=None,
                   force: bool = False, progress: bool = True, **params) -> tuple[float, list[Run]]:
    """Train one run per seed (``<corpus>-<model>-k<K>-seed<s>``) and return the mean
    aligned-topic similarity across seeds (:func:`topicvae.scoring.metrics.stability`: 1 − Jensen–Shannon
    distance of topics matched one-to-one, averaged over every pair of seeds) with the runs.

    Existing complete runs of those names trained with the same settings are reused unless ``force``
    (:func:`reusable_run`; one trained otherwise is refused).
    """
    planned = [(model, n_topics, f"{default_run_name(corpus.name, model, n_topics)}-seed{s}", {**params, "seed": s})
               for s in seeds]
    runs = _train_all(corpus, planned, runs_dir, force, progress)
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
    Every setting is checked (:func:`check_sweep`), and every existing run of those names found
    reusable or refused (:func:`reusable_run`), before the first run is trained. A run's metrics.json
    is written only when it has none (a reused run keeps the metrics its own evaluation wrote).
    """
    check_sweep(corpus, models, topics, params, reference, corpora_dir)
    planned = [(model, k, default_run_name(corpus.name, model, k), settings_for(model, params))
               for model, k in dict.fromkeys((m, k) for m in models for k in topics)]  # (each run once)
    rows = []
    for run in _train_all(corpus, planned, runs_dir, force, progress):
        rows.append(evaluate_run(run, reference=reference, corpora_dir=corpora_dir, with_c_v=with_c_v,
                                 save=not _has_metrics(run)))
    return metrics_table(rows)


def _has_metrics(run: Run) -> bool:
    """Whether the run has a readable metrics.json (a damaged one may be written over)."""
    try:
        return read_metrics(run) is not None
    except RunError:
        return False


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
