"""Hypothesis strategies of damaged document sources, shared by tests/test_fuzz.py and benchmarks/fuzz.py.

Each strategy draws a :class:`Case`: the files of one source (valid structure mixed with
damage: truncation, flipped bytes, wrong encodings, NUL bytes, deep nesting, missing
columns, mixed-type metadata, the encrypted flag of zip members, empty files, folders
where files are expected) and how to read it. :func:`outcome` writes a case to a
temporary folder, reads it with :func:`topicvae.text.sources.read_source` and says how
that went. The property every reader must keep: documents, or a one-line
:class:`~topicvae.errors.TopicVAEError`, never any other exception.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tarfile
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field

from hypothesis import strategies as st

from topicvae.errors import TopicVAEError
from topicvae.text.sources import RawDoc, TableColumns, read_source


@dataclass
class Case:
    """One source to read: ``files`` maps a relative path (bytes) to its bytes, or None for a folder."""

    files: dict[bytes, bytes | None]
    source: bytes
    fmt: str | None = None
    columns: TableColumns | None = None
    symlinks: dict[bytes, bytes] = field(default_factory=dict)

    def __repr__(self) -> str:  # short enough to print as a reproducer
        files = {k: (v if v is None or len(v) <= 80 else v[:80] + b"...(%d bytes)" % len(v))
                 for k, v in list(self.files.items())[:6]}
        return (f"Case(source={self.source!r}, fmt={self.fmt!r}, columns={self.columns!r}, "
                f"files={files!r}{' ...' if len(self.files) > 6 else ''}, symlinks={self.symlinks!r})")


# ---------------------------------------------------------------- damage and encodings
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252")


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """``data`` as is (half the time) or truncated, with bytes flipped, NULs put in or junk appended."""
    how = draw(st.sampled_from(["none", "none", "none", "truncate", "flip", "nul", "append", "replace"]))
    if how == "none" or not data and how in ("truncate", "flip", "nul"):
        return data
    if how == "truncate":
        return data[:draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    if how == "nul":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\x00" * draw(st.integers(1, 3)) + data[at:]
    if how == "append":
        return data + draw(st.binary(max_size=64))
    return draw(st.binary(max_size=256))


@st.composite
def encoded(draw, text: str) -> bytes:
    """``text`` in one of several encodings (latin-1 and cp1252 replace what they cannot hold)."""
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


words = st.sampled_from(["film", "good", "café", "naïve", "東京", "emoji 😀", "", " ", "\x00", "\ufeff",
                         "line\nbreak", "a,b", 'say "hi"', "\t", "\r\n", "\u2028", "\ud800"])
texts = st.one_of(st.lists(words, max_size=8).map(" ".join), st.text(max_size=40))
cell_values = st.one_of(texts, st.integers(-10**20, 10**20), st.floats(), st.booleans(), st.none(), st.just(""))
column_names = st.sampled_from(["text", "id", "label", "date", "split", "author", "year", "", "a,b", "x y"])
table_columns = st.just(TableColumns()) | st.builds(  # the default half the time, so many rows get read
    TableColumns,
    text=st.sampled_from(["text"] * 6 + ["body", "id"]),
    id=st.sampled_from([None, None, "id", "text"]),
    label=st.sampled_from([None, "label", "missing"]),
    date=st.sampled_from([None, "date"]),
    split=st.sampled_from([None, "split"]),
)


def _safe_text(text: str) -> str:
    """``text`` without lone surrogates, which no encoder takes (they stand for file-name bytes)."""
    return text.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------- tables
@st.composite
def table_rows(draw) -> list[dict]:
    names = draw(st.lists(column_names, min_size=1, max_size=5, unique=True))
    if draw(st.integers(0, 3)):  # mostly a text column, so that many inputs get past the header
        names = ["text"] + [n for n in names if n != "text"]
    return [{n: draw(cell_values) for n in names if draw(st.integers(0, 9))}  # some cells missing
            for _ in range(draw(st.integers(0, 6)))]


@st.composite
def csv_cases(draw, sep: str = ",") -> Case:
    rows = draw(table_rows())
    header = list(dict.fromkeys(k for r in rows for k in r)) or ["text"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    for r in rows:
        writer.writerow([_safe_text(str(r.get(k, ""))) for k in header])
    data = draw(damaged(draw(encoded(out.getvalue()))))
    name = b"d.tsv" if sep == "\t" else b"d.csv"
    return Case({name: data}, name, draw(st.sampled_from([None, "tsv" if sep == "\t" else "csv"])),
                draw(table_columns))


positional_columns = st.builds(  # a CSV/TSV without a header: columns by position, and mistakes
    TableColumns,
    text=st.sampled_from(["0"] * 10 + ["1", "01", " 2", "9", "text", "-1", "٣"]),
    id=st.sampled_from([None, None, None, "1", "7"]),
    label=st.sampled_from([None, None, "2", "x"]),
    date=st.sampled_from([None, None, "3"]),
    split=st.sampled_from([None, "1"]),
    header=st.just(False),
)


@st.composite
def headerless_cases(draw) -> Case:
    """A CSV or TSV whose first row is data, read with columns by position."""
    sep = draw(st.sampled_from([",", "\t"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    width = draw(st.integers(1, 4))
    for _ in range(draw(st.integers(0, 6))):
        writer.writerow([_safe_text(str(draw(cell_values))) for _ in range(width - draw(st.integers(0, 1)))])
    data = draw(damaged(draw(encoded(out.getvalue()))))
    name = b"d.tsv" if sep == "\t" else b"d.csv"
    fmt = draw(st.sampled_from([None, None, None, "tsv" if sep == "\t" else "csv", "jsonl"]))  # jsonl: refused
    return Case({name: data}, name, fmt, draw(positional_columns))


@st.composite
def octis_line(draw, labelled: bool) -> str:
    """A row of OCTIS' corpus.tsv: mostly text<TAB>split[<TAB>label], or damaged (fields lost or added)."""
    split = draw(st.sampled_from(["train"] * 6 + ["val", "test", "test", "dev", ""]))
    fields = [draw(texts), split] + ([draw(st.sampled_from(["0", "7", "<http://x/y>", ""]))]
                                     if labelled == bool(draw(st.integers(0, 15))) else [])
    fields += [draw(texts) for _ in range(draw(st.sampled_from([0] * 15 + [1, 2])))]
    if draw(st.integers(0, 5)) == 0:
        fields[0] = '"' + fields[0].replace('"', '""') + '"'  # quoted, as pandas writes a field with a quote
    return "\t".join(fields)


octis_metadata = st.one_of(
    st.builds(lambda n, t, v: json.dumps({"total_documents": n, "last-training-doc": t, "last-validation-doc": v}),
              st.integers(0, 8), st.integers(0, 8), st.one_of(st.integers(0, 8), st.text(max_size=3))),
    st.sampled_from(["{not json", "[1, 2]", "", "null", '{"total_documents": "5"}', "\x00\x01"]),
)


@st.composite
def octis_cases(draw) -> Case:
    """OCTIS' layout: a dataset folder (corpus.tsv, metadata.json, vocabulary.txt, maybe a stray .txt) or its tsv."""
    lines = st.lists(octis_line(labelled=draw(st.integers(0, 4)) > 0), max_size=6)
    rows = "\n".join(draw(lines)) + draw(st.sampled_from(["\n", "", "\r\n"]))
    corpus = draw(damaged(draw(encoded(_safe_text(rows)))))
    columns = draw(st.just(TableColumns()) | st.just(TableColumns(header=False)) | table_columns)
    if draw(st.booleans()):
        return Case({b"d.tsv": corpus}, b"d.tsv", draw(st.sampled_from([None, "octis"])), columns)
    files = {b"ds/corpus.tsv": corpus} if draw(st.integers(0, 7)) else {b"ds": None}
    if draw(st.booleans()):
        files[b"ds/metadata.json"] = draw(octis_metadata).encode("utf-8", "replace")
    if draw(st.booleans()):
        files[b"ds/vocabulary.txt"] = b"apple\npear\n"
    if draw(st.integers(0, 4)) == 0:
        files[b"ds/notes.txt"] = draw(contents)  # a document beside corpus.tsv: ambiguous
    return Case(files, b"ds", draw(st.sampled_from([None, None, "octis", "folder"])), columns)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     texts),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                           max_leaves=6)


@st.composite
def jsonl_line(draw) -> str:
    kind = draw(st.sampled_from(["object"] * 6 + ["blank", "deep", "array", "broken", "surrogate", "bigint"]))
    if kind == "object":
        names = draw(st.lists(column_names, max_size=5, unique=True))
        obj = {n: draw(json_values) for n in (["text"] if draw(st.integers(0, 3)) else []) + names}
        return json.dumps(obj, ensure_ascii=draw(st.booleans()))
    if kind == "blank":
        return draw(st.sampled_from(["", "  ", "\r", "\t"]))
    if kind == "deep":
        n = draw(st.sampled_from([10, 999, 5000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return '{"text": ' + opener * n + "1" + closer * n + "}"
    if kind == "array":
        return json.dumps(draw(st.lists(json_values, max_size=3)))
    if kind == "broken":
        return draw(st.sampled_from(['{"text": "a"', "{text: 1}", "nul\x00", '{"text": NaN}', "}{"]))
    if kind == "surrogate":
        return '{"text": "lone \\ud800 half", "\\udc80key": "\\udfff"}'
    return '{"text": "x", "n": ' + "7" * draw(st.sampled_from([10, 5000])) + "}"


@st.composite
def jsonl_cases(draw) -> Case:
    lines = draw(st.lists(jsonl_line(), max_size=6))
    data = draw(damaged(draw(encoded(_safe_text("\n".join(lines))))))
    return Case({b"d.jsonl": data}, b"d.jsonl", draw(st.sampled_from([None, "jsonl"])), draw(table_columns))


parquet_columns = st.one_of(
    st.lists(texts.map(_safe_text) | st.none(), min_size=3, max_size=3),
    st.lists(st.integers(-2**63, 2**63 - 1), min_size=3, max_size=3),
    st.lists(st.floats(), min_size=3, max_size=3),
    st.lists(st.booleans() | st.none(), min_size=3, max_size=3),
    st.lists(st.binary(max_size=8), min_size=3, max_size=3),
    st.lists(st.lists(st.integers(0, 9), max_size=2), min_size=3, max_size=3),
)


@st.composite
def parquet_cases(draw) -> Case:
    import pandas as pd

    names = draw(st.lists(column_names, min_size=1, max_size=4, unique=True))
    if draw(st.integers(0, 3)):
        names = ["text"] + [n for n in names if n != "text"]
    df = pd.DataFrame({n: draw(parquet_columns) for n in names})
    out = io.BytesIO()
    df.to_parquet(out, index=False)
    data = draw(damaged(out.getvalue()))
    return Case({b"d.parquet": data}, b"d.parquet", draw(st.sampled_from([None, "parquet"])), draw(table_columns))


# ---------------------------------------------------------------- folders and archives
def _latin1(name: str) -> bytes:
    return name.encode("latin-1")


segments = st.one_of(
    st.sampled_from([b"pos", b"neg", b"train", b"data-test", b"a b", b".hidden", b"wrap", b"caf\xe9", b"\xff\xfe"]),
    st.text(st.characters(codec="latin-1", exclude_characters="/\x00"), min_size=1, max_size=6)
    .filter(lambda s: s not in (".", "..")).map(_latin1),
)
suffixes = st.sampled_from([b"", b".txt", b".txt", b".TXT", b".text", b".md", b".bin"])
contents = st.one_of(
    texts.map(_safe_text).flatmap(encoded),
    st.binary(max_size=64),
    st.sampled_from([b"", b"\x00\x01\x02\x03binary", b"\xff\xfeh\x00i\x00", b"h\x00e\x00l\x00l\x00o\x00"]),
)


@st.composite
def member_paths(draw) -> bytes:
    return b"/".join(draw(st.lists(segments, min_size=0, max_size=2))) + b"/" * draw(st.booleans()) + \
        draw(segments) + draw(suffixes)


@st.composite
def folder_cases(draw) -> Case:
    files = {}
    for path in draw(st.lists(member_paths(), min_size=0, max_size=6, unique=True)):
        files[path.replace(b"//", b"/")] = None if draw(st.integers(0, 7)) == 0 else draw(contents)  # None: a dir
    symlinks = {}
    if draw(st.integers(0, 4)) == 0:
        symlinks[b"loop"] = b"."  # a link back to the folder itself
    if draw(st.integers(0, 4)) == 0:
        symlinks[b"gone.txt"] = b"no-such-file"
    return Case({b"root/" + k: v for k, v in files.items()}, b"root", draw(st.sampled_from([None, "folder"])),
                symlinks={b"root/" + k: v for k, v in symlinks.items()})


# member names an attacker or a broken tool may write
archive_names = st.one_of(
    member_paths().map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(["../evil.txt", "../../etc/passwd", "/abs/x.txt", "//x.txt", "./a/./b.txt", "", ".", "..",
                     "/", "a\\b.txt", "dir/", "__MACOSX/x.txt", "con.txt", "a/../../b.txt"]),
)


@st.composite
def zip_cases(draw) -> Case:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names: wanted here
        with zipfile.ZipFile(out, "w") as zf:
            for name in draw(st.lists(archive_names, max_size=5)):
                info = zipfile.ZipInfo(_safe_text(name))
                info.compress_type = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                                           zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
                zf.writestr(info, draw(contents))
                if draw(st.integers(0, 5)) == 0:
                    info.flag_bits |= 0x1  # "encrypted": written into the central directory at close
    data = draw(damaged(out.getvalue()))
    name = draw(st.sampled_from([b"d.zip", b"d.zip", b"d.tar.gz"]))  # a zip named .tar.gz too
    return Case({name: data}, name, draw(st.sampled_from([None, "archive"])))


@st.composite
def tar_cases(draw) -> Case:
    compression = draw(st.sampled_from(["", "gz", "bz2", "xz"]))
    fmt = draw(st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}", format=fmt) as tf:
        for name in draw(st.lists(archive_names, max_size=5)):
            info = tarfile.TarInfo(name)
            kind = draw(st.sampled_from([tarfile.REGTYPE] * 5 + [tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                                                                 tarfile.FIFOTYPE]))
            info.type = kind
            data = draw(contents) if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = draw(st.sampled_from(["../x.txt", "missing.txt", name]))
            try:
                tf.addfile(info, io.BytesIO(data))
            except (ValueError, UnicodeError):  # a name this tar format cannot hold: leave it out
                pass
    data = draw(damaged(out.getvalue()))
    name = {"": b"d.tar", "gz": b"d.tar.gz", "bz2": b"d.tar.bz2", "xz": b"d.tar.xz"}[compression]
    return Case({name: data}, name, draw(st.sampled_from([None, "archive"])))


@st.composite
def odd_cases(draw) -> Case:
    """Folders where files are expected, empty files, random bytes under any name, wrong --format."""
    name = draw(st.sampled_from([b"x.csv", b"x.tsv", b"x.jsonl", b"x.json", b"x.parquet", b"x.zip", b"x.tar.gz",
                                 b"x.tgz", b"x.tar.xz", b"x.txt", b"x", b"caf\xe9.csv"]))
    kind = draw(st.sampled_from(["folder", "empty", "random", "missing"]))
    files = {} if kind == "missing" else {name: {"folder": None, "empty": b"",
                                                 "random": draw(st.binary(max_size=200))}[kind]}
    fmt = draw(st.sampled_from([None, "csv", "tsv", "jsonl", "parquet", "octis", "folder", "archive", "nope"]))
    return Case(files, name, fmt, draw(table_columns))


READERS = {
    "csv": csv_cases(),
    "tsv": csv_cases("\t"),
    "jsonl": jsonl_cases(),
    "parquet": parquet_cases(),
    "folder": folder_cases(),
    "zip": zip_cases(),
    "tar": tar_cases(),
    "odd": odd_cases(),
    "headerless": headerless_cases(),
    "octis": octis_cases(),
}


# ---------------------------------------------------------------- reading a case
def write_case(case: Case, root: bytes) -> None:
    """Put the files of ``case`` under the folder ``root`` (bytes paths: names need not be UTF-8)."""
    for rel, data in case.files.items():
        path = os.path.join(root, rel)
        try:
            if data is None:
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            pass  # a file and a folder of the same name: keep the first
    for rel, target in case.symlinks.items():
        if os.path.isdir(os.path.dirname(os.path.join(root, rel))) and not os.path.lexists(os.path.join(root, rel)):
            os.symlink(target, os.path.join(root, rel))


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def outcome(case: Case) -> tuple[str, list[RawDoc] | Exception, list[str]]:
    """Read ``case``: ('docs', documents, warnings), ('topicvae', the error, warnings) or ('other', ...).

    'other' is a bug: an exception that is not a TopicVAEError, or one whose message is
    more than one line, or a document with text no UTF-8 file can store.
    """
    handler = _Warnings()
    logger = logging.getLogger("topicvae")
    logger.addHandler(handler)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = os.fsencode(tmp)
            write_case(case, root)
            source = os.fsdecode(os.path.join(root, case.source))
            try:
                docs = list(read_source(source, case.fmt, case.columns))
            except TopicVAEError as exc:
                if "\n" in str(exc):
                    return "other", ValueError(f"message of more than one line: {exc}"), handler.messages
                return "topicvae", exc, handler.messages
            except Exception as exc:  # noqa: BLE001 - the bug this harness looks for
                return "other", exc, handler.messages
            for d in docs:
                try:
                    for value in (d.id, d.text, d.label or "", d.date or "", d.split or ""):
                        value.encode("utf-8")
                except (UnicodeEncodeError, AttributeError) as exc:
                    return "other", exc, handler.messages
            return "docs", docs, handler.messages
    finally:
        logger.removeHandler(handler)
