"""Runs: one trained model on one corpus, on disk under ``runs/<name>/``.

Layout of a complete run (written into a temporary folder and renamed into place, with
``config.json`` written last, so a folder with ``config.json`` is always whole)::

    config.json      every setting (defaults included), seed, versions, corpus name, path and
                     bow checksum, train document count, fit seconds, epochs, best epoch
    config.sha256    config.json's own sha256 (``sha256sum -c`` reads it): an edit after saving shows
    model.pt         the model (TopicModel.save; the VAE's loads with torch.load(weights_only=True))
    history.csv      per epoch: epoch, train_loss, train_rec, train_kl, val_loss, val_rec, val_kl, seconds
    topic_word.npy   (K, V) float64, rows sum to 1
    doc_topic.npy    (n_docs, K) float32 θ of every corpus document (all splits, corpus row order)
    z_mean.npy       (n_docs, K) float32 posterior mean of z (models with ``posterior``)
    z_std.npy        (n_docs, K) float32 posterior standard deviation of z
    topics.csv       topic, rank, word, weight: the top 20 words of each topic
    vocab.json       the corpus vocabulary (column j of topic_word is vocab[j])

Models that can resume (``supports_resume``) checkpoint into ``runs/.<name>.checkpoint/``
while they train. That folder survives Ctrl-C and divergence (``train_run(...,
resume=True)`` continues from it) and a finished run (resuming a finished run with more
``epochs`` trains on from its last epoch); ``force=True`` starts over.

Models are looked up by name in :data:`MODELS`. torch (and gensim) are imported only when
a model class is needed, so listing runs and reading their arrays stays fast.

The rest of the runs layer: :mod:`.workspace` (runs and corpora by name), :mod:`.labels` (topic
names), :mod:`.inference` (new documents' θ), :mod:`.merging` (``merge``, ``reduce``) and
:mod:`.update` (``update`` and its drift report).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib
import json
import logging
import os
import platform
import shutil
import sys
import time
import uuid
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from topicvae import __version__, paths
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError, CorpusError, InUseError, RunError
from topicvae.models.base import TopicModel, not_a_setting
from topicvae.runs.labels import save_labels

logger = logging.getLogger(__name__)

#: model name → TopicModel subclass, or "module:Class" imported on first use (keeps torch
#: and gensim out of start-up). A new model joins here and in tests/test_contract.py.
MODELS: dict[str, type[TopicModel] | str] = {
    "prodlda": "topicvae.models.vae.model:ProdLDA",
    "nvdm": "topicvae.models.vae.model:NVDM",
    "gsm": "topicvae.models.vae.model:GSM",
    "lda": "topicvae.models.lda:LDA",
}

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
TOPIC_WORD_FILE = "topic_word.npy"
DOC_TOPIC_FILE = "doc_topic.npy"
Z_MEAN_FILE = "z_mean.npy"
Z_STD_FILE = "z_std.npy"
TOPICS_FILE = "topics.csv"
VOCAB_FILE = "vocab.json"
CONFIG_DIGEST_FILE = "config.sha256"
#: the arrays of a run, each checked against config.json when read (:meth:`Run.array`)
ARRAY_FILES = (TOPIC_WORD_FILE, DOC_TOPIC_FILE, Z_MEAN_FILE, Z_STD_FILE)
#: the arrays with one row per corpus document
DOC_ARRAY_FILES = (DOC_TOPIC_FILE, Z_MEAN_FILE, Z_STD_FILE)
#: the arrays whose rows are probability distributions (non-negative, summing to 1 within ROW_SUM_TOL)
DISTRIBUTION_FILES = (TOPIC_WORD_FILE, DOC_TOPIC_FILE)
ROW_SUM_TOL = 1e-3
CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_META = "run.json"
TOP_WORDS_SAVED = 20
#: settings of the read-out that a VAE run's topic_word.npy held before the topics were the model's own
#: (such a run's topics are recomputed from its network: :attr:`Run.topic_word`)
RETIRED_READOUT = ("exclusivity", "reliability_df", "prevalence", "lead_coherence")


def model_class(model: str) -> type[TopicModel]:
    """The TopicModel class registered as ``model``; :class:`ConfigError` listing the models otherwise."""
    entry = MODELS.get(model)
    if entry is None:
        raise ConfigError(f"unknown model {model!r}; choose from {', '.join(sorted(MODELS))}")
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        MODELS[model] = entry
    return entry


def check_settings(model: str, params: dict, flag=str) -> None:
    """:class:`ConfigError` when ``params`` has a setting that model ``model`` does not take, naming
    the models that do take it (``flag`` turns a setting's name into the name shown: the CLI's flag)."""
    have = set(model_class(model).param_names())
    unknown = [k for k in params if k not in have]
    if unknown:
        raise ConfigError("; ".join(not_a_setting(model, k, flag(k)) for k in unknown))


def default_run_name(corpus_name: str, model: str, n_topics: int) -> str:
    return f"{corpus_name}-{model}-k{n_topics}"


def _checkpoint_dir(root: Path, name: str) -> Path:
    return root / f".{name}.checkpoint"


def _corpus_checksum(corpus: Corpus) -> str:
    """The manifest's bag-of-words checksum (:func:`topicvae.corpus.shards.bow_checksum`); for a corpus never
    saved, a digest of its arrays."""
    if corpus.checksum:
        return corpus.checksum
    bow = corpus.bow.tocsr()
    h = hashlib.sha256()
    for a in (bow.indptr, bow.indices, bow.data):
        h.update(np.ascontiguousarray(a).tobytes())
    return "memory:" + h.hexdigest()


def _versions() -> dict:
    out = {"topicvae": __version__, "python": platform.python_version(), "numpy": np.__version__,
           "pandas": pd.__version__}
    for mod in ("torch", "scipy", "gensim"):
        if mod in sys.modules:
            out[mod] = getattr(sys.modules[mod], "__version__", "?")
    return out


def _is_main_process() -> bool:
    """False in the helper processes of data-parallel training (torchrun sets RANK)."""
    return int(os.environ.get("RANK", "0")) == 0


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ---------------------------------------------------------------------------- run folder states
# A name in the runs folder is in exactly one of three states:
#   complete   NAME/config.json exists (written last, so the folder is whole)
#   resumable  .NAME.checkpoint/ holds run.json and checkpoint.pt (an unfinished attempt)
#   nothing    neither; whatever else carries the name is debris that the next command removes
# An attempt id, written to run.json when training starts and copied into config.json,
# tells a finished attempt's leftover checkpoint (debris) from a newer unfinished one.
COMPLETE, RESUMABLE, NOTHING = "complete", "resumable", "nothing"


def checkpoint_meta(root: Path, name: str) -> dict | None:
    """run.json of ``name``'s checkpoint when it can be resumed (checkpoint.pt present), else None."""
    ckpt_dir = _checkpoint_dir(root, name)
    if not (ckpt_dir / CHECKPOINT_FILE).is_file():
        return None
    try:
        meta = json.loads((ckpt_dir / CHECKPOINT_META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _complete_config(root: Path, name: str) -> dict | None:
    try:
        config = json.loads((root / name / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def run_state(root: str | Path | None, name: str) -> str:
    """:data:`COMPLETE`, :data:`RESUMABLE` or :data:`NOTHING` (see the comment above).

    A complete run and a resumable checkpoint can stand side by side: a ``--force``
    retrain was interrupted, and the old run stays readable until the new one replaces it.
    """
    root = paths.runs_dir(root)
    if checkpoint_meta(root, name) is not None and not stale_checkpoint(root, name):
        return RESUMABLE
    return COMPLETE if (root / name / CONFIG_FILE).is_file() else NOTHING


def stale_checkpoint(root: Path, name: str) -> bool:
    """True when ``.NAME.checkpoint/`` exists but is not a resumable attempt: it cannot be
    resumed (no checkpoint.pt, unreadable run.json) or belongs to the complete run's attempt."""
    ckpt_dir = _checkpoint_dir(root, name)
    if not ckpt_dir.is_dir():
        return False
    meta = checkpoint_meta(root, name)
    if meta is None:
        return True
    config = _complete_config(root, name)
    return config is not None and meta.get("attempt") in (None, config.get("attempt"))


def checkpoint_problem(root: Path, name: str) -> str | None:
    """Why ``name``'s checkpoint, which looks resumable (:func:`checkpoint_meta`), cannot be continued:
    checkpoint.pt cannot be read (truncated, damaged) or its run.json names no model; None when it
    can. Such a checkpoint holds nothing to recover, so the plain command starts over from it.
    Reads the file with the model that wrote it (imports that model's library)."""
    meta = checkpoint_meta(root, name)
    if meta is None:
        return None
    try:
        cls = model_class(str(meta.get("model")))
    except ConfigError:
        return f"{CHECKPOINT_META} names no known model ({meta.get('model')!r})"
    problem = cls.checkpoint_problem(_checkpoint_dir(root, name) / CHECKPOINT_FILE)
    return f"{CHECKPOINT_FILE} {problem}" if problem else None


def tidy_runs_dir(root: Path, name: str | None = None) -> list[Path]:
    """Remove what killed commands left in the runs folder; return the removed paths.

    Temporary folders of dead processes, lock files nobody holds, and checkpoint folders
    that :func:`stale_checkpoint` proves useless: ``name``'s (the caller holds its lock),
    and any other name's whose lock can be taken now (none is training it).
    """
    removed = paths.sweep_debris(root, locked={name} if name else set()) + paths.remove_stale_locks(root)
    for ckpt_dir in sorted(root.glob(".*.checkpoint")) if root.is_dir() else []:
        other = ckpt_dir.name[1:-len(".checkpoint")]
        if other == name:
            if stale_checkpoint(root, name):
                shutil.rmtree(ckpt_dir, ignore_errors=True)
                removed.append(ckpt_dir)
            continue
        try:
            with paths.name_lock(root, other, "run"):
                if stale_checkpoint(root, other):
                    shutil.rmtree(ckpt_dir, ignore_errors=True)
                    removed.append(ckpt_dir)
        except InUseError:
            continue  # being trained now
    for path in removed:
        logger.info("removed %s (left by an interrupted command)", path)
    return removed


# ---------------------------------------------------------------------------- training
# (95 lines: half of it the docstring, which holds the table of the run folder's states)
def train_run(
    corpus: Corpus,
    model: str,
    n_topics: int,
    name: str | None = None,
    runs_dir: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = True,
    start_from: TopicModel | None = None,
    config_extra: dict | None = None,
    train_rows: np.ndarray | None = None,
    labels: dict[int, str] | None = None,
    **params,
) -> "Run | None":
    """Train ``model`` with ``n_topics`` topics on the corpus's train split; write and return the run.

    Args:
        corpus: the corpus (its 'train' split rows are trained on; θ is written for every row).
        model: a name in :data:`MODELS`.
        n_topics: K, at least 2 and below the vocabulary size.
        name: run folder name (default ``<corpus>-<model>-k<K>``).
        runs_dir: the runs folder (default :func:`topicvae.paths.runs_dir`).
        force: replace an existing run (and discard an unfinished attempt's checkpoint).
        resume: continue the unfinished attempt's checkpoint; settings not given are its own.
        progress: show the training progress bar on stderr.
        start_from: a fitted model of class ``model`` with ``n_topics`` topics to train on from
            (``fit(warm_start=True)``; models with ``supports_warm_start``) instead of a fresh
            one; ``params`` change its settings (e.g. ``epochs``). It is trained in place.
        train_rows: the corpus rows to train on (None: its 'train' split), e.g. new documents
            with a replay sample of old ones.
        config_extra: more entries for config.json (e.g. ``lineage``, ``derived_from``); they
            may not replace the standard ones.
        labels: names of topics (topic → name, :mod:`topicvae.runs.labels`) saved with the run, written
            before it is renamed into place, so that no run stands without them.
        **params: model settings (see the model class), e.g. ``epochs=50, lr=1e-3, seed=1``.

    The run folder's states and what each command does with them:

    ============  ======================  =======================  ====================
    state         plain                   ``resume``               ``force``
    ============  ======================  =======================  ====================
    nothing       trains                  RunError (nothing to     trains
                                          resume)
    resumable     RunError (pass resume   continues it             discards it, trains
                  or force)
    complete      RunError (exists)       RunError (complete)      trains, replaces it
    ============  ======================  =======================  ====================

    A resumable checkpoint that cannot be read (:func:`checkpoint_problem`: truncated, damaged)
    holds nothing to continue: ``resume`` refuses it in one line, the plain command trains in its
    place (with a warning). A checkpoint is written after every epoch while training (not for a
    run trained on from ``start_from``, which no command resumes) and removed once the run is
    complete. Debris of killed commands is removed first.

    Raises:
        ConfigError: unknown model or setting, K out of range, a bad setting value.
        CorpusError: empty corpus or no training documents.
        RunError: see the table; ``resume`` on another corpus or with other fixed settings;
            the disk refused a write.
        InUseError: another process is training the same name now.
        TrainingDiverged: the loss became NaN/inf; the checkpoint of the last good epoch stays.
        KeyboardInterrupt: (``TrainingInterrupted`` for the VAE) the checkpoint stays.
    """
    cls = model_class(model)
    n_topics = _check_request(corpus, n_topics)
    name = paths.check_name(default_run_name(corpus.name, model, n_topics) if name is None else name, "run name")
    root = paths.runs_dir(runs_dir)
    # a bad setting fails before anything, the runs folder included, is created (a resume's settings
    # are known only from its checkpoint, under the lock)
    estimator = None if resume else _make_estimator(cls, model, n_topics, params, start_from)
    main_process = _is_main_process()  # data-parallel helper ranks only train; rank 0 checks and writes
    lock = paths.name_lock(root, name, "run") if main_process else contextlib.nullcontext()
    with lock:
        if main_process:
            tidy_runs_dir(root, name)
        params, attempt = _resume_or_start(cls, model, n_topics, name, root, corpus, force, resume, params,
                                           check_state=main_process)
        if estimator is None:
            estimator = _make_estimator(cls, model, n_topics, params, start_from)
        train_rows = checked_train_rows(corpus, train_rows)
        all_params = estimator.get_params()
        fit_kwargs = {"progress": progress}
        if start_from is not None:
            fit_kwargs["warm_start"] = True
        elif cls.supports_resume:  # (a derived run, from start_from, has no --resume: no checkpoint)
            fit_kwargs.update(checkpoint=_start_checkpoint(root, name, model, all_params, corpus, attempt,
                                                           resume, main_process), resume=resume)
        fit_seconds = _fit(estimator, corpus, train_rows, fit_kwargs, root, name, resume)
        if not main_process:
            return None
        config = _run_config(estimator, corpus, name, model, n_topics, all_params, train_rows, fit_seconds,
                             resume, attempt)
        config.update(_extra_entries(config, config_extra))
        _write_run(estimator, corpus, config, root / name, root, labels)
        shutil.rmtree(_checkpoint_dir(root, name), ignore_errors=True)  # the run is complete
    logger.info("run %s written to %s (%.1fs of training)", name, root / name, fit_seconds)
    return Run.load(name, root)


def checked_train_rows(corpus: Corpus, train_rows) -> np.ndarray:
    """The sorted rows to train on: ``train_rows``, or the corpus's 'train' split when None; one-line
    errors for none at all or rows outside the corpus."""
    rows = corpus.split_rows("train") if train_rows is None else np.unique(np.asarray(train_rows, dtype=np.int64))
    if len(rows) == 0:
        raise CorpusError(f"corpus {corpus.name!r} has no documents in its 'train' split")
    if rows[0] < 0 or rows[-1] >= corpus.n_docs:
        raise ConfigError(f"train_rows must be rows of corpus {corpus.name!r} (0 to {corpus.n_docs - 1})")
    return rows


def _corpus_tokens(corpus: Corpus):
    """word → its tokens through ``corpus``'s own pipeline (lowercase, lemma), or None for a corpus that was
    never saved with one."""
    from topicvae.text.vectorizer import corpus_vectorizer

    try:
        vectorizer = corpus_vectorizer(corpus)
    except CorpusError:
        return None
    return lambda word: vectorizer.tokens([word])[0]


def train_guided_run(corpus: Corpus, model: str, n_topics: int, seed_file: str | Path, **kwargs) -> "Run | None":
    """:func:`train_run` with guided topics from ``seed_file`` (one topic a line, :mod:`topicvae.models.seeding`):
    the seeds are resolved against the corpus's vocabulary (words outside it are left out, with a
    warning), given to the model as its ``seed_topics``, recorded in config.json, and the seeded
    topics keep their names as labels (written with the run, before it is renamed into place).
    ``kwargs`` are :func:`train_run`'s."""
    from topicvae.models.seeding import load_seed_topics

    if "seed_topics" not in model_class(model).param_names():
        guided = [m for m in MODELS if "seed_topics" in model_class(m).param_names()]
        raise ConfigError(f"--seed-topics works with --model {', '.join(guided)}, not {model}")
    seeds = load_seed_topics(seed_file, corpus.vocab, n_topics, _corpus_tokens(corpus))
    for line in filter(None, seeds.report().splitlines()):
        logger.warning("%s", line)
    return train_run(corpus, model, n_topics, config_extra={**(kwargs.pop("config_extra", None) or {}),
                                                             "seed_topics": seeds.record()},
                     seed_topics=seeds.indices, labels=seeds.labels(), **kwargs)


def check_training(corpus: Corpus, model: str, n_topics, params: dict) -> None:
    """Raise the one-line error :func:`train_run` would raise for these settings before it writes
    anything (unknown model, K out of range, a setting the model refuses), without training: for
    commands that train several runs (``sweep``) and must refuse before the first."""
    _make_estimator(model_class(model), model, _check_request(corpus, n_topics), params)


def _check_request(corpus: Corpus, n_topics) -> int:
    if corpus.n_docs == 0 or not _has_words(corpus):
        raise CorpusError(f"corpus {corpus.name!r} has no documents with words; ingest documents first")
    if isinstance(n_topics, bool) or not isinstance(n_topics, (int, np.integer)) or not 2 <= n_topics < corpus.n_words:
        raise ConfigError(f"the number of topics must be an integer from 2 to {corpus.n_words - 1} "
                          f"(below the vocabulary size of corpus {corpus.name!r}), got {n_topics!r}")
    return int(n_topics)


def _has_words(corpus: Corpus) -> bool:
    """Whether any document holds a word, read shard by shard until one does (not the whole matrix)."""
    return any(X.nnz for _, X in corpus.iter_shards())


def _resume_or_start(cls, model: str, n_topics: int, name: str, root: Path, corpus: Corpus, force: bool,
                     resume: bool, params: dict, check_state: bool = True) -> tuple[dict, str]:
    """The settings to train with and the attempt id, after checking the run folder's state
    allows the request (see the table in :func:`train_run`)."""
    if resume:
        if not cls.supports_resume:
            raise ConfigError(f"model {model!r} cannot resume training; train it again with --force")
        meta = checkpoint_meta(root, name)
        state = run_state(root, name) if check_state else RESUMABLE
        if meta is None or state != RESUMABLE:
            if state == COMPLETE:
                raise RunError(f"run {name!r} is complete, there is nothing to resume; "
                               "pass --force to train it again or choose another --name")
            raise RunError(f"run {name!r} has no checkpoint in {root} to resume; train it without --resume")
        problem = checkpoint_problem(root, name)
        if problem:
            raise RunError(f"the checkpoint of run {name!r} cannot be resumed: {problem}; it holds nothing to "
                           "continue, run the same command without --resume to start over")
        _check_resume_matches(meta, name, model, n_topics, corpus)
        saved = dict(meta.get("params", {}))
        saved.pop("n_topics", None)
        return {**saved, **params}, str(meta.get("attempt") or uuid.uuid4().hex)
    if check_state and not force:
        state = run_state(root, name)
        if state == COMPLETE:
            raise RunError(f"run {name!r} already exists in {root}; pass --force to replace it or choose another --name")
        if state == RESUMABLE and _starts_over(root, name):
            return params, uuid.uuid4().hex
        if state == RESUMABLE:
            raise RunError(f"run {name!r} was interrupted and can be continued: pass --resume to "
                           "continue it or --force to start over")
    return params, uuid.uuid4().hex


def _starts_over(root: Path, name: str) -> bool:
    """True (with a warning) when ``name``'s unfinished checkpoint cannot be continued
    (:func:`checkpoint_problem`): the plain command then trains afresh in its place."""
    problem = checkpoint_problem(root, name)
    if problem:
        logger.warning("the checkpoint of run %r cannot be resumed: %s; starting over", name, problem)
    return problem is not None


def _check_resume_matches(meta: dict, name: str, model: str, n_topics: int, corpus: Corpus) -> None:
    if meta.get("model") != model:
        raise RunError(f"run {name!r} was trained with model {meta.get('model')!r}, not {model!r}")
    if meta.get("corpus_checksum") != _corpus_checksum(corpus):
        raise RunError(f"run {name!r} was trained on another version of corpus {meta.get('corpus')!r} "
                       f"(bow checksum differs); resume it on that corpus or train a new run")
    saved_k = meta.get("params", {}).get("n_topics", n_topics)
    if saved_k != n_topics:
        raise RunError(f"run {name!r} has {saved_k} topics, not {n_topics}; keep K or train a new run")


def _make_estimator(cls, model: str, n_topics: int, params: dict, start_from: TopicModel | None = None) -> TopicModel:
    if start_from is not None:
        return _warm_estimator(cls, model, n_topics, params, start_from)
    check_settings(model, params)
    try:
        estimator = cls(n_topics=n_topics, **params)
    except TypeError as exc:
        raise ConfigError(f"bad setting for model {model!r}: {exc}") from exc
    estimator.check_params()
    return estimator


def _warm_estimator(cls, model: str, n_topics: int, params: dict, start_from: TopicModel) -> TopicModel:
    """``start_from`` with ``params`` applied, after checking it can be trained on as ``model`` with K topics."""
    if not cls.supports_warm_start:
        raise ConfigError(f"model {model!r} cannot train on from an earlier model")
    if type(start_from) is not cls or start_from.n_topics != n_topics:
        raise ConfigError(f"the starting model is a {start_from.name} model with {start_from.n_topics} topics, "
                          f"not {model} with {n_topics}")
    check_settings(model, params)
    for key, value in params.items():
        setattr(start_from, key, value)
    start_from.check_params()
    return start_from


def _extra_entries(config: dict, extra: dict | None) -> dict:
    clash = sorted(set(extra or {}) & set(config))
    if clash:
        raise ConfigError(f"config_extra may not replace {', '.join(clash)}")
    return dict(extra or {})


def _start_checkpoint(root: Path, name: str, model: str, all_params: dict, corpus: Corpus, attempt: str,
                      resume: bool, main_process: bool) -> Path:
    """The checkpoint file of this attempt; a new attempt gets a fresh folder with its run.json."""
    ckpt_dir = _checkpoint_dir(root, name)
    if main_process and not resume:
        try:
            if ckpt_dir.exists():
                shutil.rmtree(ckpt_dir)
            ckpt_dir.mkdir(parents=True)
            _write_json(ckpt_dir / CHECKPOINT_META, {"name": name, "model": model, "params": all_params,
                                                     "corpus": corpus.name, "attempt": attempt,
                                                     "corpus_checksum": _corpus_checksum(corpus)})
        except OSError as exc:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
            raise _write_error(f"start run {name!r}", root, exc) from None
    return ckpt_dir / CHECKPOINT_FILE


def _fit(estimator: TopicModel, corpus: Corpus, train_rows: np.ndarray, fit_kwargs: dict, root: Path, name: str,
         resume: bool) -> float:
    """Fit on the training rows; seconds taken. A failure before the first checkpoint leaves nothing."""
    X_train = _training_documents(estimator, corpus, train_rows)
    logger.info("training %s (K=%d) on %d documents of corpus %s as run %s%s", type(estimator).__name__,
                estimator.n_topics, len(train_rows), corpus.name, name, " (resumed)" if resume else "")
    t0 = time.perf_counter()
    try:
        estimator.fit(X_train, **fit_kwargs)
    except BaseException:
        if _is_main_process() and stale_checkpoint(root, name):  # e.g. Ctrl-C while building embeddings
            shutil.rmtree(_checkpoint_dir(root, name), ignore_errors=True)
        raise
    return time.perf_counter() - t0


def _training_documents(estimator: TopicModel, corpus: Corpus, train_rows: np.ndarray):
    """What ``fit`` reads the training rows from: for a corpus of several shards and a model that reads
    shards, a row source over the shards on disk (one held at a time; the whole matrix is never
    built), else the rows of the matrix (no copy when all of them train)."""
    select = None if len(train_rows) == corpus.n_docs else train_rows
    if len(corpus.shards) > 1 and estimator.reads_shards:
        from topicvae.corpus.rows import ShardedRows

        return ShardedRows([r["rows"] for r in corpus.shards], corpus.n_words, corpus.read_shard, select=select)
    return corpus.bow if select is None else corpus.bow[select]


def _run_config(estimator: TopicModel, corpus: Corpus, name: str, model: str, n_topics: int, all_params: dict,
                train_rows: np.ndarray, fit_seconds: float, resume: bool, attempt: str) -> dict:
    n_epochs = len(estimator.history_)
    return {
        "name": name,
        "model": model,
        "n_topics": n_topics,
        "params": all_params,
        "seed": all_params.get("seed"),
        "corpus": corpus.name,
        "corpus_path": str(Path(corpus.path).resolve()) if corpus.path is not None else None,
        "corpus_checksum": _corpus_checksum(corpus),
        "preprocess": corpus.manifest.get("preprocess"),  # lets `infer` tokenize new text the same way
        "n_docs": corpus.n_docs,
        "n_words": corpus.n_words,
        "n_train_docs": int(len(train_rows)),
        "n_val_docs": getattr(estimator, "n_val_docs_", None),
        "epochs": int(n_epochs),
        "embedding_dim": getattr(estimator, "embedding_dim_", None),  # the d ProdLDA/GSM chose (None: no embeddings)
        "best_epoch": getattr(estimator, "best_epoch_", None),
        "stopped_early": getattr(estimator, "stopped_early_", None),
        "fit_seconds": round(fit_seconds, 3),
        "resumed": bool(resume),
        "attempt": attempt,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def _write_run(estimator: TopicModel, corpus: Corpus, config: dict, final: Path, root: Path,
               labels: dict[int, str] | None = None) -> None:
    """Write every file of the run into a temporary folder, config.json (with each file's size
    and sha256, for ``topicvae verify``) last, and rename it into place. ``labels`` (if any) are
    written too, after the files are recorded: labels.json is a person's to edit, and has no checksum."""
    topic_word = np.asarray(estimator.topic_word_, dtype=np.float64)
    try:
        with paths.atomic_dir(final, force=True) as tmp:
            estimator.save(tmp)
            pd.DataFrame(estimator.history_).to_csv(tmp / HISTORY_FILE, index=False)
            np.save(tmp / TOPIC_WORD_FILE, topic_word, allow_pickle=False)
            _write_document_arrays(estimator, corpus, tmp)
            topics_table(topic_word, corpus.vocab, TOP_WORDS_SAVED).to_csv(tmp / TOPICS_FILE, index=False)
            (tmp / VOCAB_FILE).write_text(json.dumps(list(corpus.vocab), ensure_ascii=False))
            config["files"] = paths.file_records(tmp)
            if labels:
                save_labels(tmp, labels)
            write_config(tmp, config)  # last: its presence marks a complete run
    except OSError as exc:
        resumable = checkpoint_meta(root, final.name) is not None
        raise _write_error(f"write run {final.name!r}", root, exc, resumable) from None


def _write_document_arrays(estimator: TopicModel, corpus: Corpus, folder: Path) -> None:
    """θ, and μ and σ for models with a posterior, of every document into ``folder`` as float32 .npy;
    a corpus of several shards is encoded shard by shard and its rows appended to the files as they
    come (a document's θ depends on that document alone), so all documents' arrays are never in
    memory. The files are the bytes ``np.save`` writes either way."""
    files = None
    for first, X in corpus.iter_shards():
        arrays = (estimator.transform(X), *(estimator.posterior(X) or ()))
        if files is None:
            names = (DOC_TOPIC_FILE, Z_MEAN_FILE, Z_STD_FILE)[:len(arrays)]
            files = [_NpyRows(folder / name, corpus.n_docs, a.shape[1]) for name, a in zip(names, arrays)]
        for file, part in zip(files, arrays):
            file.append(part)
    for file in files:
        file.close()


class _NpyRows:
    """A float32 (n_rows, n_cols) .npy file written a block of rows at a time, in row order: the
    header ``np.save`` writes, then the rows (closing checks that they all came)."""

    def __init__(self, path: Path, n_rows: int, n_cols: int):
        self.n_rows, self.written = n_rows, 0
        self.file = open(path, "wb")
        np.lib.format.write_array_header_1_0(self.file, {"descr": np.dtype(np.float32).str, "fortran_order": False,
                                                         "shape": (int(n_rows), int(n_cols))})

    def append(self, rows: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
        self.written += rows.shape[0]

    def close(self) -> None:
        self.file.close()
        if self.written != self.n_rows:
            raise RuntimeError(f"{self.file.name}: {self.written} rows written of {self.n_rows}")


def write_config(folder: Path, config: dict) -> None:
    """Write ``config.json`` into the run folder ``folder``, and before it ``config.sha256`` (its digest,
    in ``sha256sum`` format): config.json decides what every array of the run must look like, so
    :func:`config_digest_problem` must be able to tell when it was edited after the run was saved."""
    data = json.dumps(config, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    (folder / CONFIG_DIGEST_FILE).write_text(f"{hashlib.sha256(data).hexdigest()}  {CONFIG_FILE}\n")
    (folder / CONFIG_FILE).write_bytes(data)


def config_digest_problem(folder: Path, digest: str | None = None) -> str | None:
    """Why ``config.json`` of the run folder ``folder`` is not the one that was saved (its sha256 is not
    the one in ``config.sha256``), or None. A run saved before config.json had a digest (no
    config.sha256) has nothing to compare with: None. ``digest``: config.json's sha256 when its bytes
    were read already (None: the file is read)."""
    try:
        recorded = (folder / CONFIG_DIGEST_FILE).read_text().split()[:1]
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"{CONFIG_DIGEST_FILE} cannot be read: {exc}"
    try:
        same = recorded == [digest if digest is not None else paths.sha256_file(folder / CONFIG_FILE)]
    except OSError as exc:
        return f"{CONFIG_FILE} cannot be read: {exc}"
    return None if same else (f"{CONFIG_FILE} was changed after the run was saved: its sha256 is not the one "
                              f"in {CONFIG_DIGEST_FILE}")


def _write_error(what: str, root: Path, exc: OSError, resumable: bool = False) -> RunError:
    again = "the same command with --resume (training is checkpointed)" if resumable else "the same command"
    return RunError(f"cannot {what} in {root} ({exc.strerror or exc}); free space or fix the folder's "
                    f"permissions, then run {again}")


def topics_table(topic_word: np.ndarray, vocab, n: int = TOP_WORDS_SAVED) -> pd.DataFrame:
    """The top ``n`` words of each topic: columns topic, rank (1 = most probable), word, weight."""
    n = min(n, topic_word.shape[1])
    order = np.argsort(-topic_word, axis=1, kind="stable")[:, :n]
    k = np.repeat(np.arange(topic_word.shape[0]), n)
    j = order.ravel()
    return pd.DataFrame({"topic": k, "rank": np.tile(np.arange(1, n + 1), topic_word.shape[0]),
                         "word": [vocab[i] for i in j], "weight": topic_word[k, j]})


# ---------------------------------------------------------------------------- reading
class Run:
    """A complete run folder; arrays and tables are read on first access.

    Attributes:
        name: the run's name (its folder name).
        path: the folder.
        config: the dict of ``config.json``.
    """

    def __init__(self, path: Path, config: dict, config_digest: str | None = None):
        self.path = Path(path)
        self.name = self.path.name
        self.config = config
        self._config_digest = config_digest  # sha256 of the config.json bytes ``config`` was parsed from
        self._checked: dict[str, tuple] = {}  # array file → (size, mtime) when its values were last checked

    @classmethod
    def load(cls, name: str, runs_dir: str | Path | None = None, check: bool = True) -> "Run":
        """Open ``<runs_dir>/<name>``; :class:`RunError` naming the runs there when it is missing or incomplete,
        and (``check``) when its config.json was edited after it was saved or an array file's shape contradicts
        it (:meth:`problems`; ``topicvae verify`` passes False to list every problem itself)."""
        paths.check_name(name, "run name")
        root = paths.runs_dir(runs_dir)
        folder = root / name
        if not (folder / CONFIG_FILE).is_file():
            if checkpoint_meta(root, name) is not None:
                raise RunError(f"run {name!r} did not finish (interrupted or diverged); "
                               "continue it with --resume or start over with --force")
            have = ", ".join(r["name"] for r in list_runs(root)) or "none"
            raise RunError(f"no run named {name!r} in {root} (runs there: {have})")
        try:  # read once: parsed, and hashed for config.sha256 (problems)
            data = (folder / CONFIG_FILE).read_bytes()
            config = json.loads(data)
        except (OSError, ValueError) as exc:
            raise damaged(name, root, f"config.json cannot be read: {exc}") from None
        problem = _config_problem(config)
        if problem:
            raise damaged(name, root, f"config.json {problem}")
        run = cls(folder, config, hashlib.sha256(data).hexdigest())
        problems = run.problems() if check else []
        if problems:
            raise damaged(name, root, problems[0])
        return run

    def array(self, fname: str, required: bool = True, mmap_mode: str | None = None) -> np.ndarray | None:
        """The array file ``fname`` of the run (None when missing and not ``required``); :class:`RunError`
        when it is missing, cannot be read, or its shape or values contradict the run (:meth:`array_problem`;
        checked once per Run while the file stays the same size and age)."""
        file = self.path / fname
        if not file.is_file():
            if required:
                raise damaged(self.name, self.path.parent, f"{fname} is missing")
            return None
        try:
            stat = file.stat()
            array = np.load(file, allow_pickle=False, mmap_mode=mmap_mode)
        except (OSError, ValueError, EOFError) as exc:
            raise damaged(self.name, self.path.parent, f"{fname} cannot be read: {exc}") from None
        seen = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        if self._checked.get(fname) != seen:
            problem = self.array_problem(fname, array)
            if problem:
                raise damaged(self.name, self.path.parent, problem)
            self._checked[fname] = seen
        return array

    def problems(self, values: bool = False) -> list[str]:
        """Every way the run's files contradict its config.json: config.json edited after the run was saved
        (:func:`config_digest_problem`), an array file whose shape, read from its header alone, does not fit
        (:meth:`shape_problem`), and with ``values`` an array whose values cannot be right (each array read
        once, memory-mapped). Without ``values`` it reads a few hundred bytes: :meth:`load` runs it on every
        open. Missing and unreadable files are left to the readers (and to ``verify``'s digests)."""
        found = [config_digest_problem(self.path, self._config_digest)]
        for fname in ARRAY_FILES:
            if values:
                try:
                    self.array(fname, required=False, mmap_mode="r")
                except RunError as exc:
                    found.append(exc.problem)
            else:
                shape = npy_shape(self.path / fname)
                found.append(None if shape is None else self.shape_problem(fname, shape))
        return [p for p in found if p]

    def require_posterior(self, command: str) -> None:
        """:class:`ConfigError` (one line) when ``command``'s ``--with-uncertainty`` asks this run for a posterior
        it has none of (its model is not a VAE: no z_mean.npy)."""
        if not (self.path / Z_MEAN_FILE).is_file():
            raise ConfigError(f"run {self.name!r} ({self.model_name}) has no posterior to {command}; "
                              "--with-uncertainty needs a VAE run (prodlda, gsm or nvdm)")

    def file_problems(self, digests: bool = False) -> list[str]:
        """The files config.json records (``files``: size and sha256 of each) that are missing or of another
        size, and with ``digests`` those whose sha256 differs (reading every byte; ``topicvae verify``).
        Without digests it costs a stat per file, so the dashboard runs it on every open. A run written
        before the files were recorded has nothing to compare with: []."""
        records = self.config.get("files")
        if not isinstance(records, dict):
            return []
        found = []
        for fname, rec in records.items():
            rec = rec if isinstance(rec, dict) else {}
            found.append(paths.file_problem(self.path / fname, rec.get("sha256") if digests else None, rec.get("bytes")))
        return [p for p in found if p]

    def array_problem(self, fname: str, array: np.ndarray) -> str | None:
        """What makes ``array``, read from the run's file ``fname``, contradict the run: its shape
        (:meth:`shape_problem`), else its values (:func:`value_problem`); None when it fits."""
        if fname not in ARRAY_FILES:
            return None
        return self.shape_problem(fname, array.shape) or value_problem(fname, array)

    def shape_problem(self, fname: str, shape: tuple) -> str | None:
        """Why ``shape`` cannot be the shape of the run's array file ``fname``, or None: topic_word is
        (K, V), the per-document arrays (n_docs, K), with K, V and n_docs from config.json (a count it does
        not record is not checked; n_docs then comes from doc_topic.npy, so the others agree with it)."""
        k = self.n_topics
        if fname == TOPIC_WORD_FILE:
            v = _count(self.config.get("n_words"))
            want, has = (k, v), f"K = {k} topics" + (f" over {v} words" if v is not None else "")
        elif fname in DOC_ARRAY_FILES:
            n = self._n_docs()
            want, has = (n, k), (f"{n} documents and " if n is not None else "") + f"K = {k} topics"
        else:
            return None
        if len(shape) == 2 and all(w is None or w == s for w, s in zip(want, shape)):
            return None
        return f"{fname} has shape {tuple(int(s) for s in shape)} but the run has {has}"

    def _n_docs(self) -> int | None:
        """The number of corpus documents the run holds rows for: config.json's n_docs, else the rows
        in doc_topic.npy's header (None when neither says)."""
        n = _count(self.config.get("n_docs"))
        if n is None:
            shape = npy_shape(self.path / DOC_TOPIC_FILE)
            n = int(shape[0]) if shape else None
        return n

    @property
    def model_name(self) -> str:
        return self.config["model"]

    @property
    def n_topics(self) -> int:
        return int(self.config["n_topics"])

    @cached_property
    def history(self) -> pd.DataFrame:
        """Per-epoch history (empty when the model keeps none)."""
        file = self.path / HISTORY_FILE
        try:
            return pd.read_csv(file)
        except (FileNotFoundError, pd.errors.EmptyDataError):
            return pd.DataFrame()

    @cached_property
    def topic_word(self) -> np.ndarray:
        """float64 (K, V), rows sum to 1: the model's own topics (``topic_word.npy``; for a run saved
        when that file held a read-out of the model, recomputed from its network)."""
        if self.readout_era:
            logger.warning("run %s was saved when topic_word.npy held a read-out of the model; its topics are "
                           "recomputed from the network (train it again to save them)", self.name)
            return np.asarray(self.model.topic_word_, dtype=np.float64)
        return self.array(TOPIC_WORD_FILE)

    @property
    def readout_era(self) -> bool:
        """Whether the run was saved when its ``topic_word.npy`` held a read-out of the model (its settings
        name one of :data:`RETIRED_READOUT`)."""
        return any(key in (self.config.get("params") or {}) for key in RETIRED_READOUT)

    @cached_property
    def doc_topic(self) -> np.ndarray:
        """float32 (n_docs, K) θ of every corpus document, in corpus row order."""
        return self.array(DOC_TOPIC_FILE)

    @cached_property
    def z_mean(self) -> np.ndarray | None:
        """float32 (n_docs, K) posterior mean of z, or None for models without one."""
        return self.array(Z_MEAN_FILE, required=False)

    @cached_property
    def z_std(self) -> np.ndarray | None:
        """float32 (n_docs, K) posterior standard deviation of z, or None."""
        return self.array(Z_STD_FILE, required=False)

    @cached_property
    def topics(self) -> pd.DataFrame:
        """topic, rank, word, weight of the top 20 words of each topic."""
        try:
            return pd.read_csv(self.path / TOPICS_FILE, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise damaged(self.name, self.path.parent, f"{TOPICS_FILE} cannot be read: {exc}") from None

    @cached_property
    def vocab(self) -> list[str]:
        try:
            vocab = json.loads((self.path / VOCAB_FILE).read_text())
        except FileNotFoundError:
            raise damaged(self.name, self.path.parent, f"{VOCAB_FILE} is missing") from None
        except (OSError, ValueError) as exc:
            raise damaged(self.name, self.path.parent, f"{VOCAB_FILE} cannot be read: {exc}") from None
        if not isinstance(vocab, list) or (self.topic_word is not None and len(vocab) != self.topic_word.shape[1]):
            raise damaged(self.name, self.path.parent, f"{VOCAB_FILE} does not match topic_word.npy")
        return vocab

    @cached_property
    def model(self) -> TopicModel:
        """The trained model (imports its library on first use)."""
        return model_class(self.model_name).load(self.path)

    def top_words(self, n: int = 10) -> list[list[str]]:
        """The ``n`` most probable words of each topic."""
        order = np.argsort(-self.topic_word, axis=1, kind="stable")[:, :n]
        return [[self.vocab[j] for j in row] for row in order]

    def summary(self) -> dict:
        """name, corpus, model, n_topics, epochs, final train/val loss, fit seconds, created."""
        h = self.history
        last = h.iloc[-1] if len(h) else {}

        def final(col):
            v = last.get(col) if len(h) and col in h else None
            return None if v is None or pd.isna(v) else float(v)

        return {"name": self.name, "corpus": self.config.get("corpus"), "model": self.model_name,
                "n_topics": self.n_topics, "epochs": self.config.get("epochs", len(h)),
                "train_loss": final("train_loss"), "val_loss": final("val_loss"),
                "fit_seconds": self.config.get("fit_seconds"), "created": self.config.get("created")}

    def __repr__(self) -> str:
        return f"Run({self.name!r}, model={self.model_name!r}, n_topics={self.n_topics})"


def damaged(name: str, root: Path, problem: str) -> RunError:
    """The one-line error for a run folder that cannot be used as it is; ``.problem`` says what alone."""
    error = RunError(f"run {name!r} in {root} is damaged ({problem}); `topicvae verify {name}` lists what is "
                     "wrong, train it again with --force")
    error.problem = problem
    return error


def npy_shape(file: Path) -> tuple | None:
    """The shape in the header of the .npy ``file``, read without its data; None when the file is missing
    or its header cannot be read (reading the array then says why)."""
    try:
        with open(file, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            return tuple(read(f)[0])
    except (OSError, ValueError, EOFError, SyntaxError):
        return None


def value_problem(fname: str, array: np.ndarray) -> str | None:
    """Why the values of the run's 2-D array ``fname`` cannot be right, or None: every array holds finite
    real numbers; the rows of topic_word and doc_topic are distributions (non-negative, summing to 1
    within :data:`ROW_SUM_TOL`) and z_std is non-negative. Reads a (memory-mapped) array in blocks of
    rows, so a large one is never copied whole."""
    if array.dtype.kind not in "fiu":
        return f"{fname} holds {array.dtype} values, not numbers"
    step = max(1, (1 << 20) // max(1, array.shape[1]))
    for start in range(0, array.shape[0], step):
        problem = _block_problem(fname, np.asarray(array[start:start + step], dtype=np.float64), start)
        forget_pages(array)
        if problem:
            return problem
    return None


def rows_of(array, rows: np.ndarray, block: int = 65_536) -> np.ndarray:
    """The rows ``rows`` (sorted) of a memory-mapped ``array`` as an array in memory, gathered a block of
    ``block`` file rows at a time with each block's pages let go (:func:`forget_pages`), so that a sample
    spread over a large file leaves resident only the rows it holds."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((len(rows), *array.shape[1:]), dtype=array.dtype)
    cuts = np.searchsorted(rows, np.arange(0, array.shape[0] + block, block))
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            out[a:b] = array[rows[a:b]]
            forget_pages(array)
    return out


def weighted_row_sum(array, weights: np.ndarray | None = None, start: int = 0, stop: int | None = None,
                     block: int = 65_536) -> np.ndarray:
    """Σ_d w_d · array[d] over the rows ``start`` … ``stop`` of a (memory-mapped) 2-D ``array``, in float64
    (``weights``: one per row of that range; None: ones), read ``block`` rows at a time with each block's
    pages let go (:func:`forget_pages`), so that summing a large file keeps resident memory flat."""
    stop = array.shape[0] if stop is None else stop
    total = np.zeros(array.shape[1])
    for a in range(start, stop, block):
        b = min(a + block, stop)
        rows = np.asarray(array[a:b], dtype=np.float64)
        total += rows.sum(axis=0) if weights is None else np.asarray(weights[a - start:b - start], np.float64) @ rows
        forget_pages(array)
    return total


def forget_pages(array) -> None:
    """Let the pages of a memory-mapped ``array`` read so far leave this process's resident memory (they
    stay in the system's file cache and are read again on demand), so that a file read a block at a
    time keeps the process's memory flat however large the file; nothing for an array in memory."""
    import mmap

    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(handle, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        handle.madvise(mmap.MADV_DONTNEED)


def _block_problem(fname: str, block: np.ndarray, start: int) -> str | None:
    """:func:`value_problem` for the rows ``start``… of ``fname`` in ``block``."""
    if not np.isfinite(block).all():
        return f"{fname} holds values that are not finite (NaN or infinite)"
    if fname in (*DISTRIBUTION_FILES, Z_STD_FILE) and (block < 0).any():
        return f"{fname} holds negative values"
    if fname in DISTRIBUTION_FILES:
        sums = block.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOL)
        if bad.size:
            return f"row {start + bad[0]} of {fname} sums to {sums[bad[0]]:.6g}, not 1"
    return None


def _count(value) -> int | None:
    """``value`` when it is a count (a non-negative int) as config.json records them, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _config_problem(config) -> str | None:
    """What makes a parsed config.json unusable, or None."""
    if not isinstance(config, dict):
        return "is not a JSON object"
    if config.get("model") not in MODELS:
        return f"names no known model (model={config.get('model')!r})"
    k = config.get("n_topics")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        return f"has no valid n_topics (n_topics={k!r})"
    return None


def discard_run(run: Run) -> None:
    """Remove ``run``'s folder, under its name's lock: a command that wrote the run and then failed
    at its own last step (merge's labels, update's drift report) leaves no half-done run behind."""
    with paths.name_lock(run.path.parent, run.name, "run"):
        shutil.rmtree(run.path, ignore_errors=True)


def list_runs(runs_dir: str | Path | None = None) -> list[dict]:
    """Summaries (:meth:`Run.summary`) of the complete runs in ``runs_dir``, sorted by name."""
    root = paths.runs_dir(runs_dir)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not (folder / CONFIG_FILE).is_file():
            continue
        try:
            out.append(Run(folder, json.loads((folder / CONFIG_FILE).read_text())).summary())
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("skipping damaged run %s: %s", folder, exc)
    return out


def unfinished_runs(runs_dir: str | Path | None = None) -> list[str]:
    """Names of runs whose training stopped and can be continued with ``resume``."""
    root = paths.runs_dir(runs_dir)
    if not root.is_dir():
        return []
    names = [p.name[1:-len(".checkpoint")] for p in sorted(root.glob(".*.checkpoint"))]
    return [n for n in names if run_state(root, n) == RESUMABLE]


def format_topics(run: Run, n: int = 10, words: list[list[str]] | None = None, read_by: str | None = None) -> str:
    """Text for ``topicvae topics RUN``: a header line, then one line per topic with its saved label
    (if any, in brackets) and its first ``n`` words: ``words`` (one list per topic, e.g. in a
    representation that ``read_by`` names), or by default its ``n`` most probable."""
    if n < 1:
        raise ConfigError("the number of words per topic must be at least 1")
    header = (f"{run.name}: {run.model_name}, {run.n_topics} topics, corpus {run.config.get('corpus')}, "
              f"{run.config.get('epochs')} epochs; words by {read_by or 'probability (the model’s own order)'}")
    from topicvae.runs.labels import saved_labels

    names = saved_labels(run.path)  # the names a person or a seed file gave, before the words
    width = len(str(run.n_topics - 1))
    lines = [header] + [f"{k:>{width}}  " + (f"[{names[k]}] " if k in names else "") + " ".join(words)
                        for k, words in enumerate(words if words is not None else run.top_words(n))]
    return "\n".join(lines)
