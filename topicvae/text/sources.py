"""Readers that turn a user's documents into :class:`RawDoc` records.

Supported sources (detected from the path, or named with ``fmt``):

- ``csv`` / ``tsv`` / ``jsonl`` / ``parquet`` tables: one document per row;
- ``folder``: a folder of text files; an immediate subfolder name is the label;
- ``archive``: a ``.tar.gz`` / ``.tgz`` / ``.tar`` / ``.zip`` of such folders, read without
  extracting; a top folder named ``*-train`` / ``*-test`` (or ``train`` / ``test``) gives the split;
- ``builtin:sample``: a small English corpus built from text that gensim ships.

Text that is not valid UTF-8 is decoded with replacement characters and flagged
(``RawDoc.bad_utf8``) so the manifest can count it.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..errors import SourceError

TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
FORMATS = TABLE_FORMATS + ("folder", "archive", "builtin")
BUILTINS = ("sample",)
TEXT_FILE_SUFFIXES = ("", ".txt", ".text")
_SPLIT_DIR = re.compile(r"(?:^|[-_.])(train|test|dev|valid|validation)$", re.I)


@dataclass
class RawDoc:
    """One document as read from a source, before any preprocessing."""

    id: str
    text: str
    label: str | None = None
    date: str | None = None
    split: str | None = None
    meta: dict = field(default_factory=dict)
    bad_utf8: bool = False


@dataclass
class TableColumns:
    """Which table columns hold the text, id, label and date (None: absent or default)."""

    text: str = "text"
    id: str | None = None
    label: str | None = None
    date: str | None = None
    split: str | None = None


def decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 decode with replacement; return (text, whether any byte was invalid)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB marks a binary file (the rule git and grep use)."""
    return b"\x00" in data[:8192]


def detect_format(source: str) -> str:
    """Guess the format of ``source`` from its path; raise :class:`SourceError` when unknown."""
    if source.startswith("builtin:"):
        return "builtin"
    path = Path(source)
    if not path.exists():
        raise SourceError(f"source not found: {source}")
    if path.is_dir():
        return "folder"
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".zip")):
        return "archive"
    suffix = path.suffix.lower()
    by_suffix = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    with open(path, "rb") as f:
        head = f.read(8192)
    kind = "a binary file" if looks_binary(head) else f"a file with suffix {suffix or '(none)'!r}"
    raise SourceError(
        f"cannot read {source}: it is {kind}; supported sources are .csv, .tsv, .jsonl, .parquet, "
        "a folder of .txt files, a .tar.gz/.zip archive of them, or builtin:sample (or pass --format)"
    )


def read_source(source: str, fmt: str | None = None, columns: TableColumns | None = None) -> Iterator[RawDoc]:
    """Yield the documents of ``source``; ``fmt`` overrides format detection."""
    fmt = fmt or detect_format(source)
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt != "builtin" and not Path(source).exists():
        raise SourceError(f"source not found: {source}")
    columns = columns or TableColumns()
    if fmt == "builtin":
        return read_builtin(source.removeprefix("builtin:"))
    if fmt == "folder":
        return read_folder(Path(source))
    if fmt == "archive":
        return read_archive(Path(source))
    if fmt == "jsonl":
        return read_jsonl(Path(source), columns)
    return read_table(Path(source), fmt, columns)


# ---------------------------------------------------------------- files in folders
def _is_text_name(name: str) -> bool:
    base = PurePosixPath(name).name
    return not base.startswith(".") and PurePosixPath(base).suffix.lower() in TEXT_FILE_SUFFIXES


def _doc_from_member(rel: PurePosixPath, data: bytes) -> RawDoc | None:
    """Build a document from a file at relative path ``rel``; None for binary files."""
    if looks_binary(data):
        return None
    parts = list(rel.parts)
    split = None
    if len(parts) > 1 and (m := _SPLIT_DIR.search(parts[0])):
        split = {"dev": "valid", "validation": "valid"}.get(m.group(1).lower(), m.group(1).lower())
        parts = parts[1:]
    label = parts[0] if len(parts) > 1 else None
    text, bad = decode(data)
    return RawDoc(id=str(rel), text=text, label=label, split=split, bad_utf8=bad)


def read_folder(root: Path) -> Iterator[RawDoc]:
    """Text files under ``root`` (sorted, recursively); the first subfolder is the label."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and _is_text_name(p.name))
    if not files:
        raise SourceError(f"no text files (.txt or no suffix) found in folder {root}")
    for p in files:
        doc = _doc_from_member(PurePosixPath(p.relative_to(root).as_posix()), p.read_bytes())
        if doc is not None:
            yield doc


def _strip_common_root(names: list[str]) -> int:
    """How many leading path parts all archive members share as a wrapping folder (0 or 1)."""
    tops = {PurePosixPath(n).parts[0] for n in names}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names):
        top = next(iter(tops))
        return 0 if _SPLIT_DIR.search(top) else 1
    return 0


def read_archive(path: Path) -> Iterator[RawDoc]:
    """Text files inside a tar or zip archive, streamed without extracting to disk."""
    if path.name.lower().endswith(".zip"):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise SourceError(f"cannot read {path}: not a valid zip archive ({exc})") from exc
        with zf:
            names = sorted(n for n in zf.namelist() if not n.endswith("/") and _is_text_name(n)
                           and not n.startswith("__MACOSX/"))
            if not names:
                raise SourceError(f"no text files found in archive {path}")
            skip = _strip_common_root(names)
            for n in names:
                rel = PurePosixPath(*PurePosixPath(n).parts[skip:])
                doc = _doc_from_member(rel, zf.read(n))
                if doc is not None:
                    yield doc
        return
    try:
        tf = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise SourceError(f"cannot read {path}: not a valid tar archive ({exc})") from exc
    with tf:
        members = [m for m in tf.getmembers() if m.isfile() and _is_text_name(m.name)]
        if not members:
            raise SourceError(f"no text files found in archive {path}")
        skip = _strip_common_root([m.name for m in members])
        # archive order is stream order: read in that order, then emit sorted by name
        docs = []
        for m in members:
            f = tf.extractfile(m)
            if f is None:
                continue
            rel = PurePosixPath(*PurePosixPath(m.name).parts[skip:])
            doc = _doc_from_member(rel, f.read())
            if doc is not None:
                docs.append(doc)
        docs.sort(key=lambda d: d.id)
        yield from docs


# ---------------------------------------------------------------- tables
def _check_columns(have: list[str], columns: TableColumns, source: Path) -> None:
    for role in ("text", "id", "label", "date", "split"):
        col = getattr(columns, role)
        if col is not None and col not in have:
            raise SourceError(
                f"{source}: no {role} column {col!r}; columns are: {', '.join(map(str, have))} "
                f"(choose one with --{role}-col)"
            )


def _table_docs(rows: Iterator[dict], columns: TableColumns, start: int = 0) -> Iterator[RawDoc]:
    roles = {c for c in (columns.text, columns.id, columns.label, columns.date, columns.split) if c}
    for i, row in enumerate(rows, start):
        text = row.get(columns.text)
        text = "" if text is None or (isinstance(text, float) and text != text) else str(text)
        meta = {k: v for k, v in row.items() if k not in roles}
        yield RawDoc(
            id=str(row[columns.id]) if columns.id else str(i),
            text=text,
            label=_opt_str(row.get(columns.label)) if columns.label else None,
            date=_opt_str(row.get(columns.date)) if columns.date else None,
            split=_opt_str(row.get(columns.split)) if columns.split else None,
            meta=meta,
            bad_utf8="\ufffd" in text,
        )


def _opt_str(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return str(v)


def read_table(path: Path, fmt: str, columns: TableColumns) -> Iterator[RawDoc]:
    """Rows of a CSV, TSV or Parquet file; columns other than the named roles become metadata."""
    import pandas as pd

    try:
        if fmt == "parquet":
            df = pd.read_parquet(path)
        else:
            raw = path.read_bytes()
            if looks_binary(raw):
                raise SourceError(f"cannot read {path}: it looks like a binary file, not {fmt.upper()} text")
            text, _ = decode(raw)
            df = pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",", dtype=str,
                             keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except SourceError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for malformed files
        raise SourceError(f"cannot read {path} as {fmt}: {str(exc).splitlines()[0]}") from exc
    _check_columns([str(c) for c in df.columns], columns, path)
    return _table_docs(iter(df.to_dict("records")), columns)


def read_jsonl(path: Path, columns: TableColumns) -> Iterator[RawDoc]:
    """JSON Lines: one object per line; a malformed line is reported with its number."""
    rows = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            line, _ = decode(raw)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path}: line {lineno} is not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise SourceError(f"{path}: line {lineno} is not a JSON object")
            rows.append(obj)
    if not rows:
        raise SourceError(f"{path}: no JSON lines found")
    have = list(dict.fromkeys(k for r in rows for k in r))
    _check_columns(have, columns, path)
    return _table_docs(iter(rows), columns)


# ---------------------------------------------------------------- built-in
def _gensim_test_data() -> Path:
    import gensim

    return Path(os.path.dirname(gensim.__file__)) / "test" / "test_data"


_WIKI_SECTION = re.compile(r"^==+\s*([^=]+?)\s*==+\s*$", re.M)


def read_builtin(name: str) -> Iterator[RawDoc]:
    """``builtin:sample``: 300 Lee news articles plus sections of Wikipedia articles.

    Both ship inside gensim's ``test/test_data``; nothing is downloaded or copied.
    News articles get the label ``news``; each Wikipedia article's substantial sections
    become one document each, labelled with the article title. Every fifth document is
    in the ``test`` split, so held-out metrics work on the sample too.
    """
    if name not in BUILTINS:
        raise SourceError(f"unknown built-in corpus {name!r}; available: {', '.join('builtin:' + b for b in BUILTINS)}")
    import bz2

    data = _gensim_test_data()
    lee = data / "lee_background.cor"
    wiki = data / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    if not lee.is_file():
        raise SourceError(f"built-in sample needs gensim's test data, missing at {lee}; reinstall gensim")
    with open(lee, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if line.strip():
                yield RawDoc(id=f"lee-{i:03d}", text=line.strip(), label="news", split=_every_fifth(i))
    if not wiki.is_file():
        return
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    n = 0
    with bz2.open(wiki) as f:
        for title, markup, _pageid in extract_pages(f):
            if markup.lstrip().lower().startswith("#redirect"):
                continue
            text = filter_wiki(markup)
            heads = list(_WIKI_SECTION.finditer(text))
            bounds = [0] + [m.start() for m in heads] + [len(text)]
            names = ["Introduction"] + [m.group(1) for m in heads]
            for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                body = _WIKI_SECTION.sub("", text[a:b]).strip()
                if len(body.split()) < 50 or names[k].lower() in {"references", "external links", "see also",
                                                                      "further reading", "notes", "bibliography"}:
                    continue
                n += 1
                yield RawDoc(id=f"wiki-{title}-{k:02d}", text=body, label=title,
                             split=_every_fifth(n), meta={"section": names[k]})


def _every_fifth(i: int) -> str:
    return "test" if i % 5 == 4 else "train"
