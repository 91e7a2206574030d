"""What the tests of commands' failures share: a Ctrl-C to put in place of a function, and the
check that a command failed with one error line."""

from __future__ import annotations


def ctrl_c(*args, **kwargs):
    """Stands in for any function or method: the user pressed Ctrl-C while it ran."""
    raise KeyboardInterrupt


def one_error_line(code, err: str) -> bool:
    """Whether a command that exited with ``code`` failed with one line on stderr, ``error: ...``,
    and no traceback."""
    lines = err.strip().splitlines()
    return code not in (0, None) and "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: ")
