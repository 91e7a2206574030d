"""Cleaning and tokenization: raw text → lemmatized, filtered tokens.

The tokenizer is spaCy's blank pipeline of the chosen language (``lang``, no model
download) with that language's stop words and lookup lemmatizer table from
``spacy-lookups-data`` (:mod:`topicvae.text.languages`). spaCy tokenizes each
whitespace-separated chunk on its own, so every distinct chunk is tokenized,
filtered and lemmatized once and its result cached: a document then costs one
dictionary lookup per chunk. This keeps spaCy's care with URLs, e-mail addresses
and contractions at close to the speed of a regular expression.
"""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from topicvae.text.languages import load_lemmas
from topicvae.text.settings import PreprocessSettings

# --------------------------------------------------------------- mail and news text
_QUOTE_RE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")
# the same rule applied to a whole text at once: a matching line and its newline go
_QUOTE_LINES = re.compile(r"^(?:.*(?:writes in|writes:|wrote:|says:|said:)|In article|Quoted from|\||>).*(?:\n|$)", re.M)


HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9._-]*):[ \t]*(.*)$")


def has_headers(text: str) -> bool:
    """True when ``text`` starts with a mail/news header block: before the first blank line,
    at least two lines and most lines are ``Key: value`` headers."""
    head, blank, _ = text.lstrip("\n").partition("\n\n")
    lines = [line for line in head.splitlines() if line[:1] not in (" ", "\t") or HEADER_LINE.match(line)]
    n_headers = sum(HEADER_LINE.match(line) is not None for line in lines)
    return bool(blank) and n_headers >= 2 and n_headers >= 0.5 * len(lines)


def strip_headers(text: str) -> str:
    """Remove a leading header block: everything before the first blank line, as
    scikit-learn does, but only when the text starts with ``Key: value`` header lines, so
    text without headers (a pasted paragraph) keeps its words."""
    return text.partition("\n\n")[2] if has_headers(text) else text


def strip_quotes(text: str) -> str:
    """Remove quoted lines (``>``, ``|``) and lines introducing a quote ("... writes:")."""
    return _QUOTE_LINES.sub("", text)


def strip_signature(text: str) -> str:
    """Remove the block after the last blank or all-hyphen line (a signature)."""
    lines = text.strip().split("\n")
    for line_num in range(len(lines) - 1, -1, -1):
        if lines[line_num].strip().strip("-") == "":
            break
    return "\n".join(lines[:line_num]) if line_num > 0 else text


_STRIPPERS = {"headers": strip_headers, "quotes": strip_quotes, "signatures": strip_signature}


# --------------------------------------------------------------- encoded non-text
LONG_RUN = 40  # characters without whitespace from which a run may be encoded
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")
_UU_CHARS = re.compile(r"^[\x20-\x60]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_LETTERS = re.compile(r"[^\W\d_]+")


def _looks_encoded(run: str) -> bool:
    """An unbroken run of 40+ characters that reads as encoded binary rather than text.

    Either base64 (letters of both cases, digits and ``+/=`` only, with a digit and both
    cases present), or a mix of at least three of (upper, lower, digit, symbol) whose
    letters come in runs averaging under three (uuencode, binhex). File names, code
    and CamelCase names keep longer letter runs and stay.
    """
    if len(run) < 40:
        return False
    if _BASE64.match(run):
        return any(c.isdigit() for c in run) and any(c.isupper() for c in run) and any(c.islower() for c in run)
    classes = (any(c.isupper() for c in run) + any(c.islower() for c in run)
               + any(c.isdigit() for c in run) + any(not c.isalnum() for c in run))
    if classes < 3:
        return False
    letter_runs = _LETTERS.findall(run)
    return not letter_runs or sum(map(len, letter_runs)) / len(letter_runs) < 3


def _is_uuencoded(line: str) -> bool:
    """A uuencode body line: its first character gives its length, all characters in 0x20–0x60."""
    if len(line) < 8 or not _UU_CHARS.match(line):
        return False
    n = ord(line[0]) - 32
    if not 1 <= n <= 45:
        return False
    expected = 1 + 4 * ((n + 2) // 3)
    if not expected - 2 <= len(line) <= expected + 2 or sum(not c.isalnum() and c != " " for c in line) < 3:
        return False
    letter_runs = _LETTERS.findall(line)  # capitals-only prose has long letter runs; uuencode, short ones
    return not letter_runs or sum(map(len, letter_runs)) / len(letter_runs) < 3


def is_encoded_line(line: str) -> bool:
    """True for a line of encoded binary (uuencode, base64, binhex), judged by the line.

    A line is encoded when it is a uuencode body line, or when it holds an unbroken run
    of 40+ characters that looks encoded (:func:`_looks_encoded`) and is not a URL or
    an e-mail address. Real words with no vowel (``bmw``, ``ftp``, ``mhz``) are
    untouched: the rule never looks at a single word.
    """
    s = line.strip()
    if len(s) < 20:
        return False
    if _is_uuencoded(s):
        return True
    for m in _LONG_RUN.finditer(s):
        run = m.group()
        if "@" in run or "://" in run or run.lower().startswith("www."):
            continue
        if _looks_encoded(run):
            return True
    return False


def has_long_run(text: str) -> bool:
    """Whether ``text`` has a run of :data:`LONG_RUN` or more characters without whitespace (what
    ``\\S{40,}`` finds; splitting at whitespace is twice the regex's speed)."""
    return max(map(len, text.split()), default=0) >= LONG_RUN


def drop_encoded_lines(text: str) -> tuple[str, int]:
    """Remove encoded lines; return the text and how many lines went."""
    if not has_long_run(text):  # only a line with a long run can be encoded
        return text, 0
    kept, dropped = [], 0
    for line in text.split("\n"):
        if is_encoded_line(line):
            dropped += 1
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def clean_text(text: str, settings: PreprocessSettings) -> tuple[str, int]:
    """Apply the ``strip`` rules then drop encoded lines; return (text, encoded lines dropped)."""
    for part in ("headers", "quotes", "signatures"):  # fixed order, as scikit-learn does
        if part in settings.strip:
            text = _STRIPPERS[part](text)
    if settings.drop_encoded:
        return drop_encoded_lines(text)
    return text, 0


# --------------------------------------------------------------- tokenization
# English only: spaCy's lookup table maps a few frequent words to a rarer sense ("number" → "numb",
# "united" → "unite", "data" → "datum"); a topic list reads better with the common word.
LEMMA_OVERRIDES = {"number": "number", "numbers": "number", "united": "united", "data": "data",
                   "media": "media", "species": "species", "means": "means", "news": "news"}
# Characters that spaCy always splits off as punctuation: splitting the text at them
# first gives the same tokens and far fewer distinct chunks to tokenize.
_CHUNK = re.compile(r'[^\s"()\[\]{}<>,;!?*]+')
_EDGE_PUNCT = ".:'`"
_HAS_LETTER = re.compile(r"[^\W\d_]")


def import_spacy():
    """spaCy, imported without PyTorch unless this process has imported one of them already.

    spaCy's layer thinc imports PyTorch when it is installed (some 180 MB of every process that
    tokenizes: the ingest, each Dask worker), and a tokenizer of spaCy's rules and lookups never uses
    it. PyTorch stays importable afterwards; only thinc's PyTorch layers are off in this process.
    """
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # `import torch` raises ImportError, which thinc takes for "not installed"
    try:
        import spacy
    except ImportError:  # something on the way needs PyTorch after all: import it as usual
        sys.modules.pop("torch", None)
        for name in [m for m in sys.modules if m == "spacy" or m.startswith(("spacy.", "thinc"))]:
            del sys.modules[name]
        import spacy
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy


class Tokenizer:
    """Turns cleaned text into filtered, lowercased, lemmatized tokens.

    Call it on one text (``tok(text)``) or on many (``tok.batch(texts)``). Each distinct
    whitespace-separated chunk goes through spaCy once; its result is cached.
    """

    def __init__(self, settings: PreprocessSettings | None = None):
        spacy = import_spacy()

        self.settings = settings or PreprocessSettings()
        self.nlp = spacy.blank(self.settings.lang)
        # the lemma table and stop words of the chosen language (see text/languages.py)
        self.lemmas = load_lemmas(self.settings.lang) if self.settings.lemmatize else {}
        self.overrides = LEMMA_OVERRIDES if self.settings.lang == "en" else {}
        self.stop = set(self.nlp.Defaults.stop_words) if self.settings.stopwords else set()
        self.stop |= set(self.settings.extra_stopwords)
        self.types: list[str] = []  # every token type produced so far; ids index this list
        self._type_ids: dict[str, int] = {}
        self.cache: dict[str, tuple[int, ...]] = {}  # chunk → ids of its tokens

    def forget(self) -> None:
        """Drop the cache and the types met so far (ids start again at 0). A chunk's tokens do not
        depend on the chunks tokenized before it, so only the ids change, never the tokens: a
        long-running tokenizer (a Dask worker's) calls it to keep its memory bounded."""
        self.types, self._type_ids, self.cache = [], {}, {}

    def _token(self, tok) -> str | None:
        s = self.settings
        if tok.like_url or tok.like_email:
            return None
        text = tok.text
        if not tok.is_alpha:
            if not (s.keep_alnum and text.isalnum() and any(c.isalpha() for c in text)):
                return None
        return self._word(text)

    def _word(self, text: str) -> str | None:
        """The token kept for an alphabetic word (None when filtered out)."""
        if text in self.stop:
            return None
        lemma = self.overrides.get(text) or self.lemmas.get(text, text)
        if len(lemma) < self.settings.min_token_len or lemma in self.stop:
            return None
        return lemma

    def _ids(self, tokens: Iterable[str | None]) -> tuple[int, ...]:
        ids = self._type_ids
        out = []
        for t in tokens:
            if t is not None:
                if t not in ids:
                    ids[t] = len(self.types)
                    self.types.append(t)
                out.append(ids[t])
        return tuple(out)

    def _fill(self, chunks: Iterable[str], group: int = 20000) -> None:
        """Tokenize chunks not yet cached: the easy ones directly, the rest through spaCy.

        - no letter at all (numbers, dates, rules of dashes): no token can come out;
        - an ``@`` or ``://`` inside: an e-mail address, message id or URL, dropped as
          spaCy's ``like_email`` / ``like_url`` would;
        - letters only once periods, colons and apostrophes at its ends go (``word.``,
          ``'word'``), and not one of spaCy's special cases ("cannot", "gonna"): a single
          alphabetic token for spaCy too.
        """
        special = self.nlp.tokenizer.rules or {}
        hard = []
        for c in chunks:
            core = c.strip(_EDGE_PUNCT)
            if core.isalpha() and core not in special and c not in special:
                self.cache[c] = self._ids([self._word(core)])
            elif not _HAS_LETTER.search(c) or "@" in c or "://" in c:
                self.cache[c] = ()
            else:
                hard.append(c)
        for g in range(0, len(hard), group):
            part = hard[g:g + group]
            doc = self.nlp.tokenizer(" ".join(part))
            results: list[list[str]] = [[] for _ in part]
            i, end = 0, len(part[0])  # chunk i spans [end - len(part[i]), end) in the joined text
            for tok in doc:
                while tok.idx >= end:
                    i += 1
                    end += 1 + len(part[i])
                if (t := self._token(tok)) is not None:
                    results[i].append(t)
            for c, r in zip(part, results):
                self.cache[c] = self._ids(r)

    def chunks(self, text: str) -> list[str]:
        """Lowercased text split at whitespace and at punctuation that never joins a token."""
        return _CHUNK.findall(text.lower())

    def batch_ids(self, texts: Iterable[str]) -> list[np.ndarray]:
        """Token ids (into :attr:`types`) of each text, as int32 arrays."""
        split = [self.chunks(t) for t in texts]
        seen: set[str] = set()
        for chunks in split:
            seen.update(chunks)
        missing = seen.difference(self.cache)
        if missing:
            self._fill(sorted(missing))
        cache = self.cache
        out = []
        for chunks in split:
            ids: list[int] = []
            for c in chunks:
                ids.extend(cache[c])
            out.append(np.array(ids, dtype=np.int32))
        return out

    def batch(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokens of each text, in order."""
        types = self.types
        return [[types[i] for i in ids] for ids in self.batch_ids(texts)]

    def __call__(self, text: str) -> list[str]:
        return self.batch([text])[0]
