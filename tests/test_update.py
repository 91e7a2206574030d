"""``topicvae update``: a run continued on new documents, end to end through the CLI, its drift
report, the dashboard's Drift page, and the bad input it must refuse writing nothing."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from topicvae import ingest
from topicvae.corpus import Corpus
from topicvae.interfaces import cli as cli_module
from topicvae.interfaces.cli import main
from topicvae.runs import Run, update as update_module
from topicvae.runs.update import BATCH_COLUMN, DRIFT_FILE, read_drift
from topicvae.text.settings import VocabSettings
from topicvae.text.sources import TableColumns, read_source
from app_support import assert_clean, open_page
from cli_support import ctrl_c
from snapshots import snapshot

RUN, K = "base", 5
UNKNOWN = " zorblaxian quuxified"  # two words no vocabulary has, added to every new document
FAST = ["--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """corpora/old (every 4th sample document), runs/base (ProdLDA) and files of new documents."""
    ws = tmp_path_factory.mktemp("update")
    docs = list(read_source("builtin:sample"))
    old, new = docs[::4], docs[1::4][:200]
    pd.DataFrame({"id": [d.id for d in old], "text": [d.text for d in old], "label": [d.label for d in old],
                  "split": [d.split for d in old]}).to_csv(ws / "old.csv", index=False)
    ingest(str(ws / "old.csv"), "old", corpora_dir=ws / "corpora", vocab=VocabSettings(max_vocab=800),
           columns=TableColumns(id="id", label="label", split="split"))
    assert cli(ws, "train", "old", "--topics", str(K), "--epochs", "3", "--hidden", "32", "--name", RUN) == 0
    assert cli(ws, "train", "old", "--model", "lda", "--topics", str(K), "--passes", "1", "--name", "lda") == 0
    inputs = ws / "in"
    inputs.mkdir()
    pd.DataFrame({"id": [d.id for d in new], "text": [d.text + UNKNOWN for d in new],
                  "label": [d.label for d in new]}).to_csv(inputs / "new.csv", index=False)
    (inputs / "empty.csv").write_text("")
    (inputs / "header-only.csv").write_text("text\n")
    (inputs / "binary.parquet").write_bytes(bytes(range(256)) * 64)
    (inputs / "unknown-words.csv").write_text("text\nzzzz qqqq xxxx wwww\nyyyy vvvv uuuu\n")
    italian = ("La città di Roma è la capitale della Repubblica italiana e conta quasi tre milioni di abitanti; "
               "il suo centro storico è patrimonio dell'umanità")
    pd.DataFrame({"text": [italian] * 20}).to_csv(inputs / "italian.csv", index=False)
    pd.DataFrame({"text": [d.text for d in new[:20]], "part": "test"}).to_csv(inputs / "all-test.csv", index=False)
    return ws




def cli(ws: Path, *args: str) -> int:
    fast = (["--quiet"] if "lda" in args else FAST) if args[0] in ("train", "update") else []
    try:
        return main([*args, "--corpora-dir", str(ws / "corpora"), "--runs-dir", str(ws / "runs"), *fast])
    except SystemExit as exc:  # argparse's usage errors
        return exc.code




@pytest.fixture(scope="module")
def updated(template, tmp_path_factory):
    """A copy of the template updated once through the CLI (run and corpus ``upd``, 2 epochs):
    (workspace, the source run's and corpus's files before, what the command printed)."""
    ws = tmp_path_factory.mktemp("updated") / "ws"
    shutil.copytree(template, ws)
    before = {"run": snapshot(ws / "runs" / RUN), "corpus": snapshot(ws / "corpora" / "old")}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "upd", "--id-col", "id",
                   "--label-col", "label", "--epochs", "2") == 0
    return ws, before, printed.getvalue()


# ---------------------------------------------------------------------------- end to end
def test_update_writes_a_new_run_and_corpus_and_leaves_the_source_alone(updated):
    ws, before, out = updated
    # the source run and its corpus are byte for byte what they were
    assert snapshot(ws / "runs" / RUN) == before["run"]
    assert snapshot(ws / "corpora" / "old") == before["corpus"]
    run, old, new = Run.load("upd", ws / "runs"), Corpus.load("old", ws / "corpora"), Corpus.load("upd", ws / "corpora")
    assert run.config["derived_from"] == RUN and run.config["corpus"] == "upd" and run.config["epochs"] == 2
    # the new corpus: the old documents unchanged, then the new ones, over the same vocabulary
    assert new.vocab == old.vocab and new.n_docs == old.n_docs + 200
    assert (new.bow[: old.n_docs] != old.bow).nnz == 0
    assert new.docs[BATCH_COLUMN].tolist() == ["old"] * old.n_docs + ["upd"] * 200
    assert new.docs["split"].iloc[old.n_docs:].eq("train").all()
    assert new.manifest["derived_from"]["run"] == RUN and new.manifest["preprocess"] == old.manifest["preprocess"]
    counts, before = new.manifest["counts"], old.manifest["counts"]  # read, dropped and kept add up over both
    assert counts["read"] == before["read"] + new.manifest["update"]["read"]
    assert counts["kept"] == counts["read"] - sum(counts["dropped"].values()) == new.n_docs
    from topicvae.corpus.report import corpus_report

    assert f"; latest update: {new.manifest['update']['source']['path']}  [csv] (topicvae update of run {RUN!r})" in \
        corpus_report(new).splitlines()[1]
    assert (new.path / "vectorizer.json").read_bytes() == (old.path / "vectorizer.json").read_bytes()
    # it trained on the new documents and half the old training documents (the default replay),
    # and θ covers every document for the dashboard
    n_old_train = len(old.split_rows("train"))
    assert run.config["update"]["replayed_documents"] == round(0.5 * n_old_train)
    assert run.config["n_train_docs"] == 200 + round(0.5 * n_old_train) and run.doc_topic.shape == (new.n_docs, K)
    # the unknown-word report: at least the two invented words of each new document
    u = run.config["update"]
    assert u["unknown_tokens"] >= 2 * 200 and u["tokens"] > u["unknown_tokens"]
    assert f"{u['unknown_tokens']:,} of {u['tokens']:,} tokens (" in out and "were not in the vocabulary" in out
    assert "matched to an old topic" in out and str(run.path) in out
    assert main(["verify", "--corpora-dir", str(ws / "corpora"), "--runs-dir", str(ws / "runs")]) == 0


def test_an_update_of_a_sharded_corpus_reads_it_a_shard_at_a_time_and_writes_the_same_corpus(updated, tmp_path,
                                                                                              monkeypatch):
    """The old corpus in shards of 40 documents: update reads it a shard (and a row group) at a time, never
    the whole matrix or table, and writes the corpus the update of the same corpus in one file wrote,
    in shards of the old corpus's size."""
    ws = tmp_path / "ws"
    shutil.copytree(updated[0], ws)
    ingest(str(ws / "old.csv"), "oldsh", corpora_dir=ws / "corpora", vocab=VocabSettings(max_vocab=800),
           columns=TableColumns(id="id", label="label", split="split"), shard_docs=40)
    assert len(Corpus.load("oldsh", ws / "corpora").shards) > 1
    assert cli(ws, "train", "oldsh", "--topics", str(K), "--epochs", "3", "--hidden", "32", "--name", "basesh") == 0
    for name in ("bow", "docs"):
        whole = getattr(Corpus, name)

        def refuse(corpus, whole=whole, name=name):
            if corpus.name == "oldsh":
                raise AssertionError(f"the old corpus's whole {name} was read")
            return whole.fget(corpus)

        monkeypatch.setattr(Corpus, name, property(refuse, whole.fset))
    assert cli(ws, "update", "basesh", str(ws / "in" / "new.csv"), "--name", "updsh", "--id-col", "id",
               "--label-col", "label", "--epochs", "2") == 0
    monkeypatch.undo()
    streamed, reference = Corpus.load("updsh", ws / "corpora"), Corpus.load("upd", ws / "corpora")
    assert len(streamed.shards) > 1 and streamed.shards[0]["rows"] == 40
    assert (streamed.bow != reference.bow).nnz == 0
    assert streamed.docs[BATCH_COLUMN].tolist() == ["oldsh"] * Corpus.load("oldsh", ws / "corpora").n_docs + ["updsh"] * 200
    same = [c for c in reference.docs.columns if c != BATCH_COLUMN]
    pd.testing.assert_frame_equal(streamed.docs[same], reference.docs[same])
    assert streamed.manifest["counts"]["splits"] == reference.manifest["counts"]["splits"]


def test_the_drift_report_matches_each_topic_to_an_old_one(updated):
    ws, _, _ = updated
    run, source = Run.load("upd", ws / "runs"), Run.load(RUN, ws / "runs")
    drift = read_drift(run)
    assert drift == json.loads((run.path / DRIFT_FILE).read_text())
    topics, s = drift["topics"], drift["summary"]
    assert [t["topic"] for t in topics] == list(range(K))
    assert sorted(t["matched_old"] for t in topics) == list(range(K))  # one-to-one
    assert all(0 <= t["js_distance"] <= 1 and t["nearest_js"] <= t["js_distance"] for t in topics)
    assert all(t["status"] in ("kept", "moved", "new") for t in topics)
    # two epochs from the old weights move the topics a little: every one keeps its id
    assert s["matched_same_id"] == K and s["new"] == [] and s["permuted"] == []
    assert sum(t["prevalence_before"] for t in topics) == pytest.approx(1, abs=1e-3)
    assert sum(t["prevalence_after"] for t in topics) == pytest.approx(1, abs=1e-3)
    assert topics[0]["prevalence_before"] == pytest.approx(float(source.doc_topic[:, 0].mean()), abs=1e-4)


def test_an_update_of_an_update_keeps_its_lineage_and_epochs(updated):
    ws, _, _ = updated
    assert cli(ws, "update", "upd", str(ws / "in" / "new.csv"), "--name", "upd-2", "--id-col", "id") == 0
    run, corpus = Run.load("upd-2", ws / "runs"), Corpus.load("upd-2", ws / "corpora")
    # default epochs: half of the first run's 3, not half of the 2 the first update trained
    assert run.config["update"]["base_epochs"] == 3 and run.config["epochs"] == 2
    assert run.config["derived_from"] == "upd"
    assert corpus.docs[BATCH_COLUMN].value_counts().to_dict() == {"old": corpus.n_docs - 400, "upd": 200,
                                                                  "upd-2": 200}
    # the same ids arrived a second time: prefixed with the update's name
    assert corpus.docs["id"].is_unique and corpus.docs["id"].iloc[-1].startswith("upd-2/")


def test_a_damaged_drift_report_is_found_by_verify(updated, tmp_path, capsys):
    ws, _, _ = updated
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    (copy / "runs" / "upd" / DRIFT_FILE).write_text('{"summary": ')
    assert main(["verify", "upd", "--corpora-dir", str(copy / "corpora"), "--runs-dir", str(copy / "runs")]) == 1
    assert "drift.json cannot be read" in capsys.readouterr().out


def test_the_topics_refine_at_a_tenth_of_the_rate_unless_told(ws):
    from topicvae.runs.update import UPDATE_TOPIC_LR, update_run

    assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "slow", "--epochs", "1") == 0
    slow = Run.load("slow", ws / "runs")
    assert UPDATE_TOPIC_LR == 0.1 and slow.config["params"]["topic_lr"] == UPDATE_TOPIC_LR
    assert slow.model.net_.topic_lr == UPDATE_TOPIC_LR  # what the training used, not only what was written
    told = update_run(RUN, str(ws / "in" / "new.csv"), "told", epochs=1, topic_lr=0.5,
                      corpora_dir=ws / "corpora", runs_dir=ws / "runs").run
    assert told.config["params"]["topic_lr"] == 0.5 and told.model.net_.topic_lr == 0.5
    assert Run.load(RUN, ws / "runs").config["params"].get("topic_lr") is None  # the source run keeps its own


def test_replay_sets_the_share_of_old_training_documents_trained_on(ws):
    assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "none", "--replay", "0", "--epochs", "1") == 0
    assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "all", "--replay", "1", "--epochs", "1") == 0
    none, every = Run.load("none", ws / "runs"), Run.load("all", ws / "runs")
    n_old_train = len(Corpus.load("old", ws / "corpora").split_rows("train"))
    assert none.config["n_train_docs"] == 200 and none.config["update"]["replayed_documents"] == 0
    assert every.config["n_train_docs"] == 200 + n_old_train and every.config["epochs"] == 1


def test_an_update_carries_the_names_saved_for_the_topics_it_goes_on_with(ws):
    """Topic k of the new run is topic k of the old one, and keeps its name."""
    from topicvae.runs.labels import save_labels, saved_labels

    save_labels(ws / "runs" / "lda", {1: "sports", 3: "politics"})
    assert cli(ws, "update", "lda", str(ws / "in" / "new.csv"), "--name", "lda-named", "--id-col", "id",
               "--epochs", "1") == 0
    assert saved_labels(ws / "runs" / "lda-named") == {1: "sports", 3: "politics"}


def test_an_lda_run_goes_on_with_gensims_online_update(ws, capsys):
    before = snapshot(ws / "runs" / "lda")
    assert cli(ws, "update", "lda", str(ws / "in" / "new.csv"), "--name", "lda-upd", "--id-col", "id",
               "--epochs", "2", "--replay", "0.25") == 0
    out = capsys.readouterr().out
    assert "run 'lda-upd': 2 passes from the weights of 'lda'" in out and "matched to an old topic" in out
    assert snapshot(ws / "runs" / "lda") == before  # the source run is only read
    run, source = Run.load("lda-upd", ws / "runs"), Run.load("lda", ws / "runs")
    n_old_train = len(Corpus.load("old", ws / "corpora").split_rows("train"))
    assert run.model_name == "lda" and run.config["derived_from"] == "lda"
    assert run.config["epochs"] == 2 and run.config["params"]["passes"] == 2  # --epochs counts LDA's passes
    assert run.config["n_train_docs"] == 200 + round(0.25 * n_old_train)
    # it went on from the saved state: gensim's document count and update count grew from the source's
    assert run.model.model_.state.numdocs > source.model.model_.state.numdocs
    assert run.model.model_.num_updates > source.model.model_.num_updates
    drift = read_drift(run)
    assert [t["topic"] for t in drift["topics"]] == list(range(K))
    assert drift["summary"]["matched_same_id"] >= K - 1  # online VB keeps the topic ids
    # the default: half the source's passes, rounded up
    assert cli(ws, "update", "lda", str(ws / "in" / "new.csv"), "--name", "lda-2", "--id-col", "id") == 0
    assert Run.load("lda-2", ws / "runs").config["epochs"] == 1


def test_an_interrupted_update_leaves_nothing(ws, monkeypatch, capsys):
    from topicvae import runs

    monkeypatch.setattr(runs, "train_run", ctrl_c)
    before = snapshot(ws)
    assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "upd") == 130
    assert snapshot(ws) == before


def test_an_update_killed_after_writing_its_corpus_is_taken_up_by_the_same_command(ws, monkeypatch, capsys):
    """A kill -9 between the corpus and the run leaves the corpus: verify says so, and the same command
    again replaces it and makes the run (no --force); another update of that name is still refused."""
    from topicvae import runs
    from topicvae.analysis.verify import INCOMPLETE, verify
    from topicvae.runs import update

    real_train, real_discard = runs.train_run, update._discard
    monkeypatch.setattr(runs, "train_run", ctrl_c)
    monkeypatch.setattr(update, "_discard", lambda *args, **kwargs: None)  # as after kill -9: nothing tidied
    command = ("update", RUN, str(ws / "in" / "new.csv"), "--name", "upd-k", "--id-col", "id", "--epochs", "1")
    assert cli(ws, *command) == 130
    assert (ws / "corpora" / "upd-k" / "manifest.json").is_file() and not (ws / "runs" / "upd-k").exists()
    found = [f for f in verify(["upd-k"], ws / "corpora", ws / "runs") if f.what == "corpus"]
    assert [f.status for f in found] == [INCOMPLETE] and f"topicvae update {RUN}" in found[0].detail
    capsys.readouterr()
    assert cli(ws, "update", "lda", str(ws / "in" / "new.csv"), "--name", "upd-k") == 2  # not that update's
    assert cli(ws, "update", RUN, str(ws / "in" / "all-test.csv"), "--name", "upd-k") == 2  # nor its source
    assert capsys.readouterr().err.count("corpus 'upd-k' already exists") == 2
    monkeypatch.setattr(runs, "train_run", real_train)
    monkeypatch.setattr(update, "_discard", real_discard)
    from topicvae import paths

    with paths.name_lock(ws / "runs", "upd-k", "run"):  # as while that update still trains: not a leftover
        assert update.left_by_update(ws / "corpora", ws / "runs", "upd-k") is None
        assert cli(ws, *command) == 2 and (ws / "corpora" / "upd-k").is_dir()
    capsys.readouterr()
    assert cli(ws, *command) == 0, capsys.readouterr().err
    assert Run.load("upd-k", ws / "runs").config["derived_from"] == RUN
    assert [f.status for f in verify(["upd-k"], ws / "corpora", ws / "runs")] == ["ok", "ok"]
    shutil.rmtree(ws / "runs" / "upd-k")  # a finished update's run removed on purpose: its corpus is no leftover
    assert update.left_by_update(ws / "corpora", ws / "runs", "upd-k") is None
    assert [f.status for f in verify(["upd-k"], ws / "corpora", ws / "runs")] == ["ok"]
    assert cli(ws, *command) == 2  # and the same command is refused, as for any corpus of that name


# ---------------------------------------------------------------------------- bad input
I = "{ws}/in"
BAD = [
    ("unknown run", f"update nosuch {I}/new.csv --name x"),
    ("missing source", f"update {RUN} {I}/nope.csv --name x"),
    ("empty source", f"update {RUN} {I}/empty.csv --name x"),
    ("header only", f"update {RUN} {I}/header-only.csv --name x"),
    ("unreadable source", f"update {RUN} {I}/binary.parquet --name x"),
    ("only unknown words", f"update {RUN} {I}/unknown-words.csv --name x"),
    ("another language asked for", f"update {RUN} {I}/new.csv --name x --language it"),
    ("documents in another language", f"update {RUN} {I}/italian.csv --name x"),
    ("missing text column", f"update {RUN} {I}/new.csv --name x --text-col body"),
    ("nothing in the train split", f"update {RUN} {I}/all-test.csv --name x --split-col part"),
    ("an LDA run with a VAE setting", f"update lda {I}/new.csv --name x --lr 0.01"),
    ("an LDA run, epochs 0", f"update lda {I}/new.csv --name x --epochs 0"),
    ("the name of the source run", f"update {RUN} {I}/new.csv --name {RUN}"),
    ("the name of an existing run", f"update {RUN} {I}/new.csv --name lda"),
    ("the name of an existing corpus", f"update {RUN} {I}/new.csv --name old"),
    ("the source corpus's name, even with --force", f"update {RUN} {I}/new.csv --name old --force"),
    ("unsafe name", f"update {RUN} {I}/new.csv --name ../x"),
    ("replay above 1", f"update {RUN} {I}/new.csv --name x --replay 2"),
    ("epochs 0", f"update {RUN} {I}/new.csv --name x --epochs 0"),
    ("no --name", f"update {RUN} {I}/new.csv"),
]


@pytest.mark.parametrize("case, command", BAD, ids=[c for c, _ in BAD])
def test_bad_input_is_one_line_and_writes_nothing(ws, capsys, case, command):
    before = snapshot(ws)
    rc = cli(ws, *command.format(ws=ws).split())
    err = capsys.readouterr().err.strip()
    assert rc != 0, case
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert snapshot(ws) == before, case


def test_the_language_mismatch_says_which_languages(ws, capsys):
    assert cli(ws, "update", RUN, str(ws / "in" / "new.csv"), "--name", "x", "--language", "it") != 0
    assert "'en'" in capsys.readouterr().err
    assert cli(ws, "update", RUN, str(ws / "in" / "italian.csv"), "--name", "x") != 0
    assert "were not in the vocabulary" in capsys.readouterr().err


# ---------------------------------------------------------------------------- dashboard
def test_the_drift_page_shows_the_report_and_explains_runs_without_one(updated, monkeypatch):
    pytest.importorskip("streamlit")
    ws, _, _ = updated
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(ws / "corpora"))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(ws / "runs"))

    def open_drift(run: str):
        at = open_page("drift", run)
        assert_clean(at)
        return at

    at = open_drift("upd")
    assert at.title[0].value == "Topic drift"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Topics kept (own id)"] == f"{K} of {K}" and metrics["New topics"] == "0"
    table = at.dataframe[0].value
    assert sorted(table["topic"]) == list(range(K)) and table["js_distance"].between(0, 1).all()
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    assert len(specs) == 2  # the distances and the prevalence before / after
    assert any("were not in the vocabulary" in c.value for c in at.caption)

    at.switch_page("views/compare.py")
    at.run()
    at.selectbox(key="compare_b_upd").set_value(RUN).run()
    assert not at.exception
    assert any("continues base on new documents" in c.value for c in at.caption)

    at = open_drift(RUN)  # not made by update: what to run, and which runs have a report
    assert f"topicvae update {RUN}" in at.code[0].value
    assert any("`upd`" in m.value for m in at.markdown)


def test_the_drift_page_of_an_empty_installation_says_what_to_run(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(tmp_path / "corpora"))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(tmp_path / "runs"))
    at = open_page("drift")
    assert not at.exception and "topicvae quickstart" in "\n".join(c.value for c in at.code)


# ---------------------------------------------------------------------------- benchmarks/update.py
def test_the_benchmark_halves_each_newsgroup_by_article_number():
    from types import SimpleNamespace as Doc

    from bench_support import load

    bench = load("update")
    docs = [Doc(id=f"20news-bydate-train/{g}/{n}", label=g, split="train") for g, n in
            [("a", 30), ("a", 10), ("a", 20), ("a", 40), ("b", 7), ("b", 5), ("b", 9)]]
    docs.append(Doc(id="20news-bydate-test/a/1", label="a", split="test"))
    first, second = bench.halves(docs, "article", 0)
    assert [d.id.rsplit("/", 1)[1] for d in first] == ["10", "20", "5"]
    assert [d.id.rsplit("/", 1)[1] for d in second] == ["30", "40", "7", "9"]
    a, b = bench.halves(docs, "shuffle", 0)
    assert len(a) == 3 and len(b) == 4 and {d.id for d in a + b} == {d.id for d in docs if d.split == "train"}


def test_the_benchmark_checks_the_must_target_on_every_seed():
    from bench_support import load

    bench = load("update")

    def row(seed, model, npmi, fit_s, n_train, epochs, kept=None):
        return {"seed": seed, "K": 20, "model": model, "npmi": npmi, "npmi_half1": npmi, "diversity": 0.9,
                "fit_s": fit_s, "n_train": n_train, "epochs": epochs, "kept": kept, "mean_js": 0.2}
    rows = []
    for seed, upd_npmi in ((0, 0.296), (1, 0.270)):  # seed 1 misses NPMI by 0.03
        rows += bench.add_ratios([row(seed, "update, replay 0.5", upd_npmi, 10.0, 8000, 15, kept=0.95),
                                  row(seed, "scratch, both halves", 0.300, 40.0, 10000, 30, kept=0.6)])
    verdict = bench.verdict(rows)
    assert "| 20 | replay 0.5 | -0.004, -0.030 ✗ | 0.25, 0.25 | 95%, 95% | 1 of 2 seeds |" in verdict
    summary = bench.summary_table(rows)
    assert "| 20 | update, replay 0.5 | 2 | 0.283 ± 0.013 | -0.017 (-0.030) |" in summary
    assert "| 0.40 |" in summary  # 8,000 × 15 of 10,000 × 30 documents × epochs


def test_the_cli_states_the_librarys_defaults():
    # cli.py repeats them so that --help stays light (no pandas, no torch)
    assert ((cli_module.DEFAULT_REPLAY, cli_module.MAX_UNKNOWN_SHARE)
            == (update_module.DEFAULT_REPLAY, update_module.MAX_UNKNOWN_SHARE))
