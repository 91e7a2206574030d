"""The benchmark scripts' own logic (their figures are measured by running them, not here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench_support import load
from topicvae import evaluation


@pytest.fixture(scope="module")
def train():
    return load("train")


def row(fit_s: float, npmi: float, epochs=None) -> dict:
    return {"fit_s": fit_s, "npmi": npmi, "diversity": 0.9, "epochs": epochs}


def test_curve_finds_the_first_epoch_count_that_reaches_the_best_lda(train):
    results = [(train.LABELS["lda"], [row(30.0, 0.19)]),
               (train.LABELS["tomotopy"], [row(50.0, 0.28), row(60.0, 0.26)]),  # best: mean NPMI 0.27 in 55 s
               (train.LABELS["prodlda"], [row(20.0, 0.30)])]                     # not an LDA
    curve = {5: [row(4.0, 0.20)], 10: [row(8.0, 0.27)], 15: [row(11.0, 0.29)]}
    text = train.curve_table(curve, results)
    assert "| 10 | 8.0 | 0.270 | 0.900 | 0.15 |" in text  # 8 s of tomotopy's 55 s
    assert "after 10 epochs, in 8.0 s: 0.15 of its time" in text and "tomotopy" in text


def test_curve_says_when_the_best_lda_is_never_reached(train):
    results = [(train.LABELS["ldamulticore"], [row(30.0, 0.35)])]
    text = train.curve_table({5: [row(4.0, 0.2)], 10: [row(8.0, 0.3)]}, results)
    assert "does not reach gensim LdaMulticore's NPMI (0.350)" in text


def test_ratios_are_to_ldamulticore_when_it_ran(train):
    full = {k: 1.0 for k, _, _ in train.COLUMNS}
    rows = [(train.LABELS["lda"], [{**full, "fit_s": 10.0, "npmi": 0.1, "epochs": None}]),
            (train.LABELS["ldamulticore"], [{**full, "fit_s": 20.0, "npmi": 0.2, "epochs": None}]),
            (train.LABELS["prodlda"], [{**full, "fit_s": 5.0, "npmi": 0.3, "epochs": 30}])]
    text = train.table(rows)
    assert "time ÷ LdaMulticore" in text
    assert text.splitlines()[-1].endswith("| 0.25 | +0.100 |")


# ---------------------------------------------------------------------------- quality.py
@pytest.fixture(scope="module")
def quality():
    return load("quality")


def test_quality_held_out_npmi_is_what_topicvae_evaluate_computes(quality, sample_corpus, tmp_path, monkeypatch):
    """The table's held-out NPMI (score_topics) and `topicvae evaluate`'s (analysis.evaluate.evaluate_run, test
    reference) on the same tiny run: equal before evaluate rounds its figure to 4 decimals."""
    from topicvae.analysis import evaluate
    from topicvae.runs import train_run

    run = train_run(sample_corpus, "prodlda", 8, runs_dir=tmp_path / "runs", progress=False,
                    epochs=2, hidden=[16], batch_size=100, threads=1, seed=0)
    seen = []
    npmi = evaluate.evaluation.npmi

    def spy(*a, **kw):
        seen.append(npmi(*a, **kw))
        return seen[-1]

    monkeypatch.setattr(evaluate.evaluation, "npmi", spy)
    metrics = evaluate.evaluate_run(run, reference="test", corpora_dir=sample_corpus.path.parent,
                                    with_c_v=False, save=False)
    monkeypatch.undo()
    # evaluate scores the topics on the test split (the headline) and then on the training documents
    assert metrics["reference"] == "test" and len(seen) == 2
    assert metrics["reference_docs"] == len(sample_corpus.split_rows("test"))

    train, test, made = quality.split_rows(sample_corpus)
    assert not made and (test == sample_corpus.split_rows("test")).all()
    scores = quality.score_topics(run.topic_word, sample_corpus.bow[train], sample_corpus.bow[test])
    assert abs(scores["npmi"] - seen[0][0]) <= 1e-9
    np.testing.assert_allclose(scores["npmi_per_topic"], seen[0][1], rtol=0, atol=1e-9)
    assert round(scores["npmi"], 4) == metrics["npmi"]
    assert abs(scores["diversity"] - metrics["diversity"]) <= 5e-5
    assert scores["gap"] == pytest.approx(scores["npmi_train"] - scores["npmi"])
    assert abs(scores["npmi_train"] - seen[1][0]) <= 1e-9 and round(scores["npmi_train"], 4) == metrics["npmi_train"]


@pytest.mark.parametrize("kind", ["prodlda", "lda", "tomotopy"])
def test_quality_runs_every_kind_of_model_through_one_cell(quality, sample_corpus, tmp_path, kind):
    """Each kind of model the table compares fits and scores through run_job (a smoke run: --quick sizes)."""
    if kind == "tomotopy":
        pytest.importorskip("tomotopy", reason="tomotopy (the bench extra) is not installed")
    _, test, _ = quality.split_rows(sample_corpus)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([[sample_corpus.vocab[j] for j in sample_corpus.bow[r].indices] for r in test[:50]]))
    job = {"corpus": sample_corpus.name, "cache": str(sample_corpus.path.parent), "kind": kind, "seed": 0, "topics": 5,
           "threads": 1, "quick": True, "params": {}, "tokens": str(tokens), "cv": False}
    out = quality.run_job(job)
    assert -1.0 <= out["npmi"] <= 1.0 and 0 < out["diversity"] <= 1.0 and out["fit_s"] > 0
    assert (out["epochs"] is None) == (kind != "prodlda")
    json.dumps(out)  # the child process hands it back as JSON


def qrow(model, seed, npmi, fit_s, diversity=0.9, corpus="c", k=20, **extra) -> dict:
    return {"corpus": corpus, "V": 1000, "n_train": 800, "n_test": 200, "K": k, "model": model, "kind": "x",
            "seed": seed, "npmi": npmi, "npmi_train": npmi + 0.1, "gap": 0.1, "diversity": diversity,
            "median_df": 50.0, "cv": None, "c_npmi": 0.05, "nmi": None, "fit_s": fit_s, "rss_mb": 500.0, **extra}


def test_quality_aggregates_seeds_and_compares_default_prodlda(quality):
    P, T, L = (quality.MODEL_LABELS[m] for m in ("prodlda", "tomotopy", "lda"))
    rows = [qrow(P, 0, 0.30, 10.0, 0.90), qrow(P, 1, 0.32, 14.0, 0.80),   # mean NPMI 0.31 ± 0.01, 12 s, div 0.85
            qrow(T, 0, 0.27, 40.0, npmi_diverse=0.25), qrow(T, 1, 0.29, 20.0, npmi_diverse=0.27),  # 0.28, 30 s
            qrow(L, 0, 0.35, 5.0),
            qrow(quality.MODEL_LABELS["plain"], 0, 0.99, 1.0, error="boom"),  # failed: left out
            qrow(P, 0, 0.20, 8.0, k=100), qrow(L, 0, 0.25, 6.0, k=100)]   # K=100: no tomotopy
    agg = quality.aggregate(rows)
    assert [(a["K"], a["model"]) for a in agg] == [(20, P), (20, T), (20, L), (100, P), (100, L)]
    p = agg[0]
    assert p["npmi"] == pytest.approx(0.31) and p["npmi_hr"] == pytest.approx(0.01)
    assert p["fit_s"] == pytest.approx(12.0) and p["fit_s_hr"] == pytest.approx(2.0)
    assert p["diversity"] == pytest.approx(0.85) and p["seeds"] == [0, 1]
    assert p["cv"] is None and p["nmi"] is None and agg[2]["npmi_hr"] is None  # unmeasured; one seed

    k20, k100 = quality.verdict(agg)
    assert k20["vs_tomotopy"] == pytest.approx(0.03) and k20["vs_lda"] == pytest.approx(-0.04)
    assert k20["vs_tomotopy_diverse"] == pytest.approx(0.05)  # against tomotopy read out 0.85 diverse (0.26)
    assert k20["time_ratio"] == pytest.approx(0.4) and k20["diversity"] == pytest.approx(0.85)
    assert dict(k20["targets"]) == {"NPMI ≥ tomotopy": True, "div ≥ 0.85": True, "time ≤ 0.5× tomotopy": True}
    assert k100["vs_tomotopy"] is None and k100["vs_lda"] == pytest.approx(-0.05)
    assert dict(k100["targets"]) == {"NPMI ≥ LdaModel": False, "time ≤ 0.5× tomotopy": None}

    text = quality.verdict_table([k20, k100])
    assert "| c | 20 | 0.310 | +0.030 | +0.050 | -0.040 | 0.850 | 0.40 | met: NPMI ≥ tomotopy, div ≥ 0.85, time" in text
    assert text.splitlines()[-1].endswith("| missed: NPMI ≥ LdaModel; not measured: time ≤ 0.5× tomotopy |")
    assert "| c | 1,000 | 800 | 200 | 20 | ProdLDA | 0.310 ± 0.010 | 0.410 ± 0.010 | +0.100 ± 0.000 |" in quality.table(agg)


def test_diverse_readout_keeps_diverse_topics_and_separates_shared_words(quality):
    rng = np.random.default_rng(0)
    own = np.full((4, 200), 1e-6)
    for k in range(4):  # 4 topics of 50 words of their own
        own[k, 50 * k:50 * (k + 1)] = rng.dirichlet(np.ones(50))
    own /= own.sum(axis=1, keepdims=True)
    assert quality.diverse_readout(own)[1] == 0.0 and np.array_equal(quality.diverse_readout(own)[0], own)
    common = np.zeros(200)
    common[:25] = rng.dirichlet(np.ones(25))
    shared = 0.5 * own + 0.5 * common  # every topic led by the same 25 words (topic 0's own)
    assert evaluation.topic_diversity(shared) < 0.85
    read, gamma = quality.diverse_readout(shared)
    assert gamma > 0 and evaluation.topic_diversity(read) >= 0.85
    # the shared words stay at the head of the topic that weighs them most and leave the others'
    before, after = evaluation.top_word_ids(shared, 25), evaluation.top_word_ids(read, 25)
    assert set(after[0]) == set(before[0])
    assert all(np.sum(after[k] < 25) < np.sum(before[k] < 25) for k in (1, 2, 3))


def _octis_tsv(path, n: int = 40) -> None:
    """OCTIS rows of three themes (every word in a third of the documents), 70/15/15 % train/val/test."""
    themes = ["apple pear orchard fruit harvest", "engine wheel road driver motor", "goal match player score team"]
    splits = ["train"] * int(0.7 * n) + ["val"] * int(0.15 * n)
    splits += ["test"] * (n - len(splits))
    rows = [f"{themes[i % 3]}\t{s}\t{i % 3}" for i, s in enumerate(splits)]
    rows[0] = rows[0].replace("apple", 'apple "quoted"', 1)  # quotes inside a field are text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")


def test_quality_ingests_octis_tsv_with_its_val_split(quality, tmp_path):
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    _octis_tsv(shared / quality.CORPORA["m10"]["source"])
    corpus, why = quality.prepare_corpus("m10", shared, cache, n_process=1)
    assert why is None and corpus.manifest["source"]["format"] == "octis"
    assert corpus.manifest["counts"]["read_splits"] == {"train": 28, "val": 6, "test": 6}
    assert corpus.docs["text"][0].startswith('apple "quoted"')
    train, test, made = quality.split_rows(corpus)  # OCTIS' val rows are neither trained on nor scored
    assert not made and len(train) == 28 and len(test) == 6

    assert quality.prepare_corpus("m10", shared, cache, n_process=1)[0].path == corpus.path  # the cache is reused
    manifest = corpus.path / "manifest.json"
    data = json.loads(manifest.read_text())
    data["source"]["format"] = "csv"  # made by the old conversion to CSV: ingested again
    manifest.write_text(json.dumps(data))
    again, _ = quality.prepare_corpus("m10", shared, cache, n_process=1)
    assert again.manifest["source"]["format"] == "octis"


def test_quality_split_and_label_nmi(quality):
    class NoSplit:  # a corpus without a test split: a seeded 20 % is held out
        def has_split(self, s):
            return False

        def split_rows(self, s):
            return np.arange(50)

    train, test, made = quality.split_rows(NoSplit())
    again = quality.split_rows(NoSplit())
    assert made and len(test) == 10 and len(train) == 40 and not set(train) & set(test)
    assert (again[1] == test).all()

    from topicvae.evaluation import label_metrics

    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(4), size=30)
    labels = [None if i % 7 == 0 else f"g{i % 3}" for i in range(30)]
    rows = np.arange(30)
    assert quality.label_nmi(theta, labels) == pytest.approx(label_metrics(theta, labels, rows, rows)["nmi"], abs=1e-12)


def test_guided_scores_precision_and_the_short_false_positives_of_a_topic():
    guided = load("guided")
    assigned = np.array([0, 0, 0, 1, 0, 1])
    labels = np.array(["a", "a", "b", "b", "b", "a"])
    short = np.array([False, True, True, False, False, False])
    p, r, n = guided.precision_recall(assigned, labels, 0, "a")
    assert (p, r, n) == (0.5, 2 / 3, 4)
    assert guided.short_share(assigned, labels, 0, "a", short) == 0.5  # of its wrong documents 2 and 4, 2 is short
    assert guided.short_share(assigned, labels, 1, "b", short) == 0.0
    assert guided.best_matching(assigned, labels, 2, "b")[0] == 0  # F1 0.57 against topic 1's 0.40


def test_readout_rows_are_the_scores_of_models_trained_with_that_readout(quality, sample_corpus):
    """benchmarks/readout.py reads one trained model out per row; each row scores as a model trained
    with that read-out does (the read-out does not touch training)."""
    import torch

    from topicvae.models.vae import ProdLDA

    readout = load("readout")
    pairs = readout.parse_readouts("10:0, 0:auto, 0:1:0, 0:auto::0")
    assert pairs == [(10.0, 0.0), (0.0, None), (0.0, 1.0, 0.0), (0.0, None, None, 0.0)]
    assert readout.label(pairs[1]) == "c=0, δ=auto" and readout.label(pairs[2]) == "c=0, δ=1, γ=0"
    assert readout.label(pairs[3]) == "c=0, δ=auto, λ=0" and readout.parse_readouts("0:0:1:5") == [(0.0, 0.0, 1.0, 5.0)]
    rows = readout.cell_scores(sample_corpus, 5, 0, pairs)
    torch.set_num_threads(1)
    train, test, _ = quality.split_rows(sample_corpus)
    for (c, d, *rest), got in zip(pairs, rows):
        settings = {"exclusivity": rest[0]} if rest and rest[0] is not None else {}
        if len(rest) > 1:
            settings["lead_coherence"] = rest[1]
        model = ProdLDA(5, seed=0, threads=1, device="cpu", reliability_df=c, prevalence=d,
                        **settings).fit(sample_corpus.bow[train])
        want = quality.score_topics(model.topic_word_, sample_corpus.bow[train], sample_corpus.bow[test])
        assert got == {k: want[k] for k in ("npmi", "npmi_train", "diversity")}
    assert rows[0] != rows[1] != rows[2]  # the sample's documents are long: δ auto is 0, but c differs
    assert rows[3] != rows[1]  # the lead words off
