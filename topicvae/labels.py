"""Topic labels: a person's names for topics, kept in ``runs/<run>/labels.json``.

Topics without a saved name get ``"<k>: <top three words>"``. Export, the app and every
table use :func:`topic_labels`, so a label edited once shows everywhere.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Mapping

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
    except ValueError:
        return {}
    return {int(k): str(v) for k, v in data.items() if str(v).strip()}


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
    tmp = run_path / f".{LABELS_FILE}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps({str(k): v for k, v in sorted(current.items())}, ensure_ascii=False, indent=1))
    os.replace(tmp, run_path / LABELS_FILE)
