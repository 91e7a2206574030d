"""Readers that turn a user's documents into :class:`RawDoc` records (a table's rows a chunk at a time
into a :class:`DocTable`, column-wise, which a streamed ingest takes as it is).

Supported sources (detected from the path, or named with ``fmt``):

- ``csv`` / ``tsv`` / ``jsonl`` / ``parquet`` tables: one document per row; a CSV or TSV
  without a header row (``TableColumns.header=False``) names its columns by position;
- ``octis``: OCTIS' dataset layout, a folder with ``corpus.tsv`` (or that file itself) of
  headerless ``text<TAB>split<TAB>label`` rows, split ``train``, ``val`` or ``test``;
- ``folder``: a folder of text files; an immediate subfolder name is the label;
- ``archive``: a ``.tar.gz`` / ``.tgz`` / ``.tar`` / ``.zip`` of such folders, read without
  extracting; a top folder named ``*-train`` / ``*-test`` (or ``train`` / ``test``) gives the split;
- ``builtin:sample``: a small English corpus built from text that gensim ships.

Every reader raises :class:`SourceError` (one line) for input it cannot read, and nothing
else. Nothing is dropped without saying so:

- text is UTF-8 unless a byte-order mark (or, without one, the NUL bytes of mostly-ASCII
  UTF-16) says UTF-16 or UTF-32; text that is not valid in its encoding is decoded with
  replacement characters and flagged (``RawDoc.bad_utf8``) so the manifest can count it;
- every file of a folder and member of an archive is read or counted as skipped, by reason
  (binary, hidden, another suffix, not a regular file), in the :class:`ReadReport` the caller
  passes (ingest writes it to the summary line and ``manifest.json``) and in one warning;
- a CSV or TSV is read with quoted fields (``csv``) or without (``none``); ``auto`` uses quoted
  fields unless they would join lines of a file that reads as one row per line without them
  (a stray quote at the start of a field), and the report says which and how many rows span lines;
- NUL characters in CSV/TSV cells are removed, with one warning counting the cells.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import logging
import lzma
import os
import re
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from topicvae.errors import SourceError, first_line

log = logging.getLogger(__name__)

TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
FORMATS = TABLE_FORMATS + ("octis", "folder", "archive", "builtin")
BUILTINS = ("sample",)
TEXT_FILE_SUFFIXES = ("", ".txt", ".text")
#: what a file-type suffix looks like: a dot, a letter, up to 9 letters or digits. The part of a name
#: after its last dot that is not one ("Chapter 1. The river", "notes v1.2") is part of the name
_FILE_TYPE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,9}")
#: how a CSV/TSV is read: "csv" (a field that starts with a double quote runs to its closing quote,
#: line breaks and delimiters included), "none" (quotes are text; one row per line), or "auto"
QUOTINGS = ("auto", "csv", "none")
_SPLIT_DIR = re.compile(r"(?:^|[-_.])(train|test|dev|valid|validation)$", re.I)
_HEAD = 8192  # bytes looked at to tell text from binary, as git and grep do
OCTIS_CORPUS = "corpus.tsv"
OCTIS_SPLITS = ("train", "val", "test")
# the text files OCTIS' Dataset.save writes beside corpus.tsv: not documents
_OCTIS_TEXT_FILES = ("vocabulary.txt", "indexes.txt")
_OCTIS_SNIFF_LINES = 50  # rows of a .tsv looked at to tell OCTIS' layout from a table with a header
# An archive may unpack to at most this many times its own size in text files (and always to
# MIN_UNPACK_BYTES): text compresses 3-10 times, while a small archive that unpacks to gigabytes
# (a "zip bomb") would fill the memory before any document is processed. Members are read up
# to what is left of the allowance, so a bomb is refused after reading just past it.
MAX_UNPACK_RATIO = 100
MIN_UNPACK_BYTES = 1 << 30
# What the zip, tar and compression modules raise for damaged, truncated or unsupported
# archives (RuntimeError: zipfile's "encrypted, password required"; IndexError: its
# parsing of a damaged extra field).
_ARCHIVE_ERRORS = (IndexError, zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, lzma.LZMAError,
                   EOFError, OSError, NotImplementedError, RuntimeError, ValueError, struct.error)


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
    """Which table columns hold the text, id, label and date (None: absent or default).

    With ``header=False`` (CSV and TSV only) the first row is data and every column is
    named by its position, ``"0"`` for the first; with a header a name like ``"0"`` is the
    header's name. ``quoting`` (CSV and TSV only): one of :data:`QUOTINGS`.
    """

    text: str = "text"
    id: str | None = None
    label: str | None = None
    date: str | None = None
    split: str | None = None
    header: bool = True
    quoting: str = "auto"


ROLES = ("text", "id", "label", "date", "split")


# ---------------------------------------------------------------- bytes to text
# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NULs fill one byte of most pairs and almost none of the other.

    That is what text of mostly Latin letters looks like in UTF-16 without a byte-order
    mark (Windows tools write such files); binary files have NULs in both positions, or
    control bytes beside the NULs.
    """
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0:2 * pairs:2].count(0), head[1:2 * pairs:2].count(0)
    for low, high, encoding in ((even, odd, "utf-16-le"), (odd, even, "utf-16-be")):
        if high >= 0.3 * pairs and low <= 0.02 * pairs:
            chars = head[:2 * pairs].decode(encoding, errors="replace")
            controls = len(chars) - len(chars.translate(_NO_CONTROL_CHARS))
            return encoding if controls < 0.05 * len(chars) else None
    return None


# Bytes that text does not hold (NUL aside): C0 controls other than tab, line feed,
# vertical tab, form feed, carriage return and escape (colours in logs), and DEL.
_CONTROL_BYTES = bytes(set(range(1, 32)) - {9, 10, 11, 12, 13, 27} | {127})
_NO_CONTROL_CHARS = dict.fromkeys(_CONTROL_BYTES)  # str.translate table deleting them


def _control_share(data: bytes) -> float:
    """The share of ``data`` that is control bytes other than NUL and whitespace."""
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data) if data else 0.0


def text_encoding(data: bytes) -> str:
    """The encoding to read ``data`` with: UTF-8 unless a byte-order mark or the UTF-16 NUL pattern says otherwise."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return _bomless_utf16(data[:_HEAD]) or "utf-8"


def decode(data: bytes) -> tuple[str, bool]:
    """Decode with :func:`text_encoding`, replacing invalid bytes; return (text, whether any byte was invalid)."""
    encoding = text_encoding(data)
    try:
        return data.decode(encoding), False
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace"), True


def looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB marks a binary file (the rule git and grep use), unless it is UTF-16/32 text."""
    return b"\x00" in data[:_HEAD] and text_encoding(data) in ("utf-8", "utf-8-sig")


def _clearly_binary(data: bytes) -> bool:
    """:func:`looks_binary`, and also many control bytes or NULs in the first 8 KiB.

    For a file the user named as a table: a stray NUL there is damage in a cell (pandas
    reads it), not a sign of a binary file. Compressed files and images hold 8% or more
    control bytes besides NULs; executables and arrays of numbers are mostly NULs.
    """
    head = data[:_HEAD]
    return looks_binary(head) and (_control_share(head) >= 0.05 or head.count(0) >= 0.3 * len(head))


def printable_name(name: str) -> str:
    """A file name as text that can be printed and stored: bytes that are not UTF-8 become ``\\xNN``.

    Python gives such bytes of a file name as lone surrogates (PEP 383), which no UTF-8
    file, terminal or Parquet column accepts.
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _existing_path(source: str) -> Path:
    path = Path(source)
    try:
        exists = path.exists()
    except (OSError, ValueError) as exc:  # a NUL in the path, a name too long
        raise SourceError(f"cannot use {source!r} as a source path ({exc})") from exc
    if not exists:
        raise SourceError(f"source not found: {printable_name(source)}")
    if not (path.is_file() or path.is_dir()):  # /dev/zero, a pipe: may never end, and cannot be read twice
        raise SourceError(f"cannot read {printable_name(source)}: it is not a regular file or a folder (a device, "
                          "a pipe or a socket, which may never end); save the documents to a file and give its path")
    return path


def detect_format(source: str, columns: TableColumns | None = None) -> str:
    """Guess the format of ``source`` from its path; raise :class:`SourceError` when unknown.

    A folder holding ``corpus.tsv`` and no other documents, or a ``.tsv`` whose first rows
    are all ``text<TAB>train|val|test<TAB>label``, is OCTIS' layout; a ``.tsv`` read
    without a header (``columns.header`` False) stays a table, its columns named by the user.
    """
    if source.startswith("builtin:"):
        return "builtin"
    path = _existing_path(source)
    if path.is_dir():
        return "octis" if _is_octis_folder(path) else "folder"
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".zip")):
        return "archive"
    suffix = path.suffix.lower()
    by_suffix = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
    if suffix in by_suffix:
        headerless = columns is not None and not columns.header
        if by_suffix[suffix] == "tsv" and not headerless and _looks_like_octis_rows(path):
            return "octis"
        return by_suffix[suffix]
    head = _read_bytes(path, _HEAD)
    kind = "a binary file" if looks_binary(head) else f"a file with suffix {printable_name(suffix) or '(none)'!r}"
    raise SourceError(
        f"cannot read {printable_name(source)}: it is {kind}; supported sources are .csv, .tsv, .jsonl, .parquet, "
        "a folder of .txt files, a .tar.gz/.zip archive of them, or builtin:sample (or pass --format)"
    )


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    """The bytes of a file (the first ``limit``); an unreadable file is a :class:`SourceError`."""
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError as exc:
        raise SourceError(f"cannot read {printable_name(str(path))}: {exc.strerror or exc}") from exc


def read_source(source: str, fmt: str | None = None, columns: TableColumns | None = None,
                report: ReadReport | None = None) -> Iterator[RawDoc]:
    """Yield the documents of ``source``; ``fmt`` overrides format detection. What the reader left
    out, and how it read a CSV/TSV, goes into ``report`` (:class:`ReadReport`)."""
    reader, column_wise = _open_source(source, fmt, columns, report)
    return _rows(reader) if column_wise else reader


def read_source_tables(source: str, fmt: str | None = None, columns: TableColumns | None = None,
                       report: ReadReport | None = None) -> Iterator[DocTable]:
    """The documents of ``source`` as :func:`read_source` reads them, column-wise, some thousands at a
    time (a table as its reader chunks it; any other source :data:`_RECORDS` documents at a time)."""
    reader, column_wise = _open_source(source, fmt, columns, report)
    return reader if column_wise else _batches(reader, _RECORDS)


def _open_source(source: str, fmt: str | None, columns: TableColumns | None,
                 report: ReadReport | None) -> tuple[Iterator, bool]:
    """The reader of ``source`` and whether it is column-wise: :class:`DocTable` chunks for a table
    (:data:`TABLE_FORMATS`), :class:`RawDoc` documents otherwise."""
    fmt = fmt or detect_format(source)
    return _reader(source, fmt, columns, report), fmt in TABLE_FORMATS


def _reader(source: str, fmt: str, columns: TableColumns | None, report: ReadReport | None) -> Iterator:
    """The reader of ``source`` in format ``fmt``, its settings checked first."""
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    columns = columns or TableColumns()
    if not columns.header and fmt not in ("csv", "tsv", "octis"):
        raise SourceError(f"--no-header is for CSV and TSV files; a {fmt} source names its own columns")
    if columns.quoting not in QUOTINGS:
        raise SourceError(f"unknown quoting {columns.quoting!r}; choose one of {', '.join(QUOTINGS)}")
    if columns.quoting != "auto" and fmt not in ("csv", "tsv"):
        raise SourceError(f"--quoting is for CSV and TSV files, not {fmt}")
    if fmt == "builtin":
        return read_builtin(source.removeprefix("builtin:"))
    path = _existing_path(source)
    if fmt == "octis":
        return read_octis(path, columns)
    if fmt == "folder":
        if not path.is_dir():
            raise SourceError(f"{printable_name(source)} is a file, not a folder; pass --format for its format")
        return read_folder(path, report)
    if path.is_dir():
        raise SourceError(f"{printable_name(source)} is a folder, not a {fmt} file; "
                          "drop --format to read the text files in it")
    if fmt == "archive":
        return read_archive(path, report)
    if fmt == "jsonl":
        return read_jsonl(path, columns)
    return read_table(path, fmt, columns, report)


# ---------------------------------------------------------------- what a reader left out
@dataclass
class ReadReport:
    """What a reader made of its source besides the documents, filled while it reads.

    ``skipped``: reason → names of the files or archive members not read (a folder's or an
    archive's), so that every file is either a document or counted here. ``quoting``: how a
    CSV/TSV was read (``"csv"`` or ``"none"``), and ``rows_over_lines``: how many of its rows
    span several lines (quoted line breaks).
    """

    skipped: dict[str, list[str]] = field(default_factory=dict)
    quoting: str | None = None
    rows_over_lines: int = 0

    def skip(self, reason: str, name: str) -> None:
        self.skipped.setdefault(reason, []).append(name)

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def skipped_summary(self) -> str:
        """'3 file(s) skipped: 2 binary (first: 'a.bin'), 1 hidden (first: '.DS_Store')', or ''."""
        if not self.skipped:
            return ""
        parts = [f"{len(v)} {reason} (first: {v[0]!r})" for reason, v in self.skipped.items()]
        return f"{self.n_skipped} file(s) skipped: " + ", ".join(parts)

    def counts(self) -> dict:
        """What ``manifest.json`` keeps: skipped files by reason, and the CSV/TSV quoting."""
        out: dict = {"skipped_files": {reason: len(v) for reason, v in self.skipped.items()}}
        if self.quoting is not None:
            out.update(quoting=self.quoting, rows_over_lines=self.rows_over_lines)
        return out

    def finish(self, source: Path, n_read: int) -> None:
        """Raise when nothing was read but files were skipped; else warn once about the skipped ones."""
        if not self.skipped:
            return
        if n_read == 0:
            raise SourceError(f"{printable_name(str(source))}: no document read; {self.skipped_summary()}")
        log.warning("%s: %s", printable_name(str(source)), self.skipped_summary())


# ---------------------------------------------------------------- files in folders
#: why a file of a folder or archive is not a document (the reasons a ReadReport counts)
HIDDEN, OTHER_SUFFIX, BINARY, NOT_REGULAR, NO_NAME = (
    "hidden", "with another suffix", "binary", "not a regular file", "with no usable name")


def _why_not_text(name: str) -> str | None:
    """Why the file ``name`` (a path inside a folder or archive) is not read as a document, or None.

    Documents are the files named with no suffix, ``.txt`` or ``.text``, or whose last dot does
    not start a file-type suffix (``Chapter 1. The river``); hidden files (and files in hidden
    folders, ``__MACOSX``) are not documents.
    """
    parts = PurePosixPath(name).parts
    if any(part.startswith(".") and part not in (".", "..") for part in parts) or (parts and parts[0] == "__MACOSX"):
        return HIDDEN
    suffix = PurePosixPath(parts[-1] if parts else "").suffix
    if suffix.lower() in TEXT_FILE_SUFFIXES or not _FILE_TYPE_SUFFIX.fullmatch(suffix):
        return None
    return OTHER_SUFFIX


def _member_path(name: str) -> PurePosixPath | None:
    """The relative path a member name stands for, without root, ``.`` or ``..`` parts; None when nothing is left.

    Archive member names are user data: ``../x`` or ``/etc/x`` must give a plain id, not a
    path outside the archive (readers never write them, but ids end up in file names of exports).
    """
    parts = [p for p in PurePosixPath(printable_name(name)).parts if p.strip("/") and p != ".."]
    return PurePosixPath(*parts) if parts else None


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


def _folder_entries(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The text files under ``root`` (sorted) and, for every other file, (reason, relative name).

    An unreadable subfolder is an error, not a gap. Links to folders are not followed (a link
    may loop back): they are counted as skipped with the files that are not regular.
    """
    def fail(exc: OSError):
        raise SourceError(f"cannot list folder {printable_name(str(exc.filename))}: {exc.strerror or exc}")

    found, others = [], []
    for folder, subfolders, names in os.walk(root, onerror=fail):
        base = Path(folder)
        for n in names + [d for d in subfolders if (base / d).is_symlink()]:
            path = base / n
            rel = path.relative_to(root).as_posix()
            why = _why_not_text(rel) or (None if path.is_file() else NOT_REGULAR)
            if why is None:
                found.append(path)
            else:
                others.append((why, printable_name(rel)))
    return sorted(found), sorted(others, key=lambda o: o[1])


def _folder_files(root: Path) -> list[Path]:
    """The text files under ``root``, sorted (:func:`_folder_entries`)."""
    return _folder_entries(root)[0]


def read_folder(root: Path, report: ReadReport | None = None) -> Iterator[RawDoc]:
    """Text files under ``root`` (sorted, recursively); the first subfolder is the label.

    Every other file is counted in ``report`` by why it was not read.
    """
    report = report if report is not None else ReadReport()
    files, others = _folder_entries(root)
    for why, name in others:
        report.skip(why, name)
    if not files:
        raise SourceError(f"no text files (.txt or no suffix) found in folder {printable_name(str(root))}"
                          + (f"; {report.skipped_summary()}" if others else ""))
    n_read = 0
    for p in files:
        rel = _member_path(p.relative_to(root).as_posix())
        doc = _doc_from_member(rel, _read_bytes(p))
        if doc is None:
            report.skip(BINARY, str(rel))
            continue
        n_read += 1
        yield doc
    report.finish(root, n_read)


def _strip_common_root(paths: list[PurePosixPath]) -> int:
    """How many leading path parts all archive members share as a wrapping folder (0 or 1)."""
    tops = {p.parts[0] for p in paths}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in paths):
        top = next(iter(tops))
        return 0 if _SPLIT_DIR.search(top) else 1
    return 0


def _archive_error(path: Path, exc: Exception, member: str | None = None) -> SourceError:
    where = f"member {member!r} of {printable_name(str(path))}" if member else printable_name(str(path))
    return SourceError(f"cannot read {where}: the archive is damaged, truncated or unsupported ({first_line(exc)}); "
                       "make it again or extract it and ingest the folder")


def unpack_allowance(path: Path) -> int:
    """How many bytes the text files of archive ``path`` may unpack to (see MAX_UNPACK_RATIO)."""
    return max(MIN_UNPACK_BYTES, MAX_UNPACK_RATIO * path.stat().st_size)


class _SkipMember(Exception):
    """Raised by an archive's member reader for a member that is no document (``reason``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


#: a link whose target is not a file of the archive (a reason of ReadReport)
DANGLING_LINK = "dangling link"


def _archive_docs(path: Path, members: list[tuple[str, object]], read, report: ReadReport) -> Iterator[RawDoc]:
    """Documents of archive members ``(name, handle)`` read with ``read(name, handle, limit)`` (at
    most ``limit`` bytes), sorted by id.

    Members without a usable name, binary members and members ``read`` refuses (:class:`_SkipMember`)
    are counted in ``report``. An archive whose text files unpack to more than
    :func:`unpack_allowance` is refused.
    """
    allowance, unpacked = unpack_allowance(path), 0
    named = []
    for name, handle in members:
        rel = _member_path(name)
        if rel is None:
            report.skip(NO_NAME, printable_name(name))
        else:
            named.append((rel, name, handle))
    skip = _strip_common_root([rel for rel, _, _ in named]) if named else 0
    docs = []
    for rel, name, handle in named:  # archive order is stream order: read in it, emit sorted by id
        short = PurePosixPath(*rel.parts[skip:]) if len(rel.parts) > skip else rel
        try:
            data = read(name, handle, allowance - unpacked + 1)
        except _SkipMember as exc:
            report.skip(exc.reason, str(rel))
            continue
        unpacked += len(data)
        if unpacked > allowance:
            raise SourceError(f"{printable_name(str(path))} unpacks to more than {allowance / 2**20:,.0f} MB of text "
                              f"({MAX_UNPACK_RATIO} times its size or {MIN_UNPACK_BYTES / 2**30:g} GB, whichever is "
                              "more): refused as a likely zip bomb; if it is genuine, extract it and ingest the folder")
        doc = _doc_from_member(short, data)
        if doc is None:
            report.skip(BINARY, str(rel))
        else:
            docs.append(doc)
    report.finish(path, len(docs))
    docs.sort(key=lambda d: d.id)
    return iter(docs)


def _text_members(path: Path, members: list[tuple[str, object]], report: ReadReport) -> list[tuple[str, object]]:
    """The ``(name, handle)`` members named as documents (:func:`_why_not_text`), in archive order; the
    others counted in ``report``. None at all is an error."""
    text = []
    for name, handle in members:
        why = _why_not_text(name)
        if why is None:
            text.append((name, handle))
        else:
            report.skip(why, printable_name(name))
    if not text:
        raise SourceError(f"no text files found in archive {printable_name(str(path))}"
                          + (f"; {report.skipped_summary()}" if report.skipped else ""))
    return text


def read_archive(path: Path, report: ReadReport | None = None) -> Iterator[RawDoc]:
    """Text files inside a tar or zip archive, streamed without extracting to disk; every other
    member but folders is counted in ``report``."""
    report = report if report is not None else ReadReport()
    # a .zip by name, or by content: a zip named .tar.gz still reads
    if path.name.lower().endswith(".zip") or zipfile.is_zipfile(path):
        return _read_zip(path, report)
    return _read_tar(path, report)


def _read_zip(path: Path, report: ReadReport) -> Iterator[RawDoc]:
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (*_ARCHIVE_ERRORS, UnicodeDecodeError) as exc:  # names flagged UTF-8 that are not
        raise SourceError(f"cannot read {printable_name(str(path))}: not a valid zip archive "
                          f"({first_line(exc)})") from exc

    def read(name: str, info: zipfile.ZipInfo, limit: int) -> bytes:
        if info.flag_bits & 0x1:
            raise SourceError(f"member {printable_name(name)!r} of {printable_name(str(path))} is encrypted; "
                              "extract the archive with its password and ingest the folder")
        try:
            with zf.open(info) as f:  # checks the CRC once the member is read to its end
                return f.read(limit)
        except _ARCHIVE_ERRORS as exc:
            raise _archive_error(path, exc, printable_name(name)) from exc

    with zf:
        members = _text_members(path, [(i.filename, i) for i in infos if not i.filename.endswith("/")], report)
        return _archive_docs(path, sorted(members, key=lambda m: m[0]), read, report)


def _read_tar(path: Path, report: ReadReport) -> Iterator[RawDoc]:
    try:
        tf = tarfile.open(path, "r:*")
    except _ARCHIVE_ERRORS as exc:
        # tarfile lists the failure of each compression it tried, one line each: not for people
        raise SourceError(f"cannot read {printable_name(str(path))}: not a tar or zip archive (plain or compressed "
                          "with gzip, bzip2 or xz), or a damaged or truncated one") from exc

    def read(name: str, member: tarfile.TarInfo, limit: int) -> bytes:
        if not (member.isfile() or member.islnk() or member.issym()):
            raise _SkipMember(NOT_REGULAR)
        try:
            f = tf.extractfile(member)  # a hard or symbolic link: its target's content
        except KeyError as exc:
            raise _SkipMember(DANGLING_LINK) from exc
        except _ARCHIVE_ERRORS as exc:
            raise _archive_error(path, exc, printable_name(name)) from exc
        if f is None:  # a link to a folder or a special file
            raise _SkipMember(NOT_REGULAR)
        try:
            return f.read(limit)
        except _ARCHIVE_ERRORS as exc:
            raise _archive_error(path, exc, printable_name(name)) from exc

    with tf:
        try:
            members = [m for m in tf.getmembers() if not m.isdir()]
            _check_tar_end(tf)
        except _ARCHIVE_ERRORS as exc:
            raise _archive_error(path, exc) from exc
        members = _text_members(path, [(m.name, m) for m in members], report)
        return _archive_docs(path, members, read, report)


def _check_tar_end(tf: tarfile.TarFile) -> None:
    """Raise when the member list ended at a damaged header rather than at the end of the archive.

    tarfile stops listing members quietly at a bad header after the first; the members
    after it would be lost without a word.
    """
    tf.fileobj.seek(tf.offset)
    block = tf.fileobj.read(tarfile.BLOCKSIZE)
    if block.strip(b"\x00"):
        raise tarfile.ReadError(f"bad member header at byte {tf.offset}")


# ---------------------------------------------------------------- tables
def _check_columns(have: list[str], columns: TableColumns, source: Path) -> None:
    for role in ROLES:
        col = getattr(columns, role)
        if col is not None and col not in have:
            shown = ", ".join(_short(c) for c in have[:20]) + (f" ... ({len(have)} in all)" if len(have) > 20 else "")
            raise SourceError(
                f"{printable_name(str(source))}: no {role} column {col!r}; columns are: {shown} "
                f"(choose one with --{role}-col)"
            )


def _positional(columns: TableColumns) -> TableColumns:
    """``columns`` of a headerless table with each position written plainly (``"01"`` → ``"1"``).

    Without a header a column has no name but its position, so anything else is a mistake
    to report now, before the file is read.
    """
    named = {}
    for role in ROLES:
        col = getattr(columns, role)
        if col is None:
            continue
        if role == "text" and col == TableColumns.text:  # the default name: no column has one now
            raise SourceError("--no-header names columns by position: say which holds the text, "
                              "--text-col 0 for the first column")
        if not re.fullmatch(r"[0-9]+", col.strip()):
            raise SourceError(f"--no-header names columns by position: --{role}-col must be a number "
                              f"(0 for the first column), not {_short(col)!r}")
        named[role] = str(int(col))
    return replace(columns, **named)


def _check_positions(n_columns: int, columns: TableColumns, source: Path) -> None:
    for role in ROLES:
        col = getattr(columns, role)
        if col is not None and int(col) >= n_columns:
            raise SourceError(f"{printable_name(str(source))}: no column at position {col} for --{role}-col; "
                              f"the file has {n_columns} column(s), positions 0 to {n_columns - 1}")


def _short(name: str, limit: int = 40) -> str:
    """A column name fit for a one-line message: control characters escaped, long names cut."""
    name = name if name.isprintable() else repr(name)
    return name if len(name) <= limit else name[:limit] + "..."


def _is_missing(v) -> bool:
    """None, NaN, NaT or pandas' NA (a missing table cell); False for lists and other containers."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):  # pd.NA refuses bool(); arrays compare element-wise
        return type(v).__name__ == "NAType"


def _cell_text(v) -> str:
    if _is_missing(v):
        return ""
    if isinstance(v, bytes):  # a Parquet binary column
        return decode(v)[0]
    return str(v)


def _opt_str(v) -> str | None:
    return None if _is_missing(v) else _cell_text(v)


# ---------------------------------------------------------------- table rows, column-wise
@dataclass
class DocTable:
    """Documents column-wise: what a table reader makes of a chunk of rows, and what a streamed ingest
    takes a partition at a time (no Python object per document, no dict per row).

    ``frame``: ``id`` and ``text`` (str), ``label``, ``date`` and ``split`` (pandas' ``"string"``, missing
    as NA), one row per document, indexed from 0; ``meta``: each metadata field's values by its name in
    the source (None where a document lacks it); ``bad_utf8``: the documents with a replacement
    character (U+FFFD) in any cell of their row.
    """

    frame: "pd.DataFrame"
    meta: dict[str, list]
    bad_utf8: "np.ndarray"

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def of_docs(cls, docs: list[RawDoc]) -> "DocTable":
        """The documents of ``docs`` column-wise (a field a document's ``meta`` lacks: None there)."""
        import numpy as np
        import pandas as pd

        frame = pd.DataFrame({
            "id": [d.id for d in docs],
            "text": [d.text for d in docs],
            "label": pd.array([d.label for d in docs], dtype="string"),
            "date": pd.array([d.date for d in docs], dtype="string"),
            "split": pd.array([d.split for d in docs], dtype="string"),
        })
        fields = dict.fromkeys(k for d in docs for k in d.meta)
        meta = {k: [d.meta.get(k) for d in docs] for k in fields}
        return cls(frame, meta, np.array([d.bad_utf8 for d in docs], dtype=bool))

    def docs(self) -> Iterator[RawDoc]:
        """The documents one by one."""
        import pandas as pd

        f = self.frame
        ids, texts = f["id"].tolist(), f["text"].tolist()
        label, date, split = ([None if v is pd.NA else v for v in f[c].tolist()] for c in ("label", "date", "split"))
        for i in range(len(f)):
            yield RawDoc(id=ids[i], text=texts[i], label=label[i], date=date[i], split=split[i],
                         meta={k: v[i] for k, v in self.meta.items()}, bad_utf8=bool(self.bad_utf8[i]))

    def take(self, rows) -> "DocTable":
        """The documents at ``rows`` (positions, or a boolean mask)."""
        import numpy as np

        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=np.int64)
        return DocTable(self.frame.iloc[rows].reset_index(drop=True),
                        {k: [v[i] for i in rows] for k, v in self.meta.items()}, self.bad_utf8[rows])

    @classmethod
    def concat(cls, parts: list["DocTable"]) -> "DocTable":
        """The documents of ``parts`` one after another (a field some part lacks: None in its rows)."""
        import numpy as np
        import pandas as pd

        if len(parts) == 1:
            return parts[0]
        fields = dict.fromkeys(k for t in parts for k in t.meta)
        meta = {k: [v for t in parts for v in t.meta.get(k, [None] * len(t))] for k in fields}
        return cls(pd.concat([t.frame for t in parts], ignore_index=True), meta,
                   np.concatenate([t.bad_utf8 for t in parts]))


def _is_text_column(values) -> bool:
    """True for a pandas column of pandas' string type (its cells text or missing)."""
    import pandas as pd

    return isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype)


def _cell_list(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _texts(values, n: int):
    """Each cell as text ("" where missing), as :func:`_cell_text` reads one."""
    if values is None:
        return [""] * n
    if _is_text_column(values):
        return values.fillna("").array
    return [_cell_text(v) for v in _cell_list(values)]


def _optional_texts(values, n: int):
    """Each cell as text or NA where missing (pandas' ``"string"``), as :func:`_opt_str` reads one."""
    import pandas as pd

    if values is None:
        return pd.array([None] * n, dtype="string")
    if _is_text_column(values):
        return pd.array(values.array, dtype="string")
    return pd.array([_opt_str(v) for v in _cell_list(values)], dtype="string")


def _missing_cells(values, n: int):
    import numpy as np

    if values is None:
        return np.ones(n, dtype=bool)
    if _is_text_column(values):
        return values.isna().to_numpy(dtype=bool)
    return np.array([_is_missing(v) for v in _cell_list(values)], dtype=bool)


def _cells_holding(values, chars: str):
    """Which cells (of a pandas column or a list) are text holding any of ``chars``: Python's substring
    search cell by cell, some times faster than Arrow's over a column of long texts."""
    import numpy as np

    cells = _cell_list(values)
    found = np.zeros(len(cells), dtype=bool)
    for char in chars:
        found |= np.fromiter((isinstance(v, str) and char in v for v in cells), dtype=bool, count=len(cells))
    return found


def _doc_table(cells: dict, n: int, columns: TableColumns, source: Path, first: int,
               where: Callable[[int], str] | None = None) -> DocTable:
    """The documents of ``n`` table rows given column by column: ``cells`` maps each column's name to
    its values (a pandas column, or a list with None where a row lacks the column). Row i is the stream's
    row ``first + i`` (its id when ``columns.id`` is None), named ``where(i)`` in messages (default:
    'row first+i+1'). Columns other than the named roles become metadata.

    A row with a replacement character (U+FFFD: bytes that were not valid text) in any cell, label
    and metadata included, is flagged ``bad_utf8``.
    """
    import numpy as np
    import pandas as pd

    if columns.id:
        missing = _missing_cells(cells.get(columns.id), n)
        if missing.any():
            i = int(np.argmax(missing))
            place = where(i) if where else f"row {first + i + 1}"
            raise SourceError(f"{printable_name(str(source))}: {place} has no {columns.id!r} (the --id-col); "
                              "give every document an id or drop --id-col")
        ids = _texts(cells[columns.id], n)
    else:
        ids = [str(i) for i in range(first, first + n)]

    def optional(role: str):
        return _optional_texts(cells.get(getattr(columns, role)) if getattr(columns, role) else None, n)

    frame = pd.DataFrame({"id": ids, "text": _texts(cells.get(columns.text), n), "label": optional("label"),
                          "date": optional("date"), "split": optional("split")})
    roles = {getattr(columns, role) for role in ROLES} - {None}
    meta = {k: _cell_list(v) for k, v in cells.items() if k not in roles}
    bad = np.zeros(n, dtype=bool)
    for values in cells.values():
        bad |= _cells_holding(values, "\ufffd")
    return DocTable(frame, meta, bad)


def _rows(tables: Iterable[DocTable]) -> Iterator[RawDoc]:
    for table in tables:
        yield from table.docs()


def _batches(docs: Iterable[RawDoc], size: int) -> Iterator[DocTable]:
    """``docs`` column-wise, ``size`` documents at a time."""
    docs = iter(docs)
    while batch := list(itertools.islice(docs, size)):
        yield DocTable.of_docs(batch)


def _strip_nul_cells(df) -> int:
    """Remove NUL characters from the text cells of ``df`` (in place); the number of cells changed.

    pandas keeps NULs in cells, but no text tool downstream wants them; they come from
    damaged exports, and the rest of the cell is worth keeping. The reader warns once, with
    the count over the whole file, when it has read it.
    """
    n_cells = 0
    for col in df.columns:
        values = df[col]
        has_nul = _cells_holding(values, "\x00")
        if has_nul.any():
            n_cells += int(has_nul.sum())
            df[col] = values.str.replace("\x00", "", regex=False)
    return n_cells


#: rows of a table read, and turned into Python values, at a time: a reader never holds the whole table
_RECORDS = 10_000
#: characters of a CSV/TSV decoded at a time by the pre-scan of ``--quoting auto``
_BLOCK = 1 << 22


def _text_stream(path: Path, encoding: str, newline: str = "") -> io.TextIOWrapper:
    """The file's text, decoded as it is read (invalid bytes replaced, as :func:`decode` replaces
    them), line endings untranslated."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise SourceError(f"cannot read {printable_name(str(path))}: {exc.strerror or exc}") from exc
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)


def read_table(path: Path, fmt: str, columns: TableColumns, report: ReadReport | None = None) -> Iterator[DocTable]:
    """Rows of a CSV, TSV or Parquet file, a :class:`DocTable` of :data:`_RECORDS` rows at a time (a
    Parquet file a batch at a time); columns other than the named roles become metadata.

    The first chunk is read now (so that a file that cannot be read, or lacks a named column, fails
    here), the rest as they are asked for.

    A CSV or TSV without a header (``columns.header`` False) has columns ``"0"``, ``"1"``, ...;
    how its quotes were read (``columns.quoting``, :func:`_delimited_quoting`) goes into ``report``,
    its count of rows spanning lines once the whole file is read.
    """
    report = report if report is not None else ReadReport()
    if not columns.header:
        columns = _positional(columns)
    if fmt == "parquet":
        chunks = _parquet_chunks(path)
    else:
        head = _read_bytes(path, _HEAD)
        if _clearly_binary(head):
            raise SourceError(f"cannot read {printable_name(str(path))}: it looks like a binary file, "
                              f"not {fmt.upper()} text")
        chunks = _delimited_chunks(path, fmt, columns, text_encoding(head), report)

    def failed(exc: Exception) -> SourceError:
        return SourceError(f"cannot read {printable_name(str(path))} as {fmt}: {first_line(exc)}")

    as_cells = _parquet_cells if fmt == "parquet" else _text_cells
    try:
        df = next(chunks)
        # inside the try: Arrow-backed columns decode their strings only now, and a damaged
        # Parquet file's may not be UTF-8 (the first rows here, the others as they are read)
        cells = as_cells(df)
    except SourceError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for malformed files
        raise failed(exc) from exc
    if columns.header:
        _check_columns([str(c) for c in df.columns], columns, path)
    else:
        _check_positions(len(df.columns), columns, path)
    first = _doc_table(cells, len(df), columns, path, 0)
    del df, cells

    def tables() -> Iterator[DocTable]:
        yield first
        n_read = len(first)
        while True:
            try:
                chunk = next(chunks, None)
                cells = None if chunk is None else as_cells(chunk)
            except SourceError:
                raise
            except Exception as exc:  # as above: a damaged file further on
                raise failed(exc) from exc
            if cells is None:
                return
            yield _doc_table(cells, len(chunk), columns, path, n_read)
            n_read += len(chunk)

    return tables()


def _parquet_cells(df) -> dict[str, list]:
    """A Parquet batch's columns as Python values, as ``to_dict("records")`` boxes them (its strings
    decoded now, so that a damaged file fails here, in the words of Python's codec)."""
    records = df.to_dict("records")
    return {str(c): [r[c] for r in records] for c in df.columns}


def _text_cells(df) -> dict:
    """A CSV/TSV chunk's columns (cells of text or NaN), by name."""
    return {str(c): df.iloc[:, j] for j, c in enumerate(df.columns)}


def _delimited_chunks(path: Path, fmt: str, columns: TableColumns, encoding: str, report: ReadReport):
    """The cells of a CSV/TSV, a DataFrame of :data:`_RECORDS` rows at a time, read as ``columns.quoting``
    (or, for ``auto``, :func:`_delimited_quoting`) says; NULs removed from the cells, with one warning
    once the file is read. ``report`` gets the quoting used and the rows that span lines."""
    sep = "\t" if fmt == "tsv" else ","
    quoting = columns.quoting
    if quoting == "auto":
        quoting = _delimited_quoting(path, encoding, sep, columns.header)
        if quoting == "none":
            log.warning("%s: quoted fields would join lines into other rows; each line is read as one row, quotes "
                        "as text (--quoting csv reads them as quoted fields)", printable_name(str(path)))
    report.quoting, report.rows_over_lines = quoting, 0
    n_nul = 0
    with _text_stream(path, encoding) as f:
        for df in _parse_delimited(f, sep, columns.header, quoting):
            n_nul += _strip_nul_cells(df)
            if quoting == "csv":
                report.rows_over_lines += _rows_over_lines(df)
            yield df
    if n_nul:
        log.warning("%s: removed NUL characters from %d cell(s)", printable_name(str(path)), n_nul)


def _parse_delimited(f, sep: str, header: bool, quoting: str) -> Iterator:
    """The cells of a CSV/TSV (an open text file) as strings (missing: NaN), read with quoted fields
    or without, a DataFrame of :data:`_RECORDS` rows at a time (one, empty, for a header alone)."""
    import csv

    import pandas as pd

    reader = pd.read_csv(f, sep=sep, dtype=str, header="infer" if header else None,
                         keep_default_na=False, na_values=[""], skip_blank_lines=False,
                         quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL, chunksize=_RECORDS)
    with reader:
        for df in reader:
            if not header:
                df.columns = [str(i) for i in range(len(df.columns))]
            yield df


def _swallowed_rows(df, sep: str) -> bool:
    """Whether a cell that spans lines holds, after a line break, the separator: rows of a file
    without quoting conventions swallowed into one quoted field. A quoted paragraph of text has no
    separator after its breaks as a rule; a one-column file cannot tell, and is read as quoted."""
    if len(df.columns) < 2:
        return False
    pattern = "[\r\n][^" + re.escape(sep) + "]*" + re.escape(sep)
    return any(df[col].str.contains(pattern, regex=True, na=False).any() for col in df.columns)


def _rows_over_lines(df) -> int:
    """How many rows hold a line break in a cell: rows that quoted fields carried over several lines."""
    spans = None
    for col in df.columns:
        has = _cells_holding(df[col], "\r\n")
        spans = has if spans is None else spans | has
    return 0 if spans is None else int(spans.sum())


def _has_quote(path: Path, encoding: str) -> bool:
    """Whether the file holds a double quote, read a block at a time; it stops at the first. (A file
    without one reads the same with quoted fields or without: most TSVs and many CSVs are told so at
    the speed of reading them.)"""
    with _text_stream(path, encoding) as f:
        while block := f.read(_BLOCK):
            if '"' in block:
                return True
    return False


def _one_row_per_line(path: Path, encoding: str, sep: str) -> bool:
    """Whether every non-blank line holds the fields of the first one when quotes are text, as
    ``str.splitlines`` cuts lines, read a block at a time; it stops at the first line that differs."""
    width = None
    with _text_stream(path, encoding) as f:
        carry = ""
        while True:
            block = f.read(_BLOCK)
            lines = (carry + block).splitlines(keepends=True)
            carry = lines.pop() if block and lines else ""  # the last line may go on in the next block
            for line in lines:
                if line.strip():
                    n = line.count(sep)
                    if width is None:
                        width = n
                    elif n != width:
                        return False
            if not block:
                return True


def _delimited_quoting(path: Path, encoding: str, sep: str, header: bool) -> str:
    """How ``--quoting auto`` reads a CSV/TSV: ``"csv"`` (quoted fields) unless quoted fields would
    join lines of a file that holds one row per line when quotes are read as text: ``"none"`` then.

    A field that opens with a stray double quote (hand-written or exported without quoting) runs to
    the next quote, and the rows between vanish into one cell, separators and all
    (:func:`_swallowed_rows`), or the quote never closes. Such a file has the same number of fields
    on every line when quotes are text, which a file whose quoted fields hold line breaks does not.

    A pre-scan, streamed: whether there is any quote (without one both readings are the same), then
    the lines' fields; only a file with quotes and one row per line is then read with quoted fields,
    a chunk at a time, to see whether a cell spanning lines swallowed separators.
    """
    if not (_has_quote(path, encoding) and _one_row_per_line(path, encoding, sep)):
        return "csv"  # a parse that fails fails the same way with either reading
    try:
        with _text_stream(path, encoding) as f:
            for df in _parse_delimited(f, sep, header, "csv"):
                if _rows_over_lines(df) and _swallowed_rows(df, sep):
                    return "none"
    except SourceError:
        raise
    except Exception:  # a quoted field that never closes
        return "none"
    return "csv"


def _parquet_chunks(path: Path) -> Iterator:
    """The rows of a Parquet file as DataFrames, a batch of :data:`_RECORDS` rows at a time, each
    column's values as ``pandas.read_parquet`` gives them for the whole file (an integer column with a
    missing value anywhere is float in every batch)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        from pandas.io._util import arrow_table_to_pandas as to_pandas  # what pandas.read_parquet converts with
    except ImportError:  # pragma: no cover - another pandas
        def to_pandas(table):
            return table.to_pandas()

    with pq.ParquetFile(path) as pf:
        with_nulls = set()
        for name in [f.name for f in pf.schema_arrow if pa.types.is_integer(f.type)]:
            for rg in range(pf.num_row_groups):
                if pf.read_row_group(rg, columns=[name]).column(0).null_count:
                    with_nulls.add(name)
                    break
        empty = True
        for batch in pf.iter_batches(batch_size=_RECORDS, use_pandas_metadata=True):
            empty = False
            df = to_pandas(pa.Table.from_batches([batch]))
            for name in with_nulls & set(df.columns):
                if df[name].dtype.kind in "iu":
                    df[name] = df[name].astype("float64")
            df.columns = [str(c) for c in df.columns]
            yield df
        if empty:  # no rows: its columns still
            df = to_pandas(pf.schema_arrow.empty_table())
            df.columns = [str(c) for c in df.columns]
            yield df


# A JSON escape of a UTF-16 surrogate: alone (not in a pair) it decodes to a character
# that UTF-8 cannot hold, so the strings of such a line are checked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(obj):
    """``obj`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(obj, str):
        return _LONE_SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, list):
        return [_without_lone_surrogates(v) for v in obj]
    if isinstance(obj, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in obj.items()}
    return obj


def _json_line(line: str, lineno: int, path: Path) -> dict:
    try:
        obj = json.loads(line)
        if _SURROGATE_ESCAPE.search(line):
            obj = _without_lone_surrogates(obj)
    except RecursionError as exc:
        raise SourceError(f"{printable_name(str(path))}: line {lineno} nests arrays or objects too deeply "
                          "to read") from exc
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        raise SourceError(f"{printable_name(str(path))}: line {lineno} is not valid JSON "
                          f"({getattr(exc, 'msg', str(exc))})") from exc
    if not isinstance(obj, dict):
        raise SourceError(f"{printable_name(str(path))}: line {lineno} is not a JSON object")
    return obj


def _json_rows(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line, the file decoded as it is read."""
    # lines end at "\n" only: str.splitlines would also split at U+2028 and others, valid inside JSON
    # strings; decoded text, not bytes, is cut (lines of UTF-16 cannot be split at the byte b"\n")
    with _text_stream(path, encoding, newline="\n") as f:
        for lineno, line in enumerate(f, 1):
            if line.endswith("\n"):
                line = line[:-1]
            if line.strip():
                yield lineno, _json_line(line, lineno, path)


def read_jsonl(path: Path, columns: TableColumns) -> Iterator[DocTable]:
    """JSON Lines: one object per line; a malformed line is reported with its number.

    Read a :class:`DocTable` of :data:`_RECORDS` lines at a time: the first now, the rest as they are
    asked for (a field a line lacks is None there). A named column that none of the first rows has is
    looked for in every line's keys first (a pass over the file that keeps the keys only), so that a
    column no row has fails here."""
    encoding = text_encoding(_read_bytes(path, _HEAD))
    rows = _json_rows(path, encoding)
    first = list(itertools.islice(rows, _RECORDS))
    if not first:
        raise SourceError(f"{printable_name(str(path))}: no JSON lines found")
    have = dict.fromkeys(k for _, r in first for k in r)
    named = [getattr(columns, role) for role in ROLES if getattr(columns, role) is not None]
    if len(first) == _RECORDS and any(c not in have for c in named):
        for _, r in _json_rows(path, encoding):
            have.update(dict.fromkeys(r))
    _check_columns(list(have), columns, path)

    def tables() -> Iterator[DocTable]:
        n_read = 0
        for chunk in itertools.chain([first], iter(lambda: list(itertools.islice(rows, _RECORDS)), [])):
            lines = [lineno for lineno, _ in chunk]
            records = [row for _, row in chunk]
            cells = {k: [r.get(k) for r in records] for k in dict.fromkeys(k for r in records for k in r)}
            yield _doc_table(cells, len(records), columns, path, n_read, lambda i: f"line {lines[i]}")
            n_read += len(records)

    return tables()


# ---------------------------------------------------------------- OCTIS
def _is_octis_folder(path: Path) -> bool:
    """Whether a folder is OCTIS' dataset layout: ``corpus.tsv`` and no text files of its own.

    A folder that holds both ``corpus.tsv`` and other text files could be either a
    dataset or a folder of documents; guessing would read the wrong documents.
    """
    if not (path / OCTIS_CORPUS).is_file():
        return False
    others = [p for p in _folder_files(path) if p.relative_to(path).as_posix() not in _OCTIS_TEXT_FILES]
    if others:
        raise SourceError(f"{printable_name(str(path))} holds {OCTIS_CORPUS} (OCTIS' dataset layout) and "
                          f"{len(others)} other text file(s) (first: {printable_name(others[0].name)!r}); "
                          "pass --format octis or --format folder")
    return True


def _octis_fields(line: str) -> list[str]:
    """The tab-separated fields of a row, unquoted as pandas' ``to_csv`` (which OCTIS saves with) quotes them."""
    fields = line.split("\t")
    return [f[1:-1].replace('""', '"') if len(f) >= 2 and f[0] == f[-1] == '"' else f for f in fields]


def _looks_like_octis_rows(path: Path) -> bool:
    """Whether the first rows of a .tsv all have three fields with a split (train, val, test) in the second.

    A header row (``text<TAB>split<TAB>label``) has none, so a table with a header is never
    taken for OCTIS' layout; a damaged or binary file is left to the TSV reader to report.
    """
    head = _read_bytes(path, 16 * _HEAD)
    if not head or looks_binary(head):
        return False
    lines = decode(head)[0].split("\n")
    if len(head) == 16 * _HEAD:
        lines = lines[:-1]  # the last line may be cut
    rows = [_octis_fields(line.rstrip("\r")) for line in lines if line.strip()][:_OCTIS_SNIFF_LINES]
    return bool(rows) and all(len(r) == 3 and r[1] in OCTIS_SPLITS for r in rows)


def octis_corpus_file(path: Path) -> Path:
    """The ``corpus.tsv`` of an OCTIS dataset folder, or ``path`` itself when it is a file."""
    if not path.is_dir():
        return path
    corpus = path / OCTIS_CORPUS
    if not corpus.is_file():
        raise SourceError(f"no {OCTIS_CORPUS} in folder {printable_name(str(path))}; OCTIS' dataset layout is "
                          f"a folder with {OCTIS_CORPUS} (and optionally metadata.json, vocabulary.txt)")
    return corpus


def _check_octis_columns(columns: TableColumns) -> None:
    """OCTIS' rows have fixed columns: a column option would be silently ignored, so it is refused."""
    default = TableColumns()
    given = [f"--{role}-col" for role in ROLES if getattr(columns, role) != getattr(default, role)]
    if given:
        raise SourceError(f"OCTIS' corpus.tsv has fixed columns (text, split, label); drop {', '.join(given)}, "
                          "or read the file as a table with --format tsv --no-header")


def _octis_metadata(corpus: Path) -> tuple[Path, dict] | None:
    """OCTIS' ``metadata.json`` beside ``corpus.tsv`` (or ``NAME.metadata.json`` beside ``NAME.tsv``), if any."""
    name = "metadata.json" if corpus.name == OCTIS_CORPUS else corpus.stem + ".metadata.json"
    path = corpus.with_name(name)
    if not path.is_file():
        return None
    try:
        meta = json.loads(decode(_read_bytes(path))[0])
    except (ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        log.warning("%s: not a JSON object; the document counts were not checked against it",
                    printable_name(str(path)))
        return None
    return path, meta


def _check_octis_counts(corpus: Path, splits: Counter) -> None:
    """Warn when the rows read differ from the counts OCTIS' metadata.json records.

    OCTIS keeps the rows of each split together and records where they end
    (``last-training-doc``, ``last-validation-doc``); a difference means a file was cut or
    edited (or, as for some published datasets, the metadata describes an earlier version).
    """
    found = _octis_metadata(corpus)
    if found is None:
        return
    path, meta = found
    expected = {"total_documents": sum(splits.values()), "last-training-doc": splits["train"],
                "last-validation-doc": splits["train"] + splits["val"]}
    differ = [f"{key} {meta[key]!r}, read {n}" for key, n in expected.items() if key in meta and meta[key] != n]
    if differ:
        log.warning("%s: the rows read differ from %s (%s)", printable_name(str(corpus)), path.name, "; ".join(differ))


def read_octis(path: Path, columns: TableColumns | None = None) -> Iterator[RawDoc]:
    """OCTIS' ``corpus.tsv`` (a dataset folder, or the file): one ``text<TAB>split<TAB>label`` row per document.

    The label may be left out (two fields a row), as OCTIS allows, but every row has the
    same number of fields and a split of ``train``, ``val`` or ``test``: anything else is a
    damaged row, reported with its line number. The id is the row's position (0 = the
    first). ``val`` stays its own split. ``vocabulary.txt`` is not read: the corpus gets its
    vocabulary from its own preprocessing settings.
    """
    _check_octis_columns(columns or TableColumns())
    corpus = octis_corpus_file(path)
    raw = _read_bytes(corpus)
    if _clearly_binary(raw):
        raise SourceError(f"cannot read {printable_name(str(corpus))}: it looks like a binary file, not OCTIS' TSV")
    text, _ = decode(raw)
    if "\x00" in text:  # damage in a row, as in CSV cells: the rest of the row is worth keeping
        log.warning("%s: removed NUL characters from %d row(s)", printable_name(str(corpus)),
                    sum("\x00" in line for line in text.split("\n")))
        text = text.replace("\x00", "")
    docs, n_fields, splits = [], None, Counter()
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = _octis_fields(line)
        n_fields = n_fields or len(fields)
        if len(fields) not in (2, 3) or len(fields) != n_fields:
            raise SourceError(f"{printable_name(str(corpus))}: line {lineno} has {len(fields)} tab-separated "
                              f"field(s), expected {n_fields if n_fields in (2, 3) else 3} "
                              "(OCTIS' rows are text<TAB>split<TAB>label)")
        if fields[1] not in OCTIS_SPLITS:
            raise SourceError(f"{printable_name(str(corpus))}: line {lineno} has split {_short(fields[1])!r}; "
                              "OCTIS' splits are train, val and test")
        splits[fields[1]] += 1
        docs.append(RawDoc(id=str(len(docs)), text=fields[0], split=fields[1],
                           label=(fields[2] or None) if len(fields) == 3 else None, bad_utf8=any("\ufffd" in f for f in fields)))
    if not docs:
        raise SourceError(f"{printable_name(str(corpus))}: no rows found")
    _check_octis_counts(corpus, splits)
    return iter(docs)


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
