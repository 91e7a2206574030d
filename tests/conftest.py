"""Shared fixtures: the real 20 Newsgroups archive (from ../shared/corpora) and small corpora."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NEWS_ARCHIVE = REPO.parent / "shared" / "corpora" / "20news-bydate.tar.gz"

# fixed thread counts keep numeric results identical from run to run
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def news_archive() -> Path:
    if not NEWS_ARCHIVE.is_file():
        pytest.skip(f"20 Newsgroups archive not found at {NEWS_ARCHIVE} (it lives in ../shared/corpora)")
    return NEWS_ARCHIVE


@pytest.fixture(scope="session")
def news_corpus(news_archive, tmp_path_factory):
    """20 Newsgroups ingested once per test session with header/quote/signature stripping."""
    from topicvae import ingest
    from topicvae.text.settings import PreprocessSettings

    d = tmp_path_factory.mktemp("corpora")
    return ingest(str(news_archive), "news", corpora_dir=d, n_process=2,
                  preprocess=PreprocessSettings(strip=("headers", "quotes", "signatures")))


@pytest.fixture(scope="session")
def sample_corpus(tmp_path_factory):
    """The built-in sample corpus, ingested once per session."""
    from topicvae import ingest

    return ingest("builtin:sample", "sample", corpora_dir=tmp_path_factory.mktemp("corpora"))


@pytest.fixture
def ws(template, tmp_path) -> Path:
    """A private copy of the test module's ``template`` folder (a workspace of corpora, runs and
    inputs built once per module), so that each test may change it."""
    shutil.copytree(template, tmp_path / "ws")
    return tmp_path / "ws"
