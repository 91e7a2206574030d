"""The dashboard's pages under streamlit.testing.v1.AppTest, on small real runs (see app_support.py)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app_support import APP_TIMEOUT, DATED_RUN, LDA_RUN, PAGES, PRODLDA_RUN, assert_clean, build_app_data, open_page

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from topicvae.corpus import Corpus  # noqa: E402
from topicvae.runs import Run, write_config  # noqa: E402

CHECKOUT_ENTRY = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


@pytest.fixture(scope="session")
def app_data(tmp_path_factory):
    return build_app_data(tmp_path_factory.getbasetemp() / "app-data")


@pytest.fixture
def folders(app_data, tmp_path, monkeypatch):
    """A private copy of the runs folder (label edits and map caches stay in this test) and the corpora."""
    corpora, runs = app_data
    mine = tmp_path / "runs"
    shutil.copytree(runs, mine)
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(corpora))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(mine))
    return corpora, mine



def texts(at: AppTest) -> str:
    """Every piece of text on the page, one string."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "code", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def values(v) -> list:
    """A plotly array as a list (plotly ships numeric arrays base64-encoded)."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


# ---------------------------------------------------------------------------- every page
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_the_prodlda_run(folders, page):
    at = open_page(page, PRODLDA_RUN)
    assert_clean(at)
    if page != "overview":  # the overview shows every run; the other pages show the linked one
        assert at.sidebar.selectbox[0].value == PRODLDA_RUN


def test_the_checkout_entry_file_runs_the_packaged_pages(folders):
    # `streamlit run app/streamlit_app.py` from a checkout: the same pages, from topicvae/interfaces/app/views
    at = open_page("overview", PRODLDA_RUN, entry=CHECKOUT_ENTRY)
    assert_clean(at)
    assert "Overview" in texts(at)
    at = AppTest.from_file(str(CHECKOUT_ENTRY), default_timeout=APP_TIMEOUT)
    at.query_params["run"] = PRODLDA_RUN
    at.run()
    at.switch_page("../topicvae/interfaces/app/views/topics.py").run()
    assert_clean(at)
    assert at.sidebar.selectbox[0].value == PRODLDA_RUN and "Intertopic distance map" in texts(at)


def test_empty_installation_shows_the_commands_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(tmp_path / "corpora"))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(tmp_path / "runs"))
    for page in PAGES:
        at = open_page(page)
        assert_clean(at)
        assert "topicvae quickstart" in texts(at), page


def test_overview_lists_corpora_and_runs_with_the_missing_steps(folders):
    at = open_page("overview")
    assert_clean(at)
    corpora_table, runs_table = (d.value for d in at.dataframe)
    assert sorted(corpora_table["corpus"]) == ["dated", "sample"]
    assert sorted(runs_table["run"]) == sorted([DATED_RUN, LDA_RUN, PRODLDA_RUN])
    row = runs_table.set_index("run").loc[PRODLDA_RUN]
    assert (row["model"], row["K"], row["epochs"]) == ("prodlda", 8, 5)
    assert f"topicvae evaluate {PRODLDA_RUN}" in texts(at)


def test_overview_shows_metrics_from_metrics_json(folders):
    _, runs = folders
    (runs / PRODLDA_RUN / "metrics.json").write_text(json.dumps(
        {"run": PRODLDA_RUN, "npmi": 0.123, "diversity": 0.8, "reference": "train", "unknown_key": [1, 2]}))
    at = open_page("overview")
    assert_clean(at)
    table = at.dataframe[1].value.set_index("run")
    assert table.loc[PRODLDA_RUN, "NPMI"] == pytest.approx(0.123)
    assert table.loc[PRODLDA_RUN, "evaluated"]
    assert f"topicvae evaluate {PRODLDA_RUN}" not in texts(at)


# ---------------------------------------------------------------------------- topics
def test_topics_page_shows_the_top_words_at_lambda_one(folders):
    _, runs = folders
    run = Run.load(PRODLDA_RUN, runs)
    at = open_page("topics", PRODLDA_RUN)
    at.selectbox(key=f"topic_{PRODLDA_RUN}").set_value(3)
    at.slider(key="relevance_lambda").set_value(1.0)
    at.run()
    assert_clean(at)
    # at λ = 1 relevance ranks by p(w|k): the run's own top words, in order
    assert "(LDAvis relevance, whatever the words are ranked by below): " + " · ".join(run.top_words(10)[3]) in texts(at)
    assert "The most relevant words at λ = 1.00" in texts(at)
    bars = [s for s in plotly_specs(at) if s["layout"].get("barmode") == "overlay"][0]["data"]
    assert values(bars[1]["y"])[::-1] == run.top_words(20)[3]
    table = at.dataframe[-1].value
    assert list(table["topic"]) == list(range(8))
    assert table["prevalence"].sum() == pytest.approx(1.0)
    assert table["coherence"].between(-1, 1).all()
    assert "Most representative documents" in texts(at)
    assert len(at.expander) == 5


def test_topics_page_map_has_one_circle_per_topic(folders):
    at = open_page("topics", PRODLDA_RUN)
    specs = plotly_specs(at)
    circles = [s for s in specs if s["data"][0].get("mode") == "markers+text"][0]["data"][0]
    assert len(values(circles["x"])) == 8


def test_label_edit_persists_and_shows_on_every_page(folders):
    _, runs = folders
    at = open_page("topics", PRODLDA_RUN)
    at.selectbox(key=f"topic_{PRODLDA_RUN}").set_value(2).run()
    at.text_input(key=f"label_{PRODLDA_RUN}_2").input("Australian politics").run()
    assert_clean(at)
    assert json.loads((runs / PRODLDA_RUN / "labels.json").read_text()) == {"2": "Australian politics"}
    assert "Australian politics" in at.dataframe[-1].value["label"].tolist()

    fresh = open_page("downloads", PRODLDA_RUN)  # a new session reads it from the run folder
    assert_clean(fresh)
    topic_table = fresh.dataframe[0].value
    assert set(topic_table.loc[topic_table["topic"] == 2, "label"]) == {"Australian politics"}
    docs = open_page("documents", PRODLDA_RUN)
    assert "Australian politics" in docs.multiselect(key=f"doc_topics_{PRODLDA_RUN}").options


# ---------------------------------------------------------------------------- documents
def test_documents_page_opens_a_document_by_id_with_its_mixture_and_uncertainty(folders):
    corpora, runs = folders
    run = Run.load(PRODLDA_RUN, runs)
    at = open_page("documents", PRODLDA_RUN)
    assert_clean(at)
    n = run.doc_topic.shape[0]
    assert f"Showing {n:,} of {n:,} matching documents" in texts(at)
    assert (runs / PRODLDA_RUN / "doc_map.npy").is_file()  # cached in the run folder
    at.text_input(key=f"doc_id_{PRODLDA_RUN}").input("lee-007").run()
    assert_clean(at)
    page = texts(at)
    assert "id **lee-007**" in page
    assert "Posterior uncertainty" in page
    mixture = [s for s in plotly_specs(at) if s["data"][0].get("orientation") == "h"][0]["data"][0]
    row = Corpus.load("sample", corpora).docs["id"].tolist().index("lee-007")
    assert max(values(mixture["x"])) == pytest.approx(float(run.doc_topic[row].max()), abs=1e-6)


def test_documents_page_filters_by_text_and_samples(folders):
    _, runs = folders
    n = Run.load(PRODLDA_RUN, runs).doc_topic.shape[0]
    at = open_page("documents", PRODLDA_RUN)
    at.text_input(key=f"doc_query_{PRODLDA_RUN}").input("cricket").run()
    assert_clean(at)
    assert "matching documents" in texts(at) and f"of {n:,} matching" not in texts(at)
    at.selectbox(key="doc_max_points").set_value(1000).run()
    at.text_input(key=f"doc_query_{PRODLDA_RUN}").input("").run()
    assert f"Showing 1,000 of {n:,} matching documents ({n:,} in the run) (a random sample" in texts(at)
    at.text_input(key=f"doc_query_{PRODLDA_RUN}").input("zzzz-no-such-text").run()
    assert "No document matches these filters." in texts(at)


def test_the_open_document_follows_the_filters_and_an_unknown_id_is_noted_for_its_run_only(folders):
    corpora, runs = folders
    run = Run.load(PRODLDA_RUN, runs)
    ids = Corpus.load("sample", corpora).docs["id"].tolist()
    at = open_page("documents", PRODLDA_RUN)
    first = int(run.doc_topic[0].argmax())
    other = next(k for k in range(run.n_topics) if k != first and (run.doc_topic.argmax(axis=1) == k).any())
    assert f"id **{ids[0]}**" in texts(at)
    at.multiselect(key=f"doc_topics_{PRODLDA_RUN}").set_value([other]).run()
    assert_clean(at)
    opened = next(i for i in ids if f"id **{i}**" in texts(at))
    assert int(run.doc_topic[ids.index(opened)].argmax()) == other  # a document of that topic is open
    assert "This document does not match the filters." not in texts(at)
    at.text_input(key=f"doc_id_{PRODLDA_RUN}").input(ids[0]).run()  # looked up outside the filter: kept, and said
    assert f"id **{ids[0]}**" in texts(at) and "This document does not match the filters." in texts(at)
    at.radio(key="doc_colour_by").set_value("label").run()  # another control: it stays open
    assert f"id **{ids[0]}**" in texts(at)
    at.multiselect(key=f"doc_topics_{PRODLDA_RUN}").set_value([other, first]).run()  # the filters change
    assert f"id **{ids[0]}**" in texts(at)  # (it matches them now: it stays)
    at.multiselect(key=f"doc_topics_{PRODLDA_RUN}").set_value([other]).run()
    assert f"id **{ids[0]}**" not in texts(at) and "This document does not match the filters." not in texts(at)
    at.text_input(key=f"doc_id_{PRODLDA_RUN}").input("no-such-id").run()
    assert "No document with id 'no-such-id'." in texts(at)
    at.query_params["run"] = LDA_RUN
    at.run()
    assert "gives no posterior uncertainty" in texts(at)  # the LDA run is open
    assert "No document with id" not in texts(at)


def test_documents_page_for_lda_says_there_is_no_sigma(folders):
    at = open_page("documents", LDA_RUN)
    assert_clean(at)
    assert "gives no posterior uncertainty" in texts(at)


# ---------------------------------------------------------------------------- infer
def test_infer_returns_a_mixture_that_sums_to_one_and_nearest_documents(folders):
    at = open_page("infer", PRODLDA_RUN)
    assert "Paste or upload a text" in texts(at)
    at.text_area(key="infer_text").input(
        "The Australian cricket team won the test match against England in Sydney on Sunday.").run()
    assert_clean(at)
    mixture, nearest = at.dataframe[0].value, at.dataframe[1].value
    assert len(mixture) == 8
    assert mixture["θ"].sum() == pytest.approx(1.0, abs=1e-5)
    assert "The mixture sums to **1.000**" in texts(at)
    assert len(nearest) == 10 and nearest["distance"].is_monotonic_increasing


def test_an_uploaded_file_too_long_is_cut_with_a_visible_notice(folders):
    sentence = "The Australian cricket team won the test match against England in Sydney. "
    big = (sentence * (2_100_000 // len(sentence) + 1)).encode()
    at = open_page("infer", PRODLDA_RUN)
    at.file_uploader(key="infer_upload").set_value(("long.txt", big, "text/plain")).run()
    assert_clean(at)
    notice = " ".join(w.value for w in at.warning)
    assert f"has {len(big):,} characters" in notice and "only its first 2,000,000" in notice
    assert "The mixture sums to **1.000**" in texts(at)

    small = sentence.encode()
    at.file_uploader(key="infer_upload").set_value(("short.txt", small, "text/plain")).run()
    assert_clean(at)
    assert not [w for w in at.warning if "characters" in w.value]
    assert f"**short.txt** ({len(small):,} characters)" in texts(at)


# ---------------------------------------------------------------------------- compare, trends, downloads
def test_compare_aligns_prodlda_with_lda(folders):
    at = open_page("compare", PRODLDA_RUN)
    assert_clean(at)
    assert at.selectbox(key=f"compare_b_{PRODLDA_RUN}").value == LDA_RUN  # same corpus, other model
    metrics, aligned = at.dataframe[0].value, at.dataframe[1].value
    assert list(metrics.columns) == [PRODLDA_RUN, LDA_RUN]
    assert len(aligned) == 8
    assert aligned["js_distance"].between(0, 1).all() and aligned["js_distance"].is_monotonic_increasing


def test_compare_shows_the_words_in_the_representation_picked_and_says_which(folders):
    from topicvae.analysis.topics import represented_words
    from topicvae.scoring.representation import DEFAULT, describe

    corpora, runs = folders
    lda = Run.load(LDA_RUN, runs)
    corpus = Corpus.load(lda.config["corpus"], corpora)
    at = open_page("compare", PRODLDA_RUN)
    for method in (DEFAULT, "probability"):
        if method != DEFAULT:
            at.selectbox(key="representation").set_value(method)
            at.run()
        assert_clean(at)
        aligned = at.dataframe[1].value.set_index(f"B: {LDA_RUN}")
        expected = represented_words(lda, corpus, method, 8)
        labels = Run.load(LDA_RUN, runs).top_words(3)
        for k, words in enumerate(expected):
            label = f"{k}: {' '.join(labels[k])}"
            assert aligned.loc[label, "B top words"] == " ".join(words)
        assert f"Top words by {describe(method)}." in texts(at)
    assert represented_words(lda, corpus, DEFAULT, 8) != represented_words(lda, corpus, "probability", 8)


def test_trends_by_label_and_over_time(folders):
    at = open_page("trends", DATED_RUN)
    assert_clean(at)
    assert "Topic prevalence by label" in texts(at)
    assert "200 of 200 documents have a date" in texts(at)
    lines = [s for s in plotly_specs(at) if s["data"][0].get("mode") == "lines+markers"]
    assert len(lines) == 1 and len(lines[0]["data"]) == 4  # the 4 topics (top 5 by default)


def test_trends_without_dates_says_how_to_get_them(folders):
    at = open_page("trends", PRODLDA_RUN)
    assert_clean(at)
    assert "--date-col" in texts(at)


def test_downloads_offer_both_files(folders):
    at = open_page("downloads", PRODLDA_RUN)
    assert_clean(at)
    assert {b.key for b in at.download_button} == {"download_documents", "download_topics"}


# ---------------------------------------------------------------------------- a run larger than a page holds
def test_a_run_larger_than_a_page_holds_is_shown_through_one_sample_on_every_page(folders, monkeypatch):
    """Past ``SAMPLE_DOCS`` documents the pages hold a seeded sample (the same on every page) and say so; the
    map is of the sample; Downloads gives the export command instead of a file of every document."""
    from topicvae.analysis import documents

    monkeypatch.setattr(documents, "SAMPLE_DOCS", 40)
    _, runs = folders
    n = Run.load(PRODLDA_RUN, runs).doc_topic.shape[0]
    note = f"This run has {n:,} documents; this page works with a random sample of 40 of them."
    at = open_page("documents", PRODLDA_RUN)
    assert_clean(at)
    assert note in texts(at)
    assert f"Showing 40 of 40 matching documents (of a random sample of 40 of the run's {n:,})" in texts(at)
    assert np.load(runs / PRODLDA_RUN / "doc_map.npy").shape == (40, 2)
    sample_ids = set(documents.document_view(Run.load(PRODLDA_RUN, runs), Corpus.load("sample", folders[0])).ids)
    outside = next(i for i in Corpus.load("sample", folders[0]).docs["id"] if i not in sample_ids)
    at.text_input(key=f"doc_id_{PRODLDA_RUN}").input(outside).run()
    assert f"No document with id {outside!r} in the sample this page holds." in texts(at)
    topics = open_page("topics", PRODLDA_RUN)
    assert_clean(topics)
    assert f"Among a random sample of 40 of the run's {n:,} documents." in texts(topics)
    infer = open_page("infer", PRODLDA_RUN)
    infer.text_area(key="infer_text").input("The Australian cricket team won the test match in Sydney.").run()
    assert_clean(infer)
    assert f"among a random sample of 40 of its {n:,}" in texts(infer)
    assert len(sample_ids) == 40 and set(infer.dataframe[1].value["id"]) <= sample_ids
    trends = open_page("trends", DATED_RUN)
    assert_clean(trends)
    assert "40 of 40 documents (a random sample of the run's) have a date" in texts(trends)
    downloads = open_page("downloads", PRODLDA_RUN)
    assert_clean(downloads)
    assert {b.key for b in downloads.download_button} == {"download_topics"}
    assert f"topicvae export {PRODLDA_RUN} --out {PRODLDA_RUN}-documents.csv" in texts(downloads)


# ---------------------------------------------------------------------------- broken and hostile input
def test_run_whose_corpus_was_deleted_says_so(folders, tmp_path, monkeypatch):
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(tmp_path / "no-corpora"))
    for page in PAGES:
        at = open_page(page, PRODLDA_RUN)
        assert not at.exception, (page, [e.value for e in at.exception])
        if page not in ("overview", "compare", "infer", "drift"):  # (drift: the run has no drift report to show)
            assert any("is not in" in w.value for w in at.warning), page


def test_run_whose_corpus_changed_says_so(folders, tmp_path, monkeypatch):
    corpora, _ = folders
    changed = tmp_path / "corpora"
    shutil.copytree(corpora, changed)
    manifest = json.loads((changed / "sample" / "manifest.json").read_text())
    manifest["checksums"]["bow.npz"] = "0" * 64
    (changed / "sample" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(changed))
    at = open_page("topics", PRODLDA_RUN)
    assert not at.exception
    assert any("changed since run" in w.value for w in at.warning)
    assert "Document texts are unavailable" in texts(at)


def test_a_damaged_metrics_json_is_one_line_on_the_pages_that_read_it_and_the_rest_is_shown(folders):
    _, runs = folders
    (runs / PRODLDA_RUN / "metrics.json").write_text('{"npmi": 0.1,')
    for page in PAGES:
        at = open_page(page, PRODLDA_RUN)
        assert not at.exception, (page, [e.value for e in at.exception])
        said = [e.value for e in at.error] + [w.value for w in at.warning if "metrics.json" in w.value]
        if page in ("overview", "topics", "compare", "downloads"):  # the pages that show metrics or NPMI
            assert len(said) == 1 and "metrics.json is damaged" in said[0], (page, said)
            assert "\n" not in said[0] and f"topicvae evaluate {PRODLDA_RUN}" in said[0], page
            assert (len(at.error) == 1) == (page == "overview"), page  # elsewhere a warning, and the page goes on
        else:
            assert not said, (page, said)
        if page == "topics":  # its coherence computed on the corpus instead
            table = at.dataframe[-1].value
            assert len(table) == 8 and table["coherence"].between(-1, 1).all()
        if page == "compare":
            assert list(at.dataframe[0].value.columns) == [PRODLDA_RUN, LDA_RUN] and len(at.dataframe) == 2
    at = open_page("overview")
    assert sorted(at.dataframe[1].value["run"]) == sorted([DATED_RUN, LDA_RUN, PRODLDA_RUN])  # the others stay


def test_a_damaged_labels_json_is_one_warning_and_the_pages_show_the_default_labels(folders):
    _, runs = folders
    (runs / PRODLDA_RUN / "labels.json").write_text("[1,2")
    defaults = [f"{k}: {' '.join(w)}" for k, w in enumerate(Run.load(PRODLDA_RUN, runs).top_words(3))]
    for page in PAGES:
        at = open_page(page, PRODLDA_RUN)
        assert_clean(at)
        if page not in ("overview", "drift"):  # (no topic shown: the run has no drift report)
            assert [w.value for w in at.warning if "labels.json" in w.value] == [
                f"{runs / PRODLDA_RUN / 'labels.json'} is damaged (Expecting ',' delimiter: line 1 column 5 (char 4)); "
                "fix it, e.g. {\"0\": \"sports\"}, or delete it to get the default labels back. The labels shown "
                "meanwhile are the defaults."], page
    at = open_page("topics", PRODLDA_RUN)
    assert at.dataframe[-1].value["label"].tolist() == defaults
    k = at.selectbox(key=f"topic_{PRODLDA_RUN}").value
    at.text_input(key=f"label_{PRODLDA_RUN}_{k}").input("new").run()
    assert not at.exception and (runs / PRODLDA_RUN / "labels.json").read_text() == "[1,2"  # not written over
    assert at.text_input(key=f"label_{PRODLDA_RUN}_{k}").value == defaults[k]  # the box shows the label in use


@pytest.mark.parametrize("name", ["../runs", "..", "a/b", "/etc"])
def test_a_run_name_that_leaves_the_runs_folder_is_refused(folders, name):
    at = open_page("topics", name)
    assert not at.exception
    assert any("refused" in w.value for w in at.warning)
    assert at.sidebar.selectbox[0].value in (DATED_RUN, LDA_RUN, PRODLDA_RUN)


def test_a_linked_run_folder_outside_the_runs_folder_is_refused(folders, tmp_path):
    _, runs = folders
    outside = tmp_path / "elsewhere"
    shutil.copytree(runs / PRODLDA_RUN, outside)
    (runs / "linked").symlink_to(outside, target_is_directory=True)
    at = open_page("topics", "linked")
    assert not at.exception
    assert any("leads outside" in e.value for e in at.error)


def test_pasted_text_keeps_its_words_when_the_corpus_stripped_mail_headers(folders):
    from topicvae.analysis import documents
    from topicvae.runs.inference import infer_texts

    corpora, runs = folders
    config_file = runs / PRODLDA_RUN / "config.json"
    saved = config_file.read_text()
    config = json.loads(saved)
    config["preprocess"] = {**json.loads((corpora / "sample" / "manifest.json").read_text())["preprocess"],
                            "strip": ["headers", "quotes", "signatures"]}
    try:
        write_config(config_file.parent, config)  # as if saved so
        run = Run.load(PRODLDA_RUN, runs)
        text = "The Australian cricket team won the test match against England in Sydney."
        assert infer_texts(run, [text], corpora_dir=corpora).n_tokens[0] == 8  # no header block: nothing stripped
        plain = documents.infer_text(run, text, corpora_dir=corpora)
        assert plain.n_known[0] > 0 and plain.theta.sum() == pytest.approx(1.0)
        post = documents.infer_text(run, "From: a@b.c\nSubject: cricket\n\n" + text, corpora_dir=corpora)
        assert post.n_known[0] == plain.n_known[0]  # the header block is stripped, the text is kept
    finally:
        write_config(config_file.parent, json.loads(saved))


def test_words_outside_those_the_model_reads_are_not_counted_as_known(folders):
    """ProdLDA's encoder reads the topic vocabulary only: a text of other vocabulary words has the empty
    document's mixture, and the counts (the Infer page's, infer's n_unknown_tokens) say it has no word read."""
    from topicvae.runs.inference import infer_texts

    corpora, runs = folders
    run = Run.load(PRODLDA_RUN, runs)
    read = run.model.words_read()
    assert read is not None and 0 < len(read) < len(run.vocab)
    unread = [w for j, w in enumerate(run.vocab) if j not in set(read.tolist()) and w.isalpha() and len(w) > 3]
    got = infer_texts(run, [" ".join(unread[:5]), ""], corpora_dir=corpora)
    assert got.bow[0].sum() > 0  # in the run's vocabulary...
    assert got.n_known[0] == 0  # ...but none read
    np.testing.assert_allclose(got.theta[0], got.theta[1], atol=1e-6)  # the empty document's mixture
    lda = Run.load(LDA_RUN, runs)
    assert lda.model.words_read() is None
    assert infer_texts(lda, [" ".join(unread[:5])], corpora_dir=corpora).n_known[0] > 0


def test_a_damaged_run_is_named_on_the_overview_and_refused_in_one_line_on_its_pages(folders):
    """A run file missing, truncated, or a config.json that cannot be read: the Overview names each run
    as damaged (the others stay as they were), and a page of such a run says so in one line instead of
    showing what the missing file would have told."""
    corpora, runs = folders

    def truncate(path):
        with open(path, "r+b") as f:
            f.truncate(500)

    damages = {"dmg-no-zstd": lambda p: (p / "z_std.npy").unlink(),
               "dmg-short-topics": lambda p: truncate(p / "topic_word.npy"),
               "dmg-no-model": lambda p: (p / "model.pt").unlink(),
               "dmg-config": lambda p: (p / "config.json").write_text('{"broken')}
    for name, damage in damages.items():
        shutil.copytree(runs / PRODLDA_RUN, runs / name)
        damage(runs / name)
    at = open_page("overview")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == len(damages)
    for name, what in (("dmg-no-zstd", "z_std.npy is missing"), ("dmg-short-topics", "topic_word.npy"),
                       ("dmg-no-model", "model.pt is missing"), ("dmg-config", "config.json")):
        assert any(f"Run **{name}** is damaged" in e and what.replace("_", "\\_") in e for e in errors), (name, errors)
    table = at.dataframe[1].value.set_index("run")
    assert table.loc[PRODLDA_RUN, "files"] == "ok" and table.loc["dmg-config", "files"] == "damaged"
    for name in ("dmg-no-zstd", "dmg-no-model"):
        at = open_page("documents", name)
        assert not at.exception
        assert [e.value for e in at.error] == [
            f"run {name!r} in {runs} is damaged ({'z_std' if 'zstd' in name else 'model'}"
            f"{'.npy' if 'zstd' in name else '.pt'} is missing); `topicvae verify {name}` lists what is wrong, "
            "train it again with --force"]
    at = open_page("topics", "dmg-config")  # a link to it: the picker leaves it out and says why
    assert not at.exception
    assert any("'dmg-config'" in w.value and "is damaged" in w.value and "config.json" in w.value for w in at.warning)
