"""Runs and corpora opened by name, and whether a run's corpus is still the one it was trained on.

Names coming from a user interface go through :func:`topicvae.paths.resolve_run_dir` /
:func:`topicvae.paths.resolve_corpus_dir`, which refuse anything that would leave the
configured folder.

The corpus check comes in two forms over the same facts (the name and bag-of-words
checksum, :func:`topicvae.corpus.shards.bow_checksum`, that ``config.json`` records): :func:`run_corpus` for commands that need the
corpus and stop without it, :func:`corpus_status` for the dashboard, which reads only
the manifest and goes on showing what it can.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from topicvae import paths
from topicvae.corpus import MANIFEST_FILE, Corpus, bow_file_problem
from topicvae.corpus.shards import bow_checksum
from topicvae.errors import ConfigError, CorpusError, RunError
from topicvae.runs import Run


def load_run(name: str, runs_dir: str | os.PathLike | None = None) -> Run:
    """:meth:`Run.load` after :func:`topicvae.paths.resolve_run_dir` (for names typed or picked in the app)."""
    folder = paths.resolve_run_dir(name, runs_dir)
    return Run.load(name, folder.parent)


def load_corpus(name: str, corpora_dir: str | os.PathLike | None = None) -> Corpus:
    """:meth:`Corpus.load` after :func:`topicvae.paths.resolve_corpus_dir`."""
    folder = paths.resolve_corpus_dir(name, corpora_dir)
    return Corpus.load(name, folder.parent)


def run_corpus(run, corpora_dir: str | Path | None = None) -> Corpus:
    """The corpus a run was trained on; :class:`RunError` when it is gone or has changed."""
    name = run.config.get("corpus")
    try:
        corpus = Corpus.load(name, corpora_dir)
    except CorpusError as exc:
        there = isinstance(name, str) and (paths.corpora_dir(corpora_dir) / name / MANIFEST_FILE).is_file()
        raise RunError(f"run {run.name!r} was trained on corpus {name!r}, which is "
                       f"{'damaged' if there else 'gone'} ({exc})") from exc
    if corpus.checksum != run.config.get("corpus_checksum"):
        raise RunError(f"corpus {name!r} has changed since run {run.name!r} was trained (bow checksum differs); "
                       "train the run again")
    return corpus


@dataclass
class CorpusStatus:
    """Whether the corpus a run was trained on is still there, unchanged.

    Attributes:
        state: ``ok``, ``missing`` (not in the corpora folder), ``changed`` (other
            bag-of-words checksum or document count), ``damaged`` (the file on disk does
            not match its manifest) or ``unknown`` (the run does not name its corpus).
        name: the corpus name recorded by the run.
        message: one line for people (empty when ok).
    """

    state: str
    name: str | None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the corpus is there and unchanged."""
        return self.state == "ok"


def _read_manifest(name: str, root: Path) -> tuple[Path, dict] | CorpusStatus:
    """(corpus folder, its manifest), or the status saying why there is none."""
    try:
        folder = paths.resolve_inside(root, name, "corpus name")
    except ConfigError as exc:
        return CorpusStatus("missing", name, str(exc))
    manifest_file = folder / MANIFEST_FILE
    if not manifest_file.is_file():
        return CorpusStatus("missing", name, (
            f"the corpus {name!r} this run was trained on is not in {root} (deleted or moved): document "
            f"texts, labels and coherence are unavailable; ingest it again under that name or start the "
            f"app with --corpora-dir pointing at its folder"))
    try:
        return folder, json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        return CorpusStatus("damaged", name, f"the manifest of corpus {name!r} cannot be read ({exc})")


def corpus_status(run: Run, corpora_dir: str | os.PathLike | None = None, verify: bool = False) -> CorpusStatus:
    """Compare the run's recorded corpus (name, checksum, document count) with the corpora folder.

    Reads only the manifest unless ``verify`` is set, in which case the checksum of
    ``bow.npz`` (or of every shard) on disk is recomputed too.
    """
    name = run.config.get("corpus")
    if not name:
        return CorpusStatus("unknown", None, f"run {run.name!r} does not record which corpus it was trained on")
    found = _read_manifest(name, paths.corpora_dir(corpora_dir).resolve())
    if isinstance(found, CorpusStatus):
        return found
    folder, manifest = found
    recorded = run.config.get("corpus_checksum")
    current = bow_checksum(manifest)
    n_docs = manifest.get("counts", {}).get("kept")
    if recorded and current and recorded != current:
        return CorpusStatus("changed", name, (
            f"corpus {name!r} changed since run {run.name!r} was trained (its bag-of-words checksum differs), "
            f"so its documents no longer match the run's rows; train the run again on it"))
    if n_docs is not None and run.config.get("n_docs") is not None and int(n_docs) != int(run.config["n_docs"]):
        return CorpusStatus("changed", name, (
            f"corpus {name!r} has {n_docs} documents but run {run.name!r} was trained with "
            f"{run.config['n_docs']}; train the run again on it"))
    changed = _changed_shard(folder, manifest) if verify and current else None
    if changed:
        return CorpusStatus("damaged", name, (
            f"corpus {name!r}: {changed} does not match the checksum in its manifest; ingest it again with --force"))
    return CorpusStatus("ok", name)


def _changed_shard(folder: Path, manifest: dict) -> str | None:
    """The first bag-of-words file (``bow.npz``, or a shard) that is missing or whose sha256 on disk is
    not the one the manifest records, or None."""
    try:
        problem = bow_file_problem(folder, manifest, need_digest=True)
    except ValueError:
        return "manifest.json's list of shards"
    return None if problem is None else problem[0]
