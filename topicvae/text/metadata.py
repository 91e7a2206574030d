"""Which column a document's metadata field becomes, in the corpus table and in ``infer`` output.

A source's extra fields (table columns other than text, id, label, date and split; the
``section`` of the built-in sample) are kept as metadata columns under their own name,
unless that name is one topicvae writes itself: then it gets a ``meta_`` prefix (again
until the name is free), so no field can overwrite or shadow a column of ours.
"""

from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

#: columns of the corpus document table and of ``infer`` / ``export`` output
RESERVED = ("id", "text", "label", "date", "split", "n_tokens", "n_unknown_tokens",
            "dominant_topic", "dominant_topic_label", "theta_entropy")
#: the per-topic columns of ``export`` / ``infer`` output: theta_0, mu_3, sigma_12, ...
_TOPIC_COLUMN = re.compile(r"^(?:theta|mu|sigma)_\d+$")


def is_reserved(name: str) -> bool:
    """True for a column name that topicvae writes itself."""
    return name in RESERVED or _TOPIC_COLUMN.match(name) is not None


def metadata_columns(keys: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """The column of each metadata field, in first-seen order: its own name, or ``meta_<name>``
    when the name is reserved or already taken.

    ``known`` (the columns of the fields seen before, as this function named them) is extended in place
    and returned: naming the fields of a stream part by part gives the names of all of them at once.
    """
    out: dict[str, str] = {} if known is None else known
    taken: set[str] = set(out.values())
    for key in dict.fromkeys(keys):
        if key in out:
            continue
        col = str(key)
        while is_reserved(col) or col in taken:
            col = f"meta_{col}"
        out[key] = col
        taken.add(col)
    return out


def add_metadata(table: pd.DataFrame, metas: list[dict], known: dict[str, str] | None = None) -> pd.DataFrame:
    """Append the metadata fields of ``metas`` (one dict per row of ``table``) as columns.

    A field missing from a row is None there. With ``known`` (see :func:`metadata_columns`) the fields
    are named as in the whole stream, and only those in ``metas`` are added.
    """
    present = dict.fromkeys(k for m in metas for k in m)
    return add_metadata_columns(table, {k: [m.get(k) for m in metas] for k in present}, known)


def add_metadata_columns(table: pd.DataFrame, fields: dict[str, list], known: dict[str, str] | None = None
                         ) -> pd.DataFrame:
    """Append metadata given column-wise (``fields``: each field's values, one per row of ``table``),
    named as :func:`add_metadata` names them."""
    names = metadata_columns(fields, known)
    for key, values in fields.items():
        table[names[key]] = values
    return table
