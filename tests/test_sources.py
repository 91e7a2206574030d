"""Readers: every source format, labels and splits from folders, and bad input."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import pandas as pd
import pytest

from topicvae.errors import SourceError
from topicvae.text.sources import TableColumns, detect_format, read_source


def _docs(source, **kw):
    return list(read_source(str(source), **kw))


def test_csv_columns_and_metadata(tmp_path):
    p = tmp_path / "d.csv"
    pd.DataFrame({"body": ["first text", "second text"], "doc": ["a", "b"], "cls": ["x", "y"],
                  "when": ["2020-01-01", "2021-05-06"], "author": ["ann", "bob"]}).to_csv(p, index=False)
    docs = _docs(p, columns=TableColumns(text="body", id="doc", label="cls", date="when"))
    assert [d.id for d in docs] == ["a", "b"]
    assert [d.label for d in docs] == ["x", "y"]
    assert docs[1].date == "2021-05-06"
    assert docs[0].meta == {"author": "ann"}


def test_tsv_and_default_ids(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("text\tgroup\nhello world\tg1\nanother one\tg2\n")
    docs = _docs(p)
    assert [d.id for d in docs] == ["0", "1"]
    assert docs[1].text == "another one" and docs[1].meta == {"group": "g2"}


def test_csv_without_text_column_lists_columns(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("body,author\nhi,me\n")
    with pytest.raises(SourceError, match=r"no text column 'text'; columns are: body, author"):
        _docs(p)


def test_jsonl_and_malformed_line_number(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "one doc", "label": "a"}\n\n{"text": "two", "label": "b"}\n')
    docs = _docs(p, columns=TableColumns(label="label"))
    assert [d.label for d in docs] == ["a", "b"]
    p.write_text('{"text": "one doc"}\n{"text": "two"\n')
    with pytest.raises(SourceError, match="line 2 is not valid JSON"):
        _docs(p)


def test_parquet(tmp_path):
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["a b c", "d e f"], "score": [1.5, 2.5]}).to_parquet(p)
    docs = _docs(p)
    assert docs[1].meta == {"score": 2.5}


def test_folder_labels_from_subfolders(tmp_path):
    for label, name, text in [("sport", "1.txt", "goal"), ("sport", "2.txt", "match"), ("tech", "3.txt", "chip")]:
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / name).write_text(text)
    (tmp_path / "notes.md").write_text("ignored: not a text file")
    docs = _docs(tmp_path)
    assert [(d.id, d.label) for d in docs] == [("sport/1.txt", "sport"), ("sport/2.txt", "sport"), ("tech/3.txt", "tech")]


def _archive_members():
    return {"data-train/pos/a.txt": b"good film", "data-train/neg/b.txt": b"bad film",
            "data-test/pos/c.txt": b"great \xe9 film"}  # \xe9 is Latin-1, not UTF-8


def test_zip_archive_splits_labels_and_bad_utf8(tmp_path):
    p = tmp_path / "d.zip"
    with zipfile.ZipFile(p, "w") as z:
        for name, data in _archive_members().items():
            z.writestr(name, data)
    docs = {d.id: d for d in _docs(p)}
    assert docs["data-test/pos/c.txt"].split == "test" and docs["data-test/pos/c.txt"].label == "pos"
    assert docs["data-train/neg/b.txt"].split == "train"
    assert docs["data-test/pos/c.txt"].bad_utf8 and "\ufffd" in docs["data-test/pos/c.txt"].text
    assert not docs["data-train/neg/b.txt"].bad_utf8


def test_tar_archive_with_wrapping_folder(tmp_path):
    p = tmp_path / "d.tar.gz"
    with tarfile.open(p, "w:gz") as t:
        for name, data in {"wrap/pos/a.txt": b"x y", "wrap/neg/b.txt": b"z w"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    docs = _docs(p)
    assert sorted(d.label for d in docs) == ["neg", "pos"]
    assert all(d.split is None for d in docs)


def test_real_archive_labels_and_splits(news_archive):
    docs = _docs(news_archive)
    assert len(docs) == 18846
    assert sum(d.split == "train" for d in docs) == 11314
    assert sum(d.split == "test" for d in docs) == 7532
    assert len({d.label for d in docs}) == 20
    assert 0 < sum(d.bad_utf8 for d in docs) < 200  # a few posts hold Latin-1 bytes


def test_builtin_sample():
    docs = _docs("builtin:sample")
    assert sum(d.label == "news" for d in docs) == 300
    assert len(docs) > 1000 and len({d.label for d in docs}) > 50
    assert all(d.text.strip() for d in docs)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "source not found"),
    (lambda p: p.write_bytes(b"\x00\x01\x02binary"), "binary file"),
    (lambda p: p.write_text("plain"), "supported sources"),
])
def test_unreadable_sources(tmp_path, make, message):
    p = tmp_path / "thing.bin"
    make(p)
    with pytest.raises(SourceError, match=message):
        detect_format(str(p))


def test_unknown_builtin():
    with pytest.raises(SourceError, match="builtin:sample"):
        _docs("builtin:nope")


def test_broken_zip(tmp_path):
    p = tmp_path / "d.zip"
    p.write_bytes(b"not a zip at all")
    with pytest.raises(SourceError, match="not a valid zip"):
        _docs(p)


def test_json_array_line_is_rejected(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps(["a", "b"]) + "\n")
    with pytest.raises(SourceError, match="line 1 is not a JSON object"):
        _docs(p)


# ------------------------------------------------------------------ damaged and unusual input
# Each test reproduces a crash or a silent loss found by fuzzing (tests/test_fuzz.py,
# benchmarks/fuzz.py): every reader raises SourceError (one line) or reads the data.
def _zip(path, members, encrypted=(), compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)  # a ZipInfo: writestr("") fails in zipfile itself
            info.compress_type = compression
            z.writestr(info, data)
            if name in encrypted:
                z.getinfo(name).flag_bits |= 0x1  # written into the central directory at close
    return path


def _tar(path, members, mode="w:gz"):
    with tarfile.open(path, mode) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_deeply_nested_json_line_is_a_source_error(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "fine"}\n{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(SourceError, match="line 2 nests arrays or objects too deeply") as e:
        _docs(p)
    _one_line(e)


def test_jsonl_row_without_the_id_field_names_its_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "doc": "1"}\n\n{"text": "b"}\n')
    with pytest.raises(SourceError, match=r"line 3 has no 'doc' \(the --id-col\)"):
        _docs(p, columns=TableColumns(id="doc"))


def test_csv_row_with_an_empty_id_names_its_row(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,doc\na,1\nb,\n")
    with pytest.raises(SourceError, match="row 2 has no 'doc'"):
        _docs(p, columns=TableColumns(id="doc"))


def test_json_lone_surrogate_escapes_become_replacement_characters(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "half \\ud800 pair \\ud83d\\ude00", "\\udc80k": "\\udfff"}\n')
    (doc,) = _docs(p)
    assert doc.text == "half \ufffd pair \U0001f600" and doc.bad_utf8
    assert doc.meta == {"\ufffdk": "\ufffd"}


def test_json_integer_too_long_to_convert_is_a_source_error(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "n": ' + "7" * 5000 + "}\n")
    with pytest.raises(SourceError, match="line 1 is not valid JSON"):
        _docs(p)


def test_encrypted_zip_member_is_a_source_error(tmp_path):
    p = _zip(tmp_path / "d.zip", {"a.txt": b"open", "b.txt": b"secret"}, encrypted={"b.txt"})
    with pytest.raises(SourceError, match="'b.txt' of .* is encrypted; extract the archive with its password"):
        _docs(p)


@pytest.mark.parametrize("damage", [lambda b: b[:len(b) // 2], lambda b: b.replace(b"hello world", b"hellx world")])
def test_damaged_zip_is_a_source_error(tmp_path, damage):
    p = _zip(tmp_path / "d.zip", {"a.txt": b"hello world " * 50})
    p.write_bytes(damage(p.read_bytes()))
    with pytest.raises(SourceError, match="not a valid zip|damaged, truncated or unsupported") as e:
        _docs(p)
    _one_line(e)


def test_zip_member_with_an_empty_name(tmp_path):
    p = _zip(tmp_path / "d.zip", {"": b"no name", "a.txt": b"named"})
    assert [d.id for d in _docs(p)] == ["a.txt"]


def test_zip_named_tar_gz_is_read_as_zip(tmp_path):
    p = _zip(tmp_path / "d.tar.gz", {"a.txt": b"zipped"})
    assert [d.text for d in _docs(p)] == ["zipped"]


@pytest.mark.parametrize("mode, suffix", [("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz"),
                                          ("w", ".tar")])
def test_truncated_tar_is_a_source_error(tmp_path, mode, suffix):
    p = _tar(tmp_path / f"d{suffix}", {f"g/{i}.txt": (f"document {i} " * 200).encode() for i in range(40)}, mode)
    p.write_bytes(p.read_bytes()[:p.stat().st_size // 2])
    with pytest.raises(SourceError, match="damaged, truncated or unsupported|damaged or truncated one") as e:
        _docs(p)
    _one_line(e)


def test_tar_with_a_damaged_header_after_the_first_member(tmp_path):
    """tarfile stops listing at a bad header quietly; the members after it must not vanish."""
    p = _tar(tmp_path / "d.tar", {"a.txt": b"first", "b.txt": b"second", "c.txt": b"third"}, "w")
    data = bytearray(p.read_bytes())
    data[1024 + 148] ^= 0xFF  # the checksum field of the second header
    p.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="bad member header at byte 1024"):
        _docs(p)


def test_truncated_real_archive_is_a_source_error(tmp_path, news_archive):
    p = tmp_path / "20news-bydate.tar.gz"
    with open(news_archive, "rb") as f:
        p.write_bytes(f.read(5_000_000))
    with pytest.raises(SourceError, match="damaged, truncated or unsupported") as e:
        _docs(p)
    _one_line(e)


def test_not_an_archive_is_one_line(tmp_path):
    p = tmp_path / "d.tar.gz"
    p.write_bytes(b"plain words, not gzip")
    with pytest.raises(SourceError, match="not a tar or zip archive") as e:
        _docs(p)
    _one_line(e)


@pytest.mark.parametrize("make", [_zip, _tar])
def test_member_names_outside_the_archive_become_plain_ids(tmp_path, make):
    members = {"../evil.txt": b"up", "/etc/abs.txt": b"absolute", "a/../../b.txt": b"both", "./c.txt": b"dot",
               "..": b"no name"}
    suffix = ".zip" if make is _zip else ".tar.gz"
    docs = _docs(make(tmp_path / f"d{suffix}", members))
    assert sorted(d.id for d in docs) == ["a/b.txt", "c.txt", "etc/abs.txt", "evil.txt"]
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_latin1_names_in_a_tar_are_kept(tmp_path):
    p = _tar(tmp_path / "d.tar", {"caf\udce9/men\udcfa.txt": b"latin-1 names", "b.txt": b"b"}, "w")  # bytes e9, fa
    _, doc = _docs(p)
    assert doc.id == "caf\\xe9/men\\xfa.txt" and doc.id.encode("utf-8")
    assert doc.text == "latin-1 names"


def test_latin1_names_in_a_folder_are_kept(tmp_path):
    root = tmp_path / "docs"
    (root / "caf\udce9").mkdir(parents=True)  # the folder name is the byte e9, not UTF-8
    (root / "caf\udce9" / "na\udcefve.txt").write_bytes(b"latin-1 names")
    (root / "plain.txt").write_bytes(b"plain")
    docs = _docs(root)
    assert [d.id for d in docs] == ["caf\\xe9/na\\xefve.txt", "plain.txt"]
    assert docs[0].label == "caf\\xe9"


def test_utf16_and_utf32_files_are_read_and_binary_files_reported(tmp_path, caplog):
    """10 Latin-1, 10 cp1252, 10 UTF-16 files and 2 binary ones: 30 documents and a warning about 2."""
    text = "Café déjà vu — “quoted” naïve text"
    for i in range(10):
        (tmp_path / f"latin{i}.txt").write_bytes(text.replace("—", "-").replace("“", '"').replace("”", '"')
                                                 .encode("latin-1"))
        (tmp_path / f"cp{i}.txt").write_bytes(text.encode("cp1252"))
        (tmp_path / f"utf16_{i}.txt").write_bytes(text.encode("utf-16" if i < 5 else "utf-16-le"))  # 5 without BOM
    (tmp_path / "utf32.txt").write_bytes(text.encode("utf-32"))
    (tmp_path / "image").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01")
    (tmp_path / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    with caplog.at_level("WARNING", logger="topicvae"):
        docs = {d.id: d for d in _docs(tmp_path)}
    assert len(docs) == 31
    assert all(docs[f"utf16_{i}.txt"].text == text and not docs[f"utf16_{i}.txt"].bad_utf8 for i in range(10))
    assert docs["utf32.txt"].text == text
    assert docs["latin0.txt"].bad_utf8 and docs["cp0.txt"].bad_utf8  # not UTF-8: replaced, counted
    (message,) = [r.getMessage() for r in caplog.records]
    assert "2 file(s) skipped: 2 binary (first: 'image')" in message


def test_archive_of_only_binary_files_says_so(tmp_path):
    p = _zip(tmp_path / "d.zip", {"a.txt": b"\x00\x01\x02", "b.txt": b"\x00\xff"})
    with pytest.raises(SourceError, match=r"no document read; 2 file\(s\) skipped: 2 binary"):
        _docs(p)


def test_utf16_tables(tmp_path):
    csv_path, jsonl_path = tmp_path / "d.csv", tmp_path / "d.jsonl"
    csv_path.write_bytes("text,author\nnaïve words,zoë\n".encode("utf-16"))
    jsonl_path.write_bytes('{"text": "naïve words"}\n{"text": "more"}\n'.encode("utf-16-le"))
    assert [(d.text, d.meta) for d in _docs(csv_path)] == [("naïve words", {"author": "zoë"})]
    assert [d.text for d in _docs(jsonl_path)] == ["naïve words", "more"]


def test_nul_bytes_in_csv_cells_are_removed_with_one_warning(tmp_path, caplog):
    p = tmp_path / "d.csv"
    p.write_bytes(b"text,author\nhel\x00lo world,a\x00n\nplain,bob\n" + b"late,x\x00\n" * 2000)
    with caplog.at_level("WARNING", logger="topicvae"):
        docs = _docs(p)
    assert len(docs) == 2002 and docs[0].text == "hello world" and docs[0].meta == {"author": "an"}
    assert docs[-1].meta == {"author": "x"}
    (message,) = [r.getMessage() for r in caplog.records]
    assert "removed NUL characters from 2002 cell(s)" in message


def test_binary_file_named_csv_is_refused(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="looks like a binary file, not CSV text"):
        _docs(p)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "archive"])
def test_folder_given_where_a_file_is_expected(tmp_path, fmt):
    (tmp_path / f"d.{fmt}").mkdir()
    with pytest.raises(SourceError, match="is a folder, not a"):
        _docs(tmp_path / f"d.{fmt}", fmt=fmt)


def test_file_given_as_a_folder(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text\na\n")
    with pytest.raises(SourceError, match="is a file, not a folder"):
        _docs(p, fmt="folder")


def test_folder_named_like_a_table_without_text_files(tmp_path):
    (tmp_path / "d.csv" / "sub").mkdir(parents=True)
    with pytest.raises(SourceError, match="no text files"):
        _docs(tmp_path / "d.csv")


def test_path_with_a_nul_is_a_source_error():
    with pytest.raises(SourceError, match="source not found"):
        _docs("docs\x00.csv")


def test_folder_with_a_symlink_loop_and_a_dangling_link(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing")
    assert [d.id for d in _docs(tmp_path)] == ["a.txt"]


def test_parquet_non_string_column_names_and_binary_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": pa.array([b"caf\xc3\xa9", None]), "0": [1, 2]}), p)
    docs = _docs(p)
    assert [d.text for d in docs] == ["café", ""] and docs[0].meta == {"0": 1}


def test_five_megabyte_one_line_document(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"word " * 1_000_000)
    (doc,) = _docs(tmp_path)
    assert len(doc.text) == 5_000_000


# ------------------------------------------------------------------ through ingest: the saved corpus
SMALL = dict(min_df=1, max_df=1.0, min_tokens=1)


def test_mixed_type_metadata_is_saved_as_text_and_round_trips(tmp_path):
    from topicvae import Corpus, ingest
    from topicvae.text.settings import VocabSettings

    p = tmp_path / "d.jsonl"
    rows = [{"text": "apples grow on trees", "score": "", "tags": ["a", "b"], "n": 2 ** 70, "year": 2001},
            {"text": "pears grow on trees", "score": 1.5, "tags": {"k": 1}, "n": 1, "year": 2002},
            {"text": "trees grow tall", "score": None, "tags": None, "n": None, "year": 2003}]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    c = ingest(str(p), "mixed", corpora_dir=tmp_path / "c", vocab=VocabSettings(**SMALL))
    loaded = Corpus.load("mixed", tmp_path / "c")
    assert loaded.docs["score"].tolist()[:2] == ["", "1.5"] and pd.isna(loaded.docs["score"][2])
    assert loaded.docs["tags"].tolist()[:2] == ['["a", "b"]', '{"k": 1}']
    assert loaded.docs["n"].tolist()[:2] == [str(2 ** 70), "1"]
    assert loaded.docs["year"].tolist() == [2001, 2002, 2003]  # one type: kept as numbers
    pd.testing.assert_frame_equal(loaded.docs, c.docs)


def test_latin1_file_and_folder_names_ingest(tmp_path):
    from topicvae import Corpus, ingest
    from topicvae.text.settings import VocabSettings

    root = tmp_path / "caf\udce9"  # the source folder's own name is not UTF-8 either
    (root / "sp\udcf6rt").mkdir(parents=True)
    (root / "sp\udcf6rt" / "m\udce4tch.txt").write_bytes("goal scored in the match".encode("latin-1"))
    (root / "plain.txt").write_bytes(b"plain words here")
    ingest(str(root), "latin", corpora_dir=tmp_path / "c", vocab=VocabSettings(**SMALL))
    loaded = Corpus.load("latin", tmp_path / "c")
    assert loaded.docs["id"].tolist() == ["plain.txt", "sp\\xf6rt/m\\xe4tch.txt"]
    assert loaded.manifest["source"]["path"].endswith("caf\\xe9")


def test_five_megabyte_one_line_document_ingests(tmp_path):
    from topicvae import ingest
    from topicvae.text.settings import VocabSettings

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "big.txt").write_bytes(b"alpha beta gamma delta " * 220_000)  # 5 MB, one line
    (tmp_path / "docs" / "small.txt").write_bytes(b"alpha beta")
    c = ingest(str(tmp_path / "docs"), "big", corpora_dir=tmp_path / "c", vocab=VocabSettings(**SMALL))
    assert c.n_docs == 2 and c.docs["n_tokens"].max() == 880_000


def test_parquet_string_that_is_not_utf8_is_a_source_error(tmp_path):
    """Found by benchmarks/fuzz.py --seed 1: a damaged Parquet page decoded only when pandas iterates."""
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["caf\u00e9 one", "two"]}).to_parquet(p, compression=None)
    p.write_bytes(p.read_bytes().replace("caf\u00e9".encode(), b"caf\xc3\x28", 1))  # an invalid UTF-8 pair
    with pytest.raises(SourceError, match="cannot read .* as parquet: 'utf-8' codec can't decode") as e:
        _docs(p)
    _one_line(e)


# ------------------------------------------------------------------ headerless tables, OCTIS
def test_headerless_csv_names_columns_by_position(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("first text,a,x\nsecond text,b,y\n")
    docs = _docs(p, columns=TableColumns(text="0", id="01", header=False))  # "01" is position 1
    assert [d.text for d in docs] == ["first text", "second text"] and [d.id for d in docs] == ["a", "b"]
    assert docs[0].meta == {"2": "x"}


def test_no_header_is_for_csv_and_tsv_only(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a"}\n')
    with pytest.raises(SourceError, match="--no-header is for CSV and TSV files; a jsonl source"):
        _docs(p, columns=TableColumns(text="0", header=False))


def _octis_folder(root, rows="apple pear\ttrain\t0\ncar road\tval\t1\nbus wheel\ttest\t1\n"):
    root.mkdir()
    (root / "corpus.tsv").write_text(rows)
    (root / "vocabulary.txt").write_text("apple\npear\n")
    (root / "indexes.txt").write_text("0\n1\n2\n")
    return root


def test_octis_detection(tmp_path):
    folder = _octis_folder(tmp_path / "ds")
    assert detect_format(str(folder)) == "octis"
    assert detect_format(str(folder / "corpus.tsv")) == "octis"
    # read without a header, the user names the columns: a plain table
    assert detect_format(str(folder / "corpus.tsv"), TableColumns(text="0", header=False)) == "tsv"
    with_header = tmp_path / "h.tsv"
    with_header.write_text("text\tsplit\tlabel\napple pear\ttrain\t0\n")
    assert detect_format(str(with_header)) == "tsv"
    other_split = tmp_path / "o.tsv"
    other_split.write_text("apple pear\ttrain\t0\ncar road\tdev\t1\n")
    assert detect_format(str(other_split)) == "tsv"  # not OCTIS' splits: not guessed


def test_folder_with_corpus_tsv_and_documents_is_ambiguous(tmp_path):
    folder = _octis_folder(tmp_path / "ds")
    (folder / "notes.txt").write_text("a document of its own")
    with pytest.raises(SourceError, match="holds corpus.tsv .* and 1 other text file.*pass --format octis or "
                                          "--format folder"):
        detect_format(str(folder))
    assert len(_docs(folder, fmt="octis")) == 3
    assert len(_docs(folder, fmt="folder")) == 3  # notes, vocabulary and indexes: what the user asked for


def test_octis_rows_quotes_missing_labels_and_val(tmp_path):
    p = tmp_path / "c.tsv"
    p.write_text('"say ""hi"" now"\ttrain\n\nplain text\tval\r\nlast one\ttest\n')
    docs = _docs(p, fmt="octis")
    assert [d.text for d in docs] == ['say "hi" now', "plain text", "last one"]
    assert [d.split for d in docs] == ["train", "val", "test"] and {d.label for d in docs} == {None}
    assert [d.id for d in docs] == ["0", "1", "2"]


@pytest.mark.parametrize("rows, message", [
    ("a\ttrain\t0\nb\ttest\n", r"c.tsv: line 2 has 2 tab-separated field\(s\), expected 3"),
    ("a\n", r"line 1 has 1 tab-separated field\(s\), expected 3"),
    ("a\ttrain\t0\n\nb\tTrain\t0\n", r"line 3 has split 'Train'; OCTIS' splits are train, val and test"),
    ("\n\n", "no rows found"),
])
def test_octis_bad_rows_name_their_line(tmp_path, rows, message):
    p = tmp_path / "c.tsv"
    p.write_text(rows)
    with pytest.raises(SourceError, match=message):
        _docs(p, fmt="octis")


def test_octis_folder_without_corpus_tsv(tmp_path):
    (tmp_path / "ds").mkdir()
    with pytest.raises(SourceError, match="no corpus.tsv in folder"):
        _docs(tmp_path / "ds", fmt="octis")


def test_octis_metadata_that_is_not_json_is_a_warning(tmp_path, caplog):
    folder = _octis_folder(tmp_path / "ds")
    (folder / "metadata.json").write_text("{not json")
    assert len(_docs(folder)) == 3
    assert "metadata.json: not a JSON object; the document counts were not checked" in caplog.text


# ------------------------------------------------------------------ archives that unpack to far more than their size
def _bomb_members(n_bytes: int) -> dict:
    """Two text members that together unpack to about ``n_bytes``: repeated text compresses ~1000 times."""
    line = b"apple banana cherry grape melon lemon\n"
    body = line * (n_bytes // (2 * len(line)))
    return {"docs/a.txt": body, "docs/b.txt": body}


@pytest.mark.parametrize("make", [lambda p, m: _zip(p / "bomb.zip", m, compression=zipfile.ZIP_DEFLATED), lambda p, m: _tar(p / "bomb.tar.gz", m)],
                         ids=["zip", "tar.gz"])
def test_an_archive_unpacking_past_its_allowance_is_refused_and_one_within_is_read(make, tmp_path, monkeypatch):
    from topicvae.text import sources

    path = make(tmp_path, _bomb_members(3 << 20))
    assert sources.MAX_UNPACK_RATIO * path.stat().st_size < 1 << 20  # the ratio alone would refuse it
    monkeypatch.setattr(sources, "MIN_UNPACK_BYTES", 1 << 20)
    with pytest.raises(SourceError, match="unpacks to more than 1 MB of text.*zip bomb") as e:
        _docs(path)
    _one_line(e)
    monkeypatch.setattr(sources, "MIN_UNPACK_BYTES", 4 << 20)  # the same archive, within the allowance
    assert [d.id for d in _docs(path)] == ["a.txt", "b.txt"]


def test_ingest_of_a_zip_bomb_is_one_line_and_writes_no_corpus(tmp_path, monkeypatch, capsys):
    from topicvae.interfaces.cli import main
    from topicvae.text import sources

    _zip(tmp_path / "bomb.zip", _bomb_members(3 << 20), compression=zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(sources, "MIN_UNPACK_BYTES", 1 << 20)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPICVAE_CORPORA_DIR", raising=False)
    code = main(["ingest", "bomb.zip", "--name", "c"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "zip bomb" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "corpora" / "c").exists()


def test_quoting_is_for_csv_and_tsv_only(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a b c"}\n')
    with pytest.raises(SourceError, match="--quoting is for CSV and TSV files, not jsonl"):
        list(read_source(str(p), columns=TableColumns(quoting="none")))


def test_quoted_line_breaks_are_kept_where_lines_do_not_hold_one_row_each(tmp_path):
    """auto reads a file whose quoted fields hold line breaks (and delimiters) as quoted fields."""
    from topicvae.text.sources import ReadReport

    p = tmp_path / "d.csv"
    p.write_text('text,label\n"first line\nsecond line, with a comma",a\nplain row,b\n')
    report = ReadReport()
    docs = list(read_source(str(p), columns=TableColumns(label="label"), report=report))
    assert [d.label for d in docs] == ["a", "b"] and docs[0].text == "first line\nsecond line, with a comma"
    assert (report.quoting, report.rows_over_lines) == ("csv", 1)


def test_a_one_column_csv_of_quoted_paragraphs_is_read_as_quoted(tmp_path):
    """auto does not take quoted line breaks in a one-column file for a stray quote: no comma shows
    rows swallowed, and quoted paragraphs are the usual reason for them."""
    from topicvae.text.sources import ReadReport

    p = tmp_path / "d.csv"
    p.write_text('text\n"first paragraph\nsecond"\n"doc two"\n"doc three\nmore"\n')
    report = ReadReport()
    docs = list(read_source(str(p), report=report))
    assert [d.text for d in docs] == ["first paragraph\nsecond", "doc two", "doc three\nmore"]
    assert (report.quoting, report.rows_over_lines) == ("csv", 2)


# ------------------------------------------------------------------ tables read a chunk at a time
@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3 rows (and pre-scan blocks of 16 characters), so that small files span many."""
    from topicvae.text import sources

    monkeypatch.setattr(sources, "_RECORDS", 3)
    monkeypatch.setattr(sources, "_BLOCK", 16)


def test_csv_read_in_chunks_gives_the_rows_of_the_whole_file(tmp_path, small_chunks, caplog):
    from topicvae.text.sources import ReadReport

    p = tmp_path / "d.csv"
    rows = [f'"doc {i}\nsecond line",{i},x\x00' if i % 4 == 0 else f"doc {i},{i},x" for i in range(20)]
    p.write_text("text,n,tag\n" + "\n".join(rows) + "\n")
    report = ReadReport()
    with caplog.at_level("WARNING", logger="topicvae"):
        docs = list(read_source(str(p), report=report))
    expected = pd.read_csv(p, dtype=str)
    assert [d.text for d in docs] == expected["text"].tolist() and len(docs) == 20
    assert [d.meta["n"] for d in docs] == [str(i) for i in range(20)] and docs[0].meta["tag"] == "x"
    assert [d.id for d in docs] == [str(i) for i in range(20)]
    assert (report.quoting, report.rows_over_lines) == ("csv", 5)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "removed NUL characters from 5 cell(s)" in message


def test_auto_quoting_sees_a_stray_quote_past_the_first_chunk(tmp_path, small_chunks):
    """The pre-scan reads the whole file: rows swallowed late in it still make each line one row."""
    from topicvae.text.sources import ReadReport

    p = tmp_path / "d.csv"
    lines = [f"plain doc {i},a" for i in range(12)] + ['"stray quote,b', "swallowed,c", 'closing" here,d']
    p.write_text("text,label\n" + "\n".join(lines) + "\n")
    report = ReadReport()
    docs = list(read_source(str(p), columns=TableColumns(label="label"), report=report))
    assert report.quoting == "none" and len(docs) == 15 and docs[12].text == '"stray quote'
    report = ReadReport()
    docs = list(read_source(str(p), columns=TableColumns(label="label", quoting="csv"), report=report))
    assert report.quoting == "csv" and len(docs) == 13 and report.rows_over_lines == 1


def test_a_csv_error_past_the_first_chunk_is_one_line(tmp_path, small_chunks):
    p = tmp_path / "d.csv"
    p.write_text("text,n\n" + "".join(f"doc {i},{i}\n" for i in range(10)) + "bad,row,extra\n")
    with pytest.raises(SourceError, match=r"cannot read .* as csv: .*Expected 2 fields in line 12") as e:
        _docs(p)
    _one_line(e)


def test_jsonl_column_met_only_past_the_first_lines(tmp_path, small_chunks):
    """A named column that the first rows lack is looked for in every line before failing."""
    p = tmp_path / "d.jsonl"
    rows = [{"text": f"doc {i}"} for i in range(8)] + [{"text": "last", "cls": "a"}]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = _docs(p, columns=TableColumns(label="cls"))
    assert [d.label for d in docs] == [None] * 8 + ["a"]
    with pytest.raises(SourceError, match=r"no label column 'nope'; columns are: text, cls"):
        _docs(p, columns=TableColumns(label="nope"))
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    with pytest.raises(SourceError, match="line 10 is not valid JSON"):  # every line parsed before the column check
        _docs(p, columns=TableColumns(label="nope"))


def test_parquet_read_in_batches_gives_the_values_of_the_whole_file(tmp_path, small_chunks):
    """An integer column with a missing value in one batch is float in every batch, as pandas reads
    the whole file."""
    p = tmp_path / "d.parquet"
    df = pd.DataFrame({"text": [f"doc {i}" for i in range(10)], "n": pd.array([*range(9), None], dtype="Int64"),
                       "m": list(range(10)), "flag": [True] * 9 + [None]})
    df.to_parquet(p, row_group_size=4)
    docs = _docs(p)
    whole = pd.read_parquet(p).to_dict("records")
    assert [d.meta for d in docs[:9]] == [{k: v for k, v in r.items() if k != "text"} for r in whole[:9]]
    assert isinstance(docs[0].meta["n"], float) and isinstance(docs[0].meta["m"], int)
    assert pd.isna(docs[9].meta["n"]) and docs[9].meta["flag"] is None and docs[0].meta["flag"] is True


def test_quoting_auto_tells_a_file_without_quotes_without_counting_its_lines(tmp_path, monkeypatch):
    """Without a double quote both readings are the same: ``--quoting auto`` says csv from one quick
    scan, never counting each line's fields (the slow part of its pre-scan); with quotes it counts."""
    from topicvae.text import sources

    counted = []
    one_row_per_line = sources._one_row_per_line
    monkeypatch.setattr(sources, "_one_row_per_line", lambda *a: counted.append(a[0].name) or one_row_per_line(*a))
    plain = tmp_path / "plain.csv"
    plain.write_text("text,label\n" + "".join(f"words of row {i},l{i % 2}\n" for i in range(50)))
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("text,label\n" + "".join(f'"words, of row {i}",l{i % 2}\n' for i in range(50)))
    for path in (plain, quoted):
        docs = list(read_source(str(path), columns=TableColumns(label="label")))
        assert [d.text for d in docs] == [f"words{',' if path is quoted else ''} of row {i}" for i in range(50)]
    assert counted == ["quoted.csv"]
