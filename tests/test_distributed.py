"""Data-parallel training: two CPU processes under torchrun end where one process ends.

Two processes with batches of B documents each take the steps one process takes with
batches of 2B (gradients are averaged), so the per-epoch training loss must agree.
Stated tolerance: every epoch's mean training loss within 1 % (measured: under 0.2 %), for
the plain ProdLDA (its regularisers are computed per process and batch, so they would
add their own small differences).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from topicvae.corpus.synthetic import make_synthetic_corpus

TOLERANCE = 0.01


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    pytest.importorskip("torch.distributed")
    make_synthetic_corpus("synth", 3000, n_topics=5, n_words=300, doc_len=80, corpora_dir=tmp_path / "corpora")
    env = {**os.environ, "TOPICVAE_CORPORA_DIR": str(tmp_path / "corpora"), "TOPICVAE_RUNS_DIR": str(tmp_path / "runs"),
           "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    common = ["synth", "--topics", "5", "--epochs", "6", "--val-fraction", "0", "--patience", "0", "--threads", "1",
              "--quiet", "--seed", "0", "--embedding-dim", "0", "--diversity", "0", "--beta-decay", "0"]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                          f"--master_port={_free_port()}", "--master_addr=127.0.0.1", "-m", "topicvae.train",
                          *common, "--batch-size", "100", "--name", "ddp"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert ddp.returncode == 0, ddp.stderr[-2000:]
    assert ddp.stdout.count("run 'ddp'") == 1  # rank 0 alone reports and writes
    single = subprocess.run([sys.executable, "-m", "topicvae.train", *common, "--batch-size", "200", "--name", "one"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-2000:]
    a = pd.read_csv(tmp_path / "runs" / "ddp" / "history.csv")["train_loss"].to_numpy()
    b = pd.read_csv(tmp_path / "runs" / "one" / "history.csv")["train_loss"].to_numpy()
    assert len(a) == len(b) == 6
    assert np.all(np.abs(a - b) / b < TOLERANCE), (a, b)
    assert a[-1] < a[0] * 0.95  # and it did learn
    assert not any(p.name.startswith(".") and "tmp" in p.name for p in (tmp_path / "runs").iterdir())
