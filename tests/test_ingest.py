"""End-to-end ingestion: the real archive, the built-in sample, small fixtures, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from topicvae import Corpus, ingest
from topicvae.corpus import list_corpora
from topicvae.errors import ConfigError, CorpusError
from topicvae.interfaces.cli import main
from topicvae.text.settings import VocabSettings

SMALL = VocabSettings(min_df=1, max_df=1.0, min_tokens=1)


def _csv(tmp_path, texts, **cols):
    p = tmp_path / "docs.csv"
    pd.DataFrame({"text": texts, **cols}).to_csv(p, index=False)
    return p


# ------------------------------------------------------------------ the real archive
def test_news_counts_labels_and_split(news_corpus):
    m = news_corpus.manifest["counts"]
    assert m["read"] == 18846
    assert m["read_splits"] == {"train": 11314, "test": 7532}
    assert m["read_labels"] == 20 and news_corpus.docs["label"].nunique() == 20
    assert m["kept"] + sum(m["dropped"].values()) == m["read"]
    assert m["kept"] > 18000
    assert set(news_corpus.docs["split"]) == {"train", "test"}


def test_news_vocabulary_is_clean(news_corpus):
    freq = np.asarray(news_corpus.bow.sum(axis=0)).ravel()
    top20 = {news_corpus.vocab[j] for j in np.argsort(-freq)[:20]}
    assert not top20 & {"subject", "organization", "lines", "from", "writes", "article", "host", "nntp"}
    vocab = set(news_corpus.vocab)
    assert not vocab & {"giz", "bhj", "qax", "mcu", "kjz"}  # uuencode fragments
    assert {"bmw", "ftp", "mhz", "nhl", "pgp"} <= vocab  # real words without vowels stay
    assert news_corpus.manifest["counts"]["docs_with_encoded_lines"] > 0


def test_news_vocabulary_fit_on_train_only(news_corpus):
    train = news_corpus.split_rows("train")
    df_train = np.bincount(news_corpus.bow[train].indices, minlength=news_corpus.n_words)
    # df ≥ 5 held when the vocabulary was chosen; dropping too-short documents afterwards
    # can take a rare word's count just below it
    assert df_train.min() >= 3 and (df_train >= 5).mean() > 0.99
    assert news_corpus.manifest["vocab_fit_on"] == "train"


def test_news_manifest_matches_files(news_corpus):
    loaded = Corpus.load("news", news_corpus.path.parent)
    m = loaded.manifest
    assert loaded.bow.shape == (m["counts"]["kept"], m["counts"]["vocabulary"])
    assert len(loaded.docs) == m["counts"]["kept"] and len(loaded.vocab) == m["counts"]["vocabulary"]
    assert int(loaded.bow.sum()) == m["counts"]["tokens"]
    assert (loaded.docs["n_tokens"].to_numpy() == np.asarray(loaded.bow.sum(axis=1)).ravel()).all()
    assert loaded.verify_checksum()
    assert m["source"]["sha256"] == "affe0286b56e1dcbe469c17121bfb0e5d6052681cca6cde83b16c5101b2fedfc"
    assert m["preprocess"]["strip"] == ["headers", "quotes", "signatures"]


def test_save_load_identical(news_corpus):
    loaded = Corpus.load("news", news_corpus.path.parent)
    assert (loaded.bow != news_corpus.bow).nnz == 0 and loaded.bow.dtype == news_corpus.bow.dtype
    assert loaded.vocab == news_corpus.vocab
    pd.testing.assert_frame_equal(loaded.docs, news_corpus.docs)


# ------------------------------------------------------------------ the sample and small sources
def test_builtin_sample(sample_corpus):
    assert sample_corpus.n_docs > 1000 and sample_corpus.n_words > 1000
    assert "section" in sample_corpus.docs.columns
    assert sample_corpus.manifest["source"]["path"] == "builtin:sample"


def test_parallel_gives_the_same_corpus(tmp_path, sample_corpus):
    two = ingest("builtin:sample", "two", corpora_dir=tmp_path, n_process=2)
    assert two.vocab == sample_corpus.vocab
    assert (two.bow != sample_corpus.bow).nnz == 0


def test_csv_metadata_columns_survive(tmp_path):
    p = _csv(tmp_path, ["apples and pears grow", "pears grow on trees", "trees grow tall"],
             author=["a", "b", "c"], year=[2001, 2002, 2003])
    c = ingest(str(p), "fruit", corpora_dir=tmp_path / "c", vocab=SMALL)
    assert list(c.docs.columns) == ["id", "text", "label", "date", "split", "n_tokens", "author", "year"]
    assert c.docs["author"].tolist() == ["a", "b", "c"]


def test_metadata_named_like_our_columns_gets_a_prefix(tmp_path):
    p = _csv(tmp_path, ["apples and pears grow", "pears grow on trees", "trees grow tall"],
             id=["x", "y", "z"], n_tokens=[7, 8, 9], theta_0=["a", "b", "c"], meta_id=[1, 2, 3])
    c = ingest(str(p), "meta", corpora_dir=tmp_path / "c", vocab=SMALL)
    assert list(c.docs.columns)[6:] == ["meta_id", "meta_n_tokens", "meta_theta_0", "meta_meta_id"]
    assert c.docs["meta_n_tokens"].tolist() == ["7", "8", "9"] and c.docs["meta_id"].tolist() == ["x", "y", "z"]
    assert c.docs["n_tokens"].tolist() == [3, 3, 3]


def test_phrases(tmp_path):
    texts = [f"new york is big and new york is busy {w}" for w in ("alpha", "beta", "gamma", "delta")] * 5
    vocab = VocabSettings(min_df=1, max_df=1.0, min_tokens=1, phrases=True, phrase_min_count=2, phrase_threshold=0.1)
    c = ingest(str(_csv(tmp_path, texts)), "ph", corpora_dir=tmp_path / "c", vocab=vocab)
    assert "new_york" in c.vocab


def test_bad_utf8_is_counted_not_fatal(tmp_path):
    p = tmp_path / "docs.csv"
    p.write_bytes("text\ncaf\xe9 culture thrives here\nplain words stay here\n".encode("latin-1"))
    c = ingest(str(p), "enc", corpora_dir=tmp_path / "c", vocab=SMALL)
    assert c.manifest["counts"]["bad_utf8"] == 1 and c.n_docs == 2


def test_empty_documents_are_dropped_and_counted(tmp_path):
    p = _csv(tmp_path, ["real words live here", "", "   ", "the and of", "more real words"])
    c = ingest(str(p), "e", corpora_dir=tmp_path / "c", vocab=SMALL)
    assert c.n_docs == 2 and c.manifest["counts"]["dropped"]["empty"] == 3


# ------------------------------------------------------------------ bad input
def test_everything_filtered_names_the_filter(tmp_path):
    p = _csv(tmp_path, ["alpha beta", "gamma delta"])
    with pytest.raises(CorpusError, match="--min-df"):
        ingest(str(p), "x", corpora_dir=tmp_path / "c", vocab=VocabSettings(min_df=5))
    with pytest.raises(CorpusError, match="empty after preprocessing"):
        ingest(str(_csv(tmp_path, ["the and of", "1 2 3"])), "x", corpora_dir=tmp_path / "c")
    with pytest.raises(CorpusError, match="--min-tokens"):
        ingest(str(_csv(tmp_path, ["alpha beta", "alpha beta"])), "x", corpora_dir=tmp_path / "c",
               vocab=VocabSettings(min_df=1, max_df=1.0, min_tokens=10))
    assert list_corpora(tmp_path / "c") == []
    assert not any((tmp_path / "c").glob(".*")) if (tmp_path / "c").exists() else True


def test_duplicate_ids(tmp_path):
    p = _csv(tmp_path, ["alpha beta", "gamma delta", "alpha gamma"], doc=["1", "2", "1"])
    from topicvae.text.sources import TableColumns

    with pytest.raises(CorpusError, match="occur more than once.*--dedupe"):
        ingest(str(p), "d", corpora_dir=tmp_path / "c", columns=TableColumns(id="doc"), vocab=SMALL)
    c = ingest(str(p), "d", corpora_dir=tmp_path / "c", columns=TableColumns(id="doc"), vocab=SMALL, dedupe=True)
    assert c.docs["id"].tolist() == ["1", "2"] and c.manifest["counts"]["dropped"]["duplicate_id"] == 1


@pytest.mark.parametrize("name", ["a/b", "..", "../up", "x y", "", ".hidden"])
def test_unsafe_names(tmp_path, name):
    with pytest.raises(ConfigError, match="invalid corpus name"):
        ingest("builtin:sample", name, corpora_dir=tmp_path)


def test_existing_name_needs_force(tmp_path):
    p = _csv(tmp_path, ["alpha beta", "gamma delta"])
    first = ingest(str(p), "d", corpora_dir=tmp_path / "c", vocab=SMALL)
    with pytest.raises(CorpusError, match="already exists.*--force"):
        ingest(str(p), "d", corpora_dir=tmp_path / "c", vocab=SMALL)
    again = ingest(str(_csv(tmp_path, ["alpha beta gamma"])), "d", corpora_dir=tmp_path / "c", vocab=SMALL, force=True)
    assert again.n_docs == 1 and first.n_docs == 2
    assert Corpus.load("d", tmp_path / "c").n_docs == 1


@pytest.mark.parametrize("failing", ["table", "shard"])
def test_failure_leaves_nothing_half_written(tmp_path, monkeypatch, failing):
    import pyarrow.parquet as pq

    from topicvae.corpus import shards
    def boom(*a, **k):
        raise OSError("disk full")

    # the streamed ingest writes docs.parquet a row group at a time, the shards as they fill
    if failing == "table":
        monkeypatch.setattr(pq.ParquetWriter, "write_table", boom)
    else:
        monkeypatch.setattr(shards, "write_shard", boom)
    with pytest.raises(OSError):
        ingest(str(_csv(tmp_path, ["alpha beta", "gamma delta"])), "d", corpora_dir=tmp_path / "c", vocab=SMALL)
    assert list((tmp_path / "c").iterdir()) == []


def test_unknown_corpus_lists_existing(tmp_path, sample_corpus):
    with pytest.raises(CorpusError, match=r"no corpus named 'nope'.*sample"):
        Corpus.load("nope", sample_corpus.path.parent)


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize("args, message", [
    (["ingest", "/no/such/file.csv"], "error: source not found: /no/such/file.csv"),
    (["ingest", "builtin:sample", "--name", "../x"], "error: invalid corpus name"),
    (["corpus-info", "nope"], "error: no corpus named 'nope'"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, message):
    code = main(args + ["--corpora-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(message) and "\n" not in err and "Traceback" not in err


def test_cli_csv_without_text_column(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("body,author\nhello,me\n")
    assert main(["ingest", str(p), "--corpora-dir", str(tmp_path / "c")]) == 2
    assert "columns are: body, author" in capsys.readouterr().err


def test_cli_ingest_info_and_list(tmp_path, capsys):
    p = _csv(tmp_path, ["apples grow on trees", "pears grow on trees", "cars drive on roads"], topic=["f", "f", "c"])
    assert main(["ingest", str(p), "--label-col", "topic", "--min-df", "1", "--max-df", "1.0",
                 "--min-tokens", "1", "--corpora-dir", str(tmp_path / "c"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "corpus 'docs': 3 documents kept of 3 read" in out
    assert main(["corpora", "--corpora-dir", str(tmp_path / "c")]) == 0
    assert "docs" in capsys.readouterr().out
    assert main(["corpus-info", "docs", "--corpora-dir", str(tmp_path / "c")]) == 0
    info = capsys.readouterr().out
    assert "labels (2)" in info and "grow (2)" in info and "document length" in info


def test_help_is_fast_and_light():
    code = ("import sys, topicvae.interfaces.cli as c; c.build_parser().format_help(); "
            "print([m for m in ('torch', 'gensim', 'streamlit', 'spacy', 'pandas') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "topicvae.interfaces.cli", "--help"], capture_output=True, text=True).stdout
    for command in ("quickstart", "ingest", "corpora", "corpus-info"):
        assert command in help_text


def test_manifest_is_json_with_settings(sample_corpus):
    m = json.loads((sample_corpus.path / "manifest.json").read_text())
    assert {"preprocess", "vocab", "counts", "source", "topicvae_version", "seconds", "checksums"} <= set(m)
    # every file of the corpus has its checksum and size, the fitted vectorizer too
    files = {"bow.npz", "vocab.json", "docs.parquet", "vectorizer.json"}
    assert set(m["checksums"]) == files and set(m["sizes"]) == files
    saved = json.loads((sample_corpus.path / "vectorizer.json").read_text())
    assert saved["phrases"] is None and saved["vocabulary"] == sample_corpus.vocab
    assert saved["preprocess"] == m["preprocess"] and saved["vocab"] == m["vocab"]


# ------------------------------------------------------------------ other formats: headerless tables, OCTIS
OCTIS_M10 = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "octis" / "M10.tsv"
THEMES = ["apple pear orchard fruit", "engine wheel road driver", "goal match player score"]
SMALL_ARGS = ["--min-df", "1", "--max-df", "1.0", "--min-tokens", "1", "--quiet"]


def _rows(n: int = 12) -> list[tuple[str, str, str]]:
    """(text, split, label) of ``n`` documents of three themes: the last quarter test, the rest train."""
    return [(THEMES[i % 3], "test" if i >= 3 * n // 4 else "train", f"t{i % 3}") for i in range(n)]


def _ingest_cli(tmp_path, capsys, *args) -> tuple[int, Corpus | None, str]:
    """Run ``topicvae ingest`` in-process: (exit code, the corpus 'c' when one was made, stderr)."""
    corpora = tmp_path / "corpora"
    code = main(["ingest", *map(str, args), "--name", "c", "--corpora-dir", str(corpora), *SMALL_ARGS])
    err = capsys.readouterr().err
    return code, (Corpus.load("c", corpora) if code == 0 else None), err


@pytest.mark.parametrize("sep, suffix", [(",", ".csv"), ("\t", ".tsv")])
def test_cli_headerless_table_by_position(tmp_path, capsys, sep, suffix):
    p = tmp_path / f"docs{suffix}"
    p.write_text("".join(f"{text}{sep}{split}{sep}{label}{sep}id{i}{sep}2020-01-{i + 1:02d}\n"
                         for i, (text, split, label) in enumerate(_rows())))
    code, c, err = _ingest_cli(tmp_path, capsys, p, "--no-header", "--text-col", "0", "--split-col", "1",
                               "--label-col", "2", "--id-col", "3", "--date-col", "4")
    assert code == 0, err
    assert c.manifest["counts"]["read"] == 12  # the first row is a document, not a header
    assert c.manifest["counts"]["splits"] == {"train": 9, "test": 3}
    assert c.docs["id"].tolist()[:2] == ["id0", "id1"] and c.docs["date"][0] == "2020-01-01"
    assert sorted(c.docs["label"].unique()) == ["t0", "t1", "t2"]
    assert c.manifest["source"]["columns"]["header"] is False


def test_cli_numeric_column_names_of_a_header_are_names(tmp_path, capsys):
    p = tmp_path / "docs.csv"
    p.write_text("1,0\n" + "".join(f"x,{text}\n" for text, _, _ in _rows()))  # the text is in the column named 0
    code, c, err = _ingest_cli(tmp_path, capsys, p, "--text-col", "0")
    assert code == 0, err
    assert c.manifest["counts"]["read"] == 12 and c.docs["text"][0] == THEMES[0] and c.docs["1"][0] == "x"


def _octis_rows(n: int = 20) -> str:
    splits = ["train"] * 12 + ["val"] * 4 + ["test"] * 4
    return "".join(f"{THEMES[i % 3]}\t{splits[i]}\t{i % 3}\n" for i in range(n))


@pytest.mark.parametrize("layout", ["folder", "tsv", "folder --format octis", "tsv --format octis"])
def test_cli_octis_folder_and_tsv(tmp_path, capsys, caplog, layout):
    folder = tmp_path / "m10"
    folder.mkdir()
    (folder / "corpus.tsv").write_text(_octis_rows())
    (folder / "vocabulary.txt").write_text("\n".join(sorted(set(" ".join(THEMES).split()))) + "\n")
    (folder / "metadata.json").write_text(json.dumps({"total_documents": 20, "last-training-doc": 12,
                                                      "last-validation-doc": 16}))
    source = folder if layout.startswith("folder") else folder / "corpus.tsv"
    code, c, err = _ingest_cli(tmp_path, capsys, source, *layout.split()[1:])
    assert code == 0, err
    assert "differ" not in caplog.text  # the counts agree with metadata.json
    assert c.manifest["source"]["format"] == "octis" and c.manifest["source"]["sha256"]
    assert c.manifest["counts"]["read_splits"] == {"train": 12, "val": 4, "test": 4}
    assert c.manifest["counts"]["splits"] == {"train": 12, "val": 4, "test": 4}
    assert c.docs["id"].tolist()[:3] == ["0", "1", "2"] and c.docs["label"].nunique() == 3
    assert "vocabulary.txt" not in c.docs["text"].tolist()  # OCTIS' own files are not documents


def test_cli_octis_counts_that_differ_from_metadata_are_a_warning(tmp_path, capsys, caplog):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "corpus.tsv").write_text(_octis_rows())
    (tmp_path / "d" / "metadata.json").write_text(json.dumps({"total_documents": 25, "last-training-doc": 12}))
    code, c, err = _ingest_cli(tmp_path, capsys, tmp_path / "d")
    assert code == 0 and c.manifest["counts"]["read"] == 20
    assert "differ from metadata.json (total_documents 25, read 20)" in caplog.text


@pytest.mark.parametrize("content, args, message", [
    ("a b c,train\nd e f,test\n", ["--no-header", "--text-col", "2"],
     "no column at position 2 for --text-col; the file has 2 column(s), positions 0 to 1"),
    ("a b c,train\nd e f,test\n", ["--no-header", "--text-col", "body"],
     "--no-header names columns by position: --text-col must be a number"),
    ("a b c,train\nd e f,test\n", ["--no-header", "--text-col", "0", "--split-col", "-1"],
     "--split-col must be a number"),
    ("a b c,train\nd e f,test\n", ["--no-header"], "say which holds the text, --text-col 0 for the first column"),
    (_octis_rows() + "g h i\ttrain\n", ["--format", "octis"], "line 21 has 2 tab-separated field(s), expected 3"),
    ("a b c\ttrain\t1\nd e f\ttest\t1\textra\n", ["--format", "octis"], "line 2 has 4 tab-separated field(s)"),
    ("a b c\ttrain\t1\nd e f\tdev\t1\n", ["--format", "octis"], "line 2 has split 'dev'"),
    (_octis_rows(), ["--label-col", "2"], "OCTIS' corpus.tsv has fixed columns (text, split, label); drop --label-col"),
])
def test_cli_bad_positions_and_octis_rows(tmp_path, capsys, content, args, message):
    p = tmp_path / ("d.tsv" if "\t" in content else "d.csv")
    p.write_text(content)
    code, c, err = _ingest_cli(tmp_path, capsys, p, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], err
    assert not (tmp_path / "corpora" / "c").exists()


def test_real_octis_m10_matches_its_metadata(tmp_path, capsys, caplog):
    if not OCTIS_M10.is_file():
        pytest.skip(f"OCTIS' M10.tsv not found at {OCTIS_M10} (it lives in ../shared/corpora/octis)")
    meta = json.loads(OCTIS_M10.with_name("M10.metadata.json").read_text())
    corpora = tmp_path / "corpora"
    assert main(["ingest", str(OCTIS_M10), "--corpora-dir", str(corpora), "--quiet"]) == 0  # detected: octis
    m = json.loads((corpora / "M10" / "manifest.json").read_text())
    assert m["source"]["format"] == "octis" and "differ" not in caplog.text
    train, val = meta["last-training-doc"], meta["last-validation-doc"] - meta["last-training-doc"]
    assert m["counts"]["read"] == meta["total_documents"] == 8355
    assert m["counts"]["read_splits"] == {"train": train, "val": val, "test": meta["total_documents"] - train - val}
    assert m["counts"]["read_labels"] == meta["total_labels"] == 10


# ------------------------------------------------------------------ --language
ITALIAN = [
    "Il gatto della vicina mangiava le mele che erano nelle cucine.",
    "Le mine antiuomo sono state vietate, come le altre armi che colpiscono i civili.",
    "I fiumi e i laghi della regione sono pieni di pesci e di uccelli.",
    "I gatti mangiano i pesci che i pescatori portano dai laghi.",
]


def test_cli_language_it_gives_italian_lemmas_and_stop_words(tmp_path, capsys):
    p = _csv(tmp_path, ITALIAN)
    code, c, err = _ingest_cli(tmp_path, capsys, p, "--language", "it")
    assert code == 0, err
    vocab = set(c.vocab)
    assert {"gatto", "mela", "fiume", "lago", "pesce", "mangiare", "cucina"} <= vocab  # Italian lemmas
    assert not vocab & {"il", "della", "che", "come", "sono", "gatti", "fiumi", "mele"}  # Italian stop words, forms
    # "mine" (mines) is an English stop word, not an Italian one: no English list is applied
    assert "mina" in vocab
    assert c.manifest["preprocess"]["lang"] == "it"
    from topicvae.text.vectorizer import corpus_vectorizer

    saved = corpus_vectorizer(c)  # the saved vectorizer (infer, C_v) tokenizes the Italian way
    assert saved.preprocess.lang == "it"
    assert saved.tokens(["Le mine e i gatti della città"]) == [["mina", "gatto"]]
    # the English default keeps Italian function words and drops "mine"
    code, en, err = _ingest_cli(tmp_path, capsys, p, "--force")
    assert code == 0, err
    assert {"che", "della", "sono"} <= set(en.vocab) and "mine" not in en.vocab


def test_language_error_names_the_supported_ones():
    from topicvae.text.languages import supported_languages
    from topicvae.text.settings import PreprocessSettings

    assert {"en", "it", "de", "fr", "es"} <= set(supported_languages())
    with pytest.raises(ConfigError, match=r"--language 'xx' is not supported.*supported: .*\bit\b"):
        PreprocessSettings(lang="xx")
    assert PreprocessSettings(lang="am", lemmatize=False).lang == "am"  # no lemma table: fine without lemmas


DBPEDIA_IT = OCTIS_M10.parent / "DBPedia_IT.tsv"


def test_dbpedia_it_vocabulary_is_italian(tmp_path, capsys):
    if not DBPEDIA_IT.is_file():
        pytest.skip(f"OCTIS' DBPedia_IT.tsv not found at {DBPEDIA_IT} (it lives in ../shared/corpora/octis)")
    import spacy

    corpora = tmp_path / "corpora"
    assert main(["ingest", str(DBPEDIA_IT), "--format", "octis", "--language", "it", "--name", "it",
                 "--corpora-dir", str(corpora), "--quiet"]) == 0, capsys.readouterr().err
    c = Corpus.load("it", corpora)
    freq = np.asarray(c.bow.sum(axis=0)).ravel()
    top = [c.vocab[j] for j in np.argsort(-freq)[:200]]
    english = spacy.blank("en").Defaults.stop_words
    italian = spacy.blank("it").Defaults.stop_words
    assert not set(top) & italian
    # no English stop word is Italian text here: the only ones among the 200 are the English
    # function words of band, film and album titles ("The Beatles"), which an Italian list keeps
    assert set(top) & english <= {"the", "and", "of"}
    assert {"squadra", "film", "album"} & set(top[:50])


def test_default_corpus_names():
    from topicvae.interfaces.cli import _default_name

    assert _default_name("data/20news-bydate.tar.gz") == "20news-bydate"
    assert _default_name("octis/M10/corpus.tsv") == "M10"  # OCTIS names the dataset by its folder
    assert _default_name("octis/M10.tsv") == "M10" and _default_name("builtin:sample") == "sample"
    assert _default_name("my docs (v2).csv") == "my-docs-v2"


def test_a_partition_tokenizer_that_forgets_its_cache_gives_the_same_tokens(monkeypatch):
    """Past TOKENIZER_CACHE chunks a worker's tokenizer starts afresh: memory bounded, tokens the same."""
    from topicvae.text import tokenize
    from topicvae.text.settings import PreprocessSettings

    texts = ["Cats ran quickly over the gardens.", "Gardens of cats; dogs ran too!", "new words arrive here"]
    settings = PreprocessSettings(min_token_len=2)

    def tokens(result):
        return [[result["types"][j] for j in result["ids"][result["offsets"][i]:result["offsets"][i + 1]]]
                for i in range(len(result["offsets"]) - 1)]

    monkeypatch.setattr(tokenize, "_partition_tokenizer", None)
    plain = [tokens(tokenize.tokenize_partition(texts[i:], settings, sequences=True)) for i in range(3)]
    monkeypatch.setattr(tokenize, "_partition_tokenizer", None)
    monkeypatch.setattr(tokenize, "TOKENIZER_CACHE", 2)
    forgetting = [tokens(tokenize.tokenize_partition(texts[i:], settings, sequences=True)) for i in range(3)]
    assert tokenize._partition_tokenizer[1].cache == {}  # it forgot
    assert forgetting == plain and plain[0][0] == ["cat", "run", "quickly", "garden"]


def test_a_partitions_types_are_numbered_as_numpy_unique_numbers_them():
    """tokenize.renumbered, the linear-time numbering of a partition's token ids, against np.unique."""
    from topicvae.text.tokenize import renumbered

    rng = np.random.default_rng(0)
    for n, size in ((1, 7), (6, 0), (1000, 5000), (50_000, 200_000)):
        ids = rng.integers(0, n, size=size).astype(np.int32)
        used, local = renumbered(ids, n)
        expected_used, expected_local = np.unique(ids, return_inverse=True)
        assert np.array_equal(used, expected_used) and np.array_equal(local, expected_local.ravel())
        assert local.dtype == np.int32 and np.array_equal(used[local], ids)


def test_the_kinds_of_a_column_are_those_of_its_values_one_by_one():
    """corpus._kinds (from the values' types, for a partition's metadata column) is the set of corpus._kind."""
    import numpy as np

    from topicvae.corpus import _kind, _kinds

    values = [1, 2.5, True, np.int64(3), np.bool_(False), "x", None, [1], {"a": 1}, np.float32(1), b"z"]
    assert _kinds(values) == {_kind(v) for v in values} == {"number", "bool", "str", "NoneType", "list", "dict",
                                                              "bytes"}
