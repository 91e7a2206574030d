"""``topicvae.ingest`` (this module is topicvae.ingestion): a source of documents → a saved :class:`~topicvae.corpus.Corpus`.

The recipe, one named step each: read → check ids → clean and tokenize (optionally
in parallel) → phrases → vocabulary → bag-of-words → drop short documents → save.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from . import __version__, paths
from .config import PreprocessSettings, VocabSettings, to_dict
from .corpus import Corpus
from .errors import CorpusError, SourceError
from .text import sources
from .text.preprocess import Tokenizer, clean_text
from .text.vectorize import choose_vocabulary, count_ids, count_matrix, detect_phrases

log = logging.getLogger(__name__)

RESERVED = ("id", "text", "label", "date", "split", "n_tokens")
_BATCH = 1000

# ------------------------------------------------------------------ tokenizing
_worker_tokenizer: Tokenizer | None = None


def _init_worker(settings: PreprocessSettings) -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer(settings)


def _process_batch(texts: list[str]) -> tuple[int, list[str], list[np.ndarray], list[int]]:
    """Clean and tokenize a batch in a worker. Tokens come back as int32 ids into the worker's
    own type list, with the types it met for the first time (small to send between processes)."""
    import os

    tok = _worker_tokenizer
    known = len(tok.types)
    cleaned = [clean_text(t, tok.settings) for t in texts]
    ids = tok.batch_ids([c[0] for c in cleaned])
    return os.getpid(), tok.types[known:], ids, [c[1] for c in cleaned]


class TokenizedTexts:
    """Tokenized documents as int32 id arrays over one shared type list."""

    def __init__(self):
        self.types: list[str] = []
        self._index: dict[str, int] = {}
        self._remap: dict[int, np.ndarray] = {}  # per worker: its type id → our type id
        self.ids: list[np.ndarray] = []
        self.encoded_lines: list[int] = []

    def add_batch(self, worker: int, new_types: list[str], ids: list[np.ndarray], encoded: list[int]) -> None:
        index = self._index
        for t in new_types:
            if t not in index:
                index[t] = len(self.types)
                self.types.append(t)
        fresh = np.fromiter((index[t] for t in new_types), dtype=np.int32, count=len(new_types))
        remap = self._remap[worker] = np.concatenate([self._remap.get(worker, np.zeros(0, np.int32)), fresh])
        self.ids.extend(remap[a] for a in ids)
        self.encoded_lines.extend(encoded)

    def tokens(self, i: int) -> list[str]:
        return [self.types[j] for j in self.ids[i]]

    def __len__(self) -> int:
        return len(self.ids)


def tokenize_texts(texts: Sequence[str], settings: PreprocessSettings, n_process: int = 1,
                   progress: bool = False, desc: str = "tokenizing") -> TokenizedTexts:
    """Clean and tokenize ``texts`` (in ``n_process`` processes) with a progress bar in docs/s."""
    from tqdm.auto import tqdm

    batches = [list(texts[i:i + _BATCH]) for i in range(0, len(texts), _BATCH)]
    out = TokenizedTexts()
    bar = tqdm(total=len(texts), unit="doc", desc=desc, disable=not progress, leave=False)
    try:
        if n_process > 1 and len(batches) > 1:
            import multiprocessing as mp

            _init_worker(settings)  # once here; forked workers inherit the loaded tokenizer
            with mp.get_context("fork").Pool(n_process) as pool:
                for result in pool.imap(_process_batch, batches):
                    out.add_batch(*result)
                    bar.update(len(result[2]))
        else:
            _init_worker(settings)
            for batch in batches:
                out.add_batch(*_process_batch(batch))
                bar.update(len(batch))
    finally:
        bar.close()
    return out


# ------------------------------------------------------------------ the recipe
def read_stopwords(path: str | Path) -> list[str]:
    """Words from a file, one per line; blank lines and ``#`` comments ignored."""
    p = Path(path)
    if not p.is_file():
        raise SourceError(f"stop-word file not found: {path}")
    words = []
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.extend(line.split())
    return words


def _documents_table(docs: list[sources.RawDoc]) -> pd.DataFrame:
    table = pd.DataFrame({
        "id": [d.id for d in docs],
        "text": [d.text for d in docs],
        "label": pd.array([d.label for d in docs], dtype="string"),
        "date": pd.array([d.date for d in docs], dtype="string"),
        "split": pd.array([d.split for d in docs], dtype="string"),
    })
    meta_keys = list(dict.fromkeys(k for d in docs for k in d.meta))
    for k in meta_keys:
        col = f"meta_{k}" if k in RESERVED else k
        table[col] = [d.meta.get(k) for d in docs]
    return table


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
) -> Corpus:
    """Read ``source``, preprocess it, build the bag-of-words and save ``corpora/<name>/``.

    Args:
        source: a path (csv, tsv, jsonl, parquet, folder, tar/zip archive, OCTIS dataset folder or
            its corpus.tsv) or ``builtin:sample``.
        name: the corpus name (a safe folder name).
        fmt: the source format, overriding detection (``"octis"`` for OCTIS' layout).
        columns: table columns holding text, id, label, date (tables only); ``columns.header=False``
            reads a CSV/TSV without a header row, its columns named by position (``"0"`` first).
        preprocess, vocab: settings; defaults from :mod:`topicvae.config`.
        force: replace an existing corpus of that name.
        dedupe: keep the first of documents sharing an id instead of failing.
        n_process: processes used for tokenizing.
        progress: show progress bars on stderr.

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
                       n_process=n_process, progress=progress)


def _ingest(source: str, name: str, *, fmt: str | None, columns: sources.TableColumns | None,
            preprocess: PreprocessSettings, vocab: VocabSettings, corpora_dir: Path, force: bool, dedupe: bool,
            n_process: int, progress: bool) -> Corpus:
    t0 = time.perf_counter()
    fmt = fmt or sources.detect_format(source, columns)

    docs = list(_progress(sources.read_source(source, fmt, columns), progress, "reading"))
    counts = {"read": len(docs), "bad_utf8": sum(d.bad_utf8 for d in docs),
              "read_splits": dict(Counter(d.split for d in docs if d.split is not None)),
              "read_labels": len({d.label for d in docs if d.label is not None})}
    if not docs:
        raise CorpusError(f"{source} holds no documents")
    docs, dropped = _check_ids(docs, dedupe)

    texts = [d.text for d in docs]
    tokenized = tokenize_texts(texts, preprocess, n_process=n_process, progress=progress)
    encoded = tokenized.encoded_lines
    counts["encoded_lines_dropped"] = int(sum(encoded))
    counts["docs_with_encoded_lines"] = int(sum(e > 0 for e in encoded))

    table = _documents_table(docs)
    splits = table["split"]
    fit_rows = np.flatnonzero((splits == vocab.fit_split).fillna(False).to_numpy())
    if len(fit_rows) == 0:
        fit_rows = np.arange(len(docs))
    if vocab.phrases:
        X_all, types = count_matrix(detect_phrases([tokenized.tokens(i) for i in range(len(tokenized))],
                                                   fit_rows, vocab))
    else:
        X_all, types = count_ids(tokenized.ids, len(tokenized.types)), tokenized.types
    del tokenized
    empty = np.diff(X_all.indptr) == 0
    dropped["empty"] = int(empty.sum())
    if empty.all():
        raise CorpusError(
            f"every document is empty after preprocessing (strip={','.join(preprocess.strip) or 'none'}, "
            f"stop words, tokens shorter than {preprocess.min_token_len}); check --text-col and --strip"
        )
    voc = choose_vocabulary(X_all, types, fit_rows, vocab)
    X = X_all[:, voc.columns].tocsr()
    n_tokens = np.asarray(X.sum(axis=1)).ravel()
    short = (n_tokens < vocab.min_tokens) & ~empty
    dropped["too_short"] = int(short.sum())
    keep = ~(short | empty)
    if not keep.any():
        raise CorpusError(
            f"no document has at least --min-tokens {vocab.min_tokens} in-vocabulary tokens "
            f"(vocabulary of {len(voc.words)} words); lower --min-tokens or --min-df"
        )
    rows = np.flatnonzero(keep)
    X = X[rows].astype(np.int32)
    table = table.iloc[rows].reset_index(drop=True)
    table.insert(5, "n_tokens", n_tokens[rows].astype(np.int64))

    counts.update({
        "dropped": dropped,
        "kept": int(len(rows)),
        "vocabulary": len(voc.words),
        "tokens": int(X.sum()),
        "vocabulary_cut": voc.cut,
        "splits": {str(k): int(v) for k, v in table["split"].value_counts(dropna=True).items()},
        "labels": int(table["label"].nunique(dropna=True)),
    })
    manifest = {
        "name": name,
        "topicvae_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": {"path": sources.printable_name(str(Path(source).resolve())) if fmt != "builtin" else source,
                   "format": fmt, "sha256": _source_sha256(source, fmt),
                   "columns": to_dict(columns) if columns else None},
        "preprocess": to_dict(preprocess),
        "vocab": to_dict(vocab),
        "vocab_fit_on": vocab.fit_split if len(fit_rows) < counts["read"] - dropped.get("duplicate_id", 0) else "all",
        "n_process": n_process,
        "dedupe": dedupe,
        "counts": counts,
    }
    corpus = Corpus(name=name, bow=X, vocab=voc.words, docs=table, manifest=manifest)
    manifest["seconds"] = round(time.perf_counter() - t0, 3)
    corpus.save(corpora_dir, force=force)
    log.info("corpus %s: %d documents, %d words", name, corpus.n_docs, corpus.n_words)
    return corpus


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
