"""Merging topics of a fitted ProdLDA / GSM network: the network of fewer topics in which
new topic g stands for the union of old topics ``groups[g]``.

A document's merged mixture is the sum of its parts, θ'_g = Σ_{k∈G} θ_k. Each piece of the
network is carried over so that the merged network computes nearly that, before any training:

- encoder: the shared hidden layers as they are. θ = softmax(μ), so θ'_g is exactly
  softmax(μ')_g for μ'_g = logsumexp_{k∈G} μ_k. That is not linear in the last hidden layer h,
  so a merged row of the μ layer is the least-squares fit of it over (a sample of) the training
  documents, and its log σ² row the fit of the delta-method variance log Σ_{k∈G} w_k² σ²_k
  (w = softmax of μ within the group). The rows of topics that are not merged are copied.
  The batch norm after each layer keeps the members' running statistics (weighted by each
  member's mean θ) and takes the target's mean as its shift, so that training mode, which
  normalises by each batch's own statistics, starts out where evaluation mode is.
- decoder: β θ = Σ_k β_k θ_k; the one column β'_g that best stands in for a group is the
  least-squares β'_g = Σ_{k∈G} w_k β_k with w_k ∝ Σ_d θ_dk θ'_dg (a convex combination; applied
  to the topic embeddings T when β = ρ T, which is the same since β is linear in T). The decoder's
  batch norm, background, topic mask and word embeddings are kept.
- prior: the new network's own, built for K2 topics (ProdLDA: the Laplace approximation of the
  symmetric Dirichlet(α) of K2 topics; GSM: N(0, I)). The exact prior of the sums would be
  Dirichlet(Σ_{k∈G} α_k), but ProdLDA's batch norm keeps every μ_g at unit spread over the
  documents, and the narrow prior a large group gets then costs KL, which makes the perplexity
  bound worse than the symmetric prior's for the same topics (docs/model-defaults.md).

Training on with the merged topics fixed is the model's ``topic_epochs=0`` (set by
``ProdLDA.merged(fixed_topics=True)``): the decoder stays as merged and the encoder refits to it.

Shapes: n sampled documents, H hidden units, K old topics, K2 new ones, V words, d embedding dimensions.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from topicvae.models.vae.networks import ProdLDANet
from topicvae.models.vae.sparse import eval_batches

#: documents sampled from the training rows for the least-squares fits (enough for H = 200 inputs)
MAX_FIT_DOCS = 20_000


def encoder_outputs(net: ProdLDANet, X, max_docs: int = MAX_FIT_DOCS,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, μ, log σ²) of the encoder in evaluation mode for (a seeded sample of ``max_docs``) rows of X, a
    csr_matrix or a row source (:mod:`topicvae.corpus.rows`: only the sample's rows are read): float64
    arrays (n, H), (n, K), (n, K). h is the input of the μ and log σ² layers."""
    rows = (np.sort(np.random.default_rng(seed).choice(X.shape[0], max_docs, replace=False))
            if X.shape[0] > max_docs else None)
    if hasattr(X, "take"):
        X = X.take(np.arange(X.shape[0]) if rows is None else rows)
    elif rows is not None:
        X = X[rows]
    captured: list[torch.Tensor] = []
    hook = net.encoder.mu.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0]))
    mus, logvars = [], []
    try:
        with torch.no_grad():
            for _, _, batch in eval_batches(net, X):
                mu, logvar = net.encoder(batch)
                mus.append(mu.double().cpu().numpy())
                logvars.append(logvar.double().cpu().numpy())
    finally:
        hook.remove()
    h = torch.cat(captured).double().cpu().numpy()
    return h, np.concatenate(mus), np.concatenate(logvars)


class _LinearFit:
    """Least-squares fits of linear layers on inputs h (n, H): the pseudo-inverse of [h, 1] is
    computed once (one SVD) and serves every target."""

    def __init__(self, h: np.ndarray):
        self.pinv = np.linalg.pinv(np.hstack([h, np.ones((h.shape[0], 1))]))  # (H + 1, n)

    def __call__(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights (H, m) and biases (m,) of the layer mapping h to ``targets`` (n, m)."""
        coef = self.pinv @ targets
        return coef[:-1], coef[-1]


def _group_weights(theta: np.ndarray, group: list[int]) -> np.ndarray:
    """The decoder's least-squares weights of a group's members: w_k ∝ Σ_d θ_dk s_d, s = Σ_{k∈G} θ_k."""
    part = theta[:, group]
    w = part.T @ part.sum(axis=1)
    return w / w.sum() if w.sum() > 0 else np.full(len(group), 1.0 / len(group))


def merge_network(old: ProdLDANet, new: ProdLDANet, groups: Sequence[Sequence[int]], X,
                  seed: int = 0) -> ProdLDANet:
    """Fill ``new`` (a freshly built network of ``len(groups)`` topics, same vocabulary and layers)
    from ``old`` so that new topic g stands for old topics ``groups[g]`` (see the module's docstring).

    ``X``: training documents for the fits, a csr_matrix or a row source (a sample of at most
    :data:`MAX_FIT_DOCS` is used, drawn with ``seed``). Returns ``new``.
    """
    groups = [list(map(int, g)) for g in groups]
    if old.encoder.input_words is not None:  # the encoder reads the old one's words
        new.encoder.restrict_input(old.encoder.input_words)
    old_state, new_state = old.state_dict(), new.state_dict()
    for key, value in old_state.items():  # every piece that does not depend on K (the prior does)
        if key in ("prior_mu", "prior_var"):
            continue
        if key in new_state and new_state[key].shape == value.shape:
            new_state[key] = value.clone()
    h, mu, logvar = encoder_outputs(old, X, seed=seed)
    theta = np.exp(mu - mu.max(axis=1, keepdims=True))
    theta /= theta.sum(axis=1, keepdims=True)
    prevalence = theta.mean(axis=0)
    fit = _LinearFit(h)
    for layer, target in (("mu", _merged_mu(mu, groups)), ("logvar", _merged_logvar(mu, logvar, groups))):
        _merge_output_layer(old_state, new_state, f"encoder.{layer}", f"encoder.{layer}_bn", groups, fit, target,
                            prevalence)
    topic_key = "topic_embeddings" if "topic_embeddings" in old_state else "beta.weight"
    old_topics = old_state[topic_key].double()  # (d, K) or (V, K)
    columns = [old_topics[:, g] @ torch.from_numpy(_group_weights(theta, g)) for g in groups]
    new_state[topic_key] = torch.stack(columns, dim=1).to(old_state[topic_key].dtype)
    new.load_state_dict(new_state)
    return new


def _merged_mu(mu: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """The μ' each document should get: logsumexp of its μ over each group (n, K2)."""
    out = np.empty((mu.shape[0], len(groups)))
    for g, members in enumerate(groups):
        part = mu[:, members]
        top = part.max(axis=1)
        out[:, g] = top + np.log(np.exp(part - top[:, None]).sum(axis=1))
    return out


def _merged_logvar(mu: np.ndarray, logvar: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """The log σ'² each document should get, (n, K2): log Σ_{k∈G} w_k² σ²_k, w = softmax of μ within the group."""
    out = np.empty((mu.shape[0], len(groups)))
    for g, members in enumerate(groups):
        part = mu[:, members]
        w = np.exp(part - part.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        out[:, g] = np.log((w**2 * np.exp(logvar[:, members])).sum(axis=1))
    return out


def _merge_output_layer(old: dict, new: dict, layer: str, bn: str, groups: list[list[int]], fit: _LinearFit,
                        target: np.ndarray, prevalence: np.ndarray) -> None:
    """Rows of the encoder's output ``layer`` and its shift batch norm ``bn`` for the merged topics.

    ``prevalence`` (K,): each old topic's mean θ over the sampled documents. A topic that is not
    merged keeps its row and statistics. A merged one gets the members' running statistics weighted
    by their ``prevalence``, the target's mean as its shift, and the linear row whose evaluation-mode
    output, (row·h + bias − running_mean)/√(running_var + eps) + shift, is the least-squares fit
    (``fit``) of ``target`` (n, K2) over the sampled documents. The shift matters once
    training resumes: in training mode the batch norm subtracts each batch's own mean, so the
    shift alone carries the mean, and a merged topic's target lies well above its members' (μ:
    logsumexp adds up to log |G|) or below (log σ²: the weights w² shrink it).
    """
    eps = 1e-5  # BatchNorm's default
    weight, bias = old[f"{layer}.weight"].double(), old[f"{layer}.bias"].double()  # (K, H), (K,)
    mean, var, shift = (old[f"{bn}.{p}"].double() for p in ("running_mean", "running_var", "bias"))
    rows, biases, means, variances, shifts = [], [], [], [], []
    for g, members in enumerate(groups):
        if len(members) == 1:
            k = members[0]
            rows.append(weight[k]), biases.append(bias[k]), means.append(mean[k]), variances.append(var[k])
            shifts.append(shift[k])
            continue
        w = torch.from_numpy(prevalence[members] / prevalence[members].sum())
        m, v = (float(t[members] @ w) for t in (mean, var))
        s = float(target[:, g].mean())  # the shift is what training mode's batch statistics leave of the mean
        pre = (target[:, g] - s) * np.sqrt(v + eps) + m  # the layer's output that the batch norm maps onto the target
        row, b = fit(pre[:, None])
        rows.append(torch.from_numpy(row[:, 0])), biases.append(torch.tensor(float(b[0])))
        means.append(torch.tensor(m)), variances.append(torch.tensor(v)), shifts.append(torch.tensor(s))
    for key, parts in ((f"{layer}.weight", rows), (f"{layer}.bias", biases), (f"{bn}.running_mean", means),
                       (f"{bn}.running_var", variances), (f"{bn}.bias", shifts)):
        new[key] = torch.stack([p.double() for p in parts]).to(old[key].dtype)
