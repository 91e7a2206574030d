"""q(z|x): the encoder, from a document's words to the mean and log-variance of z.

An MLP with softplus layers and dropout (as in avitm), and for ProdLDA and GSM batch norm on μ
and log σ² (Srivastava & Sutton 2017); its first layer reads the sparse batch itself
(:class:`.sparse.SparseLinear`). :class:`BatchNorm` (a learned shift, a learned scale only if
asked for) and :class:`Dropout` (from a uniform draw) are the network's own, the decoder's
batch norm and ProdLDA's dropout on θ included.

Shapes: B documents in a batch, V words, K topics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from topicvae.models.vae.sparse import SparseBatch, SparseLinear, with_log_counts


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
        return with_log_counts(x) if self.log_counts else x

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
