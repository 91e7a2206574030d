"""The VAE topic models' math: sparse batches, encoder, decoders, priors, ELBO terms.

Documents arrive as :class:`SparseBatch` (the CSR rows of one minibatch as flat torch
tensors) and are never densified: the first encoder layer is an ``embedding_bag`` sum
(exactly ``x @ W`` for a sparse ``x``) and the reconstruction term gathers the
log-probabilities of the words each document contains.

Shapes: B documents in a batch, V words, K topics, nnz stored counts in the batch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

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
    """

    indices: torch.Tensor
    counts: torch.Tensor
    offsets: torch.Tensor
    rows: torch.Tensor
    size: int
    transposed: torch.Tensor | None = None


class CSRBatches:
    """A CSR matrix cut into :class:`SparseBatch` es of consecutive rows.

    The matrix stays sparse: each batch is a slice of the CSR arrays. With
    ``transposed=True`` each batch also carries its (V, B) transpose, built with a
    counting sort in numpy (a radix sort for vocabularies under 65,536 words).
    """

    def __init__(self, X: sp.csr_matrix, device: torch.device | str = "cpu"):
        X = X.tocsr()
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
            transposed=self._transpose(start, stop, lo, hi) if transposed else None,
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


# ---------------------------------------------------------------------------- priors and KL
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, prior_mu: torch.Tensor, prior_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) ‖ N(prior_mu, prior_var)) for diagonal Gaussians, summed over K.

    mu, logvar: (B, K); prior_mu, prior_var: (K,). Returns (B,).
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


class ShiftBatchNorm(nn.Module):
    """Batch norm with a learned shift and no learned scale (as ProdLDA's avitm code).

    One ``F.batch_norm`` call with ``weight=None``: no extra pass to add the shift.
    """

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, None, self.bias,
                            self.training, self.momentum, self.eps)


class Dropout(nn.Module):
    """Inverted dropout from a uniform draw (about twice as fast on CPU as ``nn.Dropout``'s Bernoulli)."""

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
    learned scale (ProdLDA, Srivastava & Sutton 2017).
    """

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float, batchnorm: bool):
        super().__init__()
        sizes = list(hidden)
        self.first = SparseLinear(n_words, sizes[0])
        self.rest = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.drop = Dropout(dropout)
        self.mu = nn.Linear(sizes[-1], n_topics)
        self.logvar = nn.Linear(sizes[-1], n_topics)
        self.mu_bn = ShiftBatchNorm(n_topics) if batchnorm else nn.Identity()
        self.logvar_bn = ShiftBatchNorm(n_topics) if batchnorm else nn.Identity()

    def forward(self, x: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.softplus(self.first(x))
        for layer in self.rest:
            h = F.softplus(layer(h))
        h = self.drop(h)
        return self.mu_bn(self.mu(h)), self.logvar_bn(self.logvar(h))


def reconstruction(log_probs: torch.Tensor, x: SparseBatch) -> torch.Tensor:
    """−Σ_w x_w log p_w per document, reading only the stored counts: (B, V) → (B,)."""
    picked = log_probs[x.rows, x.indices] * x.counts
    return -torch.zeros(x.size, dtype=log_probs.dtype, device=log_probs.device).index_add_(0, x.rows, picked)


class TopicVAE(nn.Module):
    """Encoder + prior + decoder; ``forward`` gives the two ELBO terms per document.

    Subclasses define :meth:`decode` (z → log p(w), (B, K) → (B, V)), :meth:`topic_word`
    (the K × V matrix reported as the topics) and :meth:`generative_topic_word`
    (p(w | a document entirely about topic k), K × V).
    """

    def __init__(self, encoder: Encoder, prior_mu: torch.Tensor, prior_var: torch.Tensor):
        super().__init__()
        self.encoder = encoder
        self.register_buffer("prior_mu", prior_mu)
        self.register_buffer("prior_var", prior_var)

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def topic_word(self) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def generative_topic_word(self) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: SparseBatch, generator: torch.Generator | None = None, sample: bool = True):
        """(reconstruction (B,), KL (B,)) with one reparameterised sample of z (μ itself if not ``sample``)."""
        mu, logvar = self.encoder(x)
        if sample:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + (0.5 * logvar).exp() * eps
        else:
            z = mu
        rec = reconstruction(self.decode(z), x)
        kl = gaussian_kl(mu, logvar, self.prior_mu, self.prior_var)
        return rec, kl


class ProdLDANet(TopicVAE):
    """ProdLDA: θ = softmax(z), dropout on θ, p(w|θ) = softmax(BN(β θ)) (product of experts).

    The logistic-normal prior is the Laplace approximation of Dirichlet(alpha).
    """

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float,
                 theta_dropout: float, alpha: float | np.ndarray):
        prior_mu, prior_var = laplace_dirichlet_prior(alpha, n_topics)
        super().__init__(Encoder(n_words, n_topics, hidden, dropout, batchnorm=True), prior_mu, prior_var)
        self.theta_drop = Dropout(theta_dropout)
        self.beta = nn.Linear(n_topics, n_words, bias=False)  # weight: (V, K)
        self.decoder_bn = ShiftBatchNorm(n_words)

    def word_log_probs(self, theta: torch.Tensor) -> torch.Tensor:
        """log p(w | θ) = log softmax(BN(β θ)): (B, K) → (B, V)."""
        return F.log_softmax(self.decoder_bn(self.beta(theta)), dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.word_log_probs(self.theta_drop(F.softmax(z, dim=1)))

    def topic_word(self) -> torch.Tensor:
        """softmax over the vocabulary of each topic's β row: (K, V)."""
        return F.softmax(self.beta.weight.T, dim=1)

    def generative_topic_word(self) -> torch.Tensor:
        """p(w | θ = e_k) through the decoder (its batch norm in the current mode): (K, V)."""
        return self.word_log_probs(torch.eye(self.beta.in_features, device=self.beta.weight.device)).exp()


class NVDMNet(TopicVAE):
    """NVDM (Miao et al. 2016): prior N(0, I), p(w|z) = softmax(W z + b)."""

    def __init__(self, n_words: int, n_topics: int, hidden: tuple[int, ...], dropout: float):
        super().__init__(Encoder(n_words, n_topics, hidden, dropout, batchnorm=False),
                         torch.zeros(n_topics), torch.ones(n_topics))
        self.decoder = nn.Linear(n_topics, n_words)  # weight W: (V, K), bias b: (V,)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.decoder(z), dim=1)

    def topic_word(self) -> torch.Tensor:
        """softmax over the vocabulary of W[:, k]: the words direction k adds to the
        background b, (K, V). With b included every topic would rank the most frequent
        words first (Miao et al. also read topics from the columns of W)."""
        return F.softmax(self.decoder.weight.T, dim=1)

    def generative_topic_word(self) -> torch.Tensor:
        """softmax of W[:, k] + b, the decoder's words when z = e_k: (K, V)."""
        return F.softmax(self.decoder.weight.T + self.decoder.bias, dim=1)
