"""ProdLDA, NVDM and GSM: the math (KL, sparse layers), topic recovery, reproducibility, checkpoints."""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from topicvae.corpus.synthetic import sample_lda_corpus, topic_recovery
from topicvae.errors import ConfigError, CorpusError, RunError, TrainingDiverged
from topicvae.models.vae import (GSM, NVDM, ProdLDA, TrainingInterrupted, elbo, encoder, networks, sparse,
                                 training_loop, transport, word_embeddings)
from topicvae.models.vae.statistics import training_documents
from topicvae.scoring import metrics as evaluation
from vae_support import TINY  # tests/vae_support.py



@pytest.fixture(scope="module")
def small():
    """300 documents, 4 topics, 60 words: for the fast behavioural tests."""
    X, _, _ = sample_lda_corpus(n_docs=300, n_topics=4, n_words=60, doc_len=40, alpha=0.2, beta=0.1, seed=1)
    return X


@pytest.fixture(scope="module")
def planted():
    """Planted corpus: K=5, V=200, 2,000 documents of 100 tokens; 1,600 train, 400 test."""
    X, topic_word, theta = sample_lda_corpus(n_docs=2000, n_topics=5, n_words=200, doc_len=100,
                                             alpha=0.1, beta=0.05, seed=0)
    return X[:1600], X[1600:], topic_word


def state(model) -> dict:
    """The network's state (a copy of every tensor)."""
    return {k: v.clone() for k, v in model.net_.state_dict().items()}


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs"


# ---------------------------------------------------------------------------- synthetic corpora
def test_sample_lda_corpus_shapes_counts_and_seed():
    X, tw, theta = sample_lda_corpus(n_docs=500, n_topics=3, n_words=50, doc_len=30, alpha=0.5, beta=0.1, seed=7)
    assert sp.isspmatrix_csr(X) and X.shape == (500, 50) and X.dtype == np.int32
    assert tw.shape == (3, 50) and theta.shape == (500, 3)
    np.testing.assert_allclose(tw.sum(1), 1) and np.testing.assert_allclose(theta.sum(1), 1)
    assert (np.asarray(X.sum(1)).ravel() == 30).all()
    X2, tw2, _ = sample_lda_corpus(n_docs=500, n_topics=3, n_words=50, doc_len=30, alpha=0.5, beta=0.1, seed=7)
    assert (X != X2).nnz == 0 and np.array_equal(tw, tw2)
    X3, _, _ = sample_lda_corpus(n_docs=500, n_topics=3, n_words=50, doc_len=30, alpha=0.5, beta=0.1, seed=8)
    assert (X != X3).nnz > 0
    # word frequencies follow the generating model
    freq = np.asarray(X.sum(0)).ravel() / X.sum()
    np.testing.assert_allclose(freq, theta.mean(0) @ tw, atol=0.01)


def test_sample_lda_corpus_per_document_lengths():
    lengths = np.arange(20) % 5
    X, _, _ = sample_lda_corpus(n_docs=20, n_topics=2, n_words=10, doc_len=lengths, seed=0)
    assert (np.asarray(X.sum(1)).ravel() == lengths).all()


# ---------------------------------------------------------------------------- the math
@pytest.mark.parametrize("prior", ["normal", "laplace-dirichlet"])
def test_analytic_kl_matches_monte_carlo(prior):
    K = 5
    g = torch.Generator().manual_seed(0)
    if prior == "normal":
        p_mu, p_var = torch.zeros(K), torch.ones(K)
    else:
        p_mu, p_var = elbo.laplace_dirichlet_prior(np.array([0.3, 0.5, 1.0, 2.0, 0.7]), K)
    mu = torch.randn(3, K, generator=g, dtype=torch.float64)
    logvar = torch.randn(3, K, generator=g, dtype=torch.float64) * 0.5
    p_mu, p_var = p_mu.double(), p_var.double()
    analytic = elbo.gaussian_kl(mu, logvar, p_mu, p_var)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(p_mu, p_var.sqrt())
    z = q.sample((200_000,))  # fixed by the global seed below
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    np.testing.assert_allclose(mc.numpy(), analytic.numpy(), rtol=0.03, atol=0.02)


def test_laplace_prior_of_a_symmetric_dirichlet():
    mean, var = elbo.laplace_dirichlet_prior(1.0, 50)
    np.testing.assert_allclose(mean.numpy(), 0.0, atol=1e-7)
    np.testing.assert_allclose(var.numpy(), (1 - 2 / 50) + 1 / 50, rtol=1e-6)  # 0.98


def test_sparse_linear_equals_dense_and_has_the_dense_gradient(small):
    batches = sparse.CSRBatches(small)
    b = batches.batch(17, 213, transposed=True)
    assert torch.equal(b.transposed.to_dense(), torch.tensor(small[17:213].T.toarray(), dtype=torch.float32))
    torch.manual_seed(0)
    lin = sparse.SparseLinear(small.shape[1], 8)
    dense = torch.tensor(small[17:213].toarray(), dtype=torch.float32)
    w = lin.weight.detach().clone().requires_grad_()
    grad_out = torch.randn(196, 8)
    (lin(b) * grad_out).sum().backward()
    ((dense @ w + lin.bias.detach()) * grad_out).sum().backward()
    torch.testing.assert_close(lin.weight.grad, w.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(lin(b), dense @ w + lin.bias, rtol=1e-5, atol=1e-5)


def test_reconstruction_is_the_multinomial_log_likelihood(small):
    b = sparse.CSRBatches(small).batch(0, 10)
    logp = torch.log_softmax(torch.randn(10, small.shape[1], dtype=torch.float64), 1)
    expected = -(torch.tensor(small[:10].toarray(), dtype=torch.float64) * logp).sum(1)
    torch.testing.assert_close(elbo.reconstruction(logp, b), expected)


def test_bernoulli_reconstruction_is_the_presence_log_likelihood(small):
    b = sparse.CSRBatches(small).batch(0, 10)
    logits = torch.randn(10, small.shape[1], dtype=torch.float64)
    y = torch.tensor(small[:10].toarray() > 0, dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).sum(1)
    torch.testing.assert_close(elbo.bernoulli_reconstruction(logits, b), expected)


@pytest.mark.parametrize("likelihood", ["multinomial", "bernoulli"])
@pytest.mark.parametrize("seeds", [None, [[0, 1, 2]]])
def test_decoder_on_the_topic_vocabulary_gives_the_full_decoders_loss_and_gradients(small, likelihood, seeds):

    docs = training_documents(small)
    model = ProdLDA(4, likelihood=likelihood, min_topic_df=int(np.median(docs.counts.doc_freq)), seed_topics=seeds,
                    **TINY)
    net = model._build_net(small.shape[1], docs)
    rows = net.topic_rows()
    assert rows is not None and 0 < len(rows) < small.shape[1]  # a partial topic vocabulary
    batch = sparse.CSRBatches(small).batch(0, 50, transposed=True)
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    full_net = copy.deepcopy(net)  # the same weights, through the general decoder
    for training in (True, False):
        results = []
        for one, reconstruct in ((net, net.reconstruct), (full_net, lambda z, x: networks.TopicVAE.reconstruct(full_net, z, x))):
            one.train(training)
            one.zero_grad()
            torch.manual_seed(1)  # the same θ dropout for both
            loss = reconstruct(z, batch)
            loss.sum().backward()
            bn = one.decoder_bn
            results.append((loss.detach(), one.topic_embeddings.grad.clone(), bn.bias.grad.clone(),
                            bn.running_mean[rows].clone(), bn.running_var[rows].clone()))
        for fast, full in zip(*results):
            torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-4)
    # the diversity term on the topic rows equals the term on the whole β (zero rows included)
    net.train(True)
    net.reconstruct(z, batch)  # keeps its β of the topic rows for the penalty
    beta = net.beta_matrix()
    cost = -beta / beta.std()
    plan = transport.sinkhorn_plan(cost, net.transport_eps, net.transport_iters, net.word_mass)
    torch.testing.assert_close(net.penalty(0), net.diversity * (plan * cost).sum(), rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def short_texts():
    """Titles-like planted corpus: K=5, V=200, 3,000 documents of 8 tokens; 2,400 train, 600 test."""
    X, topic_word, _ = sample_lda_corpus(n_docs=3000, n_topics=5, n_words=200, doc_len=8,
                                         alpha=0.1, beta=0.05, seed=4)
    return X[:2400], X[2400:], topic_word


def test_automatic_epochs_follow_the_mean_length_of_the_training_documents():
    from topicvae.models.vae import model

    def corpus(lengths):
        return sp.csr_matrix(np.array([[n, 0] for n in lengths], dtype=np.float32))

    def automatic_epochs(X, rows=None, batch_size=200):
        return model.automatic_epochs(training_documents(X, rows).counts, batch_size)

    # 1 step an epoch: the decoder learns for 10 (short) or 30 (long) epochs, then 500 steps of the encoder alone
    assert automatic_epochs(corpus([29, 29, 29])) == (510, 10)
    assert automatic_epochs(corpus([30, 30, 30])) == (530, 30)
    # only the training rows count: the long document is not one of them
    assert automatic_epochs(corpus([5, 5, 500]), rows=np.array([0, 1])) == (510, 10)
    assert automatic_epochs(corpus([5, 5, 500])) == (530, 30)
    # a corpus large enough for 1,000 steps in its topic epochs needs no encoder epochs
    titles = sp.csr_matrix(np.full((20_000, 1), 5.0))
    assert automatic_epochs(titles) == (10, None)  # 100 batches of 200
    assert automatic_epochs(titles[:19_800]) == (16, 10)  # 99 batches: 500 steps are 6 epochs, rounded up
    assert automatic_epochs(titles[:19_800], batch_size=100) == (10, None)
    assert automatic_epochs(sp.csr_matrix(np.full((4_600, 1), 5.0))) == (32, 10)  # 23 steps an epoch
    assert automatic_epochs(sp.csr_matrix(np.full((6_800, 1), 50.0))) == (30, None)  # 34 steps × 30 epochs


def test_automatic_embedding_dim_is_smaller_on_short_documents_and_survives_save_load_and_merge(
        short_texts, small, tmp_path):
    """embedding_dim=None: 200 (capped at V − 1), on short documents 2.5 per topic; the d chosen is
    the network's, kept by save/load and by a merge to fewer topics (whose own rule would differ)."""
    from topicvae.models.vae.model import automatic_embedding_dim

    assert [automatic_embedding_dim(k, True) for k in (5, 20, 50, 80, 100)] == [13, 50, 125, 200, 200]
    assert automatic_embedding_dim(20, False) == 200
    X = short_texts[0]  # 8 tokens a document
    model = ProdLDA(6, epochs=1, **TINY).fit(X)
    assert model.embedding_dim is None and model.embedding_dim_ == 15 == model.net_.word_embeddings.shape[1]
    assert ProdLDA(6, epochs=1, embedding_dim=30, **TINY).fit(X).net_.word_embeddings.shape[1] == 30
    assert ProdLDA(4, epochs=1, **TINY).fit(small).embedding_dim_ == 59  # 40 tokens: 200, capped at V − 1
    model.save(tmp_path / "m")
    loaded = ProdLDA.load(tmp_path / "m")
    assert loaded.embedding_dim_ == 15 and loaded.embedding_dim is None
    np.testing.assert_array_equal(loaded.transform(X[:50]), model.transform(X[:50]))
    merged = model.merged([[0, 1], [2, 3], [4], [5]], X)  # 4 topics would choose 10
    assert merged.embedding_dim_ == 15 == merged.net_.word_embeddings.shape[1]
    merged.fit(X, warm_start=True)


def test_on_a_small_corpus_the_encoder_catches_up_on_the_fixed_decoder(short_texts, small):
    from topicvae.models.vae.model import automatic_epochs

    X = short_texts[0]  # 8 tokens a document; 2,160 training rows: 54 steps of 40 an epoch
    short = ProdLDA(5, **TINY).fit(X)
    assert (short.epochs, len(short.history_)) == (None, 20)  # 10 epochs, then ⌈500 / 54⌉ = 10 of the encoder
    ten = ProdLDA(5, epochs=10, **TINY).fit(X)  # a number given: the topics learn in every epoch
    # the first 10 epochs are the same run; the last 10 moved the encoder, never the decoder: the same topics
    assert [h["train_loss"] for h in short.history_[:10]] == [h["train_loss"] for h in ten.history_]
    assert torch.equal(short.net_.topic_embeddings, ten.net_.topic_embeddings)
    for key in ("decoder_bn.bias", "decoder_bn.running_mean", "decoder_bn.running_var"):
        assert torch.equal(short.net_.state_dict()[key], ten.net_.state_dict()[key])
    np.testing.assert_array_equal(short.topic_word_, ten.topic_word_)
    assert not torch.equal(short.net_.encoder.first.weight, ten.net_.encoder.first.weight)
    assert short.history_[-1]["train_loss"] < ten.history_[-1]["train_loss"]  # the encoder closed some of the gap
    moving = ProdLDA(5, epochs=11, **TINY).fit(X)
    assert not torch.equal(moving.net_.topic_embeddings, ten.net_.topic_embeddings)
    fixed = ProdLDA(5, epochs=11, topic_epochs=10, **TINY).fit(X)
    assert torch.equal(fixed.net_.topic_embeddings, ten.net_.topic_embeddings)
    long = ProdLDA(4, **TINY).fit(small)  # 40 tokens a document, annealed decoder: 60 epochs, then the encoder
    rows = long._split(small.shape[0])[0]
    assert len(long.history_) == automatic_epochs(training_documents(small, rows).counts, 40, 60)[0] > 60
    plain = ProdLDA(4, bn_anneal=0, **TINY).fit(small)  # the batch norm kept: 30 epochs, then the encoder
    assert len(plain.history_) == automatic_epochs(training_documents(small, rows).counts, 40)[0] > 30
    with pytest.raises(ConfigError, match="epochs must be a whole number, 0 or more"):
        ProdLDA(5, epochs=-1, **TINY).fit(X)
    with pytest.raises(ConfigError, match="topic_epochs must be"):
        ProdLDA(5, topic_epochs=-1, **TINY).fit(X)


def test_a_learned_encoder_scale_lets_the_kl_term_choose_the_spread(short_texts, tmp_path):
    """Without a scale the encoder's batch norm spreads every μ_k with unit variance (about K/2 nats of KL
    a document); with encoder_scale the KL term decides, and on 8-token documents it chooses less."""
    X = short_texts[0]
    fixed = ProdLDA(5, epochs=10, **TINY).fit(X)
    scaled = ProdLDA(5, epochs=10, encoder_scale=True, **TINY).fit(X)
    assert fixed.net_.encoder.mu_bn.weight is None and scaled.net_.encoder.mu_bn.weight is not None
    assert scaled.history_[-1]["train_kl"] < fixed.history_[-1]["train_kl"]
    assert scaled.neg_elbo(short_texts[1]).mean() < fixed.neg_elbo(short_texts[1]).mean()
    scaled.save(tmp_path / "m")
    loaded = ProdLDA.load(tmp_path / "m")
    assert loaded.encoder_scale is True
    np.testing.assert_array_equal(loaded.transform(X[:20]), scaled.transform(X[:20]))
    with pytest.raises(ConfigError, match="encoder_scale"):
        ProdLDA(5, encoder_scale="yes", **TINY).fit(X)


def test_steps_with_fixed_topics_give_them_no_gradient_and_compute_beta_once(small):
    """Within ``steps(topics_fixed=True)`` the topic embeddings get no gradient while the rest does, β
    (whole and on the topic rows) is one tensor for every step, equal to β computed outside, and
    leaving the context gives the topics their gradient back; guided topics' lead is in the cached β."""
    for params in ({}, {"seed_topics": [[0, 1, 2]]}):
        net = ProdLDA(4, epochs=1, **TINY, **params).fit(small).net_.train()
        net.zero_grad(set_to_none=True)  # (the last training step's gradients)
        topic = net.topic_parameter()
        outside = net.beta_matrix().detach().clone()
        words = net.encoder.input_words
        batch = sparse.CSRBatches(small[:40], encoder_words=None if words is None else words.numpy()).batch(
            0, 40, transposed=True)
        with net.steps(topics_fixed=True):
            assert not topic.requires_grad
            assert net.beta_matrix() is net.beta_matrix() and torch.equal(net.beta_matrix(), outside)
            assert net.topic_rows() is net.topic_rows()
            if net.topic_rows() is not None:
                assert net.beta_matrix(net.topic_rows()) is net.beta_matrix(net.topic_rows())
            rec, kl = net(batch)
            (rec + kl).mean().backward()
            assert topic.grad is None and net.encoder.first.weight.grad is not None
        assert topic.requires_grad and net._steps_cache is None
        with net.steps():  # topics learning: β is a fresh product at every step, with a gradient
            assert net.beta_matrix() is not net.beta_matrix() and net.beta_matrix().requires_grad
            rec, kl = net(batch)
            (rec + kl).mean().backward()
            assert topic.grad is not None
        assert torch.equal(net.beta_matrix().detach(), outside)


def _presence_nll(X_train, X_test) -> float:
    """−log p of the test documents' presence patterns under each word's training document frequency."""
    p = (np.asarray((X_train > 0).sum(0)).ravel() + 1.0) / (X_train.shape[0] + 2.0)
    y = (X_test > 0).toarray()
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).sum())


@pytest.mark.parametrize("cls", [ProdLDA, NVDM])
def test_bernoulli_vaes_predict_word_presence_better_than_document_frequencies(short_texts, cls):
    X_train, X_test, _ = short_texts
    model = cls(5, likelihood="bernoulli", epochs=30, threads=1, seed=0).fit(X_train)
    rec, kl = training_loop.evaluate(model.net_, X_test, torch.device("cpu"), torch.Generator().manual_seed(0))
    baseline = _presence_nll(X_train, X_test)  # about 24 nats per document
    assert rec.sum() < baseline - 1.0 * X_test.shape[0]
    np.testing.assert_allclose(model.neg_elbo(X_test, seed=0), rec + kl, rtol=1e-5)


def test_batch_bounds_never_leave_a_single_document():
    assert training_loop.batch_bounds(401, 200) == [(0, 200), (200, 401)]
    assert training_loop.batch_bounds(400, 200) == [(0, 200), (200, 400)]
    assert training_loop.batch_bounds(5, 200) == [(0, 5)]


def test_ppmi_embeddings_put_words_of_the_same_documents_together():
    rng = np.random.default_rng(0)
    # words 0-4 come together, words 5-9 come together, word 10 is in every document
    docs = []
    for d in range(200):
        group = np.arange(5) if d % 2 == 0 else np.arange(5, 10)
        docs.append(np.concatenate([rng.choice(group, size=3, replace=False), [10]]))
    rows = np.repeat(np.arange(200), 4)
    X = sp.csr_matrix((np.ones(800), (rows, np.concatenate(docs))), shape=(200, 11))
    emb = word_embeddings.ppmi_embeddings(X, 2, seed=0)  # the PPMI matrix has two leading directions, one per group
    assert emb.shape == (11, 2) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb[:10], axis=1), 1.0, atol=1e-5)
    assert np.abs(emb[10]).max() == 0  # in every document: never more than chance, no direction
    cos = emb[:10] @ emb[:10].T
    same = cos[:5, :5][~np.eye(5, dtype=bool)].min(), cos[5:, 5:][~np.eye(5, dtype=bool)].min()
    assert min(same) > 0.9 and cos[:5, 5:].max() < 0.1
    assert word_embeddings.ppmi_embeddings(X, 50).shape == (11, 10)  # capped at V - 1
    # the sparse path (large vocabularies) gives the same subspace
    wide = word_embeddings.ppmi_embeddings(X, 2, seed=0, dense_limit=5)
    np.testing.assert_allclose(np.abs(wide @ wide.T), np.abs(emb @ emb.T), atol=1e-4)


def test_ppmi_matrix_is_the_smoothed_pmi_of_document_co_occurrence():
    X = sp.random(300, 30, density=0.15, random_state=np.random.default_rng(4), format="csr")
    X.data[:] = 2.0  # counts do not matter: only which documents hold a word
    B = (X.toarray() > 0).astype(np.float64)
    D, df, n = B.T @ B, B.sum(0), B.shape[0]
    for a in (1.0, 0.75):
        share = df ** a / (df ** a).sum() * df.sum() / n
        with np.errstate(divide="ignore"):
            expected = np.maximum(np.log(D / df[:, None] / share[None, :]), 0.0)
        np.fill_diagonal(expected, 0.0)
        np.testing.assert_allclose(word_embeddings.ppmi_matrix(X, a), expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(word_embeddings.ppmi_matrix(X, a, dense_limit=5).toarray(), expected,
                                   rtol=1e-4, atol=1e-5)
    # smoothing weakens the association with a rare context word more than with a common one
    plain, smooth = word_embeddings.ppmi_matrix(X, 1.0), word_embeddings.ppmi_matrix(X, 0.75)
    rare, common = np.argmin(df), np.argmax(df)
    lost = plain - smooth
    assert lost[:, rare].mean() > 0 > lost[:, common].mean()


def test_sinkhorn_plan_has_the_marginals_and_follows_the_cost():
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(30, 3, generator=g)
    cost[:10, 0] -= 5  # words 0-9 are cheap for topic 0, 10-19 for topic 1, 20-29 for topic 2
    cost[10:20, 1] -= 5
    cost[20:, 2] -= 5
    plan = transport.sinkhorn_plan(cost, eps=0.1)
    np.testing.assert_allclose(plan.sum(1).numpy(), 1 / 30, rtol=1e-3)
    np.testing.assert_allclose(plan.sum(0).numpy(), 1 / 3, rtol=1e-3)
    assert (plan.argmax(1) == torch.arange(30) // 10).all()
    # balanced: the cheapest topic for every word cannot take them all
    plan = transport.sinkhorn_plan(torch.zeros(30, 3).index_fill_(1, torch.tensor([0]), -1.0), eps=0.01)
    np.testing.assert_allclose(plan.sum(0).numpy(), 1 / 3, rtol=1e-3)


# ---------------------------------------------------------------------------- learning
def _unigram_nll_per_token(X_train, X_test) -> float:
    p = np.asarray(X_train.sum(0)).ravel() + 1.0
    return float(-(X_test @ np.log(p / p.sum())).sum() / X_test.sum())


def test_prodlda_recovers_planted_topics_and_beats_unigram(planted):
    X_train, X_test, true_topics = planted
    model = ProdLDA(5, epochs=100, threads=1, seed=0).fit(X_train)
    # the model's own distribution of a document entirely about topic k (with the annealed decoder
    # ∝ topic_word_[k] · exp(background_))
    assert topic_recovery(true_topics, model.word_distribution(np.eye(5)))[0] >= 0.9  # mean matched cosine
    elbo_nll = model.neg_elbo(X_test).sum() / X_test.sum()
    assert elbo_nll < _unigram_nll_per_token(X_train, X_test) - 0.3  # ≈ 3.35 vs 4.10 nats per token
    bound, n_tokens = model.log_bound(X_test)
    assert n_tokens == X_test.sum() and bound == pytest.approx(-elbo_nll * n_tokens)
    # θ of one document does not depend on the others in its batch
    np.testing.assert_allclose(model.transform(X_test[:7]), model.transform(X_test)[:7], atol=1e-6)


def long_tail_corpus(seed: int = 0, n_topics: int = 5, n_words: int = 600, n_docs: int = 6000, doc_len: int = 80):
    """(X, planted topics): each topic has 15 core words of its own (70 % of its mass) over a shared long
    tail of rare words (a Zipf law over the other 525 words, 30 %)."""
    rng = np.random.default_rng(seed)
    core = 15
    tail = 1.0 / np.arange(1, n_words - core * n_topics + 1) ** 1.1
    topic_word = np.zeros((n_topics, n_words))
    for k in range(n_topics):
        topic_word[k, core * k:core * (k + 1)] = 0.7 * rng.dirichlet(np.ones(core))
        topic_word[k, core * n_topics:] = 0.3 * rng.permutation(tail) / tail.sum()
    theta = rng.dirichlet(np.full(n_topics, 0.2), size=n_docs)
    X = sp.csr_matrix(np.vstack([rng.multinomial(doc_len, p) for p in theta @ topic_word]))
    return X, topic_word


def test_from_a_random_start_the_models_own_topics_recover_planted_ones_over_a_long_tail():
    """Training does the work: from random topic embeddings, the default ProdLDA's own distribution
    (topic_word_) finds the planted topics among rare words; untrained, it does not."""
    X, true_topics = long_tail_corpus()
    untrained = ProdLDA(5, topic_init="random", epochs=0, threads=1, seed=0).fit(X)
    trained = ProdLDA(5, topic_init="random", threads=1, seed=0).fit(X)
    assert untrained.background_ is None and trained.background_ is not None  # the batch norm annealed away
    # p(w | θ = e_k), ∝ topic_word_[k] · exp(background_) once the batch norm is annealed away
    assert topic_recovery(true_topics, untrained.word_distribution(np.eye(5)))[0] < 0.6  # mean matched cosine (0.48)
    cosine, top_share = topic_recovery(true_topics, trained.word_distribution(np.eye(5)))
    assert cosine >= 0.95 and top_share >= 0.9  # (0.998, 0.98)


def test_nvdm_beats_unigram(planted):
    X_train, X_test, _ = planted
    model = NVDM(5, epochs=40, threads=1, seed=0).fit(X_train)
    assert model.neg_elbo(X_test).sum() / X_test.sum() < _unigram_nll_per_token(X_train, X_test) - 0.3


def test_gsm_has_the_standard_normal_prior_and_learns_planted_topics(planted):
    X_train, X_test, true_topics = planted
    model = GSM(5, epochs=100, threads=1, seed=0).fit(X_train)
    assert torch.equal(model.net_.prior_mu, torch.zeros(5)) and torch.equal(model.net_.prior_var, torch.ones(5))
    assert topic_recovery(true_topics, model.word_distribution(np.eye(5)))[0] >= 0.9  # mean matched cosine
    assert model.neg_elbo(X_test).sum() / X_test.sum() < _unigram_nll_per_token(X_train, X_test) - 0.3
    np.testing.assert_allclose(model.transform(X_test).sum(1), 1.0, atol=1e-5)


def test_gsm_takes_no_alpha(small):
    """GSM's prior is N(0, I): ProdLDA's alpha is not among its settings, and a value given anyway is
    refused rather than ignored, by the constructor as by the CLI's check."""
    from topicvae.runs import check_settings

    assert "alpha" not in GSM.param_names() and "alpha" in ProdLDA.param_names()
    assert "alpha" not in GSM(4).get_params()
    with pytest.raises(ConfigError, match="alpha is a setting of prodlda.*not of gsm"):
        GSM(4, alpha=0.5, epochs=1, **TINY)
    with pytest.raises(ConfigError, match="alpha is a setting of prodlda.*not of gsm"):
        check_settings("gsm", {"alpha": 0.5})


def test_completion_log_likelihood_prefers_the_documents_own_words(small):
    model = ProdLDA(4, epochs=20, **TINY).fit(small)
    own = model.completion_log_likelihood(small[:50], small[:50])
    shuffled = model.completion_log_likelihood(small[:50], small[50:100])
    assert own.shape == (50,) and (own <= 0).all()
    assert own.sum() / small[:50].sum() > shuffled.sum() / small[50:100].sum()


def test_posterior_gives_mean_and_positive_std(small):
    model = NVDM(4, epochs=2, **TINY).fit(small)
    mu, sigma = model.posterior(small)
    assert mu.shape == sigma.shape == (300, 4) and mu.dtype == np.float32
    assert (sigma > 0).all()
    np.testing.assert_allclose(model.transform(small), torch.softmax(torch.tensor(mu), 1).numpy(), atol=1e-6)


PLAIN = dict(embedding_dim=0, beta_decay=0.0, diversity=0.0, topic_init="random", topic_lr=None)


def test_plain_prodlda_has_the_papers_free_decoder_and_no_regulariser(small):
    model = ProdLDA(4, epochs=2, **PLAIN, **TINY).fit(small)
    keys = set(model.net_.state_dict())
    assert "beta.weight" in keys and not {"word_embeddings", "topic_embeddings"} & keys
    assert model.net_.penalty(0) is None
    assert [g["weight_decay"] for g in model.net_.param_groups()] == [0.0, 0.0]


def test_embedding_decoder_uses_the_corpus_embeddings_and_saves_them(small, tmp_path):
    model = ProdLDA(4, epochs=2, embedding_dim=8, **TINY).fit(small)
    net = model.net_
    assert net.beta is None and tuple(net.word_embeddings.shape) == (60, 8)
    rows = model._split(small.shape[0])[0]
    np.testing.assert_array_equal(net.word_embeddings.numpy(), word_embeddings.ppmi_embeddings(small[rows], 8, seed=0))
    model.save(tmp_path / "m")
    loaded = ProdLDA.load(tmp_path / "m")
    assert torch.equal(loaded.net_.word_embeddings, net.word_embeddings)
    np.testing.assert_array_equal(loaded.topic_word_, model.topic_word_)
    wide = ProdLDA(4, epochs=1, embedding_dim=500, **TINY).fit(small)  # capped at V - 1
    assert tuple(wide.net_.word_embeddings.shape) == (60, 59)
    wide.save(tmp_path / "w")
    assert tuple(ProdLDA.load(tmp_path / "w").net_.word_embeddings.shape) == (60, 59)


def test_topics_are_the_models_own_distributions_for_every_vae(small, tmp_path):
    """topic_word_ is what the decoder computes: p(w | θ = e_k) for ProdLDA and GSM; for NVDM its own part,
    with the background b, so that p(w | z = e_k) ∝ topic_word_[k] · exp(background_). Saved and loaded alike."""
    for cls in (ProdLDA, GSM, NVDM):
        model = cls(4, epochs=3, **TINY).fit(small)
        K = model.n_topics
        np.testing.assert_allclose(model.topic_word_.sum(1), 1.0, atol=1e-9)
        own = model.word_distribution(np.eye(K))
        if model.background_ is None:
            np.testing.assert_allclose(own, model.topic_word_, atol=1e-6)
        else:
            assert model.background_.shape == (60,)
            with_background = model.topic_word_ * np.exp(model.background_)
            np.testing.assert_allclose(own, with_background / with_background.sum(1, keepdims=True), atol=1e-6)
        # a mixture is read as the decoder reads it (ProdLDA: a product of experts, not θ @ topic_word_)
        theta = model.transform(small[:5])
        mixed = model.word_distribution(theta)
        assert mixed.shape == (5, 60)
        np.testing.assert_allclose(mixed.sum(1), 1.0, atol=1e-9)
        model.save(tmp_path / cls.name)
        np.testing.assert_array_equal(cls.load(tmp_path / cls.name).topic_word_, model.topic_word_)
    with pytest.raises(ConfigError, match="4 columns"):
        model.word_distribution(np.eye(3))


def test_a_model_saved_with_the_old_read_out_loads_with_its_own_topics(small, tmp_path):
    """Runs saved before the read-out left the model (its settings and buffers) load, their topics
    recomputed from the network."""
    model = ProdLDA(4, epochs=2, embedding_dim=8, **TINY).fit(small)
    model.save(tmp_path / "m")
    data = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    data["params"].update(exclusivity=2.0, reliability_df=0.0, prevalence=None, lead_coherence=7.0)
    data["state_dict"].update(word_reliability=torch.ones(60), word_prevalence=torch.zeros(60),
                              lead_words=torch.full((4, 10), -1, dtype=torch.long))
    torch.save(data, tmp_path / "m" / "model.pt")
    old = ProdLDA.load(tmp_path / "m")
    assert not hasattr(old, "exclusivity")
    np.testing.assert_array_equal(old.topic_word_, model.topic_word_)
    np.testing.assert_array_equal(old.transform(small), model.transform(small))


def test_zero_epochs_gives_the_network_as_initialised(small):
    """epochs=0 builds and initialises the network without a step: the initial topics, for measuring what
    training does."""
    untrained = ProdLDA(4, epochs=0, **TINY).fit(small)
    trained = ProdLDA(4, epochs=5, **TINY).fit(small)
    assert untrained.history_ == []
    assert not np.allclose(untrained.topic_word_, trained.topic_word_)
    assert untrained.neg_elbo(small).mean() > trained.neg_elbo(small).mean()


def test_a_model_saved_before_the_decoder_options_loads_as_plain_prodlda(small, tmp_path):
    model = ProdLDA(4, epochs=2, **PLAIN, **TINY).fit(small)
    model.save(tmp_path / "m")
    data = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    for key in PLAIN:
        del data["params"][key]
    torch.save(data, tmp_path / "m" / "model.pt")
    loaded = ProdLDA.load(tmp_path / "m")
    assert {k: getattr(loaded, k) for k in PLAIN} == PLAIN
    np.testing.assert_array_equal(loaded.transform(small), model.transform(small))


def test_beta_decay_shrinks_only_the_topic_parameters(small):
    groups = ProdLDA(4, beta_decay=60.0, **TINY)._build_net(60).param_groups()
    assert [g["weight_decay"] for g in groups] == [0.0, 60.0] and len(groups[1]["params"]) == 1
    free = ProdLDA(4, epochs=5, **{**PLAIN, "beta_decay": 0.0}, **TINY).fit(small)
    decayed = ProdLDA(4, epochs=5, **{**PLAIN, "beta_decay": 60.0}, **TINY).fit(small)
    assert decayed.net_.beta.weight.abs().mean() < 0.2 * free.net_.beta.weight.abs().mean()
    np.testing.assert_allclose(decayed.topic_word_.sum(1), 1.0, atol=1e-6)


def test_diversity_keeps_topics_from_sharing_top_words(small):
    # 8 topics on a corpus of 4: without the regulariser topics repeat each other's words
    # (the clustered start also keeps topics apart: off here)
    alone = dict(topic_init="random", beta_decay=60.0)
    plain = ProdLDA(8, epochs=20, diversity=0.0, **alone, **TINY).fit(small)
    diverse = ProdLDA(8, epochs=20, diversity=30.0, **alone, **TINY).fit(small)
    beta = {m: m.net_.beta_matrix().detach().numpy().T for m in (plain, diverse)}  # β itself, before any read-out
    assert evaluation.topic_diversity(beta[plain], 5) <= 0.65  # over a third of the top words repeated (0.55-0.65 by seed)
    assert evaluation.topic_diversity(beta[diverse], 5) >= evaluation.topic_diversity(beta[plain], 5) + 0.1


@pytest.fixture(scope="module")
def long_tail():
    """5 planted topics over 100 words, plus a tail of 3,000 words that carry no topic: each of
    2,000 documents has 60 topic tokens and 5 tail tokens drawn uniformly (a tail word is in
    about 3 documents, like the names and misspellings of real text)."""
    X, topic_word, _ = sample_lda_corpus(n_docs=2000, n_topics=5, n_words=100, doc_len=60,
                                         alpha=0.1, beta=0.05, seed=3)
    rng = np.random.default_rng(3)
    tail_cols = rng.integers(0, 3000, size=(2000, 5))
    tail = sp.csr_matrix((np.ones(tail_cols.size, np.int32), (np.repeat(np.arange(2000), 5), tail_cols.ravel())),
                         shape=(2000, 3000))
    return sp.hstack([X, tail], format="csr"), topic_word


def tail_share(model, n_planted: int = 100) -> float:
    """Share of the model's top-10 words that are tail words."""
    top = np.argsort(-model.topic_word_, axis=1)[:, :10]
    return float((top >= n_planted).mean())


def test_default_prodlda_tops_its_topics_with_planted_words_not_the_rare_tail(long_tail):
    X, planted = long_tail
    default = ProdLDA(5, **{**TINY, "hidden": (50,), "batch_size": 100}).fit(X)
    assert tail_share(default) == 0.0
    # every planted topic is found: its best-matching learned topic shares most of its top 10
    top = np.argsort(-default.topic_word_, axis=1)[:, :10]
    truth = np.argsort(-planted, axis=1)[:, :10]
    overlap = np.array([[len(set(t) & set(l)) for l in top] for t in truth])
    assert overlap.max(axis=1).min() >= 6
    # (before the topic vocabulary and the frequency-weighted transport, all 50 top words were tail words)


def test_default_encoder_reads_the_topic_vocabulary_only_and_survives_save_and_load(long_tail, tmp_path):
    X, _ = long_tail
    settings = {**TINY, "hidden": (20,), "batch_size": 100, "epochs": 2}
    model = ProdLDA(5, **settings).fit(X)
    net = model.net_
    words = torch.nonzero(net.topic_mask > 0).squeeze(1)
    assert len(words) < 200 and torch.equal(net.encoder.input_words, words)  # the tail is not read
    assert tuple(net.encoder.first.weight.shape) == (len(words), 20)
    # adding tail words to a document changes nothing the encoder sees
    tail_only = sp.csr_matrix((np.full(50, 4.0), (np.arange(50), np.full(50, 3000))), shape=X.shape)
    np.testing.assert_array_equal(model.transform(X[:50] + tail_only[:50]), model.transform(X[:50]))
    model.save(tmp_path / "m")
    loaded = ProdLDA.load(tmp_path / "m")
    assert torch.equal(loaded.net_.encoder.input_words, words)
    np.testing.assert_array_equal(loaded.transform(X[:200]), model.transform(X[:200]))
    # a model that reads every word (as models saved before the setting did) keeps reading them all
    every = ProdLDA(5, encoder_vocabulary="all", **settings).fit(X)
    assert every.net_.encoder.input_words is None and every.net_.encoder.first.weight.shape[0] == X.shape[1]
    assert not np.array_equal(every.transform(X[:50] + tail_only[:50]), every.transform(X[:50]))
    every.save(tmp_path / "e")
    data = torch.load(tmp_path / "e" / "model.pt", weights_only=True)
    del data["params"]["encoder_vocabulary"]
    torch.save(data, tmp_path / "e" / "model.pt")
    old = ProdLDA.load(tmp_path / "e")
    assert old.encoder_vocabulary == "all"
    np.testing.assert_array_equal(old.transform(X[:200]), every.transform(X[:200]))


def test_an_encoder_reading_log_counts_sees_log2_of_one_plus_each_count_in_its_output_and_its_gradient():
    X = sp.random(40, 30, density=0.3, format="csr", random_state=np.random.default_rng(0),
                  data_rvs=lambda n: np.random.default_rng(1).integers(1, 25, n).astype(np.float32))
    torch.manual_seed(0)
    enc = encoder.Encoder(30, 4, (6,), 0.0, batchnorm=False, log_counts=True)
    dense = encoder.Encoder(30, 4, (6,), 0.0, batchnorm=False)
    dense.load_state_dict(enc.state_dict())
    mu, logvar = enc(sparse.CSRBatches(X).batch(0, 40, transposed=True))
    logged = X.copy()
    logged.data = np.log2(1 + logged.data)
    mu_ref, logvar_ref = dense(sparse.CSRBatches(logged).batch(0, 40, transposed=True))
    torch.testing.assert_close(mu, mu_ref)
    (mu.sum() + logvar.sum()).backward()
    (mu_ref.sum() + logvar_ref.sum()).backward()
    torch.testing.assert_close(enc.first.weight.grad, dense.first.weight.grad)
    # and it is not what the counts give (a count of 20 weighs 4.4, not 20)
    assert not torch.allclose(dense(sparse.CSRBatches(X).batch(0, 40))[0], mu)


def test_the_encoders_input_survives_save_and_load_and_older_models_read_counts(long_tail, tmp_path):
    X, _ = long_tail
    settings = {**TINY, "hidden": (20,), "batch_size": 100, "epochs": 2}
    logged = ProdLDA(5, **settings).fit(X)  # the default reads log2(1 + count)
    counts = ProdLDA(5, encoder_input="counts", **settings).fit(X)
    assert logged.net_.encoder.log_counts and not counts.net_.encoder.log_counts
    assert not np.allclose(logged.transform(X[:50]), counts.transform(X[:50]))
    logged.save(tmp_path / "l")
    np.testing.assert_array_equal(ProdLDA.load(tmp_path / "l").transform(X[:200]), logged.transform(X[:200]))
    counts.save(tmp_path / "c")
    data = torch.load(tmp_path / "c" / "model.pt", weights_only=True)
    del data["params"]["encoder_input"]  # as saved before the setting
    torch.save(data, tmp_path / "c" / "model.pt")
    old = ProdLDA.load(tmp_path / "c")
    assert old.encoder_input == "counts"
    np.testing.assert_array_equal(old.transform(X[:200]), counts.transform(X[:200]))


def test_a_restricted_encoder_refuses_training_batches_without_its_words(long_tail):
    X, _ = long_tail
    model = ProdLDA(5, **{**TINY, "hidden": (20,), "batch_size": 100, "epochs": 1}).fit(X)
    net = model.net_.train()
    batch = sparse.CSRBatches(X[:100]).batch(0, 100, transposed=True)
    with pytest.raises(RuntimeError, match="encoder_words"):
        net(batch)
    words = net.encoder.input_words.numpy()
    rec, kl = net(sparse.CSRBatches(X[:100], encoder_words=words).batch(0, 100, transposed=True))
    (rec + kl).mean().backward()
    assert net.encoder.first.weight.grad.shape == (len(words), 20)


def test_penalty_pulls_each_word_towards_its_assigned_topic():
    torch.manual_seed(0)
    net = networks.ProdLDANet(30, 3, (8,), 0.0, 0.0, 1.0, diversity=1.0)
    with torch.no_grad():
        net.beta.weight.copy_(torch.randn(30, 3))
    penalty = net.penalty(0)
    penalty.backward()
    plan = net._plan
    grad = net.beta.weight.grad
    assert penalty.item() < 0 and (grad <= 0).all()  # −λ·P/std: raising β where P is large lowers the loss
    assert torch.equal(grad.argmin(1), plan.argmax(1))


# ---------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("cls", [ProdLDA, NVDM])
def test_same_seed_same_weights_other_seed_other_weights(cls, small):
    a = state(cls(4, epochs=3, **TINY).fit(small))
    b = state(cls(4, epochs=3, **TINY).fit(small))
    assert_same_state(a, b)
    c = state(cls(4, epochs=3, **{**TINY, "seed": 1}).fit(small))
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_fit_leaves_global_rng_and_thread_count_alone(small):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    threads = torch.get_num_threads()
    ProdLDA(4, epochs=1, **{**TINY, "threads": 2}).fit(small)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.get_num_threads() == threads


def test_saved_model_loads_with_weights_only(small, tmp_path):
    model = ProdLDA(4, epochs=2, **TINY).fit(small)
    model.save(tmp_path / "m")
    data = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    assert data["model"] == "prodlda" and data["params"]["n_topics"] == 4
    loaded = ProdLDA.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.posterior(small)[1], model.posterior(small)[1])
    assert loaded.history_ == model.history_
    with pytest.raises(RunError):
        NVDM.load(tmp_path / "m")


# ---------------------------------------------------------------------------- checkpoints
def test_resume_after_more_epochs_matches_an_uninterrupted_run(small, tmp_path, monkeypatch):
    ckpt = tmp_path / "c.pt"
    # (the batch norm kept: an annealed one is shed over a share of the epochs, which more epochs stretch)
    ProdLDA(4, epochs=3, bn_anneal=0, **TINY).fit(small, checkpoint=ckpt)
    with monkeypatch.context() as m:  # the checkpoint holds the embeddings: they are not computed again
        m.setattr("topicvae.models.vae.model.ppmi_embeddings", lambda *a, **k: pytest.fail("embeddings computed"))
        resumed = ProdLDA(4, epochs=6, bn_anneal=0, **TINY).fit(small, checkpoint=ckpt, resume=True)
    straight = ProdLDA(4, epochs=6, bn_anneal=0, **TINY).fit(small)
    assert [h["epoch"] for h in resumed.history_] == [h["epoch"] for h in straight.history_] == [1, 2, 3, 4, 5, 6]
    assert [h["val_loss"] for h in resumed.history_] == [h["val_loss"] for h in straight.history_]
    assert resumed.best_epoch_ == straight.best_epoch_
    assert_same_state(state(resumed), state(straight))


def test_a_resume_after_the_topics_were_fixed_matches_an_uninterrupted_run(short_texts, tmp_path):
    X, ckpt = short_texts[0][:600], tmp_path / "c.pt"
    ProdLDA(5, epochs=11, topic_epochs=10, **TINY).fit(X, checkpoint=ckpt)  # past the fresh start of Adam
    resumed = ProdLDA(5, epochs=13, topic_epochs=10, **TINY).fit(X, checkpoint=ckpt, resume=True)
    straight = ProdLDA(5, epochs=13, topic_epochs=10, **TINY).fit(X)
    assert [h["val_loss"] for h in resumed.history_] == [h["val_loss"] for h in straight.history_]
    assert_same_state(state(resumed), state(straight))
    ProdLDA(5, epochs=10, topic_epochs=10, **TINY).fit(X, checkpoint=ckpt)  # just before it
    resumed = ProdLDA(5, epochs=13, topic_epochs=10, **TINY).fit(X, checkpoint=ckpt, resume=True)
    assert_same_state(state(resumed), state(straight))


def test_ctrl_c_checkpoints_the_last_completed_epoch_and_resume_continues(small, tmp_path, monkeypatch):
    from test_runs import interrupt_in_epoch

    ckpt = tmp_path / "c.pt"
    real = interrupt_in_epoch(monkeypatch, 3)
    with pytest.raises(TrainingInterrupted) as info:
        NVDM(4, epochs=5, **TINY).fit(small, checkpoint=ckpt)
    assert isinstance(info.value, KeyboardInterrupt) and info.value.epoch == 2
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    resumed = NVDM(4, epochs=5, **TINY).fit(small, checkpoint=ckpt, resume=True)
    straight = NVDM(4, epochs=5, **TINY).fit(small)
    assert len([h["epoch"] for h in resumed.history_]) == 5
    assert_same_state(state(resumed), state(straight))


def test_resume_refuses_other_architecture_and_missing_checkpoint(small, tmp_path):
    ckpt = tmp_path / "c.pt"
    with pytest.raises(RunError, match="no checkpoint"):
        ProdLDA(4, epochs=2, **TINY).fit(small, checkpoint=ckpt, resume=True)
    ProdLDA(4, epochs=1, **TINY).fit(small, checkpoint=ckpt)
    with pytest.raises(RunError, match="hidden"):
        ProdLDA(4, epochs=2, **{**TINY, "hidden": (8,)}).fit(small, checkpoint=ckpt, resume=True)
    with pytest.raises(RunError, match="prodlda"):
        NVDM(4, epochs=2, **TINY).fit(small, checkpoint=ckpt, resume=True)


def test_huge_learning_rate_diverges_with_a_one_line_message(small, tmp_path):
    ckpt = tmp_path / "c.pt"
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch \d+: the loss became (nan|inf); lower the learning rate") as info:
        NVDM(4, epochs=10, lr=1e4, clip_norm=None, **TINY).fit(small, checkpoint=ckpt)
    assert "\n" not in str(info.value) and str(ckpt) in str(info.value)
    assert ckpt.is_file()


def test_inf_at_epoch_3_keeps_the_checkpoint_of_epoch_2(small, tmp_path, monkeypatch):
    ckpt = tmp_path / "c.pt"
    real = elbo.gaussian_kl
    epochs = []
    real_epoch = training_loop._TrainingState.run_epoch

    def count_epochs(self, X, rows=None):
        epochs.append(1)
        return real_epoch(self, X, rows)

    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", count_epochs)
    monkeypatch.setattr(networks, "gaussian_kl", lambda *a: real(*a) * (math.inf if len(epochs) >= 3 else 1.0))
    with pytest.raises(TrainingDiverged, match=r"at epoch 3: the loss became (inf|nan).*\(epoch 2\)"):
        ProdLDA(4, epochs=6, **TINY).fit(small, checkpoint=ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["epoch"] == 2 and len(saved["history"]["epoch"]) == 2
    assert all(torch.isfinite(v).all() for v in saved["net"].values() if v.is_floating_point())
    # with the fault gone, the run resumes from epoch 2 to the end
    monkeypatch.setattr(networks, "gaussian_kl", real)
    resumed = ProdLDA(4, epochs=6, **TINY).fit(small, checkpoint=ckpt, resume=True)
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3, 4, 5, 6]


@pytest.fixture
def worsening_validation(monkeypatch):
    """Make the validation loss grow every epoch; the list gets the weights at each validation."""
    real = training_loop._TrainingState.validate
    snapshots = []

    def worse_after_first(self, X_val):
        rec, kl = real(self, X_val)
        snapshots.append({k: v.clone() for k, v in self.net.state_dict().items()})
        return rec + 10.0 * len(snapshots), kl

    monkeypatch.setattr(training_loop._TrainingState, "validate", worse_after_first)
    return snapshots


def test_early_stopping_restores_the_best_epoch(small, worsening_validation):
    snapshots = worsening_validation
    model = ProdLDA(4, epochs=20, patience=2, **TINY).fit(small)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3]
    assert model.stopped_early_ and model.best_epoch_ == 1
    assert_same_state(state(model), snapshots[0])


def test_patience_zero_never_stops_and_keeps_the_last_epoch(small, worsening_validation):
    snapshots = worsening_validation
    model = ProdLDA(4, epochs=5, patience=0, **TINY).fit(small)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3, 4, 5]
    assert not model.stopped_early_ and model.best_epoch_ == 5
    assert_same_state(state(model), snapshots[-1])
    assert not math.isnan(model.history_[-1]["val_loss"])  # still recorded


def test_no_validation_slice_keeps_the_last_epoch(small):
    model = ProdLDA(4, epochs=3, val_fraction=0.0, **TINY).fit(small)
    assert model.n_val_docs_ == 0 and model.best_epoch_ == 3
    assert all(math.isnan(v) for v in [h["val_loss"] for h in model.history_])


def test_kl_warmup_trains(small):
    model = ProdLDA(4, epochs=4, kl_warmup=3, **TINY).fit(small)
    assert all(math.isfinite(v) for v in [h["train_loss"] for h in model.history_])


def test_progress_bar_reports_loss_and_speed(small, capsys):
    ProdLDA(4, epochs=2, **TINY).fit(small, progress=True)
    err = capsys.readouterr().err
    assert "prodlda" in err and "loss=" in err and "kl=" in err and "docs/s=" in err


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("settings, match", [
    (dict(n_topics=1), "n_topics"),
    (dict(hidden=()), "hidden"),
    (dict(dropout=1.0), "dropout"),
    (dict(batch_size=1), "batch_size"),
    (dict(lr=0), "lr"),
    (dict(epochs=-1), "epochs"),
    (dict(val_fraction=1.0), "val_fraction"),
    (dict(device="tpu"), "device"),
    (dict(alpha=0), "alpha"),
    (dict(threads=0), "threads"),
    (dict(embedding_dim=-1), "embedding_dim"),
    (dict(embedding_dim=2.5), "embedding_dim"),
    (dict(embedding_dim=True), "embedding_dim"),
    (dict(beta_decay=-1.0), "beta_decay"),
    (dict(beta_decay=float("inf")), "beta_decay"),
    (dict(beta_decay=600.0), r"beta_decay × lr"),
    (dict(diversity=-0.5), "diversity"),
    (dict(diversity=float("nan")), "diversity"),
    (dict(encoder_vocabulary="rare"), "encoder_vocabulary"),
    (dict(context_smoothing=-0.5), "context_smoothing"),
])
def test_bad_settings_raise_config_error(settings, match, small):
    params = {"n_topics": 4, **TINY, **settings}
    with pytest.raises(ConfigError, match=match):
        ProdLDA(**params).fit(small)


def test_bad_data_and_unfitted_use(small):
    with pytest.raises(ConfigError, match="vocabulary"):
        ProdLDA(60, **TINY).fit(small)
    with pytest.raises(CorpusError):
        ProdLDA(4, **TINY).fit(small[:1])
    negative = small.astype(np.float32).copy()
    negative.data[0] = -1
    with pytest.raises(CorpusError, match="non-negative"):
        ProdLDA(4, **TINY).fit(negative)
    with pytest.raises(RunError, match="not fitted"):
        ProdLDA(4).transform(small)


def test_training_on_rows_of_a_matrix_equals_training_on_those_rows_copied(small):
    """fit holds out validation rows without copying the training rows (memory at a million
    documents); reading them in place must train exactly the same network."""
    rows = np.sort(np.random.default_rng(0).choice(small.shape[0], 250, replace=False))
    settings = training_loop.TrainSettings(epochs=2, batch_size=40, seed=3, patience=0)
    nets_trained = []
    for X, train_rows in ((small, rows), (small[rows], None)):
        torch.manual_seed(0)
        net = ProdLDA(4, **TINY)._build_net(60, training_documents(X, train_rows))
        result = training_loop.train(net, X, None, settings, torch.device("cpu"), train_rows=train_rows)
        nets_trained.append((net, result))
    (a, ra), (b, rb) = nets_trained
    assert ra.history["train_loss"] == rb.history["train_loss"]
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
    np.testing.assert_array_equal(word_embeddings.ppmi_embeddings(small, 8, rows=rows, max_docs=100),
                                  word_embeddings.ppmi_embeddings(small[rows], 8, max_docs=100))  # sampled the same way
    # embedding some words only: the others get zero rows, the chosen ones what their columns alone give
    words = np.arange(0, 60, 3)
    some = word_embeddings.ppmi_embeddings(small, 8, rows=rows, max_docs=100, words=words)
    assert some.shape == (60, 8) and not some[np.setdiff1d(np.arange(60), words)].any()
    np.testing.assert_array_equal(some[words], word_embeddings.ppmi_embeddings(small[rows][:, words], 8, max_docs=100))


def test_clustered_start_puts_each_topic_on_a_planted_topic_before_any_training(planted):
    X_train, _, true_topic_word = planted
    net = ProdLDA(5, **TINY)._build_net(200, training_documents(X_train))
    T = net.topic_embeddings.detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(T, axis=0), 1.0, atol=1e-5)  # unit centroids
    expected = word_embeddings.embedding_clusters(net.word_embeddings.numpy(), net.word_mass.numpy(), 5, seed=0)
    np.testing.assert_array_equal(T, expected.T)
    # the 10 words closest to each starting centroid come from one planted topic, a different one each
    beta = net.word_embeddings.numpy() @ T
    planted_topic = true_topic_word.argmax(0)
    majority = []
    for k in range(5):
        top = np.argsort(-beta[:, k])[:10]
        counts = np.bincount(planted_topic[top], minlength=5)
        assert counts.max() >= 8
        majority.append(counts.argmax())
    assert sorted(majority) == [0, 1, 2, 3, 4]


def test_the_starting_clusters_do_not_depend_on_the_number_of_cores():
    code = ("import numpy as np\n"
            "from topicvae.models.vae.word_embeddings import embedding_clusters\n"
            "rng = np.random.default_rng(0)\n"
            "E, mass = rng.normal(size=(3000, 50)).astype(np.float32), rng.random(3000)\n"
            "print(embedding_clusters(E, mass, 30, seed=0).tobytes().hex())\n")
    out = [subprocess.run([sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": n},
                          capture_output=True, text=True, timeout=300) for n in ("1", "2")]
    assert all(o.returncode == 0 for o in out), [o.stderr[-500:] for o in out]
    assert out[0].stdout == out[1].stdout


def test_a_document_far_longer_than_the_training_ones_keeps_a_posterior_no_wider_than_the_cap(small):
    """The encoder extrapolates on a document of thousands of tokens; q(z|x)'s log-variance is capped at
    the prior's plus LOGVAR_ABOVE_PRIOR, so its KL stays of the order of the others' (without the cap a
    20 Newsgroups post of 3,531 tokens reached millions of nats)."""
    from topicvae.models.vae.networks import LOGVAR_ABOVE_PRIOR

    model = ProdLDA(4, epochs=3, **TINY).fit(small)
    huge = sp.csr_matrix(small[:1] * 10_000)
    _, sigma = model.posterior(huge)
    cap = 0.5 * (np.log(model.net_.prior_var.numpy()) + LOGVAR_ABOVE_PRIOR)
    assert np.all(np.log(sigma) <= cap + 1e-5)
    net = model.net_
    with torch.no_grad():
        raw = net.encoder(sparse.CSRBatches(huge).batch(0, 1))[1]
    assert (raw > net.prior_var.log() + LOGVAR_ABOVE_PRIOR).any(), "the document must be one the cap binds on"
    assert np.isfinite(model.neg_elbo(huge)).all()
