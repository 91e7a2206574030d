"""The command line end to end on a small real corpus: train, topics, runs, evaluate,
compare, export, infer, stability, sweep, and the bad input each command must refuse."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from topicvae import ingest
from topicvae.interfaces.cli import main
from topicvae.runs import Run
from topicvae.text.settings import VocabSettings


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """A corpus of 600 sample documents and one ProdLDA and one LDA run on it."""
    root = tmp_path_factory.mktemp("flow")
    corpora, runs = root / "corpora", root / "runs"
    from topicvae.text.sources import read_source

    docs = list(read_source("builtin:sample"))[::3]
    pd.DataFrame({"id": [d.id for d in docs], "text": [d.text for d in docs], "label": [d.label for d in docs],
                  "split": [d.split for d in docs]}).to_csv(root / "small.csv", index=False)
    ingest(str(root / "small.csv"), "small", corpora_dir=corpora, vocab=VocabSettings(max_vocab=1500),
           columns=_cols())
    common = ["--corpora-dir", str(corpora), "--runs-dir", str(runs), "--quiet"]
    assert main(["train", "small", "--topics", "6", "--epochs", "4", "--threads", "1"] + common) == 0
    assert main(["train", "small", "--model", "lda", "--topics", "6", "--passes", "2"] + common) == 0
    return {"root": root, "corpora": corpora, "runs": runs, "csv": root / "small.csv"}


@pytest.fixture(scope="module")
def phrase_dirs(dirs):
    """The same documents ingested with --phrases (over 200 of them hold a phrase) and a
    ProdLDA run on them, in folders of their own."""
    root = dirs["root"] / "phrases"
    corpora, runs = root / "corpora", root / "runs"
    ingest(str(dirs["csv"]), "phr", corpora_dir=corpora, vocab=VocabSettings(max_vocab=1500, phrases=True),
           columns=_cols())
    common = ["--corpora-dir", str(corpora), "--runs-dir", str(runs), "--quiet"]
    assert main(["train", "phr", "--topics", "6", "--epochs", "4", "--threads", "1"] + common) == 0
    return {"root": root, "corpora": corpora, "runs": runs, "csv": dirs["csv"]}


def _cols():
    from topicvae.text.sources import TableColumns

    return TableColumns(id="id", label="label", split="split")


def _run(dirs, *args, quiet=False):
    extra = ["--corpora-dir", str(dirs["corpora"]), "--runs-dir", str(dirs["runs"])]
    return main(list(args) + extra)


def test_train_writes_a_complete_run(dirs, capsys):
    run = Run.load("small-prodlda-k6", dirs["runs"])
    for f in ("config.json", "model.pt", "history.csv", "topic_word.npy", "doc_topic.npy", "z_mean.npy",
              "z_std.npy", "topics.csv"):
        assert (run.path / f).is_file(), f
    assert run.doc_topic.shape == (len(pd.read_parquet(dirs["corpora"] / "small" / "docs.parquet")), 6)
    assert run.config["preprocess"]["lemmatize"] is True
    assert _run(dirs, "topics", "small-lda-k6", "--words", "5") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 7 and "lda, 6 topics" in out
    assert _run(dirs, "runs") == 0
    listing = capsys.readouterr().out
    assert "small-prodlda-k6" in listing and "small-lda-k6" in listing


def test_evaluate_writes_metrics_with_reference(dirs, capsys):
    assert _run(dirs, "evaluate", "small-prodlda-k6", "--no-c-v") == 0
    out = capsys.readouterr().out
    assert "perplexity" in out
    m = json.loads((dirs["runs"] / "small-prodlda-k6" / "metrics.json").read_text())
    assert m["reference"] == "test" and len(m["npmi_per_topic"]) == 6 and -1 <= m["npmi"] <= 1
    # every NPMI says which documents it was measured on, and how many; the training-document
    # figure stands beside the held-out one
    assert f"reference: test, {m['reference_docs']:,} documents" in out
    assert f"reference: train, {m['train_docs']:,} documents" in out and -1 <= m["npmi_train"] <= 1
    docs = pd.read_parquet(dirs["corpora"] / "small" / "docs.parquet")
    assert m["reference_docs"] == (docs["split"] == "test").sum() and m["train_docs"] == (docs["split"] == "train").sum()
    assert m["perplexity"] > 1 and "ELBO" in m["perplexity_kind"]
    assert 0 <= m["label_nmi"] <= 1 and m["infer_docs_per_s"] > 0


def test_compare_markdown_csv_json_and_alignment(dirs, capsys):
    from topicvae.analysis.topics import represented_words
    from topicvae.corpus import Corpus
    from topicvae.scoring.representation import DEFAULT, describe

    assert _run(dirs, "compare", "small-prodlda-k6", "small-lda-k6") == 0
    out = capsys.readouterr().out
    assert "| run | model |" in out and "aligned topics" in out and out.count("| small") >= 2
    assert f"words by {describe(DEFAULT)})" in out
    lda = Run.load("small-lda-k6", dirs["runs"])
    for method in ("probability", DEFAULT):
        assert _run(dirs, "compare", "small-prodlda-k6", "small-lda-k6", "--representation", method) == 0
        out = capsys.readouterr().out
        corpus = Corpus.load(lda.config["corpus"], dirs["corpora"])
        assert all(" ".join(w) in out for w in represented_words(lda, corpus, method, 8))
    assert _run(dirs, "compare", "small-prodlda-k6", "small-lda-k6", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["prodlda", "lda"]
    assert _run(dirs, "compare", "small-prodlda-k6", "small-lda-k6", "--format", "csv") == 0
    assert capsys.readouterr().out.startswith("run,model,n_topics")


def test_export_one_row_per_document(dirs, capsys):
    out = dirs["root"] / "docs.csv"
    assert _run(dirs, "export", "small-prodlda-k6", "--out", str(out), "--with-uncertainty",
                "--topics-out", str(dirs["root"] / "topics.csv")) == 0
    df = pd.read_csv(out)
    docs = pd.read_parquet(dirs["corpora"] / "small" / "docs.parquet")
    assert len(df) == len(docs) and df["id"].tolist() == docs["id"].tolist()
    theta = df[[f"theta_{k}" for k in range(6)]].to_numpy()
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)
    assert df["dominant_topic"].dtype.kind == "i" and df["theta_0"].dtype.kind == "f"
    assert {"mu_0", "sigma_5", "theta_entropy", "dominant_topic_label", "split", "label"} <= set(df.columns)
    assert (df["dominant_topic"].to_numpy() == theta.argmax(axis=1)).all()
    topics = pd.read_csv(dirs["root"] / "topics.csv")
    assert list(topics.columns) == ["topic", "label", "representation", "rank", "word", "weight"]
    from topicvae.scoring.representation import DEFAULT
    assert set(topics["representation"]) == {DEFAULT}
    # the weight is the model's own p(word | topic), whatever the rank
    run = Run.load("small-prodlda-k6", dirs["runs"])
    vocab = {w: j for j, w in enumerate(run.vocab)}
    expected = [run.topic_word[k, vocab[w]] for k, w in zip(topics["topic"], topics["word"])]
    np.testing.assert_allclose(topics["weight"], expected, rtol=1e-9)


def test_export_parquet_uses_saved_labels(dirs):
    from topicvae.runs.labels import save_labels

    save_labels(dirs["runs"] / "small-lda-k6", {2: "my favourite topic"})
    out = dirs["root"] / "lda.parquet"
    assert _run(dirs, "export", "small-lda-k6", "--out", str(out)) == 0
    df = pd.read_parquet(out)
    assert "my favourite topic" in set(df["dominant_topic_label"]) or (df["dominant_topic"] != 2).all()
    assert "mu_0" not in df.columns


@pytest.mark.parametrize("model, tol", [("prodlda", 1e-5), ("lda", 1e-6)])
def test_infer_on_training_texts_reproduces_stored_theta(dirs, model, tol):
    _check_infer_reproduces(dirs["corpora"], dirs["runs"], f"small-{model}-k6", dirs["csv"], tol)


def test_infer_reproduces_theta_of_a_phrases_corpus(phrase_dirs):
    run = Run.load("phr-prodlda-k6", phrase_dirs["runs"])
    assert sum("_" in w for w in run.vocab) >= 10  # phrases are in play
    _check_infer_reproduces(phrase_dirs["corpora"], phrase_dirs["runs"], run.name, phrase_dirs["csv"], 1e-5)


def _check_infer_reproduces(corpora, runs, run_name, csv, tol):
    """``infer`` on the training texts gives the run's stored θ, the same twice over."""
    run = Run.load(run_name, runs)
    common = ["--corpora-dir", str(corpora), "--runs-dir", str(runs)]
    out = runs.parent / f"infer-{run_name}.csv"
    assert main(["infer", run_name, str(csv), "--id-col", "id", "--out", str(out)] + common) == 0
    got = pd.read_csv(out).set_index("id")
    docs = pd.read_parquet(corpora / run.config["corpus"] / "docs.parquet")
    cols = [f"theta_{k}" for k in range(run.n_topics)]
    np.testing.assert_allclose(got.loc[docs["id"], cols].to_numpy(), run.doc_topic, atol=tol, rtol=0)
    again = out.with_name(out.stem + "-2.csv")
    assert main(["infer", run_name, str(csv), "--id-col", "id", "--out", str(again)] + common) == 0
    assert out.read_text() == again.read_text()


def _as_old_corpus(folder):
    """Make ``folder`` look like a corpus ingested before vectorizer.json was saved."""
    (folder / "vectorizer.json").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("checksums", "sizes"):
        del manifest[key]["vectorizer.json"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_infer_with_a_corpus_older_than_vectorizer_json(dirs, phrase_dirs, tmp_path, caplog):
    corpora, runs = tmp_path / "corpora", tmp_path / "runs"
    shutil.copytree(dirs["corpora"] / "small", corpora / "small")
    shutil.copytree(phrase_dirs["corpora"] / "phr", corpora / "phr")
    shutil.copytree(dirs["runs"] / "small-prodlda-k6", runs / "small-prodlda-k6")
    shutil.copytree(phrase_dirs["runs"] / "phr-prodlda-k6", runs / "phr-prodlda-k6")
    _as_old_corpus(corpora / "small")
    _check_infer_reproduces(corpora, runs, "small-prodlda-k6", dirs["csv"], 1e-5)
    assert "not joined" not in caplog.text
    # an old --phrases corpus never saved its phrases: infer still works, as before, and says so
    _as_old_corpus(corpora / "phr")
    out = tmp_path / "old-phr.csv"
    assert main(["infer", "phr-prodlda-k6", str(dirs["csv"]), "--out", str(out), "--corpora-dir", str(corpora),
                 "--runs-dir", str(runs)]) == 0
    assert "phrases in new text are not joined" in caplog.text
    assert len(pd.read_csv(out)) == len(pd.read_csv(dirs["csv"]))


def test_infer_metadata_columns_follow_the_corpus_rule(dirs, tmp_path):
    p = tmp_path / "meta.csv"
    pd.DataFrame({"text": ["the hockey team won the cup", "planets orbit the sun"], "n_tokens": ["a", "b"],
                  "theta_0": [1, 2], "author": ["x", "y"]}).to_csv(p, index=False)
    out = tmp_path / "meta-out.csv"
    assert _run(dirs, "infer", "small-prodlda-k6", str(p), "--out", str(out)) == 0
    got = pd.read_csv(out)
    assert got["meta_n_tokens"].tolist() == ["a", "b"] and got["meta_theta_0"].tolist() == [1, 2]
    assert got["author"].tolist() == ["x", "y"] and got["n_tokens"].dtype.kind == "i"
    assert got["theta_0"].dtype.kind == "f"


def test_stability_and_sweep(dirs, capsys, tmp_path):
    assert _run(dirs, "stability", "small", "--model", "prodlda", "--topics", "4", "--seeds", "2",
                "--epochs", "2", "--threads", "1", "--quiet") == 0
    out = capsys.readouterr().out
    score = float(out.split(": ")[1].split()[0])
    assert 0 < score <= 1 and "seed0" in out and "seed1" in out
    assert _run(dirs, "sweep", "small", "--models", "prodlda,lda", "--topics", "3,5", "--epochs", "2",
                "--passes", "1", "--out", str(tmp_path / "sw"), "--quiet") == 0
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert sorted(zip(table["model"], table["n_topics"])) == [("lda", 3), ("lda", 5), ("prodlda", 3), ("prodlda", 5)]
    assert (tmp_path / "sw" / "sweep.png").stat().st_size > 10000


def test_sweep_and_stability_reuse_a_run_only_when_its_settings_are_those_asked(dirs, capsys, tmp_path):
    """The same settings (threads aside): reused, its own metrics.json kept; others: refused in one line
    before anything is trained, until --force; stability's --seed is its first seed."""
    runs = tmp_path / "runs"
    args = ["--corpora-dir", str(dirs["corpora"]), "--runs-dir", str(runs), "--quiet"]
    assert main(["sweep", "small", "--models", "prodlda", "--topics", "3", "--epochs", "2", "--threads", "1",
                 "--out", str(tmp_path / "a")] + args) == 0
    run = runs / "small-prodlda-k3"
    config = (run / "config.json").read_bytes()
    (run / "metrics.json").write_text(json.dumps({**json.loads((run / "metrics.json").read_text()), "c_v": 0.5}))
    assert main(["sweep", "small", "--models", "prodlda,prodlda", "--topics", "3,3", "--epochs", "2", "--threads",
                 "2", "--out", str(tmp_path / "b")] + args) == 0
    assert (run / "config.json").read_bytes() == config and json.loads((run / "metrics.json").read_text())["c_v"] == 0.5
    assert len(pd.read_csv(tmp_path / "b" / "sweep.csv")) == 1  # a model or K named twice: one run
    capsys.readouterr()
    assert main(["sweep", "small", "--models", "prodlda", "--topics", "3,4", "--epochs", "3",
                 "--out", str(tmp_path / "c")] + args) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: run 'small-prodlda-k3' exists with other settings (epochs 2, asked 3); pass --force to "
                   "train it again with these, or remove it")
    assert not (runs / "small-prodlda-k4").exists() and not (tmp_path / "c").exists()  # nothing trained first
    assert main(["sweep", "small", "--models", "prodlda", "--topics", "3", "--epochs", "3", "--force",
                 "--out", str(tmp_path / "c")] + args) == 0
    assert json.loads((run / "config.json").read_text())["params"]["epochs"] == 3
    assert main(["stability", "small", "--topics", "3", "--seeds", "2", "--seed", "5", "--epochs", "2",
                 "--threads", "1"] + args) == 0
    assert "over seeds [5, 6]" in capsys.readouterr().out
    assert json.loads((runs / "small-prodlda-k3-seed6" / "config.json").read_text())["params"]["seed"] == 6
    assert main(["stability", "small", "--topics", "3", "--seeds", "2", "--seed", "5", "--epochs", "2",
                 "--hidden", "16"] + args) == 2
    assert "exists with other settings (hidden [200, 200], asked [16])" in capsys.readouterr().err


# ------------------------------------------------------------------ bad input: one line, exit 2, nothing written
def _error(dirs, capsys, *args) -> str:
    code = _run(dirs, *args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_train_bad_input(dirs, capsys):
    assert "corpora there: small" in _error(dirs, capsys, "train", "nope", "--topics", "5")
    assert "from 2 to" in _error(dirs, capsys, "train", "small", "--topics", "1")
    assert "from 2 to" in _error(dirs, capsys, "train", "small", "--topics", "100000")
    assert "already exists" in _error(dirs, capsys, "train", "small", "--topics", "6", "--quiet")
    assert "no checkpoint" in _error(dirs, capsys, "train", "small", "--topics", "6", "--name", "fresh", "--resume")
    assert "unknown model" in _error(dirs, capsys, "train", "small", "--model", "bert", "--topics", "6")
    # a flag of another model names the models it is for
    assert _error(dirs, capsys, "train", "small", "--model", "prodlda", "--passes", "3") == \
        "error: --passes is a setting of lda, not of prodlda"
    assert _error(dirs, capsys, "train", "small", "--model", "nvdm", "--topic-init", "random") == \
        "error: --topic-init is a setting of prodlda, gsm, not of nvdm"
    assert "--lr is a setting of prodlda, nvdm, gsm, not of lda" in _error(
        dirs, capsys, "stability", "small", "--model", "lda", "--lr", "0.1")
    assert not (dirs["runs"] / "fresh").exists()


def test_corpus_gone_or_changed(dirs, capsys, tmp_path):
    corpora = tmp_path / "corpora"
    shutil.copytree(dirs["corpora"], corpora)
    runs = tmp_path / "runs"
    shutil.copytree(dirs["runs"] / "small-lda-k6", runs / "small-lda-k6")
    args = ["--corpora-dir", str(corpora), "--runs-dir", str(runs)]
    manifest = json.loads((corpora / "small" / "manifest.json").read_text())
    manifest["checksums"]["bow.npz"] = "0" * 64
    (corpora / "small" / "manifest.json").write_text(json.dumps(manifest))
    assert main(["evaluate", "small-lda-k6", *args]) == 2
    assert "has changed" in capsys.readouterr().err
    shutil.rmtree(corpora / "small")
    assert main(["export", "small-lda-k6", "--out", str(tmp_path / "x.csv"), *args]) == 2
    assert "which is gone" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_compare_different_vocabularies(dirs, capsys, tmp_path):
    ingest("builtin:sample", "other", corpora_dir=dirs["corpora"], vocab=VocabSettings(max_vocab=800))
    assert _run(dirs, "train", "other", "--model", "lda", "--topics", "6", "--passes", "1", "--quiet") == 0
    assert _run(dirs, "compare", "small-lda-k6", "other-lda-k6") == 0
    out = capsys.readouterr().out
    assert "| other-lda-k6 |" in out and "topic alignment refused" in out and "different vocabularies" in out
    assert "over the union of their vocabularies" in out  # and where the other policy is


def test_output_path_problems(dirs, capsys, tmp_path):
    assert "does not exist" in _error(dirs, capsys, "export", "small-lda-k6", "--out", str(tmp_path / "no" / "x.csv"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):  # root ignores permissions: make the folder a file instead
            locked.chmod(0o700)
            locked.rmdir()
            locked.write_text("a file, not a folder")
            assert "does not exist" in _error(dirs, capsys, "export", "small-lda-k6", "--out", str(locked / "x.csv"))
        else:
            assert "not writable" in _error(dirs, capsys, "export", "small-lda-k6", "--out", str(locked / "x.csv"))
    finally:
        if locked.is_dir():
            locked.chmod(0o700)
    assert "needs a VAE run" in _error(dirs, capsys, "export", "small-lda-k6", "--out", str(tmp_path / "u.csv"),
                                       "--with-uncertainty")
    assert not (tmp_path / "u.csv").exists()


def test_infer_reads_a_file_without_a_header_as_ingest_does(dirs, tmp_path):
    texts = pd.read_csv(dirs["csv"])["text"].head(20)
    (tmp_path / "with.csv").write_text(pd.DataFrame({"text": texts}).to_csv(index=False))
    (tmp_path / "without.csv").write_text(pd.DataFrame({"text": texts}).to_csv(index=False, header=False))
    assert _run(dirs, "infer", "small-lda-k6", str(tmp_path / "with.csv"), "--out", str(tmp_path / "a.csv")) == 0
    assert _run(dirs, "infer", "small-lda-k6", str(tmp_path / "without.csv"), "--no-header", "--text-col", "0",
                "--out", str(tmp_path / "b.csv")) == 0
    theta = [f"theta_{k}" for k in range(6)]
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert len(b) == 20 and a[theta].equals(b[theta])


def test_infer_without_known_words(dirs, capsys, tmp_path):
    p = tmp_path / "new.csv"
    pd.DataFrame({"text": ["zzzqx wwvvb", "1234 5678"]}).to_csv(p, index=False)
    err = _error(dirs, capsys, "infer", "small-prodlda-k6", str(p), "--out", str(tmp_path / "o.csv"))
    assert "no document" in err and "vocabulary" in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_infer_streams_a_file_a_chunk_at_a_time_to_the_table_of_all_documents(dirs, tmp_path, monkeypatch, suffix):
    """infer reads, counts, infers and writes a chunk of documents at a time: chunks of 3 (a multiple of the
    encoder's batch, as CHUNK_DOCS is) give the bytes of one chunk of all documents (today's table),
    metadata fields that come and go, change type or appear late included; no call counts more than a
    chunk's documents."""
    from topicvae.runs import Run, inference
    from topicvae.text.sources import TableColumns
    from topicvae.text.vectorizer import Vectorizer

    texts = ["the hockey team won the cup", "planets orbit the sun", "a new graphics card", "the game went on",
             "space shuttle launch", "the goalie saved it", "orbit of the moon", "", "cup final tonight"]
    metas = [{"n": 1, "who": "x"}, {"n": 2}, {"n": None, "flag": True}, {"n": 4, "who": "y"}, {"who": "z"},
             {"n": 6, "flag": False}, {"n": 7.5}, {"late": "here"}, {"n": 9, "who": "w", "flag": True}]
    source = tmp_path / "new.jsonl"
    source.write_text("".join(json.dumps({"id": f"n{i}", "text": t, **m}) + "\n"
                              for i, (t, m) in enumerate(zip(texts, metas))))
    from topicvae.models.vae import sparse

    assert inference.CHUNK_DOCS % sparse.EVAL_BATCH == 0  # (the encoder's batches: those of the whole file)
    monkeypatch.setattr(sparse.eval_batches, "__defaults__", (3,))  # (batches of 3 here, as the chunks)
    run = Run.load("small-prodlda-k6", dirs["runs"])
    whole, chunked = tmp_path / f"whole{suffix}", tmp_path / f"chunked{suffix}"
    kwargs = dict(columns=TableColumns(), corpora_dir=dirs["corpora"], with_uncertainty=True)
    at_once = inference.infer_file(run, str(source), whole, **kwargs)
    assert at_once.n_docs == 9 and at_once.n_unknown_docs >= 1
    counted = []
    real = Vectorizer.count
    monkeypatch.setattr(Vectorizer, "count", lambda self, t, **k: counted.append(len(t)) or real(self, t, **k))
    done = inference.infer_file(run, str(source), chunked, chunk_docs=3, **kwargs)
    assert done == at_once and counted == [3, 3, 3]
    if suffix == ".csv":
        assert chunked.read_bytes() == whole.read_bytes()
        assert _run(dirs, "infer", "small-prodlda-k6", str(source), "--out", str(tmp_path / "cli.csv"),
                    "--with-uncertainty") == 0
        assert (tmp_path / "cli.csv").read_bytes() == whole.read_bytes()
    else:
        pd.testing.assert_frame_equal(pd.read_parquet(chunked), pd.read_parquet(whole))
    got = pd.read_parquet(chunked) if suffix == ".parquet" else pd.read_csv(chunked)
    assert [c for c in got.columns if c in ("n", "who", "flag", "late")] == ["n", "who", "flag", "late"]
    assert got["n"].tolist()[:2] == [1.0, 2.0] and len(got) == 9
