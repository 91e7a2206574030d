"""``topicvae.ingest`` (this module is topicvae.corpus.ingestion): a source of documents → a saved :class:`~topicvae.corpus.Corpus`.

The recipe, one named step each: read the source as a stream, in partitions → check ids → each
partition's document table and token counts (tokenized in this process or by Dask workers,
:mod:`topicvae.corpus.cluster`) spilled to the corpus's temporary folder, the document frequencies summed →
fit the corpus's :class:`~topicvae.text.vectorizer.Vectorizer` (phrases; vocabulary) → encode each
partition, drop empty and short documents, write the shards and the table's row groups → save the
vectorizer and the manifest, and rename the complete folder into place.

Tokenizing itself lives in :mod:`topicvae.text.tokenize`; ``tokenize_texts`` and
``TokenizedTexts`` are still importable from here.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from topicvae import __version__, paths
from topicvae.corpus import Corpus, cluster
from topicvae.corpus.shards import SHARD_DOCS
from topicvae.corpus.table_writer import CorpusParts, MetaColumns
from topicvae.errors import ConfigError, CorpusError, SourceError
from topicvae.text import sources
from topicvae.text.metadata import add_metadata_columns
from topicvae.text.phrases import PhraseModel
from topicvae.text.settings import PreprocessSettings, VocabSettings, to_dict
from topicvae.text.tokenize import TokenizedTexts, tokenize_partition, tokenize_texts  # noqa: F401  (old home: importable)
from topicvae.text.vectorizer import Vectorizer
from topicvae.text.vocabulary import (Vocabulary, choose_by_frequencies, count_matrix, over_vocabulary,
                                      partition_counts, partition_token_lists, transform_tokens)

#: documents read, tokenized and spilled at a time by a streamed ingest
PARTITION_DOCS = 20_000
#: the folder, inside the corpus's temporary folder, of the partitions' spilled tables and token counts
SPILL_DIR = ".partitions"

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ the recipe
def read_stopwords(path: str | Path) -> list[str]:
    """Words from a text file (UTF-8, or UTF-16 with its byte-order mark), one or more a line;
    blank lines and ``#`` comments ignored. A binary or undecodable file is a :class:`SourceError`
    (its words, replaced characters and all, would match nothing)."""
    p = Path(path)
    if not p.is_file():
        raise SourceError(f"stop-word file not found: {path}" if not p.exists() else
                          f"stop-word file {path} is not a regular file; give a text file of words, one per line")
    data = p.read_bytes()
    if sources.looks_binary(data):
        raise SourceError(f"stop-word file {path} is a binary file; give a text file of words, one per line")
    text, bad = sources.decode(data)
    if bad:
        raise SourceError(f"stop-word file {path} is not UTF-8 text; save it as UTF-8")
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.extend(line.split())
    return words


def _documents_table(docs: list[sources.RawDoc] | sources.DocTable, known: dict[str, str] | None = None
                     ) -> pd.DataFrame:
    """The document table before filtering: id, text, label, date, split, then the metadata fields
    (named as in the whole stream with ``known``, see :func:`topicvae.text.metadata.metadata_columns`)."""
    if not isinstance(docs, sources.DocTable):
        docs = sources.DocTable.of_docs(docs)
    return add_metadata_columns(docs.frame.copy(deep=False), docs.meta, known)


def _source_sha256(source: str, fmt: str) -> str | None:
    if fmt in ("builtin", "folder"):
        return None
    if fmt == "octis":  # a dataset folder: its corpus.tsv holds the documents
        return paths.sha256_file(sources.octis_corpus_file(Path(source)))
    return paths.sha256_file(source)


# (61 lines: 46 of them its keyword arguments and their docstring)
def ingest(
    source: str,
    name: str,
    *,
    fmt: str | None = None,
    columns: sources.TableColumns | None = None,
    preprocess: PreprocessSettings | None = None,
    vocab: VocabSettings | None = None,
    corpora_dir: str | Path | None = None,
    force: bool = False,
    dedupe: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    n_process: int | None = None,
    progress: bool = False,
    shard_docs: int = SHARD_DOCS,
    partition_docs: int = PARTITION_DOCS,
) -> Corpus:
    """Read ``source``, preprocess it, build the bag-of-words and save ``corpora/<name>/``.

    The source is read as a stream, in partitions of ``partition_docs`` documents; each partition is
    tokenized (by a Dask worker with ``workers`` > 1 or ``scheduler``), the vocabulary is chosen from
    the document frequencies summed over the partitions, and the shards are written partition by
    partition. The corpus is the same whichever ``workers`` or ``scheduler`` tokenized it.

    Args:
        source: a path (csv, tsv, jsonl, parquet, folder, tar/zip archive, OCTIS dataset folder or
            its corpus.tsv) or ``builtin:sample``.
        name: the corpus name (a safe folder name).
        fmt: the source format, overriding detection (``"octis"`` for OCTIS' layout).
        columns: table columns holding text, id, label, date (tables only); ``columns.header=False``
            reads a CSV/TSV without a header row, its columns named by position (``"0"`` first).
        preprocess, vocab: settings; defaults from :mod:`topicvae.text.settings`.
        force: replace an existing corpus of that name.
        dedupe: keep the first of documents sharing an id instead of failing.
        workers: processes that tokenize: 1 (the default) in this process, more on a local Dask cluster
            (:mod:`topicvae.corpus.cluster`).
        scheduler: the address of a running Dask scheduler (``tcp://host:8786``) whose workers tokenize.
        n_process: the older name of ``workers`` (the same meaning).
        progress: show progress bars on stderr.
        shard_docs: the most documents in one shard of the saved bag-of-words (:mod:`topicvae.corpus.shards`).
        partition_docs: documents read, tokenized and spilled at a time (memory use follows it).

    Returns:
        The saved :class:`Corpus`.

    Raises:
        InUseError: another process is ingesting the same name now (checked, and the name
            locked, before any work; debris of killed ingests is removed then too).
    """
    workers = _checked_workers(workers, n_process, scheduler, partition_docs)
    paths.check_name(name, "corpus name")
    root = paths.corpora_dir(corpora_dir)
    with paths.name_lock(root, name, "corpus"):
        paths.sweep_debris(root, locked={name})
        paths.remove_stale_locks(root)
        if (root / name).exists() and not force:
            raise CorpusError(f"corpus {name!r} already exists in {root}; pass --force to replace it")
        return _ingest(source, name, fmt=fmt, columns=columns, preprocess=preprocess or PreprocessSettings(),
                       vocab=vocab or VocabSettings(), corpora_dir=root, force=force, dedupe=dedupe,
                       workers=workers, scheduler=scheduler, progress=progress, shard_docs=shard_docs,
                       partition_docs=int(partition_docs))


def _checked_workers(workers: int | None, n_process: int | None, scheduler: str | None, partition_docs) -> int:
    """The number of tokenizing processes ``ingest`` was asked for (``n_process`` is its older name), after
    checking it agrees with the other running settings; :class:`ConfigError` (one line) otherwise."""
    if n_process is not None and workers is not None and n_process != workers:
        raise ConfigError(f"n_process={n_process} and workers={workers} disagree; n_process is the older name of "
                          "workers, give one")
    workers = int(workers if workers is not None else n_process if n_process is not None else 1)
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if scheduler and workers > 1:
        raise ConfigError("--workers starts a local Dask cluster and --scheduler uses a running one; give one of them")
    if int(partition_docs) < 1:
        raise ConfigError(f"partition_docs must be at least 1, got {partition_docs!r}")
    return workers


def _ingest(source: str, name: str, *, fmt: str | None, columns: sources.TableColumns | None,
            preprocess: PreprocessSettings, vocab: VocabSettings, corpora_dir: Path, force: bool, dedupe: bool,
            workers: int, scheduler: str | None, progress: bool, shard_docs: int = SHARD_DOCS,
            partition_docs: int = PARTITION_DOCS) -> Corpus:
    """The recipe behind :func:`ingest`, run while the name is locked.

    Everything is written inside the corpus's temporary sibling folder (the partitions' spilled token
    counts and tables in its ``.partitions/``), renamed into place only when complete: an ingest that
    fails or is killed leaves no corpus, only debris that :func:`topicvae.paths.sweep_debris` removes.
    """
    t0 = time.perf_counter()
    fmt = fmt or sources.detect_format(source, columns)
    vectorizer = Vectorizer(preprocess, vocab)
    with paths.atomic_dir(corpora_dir / name, force=force) as tmp:
        spill = tmp / SPILL_DIR
        spill.mkdir()
        read = _Pass1(spill, vocab, dedupe)
        stream = sources.read_source_tables(source, fmt, columns, read.report)
        run = cluster.runner(workers, scheduler)  # first: a progress bar runs a thread, which stops a fork
        try:
            stream = _progress_documents(stream, progress, "reading")
            tasks = ((i, (texts, preprocess, vocab.phrases))
                     for i, texts in enumerate(read.partitions(stream, partition_docs)))
            for i, result in run.imap(tokenize_partition, tasks):
                read.add_result(i, result)
                log.info("partition %d tokenized: %d documents read at %.1fs", i, read.n_read,
                         time.perf_counter() - t0)
        finally:
            run.close()
        log.info("read and tokenized %d documents from %s (%s) on %s (partitions tokenized by %d processes) "
                 "at %.1fs", read.n_read, source, fmt, run.description, len(read.pids), time.perf_counter() - t0)
        counts, dropped = read.check(source, preprocess)
        read.forget_ids()  # some 120 bytes a document, not needed by the second pass
        voc = _choose_vocabulary(read, vectorizer)
        read.freq = None  # every token type's frequencies: the vocabulary is chosen
        log.info("vocabulary of %d words chosen on %d documents at %.1fs", len(voc.words), read.n_fit_used,
                 time.perf_counter() - t0)
        records, kept = _write(read, vectorizer, voc, tmp, shard_docs, progress)
        dropped["too_short"] = kept.pop("too_short")
        shutil.rmtree(spill)

        counts.update(kept_counts(kept, voc, dropped))
        manifest = _manifest(name, source, fmt, columns, preprocess, vocab, workers, scheduler, dedupe, counts,
                             fit_on_all=read.n_fit == 0 or read.n_fit == read.n_docs)
        manifest["seconds"] = round(time.perf_counter() - t0, 3)
        corpus = Corpus(name=name, bow=None, vocab=voc.words, docs=None, manifest=manifest, vectorizer=vectorizer)
        corpus.write_files(tmp, records)
    corpus = Corpus.load(name, corpora_dir)
    corpus.vectorizer = vectorizer
    log.info("corpus %s: %d documents, %d words", name, corpus.n_docs, corpus.n_words)
    return corpus


def _read(source: str, fmt: str, columns: sources.TableColumns | None,
          progress: bool) -> tuple[list[sources.RawDoc], dict]:
    """Every document of ``source``, with the counts of what was read and of what the reader left out
    (files skipped by reason; how a CSV/TSV was quoted). (``update`` reads its new documents so;
    ``ingest`` streams them, :class:`_Pass1`.)"""
    report = sources.ReadReport()
    docs = list(_progress(sources.read_source(source, fmt, columns, report), progress, "reading"))
    counts = {"read": len(docs), "bad_utf8": sum(d.bad_utf8 for d in docs),
              "read_splits": dict(Counter(d.split for d in docs if d.split is not None)),
              "read_labels": len({d.label for d in docs if d.label is not None}), **report.counts()}
    if not docs:
        raise CorpusError(f"{source} holds no documents")
    return docs, counts


# ------------------------------------------------------------------ the streamed passes
class _Frequencies:
    """Document and token frequencies of every token type, summed partition by partition, apart for
    the documents of the fit split and the others (which split chooses the words is known at the end)."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.types: list[str] = []
        self.df = np.zeros((2, 0), dtype=np.int64)  # row 0: fit-split documents, row 1: the others
        self.tf = np.zeros((2, 0), dtype=np.int64)

    def add(self, types: list[str], X: sp.csr_matrix, fit: np.ndarray) -> None:
        index, new = self.index, self.types

        def number(t: str) -> int:
            j = index.get(t)
            if j is None:
                j = index[t] = len(new)
                new.append(t)
            return j

        ids = np.fromiter((number(t) for t in types), dtype=np.int64, count=len(types))
        if len(index) > self.df.shape[1]:
            grow = max(len(index), 2 * self.df.shape[1]) - self.df.shape[1]
            self.df = np.pad(self.df, ((0, 0), (0, grow)))
            self.tf = np.pad(self.tf, ((0, 0), (0, grow)))
        for row, rows in ((0, fit), (1, ~fit)):
            Xr = X[np.flatnonzero(rows)]
            self.df[row, ids] += np.bincount(Xr.indices, minlength=X.shape[1])
            self.tf[row, ids] += np.asarray(Xr.sum(axis=0)).ravel().astype(np.int64)

    def totals(self, all_rows: bool) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.types)
        if all_rows:
            return self.df[:, :n].sum(axis=0), self.tf[:, :n].sum(axis=0)
        return self.df[0, :n], self.tf[0, :n]


class _Pass1:
    """The first pass over the source's stream: what was read, the document ids, the spilled partitions
    (tables and token counts, in ``spill``) and the frequencies that choose the vocabulary.

    Never holds more than the partitions in flight: of the whole stream it keeps the ids (for duplicates),
    the counts and the token types' frequencies.
    """

    def __init__(self, spill: Path, vocab: VocabSettings, dedupe: bool):
        self.spill, self.vocab, self.dedupe = spill, vocab, dedupe
        self.report = sources.ReadReport()
        self.n_read = self.bad_utf8 = self.n_docs = self.n_fit = self.n_nonempty = 0
        self.read_splits: Counter = Counter()
        self.read_labels: set = set()
        self.first_seen: dict[str, int] = {}  # id → its first document's position
        self.duplicates: dict[str, None] = {}
        self.dropped_duplicates = 0
        self.encoded_lines = self.docs_with_encoded_lines = 0
        self.meta = MetaColumns()
        self.freq = _Frequencies()
        self.fit: dict[int, np.ndarray] = {}  # per partition in flight: which documents are in the fit split
        self.sizes: dict[int, int] = {}
        self.n_fit_used = 0
        self.pids: set = set()  # the processes that tokenized

    def partitions(self, stream: Iterable[sources.DocTable], size: int) -> Iterator["pa.Array"]:
        """The texts (an Arrow array) of each partition of ``size`` documents of ``stream`` (duplicates
        dropped), its table spilled; none once a duplicate id makes the ingest fail (the rest is read to
        count them)."""
        held: list[sources.DocTable] = []
        n_held = index = 0
        for chunk in stream:
            held.append(chunk)
            n_held += len(chunk)
            if n_held < size:
                continue
            docs, start = sources.DocTable.concat(held), 0
            for start in range(0, n_held - size + 1, size):  # every full partition the chunks now hold
                texts = self._partition(index, docs.take(np.arange(start, start + size)))
                if texts is not None:
                    yield texts
                index += 1
            start += size
            held, n_held = ([docs.take(np.arange(start, n_held))] if start < n_held else []), n_held - start
        if n_held:
            texts = self._partition(index, sources.DocTable.concat(held))
            if texts is not None:
                yield texts

    def _partition(self, index: int, docs: sources.DocTable) -> "pa.Array | None":
        self.n_read += len(docs)
        self.bad_utf8 += int(docs.bad_utf8.sum())
        self.read_splits.update(docs.frame["split"].dropna().tolist())
        self.read_labels.update(docs.frame["label"].dropna().tolist())
        kept = np.ones(len(docs), dtype=bool)
        for i, id_ in enumerate(docs.frame["id"].tolist()):
            if id_ in self.first_seen:
                self.duplicates[id_] = None
                self.dropped_duplicates += 1
                kept[i] = False
                continue
            self.first_seen[id_] = len(self.first_seen)
        if self.duplicates and not self.dedupe:
            return None  # the ingest fails after the whole source is read (so all duplicates are counted)
        table = _documents_table(docs if kept.all() else docs.take(kept), self.meta.names)
        self.meta.add(table.iloc[:, 5:])  # (after id, text, label, date, split: the metadata fields)
        fit = (table["split"] == self.vocab.fit_split).fillna(False).to_numpy(dtype=bool)
        self.n_docs += len(table)
        self.n_fit += int(fit.sum())
        self.fit[index], self.sizes[index] = fit, len(table)
        with open(self.spill / f"docs-{index:06d}.pkl", "wb") as f:
            pickle.dump(table, f, protocol=pickle.HIGHEST_PROTOCOL)
        return _texts_to_send(table["text"])

    def add_result(self, index: int, result: dict) -> None:
        """Take one partition's tokens (from :func:`tokenize_partition`): count, spill."""
        fit = self.fit.pop(index)
        result["fit"] = fit
        self.pids.add(result.pop("pid", None))
        X = partition_counts(result)
        result["empty"] = np.diff(X.indptr) == 0
        self.n_nonempty += int((~result["empty"]).sum())
        self.encoded_lines += int(result["encoded"].sum())
        self.docs_with_encoded_lines += int((result["encoded"] > 0).sum())
        if not self.vocab.phrases:
            self.freq.add(result["types"], X, fit)
        with open(self.spill / f"tokens-{index:06d}.pkl", "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)

    def forget_ids(self) -> None:
        """Drop the document ids (kept for duplicates) once :meth:`check` has passed."""
        self.first_seen = {}
        self.duplicates = {}

    def indices(self) -> list[int]:
        return sorted(self.sizes)

    def tokens(self, index: int) -> dict:
        with open(self.spill / f"tokens-{index:06d}.pkl", "rb") as f:
            return pickle.load(f)

    def table(self, index: int) -> pd.DataFrame:
        with open(self.spill / f"docs-{index:06d}.pkl", "rb") as f:
            return pickle.load(f)

    def check(self, source: str, preprocess: PreprocessSettings) -> tuple[dict, dict]:
        """The counts of what was read; the one-line errors of a source without documents, with
        duplicate ids (without ``dedupe``) or whose documents are all empty."""
        if self.n_read == 0:
            raise CorpusError(f"{source} holds no documents")
        if self.duplicates and not self.dedupe:
            dup = sorted(self.duplicates, key=self.first_seen.__getitem__)
            shown = ", ".join(map(repr, dup[:3])) + (" ..." if len(dup) > 3 else "")
            raise CorpusError(f"{len(dup)} document id(s) occur more than once ({shown}); "
                              "fix the id column or pass --dedupe to keep the first of each")
        if self.n_nonempty == 0:
            raise CorpusError(
                f"every document is empty after preprocessing (strip={','.join(preprocess.strip) or 'none'}, "
                f"stop words, tokens shorter than {preprocess.min_token_len}); check --text-col and --strip"
            )
        counts = {"read": self.n_read, "bad_utf8": int(self.bad_utf8), "read_splits": dict(self.read_splits),
                  "read_labels": len(self.read_labels), **self.report.counts(),
                  "encoded_lines_dropped": self.encoded_lines, "docs_with_encoded_lines": self.docs_with_encoded_lines}
        dropped = {"duplicate_id": self.dropped_duplicates, "empty": self.n_docs - self.n_nonempty}
        return counts, dropped


def _texts_to_send(texts: pd.Series) -> "pa.Array":
    """A partition's texts as they go to :func:`tokenize_partition`: an Arrow array, which Dask sends as
    its buffers (a list of str it pickles string by string, at some times the CPU, in this process)."""
    import pyarrow as pa

    return pa.array(texts.array)


def _choose_vocabulary(read: _Pass1, vectorizer: Vectorizer) -> Vocabulary:
    """Learn the phrases (a pass over the spilled tokens of the fit documents) and pick the vocabulary
    from the summed frequencies; the documents of the fit split choose, or all when none is in it."""
    all_rows = read.n_fit == 0
    read.n_fit_used = read.n_docs if all_rows else read.n_fit
    if vectorizer.vocab.phrases:
        def fit_docs():
            for i in read.indices():
                result = read.tokens(i)
                for doc, fit in zip(partition_token_lists(result), result["fit"]):
                    if fit or all_rows:
                        yield doc

        vectorizer.phrases = PhraseModel.learn(fit_docs(), vectorizer.vocab)
        for i in read.indices():  # the frequencies of the tokens with phrases joined
            result = read.tokens(i)
            X, types = count_matrix([vectorizer.phrases.join(d) for d in partition_token_lists(result)])
            read.freq.add(types, X, result["fit"])
    else:
        vectorizer.phrases = None
    df, tf = read.freq.totals(all_rows)
    voc = choose_by_frequencies(df, tf, read.freq.types, read.n_fit_used, vectorizer.vocab)
    vectorizer.vocabulary = voc.words
    return voc


def _write(read: _Pass1, vectorizer: Vectorizer, voc: Vocabulary, folder: Path, shard_docs: int,
           progress: bool) -> tuple[list[dict], dict]:
    """The second pass: each spilled partition's counts over the vocabulary, its documents too short
    dropped, appended to the shards and the document table. Returns the shards' records and the counts
    of what was kept."""
    min_tokens = vectorizer.vocab.min_tokens
    with CorpusParts(folder, len(voc.words), shard_docs, read.meta) as parts:
        kept = _encode_partitions(read, vectorizer, voc, parts, progress)
        if kept["kept"] == 0:
            raise CorpusError(
                f"no document has at least --min-tokens {min_tokens} in-vocabulary tokens "
                f"(vocabulary of {len(voc.words)} words); lower --min-tokens or --min-df"
            )
    return parts.records, kept


def _encode_partitions(read: _Pass1, vectorizer: Vectorizer, voc: Vocabulary, parts: CorpusParts,
                       progress: bool) -> dict:
    """Each spilled partition's counts over the vocabulary and its table, short and empty documents
    dropped, handed to the shards and the document table; the counts of what was kept."""
    column = {w: j for j, w in enumerate(voc.words)}
    n_words, min_tokens = len(voc.words), vectorizer.vocab.min_tokens
    kept = {"kept": 0, "tokens": 0, "too_short": 0, "splits": Counter(), "labels": set()}
    for i in _progress(read.indices(), progress, "writing", unit="partition"):
        result = read.tokens(i)
        if vectorizer.phrases is not None:
            X, _ = transform_tokens([vectorizer.phrases.join(d) for d in partition_token_lists(result)], voc.words)
        else:
            # each row's columns sorted by the shards' writer threads (ShardWriter), not here
            X = over_vocabulary(partition_counts(result), result["types"], column, n_words, sort=False)
        n_tokens = np.asarray(X.sum(axis=1)).ravel().astype(np.int64)
        empty = result["empty"]
        short = (n_tokens < min_tokens) & ~empty
        rows = np.flatnonzero(~(short | empty))
        table = read.table(i)
        if len(rows) < len(table):  # (both copy)
            table, X = table.iloc[rows].reset_index(drop=True), X[rows]
        table.insert(5, "n_tokens", n_tokens[rows])
        kept["kept"] += len(rows)
        kept["tokens"] += int(n_tokens[rows].sum())
        kept["too_short"] += int(short.sum())
        kept["splits"].update(table["split"].dropna().tolist())
        kept["labels"].update(table["label"].dropna().tolist())
        parts.add(table, X)
    return kept


def kept_counts(kept: dict, voc: Vocabulary, dropped: dict) -> dict:
    """The manifest's counts of what the corpus keeps."""
    return {
        "dropped": dropped,
        "kept": int(kept["kept"]),
        "vocabulary": len(voc.words),
        "tokens": int(kept["tokens"]),
        "vocabulary_cut": voc.cut,
        "splits": {str(k): int(v) for k, v in sorted(kept["splits"].items(), key=lambda kv: (-kv[1], kv[0]))},
        "labels": len(kept["labels"]),
    }


def _manifest(name: str, source: str, fmt: str, columns: sources.TableColumns | None,
              preprocess: PreprocessSettings, vocab: VocabSettings, workers: int, scheduler: str | None,
              dedupe: bool, counts: dict, fit_on_all: bool) -> dict:
    """Provenance, settings and counts (``Corpus.write_files`` adds the files' checksums and sizes)."""
    return {
        "name": name,
        "topicvae_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": {"path": sources.printable_name(str(Path(source).resolve())) if fmt != "builtin" else source,
                   "format": fmt, "sha256": _source_sha256(source, fmt),
                   "columns": to_dict(columns) if columns else None},
        "preprocess": to_dict(preprocess),
        "vocab": to_dict(vocab),
        "vocab_fit_on": "all" if fit_on_all else vocab.fit_split,
        "workers": workers,
        "scheduler": scheduler,
        "dedupe": dedupe,
        "counts": counts,
    }


def _check_ids(docs: list[sources.RawDoc], dedupe: bool) -> tuple[list[sources.RawDoc], dict]:
    """Fail on duplicate ids, or with ``dedupe`` keep the first of each."""
    dup = [k for k, v in Counter(d.id for d in docs).items() if v > 1]
    if not dup:
        return docs, {"duplicate_id": 0}
    if not dedupe:
        shown = ", ".join(map(repr, dup[:3])) + (" ..." if len(dup) > 3 else "")
        raise CorpusError(f"{len(dup)} document id(s) occur more than once ({shown}); "
                          "fix the id column or pass --dedupe to keep the first of each")
    seen, kept = set(), []
    for d in docs:
        if d.id not in seen:
            seen.add(d.id)
            kept.append(d)
    return kept, {"duplicate_id": len(docs) - len(kept)}


def _progress(items: Iterable, enabled: bool, desc: str, unit: str = "doc"):
    from tqdm.auto import tqdm

    return tqdm(items, unit=unit, desc=desc, disable=not enabled, leave=False)


def _progress_documents(tables: Iterable[sources.DocTable], enabled: bool, desc: str) -> Iterator[sources.DocTable]:
    """``tables`` passed on, a bar counting their documents."""
    from tqdm.auto import tqdm

    with tqdm(unit="doc", desc=desc, disable=not enabled, leave=False) as bar:
        for table in tables:
            yield table
            bar.update(len(table))
