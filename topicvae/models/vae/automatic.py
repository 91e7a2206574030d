"""The rules behind the VAEs' automatic settings (a setting left at None): what the training documents'
counts choose for the epochs, the word embeddings' size, the decoder's batch-norm anneal, the topics'
learning rate and the topic vocabulary. How each rule was chosen: docs/model-defaults.md and
docs/quality.md; the settings themselves are declared in :mod:`topicvae.models.settings`.
"""

from __future__ import annotations

import math

import numpy as np

from topicvae.models.vae.statistics import DocumentCounts

# epochs=None (automatic): by the mean length of the training documents and their number (automatic_epochs)
SHORT_DOCUMENT_TOKENS = 30
SHORT_DOCUMENT_TOPIC_EPOCHS = 10
LONG_DOCUMENT_EPOCHS = 30
#: ProdLDA/GSM with the decoder's batch norm annealed away (long documents): the topic epochs
ANNEALED_EPOCHS = 60
#: ProdLDA/GSM's bn_anneal=None on long documents: the epochs over which the decoder's batch norm
#: is annealed away, three quarters of ANNEALED_EPOCHS (on short documents it is kept: bn_anneal 0)
BN_ANNEAL_EPOCHS = 45
#: when the topic epochs take fewer steps than this, the encoder catches up on the fixed decoder ...
FEW_STEPS = 1000
#: ... for at least this many more steps
ENCODER_STEPS = 500
#: ProdLDA's embedding_dim=None (automatic, see automatic_embedding_dim): the word embeddings' dimensions
EMBEDDING_DIM = 200
SHORT_DOCUMENT_DIMS_PER_TOPIC = 2.5


def short_documents(counts: DocumentCounts) -> bool:
    """Whether the training documents (their ``counts``, :func:`.statistics.count_documents`) hold fewer
    than ``SHORT_DOCUMENT_TOKENS`` (30) tokens on average (titles, short posts); False when there are none."""
    return bool(counts.n_docs) and counts.mean_length < SHORT_DOCUMENT_TOKENS


def automatic_epochs(counts: DocumentCounts, batch_size: int = 200,
                     long_epochs: int = LONG_DOCUMENT_EPOCHS) -> tuple[int, int | None]:
    """(epochs, epochs in which the decoder learns; None: all) for ``epochs=None``.

    The decoder (the topics) learns for 10 epochs when the training documents (their ``counts``,
    :func:`.statistics.count_documents`) hold fewer than 30 tokens on average (titles, short
    posts), else for ``long_epochs`` (30; ProdLDA and GSM with an annealed decoder: 60). When those
    epochs take fewer than 1,000 steps of ``batch_size``
    documents, the decoder is then fixed and the encoder alone trains on for at least 500 more
    steps (whole epochs): (10 + e, 10) or (30 + e, 30); otherwise (10, None) or (30, None).

    Short documents each carry a handful of co-occurrences, and every further epoch of fitting
    them one at a time moves the topics towards words that reconstruct them but co-occur less in
    other documents; longer documents need the later epochs for the diversity term to pull the
    topics apart. On a small corpus those epochs are few steps, and the encoder is left behind
    the decoder it infers θ for (an amortisation gap: worse θ and a looser bound); the steps on
    the fixed decoder close it without changing the topics. Chosen on validation documents
    (docs/quality.md, "Letting the encoder catch up").
    """
    topic_epochs = SHORT_DOCUMENT_TOPIC_EPOCHS if short_documents(counts) else long_epochs
    steps_per_epoch = max(1, math.ceil(counts.n_docs / batch_size))
    if topic_epochs * steps_per_epoch >= FEW_STEPS:
        return topic_epochs, None
    return topic_epochs + math.ceil(ENCODER_STEPS / steps_per_epoch), topic_epochs


def automatic_embedding_dim(n_topics: int, short: bool) -> int:
    """The word embeddings' d for ``embedding_dim=None``: 200, and on short documents (``short``,
    :func:`short_documents`) 2.5 per topic, at most 200 (50 at K = 20, 125 at K = 50).

    The embeddings are a truncated SVD of the documents' PPMI; the fewer dimensions kept, the more
    the factorisation smooths it. A title adds a handful of co-occurrences, so on short documents
    most word pairs are seen in one or two documents and the PPMI is mostly noise; the topics,
    which start from clusters of the embeddings, then gather words that met by chance in the
    training documents. On long documents the same cut loses signal. How d was chosen:
    docs/model-defaults.md.
    """
    if not short:
        return EMBEDDING_DIM
    return int(min(EMBEDDING_DIM, math.ceil(SHORT_DOCUMENT_DIMS_PER_TOPIC * n_topics)))


#: the automatic topic vocabulary (see topic_vocabulary): words in at least TOPIC_MIN_DF training
#: documents, at most the TOPIC_VOCABULARY_SIZE most widespread, and never fewer than
#: TOPIC_WORDS_PER_TOPIC per topic (when the vocabulary has them)
TOPIC_MIN_DF = 20
TOPIC_VOCABULARY_SIZE = 2500
TOPIC_WORDS_PER_TOPIC = 25
#: the share of lr at which topics that start from clusters learn (ProdLDA's topic_lr=None)
CLUSTERED_TOPIC_LR = 0.1


def topic_vocabulary(df: np.ndarray, n_topics: int, min_df: int | None = None) -> np.ndarray:
    """The words that may carry topic weight: bool (V,), True for words in at least ``min_df``
    training documents, given each word's document frequency ``df`` (``DocumentCounts.doc_freq``).

    ``min_df`` None chooses it: words in at least ``TOPIC_MIN_DF`` (20) documents, and of
    those only the ``max(TOPIC_VOCABULARY_SIZE, TOPIC_WORDS_PER_TOPIC·K)`` (2,500 up to
    K = 100) in the most documents; when fewer than ``TOPIC_WORDS_PER_TOPIC``·K (25·K) words
    reach 20 documents, the floor is lowered to keep that many, so that K topics can still
    have distinct top words. Words tied at a cut are kept. The topic vocabulary so depends
    on how widespread words are, not on how large a vocabulary was ingested. 0 keeps every
    word.
    """
    if min_df is None:
        ranked = np.sort(df)[::-1]
        at_rank = lambda n: float(ranked[min(len(ranked), n) - 1])  # noqa: E731 - df of the n-th word
        most = max(TOPIC_VOCABULARY_SIZE, TOPIC_WORDS_PER_TOPIC * int(n_topics))
        min_df = max(at_rank(most), min(TOPIC_MIN_DF, at_rank(TOPIC_WORDS_PER_TOPIC * int(n_topics))))
    return df >= min_df


def automatic_bn_anneal(counts: DocumentCounts | None) -> float:
    """``bn_anneal=None``: the decoder's batch norm annealed away over BN_ANNEAL_EPOCHS (45) on long
    documents, kept (0) on short ones and without documents (a network built to load weights into)."""
    return float(BN_ANNEAL_EPOCHS) if counts is not None and not short_documents(counts) else 0.0


def automatic_topic_lr(clustered: bool, bn_anneal: float) -> float:
    """``topic_lr=None``: 1 for a decoder whose batch norm is annealed away (``bn_anneal`` > 0; without
    the norm the topics' scale is theirs to learn), else CLUSTERED_TOPIC_LR (0.1) for topics that start
    from clusters (``clustered``), else 1."""
    return CLUSTERED_TOPIC_LR if clustered and bn_anneal == 0 else 1.0
