"""The dashboard's first page: the corpora and runs folders as tables, and the commands that make what is missing."""

from __future__ import annotations

import json
import os

import pandas as pd

from topicvae import paths
from topicvae.analysis.command_lines import evaluate_command, ingest_command, quickstart_command, train_command
from topicvae.analysis.run_metrics import METRIC_NAMES, number, read_metrics
from topicvae.corpus import MANIFEST_FILE, list_corpora
from topicvae.errors import RunError, TopicVAEError
from topicvae.runs import CONFIG_FILE, Run
from topicvae.runs.workspace import corpus_status

CORPUS_COLUMNS = ["corpus", "documents", "vocabulary", "tokens", "labels", "splits", "source"]


def _corpus_row(name: str, manifest: dict) -> dict:
    """One row of :func:`corpora_overview` from a corpus manifest."""
    c = manifest.get("counts", {})
    return {
        "corpus": name,
        "documents": c.get("kept"),
        "vocabulary": c.get("vocabulary"),
        "tokens": c.get("tokens"),
        "labels": c.get("labels"),
        "splits": ", ".join(f"{k} {v:,}" for k, v in (c.get("splits") or {}).items()) or "-",
        "source": (manifest.get("source") or {}).get("path", ""),
    }


def corpora_overview(corpora_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per corpus: name, documents, vocabulary, tokens, labels, splits, source."""
    rows = []
    root = paths.corpora_dir(corpora_dir)
    for name in list_corpora(root):
        try:
            manifest = json.loads((root / name / MANIFEST_FILE).read_text())
        except (OSError, ValueError):
            continue
        rows.append(_corpus_row(name, manifest))
    return pd.DataFrame(rows, columns=CORPUS_COLUMNS)


def _run_row(summary: dict, run: Run, corpora_dir) -> dict:
    """One row of :func:`runs_overview`; a damaged metrics.json leaves the run unevaluated, with its message,
    and a file that contradicts config.json (:meth:`Run.problems`, :meth:`Run.file_problems`: no file read
    whole) marks the run damaged."""
    try:
        metrics, problem = read_metrics(run) or {}, None
    except RunError as exc:
        metrics, problem = {}, str(exc)
    damage = run.problems() + run.file_problems()
    row = {"run": summary["name"], "corpus": summary.get("corpus"), "model": summary.get("model"),
           "K": summary.get("n_topics"), "epochs": summary.get("epochs"),
           "fit s": number(summary.get("fit_seconds"))}
    for key, title in METRIC_NAMES.items():
        row[title] = number(metrics.get(key))
    row["evaluated"] = bool(metrics)
    row["corpus status"] = corpus_status(run, corpora_dir).state
    row["files"] = "damaged" if damage else "ok"
    row["metrics error"] = problem
    row["files error"] = "; ".join(damage) or None
    return row


def _damaged_row(name: str, problem: str) -> dict:
    """The row of a run folder whose config.json cannot be used: its name and why."""
    return {"run": name, "evaluated": False, "corpus status": "unknown", "files": "damaged", "files error": problem}


def runs_overview(runs_dir: str | os.PathLike | None = None,
                  corpora_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per run folder with a config.json: settings, training summary, metrics.json values, corpus
    status and whether its files are whole (``files``: ok or damaged).

    The last columns, ``metrics error`` and ``files error``, hold the one-line messages of a damaged
    ``metrics.json`` and of damaged run files (None when they are fine), so one bad file does not hide
    the other runs; a run whose config.json cannot be used has its name, ``files`` and ``files error`` only.
    """
    rows = []
    root = paths.runs_dir(runs_dir)
    folders = sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / CONFIG_FILE).is_file()) \
        if root.is_dir() else []
    for name in folders:
        try:
            run = Run.load(name, root, check=False)
            summary = run.summary()  # (each config.json read once)
        except (TopicVAEError, OSError, ValueError, KeyError) as exc:  # (a name refused, a config unreadable...)
            rows.append(_damaged_row(name, getattr(exc, "problem", None) or str(exc)))
            continue
        rows.append(_run_row(summary, run, corpora_dir))
    columns = ["run", "corpus", "model", "K", "epochs", "fit s", *METRIC_NAMES.values(), "evaluated",
               "corpus status", "files", "metrics error", "files error"]
    return pd.DataFrame(rows, columns=columns)


def next_steps(corpora: pd.DataFrame, runs: pd.DataFrame) -> list[tuple[str, str]]:
    """(why, command) for what is missing: no corpus, a corpus without runs, a run not evaluated."""
    if corpora.empty and runs.empty:
        return [("nothing here yet: ingest the built-in sample", quickstart_command())]
    steps = []
    if corpora.empty:
        steps.append(("no corpus in the corpora folder", ingest_command()))
    trained = set(runs["corpus"]) if not runs.empty else set()
    for name in corpora["corpus"]:
        if name not in trained:
            steps.append((f"corpus {name!r} has no run yet", train_command(name)))
    for _, r in runs.iterrows():
        if r.get("files") == "damaged":
            model, k = r.get("model"), r.get("K")
            known = isinstance(r.get("corpus"), str) and isinstance(model, str) and pd.notna(k)
            steps.append((f"run {r['run']!r} is damaged ({r['files error']})",
                          train_command(r["corpus"], model, int(k)) + f" --name {r['run']} --force" if known
                          else f"topicvae verify {r['run']}"))
            continue
        if isinstance(r.get("metrics error"), str):
            steps.append((f"run {r['run']!r}: its metrics.json is damaged", evaluate_command(r["run"])))
        elif not r["evaluated"]:
            steps.append((f"run {r['run']!r} is not evaluated yet", evaluate_command(r["run"])))
        if r["corpus status"] not in ("ok",):
            steps.append((f"run {r['run']!r}: its corpus {r['corpus']!r} is {r['corpus status']}",
                          train_command(r["corpus"], r["model"], int(r["K"])) + " --force"))
    return steps
