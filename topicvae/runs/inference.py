"""Topic mixtures for new documents, with a run's own preprocessing, phrases and vocabulary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import scipy.sparse as sp

from topicvae import paths
from topicvae.corpus import read_manifest
from topicvae.corpus.shards import bow_checksum
from topicvae.errors import RunError, TopicVAEError
from topicvae.scoring.metrics import theta_entropy
from topicvae.text.phrases import DELIMITER as PHRASE_DELIMITER
from topicvae.text.settings import PreprocessSettings, from_dict
from topicvae.text.vectorizer import Vectorizer

if TYPE_CHECKING:  # pandas is imported where a table is made
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class Inferred:
    """θ and counts for a batch of new documents.

    Attributes:
        theta: (n, K) topic mixtures, rows sum to 1 (for a document with no word the model reads, the
            model's mixture for an empty document).
        bow: (n, V) counts over the run's vocabulary.
        n_tokens: (n,) tokens after preprocessing.
        n_known: (n,) of those, tokens the model reads (:func:`tokens_read`).
        z_mean, z_std: (n, K) posterior of the VAE, else None.
    """

    theta: np.ndarray
    bow: sp.csr_matrix
    n_tokens: np.ndarray
    n_known: np.ndarray
    z_mean: np.ndarray | None = None
    z_std: np.ndarray | None = None

    @property
    def n_unknown(self) -> int:
        return int(self.n_tokens.sum() - self.n_known.sum())


def run_preprocess_settings(run, corpora_dir: str | Path | None = None) -> PreprocessSettings:
    """The preprocessing the run's corpus used: from the run's config, else from the corpus manifest."""
    settings = run.config.get("preprocess")
    if settings is None:
        try:
            settings = read_manifest(run.config["corpus"], corpora_dir)["preprocess"]
        except Exception as exc:  # corpus gone: say what is missing
            raise RunError(f"run {run.name!r} does not record its preprocessing and its corpus "
                           f"{run.config.get('corpus')!r} is gone ({exc})") from exc
    return from_dict(PreprocessSettings, settings)


def run_vectorizer(run, corpora_dir: str | Path | None = None) -> Vectorizer:
    """The :class:`Vectorizer` that turns new text into counts over ``run``'s vocabulary.

    The phrase model comes from the run's corpus (its ``vectorizer.json``) while that corpus
    is still the one the run was trained on; the preprocessing is what the run records
    (:func:`run_preprocess_settings`); the vocabulary is the run's own, in its column order.
    Without the corpus's phrase model, a vocabulary holding phrases is used without joining
    them, with a warning: θ then differs from the run's for texts with those phrases.
    """
    saved = _training_vectorizer(run, corpora_dir)
    phrases = saved.phrases if saved is not None else None
    if phrases is None and any(PHRASE_DELIMITER in w for w in run.vocab):
        log.warning("run %s has phrases in its vocabulary, but the phrase model of its corpus %r is not "
                    "there (the corpus is gone or changed, or was ingested before phrase models were saved): "
                    "phrases in new text are not joined", run.name, run.config.get("corpus"))
    return Vectorizer(run_preprocess_settings(run, corpora_dir), saved.vocab if saved is not None else None,
                      phrases=phrases, vocabulary=run.vocab)


def _training_vectorizer(run, corpora_dir: str | Path | None) -> Vectorizer | None:
    """The saved vectorizer of the run's corpus; None when that corpus is gone, damaged or has
    changed since the run was trained (its phrases could then be another corpus's)."""
    name = run.config.get("corpus")
    try:
        manifest = read_manifest(name, corpora_dir)
        if bow_checksum(manifest) != run.config.get("corpus_checksum"):
            return None
        # the same bow checksum means the same vocabulary: the run's stands in for vocab.json
        return Vectorizer.for_corpus(paths.corpora_dir(corpora_dir) / name, manifest, run.vocab)
    except (TopicVAEError, OSError):
        return None


def vectorize_texts(texts: Sequence[str], vocab: list[str], settings: PreprocessSettings,
                    n_process: int = 1) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of ``texts`` over ``vocab`` after the given preprocessing (no phrases), and tokens per text."""
    return Vectorizer(settings, vocabulary=vocab).count(texts, n_process=n_process)


def tokens_read(model, X: sp.csr_matrix) -> np.ndarray:
    """Each document's tokens among the words ``model`` reads (:meth:`TopicModel.words_read`): in the
    vocabulary and, where the model reads part of it (ProdLDA's encoder reads the topic vocabulary),
    in that part. The other words do not change θ."""
    words = model.words_read()
    return np.asarray((X if words is None else X[:, words]).sum(axis=1)).ravel()


def infer_texts(run, texts: Sequence[str], corpora_dir: str | Path | None = None, n_process: int = 1) -> Inferred:
    """θ of new ``texts`` under ``run`` (the same input always gives the same output)."""
    X, n_tokens = run_vectorizer(run, corpora_dir).count(texts, n_process=n_process)
    model = run.model
    n_known = tokens_read(model, X)
    theta = np.asarray(model.transform(X), dtype=np.float64)
    z_mean, z_std = model.posterior(X) or (None, None)
    return Inferred(theta=theta, bow=X, n_tokens=n_tokens, n_known=n_known, z_mean=z_mean, z_std=z_std)


# ---------------------------------------------------------------------------- a file of new documents, streamed
#: documents read, counted, inferred and written at a time by :func:`infer_file`: a multiple of the VAEs'
#: evaluation batch (``sparse.EVAL_BATCH``, 4,096), so that the encoder sees the batches of the whole file
#: and θ, μ and σ are the bits of one call on all documents (float32 products can change with a batch's size)
CHUNK_DOCS = 5 * 4096


@dataclass
class InferredFile:
    """What :func:`infer_file` wrote: documents, tokens, tokens the model does not read (:func:`tokens_read`),
    documents without a word it reads (their θ is the model's mixture for an empty document)."""

    n_docs: int
    n_tokens: int
    n_unknown: int
    n_unknown_docs: int


SKIP_COLUMNS = ("text",)


def document_frame(docs: pd.DataFrame, theta: np.ndarray, topic_labels: Sequence[str],
                   z_mean: np.ndarray | None = None, z_std: np.ndarray | None = None) -> pd.DataFrame:
    """The document-vector columns of one chunk of documents: ``infer``'s table and ``export``'s.

    Args:
        docs: rows of the corpus document table (id, label, date, split, metadata...).
        theta: (n, K) topic mixtures of those rows.
        topic_labels: K names, one per topic.
        z_mean, z_std: (n, L) posterior mean and standard deviation (VAE only).
    """
    import pandas as pd

    k = theta.shape[1]
    out = docs[[c for c in docs.columns if c not in SKIP_COLUMNS]].reset_index(drop=True)
    dominant = theta.argmax(axis=1)
    out["dominant_topic"] = dominant
    out["dominant_topic_label"] = np.asarray(topic_labels, dtype=object)[dominant]
    thetas = pd.DataFrame(np.asarray(theta, dtype=np.float64), columns=[f"theta_{j}" for j in range(k)])
    parts = [out, thetas]
    if z_mean is not None and z_std is not None:
        L = z_mean.shape[1]
        parts.append(pd.DataFrame(np.asarray(z_mean, dtype=np.float64), columns=[f"mu_{j}" for j in range(L)]))
        parts.append(pd.DataFrame(np.asarray(z_std, dtype=np.float64), columns=[f"sigma_{j}" for j in range(L)]))
        parts.append(pd.DataFrame({"theta_entropy": theta_entropy(theta)}))
    return pd.concat(parts, axis=1)


def _chunk_frame(docs, kinds, vectorizer, model, labels, with_uncertainty: bool):
    """One chunk of documents as ``infer``'s table (θ, with their posterior too when asked), with each
    document's tokens and the tokens the model reads (:func:`tokens_read`)."""
    X, n_tokens = vectorizer.count([d.text for d in docs])
    n_known = tokens_read(model, X)
    theta = np.asarray(model.transform(X), dtype=np.float64)
    z_mean, z_std = (model.posterior(X) or (None, None)) if with_uncertainty else (None, None)
    table = _documents_table(docs, kinds)
    table["n_tokens"] = n_tokens
    table["n_unknown_tokens"] = n_tokens - n_known
    return document_frame(table, theta, labels, z_mean, z_std), n_tokens, n_known


def infer_file(run, source: str, out: str | Path, *, fmt: str | None = None, columns=None,
               corpora_dir: str | Path | None = None, with_uncertainty: bool = False,
               chunk_docs: int = CHUNK_DOCS) -> InferredFile:
    """θ of the documents of ``source`` (any format ingest reads) written to ``out`` (``.parquet`` by suffix,
    CSV otherwise; refused with one line when it is the source, in the corpora or runs folder, or cannot
    be written: :func:`topicvae.paths.check_output_path`), ``chunk_docs`` documents at a time: read, counted, inferred and
    appended, so that memory holds one chunk's texts, counts and rows (the reader's own table aside). The
    file is the table ``infer`` writes for all documents at once: a source of several chunks is first read
    for its metadata fields alone (:class:`_MetaKinds`), so that every chunk has the columns, and the
    column types, of the whole table. :class:`~topicvae.errors.SourceError` (one line) for a source without
    documents or without a word the model reads; nothing is left at ``out`` then."""
    import itertools

    from topicvae.errors import SourceError
    from topicvae.runs.labels import topic_labels
    from topicvae.text.sources import read_source

    out, parquet = _checked_output(run, source, out, corpora_dir, with_uncertainty)

    def chunks():
        docs = read_source(source, fmt, columns)
        return iter(lambda: list(itertools.islice(docs, chunk_docs)), [])

    stream = chunks()
    first = next(stream, [])
    if not first:
        raise SourceError(f"{source} holds no documents")
    second = next(stream, [])
    kinds = _MetaKinds.of(chunks()) if second else None  # (one chunk: the table as it always was)
    vectorizer, model, labels = run_vectorizer(run, corpora_dir), run.model, topic_labels(run)
    summary = InferredFile(0, 0, 0, 0)
    writer = None
    with paths.atomic_file(Path(out)) as tmp:
        try:
            for docs in itertools.chain([first], [second] if second else [], stream):
                frame, n_tokens, n_known = _chunk_frame(docs, kinds, vectorizer, model, labels, with_uncertainty)
                if parquet:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    part = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        schema = part.schema if kinds is None else kinds.schema(part.schema)
                        writer = pq.ParquetWriter(tmp, schema)
                    writer.write_table(part.cast(writer.schema))
                else:
                    frame.to_csv(tmp, mode="a", header=summary.n_docs == 0, index=False)
                summary.n_docs += len(docs)
                summary.n_tokens += int(n_tokens.sum())
                summary.n_unknown += int(n_tokens.sum() - n_known.sum())
                summary.n_unknown_docs += int((n_known == 0).sum())
                log.info("%d documents of %s inferred and written", summary.n_docs, source)
        finally:
            if writer is not None:
                writer.close()
        if summary.n_unknown == summary.n_tokens:
            n_read = len(run.vocab if (read := model.words_read()) is None else read)
            raise SourceError(f"no document in {source} has a word that run {run.name!r} reads ({n_read:,} words of "
                              "its vocabulary); is it the right language and text column?")
    return summary


def _checked_output(run, source: str, out, corpora_dir, with_uncertainty: bool) -> tuple[Path, bool]:
    """(``out`` as a Path, whether it is Parquet) once it may be written (:func:`topicvae.paths.check_output_path`,
    a .csv or .parquet name) and ``with_uncertainty`` is for a run with a posterior; one-line errors otherwise."""
    out = paths.check_output_path(out, {**paths.workspace_folders(corpora_dir, run.path.parent), source: "the input"})
    parquet = paths.table_format(out) == "parquet"
    if with_uncertainty:
        run.require_posterior("infer")
    return out, parquet


def _documents_table(docs: list, kinds: "_MetaKinds | None"):
    """id, label, date, split and the metadata columns of a chunk of documents: as ``infer`` always made
    them for a whole file (``kinds`` None), or with every metadata column of the whole source, of its type."""
    import pandas as pd

    from topicvae.text.metadata import add_metadata

    table = pd.DataFrame({"id": [d.id for d in docs], "label": [d.label for d in docs],
                          "date": [d.date for d in docs], "split": [d.split for d in docs]})
    if kinds is None:
        return add_metadata(table, [d.meta for d in docs])
    for key, col in kinds.names.items():
        table[col] = pd.Series([d.meta.get(key) for d in docs], dtype=object).astype(kinds.dtypes[col])
    return table


class _MetaKinds:
    """The metadata columns of a whole source met chunk by chunk: their names (as
    :func:`~topicvae.text.metadata.add_metadata` names them for the whole table) and the pandas type each
    would have in the whole table, found from a few values of each Python type met (and None where a
    document lacks the field), which are all pandas' inference looks at."""

    def __init__(self):
        self.names: dict = {}
        self.examples: dict[str, dict] = {}

    @classmethod
    def of(cls, chunks) -> "_MetaKinds":
        import pandas as pd

        from topicvae.text.metadata import metadata_columns

        kinds, n_docs, having = cls(), 0, {}
        for docs in chunks:
            metadata_columns((k for d in docs for k in d.meta), kinds.names)
            n_docs += len(docs)
            for d in docs:
                for key, v in d.meta.items():
                    seen = kinds.examples.setdefault(kinds.names[key], {})
                    having[key] = having.get(key, 0) + 1
                    kind = type(v)
                    if isinstance(v, int) and not isinstance(v, bool):  # (the smallest and largest: overflow)
                        seen[(kind, "min")] = min(seen.get((kind, "min"), v), v)
                        seen[(kind, "max")] = max(seen.get((kind, "max"), v), v)
                    else:
                        seen.setdefault(kind, v)
        for key, count in having.items():
            if count < n_docs:  # documents without the field: None there
                kinds.examples[kinds.names[key]].setdefault(type(None), None)
        kinds.dtypes = {col: pd.Series(list(seen.values()), dtype=None if seen else object).dtype
                        for col, seen in kinds.examples.items()}
        kinds.samples = {col: list(seen.values()) for col, seen in kinds.examples.items()}
        return kinds

    def schema(self, schema):
        """``schema`` (a chunk's Arrow schema) with each metadata column of the type of all its values."""
        import pandas as pd
        import pyarrow as pa

        for col, values in self.samples.items():
            kind = pa.Table.from_pandas(pd.DataFrame({col: pd.Series(values, dtype=object).astype(self.dtypes[col])}),
                                        preserve_index=False).schema.field(col).type
            schema = schema.set(schema.get_field_index(col), schema.field(col).with_type(kind))
        return schema
