"""Exceptions meant for people: each carries one line saying what was wrong and what to do.

The CLI prints ``error: <message>`` and exits with a non-zero code for any
:class:`TopicVAEError`; everything else is a bug and keeps its traceback.
"""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TopicVAEError(Exception):
    """Base class of every error a user can cause and fix."""


class SourceError(TopicVAEError):
    """A document source cannot be read (missing, unsupported, malformed)."""


class CorpusError(TopicVAEError):
    """A corpus cannot be built, found, saved or loaded."""


class RunError(TopicVAEError):
    """A trained run cannot be made, found, resumed or loaded."""


class ConfigError(TopicVAEError):
    """A setting has a value that cannot work."""


class TrainingDiverged(RunError):
    """The loss became NaN or infinite during training."""


class InUseError(TopicVAEError):
    """Another process is writing the same corpus or run right now."""
