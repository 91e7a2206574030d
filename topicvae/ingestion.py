"""``topicvae.ingest`` (this module is topicvae.ingestion): a source of documents → a saved :class:`~topicvae.corpus.Corpus`.

The recipe, one named step each: read → check ids → document table → fit the corpus's
:class:`~topicvae.text.vectorizer.Vectorizer` (clean and tokenize, optionally in parallel;
phrases; vocabulary) → drop empty and short documents → save, the vectorizer with it.

Tokenizing itself lives in :mod:`topicvae.text.tokenize`; ``tokenize_texts`` and
``TokenizedTexts`` are still importable from here.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import __version__, paths
from .text.settings import PreprocessSettings, VocabSettings, to_dict
from .corpus import Corpus
from .errors import CorpusError, SourceError
from .shards import SHARD_DOCS
from .text import sources
from .text.metadata import add_metadata
from .text.tokenize import TokenizedTexts, tokenize_texts  # noqa: F401  (their old home: kept importable)
from .text.vocabulary import Vocabulary
from .text.vectorizer import TypeCounts, Vectorizer

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


def _documents_table(docs: list[sources.RawDoc]) -> pd.DataFrame:
    """The document table before filtering: id, text, label, date, split, then the metadata fields."""
    table = pd.DataFrame({
        "id": [d.id for d in docs],
        "text": [d.text for d in docs],
        "label": pd.array([d.label for d in docs], dtype="string"),
        "date": pd.array([d.date for d in docs], dtype="string"),
        "split": pd.array([d.split for d in docs], dtype="string"),
    })
    return add_metadata(table, [d.meta for d in docs])


def _source_sha256(source: str, fmt: str) -> str | None:
    if fmt in ("builtin", "folder"):
        return None
    if fmt == "octis":  # a dataset folder: its corpus.tsv holds the documents
        return paths.sha256_file(sources.octis_corpus_file(Path(source)))
    return paths.sha256_file(source)


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
    n_process: int = 1,
    progress: bool = False,
    shard_docs: int = SHARD_DOCS,
) -> Corpus:
    """Read ``source``, preprocess it, build the bag-of-words and save ``corpora/<name>/``.

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
        n_process: processes used for tokenizing.
        progress: show progress bars on stderr.
        shard_docs: the most documents in one shard of the saved bag-of-words (:mod:`topicvae.shards`).

    Returns:
        The saved :class:`Corpus`.

    Raises:
        InUseError: another process is ingesting the same name now (checked, and the name
            locked, before any work; debris of killed ingests is removed then too).
    """
    paths.check_name(name, "corpus name")
    root = paths.corpora_dir(corpora_dir)
    with paths.name_lock(root, name, "corpus"):
        paths.sweep_debris(root, locked={name})
        paths.remove_stale_locks(root)
        if (root / name).exists() and not force:
            raise CorpusError(f"corpus {name!r} already exists in {root}; pass --force to replace it")
        return _ingest(source, name, fmt=fmt, columns=columns, preprocess=preprocess or PreprocessSettings(),
                       vocab=vocab or VocabSettings(), corpora_dir=root, force=force, dedupe=dedupe,
                       n_process=n_process, progress=progress, shard_docs=shard_docs)


def _ingest(source: str, name: str, *, fmt: str | None, columns: sources.TableColumns | None,
            preprocess: PreprocessSettings, vocab: VocabSettings, corpora_dir: Path, force: bool, dedupe: bool,
            n_process: int, progress: bool, shard_docs: int = SHARD_DOCS) -> Corpus:
    """The recipe behind :func:`ingest`, run while the name is locked."""
    t0 = time.perf_counter()
    fmt = fmt or sources.detect_format(source, columns)
    docs, counts = _read(source, fmt, columns, progress)
    log.info("read %d documents from %s (%s) in %.1fs", len(docs), source, fmt, time.perf_counter() - t0)
    docs, dropped = _check_ids(docs, dedupe)
    table = _documents_table(docs)
    fit_rows = _fit_rows(table, vocab)

    vectorizer = Vectorizer(preprocess, vocab)
    typed = vectorizer.count_types([d.text for d in docs], fit_rows, n_process=n_process, progress=progress)
    log.info("tokenized %d documents (n_process=%d) at %.1fs", len(docs), n_process, time.perf_counter() - t0)
    counts.update(_encoded_counts(typed.encoded_lines))
    empty = _empty_documents(typed.X, preprocess)
    dropped["empty"] = int(empty.sum())
    voc = vectorizer.fit_vocabulary(typed, fit_rows)
    log.info("vocabulary of %d words chosen on %d documents at %.1fs", len(voc.words), len(fit_rows),
             time.perf_counter() - t0)
    X, table, dropped["too_short"] = _keep_long_enough(typed, voc, table, empty, vocab.min_tokens)
    del typed

    counts.update(_kept_counts(X, table, voc, dropped))
    manifest = _manifest(name, source, fmt, columns, preprocess, vocab, n_process, dedupe, counts,
                         fit_on_all=len(fit_rows) == counts["read"] - dropped.get("duplicate_id", 0))
    corpus = Corpus(name=name, bow=X, vocab=voc.words, docs=table, manifest=manifest, vectorizer=vectorizer)
    manifest["seconds"] = round(time.perf_counter() - t0, 3)
    corpus.save(corpora_dir, force=force, shard_docs=shard_docs)
    log.info("corpus %s: %d documents, %d words", name, corpus.n_docs, corpus.n_words)
    return corpus


def _read(source: str, fmt: str, columns: sources.TableColumns | None,
          progress: bool) -> tuple[list[sources.RawDoc], dict]:
    """Every document of ``source``, with the counts of what was read and of what the reader left out
    (files skipped by reason; how a CSV/TSV was quoted)."""
    report = sources.ReadReport()
    docs = list(_progress(sources.read_source(source, fmt, columns, report), progress, "reading"))
    counts = {"read": len(docs), "bad_utf8": sum(d.bad_utf8 for d in docs),
              "read_splits": dict(Counter(d.split for d in docs if d.split is not None)),
              "read_labels": len({d.label for d in docs if d.label is not None}), **report.counts()}
    if not docs:
        raise CorpusError(f"{source} holds no documents")
    return docs, counts


def _fit_rows(table: pd.DataFrame, vocab: VocabSettings) -> np.ndarray:
    """The documents that learn phrases and vocabulary: those of ``vocab.fit_split``, or all
    when no document is in it (held-out documents must not choose the words)."""
    rows = np.flatnonzero((table["split"] == vocab.fit_split).fillna(False).to_numpy())
    return rows if len(rows) else np.arange(len(table))


def _encoded_counts(encoded_lines: list[int]) -> dict:
    return {"encoded_lines_dropped": int(sum(encoded_lines)),
            "docs_with_encoded_lines": int(sum(e > 0 for e in encoded_lines))}


def _empty_documents(X: sp.csr_matrix, preprocess: PreprocessSettings) -> np.ndarray:
    """Which documents have no token at all; :class:`CorpusError` naming the filters when none has."""
    empty = np.diff(X.indptr) == 0
    if empty.all():
        raise CorpusError(
            f"every document is empty after preprocessing (strip={','.join(preprocess.strip) or 'none'}, "
            f"stop words, tokens shorter than {preprocess.min_token_len}); check --text-col and --strip"
        )
    return empty


def _keep_long_enough(typed: TypeCounts, voc: Vocabulary, table: pd.DataFrame, empty: np.ndarray,
                      min_tokens: int) -> tuple[sp.csr_matrix, pd.DataFrame, int]:
    """The bag-of-words and document table of the documents kept: not empty and with at
    least ``min_tokens`` vocabulary tokens; also how many were too short."""
    X = typed.X[:, voc.columns].tocsr()
    n_tokens = np.asarray(X.sum(axis=1)).ravel()
    short = (n_tokens < min_tokens) & ~empty
    keep = ~(short | empty)
    if not keep.any():
        raise CorpusError(
            f"no document has at least --min-tokens {min_tokens} in-vocabulary tokens "
            f"(vocabulary of {len(voc.words)} words); lower --min-tokens or --min-df"
        )
    rows = np.flatnonzero(keep)
    table = table.iloc[rows].reset_index(drop=True)
    table.insert(5, "n_tokens", n_tokens[rows].astype(np.int64))
    return X[rows].astype(np.int32), table, int(short.sum())


def _kept_counts(X: sp.csr_matrix, table: pd.DataFrame, voc: Vocabulary, dropped: dict) -> dict:
    return {
        "dropped": dropped,
        "kept": int(X.shape[0]),
        "vocabulary": len(voc.words),
        "tokens": int(X.sum()),
        "vocabulary_cut": voc.cut,
        "splits": {str(k): int(v) for k, v in table["split"].value_counts(dropna=True).items()},
        "labels": int(table["label"].nunique(dropna=True)),
    }


def _manifest(name: str, source: str, fmt: str, columns: sources.TableColumns | None,
              preprocess: PreprocessSettings, vocab: VocabSettings, n_process: int, dedupe: bool,
              counts: dict, fit_on_all: bool) -> dict:
    """Provenance, settings and counts (``Corpus.save`` adds the files' checksums and sizes)."""
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
        "n_process": n_process,
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


def _progress(items: Iterable, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(items, unit="doc", desc=desc, disable=not enabled, leave=False)
