"""What the benchmark scripts share: where the 20 Newsgroups archive is, and peak memory.

(Not `common.py`: the app has a module of that name, and tests import both.)
"""

from __future__ import annotations

import resource
from pathlib import Path

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20news-bydate.tar.gz"


def peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process or of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024
