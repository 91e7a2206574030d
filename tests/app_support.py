"""Small real runs for the dashboard tests (tests/test_app.py, tests/test_browser.py).

:func:`build_app_data` makes, once per test session (the second caller finds the folder
complete and reuses it):

- corpus ``sample`` (the built-in sample, ingested) with run ``sample-prodlda-k8`` (ProdLDA,
  5 epochs) and run ``sample-lda-k8`` (gensim LDA, 2 passes);
- corpus ``dated`` (200 synthetic documents with labels and dates over two years) with run
  ``dated-lda-k4``, for the trends over time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PRODLDA_RUN = "sample-prodlda-k8"
LDA_RUN = "sample-lda-k8"
DATED_RUN = "dated-lda-k4"
PAGES = ["overview", "topics", "documents", "infer", "compare", "trends", "downloads"]


def _dated_corpus(corpora: Path):
    from topicvae.corpus import Corpus
    from topicvae.synthetic import sample_lda_corpus

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
    from topicvae.config import VocabSettings

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
