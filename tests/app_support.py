"""Small real runs, and a real ``topicvae app`` server, for the dashboard tests.

Used by tests/test_app.py, tests/test_app_launcher.py, tests/test_browser.py and tests/test_wheel.py.

:func:`build_app_data` makes, once per test session (the second caller finds the folder
complete and reuses it):

- corpus ``sample`` (the built-in sample, ingested) with run ``sample-prodlda-k8`` (ProdLDA,
  5 epochs) and run ``sample-lda-k8`` (gensim LDA, 2 passes);
- corpus ``dated`` (200 synthetic documents with labels and dates over two years) with run
  ``dated-lda-k4``, for the trends over time.

:func:`start_app` starts ``topicvae app`` as a subprocess: by default this Python's
``topicvae.interfaces.cli``; ``$TOPICVAE_TEST_EXECUTABLE`` names another ``topicvae`` executable
instead (tests/test_wheel.py points it at a wheel installed in a fresh virtual environment).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

PRODLDA_RUN = "sample-prodlda-k8"
LDA_RUN = "sample-lda-k8"
DATED_RUN = "dated-lda-k4"
PAGES = ["overview", "topics", "documents", "infer", "compare", "drift", "trends", "downloads"]
APP_TIMEOUT = 120  # seconds an AppTest run may take (shared, loaded machines)


def open_page(page: str, run: str | None = None, entry: Path | None = None):
    """An AppTest of the dashboard (the package's entry file unless ``entry``) run on ``page`` (a
    file of views/, or "overview"), with ``run`` picked in the sidebar when given. The folders come
    from TOPICVAE_CORPORA_DIR / TOPICVAE_RUNS_DIR."""
    from streamlit.testing.v1 import AppTest

    from topicvae.interfaces.app_launcher import ENTRY_FILE, find_app_dir

    at = AppTest.from_file(str(entry or find_app_dir() / ENTRY_FILE), default_timeout=APP_TIMEOUT)
    if run:
        at.query_params["run"] = run
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def assert_clean(at) -> None:
    """No exception and no error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
EXECUTABLE_ENV = "TOPICVAE_TEST_EXECUTABLE"


def _dated_corpus(corpora: Path):
    from topicvae.corpus import Corpus
    from topicvae.corpus.synthetic import sample_lda_corpus

    n, K, V = 200, 4, 60
    X, _, _ = sample_lda_corpus(n_docs=n, n_topics=K, n_words=V, doc_len=30, alpha=0.2, beta=0.1, seed=3)
    vocab = [f"term{j:02d}" for j in range(V)]
    dates = pd.date_range("2020-01-01", periods=n, freq="3D")
    docs = pd.DataFrame({
        "id": [f"n{i:03d}" for i in range(n)],
        "text": [f"Note {i}\n" + " ".join(vocab[j] for j in X[i].indices) for i in range(n)],
        "label": [f"desk{i % 4}" for i in range(n)],
        "date": [d.strftime("%Y-%m-%d") for d in dates],
        "split": np.where(np.arange(n) < 160, "train", "test"),
        "n_tokens": np.asarray(X.sum(1)).ravel(),
    })
    Corpus(name="dated", bow=X, vocab=vocab, docs=docs,
           manifest={"preprocess": {}, "counts": {"kept": n, "vocabulary": V, "tokens": int(X.sum()),
                                                  "labels": 4, "splits": {"train": 160, "test": 40}}}).save(corpora)
    return Corpus.load("dated", corpora)


def build_app_data(base: Path) -> tuple[Path, Path]:
    """(corpora folder, runs folder) under ``base``, built on the first call."""
    import topicvae
    from topicvae import runs
    from topicvae.text.settings import VocabSettings

    corpora, runs_dir = base / "corpora", base / "runs"
    done = base / "complete"
    if done.is_file():
        return corpora, runs_dir
    runs.MODELS.setdefault("lda", "topicvae.models.lda:LDA")
    sample = topicvae.ingest("builtin:sample", "sample", corpora_dir=corpora, progress=False, force=True,
                             vocab=VocabSettings(max_vocab=2000))
    runs.train_run(sample, "prodlda", 8, name=PRODLDA_RUN, runs_dir=runs_dir, force=True, progress=False,
                   epochs=5, hidden=[64], batch_size=100, threads=1, seed=0)
    runs.train_run(sample, "lda", 8, name=LDA_RUN, runs_dir=runs_dir, force=True, progress=False,
                   passes=2, seed=0)
    runs.train_run(_dated_corpus(corpora), "lda", 4, name=DATED_RUN, runs_dir=runs_dir, force=True,
                   progress=False, passes=2, seed=0)
    done.write_text("ok\n")
    return corpora, runs_dir


# ---------------------------------------------------------------------------- a real server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_command(port: int, corpora: Path, runs: Path, executable: str | None = None) -> list[str]:
    """``topicvae app`` on ``port``: ``executable`` (else ``$TOPICVAE_TEST_EXECUTABLE``), else this Python's."""
    executable = executable or os.environ.get(EXECUTABLE_ENV)
    head = [executable] if executable else [sys.executable, "-m", "topicvae.interfaces.cli"]
    return [*head, "app", "--port", str(port), "--corpora-dir", str(corpora), "--runs-dir", str(runs)]


def start_app(port: int, corpora: Path, runs: Path, log: Path, cwd: Path, executable: str | None = None,
              env: dict | None = None) -> subprocess.Popen:
    """Start ``topicvae app`` in a new session (its own process group, so :func:`stop_app` reaches
    Streamlit too), its output going to ``log``."""
    with open(log, "a") as out:
        return subprocess.Popen(app_command(port, corpora, runs, executable), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=cwd, env=env)


def is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Return once the server at ``url`` answers its health check; fail the test if it exits or never answers."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"topicvae app exited with status {proc.returncode}:\n{log.read_text()[-3000:]}")
        if is_healthy(url):
            return
        time.sleep(0.5)
    pytest.fail(f"topicvae app did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_app(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop the launcher and everything in its process group (the clean-up, whatever a test did)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    try:  # a member of the group may outlive its leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
