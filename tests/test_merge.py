"""`topicvae merge` and `topicvae reduce`, end to end through the CLI, the merged network, and the
Topics page's hierarchy and merge form.

The corpus has two planted topics, A and B, each made of two sub-themes (a document draws half
its words from its topic's shared words and half from one sub-theme's own), and ProdLDA with
K = 4 learns them as four topics: `reduce --topics 2` must join them back into A and B.
"""

from __future__ import annotations


import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from topicvae.analysis.verify import OK, verify
from topicvae.corpus import Corpus
from topicvae.interfaces.cli import MERGE_EPOCHS_HELP, main
from topicvae.runs import Run, train_run
from topicvae.runs.labels import save_labels, saved_labels
from topicvae.runs.labels import merged_labels
from topicvae.runs.merging import FINE_TUNE_EPOCHS, normalise_groups, topic_hierarchy

from test_runs import RUN_FILES
from app_support import open_page
from snapshots import snapshot

N_DOCS, V, HALF = 800, 80, 40  # words 0-39 belong to planted topic A, 40-79 to B
SMALL = dict(hidden=[16], batch_size=50, threads=1, progress=False)
FINE = ["--epochs", "2", "--threads", "1", "--quiet"]


def planted_bow(seed: int = 0) -> sp.csr_matrix:
    """Documents of 30 words: topic A = shared words 0-19 with sub-theme 20-29 or 30-39; B likewise on 40-79."""
    def block(lo, hi):
        p = np.zeros(V)
        p[lo:hi] = 1.0 / (hi - lo)
        return p

    subs = [(block(0, 20) + block(20, 30)) / 2, (block(0, 20) + block(30, 40)) / 2,
            (block(40, 60) + block(60, 70)) / 2, (block(40, 60) + block(70, 80)) / 2]
    rng = np.random.default_rng(seed)
    return sp.csr_matrix(np.array([rng.multinomial(30, subs[i % 4]) for i in range(N_DOCS)], dtype=np.float64))


def side(word_ids) -> set[str]:
    """The planted topics ('A', 'B') that the word ids belong to."""
    return {"A" if j < HALF else "B" for j in word_ids}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """corpora/planted, runs/p4 (ProdLDA, K=4), runs/nv (NVDM) and runs/lda (gensim LDA), made once; tests copy it."""
    ws = tmp_path_factory.mktemp("merge-ws")
    X = planted_bow()
    vocab = [f"w{j:02d}" for j in range(V)]
    docs = pd.DataFrame({"id": [f"d{i}" for i in range(N_DOCS)],
                         "text": [" ".join(vocab[j] for j in X[i].indices) for i in range(N_DOCS)],
                         "label": [f"{'AB'[(i % 4) // 2]}" for i in range(N_DOCS)],
                         "split": np.where(np.arange(N_DOCS) < 640, "train", "test"),
                         "n_tokens": np.asarray(X.sum(1)).ravel()})
    Corpus(name="planted", bow=X, vocab=vocab, docs=docs, manifest={}).save(ws / "corpora")
    corpus = Corpus.load("planted", ws / "corpora")
    train_run(corpus, "prodlda", 4, name="p4", runs_dir=ws / "runs", epochs=20, **SMALL)
    train_run(corpus, "nvdm", 4, name="nv", runs_dir=ws / "runs", epochs=2, **SMALL)
    train_run(corpus, "lda", 4, name="lda", runs_dir=ws / "runs", passes=1, history_docs=0, progress=False)
    return ws




def cli(ws: Path, *argv: str) -> int:
    return main([*argv, "--corpora-dir", str(ws / "corpora"), "--runs-dir", str(ws / "runs")])




# ---------------------------------------------------------------------------- reduce, merge through the CLI
def test_reduce_joins_the_split_planted_topics_back(ws, capsys):
    source = Run.load("p4", ws / "runs")
    sides = {frozenset(side(w)) for w in np.argsort(-source.topic_word, axis=1)[:, :5]}
    assert sides == {frozenset("A"), frozenset("B")}  # each learned topic lies within one planted topic
    before = snapshot(ws / "runs" / "p4")

    assert cli(ws, "reduce", "p4", "--topics", "2", *FINE) == 0
    out = capsys.readouterr().out
    assert "run 'p4-k2': prodlda, 2 topics from the 4 of 'p4', 2 epochs" in out

    new = Run.load("p4-k2", ws / "runs")
    assert new.n_topics == 2 and new.config["derived_from"] == "p4"
    assert new.config["merge"] == {"how": "reduce", "from_topics": 4, "fine_tune_epochs": 2, "fine_tuned": "encoder"}
    lineage = new.config["lineage"]
    assert sorted(k for g in lineage for k in g) == [0, 1, 2, 3] and all(len(g) == 2 for g in lineage)
    old_sides = [side(np.argsort(-source.topic_word[k])[:5]) for k in range(4)]
    assert all(len(set().union(*(old_sides[k] for k in g))) == 1 for g in lineage)  # each group on one side
    new_sides = [side(np.argsort(-row)[:10]) for row in new.topic_word]
    assert sorted(map(sorted, new_sides)) == [["A"], ["B"]]  # and the two new topics are A and B
    assert snapshot(ws / "runs" / "p4") == before


def test_merge_writes_a_complete_run_and_never_touches_the_source(ws, capsys):
    save_labels(ws / "runs" / "p4", {0: "zero", 1: "one", 3: "three"})
    before = snapshot(ws / "runs" / "p4")

    assert cli(ws, "merge", "p4", "3,1", "--name", "m", *FINE) == 0
    out = capsys.readouterr().out
    assert "run 'm': prodlda, 3 topics from the 4 of 'p4'" in out and "1+3" in out

    new = Run.load("m", ws / "runs")
    assert new.config["lineage"] == [[0], [1, 3], [2]] and new.config["derived_from"] == "p4"
    assert sorted(p.name for p in new.path.iterdir()) == sorted(RUN_FILES + ["labels.json"])
    assert new.doc_topic.shape == (N_DOCS, 3) and new.topic_word.shape == (3, V)
    assert saved_labels(new.path) == {0: "zero", 1: "one + three"}
    assert [f.status for f in verify(["m"], ws / "corpora", ws / "runs")] == [OK]
    assert snapshot(ws / "runs" / "p4") == before  # byte for byte, labels included

    # a merge of the merged run: lineage is relative to its own source
    assert cli(ws, "merge", "m", "0,2", *FINE) == 0
    assert Run.load("m-merged", ws / "runs").config["lineage"] == [[0, 2], [1]]


def test_reduce_fits_and_fine_tunes_on_the_rows_it_is_given(ws):
    from topicvae.errors import ConfigError
    from topicvae.runs.merging import reduce_topics

    source = Run.load("p4", ws / "runs")
    fitted_on, merged = [], source.model.merged
    source.model.merged = lambda groups, X, **kw: fitted_on.append(X.shape[0]) or merged(groups, X, **kw)
    rows = np.arange(0, 640, 2)  # half the training split
    new = reduce_topics(source, 2, name="half", corpora_dir=ws / "corpora", epochs=1, threads=1, train_rows=rows)
    assert fitted_on == [len(rows)]  # the merged encoder's rows fitted on them
    assert new.config["n_train_docs"] == len(rows) and new.model.n_train_docs_ + new.model.n_val_docs_ == len(rows)
    with pytest.raises(ConfigError, match="train_rows must be rows of corpus 'planted'"):
        reduce_topics(source, 2, name="bad", corpora_dir=ws / "corpora", epochs=1, train_rows=[N_DOCS])
    assert not (ws / "runs" / "bad").exists()


def test_the_merged_network_sums_theta_and_rebuilds_the_prior_for_k2(ws):
    import torch

    from topicvae.models.vae.elbo import laplace_dirichlet_prior

    run = Run.load("p4", ws / "runs")
    corpus = Corpus.load("planted", ws / "corpora")
    X = corpus.bow[corpus.split_rows("train")]
    groups = [[0, 2], [1], [3]]
    merged = run.model.merged(groups, X)
    theta = run.model.transform(corpus.bow)
    summed = np.stack([theta[:, g].sum(axis=1) for g in groups], axis=1)
    assert np.abs(merged.transform(corpus.bow) - summed).sum(axis=1).mean() < 0.05  # before any training
    mu, var = laplace_dirichlet_prior(1.0, 3)  # ProdLDA's symmetric prior of K2 topics
    torch.testing.assert_close(merged.net_.prior_mu, mu)
    torch.testing.assert_close(merged.net_.prior_var, var)
    np.testing.assert_allclose(merged.topic_word_.sum(axis=1), 1.0)
    order = lambda row: np.argsort(-row, kind="stable")[:20]  # noqa: E731
    # topic 1 stays: its parameters (β's column) rank the words as before, and its own distribution keeps its top words
    beta = lambda model: model.net_.beta_matrix().detach().numpy()[:, 1]  # noqa: E731
    np.testing.assert_array_equal(order(beta(merged)), order(beta(run.model)))
    assert len(set(order(merged.topic_word_[1])[:10]) & set(order(run.topic_word[1])[:10])) >= 8
    assert run.model.n_topics == 4 and merged.history_ == []


def test_the_fine_tune_keeps_the_merged_topics_unless_told(ws):
    run = Run.load("p4", ws / "runs")
    corpus = Corpus.load("planted", ws / "corpora")
    merged = run.model.merged([[0, 2], [1], [3]], corpus.bow[corpus.split_rows("train")])

    assert cli(ws, "merge", "p4", "0,2", *FINE) == 0
    kept = Run.load("p4-merged", ws / "runs")
    np.testing.assert_allclose(kept.topic_word, merged.topic_word_, rtol=1e-6, atol=1e-12)
    assert kept.config["merge"]["fine_tuned"] == "encoder"
    assert not np.allclose(kept.doc_topic, merged.transform(corpus.bow))  # the encoder did learn

    assert cli(ws, "merge", "p4", "0,2", "--name", "trained", "--train-topics", *FINE) == 0
    trained = Run.load("trained", ws / "runs")
    assert trained.config["merge"]["fine_tuned"] == "encoder and topics"
    assert not np.allclose(trained.topic_word, merged.topic_word_, rtol=1e-3)


def test_gsm_merges_and_keeps_its_standard_normal_prior():
    from topicvae.models.vae import GSM

    X = planted_bow(1)
    model = GSM(4, epochs=5, **{k: v for k, v in SMALL.items() if k != "progress"}).fit(X)
    merged = model.merged([[0, 1, 2], [3]], X)
    assert merged.n_topics == 2
    assert merged.net_.prior_mu.tolist() == [0.0, 0.0] and merged.net_.prior_var.tolist() == [1.0, 1.0]
    theta = model.transform(X)
    summed = np.stack([theta[:, [0, 1, 2]].sum(axis=1), theta[:, 3]], axis=1)
    assert np.abs(merged.transform(X) - summed).sum(axis=1).mean() < 0.05


def test_groups_are_completed_and_ordered_and_labels_join():
    assert normalise_groups([[7, 3]], 8) == [[0], [1], [2], [3, 7], [4], [5], [6]]
    assert normalise_groups([[5, 4], [1, 0]], 6) == [[0, 1], [2], [3], [4, 5]]
    assert merged_labels({3: "space", 7: "nasa", 0: "cars"}, [[0], [1], [3, 7]]) == {0: "cars", 2: "space + nasa"}


def test_lda_merge_sums_the_parts_and_needs_no_training(ws, capsys):
    source = Run.load("lda", ws / "runs")
    dist = topic_hierarchy(source).distances + np.eye(4)
    a, b = sorted(np.unravel_index(np.argmin(dist), dist.shape))  # the two closest topics
    before = snapshot(ws / "runs" / "lda")
    assert cli(ws, "merge", "lda", f"{a},{b}", "--name", "lda-m", "--quiet") == 0
    assert "run 'lda-m': lda, 3 topics from the 4 of 'lda', no fine-tuning" in capsys.readouterr().out
    assert snapshot(ws / "runs" / "lda") == before  # the source run is only read
    new = Run.load("lda-m", ws / "runs")
    lineage = normalise_groups([[a, b]], 4)
    g = lineage.index([a, b])
    assert new.config["lineage"] == lineage and new.config["epochs"] == 0
    assert new.config["merge"]["fine_tuned"] == "nothing"
    old, merged = source.model.model_, new.model.model_
    np.testing.assert_allclose(merged.state.sstats[g], old.state.sstats[a] + old.state.sstats[b], rtol=1e-5)
    alone = [k for k in range(4) if k not in (a, b)]
    np.testing.assert_allclose(np.delete(merged.state.sstats, g, axis=0), old.state.sstats[alone], rtol=1e-6)
    np.testing.assert_allclose(merged.alpha[g], old.alpha[a] + old.alpha[b], rtol=1e-6)
    # θ of the merged topic is close to the sum of its parts' (the E-step runs again under the new λ)
    assert np.abs(new.doc_topic[:, g] - source.doc_topic[:, [a, b]].sum(axis=1)).mean() < 0.05
    assert [f.status for f in verify(["lda-m"], ws / "corpora", ws / "runs")] == [OK]


def test_lda_reduce_with_train_topics_trains_on(ws, capsys):
    assert cli(ws, "reduce", "lda", "--topics", "2", "--train-topics", "--epochs", "2", "--quiet") == 0
    assert "2 epochs of fine-tuning the topics" in capsys.readouterr().out
    new = Run.load("lda-k2", ws / "runs")
    assert new.n_topics == 2 and new.config["epochs"] == 2 and new.config["params"]["passes"] == 2
    assert sorted(k for g in new.config["lineage"] for k in g) == [0, 1, 2, 3]


def test_hierarchy_merges_closest_first(ws):
    tree = topic_hierarchy(Run.load("p4", ws / "runs"))
    assert tree.linkage.shape == (3, 4) and np.all(np.diff(tree.linkage[:, 2]) >= 0)
    assert [len(g) for g in tree.groups(3)].count(2) == 1 and len(tree.groups(2)) == 2
    first, second, dist = tree.merges()[0]
    assert dist == pytest.approx(tree.distances[first[0], second[0]])


def test_help_names_the_examples_and_the_default_epochs(capsys):
    assert MERGE_EPOCHS_HELP == FINE_TUNE_EPOCHS
    for command, example in (("merge", "topicvae merge news-prodlda-k50 3,7"),
                             ("reduce", "topicvae reduce news-prodlda-k50 --topics 20")):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        assert example in text and f"(default: {FINE_TUNE_EPOCHS})" in text


# ---------------------------------------------------------------------------- bad input
BAD = {
    "unknown topic id": (["merge", "p4", "1,9"], "no topic 9 in this run"),
    "merge of one topic": (["merge", "p4", "2"], "a merge needs at least two different topics (got 2)"),
    "the same topic twice": (["merge", "p4", "1,1"], "a merge needs at least two different topics (topic 1 is "
                                                     "named more than once in 1,1)"),
    "a topic in two groups": (["merge", "p4", "0,1", "1,2"], "topic 1 is named more than once"),
    "not numbers": (["merge", "p4", "x,y"], "comma-separated topic numbers"),
    "everything into one": (["merge", "p4", "0,1,2,3"], "a run needs at least 2"),
    "K2 = K": (["reduce", "p4", "--topics", "4"], "fewer topics than the run's 4"),
    "K2 > K": (["reduce", "p4", "--topics", "9"], "fewer topics than the run's 4"),
    "K2 = 1": (["reduce", "p4", "--topics", "1"], "at least 2"),
    "the source's own name": (["merge", "p4", "0,1", "--name", "p4"], "cannot replace its source"),
    "a taken name": (["merge", "p4", "0,1", "--name", "nv"], "already exists"),
    "an unsafe name": (["merge", "p4", "0,1", "--name", "../x"], "run name"),
    "no epochs": (["reduce", "p4", "--topics", "2", "--epochs", "0"], "at least 1 epoch"),
    "an NVDM run": (["merge", "nv", "0,1"], "NVDM topics cannot be merged"),
    "an LDA run, K2 = K": (["reduce", "lda", "--topics", "4"], "fewer topics than the run's 4"),
    "an LDA run, unknown topic": (["merge", "lda", "0,7"], "no topic 7 in this run"),
    "an unknown run": (["reduce", "nope", "--topics", "2"], "no run named 'nope'"),
}


def test_a_run_whose_corpus_is_gone_is_refused_in_one_line(ws, capsys):
    shutil.rmtree(ws / "corpora" / "planted")
    before = snapshot(ws)
    assert cli(ws, "merge", "p4", "0,1", "--quiet") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "corpus 'planted'" in err, err
    assert snapshot(ws) == before


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(ws, capsys, case):
    argv, message = BAD[case]
    before = snapshot(ws)
    assert cli(ws, *argv, "--quiet") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err, err
    assert snapshot(ws) == before


# ---------------------------------------------------------------------------- the dashboard
@pytest.fixture
def app_ws(ws, monkeypatch):
    pytest.importorskip("streamlit")
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(ws / "corpora"))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(ws / "runs"))
    return ws


def open_topics_page(run: str):
    at = open_page("topics", run)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_topics_page_draws_the_hierarchy(app_ws):
    at = open_topics_page("p4")
    assert "Topic hierarchy" in [s.value for s in at.subheader]
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    tree = [s for s in specs if "Jensen" in str(s["layout"].get("xaxis", {}).get("title", ""))]
    assert len(tree) == 1
    assert len(tree[0]["data"]) == 3  # K − 1 merges
    assert len(tree[0]["layout"]["yaxis"]["ticktext"]) == 4  # one leaf per topic
    assert not at.error


def test_topics_page_merges_two_topics_into_a_new_run(app_ws):
    before = snapshot(app_ws / "runs" / "p4")
    at = open_topics_page("p4")
    at.selectbox(key="merge_a_p4").set_value(0)
    at.selectbox(key="merge_b_p4").set_value(2)
    at.text_input(key="merge_name_p4").input("p4-joined")
    at.button(key="merge_button_p4").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("p4-joined" in s.value for s in at.success)
    new = Run.load("p4-joined", app_ws / "runs")
    assert new.config["lineage"] == [[0, 2], [1], [3]] and new.config["derived_from"] == "p4"
    assert snapshot(app_ws / "runs" / "p4") == before


def test_topics_page_says_why_a_merge_is_refused(app_ws):
    at = open_topics_page("p4")
    at.selectbox(key="merge_a_p4").set_value(1)
    at.selectbox(key="merge_b_p4").set_value(1)
    at.button(key="merge_button_p4").click()
    at.run()
    assert [e.value for e in at.error] == ["Pick two different topics to merge."]  # the form's own words
    assert not (app_ws / "runs" / "p4-merged").exists()
    at.selectbox(key="merge_b_p4").set_value(2)
    at.text_input(key="merge_name_p4").input("p4")
    at.button(key="merge_button_p4").click()
    at.run()
    assert [e.value for e in at.error] == ["A run named 'p4' already exists; choose another name for the new run."]


# ---------------------------------------------------------------------------- benchmarks/merge.py
def test_the_benchmark_verdict_counts_a_better_score_as_met():
    from bench_support import load

    bench = load("merge")
    direct = {"npmi": 0.286, "diversity": 0.968}
    rows = [{"what": "reduced", "seed": 0, "epochs": 5, "reduce_s": 7.0, "time_share": 0.1, "npmi": 0.31,
             "diversity": 0.94},   # NPMI above, diversity 0.028 below: met
            {"what": "reduced", "seed": 0, "epochs": 5, "reduce_s": 7.0, "time_share": 0.1, "npmi": 0.25,
             "diversity": 0.97},   # NPMI 0.036 below: missed
            {"what": "reduced", "seed": 0, "epochs": 5, "reduce_s": 30.0, "time_share": 0.3, "npmi": 0.29,
             "diversity": 0.97}]   # too slow: missed
    assert [line.split(": ")[1].split(" ")[0] for line in bench.verdict(rows, direct)] == ["met", "missed", "missed"]
    table = bench.table([{**rows[0], "perplexity": 2767.0, "npmi_train": 0.3, "train_s": 6.7}], direct)
    assert "| reduced | 5 | 0.310 | 0.300 | 0.940 | 2,767 | 6.7 | 7.0 | 0.10 | +0.024 | -0.028 |" in table
