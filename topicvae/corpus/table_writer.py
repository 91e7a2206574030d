"""A corpus's shards and document table (docs.parquet) written part by part, as a streamed ingest or update
makes them: the table in one row group per shard and in one schema, whatever types each part's metadata
columns arrive with."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import scipy.sparse as sp

from topicvae.corpus.shards import ShardWriter


class MetaColumns:
    """The metadata columns of the whole stream, met partition by partition: their names (as
    :func:`~topicvae.text.metadata.add_metadata` names them for the whole table), the kinds of their
    values and the Arrow types of each partition's column, so that the table written part by part has
    one schema, with a column Parquet cannot store as one type turned into text (as
    :func:`topicvae.corpus.parquet_ready` turns it for a whole table)."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.kinds: dict[str, set] = {}
        self.types: dict[str, dict] = {}  # column → Arrow type → the pandas metadata of a column of it
        self.unstorable: set[str] = set()

    def add(self, metadata: pd.DataFrame) -> None:
        """Note the kinds and Arrow types of the values of a part's metadata columns (``metadata``: those
        columns alone)."""
        import pyarrow as pa

        from topicvae.corpus import _kinds

        for col in metadata.columns:
            values = metadata[col]
            self.kinds.setdefault(col, set()).update(_kinds(values.dropna()))
            try:
                part = pa.Table.from_pandas(metadata[[col]], preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
                self.unstorable.add(col)
                continue
            entry = json.loads(part.schema.metadata[b"pandas"])["columns"][0]
            self.types.setdefault(col, {}).setdefault(part.schema.field(col).type, entry)

    def as_text(self) -> set[str]:
        """The columns written as text: values of several kinds, nested, or of Arrow types that do not meet."""
        out = set(self.unstorable)
        for col, kinds in self.kinds.items():
            if len(kinds) > 1 or kinds & {"dict", "list", "tuple"} or self.target(col) is None:
                out.add(col)
        return out

    def target(self, col: str):
        """The one Arrow type of a column over all partitions (None when there is none)."""
        import pyarrow as pa

        seen = [t for t in self.types.get(col, {}) if t != pa.null()]
        if not seen:
            return pa.null()
        if len(set(seen)) == 1:
            return seen[0]
        if set(seen) <= {pa.int64(), pa.float64()}:
            return pa.float64()
        return None


class DocsWriter:
    """docs.parquet written a shard's rows at a time (one row group each, as ``Corpus.save`` cuts it),
    with the schema of the whole stream's columns (:class:`MetaColumns`)."""

    def __init__(self, path: Path, meta: MetaColumns):
        self.path, self.meta = path, meta
        self.text_cols = meta.as_text()
        self.columns = ["id", "text", "label", "date", "split", "n_tokens", *meta.names.values()]
        self.pending: list[pd.DataFrame] = []
        self.writer = None
        self.schema = None

    def add(self, table: pd.DataFrame) -> None:
        self.pending.append(table)

    def flush(self, rows: int) -> None:
        """Write the first ``rows`` documents held as one row group."""
        held = pd.concat(self.pending, ignore_index=True) if len(self.pending) != 1 else self.pending[0]
        self._write(held.iloc[:rows])
        rest = held.iloc[rows:].reset_index(drop=True)
        self.pending = [rest] if len(rest) else []

    def _write(self, table: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from topicvae.corpus import _as_text

        table = table.reset_index(drop=True)
        for col in self.columns:
            if col not in table:
                table[col] = pd.Series([None] * len(table), dtype=object)
        table = table[self.columns]
        for col in self.text_cols:
            table[col] = pd.array([_as_text(v) for v in table[col]], dtype="string")
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        if self.schema is None:
            self.schema = self._schema(arrow)
            self.writer = pq.ParquetWriter(self.path, self.schema)
        if not arrow.schema.equals(self.schema, check_metadata=False):
            arrow = arrow.cast(self.schema)
        else:
            arrow = arrow.replace_schema_metadata(self.schema.metadata)
        self.writer.write_table(arrow, row_group_size=max(1, len(table)))

    def _schema(self, first):
        """The first row group's schema, each metadata column of its type over the whole stream."""
        import pyarrow as pa

        pandas_meta = json.loads(first.schema.metadata[b"pandas"])
        entries = {e["name"]: e for e in pandas_meta["columns"]}
        fields = []
        for field in first.schema:
            col = field.name
            if col in self.meta.names.values() and col not in self.text_cols:
                target = self.meta.target(col)
                if target != field.type:
                    field = field.with_type(target)
                    entries[col] = {**self.meta.types[col].get(target, entries[col]), "name": col, "field_name": col}
            fields.append(field)
        pandas_meta["columns"] = [entries[f.name] for f in fields]
        return pa.schema(fields, metadata={b"pandas": json.dumps(pandas_meta).encode()})

    def close(self) -> None:
        if self.pending:
            self.flush(sum(len(t) for t in self.pending))
        if self.writer is not None:
            self.writer.close()


class CorpusParts:
    """The shards and the document table of a corpus written in parts of consecutive documents: each part's
    counts and table rows go in together (:meth:`add`), and the table is cut into row groups where the
    shards are cut. Used as a context manager: leaving it normally closes both and keeps the shards'
    records in ``records``; an exception discards what was written."""

    def __init__(self, folder: Path, n_words: int, shard_docs: int, meta: MetaColumns):
        from topicvae.corpus import DOCS_FILE

        self.docs = DocsWriter(Path(folder) / DOCS_FILE, meta)
        self.shards = ShardWriter(folder, n_words, shard_docs, on_shard=lambda _i, rows: self.docs.flush(rows))
        self.records: list[dict] = []

    def add(self, table: pd.DataFrame, X: sp.csr_matrix) -> None:
        """The next documents: their table rows and their counts (as many rows)."""
        self.docs.add(table)
        self.shards.add(X)

    def __enter__(self) -> "CorpusParts":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.shards.discard()
            return
        self.records = self.shards.close()
        self.docs.close()

