"""The metrics of topicvae.scoring.metrics (docs/metrics.md): exact values on hand-computed toys and agreement with brute force."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import jensenshannon

from topicvae.errors import ConfigError
from topicvae.scoring import metrics as ev

# ---------------------------------------------------------------------------- NPMI

# Toy reference corpus, words a=0, b=1, c=2, d=3 (counts > 1 must not matter):
#   doc0: a b      doc1: a b c (a twice)      doc2: a c (c five times)      doc3: d
TOY = sp.csr_matrix(np.array([
    [1, 1, 0, 0],
    [2, 1, 1, 0],
    [1, 0, 5, 0],
    [0, 0, 0, 1],
]))

# Hand calculation, |D| = 4; D(a)=3, D(b)=2, D(c)=2, D(d)=1; D(a,b)=2, D(a,c)=2, D(b,c)=1, D(a,d)=D(b,d)=0.
#   (a,b): P=2/4, P(a)P(b)=3/4·2/4=3/8 → log((1/2)/(3/8)) / −log(1/2) = log(4/3)/log 2 = 2 − log2(3) = 0.4150375
#   (a,c): the same counts → 0.4150375
#   (b,c): P=1/4 = P(b)P(c) → log 1 = 0 → 0
#   (a,d), (b,d): never together → −1
# topic [a,b,c]: (2·0.4150375 + 0)/3 = 0.2766917
# topic [a,b,d]: (0.4150375 − 1 − 1)/3 = −log2(3)/3 = −0.5283208
# mean: (4 − 3·log2(3))/6 = −0.1258146
TOPIC_ABC = 2 * (2 - math.log2(3)) / 3
TOPIC_ABD = -math.log2(3) / 3
TOY_MEAN = (4 - 3 * math.log2(3)) / 6


def test_npmi_hand_computed_toy():
    assert TOPIC_ABC == pytest.approx(0.2766917, abs=1e-7)
    assert TOPIC_ABD == pytest.approx(-0.5283208, abs=1e-7)
    assert TOY_MEAN == pytest.approx(-0.1258146, abs=1e-7)
    mean, per_topic = ev.npmi([[0, 1, 2], [0, 1, 3]], TOY, top_n=3)
    np.testing.assert_allclose(per_topic, [TOPIC_ABC, TOPIC_ABD], atol=1e-12)
    assert mean == pytest.approx(TOY_MEAN, abs=1e-12)


def test_npmi_takes_top_words_of_a_topic_word_matrix():
    tw = np.array([
        [0.4, 0.3, 0.2, 0.1],   # top 3: a b c
        [0.35, 0.05, 0.1, 0.5],  # top 3: d a c — (d,a) −1, (d,c) −1, (a,c) 0.415
    ])
    mean, per_topic = ev.npmi(tw, TOY, top_n=3)
    np.testing.assert_allclose(per_topic, [TOPIC_ABC, (2 - math.log2(3) - 2) / 3], atol=1e-12)


def test_npmi_never_co_occurring_pairs_score_minus_one():
    X = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 3], [1, 0, 0]]))
    mean, per_topic = ev.npmi([[0, 1, 2]], X, top_n=3)
    assert per_topic.tolist() == [-1.0] and mean == -1.0
    # a word absent from the reference corpus: its pairs also score −1
    X2 = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0]]))
    _, per_topic = ev.npmi([[0, 1, 2]], X2, top_n=3)
    assert per_topic[0] == pytest.approx((1.0 - 1 - 1) / 3)  # (0,1) always together → 1 by convention


def _npmi_brute_force(top_ids, X) -> list[float]:
    """Pure-Python NPMI (document co-occurrence) from per-word document sets."""
    dense = X.toarray()
    n = dense.shape[0]
    docs = {w: {d for d in range(n) if dense[d, w] > 0} for w in range(dense.shape[1])}
    out = []
    for words in top_ids:
        scores = []
        for wi, wj in itertools.combinations(words, 2):
            both = len(docs[wi] & docs[wj])
            if both == 0:
                scores.append(-1.0)
                continue
            p_ij, p_i, p_j = both / n, len(docs[wi]) / n, len(docs[wj]) / n
            scores.append(1.0 if p_ij == 1 else math.log(p_ij / (p_i * p_j)) / -math.log(p_ij))
        out.append(sum(scores) / len(scores))
    return out


def test_npmi_matches_brute_force_on_random_corpus():
    rng = np.random.default_rng(7)
    X = sp.random(300, 60, density=0.08, format="csr", random_state=7,
                  data_rvs=lambda k: rng.integers(1, 4, k)).astype(np.int64)
    tw = rng.dirichlet(np.full(60, 0.1), size=8)
    top = [list(row) for row in np.argsort(-tw, axis=1, kind="stable")[:, :10]]
    expected = _npmi_brute_force(top, X)
    mean, per_topic = ev.npmi(tw, X, top_n=10)
    np.testing.assert_allclose(per_topic, expected, rtol=1e-12, atol=1e-12)
    assert mean == pytest.approx(np.mean(expected), abs=1e-12)
    assert len(set(np.round(per_topic, 6))) > 1  # not a degenerate corpus


def test_npmi_is_fast_on_a_20_newsgroups_sized_corpus():
    rng = np.random.default_rng(0)
    nnz = 1_000_000  # about 55 distinct words per document, like 20 Newsgroups
    X = sp.csr_matrix((rng.integers(1, 5, nnz), (rng.integers(0, 18_000, nnz), rng.integers(0, 2000, nnz))),
                      shape=(18_000, 2000))
    tw = rng.dirichlet(np.full(2000, 0.05), size=50)
    start = time.perf_counter()
    ev.npmi(tw, X)
    assert time.perf_counter() - start < 2.0  # about 0.03 s; a loose bound against Python loops


def test_npmi_rejects_mismatched_vocabulary():
    with pytest.raises(ValueError, match="vocabulary|words"):
        ev.npmi(np.full((2, 5), 0.2), TOY)


# ---------------------------------------------------------------------------- diversity
def test_topic_diversity_exact():
    # 2 topics × top 3: {0,1,2} ∪ {2,3,4} = 5 unique of 6
    assert ev.topic_diversity([[0, 1, 2], [2, 3, 4]], top_n=3) == pytest.approx(5 / 6)
    tw = np.array([[0.5, 0.3, 0.2, 0.0], [0.0, 0.1, 0.3, 0.6]])  # top 2: {0,1} and {3,2}
    assert ev.topic_diversity(tw, top_n=2) == 1.0
    tw[1] = tw[0]
    assert ev.topic_diversity(tw, top_n=2) == 0.5


# ---------------------------------------------------------------------------- C_v
def test_texts_from_bow_repeats_words_in_vocab_order():
    X = sp.csr_matrix(np.array([[0, 2, 1], [1, 0, 0]]))
    assert ev.texts_from_bow(X, ["x", "y", "z"]) == [["y", "y", "z"], ["x"]]


def test_c_v_runs_on_texts_and_on_bow():
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(20)]
    X = sp.random(60, 20, density=0.3, format="csr", random_state=3,
                  data_rvs=lambda k: rng.integers(1, 3, k)).astype(np.int64)
    topics = [vocab[:5], vocab[5:10]]
    mean_bow, per_bow = ev.c_v(topics, bow=X, vocab=vocab, top_n=5)
    mean_txt, per_txt = ev.c_v(topics, ev.texts_from_bow(X, vocab), top_n=5)
    assert per_bow.shape == (2,) and 0.0 <= mean_bow <= 1.0
    assert mean_bow == pytest.approx(mean_txt)
    with pytest.raises(ValueError):
        ev.c_v(topics, top_n=5)


# ---------------------------------------------------------------------------- perplexity
def test_perplexity_is_exp_of_negative_bound_per_token():
    assert ev.perplexity(-100.0, 10) == pytest.approx(math.exp(10.0))
    with pytest.raises(ValueError):
        ev.perplexity(-1.0, 0)


# ---------------------------------------------------------------------------- labels
def _theta_that_determines(labels: np.ndarray, k: int, rng) -> np.ndarray:
    theta = rng.dirichlet(np.ones(k), size=len(labels)) * 0.2
    theta[np.arange(len(labels)), labels] += 0.8
    return theta


def test_label_metrics_perfect_when_theta_determines_the_label():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    theta = _theta_that_determines(labels, 4, rng)
    names = np.array(["alt", "comp", "rec", "sci"])[labels]
    cv = ev.label_metrics(theta, names, seed=0)
    assert cv["accuracy_method"] == "5-fold"
    assert cv["accuracy"] == 1.0 and cv["nmi"] == pytest.approx(1.0) and cv["purity"] == 1.0
    perm = rng.permutation(len(labels))
    split = ev.label_metrics(theta, names, train_rows=perm[:80], test_rows=perm[80:])
    assert split["accuracy_method"] == "split" and split["n_eval"] == 40
    assert split["accuracy"] == 1.0 and split["nmi"] == pytest.approx(1.0)


def test_label_metrics_low_when_theta_is_unrelated_and_skip_missing_labels():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 50).astype(object)
    theta = rng.dirichlet(np.ones(4), size=len(labels))
    res = ev.label_metrics(theta, labels)
    assert res["accuracy"] < 0.5 and res["nmi"] < 0.1
    labels[:10] = None
    assert ev.label_metrics(theta, labels)["n_eval"] == 190
    with pytest.raises(ValueError):
        ev.label_metrics(theta, labels, train_rows=[0, 1])


def test_label_metrics_with_one_class_in_the_training_rows_predict_that_class():
    """Nothing to learn from one class: every test row gets it (no classifier can be fit; no traceback)."""
    rng = np.random.default_rng(3)
    theta = rng.dirichlet(np.ones(4), size=40)
    labels = np.array(["news"] * 30 + ["news", "sport"] * 5, dtype=object)
    res = ev.label_metrics(theta, labels, train_rows=np.arange(30), test_rows=np.arange(30, 40))
    assert res["accuracy"] == pytest.approx(0.5) and res["accuracy_method"] == "split" and res["n_eval"] == 10


# ---------------------------------------------------------------------------- alignment
def test_js_distance_matrix_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.dirichlet(np.full(30, 0.3), size=4), rng.dirichlet(np.full(30, 0.3), size=3)
    a[0, :5] = 0.0  # zeros must be handled
    a /= a.sum(axis=1, keepdims=True)
    expected = np.array([[jensenshannon(p, q, base=2) for q in b] for p in a])
    np.testing.assert_allclose(ev.js_distance_matrix(a, b), expected, atol=1e-10)
    d = ev.js_distance_matrix(a, a)
    assert np.all(np.diag(d) == 0.0) and np.all((d >= 0) & (d <= 1))


def test_align_topics_recovers_a_permutation():
    rng = np.random.default_rng(4)
    tw = rng.dirichlet(np.full(100, 0.1), size=8)
    perm = rng.permutation(8)
    pairs, dist = ev.align_topics(tw, tw[perm])
    inverse = np.argsort(perm)
    assert pairs == [(i, int(inverse[i])) for i in range(8)]
    np.testing.assert_allclose(dist, 0.0, atol=1e-7)


def test_stability():
    rng = np.random.default_rng(5)
    tw = rng.dirichlet(np.full(100, 0.1), size=6)
    assert ev.stability([tw, tw[::-1], tw[rng.permutation(6)]]) == pytest.approx(1.0)
    other = rng.dirichlet(np.full(100, 0.1), size=6)
    assert ev.stability([tw, other]) < 0.5
    with pytest.raises(ConfigError):
        ev.stability([tw])


# ---------------------------------------------------------------------------- speed
def test_inference_speed_counts_documents_per_second():
    class Slow:
        def transform(self, X):
            time.sleep(0.05)
            return np.full((X.shape[0], 2), 0.5)

    speed = ev.inference_speed(Slow(), sp.csr_matrix((10, 3)))
    assert 0 < speed <= 10 / 0.05
