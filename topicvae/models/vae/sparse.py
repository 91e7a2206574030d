"""Documents as sparse minibatches, and the layer that reads them without densifying them.

Documents arrive as :class:`SparseBatch` (the CSR rows of one minibatch as flat torch
tensors) and are never densified: the first encoder layer, :class:`SparseLinear`, is an
``embedding_bag`` sum (exactly ``x @ W`` for a sparse ``x``), and the reconstruction term
(:mod:`.elbo`) gathers the log-probabilities of the words each document contains.

Shapes: B documents in a batch, V words, nnz stored counts in the batch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn


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


def with_log_counts(x: SparseBatch) -> SparseBatch:
    """The batch ``x`` with each stored count c as log2(1 + c), its transpose (when it has one) too."""
    def log2p(c: torch.Tensor) -> torch.Tensor:
        return c.log1p() / math.log(2.0)

    t = x.transposed
    if t is not None:
        t = torch.sparse_csr_tensor(t.crow_indices(), t.col_indices(), log2p(t.values()), size=t.shape,
                                    check_invariants=False)
    return SparseBatch(x.indices, log2p(x.counts), x.offsets, x.rows, x.size, t)
