"""The training loop of the VAE topic models, kept outside the models.

:func:`train` runs epochs of minibatch Adam (AdamW where the net asks for weight decay,
see ``TopicVAE.param_groups``) on the negative ELBO plus the net's own ``penalty``,
evaluates the ELBO of a validation slice after each epoch, stops early when it has not
improved for ``patience`` epochs and restores the best weights (with ``patience`` 0 it
never stops early and keeps the last epoch's weights; the validation ELBO is still
recorded). It checkpoints so that an
interrupted run resumes exactly where it stopped:

- a checkpoint holds the state at the end of the last *completed* epoch (weights,
  optimizer, best weights, history, random-number-generator states), so a resumed run
  takes the same steps as one that was never interrupted;
- it is written after every epoch (so a kill -9 loses at most the epoch in progress;
  the write is a fraction of an epoch's time, see ``benchmarks/crash.py``), at the end,
  on Ctrl-C (then :class:`TrainingInterrupted` is raised) and when the loss becomes NaN
  or infinite (then :class:`~topicvae.errors.TrainingDiverged` is raised);
- it is written to a temporary file and renamed, so a kill during the write leaves the
  previous epoch's checkpoint whole;
- it is a dict of tensors, numbers, strings, lists and dicts, readable with
  ``torch.load(path, weights_only=True)``.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from topicvae import paths
from topicvae.corpus.rows import MemoryRows, ShardedRows
from topicvae.errors import RunError, TrainingDiverged, first_line
from topicvae.models.vae import distributed
from topicvae.models.vae.batches import epoch_rows
from topicvae.models.vae.networks import TopicVAE, without_retired
from topicvae.models.vae.sparse import CSRBatches, eval_batches

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
HISTORY_COLUMNS = ("epoch", "train_loss", "train_rec", "train_kl", "val_loss", "val_rec", "val_kl", "seconds")
_CHUNK_BATCHES = 256  # batches whose rows are gathered (and held as tensors) at once
_EVAL_BATCH = 2048


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the state at the end of the last completed epoch was checkpointed.

    Attributes:
        epoch: number of completed epochs in the checkpoint.
        checkpoint: path of the checkpoint file, or None when training had no checkpoint path.
    """

    def __init__(self, epoch: int, checkpoint: Path | None):
        where = f"; checkpoint of epoch {epoch} saved to {checkpoint}, resume to continue" if checkpoint else ""
        super().__init__(f"training interrupted after {epoch} completed epoch(s){where}")
        self.epoch = epoch
        self.checkpoint = checkpoint


@dataclass
class TrainSettings:
    """How to train (not what to train). See the model classes for the meaning of each."""

    epochs: int = 100
    topic_epochs: int | None = None  # the net's topic parameters learn in the first N epochs only (None: all)
    batch_size: int = 200
    lr: float = 2e-3
    betas: tuple[float, float] = (0.99, 0.999)
    patience: int = 10
    kl_warmup: int = 0
    clip_norm: float | None = 5.0
    seed: int = 0
    checkpoint_seconds: float = 0.0  # least time between checkpoints (0: after every epoch)


@dataclass
class TrainResult:
    """What :func:`train` reports: history columns as lists, one entry per epoch."""

    history: dict[str, list[float]]
    best_epoch: int
    stopped_early: bool


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) of batches over n rows; a lone last row joins the batch before it
    (batch norm cannot train on one document)."""
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2] = (bounds[-2][0], n)
        bounds.pop()
    return bounds


def evaluate(net: TopicVAE, X: sp.csr_matrix, device: torch.device, generator: torch.Generator | None,
             sample: bool = True, batch_size: int = _EVAL_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """Per-document reconstruction and KL terms of the negative ELBO, in eval mode: two (n_docs,) arrays.

    ``X``: a csr matrix, or a row source (:meth:`topicvae.corpus.Corpus.rows`: a sharded corpus's rows)
    taken a batch at a time, in the batches of the stacked matrix, so that ``generator``'s draws and the
    result are the same (the whole matrix is never built)."""
    if hasattr(X, "take"):
        parts = [evaluate(net, X.take(np.arange(s, min(s + batch_size, X.shape[0]))), device, generator, sample,
                          batch_size) for s in range(0, X.shape[0], batch_size)]
        return (np.concatenate([p[0] for p in parts]) if parts else np.zeros(0),
                np.concatenate([p[1] for p in parts]) if parts else np.zeros(0))
    rec_parts, kl_parts = [], []
    with torch.no_grad():
        for _, _, batch in eval_batches(net, X, batch_size):
            rec, kl = net(batch, generator, sample=sample)
            rec_parts.append(rec.double().cpu().numpy())
            kl_parts.append(kl.double().cpu().numpy())
    if not rec_parts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(rec_parts), np.concatenate(kl_parts)


_MALLOC_TUNED = False


def tune_malloc() -> None:
    """Keep freed tensor memory in the heap (glibc only; once per process).

    Each training step allocates and frees a few (batch × vocabulary) tensors. glibc
    serves such blocks with mmap and gives them back on free, so every step pays page
    faults; with a fixed mmap threshold of 32 MiB and a 256 MiB trim threshold they are
    reused instead, which makes CPU training faster (docs/model-defaults.md). Only speed and
    the memory kept for reuse change.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        logger.debug("malloc tuning unavailable")


def _clone_state(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


class _TrainingState:
    """The mutable state of one training session (kept together so a checkpoint is one dict)."""

    def __init__(self, net: TopicVAE, settings: TrainSettings, device: torch.device, by_shards: bool = False):
        self.net = net
        self.by_shards = by_shards  # data-parallel, each process on its own shards (distributed.share_of)
        self.has_val = False  # whether there are validation documents (set by train)
        self.settings = settings
        self.device = device
        self.model = distributed.wrap(net, device)  # the net itself unless training data-parallel
        # AdamW: groups that set a weight_decay get it decoupled (AdamW with 0 is Adam)
        self.optimizer = torch.optim.AdamW(net.param_groups(), lr=settings.lr, betas=tuple(settings.betas),
                                           weight_decay=0.0, fused=True)
        self._set_group_lrs()
        self.shuffle_gen = torch.Generator().manual_seed(settings.seed)
        # each data-parallel process draws its own noise; one process draws as it always did
        self.noise_gen = torch.Generator(device=device).manual_seed(settings.seed + 1 + 7919 * distributed.rank())
        self.epoch = 0
        self.history: dict[str, list[float]] = {c: [] for c in HISTORY_COLUMNS}
        self.best_val = math.inf
        self.best_epoch = 0
        self.best_state: dict | None = None
        self.bad_epochs = 0

    def _set_group_lrs(self) -> None:
        """Each group's learning rate: lr times the group's own ``lr_scale`` (1 when it sets none)."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.lr * group.get("lr_scale", 1.0)

    # ---------------------------------------------------------------- checkpoints
    def state(self) -> dict:
        """The checkpointable state now (tensors are copies)."""
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle_gen.get_state(),
               "noise": self.noise_gen.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "net": _clone_state(self.net.state_dict()),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "best_net": self.best_state,
            "best_val": self.best_val,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "history": copy.deepcopy(self.history),
            "rng": rng,
        }

    def restore(self, ckpt: dict) -> None:
        if ckpt.get("format") != CHECKPOINT_FORMAT:
            raise RunError(f"checkpoint format {ckpt.get('format')!r} is not {CHECKPOINT_FORMAT}; start the run again")
        self.net.load_state_dict(without_retired(ckpt["net"]))
        decays = [group["weight_decay"] for group in self.optimizer.param_groups]
        scales = [group.get("lr_scale", 1.0) for group in self.optimizer.param_groups]
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except ValueError as exc:  # another number or size of parameter groups
            raise RunError(f"the checkpoint's optimizer state does not fit this model ({exc}); start the run again") from exc
        for group, decay, scale in zip(self.optimizer.param_groups, decays, scales):  # a resumed run may change these
            group["betas"] = tuple(self.settings.betas)
            group["weight_decay"] = decay
            group["lr_scale"] = scale
        self._set_group_lrs()
        self.epoch = int(ckpt["epoch"])
        self.history = {c: list(ckpt["history"].get(c, [])) for c in HISTORY_COLUMNS}
        self.best_val = float(ckpt["best_val"])
        self.best_epoch = int(ckpt["best_epoch"])
        self.best_state = None if ckpt["best_net"] is None else without_retired(ckpt["best_net"])
        self.bad_epochs = int(ckpt["bad_epochs"])
        rng = ckpt["rng"]
        torch.set_rng_state(rng["torch"])
        self.shuffle_gen.set_state(rng["shuffle"])
        self.noise_gen.set_state(rng["noise"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)

    # ---------------------------------------------------------------- epochs
    def run_epoch(self, X: MemoryRows | ShardedRows, rows: np.ndarray | None = None) -> tuple[float, float]:
        """One pass over the row source X's ``rows`` (None: all) in a fresh random order
        (:func:`.batches.epoch_rows`; each process its share of it); mean reconstruction and KL per
        document."""
        s = self.settings
        self.net.train()
        self.net.start_epoch(self.epoch)
        kl_weight = min(1.0, self.epoch / s.kl_warmup) if s.kl_warmup > 0 else 1.0
        n = X.shape[0] if rows is None else len(rows)
        # X's own rows: the training rows are never copied out of X, only each chunk's
        if self.by_shards:  # each process all of its own shards, as many steps as the others
            perm = distributed.equal_share(epoch_rows(X.shard_rows, rows, self._own_generator()))
        else:
            perm = distributed.shard(epoch_rows(X.shard_rows, rows, self.shuffle_gen), n)
        bounds = batch_bounds(len(perm), s.batch_size)
        # past the topic epochs the decoder (the topics) stays as it is and the encoder learns to infer θ
        # for it: the decoder's gradient is dropped (and the penalty, which only reaches it, is skipped)
        fixed = self.net.decoder_parameters() if s.topic_epochs is not None and self.epoch >= s.topic_epochs else None
        if fixed is not None and self.epoch == s.topic_epochs:
            # Adam starts afresh on the fixed topics: the momentum of the topic epochs would keep the
            # encoder on its old course (docs/model-defaults.md)
            self.optimizer.state.clear()
        words = self.net.encoder.input_words  # the encoder's input words (None: all), whose transpose it trains on
        encoder_words = None if words is None else words.cpu().numpy()
        rec_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        kl_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        # the fixed topics get no gradient at all (nothing to compute for them) except under
        # DistributedDataParallel, which expects a gradient for every parameter it started with
        with self.net.steps(topics_fixed=fixed is not None and not distributed.active()):
            params = [p for p in self.net.parameters() if p.requires_grad]
            for c in range(0, len(bounds), _CHUNK_BATCHES):
                group = bounds[c:c + _CHUNK_BATCHES]
                offset = group[0][0]
                chunk = CSRBatches(X.take(perm[offset:group[-1][1]]), self.device, encoder_words=encoder_words)
                for step, (start, stop) in enumerate(group, start=c):
                    batch = chunk.batch(start - offset, stop - offset, transposed=True)
                    rec, kl = self.model(batch, self.noise_gen)
                    loss = (rec + kl_weight * kl).mean()
                    penalty = self.net.penalty(step) if fixed is None else None  # the net's own regulariser
                    if penalty is not None:
                        loss = loss + penalty
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    for p in fixed or ():  # (distributed: the gradient was computed, and is dropped)
                        p.grad = None  # Adam and the clipping skip a parameter without a gradient
                    if s.clip_norm:
                        torch.nn.utils.clip_grad_norm_(params, s.clip_norm)
                    self.optimizer.step()
                    rec_sum += rec.detach().sum()
                    kl_sum += kl.detach().sum()
        totals = distributed.all_reduce_sum(torch.stack([rec_sum, kl_sum, rec_sum.new_tensor(len(perm))]))
        return float(totals[0] / totals[2]), float(totals[1] / totals[2])

    def _own_generator(self) -> torch.Generator:
        """This process's generator of an epoch's order over its own shards: seeded by a draw from the
        generator all processes share (so that rank 0's checkpoint resumes every process) plus its rank."""
        draw = int(torch.randint(2**62, (1,), generator=self.shuffle_gen))
        return torch.Generator().manual_seed(draw + distributed.rank())

    def end_epoch(self, rec: float, kl: float, val_rec: float, val_kl: float, seconds: float, has_val: bool) -> None:
        """Record a finished epoch; keep the best weights by validation loss (the last without
        validation or with ``patience`` 0)."""
        self.epoch += 1
        val_loss = val_rec + val_kl
        row = (self.epoch, rec + kl, rec, kl, val_loss, val_rec, val_kl, seconds)
        for key, value in zip(HISTORY_COLUMNS, row):
            self.history[key].append(value)
        if not has_val or not self.settings.patience:
            self.best_epoch = self.epoch
        elif val_loss < self.best_val:
            self.best_val, self.best_epoch, self.bad_epochs = val_loss, self.epoch, 0
            self.best_state = _clone_state(self.net.state_dict())
        else:
            self.bad_epochs += 1

    def validate(self, X_val: sp.csr_matrix | None) -> tuple[float, float]:
        """Mean reconstruction and KL of the validation documents (NaN without any): on their own shards,
        of every process's."""
        held = X_val is not None and X_val.shape[0] > 0
        # the same noise every epoch, so epochs are compared on equal terms
        gen = torch.Generator(device=self.device).manual_seed(self.settings.seed + 2)
        if self.by_shards:
            rec, kl = evaluate(self.net, X_val, self.device, gen) if held else (np.zeros(0), np.zeros(0))
            totals = distributed.all_reduce_sum(torch.tensor([rec.sum(), kl.sum(), len(rec)], dtype=torch.float64))
            return (math.nan, math.nan) if totals[2] == 0 else (float(totals[0] / totals[2]), float(totals[1] / totals[2]))
        if not held:
            return math.nan, math.nan
        rec, kl = evaluate(self.net, X_val, self.device, gen)
        return float(rec.mean()), float(kl.mean())

    def has_validation(self, X_val: sp.csr_matrix | None) -> bool:
        """Whether there are validation documents (on their own shards: in any process)."""
        n = 0 if X_val is None else X_val.shape[0]
        if self.by_shards:
            n = int(distributed.all_reduce_sum(torch.tensor([n], dtype=torch.int64))[0])
        return n > 0


def _save(ckpt: dict, path: Path) -> None:
    """Write a checkpoint atomically (temporary file, then rename); :class:`RunError` when the
    disk refuses (full, read-only), with the previous checkpoint left whole."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with paths.atomic_file(path) as tmp:
            torch.save(ckpt, tmp)
    except (OSError, RuntimeError) as exc:  # torch reports a failed write as RuntimeError
        done = int(ckpt.get("epoch", 0))
        keep = "; the checkpoint of the epoch before stays" if path.is_file() else ""
        raise RunError(f"cannot write the checkpoint of epoch {done} to {path.parent} "
                       f"({_write_failure(exc, path.parent, ckpt)}){keep}; free space or fix the folder's "
                       "permissions, then run the same command again") from None


def _write_failure(exc: Exception, folder: Path, ckpt: dict) -> str:
    """Why a checkpoint write failed, in words: torch's own message for a full disk is an
    internal assertion, so a shortage of space is recognised by measuring it."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    needed = sum(t.nbytes for t in _tensors(ckpt))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free is not None and free < needed:
        return f"No space left on device: {free / 2**20:.1f} MiB free, the checkpoint needs about {needed / 2**20:.1f} MiB"
    return first_line(exc)


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`train` (``weights_only=True``, onto the CPU)."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"no checkpoint at {path}: nothing to resume; train without resume")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged or foreign file
        raise RunError(f"checkpoint {path} cannot be read ({exc}); train again without resume") from exc


def checkpoint_problem(path: str | os.PathLike) -> str | None:
    """Why the checkpoint file at ``path`` cannot be continued from, in words (it cannot be read:
    truncated, damaged, not a checkpoint; or it has another format), or None when it can.

    Such a checkpoint holds nothing to resume, so ``train`` starts over instead of asking for
    ``--resume`` (see :func:`topicvae.runs.checkpoint_problem`).
    """
    try:
        ckpt = load_checkpoint(path)
    except RunError as exc:
        return f"cannot be read (truncated or damaged: {_first_sentence(exc.__cause__ or exc)})"
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        return f"has format {found!r}, not {CHECKPOINT_FORMAT}"
    return None


def _first_sentence(exc: BaseException) -> str:
    """The gist of an error from a reader (torch's run on for several sentences of advice)."""
    text = str(exc).strip()
    return text.splitlines()[0].split(". ")[0] if text else type(exc).__name__


class _Checkpointer:
    """Writes the loop's states to one checkpoint file (on the main process), each epoch once."""

    def __init__(self, path: str | os.PathLike | None, extra: dict | None, every_seconds: float):
        self.path = Path(path) if path is not None else None
        self.extra = dict(extra or {})
        self.every_seconds = every_seconds
        self.written_epoch: int | None = None
        self.last_write = time.perf_counter()

    def due(self) -> bool:
        return self.path is not None and time.perf_counter() - self.last_write >= self.every_seconds

    def write(self, state: dict) -> None:
        if self.path is None or not distributed.is_main() or self.written_epoch == state["epoch"]:
            return
        _save({**state, "extra": self.extra}, self.path)
        self.written_epoch = state["epoch"]
        self.last_write = time.perf_counter()


def _diverged(values: tuple, epoch: int, last_good_epoch: int, path: Path | None, lr: float) -> TrainingDiverged:
    what = "nan" if any(math.isnan(v) for v in values) else "inf"
    saved = f"; the last good state (epoch {last_good_epoch}) is checkpointed at {path}" if path else ""
    return TrainingDiverged(f"training diverged at epoch {epoch}: the loss became {what}; "
                            f"lower the learning rate (now lr={lr:g}){saved}")


def _epoch(loop: _TrainingState, X_train, train_rows: np.ndarray | None, X_val: sp.csr_matrix | None,
           ckpt: _Checkpointer, last_good: dict) -> tuple[dict, bool, tuple]:
    """One epoch and its validation: (the state after it, whether it was checkpointed, its losses
    (rec, kl, val_rec, val_kl; the validation ones NaN without X_val)). A loss that is not finite
    checkpoints ``last_good`` and raises :class:`TrainingDiverged`."""
    has_val = loop.has_val
    t0 = time.perf_counter()
    rec, kl = loop.run_epoch(X_train, train_rows)
    val_rec, val_kl = loop.validate(X_val)
    values = (rec, kl, val_rec, val_kl) if has_val else (rec, kl)
    if not all(math.isfinite(v) for v in values):
        ckpt.write(last_good)
        raise _diverged(values, loop.epoch + 1, last_good["epoch"], ckpt.path, loop.settings.lr)
    loop.end_epoch(rec, kl, val_rec, val_kl, time.perf_counter() - t0, has_val)
    state = loop.state()
    checkpointed = ckpt.due()
    if checkpointed:
        ckpt.write(state)
    return state, checkpointed, (rec, kl, val_rec if has_val else math.nan, val_kl if has_val else math.nan)


def _report_epoch(bar, desc: str, loop: _TrainingState, losses: tuple, n_train: int, checkpointed: bool) -> None:
    """The epoch just done, in the progress bar and (rank 0) one INFO line of the log."""
    rec, kl, val_rec, val_kl = losses
    docs_per_s = n_train / loop.history["seconds"][-1]
    if distributed.is_main():
        logger.info("%s: epoch %d of %d: loss %.2f (reconstruction %.2f, KL %.2f)%s, %.0f docs/s%s", desc,
                    loop.epoch, loop.settings.epochs, rec + kl, rec, kl,
                    f", validation {val_rec + val_kl:.2f}" if math.isfinite(val_rec) else "", docs_per_s,
                    ", checkpointed" if checkpointed else "")
    bar.update(1)
    bar.set_postfix({"loss": f"{rec + kl:.1f}", "rec": f"{rec:.1f}", "kl": f"{kl:.2f}",
                     "val": f"{val_rec + val_kl:.1f}", "docs/s": f"{docs_per_s:.0f}"}, refresh=False)


# (74 lines: 23 of them the docstring of its many arguments; the loop itself is 51)
def train(
    net: TopicVAE,
    X_train: sp.csr_matrix | MemoryRows | ShardedRows,
    X_val: sp.csr_matrix | None,
    settings: TrainSettings,
    device: torch.device,
    *,
    checkpoint: str | os.PathLike | None = None,
    resume_from: dict | None = None,
    extra: dict | None = None,
    progress: bool = False,
    desc: str = "train",
    train_rows: np.ndarray | None = None,
    by_shards: bool = False,
) -> TrainResult:
    """Train ``net`` in place and leave the best weights in it.

    Args:
        net: the network, already on ``device`` and seeded/initialised by the caller.
        X_train: csr_matrix (n, V) of counts, or a row source (:mod:`topicvae.corpus.rows`) that the
            minibatches are read from, e.g. a corpus's shards on disk, one at a time.
        X_val: csr_matrix (n_val, V) for early stopping, or None (then the last epoch is kept).
        settings: loop settings.
        device: where ``net`` lives.
        checkpoint: file to write checkpoints to (None: no checkpoints).
        resume_from: a checkpoint dict (from :func:`load_checkpoint`) to continue from.
        extra: JSON-like dict stored in every checkpoint under ``"extra"`` (model settings).
        progress: show a tqdm bar on stderr.
        desc: label of the bar.
        train_rows: the rows of ``X_train`` to train on (None: all), so that a caller holding
            out some documents need not copy the others.
        by_shards: data-parallel, ``X_train`` and ``X_val`` are this process's own shards' documents
            (:func:`.distributed.share_of`).

    Raises:
        TrainingDiverged: the loss became NaN or infinite (the last good epoch is checkpointed).
        TrainingInterrupted: Ctrl-C (the last completed epoch is checkpointed).
    """
    from tqdm.auto import tqdm

    s = settings
    if device.type == "cpu":
        tune_malloc()
    loop = _TrainingState(net, s, device, by_shards)
    loop.has_val = loop.has_validation(X_val)
    if resume_from is not None:
        loop.restore(resume_from)
        if loop.epoch > s.epochs:  # the run would say it trained s.epochs epochs and hold more
            raise RunError(f"the checkpoint has {loop.epoch} completed epochs, more than the {s.epochs} asked; "
                           f"resume with --epochs {loop.epoch} or more, or start over with --force")
        logger.info("resuming %s from epoch %d", desc, loop.epoch)
    ckpt = _Checkpointer(checkpoint, extra, s.checkpoint_seconds)
    if sp.issparse(X_train):
        X_train = MemoryRows(X_train)  # one shard: the order training on a matrix always had
    n_train = X_train.shape[0] if train_rows is None else len(train_rows)
    last_good = loop.state()
    stopped_early = False
    bar = tqdm(total=s.epochs, initial=min(loop.epoch, s.epochs), desc=desc, unit="epoch",
               file=sys.stderr, disable=not progress or not distributed.is_main(), dynamic_ncols=True, leave=True)
    try:
        while loop.epoch < s.epochs:
            if s.patience and loop.bad_epochs >= s.patience and loop.epoch >= s.kl_warmup:
                stopped_early = True
                break
            last_good, checkpointed, losses = _epoch(loop, X_train, train_rows, X_val, ckpt, last_good)
            _report_epoch(bar, desc, loop, losses, n_train, checkpointed)
    except KeyboardInterrupt:
        ckpt.write(last_good)
        raise TrainingInterrupted(last_good["epoch"], ckpt.path) from None
    finally:
        bar.close()
    ckpt.write(last_good)
    if loop.best_state is not None and loop.best_epoch != loop.epoch:
        net.load_state_dict(loop.best_state)
    if stopped_early:
        logger.info("%s stopped early after epoch %d; best epoch %d", desc, loop.epoch, loop.best_epoch)
    return TrainResult(history=loop.history, best_epoch=loop.best_epoch, stopped_early=stopped_early)
