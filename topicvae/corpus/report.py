"""A plain-text report of a corpus: counts, labels, top words, document lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from topicvae.corpus import Corpus


def _bar(value: float, peak: float, width: int = 30) -> str:
    return "█" * max(1 if value else 0, round(width * value / peak)) if peak else ""


def _counts(corpus: Corpus, name: str) -> pd.Series:
    """How many documents have each value of the table's column ``name`` (read alone, not the texts)."""
    values = corpus.column(name)
    return pd.Series(dtype="int64") if values is None else values.value_counts(dropna=True)


def corpus_report(corpus: Corpus, top_words: int = 30, bins: int = 10) -> str:
    """Counts, label distribution, most frequent words and a length histogram, as text."""
    m = corpus.manifest
    c = m.get("counts", {})
    lengths, freq = corpus.token_counts()  # (one pass over the shards; the whole matrix is not built)
    update = m.get("update") or {}  # (a corpus of `topicvae update`: its first source, then the new documents')
    out = [f"corpus {corpus.name}  ({corpus.path})",
           f"source     {m.get('source', {}).get('path')}  [{m.get('source', {}).get('format')}]"
           + (f"; latest update: {update.get('source', {}).get('path')}  [{update.get('source', {}).get('format')}] "
              f"(topicvae update of run {(m.get('derived_from') or {}).get('run')!r})" if update else ""),
           f"documents  {corpus.n_docs:,} kept of {c.get('read', corpus.n_docs):,} read; dropped: "
           + (", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in c.get("dropped", {}).items() if v) or "none"),
           f"vocabulary {corpus.n_words:,} words; {int(lengths.sum()):,} tokens",
           ]
    splits = _counts(corpus, "split")
    if len(splits):
        out.append("splits     " + ", ".join(f"{k} {v:,}" for k, v in splits.items()))
    labels = _counts(corpus, "label")
    if len(labels):
        out.append(f"\nlabels ({len(labels)})")
        width = max(len(str(k)) for k in labels.index[:25])
        for k, v in labels.head(25).items():
            out.append(f"  {str(k).ljust(width)}  {v:>7,}  {_bar(v, labels.iloc[0])}")
        if len(labels) > 25:
            out.append(f"  ... and {len(labels) - 25} more")
    order = np.argsort(-freq, kind="stable")[:top_words]
    out.append(f"\ntop {len(order)} words")
    out.append("  " + ", ".join(f"{corpus.vocab[j]} ({freq[j]:,})" for j in order))
    out.append(f"\ndocument length (in-vocabulary tokens): min {lengths.min():,}, median {int(np.median(lengths)):,}, "
               f"mean {lengths.mean():.1f}, max {lengths.max():,}")
    hi = np.percentile(lengths, 99) if len(lengths) > 100 else lengths.max()
    edges = np.unique(np.linspace(lengths.min(), max(hi, lengths.min() + 1), bins + 1).round().astype(int))
    hist, _ = np.histogram(np.clip(lengths, None, edges[-1]), bins=edges)
    for a, b, n in zip(edges[:-1], edges[1:], hist):
        label = f"{a}–{b}" + ("+" if b == edges[-1] and lengths.max() > b else "")
        out.append(f"  {label:>12}  {n:>7,}  {_bar(n, hist.max())}")
    return "\n".join(out)
