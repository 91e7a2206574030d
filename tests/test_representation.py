"""The representation layer: each method's ranking on small topics with known answers, the caller's
matrix never changed, and the names, descriptions and errors the CLIs show."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from topicvae.errors import ConfigError
from topicvae.scoring import representation as rep


@pytest.fixture(scope="module")
def topics():
    """K=4 Dirichlet topics over V=80 words, and 300 training documents drawn from them."""
    rng = np.random.default_rng(7)
    topic_word = rng.dirichlet(np.full(80, 0.3), size=4)
    theta = rng.dirichlet(np.full(4, 0.2), size=300)
    X = sp.csr_matrix(np.vstack([rng.multinomial(12, p) for p in theta @ topic_word]).astype(np.float64))
    return topic_word, X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", rep.methods())
def test_every_method_lists_distinct_word_ids_and_leaves_the_matrix_as_it_was(topics, method, dtype):
    topic_word, X = topics
    tw = topic_word.astype(dtype)
    before, X_before = tw.copy(), X.copy()
    ids = rep.top_words(tw, X, method=method, n=15)
    assert ids.shape == (4, 15) and ids.dtype == np.int64
    assert ids.min() >= 0 and ids.max() < 80
    assert all(len(set(row)) == 15 for row in ids.tolist())
    assert tw.dtype == dtype and np.array_equal(tw, before)
    assert (X != X_before).nnz == 0


@pytest.mark.parametrize("method", rep.methods())
def test_the_first_n_words_are_the_first_n_of_a_longer_list(topics, method):
    """A ranking does not depend on how many words are asked for (the dashboard ranks 20 once and lists 10)."""
    phi, X = topics
    longer = rep.top_words(phi, X, method, 30)
    for n in (1, 5, 10, 20):
        np.testing.assert_array_equal(rep.top_words(phi, X, method, n), longer[:, :n])


@pytest.mark.parametrize("method", rep.methods())
def test_n_past_the_vocabulary_lists_every_word_once_and_n_below_one_is_refused(topics, method):
    topic_word, X = topics
    ids = rep.top_words(topic_word.tolist(), X, method=method, n=500)  # (a nested list works too)
    assert ids.shape == (4, 80)
    assert all(sorted(row) == list(range(80)) for row in ids.tolist())
    with pytest.raises(ConfigError):
        rep.top_words(topic_word, X, method=method, n=0)


@pytest.mark.parametrize("method, with_documents", [(m, d) for m in rep.methods() for d in (True, False)
                                                     if d or not rep.needs_documents(m)])
def test_rows_need_not_be_normalised(topics, method, with_documents):
    """Scaling each topic by its own power of two (exact in floating point) changes no ranking."""
    topic_word, X = topics
    X = X if with_documents else None
    scaled = topic_word * np.array([[1.0], [8.0], [0.25], [1024.0]])
    assert np.array_equal(rep.top_words(scaled, X, method, 20), rep.top_words(topic_word, X, method, 20))


def test_probability_is_the_stable_argsort_of_the_weights(topics):
    topic_word, _ = topics
    tw = topic_word.copy()
    tw[0, [5, 9]] = tw[0].max() + 1  # a tie at the top: the lower id first
    ids = rep.top_words(tw, method="probability", n=12)
    assert np.array_equal(ids, np.argsort(-tw, axis=1, kind="stable")[:, :12])
    assert list(ids[0, :2]) == [5, 9]


def test_relevance_lifts_a_rare_word_over_a_frequent_one_only_when_the_documents_show_it_frequent():
    """Topic 0: word 0 (0.5) over word 1 (0.3). λ = 0.6 ranks 1 first iff p(0)/p(1) > (5/3)^2.5 ≈ 3.6.
    From the topics alone p(0)/p(1) = 0.375/0.275 ≈ 1.4: the order stays. In the documents word 0 has
    1,000 tokens and word 1 ten: p(0)/p(1) = 1001/11 ≈ 91, and word 1 leads."""
    tw = np.array([[0.5, 0.3, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]])
    X = sp.csr_matrix(np.array([[1000.0, 10.0, 100.0, 100.0]]))
    assert list(rep.top_words(tw, method="probability", n=2)[0]) == [0, 1]
    assert list(rep.top_words(tw, method="relevance", n=2)[0]) == [0, 1]
    assert list(rep.top_words(tw, X, method="relevance", n=2)[0]) == [1, 0]


def test_relevance_with_lambda_one_is_the_probability_order(topics, monkeypatch):
    topic_word, X = topics
    monkeypatch.setattr(rep, "RELEVANCE_LAMBDA", 1.0)
    assert np.array_equal(rep.top_words(topic_word, X, "relevance", 30), rep.top_words(topic_word, X, "probability", 30))


def test_frex_puts_a_word_exclusive_to_its_topic_ahead_of_a_shared_frequent_one():
    """Word 0 is the most probable in both topics, word 1 is topic 0's second and in no other topic.
    By hand (ECDF = average rank / 6, w = 0.5), topic 0: FREX(1) = 1/(.5/1 + .5/(5/6)) ≈ 0.91 over
    FREX(0) = 1/(.5/(4/6) + .5/1) = 0.8 over FREX(2) ≈ 0.74, then 3 and 4 (tied, by id), then 5;
    topic 1: 5 (0.8), 3 and 4 (≈ 0.71), 0 (0.67), 2 (0.33), 1 (1/6)."""
    tw = np.array([[0.35, 0.25, 0.15, 0.10, 0.10, 0.05],
                   [0.35, 0.00, 0.05, 0.20, 0.20, 0.20]])
    assert list(rep.top_words(tw, method="probability", n=2)[0]) == [0, 1]
    ids = rep.top_words(tw, method="frex", n=6)
    assert ids.tolist() == [[1, 0, 2, 3, 4, 5], [5, 3, 4, 0, 2, 1]]


def test_frex_breaks_a_tie_by_weight():
    """Topic 0: word 0 is the more exclusive (ECDF 1 against 3/4), word 1 the more probable (1 against
    3/4): equal FREX, so the heavier word 1 comes first, though its id is higher."""
    tw = np.array([[0.3, 0.4, 0.2, 0.1], [0.0, 0.4, 0.3, 0.3]])
    assert list(rep.top_words(tw, method="frex", n=2)[0]) == [1, 0]


def test_frex_with_no_weight_on_exclusivity_is_the_probability_order(topics, monkeypatch):
    topic_word, X = topics
    monkeypatch.setattr(rep, "FREX_WEIGHT", 0.0)
    assert np.array_equal(rep.top_words(topic_word, X, "frex", 30), rep.top_words(topic_word, X, "probability", 30))


def _co_occurring_corpus():
    """Topic 0: word 0 first, words 1 and 2 equally probable next (so 1 first by id). In the documents
    word 2 occurs with word 0 and word 1 never does."""
    rng = np.random.default_rng(3)
    tw = np.array([[0.30, 0.15, 0.15, 0.10, 0.10, 0.08, 0.06, 0.06],
                   [0.02, 0.02, 0.02, 0.10, 0.20, 0.20, 0.24, 0.20]])
    docs = np.zeros((200, 8))
    docs[:100, [0, 2]] = 1  # 0 and 2 together
    docs[100:, 1] = 1  # 1 alone, with the other words
    docs[:, 3:] = rng.random((200, 5)) < 0.3
    return tw, sp.csr_matrix(docs)


def test_lead_words_prefer_the_word_that_occurs_with_the_first_over_an_equally_probable_one():
    tw, X = _co_occurring_corpus()
    assert list(rep.top_words(tw, method="probability", n=3)[0]) == [0, 1, 2]
    assert list(rep.top_words(tw, X, method="lead_words", n=2)[0]) == [0, 2]


def test_lead_words_list_other_topics_leads_after_the_topics_other_words(topics):
    """With V = 80 each topic leads with 10 of its 60 most probable words; after them come its other
    pool words that lead no topic, then those that lead another topic, then the rest by weight."""
    topic_word, X = topics
    ids = rep.top_words(topic_word, X, method="lead_words", n=80)
    leads = rep.coherent_leads(topic_word, X, rep.LEAD_COHERENCE)
    assert (leads >= 0).all()
    led = set(leads.ravel().tolist())
    by_weight = np.argsort(-topic_word, axis=1, kind="stable")
    for k in range(4):
        own = leads[k].tolist()
        pool = [w for w in by_weight[k, :rep.POOL].tolist() if w not in own]
        free = [w for w in pool if w not in led]
        elsewhere = [w for w in pool if w in led]
        assert ids[k].tolist()[:rep.POOL] == own + free + elsewhere
        assert ids[k].tolist()[rep.POOL:] == by_weight[k, rep.POOL:].tolist()


def test_lead_words_fall_back_to_the_probability_order_when_a_topic_has_one_word():
    tw, X = _co_occurring_corpus()
    tw[1] = np.eye(8)[4]
    assert np.array_equal(rep.top_words(tw, X, "lead_words", 8), rep.top_words(tw, X, "probability", 8))


def test_lead_words_without_documents_or_with_other_documents_are_refused_in_one_line():
    tw, X = _co_occurring_corpus()
    with pytest.raises(ConfigError, match="needs the training documents") as caught:
        rep.top_words(tw, method="lead_words")
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="8"):
        rep.top_words(tw, X[:, :5], method="lead_words")


def test_an_unknown_method_is_refused_in_one_line_naming_the_choices():
    with pytest.raises(ConfigError) as caught:
        rep.top_words(np.ones((2, 3)), method="tfidf")
    assert str(caught.value) == ("unknown representation 'tfidf'; "
                                 "choose from probability, relevance, frex, lead_words")
    with pytest.raises(ConfigError):
        rep.describe("tfidf")
    assert rep.check_method("frex") == "frex"


def test_names_descriptions_and_which_need_documents():
    assert rep.methods() == ["probability", "relevance", "frex", "lead_words"]
    assert rep.DEFAULT in rep.methods()
    for method in rep.methods():
        line = rep.describe(method)
        assert line.startswith(method) and "\n" not in line
    assert rep.describe("relevance") == "relevance (LDAvis, λ = 0.6)"
    assert [m for m in rep.methods() if rep.needs_documents(m)] == ["lead_words"]


def test_every_representation_reads_a_vaes_own_topics_without_changing_them():
    from topicvae.corpus.synthetic import sample_lda_corpus
    from topicvae.models.vae import ProdLDA

    X, _, _ = sample_lda_corpus(n_docs=300, n_topics=4, n_words=60, doc_len=40, alpha=0.2, beta=0.1, seed=0)
    model = ProdLDA(4, epochs=3, hidden=(16,), batch_size=50, threads=1, seed=0).fit(X)
    before = model.topic_word_.copy()
    for method in rep.methods():
        ids = rep.top_words(model.topic_word_, X, method, 10)
        assert ids.shape == (4, 10) and all(len(set(row)) == 10 for row in ids)
        assert np.array_equal(model.topic_word_, before)
    np.testing.assert_array_equal(rep.top_words(model.topic_word_, X, "probability", 10),
                                  np.argsort(-before, axis=1, kind="stable")[:, :10])
