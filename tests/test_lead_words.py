"""The lead words of ProdLDA's read-out: chosen for their co-occurrence, kept by save/load, reread and
merges, off with lead_coherence=0, and never for seeded topics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from topicvae import evaluation
from topicvae.errors import ConfigError
from topicvae.models.vae import GSM, ProdLDA
from topicvae.models.vae.lead_words import N_LEAD, co_occurrence, coherent_leads, lead_first, pair_scores
from topicvae.synthetic import sample_lda_corpus
from vae_support import TINY  # tests/vae_support.py


@pytest.fixture(scope="module")
def titles():
    """Titles-like planted corpus: K=5, V=200, 2,000 documents of 8 tokens."""
    X, _, _ = sample_lda_corpus(n_docs=2000, n_topics=5, n_words=200, doc_len=8, alpha=0.1, beta=0.05, seed=4)
    return X


def test_pair_scores_are_the_npmi_of_pairs_seen_often_and_minus_one_for_pairs_never_seen():
    # words 0 and 1 together in 40 of 100 documents, 2 with 0 in one document only, 3 with nothing
    rows = [[1, 1, 0, 0]] * 40 + [[1, 0, 1, 0]] + [[0, 0, 0, 1]] * 10 + [[0, 1, 0, 0]] * 49
    together, n_docs = co_occurrence(sp.csr_matrix(np.array(rows, dtype=np.float32)), np.arange(4))
    assert n_docs == 100 and list(np.diag(together)) == [41, 89, 1, 10]
    E = pair_scores(together, n_docs)
    p01, p0, p1 = 0.40, 0.41, 0.89
    npmi01 = math.log(p01 / (p0 * p1)) / -math.log(p01)
    assert E[0, 1] == pytest.approx((1 - math.exp(-40 * 0.25)) * npmi01 - math.exp(-40 * 0.25))
    assert E[0, 1] == pytest.approx(npmi01, abs=1e-4)  # 40 documents: as good as certain to be seen again
    assert E[0, 2] < -0.5  # one document: likely missing from a reference a quarter the size
    assert E[0, 3] == E[2, 3] == -1.0  # never together
    np.testing.assert_allclose(E, E.T)


def test_coherent_leads_prefer_the_words_that_occur_together_over_a_heavier_one_that_does_not():
    """One topic whose second-heaviest word (9) never shares a document with its first (0), while the
    lighter words 1..8 do: the leads are 0, then the co-occurring words; 9 comes after them. With no
    coherence weight the order is the weights' own."""
    rng = np.random.default_rng(0)
    docs = np.zeros((400, 12), dtype=np.float32)
    docs[:300, 0] = 1
    docs[:300, 1:9] = rng.random((300, 8)) < 0.5
    docs[300:, 9] = 1
    docs[300:, 10:] = 1
    weights = np.array([[30.0, 8, 7, 6, 5, 4, 3, 2, 1.5, 20, 0.5, 0.4]])
    leads = coherent_leads(weights / weights.sum(), sp.csr_matrix(docs), coherence=7.0, n_lead=9)
    assert leads[0, 0] == 0 and set(leads[0, 1:9]) == set(range(1, 9))
    assert list(coherent_leads(weights / weights.sum(), sp.csr_matrix(docs), coherence=0.0, n_lead=9)[0, :9]) == \
        [0, 9, 1, 2, 3, 4, 5, 6, 7]


def test_lead_first_hands_the_row_its_own_weights_again_leads_first_and_other_topics_leads_last():
    tw = np.array([[0.4, 0.3, 0.2, 0.1, 0.0], [0.1, 0.1, 0.1, 0.3, 0.4]])
    leads = np.full((2, N_LEAD), -1)
    leads[0, :2] = [2, 3]
    leads[1, :1] = [1]
    out = lead_first(tw, leads)
    np.testing.assert_allclose(np.sort(out, axis=1), np.sort(tw, axis=1))
    # topic 0: its leads 2, 3 first, then 0, then word 1 (which leads topic 1); the zero stays
    assert list(np.argsort(-out[0], kind="stable")[:4]) == [2, 3, 0, 1] and out[0, 4] == 0
    assert np.argmax(out[1]) == 1
    none = np.full((2, N_LEAD), -1)
    np.testing.assert_array_equal(lead_first(tw, none), tw)


def test_prodlda_lists_its_lead_words_first_and_they_co_occur_more_in_held_out_documents(titles):
    """The default read-out against lead_coherence=0: the same network (the leads are chosen after
    training), the same weights per topic, and top-10 words that share more held-out documents."""
    train, test = titles[:1600], titles[1600:]
    led = ProdLDA(5, epochs=3, **TINY).fit(train)
    plain = ProdLDA(5, epochs=3, lead_coherence=0.0, **TINY).fit(train)
    for a, b in zip(led.net_.state_dict().items(), plain.net_.state_dict().items()):
        if a[0] != "lead_words":
            assert torch.equal(a[1], b[1]), a[0]
    assert (plain.net_.lead_words == -1).all() and (led.net_.lead_words[:, :N_LEAD] >= 0).all()
    np.testing.assert_allclose(np.sort(led.topic_word_, axis=1), np.sort(plain.topic_word_, axis=1))
    ids = evaluation.top_word_ids(led.topic_word_, 10)
    assert [list(t) for t in ids] == led.net_.lead_words.numpy().tolist()
    assert evaluation.npmi(led.topic_word_, test)[0] > evaluation.npmi(plain.topic_word_, test)[0]
    # reread switches them off and on without training
    np.testing.assert_array_equal(led.reread(train, lead_coherence=0.0).topic_word_, plain.topic_word_)
    assert (led.net_.lead_words == -1).all()
    again = led.reread(train, lead_coherence=7.0)
    np.testing.assert_array_equal(again.topic_word_, ProdLDA(5, epochs=3, **TINY).fit(train).topic_word_)
    with pytest.raises(ConfigError, match="lead_coherence must be"):
        ProdLDA(5, lead_coherence=-1.0, **TINY).fit(train)


def test_lead_words_survive_save_and_load_merges_choose_their_own_and_old_models_have_none(titles, tmp_path):
    model = ProdLDA(5, epochs=2, **TINY).fit(titles)
    model.save(tmp_path / "m")
    loaded = ProdLDA.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.topic_word_, model.topic_word_)
    assert torch.equal(loaded.net_.lead_words, model.net_.lead_words)
    merged = model.merged([[0, 1], [2], [3], [4]], titles)
    assert tuple(merged.net_.lead_words.shape) == (4, N_LEAD) and (merged.net_.lead_words >= 0).all()
    assert [list(t) for t in evaluation.top_word_ids(merged.topic_word_, N_LEAD)] == merged.net_.lead_words.tolist()
    # a model saved before the setting existed: no lead words, its topics read out as they were
    data = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    del data["params"]["lead_coherence"], data["state_dict"]["lead_words"]
    torch.save(data, tmp_path / "m" / "model.pt")
    old = ProdLDA.load(tmp_path / "m")
    assert old.lead_coherence == 0.0 and (old.net_.lead_words == -1).all()
    np.testing.assert_array_equal(old.topic_word_, ProdLDA(5, epochs=2, lead_coherence=0.0, **TINY).fit(titles).topic_word_)


def test_seeded_topics_keep_their_order_and_gsm_leads_too(titles):
    seeds = [[0, 1, 2], [3, 4, 5]]
    model = ProdLDA(5, epochs=2, seed_topics=seeds, **TINY).fit(titles)
    leads = model.net_.lead_words.numpy()
    assert (leads[:2] == -1).all() and (leads[2:] >= 0).all()
    unled = ProdLDA(5, epochs=2, seed_topics=seeds, lead_coherence=0.0, **TINY).fit(titles)
    np.testing.assert_array_equal(model.topic_word_[:2], unled.topic_word_[:2])
    assert (GSM(5, epochs=2, **TINY).fit(titles).net_.lead_words >= 0).all()
