"""The fitted text → counts transformer of a corpus, saved beside it as ``vectorizer.json``.

A :class:`Vectorizer` holds everything that turns raw text into the corpus's counts:
the preprocessing settings (cleaning, tokenizing, lemmatizing), the phrase model learned
at ingest (``--phrases``) and the vocabulary. ``ingest`` fits it and saves it in the
corpus folder; ``infer`` and C_v's re-tokenizing load it, so new text and the corpus's
own text go through the very same steps. The file is plain JSON (no pickle)::

    {"format": 1, "preprocess": {...}, "vocab": {...},
     "phrases": null or {"delimiter": "_", "scores": {"new_york": 41.2, ...}},
     "vocabulary": ["word", ...]}

Corpora ingested before the file existed get a Vectorizer rebuilt from their manifest
and ``vocab.json`` (:meth:`Vectorizer.for_corpus`), without phrases, as they were used then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from topicvae.errors import CorpusError
from topicvae.text.phrases import PhraseModel
from topicvae.text.settings import PreprocessSettings, VocabSettings, from_dict, to_dict
from topicvae.text.tokenize import TokenizedTexts, tokenize_texts
from topicvae.text.vocabulary import Vocabulary, choose_vocabulary, count_ids, count_matrix, transform_tokens

VECTORIZER_FILE = "vectorizer.json"
FORMAT = 1


@dataclass
class TypeCounts:
    """Counts of every token type (phrases joined), before the vocabulary is chosen.

    Attributes:
        X: (n_docs, n_types) int32 CSR counts.
        types: the token type of each column.
        encoded_lines: per document, the lines of encoded non-text dropped while cleaning.
    """

    X: sp.csr_matrix
    types: list[str]
    encoded_lines: list[int]


class Vectorizer:
    """Raw text → counts over a vocabulary, fitted on a corpus (like scikit-learn's CountVectorizer).

    Args:
        preprocess: cleaning and tokenizing settings.
        vocab: vocabulary and phrase settings (used by :meth:`fit`).
        phrases: the learned phrase model (None: no phrases are joined).
        vocabulary: the words, column j of every count matrix is ``vocabulary[j]``
            (None until fitted).
    """

    def __init__(self, preprocess: PreprocessSettings | None = None, vocab: VocabSettings | None = None, *,
                 phrases: PhraseModel | None = None, vocabulary: Sequence[str] | None = None):
        self.preprocess = preprocess or PreprocessSettings()
        self.vocab = vocab or VocabSettings()
        self.phrases = phrases
        self.vocabulary = list(vocabulary) if vocabulary is not None else None

    def __repr__(self) -> str:
        n_words = "unfitted" if self.vocabulary is None else f"{len(self.vocabulary)} words"
        return f"Vectorizer({n_words}, {len(self.phrases or ())} phrases)"

    # ------------------------------------------------------------------ fitting
    def fit(self, texts: Sequence[str], fit_rows: np.ndarray | None = None, n_process: int = 1,
            progress: bool = False) -> "Vectorizer":
        """Learn the phrases (when ``vocab.phrases``) and the vocabulary from ``texts``.

        Args:
            texts: raw documents.
            fit_rows: the documents that learn phrases and vocabulary (default: all).
            n_process: processes used for tokenizing.
            progress: show a progress bar on stderr.
        """
        self.fit_transform(texts, fit_rows, n_process=n_process, progress=progress)
        return self

    def fit_transform(self, texts: Sequence[str], fit_rows: np.ndarray | None = None, n_process: int = 1,
                      progress: bool = False) -> sp.csr_matrix:
        """:meth:`fit`, returning the counts of ``texts`` over the new vocabulary (as :meth:`transform` would)."""
        counts = self.count_types(texts, fit_rows, n_process=n_process, progress=progress)
        return counts.X[:, self.fit_vocabulary(counts, fit_rows).columns].tocsr()

    def count_types(self, texts: Sequence[str], fit_rows: np.ndarray | None = None, n_process: int = 1,
                    progress: bool = False) -> TypeCounts:
        """The first half of :meth:`fit`: tokenize ``texts``, learn the phrases on ``fit_rows``
        (when ``vocab.phrases``) and count every token type."""
        tokenized = tokenize_texts(texts, self.preprocess, n_process=n_process, progress=progress)
        if not self.vocab.phrases:
            self.phrases = None
            X = count_ids(tokenized.ids, len(tokenized.types))
            return TypeCounts(X, tokenized.types, tokenized.encoded_lines)
        docs = tokenized.token_lists()
        rows = range(len(docs)) if fit_rows is None else fit_rows
        self.phrases = PhraseModel.learn((docs[i] for i in rows), self.vocab)
        X, types = count_matrix([self.phrases.join(d) for d in docs])
        return TypeCounts(X, types, tokenized.encoded_lines)

    def fit_vocabulary(self, counts: TypeCounts, fit_rows: np.ndarray | None = None) -> Vocabulary:
        """The second half of :meth:`fit`: choose the vocabulary by document frequency on ``fit_rows``.

        Returns the :class:`~topicvae.text.vocabulary.Vocabulary` (its columns index ``counts.X``).
        """
        rows = np.arange(counts.X.shape[0]) if fit_rows is None else fit_rows
        chosen = choose_vocabulary(counts.X, counts.types, rows, self.vocab)
        self.vocabulary = chosen.words
        return chosen

    # ------------------------------------------------------------------ using
    def tokens(self, texts: Sequence[str], n_process: int = 1) -> list[list[str]]:
        """The tokens of each text, phrases joined, in text order; words outside the vocabulary
        are kept (C_v's sliding windows count positions in the whole text)."""
        return self._token_lists(tokenize_texts(list(texts), self.preprocess, n_process=n_process))

    def transform(self, texts: Sequence[str], n_process: int = 1) -> sp.csr_matrix:
        """Counts of ``texts`` over the vocabulary: an (n_texts, n_words) int32 CSR."""
        return self.count(texts, n_process=n_process)[0]

    def count(self, texts: Sequence[str], n_process: int = 1) -> tuple[sp.csr_matrix, np.ndarray]:
        """:meth:`transform`, and the number of tokens of each text (in the vocabulary or not)."""
        vocabulary = self._fitted_vocabulary()
        tokenized = tokenize_texts(list(texts), self.preprocess, n_process=n_process)
        if self.phrases is None:
            return _count_over(tokenized, vocabulary)
        docs = self._token_lists(tokenized)
        X, _ = transform_tokens(docs, vocabulary)
        return X, np.array([len(d) for d in docs], dtype=np.int64)

    def _token_lists(self, tokenized: TokenizedTexts) -> list[list[str]]:
        docs = tokenized.token_lists()
        return docs if self.phrases is None else [self.phrases.join(d) for d in docs]

    def _fitted_vocabulary(self) -> list[str]:
        if self.vocabulary is None:
            raise CorpusError("the vectorizer has no vocabulary yet: fit it first")
        return self.vocabulary

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict:
        """The JSON-ready content of ``vectorizer.json``."""
        return {"format": FORMAT, "preprocess": to_dict(self.preprocess), "vocab": to_dict(self.vocab),
                "phrases": self.phrases.to_dict() if self.phrases is not None else None,
                "vocabulary": self.vocabulary}

    @classmethod
    def from_dict(cls, data: dict) -> "Vectorizer":
        """Rebuild from :meth:`to_dict` output (:class:`ValueError` on another format)."""
        if data.get("format") != FORMAT:
            raise ValueError(f"{VECTORIZER_FILE} has format {data.get('format')!r}, this version reads {FORMAT}")
        phrases = data.get("phrases")
        return cls(from_dict(PreprocessSettings, data["preprocess"]), from_dict(VocabSettings, data["vocab"]),
                   phrases=PhraseModel.from_dict(phrases) if phrases is not None else None,
                   vocabulary=data.get("vocabulary"))

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/vectorizer.json`` and return its path."""
        path = Path(folder) / VECTORIZER_FILE
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "Vectorizer":
        """Read ``folder/vectorizer.json`` (:class:`CorpusError` when it is missing or unreadable)."""
        path = Path(folder) / VECTORIZER_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorpusError(f"{path} cannot be read ({exc})") from None

    @classmethod
    def for_corpus(cls, folder: str | Path, manifest: dict, vocabulary: Sequence[str]) -> "Vectorizer":
        """The vectorizer of the corpus in ``folder``: its ``vectorizer.json``, or for a corpus
        ingested before that file existed, one built from its manifest's settings and
        ``vocabulary``, without phrases (which such corpora never saved)."""
        if (Path(folder) / VECTORIZER_FILE).is_file():
            return cls.load(folder)
        return cls(from_dict(PreprocessSettings, manifest.get("preprocess", {})),
                   from_dict(VocabSettings, manifest.get("vocab", {})), vocabulary=vocabulary)


def _count_over(tokenized: TokenizedTexts, vocabulary: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts over ``vocabulary`` of already tokenized texts (no phrases), and tokens per text.

    Maps each distinct type to its column once, then whole id arrays at a time.
    """
    index = {w: j for j, w in enumerate(vocabulary)}
    col_of_type = np.array([index.get(t, -1) for t in tokenized.types], dtype=np.int64)
    n_tokens = np.array([len(a) for a in tokenized.ids], dtype=np.int64)
    cols = [col_of_type[ids] for ids in tokenized.ids]
    cols = [c[c >= 0] for c in cols]
    indptr = np.zeros(len(cols) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in cols], out=indptr[1:])
    indices = np.concatenate(cols).astype(np.int32) if cols else np.zeros(0, np.int32)
    X = sp.csr_matrix((np.ones(len(indices), dtype=np.int32), indices, indptr),
                      shape=(len(cols), len(vocabulary)))
    X.sum_duplicates()
    return X, n_tokens


def reference_tokens(corpus, rows: np.ndarray | None = None, n_process: int = 1) -> list[list[str]]:
    """The token lists of ``corpus``'s documents ``rows`` (default: all) as its vectorizer makes
    them: its preprocessing with phrases joined, out-of-vocabulary words kept, in text order.

    This is what C_v needs: the very tokens the corpus counts stand for.
    """
    texts = corpus.column("text", None if rows is None else np.sort(np.asarray(rows, dtype=np.int64)))
    if rows is not None:  # (in the order asked for)
        order = np.argsort(np.argsort(np.asarray(rows), kind="stable"), kind="stable")
        texts = texts.iloc[order]
    return corpus_vectorizer(corpus).tokens(texts.tolist(), n_process=n_process)


def corpus_vectorizer(corpus) -> Vectorizer:
    """The :class:`Vectorizer` of a loaded or freshly ingested :class:`~topicvae.corpus.Corpus`."""
    if corpus.vectorizer is not None:
        return corpus.vectorizer
    if corpus.path is None:
        raise CorpusError(f"corpus {corpus.name!r} was never saved and holds no vectorizer")
    return Vectorizer.for_corpus(corpus.path, corpus.manifest, corpus.vocab)
