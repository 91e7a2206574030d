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
