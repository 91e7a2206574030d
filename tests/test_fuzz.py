"""Property-based fuzzing: every reader gives documents or a one-line TopicVAEError, never anything else.

The strategies (tests/fuzz_inputs.py) mix valid structure with damage; benchmarks/fuzz.py
runs them with 10,000 inputs and prints what happened. A failure found here or there gets
its reproducer as a regular test in tests/test_sources.py. Examples are derandomized, so
every run draws the same 2,000+ inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_inputs import READERS, cell_values, column_names, json_values, outcome, texts
from topicvae.errors import TopicVAEError

# inputs per reader: 2,150 in all
EXAMPLES = {"csv": 250, "tsv": 150, "jsonl": 300, "parquet": 250, "folder": 250, "zip": 250, "tar": 250, "odd": 150,
            "headerless": 150, "octis": 150}


def fuzz_settings(n: int):
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _check(case) -> None:
    kind, result, _ = outcome(case)
    if kind == "other":
        raise AssertionError(f"{type(result).__name__}: {result}") from result


def _reader_test(name: str):
    @fuzz_settings(EXAMPLES[name])
    @given(case=READERS[name])
    def test(case):
        _check(case)

    test.__name__ = f"test_{name}_reader_gives_documents_or_a_topicvae_error"
    return test


test_csv_reader = _reader_test("csv")
test_tsv_reader = _reader_test("tsv")
test_jsonl_reader = _reader_test("jsonl")
test_parquet_reader = _reader_test("parquet")
test_folder_reader = _reader_test("folder")
test_zip_reader = _reader_test("zip")
test_tar_reader = _reader_test("tar")
test_odd_sources = _reader_test("odd")
test_headerless_reader = _reader_test("headerless")
test_octis_reader = _reader_test("octis")


# ------------------------------------------------------------------ saving what the readers give
@fuzz_settings(150)
@given(meta=st.lists(st.dictionaries(column_names, st.one_of(cell_values, json_values), max_size=4),
                     min_size=1, max_size=4))
def test_any_metadata_saves_and_loads_back(meta, tmp_path_factory):
    """Metadata of any mix of types is stored (as text where Parquet needs one type) and reads back the same."""
    import scipy.sparse as sp

    from topicvae.corpus import Corpus
    from topicvae.corpus.ingestion import _documents_table
    from topicvae.text.sources import RawDoc, _without_lone_surrogates

    docs = [RawDoc(id=str(i), text="words", meta=_without_lone_surrogates(m)) for i, m in enumerate(meta)]
    table = _documents_table(docs)
    table.insert(5, "n_tokens", np.ones(len(docs), dtype=np.int64))
    corpora = tmp_path_factory.mktemp("corpora")
    corpus = Corpus(name="fuzz", bow=sp.csr_matrix(np.ones((len(docs), 1), dtype=np.int32)), vocab=["words"],
                    docs=table)
    corpus.save(corpora)
    loaded = Corpus.load("fuzz", corpora).docs
    assert list(loaded.columns) == list(corpus.docs.columns)
    assert _cells(loaded) == _cells(corpus.docs)


def _cells(df: pd.DataFrame) -> list[list]:
    """The values of ``df``, row by row, with every kind of missing value (None, NaN, NA) as None."""
    return [[None if pd.api.types.is_scalar(v) and pd.isna(v) else v for v in row]
            for row in df.astype(object).itertuples(index=False)]


# ------------------------------------------------------------------ the infer input path
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A ProdLDA run with 2 topics trained for 3 epochs on a small ingested corpus of two themes."""
    from topicvae import ingest
    from topicvae.runs import train_run
    from topicvae.text.settings import VocabSettings

    root = tmp_path_factory.mktemp("infer")
    rng = np.random.default_rng(0)
    themes = [["apple", "pear", "orchard", "fruit", "harvest"], ["engine", "wheel", "road", "car", "driver"]]
    rows = [" ".join(rng.choice(themes[i % 2], 12)) for i in range(60)]
    pd.DataFrame({"text": rows}).to_csv(root / "docs.csv", index=False)
    corpus = ingest(str(root / "docs.csv"), "tiny", corpora_dir=root / "corpora",
                    vocab=VocabSettings(min_df=1, max_df=1.0, min_tokens=1))
    run = train_run(corpus, "prodlda", 2, runs_dir=root / "runs", hidden=[8], epochs=3, batch_size=20,
                    threads=1, progress=False)
    return run, root / "corpora"


@fuzz_settings(60)
@given(batch=st.lists(st.one_of(texts, st.text(max_size=300), st.just("apple " * 2000)), min_size=1, max_size=8))
def test_infer_any_text_gives_a_mixture(tiny_run, batch):
    from topicvae.runs.inference import infer_texts

    run, corpora = tiny_run
    try:
        result = infer_texts(run, batch, corpora_dir=corpora)
    except TopicVAEError as exc:
        assert "\n" not in str(exc)
        return
    assert result.theta.shape == (len(batch), 2) and np.isfinite(result.theta).all()
    assert np.allclose(result.theta.sum(axis=1), 1.0)
    assert (result.n_known <= result.n_tokens).all()
