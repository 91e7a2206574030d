"""Topic labels: a person's names for topics, kept in ``runs/<run>/labels.json``.

Topics without a saved name get ``"<k>: <top three words>"``. Export, the app and every
table use :func:`topic_labels`, so a label edited once shows everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from topicvae import paths
from topicvae.errors import RunError

LABELS_FILE = "labels.json"


def default_labels(top_words: list[list[str]]) -> list[str]:
    """``"k: w1 w2 w3"`` for each topic."""
    return [f"{k}: {' '.join(words[:3])}" for k, words in enumerate(top_words)]


def saved_labels(run_path: str | Path) -> dict[int, str]:
    """The labels a person saved, by topic index (empty when none)."""
    file = Path(run_path) / LABELS_FILE
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text())
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object of topic number → name")
        return {int(k): str(v) for k, v in data.items() if str(v).strip()}
    except ValueError as exc:
        raise RunError(f"{file} is damaged ({str(exc).splitlines()[0]}); fix it, e.g. {{\"0\": \"sports\"}}, "
                       "or delete it to get the default labels back") from None


def topic_labels(run) -> list[str]:
    """One label per topic of ``run`` (a :class:`topicvae.runs.Run`): saved names over defaults."""
    labels = default_labels(run.top_words(3))
    for k, v in saved_labels(run.path).items():
        if 0 <= k < len(labels):
            labels[k] = v
    return labels


def save_labels(run_path: str | Path, labels: Mapping[int, str]) -> None:
    """Store ``labels`` (topic index → name; empty names are removed) atomically."""
    run_path = Path(run_path)
    current = saved_labels(run_path)
    for k, v in labels.items():
        if str(v).strip():
            current[int(k)] = str(v).strip()
        else:
            current.pop(int(k), None)
    with paths.atomic_file(run_path / LABELS_FILE) as tmp:
        tmp.write_text(json.dumps({str(k): v for k, v in sorted(current.items())}, ensure_ascii=False, indent=1))


def merged_labels(saved: dict[int, str], partition: list[list[int]]) -> dict[int, str]:
    """The saved names of the old topics for the new ones: a merged topic's parts' names joined by ' + '."""
    out = {}
    for g, members in enumerate(partition):
        names = [saved[k] for k in members if k in saved]
        if names:
            out[g] = " + ".join(names)
    return out


def carry_labels(source_path: str | Path, new_path: str | Path, partition: list[list[int]]) -> None:
    """Save for the run at ``new_path`` the names saved for the topics of the run at ``source_path``, new
    topic g named after the old topics ``partition[g]`` (:func:`merged_labels`): ``merge``'s and ``reduce``'s
    runs, and ``update``'s, whose topic k is the old topic k."""
    labels = merged_labels(saved_labels(source_path), partition)
    if labels:
        save_labels(new_path, labels)
