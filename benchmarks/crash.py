"""kill -9 at random moments: does the next command recover, without --force, and lose nothing?

For ``ingest`` and for ``train`` it first runs the command once uninterrupted (the
reference: its duration and its result), then N times: start the same command in a
fresh process, SIGKILL it at a seeded random moment of its reference duration, then
run the command again as a user would (the plain command; with ``--resume`` when the
plain command says the run can be continued). Each trial checks:

- recovered: the next command succeeded without ``--force``;
- identical: the result equals the reference bitwise (the bag-of-words shards; θ and topic-word);
- leftovers: hidden entries (temporary folders, checkpoints, locks) left after the next
  command; the target is none;
- epochs lost (train): epochs the killed process had logged as finished beyond the
  epoch of the checkpoint it left (checkpoints are written after every epoch, so 0:
  only the epoch in progress is lost).

Usage::

    python benchmarks/crash.py                    # 20 kills each, built-in sample corpus
    python benchmarks/crash.py --kills 5 --only train
    python benchmarks/crash.py --source ../shared/corpora/20news-bydate.tar.gz --kills 5 --only ingest
    python benchmarks/crash.py --cost ../shared/corpora/20news-bydate.tar.gz   # what a checkpoint per epoch costs

The test suite runs the same trials with 3 kills each (tests/test_crash.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TRAIN_ARGS = ["--model", "prodlda", "--topics", "10", "--epochs", "30", "--threads", "1", "--seed", "0"]
EPOCH_LOG = re.compile(r"epoch (\d+) of \d+ done, checkpointed")
TIMEOUT = 600


@dataclass
class Trial:
    kind: str
    kill_at: float  # seconds after start
    killed: bool  # False: the command had finished before the kill moment
    recovered: bool
    identical: bool
    leftovers: list[str] = field(default_factory=list)
    whole: bool = True  # right after the kill, a corpus or run folder that exists passes `verify`
    complete: bool = False  # the kill came after the result was complete (nothing was left to lose)
    epochs_logged: int | None = None
    epochs_checkpointed: int | None = None
    resumed: bool = False
    message: str = ""

    @property
    def epochs_lost(self) -> int | None:
        if self.epochs_logged is None or self.complete:
            return None
        return max(0, self.epochs_logged - (self.epochs_checkpointed or 0))


def _env() -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    return env


def topicvae(*args: str, work: Path) -> list[str]:
    return [sys.executable, "-m", "topicvae.interfaces.cli", *args, "--corpora-dir", str(work / "corpora"),
            "--runs-dir", str(work / "runs")]


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)


def kill_while_running(cmd: list[str], cwd: Path, seconds: float, reset) -> tuple[float, bool, str]:
    """Kill ``cmd`` at ``seconds``; when it had already finished, ``reset()`` the folder and try again at
    60 % of the moment (up to 4 times). (the moment used, whether it was killed while running, its stderr)"""
    for _ in range(4):
        killed, stderr = kill_at(cmd, cwd, seconds)
        if killed:
            break
        reset()
        seconds *= 0.6
    return seconds, killed, stderr


def kill_at(cmd: list[str], cwd: Path, seconds: float) -> tuple[bool, str]:
    """Start ``cmd``, SIGKILL it after ``seconds``; (whether it was still running, its stderr)."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=err, text=True)
        try:
            proc.wait(timeout=seconds)
            killed = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            killed = True
        err.seek(0)
        return killed, err.read()


def whole_after_kill(work: Path, kind: str) -> bool:
    """A corpus or run that looks complete after the kill must be whole (the kill never half-writes one)."""
    from topicvae.analysis.verify import OK, check_corpus, check_run

    if kind == "ingest":
        folder = work / "corpora" / "c"
        return not folder.exists() or check_corpus(work / "corpora", "c").status == OK
    folder = work / "runs" / "r"
    return not folder.exists() or check_run(work / "runs", "r", work / "corpora").status == OK


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hidden(folder: Path) -> list[str]:
    """Entries a user did not make: hidden names in the folder and in its subfolders."""
    if not folder.is_dir():
        return []
    out = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    out += [f"{p.name}/{q.name}" for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
            for q in p.iterdir() if q.name.startswith(".")]
    return sorted(out)


# ---------------------------------------------------------------------------- ingest
#: ingest streams its source in partitions of this many documents and writes shards of this many: a
#: kill can land between partitions and between shards (and training then reads the shards)
INGEST_ARGS = ("--partition-docs", "400", "--shard-docs", "600")


def ingest_cmd(source: str, work: Path) -> list[str]:
    return topicvae("ingest", source, "--name", "c", "--quiet", *INGEST_ARGS, work=work)


def bow_digest(folder: Path) -> str | None:
    """One digest of a corpus folder's bag-of-words files (``bow*.npz``, by name), None when it has none."""
    files = sorted(folder.glob("bow*.npz")) if folder.is_dir() else []
    return hashlib.sha256("".join(f"{f.name}:{sha(f)}" for f in files).encode()).hexdigest() if files else None


def ingest_reference(source: str, work: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = run(ingest_cmd(source, work), work)
    if done.returncode:
        raise SystemExit(f"reference ingest failed: {done.stderr.strip()}")
    return time.perf_counter() - t0, bow_digest(work / "corpora" / "c")


def ingest_trial(source: str, work: Path, seconds: float, reference_sha: str) -> Trial:
    def reset():
        shutil.rmtree(work / "corpora", ignore_errors=True)

    reset()
    seconds, killed, _ = kill_while_running(ingest_cmd(source, work), work, seconds, reset)
    whole = whole_after_kill(work, "ingest")
    complete = (work / "corpora" / "c").is_dir()
    again = run(ingest_cmd(source, work), work)
    recovered = again.returncode == 0 or (complete and "already exists" in again.stderr)
    return Trial("ingest", seconds, killed, recovered, bow_digest(work / "corpora" / "c") == reference_sha,
                 hidden(work / "corpora"), whole, complete, message=again.stderr.strip()[-300:] if not recovered else "")


# ---------------------------------------------------------------------------- train
def train_cmd(work: Path, *extra: str) -> list[str]:
    return [*topicvae("-v", "train", "c", *TRAIN_ARGS, "--name", "r", "--quiet", *extra, work=work)]


def train_reference(work: Path) -> tuple[float, dict]:
    """Ingest the corpus the trials train on (built-in sample) and train it once uninterrupted."""
    if not (work / "corpora" / "c").is_dir():
        done = run(ingest_cmd("builtin:sample", work), work)
        if done.returncode:
            raise SystemExit(f"ingest for the train trials failed: {done.stderr.strip()}")
    t0 = time.perf_counter()
    done = run(train_cmd(work), work)
    if done.returncode:
        raise SystemExit(f"reference train failed: {done.stderr.strip()}")
    seconds = time.perf_counter() - t0
    result = run_digest(work / "runs" / "r")
    shutil.rmtree(work / "runs")
    return seconds, result


def run_digest(folder: Path) -> dict:
    return {f: sha(folder / f) for f in ("doc_topic.npy", "topic_word.npy", "z_mean.npy")} if folder.is_dir() else {}


def checkpoint_epoch(work: Path) -> int | None:
    ckpt = work / "runs" / ".r.checkpoint" / "checkpoint.pt"
    if not ckpt.is_file():
        return None
    import torch

    return int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"])


def train_trial(work: Path, seconds: float, reference: dict) -> Trial:
    def reset():
        shutil.rmtree(work / "runs", ignore_errors=True)

    reset()
    seconds, killed, stderr = kill_while_running(train_cmd(work), work, seconds, reset)
    logged = [int(m) for m in EPOCH_LOG.findall(stderr)]
    checkpointed = checkpoint_epoch(work)
    whole = whole_after_kill(work, "train")
    complete = (work / "runs" / "r").is_dir()
    again = run(train_cmd(work), work)
    resumed = again.returncode != 0 and "--resume" in again.stderr
    if resumed:
        again = run(train_cmd(work, "--resume"), work)
    recovered = again.returncode == 0 or (complete and "already exists" in again.stderr)
    return Trial("train", seconds, killed, recovered, run_digest(work / "runs" / "r") == reference,
                 hidden(work / "runs"), whole, complete, epochs_logged=max(logged, default=0) if killed else None,
                 epochs_checkpointed=checkpointed, resumed=resumed,
                 message=again.stderr.strip()[-300:] if not recovered else "")


# ---------------------------------------------------------------------------- driver
def trials(kind: str, kills: int, seed: int, work: Path, source: str = "builtin:sample") -> list[Trial]:
    """Run the reference, then ``kills`` killed-and-recovered trials of ``kind`` ('ingest' or 'train')."""
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-{kind}")
    if kind == "ingest":
        seconds, digest = ingest_reference(source, work)
        return [ingest_trial(source, work, rng.uniform(0.05, 0.98) * seconds, digest) for _ in range(kills)]
    seconds, digest = train_reference(work)
    return [train_trial(work, rng.uniform(0.05, 0.98) * seconds, digest) for _ in range(kills)]


def checkpoint_cost(source: str, work: Path, n_topics: int = 50, epochs: int = 6) -> dict:
    """Seconds per epoch and per checkpoint write of the default ProdLDA on ``source``, in one process."""
    import torch

    from topicvae import ingest
    from topicvae.models.vae import training_loop
    from topicvae.models.vae.model import ProdLDA

    torch.set_num_threads(1)
    corpus = ingest(source, "cost", corpora_dir=work / "corpora", force=True)
    X = corpus.bow[corpus.split_rows("train")]
    writes, real_save = [], training_loop._save

    def timed_save(ckpt, path):
        t0 = time.perf_counter()
        real_save(ckpt, path)
        writes.append(time.perf_counter() - t0)

    training_loop._save = timed_save
    try:
        model = ProdLDA(n_topics, epochs=epochs, patience=0, threads=1).fit(X, checkpoint=work / "cost.pt")
    finally:
        training_loop._save = real_save
    epoch_s = sorted(h["seconds"] for h in model.history_)[len(model.history_) // 2]
    write_s = sorted(writes)[len(writes) // 2]
    return {"docs": X.shape[0], "words": X.shape[1], "epoch_s": epoch_s, "write_s": write_s,
            "mb": (work / "cost.pt").stat().st_size / 2 ** 20, "writes": len(writes)}


def summary(results: list[Trial]) -> str:
    kind = results[0].kind
    killed = [t for t in results if t.killed]
    lost = [t.epochs_lost for t in killed if t.epochs_lost is not None]
    cells = [kind, f"{len(killed)}/{len(results)}", str(sum(t.complete for t in killed)),
             f"{sum(t.whole for t in results)}/{len(results)}",
             f"{sum(t.recovered for t in results)}/{len(results)}",
             f"{sum(t.identical for t in results)}/{len(results)}",
             str(sum(bool(t.leftovers) for t in results)),
             str(sum(t.resumed for t in results)) if kind == "train" else "-",
             str(max(lost, default=0)) if kind == "train" else "-"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20, help="killed trials per command (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["ingest", "train"], help="one command only")
    ap.add_argument("--source", default="builtin:sample", help="what the ingest trials read (default builtin:sample)")
    ap.add_argument("--cost", metavar="SOURCE", help="instead: measure what checkpointing every epoch costs on SOURCE")
    args = ap.parse_args()
    if args.cost:
        with tempfile.TemporaryDirectory(prefix="topicvae-cost-") as tmp:
            c = checkpoint_cost(args.cost, Path(tmp))
        print(f"ProdLDA K=50 on {args.cost} ({c['docs']:,} training documents, {c['words']:,} words), 1 thread: "
              f"median epoch {c['epoch_s']:.2f} s, median checkpoint write {c['write_s']:.3f} s "
              f"({c['mb']:.1f} MB, {c['writes']} writes): {100 * c['write_s'] / c['epoch_s']:.1f} % of an epoch")
        return
    print("| command | killed while running | of those, after the result was complete | whole or absent after "
          "the kill | recovered without --force | result identical | trials with leftovers | resumed | "
          "most whole epochs lost |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="topicvae-crash-") as tmp:
        for kind in [args.only] if args.only else ["ingest", "train"]:
            results = trials(kind, args.kills, args.seed, Path(tmp) / kind, args.source)
            print(summary(results), flush=True)
            for t in results:
                if not (t.whole and t.recovered and t.identical and not t.leftovers and not t.epochs_lost):
                    print(f"  failed trial: {t}", flush=True)


if __name__ == "__main__":
    main()
