"""topicvae.explore: the dashboard's numbers, checked against definitions and known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from topicvae import explore
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError
from topicvae.evaluation import js_distance_matrix
from topicvae.runs import Run
from topicvae.text.preprocess import has_headers

RNG = np.random.default_rng(0)


def dirichlet(n, k, alpha=0.3, seed=0):
    return np.random.default_rng(seed).dirichlet(np.full(k, alpha), size=n)


def fake_run(tmp_path, theta, name="r", z_mean=None, config=None) -> Run:
    """A run folder holding just what the functions under test read."""
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "doc_topic.npy", theta.astype(np.float32))
    if z_mean is not None:
        np.save(folder / "z_mean.npy", z_mean.astype(np.float32))
    cfg = {"name": name, "model": "prodlda", "n_topics": theta.shape[1], **(config or {})}
    (folder / "config.json").write_text(json.dumps(cfg))
    return Run(folder, cfg)


# ---------------------------------------------------------------------------- relevance
def test_relevance_at_lambda_one_ranks_by_topic_probability():
    tw = dirichlet(5, 40, 0.2, seed=1)
    p_w = explore.word_marginal(tw, np.full(5, 0.2))
    rel = explore.relevance(tw, 1.0, p_w)
    np.testing.assert_allclose(rel, np.log(tw))
    vocab = [f"w{j}" for j in range(40)]
    table = explore.top_relevant_words(tw, 2, 1.0, p_w, vocab, n=10)
    assert table["word"].tolist() == [vocab[j] for j in np.argsort(-tw[2], kind="stable")[:10]]


def test_relevance_at_lambda_zero_ranks_by_lift_and_matches_the_formula():
    tw = dirichlet(4, 30, 0.5, seed=2)
    p_w = explore.word_marginal(tw, np.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(explore.relevance(tw, 0.0, p_w), np.log(tw / p_w))
    lam = 0.6
    np.testing.assert_allclose(explore.relevance(tw, lam, p_w),
                               lam * np.log(tw) + (1 - lam) * np.log(tw / p_w[None, :]))
    table = explore.top_relevant_words(tw, 0, 0.0, p_w, [str(j) for j in range(30)], n=5)
    assert table["lift"].is_monotonic_decreasing


def test_top_relevant_words_counts_nest_and_bad_lambda_is_refused():
    tw = dirichlet(3, 20, seed=3)
    prev = np.array([0.5, 0.3, 0.2])
    p_w = explore.word_marginal(tw, prev)
    table = explore.top_relevant_words(tw, 1, 0.6, p_w, [str(j) for j in range(20)], n=20,
                                       prevalence=prev, total_tokens=1000)
    assert len(table) == 20
    assert (table["in_topic"] <= table["overall"] + 1e-9).all()
    assert table["overall"].sum() == pytest.approx(1000)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        explore.relevance(tw, 1.5, p_w)
    with pytest.raises(ConfigError, match="does not exist"):
        explore.top_relevant_words(tw, 3, 0.6, p_w, [str(j) for j in range(20)])


def test_prevalence_is_the_length_weighted_mean_of_theta():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(explore.topic_prevalence(theta), [0.5, 0.5])
    np.testing.assert_allclose(explore.topic_prevalence(theta, np.array([3, 1, 0])), [0.75, 0.25])
    with pytest.raises(ValueError):
        explore.topic_prevalence(theta, np.ones(2))


# ---------------------------------------------------------------------------- MDS, intertopic map
def test_classical_mds_recovers_the_distances_of_a_planar_configuration():
    X = RNG.normal(size=(12, 2)) * [3.0, 1.0]
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    Y = explore.classical_mds(D, 2)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    np.testing.assert_allclose(Y.mean(axis=0), 0, atol=1e-12)


def test_classical_mds_of_a_square_and_degenerate_inputs():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    D = np.linalg.norm(square[:, None] - square[None], axis=-1)
    Y = explore.classical_mds(D)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    assert explore.classical_mds(np.zeros((1, 1))).shape == (1, 2)
    assert explore.classical_mds(np.zeros((3, 3))).tolist() == np.zeros((3, 2)).tolist()
    with pytest.raises(ValueError):
        explore.classical_mds(np.zeros((2, 3)))


def test_intertopic_map_places_similar_topics_together():
    base = dirichlet(3, 50, 0.3, seed=4)
    near = 0.95 * base[0] + 0.05 * base[1]
    tw = np.vstack([base, near])
    coords, D = explore.intertopic_map(tw)
    np.testing.assert_allclose(D, js_distance_matrix(tw, tw) * (1 - np.eye(4)), atol=1e-12)
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    assert dist[0, 3] == min(dist[0, 1:])


# ---------------------------------------------------------------------------- documents
def test_representative_docs_are_the_highest_theta_rows():
    theta = np.array([[0.1, 0.9], [0.8, 0.2], [0.9, 0.1], [0.9, 0.1]])
    assert explore.representative_docs(theta, 0, n=3).tolist() == [2, 3, 1]
    assert explore.representative_docs(theta, 0, n=2, rows=np.array([0, 1, 3])).tolist() == [3, 1]


def test_nearest_documents_by_js_and_cosine():
    theta = dirichlet(50, 6, seed=5)
    rows, dist = explore.nearest_documents(theta[17], theta, n=5)
    assert rows[0] == 17 and dist[0] == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(dist, np.sort(js_distance_matrix(theta[17:18], theta)[0])[:5], atol=1e-9)
    rows, dist = explore.nearest_documents(theta[3], theta, n=3, metric="cosine")
    assert rows[0] == 3 and np.all(np.diff(dist) >= 0)
    with pytest.raises(ConfigError):
        explore.nearest_documents(theta[0], theta, metric="euclid")


def test_filter_documents_combines_topic_label_split_and_text():
    docs = pd.DataFrame({"text": ["Space shuttle", "Hockey game", "space station", "NASA budget"],
                         "label": ["sci", "sport", "sci", None], "split": ["train", "test", "test", "train"]})
    theta = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    assert explore.filter_documents(docs, theta).all()
    assert explore.filter_documents(docs, theta, topics=[1]).tolist() == [False, True, False, False]
    only = explore.filter_documents(docs, theta, labels=["sci"], splits=["test"])
    assert only.tolist() == [False, False, True, False]
    assert explore.filter_documents(docs, theta, query="SPACE").tolist() == [True, False, True, False]
    assert explore.filter_documents(docs, theta, query="a.c").sum() == 0  # plain text, not a regex


def test_sample_rows_is_seeded_sorted_and_bounded():
    rows = np.arange(100, 1100)
    a, b = explore.sample_rows(rows, 50, seed=1), explore.sample_rows(rows, 50, seed=1)
    assert len(a) == 50 and a.tolist() == b.tolist() and np.all(np.diff(a) > 0) and set(a) <= set(rows)
    assert explore.sample_rows(rows[:10], 50).tolist() == rows[:10].tolist()


def test_theta_entropy_and_first_line():
    np.testing.assert_allclose(explore.theta_entropy(np.array([[0.25] * 4, [1, 0, 0, 0]])), [np.log(4), 0], atol=1e-9)
    assert explore.first_line("\n\n  Subject:   hello   world \nbody") == "Subject: hello world"
    assert explore.first_line("x" * 200, width=10) == "x" * 9 + "…"
    assert explore.first_line(None) == ""


def test_mail_headers_are_recognised_only_as_a_leading_block():
    assert has_headers("From: a@b.c\nSubject: hi\n  continued\n\nbody")
    assert not has_headers("NASA launched the shuttle.")
    assert not has_headers("Summary: one line\nthen prose\n\nmore")
    assert not has_headers("From: a@b.c\nSubject: no body follows")


def test_document_title_prefers_the_subject_of_a_post():
    post = "From: a@b.c (Someone)\nSubject: Re: Space shuttle   launch\nLines: 3\n\nBody text"
    assert explore.document_title(post) == "Re: Space shuttle launch"
    assert explore.document_title("From: a@b.c\n\nSubject: not a header\n") == "From: a@b.c"
    assert explore.document_title("Note: a plain first line\nmore") == "Note: a plain first line"
    assert explore.document_title("\n\nPlain text") == "Plain text"


# ---------------------------------------------------------------------------- document map
def test_document_map_is_cached_in_the_run_folder_and_reused(tmp_path, monkeypatch):
    run = fake_run(tmp_path, dirichlet(300, 5, seed=6))
    first = explore.document_map(run, method="pca")
    assert not first.from_cache and first.coords.shape == (300, 2)
    assert (run.path / "doc_map.npy").is_file() and (run.path / "doc_map.json").is_file()
    assert json.loads((run.path / "doc_map.json").read_text())["method"] == "pca"
    assert not [p for p in run.path.iterdir() if ".tmp-" in p.name]

    def boom(*args, **kwargs):
        raise AssertionError("the cached map should have been read, not recomputed")

    monkeypatch.setattr(explore, "embed_2d", boom)
    again = explore.document_map(Run(run.path, run.config), method="auto")  # a new process: auto takes the cache
    assert again.from_cache
    np.testing.assert_array_equal(again.coords, first.coords)


def test_document_map_is_recomputed_when_theta_changes(tmp_path):
    run = fake_run(tmp_path, dirichlet(100, 4, seed=7))
    explore.document_map(run, method="pca")
    new_theta = dirichlet(100, 4, seed=8)
    run2 = fake_run(tmp_path, new_theta)  # same folder, retrained θ
    fresh = explore.document_map(run2, method="pca")
    assert not fresh.from_cache
    assert explore.read_map_cache(run2, "theta", "pca") is not None


def test_pca_map_of_sqrt_theta_is_its_top_principal_plane(tmp_path):
    theta = dirichlet(200, 6, seed=9)
    run = fake_run(tmp_path, theta)
    coords = explore.document_map(run, method="pca").coords
    X = np.sqrt(theta) - np.sqrt(theta).mean(axis=0)
    var = np.linalg.svd(X, compute_uv=False) ** 2
    np.testing.assert_allclose(np.sort((coords.astype(np.float64) ** 2).sum(axis=0))[::-1], var[:2], rtol=1e-4)


def test_document_map_of_mu_and_bad_settings(tmp_path):
    theta = dirichlet(50, 3, seed=10)
    run = fake_run(tmp_path, theta, z_mean=RNG.normal(size=(50, 3)))
    m = explore.document_map(run, source="mu", method="pca")
    assert m.meta["source"] == "mu" and m.meta["source_file"] == "z_mean.npy"
    assert explore.read_map_cache(run, "theta") is None  # the cache holds μ's map
    no_mu = fake_run(tmp_path, theta, name="lda")
    with pytest.raises(ConfigError, match="no posterior mean"):
        explore.document_map(no_mu, source="mu")
    with pytest.raises(ConfigError):
        explore.document_map(run, method="tsne")


def test_document_map_without_umap_uses_pca(tmp_path, monkeypatch):
    monkeypatch.setattr(explore, "umap_available", lambda: False)
    run = fake_run(tmp_path, dirichlet(40, 3, seed=11))
    assert explore.document_map(run).meta["method"] == "pca"
    with pytest.raises(ConfigError, match="not installed"):
        explore.document_map(run, method="umap", refresh=True)


def test_document_map_in_a_run_folder_that_cannot_be_written_is_computed_without_caching(tmp_path, monkeypatch):
    run = fake_run(tmp_path, dirichlet(40, 3, seed=12))

    def read_only(folder, fname, write):
        raise PermissionError(13, "Permission denied", str(folder / fname))

    monkeypatch.setattr(explore, "_atomic_write", read_only)
    m = explore.document_map(run, method="pca")
    assert m.coords.shape == (40, 2) and "Permission denied" in m.meta["cache_error"]
    assert not (run.path / "doc_map.npy").exists()


# ---------------------------------------------------------------------------- trends
def test_prevalence_by_label_is_the_mean_theta_per_label():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8]])
    table = explore.prevalence_by_label(theta, ["a", "b", "b", None])
    assert table.index.tolist() == ["b", "a"]
    np.testing.assert_allclose(table.loc["b", [0, 1]].to_numpy(dtype=float), [0.25, 0.75])
    assert table["n_docs"].tolist() == [2, 1]


def test_prevalence_over_time_groups_by_period():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.3, 0.7]])
    dates = ["2020-01-05", "2020-01-20", "2020-03-01", "not a date"]
    table = explore.prevalence_over_time(theta, dates, freq="M")
    assert [str(d.date()) for d in table.index] == ["2020-01-01", "2020-03-01"]
    np.testing.assert_allclose(table[[0, 1]].to_numpy(dtype=float), [[0.5, 0.5], [0.5, 0.5]])
    assert table["n_docs"].tolist() == [2, 1]
    assert explore.prevalence_over_time(theta, [None] * 4).empty


def test_pick_frequency_follows_the_span():
    span = lambda a, b: explore.pick_frequency(explore.parse_dates([a, b]))  # noqa: E731
    assert span("2001-01-01", "2010-01-01") == "Y"
    assert span("2020-01-01", "2020-12-01") == "M"
    assert span("2020-01-01", "2020-02-15") == "W"
    assert span("2020-01-01", "2020-01-05") == "D"


# ---------------------------------------------------------------------------- names, status, comparing
def test_names_that_leave_the_folder_are_refused(tmp_path):
    root = tmp_path / "runs"
    (root / "ok").mkdir(parents=True)
    assert explore.resolve_run_dir("ok", root) == (root / "ok").resolve()
    for bad in ["..", "../x", "a/b", "/etc", "", ".hidden"]:
        with pytest.raises(ConfigError):
            explore.resolve_run_dir(bad, root)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(ConfigError, match="leads outside"):
        explore.resolve_run_dir("link", root)


def small_corpus(tmp_path, name="c", n=20):
    import scipy.sparse as sp

    X = sp.csr_matrix(np.random.default_rng(0).integers(0, 3, size=(n, 8)))
    docs = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": ["t"] * n})
    c = Corpus(name=name, bow=X, vocab=[f"v{j}" for j in range(8)], docs=docs,
               manifest={"counts": {"kept": n}})
    c.save(tmp_path / "corpora")
    return Corpus.load(name, tmp_path / "corpora")


def test_corpus_status_ok_missing_changed_damaged(tmp_path):
    corpus = small_corpus(tmp_path)
    cfg = {"corpus": "c", "corpus_checksum": corpus.checksum, "n_docs": 20}
    run = fake_run(tmp_path / "runs", dirichlet(20, 2), config=cfg)
    corpora = tmp_path / "corpora"
    assert explore.corpus_status(run, corpora, verify=True).ok
    assert explore.corpus_status(run, tmp_path / "elsewhere").state == "missing"
    other = fake_run(tmp_path / "runs", dirichlet(20, 2), name="r2", config={**cfg, "corpus_checksum": "x"})
    status = explore.corpus_status(other, corpora)
    assert status.state == "changed" and "train the run again" in status.message
    fewer = fake_run(tmp_path / "runs", dirichlet(20, 2), name="r3", config={**cfg, "n_docs": 19})
    assert explore.corpus_status(fewer, corpora).state == "changed"
    (corpora / "c" / "bow.npz").write_bytes(b"tampered")
    assert explore.corpus_status(run, corpora).ok  # the manifest alone cannot tell
    assert explore.corpus_status(run, corpora, verify=True).state == "damaged"
    assert explore.corpus_status(fake_run(tmp_path / "runs", dirichlet(20, 2), name="r4"), corpora).state == "unknown"


def test_read_metrics_tolerates_absent_and_broken_files(tmp_path):
    assert explore.read_metrics(tmp_path) is None
    (tmp_path / "metrics.json").write_text("{not json")
    assert explore.read_metrics(tmp_path) is None
    (tmp_path / "metrics.json").write_text("[1, 2]")
    assert explore.read_metrics(tmp_path) is None
    (tmp_path / "metrics.json").write_text('{"npmi": 0.1, "new_metric": "x"}')
    assert explore.read_metrics(tmp_path) == {"npmi": 0.1, "new_metric": "x"}


def test_next_steps_name_the_missing_commands():
    empty = pd.DataFrame(columns=["corpus"]), pd.DataFrame(columns=["run", "corpus", "evaluated"])
    assert explore.next_steps(*empty) == [("nothing here yet: ingest the built-in sample", "topicvae quickstart")]
    corpora = pd.DataFrame({"corpus": ["a", "b"]})
    runs = pd.DataFrame({"run": ["a-lda"], "corpus": ["a"], "model": ["lda"], "K": [5], "evaluated": [False],
                         "corpus status": ["ok"]})
    commands = [c for _, c in explore.next_steps(corpora, runs)]
    assert commands == [explore.cmd_train("b"), explore.cmd_evaluate("a-lda")]


def test_shared_vocabulary_and_alignment_across_vocabularies():
    tw_a = np.array([[0.5, 0.5, 0.0], [0.0, 0.1, 0.9]])
    tw_b = np.array([[0.9, 0.1, 0.0], [0.0, 0.5, 0.5]])
    A, B, union = explore.shared_vocabulary(tw_a, ["x", "y", "z"], tw_b, ["z", "y", "w"])
    assert union == ["x", "y", "z", "w"]
    np.testing.assert_allclose(A, [[0.5, 0.5, 0, 0], [0, 0.1, 0.9, 0]])
    np.testing.assert_allclose(B, [[0, 0.1, 0.9, 0], [0, 0.5, 0, 0.5]])
    same = explore.shared_vocabulary(tw_a, ["x", "y", "z"], tw_a, ["x", "y", "z"])
    assert same[0] is tw_a
