"""topicvae.analysis: the numbers of the dashboard and of `topicvae evaluate` / `compare`, checked
against definitions and known answers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from topicvae import paths
from topicvae.analysis import command_lines, compare, docmap, documents, overview, run_metrics, topics, trends
from topicvae.corpus import Corpus
from topicvae.errors import ConfigError, RunError
from topicvae.runs import Run, workspace
from topicvae.scoring.metrics import js_distance_matrix
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
    p_w = topics.word_marginal(tw, np.full(5, 0.2))
    rel = topics.relevance(tw, 1.0, p_w)
    np.testing.assert_allclose(rel, np.log(tw))
    vocab = [f"w{j}" for j in range(40)]
    table = topics.top_relevant_words(tw, 2, 1.0, p_w, vocab, n=10)
    assert table["word"].tolist() == [vocab[j] for j in np.argsort(-tw[2], kind="stable")[:10]]


def test_relevance_at_lambda_zero_ranks_by_lift_and_matches_the_formula():
    tw = dirichlet(4, 30, 0.5, seed=2)
    p_w = topics.word_marginal(tw, np.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(topics.relevance(tw, 0.0, p_w), np.log(tw / p_w))
    lam = 0.6
    np.testing.assert_allclose(topics.relevance(tw, lam, p_w),
                               lam * np.log(tw) + (1 - lam) * np.log(tw / p_w[None, :]))
    table = topics.top_relevant_words(tw, 0, 0.0, p_w, [str(j) for j in range(30)], n=5)
    assert table["lift"].is_monotonic_decreasing


def test_top_relevant_words_counts_nest_and_bad_lambda_is_refused():
    tw = dirichlet(3, 20, seed=3)
    prev = np.array([0.5, 0.3, 0.2])
    p_w = topics.word_marginal(tw, prev)
    table = topics.top_relevant_words(tw, 1, 0.6, p_w, [str(j) for j in range(20)], n=20,
                                       prevalence=prev, total_tokens=1000)
    assert len(table) == 20
    assert (table["in_topic"] <= table["overall"] + 1e-9).all()
    assert table["overall"].sum() == pytest.approx(1000)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        topics.relevance(tw, 1.5, p_w)
    with pytest.raises(ConfigError, match="does not exist"):
        topics.top_relevant_words(tw, 3, 0.6, p_w, [str(j) for j in range(20)])


def test_prevalence_is_the_length_weighted_mean_of_theta():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(topics.topic_prevalence(theta), [0.5, 0.5])
    np.testing.assert_allclose(topics.topic_prevalence(theta, np.array([3, 1, 0])), [0.75, 0.25])
    with pytest.raises(ValueError):
        topics.topic_prevalence(theta, np.ones(2))


# ---------------------------------------------------------------------------- MDS, intertopic map
def test_classical_mds_recovers_the_distances_of_a_planar_configuration():
    X = RNG.normal(size=(12, 2)) * [3.0, 1.0]
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    Y = topics.classical_mds(D, 2)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    np.testing.assert_allclose(Y.mean(axis=0), 0, atol=1e-12)


def test_classical_mds_of_a_square_and_degenerate_inputs():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    D = np.linalg.norm(square[:, None] - square[None], axis=-1)
    Y = topics.classical_mds(D)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    assert topics.classical_mds(np.zeros((1, 1))).shape == (1, 2)
    assert topics.classical_mds(np.zeros((3, 3))).tolist() == np.zeros((3, 2)).tolist()
    with pytest.raises(ValueError):
        topics.classical_mds(np.zeros((2, 3)))


def test_intertopic_map_places_similar_topics_together():
    base = dirichlet(3, 50, 0.3, seed=4)
    near = 0.95 * base[0] + 0.05 * base[1]
    tw = np.vstack([base, near])
    coords, D = topics.intertopic_map(tw)
    np.testing.assert_allclose(D, js_distance_matrix(tw, tw) * (1 - np.eye(4)), atol=1e-12)
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    assert dist[0, 3] == min(dist[0, 1:])


# ---------------------------------------------------------------------------- documents
def test_representative_docs_are_the_highest_theta_rows():
    theta = np.array([[0.1, 0.9], [0.8, 0.2], [0.9, 0.1], [0.9, 0.1]])
    assert topics.representative_docs(theta, 0, n=3).tolist() == [2, 3, 1]
    assert topics.representative_docs(theta, 0, n=2, rows=np.array([0, 1, 3])).tolist() == [3, 1]


def test_nearest_documents_by_js_and_cosine():
    theta = dirichlet(50, 6, seed=5)
    rows, dist = documents.nearest_documents(theta[17], theta, n=5)
    assert rows[0] == 17 and dist[0] == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(dist, np.sort(js_distance_matrix(theta[17:18], theta)[0])[:5], atol=1e-9)
    rows, dist = documents.nearest_documents(theta[3], theta, n=3, metric="cosine")
    assert rows[0] == 3 and np.all(np.diff(dist) >= 0)
    with pytest.raises(ConfigError):
        documents.nearest_documents(theta[0], theta, metric="euclid")


def test_filter_documents_combines_topic_label_split_and_text():
    docs = pd.DataFrame({"text": ["Space shuttle", "Hockey game", "space station", "NASA budget"],
                         "label": ["sci", "sport", "sci", None], "split": ["train", "test", "test", "train"]})
    theta = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    assert documents.filter_documents(docs, theta).all()
    assert documents.filter_documents(docs, theta, topics=[1]).tolist() == [False, True, False, False]
    only = documents.filter_documents(docs, theta, labels=["sci"], splits=["test"])
    assert only.tolist() == [False, False, True, False]
    assert documents.filter_documents(docs, theta, query="SPACE").tolist() == [True, False, True, False]
    assert documents.filter_documents(docs, theta, query="a.c").sum() == 0  # plain text, not a regex


def test_sample_rows_is_seeded_sorted_and_bounded():
    rows = np.arange(100, 1100)
    a, b = documents.sample_rows(rows, 50, seed=1), documents.sample_rows(rows, 50, seed=1)
    assert len(a) == 50 and a.tolist() == b.tolist() and np.all(np.diff(a) > 0) and set(a) <= set(rows)
    assert documents.sample_rows(rows[:10], 50).tolist() == rows[:10].tolist()


def test_theta_entropy_and_first_line():
    np.testing.assert_allclose(documents.theta_entropy(np.array([[0.25] * 4, [1, 0, 0, 0]])), [np.log(4), 0], atol=1e-9)
    assert documents.first_line("\n\n  Subject:   hello   world \nbody") == "Subject: hello world"
    assert documents.first_line("x" * 200, width=10) == "x" * 9 + "…"
    assert documents.first_line(None) == ""


def test_mail_headers_are_recognised_only_as_a_leading_block():
    assert has_headers("From: a@b.c\nSubject: hi\n  continued\n\nbody")
    assert not has_headers("NASA launched the shuttle.")
    assert not has_headers("Summary: one line\nthen prose\n\nmore")
    assert not has_headers("From: a@b.c\nSubject: no body follows")


def test_document_title_prefers_the_subject_of_a_post():
    post = "From: a@b.c (Someone)\nSubject: Re: Space shuttle   launch\nLines: 3\n\nBody text"
    assert documents.document_title(post) == "Re: Space shuttle launch"
    assert documents.document_title("From: a@b.c\n\nSubject: not a header\n") == "From: a@b.c"
    assert documents.document_title("Note: a plain first line\nmore") == "Note: a plain first line"
    assert documents.document_title("\n\nPlain text") == "Plain text"


# ---------------------------------------------------------------------------- document map
def test_a_large_run_is_viewed_through_a_seeded_sample_read_from_its_row_groups(tmp_path):
    """Past ``max_docs`` the view holds the sampled rows of θ, σ and the document table, read from the
    table's row groups (the whole table is never loaded), the same sample every time."""
    from topicvae.corpus.synthetic import sample_lda_corpus

    n = 130
    X, _, _ = sample_lda_corpus(n_docs=n, n_topics=3, n_words=20, doc_len=15, alpha=0.3, beta=0.2, seed=1)
    docs = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
                         "label": [f"l{i % 3}" for i in range(n)], "n_tokens": np.asarray(X.sum(1)).ravel()})
    Corpus(name="c", bow=X, vocab=[f"w{j}" for j in range(20)], docs=docs).save(tmp_path, shard_docs=25)
    theta = dirichlet(n, 3, seed=2)
    run = fake_run(tmp_path / "runs", theta)
    np.save(run.path / "z_std.npy", np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    corpus = Corpus.load("c", tmp_path)
    view = documents.document_view(run, corpus, max_docs=30)
    assert view.sampled and view.n_docs == n and len(view.rows) == 30
    assert np.all(np.diff(view.rows) > 0)
    np.testing.assert_array_equal(view.rows, documents.document_view(run, corpus, max_docs=30).rows)
    assert corpus._docs is None  # only the row groups of the sampled rows were read
    pd.testing.assert_frame_equal(view.docs, docs.iloc[view.rows].reset_index(drop=True), check_dtype=False)
    np.testing.assert_array_equal(view.theta, theta.astype(np.float32)[view.rows])
    np.testing.assert_array_equal(view.z_std[:, 0], view.rows * 3)
    assert list(view.ids) == [f"d{r}" for r in view.rows]
    assert "random sample of 30" in view.sample_note()
    whole = documents.document_view(run, corpus)
    assert not whole.sampled and whole.sample_note() == "" and len(whole.docs) == n
    np.testing.assert_array_equal(corpus.document_lengths(), np.asarray(X.sum(1)).ravel())


def test_a_sample_of_a_large_corpus_reads_a_bounded_number_of_its_shards(tmp_path, monkeypatch):
    from topicvae.corpus.synthetic import sample_lda_corpus

    n = 200
    X, _, _ = sample_lda_corpus(n_docs=n, n_topics=3, n_words=20, doc_len=10, alpha=0.3, beta=0.2, seed=8)
    docs = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": ["t"] * n})
    Corpus(name="c", bow=X, vocab=[f"w{j}" for j in range(20)], docs=docs).save(tmp_path, shard_docs=10)
    corpus = Corpus.load("c", tmp_path)  # 20 shards of 10 documents
    monkeypatch.setattr(documents, "SAMPLE_SHARDS", 4)
    rows = np.arange(3, n, 2)
    sample = documents.shard_sample(rows, corpus, most=30)
    assert len(sample) == 30 and np.all(np.diff(sample) > 0) and set(sample) <= set(rows)
    assert len(np.unique(sample // 10)) <= 6  # from SAMPLE_SHARDS shards, or the 6 that hold 30 of the rows
    np.testing.assert_array_equal(sample, documents.shard_sample(rows, corpus, most=30))  # seeded
    np.testing.assert_array_equal(documents.shard_sample(rows, corpus, most=len(rows)), rows)  # few: all
    assert len(np.unique(documents.shard_sample(rows, None, most=30) // 10)) > 6  # no shards known: any row
    assert len(np.unique(documents.shard_sample(rows, corpus, most=12) // 10)) == 4


def test_the_representations_count_a_seeded_sample_of_a_large_runs_training_documents(tmp_path, monkeypatch):
    """Above SAMPLE_DOCS the training documents a representation counts (and the dashboard's own NPMI) are a
    seeded sample of that many, and the NPMI's source says so; below it, every training document."""
    from topicvae.corpus.synthetic import sample_lda_corpus

    n, V = 90, 20
    X, _, _ = sample_lda_corpus(n_docs=n, n_topics=3, n_words=V, doc_len=15, alpha=0.3, beta=0.2, seed=4)
    docs = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": ["t"] * n, "split": ["train"] * n})
    Corpus(name="c", bow=X, vocab=[f"w{j}" for j in range(V)], docs=docs).save(tmp_path, shard_docs=25)
    corpus = Corpus.load("c", tmp_path)
    run = fake_run(tmp_path / "runs", dirichlet(n, 3, seed=5))
    run.topic_word = dirichlet(3, V, seed=6)
    assert topics.representation_documents(run, corpus).shape[0] == n
    monkeypatch.setattr(documents, "SAMPLE_DOCS", 30)
    rows = topics.representation_documents(run, corpus)
    assert rows.shape[0] == 30
    values, source = topics.topic_coherence(run, corpus, None, "probability")
    assert len(values) == 3 and "a random sample of 30 of the 90 documents of the train split" in source


def test_a_document_map_of_some_rows_is_cached_for_those_rows_only(tmp_path, monkeypatch):
    theta = dirichlet(120, 4, seed=9)
    run = fake_run(tmp_path, theta)
    rows = np.arange(0, 120, 3)
    some = docmap.document_map(run, method="pca", rows=rows)
    assert some.coords.shape == (40, 2)
    stored = np.load(run.path / "doc_topic.npy")
    np.testing.assert_allclose(some.coords, docmap.embed_2d(np.sqrt(stored[rows].astype(np.float64)), "pca"))
    assert docmap.read_map_cache(run, "theta", "pca", rows=rows) is not None
    assert docmap.read_map_cache(run, "theta", "pca") is None  # a cache of other documents is not taken
    assert docmap.read_map_cache(run, "theta", "pca", rows=rows[1:]) is None


def test_document_map_is_cached_in_the_run_folder_and_reused(tmp_path, monkeypatch):
    run = fake_run(tmp_path, dirichlet(300, 5, seed=6))
    first = docmap.document_map(run, method="pca")
    assert not first.from_cache and first.coords.shape == (300, 2)
    assert (run.path / "doc_map.npy").is_file() and (run.path / "doc_map.json").is_file()
    assert json.loads((run.path / "doc_map.json").read_text())["method"] == "pca"
    assert not [p for p in run.path.iterdir() if ".tmp-" in p.name]

    def boom(*args, **kwargs):
        raise AssertionError("the cached map should have been read, not recomputed")

    monkeypatch.setattr(docmap, "embed_2d", boom)
    again = docmap.document_map(Run(run.path, run.config), method="auto")  # a new process: auto takes the cache
    assert again.from_cache
    np.testing.assert_array_equal(again.coords, first.coords)


def test_document_map_is_recomputed_when_theta_changes(tmp_path):
    run = fake_run(tmp_path, dirichlet(100, 4, seed=7))
    docmap.document_map(run, method="pca")
    new_theta = dirichlet(100, 4, seed=8)
    run2 = fake_run(tmp_path, new_theta)  # same folder, retrained θ
    fresh = docmap.document_map(run2, method="pca")
    assert not fresh.from_cache
    assert docmap.read_map_cache(run2, "theta", "pca") is not None


def test_pca_map_of_sqrt_theta_is_its_top_principal_plane(tmp_path):
    theta = dirichlet(200, 6, seed=9)
    run = fake_run(tmp_path, theta)
    coords = docmap.document_map(run, method="pca").coords
    X = np.sqrt(theta) - np.sqrt(theta).mean(axis=0)
    var = np.linalg.svd(X, compute_uv=False) ** 2
    np.testing.assert_allclose(np.sort((coords.astype(np.float64) ** 2).sum(axis=0))[::-1], var[:2], rtol=1e-4)


def test_document_map_of_mu_and_bad_settings(tmp_path):
    theta = dirichlet(50, 3, seed=10)
    run = fake_run(tmp_path, theta, z_mean=RNG.normal(size=(50, 3)))
    m = docmap.document_map(run, source="mu", method="pca")
    assert m.meta["source"] == "mu" and m.meta["source_file"] == "z_mean.npy"
    assert docmap.read_map_cache(run, "theta") is None  # the cache holds μ's map
    no_mu = fake_run(tmp_path, theta, name="lda")
    with pytest.raises(ConfigError, match="no posterior mean"):
        docmap.document_map(no_mu, source="mu")
    with pytest.raises(ConfigError):
        docmap.document_map(run, method="tsne")


def test_document_map_without_umap_uses_pca(tmp_path, monkeypatch):
    monkeypatch.setattr(docmap, "umap_available", lambda: False)
    run = fake_run(tmp_path, dirichlet(40, 3, seed=11))
    assert docmap.document_map(run).meta["method"] == "pca"
    with pytest.raises(ConfigError, match="not installed"):
        docmap.document_map(run, method="umap", refresh=True)


def test_document_map_in_a_run_folder_that_cannot_be_written_is_computed_without_caching(tmp_path, monkeypatch):
    run = fake_run(tmp_path, dirichlet(40, 3, seed=12))

    def read_only(folder, fname, write):
        raise PermissionError(13, "Permission denied", str(folder / fname))

    monkeypatch.setattr(docmap, "_atomic_write", read_only)
    m = docmap.document_map(run, method="pca")
    assert m.coords.shape == (40, 2) and "Permission denied" in m.meta["cache_error"]
    assert not (run.path / "doc_map.npy").exists()


# ---------------------------------------------------------------------------- trends
def test_prevalence_by_label_is_the_mean_theta_per_label():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8]])
    table = trends.prevalence_by_label(theta, ["a", "b", "b", None])
    assert table.index.tolist() == ["b", "a"]
    np.testing.assert_allclose(table.loc["b", [0, 1]].to_numpy(dtype=float), [0.25, 0.75])
    assert table["n_docs"].tolist() == [2, 1]


def test_prevalence_over_time_groups_by_period():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.3, 0.7]])
    dates = ["2020-01-05", "2020-01-20", "2020-03-01", "not a date"]
    table = trends.prevalence_over_time(theta, dates, freq="M")
    assert [str(d.date()) for d in table.index] == ["2020-01-01", "2020-03-01"]
    np.testing.assert_allclose(table[[0, 1]].to_numpy(dtype=float), [[0.5, 0.5], [0.5, 0.5]])
    assert table["n_docs"].tolist() == [2, 1]
    assert trends.prevalence_over_time(theta, [None] * 4).empty


def test_pick_frequency_follows_the_span():
    span = lambda a, b: trends.pick_frequency(trends.parse_dates([a, b]))  # noqa: E731
    assert span("2001-01-01", "2010-01-01") == "Y"
    assert span("2020-01-01", "2020-12-01") == "M"
    assert span("2020-01-01", "2020-02-15") == "W"
    assert span("2020-01-01", "2020-01-05") == "D"


# ---------------------------------------------------------------------------- names, status, comparing
def test_names_that_leave_the_folder_are_refused(tmp_path):
    root = tmp_path / "runs"
    (root / "ok").mkdir(parents=True)
    assert paths.resolve_run_dir("ok", root) == (root / "ok").resolve()
    for bad in ["..", "../x", "a/b", "/etc", "", ".hidden"]:
        with pytest.raises(ConfigError):
            paths.resolve_run_dir(bad, root)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(ConfigError, match="leads outside"):
        paths.resolve_run_dir("link", root)


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
    assert workspace.corpus_status(run, corpora, verify=True).ok
    assert workspace.corpus_status(run, tmp_path / "elsewhere").state == "missing"
    other = fake_run(tmp_path / "runs", dirichlet(20, 2), name="r2", config={**cfg, "corpus_checksum": "x"})
    status = workspace.corpus_status(other, corpora)
    assert status.state == "changed" and "train the run again" in status.message
    fewer = fake_run(tmp_path / "runs", dirichlet(20, 2), name="r3", config={**cfg, "n_docs": 19})
    assert workspace.corpus_status(fewer, corpora).state == "changed"
    (corpora / "c" / "bow.npz").write_bytes(b"tampered")
    assert workspace.corpus_status(run, corpora).ok  # the manifest alone cannot tell
    assert workspace.corpus_status(run, corpora, verify=True).state == "damaged"
    assert workspace.corpus_status(fake_run(tmp_path / "runs", dirichlet(20, 2), name="r4"), corpora).state == "unknown"


def test_read_metrics_is_none_when_absent_and_one_line_error_when_damaged(tmp_path):
    run_dir = tmp_path / "myrun"
    run_dir.mkdir()
    assert run_metrics.read_metrics(run_dir) is None
    for damage in ("{not json", "[1, 2]"):
        (run_dir / "metrics.json").write_text(damage)
        with pytest.raises(RunError, match="damaged") as err:
            run_metrics.read_metrics(run_dir)
        assert "\n" not in str(err.value) and "topicvae evaluate myrun" in str(err.value)
    (run_dir / "metrics.json").write_text('{"npmi": 0.1, "new_metric": "x"}')
    assert run_metrics.read_metrics(run_dir) == {"npmi": 0.1, "new_metric": "x"}
    assert run_metrics.read_metrics(Run(run_dir, {})) == {"npmi": 0.1, "new_metric": "x"}  # a Run or its folder


def test_runs_overview_keeps_a_run_whose_metrics_are_damaged(tmp_path):
    root = tmp_path / "runs"
    good = fake_run(root, dirichlet(10, 3), name="good")
    bad = fake_run(root, dirichlet(10, 3), name="bad")
    (good.path / "metrics.json").write_text('{"npmi": 0.25}')
    (bad.path / "metrics.json").write_text("{")
    table = overview.runs_overview(root, tmp_path / "corpora").set_index("run")
    assert table.loc["good", "NPMI"] == 0.25 and pd.isna(table.loc["good", "metrics error"])
    assert not table.loc["bad", "evaluated"] and "damaged" in table.loc["bad", "metrics error"]
    steps = overview.next_steps(pd.DataFrame({"corpus": []}), table.reset_index())
    assert ("run 'bad': its metrics.json is damaged", command_lines.evaluate_command("bad")) in steps


def test_runs_overview_names_a_folder_whose_name_no_run_may_have_and_keeps_the_others(tmp_path):
    root = tmp_path / "runs"
    good = fake_run(root, dirichlet(10, 3), name="good")
    shutil.copytree(good.path, root / "my run")
    table = overview.runs_overview(root, tmp_path / "corpora").set_index("run")
    assert table.loc["good", "files"] == "ok"
    assert table.loc["my run", "files"] == "damaged" and "invalid run name" in table.loc["my run", "files error"]


def test_next_steps_name_the_missing_commands():
    empty = pd.DataFrame(columns=["corpus"]), pd.DataFrame(columns=["run", "corpus", "evaluated"])
    assert overview.next_steps(*empty) == [("nothing here yet: ingest the built-in sample", "topicvae quickstart")]
    corpora = pd.DataFrame({"corpus": ["a", "b"]})
    runs = pd.DataFrame({"run": ["a-lda"], "corpus": ["a"], "model": ["lda"], "K": [5], "evaluated": [False],
                         "corpus status": ["ok"]})
    suggested = [c for _, c in overview.next_steps(corpora, runs)]
    assert suggested == [command_lines.train_command("b"), command_lines.evaluate_command("a-lda")]


def test_shared_vocabulary_and_alignment_across_vocabularies():
    tw_a = np.array([[0.5, 0.5, 0.0], [0.0, 0.1, 0.9]])
    tw_b = np.array([[0.9, 0.1, 0.0], [0.0, 0.5, 0.5]])
    A, B, union = compare.shared_vocabulary(tw_a, ["x", "y", "z"], tw_b, ["z", "y", "w"])
    assert union == ["x", "y", "z", "w"]
    np.testing.assert_allclose(A, [[0.5, 0.5, 0, 0], [0, 0.1, 0.9, 0]])
    np.testing.assert_allclose(B, [[0, 0.1, 0.9, 0], [0, 0.5, 0, 0.5]])
    same = compare.shared_vocabulary(tw_a, ["x", "y", "z"], tw_a, ["x", "y", "z"])
    assert same[0] is tw_a


# ---------------------------------------------------------------------------- θ entropy
def test_theta_entropy_is_the_entropy_of_theta_in_nats():
    from scipy.stats import entropy

    assert documents.theta_entropy(np.full(4, 0.25)) == pytest.approx(np.log(4), abs=1e-12)
    assert documents.theta_entropy(np.array([1.0, 0.0, 0.0])) == 0.0  # 0 ln 0 = 0, exactly
    assert documents.theta_entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(np.log(2), abs=1e-12)
    theta = dirichlet(50, 7, seed=4)
    np.testing.assert_allclose(documents.theta_entropy(theta), entropy(theta, axis=1), rtol=1e-12)
    # float32 storage: rows sum to 1 only to ~1e-7; the entropy is that of the normalised row
    stored = theta.astype(np.float32)
    np.testing.assert_allclose(documents.theta_entropy(stored), entropy(theta, axis=1), atol=1e-6)
    assert documents.theta_entropy(np.zeros((0, 3))).shape == (0,)


def test_export_writes_the_same_theta_entropy():
    from topicvae.runs.inference import document_frame

    theta = dirichlet(6, 4, seed=2)
    frame = document_frame(pd.DataFrame({"id": list("abcdef")}), theta, [f"t{k}" for k in range(4)],
                           np.zeros((6, 4)), np.ones((6, 4)))
    np.testing.assert_allclose(frame["theta_entropy"], documents.theta_entropy(theta), rtol=1e-12)


# ---------------------------------------------------------------------------- comparing runs
class StubRun:
    """What align_runs reads of a run: name, vocabulary, topic-word matrix, top words."""

    def __init__(self, name, vocab, topic_word):
        self.name, self.vocab, self.topic_word = name, list(vocab), np.asarray(topic_word, dtype=np.float64)

    def top_words(self, n):
        return [[self.vocab[j] for j in np.argsort(-row, kind="stable")[:n]] for row in self.topic_word]


def test_align_runs_on_one_vocabulary_matches_the_same_topics():
    tw = np.array([[0.7, 0.2, 0.1, 0.0], [0.0, 0.1, 0.2, 0.7], [0.25, 0.25, 0.25, 0.25]])
    a, b = StubRun("a", "wxyz", tw), StubRun("b", "wxyz", tw[[2, 0, 1]])
    table = compare.align_runs(a, b, n_words=2)
    assert list(table.columns) == ["topic_a", "words_a", "topic_b", "words_b", "js_distance"]
    assert sorted(zip(table["topic_a"], table["topic_b"])) == [(0, 1), (1, 2), (2, 0)]
    assert (table["js_distance"] == 0).all()
    labelled = compare.align_runs(a, b, n_words=2, labels=(["A0", "A1", "A2"], ["B0", "B1", "B2"]))
    assert list(labelled.columns) == ["topic_a", "label_a", "words_a", "topic_b", "label_b", "words_b",
                                      "js_distance", "shared words"]
    row = labelled.set_index("topic_a").loc[0]
    assert (row["label_a"], row["label_b"], row["shared words"]) == ("A0", "B1", 2)


def test_align_runs_vocabulary_policy_same_refuses_and_union_aligns():
    a = StubRun("a", ["x", "y", "z"], [[0.5, 0.5, 0.0], [0.0, 0.1, 0.9]])
    b = StubRun("b", ["z", "y", "w"], [[0.9, 0.1, 0.0], [0.0, 0.5, 0.5]])
    with pytest.raises(ConfigError, match="different vocabularies") as err:
        compare.align_runs(a, b)  # the default: topicvae compare's behaviour
    assert 'vocabulary="union"' in str(err.value) and "Compare page" in str(err.value)
    table = compare.align_runs(a, b, vocabulary="union")
    # a's topic 1 (mostly z) is b's topic 0 (mostly z) over the union x y z w
    assert dict(zip(table["topic_a"], table["topic_b"])) == {0: 1, 1: 0}
    A, B, _ = compare.shared_vocabulary(a.topic_word, a.vocab, b.topic_word, b.vocab)
    expected = js_distance_matrix(A, B)[[0, 1], [1, 0]]
    np.testing.assert_allclose(sorted(table["js_distance"]), sorted(np.round(expected, 4)))
    with pytest.raises(ConfigError, match="vocabulary policy"):
        compare.align_runs(a, b, vocabulary="intersection")


def test_metrics_table_rows_and_side_by_side_columns(tmp_path):
    rows = [{"run": "a", "model": "lda", "n_topics": 5, "npmi": 0.1}, {"run": "b", "c_v": 0.5}]
    table = compare.metrics_table(rows)
    assert list(table.columns) == compare.TABLE_COLUMNS and list(table["run"]) == ["a", "b"]
    assert table.loc[0, "npmi"] == 0.1 and pd.isna(table.loc[1, "npmi"])
    root = tmp_path / "runs"
    ra = fake_run(root, dirichlet(10, 3), name="ra", config={"corpus": "c", "epochs": 4, "fit_seconds": 1.5})
    rb = fake_run(root, dirichlet(10, 3), name="rb", config={"corpus": "c"})
    (ra.path / "metrics.json").write_text(json.dumps({"npmi": 0.123456, "reference": "test"}))
    side = compare.side_by_side([ra, rb])
    assert list(side.columns) == ["ra", "rb"]
    assert side.loc["NPMI", "ra"] == 0.1235 and side.loc["NPMI", "rb"] is None
    assert side.loc["metrics reference", "rb"] == "not evaluated" and side.loc["fit s", "ra"] == 1.5
    assert list(side.index[:6]) == ["model", "corpus", "topics (K)", "epochs", "fit s", "metrics reference"]
    (rb.path / "metrics.json").write_text("[]")
    with pytest.raises(RunError, match="damaged"):
        compare.side_by_side([ra, rb])


# ---------------------------------------------------------------------------- topic tables
def test_labelled_topics_ranks_words_by_the_representation_and_keeps_the_models_weight():
    import scipy.sparse as sp

    tw = np.array([[0.5, 0.3, 0.2], [0.45, 0.05, 0.5]])  # word x is frequent everywhere, y belongs to topic 0

    class TableRun:
        name = "r"
        config = {"corpus": "c"}
        topic_word = tw
        vocab = ["x", "y", "z"]
        n_topics = 2

    plain = topics.labelled_topics(TableRun, ["sport", "food"], representation="probability", n=2)
    assert list(plain.columns) == ["topic", "label", "representation", "rank", "word", "weight"]
    assert plain["label"].tolist() == ["sport", "sport", "food", "food"]
    assert plain["word"].tolist() == ["x", "y", "z", "x"] and set(plain["representation"]) == {"probability"}
    assert plain["weight"].tolist() == [0.5, 0.3, 0.5, 0.45]  # the model's own p(w | k)
    # relevance with the training documents' frequencies: the frequent word drops behind topic 0's own word
    class Corpus:
        n_words = 3
        bow = sp.csr_matrix(np.array([[9, 1, 1], [9, 0, 1]]))

        def split_rows(self, split):
            return np.arange(2)

    relevant = topics.labelled_topics(TableRun, ["sport", "food"], corpus=Corpus(), representation="relevance", n=2)
    assert relevant["word"].tolist()[:2] == ["y", "x"] and relevant["weight"].tolist()[:2] == [0.3, 0.5]
    np.testing.assert_array_equal(TableRun.topic_word, [[0.5, 0.3, 0.2], [0.45, 0.05, 0.5]])  # unchanged
    full = topics.labelled_topics(TableRun, ["sport", "food"], np.array([0.4, 0.6]), np.array([0.1, -0.2]),
                                  representation="probability", n=2)
    assert list(full.columns) == ["topic", "label", "prevalence", "coherence_npmi", "representation", "rank", "word",
                                  "weight"]
    assert full["prevalence"].tolist() == [0.4, 0.4, 0.6, 0.6]
    only_npmi = topics.labelled_topics(TableRun, ["sport", "food"], coherence=np.array([0.1, -0.2]),
                                       representation="probability", n=2)
    assert list(only_npmi.columns)[:3] == ["topic", "label", "coherence_npmi"]
    with pytest.raises(ConfigError, match="needs the documents"):
        topics.labelled_topics(TableRun, ["sport", "food"], representation="lead_words")


def test_the_analysis_package_does_not_import_streamlit_or_the_app():
    import subprocess
    import sys

    code = ("import sys, importlib, pkgutil, topicvae.analysis as a\n"
            "for m in pkgutil.iter_modules(a.__path__): importlib.import_module('topicvae.analysis.' + m.name)\n"
            "print(sorted(n for n in sys.modules if n.startswith(('streamlit', 'topicvae.interfaces.app', 'topicvae.interfaces.cli'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
