"""Streamed ingestion on Dask (issue 31, part 2): the source read in partitions, tokenized in this
process, on a local Dask cluster (``--workers 2``) or on a separately started ``dask scheduler`` and
``dask worker`` processes (``--scheduler``), always to the identical corpus; an unreachable scheduler
and a worker that dies mid-ingest end in one line or in the whole corpus, never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from topicvae import ingest
from topicvae.corpus import Corpus, cluster, ingestion
from topicvae.interfaces.cli import main
from topicvae.text.settings import VocabSettings

REPO = Path(__file__).resolve().parents[1]
N_DOCS, PARTITION, SHARD = 600, 100, 150
# the counts and the files that make a corpus what it is (created and seconds vary from run to run;
# workers and scheduler say how it was made)
DATA_FILES = ("vocab.json", "docs.parquet", "vectorizer.json")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A CSV of N_DOCS documents of two themes and noise words, with labels, splits, a duplicate-free id,
    metadata, a few empty and short documents (seeded)."""
    rng = random.Random(0)
    themes = [["apple", "pear", "orchard", "harvest", "fruit", "tree", "juice", "farmer"],
              ["engine", "wheel", "road", "driver", "gear", "motor", "brake", "garage"]]
    noise = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 8))) for _ in range(400)]
    rows = []
    for i in range(N_DOCS):
        theme = themes[i % 2]
        if i % 97 == 5:
            text = "the of and"  # empty after stop words
        elif i % 89 == 7:
            text = "zzqx"  # too short once the vocabulary is chosen
        else:
            text = " ".join(rng.choice(theme) if rng.random() < 0.6 else rng.choice(noise) for _ in range(30))
        rows.append({"id": f"doc{i}", "text": text, "label": ["fruit", "cars"][i % 2],
                     "split": "test" if i % 5 == 0 else "train", "year": 1990 + i % 30,
                     "note": None if i % 3 else f"n{i}"})
    path = tmp_path_factory.mktemp("source") / "docs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _ingest(source: Path, corpora: Path, name: str, phrases: bool = False, **kw) -> Corpus:
    from topicvae.text.sources import TableColumns

    vocab = VocabSettings(min_df=2, max_df=0.9, min_tokens=3, **(
        {"phrases": True, "phrase_min_count": 3, "phrase_threshold": 0.5} if phrases else {}))
    return ingest(str(source), name, corpora_dir=corpora, columns=TableColumns(id="id", label="label", split="split"),
                  vocab=vocab, shard_docs=SHARD, **kw)


def assert_same_corpus(a: Path, b: Path) -> None:
    """The same files byte for byte, the same manifest counts, shards and digests."""
    ma, mb = (json.loads((p / "manifest.json").read_text()) for p in (a, b))
    assert ma["counts"] == mb["counts"]
    assert ma["shards"] == mb["shards"]
    assert ma["checksums"] == mb["checksums"] and ma["sizes"] == mb["sizes"]
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for f in files:
        if f != "manifest.json":
            assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.fixture(scope="module")
def reference(source, tmp_path_factory) -> Path:
    """The corpus tokenized in this process, the whole source in one partition."""
    corpora = tmp_path_factory.mktemp("reference")
    c = _ingest(source, corpora, "ref", partition_docs=100_000)
    assert c.manifest["workers"] == 1 and len(c.shards) == 4
    return c.path


def _spy_processes(monkeypatch) -> list:
    """The processes that tokenized each partition, as the ingest received them."""
    seen = []
    original = ingestion._Pass1.add_result

    def add_result(self, index, result):
        seen.append(result.get("pid"))
        return original(self, index, result)

    monkeypatch.setattr(ingestion._Pass1, "add_result", add_result)
    return seen


def test_partitions_in_process_give_the_corpus_of_one_partition(source, reference, tmp_path, monkeypatch):
    pids = _spy_processes(monkeypatch)
    c = _ingest(source, tmp_path, "parts", partition_docs=PARTITION)
    assert pids == [os.getpid()] * (N_DOCS // PARTITION)  # six partitions, all tokenized here
    assert c.manifest["counts"]["dropped"]["empty"] > 0 and c.manifest["counts"]["dropped"]["too_short"] > 0
    assert_same_corpus(reference, c.path)
    assert not list(tmp_path.glob(".*tmp*")) and not (c.path / ingestion.SPILL_DIR).exists()


def test_chunks_of_the_reader_that_cut_across_partitions_give_the_same_corpus(source, reference, tmp_path,
                                                                              monkeypatch):
    """A table is read column-wise a chunk at a time (sources.DocTable); partitions are cut from the
    chunks wherever they fall: 7-row chunks and 5-document partitions give the corpus of one of each."""
    from topicvae.text import sources

    monkeypatch.setattr(sources, "_RECORDS", 7)
    c = _ingest(source, tmp_path, "chunks", partition_docs=5)
    assert_same_corpus(reference, c.path)


def test_fields_that_only_some_chunks_have_are_missing_in_the_others(tmp_path, monkeypatch):
    """JSON lines whose fields come and go: chunked and partitioned finely, each field is None where a
    line lacks it, the same table as read whole."""
    from topicvae.text import sources
    from topicvae.text.sources import TableColumns

    path = tmp_path / "docs.jsonl"
    lines = []
    for i in range(40):
        row = {"id": f"d{i}", "text": f"apple pear orchard engine wheel road {'fruit ' * (i % 4)}"}
        if 13 <= i < 21:
            row["note"] = f"n{i}"
        if i % 9 == 0:
            row["tags"] = ["a", "b"][: i % 4]
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n")
    kw = dict(columns=TableColumns(id="id"), vocab=VocabSettings(min_df=1, max_df=1.0, min_tokens=1))
    whole = ingest(str(path), "whole", corpora_dir=tmp_path / "a", **kw)
    monkeypatch.setattr(sources, "_RECORDS", 6)
    parts = ingest(str(path), "parts", corpora_dir=tmp_path / "b", partition_docs=4, **kw)
    assert_same_corpus(whole.path, parts.path)
    docs = parts.docs.set_index("id")
    assert docs.loc["d13", "note"] == "n13" and pd.isna(docs.loc["d12", "note"]) and pd.isna(docs.loc["d21", "note"])
    assert docs.loc["d36", "tags"] == "[]" and docs.loc["d9", "tags"] == '["a"]' and pd.isna(docs.loc["d10", "tags"])


def test_a_small_corpus_imports_no_dask(source, tmp_path):
    code = ("import sys; from topicvae import ingest; "
            f"ingest({str(source)!r}, 'c', corpora_dir={str(tmp_path)!r}); "
            "assert 'distributed' not in sys.modules and 'dask' not in sys.modules, 'dask imported'")
    run = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.mark.slow
def test_two_local_dask_workers_write_the_identical_corpus(source, reference, tmp_path, monkeypatch):
    pids = _spy_processes(monkeypatch)
    c = _ingest(source, tmp_path, "two", workers=2, partition_docs=PARTITION)
    assert len(pids) == N_DOCS // PARTITION and os.getpid() not in pids  # tokenized by the workers
    assert c.manifest["workers"] == 2
    assert_same_corpus(reference, c.path)


@pytest.mark.slow
def test_the_local_clusters_workers_run_without_dasks_profiler_and_tick_every_second():
    """No dashboard shows their profiles: the sampling thread would only take CPU from tokenizing."""
    import dask
    import distributed  # noqa: F401  (its import puts its settings into dask's)

    before = dask.config.get("distributed.worker.profile.enabled")
    run = cluster.runner(2)
    try:
        profiling = run.client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
        callbacks = run.client.run(lambda dask_worker: sorted(dask_worker.periodic_callbacks))
        ticks = run.client.run(lambda dask_worker: (dask_worker.periodic_callbacks["tick"].callback_time,
                                                    dask.config.get("distributed.worker.memory.monitor-interval")))
    finally:
        run.close()
    assert len(profiling) == 2 and not any(profiling.values())
    assert all("profile" not in names for names in callbacks.values())
    assert set(ticks.values()) == {(1000, "1s")}  # the event loop's tick every second, not every 20 ms
    assert dask.config.get("distributed.worker.profile.enabled") == before  # this process's settings are left


def _run_python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD"}
    return subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=timeout)


def test_the_local_cluster_forks_its_workers_only_from_a_process_of_one_thread():
    code = ("import threading, time, os; from topicvae.corpus import cluster; print(cluster.start_method()); "
            "threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); print(cluster.start_method()); "
            "os.environ['DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD'] = 'spawn'; "
            "print(cluster.start_method())")
    run = _run_python(code)
    assert run.returncode == 0, run.stderr[-2000:]
    fresh, threaded, told = run.stdout.split()
    assert (fresh, threaded, told) == ("fork" if sys.platform.startswith("linux") else "spawn", "spawn", "spawn")
    run = _run_python("import torch; from topicvae.corpus import cluster; print(cluster.start_method())")
    assert run.stdout.split() == ["spawn"], run.stderr[-2000:]  # PyTorch's thread pool is native


@pytest.mark.slow
def test_the_command_line_forks_its_workers_and_writes_the_identical_corpus(source, reference, tmp_path):
    code = ("import sys; from topicvae.interfaces.cli import main; sys.exit(main(['-v', 'ingest', "
            f"{str(source)!r}, '--name', 'f', '--corpora-dir', {str(tmp_path)!r}, '--workers', '2', "
            "'--id-col', 'id', '--label-col', 'label', '--split-col', 'split', '--min-df', '2', "
            "'--max-df', '0.9', '--min-tokens', '3', '--shard-docs', '150', '--partition-docs', '100']))")
    run = _run_python(code)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "a local Dask cluster of 2 forked workers" in run.stderr + run.stdout
    assert_same_corpus(reference, tmp_path / "f")


@pytest.mark.slow
def test_workers_are_spawned_once_a_thread_has_run_and_a_large_partition_still_arrives(tmp_path):
    """A worker forked after Dask's offload thread has served this process would wait forever for that
    thread on its first message over 10 MiB (the partition below is 14 MB): the ingest must finish."""
    words = ["".join("abcdefghij"[int(c)] for c in f"{k:03d}") + "word" for k in range(500)]
    rows = [{"id": f"d{i}", "text": " ".join(words[(i * 13 + j % 40) % 500] for j in range(9000))} for i in range(200)]
    path = tmp_path / "big.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    code = ("from distributed.utils import _offload_executor; _offload_executor.submit(int).result(); "
            "from topicvae import ingest; from topicvae.corpus import cluster; "
            "assert cluster.start_method() == 'spawn'; "
            f"c = ingest({str(path)!r}, 'big', corpora_dir={str(tmp_path)!r}, workers=2, partition_docs=200); "
            "print(c.n_docs)")
    run = _run_python(code, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-1] == "200"


@pytest.mark.slow
def test_phrases_streamed_on_dask_give_the_corpus_of_one_partition(source, tmp_path):
    one = _ingest(source, tmp_path / "one", "p", phrases=True, partition_docs=100_000)
    two = _ingest(source, tmp_path / "two", "p", phrases=True, workers=2, partition_docs=PARTITION)
    assert any("_" in w for w in one.vocab)  # phrases were learned and joined
    assert_same_corpus(one.path, two.path)


def test_n_process_is_the_older_name_of_workers(monkeypatch, source, tmp_path):
    got = []
    monkeypatch.setattr(ingestion, "ingest", lambda *a, **kw: got.append(kw) or pytest.skip("parsed"))
    for flag in ("--n-process", "--workers"):
        with pytest.raises(pytest.skip.Exception):
            main(["ingest", str(source), "--name", "c", flag, "3", "--corpora-dir", str(tmp_path), "--quiet"])
    assert [kw["workers"] for kw in got] == [3, 3] and [kw["scheduler"] for kw in got] == [None, None]


def test_workers_and_n_process_that_disagree_or_with_a_scheduler_are_refused(source, tmp_path):
    from topicvae.errors import ConfigError

    with pytest.raises(ConfigError, match="n_process is the older name"):
        ingest(str(source), "c", corpora_dir=tmp_path, workers=2, n_process=3)
    with pytest.raises(ConfigError, match="give one of them"):
        ingest(str(source), "c", corpora_dir=tmp_path, workers=2, scheduler="tcp://127.0.0.1:8786")
    assert not (tmp_path / "c").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_no_corpus(source, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nobody listens there
    code = main(["ingest", str(source), "--name", "c", "--scheduler", address, "--quiet",
                 "--corpora-dir", str(tmp_path / "corpora")])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"could not connect to the Dask scheduler at {address}" in err
    assert not (tmp_path / "corpora" / "c").exists()
    assert [p.name for p in (tmp_path / "corpora").iterdir()] == []  # no temporary folder left either


def test_a_server_that_is_not_a_dask_scheduler_and_an_address_without_a_port_are_one_line(source, tmp_path, capsys,
                                                                                           monkeypatch):
    """A listener that accepts and never answers kept the client's handshake waiting for ever; a port-less
    address waited for the timeout before saying it lacked a port."""
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        code = main(["ingest", str(source), "--name", "c", "--scheduler", address, "--quiet",
                     "--corpora-dir", str(tmp_path / "corpora")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "not as a Dask scheduler" in err
    code = main(["ingest", str(source), "--name", "c", "--scheduler", "localhost", "--quiet",
                 "--corpora-dir", str(tmp_path / "corpora")])
    assert code == 2 and capsys.readouterr().err.strip().startswith(
        "error: --scheduler 'localhost' is not a scheduler's address (missing port number")
    assert not (tmp_path / "corpora" / "c").exists()


# ------------------------------------------------------------------ a cluster of separate processes
@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes started as a user would (killed after)."""
    distributed = pytest.importorskip("distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = []

    def start(args, log):
        procs.append(subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=open(logs / log, "w"),
                                      stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
               "--dashboard-address", ":0"], "scheduler.log")
        for i in range(2):
            start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                   "--no-dashboard", "--name", f"w{i}"], f"worker{i}.log")
        deadline = time.monotonic() + 120
        client = None
        while client is None:
            try:
                client = distributed.Client(address, timeout=5, set_as_default=False)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        client.wait_for_workers(2, timeout=120)
        yield address, client, procs
        client.close()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)  # each started in its own session: its nanny and worker
            p.wait(timeout=30)


@pytest.mark.slow
def test_a_separately_started_scheduler_and_two_workers_write_the_identical_corpus(source, reference, dask_cluster,
                                                                                    tmp_path, capsys):
    address, client, _ = dask_cluster
    code = main(["ingest", str(source), "--name", "ref", "--id-col", "id", "--label-col", "label", "--split-col",
                 "split", "--min-df", "2", "--max-df", "0.9", "--min-tokens", "3", "--shard-docs", str(SHARD),
                 "--partition-docs", str(PARTITION), "--scheduler", address, "--quiet",
                 "--corpora-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "ref" / "manifest.json").read_text())
    assert manifest["scheduler"] == address
    assert_same_corpus(reference, tmp_path / "ref")


@pytest.mark.slow
def test_a_worker_that_dies_mid_ingest_is_replaced_and_the_corpus_is_whole(source, reference, dask_cluster,
                                                                          tmp_path):
    """One worker is made to kill itself (kill -9) on the first partition it tokenizes: Dask gives the
    partition to another worker (the nanny starts a fresh one), so the ingest finishes with the identical
    corpus."""
    address, client, _ = dask_cluster
    before = client.run(os.getpid)
    first = sorted(before)[0]

    def arm():  # a local function: sent by value, the workers cannot import this test module
        import os
        import signal

        import topicvae.text.tokenize as tokenize

        tokenize.tokenize_partition = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)

    client.run(arm, workers=[first])
    c = _ingest(source, tmp_path, "ref", scheduler=address, partition_docs=50)
    client.wait_for_workers(2, timeout=120)
    assert before[first] not in client.run(os.getpid).values()  # it did die, during the ingest
    assert_same_corpus(reference, c.path)


@pytest.mark.slow
def test_workers_that_keep_dying_end_the_ingest_in_one_line_and_no_corpus(source, dask_cluster, tmp_path, capsys):
    """Every worker, the restarted ones too, kills itself on any partition: past Dask's retries the
    ingest fails with one line, leaving neither a corpus nor a temporary folder."""
    from distributed.diagnostics.plugin import WorkerPlugin

    address, client, _ = dask_cluster

    class DieOnTask(WorkerPlugin):
        name = "topicvae-test-die-on-task"

        def setup(self, worker):
            import os
            import signal

            import topicvae.text.tokenize as tokenize

            tokenize.tokenize_partition = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)

    client.register_plugin(DieOnTask())
    try:
        code = main(["ingest", str(source), "--name", "c", "--scheduler", address, "--partition-docs", "200",
                     "--quiet", "--corpora-dir", str(tmp_path / "corpora")])
    finally:
        # the scheduler may drop this client's connection while its workers die over and over; the cluster is
        # this module's last use of it, so a clean-up that cannot reach the scheduler is not the test's failure
        with contextlib.suppress(OSError):  # (distributed's CommClosedError is an OSError)
            client.unregister_worker_plugin(DieOnTask.name)
            client.restart()
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "Dask workers died while tokenizing partition" in err
    assert [p.name for p in (tmp_path / "corpora").iterdir()] == []
