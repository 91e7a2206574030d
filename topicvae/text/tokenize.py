"""Clean and tokenize many texts, in parallel worker processes when asked.

Each worker holds one :class:`~topicvae.text.preprocess.Tokenizer` and sends back token
ids into its own growing type list, with only the types it met for the first time, so a
batch costs little to send between processes. :class:`TokenizedTexts` maps every
worker's ids onto one shared type list.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from topicvae.text.preprocess import Tokenizer, clean_text
from topicvae.text.settings import PreprocessSettings

BATCH = 1000  # documents per task sent to a worker

_worker_tokenizer: Tokenizer | None = None


def _init_worker(settings: PreprocessSettings) -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer(settings)


def _clean_and_split(tok: Tokenizer, texts: Sequence[str]) -> tuple[list[np.ndarray], list[int]]:
    """(token ids per text into ``tok``'s type list, encoded lines dropped per text) of one batch."""
    cleaned = [clean_text(t, tok.settings) for t in texts]
    return tok.batch_ids([c[0] for c in cleaned]), [c[1] for c in cleaned]


def _process_batch(texts: list[str]) -> tuple[int, list[str], list[np.ndarray], list[int]]:
    """Clean and tokenize a batch in a worker: (worker pid, types new to the worker, token ids
    per text into the worker's type list, encoded lines dropped per text)."""
    tok = _worker_tokenizer
    known = len(tok.types)
    ids, encoded = _clean_and_split(tok, texts)
    return os.getpid(), tok.types[known:], ids, encoded


class TokenizedTexts:
    """Tokenized documents as int32 id arrays over one shared type list.

    Attributes:
        types: every token type met, in order of first appearance; ids index this list.
        ids: one int32 array of type ids per document, in text order.
        encoded_lines: per document, the lines of encoded non-text dropped before tokenizing.
    """

    def __init__(self):
        self.types: list[str] = []
        self._index: dict[str, int] = {}
        self._remap: dict[int, np.ndarray] = {}  # per worker: its type id → our type id
        self.ids: list[np.ndarray] = []
        self.encoded_lines: list[int] = []

    def add_batch(self, worker: int, new_types: list[str], ids: list[np.ndarray], encoded: list[int]) -> None:
        """Append one worker batch (the output of a worker's ``_process_batch``)."""
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
        """The tokens of document ``i``, in order."""
        return [self.types[j] for j in self.ids[i]]

    def token_lists(self) -> list[list[str]]:
        """The tokens of every document, in order."""
        return [self.tokens(i) for i in range(len(self.ids))]

    def __len__(self) -> int:
        return len(self.ids)


def tokenize_texts(texts: Sequence[str], settings: PreprocessSettings, n_process: int = 1,
                   progress: bool = False, desc: str = "tokenizing") -> TokenizedTexts:
    """Clean and tokenize ``texts`` (in ``n_process`` processes) with a progress bar in docs/s.

    This is the tokenizer alone: no phrases, no vocabulary. To get the tokens a corpus
    stands for, use its :class:`~topicvae.text.vectorizer.Vectorizer`.
    """
    from tqdm.auto import tqdm

    batches = [list(texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)]
    out = TokenizedTexts()
    bar = tqdm(total=len(texts), unit="doc", desc=desc, disable=not progress, leave=False)
    try:
        _init_worker(settings)  # here too: forked workers inherit the loaded tokenizer
        if n_process > 1 and len(batches) > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(n_process) as pool:
                for result in pool.imap(_process_batch, batches):
                    out.add_batch(*result)
                    bar.update(len(result[2]))
        else:
            for batch in batches:
                out.add_batch(*_process_batch(batch))
                bar.update(len(batch))
    finally:
        bar.close()
    return out


# ------------------------------------------------------------------ one partition of a streamed ingest
def renumbered(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for ids below ``n``, in linear time: the distinct ids in
    increasing order and each entry's position among them (int32). A partition's tokens are millions
    of ids of a few thousand types, which sorting took a sixth of the tokenizing time to number."""
    present = np.zeros(n, dtype=bool)
    present[ids] = True
    position = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present), position[ids]


_partition_tokenizer: tuple[str, Tokenizer] | None = None  # per process: (settings key, its tokenizer)
#: the most whitespace-separated chunks a process's partition tokenizer keeps cached (about 150 bytes
#: each); past it, after a partition, it forgets them (:meth:`Tokenizer.forget`): results do not change
TOKENIZER_CACHE = 1_000_000


def _tokenizer_for(settings: PreprocessSettings) -> Tokenizer:
    """The :class:`Tokenizer` of ``settings`` in this process, made once (spaCy loads once per worker)."""
    global _partition_tokenizer
    key = repr(settings)
    if _partition_tokenizer is None or _partition_tokenizer[0] != key:
        _partition_tokenizer = (key, Tokenizer(settings))
    return _partition_tokenizer[1]


def tokenize_partition(texts: Sequence[str], settings: PreprocessSettings,
                       sequences: bool = False) -> dict:
    """Clean and tokenize one partition of documents (in a Dask worker or in-process); ``texts``: a
    list of str, or an Arrow array of them (what an ingest sends, :func:`topicvae.corpus.ingestion`).

    Returns a dict of plain data, small to send back: ``types`` (the partition's token types, which
    its ids index), ``encoded`` (per document, encoded lines dropped) and either ``counts`` (the
    (indptr, indices, data) of an (n_docs, n_types) int32 CSR of counts) or, with ``sequences``
    (phrases need the token order), ``offsets`` and ``ids`` (document i's tokens, in order, are
    ``ids[offsets[i]:offsets[i + 1]]``), and ``pid``, the process that did it. A document's result depends on its text alone, never on
    which worker or partition tokenized it.
    """
    tok = _tokenizer_for(settings)
    ids: list[np.ndarray] = []
    encoded_lines: list[int] = []
    for start in range(0, len(texts), BATCH):  # a batch's words as strings at a time, not a partition's
        batch = texts[start:start + BATCH]
        batch_ids, batch_encoded = _clean_and_split(tok, batch.to_pylist() if hasattr(batch, "to_pylist") else batch)
        ids.extend(batch_ids)
        encoded_lines.extend(batch_encoded)
    encoded = np.array(encoded_lines, dtype=np.int64)
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in ids], out=offsets[1:])
    flat = np.concatenate(ids) if ids else np.zeros(0, np.int32)
    used, local = renumbered(flat, len(tok.types))  # the partition's types, numbered 0..n-1
    types = [tok.types[i] for i in used]
    if len(tok.cache) > TOKENIZER_CACHE:
        tok.forget()
    if sequences:
        return {"types": types, "encoded": encoded, "offsets": offsets, "ids": local, "pid": os.getpid()}
    from topicvae.text.vocabulary import count_ids

    X = count_ids([local[offsets[i]:offsets[i + 1]] for i in range(len(ids))], len(types))
    return {"types": types, "encoded": encoded, "counts": (X.indptr, X.indices, X.data), "pid": os.getpid()}
