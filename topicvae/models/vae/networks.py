"""The VAE topic models' networks: ProdLDA, NVDM and GSM, each an encoder, a prior and a decoder.

:class:`TopicVAE` (the ELBO's two terms per document), :class:`ProdLDANet` (ProdLDA and GSM,
with its optional decoder settings) and :class:`NVDMNet`, with what only they use. Their
pieces have modules of their own: :mod:`.sparse` (documents as sparse batches, the first
layer that reads them), :mod:`.encoder` (q(z|x)), :mod:`.elbo` (the ELBO's terms and the
priors), :mod:`.word_embeddings` (the word embeddings from the corpus's own co-occurrence and
the clusters ProdLDA's topics start from) and :mod:`.transport` (the balanced-assignment
regulariser that keeps topics apart).

Shapes: B documents in a batch, V words, K topics, d embedding dimensions, nnz stored
counts in the batch.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from topicvae.models.settings import LIKELIHOODS
from topicvae.models.vae.elbo import bernoulli_reconstruction, gaussian_kl, laplace_dirichlet_prior, reconstruction
from topicvae.models.vae.encoder import BatchNorm, Dropout, Encoder
from topicvae.models.vae.sparse import SparseBatch
from topicvae.models.vae.transport import sinkhorn_plan, std_with_zero_rows


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
