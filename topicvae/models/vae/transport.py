"""The balanced-assignment regulariser's optimal transport: Sinkhorn's plan and its cost's scale.

ProdLDA's ``diversity`` term (:meth:`.networks.ProdLDANet.penalty`) adds λ·Σ P·C to each step's
loss, with the cost C = −β / std(β) and P the entropic optimal-transport plan that gives every
topic an equal share of the word mass (:func:`sinkhorn_plan`): it pulls each word towards the
topic the balanced assignment gives it, so topics cannot pile onto the same words (the
embedding-clustering regulariser of ECRTM, Wu et al. 2023, applied to β).
:func:`std_with_zero_rows` is std(β) over the whole vocabulary when only the topic vocabulary's
rows of β are computed. The same plan balances the clusters the topics start from
(:func:`.word_embeddings.embedding_clusters`).

Shapes: V words, K topics.
"""

from __future__ import annotations

import torch


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
