"""The benchmark scripts' own logic (their figures are measured by running them, not here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench_support import load


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
    """The table's held-out NPMI (score_topics) and `topicvae evaluate`'s (analysis.run_metrics.evaluate_run, test
    reference) on the same tiny run, under each representation the table reads: equal before evaluate rounds
    its figure to 4 decimals."""
    from topicvae.analysis import run_metrics
    from topicvae.runs import train_run

    run = train_run(sample_corpus, "prodlda", 8, runs_dir=tmp_path / "runs", progress=False,
                    epochs=2, hidden=[16], batch_size=100, threads=1, seed=0)
    train, test, made = quality.split_rows(sample_corpus)
    assert not made and (test == sample_corpus.split_rows("test")).all()
    scores = quality.score_topics(run.topic_word, sample_corpus.bow[train], sample_corpus.bow[test])
    assert scores["gap"] == pytest.approx(scores["npmi_train"] - scores["npmi"])
    npmi = run_metrics.evaluation.npmi
    for method, suffix in quality.readings():
        seen = []

        def spy(*a, **kw):
            seen.append(npmi(*a, **kw))
            return seen[-1]

        monkeypatch.setattr(run_metrics.evaluation, "npmi", spy)
        metrics = run_metrics.evaluate_run(run, reference="test", corpora_dir=sample_corpus.path.parent,
                                        with_c_v=False, save=False, representation=method)
        monkeypatch.undo()
        # evaluate scores the topics on the test split (the headline) and then on the training documents
        assert metrics["reference"] == "test" and len(seen) == 2 and metrics["representation"] == method
        assert metrics["reference_docs"] == len(sample_corpus.split_rows("test"))
        assert abs(scores[f"npmi{suffix}"] - seen[0][0]) <= 1e-9
        np.testing.assert_allclose(scores[f"npmi_per_topic{suffix}"], seen[0][1], rtol=0, atol=1e-9)
        assert round(scores[f"npmi{suffix}"], 4) == metrics["npmi"]
        assert abs(scores[f"diversity{suffix}"] - metrics["diversity"]) <= 5e-5
        assert abs(scores[f"npmi_train{suffix}"] - seen[1][0]) <= 1e-9
        assert round(scores[f"npmi_train{suffix}"], 4) == metrics["npmi_train"]


@pytest.mark.parametrize("kind", ["prodlda", "lda", "tomotopy"])
def test_quality_runs_every_kind_of_model_through_one_cell(quality, sample_corpus, tmp_path, kind):
    """Each kind of model the table compares fits and scores through run_job (a smoke run: --quick sizes), with
    the same scores for each: both representations, θ accuracy and NMI, held-out perplexity."""
    if kind == "tomotopy":
        pytest.importorskip("tomotopy", reason="tomotopy (the bench extra) is not installed")
    _, test, _ = quality.split_rows(sample_corpus)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([[sample_corpus.vocab[j] for j in sample_corpus.bow[r].indices] for r in test[:50]]))
    job = {"corpus": sample_corpus.name, "cache": str(sample_corpus.path.parent), "kind": kind, "seed": 0, "topics": 5,
           "threads": 1, "quick": True, "params": {}, "tokens": str(tokens), "cv": False}
    out = quality.run_job(job)
    for _, suffix in quality.readings():
        assert -1.0 <= out[f"npmi{suffix}"] <= 1.0 and 0 < out[f"diversity{suffix}"] <= 1.0
        assert len(out[f"best_topics{suffix}"]) == 3
    assert 0.0 <= out["acc"] <= 1.0 and 0.0 <= out["nmi"] <= 1.0  # the sample is labelled
    assert 1.0 < out["ppl"] < 10 * sample_corpus.n_words and out["fit_s"] > 0
    assert (out["epochs"] is None) == (kind != "prodlda")
    assert (kind == "tomotopy") == ("unscored_tokens" in out)
    assert not {"npmi_diverse", "vs_tomotopy_diverse"} & set(out)
    json.dumps(out)  # the child process hands it back as JSON


def test_lead_words_constants_reads_saved_topics_and_scores_the_current_constants_as_quality_does(
        quality, sample_corpus, tmp_path):
    """quality.py --save-topics keeps a cell's topic_word_; the constants' search rebuilds that cell's documents
    and, at the current constants, scores exactly the lead_words reading quality.py reported; another setting
    scores differently, and the search keeps the best admissible one."""
    sweep = load("lead_words_constants")
    _, test, _ = quality.split_rows(sample_corpus)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([[sample_corpus.vocab[j] for j in sample_corpus.bow[r].indices] for r in test[:50]]))
    job = {"corpus": sample_corpus.name, "cache": str(sample_corpus.path.parent), "kind": "prodlda", "seed": 0,
           "topics": 5, "threads": 1, "quick": True, "params": {}, "tokens": str(tokens), "cv": False,
           "label": "ProdLDA [x]", "reference": "validation", "save_topics": str(tmp_path / "topics")}
    out = quality.run_job(job)
    saved = list((tmp_path / "topics").glob("*.npy"))
    assert [p.name for p in saved] == ["sample-5-ProdLDA__x_-s0-validation.npy"]
    cells = sweep.load_cells(tmp_path / "topics", sample_corpus.path.parent)
    assert [(c["corpus"], c["K"], c["seed"]) for c in cells] == [("sample", 5, "0")]
    seen: dict = {}
    current = sweep.evaluate(cells, sweep.CURRENT, seen)
    assert current["npmi"][0] == pytest.approx(out["npmi_def"], abs=1e-12)
    assert current["div"][0] == pytest.approx(out["diversity_def"], abs=1e-12)
    other = sweep.evaluate(cells, {**sweep.CURRENT, "coherence": 0.0}, seen)
    assert other["npmi"][0] != current["npmi"][0]
    base, best, _ = sweep.search(cells, rounds=1)
    assert np.mean(best["npmi"]) >= np.mean(base["npmi"]) and sweep.admissible(best, base)


def test_quality_scores_the_initial_network_and_a_validation_reference(quality, sample_corpus, tmp_path):
    """epochs=0 survives --quick (the initial network is scored, not trained 3 epochs), and --reference
    validation trains on 80 % of the training rows and scores on the other 20 %, never on the test rows."""
    train, test, _ = quality.split_rows(sample_corpus)
    fit_rows, ref = quality.reference_rows(sample_corpus, "validation")
    assert len(ref) == round(0.2 * len(train)) and len(fit_rows) + len(ref) == len(train)
    assert set(fit_rows) | set(ref) == set(train) and not set(ref) & set(test)
    again = quality.reference_rows(sample_corpus, "validation")
    assert (again[0] == fit_rows).all() and (again[1] == ref).all()  # seeded
    assert all((a == b).all() for a, b in zip(quality.reference_rows(sample_corpus, "test"), (train, test)))
    assert quality.tokens_file(sample_corpus, tmp_path, "validation").name.startswith("sample-validation-tokens-")

    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([[sample_corpus.vocab[j] for j in sample_corpus.bow[r].indices] for r in ref[:50]]))
    job = {"corpus": sample_corpus.name, "cache": str(sample_corpus.path.parent), "kind": "prodlda", "seed": 0,
           "topics": 5, "threads": 1, "quick": True, "params": {"epochs": 0}, "tokens": str(tokens), "cv": False,
           "reference": "validation"}
    assert quality.build_model(job).epochs == 0
    out = quality.run_job(job)
    assert out["epochs"] == 0 and out["params"]["epochs"] == 0 and out["ppl"] > 0


def test_quality_label_scores_leave_unlabelled_rows_out(quality):

    rng = np.random.default_rng(0)
    labels = np.array(["a", "b"] * 30, dtype=object)
    theta = np.where((labels == "a")[:, None], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8])  # θ tells the labels apart
    theta = 0.9 * theta + 0.1 * rng.dirichlet(np.ones(3), size=60)
    unlabelled = labels.copy()
    unlabelled[::5] = None
    assert quality.label_scores(theta[:40], labels[:40], theta[40:], labels[40:]) == (1.0, 1.0)
    assert quality.label_scores(theta[:40], unlabelled[:40], theta[40:], unlabelled[40:])[0] == 1.0
    assert quality.label_scores(theta[:40], ["a"] * 40, theta[40:], labels[40:]) == (None, None)  # one label
    assert quality.label_scores(theta[:40], labels[:40], theta[40:], [None] * 20) == (None, None)
    noisy = rng.dirichlet(np.ones(4), size=30)
    mixed = [None if i % 7 == 0 else f"g{i % 3}" for i in range(30)]
    # the definition of docs/metrics.md, written out with scikit-learn: unlabelled rows left out
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import normalized_mutual_info_score

    kept = np.array([m is not None for m in mixed])
    y = np.array(mixed, dtype=object)[kept].astype(str)
    clf = LogisticRegression(max_iter=2000, random_state=0).fit(noisy[kept], y)
    accuracy, nmi = quality.label_scores(noisy, mixed, noisy, mixed)
    assert accuracy == pytest.approx(float((clf.predict(noisy[kept]) == y).mean()))
    assert nmi == pytest.approx(normalized_mutual_info_score(y, noisy[kept].argmax(axis=1)))


def qrow(model, seed, npmi, fit_s, diversity=0.9, corpus="c", k=20, npmi_def=None, **extra) -> dict:
    npmi_def = npmi if npmi_def is None else npmi_def
    return {"corpus": corpus, "V": 1000, "n_train": 800, "n_ref": 200, "K": k, "model": model, "kind": "x",
            "seed": seed, "npmi": npmi, "npmi_train": npmi + 0.1, "gap": 0.1, "diversity": diversity,
            "npmi_def": npmi_def, "npmi_train_def": npmi_def + 0.1, "diversity_def": 0.94,
            "median_df": 50.0, "cv": None, "c_npmi": 0.05, "acc": None, "nmi": None, "ppl": None, "fit_s": fit_s,
            "rss_mb": 500.0, **extra}


def test_quality_aggregates_seeds_and_compares_default_prodlda(quality, monkeypatch):
    monkeypatch.setattr(quality.representation, "DEFAULT", "frex")  # the default reading is scored beside probability
    P, T, L = (quality.MODEL_LABELS[m] for m in ("prodlda", "tomotopy", "lda"))
    I = "ProdLDA [initial]"
    rows = [qrow(P, 0, 0.30, 10.0, 0.90, npmi_def=0.35, acc=0.60, ppl=900.0),  # mean NPMI 0.31 ± 0.01, 12 s, div 0.85
            qrow(P, 1, 0.32, 14.0, 0.80, npmi_def=0.37, acc=0.62, ppl=1100.0),
            qrow(T, 0, 0.27, 40.0, npmi_def=0.38, acc=0.55, ppl=800.0),  # 0.28, 30 s
            qrow(T, 1, 0.29, 20.0, npmi_def=0.38, acc=0.55, ppl=800.0),
            qrow(I, 0, 0.05, 0.1, ppl=3000.0), qrow(L, 0, 0.35, 5.0),
            qrow(quality.MODEL_LABELS["plain"], 0, 0.99, 1.0, error="boom"),  # failed: left out
            qrow(P, 0, 0.20, 8.0, k=100), qrow(L, 0, 0.25, 6.0, k=100)]   # K=100: no tomotopy
    agg = quality.aggregate(rows)
    assert [(a["K"], a["model"]) for a in agg] == [(20, P), (20, T), (20, I), (20, L), (100, P), (100, L)]
    p = agg[0]
    assert p["npmi"] == pytest.approx(0.31) and p["npmi_hr"] == pytest.approx(0.01)
    assert p["npmi_def"] == pytest.approx(0.36) and p["acc"] == pytest.approx(0.61) and p["ppl"] == pytest.approx(1000)
    assert p["fit_s"] == pytest.approx(12.0) and p["fit_s_hr"] == pytest.approx(2.0)
    assert p["diversity"] == pytest.approx(0.85) and p["seeds"] == [0, 1]
    assert p["cv"] is None and p["nmi"] is None and agg[3]["npmi_hr"] is None  # unmeasured; one seed

    k20, k100 = quality.verdict(agg)
    assert k20["vs_tomotopy"] == pytest.approx(0.03) and k20["vs_tomotopy_def"] == pytest.approx(-0.02)
    assert k20["acc_vs_tomotopy"] == pytest.approx(0.06) and k20["time_ratio"] == pytest.approx(0.4)
    assert k20["vs_initial"] == pytest.approx(0.26) and (k20["ppl"], k20["ppl_initial"]) == (1000.0, 3000.0)
    assert dict(k20["targets"]) == {"NPMI ≥ tomotopy (probability)": True, "NPMI ≥ tomotopy (frex)": False,
                                    "div ≥ 0.85 (probability)": True, "div ≥ 0.85 (frex)": True,
                                    "θ accuracy ≥ tomotopy": True, "time ≤ 0.5× tomotopy": True}
    assert k100["vs_tomotopy"] is None and k100["vs_initial"] is None
    assert dict(k100["targets"]) == {"θ accuracy ≥ tomotopy": None, "time ≤ 0.5× tomotopy": None}

    text = quality.verdict_table([k20, k100])
    assert "| ProdLDA NPMI (probability) | − tomotopy | ProdLDA NPMI (frex) | − tomotopy |" in text
    assert ("| c | 20 | 0.310 | +0.030 | 0.360 | -0.020 | 0.850 | 0.940 | +0.060 | 0.40 | +0.260 | 1,000 vs 3,000 | "
            "met: NPMI ≥ tomotopy (probability), div ≥ 0.85 (probability), div ≥ 0.85 (frex), θ accuracy") in text
    assert text.splitlines()[-1].endswith("| not measured: θ accuracy ≥ tomotopy, time ≤ 0.5× tomotopy |")
    assert quality.summary([k20, k100]) == ("ProdLDA ≥ tomotopy on 1 of 1 cells (probability), 0 of 1 (frex); "
                                            "mean NPMI 0.310 vs 0.280 (probability), 0.360 vs 0.380 (frex).")
    table = quality.table(agg)
    assert "| NPMI held-out (probability) | NPMI train (probability) | gap | div@25 (probability) | NPMI held-out (frex) |" \
        in table and "| θ accuracy | label NMI | held-out perplexity |" in table
    assert "| c | 1,000 | 800 | 200 | 20 | ProdLDA | 0.310 ± 0.010 | 0.410 ± 0.010 | +0.100 ± 0.000 |" in table
    assert "0.610 ± 0.010 |  | 1,000 ± 100 |" in table  # θ accuracy, no NMI, perplexity

    monkeypatch.setattr(quality.representation, "DEFAULT", "probability")  # the same reading: scored once
    assert quality.readings() == [("probability", "")]
    assert not any(name.endswith("_def") for name, _, _ in quality.columns())
    assert "(frex)" not in quality.verdict_table(quality.verdict(quality.aggregate(rows)))


def test_quality_variants_are_prodlda_rows_or_tomotopy_rows_with_other_priors(quality):
    specs, _ = quality.model_specs(["prodlda", "tomotopy"], ["a0.1:alpha=0.1", "tomotopy/sparse:alpha=0.01;eta=0.001"],
                                   have_tomotopy=True)
    assert specs[-2] == ("ProdLDA [a0.1]", "prodlda", {"alpha": 0.1})
    assert specs[-1] == (f"{quality.MODEL_LABELS['tomotopy']} [sparse]", "tomotopy", {"alpha": 0.01, "eta": 0.001})
    assert all(kind != "tomotopy" for _, kind, _ in quality.model_specs([], ["tomotopy/x:eta=0.1"], False)[0])
    with pytest.raises(SystemExit, match="not 'lda'"):
        quality.model_specs([], ["lda/x:passes=2"], True)


def test_quality_has_no_one_sided_readout(quality):
    """The read-out applied to one model only is gone: every model is read through topicvae.scoring.representation."""
    from bench_support import BENCH

    assert not hasattr(quality, "diverse_readout") and not hasattr(quality, "EXCLUSIVITY_STEPS")
    assert not {"exclusivity", "reliability_df", "prevalence", "lead_coherence"} & set(quality.PLAIN)
    names = {name for name, _, _ in quality.columns()}
    assert {"npmi", "diversity", "acc", "ppl", "nmi"} <= names and "npmi_diverse" not in names
    assert not (BENCH / "readout.py").exists()


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


def test_quality_holds_out_a_seeded_split_when_a_corpus_has_none(quality):
    class NoSplit:  # a corpus without a test split: a seeded 20 % is held out
        def has_split(self, s):
            return False

        def split_rows(self, s):
            return np.arange(50)

    train, test, made = quality.split_rows(NoSplit())
    again = quality.split_rows(NoSplit())
    assert made and len(test) == 10 and len(train) == 40 and not set(train) & set(test)
    assert (again[1] == test).all()



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
    rows = [{"precision": 0.5, "recall": 1.0, "plain_precision": 1.0, "plain_recall": 0.5},
            {"precision": 1.0, "recall": 0.0, "plain_precision": 0.0, "plain_recall": 0.0}]
    assert guided.mean_retrieval(rows, "") == pytest.approx((0.75, 0.5, 1 / 3))  # F1 2/3 and 0
    assert guided.mean_retrieval(rows, "plain_") == pytest.approx((0.5, 0.25, 1 / 3))


def test_quality_quick_run_writes_its_cells_as_they_finish(quality, sample_corpus, tmp_path):
    """`quality.py --quick` end to end on the sample (its cached copy): the new columns, a JSON line per finished
    cell, the verdict against the initial network, the report at the end."""
    import re
    import shutil
    import subprocess
    import sys

    from bench_support import BENCH

    cache = tmp_path / "cache"
    shutil.copytree(sample_corpus.path, cache / "sample")  # made with the sample's settings: not ingested again
    out, rows = tmp_path / "q.md", tmp_path / "q.jsonl"
    proc = subprocess.run([sys.executable, str(BENCH / "quality.py"), "--quick", "--corpora", "sample", "--topics", "5",
                           "--models", "prodlda", "--variant", "initial:epochs=0", "--no-cv", "--cache", str(cache),
                           "--out", str(out), "--json", str(rows)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = [json.loads(line) for line in rows.read_text().splitlines()]
    assert [c["model"] for c in cells] == ["ProdLDA", "ProdLDA [initial]"] and cells[1]["epochs"] == 0
    assert all(c["reference"] == "test" and c["ppl"] > 0 and 0 <= c["acc"] <= 1 for c in cells)
    report = out.read_text()
    assert "## Cells" in proc.stdout and "## Results" in report and "## Verdict" in report
    assert "θ accuracy" in report and "held-out perplexity" in report and "Reference: test" in report
    assert "div ≥ 0.85 |" not in report and "npmi_diverse" not in report and "exclusivity" not in report
    verdict = report.split("## Verdict")[1]
    assert re.search(r"\| [+-]\d\.\d{3} \| [\d,]+ vs [\d,]+ \|", verdict)  # NPMI − initial, perplexity vs initial


def test_ingest_rounds_alternate_the_workers_values_and_print_the_median_speed_up(tmp_path, monkeypatch, capsys):
    """``benchmarks/ingest.py --generated N --rounds R``: every value of ``--workers`` once per round, in
    turn, each run a real ``topicvae ingest`` command, a row each, and the median speed-up of each value
    after the first over the rounds."""
    import argparse

    ingest_bench = load("ingest")
    source = tmp_path / "small.csv"
    rng = np.random.default_rng(0)
    words = [f"word{chr(97 + k % 26)}{chr(97 + k // 26)}" for k in range(300)]
    source.write_text("id,text,split\n" + "".join(
        f"d{i},{' '.join(rng.choice(words, 30))},train\n" for i in range(200)))
    monkeypatch.setattr(ingest_bench, "generated_csv", lambda n: source)
    ingest_bench.generated(argparse.Namespace(generated=200, workers="1,1", rounds=2, partition_docs=50))
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[:2] for r in rows] == [["| 1", "1"], ["| 1", "1"], ["| 2", "1"], ["| 2", "1"]]
    assert all(r.rstrip(" |").endswith("True") for r in rows)  # the same corpus every time
    assert "--workers 1: speed-up median" in out and "over 2 round(s)" in out
