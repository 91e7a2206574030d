"""Topic prevalence across the documents' labels and over their dates."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def _mean_theta_by(doc_topic: np.ndarray, keep: np.ndarray, groups, name: str) -> pd.DataFrame:
    """Mean θ of the kept rows per group (index ``name``, sorted), one column per topic, plus ``n_docs``."""
    theta = pd.DataFrame(np.asarray(doc_topic, dtype=np.float64)[keep])
    theta[name] = groups
    g = theta.groupby(name, sort=True)
    out = g.mean()
    out["n_docs"] = g.size()
    return out


def prevalence_by_label(doc_topic: np.ndarray, labels: Sequence) -> pd.DataFrame:
    """Mean θ of the documents of each label: index label, one column per topic, plus ``n_docs``.

    Documents without a label are left out. Rows are sorted by ``n_docs``, largest first.
    """
    lab = pd.Series(list(labels), dtype=object)
    keep = lab.notna().to_numpy() & (lab.astype(str).str.strip() != "").to_numpy()
    if not keep.any():
        return pd.DataFrame(columns=[*range(doc_topic.shape[1]), "n_docs"])
    out = _mean_theta_by(doc_topic, keep, lab[keep].astype(str).to_numpy(), "label")
    return out.sort_values("n_docs", ascending=False, kind="stable")


def parse_dates(values: Sequence) -> pd.Series:
    """Document dates as naive UTC timestamps (NaT where missing or unparseable)."""
    s = pd.Series(list(values), dtype=object)
    parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None)


def pick_frequency(dates: pd.Series) -> str:
    """'Y', 'M', 'W' or 'D': a period that gives a readable number of points for the span of ``dates``."""
    d = dates.dropna()
    if d.empty:
        return "M"
    span = (d.max() - d.min()).days
    if span > 3 * 365:
        return "Y"
    if span > 90:
        return "M"
    if span > 21:
        return "W"
    return "D"


def prevalence_over_time(doc_topic: np.ndarray, dates: Sequence, freq: str = "auto") -> pd.DataFrame:
    """Mean θ per period: index = period start (Timestamp), one column per topic, plus ``n_docs``.

    Args:
        doc_topic: (n_docs, K) θ.
        dates: n_docs dates (strings or timestamps; missing or unparseable ones are left out).
        freq: ``auto`` (:func:`pick_frequency`), or a pandas period: ``Y``, ``Q``, ``M``, ``W``, ``D``.
    """
    parsed = parse_dates(dates)
    keep = parsed.notna().to_numpy()
    if not keep.any():
        return pd.DataFrame(columns=[*range(doc_topic.shape[1]), "n_docs"])
    if freq == "auto":
        freq = pick_frequency(parsed)
    periods = parsed[keep].dt.to_period(freq).dt.start_time.to_numpy()
    return _mean_theta_by(doc_topic, keep, periods, "period")


def has_dates(docs: pd.DataFrame) -> bool:
    """True when at least one document has a date that can be read."""
    return "date" in docs and parse_dates(docs["date"]).notna().any()


def has_labels(docs: pd.DataFrame | None) -> bool:
    """True when at least one document has a label."""
    return docs is not None and "label" in docs and docs["label"].notna().any()


def top_labels(table: pd.DataFrame, topic: int, n: int = 10) -> pd.DataFrame:
    """The ``n`` labels whose documents use ``topic`` most (from :func:`prevalence_by_label`):
    label, mean θ, documents."""
    best = table[topic].sort_values(ascending=False).head(n)
    return pd.DataFrame({"label": best.index, "mean θ": best.to_numpy(),
                         "documents": table.loc[best.index, "n_docs"].to_numpy()})
