"""ProdLDA and NVDM behind the :class:`~topicvae.models.base.TopicModel` interface.

The constructor only stores settings (checked in one place, :meth:`check_params`);
:meth:`fit` builds the network and hands it to :func:`.training_loop.train`. Learned state
ends in ``_``.

θ (``transform``) is deterministic: the softmax of the posterior mean μ of z, with the
networks in evaluation mode (no dropout, batch norm with its running statistics) and
no sampling. ``posterior`` gives μ and σ of q(z|x) themselves.

Topics (``topic_word_``, K × V, rows sum to 1) are the model's own distributions, a function
of the fitted network alone (docs/metrics.md):

- ProdLDA and GSM: topic k is p(w | θ = e_k), the decoder's distribution for a document entirely
  about topic k (evaluation mode): ``topic_word_ == word_distribution(np.eye(K))``.
- NVDM: z is not a topic mixture; topic k is softmax(W[:, k]), the words that moving along z_k
  adds, and ``background_`` is the decoder's bias b, so that p(w | z = e_k) ∝
  ``topic_word_[k] * exp(background_)``.

How a person reads a topic's words (by probability, relevance, ...) is a representation of
that matrix, :mod:`topicvae.scoring.representation`, the same for every model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import ClassVar, Iterator

import numpy as np
import scipy.sparse as sp
import torch

from topicvae.corpus.rows import MemoryRows, ShardedRows, count_tokens
from topicvae.errors import ConfigError, CorpusError, RunError
from topicvae.models.base import TopicModel
from topicvae.models.seeding import check_seed_setting
from topicvae.models.vae import distributed
from topicvae.models.vae.automatic import (ANNEALED_EPOCHS, EMBEDDING_DIM, LONG_DOCUMENT_EPOCHS, automatic_bn_anneal,
                        automatic_embedding_dim, automatic_epochs, automatic_topic_lr, short_documents,
                        topic_vocabulary)
from topicvae.models.vae.networks import NVDMNet, ProdLDANet, TopicVAE, without_retired
from topicvae.models.vae.sparse import EVAL_BATCH, CSRBatches, eval_batches
from topicvae.models.vae.statistics import DocumentCounts, TrainingDocuments, training_documents
from topicvae.models.vae.training_loop import TrainSettings, checkpoint_problem, evaluate, load_checkpoint, train
from topicvae.models.vae.word_embeddings import PPMI_MAX_DOCS, embedding_clusters, ppmi_embeddings

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
MODEL_FORMAT = 1

def as_counts(X) -> sp.csr_matrix:
    """X as a csr_matrix of finite, non-negative counts (sparse or dense input)."""
    X = sp.csr_matrix(X)
    if X.ndim != 2:
        raise CorpusError(f"expected a documents × words matrix, got shape {X.shape}")
    if X.nnz and (not np.isfinite(X.data).all() or X.data.min() < 0):
        raise CorpusError("the document-word matrix must hold finite, non-negative counts")
    return X


def resolve_device(device: str) -> torch.device:
    """'auto' → cuda when torch sees a GPU, else cpu; 'cpu', 'cuda', 'cuda:N' as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"unknown device {device!r}: use auto, cpu or cuda") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}: use auto, cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no GPU; use --device cpu")
    return dev


#: the diversity transport weighs each topic word by its training frequency to this power: 0 (all
#: alike) pulls rare words into topics, 1 (by frequency) lets the most frequent words spread over
#: several topics; the square root lies between
TRANSPORT_FREQUENCY_POWER = 0.5


def log_word_frequencies(counts: DocumentCounts) -> torch.Tensor:
    """log of the add-one smoothed word frequencies of the training documents (their ``counts``): float32 (V,)."""
    freq = counts.word_count + 1.0
    return torch.from_numpy(np.log(freq / freq.sum())).float()


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` (None: leave it), then restore."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class VAETopicModel(TopicModel):
    """A variational autoencoder topic model (ProdLDA or NVDM); see the subclasses.

    Settings: keyword arguments of the constructor, each declared once in
    :mod:`topicvae.models.settings` (docs/settings.md).

    Attributes set by ``fit`` (or ``load``):
        topic_word_: float64 (K, V), rows sum to 1.
        history_: one dict per epoch (keys: ``training_loop.HISTORY_COLUMNS``).
        best_epoch_, stopped_early_, n_train_docs_, n_val_docs_, n_words_.
    """

    name: ClassVar[str] = "vae"
    supports_resume: ClassVar[bool] = True
    supports_warm_start: ClassVar[bool] = True
    reads_shards: ClassVar[bool] = True
    bound_kind: ClassVar[str] = "ELBO bound"
    # settings a resumed run must share with its checkpoint
    fixed_on_resume: ClassVar[tuple[str, ...]] = ("n_topics", "hidden", "seed", "val_fraction", "likelihood")
    # settings added after models were first saved: the value a saved model without them had
    legacy_params: ClassVar[dict] = {"likelihood": "multinomial"}
    # buffers added after models were first saved, whose initial value is what a saved model without them meant
    legacy_buffers: ClassVar[tuple[str, ...]] = ()

    def check_params(self) -> None:
        """Each setting against its declaration (:mod:`topicvae.models.settings`), and the device against
        this machine."""
        super().check_params()
        resolve_device(self.device)

    def _epoch_plan(self, counts: DocumentCounts) -> tuple[int, int | None]:
        """(epochs, epochs in which the topics learn; None: all) of a fit on documents of these ``counts``."""
        if self.epochs is not None:
            return int(self.epochs), None
        epochs, topic_epochs = automatic_epochs(counts, int(self.batch_size))
        return (epochs if topic_epochs is None else topic_epochs), None  # (no decoder to fix and catch up on)

    def _train_settings(self, epochs: int, topic_epochs: int | None = None) -> TrainSettings:
        return TrainSettings(epochs=int(epochs), topic_epochs=topic_epochs, batch_size=int(self.batch_size),
                             lr=float(self.lr), betas=tuple(self.betas), patience=int(self.patience),
                             kl_warmup=int(self.kl_warmup), clip_norm=self.clip_norm or None, seed=int(self.seed))

    def _build_net(self, n_words: int, docs: TrainingDocuments | None = None) -> TopicVAE:  # pragma: no cover
        """The network, initialised from the training documents ``docs`` (None: as constructed, e.g.
        to load saved weights into)."""
        raise NotImplementedError

    def _restore_architecture(self, state: dict) -> None:
        """Before :meth:`load` rebuilds a saved network from ``state`` (its state dict): whatever of its shape
        the settings alone do not fix. Nothing here."""

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted (train rows, validation rows): a seeded random ``val_fraction`` of n documents."""
        n_val = int(round(self.val_fraction * n))
        n_val = min(n_val, n - 2)  # keep two documents for batch norm
        if n_val <= 0:
            return np.arange(n), np.arange(0)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(self.seed))).numpy()
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    # ---------------------------------------------------------------- fitting
    @classmethod
    def checkpoint_problem(cls, path: Path) -> str | None:
        """See :func:`.training_loop.checkpoint_problem`."""
        return checkpoint_problem(path)

    # (69 lines: 26 of them the docstring; fitting itself is 43)
    def fit(self, X, *, progress: bool = False, checkpoint: str | Path | None = None, resume: bool = False,
            warm_start: bool = False, shard_rows: list[int] | None = None) -> "VAETopicModel":
        """Train on ``X``: a csr_matrix (n_docs × n_words counts), or a row source (:mod:`topicvae.corpus.rows`,
        e.g. :class:`topicvae.corpus.rows.ShardedRows` over a corpus's shards on disk) that everything is read
        from a shard at a time: the counts that set up the network (:mod:`.statistics`), the
        validation documents and the minibatches. The same shards give bitwise the same model as
        the matrix in memory with the same ``shard_rows``.

        Args:
            shard_rows: (a matrix ``X``) the rows of each of its shards (summing to n_docs), whose
                order an epoch follows (:func:`.batches.epoch_order`); None: one shard, the order
                of a plain matrix. A row source has its own.
            progress: show a tqdm bar (epoch, loss, reconstruction, KL, docs/s) on stderr.
            checkpoint: file for checkpoints (see :mod:`.training_loop`); None: none are written.
            resume: continue from ``checkpoint``; the settings in ``fixed_on_resume`` must
                match it, the others (epochs, lr, patience, ...) may change.
            warm_start: start from the network the model already holds (``net_``, from an
                earlier ``fit``, ``load`` or a caller that built it, e.g. merged topics)
                instead of a freshly initialised one; ``epochs`` more epochs are trained
                with a new optimizer and ``history_`` starts afresh. ``resume`` wins over
                it (the checkpoint holds the whole network).

        Raises:
            ConfigError, CorpusError: unusable settings or data.
            RunError: ``resume`` without a usable checkpoint.
            TrainingDiverged: the loss became NaN/inf (the last good epoch is checkpointed).
            TrainingInterrupted: Ctrl-C (the last completed epoch is checkpointed).
        """
        self.check_params()
        source = self._row_source(X, shard_rows)
        n_docs, n_words = source.shape
        if n_docs < 2:
            raise CorpusError(f"training needs at least 2 documents, got {n_docs}")
        if self.n_topics >= n_words:
            raise ConfigError(f"n_topics ({self.n_topics}) must be smaller than the vocabulary ({n_words} words)")
        if resume and checkpoint is None:
            raise RunError("resume needs a checkpoint path")
        ckpt = load_checkpoint(checkpoint) if resume else None
        if ckpt is not None:
            self._check_resumable(ckpt.get("extra", {}), n_words)
        start_net = self._warm_start_net(n_words) if warm_start else None
        device = resolve_device(self.device)
        distributed.init(device)  # joins torchrun's process group when started by torchrun
        train_rows, val_rows = self._split(n_docs)
        share = distributed.share_of(source, train_rows, val_rows)  # (not distributed: everything)
        fork_devices = [device.index or 0] if device.type == "cuda" else []
        with torch_threads(self.threads), torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(int(self.seed))
            docs = self._training_documents(share, has_validation=len(val_rows) > 0)
            net = (start_net if start_net is not None else self._saved_net(n_words, ckpt["net"]) if ckpt is not None
                   else self._build_net(n_words, docs)).to(device)  # (a checkpoint's weights replace any start)
            self._settle_automatic(net, docs.counts, n_words)
            result = train(net, share.source, docs.validation, self._train_settings(*self._epoch_plan(docs.counts)),
                           device, checkpoint=checkpoint, resume_from=ckpt, progress=progress, desc=self.name,
                           train_rows=docs.rows, by_shards=share.by_shards,
                           extra={"model": self.name, "params": self.get_params(), "n_words": n_words})
        self._report_share(share)
        share.source.release()  # (the whole source, or this process's part: what was read)
        distributed.finish()  # the other processes exit; this one (rank 0) goes on alone
        self.net_ = net.eval()
        self.n_words_ = n_words
        self.history_ = [dict(zip(result.history, values)) for values in zip(*result.history.values())]
        self.best_epoch_ = result.best_epoch
        self.stopped_early_ = result.stopped_early
        self.n_train_docs_ = len(train_rows)
        self.n_val_docs_ = len(val_rows)
        self._set_topics()
        return self

    @staticmethod
    def _training_documents(share: distributed.Share, has_validation: bool) -> TrainingDocuments:
        """One pass over the shards of this process's ``share``: the counts the set-up needs (summed over
        the processes when each has its own shards), the validation documents taken out. The
        training rows are read in place (None: all, when nothing is held out)."""
        rows = share.train_rows if has_validation or share.by_shards else None
        docs = training_documents(share.source, rows, share.val_rows if has_validation else None)
        if share.by_shards:
            docs = dataclasses.replace(docs, counts=distributed.summed_counts(docs.counts), shared=True)
        return docs

    @staticmethod
    def _report_share(share: distributed.Share) -> None:
        """One INFO line per data-parallel process on its own shards: which it read, and its peak memory."""
        if share.by_shards:
            peak = distributed.peak_rss_mb()
            logger.info("process %d of %d trained on %d documents of shards %s, read shards %s; peak RSS %.0f MB",
                        distributed.rank(), distributed.world_size(), len(share.train_rows),
                        sorted(share.source.numbers), sorted(share.source.shards_read), peak)

    @staticmethod
    def _row_source(X, shard_rows: list[int] | None) -> MemoryRows | ShardedRows:
        """``X`` as a row source: a row source as it is, a matrix after checking its counts."""
        if hasattr(X, "blocks"):
            return X
        try:
            return MemoryRows(as_counts(X), shard_rows)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def _settle_automatic(self, net: TopicVAE, counts: DocumentCounts, n_words: int) -> None:
        """Give a network about to train (fresh, resumed or warm-started) the automatic settings of these
        training documents' ``counts`` that it reads while training (none here; see ProdLDA)."""

    def _saved_net(self, n_words: int, state: dict) -> TopicVAE:
        """A network of the shape of the saved ``state`` (a state dict: a saved model's or a checkpoint's),
        built without the training documents (no embeddings computed), for ``state`` to be loaded into."""
        self._restore_architecture(state)
        net = self._build_net(n_words)
        input_words = state.get("encoder.input_words")
        if input_words is not None:  # an encoder that reads some words only
            net.encoder.restrict_input(input_words)
        return net

    def _warm_start_net(self, n_words: int) -> TopicVAE:
        """The network ``fit(warm_start=True)`` starts from, after checking it fits the data and K."""
        net = getattr(self, "net_", None)
        if net is None:
            raise RunError(f"warm_start needs a fitted {self.name} model (net_); fit or load one first")
        if getattr(self, "n_words_", n_words) != n_words:
            raise ConfigError(f"the documents have {n_words} words, the model {self.n_words_}; "
                              "warm starts need the vocabulary the model was trained on")
        if net.prior_mu.shape[0] != self.n_topics:
            raise ConfigError(f"the network has {net.prior_mu.shape[0]} topics, the settings n_topics={self.n_topics}")
        return net

    def _background(self, counts: DocumentCounts) -> torch.Tensor:
        """The decoder's starting bias: the log word frequencies (multinomial) or the log-odds of
        each word's document frequency, add-one smoothed (bernoulli), of the training documents' ``counts``."""
        if self.likelihood != "bernoulli":
            return log_word_frequencies(counts)
        p = (counts.doc_freq + 1.0) / (counts.n_docs + 2.0)
        return torch.from_numpy(np.log(p / (1.0 - p))).float()

    def _check_resumable(self, extra: dict, n_words: int) -> None:
        if extra.get("model") != self.name:
            raise RunError(f"the checkpoint is of model {extra.get('model')!r}, not {self.name!r}; start a new run")
        if extra.get("n_words") != n_words:
            raise RunError(f"the checkpoint has a vocabulary of {extra.get('n_words')} words, the data {n_words}; "
                           "resume on the corpus it was trained on")
        saved, now = {**self.legacy_params, **extra.get("params", {})}, self.get_params()
        for key in self.fixed_on_resume:
            if saved.get(key) != now.get(key):
                raise RunError(f"cannot resume with {key}={now.get(key)!r}: the checkpoint was trained with "
                               f"{saved.get(key)!r}; keep it or start a new run")

    def _set_topics(self) -> None:
        """``topic_word_`` (and ``background_``) from the fitted network (:meth:`.networks.TopicVAE.topics`)."""
        net = self._fitted_net().eval()
        with torch.no_grad():
            topic_word, background = net.topics()
        tw = topic_word.double().cpu().numpy()
        self.topic_word_ = tw / tw.sum(axis=1, keepdims=True)
        self.background_ = None if background is None else background.detach().double().cpu().numpy()

    def _fitted_net(self) -> TopicVAE:
        net = getattr(self, "net_", None)
        if net is None:
            raise RunError(f"this {self.name} model is not fitted yet; call fit first")
        return net

    def _check_X(self, X) -> sp.csr_matrix:
        """X as counts, after checking that it has the model's vocabulary size."""
        return self._check_width(as_counts(X))

    def _check_width(self, X):
        """X itself (a matrix or a row source), after checking the model is fitted and X has its vocabulary size."""
        self._fitted_net()
        if X.shape[1] != self.n_words_:
            raise ConfigError(f"the documents have {X.shape[1]} words, the model {self.n_words_}; "
                              "use a corpus with the vocabulary the model was trained on")
        return X

    # ---------------------------------------------------------------- inference
    def _encode(self, X, *outputs) -> tuple[np.ndarray, ...]:
        """Run the encoder over X batch by batch; each ``outputs`` function maps (μ, log σ²) of a
        batch to its rows of one float32 (n_docs, K) result, written in place (no full-size
        temporaries: at a million documents each result is 200 MB)."""
        net = self._fitted_net().eval()
        X = self._check_X(X)
        results = tuple(np.empty((X.shape[0], self.n_topics), np.float32) for _ in outputs)
        with torch.no_grad():
            for start, stop, batch in eval_batches(net, X):
                mu, logvar = net.encode(batch)
                for result, fn in zip(results, outputs):
                    result[start:stop] = fn(mu, logvar).float().cpu().numpy()
        return results

    def words_read(self) -> np.ndarray | None:
        """The encoder's input words (ProdLDA's and GSM's: the topic vocabulary, ``encoder_vocabulary``),
        or None when it reads every word."""
        words = self._fitted_net().encoder.input_words
        return None if words is None else words.cpu().numpy()

    def posterior(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Mean μ and standard deviation σ of q(z|x): two float32 arrays (n_docs, K)."""
        return self._encode(X, lambda mu, logvar: mu, lambda mu, logvar: (0.5 * logvar).exp())

    def transform(self, X) -> np.ndarray:
        """θ = softmax(μ): float32 (n_docs, K), rows sum to 1; deterministic (no sampling)."""
        # softmax in float64 over the float32 μ, as a row at a time it does not depend on the batch
        return self._encode(X, lambda mu, logvar: torch.softmax(mu.double(), dim=1))[0]

    def neg_elbo(self, X, n_samples: int = 1, seed: int = 0) -> np.ndarray:
        """Per-document negative ELBO (an upper bound on −log p(x)): float64 (n_docs,).

        A Monte-Carlo estimate with ``n_samples`` draws of z from a generator seeded
        with ``seed``, so repeated calls agree. Perplexity bound: exp(sum / total tokens).
        """
        X = X if hasattr(X, "take") else self._check_X(X)  # (a row source: evaluate takes it a batch at a time)
        net = self.net_
        device = next(net.parameters()).device
        gen = torch.Generator(device=device).manual_seed(seed)
        total = np.zeros(X.shape[0])
        for _ in range(n_samples):
            rec, kl = evaluate(net, X, device, gen, sample=True)
            total += rec + kl
        return total / n_samples

    def log_bound(self, X) -> tuple[float, int]:
        """(Σ_d ELBO_d, Σ_d N_d) of X: a lower bound on its log likelihood and its token count.

        ``topicvae.scoring.metrics.perplexity(*model.log_bound(X))`` is the perplexity upper bound exp(−Σ bound / Σ tokens).
        """
        X = X if hasattr(X, "take") else self._check_X(X)  # (a row source, Corpus.rows: read a shard at a time)
        return float(-self.neg_elbo(X).sum()), count_tokens(X)

    def word_distribution(self, theta) -> np.ndarray:
        """p(w | θ) as the decoder computes it when it reconstructs a document (evaluation mode, no
        sampling): float64 (n, V), rows sum to 1. ``theta``: (n, K) topic mixtures (ProdLDA, GSM) or,
        for NVDM, whose decoder reads z itself, latent vectors z."""
        net = self._fitted_net().eval()
        theta = self._topic_mixtures(theta, np.float32)
        device = next(net.parameters()).device
        out = np.empty((theta.shape[0], self.n_words_), np.float64)
        with torch.no_grad():
            for s in range(0, theta.shape[0], EVAL_BATCH):
                p = net.word_distribution(torch.from_numpy(theta[s:s + EVAL_BATCH]).to(device)).double()
                out[s:s + EVAL_BATCH] = (p / p.sum(dim=1, keepdim=True)).cpu().numpy()
        return out

    def completion_log_likelihood(self, X_context, X_heldout) -> np.ndarray:
        """Σ_w x_w log p(w | z = μ(context)) per document: float64 (n_docs,).

        z is inferred from ``X_context`` (for example half of each test document's tokens)
        and the other half, ``X_heldout`` (same shape), is scored.
        """
        net = self._fitted_net().eval()
        X_context, X_heldout = self._check_X(X_context), self._check_X(X_heldout)
        if X_heldout.shape[0] != X_context.shape[0]:
            raise ConfigError(f"{X_context.shape[0]} context documents but {X_heldout.shape[0]} held-out ones")
        out = []
        with torch.no_grad():
            for s, e, batch in eval_batches(net, X_context):
                mu, _ = net.encoder(batch)
                held = CSRBatches(X_heldout[s:e], mu.device).batch(0, e - s)
                out.append(-net.reconstruct(mu, held).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write ``model.pt`` (settings, weights, history) into the folder ``path``."""
        net = self._fitted_net()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        torch.save({
            "format": MODEL_FORMAT,
            "model": self.name,
            "params": self.get_params(),
            "n_words": self.n_words_,
            "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "history": {k: [h[k] for h in self.history_] for k in (self.history_[0] if self.history_ else {})},
            "best_epoch": self.best_epoch_,
            "stopped_early": self.stopped_early_,
            "n_train_docs": self.n_train_docs_,
            "n_val_docs": self.n_val_docs_,
        }, path / MODEL_FILE)

    @classmethod
    def load(cls, path: str | Path) -> "VAETopicModel":
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        file = Path(path) / MODEL_FILE
        if not file.is_file():
            raise RunError(f"no {MODEL_FILE} in {path}")
        try:
            data = torch.load(file, map_location="cpu", weights_only=True)
        except Exception as exc:  # damaged, or not a topicvae file: refused without running its contents
            reason = "it holds objects other than tensors and settings" if "weights_only" in str(exc) else \
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RunError(f"{file} is not a readable topicvae model ({reason}); it was not loaded; "
                           "train the run again") from None
        if not isinstance(data, dict) or not isinstance(data.get("params"), dict) or "state_dict" not in data:
            raise RunError(f"{file} is not a topicvae model; train the run again")
        if data.get("model") != cls.name:
            raise RunError(f"{file} holds a {data.get('model')!r} model, not {cls.name!r}")
        params = {**cls.legacy_params, **data["params"]}
        known = set(cls.param_names())  # (settings of an earlier read-out of the topics are left out)
        model = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if k in known})
        if str(model.device).startswith("cuda") and not torch.cuda.is_available():
            model.device = "cpu"  # trained on a GPU, read on a machine without one
        net = model._saved_net(int(data["n_words"]), data["state_dict"])
        missing, unexpected = net.load_state_dict(without_retired(data["state_dict"]), strict=False)
        if unexpected or set(missing) - set(cls.legacy_buffers):
            raise RunError(f"{file} does not fit the {cls.name} network (missing {list(missing)}, "
                           f"unexpected {list(unexpected)})")
        model.net_ = net.to(resolve_device(model.device)).eval()
        model.n_words_ = int(data["n_words"])
        history = data["history"]  # saved as one list per column
        model.history_ = [dict(zip(history, values)) for values in zip(*history.values())] \
            if isinstance(history, dict) else list(history)
        model.best_epoch_ = data["best_epoch"]
        model.stopped_early_ = data["stopped_early"]
        model.n_train_docs_ = data["n_train_docs"]
        model.n_val_docs_ = data["n_val_docs"]
        model._set_topics()
        return model

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_topics={self.n_topics})"


class ProdLDA(VAETopicModel):
    """ProdLDA (Srivastava & Sutton 2017): logistic-normal prior approximating Dirichlet(alpha),
    θ = softmax(z), decoder softmax(BN(β θ)), dropout on θ.

    Its settings, with what each does and why: docs/settings.md (:mod:`topicvae.models.settings`).

    ``ProdLDA(K, embedding_dim=0, diversity=0, min_topic_df=0, topic_init="random", epochs=100,
    patience=10)`` is the plain ProdLDA of the paper, trained as this package trained it before
    these settings existed; its topics, like every ProdLDA's, are p(w | θ = e_k) from the
    decoder in evaluation mode (see the module docstring).

    Early stopping is off by default (``patience=0``, the last epoch is kept): the
    validation ELBO stops improving long before the topics do. The number of epochs is
    automatic by default (``epochs=None``, :func:`.automatic.automatic_epochs`; the rule in words:
    docs/settings.md).

    How the defaults were chosen, the evidence cited for each, and how they are to be chosen
    again: docs/model-defaults.md.
    """

    name = "prodlda"
    legacy_buffers = ("topic_mask", "word_mass", "bn_share")
    fixed_on_resume = VAETopicModel.fixed_on_resume + ("alpha", "embedding_dim", "topic_init", "seed_topics",
                                                       "encoder_vocabulary", "context_smoothing", "encoder_scale",
                                                       "encoder_input")
    # models saved before these settings existed
    legacy_params = {**VAETopicModel.legacy_params, "embedding_dim": 0, "beta_decay": 0.0, "diversity": 0.0,
                     "min_topic_df": 0, "topic_init": "random", "topic_lr": None,
                     "seed_topics": None, "seed_prior_shift": 0.0,
                     "topic_epochs": None, "encoder_vocabulary": "all", "context_smoothing": 1.0,
                     "encoder_scale": False, "bn_anneal": 0.0, "encoder_input": "counts"}

    def check_params(self) -> None:
        super().check_params()
        if self.beta_decay * self.lr >= 1:
            raise ConfigError(f"beta_decay × lr must be below 1 (β shrinks by that share every step), got "
                              f"{self.beta_decay:g} × {self.lr:g}; lower beta_decay or lr")
        check_seed_setting(self.seed_topics, self.seed_strength, self.n_topics)

    def _epoch_plan(self, counts: DocumentCounts) -> tuple[int, int | None]:
        if self.epochs is None:
            long_epochs = ANNEALED_EPOCHS if self._bn_anneal(counts) > 0 else LONG_DOCUMENT_EPOCHS
            epochs, topic_epochs = automatic_epochs(counts, int(self.batch_size), long_epochs)
        else:
            epochs, topic_epochs = int(self.epochs), None
        return epochs, (topic_epochs if self.topic_epochs is None else int(self.topic_epochs))

    def _seed_lists(self, n_words: int) -> list[list[int]] | None:
        """seed_topics as lists of ints, after checking every id is a word of the vocabulary."""
        if not self.seed_topics:
            return None
        check_seed_setting(self.seed_topics, self.seed_strength, self.n_topics, n_words)
        return [[int(j) for j in t] for t in self.seed_topics]

    def _seed_embeddings(self, net: TopicVAE, seeds: list[list[int]]) -> None:
        """Start each seeded topic's embedding at the mean embedding of its seed words (length as drawn).

        When the topics start from clusters, the cluster closest to each seeded topic (a
        one-to-one matching on cosine) gives way to it and the other clusters fill topics
        n_seeded, ...: otherwise a seeded topic and the cluster of the same words would start
        as two copies of one topic.
        """
        if net.beta is not None:
            return
        T = net.topic_embeddings
        centres = [net.word_embeddings[words].mean(dim=0) for words in seeds]
        if self.topic_init == "clusters":
            from scipy.optimize import linear_sum_assignment

            S = torch.stack([c / c.norm().clamp_min(1e-12) for c in centres], dim=1)  # (d, n_seeded)
            _, taken = linear_sum_assignment(-(S.T @ T).double().numpy())
            rest = [j for j in range(T.shape[1]) if j not in set(taken.tolist())]
            T.copy_(T[:, list(taken) + rest])
        for k, centre in enumerate(centres):
            if centre.norm() > 0:
                T[:, k] = centre / centre.norm() * T[:, k].norm()

    def _embedding_dim(self, n_words: int, counts: DocumentCounts | None = None) -> int:
        """d of the word embeddings (capped at V − 1): the setting; for None, chosen from the training
        documents' ``counts`` (:func:`automatic_embedding_dim`), or without them the d the network was
        built with (``embedding_dim_``, set by ``fit``, ``load`` and ``merged``), else 200."""
        if self.embedding_dim is not None:
            d = int(self.embedding_dim)
        elif counts is not None:
            d = automatic_embedding_dim(int(self.n_topics), short_documents(counts))
        elif getattr(self, "embedding_dim_", None) is not None:
            d = int(self.embedding_dim_)
        else:  # a network built before any documents (its embeddings are filled by the caller)
            d = EMBEDDING_DIM
        return int(min(d, n_words - 1))

    def _restore_architecture(self, state: dict) -> None:
        """Before a saved network is rebuilt: the d it was built with, from its word embeddings."""
        self.embedding_dim_ = int(state["word_embeddings"].shape[1]) if "word_embeddings" in state else 0

    def _topic_lr(self, n_words: int, bn_anneal: float = 0.0) -> float:
        """``topic_lr``, or when None the rule's (:func:`.automatic.automatic_topic_lr`)."""
        if self.topic_lr is not None:
            return float(self.topic_lr)
        return automatic_topic_lr(self.topic_init == "clusters" and self.embedding_dim != 0 and n_words > 1, bn_anneal)

    def _settle_automatic(self, net: TopicVAE, counts: DocumentCounts, n_words: int) -> None:
        """The epochs of the anneal and the topics' learning rate, as these documents' ``counts`` choose them:
        a network built without documents (resumed from a checkpoint, loaded for a warm start, merged)
        trains as the fresh one would."""
        net.bn_anneal = self._bn_anneal(counts)
        net.topic_lr = self._topic_lr(n_words, net.bn_anneal)

    def _bn_anneal(self, counts: DocumentCounts | None) -> float:
        """``bn_anneal``, or when None the rule's (:func:`.automatic.automatic_bn_anneal`)."""
        return float(self.bn_anneal) if self.bn_anneal is not None else automatic_bn_anneal(counts)

    def _prior_alpha(self) -> float:
        """The Dirichlet α whose Laplace approximation is the prior of z."""
        return float(self.alpha)

    def _build_net(self, n_words: int, docs: TrainingDocuments | None = None) -> TopicVAE:
        self.embedding_dim_ = self._embedding_dim(n_words, None if docs is None else docs.counts)
        bn_anneal = self._bn_anneal(None if docs is None else docs.counts)
        net = ProdLDANet(n_words, int(self.n_topics), tuple(int(h) for h in self.hidden), float(self.dropout),
                         float(self.theta_dropout), self._prior_alpha(), embedding_dim=self.embedding_dim_,
                         beta_decay=float(self.beta_decay), diversity=float(self.diversity),
                         likelihood=str(self.likelihood), seed_topics=self._seed_lists(n_words),
                         seed_strength=float(self.seed_strength), seed_prior_shift=float(self.seed_prior_shift),
                         topic_lr=self._topic_lr(n_words, bn_anneal), encoder_scale=bool(self.encoder_scale),
                         bn_anneal=bn_anneal, encoder_input=str(self.encoder_input))
        if docs is not None:
            mask = topic_vocabulary(docs.counts.doc_freq, int(self.n_topics), self.min_topic_df)
            seeds = self._seed_lists(n_words)
            if seeds:  # seed words carry topic weight however rare they are
                mask[np.concatenate(seeds)] = True
            if mask.sum() <= self.n_topics:
                raise ConfigError(f"only {int(mask.sum())} words are in at least min_topic_df={self.min_topic_df} "
                                  f"training documents, too few for {self.n_topics} topics; lower min_topic_df")
            if self.encoder_vocabulary == "topic" and not mask.all():
                net.encoder.restrict_input(torch.from_numpy(np.flatnonzero(mask)))
            with torch.no_grad():
                log_freq = log_word_frequencies(docs.counts)
                net.decoder_bn.bias.copy_(self._background(docs.counts))
                net.topic_mask.copy_(torch.from_numpy(mask.astype(np.float32)))
                net.word_mass.copy_(log_freq.exp() ** TRANSPORT_FREQUENCY_POWER * net.topic_mask)
                if net.beta is None:  # embeddings of the topic vocabulary only; zero rows elsewhere
                    emb = ppmi_embeddings(docs.source, net.word_embeddings.shape[1], seed=int(self.seed), rows=docs.rows,
                                          words=np.flatnonzero(mask), context_smoothing=float(self.context_smoothing),
                                          **self._shared_sample(docs))
                    net.word_embeddings.copy_(torch.from_numpy(emb))
                    if self.topic_init == "clusters":
                        centres = embedding_clusters(emb, net.word_mass.numpy(), int(self.n_topics), int(self.seed))
                        net.topic_embeddings.copy_(torch.from_numpy(centres.T.copy()))
                if seeds:
                    self._seed_embeddings(net, seeds)
        return net

    @staticmethod
    def _shared_sample(docs: TrainingDocuments) -> dict:
        """ppmi_embeddings's arguments for one data-parallel process's share of the documents: its part of
        the sample of documents counted, and the counts summed over the processes (none otherwise)."""
        if not docs.shared:
            return {}
        return {"max_docs": PPMI_MAX_DOCS // distributed.world_size(), "combine": distributed.summed_cooccurrence}

    def merged(self, groups, X, fixed_topics: bool = False) -> "ProdLDA":
        """A model of ``len(groups)`` topics whose topic g is the union of this model's topics
        ``groups[g]`` (a partition of 0..K-1), its network carried over from this one
        (:func:`.merge.merge_network`): θ' of a document is close to the sum of its θ over each
        group before any training. It holds ``net_`` but no history: train it on with
        ``fit(X, warm_start=True)`` (or ``topicvae.runs.train_run(start_from=...)``).

        ``X``: the training documents (csr counts over the model's vocabulary, or a row source such as a
        corpus's shards, :mod:`topicvae.corpus.rows`, of which only the sample is read) the encoder and
        decoder are fitted on (a sample of 20,000 at most). ``fixed_topics``: that training
        leaves the merged topics as they are (the decoder is fixed: ``topic_epochs=0``; the encoder learns).
        This model is not changed.
        """
        from topicvae.models.vae.merge_network import merge_network

        X = self._check_width(X) if hasattr(X, "take") else self._check_X(X)  # (a row source: read later)
        groups = self._merge_partition(groups)
        fixed = {"topic_epochs": 0} if fixed_topics else {}  # training on keeps the decoder as merged
        new = type(self)(**{**self.get_params(), "n_topics": len(groups), **fixed})
        new.embedding_dim_ = self.embedding_dim_  # the word embeddings carry over, whatever d K2 would choose
        with torch_threads(self.threads):
            net = new._build_net(self.n_words_).to(next(self.net_.parameters()).device)
            merge_network(self.net_, net, groups, X, seed=int(self.seed))
        new.net_ = net.eval()
        new.n_words_ = self.n_words_
        new.history_ = []
        new.best_epoch_, new.stopped_early_ = None, False
        new.n_train_docs_, new.n_val_docs_ = self.n_train_docs_, self.n_val_docs_
        new._set_topics()
        return new


class NVDM(VAETopicModel):
    """NVDM (Miao et al. 2016): Gaussian q(z|x), prior N(0, I), decoder softmax(W z + b).

    The decoder bias b starts at the log word frequencies of the training documents
    (add-one smoothed), so z only has to explain how a document departs from them.
    """

    name = "nvdm"

    def _build_net(self, n_words: int, docs: TrainingDocuments | None = None) -> TopicVAE:
        net = NVDMNet(n_words, int(self.n_topics), tuple(int(h) for h in self.hidden), float(self.dropout),
                      str(self.likelihood))
        if docs is not None:
            with torch.no_grad():
                net.decoder.bias.copy_(self._background(docs.counts))
        return net

    def merged(self, groups, X, fixed_topics: bool = False):
        """Refused: NVDM's z is not a topic mixture, so there is no sum of topics to keep."""
        raise ConfigError("NVDM topics cannot be merged: its z is not a topic mixture, so two of its "
                          "directions have no sum; train a model with fewer topics, or use prodlda or gsm")


class GSM(ProdLDA):
    """Gaussian softmax model: Gaussian q(z|x) with the standard normal prior N(0, I) of NVDM,
    θ = softmax(z), and ProdLDA's decoder (product of experts, topic vocabulary, diversity
    transport; every ProdLDA setting but ``alpha``, which it does not use).

    This is the Gaussian-prior model of the project's design with real topic mixtures: NVDM's
    z is not a topic mixture, and its topics are weak. Miao et al. (2017) pair the same prior
    and θ with a mixture decoder Σ_k θ_k φ_k; in this project that decoder collapsed into
    repeated topics (docs/model-defaults.md), which is why the product of experts is used.
    """

    name = "gsm"
    legacy_params = {"encoder_vocabulary": "all", "context_smoothing": 1.0, "encoder_scale": False, "bn_anneal": 0.0,
                     "encoder_input": "counts"}
    fixed_on_resume = tuple(k for k in ProdLDA.fixed_on_resume if k != "alpha")

    def _prior_alpha(self) -> float:
        """(No α: the Laplace prior ProdLDA's network is built with is replaced by N(0, I).)"""
        return 1.0

    def _build_net(self, n_words: int, docs: TrainingDocuments | None = None) -> TopicVAE:
        net = super()._build_net(n_words, docs)
        net.prior_mu.zero_()
        net.prior_var.fill_(1.0)
        return net
