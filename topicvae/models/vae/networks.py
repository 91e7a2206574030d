"""The VAE topic models' math: sparse batches, encoder, decoders, priors, ELBO terms.

Documents arrive as :class:`SparseBatch` (the CSR rows of one minibatch as flat torch
tensors) and are never densified: the first encoder layer is an ``embedding_bag`` sum
(exactly ``x @ W`` for a sparse ``x``) and the reconstruction term gathers the
log-probabilities of the words each document contains.

ProdLDA's optional decoder settings (see :class:`ProdLDANet`) live here too: word
embeddings from the corpus's own co-occurrence (:func:`ppmi_embeddings`), and the
balanced-assignment regulariser that keeps topics apart (:func:`sinkhorn_plan`).

Shapes: B documents in a batch, V words, K topics, d embedding dimensions, nnz stored
counts in the batch.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from topicvae.corpus.rows import as_row_source
from topicvae.models.settings import LIKELIHOODS
from topicvae.models.vae.statistics import DENSE_LIMIT, Cooccurrence, count_cooccurrence, sample_rows


# ---------------------------------------------------------------------------- batches
@dataclass
class SparseBatch:
    """B documents as CSR pieces on one device.

    Attributes:
        indices: int64 (nnz,) word ids, document by document.
        counts: float32 (nnz,) the counts of those words.
        offsets: int64 (B,) start of each document in ``indices``.
        rows: int64 (nnz,) the document (0..B-1) of each stored count.
        size: B.
        transposed: the batch as a sparse CSR tensor (V, B), needed only to train the
            first encoder layer (its weight gradient is ``xᵀ @ grad``); None for inference.
        encoder_input: the same documents over the encoder's input words only (their columns
            renumbered 0..V_in-1, see :meth:`Encoder.restrict_input`), with the transpose, for
            training an encoder that reads a subset of the vocabulary; None: the encoder reads
            this batch (remapping it itself when restricted, which needs no transpose).
    """

    indices: torch.Tensor
    counts: torch.Tensor
    offsets: torch.Tensor
    rows: torch.Tensor
    size: int
    transposed: torch.Tensor | None = None
    encoder_input: "SparseBatch | None" = None


class CSRBatches:
    """A CSR matrix cut into :class:`SparseBatch` es of consecutive rows.

    The matrix stays sparse: each batch is a slice of the CSR arrays. With
    ``transposed=True`` each batch also carries its (V, B) transpose, built with a
    counting sort in numpy (a radix sort for vocabularies under 65,536 words).

    ``encoder_words`` (sorted word ids): each batch also carries ``encoder_input``, its
    documents over those columns only, and the transpose (when asked for) is built for that
    one, the only one the first encoder layer's gradient needs.
    """

    def __init__(self, X: sp.csr_matrix, device: torch.device | str = "cpu", encoder_words: np.ndarray | None = None):
        X = X.tocsr()
        self._encoder = CSRBatches(X[:, encoder_words], device) if encoder_words is not None else None
        self.n_rows, self.n_words = X.shape
        self.device = torch.device(device)
        self._indptr = X.indptr.astype(np.int64)
        self._cols = X.indices.astype(np.uint16 if self.n_words <= np.iinfo(np.uint16).max else np.int64)
        self._rows = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self._indptr))
        self._counts = X.data.astype(np.float32)
        self.indptr = torch.from_numpy(self._indptr).to(self.device)
        self.indices = torch.from_numpy(X.indices.astype(np.int64)).to(self.device)
        self.counts = torch.from_numpy(self._counts).to(self.device)
        self.rows = torch.from_numpy(self._rows).to(self.device)

    def batch(self, start: int, stop: int, transposed: bool = False) -> SparseBatch:
        """Rows ``start:stop`` as a batch (with its transpose if ``transposed``)."""
        lo, hi = int(self._indptr[start]), int(self._indptr[stop])
        return SparseBatch(
            indices=self.indices[lo:hi],
            counts=self.counts[lo:hi],
            offsets=self.indptr[start:stop] - lo,
            rows=self.rows[lo:hi] - start,
            size=stop - start,
            transposed=self._transpose(start, stop, lo, hi) if transposed and self._encoder is None else None,
            encoder_input=self._encoder.batch(start, stop, transposed) if self._encoder is not None else None,
        )

    def _transpose(self, start: int, stop: int, lo: int, hi: int) -> torch.Tensor:
        cols = self._cols[lo:hi]
        order = np.argsort(cols, kind="stable")
        indptr = np.zeros(self.n_words + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=self.n_words), out=indptr[1:])
        with warnings.catch_warnings():  # "sparse CSR support is in beta": it is, and it works here
            warnings.simplefilter("ignore", UserWarning)
            xt = torch.sparse_csr_tensor(
                torch.from_numpy(indptr),
                torch.from_numpy(self._rows[lo:hi][order] - start),
                torch.from_numpy(self._counts[lo:hi][order]),
                size=(self.n_words, stop - start),
                check_invariants=False,
            )
        return xt.to(self.device)


#: documents per batch when a fitted network reads a matrix (inference, evaluation)
EVAL_BATCH = 4096


def eval_batches(net: nn.Module, X: sp.csr_matrix, batch_size: int = EVAL_BATCH) -> Iterator[tuple[int, int, SparseBatch]]:
    """(start, stop, batch) over X's rows in chunks of ``batch_size``, with ``net`` in evaluation mode
    (its mode restored afterwards) and each batch on ``net``'s device. The caller turns gradients off."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        for s in range(0, X.shape[0], batch_size):
            chunk = CSRBatches(X[s:s + batch_size], device)
            yield s, s + chunk.n_rows, chunk.batch(0, chunk.n_rows)
    finally:
        net.train(was_training)


# ---------------------------------------------------------------------------- priors and KL
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, prior_mu: torch.Tensor, prior_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) ‖ N(prior_mu, prior_var)) for diagonal Gaussians, summed over K.

    mu, logvar: (B, K); prior_mu: (K,) or (B, K); prior_var: (K,). Returns (B,).
    """
    var = logvar.exp()
    return 0.5 * (var / prior_var + (mu - prior_mu) ** 2 / prior_var - 1.0 + prior_var.log() - logvar).sum(dim=1)


def laplace_dirichlet_prior(alpha: np.ndarray | float, n_topics: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance (each (K,)) of the Laplace approximation, in softmax space, of Dirichlet(alpha).

    From Srivastava & Sutton (2017), eq. 2: μ_k = log α_k − mean(log α),
    σ²_k = (1 − 2/K)/α_k + Σ_i (1/α_i) / K².
    """
    a = torch.as_tensor(np.broadcast_to(np.asarray(alpha, dtype=np.float64), (n_topics,)).copy())
    mean = a.log() - a.log().mean()
    var = (1.0 - 2.0 / n_topics) / a + (1.0 / a).sum() / n_topics**2
    return mean.float(), var.float()


# ---------------------------------------------------------------------------- word embeddings, transport
#: context distribution smoothing of the PPMI embeddings (Levy, Goldberg & Dagan 2015): each context
#: word's probability is taken as its document frequency to this power, renormalised
PPMI_CONTEXT_SMOOTHING = 0.75
#: the most documents whose co-occurrence the word embeddings count (a seeded sample above it)
PPMI_MAX_DOCS = 100_000


def ppmi_embeddings(X, dim: int, seed: int = 0, dense_limit: int = DENSE_LIMIT,
                    max_docs: int = PPMI_MAX_DOCS, rows: np.ndarray | None = None,
                    words: np.ndarray | None = None,
                    context_smoothing: float = PPMI_CONTEXT_SMOOTHING,
                    combine: Callable[[Cooccurrence], Cooccurrence] | None = None) -> np.ndarray:
    """Word embeddings from the documents' own co-occurrence: float32 (V, d), rows of unit length.

    The positive pointwise mutual information of document co-occurrence,
    ``PPMI(w, v) = max(0, log(D(w, v) / (D(w)·P_a(v))))`` with D counting the documents
    that contain the word(s) (diagonal left out) and ``P_a(v) = D(v)^a / Σ_u D(u)^a · Σ_u D(u) / |D|``
    the context word's document share smoothed with ``a = context_smoothing`` (a = 1 is plain
    PMI, ``D(v) / |D|``). Below 1 it raises the share of rare context words, so that meeting one
    of them once no longer counts as a strong association: plain PMI is biased towards rare
    words (Levy, Goldberg & Dagan 2015), and topics grown from such embeddings list words that
    co-occur in a handful of training documents only. Factorised by a truncated SVD:
    ``E = U_d · S_d^½`` (Levy & Goldberg 2014: the matrix that skip-gram word2vec
    factorises implicitly, here with the whole document as the window). Words close in E
    occur in the same documents, which is what NPMI rewards. A word that co-occurs with
    nothing more often than chance gets a zero row. ``d`` is capped at V − 1.

    ``X``: a csr_matrix, or a row source (:mod:`topicvae.corpus.rows`, e.g. a corpus's shards on disk) read in
    one pass, a shard at a time (:func:`.statistics.count_cooccurrence`). The V × V matrix is
    dense float32 (4·V² bytes: 16 MB for 2,000 words, 400 MB for 10,000) up to ``dense_limit``
    words and sparse above (only positive entries stored).
    The SVD is exact up to 1,000 words, above it scikit-learn's randomized SVD (seeded, four
    power iterations: fewer approximate the leading singular vectors less closely, which cost
    the topics coherence; docs/model-defaults.md). Above ``max_docs`` documents the counts come
    from a seeded random sample of that many, so the cost stops growing with the corpus.
    ``rows``: the documents of X to count (sorted; None: all). ``words``: the columns of X to
    embed (sorted; None: all); the other words get zero rows, and ``d`` is capped by the number
    of embedded words. ``combine``: what the counts become before they are factorised (data-parallel:
    the sum over the processes' shares, :func:`.distributed.summed_cooccurrence`).
    """
    source = as_row_source(X)
    n_all = source.shape[1]
    rows = np.arange(source.shape[0]) if rows is None else np.asarray(rows)
    embedded = words if words is not None and len(words) < n_all else None
    co = count_cooccurrence(source.blocks(sample_rows(rows, max_docs, seed)), n_all, embedded, dense_limit)
    if combine is not None:
        co = combine(co)
    emb = ppmi_factors(ppmi_of_counts(co, context_smoothing), dim, seed)
    if embedded is None:
        return emb
    full = np.zeros((n_all, dim), np.float32)
    full[embedded, :emb.shape[1]] = emb
    return full


def ppmi_factors(ppmi: np.ndarray | sp.csr_matrix, dim: int, seed: int = 0) -> np.ndarray:
    """The unit rows of ``U_d · S_d^½`` of the truncated SVD of a PPMI matrix (W × W): float32 (W, d),
    d capped at W − 1; exact up to 1,000 words, randomized (seeded) above."""
    n_words = ppmi.shape[0]
    dim = int(min(dim, n_words - 1))
    if n_words <= 1000:
        dense = ppmi.toarray() if sp.issparse(ppmi) else ppmi
        u, s, _ = np.linalg.svd(dense.astype(np.float64))
        u, s = u[:, :dim], s[:dim]
    else:
        from sklearn.utils.extmath import randomized_svd

        u, s, _ = randomized_svd(ppmi, dim, n_iter=4, random_state=seed)
    emb = u * np.sqrt(np.maximum(s, 0.0))
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return (emb / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def ppmi_matrix(X: sp.csr_matrix, context_smoothing: float = PPMI_CONTEXT_SMOOTHING,
                dense_limit: int = DENSE_LIMIT) -> np.ndarray | sp.csr_matrix:
    """The PPMI of document co-occurrence of X's columns (:func:`ppmi_embeddings` defines it): (V, V)
    float32, row w and column v for the word and its context word; dense up to ``dense_limit`` words,
    else sparse (its positive entries)."""
    X = sp.csr_matrix(X)
    return ppmi_of_counts(count_cooccurrence([(X, None)], X.shape[1], dense_limit=dense_limit), context_smoothing)


def ppmi_of_counts(co: Cooccurrence, context_smoothing: float = PPMI_CONTEXT_SMOOTHING) -> np.ndarray | sp.csr_matrix:
    """The PPMI (:func:`ppmi_embeddings`) of counted co-occurrence, dense or sparse as the counts are
    (a dense array of counts is turned into the PPMI in place)."""
    df = co.doc_freq
    inv_df = np.divide(1.0, df, out=np.zeros_like(df), where=df > 0)
    share = df.astype(np.float64) ** context_smoothing  # P_a(v), with the total of the plain shares
    share *= df.sum(dtype=np.float64) / (co.n_docs * share.sum())
    inv_share = np.divide(1.0, share, out=np.zeros_like(share), where=share > 0).astype(np.float32)
    if not sp.issparse(co.counts):
        ppmi = co.counts
        ppmi *= inv_df[:, None]
        ppmi *= inv_share[None, :]
        with np.errstate(divide="ignore"):
            np.log(ppmi, out=ppmi)  # −inf where two words never meet
        np.fill_diagonal(ppmi, 0.0)
        np.maximum(ppmi, 0.0, out=ppmi)
        return ppmi
    counts = co.counts.tocoo()
    off = counts.row != counts.col
    wi, wj = counts.row[off], counts.col[off]
    pmi = np.log(counts.data[off] * inv_df[wi] * inv_share[wj])
    keep = pmi > 0
    n_words = len(df)
    return sp.csr_matrix((pmi[keep], (wi[keep], wj[keep])), shape=(n_words, n_words))


def std_with_zero_rows(rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """The standard deviation (unbiased, as ``Tensor.std``) of the (n_rows, K) matrix made of
    ``rows`` (R, K) and n_rows − R rows of zeros, without building it."""
    if len(rows) == n_rows:
        return rows.std()
    n = n_rows * rows.shape[1]
    total = rows.sum(dtype=torch.float64)
    squares = (rows.double() ** 2).sum()
    return ((squares - total * total / n) / (n - 1)).clamp_min(0.0).sqrt().to(rows.dtype)


def sinkhorn_plan(cost: torch.Tensor, eps: float, iters: int = 50, word_mass: torch.Tensor | None = None) -> torch.Tensor:
    """Entropic optimal transport plan between V words and K topics (mass 1/K each).

    Minimises ``Σ P·cost − eps·H(P)`` with Sinkhorn's iterations (in float64, each row
    shifted by its minimum, which leaves the plan unchanged). cost: (V, K); word_mass:
    (V,) non-negative weights of the words (None: 1/V each), normalised to sum 1. Returns
    the float32 plan (V, K), summing to 1, with row sums the word masses and column sums 1/K.
    """
    n_words, n_topics = cost.shape
    logits = -cost.detach().double() / eps
    kernel = (logits - logits.max(dim=1, keepdim=True).values).exp()
    if word_mass is None:
        a = torch.full((n_words,), 1.0 / n_words, dtype=torch.float64, device=cost.device)
    else:
        a = word_mass.detach().double()
        a = a / a.sum()
    b = torch.full((n_topics,), 1.0 / n_topics, dtype=torch.float64, device=cost.device)
    v = torch.ones(n_topics, dtype=torch.float64, device=cost.device)
    tiny = torch.finfo(torch.float64).tiny
    for _ in range(iters):
        u = a / (kernel @ v).clamp_min(tiny)
        v = b / (kernel.T @ u).clamp_min(tiny)
    return (u[:, None] * kernel * v[None, :]).to(cost.dtype)


def seed_indicator(n_words: int, n_topics: int, seed_topics: list[list[int]] | None) -> torch.Tensor | None:
    """(V, K) float32 with 1 at (w, k) for each seed word w of topic k (:class:`ProdLDANet`); None without seeds."""
    if not seed_topics:
        return None
    if len(seed_topics) > n_topics:
        raise ValueError(f"{len(seed_topics)} seeded topics for {n_topics} topics")
    out = torch.zeros(n_words, n_topics)
    for k, words in enumerate(seed_topics):
        out[torch.as_tensor(list(words), dtype=torch.long), k] = 1.0
    return out


def embedding_clusters(emb: np.ndarray, mass: np.ndarray, n_topics: int, seed: int = 0,
                       rounds: int = 20, eps: float = 0.1) -> np.ndarray:
    """K balanced clusters of the word embeddings: float32 (K, d) unit-length centroids.

    Spherical k-means (scikit-learn's, on the unit rows of ``emb`` weighted by ``mass``,
    seeded) followed by ``rounds`` of balanced reassignment: the words' mass goes to the
    centroids by the entropic optimal-transport plan that gives every cluster an equal
    share (:func:`sinkhorn_plan`, the same assignment the ``diversity`` term trains
    towards) and each centroid moves to the mean of what it received. Words that occur in
    the same documents have close embeddings, so each cluster is a group of co-occurring
    words: a topic to start from. Only rows with positive mass take part. k-means runs on one
    thread: its sums over threads would otherwise make the clusters depend on the core count.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    keep = np.flatnonzero(mass > 0)
    E = emb[keep].astype(np.float64)
    E /= np.linalg.norm(E, axis=1, keepdims=True).clip(1e-12)
    w = mass[keep].astype(np.float64)
    with threadpool_limits(1):
        centres = KMeans(n_topics, n_init=4, random_state=seed).fit(E, sample_weight=w).cluster_centers_
    centres /= np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-12)
    w_t = torch.from_numpy(w)
    for _ in range(rounds):
        sim = E @ centres.T
        plan = sinkhorn_plan(torch.from_numpy(-sim / max(sim.std(), 1e-12)), eps, 50, w_t).numpy()
        centres = plan.T @ E
        centres /= np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-12)
    return centres.astype(np.float32)


# ---------------------------------------------------------------------------- modules
class _SparseMatmul(torch.autograd.Function):
    """``x @ W`` for a sparse batch x; the weight gradient is ``xᵀ @ grad`` with the prebuilt transpose."""

    @staticmethod
    def forward(ctx, weight: torch.Tensor, x: SparseBatch) -> torch.Tensor:
        ctx.transposed = x.transposed
        return F.embedding_bag(x.indices, weight, x.offsets, mode="sum", per_sample_weights=x.counts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        if ctx.transposed is None:
            raise RuntimeError("training a SparseLinear layer needs batches built with transposed=True")
        return ctx.transposed @ grad, None


class SparseLinear(nn.Module):
    """``x @ W + b`` for a :class:`SparseBatch` x (B, V) → (B, out), never densifying x."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))
        bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default initialisation
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: SparseBatch) -> torch.Tensor:
        if torch.is_grad_enabled() and self.weight.requires_grad:
            out = _SparseMatmul.apply(self.weight, x)
        else:
            out = F.embedding_bag(x.indices, self.weight, x.offsets, mode="sum", per_sample_weights=x.counts)
        return out + self.bias


class BatchNorm(nn.Module):
    """Batch norm with a learned shift, and a learned scale only with ``scale`` (ProdLDA's avitm code has none).

    One ``F.batch_norm`` call: no extra pass to add the shift.
    """

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5, scale: bool = False):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(n)) if scale else None
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)


class Dropout(nn.Module):
    """Inverted dropout from a uniform draw (faster on CPU than ``nn.Dropout``'s Bernoulli draw)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = (torch.rand_like(x) >= self.p).to(x.dtype)
        return x * keep.mul_(1.0 / (1.0 - self.p))


class Encoder(nn.Module):
    """Bag-of-words → (μ, log σ²) of q(z|x): an MLP with softplus layers (as in avitm).

    With ``batchnorm`` μ and log σ² pass through batch norm with a learned shift and no
    learned scale (ProdLDA, Srivastava & Sutton 2017), or with ``batchnorm_scale`` a learned scale
    too. Without a scale every μ_k spreads over the documents with unit variance, which costs
    about K/2 nats of KL per document whatever the data; with one the KL term decides the spread.

    The encoder reads every word of the vocabulary unless :meth:`restrict_input` narrows it to
    a subset (the buffer ``input_words``; its first layer then has a row per word of it only), and
    each word's count, or with ``log_counts`` log2(1 + count), which damps a long document's repeats
    and leaves a word that occurs once at 1.
    """

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float, batchnorm: bool,
                 batchnorm_scale: bool = False, log_counts: bool = False):
        super().__init__()
        sizes = list(hidden)
        self.n_words = n_words
        self.log_counts = log_counts
        self.first = SparseLinear(n_words, sizes[0])
        self.register_buffer("input_words", None)  # None: every word (a buffer once restricted)
        self.register_buffer("input_column", None, persistent=False)
        self.rest = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.drop = Dropout(dropout)
        self.mu = nn.Linear(sizes[-1], n_topics)
        self.logvar = nn.Linear(sizes[-1], n_topics)
        self.mu_bn = BatchNorm(n_topics, scale=batchnorm_scale) if batchnorm else nn.Identity()
        self.logvar_bn = BatchNorm(n_topics, scale=batchnorm_scale) if batchnorm else nn.Identity()

    def restrict_input(self, words: torch.Tensor) -> None:
        """Read only the words ``words`` (sorted ids): the first layer is rebuilt (freshly
        initialised) with one row per word of them; the other words no longer reach q(z|x)."""
        words = torch.as_tensor(words, dtype=torch.long).cpu()
        device = self.first.weight.device
        self.first = SparseLinear(len(words), self.first.weight.shape[1]).to(device)
        self.register_buffer("input_words", words.to(device))
        column = torch.full((self.n_words,), -1, dtype=torch.long)
        column[words] = torch.arange(len(words))
        self.register_buffer("input_column", column.to(device), persistent=False)

    def _input(self, x: SparseBatch) -> SparseBatch:
        """The batch the first layer reads: ``x``, or x over the input words only, its counts c as they
        are or, with ``log_counts``, as log2(1 + c)."""
        x = self._input_words(x)
        return log_counts(x) if self.log_counts else x

    def _input_words(self, x: SparseBatch) -> SparseBatch:
        """``x`` itself, or x over the input words only."""
        if self.input_column is None:
            return x
        if x.encoder_input is not None:
            return x.encoder_input
        if torch.is_grad_enabled() and self.first.weight.requires_grad:
            raise RuntimeError("training an encoder with restricted input needs batches built with encoder_words")
        column = self.input_column[x.indices]  # the other words count 0 at column 0: no transpose to build
        kept = (column >= 0).to(x.counts.dtype)
        return SparseBatch(column.clamp_min(0), x.counts * kept, x.offsets, x.rows, x.size)

    def forward(self, x: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.softplus(self.first(self._input(x)))
        for layer in self.rest:
            h = F.softplus(layer(h))
        h = self.drop(h)
        return self.mu_bn(self.mu(h)), self.logvar_bn(self.logvar(h))


def log_counts(x: SparseBatch) -> SparseBatch:
    """The batch ``x`` with each stored count c as log2(1 + c), its transpose (when it has one) too."""
    t = x.transposed
    if t is not None:
        t = torch.sparse_csr_tensor(t.crow_indices(), t.col_indices(), t.values().log1p() / math.log(2.0),
                                    size=t.shape, check_invariants=False)
    return SparseBatch(x.indices, x.counts.log1p() / math.log(2.0), x.offsets, x.rows, x.size, t)


def reconstruction(log_probs: torch.Tensor, x: SparseBatch) -> torch.Tensor:
    """−Σ_w x_w log p_w per document, reading only the stored counts: (B, V) → (B,)."""
    picked = log_probs[x.rows, x.indices] * x.counts
    return -torch.zeros(x.size, dtype=log_probs.dtype, device=log_probs.device).index_add_(0, x.rows, picked)


def bernoulli_reconstruction(logits: torch.Tensor, x: SparseBatch) -> torch.Tensor:
    """−Σ_w log p(y_w) per document for y_w = [x_w > 0], each word's presence a Bernoulli with
    p_w = sigmoid(logit_w): (B, V) → (B,).

    −log p(y) = softplus(l) − y·l summed over the whole vocabulary: every document pays
    softplus(l_w) for every word and gets l_w back for the words it contains (counts ignored).
    """
    present = torch.zeros(x.size, dtype=logits.dtype, device=logits.device).index_add_(
        0, x.rows, logits[x.rows, x.indices])
    return F.softplus(logits).sum(dim=1) - present


#: buffers of earlier versions that held a read-out of the topics (word weights, lead words), not
#: part of the model: a saved network or checkpoint that has them loads without them
RETIRED_BUFFERS = ("word_reliability", "word_prevalence", "lead_words")


def without_retired(state: dict) -> dict:
    """A state dict without the :data:`RETIRED_BUFFERS`."""
    return {k: v for k, v in state.items() if k not in RETIRED_BUFFERS}


#: ProdLDA's and GSM's q(z|x): log-variance at most the prior's plus this (:meth:`ProdLDANet.encode`)
LOGVAR_ABOVE_PRIOR = 5.0


class TopicVAE(nn.Module):
    """Encoder + prior + decoder; ``forward`` gives the two ELBO terms per document.

    Subclasses define :meth:`decoder_logits` (the logits over the vocabulary from the decoder's own
    input, (B, K) → (B, V)), :meth:`decoder_input` where that input is not z itself (θ for the
    topic mixture models) and :meth:`topics` (the topics as the model defines them).

    ``likelihood``: ``multinomial`` (the counts, p(w) = softmax(logits)) or ``bernoulli``
    (each word's presence, p(w present) = sigmoid(logit_w), counts ignored).
    """

    def __init__(self, encoder: Encoder, prior_mu: torch.Tensor, prior_var: torch.Tensor,
                 likelihood: str = "multinomial"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.encoder = encoder
        self.likelihood = likelihood
        self.register_buffer("prior_mu", prior_mu)
        self.register_buffer("prior_var", prior_var)

    def decoder_input(self, z: torch.Tensor) -> torch.Tensor:
        """What the decoder reads for latent z (θ for the topic mixture models, z itself for NVDM)."""
        return z

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's logits over the vocabulary for latent z, (B, K) → (B, V)."""
        return self.decoder_logits(self.decoder_input(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """log softmax of the logits: log p(w | z) of the multinomial decoder, (B, K) → (B, V)."""
        return F.log_softmax(self.logits(z), dim=1)

    def reconstruct(self, z: torch.Tensor, x: SparseBatch) -> torch.Tensor:
        """The reconstruction term −log p(x | z) of each document under the likelihood: (B,)."""
        if self.likelihood == "bernoulli":
            return bernoulli_reconstruction(self.logits(z), x)
        return reconstruction(self.decode(z), x)

    def decoder_logits(self, inputs: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """The decoder's logits over the vocabulary for its inputs (θ or z), (n, K) → (n, V)."""
        raise NotImplementedError

    def word_distribution(self, inputs: torch.Tensor) -> torch.Tensor:
        """p(w | the decoder's inputs), (n, K) → (n, V), rows summing to 1, as the decoder computes it
        in its current mode: the softmax of the logits (multinomial), or each word's presence
        probability as its share of their sum (bernoulli)."""
        logits = self.decoder_logits(inputs)
        if self.likelihood == "bernoulli":
            p = torch.sigmoid(logits)
            return p / p.sum(dim=1, keepdim=True)
        return F.softmax(logits, dim=1)

    def topics(self) -> tuple[torch.Tensor, torch.Tensor | None]:  # pragma: no cover - abstract
        """(topic_word (K, V), background (V,) or None): each topic's own word distribution and the
        log-weights every document adds to them (None: the topics hold everything)."""
        raise NotImplementedError

    def param_groups(self) -> list[dict]:
        """Parameter groups for the optimizer (each may set its own ``weight_decay``)."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def topic_parameter(self) -> nn.Parameter | None:
        """The parameter that holds the topics (None: the net has no such parameter)."""
        return None

    def decoder_modules(self) -> list[nn.Module]:
        """The modules that make up p(w | θ) (fixed after ``TrainSettings.topic_epochs``; empty: the net
        trains whole every epoch)."""
        return []

    def decoder_parameters(self) -> list[nn.Parameter]:
        """The learned parameters of :meth:`decoder_modules`, and the topic parameter."""
        params = [p for m in self.decoder_modules() for p in m.parameters(recurse=False)]
        topic = self.topic_parameter()
        return params + ([topic] if topic is not None and all(topic is not p for p in params) else [])

    @contextlib.contextmanager
    def steps(self, topics_fixed: bool = False) -> Iterator[None]:
        """The context of a run of training steps (one epoch's). With ``topics_fixed`` the decoder is
        fixed within it: its parameters (:meth:`decoder_parameters`) get no gradient, so the steps
        neither compute nor apply one, and its modules run in evaluation mode (a batch norm uses and
        keeps its running statistics), so p(w | θ), the topics, stay exactly as they are."""
        fixed = [p for p in self.decoder_parameters() if p.requires_grad] if topics_fixed else []
        modules = [m for m in self.decoder_modules() if m.training] if topics_fixed else []
        for p in fixed:
            p.requires_grad_(False)
        for m in modules:
            m.eval()
        try:
            yield
        finally:
            for p in fixed:
                p.requires_grad_(True)
            for m in modules:
                m.train()

    def start_epoch(self, epoch: int) -> None:
        """Called before each training epoch (``epoch``: the epochs completed before it, from 0). A net
        whose decoder changes form over training (ProdLDA's annealed batch norm) sets it here."""

    def penalty(self, step: int) -> torch.Tensor | None:
        """A regularisation term added to the batch's mean loss (None: none).

        ``step`` counts the optimizer steps within the current epoch (from 0), so that
        anything recomputed every few steps is recomputed at the same steps after a resume.
        """
        return None

    def encode(self, x: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x)."""
        return self.encoder(x)

    def forward(self, x: SparseBatch, generator: torch.Generator | None = None, sample: bool = True):
        """(reconstruction (B,), KL (B,)) with one reparameterised sample of z (μ itself if not ``sample``)."""
        mu, logvar = self.encode(x)
        if sample:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + (0.5 * logvar).exp() * eps
        else:
            z = mu
        rec = self.reconstruct(z, x)
        kl = gaussian_kl(mu, logvar, self.prior_mean(x), self.prior_var)
        return rec, kl

    def prior_mean(self, x: SparseBatch) -> torch.Tensor:
        """The prior's mean for the documents of ``x``: ``prior_mu`` (K,), the same for every document."""
        return self.prior_mu


class ProdLDANet(TopicVAE):
    """ProdLDA: θ = softmax(z), dropout on θ, p(w|θ) = softmax(BN(β θ)) (product of experts).

    The logistic-normal prior is the Laplace approximation of Dirichlet(alpha).

    Options (the defaults give Srivastava & Sutton's plain ProdLDA):

    - ``embedding_dim`` d > 0: β = ρ T, with ρ (V, d) fixed word embeddings (the buffer
      ``word_embeddings``, filled by the caller, e.g. from :func:`ppmi_embeddings`) and T
      (d, K) learned topic embeddings (ETM-style decoder, Dieng et al. 2020). 0: β is a
      free (V, K) matrix, ``beta.weight``.
    - ``beta_decay``: decoupled weight decay (AdamW) on β (or T), see :meth:`param_groups`.
      The decoder's batch norm hides the scale of β from the likelihood (of each word's
      row for a free β, of β as a whole with embeddings), so the decay does not fight the
      fit: it lets the entries that the gradients do not keep pushing fade, and the weight
      that remains rests on consistent evidence.
    - ``diversity`` λ > 0: adds λ·Σ_{w,k} P_wk C_wk to each step's loss, with the cost
      C = −β / std(β) and P the entropic optimal-transport plan (:func:`sinkhorn_plan`,
      ε = ``transport_eps``) that gives every topic an equal share of the word mass
      (``word_mass``: filled by the caller, from the words' training frequencies; ones
      until then). It pulls each word towards the topic the balanced assignment gives it, so
      topics cannot pile onto the same words (the embedding-clustering regulariser of
      ECRTM, Wu et al. 2023, applied to β). Weighting words by their frequency rather
      than equally matters: with equal masses the plan hands every topic V/K words, most of
      them rare, and pulls them up in it, so topics fill with words too rare to co-occur
      anywhere but in the few training documents that hold them. P is held fixed (no
      gradient) and recomputed every ``transport_every`` steps within an epoch.
    - ``topic_mask`` (buffer, (V,), ones until the caller fills it): the words that may
      carry topic weight; β is zero on the others, so the decoder explains them by its
      background (the batch norm's shift) alone and no topic lists them.
    - ``seed_topics`` (guided topics): one list of word ids per seeded topic 0, 1, ...; β of
      topic k gets a fixed lead of ``seed_strength`` standard deviations of the learned β
      on its seed words and, by their cosine with the seeds' mean embedding, on the words
      near them (:meth:`seed_lead`); a seed word carries learned weight in its own topic
      only (:meth:`seed_exclusive`). The documents that use those words so load on topic
      k. The lead is rebuilt from the setting (buffer ``seed_words``, not saved); the seed
      words must be in ``topic_mask``.
    - ``seed_prior_shift`` δ (with ``seed_topics``): in a document that holds none of seeded
      topic k's seed words, the prior's mean of z_k is δ lower (:meth:`prior_mean`), so the
      encoder learns to give a seeded topic documents on evidence, not by default.
    - ``topic_lr``: the learning rate of β (or T) relative to the rest of the network
      (the optimizer group's ``lr_scale``). Below 1, topics that start from word clusters
      (:func:`embedding_clusters`) refine them instead of leaving them.
    """

    transport_eps = 0.1
    transport_every = 10
    transport_iters = 50

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float,
                 theta_dropout: float, alpha: float | np.ndarray, *, embedding_dim: int = 0,
                 beta_decay: float = 0.0, diversity: float = 0.0, likelihood: str = "multinomial",
                 seed_topics: list[list[int]] | None = None, seed_strength: float = 0.0,
                 seed_prior_shift: float = 0.0, topic_lr: float = 1.0, encoder_scale: bool = False,
                 bn_anneal: float = 0.0, encoder_input: str = "counts"):  # "log": log2(1 + count)
        prior_mu, prior_var = laplace_dirichlet_prior(alpha, n_topics)
        encoder = Encoder(n_words, n_topics, hidden, dropout, batchnorm=True, batchnorm_scale=encoder_scale,
                          log_counts=encoder_input == "log")
        super().__init__(encoder, prior_mu, prior_var, likelihood)
        self.theta_drop = Dropout(theta_dropout)
        self.n_topics = n_topics
        if embedding_dim > 0:
            self.register_buffer("word_embeddings", torch.zeros(n_words, embedding_dim))
            self.topic_embeddings = nn.Parameter(0.1 * torch.randn(embedding_dim, n_topics))
            self.beta = None
        else:
            self.beta = nn.Linear(n_topics, n_words, bias=False)  # weight: (V, K)
        self.decoder_bn = BatchNorm(n_words)
        self.bn_anneal = float(bn_anneal)
        # p, the batch norm's share of the decoder's logits: p·BN(βθ) + (1 − p)·(βθ + b); 1: ProdLDA's
        self.register_buffer("bn_share", torch.ones(()))
        self.register_buffer("topic_mask", torch.ones(n_words))
        self.register_buffer("word_mass", torch.ones(n_words))
        self.beta_decay = float(beta_decay)
        self.topic_lr = float(topic_lr)
        self.diversity = float(diversity)
        self._plan: torch.Tensor | None = None
        self._step_beta: torch.Tensor | None = None
        self._steps_cache: dict | None = None  # what steps() looks up once for a run of steps
        self.seed_strength = float(seed_strength)
        self.seed_prior_shift = float(seed_prior_shift)
        self.register_buffer("seed_words", seed_indicator(n_words, n_topics, seed_topics), persistent=False)

    def beta_matrix(self, rows: torch.Tensor | None = None) -> torch.Tensor:
        """β: (V, K), the weight of topic k on word w before the decoder's batch norm; with
        ``rows`` (ids of topic-vocabulary words, :meth:`topic_rows`) only those rows of it."""
        cache = self._steps_cache
        if cache is not None and "beta" in cache and (rows is None or rows is cache["rows"]):
            return cache["beta"] if rows is None else cache["beta_rows"]  # steps() with the topics fixed
        if rows is None:
            beta = self.beta.weight if self.beta is not None else self.word_embeddings @ self.topic_embeddings
            beta = beta * self.topic_mask[:, None]
        else:  # the rows alone: the product over the whole vocabulary is most of a step's work
            beta = self.beta.weight[rows] if self.beta is not None else self.word_embeddings[rows] @ self.topic_embeddings
        if self.seed_words is not None:  # guided topics
            exclusive, lead = self.seed_exclusive(), self.seed_lead()
            in_topics = self.topic_mask > 0
            if rows is not None:
                exclusive, lead, in_topics = exclusive[rows], lead[rows], in_topics[rows]
            beta = beta * exclusive
            spread = beta.detach()[in_topics].std().clamp_min(1e-12)
            beta = beta + (self.seed_strength * spread) * lead
        return beta

    def topic_rows(self) -> torch.Tensor | None:
        """The ids of the topic vocabulary (``topic_mask`` > 0), or None when it is every word."""
        if self._steps_cache is not None:
            return self._steps_cache["rows"]
        rows = torch.nonzero(self.topic_mask > 0).squeeze(1)
        return None if len(rows) == len(self.topic_mask) else rows

    @contextlib.contextmanager
    def steps(self, topics_fixed: bool = False) -> Iterator[None]:
        """As :meth:`TopicVAE.steps`; within it the topic vocabulary, which training does not change, is
        looked up once rather than at every step, and with ``topics_fixed`` β itself is computed once
        (it is a product over the vocabulary)."""
        with super().steps(topics_fixed):
            rows = self.topic_rows()
            self._steps_cache = {"rows": rows}
            try:
                if topics_fixed:
                    with torch.no_grad():
                        beta, beta_rows = self.beta_matrix(), None if rows is None else self.beta_matrix(rows)
                    self._steps_cache.update(beta=beta, beta_rows=beta_rows)
                yield
            finally:
                self._steps_cache = None

    def prior_mean(self, x: SparseBatch) -> torch.Tensor:
        """The prior's mean per document, (B, K) with guided topics and ``seed_prior_shift`` > 0:
        ``seed_prior_shift`` lower on each seeded topic whose seed words the document does not hold.

        Without it, documents with little evidence (a few words) fall to the seeded topics: their
        fixed lead makes the encoder spread a seeded topic over the documents, not concentrate it
        on a few as the learned topics are, so where evidence is missing it stands higher than
        the others (docs/model-defaults.md).
        """
        if self.seed_words is None or self.seed_prior_shift == 0:
            return self.prior_mu
        holds = torch.zeros(x.size, self.n_topics, dtype=self.prior_mu.dtype, device=self.prior_mu.device)
        holds.index_add_(0, x.rows, self.seed_words[x.indices])
        seeded = (self.seed_words.sum(dim=0) > 0).to(holds.dtype)
        return self.prior_mu - self.seed_prior_shift * seeded * (holds == 0).to(holds.dtype)

    def seed_exclusive(self) -> torch.Tensor:
        """(V, K) 0/1: a seed word carries learned weight in its own seeded topic(s) only, so that no
        unseeded topic competes for the documents that use it."""
        seeded_row = (self.seed_words.sum(1, keepdim=True) > 0).to(self.seed_words.dtype)
        return 1.0 - seeded_row + self.seed_words

    def seed_lead(self) -> torch.Tensor:
        """The seeded topics' fixed lead before scaling, (V, K): 1 on each topic's seed words and, with
        word embeddings, plus each word's (positive) cosine with the topic's seed centre, so that the
        words that occur with the seeds lead the topic too; zero on unseeded topics.

        The cosines are taken after removing the mean embedding of the topic vocabulary: PPMI
        embeddings share one direction (frequency), and without removing it every common word
        would be a neighbour of every seed, and the topic would take in generic documents.
        """
        lead = self.seed_words
        if self.beta is None:
            emb = self.word_embeddings - self.word_embeddings[self.topic_mask > 0].mean(dim=0)
            emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-12)
            centre = (self.seed_words.T @ emb) / self.seed_words.sum(0).clamp_min(1.0)[:, None]  # (K, d)
            centre = centre / centre.norm(dim=1, keepdim=True).clamp_min(1e-12)
            lead = lead + (emb @ centre.T).clamp_min(0.0) * self.topic_mask[:, None]
        return lead

    def encode(self, x: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x), with σ² at most e^5 times the prior's variance (``LOGVAR_ABOVE_PRIOR``).

        A posterior wider than the prior says less than no document at all; the cap binds only where
        the encoder extrapolates, on documents far longer than those it learned from (on 20
        Newsgroups, with the decoder's batch norm annealed away, a few posts of thousands of tokens,
        whose KL otherwise reached millions of nats and swamped the perplexity bound;
        docs/quality.md)."""
        mu, logvar = self.encoder(x)
        return mu, torch.minimum(logvar, self.prior_var.log() + LOGVAR_ABOVE_PRIOR)

    def decoder_logits(self, theta: torch.Tensor) -> torch.Tensor:
        """BN(β θ): the decoder's logits for topic mixtures θ, (B, K) → (B, V)."""
        beta = self.beta_matrix()
        if self.training and torch.is_grad_enabled():
            self._step_beta = beta  # the training step's β, reused by penalty()
        h = F.linear(theta, beta)
        p = float(self.bn_share)
        return self.decoder_bn(h) if p == 1.0 else self._with_background(h, self.decoder_bn(h) if p > 0 else None,
                                                                         self.decoder_bn.bias)

    def _with_background(self, h: torch.Tensor, normed: torch.Tensor | None, background: torch.Tensor) -> torch.Tensor:
        """p·BN(h) + (1 − p)·(h + b) for p = ``bn_share`` < 1, given ``normed`` = BN(h) (None when p = 0)
        and b = ``background``, the batch norm's shift."""
        plain = h + background
        if normed is None:
            return plain
        p = float(self.bn_share)
        return p * normed + (1.0 - p) * plain

    def start_epoch(self, epoch: int) -> None:
        """With ``bn_anneal`` = a > 0, the batch norm's share p falls linearly from 1 to 0 over the first
        a epochs (p = 1 − epoch / a), whatever the run's length, so that a run resumed with more epochs
        ends where an uninterrupted one does; it never rises again (a warm start keeps a decoder that
        has shed it). The batch norm keeps the early topics apart (without it they collapse
        onto the frequent words), but it divides each word's logit by its spread over the batch, so
        the likelihood cannot tell a sharp θ from a flat one; the decoder it leaves, βθ + b, can
        (SCHOLAR, Card et al. 2018, anneals it so)."""
        if self.bn_anneal > 0:
            self.bn_share.fill_(min(float(self.bn_share), max(0.0, 1.0 - epoch / self.bn_anneal)))

    def decoder_input(self, z: torch.Tensor) -> torch.Tensor:
        """θ = softmax(z), with dropout while training."""
        return self.theta_drop(F.softmax(z, dim=1))

    def reconstruct(self, z: torch.Tensor, x: SparseBatch) -> torch.Tensor:
        """−log p(x | z) per document, (B,), computing the decoder on the topic vocabulary only.

        A word outside it has β = 0, so the batch norm maps its logit to the norm's shift
        whatever θ is: its logit is the same constant in every document. The softmax's
        normaliser (or the Bernoulli's sum over the vocabulary) then needs those words only
        once per batch, not once per document. The same value as the general
        :meth:`TopicVAE.reconstruct`, in about V_topics / V of the work.
        """
        rows = self.topic_rows()
        if rows is None:
            return super().reconstruct(z, x)
        theta = self.decoder_input(z)
        beta = self.beta_matrix(rows)
        if self.training and torch.is_grad_enabled():
            self._step_beta = beta  # reused by penalty()
        topic_logits = self._topic_batch_norm(F.linear(theta, beta), rows)  # (B, V_topics)
        other = self.decoder_bn.bias[self.topic_mask == 0]  # the other words' logits, every document's
        position = torch.full_like(self.topic_mask, -1, dtype=torch.long)
        position[rows] = torch.arange(len(rows), device=rows.device)
        at = position[x.indices]  # each stored word's column in topic_logits (−1: not a topic word)
        stored = torch.where(at >= 0, topic_logits[x.rows, at.clamp_min(0)], self.decoder_bn.bias[x.indices])
        zeros = torch.zeros(x.size, dtype=topic_logits.dtype, device=topic_logits.device)
        if self.likelihood == "bernoulli":
            paid = F.softplus(topic_logits).sum(dim=1) + F.softplus(other).sum()
            return paid - zeros.index_add(0, x.rows, stored)
        normaliser = torch.logaddexp(torch.logsumexp(topic_logits, dim=1), torch.logsumexp(other, dim=0))
        return normaliser * zeros.index_add(0, x.rows, x.counts) - zeros.index_add(0, x.rows, stored * x.counts)

    def _topic_batch_norm(self, h: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The decoder's batch norm applied to the columns ``rows`` of the logits (h: (B, len(rows))),
        updating those columns' running statistics as the full norm would."""
        bn = self.decoder_bn
        p = float(self.bn_share)
        if p == 0.0:
            return self._with_background(h, None, bn.bias[rows])
        mean, var = bn.running_mean[rows], bn.running_var[rows]  # copies, updated in place by batch_norm
        out = F.batch_norm(h, mean, var, None, bn.bias[rows], bn.training, bn.momentum, bn.eps)
        if bn.training:
            bn.running_mean[rows] = mean
            bn.running_var[rows] = var
        return out if p == 1.0 else self._with_background(h, out, bn.bias[rows])

    def topics(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """With the batch norm shed (``bn_share`` 0, the decoder βθ + b): topic k is softmax(β_k), the
        topic's own part, and the background is b, so that p(w | θ = e_k) ∝ topic_k(w) · exp(b_w) (as
        SAGE and SCHOLAR read their topics). Otherwise topic k is p(w | θ = e_k), the decoder's
        distribution for a document entirely about it, with no separate background (the batch
        norm's shift is part of every topic)."""
        if float(self.bn_share) == 0.0:
            return F.softmax(self.beta_matrix().T, dim=1), self.decoder_bn.bias
        return self.word_distribution(torch.eye(self.n_topics, device=self.decoder_bn.bias.device)), None

    def topic_parameter(self) -> nn.Parameter:
        return self.beta.weight if self.beta is not None else self.topic_embeddings

    def decoder_modules(self) -> list[nn.Module]:
        return [self.decoder_bn] + ([self.beta] if self.beta is not None else [])

    def param_groups(self) -> list[dict]:
        """Two groups: the topic parameters (β or T) with weight decay ``beta_decay`` and learning rate
        ``topic_lr`` × lr, the rest without decay at lr."""
        topic = self.topic_parameter()
        rest = [p for p in self.parameters() if p.requires_grad and p is not topic]
        return [{"params": rest, "weight_decay": 0.0},
                {"params": [topic], "weight_decay": self.beta_decay, "lr_scale": self.topic_lr}]

    def penalty(self, step: int) -> torch.Tensor | None:
        """λ·Σ P·C, the balanced-assignment term (None when ``diversity`` is 0)."""
        beta, self._step_beta = self._step_beta, None
        if self.diversity <= 0:
            return None
        if beta is None:  # penalty without a forward pass first
            beta = self.beta_matrix(self.topic_rows())
        # β of the whole vocabulary or of the topic rows only (reconstruct's): the other words have
        # β = 0 and no mass, so they add nothing but the zeros that the scale of the cost, β's
        # standard deviation over the whole vocabulary, counts
        cost = -beta / std_with_zero_rows(beta.detach(), len(self.topic_mask)).clamp_min(1e-12)
        mass = self.word_mass if len(beta) == len(self.topic_mask) else self.word_mass[self.topic_rows()]
        if self._plan is None or self._plan.shape != cost.shape or step % self.transport_every == 0:
            self._plan = sinkhorn_plan(cost, self.transport_eps, self.transport_iters, mass)
        return self.diversity * (self._plan * cost).sum()


class NVDMNet(TopicVAE):
    """NVDM (Miao et al. 2016): prior N(0, I), p(w|z) = softmax(W z + b)."""

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float,
                 likelihood: str = "multinomial"):
        super().__init__(Encoder(n_words, n_topics, hidden, dropout, batchnorm=False),
                         torch.zeros(n_topics), torch.ones(n_topics), likelihood)
        self.decoder = nn.Linear(n_topics, n_words)  # weight W: (V, K), bias b: (V,)

    def decoder_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def topics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Topic k is softmax(W[:, k]), the words that moving along z_k adds, and the background is
        the bias b (the log word frequencies it starts from): p(w | z = e_k) ∝ topic_k(w) · exp(b_w)
        (Miao et al. 2016 read topics from the columns of W too)."""
        return F.softmax(self.decoder.weight.T, dim=1), self.decoder.bias
