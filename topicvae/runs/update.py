"""``topicvae update``: continue a trained run on new documents and report how its topics drifted.

The recipe, one named step each:

1. check the request before reading anything: the source run exists and can train on
   (``supports_warm_start``: the VAEs and LDA), its corpus is the one it was trained on, the new
   name is free, the language asked for is the corpus's;
2. read the new documents with the run's corpus pipeline (its :class:`Vectorizer`: the same
   cleaning, tokenizer, lemmas, phrases and the *fixed* vocabulary) and count the tokens
   that are not in the vocabulary;
3. save a new corpus, named like the new run, holding the old corpus's documents (their
   rows, counts and splits unchanged) followed by the new ones, and a column
   :data:`BATCH_COLUMN` saying which batch each document came with; the old corpus is not
   touched. The new run's θ thus covers every document, old and new, for the dashboard;
4. train the new run from the source run's weights (``train_run(start_from=...)``: a VAE
   keeps its network and a fresh optimizer trains ``epochs`` epochs; LDA goes on with gensim's
   online update for ``epochs`` passes) on the new training documents, optionally with a
   seeded *replay* sample of the old training documents;
5. align the new topics to the old ones (Hungarian matching on Jensen–Shannon distance)
   and write the drift report, ``drift.json``, into the new run.

Topic ids: the warm start keeps every network unit (every LDA topic's λ), so topic k of the new run *is* topic k
of the old one trained on; the alignment checks that (``same_id``) and reports where the
matching would pair a topic with another old id. Topics are not reordered: reordering would
rewrite the network's weights, and a permutation found by the matching is itself drift
worth seeing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from topicvae import paths, runs
from topicvae.corpus import Corpus
from topicvae.corpus.shards import SHARD_DOCS
from topicvae.corpus.table_writer import CorpusParts, MetaColumns
from topicvae.corpus.ingestion import _check_ids, _documents_table, _read
from topicvae.errors import ConfigError, CorpusError, RunError, SourceError
from topicvae.runs.labels import carry_labels
from topicvae.scoring import metrics as evaluation
from topicvae.text import sources
from topicvae.text.vectorizer import Vectorizer, corpus_vectorizer

log = logging.getLogger(__name__)

DRIFT_FILE = "drift.json"
#: the mark an update leaves in its corpus until its run is whole: what a killed update left is recognised
PENDING_FILE = ".update-pending.json"
#: the metadata column of an updated corpus naming the batch each document came with: the
#: original corpus's name for its documents, the update's name for the new ones
BATCH_COLUMN = "batch"
#: a topic farther than this (Jensen–Shannon distance, base 2) from every old topic is "new"
NEW_TOPIC_DISTANCE = 0.5
#: refuse new documents of which more than this share of tokens is outside the vocabulary:
#: they are most likely in another language or the wrong text column
MAX_UNKNOWN_SHARE = 0.9
TOP_WORDS = 8
#: the share of the old training documents replayed by default (docs/update.md: on validation
#: documents of 20 Newsgroups, 0, 0.25 and 0.5 within 0.001 of each other on the mean; half guards
#: the old documents)
DEFAULT_REPLAY = 0.5
#: the topics' learning rate in an update, as a share of lr (ProdLDA, GSM; a topic_lr given wins):
#: they refine what the run learned instead of learning afresh. At the full rate an update moved
#: them far from the run's (up to 44 % of them past JS 0.5) and lost more NPMI against
#: training from scratch (docs/update.md)
UPDATE_TOPIC_LR = 0.1


@dataclass
class NewDocuments:
    """The new documents as the source run's pipeline reads them.

    Attributes:
        table: the document table of the documents kept (id, text, label, date, split,
            n_tokens, metadata); ``n_tokens`` counts in-vocabulary tokens, as in a corpus.
        X: their counts over the run's vocabulary (CSR, int32).
        read: documents read from the source.
        dropped: {"empty": ..., "too_short": ...} documents left out, as ingest drops them.
        tokens: tokens after preprocessing, in the vocabulary or not, of every document read.
        unknown_tokens: of those, tokens not in the vocabulary.
    """

    table: pd.DataFrame
    X: sp.csr_matrix
    read: int
    dropped: dict
    tokens: int
    unknown_tokens: int

    @property
    def unknown_share(self) -> float:
        return self.unknown_tokens / self.tokens if self.tokens else 0.0

    def unknown_line(self) -> str:
        """"N of M tokens (x %) were not in the vocabulary" and the documents dropped."""
        dropped = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in self.dropped.items() if v)
        return (f"{self.unknown_tokens:,} of {self.tokens:,} tokens ({100 * self.unknown_share:.1f} %) were not in "
                f"the vocabulary; {len(self.table):,} of {self.read:,} new documents kept"
                + (f" ({dropped} dropped)" if dropped else ""))


@dataclass
class UpdateResult:
    """What :func:`update_run` made: the new run and corpus, the new documents and the drift report."""

    run: runs.Run
    corpus: Corpus
    new: NewDocuments
    drift: dict


# ---------------------------------------------------------------------------- the recipe
def update_run(run_name: str, source: str, name: str, *, fmt: str | None = None,
               columns: sources.TableColumns | None = None, language: str | None = None,
               epochs: int | None = None, replay: float = DEFAULT_REPLAY, max_unknown: float = MAX_UNKNOWN_SHARE,
               corpora_dir: str | Path | None = None, runs_dir: str | Path | None = None, force: bool = False,
               progress: bool = False, **params) -> UpdateResult:
    """Continue run ``run_name`` on the documents of ``source``; write corpus and run ``name``.

    Args:
        run_name: the source run (a VAE or LDA run; it and its corpus are only read).
        source: new documents in any format ``ingest`` reads.
        name: the new run's name, also the new corpus's name.
        fmt, columns: the source's format and table columns, as for ``ingest``.
        language: the language the new documents are in (None: the run's corpus's); it must
            be the corpus's, since the vocabulary is.
        epochs: epochs (LDA: passes) over the new training documents (default: :func:`default_epochs`,
            half the epochs setting of the run the lineage started from, rounded up).
        replay: the share (0 to 1) of the old training documents, a seeded random sample,
            trained on beside the new ones (default :data:`DEFAULT_REPLAY`; 0: the new ones only).
        max_unknown: refuse when more than this share of the new tokens is outside the vocabulary.
        force: replace an existing corpus and run called ``name``.
        progress: show progress bars.
        **params: other settings of the model for the continued training (lr, batch_size,
            threads, seed, device, ...); the topics' ``topic_lr`` is :data:`UPDATE_TOPIC_LR`
            unless given.

    Raises:
        RunError: no such run, its corpus is gone or changed, the name is taken.
        ConfigError: a model that cannot train on, another language, a bad setting.
        SourceError, CorpusError: the source cannot be read or leaves no document.
    """
    t0 = time.perf_counter()
    source_run, old, root_runs, root_corpora, replace = _check_request(run_name, name, replay, corpora_dir, runs_dir,
                                                                        force, source)
    vectorizer = corpus_vectorizer(old)
    _check_language(source_run, old, vectorizer, language)
    params = _update_settings(source_run, params)
    model = _continued_model(source_run, default_epochs(source_run) if epochs is None else epochs, params)
    new = read_new_documents(source, vectorizer, fmt=fmt, columns=columns, progress=progress)
    _check_new_documents(new, source, source_run, vectorizer, max_unknown)
    corpus = _save_updated_corpus(old, new, name, source, fmt, columns, source_run, root_corpora, replace, t0)
    train_rows, replay_rows = training_rows(old, corpus, replay, int(params.get("seed", model.seed) or 0))
    extra = {"derived_from": source_run.name,
             "update": _update_record(source_run, old, new, source, replay, train_rows, replay_rows)}
    run = None
    try:
        run = runs.train_run(corpus, source_run.model_name, source_run.n_topics, name=name, runs_dir=root_runs,
                             force=replace, progress=progress, start_from=model, train_rows=train_rows,
                             config_extra=extra, **{k: getattr(model, k) for k in (model.epochs_setting, *params)})
        drift = drift_report(source_run, run, old.n_docs)
        write_drift(run, drift)
        carry_labels(source_run.path, run.path, [[k] for k in range(run.n_topics)])  # topic k is old topic k
        (corpus.path / PENDING_FILE).unlink()  # the corpus has its run: no longer an update's leftover
    except BaseException:  # nothing half-made stays: the corpus, any checkpoint and a run without its report go
        _discard(corpus, root_runs, name, run)
        raise
    log.info("update %s -> %s in %.1fs", source_run.name, name, time.perf_counter() - t0)
    return UpdateResult(run=run, corpus=corpus, new=new, drift=drift)


def _check_request(run_name: str, name: str, replay: float, corpora_dir, runs_dir, force: bool,
                   source: str) -> tuple[runs.Run, Corpus, Path, Path, bool]:
    """(source run, its corpus, runs folder, corpora folder, whether to replace a corpus and run of the new
    name) after checking the request can work."""
    root_runs, root_corpora = paths.runs_dir(runs_dir), paths.corpora_dir(corpora_dir)
    paths.check_name(name, "run name")
    source_run = runs.Run.load(run_name, root_runs)
    if name == source_run.name:
        raise ConfigError(f"--name must differ from {run_name!r}: update writes a new run and never changes the old one")
    if name == source_run.config.get("corpus"):
        raise ConfigError(f"--name {name!r} is the name of run {run_name!r}'s corpus, which update never replaces "
                          "(the new corpus is named after the new run); pick another --name")
    if not runs.model_class(source_run.model_name).supports_warm_start:
        raise ConfigError(f"run {run_name!r} is a {source_run.model_name} run, which cannot train on from its "
                          "weights; update a prodlda, gsm, nvdm or lda run")
    if not (isinstance(replay, (int, float)) and 0 <= replay <= 1):
        raise ConfigError(f"--replay must be a share from 0 to 1 of the old training documents, got {replay!r}")
    # the same update (its run, its source), killed after writing its corpus: taken up again, replacing what it left
    again = left_by_update(root_corpora, root_runs, name, source) == source_run.name
    if not (force or again):
        if runs.run_state(root_runs, name) != runs.NOTHING:
            raise RunError(f"run {name!r} already exists in {root_runs}; pick another --name or pass --force")
        if (root_corpora / name).exists():
            raise CorpusError(f"corpus {name!r} already exists in {root_corpora} (update names its corpus after "
                              "the new run); pick another --name or pass --force")
    return source_run, _source_corpus(source_run, root_corpora), root_runs, root_corpora, force or again


def left_by_update(root_corpora: Path, root_runs: Path, name: str, source: str | None = None) -> str | None:
    """The run an update of which left corpus ``name`` without its run, else None: the corpus still holds
    the mark the update writes with it and removes once its run is whole (:data:`PENDING_FILE`), and no
    live process holds the name (an update still training is not a leftover). With ``source``, only when
    that update read its new documents from there."""
    try:
        pending = json.loads((root_corpora / name / PENDING_FILE).read_text())
        run, read_from = pending["run"], pending["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if paths.is_locked(root_runs, name, tidy=False) or paths.is_locked(root_corpora, name, tidy=False):
        return None
    if source is not None and read_from != sources.printable_name(str(Path(source).resolve())):
        return None
    return None if runs.run_state(root_runs, name) == runs.COMPLETE else run


def _source_corpus(run: runs.Run, root: Path) -> Corpus:
    """The corpus ``run`` was trained on, unchanged; :class:`RunError` otherwise."""
    name = run.config.get("corpus")
    try:
        corpus = Corpus.load(name, root)
    except CorpusError as exc:
        raise RunError(f"run {run.name!r} was trained on corpus {name!r}, which cannot be read ({exc}); "
                       "update needs it") from None
    if corpus.checksum != run.config.get("corpus_checksum") or corpus.n_docs != run.config.get("n_docs"):
        raise RunError(f"corpus {name!r} has changed since run {run.name!r} was trained (bow checksum differs); "
                       "update needs the corpus the run was trained on")
    return corpus


def _check_language(run: runs.Run, corpus: Corpus, vectorizer: Vectorizer, language: str | None) -> None:
    """The new documents are read with the corpus's language; another one asked for is refused."""
    have = vectorizer.preprocess.lang
    if language is not None and language != have:
        raise ConfigError(f"run {run.name!r} was trained on corpus {corpus.name!r}, ingested as language {have!r}: "
                          f"its vocabulary cannot read documents in {language!r}; update a run of a corpus "
                          f"ingested with --language {language}, or drop --language")


def _update_settings(run: runs.Run, params: dict) -> dict:
    """The settings of the continued training: ``params``, with the topics' learning rate at
    :data:`UPDATE_TOPIC_LR` for a model that has one and was given none."""
    if "topic_lr" in runs.model_class(run.model_name).param_names() and "topic_lr" not in params:
        return {**params, "topic_lr": UPDATE_TOPIC_LR}
    return params


def _continued_model(run: runs.Run, epochs: int, params: dict):
    """The source run's model with the settings of the continued training applied and checked
    (so bad settings fail before anything is written)."""
    runs.check_settings(run.model_name, params)
    model = run.model
    setattr(model, model.epochs_setting, epochs)
    for key, value in params.items():
        setattr(model, key, value)
    model.check_params()
    return model


def base_epochs(run: runs.Run) -> int:
    """The epochs setting (LDA: passes) of the first run of ``run``'s lineage (updates record it), else of ``run``."""
    recorded = (run.config.get("update") or {}).get("base_epochs")
    if recorded is not None:
        return int(recorded)
    setting = runs.model_class(run.model_name).epochs_setting
    value = (run.config.get("params") or {}).get(setting) or getattr(run.model, setting)
    return int(value if value is not None else run.config["epochs"])  # None: automatic, so the epochs it ran


def default_epochs(run: runs.Run) -> int:
    """Epochs of an update by default: half the epochs setting of the run the lineage started from,
    rounded up (so a chain of updates does not halve them again each time)."""
    return max(1, math.ceil(base_epochs(run) / 2))


# ---------------------------------------------------------------------------- reading
def read_new_documents(source: str, vectorizer: Vectorizer, *, fmt: str | None = None,
                       columns: sources.TableColumns | None = None, n_process: int = 1,
                       progress: bool = False) -> NewDocuments:
    """The documents of ``source`` as counts over ``vectorizer``'s fixed vocabulary.

    Documents with no token at all, or with fewer in-vocabulary tokens than the vocabulary
    settings' ``min_tokens``, are dropped and counted, as ``ingest`` drops them.
    """
    fmt = fmt or sources.detect_format(source, columns)
    docs, _ = _read(source, fmt, columns, progress)
    docs, _ = _check_ids(docs, dedupe=False)
    table = _documents_table(docs)
    X, n_tokens = vectorizer.count(table["text"].tolist(), n_process=n_process)
    known = np.asarray(X.sum(axis=1)).ravel().astype(np.int64)
    empty = n_tokens == 0
    short = ~empty & (known < vectorizer.vocab.min_tokens)
    keep = np.flatnonzero(~(empty | short))
    table = table.iloc[keep].reset_index(drop=True)
    table.insert(5, "n_tokens", known[keep])
    return NewDocuments(table=table, X=X[keep].astype(np.int32).tocsr(), read=len(docs),
                        dropped={"empty": int(empty.sum()), "too_short": int(short.sum())},
                        tokens=int(n_tokens.sum()), unknown_tokens=int(n_tokens.sum() - known.sum()))


def _check_new_documents(new: NewDocuments, source: str, run: runs.Run, vectorizer: Vectorizer,
                         max_unknown: float) -> None:
    """One line when the new documents cannot update the run: none kept, or hardly a known word."""
    hint = (f"are they in the corpus's language ({vectorizer.preprocess.lang!r}) and is --text-col the column "
            "with the text?")
    if new.unknown_share > max_unknown:
        raise SourceError(f"{source}: {new.unknown_line()}, over the {100 * max_unknown:.0f} % --max-unknown "
                          f"allows; {hint}")
    if len(new.table) == 0:
        raise SourceError(f"{source}: no new document has at least {vectorizer.vocab.min_tokens} tokens of run "
                          f"{run.name!r}'s vocabulary ({len(run.vocab):,} words); {hint}")
    if not (new.table["split"].fillna("train") == "train").any():
        raise SourceError(f"{source}: none of the new documents is in the 'train' split, so there is nothing "
                          "to train on; leave out --split-col or mark some rows train")


# ---------------------------------------------------------------------------- the updated corpus
def _save_updated_corpus(old: Corpus, new: NewDocuments, name: str, source: str, fmt: str | None,
                         columns: sources.TableColumns | None, run: runs.Run, root: Path, force: bool,
                         t0: float) -> Corpus:
    """The updated corpus (:func:`write_updated_corpus`) with its manifest, saved atomically under the
    name's lock."""
    with paths.name_lock(root, name, "corpus"):
        paths.sweep_debris(root, locked={name})
        with paths.atomic_dir(root / name, force=force) as tmp:
            records, counts = write_updated_corpus(old, new, name, tmp)
            manifest = _updated_manifest(old, new, name, counts, source, fmt, columns, run)
            manifest["seconds"] = round(time.perf_counter() - t0, 3)
            Corpus(name=name, bow=None, vocab=list(old.vocab), docs=None, manifest=manifest,
                   vectorizer=corpus_vectorizer(old)).write_files(tmp, records)
            (tmp / PENDING_FILE).write_text(json.dumps({"run": run.name, "source": manifest["update"]["source"]["path"]}))
    return Corpus.load(name, root)


def write_updated_corpus(old: Corpus, new: NewDocuments, name: str, folder: Path) -> tuple[list[dict], dict]:
    """Write into ``folder`` the old corpus's documents (rows, counts, splits unchanged) followed by the new
    ones, over the same vocabulary, with :data:`BATCH_COLUMN` naming each document's batch; the shards'
    records and the counts of what was written.

    The old corpus is read a shard at a time (its counts and its table's rows), so memory holds one
    shard and the new documents whatever the old corpus's size. New documents without a split are
    training documents; a new id that an old document has already is prefixed with ``NAME/`` (the
    dashboard finds documents by id).
    """
    fill_split = _split_missing(old)
    new_docs = _new_documents_table(old, new, name)
    meta = _table_columns(old, new_docs)
    shard_docs = old.shards[0]["rows"] if len(old.shards) > 1 else SHARD_DOCS  # (the old corpus's shard size)
    counts = {"tokens": 0, "splits": Counter(), "labels": set()}
    with CorpusParts(folder, old.n_words, shard_docs, meta) as parts:
        for start, X in old.iter_shards():
            table = _old_documents_table(old, np.arange(start, start + X.shape[0]), fill_split)
            _count(counts, table, X)
            parts.add(table, X)
        X = new.X.astype(np.int32)
        _count(counts, new_docs, X)
        parts.add(new_docs, X)
    return parts.records, counts


def _count(counts: dict, table: pd.DataFrame, X: sp.csr_matrix) -> None:
    """Add a part's tokens, splits and labels to the updated corpus's ``counts``."""
    counts["tokens"] += int(X.sum())
    counts["splits"].update(table["split"].dropna().tolist())
    counts["labels"].update(table["label"].dropna().tolist())


def _split_missing(old: Corpus) -> bool:
    """Whether the old corpus has no split at all (every document trains): its documents then say so."""
    split = old.column("split")
    return split is None or bool(split.isna().all())


def _old_documents_table(old: Corpus, rows: np.ndarray, fill_split: bool) -> pd.DataFrame:
    """The old corpus's table rows ``rows`` as the updated corpus holds them: the split said, the batch named."""
    table = old.table(rows)
    if fill_split:
        table["split"] = "train"
    if BATCH_COLUMN not in table:
        table[BATCH_COLUMN] = old.name
    return _with_text_columns(table)


def _new_documents_table(old: Corpus, new: NewDocuments, name: str) -> pd.DataFrame:
    """The new documents' table as the updated corpus holds it: training documents unless said otherwise,
    the batch named, ids that an old document has already prefixed with ``NAME/`` (the old ids are read
    a row group at a time)."""
    table = new.table.copy()
    table["split"] = table["split"].fillna("train")
    table[BATCH_COLUMN] = name
    ids = table["id"].astype(str)
    wanted, taken = set(ids), set()
    for start, n in _row_blocks(old):
        taken |= wanted.intersection(old.column("id", np.arange(start, start + n)).astype(str))
    table["id"] = [i if i not in taken else f"{name}/{i}" for i in ids]
    return _with_text_columns(table)


def _row_blocks(corpus: Corpus):
    """(first row, number of rows) of each of the corpus's shards (its table's row groups), without reading
    them."""
    from topicvae.corpus.shards import shard_starts

    starts = shard_starts(corpus.shards)
    return [(int(starts[i]), int(starts[i + 1] - starts[i])) for i in range(len(starts) - 1)]


def _with_text_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its label, date, split and batch columns as text (one type for old and new rows)."""
    for column in ("label", "date", "split", BATCH_COLUMN):
        table[column] = table[column].astype("string")
    return table


def _table_columns(old: Corpus, new_docs: pd.DataFrame) -> MetaColumns:
    """The columns after ``n_tokens`` of the updated table (the old ones, the batch, then the new documents'
    own), with the types of their values in the old table and in the new documents, so that the table
    written a shard at a time has one schema."""
    base = ["id", "text", "label", "date", "split", "n_tokens"]
    old_columns = old.column_names()
    names = [c for c in old_columns if c not in base]
    names += [c for c in [BATCH_COLUMN, *new_docs.columns] if c not in base and c not in names]
    meta = MetaColumns()
    meta.names = {c: c for c in names}
    old_meta = [c for c in old_columns if c not in base]
    for start, n in _row_blocks(old) if old_meta else []:
        rows = np.arange(start, start + n)
        meta.add(pd.DataFrame({c: old.column(c, rows) for c in old_meta}))
    meta.add(new_docs.drop(columns=[c for c in base if c in new_docs]))
    return meta


def _updated_manifest(old: Corpus, new: NewDocuments, name: str, counts: dict, source: str, fmt: str | None,
                      columns: sources.TableColumns | None, run: runs.Run) -> dict:
    """The old manifest's settings (preprocessing, vocabulary, language) with this corpus's
    counts (``counts``: what :func:`write_updated_corpus` wrote), its lineage and the update's own record."""
    from topicvae.text.settings import to_dict

    manifest = deepcopy(old.manifest)
    for written_again in ("checksums", "sizes", "shards"):
        manifest.pop(written_again, None)
    totals = dict(manifest.get("counts") or {})
    dropped = Counter({k: int(v) for k, v in (totals.get("dropped") or {}).items()})
    dropped.update({k: int(v) for k, v in new.dropped.items()})
    totals.update({"read": int(totals.get("read", old.n_docs)) + new.read, "dropped": dict(dropped),
                   "kept": old.n_docs + len(new.table), "vocabulary": old.n_words, "tokens": counts["tokens"],
                   "splits": {str(k): int(v) for k, v in sorted(counts["splits"].items(), key=lambda kv: (-kv[1], kv[0]))},
                   "labels": len(counts["labels"])})
    fmt = fmt or sources.detect_format(source, columns)
    manifest.update({
        "name": name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": totals,
        "derived_from": {"corpus": old.name, "corpus_checksum": old.checksum, "run": run.name},
        "update": {"source": {"path": sources.printable_name(str(Path(source).resolve())), "format": fmt,
                              "columns": to_dict(columns) if columns else None},
                   "old_documents": old.n_docs, "new_documents": len(new.table), "read": new.read,
                   "dropped": new.dropped, "tokens": new.tokens, "unknown_tokens": new.unknown_tokens,
                   "batch_column": BATCH_COLUMN},
    })
    return manifest


def training_rows(old: Corpus, corpus: Corpus, replay: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rows to train on, the replayed old rows among them): the new documents of the 'train'
    split, and a seeded random ``replay`` share of the old corpus's training documents."""
    new_train = corpus.split_rows("train")
    new_train = new_train[new_train >= old.n_docs]
    old_train = old.split_rows("train")
    n_replay = int(round(replay * len(old_train)))
    replayed = np.sort(np.random.default_rng(seed).choice(old_train, size=n_replay, replace=False)) \
        if n_replay else np.zeros(0, dtype=np.int64)
    return np.concatenate([replayed, new_train]).astype(np.int64), replayed.astype(np.int64)


def _update_record(run: runs.Run, old: Corpus, new: NewDocuments, source: str, replay: float,
                   train_rows: np.ndarray, replay_rows: np.ndarray) -> dict:
    """config.json's ``update`` entry: where the run came from and what it trained on."""
    return {"source_run": run.name, "source_corpus": old.name, "source": sources.printable_name(str(source)),
            "base_epochs": base_epochs(run),
            "old_documents": old.n_docs, "new_documents": len(new.table), "new_rows_start": old.n_docs,
            "read": new.read, "dropped": new.dropped, "tokens": new.tokens, "unknown_tokens": new.unknown_tokens,
            "replay": replay, "replayed_documents": int(len(replay_rows)),
            "trained_documents": int(len(train_rows)), "batch_column": BATCH_COLUMN}


def _discard(corpus: Corpus, root_runs: Path, name: str, run: runs.Run | None = None) -> None:
    """Remove what a failed or interrupted update wrote: its corpus, the run's checkpoint and the
    run itself when it was written (``run``)."""
    if corpus.path is not None:
        shutil.rmtree(corpus.path, ignore_errors=True)
    if run is not None:
        runs.discard_run(run)
    if runs.run_state(root_runs, name) != runs.COMPLETE:
        shutil.rmtree(root_runs / f".{name}.checkpoint", ignore_errors=True)


# ---------------------------------------------------------------------------- drift
def drift_report(old_run: runs.Run, new_run: runs.Run, n_old_docs: int,
                 threshold: float = NEW_TOPIC_DISTANCE) -> dict:
    """How the topics moved from ``old_run`` to ``new_run`` (same vocabulary, same K).

    Per topic k of the new run: ``matched_old`` (its old topic under Hungarian matching on
    Jensen–Shannon distance) and ``js_distance`` to it; ``js_same_id`` (distance to old
    topic k); ``nearest_old`` and its distance; ``prevalence_before`` (mean θ of old topic k
    under the old run over the old documents), ``prevalence_after`` (mean θ of topic k under
    the new run over every document, old and new) and ``prevalence_new_docs`` (the new
    documents only); ``status``: ``kept`` (matched to its own id within ``threshold``),
    ``moved`` (matched within ``threshold`` to another old id) or ``new`` (no old topic
    within ``threshold``). ``summary`` holds the shares and the old topics left without a
    close new topic (``gone``).
    """
    old_tw, new_tw = old_run.topic_word, new_run.topic_word
    dist = evaluation.js_distance_matrix(new_tw, old_tw)  # new topics × old topics
    pairs, matched = evaluation.align_topics(new_tw, old_tw)
    match = {j: i for j, i in pairs}
    # memory-mapped and summed a block at a time: resident memory stays flat whatever the corpus's size
    theta_old = old_run.array(runs.DOC_TOPIC_FILE, mmap_mode="r")
    theta_new = new_run.array(runs.DOC_TOPIC_FILE, mmap_mode="r")
    n_new = theta_new.shape[0]
    before = runs.weighted_row_sum(theta_old, stop=n_old_docs) / n_old_docs
    after = runs.weighted_row_sum(theta_new) / n_new
    on_new = (runs.weighted_row_sum(theta_new, start=n_old_docs) / (n_new - n_old_docs) if n_new > n_old_docs
              else np.zeros(new_tw.shape[0]))
    old_words, new_words = old_run.top_words(TOP_WORDS), new_run.top_words(TOP_WORDS)
    topics = []
    for k in range(new_tw.shape[0]):
        i = match[k]
        nearest = int(np.argmin(dist[k]))
        status = "new" if dist[k, nearest] > threshold else ("kept" if i == k and dist[k, i] <= threshold else "moved")
        topics.append({"topic": k, "matched_old": i, "js_distance": round(float(dist[k, i]), 4),
                       "js_same_id": round(float(dist[k, k]), 4) if k < old_tw.shape[0] else None,
                       "nearest_old": nearest, "nearest_js": round(float(dist[k, nearest]), 4),
                       "prevalence_before": round(float(before[k]), 5) if k < len(before) else None,
                       "prevalence_after": round(float(after[k]), 5),
                       "prevalence_new_docs": round(float(on_new[k]), 5),
                       "status": status, "words": " ".join(new_words[k]), "old_words": " ".join(old_words[i])})
    gone = [int(i) for i in range(old_tw.shape[0]) if dist[:, i].min() > threshold]
    n = len(topics)
    summary = {"source_run": old_run.name, "run": new_run.name, "threshold": threshold, "n_topics": n,
               "matched": int(sum(t["js_distance"] <= threshold for t in topics)),
               "matched_same_id": int(sum(t["status"] == "kept" for t in topics)),
               "same_id_share": round(sum(t["status"] == "kept" for t in topics) / n, 4),
               "matched_share": round(float(np.mean(matched <= threshold)), 4),
               "mean_js": round(float(np.mean(matched)), 4),
               "permuted": [k for k in range(n) if match[k] != k],
               "new": [t["topic"] for t in topics if t["status"] == "new"], "gone": gone,
               "prevalence_after": "new run, every document (old and new)",
               "prevalence_before": "old run, the old documents"}
    return {"format": 1, "summary": summary, "topics": topics}


def write_drift(run: runs.Run, drift: dict) -> Path:
    """Write ``drift.json`` into the run folder (write-then-rename, under the run's name lock)."""
    path = run.path / DRIFT_FILE
    with paths.name_lock(run.path.parent, run.name, "run"):
        with paths.atomic_file(path) as tmp:
            tmp.write_text(json.dumps(drift, indent=2, ensure_ascii=False))
    return path


def read_drift(run) -> dict | None:
    """The drift report of a run made by :func:`update_run`, or None for other runs.

    Raises:
        RunError: ``drift.json`` is there but cannot be read.
    """
    path = Path(getattr(run, "path", run)) / DRIFT_FILE
    if not path.is_file():
        return None
    try:
        drift = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} cannot be read ({exc}); run the update again with --force") from None
    if not isinstance(drift, dict) or not isinstance(drift.get("topics"), list):
        raise RunError(f"{path} is not a drift report; run the update again with --force")
    return drift


def drift_table(drift: dict) -> pd.DataFrame:
    """The per-topic rows of a drift report as a table, the farthest-moved topics first."""
    table = pd.DataFrame(drift["topics"])
    return table.sort_values(["js_distance", "topic"], ascending=[False, True], kind="stable").reset_index(drop=True)


def format_drift(drift: dict, top: int = 10) -> str:
    """The text ``topicvae update`` prints: the summary line and the ``top`` largest changes."""
    s = drift["summary"]
    lines = [f"topics: {s['matched']} of {s['n_topics']} matched to an old topic at JS distance <= "
             f"{s['threshold']} ({s['matched_same_id']} to their own id); mean distance {s['mean_js']:.3f}"
             + (f"; new: {', '.join(map(str, s['new']))}" if s["new"] else "")
             + (f"; old topics without a close match: {', '.join(map(str, s['gone']))}" if s["gone"] else "")]
    table = drift_table(drift).head(top)
    width = max(len("topic"), *(len(str(t)) for t in table["topic"]))
    lines.append(f"{'topic':>{width}}  old  JS     before  after   new docs  status  words")
    for r in table.itertuples(index=False):
        before = "-" if r.prevalence_before is None else f"{r.prevalence_before:.3f}"
        lines.append(f"{r.topic:>{width}}  {r.matched_old:>3}  {r.js_distance:.3f}  {before:>6}  "
                     f"{r.prevalence_after:.3f}   {r.prevalence_new_docs:.3f}     {r.status:<6}  {r.words}")
    return "\n".join(lines)
