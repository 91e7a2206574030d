"""``topicvae verify``: check corpora and runs against what they record, and find debris.

A corpus records the sha256 (and size) of its files in ``manifest.json``; a run records
the size and sha256 of each file in ``config.json`` (``files``), config.json's own in
``config.sha256``, and its arrays must fit config.json (shapes, finite values, rows that are
distributions: :meth:`topicvae.runs.Run.problems`). Everything else in the
two folders is one of: a resumable checkpoint of an unfinished training, or debris left
by a killed command (temporary folders of dead processes, checkpoint folders that cannot
be resumed or belong to a finished run, lock files nobody holds). Only debris is ever
removed (``clean=True``), and only what is proven to be debris: never a complete corpus
or run, never a resumable checkpoint, never anything a live process is writing.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from topicvae import paths, runs
from topicvae.analysis.run_metrics import read_metrics
from topicvae.corpus import DOCS_FILE, MANIFEST_FILE, VOCAB_FILE, Corpus, bow_file_problem, read_manifest
from topicvae.corpus.shards import bow_checksum, shard_records
from topicvae.errors import TopicVAEError, first_line
from topicvae.runs.labels import saved_labels
from topicvae.runs.update import left_by_update

logger = logging.getLogger(__name__)

OK, DAMAGED, INCOMPLETE, ORPHANED, STALE, DEBRIS, BUSY, MISSING = (
    "ok", "damaged", "incomplete", "orphaned", "stale", "debris", "busy", "missing")
#: statuses that make ``topicvae verify`` exit non-zero
PROBLEMS = (DAMAGED, INCOMPLETE, ORPHANED, STALE, DEBRIS, MISSING)


@dataclass
class Finding:
    """One checked item: what it is, its status, why, and whether ``clean`` may remove it."""

    what: str  # corpus | run | checkpoint | temporary | lock
    name: str
    status: str
    detail: str
    path: Path
    removable: bool = False
    removed: bool = False
    lock: tuple[Path, str] | None = None  # (folder, name) whose lock guards the removal

    def line(self) -> str:
        done = " (removed)" if self.removed else (" (--clean removes it)" if self.removable else "")
        return f"{self.status:<10} {self.what} {self.name!r}: {self.detail}{done}"


def verify(names: list[str] | None = None, corpora_dir=None, runs_dir=None, clean: bool = False) -> list[Finding]:
    """Check every corpus and run (or those in ``names``) and the debris around them.

    With ``clean``, debris and orphaned or unreadable checkpoints are removed (each under the lock of
    its name, so nothing that is being written is touched).
    """
    corpora_root, runs_root = paths.corpora_dir(corpora_dir), paths.runs_dir(runs_dir)
    wanted = set(names) if names else None
    findings = [check_corpus(corpora_root, n, runs_root) for n in _entries(corpora_root, wanted)]
    findings += [check_run(runs_root, n, corpora_root) for n in _entries(runs_root, wanted)]
    findings += find_debris(corpora_root, wanted) + find_debris(runs_root, wanted, runs_folder=True)
    if names:
        known = {f.name for f in findings}
        findings += [Finding("name", n, MISSING, f"no corpus or run of that name in {corpora_root} or {runs_root}",
                             Path(n)) for n in names if n not in known]
    for f in findings:
        logger.info("%s %s: %s", f.what, f.name, f.status)
    if clean:
        for f in findings:
            if f.removable:
                f.removed = _remove(f)
    return findings


def _entries(root: Path, wanted: set[str] | None) -> list[str]:
    """The visible folders of ``root`` (corpora or runs), limited to ``wanted``."""
    if not root.is_dir():
        return []
    return [p.name for p in sorted(root.iterdir())
            if p.is_dir() and not p.name.startswith(".") and (wanted is None or p.name in wanted)]


# ---------------------------------------------------------------------------- corpora
def check_corpus(root: Path, name: str, runs_root: Path | None = None) -> Finding:
    """A corpus: its files as manifest.json records them, and (with ``runs_root``) whether it is what an
    update killed before its run was made left behind."""
    folder = root / name
    if not (folder / MANIFEST_FILE).is_file():
        return Finding("corpus", name, DAMAGED, "no manifest.json: not a complete corpus; ingest it again", folder)
    try:
        manifest = read_manifest(name, root)
    except TopicVAEError as exc:
        return Finding("corpus", name, DAMAGED, _problem(exc), folder)
    recorded = manifest.get("checksums") or {}
    sizes = manifest.get("sizes") or {}
    # every shard of the bag-of-words (bow.npz alone in a corpus of one), then the other files
    try:
        shards = shard_records(manifest)
    except ValueError as exc:
        return Finding("corpus", name, DAMAGED, str(exc), folder)
    bow_problem = bow_file_problem(folder, manifest)
    if bow_problem:
        return Finding("corpus", name, DAMAGED, bow_problem[1], folder)
    checked = {r["file"]: (r.get("sha256"), r.get("bytes")) for r in shards}
    for fname in dict.fromkeys([VOCAB_FILE, DOCS_FILE, *recorded]):  # vectorizer.json where recorded
        if checked.get(fname, ()) == (recorded.get(fname), sizes.get(fname)):
            continue  # bow.npz of a corpus of one shard: checked just now
        problem = paths.file_problem(folder / fname, recorded.get(fname), sizes.get(fname))
        if problem:
            return Finding("corpus", name, DAMAGED, problem, folder)
    try:
        Corpus.load(name, root)
    except TopicVAEError as exc:
        return Finding("corpus", name, DAMAGED, _problem(exc), folder)
    source = None if runs_root is None else left_by_update(root, runs_root, name)
    if source is not None:
        return Finding("corpus", name, INCOMPLETE, f"written by `topicvae update {source} ... --name {name}`, whose "
                       f"run {name!r} was not made (the update was stopped); the same command again takes it up",
                       folder)
    return Finding("corpus", name, OK, "files match their checksums", folder)


# ---------------------------------------------------------------------------- runs
def check_run(root: Path, name: str, corpora_root: Path) -> Finding:
    """A run: config.json as saved (config.sha256), every array's shape and values as config.json says
    (:meth:`topicvae.runs.Run.problems`: the checks every command makes when it reads them), every file
    as config.json's digests record, the files written later readable, its corpus unchanged. A damaged
    run's line lists every problem found."""
    folder = root / name
    if not (folder / runs.CONFIG_FILE).is_file():
        return Finding("run", name, DAMAGED, "no config.json: not a complete run; train it again", folder)
    try:
        run = runs.Run.load(name, root, check=False)
    except TopicVAEError as exc:
        return Finding("run", name, DAMAGED, _problem(exc), folder)
    problems = run.problems(values=True) + _recorded_files_problems(run) + [_edited_files_problem(run)]
    problems = [p for p in dict.fromkeys(problems) if p]
    if problems:
        return Finding("run", name, DAMAGED, "; ".join(problems), folder)
    stale = _corpus_problem(run, corpora_root)
    if stale:
        return Finding("run", name, STALE, stale, folder)
    return Finding("run", name, OK, _run_checked(run), folder)


def _recorded_files_problems(run: runs.Run) -> list[str]:
    """The files that differ from the size and sha256 config.json's ``files`` records; for a run written
    before those were recorded, the first file that cannot be read."""
    if not isinstance(run.config.get("files"), dict):  # at least every file must read
        try:
            run.topic_word, run.doc_topic, run.vocab, run.topics  # noqa: B018 (each read checks a file)
        except TopicVAEError as exc:
            return [_problem(exc)]
        return []
    return run.file_problems(digests=True)


def _run_checked(run: runs.Run) -> str:
    """What the line of a run found OK says was checked (and what a run of an older version could not be)."""
    checked = ("files match their checksums" if isinstance(run.config.get("files"), dict)
               else "files read (no checksums recorded: written by an older version)")
    if not (run.path / runs.CONFIG_DIGEST_FILE).is_file():
        checked += f"; no {runs.CONFIG_DIGEST_FILE} (written by an older version): edits of config.json go unseen"
    return checked


def _edited_files_problem(run: runs.Run) -> str | None:
    """The files written after the run (labels, metrics, an update's drift report) have no checksum;
    they must still read."""
    from topicvae.runs.update import read_drift

    try:
        saved_labels(run.path)
        read_metrics(run)
        read_drift(run)
    except TopicVAEError as exc:
        return first_line(exc)
    return None


def _corpus_problem(run: runs.Run, corpora_root: Path) -> str | None:
    corpus = run.config.get("corpus")
    if not (corpora_root / str(corpus) / MANIFEST_FILE).is_file():
        return f"its corpus {corpus!r} is not in {corpora_root} (deleted or moved); evaluate and export need it"
    try:
        checksum = bow_checksum(read_manifest(corpus, corpora_root))
    except TopicVAEError:
        return f"its corpus {corpus!r} is damaged"
    if checksum != run.config.get("corpus_checksum"):
        return f"its corpus {corpus!r} changed since it was trained (bow checksum differs); train it again"
    return None


# ---------------------------------------------------------------------------- debris
def find_debris(root: Path, wanted: set[str] | None, runs_folder: bool = False) -> list[Finding]:
    """Temporary siblings, checkpoint folders and lock files in ``root`` (and in its run folders)."""
    if not root.is_dir():
        return []
    found = []
    folders = [root] + ([p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
                        if runs_folder else [])
    for folder in folders:
        for d in paths.find_debris(folder):
            owner = d.name if folder == root else folder.name
            if wanted is not None and owner not in wanted:
                continue
            if d.owner_alive:
                found.append(Finding("temporary", owner, BUSY, f"{d.path.name} is being written (pid {d.pid})", d.path))
            else:
                found.append(Finding("temporary", owner, DEBRIS, f"{d.path} was left by a killed command", d.path,
                                     removable=True, lock=(root, owner)))
    for entry in sorted(root.iterdir()):
        name = entry.name[1:-len(".lock")] if entry.name.endswith(".lock") else None
        if name and entry.name.startswith(".") and (wanted is None or name in wanted):
            if paths.is_locked(root, name, tidy=False):
                found.append(Finding("lock", name, BUSY, "a topicvae process is writing it now", entry))
            else:
                found.append(Finding("lock", name, DEBRIS, f"{entry} is held by no process", entry,
                                     removable=True, lock=(root, name)))
        cname = entry.name[1:-len(".checkpoint")] if entry.name.endswith(".checkpoint") else None
        if runs_folder and cname and entry.name.startswith(".") and (wanted is None or cname in wanted):
            found.append(_checkpoint_finding(root, cname, entry))
    return found


def _checkpoint_finding(root: Path, name: str, ckpt_dir: Path) -> Finding:
    if paths.is_locked(root, name, tidy=False):
        return Finding("checkpoint", name, BUSY, "training now", ckpt_dir)
    if runs.stale_checkpoint(root, name):
        if (root / name / runs.CONFIG_FILE).is_file():
            return Finding("checkpoint", name, ORPHANED, f"{ckpt_dir} belongs to the finished run", ckpt_dir,
                           removable=True, lock=(root, name))
        return Finding("checkpoint", name, DEBRIS, f"{ckpt_dir} holds no checkpoint to resume", ckpt_dir,
                       removable=True, lock=(root, name))
    meta = runs.checkpoint_meta(root, name) or {}
    seeded = bool((meta.get("params") or {}).get("seed_topics"))  # (the file's name is not kept; its topics are)
    command = (f"topicvae train {meta.get('corpus')} --model {meta.get('model')} "
               f"--topics {meta.get('params', {}).get('n_topics')} --name {name}"
               + (" --seed-topics FILE (the seed file it was started with)" if seeded else ""))
    problem = runs.checkpoint_problem(root, name)
    if problem:  # nothing to continue: the plain command starts over in its place
        return Finding("checkpoint", name, DAMAGED, f"{problem}, so there is nothing to continue; start over with: "
                       f"{command} (without --resume)", ckpt_dir, removable=True, lock=(root, name))
    return Finding("checkpoint", name, INCOMPLETE,
                   f"training stopped before the end; continue it with: {command} "
                   "--resume (or train it again with --force)", ckpt_dir)


def _remove(f: Finding) -> bool:
    """Remove one removable finding under its name's lock; False when someone holds the lock."""
    folder, name = f.lock
    try:
        with paths.name_lock(folder, name, f.what):
            if f.what == "lock":
                return True  # releasing the lock we just took removes its file
            if f.path.is_dir():
                shutil.rmtree(f.path)
            else:
                f.path.unlink(missing_ok=True)
    except (TopicVAEError, OSError):
        return False
    return True


# ---------------------------------------------------------------------------- helpers
def _problem(exc: BaseException) -> str:
    """What is wrong, without the advice to run verify (this is verify)."""
    return getattr(exc, "problem", None) or first_line(exc)


def format_findings(findings: list[Finding], verbose: bool = False) -> str:
    """One line per problem (every item with ``verbose``), then a count."""
    shown = [f for f in findings if verbose or f.status != OK]
    n_corpora = sum(f.what == "corpus" for f in findings)
    n_runs = sum(f.what == "run" for f in findings)
    problems = [f for f in findings if f.status in PROBLEMS and not f.removed]
    removed = sum(f.removed for f in findings)
    summary = (f"checked {n_corpora} corpora and {n_runs} runs: "
               + (f"{len(problems)} problem(s)" if problems else "no problems")
               + (f", {removed} item(s) of debris removed" if removed else ""))
    return "\n".join([f.line() for f in shown] + [summary])
