"""Where topicvae reads and writes: folders, safe names, atomic writes, locks and debris.

Defaults are folders under the current directory; each can be moved with an
environment variable or the matching CLI flag.

Every write goes to a hidden sibling first (``.NAME.tmp-PID.START-XXXXXXXX``, named after the
process that writes it: its pid and, where the system tells it, its start time) and is renamed
into place when complete, so a reader never sees half a file or folder. A process killed
mid-write leaves that sibling behind; the next writer in the same folder removes it
(:func:`sweep_debris`), because its owner is dead (or its pid now names another process).
Writers of corpora and runs also hold ``.NAME.lock`` (:func:`name_lock`) for the whole
job, so two processes never build the same name at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from topicvae.errors import ConfigError, InUseError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, writers are not serialised
    fcntl = None

logger = logging.getLogger(__name__)

CORPORA_ENV = "TOPICVAE_CORPORA_DIR"
RUNS_ENV = "TOPICVAE_RUNS_DIR"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def corpora_dir(override: str | os.PathLike | None = None) -> Path:
    """The corpora folder: ``override``, else ``$TOPICVAE_CORPORA_DIR``, else ``./corpora``."""
    return Path(override or os.environ.get(CORPORA_ENV) or "corpora")


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """The runs folder: ``override``, else ``$TOPICVAE_RUNS_DIR``, else ``./runs``."""
    return Path(override or os.environ.get(RUNS_ENV) or "runs")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a safe folder name (letters, digits, ``. _ -``), else raise."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ConfigError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-' only "
            "(no '/', no '..', at most 128 characters, starting with a letter or digit)"
        )
    return name


def resolve_inside(root: str | os.PathLike, name: str, what: str = "name") -> Path:
    """The folder ``root/name``, refusing a name or a link that leads outside ``root``.

    For names that come from a user interface (a URL, a picker): :func:`check_name`
    alone does not stop a symbolic link inside ``root`` that points elsewhere.

    Raises:
        ConfigError: ``name`` is not a plain folder name (see :func:`check_name`)
            or ``root/name`` resolves (through a symbolic link) to a place outside ``root``.
    """
    check_name(name, what)
    base = Path(root).resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise ConfigError(f"{what} {name!r} leads outside {base}; only folders inside it can be opened")
    return target


def resolve_run_dir(name: str, runs: str | os.PathLike | None = None) -> Path:
    """:func:`resolve_inside` of the runs folder (:func:`runs_dir` of ``runs``)."""
    return resolve_inside(runs_dir(runs), name, "run name")


def resolve_corpus_dir(name: str, corpora: str | os.PathLike | None = None) -> Path:
    """:func:`resolve_inside` of the corpora folder (:func:`corpora_dir` of ``corpora``)."""
    return resolve_inside(corpora_dir(corpora), name, "corpus name")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_problem(file: Path, sha256: str | None, size: int | None, need_digest: bool = False) -> str | None:
    """What is wrong with ``file`` next to the ``size`` and ``sha256`` recorded for it (None: not
    recorded, not checked; with ``need_digest`` an unrecorded digest is a mismatch), or None."""
    if not file.is_file():
        return f"{file.name} is missing"
    if size is not None and file.stat().st_size != size:
        return f"{file.name} has {file.stat().st_size:,} bytes, {size:,} were written"
    if (sha256 is not None or need_digest) and sha256_file(file) != sha256:
        return f"{file.name} does not match its checksum (changed or damaged)"
    return None


def temp_sibling(final: Path, kind: str = "tmp") -> Path:
    """A hidden name beside ``final`` that names this process: ``.NAME.KIND-PID.START-XXXXXXXX``
    (``.NAME.KIND-PID-XXXXXXXX`` where the start time is unknown, see :func:`process_start`)."""
    pid = os.getpid()
    start = process_start(pid)
    owner = f"{pid}.{start}" if start is not None else str(pid)
    return final.parent / f".{final.name}.{kind}-{owner}-{uuid.uuid4().hex[:8]}"


def file_records(folder: str | os.PathLike) -> dict[str, dict]:
    """{file name: {"bytes": size, "sha256": digest}} of the files directly in ``folder``."""
    return {f.name: {"bytes": f.stat().st_size, "sha256": sha256_file(f)}
            for f in sorted(Path(folder).iterdir()) if f.is_file()}


@contextlib.contextmanager
def atomic_dir(final: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` when the block succeeds.

    On an exception the temporary folder is removed and ``final`` is untouched. With
    ``force`` an existing ``final`` is replaced only after the new one is complete (if the
    process dies between the two renames, :func:`sweep_debris` puts the old one back).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_debris(final.parent)
    tmp = temp_sibling(final)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = _rename_into_place(tmp, final, force)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _rename_into_place(tmp: Path, final: Path, force: bool) -> Path | None:
    """Rename the complete ``tmp`` to ``final`` (an existing ``final`` to an ``old`` sibling first, with
    ``force``); return that sibling. Any failure (refusal, a full disk, a crash of the rename) removes
    ``tmp`` and puts the old version back, so nothing of the attempt stays."""
    old = None
    try:
        if final.exists():
            if not force:
                raise ConfigError(f"{final} already exists; pass --force to replace it")
            old = temp_sibling(final, "old")
            final.rename(old)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not final.exists():
            with contextlib.suppress(OSError):  # else sweep_debris restores it later
                old.rename(final)
        raise
    return old


@contextlib.contextmanager
def atomic_file(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; move it onto ``final`` when the block succeeds.

    On an exception the temporary file is removed and ``final`` keeps its old content.
    """
    final = Path(final)
    sweep_debris(final.parent)
    tmp = temp_sibling(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- debris
# .NAME.tmp-PID.START-XXXXXXXX / .NAME.old-PID.START-XXXXXXXX (and the START-less and PID-less names
# older versions wrote)
_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?:(?P<pid>\d+)(?:\.(?P<start>\d+))?-)?[0-9a-f]{8}$")


@dataclass(frozen=True)
class Debris:
    """A temporary sibling left by a write: ``kind`` 'tmp' (new content) or 'old' (replaced content)."""

    path: Path
    name: str  # the name it was written for
    kind: str
    pid: int | None  # the writing process (None: written by a version that did not record it)
    start: int | None = None  # its start time (None: not recorded, see :func:`process_start`)

    @property
    def owner_alive(self) -> bool:
        return self.pid is not None and process_running(self.pid, self.start)


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists (on this machine)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (field 22 of Linux's ``/proc/PID/stat``),
    or None where that cannot be read (another system, no such process, a hidden /proc).

    With the pid it names one process instance: a pid is reused once its process is gone, the
    pair is not, so a temporary folder of a dead writer is not taken for a live one's.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 1:].split()  # after the command name, which may hold spaces
    try:
        return int(fields[19])  # field 22 of the line; fields[0] is field 3
    except (IndexError, ValueError):
        return None


def process_running(pid: int, start: int | None = None) -> bool:
    """True when process ``pid`` is alive and, if its ``start`` time was recorded and the current
    one can be read, is the same process (not a later one that was given the same pid)."""
    if not pid_alive(pid):
        return False
    if start is None:
        return True  # nothing to tell instances apart: today's answer
    now = process_start(pid)
    return now is None or now == start


def find_debris(folder: str | os.PathLike) -> list[Debris]:
    """The temporary siblings in ``folder``, whoever owns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        m = _DEBRIS.match(entry.name)
        if m:
            found.append(Debris(entry, m["name"], m["kind"], int(m["pid"]) if m["pid"] else None,
                                int(m["start"]) if m["start"] else None))
    return found


def sweep_debris(folder: str | os.PathLike, locked: frozenset[str] | set[str] = frozenset()) -> list[Path]:
    """Remove the temporary siblings in ``folder`` whose writer is gone; return what was removed.

    A sibling counts as gone when its process is dead, or (for the PID-less names of older
    versions) when it belongs to a name in ``locked``, whose lock the caller holds. An
    ``old`` sibling whose ``final`` is missing is the previous complete version, stranded
    by a kill between the two renames of :func:`atomic_dir`: it is renamed back, not removed.
    """
    removed = []
    for d in find_debris(folder):
        if d.owner_alive or (d.pid is None and d.name not in locked):
            continue
        final = d.path.parent / d.name
        try:
            if d.kind == "old" and not final.exists():
                d.path.rename(final)
                logger.warning("restored %s from an interrupted replacement", final)
                continue
            if d.path.is_dir() and not d.path.is_symlink():
                shutil.rmtree(d.path)
            else:
                d.path.unlink()
        except FileNotFoundError:  # another process swept it first
            continue
        except OSError as exc:
            logger.warning("could not remove %s: %s", d.path, exc)
            continue
        removed.append(d.path)
    return removed


# ---------------------------------------------------------------------------- locks
def lock_path(folder: str | os.PathLike, name: str) -> Path:
    return Path(folder) / f".{name}.lock"


@contextlib.contextmanager
def name_lock(folder: str | os.PathLike, name: str, what: str) -> Iterator[None]:
    """Hold ``<folder>/.<name>.lock`` for the block, or raise :class:`InUseError` at once.

    An advisory ``flock``: the operating system drops it when the holder dies (kill -9
    included), so a lock never outlives its process. The file is removed on release.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = _acquire(lock_path(folder, name))
    if fd is None:
        owner = _lock_owner(lock_path(folder, name))
        by = f" (pid {owner})" if owner else ""
        raise InUseError(f"{what} {name!r} in {folder} is being written by another topicvae process{by}; "
                         "wait for it to finish or choose another name")
    try:
        yield
    finally:
        _release(lock_path(folder, name), fd)


def is_locked(folder: str | os.PathLike, name: str, tidy: bool = True) -> bool:
    """True while a live process holds ``name``'s lock in ``folder``; with ``tidy`` a lock
    file nobody holds (its process was killed) is removed."""
    file = lock_path(folder, name)
    if not file.exists():
        return False
    fd = _acquire(file, create=False, stamp=False)
    if fd is None:
        return True
    if tidy:
        _release(file, fd)
    elif fd >= 0:
        os.close(fd)
    return False


def remove_stale_locks(folder: str | os.PathLike) -> list[Path]:
    """Remove the lock files in ``folder`` that no live process holds (left by kill -9)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = []
    for file in sorted(folder.glob(".*.lock")):
        if not is_locked(folder, file.name[1:-len(".lock")]):
            stale.append(file)
    return stale


def _acquire(file: Path, create: bool = True, stamp: bool = True) -> int | None:
    """An open, exclusively locked descriptor of ``file``, or None when another process holds it."""
    while True:
        try:
            fd = os.open(file, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        except FileNotFoundError:
            if create:
                raise
            return -1  # released meanwhile: nothing is held
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # the previous holder may have removed the file between our open and our lock
        try:
            if os.fstat(fd).st_ino == os.stat(file).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
        if not create:
            return -1
    if stamp:
        _stamp(fd, file)
    return fd


def _stamp(fd: int, file: Path) -> None:
    """Write this process's pid into the held lock ``file``, for the message another process shows.
    A full disk only loses that message: the lock is the ``flock``, not the file's content, so the
    command goes on (and releasing still removes the file)."""
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except OSError as exc:
        logger.debug("could not write the pid into %s: %s", file, exc)


def _release(file: Path, fd: int) -> None:
    if fd < 0:
        return
    with contextlib.suppress(FileNotFoundError):
        file.unlink()
    os.close(fd)


def _lock_owner(file: Path) -> int | None:
    try:
        text = file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def workspace_folders(corpora: str | os.PathLike | None = None,
                      runs: str | os.PathLike | None = None) -> dict[Path, str]:
    """The corpora and runs folders, as :func:`check_output_path`'s ``keep_off``: topicvae's own."""
    return {corpora_dir(corpora): "the corpora folder", runs_dir(runs): "the runs folder"}


#: the suffixes of the tables ``export``, ``infer`` and ``--topics-out`` write, and the format of each
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | os.PathLike) -> str:
    """"csv" or "parquet", by ``path``'s suffix (:data:`TABLE_SUFFIXES`); a one-line :class:`ConfigError`
    for any other, since a CSV written under another name would surprise whoever opens it."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"cannot write {path}: a table is written as .csv or .parquet, and the name ends in "
                          f"{suffix or 'no suffix'}; give a name such as {Path(path).with_suffix('.csv').name}")
    return TABLE_SUFFIXES[suffix]


def check_output_path(path: str | os.PathLike, keep_off: dict | None = None, new_folders: bool = False) -> Path:
    """``path`` as a Path, or a one-line :class:`ConfigError` when it cannot or must not be written.

    Fine: a new path, or an existing regular file (replaced whole, atomically). Refused: a folder
    or anything else that is not a regular file (a device such as /dev/null, a pipe, a socket);
    a path of ``keep_off`` ({path: what it is}: the files the command reads, the folders of
    :func:`workspace_folders`) or a path inside one, compared once links and ``..`` are resolved;
    a path whose folder does not exist (with ``new_folders``, missing folders are fine when the
    nearest existing one can be written: the caller makes them) or cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name such as {path / 'out.csv'}")
    if path.exists() and not path.is_file():
        raise ConfigError(f"cannot write {path}: it is not a regular file (a device, a pipe or a socket); "
                          "give a new file name or a file to replace")
    _check_kept_off(path, keep_off or {})
    parent = path.parent if str(path.parent) else Path(".")
    if new_folders:
        parent = next(p for p in (parent, *parent.parents) if p.exists() or p == Path("."))
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: folder {parent} does not exist"
                          + (" (that name is a file)" if parent.exists() else ""))
    if not os.access(parent, os.W_OK) or not _can_create_in(parent):
        raise ConfigError(f"cannot write {path}: folder {parent} is not writable")
    return path


def _check_kept_off(path: Path, keep_off: dict) -> None:
    """:class:`ConfigError` when ``path`` resolves to one of ``keep_off``'s paths or into one."""
    try:
        target = path.resolve()
        places = {Path(other).resolve(): what for other, what in keep_off.items()}
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    for place, what in places.items():
        if target == place or place in target.parents:
            where = "is" if target == place else "is inside"
            raise ConfigError(f"cannot write {path}: it {where} {what} ({place}); choose another path")


def _can_create_in(folder: Path) -> bool:
    """True when a file can really be made in ``folder`` (os.access says yes to root on read-only mounts)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
