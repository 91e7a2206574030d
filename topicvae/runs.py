"""Runs: one trained model on one corpus, on disk under ``runs/<name>/``.

Layout of a complete run (written into a temporary folder and renamed into place, with
``config.json`` written last, so a folder with ``config.json`` is always whole)::

    config.json      every setting (defaults included), seed, versions, corpus name, path and
                     bow checksum, train document count, fit seconds, epochs, best epoch
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
"""

from __future__ import annotations

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
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, paths
from .corpus import Corpus
from .errors import ConfigError, CorpusError, RunError
from .models.base import TopicModel

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
CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_META = "run.json"
TOP_WORDS_SAVED = 20


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


def default_run_name(corpus_name: str, model: str, n_topics: int) -> str:
    return f"{corpus_name}-{model}-k{n_topics}"


def _checkpoint_dir(root: Path, name: str) -> Path:
    return root / f".{name}.checkpoint"


def _corpus_checksum(corpus: Corpus) -> str:
    """The manifest's sha256 of bow.npz; for a corpus never saved, a digest of its arrays."""
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


# ---------------------------------------------------------------------------- training
def train_run(
    corpus: Corpus,
    model: str,
    n_topics: int,
    name: str | None = None,
    runs_dir: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = True,
    **params,
) -> "Run | None":
    """Train ``model`` with ``n_topics`` topics on the corpus's train split; write and return the run.

    Args:
        corpus: the corpus (its 'train' split rows are trained on; θ is written for every row).
        model: a name in :data:`MODELS`.
        n_topics: K, at least 2 and below the vocabulary size.
        name: run folder name (default ``<corpus>-<model>-k<K>``).
        runs_dir: the runs folder (default :func:`topicvae.paths.runs_dir`).
        force: replace an existing run (and discard its checkpoint).
        resume: continue from the run's checkpoint; settings not given are the checkpoint's.
        progress: show the training progress bar on stderr.
        **params: model settings (see the model class), e.g. ``epochs=50, lr=1e-3, seed=1``.

    Raises:
        ConfigError: unknown model or setting, K out of range, a bad setting value.
        CorpusError: empty corpus or no training documents.
        RunError: the run exists (without ``force``), an interrupted run's checkpoint is in
            the way (pass ``resume`` or ``force``), ``resume`` without checkpoint or on
            another corpus.
        TrainingDiverged: the loss became NaN/inf; the checkpoint of the last good epoch stays.
        KeyboardInterrupt: (``TrainingInterrupted`` for the VAE) the checkpoint stays.
    """
    cls = model_class(model)
    if corpus.n_docs == 0 or corpus.bow.nnz == 0:
        raise CorpusError(f"corpus {corpus.name!r} has no documents with words; ingest documents first")
    if isinstance(n_topics, bool) or not isinstance(n_topics, (int, np.integer)) or not 2 <= n_topics < corpus.n_words:
        raise ConfigError(f"the number of topics must be an integer from 2 to {corpus.n_words - 1} "
                          f"(below the vocabulary size of corpus {corpus.name!r}), got {n_topics!r}")
    n_topics = int(n_topics)
    name = paths.check_name(name or default_run_name(corpus.name, model, n_topics), "run name")
    root = paths.runs_dir(runs_dir)
    final = root / name
    ckpt_dir = _checkpoint_dir(root, name)
    supports_resume = bool(getattr(cls, "supports_resume", False))
    checksum = _corpus_checksum(corpus)
    complete = (final / CONFIG_FILE).is_file()

    if resume:
        if not supports_resume:
            raise ConfigError(f"model {model!r} cannot resume training; train it again with --force")
        meta_file = ckpt_dir / CHECKPOINT_META
        if not (ckpt_dir / CHECKPOINT_FILE).is_file() or not meta_file.is_file():
            raise RunError(f"run {name!r} has no checkpoint in {root} to resume; train it without --resume")
        meta = json.loads(meta_file.read_text())
        if meta.get("model") != model:
            raise RunError(f"run {name!r} was trained with model {meta.get('model')!r}, not {model!r}")
        if meta.get("corpus_checksum") != checksum:
            raise RunError(f"run {name!r} was trained on another version of corpus {meta.get('corpus')!r} "
                           f"(bow checksum differs); resume it on that corpus or train a new run")
        saved = dict(meta.get("params", {}))
        if saved.get("n_topics", n_topics) != n_topics:
            raise RunError(f"run {name!r} has {saved.get('n_topics')} topics, not {n_topics}; "
                           "keep K or train a new run")
        saved.pop("n_topics", None)
        params = {**saved, **params}
    elif _is_main_process():  # (other data-parallel ranks would race rank 0's new checkpoint folder)
        if complete and not force:
            raise RunError(f"run {name!r} already exists in {root}; pass --force to replace it or choose another --name")
        if ckpt_dir.exists() and not force:
            raise RunError(f"run {name!r} was interrupted and has a checkpoint in {ckpt_dir}; "
                           "pass --resume to continue it or --force to start over")

    try:
        estimator = cls(n_topics=n_topics, **params)
    except TypeError as exc:
        raise ConfigError(f"bad setting for model {model!r}: {exc}") from exc
    if hasattr(estimator, "check_params"):
        estimator.check_params()
    train_rows = corpus.split_rows("train")
    if len(train_rows) == 0:
        raise CorpusError(f"corpus {corpus.name!r} has no documents in its 'train' split")
    X_train = corpus.bow if len(train_rows) == corpus.n_docs else corpus.bow[train_rows]  # (no copy when all train)
    all_params = estimator.get_params() if hasattr(estimator, "get_params") else {"n_topics": n_topics, **params}

    fit_kwargs: dict = {"progress": progress}
    main_process = _is_main_process()
    if supports_resume:
        if main_process:
            if not resume and ckpt_dir.exists():
                shutil.rmtree(ckpt_dir)
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            _write_json(ckpt_dir / CHECKPOINT_META, {"name": name, "model": model, "params": all_params,
                                                     "corpus": corpus.name, "corpus_checksum": checksum})
        fit_kwargs.update(checkpoint=ckpt_dir / CHECKPOINT_FILE, resume=resume)

    logger.info("training %s (K=%d) on %d documents of corpus %s as run %s%s", model, n_topics,
                len(train_rows), corpus.name, name, " (resumed)" if resume else "")
    t0 = time.perf_counter()
    estimator.fit(X_train, **fit_kwargs)
    fit_seconds = time.perf_counter() - t0
    if not main_process:  # data-parallel training: rank 0 writes the run
        return None

    doc_topic = np.asarray(estimator.transform(corpus.bow), dtype=np.float32)
    posterior = estimator.posterior(corpus.bow) if hasattr(estimator, "posterior") else None
    topic_word = np.asarray(estimator.topic_word_, dtype=np.float64)
    history = pd.DataFrame(getattr(estimator, "history_", None) or [])
    config = {
        "name": name,
        "model": model,
        "n_topics": n_topics,
        "params": all_params,
        "seed": all_params.get("seed"),
        "corpus": corpus.name,
        "corpus_path": str(Path(corpus.path).resolve()) if corpus.path is not None else None,
        "corpus_checksum": checksum,
        "preprocess": corpus.manifest.get("preprocess"),  # lets `infer` tokenize new text the same way
        "n_docs": corpus.n_docs,
        "n_words": corpus.n_words,
        "n_train_docs": int(len(train_rows)),
        "n_val_docs": getattr(estimator, "n_val_docs_", None),
        "epochs": int(len(history)),
        "best_epoch": getattr(estimator, "best_epoch_", None),
        "stopped_early": getattr(estimator, "stopped_early_", None),
        "fit_seconds": round(fit_seconds, 3),
        "resumed": bool(resume),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    with paths.atomic_dir(final, force=True) as tmp:
        estimator.save(tmp)
        history.to_csv(tmp / HISTORY_FILE, index=False)
        np.save(tmp / TOPIC_WORD_FILE, topic_word, allow_pickle=False)
        np.save(tmp / DOC_TOPIC_FILE, doc_topic, allow_pickle=False)
        if posterior is not None:
            np.save(tmp / Z_MEAN_FILE, np.asarray(posterior[0], dtype=np.float32), allow_pickle=False)
            np.save(tmp / Z_STD_FILE, np.asarray(posterior[1], dtype=np.float32), allow_pickle=False)
        topics_table(topic_word, corpus.vocab, TOP_WORDS_SAVED).to_csv(tmp / TOPICS_FILE, index=False)
        (tmp / VOCAB_FILE).write_text(json.dumps(list(corpus.vocab), ensure_ascii=False))
        _write_json(tmp / CONFIG_FILE, config)  # last: its presence marks a complete run
    logger.info("run %s written to %s (%.1fs of training)", name, final, fit_seconds)
    return Run.load(name, root)


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

    def __init__(self, path: Path, config: dict):
        self.path = Path(path)
        self.name = self.path.name
        self.config = config

    @classmethod
    def load(cls, name: str, runs_dir: str | Path | None = None) -> "Run":
        """Open ``<runs_dir>/<name>``; :class:`RunError` naming the runs there when it is missing or incomplete."""
        paths.check_name(name, "run name")
        root = paths.runs_dir(runs_dir)
        folder = root / name
        if not (folder / CONFIG_FILE).is_file():
            if (_checkpoint_dir(root, name) / CHECKPOINT_FILE).is_file():
                raise RunError(f"run {name!r} did not finish (interrupted or diverged); "
                               "continue it with --resume or start over with --force")
            have = ", ".join(r["name"] for r in list_runs(root)) or "none"
            raise RunError(f"no run named {name!r} in {root} (runs there: {have})")
        try:
            config = json.loads((folder / CONFIG_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise RunError(f"run {name!r} in {root} is damaged ({exc}); train it again with --force") from exc
        return cls(folder, config)

    def _array(self, fname: str) -> np.ndarray | None:
        file = self.path / fname
        return np.load(file, allow_pickle=False) if file.is_file() else None

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
        """float64 (K, V), rows sum to 1."""
        return self._array(TOPIC_WORD_FILE)

    @cached_property
    def doc_topic(self) -> np.ndarray:
        """float32 (n_docs, K) θ of every corpus document, in corpus row order."""
        return self._array(DOC_TOPIC_FILE)

    @cached_property
    def z_mean(self) -> np.ndarray | None:
        """float32 (n_docs, K) posterior mean of z, or None for models without one."""
        return self._array(Z_MEAN_FILE)

    @cached_property
    def z_std(self) -> np.ndarray | None:
        """float32 (n_docs, K) posterior standard deviation of z, or None."""
        return self._array(Z_STD_FILE)

    @cached_property
    def topics(self) -> pd.DataFrame:
        """topic, rank, word, weight of the top 20 words of each topic."""
        return pd.read_csv(self.path / TOPICS_FILE, keep_default_na=False)

    @cached_property
    def vocab(self) -> list[str]:
        return json.loads((self.path / VOCAB_FILE).read_text())

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


def format_topics(run: Run, n: int = 10) -> str:
    """Text for ``topicvae topics RUN``: a header line, then one line per topic with its top ``n`` words."""
    if n < 1:
        raise ConfigError("the number of words per topic must be at least 1")
    header = (f"{run.name}: {run.model_name}, {run.n_topics} topics, corpus {run.config.get('corpus')}, "
              f"{run.config.get('epochs')} epochs")
    width = len(str(run.n_topics - 1))
    lines = [header] + [f"{k:>{width}}  {' '.join(words)}" for k, words in enumerate(run.top_words(n))]
    return "\n".join(lines)
