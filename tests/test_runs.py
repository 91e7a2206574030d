"""The run layer: train_run writes a complete run folder, Run reads it, bad input fails cleanly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from topicvae import runs
from topicvae.corpus import Corpus
from topicvae.corpus.synthetic import sample_lda_corpus
from topicvae.errors import ConfigError, CorpusError, RunError, TrainingDiverged
from topicvae.models.vae import TrainingInterrupted, training_loop
from topicvae.runs import Run, format_topics, list_runs, train_run

N_DOCS, K, V = 200, 4, 50
FAST = dict(hidden=[16], epochs=3, batch_size=40, threads=1, progress=False)
RUN_FILES = ["config.json", "config.sha256", "model.pt", "history.csv", "topic_word.npy", "doc_topic.npy",
             "z_mean.npy", "z_std.npy", "topics.csv", "vocab.json"]


def make_corpus(tmp_path, name="tiny", seed=0, splits=True) -> Corpus:
    """A saved and reloaded corpus of N_DOCS documents: 160 train, 40 test."""
    X, _, _ = sample_lda_corpus(n_docs=N_DOCS, n_topics=K, n_words=V, doc_len=30, alpha=0.2, beta=0.1, seed=seed)
    vocab = [f"word{j:02d}" for j in range(V)]
    docs = pd.DataFrame({
        "id": [f"d{i}" for i in range(N_DOCS)],
        "text": [" ".join(vocab[j] for j in X[i].indices) for i in range(N_DOCS)],
        "label": [f"g{i % 3}" for i in range(N_DOCS)],
        "split": np.where(np.arange(N_DOCS) < 160, "train", "test") if splits else None,
        "n_tokens": np.asarray(X.sum(1)).ravel(),
    })
    Corpus(name=name, bow=X, vocab=vocab, docs=docs, manifest={}).save(tmp_path / "corpora")
    return Corpus.load(name, tmp_path / "corpora")


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path)


@pytest.fixture
def runs_dir(tmp_path):
    return tmp_path / "runs"


def leftovers(runs_dir) -> list[str]:
    """Names in the runs folder other than complete runs and checkpoint folders."""
    return sorted(p.name for p in runs_dir.iterdir()
                  if not (p / "config.json").is_file() and not p.name.endswith(".checkpoint"))


def test_train_run_writes_every_file_and_run_load_reads_them(corpus, runs_dir):
    run = train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    assert run.name == "tiny-prodlda-k4"
    assert sorted(p.name for p in run.path.iterdir()) == sorted(RUN_FILES)

    again = Run.load("tiny-prodlda-k4", runs_dir)
    cfg = again.config
    assert cfg["model"] == "prodlda" and cfg["n_topics"] == K and cfg["seed"] == 0
    assert cfg["corpus"] == "tiny" and cfg["corpus_checksum"] == corpus.checksum
    assert cfg["corpus_path"] == str(corpus.path.resolve())
    assert cfg["n_train_docs"] == 160 and cfg["n_val_docs"] == 16 and cfg["epochs"] == 3
    assert cfg["params"]["embedding_dim"] is None and cfg["embedding_dim"] == again.model.embedding_dim_ > 0
    assert cfg["fit_seconds"] > 0 and {"topicvae", "torch", "python"} <= set(cfg["versions"])
    from topicvae.models.vae import ProdLDA

    assert cfg["params"]["lr"] == ProdLDA().lr and cfg["params"]["patience"] == ProdLDA().patience  # defaults recorded too

    assert list(again.history.columns) == list(training_loop.HISTORY_COLUMNS) and len(again.history) == 3
    assert again.topic_word.shape == (K, V)
    np.testing.assert_allclose(again.topic_word.sum(1), 1, atol=1e-9)
    assert again.doc_topic.shape == (N_DOCS, K)  # every document, both splits
    np.testing.assert_allclose(again.doc_topic.sum(1), 1, atol=1e-5)
    assert again.z_mean.shape == again.z_std.shape == (N_DOCS, K) and (again.z_std > 0).all()
    assert len(again.topics) == K * 20 and list(again.topics.columns) == ["topic", "rank", "word", "weight"]
    assert again.topics.query("topic == 0")["word"].tolist()[:10] == again.top_words(10)[0]

    model = again.model
    np.testing.assert_array_equal(again.topic_word, model.topic_word_)  # the model's own topics, nothing else
    np.testing.assert_allclose(model.word_distribution(np.eye(K)), again.topic_word, atol=1e-6)
    np.testing.assert_allclose(model.transform(corpus.bow), again.doc_topic, atol=1e-6)
    np.testing.assert_allclose(model.posterior(corpus.bow)[0], again.z_mean, atol=1e-6)
    assert torch.load(run.path / "model.pt", weights_only=True)["model"] == "prodlda"


def test_a_run_reads_its_config_once_and_checks_an_arrays_values_once(corpus, runs_dir, monkeypatch):
    train_run(corpus, "lda", K, runs_dir=runs_dir, passes=1, iterations=5, history_docs=0)
    real_sha256 = runs.paths.sha256_file
    monkeypatch.setattr(runs.paths, "sha256_file", lambda *a: pytest.fail("config.json read again to hash it"))
    run = Run.load("tiny-lda-k4", runs_dir)
    monkeypatch.setattr(runs.paths, "sha256_file", real_sha256)
    checks = []
    real = runs.value_problem
    monkeypatch.setattr(runs, "value_problem", lambda *a: checks.append(a[0]) or real(*a))
    first, again = run.array("doc_topic.npy", mmap_mode="r"), run.array("doc_topic.npy", mmap_mode="r")
    assert checks == ["doc_topic.npy"] and np.array_equal(first, again)
    shape = first.shape
    del first, again
    (run.path / "doc_topic.npy").unlink()
    np.save(run.path / "doc_topic.npy", np.full(shape, np.nan, np.float32))  # a changed file is checked again
    with pytest.raises(RunError):
        run.array("doc_topic.npy")


def test_list_runs_and_format_topics(corpus, runs_dir):
    assert list_runs(runs_dir) == []
    train_run(corpus, "nvdm", K, runs_dir=runs_dir, **FAST)
    train_run(corpus, "prodlda", 3, name="other", runs_dir=runs_dir, **FAST)
    summaries = list_runs(runs_dir)
    assert [s["name"] for s in summaries] == ["other", "tiny-nvdm-k4"]
    s = summaries[1]
    assert (s["corpus"], s["model"], s["n_topics"], s["epochs"]) == ("tiny", "nvdm", K, 3)
    assert s["train_loss"] > 0 and s["val_loss"] > 0
    text = format_topics(Run.load("tiny-nvdm-k4", runs_dir), n=5)
    lines = text.splitlines()
    assert len(lines) == K + 1 and "nvdm" in lines[0]
    assert lines[1].split()[0] == "0" and len(lines[1].split()) == 6


def test_a_corpus_without_splits_trains_on_every_document(tmp_path, runs_dir):
    corpus = make_corpus(tmp_path, splits=False)
    run = train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    assert run.config["n_train_docs"] == N_DOCS


def test_same_settings_give_the_same_run(corpus, runs_dir):
    a = train_run(corpus, "prodlda", K, name="a", runs_dir=runs_dir, **FAST)
    b = train_run(corpus, "prodlda", K, name="b", runs_dir=runs_dir, **FAST)
    np.testing.assert_array_equal(a.doc_topic, b.doc_topic)
    np.testing.assert_array_equal(a.topic_word, b.topic_word)


def test_a_warm_start_trains_on_from_the_given_model_and_leaves_its_source_alone(corpus, runs_dir):
    source = train_run(corpus, "prodlda", K, name="src", runs_dir=runs_dir, **FAST)
    before = {p.name: p.read_bytes() for p in source.path.iterdir()}
    on = train_run(corpus, "prodlda", K, name="on", runs_dir=runs_dir, start_from=source.model,
                   config_extra={"derived_from": "src"}, **{**FAST, "epochs": 2})
    fresh = train_run(corpus, "prodlda", K, name="fresh", runs_dir=runs_dir, **{**FAST, "epochs": 2})
    # two more epochs from the trained weights reach a lower loss than two epochs from scratch
    assert on.history["train_loss"].iloc[0] < fresh.history["train_loss"].iloc[0]
    assert on.config["derived_from"] == "src" and on.config["epochs"] == 2
    assert {p.name: p.read_bytes() for p in source.path.iterdir()} == before
    with pytest.raises(ConfigError, match="not prodlda with 5"):
        train_run(corpus, "prodlda", K + 1, name="x", runs_dir=runs_dir, start_from=source.model, **FAST)
    with pytest.raises(ConfigError, match="is a prodlda model with 4 topics, not lda"):  # (LDA warm-starts from LDA)
        train_run(corpus, "lda", K, name="x", runs_dir=runs_dir, start_from=source.model, **FAST)


def interrupt_in_epoch(monkeypatch, n: int):
    """Make the n-th epoch of the next training raise KeyboardInterrupt (Ctrl-C) as it starts; return the
    real ``run_epoch``, to put back."""
    real = training_loop._TrainingState.run_epoch
    calls = []

    def ctrl_c(self, X, rows=None):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(self, X, rows)

    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", ctrl_c)
    return real


def test_a_finished_run_removes_its_checkpoint_and_its_name_can_be_reused(corpus, runs_dir):
    import shutil

    run = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    assert sorted(p.name for p in runs_dir.iterdir()) == ["r"]  # no checkpoint, no lock, no temporary folder
    assert runs.run_state(runs_dir, "r") == runs.COMPLETE
    with pytest.raises(RunError, match="complete, there is nothing to resume"):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    shutil.rmtree(run.path)
    assert runs.run_state(runs_dir, "r") == runs.NOTHING
    again = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    np.testing.assert_array_equal(again.doc_topic, run.doc_topic)


def test_resume_with_more_epochs_ends_where_an_uninterrupted_run_ends(corpus, runs_dir, monkeypatch):
    real = interrupt_in_epoch(monkeypatch, 3)
    with pytest.raises(TrainingInterrupted):
        train_run(corpus, "prodlda", K, name="short", runs_dir=runs_dir, **FAST)
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    resumed = train_run(corpus, "prodlda", K, name="short", runs_dir=runs_dir, resume=True,
                        **{**FAST, "epochs": 6})
    straight = train_run(corpus, "prodlda", K, name="long", runs_dir=runs_dir, **{**FAST, "epochs": 6})
    assert resumed.config["resumed"] and resumed.config["epochs"] == straight.config["epochs"] == 6
    pd.testing.assert_frame_equal(resumed.history.drop(columns="seconds"), straight.history.drop(columns="seconds"))
    np.testing.assert_array_equal(resumed.doc_topic, straight.doc_topic)
    np.testing.assert_array_equal(resumed.topic_word, straight.topic_word)


def test_interrupted_run_is_not_complete_and_resumes(corpus, runs_dir, monkeypatch):
    real = interrupt_in_epoch(monkeypatch, 2)
    with pytest.raises(TrainingInterrupted):
        train_run(corpus, "nvdm", K, runs_dir=runs_dir, **FAST)
    assert not (runs_dir / "tiny-nvdm-k4").exists() and leftovers(runs_dir) == []
    assert list_runs(runs_dir) == []
    with pytest.raises(RunError, match="did not finish.*--resume"):
        Run.load("tiny-nvdm-k4", runs_dir)
    with pytest.raises(RunError, match="interrupted.*--resume.*--force"):
        train_run(corpus, "nvdm", K, runs_dir=runs_dir, **FAST)
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    run = train_run(corpus, "nvdm", K, runs_dir=runs_dir, resume=True, **FAST)
    straight = train_run(corpus, "nvdm", K, name="straight", runs_dir=runs_dir, **FAST)
    assert run.config["epochs"] == 3
    np.testing.assert_array_equal(run.doc_topic, straight.doc_topic)


def test_diverged_run_leaves_a_checkpoint_and_no_run(corpus, runs_dir):
    with pytest.raises(TrainingDiverged, match="epoch"):
        train_run(corpus, "nvdm", K, runs_dir=runs_dir, **{**FAST, "lr": 1e4, "clip_norm": None})
    assert not (runs_dir / "tiny-nvdm-k4").exists() and leftovers(runs_dir) == []
    assert (runs_dir / ".tiny-nvdm-k4.checkpoint" / "checkpoint.pt").is_file()


def test_existing_run_needs_force(corpus, runs_dir):
    first = train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    with pytest.raises(RunError, match="already exists.*--force"):
        train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    second = train_run(corpus, "prodlda", K, runs_dir=runs_dir, force=True, **{**FAST, "seed": 5})
    assert second.config["seed"] == 5 and first.path == second.path
    assert leftovers(runs_dir) == []


def test_resume_errors(tmp_path, corpus, runs_dir, monkeypatch):
    with pytest.raises(RunError, match="no checkpoint"):
        train_run(corpus, "prodlda", K, runs_dir=runs_dir, resume=True, **FAST)
    interrupt_in_epoch(monkeypatch, 2)
    with pytest.raises(TrainingInterrupted):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    other = make_corpus(tmp_path / "elsewhere", name="tiny", seed=1)
    assert other.checksum != corpus.checksum
    with pytest.raises(RunError, match="checksum"):
        train_run(other, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    with pytest.raises(RunError, match="nvdm"):
        train_run(corpus, "nvdm", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    with pytest.raises(RunError, match="hidden"):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **{**FAST, "hidden": [8]})
    with pytest.raises(RunError, match="topics"):
        train_run(corpus, "prodlda", 3, name="r", runs_dir=runs_dir, resume=True, **FAST)


def test_a_resume_with_fewer_epochs_than_the_checkpoint_holds_is_refused_and_leaves_it(corpus, runs_dir, monkeypatch):
    real = interrupt_in_epoch(monkeypatch, 3)
    with pytest.raises(TrainingInterrupted):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    with pytest.raises(RunError, match="the checkpoint has 2 completed epochs, more than the 1 asked; resume with "
                                       "--epochs 2 or more"):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **{**FAST, "epochs": 1})
    run = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    assert run.config["epochs"] == 3


@pytest.mark.parametrize("n_topics", [1, 0, V, V + 1, 2.5])
def test_topic_count_out_of_range(corpus, runs_dir, n_topics):
    with pytest.raises(ConfigError, match="number of topics"):
        train_run(corpus, "prodlda", n_topics, runs_dir=runs_dir, **FAST)
    assert not runs_dir.exists()


def test_bad_input_raises_before_anything_is_written(corpus, runs_dir):
    with pytest.raises(ConfigError, match="unknown model 'lsa'.*lda, nvdm, prodlda"):
        train_run(corpus, "lsa", K, runs_dir=runs_dir, **FAST)
    with pytest.raises(ConfigError, match="invalid run name"):
        train_run(corpus, "prodlda", K, name="../escape", runs_dir=runs_dir, **FAST)
    with pytest.raises(ConfigError, match="learning_rate"):
        train_run(corpus, "prodlda", K, runs_dir=runs_dir, learning_rate=0.1, **FAST)
    with pytest.raises(ConfigError, match="lr"):
        train_run(corpus, "prodlda", K, runs_dir=runs_dir, **{**FAST, "lr": -1})
    empty = Corpus(name="empty", bow=corpus.bow[:0], vocab=corpus.vocab, docs=corpus.docs.iloc[:0], manifest={})
    with pytest.raises(CorpusError, match="no documents"):
        train_run(empty, "prodlda", K, runs_dir=runs_dir, **FAST)
    no_train = Corpus(name="t", bow=corpus.bow, vocab=corpus.vocab,
                      docs=corpus.docs.assign(split="test"), manifest={})
    with pytest.raises(CorpusError, match="train"):
        train_run(no_train, "prodlda", K, runs_dir=runs_dir, **FAST)
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []


def test_run_load_errors(runs_dir, corpus):
    with pytest.raises(RunError, match="no run named 'nope'.*none"):
        Run.load("nope", runs_dir)
    train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    with pytest.raises(RunError, match="tiny-prodlda-k4"):
        Run.load("nope", runs_dir)
    (runs_dir / "tiny-prodlda-k4" / "config.json").write_text("{not json")
    with pytest.raises(RunError, match="damaged"):
        Run.load("tiny-prodlda-k4", runs_dir)


def test_models_registry_is_a_plain_dict_others_can_extend(monkeypatch, corpus, runs_dir):
    from topicvae.models.vae import ProdLDA

    class Renamed(ProdLDA):
        pass

    monkeypatch.setitem(runs.MODELS, "renamed", Renamed)
    assert runs.model_class("renamed") is Renamed
    assert runs.model_class("prodlda").__name__ == "ProdLDA"
    with pytest.raises(ConfigError, match="renamed"):
        runs.model_class("missing")
    assert json.loads((train_run(corpus, "renamed", K, runs_dir=runs_dir, **FAST).path / "config.json")
                      .read_text())["model"] == "renamed"


def test_a_model_without_posterior_or_resume_trains_through_the_same_layer(corpus, runs_dir):
    run = train_run(corpus, "lda", K, runs_dir=runs_dir, progress=False, passes=2, history_docs=0)
    files = {p.name for p in run.path.iterdir()}
    assert {"config.json", "doc_topic.npy", "topic_word.npy", "topics.csv", "vocab.json"} <= files
    assert "z_mean.npy" not in files and run.z_mean is None
    assert run.doc_topic.shape == (N_DOCS, K) and run.config["params"]["passes"] == 2
    np.testing.assert_allclose(run.model.transform(corpus.bow), run.doc_topic, atol=1e-6)
    with pytest.raises(ConfigError, match="cannot resume"):
        train_run(corpus, "lda", K, runs_dir=runs_dir, progress=False, resume=True)


def test_a_run_saved_with_the_old_read_out_shows_the_models_own_topics(corpus, runs_dir):
    """A VAE run saved when topic_word.npy held a read-out of the model (its config names the read-out's
    settings) loads, and its topics are recomputed from the network, not read from that file."""
    run = train_run(corpus, "prodlda", K, runs_dir=runs_dir, **FAST)
    own = run.topic_word.copy()
    config = json.loads((run.path / "config.json").read_text())
    config["params"].update(exclusivity=2.0, lead_coherence=7.0)
    (run.path / "config.json").write_text(json.dumps(config))
    (run.path / runs.CONFIG_DIGEST_FILE).unlink()  # such a run was saved before config.json had a digest
    np.save(run.path / "topic_word.npy", own[:, ::-1].copy())  # what the read-out would have reordered
    old = Run.load(run.name, runs_dir)
    assert old.readout_era and not hasattr(old.model, "exclusivity")
    np.testing.assert_array_equal(old.topic_word, own)
    assert not run.readout_era
