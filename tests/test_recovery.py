"""Interrupted, killed and concurrent writers: the run folder's three states, locks, debris, verify.

Kills of real processes are in tests/test_crash.py; here the same situations are made
directly (the files a killed process leaves) so that each rule has a sharp test.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from topicvae import ingest, paths, runs
from topicvae.analysis.verify import DAMAGED, DEBRIS, INCOMPLETE, OK, ORPHANED, STALE, verify
from topicvae.errors import InUseError, RunError
from topicvae.models.vae import TrainingInterrupted, model as vae_model, training_loop
from topicvae.runs import Run, train_run

from cli_support import ctrl_c, one_error_line
from test_runs import FAST, K, corpus, interrupt_in_epoch, make_corpus, runs_dir  # noqa: F401 (fixtures)

DEAD_PID = 2 ** 22 + 12345  # above Linux's pid_max default: no such process


def hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------- states
def test_a_checkpoint_folder_without_a_checkpoint_is_nothing_and_the_plain_command_trains(corpus, runs_dir):
    ckpt = runs_dir / ".r.checkpoint"
    ckpt.mkdir(parents=True)
    (ckpt / "run.json").write_text(json.dumps({"model": "prodlda"}))  # killed before the first epoch ended
    assert runs.run_state(runs_dir, "r") == runs.NOTHING
    with pytest.raises(RunError, match="no checkpoint"):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    assert hidden(runs_dir) == []


def test_ctrl_c_before_the_first_epoch_leaves_nothing(corpus, runs_dir, monkeypatch):
    monkeypatch.setattr(vae_model.ProdLDA, "_build_net", ctrl_c)  # while embeddings are built
    with pytest.raises(KeyboardInterrupt):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    assert runs.run_state(runs_dir, "r") == runs.NOTHING and hidden(runs_dir) == []


def test_an_orphaned_checkpoint_of_a_finished_run_goes_away_with_the_next_train(corpus, runs_dir):
    run = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    ckpt = runs_dir / ".r.checkpoint"  # as if killed between writing the run and removing its checkpoint
    ckpt.mkdir()
    (ckpt / "run.json").write_text(json.dumps({"attempt": run.config["attempt"]}))
    (ckpt / "checkpoint.pt").write_bytes(b"x")
    assert runs.run_state(runs_dir, "r") == runs.COMPLETE and runs.stale_checkpoint(runs_dir, "r")
    assert [f.status for f in verify(["r"], runs_dir=runs_dir, corpora_dir=runs_dir.parent / "corpora")
            if f.what == "checkpoint"] == [ORPHANED]
    train_run(corpus, "prodlda", K, name="other", runs_dir=runs_dir, **FAST)  # any train in the folder tidies
    assert hidden(runs_dir) == []


def test_an_interrupted_force_retrain_resumes_while_the_old_run_still_stands(corpus, runs_dir, monkeypatch):
    old = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    real = interrupt_in_epoch(monkeypatch, 2)
    with pytest.raises(TrainingInterrupted):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, force=True, **{**FAST, "seed": 3})
    assert runs.run_state(runs_dir, "r") == runs.RESUMABLE and runs.unfinished_runs(runs_dir) == ["r"]
    np.testing.assert_array_equal(Run.load("r", runs_dir).doc_topic, old.doc_topic)  # untouched
    monkeypatch.setattr(runs.model_class("prodlda"), "_build_net", vae_model.ProdLDA._build_net)
    from topicvae.models.vae import training_loop

    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    new = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    assert new.config["seed"] == 3 and new.config["resumed"] and hidden(runs_dir) == []


# ---------------------------------------------------------------------------- locks
def test_a_name_being_trained_is_refused_at_once_and_others_are_not(corpus, runs_dir):
    with paths.name_lock(runs_dir, "r", "run"):
        with pytest.raises(InUseError, match=f"being written by another topicvae process \\(pid {os.getpid()}\\)"):
            train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
        train_run(corpus, "prodlda", K, name="s", runs_dir=runs_dir, **FAST)
        assert runs.run_state(runs_dir, "r") == runs.NOTHING
    assert not (runs_dir / ".r.lock").exists()
    train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)


def test_a_name_being_ingested_is_refused_before_any_work(tmp_path):
    corpora = tmp_path / "corpora"
    with paths.name_lock(corpora, "c", "corpus"):
        with pytest.raises(InUseError, match="corpus 'c'"):
            ingest(str(tmp_path / "does-not-exist.csv"), "c", corpora_dir=corpora)  # refused before reading


def test_a_lock_dies_with_its_process(tmp_path):
    """kill -9 of the holder releases the lock; the file it leaves is removed by the next writer."""
    code = ("import sys, time; from topicvae import paths\n"
            f"with paths.name_lock({str(tmp_path)!r}, 'r', 'run'):\n"
            "    print('held', flush=True); time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert paths.is_locked(tmp_path, "r")
        proc.kill()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert (tmp_path / ".r.lock").exists() and not paths.is_locked(tmp_path, "r", tidy=False)
    assert paths.remove_stale_locks(tmp_path) == [tmp_path / ".r.lock"]
    assert not (tmp_path / ".r.lock").exists()


# ---------------------------------------------------------------------------- debris
def test_the_next_writer_removes_dead_writers_debris_and_keeps_live_ones(corpus, runs_dir):
    runs_dir.mkdir()
    dead = runs_dir / f".x.tmp-{DEAD_PID}-deadbeef"
    live = runs_dir / f".y.tmp-{os.getpid()}-deadbeef"
    legacy_mine, legacy_other = runs_dir / ".r.tmp-0123abcd", runs_dir / ".z.tmp-0123abcd"  # no pid recorded
    for d in (dead, live, legacy_mine, legacy_other):
        d.mkdir()
    train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    assert hidden(runs_dir) == sorted([live.name, legacy_other.name])


def test_a_replacement_killed_between_its_two_renames_gets_the_old_version_back(tmp_path):
    old = tmp_path / f".c.old-{DEAD_PID}-deadbeef"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    (tmp_path / f".c.tmp-{DEAD_PID}-0badcafe").mkdir()  # the new version, never renamed into place
    paths.sweep_debris(tmp_path)
    assert (tmp_path / "c" / "manifest.json").is_file() and hidden(tmp_path) == []


def test_a_full_disk_stops_training_with_one_line_and_the_same_command_recovers(corpus, runs_dir, monkeypatch):
    real_save = torch.save
    calls = []

    def disk_full_at_epoch_2(obj, f, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", disk_full_at_epoch_2)
    with pytest.raises(RunError, match="cannot write the checkpoint of epoch 2.*No space left.*epoch before stays"):
        train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    monkeypatch.setattr(torch, "save", real_save)
    assert runs.run_state(runs_dir, "r") == runs.RESUMABLE
    resumed = train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, resume=True, **FAST)
    straight = train_run(corpus, "prodlda", K, name="s", runs_dir=runs_dir, **FAST)
    np.testing.assert_array_equal(resumed.doc_topic, straight.doc_topic)
    assert hidden(runs_dir) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (needs root and mount rights; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or done.returncode})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk, leave: int) -> None:
    """Fill ``disk`` up to ``leave`` free bytes."""
    st = os.statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))


def test_a_really_full_disk_gives_one_line_and_leaves_no_dead_end(tmp_path, tiny_disk):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    make_corpus(tmp_path)
    fill(tiny_disk, 40_000)  # room for the checkpoint folder's start, not for a checkpoint
    cmd = [sys.executable, "-m", "topicvae.interfaces.cli", "train", "tiny", "--topics", str(K), "--hidden", "64",
           "--epochs", "2", "--name", "r", "--quiet", "--corpora-dir", str(tmp_path / "corpora"),
           "--runs-dir", str(tiny_disk)]
    full = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert one_error_line(full.returncode, full.stderr) and "No space left" in full.stderr, full.stderr
    assert runs.run_state(tiny_disk, "r") != runs.COMPLETE
    bigger = tmp_path / "bigger"
    shutil.copytree(tiny_disk, bigger, ignore=shutil.ignore_patterns("filler"))  # "after freeing space"
    again = subprocess.run(cmd[:-1] + [str(bigger)], capture_output=True, text=True, env=env, timeout=300)
    if again.returncode and "--resume" in again.stderr:
        again = subprocess.run(cmd[:-1] + [str(bigger), "--resume"], capture_output=True, text=True, env=env,
                               timeout=300)
    assert again.returncode == 0, again.stderr
    assert hidden(bigger) == []


# ---------------------------------------------------------------------------- verify
def test_verify_reports_each_kind_of_problem_and_clean_removes_only_debris(corpus, runs_dir, tmp_path):
    corpora = tmp_path / "corpora"
    good = train_run(corpus, "prodlda", K, name="good", runs_dir=runs_dir, **FAST)
    bad = train_run(corpus, "prodlda", K, name="bad", runs_dir=runs_dir, **FAST)
    with open(bad.path / "topic_word.npy", "r+b") as f:  # one flipped byte, same size
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    stale = train_run(corpus, "prodlda", K, name="stale", runs_dir=runs_dir, **FAST)
    config = json.loads((stale.path / "config.json").read_text())
    runs.write_config(stale.path, {**config, "corpus_checksum": "0" * 64})  # as if trained on another corpus
    ckpt = runs_dir / ".gone.checkpoint"
    ckpt.mkdir()
    (ckpt / "run.json").write_text("{}")
    resumable = runs_dir / ".half.checkpoint"
    resumable.mkdir()
    (resumable / "run.json").write_text(json.dumps({"corpus": "tiny", "model": "prodlda", "params": {"n_topics": K}}))
    torch.save({"format": training_loop.CHECKPOINT_FORMAT}, resumable / "checkpoint.pt")  # readable: resumable
    (runs_dir / f".good.tmp-{DEAD_PID}-deadbeef").mkdir()
    status = {(f.what, f.name): f.status for f in verify(corpora_dir=corpora, runs_dir=runs_dir)}
    assert status == {("corpus", "tiny"): OK, ("run", "good"): OK, ("run", "bad"): DAMAGED,
                      ("run", "stale"): STALE, ("checkpoint", "gone"): DEBRIS, ("checkpoint", "half"): INCOMPLETE,
                      ("temporary", "good"): DEBRIS}
    findings = verify(corpora_dir=corpora, runs_dir=runs_dir, clean=True)
    assert sorted(f.name for f in findings if f.removed) == ["gone", "good"]
    assert hidden(runs_dir) == [".half.checkpoint"]  # never a resumable checkpoint
    assert sorted(p.name for p in runs_dir.iterdir() if not p.name.startswith(".")) == ["bad", "good", "stale"]
    assert Run.load("good", runs_dir).topic_word.shape == good.topic_word.shape


def test_ctrl_c_in_train_prints_the_command_that_continues(corpus, runs_dir, tmp_path, monkeypatch, capsys):
    from topicvae.interfaces.cli import main

    real = interrupt_in_epoch(monkeypatch, 2)
    argv = ["train", "tiny", "--topics", str(K), "--hidden", "16", "--epochs", "3", "--name", "r", "--quiet",
            "--corpora-dir", str(tmp_path / "corpora"), "--runs-dir", str(runs_dir)]
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"training of run 'r' stopped; continue it with: topicvae {' '.join(argv)} --resume"
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    assert main(argv + ["--resume"]) == 0
    capsys.readouterr()

    monkeypatch.setattr(vae_model.ProdLDA, "_build_net", ctrl_c)
    assert main([("s" if a == "r" else a) for a in argv]) == 130
    assert capsys.readouterr().err.strip() == "training of run 's' stopped before its first epoch ended; nothing was saved"

    from topicvae.models.lda import LDA

    monkeypatch.setattr(LDA, "fit", ctrl_c)  # LDA keeps no checkpoint, whatever pass it was in
    assert main(["train", "tiny", "--model", "lda", "--topics", str(K), "--name", "l", "--quiet",
                 "--corpora-dir", str(tmp_path / "corpora"), "--runs-dir", str(runs_dir)]) == 130
    assert capsys.readouterr().err.strip() == "training of run 'l' stopped; lda keeps no checkpoint, so nothing was saved"


def test_verify_command_exits_1_on_problems_and_0_once_clean(corpus, runs_dir, tmp_path, capsys):
    from topicvae.interfaces.cli import main

    dirs = ["--corpora-dir", str(tmp_path / "corpora"), "--runs-dir", str(runs_dir)]
    train_run(corpus, "prodlda", K, name="r", runs_dir=runs_dir, **FAST)
    assert main(["verify", *dirs]) == 0
    (runs_dir / f".r.tmp-{DEAD_PID}-deadbeef").mkdir()
    assert main(["verify", *dirs]) == 1
    assert "debris" in capsys.readouterr().out
    assert main(["verify", "--clean", *dirs]) == 0 and hidden(runs_dir) == []
