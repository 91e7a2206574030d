"""Guided (seeded) topics: the seed file, the models' ``seed_topics`` setting, ``topicvae train --seed-topics``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from topicvae.corpus.synthetic import sample_lda_corpus
from topicvae.errors import ConfigError
from topicvae.interfaces.cli import main
from topicvae.models.lda import LDA
from topicvae.models.seeding import load_seed_topics, parse_seed_file
from topicvae.models.vae import GSM, ProdLDA
from topicvae.runs.labels import saved_labels

from test_runs import K, make_corpus
from cli_support import one_error_line
from snapshots import snapshot

torch.set_num_threads(1)


# ---------------------------------------------------------------------------- the file
def test_seed_file_lines_comments_separators_and_unknown_words(tmp_path):
    f = tmp_path / "seeds.txt"
    f.write_text("# guided topics\n\nsports: Word01, word02 zzz  # a comment\nspace travel:word03\tword03 word04\n")
    seeds = load_seed_topics(f, [f"word{j:02d}" for j in range(10)], n_topics=3)
    assert seeds.names == ["sports", "space travel"]
    assert seeds.indices == [[1, 2], [3, 4]]  # matched lowercased; repeats once
    assert seeds.unknown == {"sports": ["zzz"]}
    assert "zzz" in seeds.report() and "sports" in seeds.report()
    assert seeds.labels() == {0: "sports", 1: "space travel"}
    assert seeds.record()["topics"][0] == {"name": "sports", "words": ["word01", "word02"], "unknown": ["zzz"]}


def test_seed_words_are_looked_up_as_the_corpus_tokenizes_them(tmp_path):
    """Plurals and capitals find the lemmas the corpus stores, as the CLI's guided training gives them."""
    from topicvae import ingest
    from topicvae.runs import train_guided_run

    corpus = ingest("builtin:sample", "s", corpora_dir=tmp_path / "corpora", progress=False)
    f = tmp_path / "seeds.txt"
    f.write_text("war: Wars Armies battles zzzq\n")
    with pytest.raises(ConfigError, match="no word of seed topic 'war'"):  # matched as written, none is there
        load_seed_topics(f, corpus.vocab, 5)
    run = train_guided_run(corpus, "lda", 5, f, runs_dir=tmp_path / "runs", passes=1, progress=False)
    assert run.config["seed_topics"]["topics"][0] == {"name": "war", "words": ["war", "army", "battle"],
                                                      "unknown": ["zzzq"]}


@pytest.mark.parametrize("text, n_topics, message", [
    ("", 3, "holds no topics"),
    ("# only a comment\n\n", 3, "holds no topics"),
    ("sports word01 word02\n", 3, "line 1: expected 'name: word word word'"),
    (": word01\n", 3, "line 1: expected"),
    ("a: word01\nb:\n", 3, "line 2: seed topic 'b' has no words"),
    ("a: word01\na: word02\n", 3, "line 2: seed topic 'a' was already named on line 1"),
    ("a: word01\nb: zzz qqq\n", 3, "line 2: no word of seed topic 'b'"),
    ("a: word01\nb: word02\nc: word03\n", 2, "seeds 3 topics but the model has only 2"),
])
def test_bad_seed_files_are_one_line_errors(tmp_path, text, n_topics, message):
    f = tmp_path / "seeds.txt"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        load_seed_topics(f, [f"word{j:02d}" for j in range(10)], n_topics)
    assert "\n" not in str(info.value)


def test_missing_and_binary_seed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        parse_seed_file(tmp_path / "nope.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_seed_file(tmp_path / "bin.txt")


# ---------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def planted():
    """K=5 planted topics over 200 words, 2,000 documents; the words and documents of planted topic 3."""
    X, topic_word, theta = sample_lda_corpus(n_docs=2000, n_topics=5, n_words=200, doc_len=100,
                                             alpha=0.1, beta=0.05, seed=0)
    target = 3
    top = np.argsort(-topic_word[target])
    return X, topic_word, theta, target, top


def test_seeding_a_planted_topics_words_makes_topic_0_that_topic(planted):
    X, topic_word, theta, target, top = planted
    seeds = top[:4].tolist()  # (unseeded, with the same seed, planted topic 3 comes out as topic 2)
    model = ProdLDA(5, seed_topics=[seeds], epochs=30, threads=1, seed=0).fit(X)
    learned_top = set(np.argsort(-model.topic_word_[0])[:10].tolist())
    assert set(seeds) <= learned_top
    # more of the planted topic than its seeds: its other top words are words planted topic 3 weighs most
    assert sum(int(topic_word[:, w].argmax() == target) for w in learned_top - set(seeds)) >= 5
    mine, truth = model.transform(X).argmax(1) == 0, theta.argmax(1) == target
    assert (mine & truth).sum() / mine.sum() >= 0.9 and (mine & truth).sum() / truth.sum() >= 0.9


def test_seed_words_join_the_topic_vocabulary_and_survive_save_and_load(planted, tmp_path):
    X = planted[0]
    df = np.asarray((X > 0).sum(0)).ravel()
    rare = int(np.argmin(df))
    model = GSM(5, seed_topics=[[rare, 1]], min_topic_df=int(df[rare]) + 1, epochs=2, hidden=(16,), threads=1,
                seed=0).fit(X)  # the floor leaves the rare word out of the topic vocabulary; the seed brings it in
    mask = model.net_.topic_mask
    assert mask[rare] == 1 and mask.sum() < X.shape[1]
    assert model.get_params()["seed_topics"] == [[rare, 1]]
    model.save(tmp_path)
    again = GSM.load(tmp_path)
    np.testing.assert_allclose(again.topic_word_, model.topic_word_)
    np.testing.assert_allclose(again.transform(X[:50]), model.transform(X[:50]), atol=1e-6)


@pytest.mark.parametrize("cls, short", [(ProdLDA, {"epochs": 1}), (LDA, {"passes": 1})], ids=["prodlda", "lda"])
def test_seed_settings_are_checked(cls, short, planted):
    X = planted[0]
    for bad in ([], [[]], [[1, -2]], [["a"]], [[1]] * 6):
        with pytest.raises(ConfigError, match="seed_topics"):
            cls(5, seed_topics=bad).check_params()
    with pytest.raises(ConfigError, match="seed_strength"):
        cls(5, seed_topics=[[1]], seed_strength=-1).check_params()
    with pytest.raises(ConfigError, match="beyond the vocabulary"):
        cls(5, seed_topics=[[X.shape[1]]], **short).fit(X, progress=False)


# ---------------------------------------------------------------------------- the command
FAST_FLAGS = ["--hidden", "16", "--epochs", "3", "--batch-size", "40", "--threads", "1", "--quiet"]


@pytest.fixture
def ws(tmp_path) -> Path:
    make_corpus(tmp_path, name="tiny")
    return tmp_path


def train(ws: Path, *args: str) -> int:
    return main(["train", "tiny", "--corpora-dir", str(ws / "corpora"), "--runs-dir", str(ws / "runs"),
                 *FAST_FLAGS, *args])


def test_cli_train_with_seed_topics_names_the_topics(ws, capsys, caplog):
    f = ws / "seeds.txt"
    f.write_text("alpha: word01 word02 nosuchword\nbeta: word03\n")
    with caplog.at_level("WARNING", logger="topicvae"):
        assert train(ws, "--topics", str(K), "--name", "guided", "--seed-topics", str(f)) == 0
    assert any("nosuchword" in r.getMessage() and "alpha" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    run = ws / "runs" / "guided"
    assert saved_labels(run) == {0: "alpha", 1: "beta"}
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["seed_topics"] == [[1, 2], [3]]
    assert config["seed_topics"]["topics"][0] == {"name": "alpha", "words": ["word01", "word02"],
                                                  "unknown": ["nosuchword"]}
    assert main(["verify", "guided", "--runs-dir", str(ws / "runs"), "--corpora-dir", str(ws / "corpora")]) == 0
    capsys.readouterr()
    assert main(["topics", "guided", "--runs-dir", str(ws / "runs")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("0  [alpha] ") and lines[2].startswith("1  [beta] ")
    assert "[" not in lines[3]  # an unseeded topic has no saved name


@pytest.mark.parametrize("text, extra", [
    ("", []),                                            # an empty seed file
    ("alpha word01 word02\n", []),                       # a line without 'name:'
    ("alpha: word01\nbeta: zzz yyy\n", []),              # a topic with no word in the vocabulary
    ("a: word01\nb: word02\nc: word03\nd: word04\n", []),  # more seeded topics than K
    ("alpha: word01\n", ["--model", "nvdm"]),            # a model without seeding
    (None, []),                                          # no such file
])
def test_cli_bad_seed_topics_one_line_nothing_written(ws, capsys, text, extra):
    f = ws / "seeds.txt"
    if text is not None:
        f.write_text(text)
    before = snapshot(ws)
    code = train(ws, "--topics", "3", "--name", "guided", "--seed-topics", str(f), *extra)
    err = capsys.readouterr().err.strip()
    assert one_error_line(code, err), err
    assert snapshot(ws) == before


def test_free_decoder_leads_with_the_seed_words_alone(planted):
    X, _, _, _, top = planted
    # (with the free decoder's decay: without one, the learned β's spread, the lead's unit, grows faster)
    # (10 epochs: the topic is the decoder's own distribution, whose batch norm statistics take a few epochs to settle)
    model = ProdLDA(5, embedding_dim=0, beta_decay=60.0, seed_topics=[top[:3].tolist()], epochs=10, hidden=(16,),
                    threads=1, seed=0).fit(X)
    net = model.net_
    lead = net.seed_lead()
    assert torch.equal(lead, net.seed_words) and lead[:, 1:].sum() == 0
    assert set(top[:3].tolist()) <= set(np.argsort(-model.topic_word_[0])[:10].tolist())


def test_cli_resume_needs_the_same_seed_topics_and_keeps_the_names(ws, capsys, monkeypatch):
    from test_runs import interrupt_in_epoch

    from topicvae.models.vae import training_loop

    f, other = ws / "seeds.txt", ws / "other.txt"
    f.write_text("alpha: word01 word02\n")
    other.write_text("alpha: word05\n")
    real = interrupt_in_epoch(monkeypatch, 2)
    assert train(ws, "--topics", str(K), "--name", "g", "--seed-topics", str(f)) != 0  # Ctrl-C in epoch 2
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    from topicvae.analysis.verify import verify

    said = [x.detail for x in verify(["g"], ws / "corpora", ws / "runs") if x.what == "checkpoint"]
    assert len(said) == 1 and "--name g --seed-topics FILE (the seed file it was started with) --resume" in said[0]
    capsys.readouterr()
    assert train(ws, "--topics", str(K), "--name", "g", "--seed-topics", str(other), "--resume") != 0
    assert "seed_topics" in capsys.readouterr().err
    assert train(ws, "--topics", str(K), "--name", "g", "--seed-topics", str(f), "--resume") == 0
    assert saved_labels(ws / "runs" / "g") == {0: "alpha"}


def test_a_seeded_model_refuses_to_merge_its_topics(planted):
    X, _, _, _, top = planted
    model = ProdLDA(5, seed_topics=[top[:3].tolist()], epochs=1, hidden=(16,), threads=1, seed=0).fit(X[:400])
    with pytest.raises(ConfigError, match="seeded topics cannot be merged"):
        model.merged([[0, 1], [2], [3], [4]], X[:400])


# ---------------------------------------------------------------------------- gensim LDA
def test_lda_seeding_a_planted_topics_words_makes_topic_0_that_topic(planted, tmp_path):
    X, topic_word, theta, _, _ = planted
    target = 1  # (unseeded, with the same seed, LDA's topic 0 is planted topic 3)
    seeds = np.argsort(-topic_word[target])[:4].tolist()
    model = LDA(5, seed_topics=[seeds], passes=5, history_docs=0, seed=0).fit(X, progress=False)
    eta = model.model_.eta  # the seeded prior: large at the seeds in topic 0, small there elsewhere
    assert eta.shape == (5, X.shape[1]) and eta[0, seeds].min() > 100 * eta[1:, seeds].max()
    assert set(seeds) <= set(np.argsort(-model.topic_word_[0])[:10].tolist())
    mine, truth = model.transform(X).argmax(1) == 0, theta.argmax(1) == target
    assert (mine & truth).sum() / mine.sum() >= 0.85 and (mine & truth).sum() / truth.sum() >= 0.85
    unseeded = LDA(5, passes=5, history_docs=0, seed=0).fit(X, progress=False)
    assert (unseeded.transform(X).argmax(1) == 0)[truth].mean() < 0.5  # topic 0 is the planted one by seeding only
    model.save(tmp_path)
    again = LDA.load(tmp_path)
    assert again.seed_topics == [seeds] and again.get_params() == model.get_params()
    np.testing.assert_allclose(again.transform(X[:50]), model.transform(X[:50]))


def test_lda_seeding_needs_an_eta_it_can_seed():
    with pytest.raises(ConfigError, match="eta='auto'"):
        LDA(5, seed_topics=[[1]], eta="auto").check_params()


def train_lda(ws: Path, *args: str) -> int:
    """``topicvae train tiny --model lda ...``'s exit code (a flag's bad value exits from argparse)."""
    try:
        return main(["train", "tiny", "--model", "lda", "--passes", "2", "--quiet", "--corpora-dir",
                     str(ws / "corpora"), "--runs-dir", str(ws / "runs"), *args])
    except SystemExit as exc:
        return exc.code


def test_cli_train_lda_with_seed_topics_names_the_topics(ws, caplog):
    f = ws / "seeds.txt"
    f.write_text("alpha: word01 word02 nosuchword\nbeta: word03\n")
    with caplog.at_level("WARNING", logger="topicvae"):
        assert train_lda(ws, "--topics", str(K), "--name", "guided", "--seed-topics", str(f), "--seed-strength", "5") == 0
    assert any("nosuchword" in r.getMessage() for r in caplog.records)
    run = ws / "runs" / "guided"
    assert saved_labels(run) == {0: "alpha", 1: "beta"}
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "lda" and config["params"]["seed_topics"] == [[1, 2], [3]]
    assert config["params"]["seed_strength"] == 5 and config["seed_topics"]["topics"][1]["words"] == ["word03"]
    from topicvae.runs import Run

    eta = Run.load("guided", ws / "runs").model.model_.eta  # the saved run keeps the seeded prior
    assert eta.shape[0] == K and eta[0, 1] > 10 * eta[1, 1]
    assert main(["verify", "guided", "--runs-dir", str(ws / "runs"), "--corpora-dir", str(ws / "corpora")]) == 0


@pytest.mark.parametrize("text, extra", [
    ("alpha: word01\n", ["--seed-strength", "-1"]),     # a negative strength
    ("alpha: zzz\n", []),                               # no seed word in the vocabulary
    ("a: word01\nb: word02\nc: word03\nd: word04\n", []),  # more seeded topics than K
])
def test_cli_lda_bad_seed_topics_one_line_nothing_written(ws, capsys, text, extra):
    f = ws / "seeds.txt"
    f.write_text(text)
    before = snapshot(ws)
    code = train_lda(ws, "--topics", "3", "--name", "guided", "--seed-topics", str(f), *extra)
    err = capsys.readouterr().err.strip()
    assert one_error_line(code, err), err
    assert snapshot(ws) == before


def test_a_seeded_topic_has_a_lower_prior_only_in_documents_without_its_seed_words():
    """ProdLDANet.prior_mean: seed_prior_shift lower on seeded topic k where a document holds none of
    k's seed words; unseeded topics and documents holding a seed keep the prior."""
    import scipy.sparse as sp

    from topicvae.models.vae.networks import ProdLDANet
    from topicvae.models.vae.sparse import CSRBatches

    net = ProdLDANet(6, 3, (8,), 0.0, 0.0, 1.0, seed_topics=[[0, 1], [2]], seed_strength=1.0, seed_prior_shift=0.5)
    X = sp.csr_matrix(np.array([[1, 0, 0, 0, 1, 0],    # topic 0's seed word 0
                                [0, 0, 2, 0, 0, 0],    # topic 1's seed word 2
                                [0, 0, 0, 3, 1, 1]],   # no seed word
                               dtype=np.float32))
    got = net.prior_mean(CSRBatches(X).batch(0, 3)) - net.prior_mu
    assert np.allclose(got.numpy(), [[0, -0.5, 0], [-0.5, 0, 0], [-0.5, -0.5, 0]])
    net.seed_prior_shift = 0.0
    assert net.prior_mean(CSRBatches(X).batch(0, 3)) is net.prior_mu


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), True, "1"])
def test_seed_prior_shift_must_be_a_number_of_0_or_more(bad):
    from topicvae.models.vae import ProdLDA

    with pytest.raises(ConfigError, match="seed_prior_shift"):
        ProdLDA(3, seed_topics=[[0]], seed_prior_shift=bad).check_params()
