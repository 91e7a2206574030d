"""The ELBO's terms: the KL between q(z|x) and the prior, the priors, and the reconstruction term.

A document's negative ELBO is −log p(x | z) for a sample z of q(z|x) plus KL(q(z|x) ‖ p(z))
(:meth:`.networks.TopicVAE.forward`). q and the prior are diagonal Gaussians
(:func:`gaussian_kl`): ProdLDA's and GSM's logistic-normal prior is the Laplace approximation
of a Dirichlet (:func:`laplace_dirichlet_prior`), NVDM's is N(0, I). The reconstruction term
reads only the stored counts of a :class:`.sparse.SparseBatch`: the multinomial's
(:func:`reconstruction`), or each word's presence as a Bernoulli
(:func:`bernoulli_reconstruction`).

Shapes: B documents in a batch, V words, K topics.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from topicvae.models.vae.sparse import SparseBatch


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


# ---------------------------------------------------------------------------- reconstruction
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
