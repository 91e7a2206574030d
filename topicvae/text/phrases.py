"""Phrases: frequent word pairs joined into one token (``new york`` → ``new_york``).

gensim's ``Phrases`` learns the pairs; what it learned is kept as plain data (the phrase
strings and their scores, as gensim's frozen model exports them) so that it can be saved
as JSON instead of a pickle and applied to new text without gensim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from topicvae.text.settings import VocabSettings

DELIMITER = "_"


@dataclass
class PhraseModel:
    """The learned phrases and how to apply them.

    Attributes:
        scores: each learned phrase (``"new_york"``) with gensim's score for it.
        delimiter: the string joining the two words of a phrase.
    """

    scores: dict[str, float] = field(default_factory=dict)
    delimiter: str = DELIMITER

    @classmethod
    def learn(cls, docs: Iterable[list[str]], settings: VocabSettings) -> "PhraseModel":
        """Learn the word pairs of ``docs`` with gensim ``Phrases`` (``phrase_min_count``, ``phrase_threshold``)."""
        from gensim.models.phrases import Phrases

        model = Phrases(docs, min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                        delimiter=DELIMITER)
        # export_phrases keeps exactly the pairs scoring above the threshold: the ones a
        # frozen model joins
        return cls(scores={str(p): float(s) for p, s in sorted(model.export_phrases().items())})

    def join(self, tokens: list[str]) -> list[str]:
        """``tokens`` with each learned pair joined, greedily from the left.

        This is what gensim's frozen ``Phrases`` (without connector words) does: a word
        joined to the one before it cannot start the next phrase.
        """
        phrases, delim = self.scores, self.delimiter
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            if i + 1 < n and (pair := tokens[i] + delim + tokens[i + 1]) in phrases:
                out.append(pair)
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        return out

    def __len__(self) -> int:
        return len(self.scores)

    def to_dict(self) -> dict:
        """A JSON-ready dict (:meth:`from_dict` reads it back)."""
        return {"delimiter": self.delimiter, "scores": self.scores}

    @classmethod
    def from_dict(cls, data: dict) -> "PhraseModel":
        return cls(scores={str(p): float(s) for p, s in data["scores"].items()}, delimiter=str(data["delimiter"]))
