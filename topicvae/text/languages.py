"""Which languages the tokenizer supports, found at run time from the installed packages.

A language is supported when spaCy has a blank pipeline for it (``spacy/lang/XX/``), ships
stop words with it (``spacy/lang/XX/stop_words.py``) and ``spacy-lookups-data`` ships a lemma
table for it (``XX_lemma_lookup.json.gz`` or per-part-of-speech ``XX_lemma_lookup_<pos>.json.gz``).
Everything here looks at files only, without importing spaCy, so ``--help`` stays fast.

With ``--no-lemmatize`` a language needs no lemma table, and with ``--no-stopwords`` no stop
words: only the blank pipeline is then required.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path

from topicvae.errors import ConfigError

_LOOKUP = re.compile(r"^([a-z]{2,3})_lemma_lookup(?:_([a-z]+))?\.json\.gz$")

#: the order in which per-part-of-speech tables are merged, the first one winning for a word
#: that several of them hold, unless one of them gives the word itself (it is a dictionary
#: form: Italian "importante", "opera", "partita" stay, where the general table says "importare",
#: "operare", "partire"). Nouns come first because the words a topic model shows are mostly
#: nouns (Italian "stati" → "stato", the noun, not "stare"), then adjectives; then the
#: language's general table when it has one (Italian does: ``it_lemma_lookup``, which prefers
#: verbs: "diretto" → "dirigere"); then verbs, adverbs; the remaining parts (aux, det, pron,
#: adp, num, part, other) last, in name order: they are mostly stop words anyway.
POS_ORDER = ("noun", "adj", "", "verb", "adv")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # a top-level name: found without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=None)
def _lookups_dir() -> Path | None:
    d = _package_dir("spacy_lookups_data")
    return d / "data" if d is not None and (d / "data").is_dir() else None


@lru_cache(maxsize=None)
def lemma_tables() -> dict[str, tuple[str, ...]]:
    """Language code → the parts of speech of its lemma tables (``""`` for the general one)."""
    d = _lookups_dir()
    out: dict[str, list[str]] = {}
    for f in sorted(d.iterdir()) if d is not None else ():
        if (m := _LOOKUP.match(f.name)) is not None:
            out.setdefault(m.group(1), []).append(m.group(2) or "")
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=None)
def blank_languages() -> dict[str, bool]:
    """Language code → whether spaCy ships stop words for it, for every blank pipeline."""
    d = _package_dir("spacy")
    lang = d / "lang" if d is not None else None
    if lang is None or not lang.is_dir():
        return {}
    return {p.name: (p / "stop_words.py").is_file() for p in sorted(lang.iterdir())
            if (p / "__init__.py").is_file() and not p.name.startswith(("_", "xx"))}


@lru_cache(maxsize=None)
def supported_languages() -> tuple[str, ...]:
    """Codes with a blank pipeline, stop words and a lemma table, in name order."""
    tables = lemma_tables()
    return tuple(code for code, stop in blank_languages().items() if stop and code in tables)


def check_language(lang: str, lemmatize: bool = True, stopwords: bool = True) -> None:
    """Raise :class:`ConfigError` (one line) unless ``lang`` can be tokenized with these settings."""
    blank = blank_languages()
    missing = []
    if lang not in blank:
        missing.append("no spaCy blank pipeline")
    else:
        if stopwords and not blank[lang]:
            missing.append("no spaCy stop words (add --no-stopwords)")
        if lemmatize and lang not in lemma_tables():
            missing.append("no spacy-lookups-data lemma table (add --no-lemmatize)")
    if not missing and lang not in supported_languages():  # rare: see that its pipeline loads
        try:
            import spacy

            spacy.blank(lang)
        except Exception as exc:  # e.g. Japanese and Chinese need packages of their own
            missing.append(f"spaCy's blank pipeline fails: {str(exc).strip().splitlines()[0][:120]}")
    if missing:
        raise ConfigError(f"--language {lang!r} is not supported ({'; '.join(missing)}); "
                          f"supported: {', '.join(supported_languages()) or 'none (is spaCy installed?)'}")


@lru_cache(maxsize=4)
def load_lemmas(lang: str) -> dict[str, str]:
    """The word → lemma table of ``lang``: its general table, or its per-part-of-speech tables
    merged in :data:`POS_ORDER` (see there). Empty when it has none. Cached: callers must not
    change it."""
    parts = lemma_tables().get(lang, ())
    order = [p for p in POS_ORDER if p in parts] + sorted(p for p in parts if p not in POS_ORDER)
    merged: dict[str, str] = {}
    forms: set[str] = set()  # words some table gives as their own lemma
    for pos in order:
        name = f"{lang}_lemma_lookup{'_' + pos if pos else ''}.json.gz"
        with gzip.open(_lookups_dir() / name, "rt", encoding="utf-8") as f:
            table = json.load(f)
        if not merged:
            merged = table
            forms = {w for w, lemma in table.items() if lemma == w} if len(order) > 1 else set()
            continue
        for w, lemma in table.items():
            if lemma == w:
                forms.add(w)
            merged.setdefault(w, lemma)
    merged.update((w, w) for w in forms)
    return merged
