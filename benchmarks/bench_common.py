"""What the benchmark scripts share: where the shared corpora are, peak memory, the machine and
library versions, the model labels, running one job in a child process, the ``--variant`` parser,
the first-use imports warmed up before the clock, and the reference documents' tokens.

(Not `common.py`: the app has a module of that name, and tests import both.)
"""

from __future__ import annotations

import ast
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
ARCHIVE = SHARED / "20news-bydate.tar.gz"

#: row labels of the models the training benchmarks know by name
LABELS = {"prodlda": "ProdLDA", "nvdm": "NVDM", "lda": "gensim LdaModel", "ldamulticore": "gensim LdaMulticore",
          "tomotopy": "tomotopy LDA (Gibbs)"}


def peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process or of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def own_peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process since it started, or of its largest finished child.

    Unlike :func:`peak_rss_mb` it is right in a process started by ``subprocess``: Linux carries
    ``ru_maxrss`` over fork + exec, so there ``RUSAGE_SELF`` is at least the parent's peak (a child
    that used 13 MB reports the 800 MB its parent held). This reads the process's own high-water
    mark (``VmHWM`` in ``/proc/self/status``) instead; elsewhere it falls back to :func:`peak_rss_mb`.
    """
    try:
        hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return peak_rss_mb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(int(hwm.split()[1]) / 1024, kids)


def versions() -> str:
    """The versions of the libraries the benchmarks measure, one line."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("topicvae", "torch", "numpy", "scipy", "scikit-learn", "gensim", "spacy", "tomotopy"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            out.append(f"{pkg} (not installed)")
    return ", ".join(out)


def machine() -> str:
    """Cores, CPU model, memory, Python and OS, one line."""
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        mem = "?"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} memory, Python {platform.python_version()}, {platform.system()}"


def child_env(threads: int) -> dict:
    """The environment of a benchmark child: every BLAS/OpenMP pool at ``threads``, warnings off."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}


def run_child(script: str | Path, job: dict, threads: int) -> subprocess.CompletedProcess:
    """``python SCRIPT --child JOB_JSON`` with :func:`child_env`; its output captured (the last
    stdout line is the child's JSON result)."""
    return subprocess.run([sys.executable, str(script), "--child", json.dumps(job)], env=child_env(threads),
                          capture_output=True, text=True)


def parse_variant(text: str) -> tuple[str, dict]:
    """``'LABEL:name=value;name=value'`` → (LABEL, {name: value}); values are Python literals
    when they parse as one, else strings."""
    label, _, body = text.partition(":")
    params = {}
    for item in filter(None, (s.strip() for s in body.split(";"))):
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[key.strip()] = value.strip()
    return label.strip(), params


def warm_imports(kind: str) -> None:
    """Import what the model's ``fit`` imports on first use, so that train seconds are training
    (a fresh process pays 1-3 s for these imports: torch's optimizers import torch._dynamo,
    the word embeddings scikit-learn's SVD and the topics' first clusters its k-means, the LDAs
    gensim or tomotopy)."""
    if kind == "tomotopy":
        import tomotopy  # noqa: F401
    elif kind in ("lda", "ldamulticore"):
        import gensim.models  # noqa: F401
    else:
        import sklearn.cluster  # noqa: F401
        import sklearn.utils.extmath  # noqa: F401
        import torch._dynamo  # noqa: F401


def reference_tokens(c, rows, path: Path, n_process: int = 2) -> list[list[str]]:
    """The tokens of corpus ``c``'s documents ``rows`` (its own vectorizer, out-of-vocabulary
    tokens kept, in text order: what C_v's sliding windows need); cached as JSON in ``path``."""
    if path.is_file():
        return json.loads(path.read_text())
    from topicvae.text.vectorizer import reference_tokens as corpus_tokens

    tokens = corpus_tokens(c, rows, n_process=n_process)  # phrases joined as in the corpus counts
    path.write_text(json.dumps(tokens))
    return tokens
