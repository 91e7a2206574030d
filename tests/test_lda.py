"""gensim LDA behind the TopicModel interface: fit, transform, bound, save/load, 20 Newsgroups."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from topicvae.errors import ConfigError, RunError
from topicvae.models.lda import LDA, csr_chunk
from topicvae.scoring import metrics as ev

K, V, N_DOCS = 5, 200, 1000


@pytest.fixture(scope="module")
def synthetic():
    """(X, beta, theta): 1,000 documents sampled from a known LDA, K=5, V=200."""
    rng = np.random.default_rng(0)
    beta = rng.dirichlet(np.full(V, 0.05), size=K)  # (K, V) sparse-ish topics
    theta = rng.dirichlet(np.full(K, 0.3), size=N_DOCS)  # (D, K)
    lengths = rng.poisson(80, size=N_DOCS) + 5
    counts = rng.multinomial(lengths, theta @ beta)  # one draw per document, vectorised
    return sp.csr_matrix(counts), beta, theta


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, _, _ = synthetic
    return LDA(K, passes=10, chunksize=100, seed=0, history_docs=500).fit(X, progress=False)


def test_fit_recovers_the_generating_topics(synthetic, fitted):
    X, beta, _ = synthetic
    tw = fitted.topic_word_
    assert tw.shape == (K, V)
    np.testing.assert_allclose(tw.sum(axis=1), 1.0, atol=1e-12)
    _, dist = ev.align_topics(beta, tw)
    assert dist.max() < 0.2  # about 0.06–0.08; distinct true topics are ≈ 0.95 apart


def test_history_has_one_entry_per_pass_and_the_bound_improves(fitted):
    h = fitted.history_
    assert [e["pass"] for e in h] == list(range(1, 11))
    assert all(e["seconds"] > 0 for e in h)
    assert h[-1]["train_seconds"] == pytest.approx(sum(e["seconds"] for e in h))
    assert h[-1]["per_word_bound"] > h[0]["per_word_bound"]
    assert h[-1]["perplexity"] < h[0]["perplexity"]


def test_transform_rows_sum_to_one_and_are_deterministic(synthetic, fitted):
    X, _, theta_true = synthetic
    theta = fitted.transform(X)
    assert theta.shape == (N_DOCS, K)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-12)
    assert np.array_equal(theta, fitted.transform(X))
    # the inferred mixtures track the true ones (up to topic order)
    order = [j for _, j in ev.align_topics(synthetic[1], fitted.topic_word_)[0]]
    corr = np.corrcoef(theta_true.ravel(), theta[:, order].ravel())[0, 1]
    assert corr > 0.9


def test_transform_of_a_document_does_not_depend_on_its_neighbours(synthetic, fitted):
    X = synthetic[0][:300]
    together = fitted.transform(X)
    rows = [7, 150, 299]
    alone = np.vstack([fitted.transform(X[i]) for i in rows])
    np.testing.assert_allclose(alone, together[rows], rtol=0, atol=1e-6)
    reversed_ = fitted.transform(X[::-1])[::-1]
    np.testing.assert_allclose(reversed_, together, rtol=0, atol=1e-6)


def test_transform_of_an_empty_document_is_still_a_distribution(fitted):
    theta = fitted.transform(sp.csr_matrix((3, V)))
    np.testing.assert_allclose(theta.sum(axis=1), 1.0)


def test_log_bound_equals_gensims_bound_without_the_topic_term(synthetic, fitted):
    X, _, _ = synthetic
    X = X[:200]
    total, n_tokens = fitted.log_bound(X)
    assert n_tokens == X.sum()
    gamma = fitted._gamma(X).astype(np.float32)[:, None, :]  # gensim's bound wants (1, K) rows
    model = fitted.model_
    gensim_docs = model.bound(csr_chunk(X, 0, X.shape[0]), gamma=gamma) - model.bound([])
    assert total == pytest.approx(gensim_docs, rel=1e-5)
    assert 1.0 < ev.perplexity(total, n_tokens) < V


def test_save_load_round_trip_gives_the_same_transform(tmp_path, synthetic, fitted):
    X, _, _ = synthetic
    fitted.save(tmp_path / "model")
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == ["lda.json", "lda_alpha.npy", "lda_eta.npy", "lda_sstats.npy"]
    for name in files[1:]:
        np.load(tmp_path / "model" / name, allow_pickle=False)  # plain arrays, no pickles
    assert json.loads((tmp_path / "model" / "lda.json").read_text())["settings"]["n_topics"] == K
    loaded = LDA.load(tmp_path / "model")
    assert np.array_equal(loaded.topic_word_, fitted.topic_word_)
    assert np.array_equal(loaded.transform(X), fitted.transform(X))
    assert loaded.log_bound(X[:50]) == fitted.log_bound(X[:50])
    assert loaded.history_ == fitted.history_


def test_array_priors_are_saved_as_arrays_not_json(tmp_path, synthetic):
    X, _, _ = synthetic
    eta = np.full(V, 0.01)
    model = LDA(K, passes=1, chunksize=100, eta=eta, alpha=[0.1] * K, history_docs=0).fit(X[:300], progress=False)
    model.save(tmp_path)
    settings = json.loads((tmp_path / "lda.json").read_text())["settings"]
    assert settings["eta"] == {"array_file": "lda_eta.npy"} and settings["alpha"] == {"array_file": "lda_alpha.npy"}
    loaded = LDA.load(tmp_path)
    np.testing.assert_allclose(loaded.eta, eta)
    assert np.array_equal(loaded.transform(X[:50]), model.transform(X[:50]))


def test_load_reports_a_missing_model(tmp_path):
    with pytest.raises(RunError, match="no saved LDA model"):
        LDA.load(tmp_path)


def test_multicore_trains_with_history(synthetic):
    X, beta, _ = synthetic
    model = LDA(K, passes=3, chunksize=100, workers=2, seed=0, history_docs=200).fit(X, progress=False)
    assert type(model.model_).__name__ == "LdaMulticore"
    assert len(model.history_) == 3
    np.testing.assert_allclose(model.transform(X[:20]).sum(axis=1), 1.0)


def test_threads_limit_blas_and_leave_the_model_the_same(synthetic, fitted):
    """``threads``, the running setting every model takes, sets BLAS's threads while inferring (and
    fitting); the topics and θ stay the same. (The suite runs BLAS on 1 thread, so 2 shows the setting.)"""
    from threadpoolctl import threadpool_info

    X, _, _ = synthetic
    one = LDA(K, passes=10, chunksize=100, seed=0, history_docs=500, threads=2).fit(X, progress=False)
    np.testing.assert_allclose(one.topic_word_, fitted.topic_word_, rtol=1e-5, atol=1e-8)
    seen, real = [], one.model_.inference

    def inference(*args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return real(*args, **kwargs)

    one.model_.inference = inference
    np.testing.assert_allclose(one.transform(X[:50]), fitted.transform(X[:50]), rtol=1e-5, atol=1e-8)
    assert seen and set(seen) == {2}
    assert one.get_params()["threads"] == 2


@pytest.mark.parametrize(
    "settings",
    [dict(n_topics=0), dict(passes=0), dict(alpha="auto", workers=2), dict(alpha="flat"),
     dict(eta=-1.0), dict(alpha=[0.1, 0.2])],
)
def test_bad_settings_raise_config_error(synthetic, settings):
    X, _, _ = synthetic
    with pytest.raises(ConfigError):
        LDA(**{"n_topics": K, **settings}).fit(X[:50], progress=False)


def test_transform_checks_its_input(synthetic, fitted):
    with pytest.raises(RuntimeError, match="not fitted"):
        LDA(K).transform(synthetic[0])
    with pytest.raises(ValueError, match="words"):
        fitted.transform(sp.csr_matrix((2, V + 1)))


# ---------------------------------------------------------------------------- 20 Newsgroups
@pytest.fixture(scope="module")
def newsgroups(news_corpus):
    """(X_train, X_test, vocab) of 20 Newsgroups as topicvae ingests it (headers, quotes and
    signatures stripped), restricted to its 2,000 most frequent words.

    ``news_corpus`` (conftest) skips when ../shared/corpora/20news-bydate.tar.gz is absent.
    """
    X = news_corpus.bow[:, :2000].tocsr()  # vocabulary columns are most frequent first
    return (X[news_corpus.split_rows("train")], X[news_corpus.split_rows("test")], news_corpus.vocab[:2000])


@pytest.mark.slow
def test_lda_on_20_newsgroups_finds_a_space_topic(newsgroups):
    X_train, X_test, vocab = newsgroups
    model = LDA(20, passes=2, seed=0, history_docs=0).fit(X_train, progress=False)
    top = model.top_words(vocab, 10)
    assert any({"space", "nasa"} & set(words) for words in top), top
    npmi, _ = ev.npmi(model.topic_word_, X_test)
    assert npmi > 0.05
