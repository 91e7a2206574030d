"""The ``topicvae`` command lines that the dashboard and the messages suggest to people."""

from __future__ import annotations


def quickstart_command() -> str:
    """The command that makes the sample corpus, a first run and its metrics."""
    return "topicvae quickstart"


def train_command(corpus: str, model: str = "prodlda", n_topics: int = 20) -> str:
    """The command that trains ``model`` with ``n_topics`` topics on ``corpus``."""
    return f"topicvae train {corpus} --model {model} --topics {n_topics}"


def evaluate_command(run: str) -> str:
    """The command that writes ``metrics.json`` of ``run``."""
    return f"topicvae evaluate {run}"


def ingest_command() -> str:
    """The command that ingests the built-in sample corpus."""
    return "topicvae ingest builtin:sample --name sample"


def export_command(run: str) -> str:
    """The command that writes the document vectors of ``run`` (every document, in chunks)."""
    return f"topicvae export {run} --out {run}-documents.csv"
