"""Guided (seeded) topics: a file of named seed-word lists, resolved against a corpus's vocabulary.

The file is plain text, one topic a line::

    # comments and blank lines are skipped
    hockey: hockey nhl playoff puck
    space travel: space nasa orbit launch shuttle

The name is everything before the first ``:``; the words after it are separated by spaces
or commas. Words are matched against the vocabulary as written, then lowercased; words
that are not in it are reported (:attr:`SeedTopics.unknown`), not fatal. What is fatal
(a :class:`~topicvae.errors.ConfigError` of one line, raised before anything is trained
or written): a missing, unreadable or empty file, a line without ``name:`` or without
words, a name given twice, a topic none of whose words is in the vocabulary, and more
seeded topics than the model has topics.

The seeded topics are topics 0 .. n−1 of the model, in the file's order; the models get
them as :attr:`SeedTopics.indices` (one list of vocabulary ids per topic, JSON-ready, the
``seed_topics`` setting of ProdLDA and GSM), and the run keeps the names as its topic labels.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from topicvae.errors import ConfigError, TopicVAEError

logger = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[\s,]+")


@dataclass
class SeedTopic:
    """One seeded topic: its name, the words the file gave, and those found in the vocabulary."""

    name: str
    words: list[str]
    line: int
    known: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # the file's words not found in the vocabulary, in its order


@dataclass
class SeedTopics:
    """The topics of a seed file, resolved against a vocabulary (see :func:`load_seed_topics`)."""

    path: str
    topics: list[SeedTopic]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    @property
    def indices(self) -> list[list[int]]:
        """The vocabulary ids of each topic's known words: the models' ``seed_topics`` setting."""
        return [list(t.indices) for t in self.topics]

    @property
    def unknown(self) -> dict[str, list[str]]:
        """Topic name → its words outside the vocabulary (topics with none left out)."""
        return {t.name: t.unknown for t in self.topics if t.unknown}

    def labels(self) -> dict[int, str]:
        """Topic index → name, for :func:`topicvae.runs.labels.save_labels`."""
        return dict(enumerate(self.names))

    def record(self) -> dict:
        """What config.json keeps about the seeding: the file, and per topic its name and words."""
        return {"file": self.path, "topics": [{"name": t.name, "words": t.known, "unknown": t.unknown}
                                              for t in self.topics]}

    def report(self) -> str:
        """One line per topic with unknown words (empty when every word was found)."""
        return "\n".join(f"seed topic {name!r}: not in the vocabulary, left out: {' '.join(words)}"
                         for name, words in self.unknown.items())


def parse_seed_file(path: str | Path) -> list[SeedTopic]:
    """The ``name: word word ...`` lines of ``path`` as :class:`SeedTopic` s (words not resolved yet)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"seed-topics file {path} does not exist; give a text file of 'name: word word ...' lines") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        raise ConfigError(f"cannot read seed-topics file {path} ({reason}); give a UTF-8 text file") from None
    topics: list[SeedTopic] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            topics.append(_parse_line(path, number, line))
    if not topics:
        raise ConfigError(f"seed-topics file {path} holds no topics; write one topic a line: 'name: word word word'")
    _check_names(path, topics)
    return topics


def _parse_line(path: Path, number: int, line: str) -> SeedTopic:
    name, colon, rest = line.partition(":")
    name = name.strip()
    words = [w for w in _SEPARATORS.split(rest.strip()) if w]
    if not colon or not name:
        raise ConfigError(f"{path}, line {number}: expected 'name: word word word', got {line!r}")
    if not words:
        raise ConfigError(f"{path}, line {number}: seed topic {name!r} has no words after the ':'")
    return SeedTopic(name=name, words=list(dict.fromkeys(words)), line=number)


def _check_names(path: Path, topics: list[SeedTopic]) -> None:
    seen: dict[str, int] = {}
    for t in topics:
        if t.name in seen:
            raise ConfigError(f"{path}, line {t.line}: seed topic {t.name!r} was already named on line "
                              f"{seen[t.name]}; give each topic its own name")
        seen[t.name] = t.line


def resolve(topics: list[SeedTopic], vocab: Sequence[str], n_topics: int, path: str | Path = "",
            normalise: Callable[[str], list[str]] | None = None) -> SeedTopics:
    """Match each topic's words against ``vocab`` and check they fit a model of ``n_topics`` topics. A word
    found neither as it is nor in lowercase is looked up as ``normalise`` gives it (the corpus's own
    tokenizing: its lemma, "Wars" as "war"), the first of its tokens in ``vocab``."""
    if len(topics) > n_topics:
        raise ConfigError(f"{path} seeds {len(topics)} topics but the model has only {n_topics}; "
                          f"raise --topics to at least {len(topics)} or seed fewer topics")
    index = {w: j for j, w in enumerate(vocab)}
    for t in topics:
        for w in t.words:
            j = index.get(w, index.get(w.lower()))
            if j is None and normalise is not None:
                j = next((index[tok] for tok in _tokens(normalise, w) if tok in index), None)
            if j is None:
                t.unknown.append(w)
            elif j not in t.indices:
                t.known.append(vocab[j])
                t.indices.append(int(j))
        if not t.indices:
            raise ConfigError(f"{path}, line {t.line}: no word of seed topic {t.name!r} ({' '.join(t.words)}) is in "
                              f"the corpus vocabulary; use words the corpus has (topicvae corpus-info shows its top words)")
    seeds = SeedTopics(path=str(path), topics=topics)
    for name, words in seeds.unknown.items():
        logger.info("seed topic %r: %s not in the vocabulary, left out", name, " ".join(words))
    return seeds


def _tokens(normalise: Callable[[str], list[str]], word: str) -> list[str]:
    """``normalise(word)``, or none when the pipeline cannot read it (the word is then reported unknown)."""
    try:
        return normalise(word)
    except TopicVAEError:
        return []


def load_seed_topics(path: str | Path, vocab: Sequence[str], n_topics: int,
                     normalise: Callable[[str], list[str]] | None = None) -> SeedTopics:
    """Parse ``path`` and resolve it against ``vocab`` for a model of ``n_topics`` topics (see the module
    and :func:`resolve`)."""
    return resolve(parse_seed_file(path), vocab, n_topics, path, normalise)


def check_seed_setting(seed_topics, seed_strength, n_topics: int, n_words: int | None = None) -> None:
    """A model's ``seed_topics`` / ``seed_strength`` settings (LDA's, ProdLDA's and GSM's):
    None or 1..``n_topics`` non-empty lists of vocabulary ids (below ``n_words`` once known), and a
    strength of 0 or more. :class:`ConfigError` otherwise."""
    import numbers

    def word_id(j):
        return isinstance(j, numbers.Integral) and not isinstance(j, bool) and j >= 0

    if seed_topics is not None:
        if not (isinstance(seed_topics, (list, tuple)) and seed_topics and all(
                isinstance(t, (list, tuple)) and t and all(word_id(j) for j in t) for t in seed_topics)):
            raise ConfigError(f"seed_topics must be None or a list of non-empty lists of vocabulary ids, got {seed_topics!r}")
        if len(seed_topics) > n_topics:
            raise ConfigError(f"seed_topics seeds {len(seed_topics)} topics but the model has only {n_topics}; "
                              "raise n_topics or seed fewer topics")
        if n_words is not None and max(max(t) for t in seed_topics) >= n_words:
            raise ConfigError(f"seed_topics holds word ids beyond the vocabulary of {n_words} words; "
                              "resolve the seed words against the corpus being trained on")
    ok = isinstance(seed_strength, numbers.Real) and not isinstance(seed_strength, bool)
    if not (ok and 0 <= seed_strength < float("inf")):
        raise ConfigError(f"seed_strength must be a number of 0 or more, got {seed_strength!r}")
