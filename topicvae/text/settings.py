"""The text pipeline's settings as dataclasses (preprocessing, vocabulary); every default lives here, once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from topicvae.errors import ConfigError

STRIP_PARTS = ("headers", "quotes", "signatures")


@dataclass
class PreprocessSettings:
    """How raw text becomes tokens (recorded in the corpus manifest).

    Attributes:
        strip: mail/newsgroup parts to remove before tokenizing, any of
            ``headers``, ``quotes``, ``signatures`` (scikit-learn's ``remove=`` rules).
        drop_encoded: drop lines of encoded non-text (uuencode, base64, binhex).
        lemmatize: map each word to its lemma with spaCy's lookup table.
        stopwords: drop spaCy's stop words of ``lang``.
        extra_stopwords: more stop words (from ``--stopwords FILE``).
        min_token_len: shortest token kept, in characters.
        keep_alnum: keep tokens that mix letters and digits (``mp3``, ``x11``).
        lang: spaCy language code of the blank tokenizer, stop words and lemma table
            (``--language``; :func:`topicvae.text.languages.supported_languages`).
    """

    strip: tuple[str, ...] = ()
    drop_encoded: bool = True
    lemmatize: bool = True
    stopwords: bool = True
    extra_stopwords: tuple[str, ...] = ()
    min_token_len: int = 3
    keep_alnum: bool = False
    lang: str = "en"

    def __post_init__(self):
        self.strip = tuple(self.strip)
        self.extra_stopwords = tuple(sorted({w.lower() for w in self.extra_stopwords}))
        bad = [p for p in self.strip if p not in STRIP_PARTS]
        if bad:
            raise ConfigError(f"unknown --strip part(s) {', '.join(bad)}; choose from {', '.join(STRIP_PARTS)}")
        if self.min_token_len < 1:
            raise ConfigError("--min-token-len must be at least 1")
        from topicvae.text.languages import check_language

        check_language(self.lang, lemmatize=self.lemmatize, stopwords=self.stopwords)


@dataclass
class VocabSettings:
    """Which words enter the vocabulary and which documents stay.

    Attributes:
        min_df: keep words in at least this many documents (an int) or this
            fraction of documents (a float < 1).
        max_df: drop words in more than this fraction (float ≤ 1) or count (int > 1) of documents.
        max_vocab: keep at most this many words, the most frequent (None: no limit).
        min_tokens: drop documents with fewer in-vocabulary tokens than this.
        phrases: join frequent word pairs into phrases (gensim ``Phrases``).
        phrase_min_count, phrase_threshold: gensim ``Phrases`` settings.
        fit_split: documents of this split choose the vocabulary when the corpus has
            splits (held-out documents stay unseen); all documents otherwise.
    """

    min_df: float = 5
    max_df: float = 0.7
    max_vocab: int | None = 10000
    min_tokens: int = 3
    phrases: bool = False
    phrase_min_count: int = 5
    phrase_threshold: float = 10.0
    fit_split: str = "train"

    def __post_init__(self):
        if self.min_df < 0 or self.max_df <= 0:
            raise ConfigError("--min-df must be ≥ 0 and --max-df > 0")
        if self.max_df <= 1 and self.min_df < 1 and self.min_df > self.max_df:
            raise ConfigError("--min-df is larger than --max-df: no word can pass both")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ConfigError(f"--max-vocab must be at least 1, or 0 for no limit; got {self.max_vocab}")
        if self.min_tokens < 1:
            raise ConfigError("--min-tokens must be at least 1")


def to_dict(settings) -> dict:
    """A JSON-ready dict of a settings dataclass."""
    d = asdict(settings)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def from_dict(cls, data: dict):
    """Rebuild a settings dataclass from :func:`to_dict` output (unknown keys ignored)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
