"""Sharded corpora (issue 31, parts 1 and 3): the bag-of-words in shard files listed in the manifest,
checked by verify, and VAE training that reads its minibatches from the shards one at a time with the
same result as the same documents in memory cut at the same rows."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
import torch

from topicvae import ingest, paths, runs
from topicvae.analysis.verify import DAMAGED, OK, verify
from topicvae.corpus import Corpus
from topicvae.corpus.rows import MemoryRows, ShardedRows
from topicvae.corpus.shards import SHARD_DOCS, bow_checksum
from topicvae.corpus.synthetic import make_synthetic_corpus
from topicvae.errors import CorpusError
from topicvae.models.vae import distributed
from topicvae.models.vae.batches import epoch_order, epoch_rows
from topicvae.models.vae.model import ProdLDA
from topicvae.models.vae.statistics import count_cooccurrence, count_documents, training_documents
from topicvae.models.vae.word_embeddings import ppmi_embeddings
from topicvae.runs import train_run, workspace

N_DOCS, SHARD = 230, 50
SHARD_FILES = [f"bow-{i:05d}.npz" for i in range(5)]
FAST = dict(hidden=[16], epochs=3, batch_size=40, threads=1, seed=0)


@pytest.fixture
def corpora(tmp_path):
    """'whole' (one bow.npz) and 'sharded' (the same documents in shards of 50) in one corpora folder."""
    folder = tmp_path / "corpora"
    whole = make_synthetic_corpus("whole", N_DOCS, n_topics=5, n_words=300, doc_len=40, corpora_dir=folder)
    Corpus(name="sharded", bow=whole.bow, vocab=whole.vocab, docs=whole.docs.copy(), manifest={}).save(
        folder, shard_docs=SHARD)
    return folder


def refuse_the_whole_matrix(monkeypatch):
    """Make ``Corpus.bow`` (the whole bag-of-words, stacked from the shards) fail the test when read."""
    from topicvae import corpus

    def refused(self):
        pytest.fail("the whole bag-of-words was asked for")

    monkeypatch.setattr(Corpus, "bow", property(refused, corpus._bow_set))


# ------------------------------------------------------------------ the format
def test_a_sharded_corpus_has_its_shard_files_listed_with_digests_and_row_groups_aligned(corpora):
    folder = corpora / "sharded"
    assert sorted(p.name for p in folder.glob("bow*.npz")) == SHARD_FILES  # no bow.npz beside them
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [r["file"] for r in manifest["shards"]] == SHARD_FILES
    assert [r["rows"] for r in manifest["shards"]] == [50, 50, 50, 50, 30]
    for r in manifest["shards"]:
        assert r["bytes"] == (folder / r["file"]).stat().st_size
        assert r["sha256"] == paths.sha256_file(folder / r["file"])
    assert "bow.npz" not in manifest["checksums"] and "bow.npz" not in manifest["sizes"]
    meta = pq.ParquetFile(folder / "docs.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [50, 50, 50, 50, 30]


def test_a_sharded_corpus_loads_shard_by_shard_and_whole_as_the_unsharded_one(corpora):
    whole, sharded = Corpus.load("whole", corpora), Corpus.load("sharded", corpora)
    assert (sharded.n_docs, sharded.n_words) == (N_DOCS, 300)
    assert [r["rows"] for r in sharded.shards] == [50, 50, 50, 50, 30]
    firsts = []
    for first, X in sharded.iter_shards():
        firsts.append(first)
        assert (X != whole.bow[first:first + X.shape[0]]).nnz == 0
    assert firsts == [0, 50, 100, 150, 200]
    assert (sharded.bow != whole.bow).nnz == 0 and sharded.bow.dtype == whole.bow.dtype
    pd.testing.assert_frame_equal(sharded.docs, whole.docs)
    assert sharded.verify_checksum() and sharded.checksum.startswith("shards:")


def test_a_corpus_of_one_shard_keeps_bow_npz_as_before(corpora, tmp_path):
    folder = corpora / "whole"
    assert sorted(p.name for p in folder.glob("bow*.npz")) == ["bow.npz"]
    manifest = json.loads((folder / "manifest.json").read_text())
    corpus = Corpus.load("whole", corpora)
    from topicvae.corpus.shards import write_shard

    again = write_shard(tmp_path, "bow.npz", corpus.bow)  # a shard's bytes depend on its rows alone
    assert manifest["checksums"]["bow.npz"] == again["sha256"] == corpus.checksum
    assert (sp.load_npz(folder / "bow.npz") != corpus.bow).nnz == 0  # scipy's own reader reads it
    assert manifest["shards"] == [{"file": "bow.npz", "rows": N_DOCS, "bytes": (folder / "bow.npz").stat().st_size,
                                   "sha256": manifest["checksums"]["bow.npz"]}]
    assert pq.ParquetFile(folder / "docs.parquet").metadata.num_row_groups == 1
    assert SHARD_DOCS >= 100_000


def test_a_corpus_written_before_shards_loads_as_one_shard(corpora):
    folder = corpora / "whole"
    manifest = json.loads((folder / "manifest.json").read_text())
    checksum = manifest["checksums"]["bow.npz"]
    del manifest["shards"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    old = Corpus.load("whole", corpora)
    assert old.shards == [{"file": "bow.npz", "rows": N_DOCS, "bytes": manifest["sizes"]["bow.npz"], "sha256": checksum}]
    assert old.checksum == checksum and [first for first, _ in old.iter_shards()] == [0]
    assert [f.status for f in verify(["whole"], corpora_dir=corpora, runs_dir=corpora.parent / "runs")] == [OK]


# ------------------------------------------------------------------ verify
def test_verify_passes_a_sharded_corpus_and_names_a_truncated_or_missing_shard(corpora):
    def findings():
        return verify(["sharded"], corpora_dir=corpora, runs_dir=corpora.parent / "runs")

    assert [f.status for f in findings()] == [OK]
    shard = corpora / "sharded" / SHARD_FILES[2]
    shard.write_bytes(shard.read_bytes()[:-40])
    [found] = findings()
    assert found.status == DAMAGED and SHARD_FILES[2] in found.detail and "bytes" in found.detail
    with pytest.raises(CorpusError, match=SHARD_FILES[2]):
        Corpus.load("sharded", corpora)
    (corpora / "sharded" / SHARD_FILES[4]).unlink()
    shard.unlink()
    [found] = findings()
    assert found.status == DAMAGED and found.detail == f"{SHARD_FILES[2]} is missing"


def test_a_shard_changed_in_place_is_found_by_its_digest(corpora):
    shard = corpora / "sharded" / SHARD_FILES[3]
    data = bytearray(shard.read_bytes())
    data[-30] ^= 0xFF  # same size, other bytes
    shard.write_bytes(bytes(data))
    [found] = verify(["sharded"], corpora_dir=corpora, runs_dir=corpora.parent / "runs")
    assert found.status == DAMAGED and found.detail == f"{SHARD_FILES[3]} does not match its checksum (changed or damaged)"
    assert not Corpus.load("sharded", corpora).verify_checksum()


def test_a_manifest_whose_shards_name_other_files_is_damaged(corpora):
    manifest_file = corpora / "sharded" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["shards"][1]["file"] = "../whole/bow.npz"
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(CorpusError, match="shards are not a list of shard files"):
        Corpus.load("sharded", corpora)
    [found] = verify(["sharded"], corpora_dir=corpora, runs_dir=corpora.parent / "runs")
    assert found.status == DAMAGED and "shards are not a list" in found.detail


def test_the_bow_checksum_of_a_sharded_corpus_follows_every_shard(corpora):
    manifest = json.loads((corpora / "sharded" / "manifest.json").read_text())
    before = bow_checksum(manifest)
    manifest["shards"][4]["sha256"] = "0" * 64
    assert bow_checksum(manifest) != before


# ------------------------------------------------------------------ the epoch order
def test_the_order_of_one_shard_is_torch_randperm_as_before():
    for n, seed in ((1, 0), (17, 3), (230, 5)):
        ours, before = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        for _ in range(3):  # epoch after epoch, the generator moves on as it did
            assert np.array_equal(epoch_order([n], ours), torch.randperm(n, generator=before).numpy())
        rows = np.arange(0, 3 * n, 3)
        assert np.array_equal(epoch_rows([3 * n], rows, ours), rows[torch.randperm(n, generator=before).numpy()])


def test_the_order_of_shards_visits_them_one_after_another_each_in_its_own_order():
    order = epoch_order([50, 50, 50, 50, 30], torch.Generator().manual_seed(0))
    assert sorted(order) == list(range(230))
    shard_of = np.searchsorted([50, 100, 150, 200], order, side="right")
    visits = shard_of[np.r_[0, np.flatnonzero(np.diff(shard_of)) + 1]]
    assert sorted(visits) == [0, 1, 2, 3, 4]  # each shard visited once, in a run of its rows
    assert list(visits) != [0, 1, 2, 3, 4]  # in a seeded order, not the rows'
    again = epoch_order([50, 50, 50, 50, 30], torch.Generator().manual_seed(0))
    assert np.array_equal(order, again)


def test_each_process_takes_its_share_of_an_epochs_rows(monkeypatch):
    rows = np.arange(0, 460, 2)
    order = epoch_rows([50] * 9 + [10], rows, torch.Generator().manual_seed(1))
    shares = []
    for rank in (0, 1, 2):
        monkeypatch.setattr(distributed, "world_size", lambda: 3)
        monkeypatch.setattr(distributed, "rank", lambda rank=rank: rank)
        shares.append(distributed.shard(order, len(order)))
    assert [len(s) for s in shares] == [76, 76, 76]
    assert sorted(np.concatenate(shares)) == sorted(order[:228])  # together the epoch, each row once


def test_rows_read_from_shards_are_the_rows_of_the_matrix():
    X = sp.random(230, 40, density=0.2, format="csr", random_state=0, dtype=np.float64)
    X.data = np.ceil(X.data * 5)
    loads = []

    def load(k):
        loads.append(k)
        return X[50 * k:50 * k + 50]

    select = np.sort(np.random.default_rng(0).choice(230, 150, replace=False))
    source = ShardedRows([50, 50, 50, 50, 30], 40, load, select=select)
    assert source.shape == (150, 40) and sum(source.shard_rows) == 150
    order = epoch_rows(source.shard_rows, None, torch.Generator().manual_seed(2))
    assert (source.take(order) != X[select][order]).nnz == 0
    assert len(loads) == 5  # one shard at a time, each once
    assert (MemoryRows(X[select]).take(order) != X[select][order]).nnz == 0
    with pytest.raises(ValueError, match="shard_rows"):
        MemoryRows(X, [100, 100])
    # validation rows taken out of the pass that counts the training rows: the same matrix, each shard read once
    val = np.sort(np.random.default_rng(1).choice(150, 15, replace=False))
    train = np.setdiff1d(np.arange(150), val)
    for rows_source in (ShardedRows([50, 50, 50, 50, 30], 40, load, select=select), MemoryRows(X[select])):
        loads.clear()
        docs = training_documents(rows_source, train, val)
        assert len(loads) == (5 if isinstance(rows_source, ShardedRows) else 0)
        expected = rows_source.take(val)
        assert docs.validation.shape == expected.shape and (docs.validation != expected).nnz == 0
        assert np.array_equal(docs.validation.indptr, expected.indptr)
        alone = training_documents(rows_source, train).counts
        for field in ("n_docs", "n_tokens", "doc_freq", "word_count"):
            np.testing.assert_array_equal(getattr(docs.counts, field), getattr(alone, field))


# ------------------------------------------------------------------ training
def test_training_from_shards_equals_training_in_memory_with_the_same_shard_boundaries(corpora, tmp_path):
    sharded = Corpus.load("sharded", corpora)
    run = train_run(sharded, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    train = sharded.split_rows("train")
    X = Corpus.load("whole", corpora).bow
    sizes = np.diff(np.searchsorted(train, [0, 50, 100, 150, 200, 230])).tolist()
    memory = ProdLDA(5, **FAST).fit(X[train], shard_rows=sizes)
    np.testing.assert_array_equal(run.topic_word, memory.topic_word_)
    np.testing.assert_array_equal(run.doc_topic, memory.transform(X))
    mu, sigma = memory.posterior(X)
    np.testing.assert_array_equal(run.array("z_mean.npy"), mu)
    np.testing.assert_array_equal(run.array("z_std.npy"), sigma)
    assert run.config["corpus_checksum"] == sharded.checksum
    # the shard boundaries are what made them equal: one shard is another order, another model
    assert not np.array_equal(ProdLDA(5, **FAST).fit(X[train]).topic_word_, run.topic_word)


def test_a_corpus_of_one_shard_trains_as_a_plain_matrix(corpora, tmp_path):
    whole = Corpus.load("whole", corpora)
    run = train_run(whole, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    plain = ProdLDA(5, **FAST).fit(whole.bow[whole.split_rows("train")])
    np.testing.assert_array_equal(run.topic_word, plain.topic_word_)
    np.testing.assert_array_equal(run.doc_topic, plain.transform(whole.bow))


def test_training_reads_each_shard_once_per_pass(corpora, monkeypatch, tmp_path):
    sharded = Corpus.load("sharded", corpora)
    reads = []
    real = Corpus.read_shard
    monkeypatch.setattr(Corpus, "read_shard", lambda self, k: reads.append(k) or real(self, k))
    train_run(sharded, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    # the first shard to see that the corpus has words; then every shard once for the counts that set
    # up the network and the validation slice, once for their co-occurrence, once per epoch (the
    # shard held last by one pass may serve the next) and once for θ
    assert 5 * (2 + FAST["epochs"]) < len(reads) <= 1 + 5 * (3 + FAST["epochs"])
    assert sorted(set(reads)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("model", ["prodlda", "nvdm"])
def test_training_on_a_sharded_corpus_never_builds_the_whole_matrix(corpora, monkeypatch, tmp_path, model):
    """Everything training needs (the counts that set up the network, the minibatches, θ) is read shard
    by shard: with ``Corpus.bow`` refused, the run is bitwise the one trained on the matrix in memory
    cut at the same rows."""
    X = Corpus.load("whole", corpora).bow
    sharded = Corpus.load("sharded", corpora)

    refuse_the_whole_matrix(monkeypatch)
    settings = {**FAST, "epochs": None} if model == "prodlda" else FAST  # automatic epochs: from the counts
    run = train_run(sharded, model, 5, runs_dir=tmp_path / "runs", progress=False, **settings)
    train = sharded.split_rows("train")
    sizes = np.diff(np.searchsorted(train, [0, 50, 100, 150, 200, 230])).tolist()
    memory = runs.model_class(model)(5, **settings).fit(X[train], shard_rows=sizes)
    assert len(run.history) == len(memory.history_)
    np.testing.assert_array_equal(run.topic_word, memory.topic_word_)
    np.testing.assert_array_equal(run.doc_topic, memory.transform(X))


def test_a_sharded_corpus_reads_its_document_table_only_when_used(corpora, monkeypatch, tmp_path):
    """Loading and training a sharded corpus read docs.parquet's split column, never its texts; the
    whole table is read on first use and equals the one saved."""
    whole = Corpus.load("whole", corpora)
    real = pd.read_parquet

    def columns_only(path, *args, columns=None, **kwargs):
        if str(path).endswith("docs.parquet") and columns is None:
            pytest.fail("the whole document table was read")
        return real(path, *args, columns=columns, **kwargs)

    monkeypatch.setattr(pd, "read_parquet", columns_only)
    sharded = Corpus.load("sharded", corpora)
    assert sharded.n_docs == N_DOCS
    np.testing.assert_array_equal(sharded.split_rows("train"), whole.split_rows("train"))
    assert train_run(sharded, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST) is not None
    monkeypatch.setattr(pd, "read_parquet", real)
    pd.testing.assert_frame_equal(sharded.docs, whole.docs)


@pytest.mark.parametrize("seeded", [False, True])
def test_lda_streams_a_sharded_corpus_shard_by_shard_to_the_model_trained_in_memory(corpora, monkeypatch, tmp_path,
                                                                                   seeded):
    from topicvae.models.lda import LDA

    X = Corpus.load("whole", corpora).bow
    sharded = Corpus.load("sharded", corpora)
    reads = []
    real = Corpus.read_shard
    monkeypatch.setattr(Corpus, "read_shard", lambda self, k: reads.append(k) or real(self, k))
    refuse_the_whole_matrix(monkeypatch)
    settings = dict(passes=2, chunksize=40, iterations=20, history_docs=30, seed=0,
                    seed_topics=[[0, 1, 2]] if seeded else None)
    run = train_run(sharded, "lda", 5, runs_dir=tmp_path / "runs", progress=False, **settings)
    memory = LDA(5, **settings).fit(X[sharded.split_rows("train")], progress=False)
    np.testing.assert_array_equal(run.topic_word, memory.topic_word_)
    np.testing.assert_array_equal(run.doc_topic, memory.transform(X).astype(np.float32))
    np.testing.assert_allclose(run.history["bound"], [h["bound"] for h in memory.history_], rtol=1e-12)
    assert sorted(set(reads)) == [0, 1, 2, 3, 4]


def test_the_counts_that_set_up_a_network_are_the_same_shard_by_shard_as_from_the_whole_matrix(corpora):
    X = Corpus.load("whole", corpora).bow
    sharded = Corpus.load("sharded", corpora)
    source = ShardedRows([r["rows"] for r in sharded.shards], sharded.n_words, sharded.read_shard)
    rows = np.sort(np.random.default_rng(0).choice(N_DOCS, 170, replace=False))
    for r in (None, rows):
        whole, shards = count_documents([(X, r)], 300), count_documents(source.blocks(r), 300)
        for field in ("n_docs", "n_tokens", "doc_freq", "word_count"):
            np.testing.assert_array_equal(getattr(shards, field), getattr(whole, field))
    words = np.flatnonzero(count_documents([(X, rows)], 300).doc_freq >= 20)
    for limit in (10_000, 5):  # dense and sparse counts
        whole, shards = (count_cooccurrence(blocks, 300, words, limit) for blocks in ([(X, rows)], source.blocks(rows)))
        assert whole.n_docs == shards.n_docs == 170
        np.testing.assert_array_equal(shards.doc_freq, whole.doc_freq)
        np.testing.assert_array_equal(sp.csr_matrix(shards.counts).toarray(), sp.csr_matrix(whole.counts).toarray())
    np.testing.assert_array_equal(ppmi_embeddings(source, 8, rows=rows, words=words, max_docs=120),
                                  ppmi_embeddings(X, 8, rows=rows, words=words, max_docs=120))
    assert len(list(source.blocks(np.arange(0, 40)))) == 1  # a shard without any of the rows is not read


def test_export_of_a_sharded_run_writes_in_chunks_the_bytes_of_one_table(corpora, monkeypatch, tmp_path):
    """export reads θ memory-mapped and the document table in record batches, a chunk at a time: chunks
    that cross the shards give the CSV bytes of one table of all documents, without Corpus.bow."""
    from topicvae.analysis.export import export_documents, export_run
    from topicvae.runs.inference import document_frame
    from topicvae.runs.labels import topic_labels

    sharded = Corpus.load("sharded", corpora)
    run = train_run(sharded, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    refuse_the_whole_matrix(monkeypatch)
    assert export_run(run, tmp_path / "all.csv", corpora_dir=corpora, with_uncertainty=True) == N_DOCS
    labels = topic_labels(run)
    theta, mu, sigma = (run.array(f, mmap_mode="r") for f in ("doc_topic.npy", "z_mean.npy", "z_std.npy"))
    docs = sharded.docs.drop(columns="text")
    one_table = document_frame(docs, np.asarray(theta), labels, np.asarray(mu), np.asarray(sigma))
    assert (tmp_path / "all.csv").read_text() == one_table.to_csv(index=False)
    for chunk in (37, 50, 1000):
        export_documents(sharded.path / "docs.parquet", theta, tmp_path / f"c{chunk}.csv", labels, mu, sigma,
                         chunk_size=chunk)
        assert (tmp_path / f"c{chunk}.csv").read_bytes() == (tmp_path / "all.csv").read_bytes()
    export_documents(sharded.path / "docs.parquet", theta, tmp_path / "c.parquet", labels, chunk_size=37)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "c.parquet"),
                                  document_frame(docs, np.asarray(theta), labels))


def test_an_interrupted_training_from_shards_resumes_to_the_uninterrupted_run(corpora, monkeypatch, tmp_path):
    from topicvae.models.vae import TrainingInterrupted, training_loop
    from test_runs import interrupt_in_epoch

    sharded = Corpus.load("sharded", corpora)
    real = interrupt_in_epoch(monkeypatch, 3)
    settings = {**FAST, "epochs": 4}
    with pytest.raises(TrainingInterrupted):
        train_run(sharded, "prodlda", 5, name="r", runs_dir=tmp_path / "runs", progress=False, **settings)
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    resumed = train_run(sharded, "prodlda", 5, name="r", runs_dir=tmp_path / "runs", progress=False, resume=True,
                        **settings)
    straight = train_run(sharded, "prodlda", 5, name="s", runs_dir=tmp_path / "runs", progress=False, **settings)
    assert resumed.config["resumed"]
    np.testing.assert_array_equal(resumed.topic_word, straight.topic_word)
    np.testing.assert_array_equal(resumed.doc_topic, straight.doc_topic)


def test_ingest_writes_shards_of_the_size_asked_for(tmp_path):
    texts = [f"apple pear fruit orchard number{i % 7} harvest" if i % 2 else f"engine wheel road driver gear{i % 5}"
             for i in range(120)]
    source = tmp_path / "docs.csv"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    sharded = ingest(str(source), "s", corpora_dir=tmp_path / "c", shard_docs=50)
    ingest(str(source), "w", corpora_dir=tmp_path / "c")
    assert [r["rows"] for r in sharded.shards] == [50, 50, 20]
    assert [r["file"] for r in Corpus.load("s", tmp_path / "c").shards] == SHARD_FILES[:3]
    assert (Corpus.load("s", tmp_path / "c").bow != Corpus.load("w", tmp_path / "c").bow).nnz == 0
    status = workspace._changed_shard(tmp_path / "c" / "s", json.loads((tmp_path / "c" / "s" / "manifest.json").read_text()))
    assert status is None


def test_two_processes_on_a_sharded_corpus_read_their_own_shards_and_match_one(tmp_path):
    """Under torchrun each process trains on its own shards (shard k to process k mod 2) and reads no
    other while training; two processes with batches of B end where one with batches of 2B does
    (tolerance as in test_distributed.py)."""
    import os
    import socket
    import subprocess
    import sys

    pytest.importorskip("torch.distributed")
    synth = make_synthetic_corpus("synth", 1500, n_topics=5, n_words=300, doc_len=80, corpora_dir=tmp_path / "c")
    Corpus(name="sharded", bow=synth.bow, vocab=synth.vocab, docs=synth.docs.copy(), manifest={}).save(
        tmp_path / "c", shard_docs=400)
    env = {**os.environ, "TOPICVAE_CORPORA_DIR": str(tmp_path / "c"), "TOPICVAE_RUNS_DIR": str(tmp_path / "runs"),
           "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    # (with validation documents: each process validates on its own shards' share, the losses summed)
    common = ["sharded", "--topics", "5", "--epochs", "4", "--val-fraction", "0.1", "--patience", "0", "--threads",
              "1", "--quiet", "--seed", "0", "--embedding-dim", "0", "--diversity", "0", "--beta-decay", "0"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
                          "--master_addr=127.0.0.1", "-m", "topicvae.train", *common, "--batch-size", "100",
                          "--name", "ddp", "--verbose"], env=env, capture_output=True, text=True, timeout=300)
    assert ddp.returncode == 0, ddp.stderr[-2000:]
    # (the training split of 1,500 documents in shards of 400: 4 shards)
    assert "process 0 of 2 trained on" in ddp.stderr and "of shards [0, 2], read shards [0, 2];" in ddp.stderr, ddp.stderr[-3000:]
    assert "process 1 of 2 trained on" in ddp.stderr and "of shards [1, 3], read shards [1, 3];" in ddp.stderr, ddp.stderr[-3000:]
    single = subprocess.run([sys.executable, "-m", "topicvae.train", *common, "--batch-size", "200", "--name", "one"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-2000:]
    for column in ("train_loss", "val_loss"):
        a = pd.read_csv(tmp_path / "runs" / "ddp" / "history.csv")[column].to_numpy()
        b = pd.read_csv(tmp_path / "runs" / "one" / "history.csv")[column].to_numpy()
        assert len(a) == len(b) == 4 and np.all(np.abs(a - b) / b < 0.01), (column, a, b)


def test_the_ingest_command_takes_the_shard_size(tmp_path, capsys):
    from topicvae.interfaces.cli import main

    source = tmp_path / "docs.csv"
    texts = [f"apple pear fruit orchard harvest{i % 3}" if i % 2 else f"engine wheel road driver gear{i % 3}"
             for i in range(30)]
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    assert main(["ingest", str(source), "--name", "c", "--shard-docs", "12", "--quiet",
                 "--corpora-dir", str(tmp_path / "corpora")]) == 0
    assert "in 3 shards" in capsys.readouterr().out
    assert [r["rows"] for r in Corpus.load("c", tmp_path / "corpora").shards] == [12, 12, 6]



def test_lda_trains_on_a_sharded_corpus_without_importing_torch(corpora, tmp_path):
    code = ("import sys; from topicvae.corpus import Corpus; from topicvae.runs import train_run; "
            f"train_run(Corpus.load('sharded', {str(corpora)!r}), 'lda', 3, runs_dir={str(tmp_path / 'runs')!r}, "
            "progress=False, passes=1, iterations=5, history_docs=0); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_shard_writer_threads_write_the_files_of_write_shards(tmp_path, monkeypatch, threads):
    """Shards stacked, sorted and compressed in the writer's threads are the bytes write_shards writes for
    the stacked rows."""
    import scipy.sparse as sp

    from topicvae.corpus import shards
    monkeypatch.setattr(shards, "WRITE_THREADS", threads)
    X = sp.random(23, 7, density=0.4, format="csr", random_state=1, dtype=np.float64)
    X.data = np.ceil(X.data * 5)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cut = []
    writer = shards.ShardWriter(tmp_path / "a", 7, 5, on_shard=lambda i, rows: cut.append((i, rows)))
    for start in range(0, 23, 4):
        piece = X[start:start + 4]
        # each row's columns reversed: the writer sorts them (an ingest hands them on unsorted)
        rows = list(zip(piece.indptr, piece.indptr[1:]))
        data = np.concatenate([piece.data[a:b][::-1] for a, b in rows])
        indices = np.concatenate([piece.indices[a:b][::-1] for a, b in rows])
        writer.add(sp.csr_matrix((data, indices, piece.indptr), shape=piece.shape))
    records = writer.close()
    expected = shards.write_shards(tmp_path / "b", sp.csr_matrix(X, dtype=np.int32), 5)
    assert [r["sha256"] for r in records] == [r["sha256"] for r in expected] and len(records) == 5
    assert cut == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 3)]


def test_shard_writer_fails_when_a_shard_cannot_be_written(tmp_path):
    import scipy.sparse as sp

    from topicvae.corpus.shards import ShardWriter

    writer = ShardWriter(tmp_path / "missing", 3, 2)
    writer.add(sp.csr_matrix(np.ones((3, 3), dtype=np.int32)))
    with pytest.raises(OSError):
        writer.close()


# ------------------------------------------------------------------ after training: evaluate, corpus-info
def in_memory_rows(monkeypatch):
    """Make ``Corpus.rows`` hand out rows of the whole matrix (``Corpus.bow``, stacked from the shards), as
    evaluation read them before it streamed: the in-memory result to compare the streamed one with."""
    from topicvae.corpus.rows import MemoryRows

    monkeypatch.setattr(Corpus, "rows", lambda self, select=None: MemoryRows(
        self.bow if select is None else self.bow[select]))


@pytest.mark.parametrize("model", ["prodlda", "lda"])
def test_evaluate_of_a_sharded_run_counts_shard_by_shard_the_metrics_of_the_whole_matrix(corpora, monkeypatch,
                                                                                        tmp_path, model):
    """evaluate reads the test, training and reference documents a shard at a time (NPMI's co-occurrence,
    the lead words' co-occurrence, the perplexity bound, the speed sample) and the label column alone: the
    metrics are those of the whole matrix in memory, and Corpus.bow is never asked for."""
    from topicvae.analysis.run_metrics import evaluate_run

    sharded = Corpus.load("sharded", corpora)
    params = FAST if model == "prodlda" else dict(passes=2, workers=1, seed=0)
    run = train_run(sharded, model, 5, runs_dir=tmp_path / "runs", progress=False, **params)

    def metrics(reference="test"):
        out = evaluate_run(run, reference=reference, corpora_dir=corpora, with_c_v=False, save=False)
        return {k: v for k, v in out.items() if k not in ("evaluated", "infer_docs_per_s")}

    with monkeypatch.context() as m:
        in_memory_rows(m)
        whole = {ref: metrics(ref) for ref in ("test", "train", "sharded")}
    refuse_the_whole_matrix(monkeypatch)
    reads = []
    real = Corpus.read_shard
    monkeypatch.setattr(Corpus, "read_shard", lambda self, k: reads.append(k) or real(self, k))
    for ref in ("test", "train", "sharded"):  # (a corpus named as the reference: counted over the run's words)
        streamed = metrics(ref)
        assert streamed == whole[ref]  # (the perplexity too: each document's bound, in the same batches)
    assert whole["test"]["npmi_per_topic"] and "npmi_train" in whole["test"] and "label_accuracy" in whole["test"]
    assert set(reads) == set(range(len(SHARD_FILES)))


def test_corpus_info_of_a_sharded_corpus_is_the_report_of_the_whole_one_without_its_matrix(corpora, monkeypatch):
    """corpus-info adds up the tokens, word counts and document lengths a shard at a time and reads the
    split and label columns alone: the report of the same documents in one bow.npz, but for the name."""
    from topicvae.corpus.report import corpus_report

    whole = corpus_report(Corpus.load("whole", corpora))
    refuse_the_whole_matrix(monkeypatch)
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, columns=None, **k: real(path, *a, columns=columns, **k)
                        if columns else pytest.fail("the whole document table was read"))
    sharded = corpus_report(Corpus.load("sharded", corpora))
    assert sharded.splitlines()[2:] == whole.splitlines()[2:]
    assert "top 30 words" in sharded and "document length" in sharded


def test_label_metrics_read_the_theta_of_a_seeded_sample_above_the_cap_and_every_document_below(corpora, monkeypatch,
                                                                                                 tmp_path):
    """Below SAMPLE_DOCS a side the label metrics are those of θ of every document; above it, those of a
    seeded sample of that many training and test documents, which metrics.json says."""
    from topicvae.analysis import documents, run_metrics
    from topicvae.scoring import metrics as evaluation

    corpus = Corpus.load("sharded", corpora)
    run = train_run(corpus, "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    labels = corpus.column("label").astype(object).tolist()
    train, test = corpus.split_rows("train"), corpus.split_rows("test")
    whole = evaluation.label_metrics(run.doc_topic, labels, train, test)
    out = run_metrics._label_metrics(run, corpus)
    assert out["label_accuracy"] == round(whole["accuracy"], 4) and out["label_nmi"] == round(whole["nmi"], 4)
    assert "label_sample" not in out

    monkeypatch.setattr(documents, "SAMPLE_DOCS", 12)
    assert len(train) > 12 and len(test) > 12
    picked = [np.sort(np.random.default_rng(0).choice(rows, 12, replace=False)) for rows in (train, test)]
    rows = np.concatenate(picked)
    sample = evaluation.label_metrics(np.asarray(run.doc_topic)[rows], [labels[i] for i in rows],
                                      np.arange(12), 12 + np.arange(12))
    out = run_metrics._label_metrics(run, corpus)
    assert out["label_accuracy"] == round(sample["accuracy"], 4) and out["label_nmi"] == round(sample["nmi"], 4)
    assert "24 documents" in out["label_sample"]


def test_a_part_of_a_sharded_source_reads_its_shards_only_and_holds_their_selected_rows():
    """ShardedRows.part (a data-parallel process's share): the rows of the chosen shards among the selected
    ones, in order, read from those shards alone; distributed._positions_in finds rows among them."""
    import scipy.sparse as sp

    from topicvae.corpus.rows import ShardedRows
    from topicvae.models.vae.distributed import _positions_in

    X = sp.random(23, 6, density=0.5, format="csr", random_state=0)
    sizes = [5, 7, 4, 7]
    starts = np.cumsum([0] + sizes)
    load = lambda k: X[starts[k]:starts[k + 1]]  # noqa: E731
    select = np.array([0, 2, 3, 6, 7, 11, 12, 13, 15, 18, 20, 22])
    source = ShardedRows(sizes, 6, load, select=select)
    part, positions = source.part([1, 3])
    mine = [i for i, r in enumerate(select) if starts[1] <= r < starts[2] or starts[3] <= r < starts[4]]
    assert positions.tolist() == mine
    assert part.shape == (len(mine), 6) and part.numbers == [1, 3]
    assert (part.take(np.arange(len(mine))) != X[select[mine]]).nnz == 0
    assert part.shards_read == {1, 3}
    assert _positions_in(positions, np.array([0, 3, 4, 9, 11])).tolist() == [i for i, p in enumerate(positions)
                                                                           if p in (0, 3, 4, 9, 11)]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads this process's resident memory from /proc")
def test_checking_and_exporting_a_large_theta_file_keeps_resident_memory_flat(tmp_path):
    """value_problem and export read a memory-mapped θ a block at a time and let each block's pages go
    (runs.forget_pages): reading 200 MB of θ leaves the process's resident memory within 50 MB of before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from topicvae.analysis.export import export_documents
    from topicvae.runs import value_problem

    def rss_mb() -> float:
        line = next(l for l in open("/proc/self/status") if l.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024

    n, k = 1_000_000, 50
    theta = np.full((n, k), 1.0 / k, dtype=np.float32)
    np.save(tmp_path / "doc_topic.npy", theta)
    del theta
    mapped = np.load(tmp_path / "doc_topic.npy", mmap_mode="r")
    before = rss_mb()
    assert value_problem("doc_topic.npy", mapped) is None
    assert rss_mb() - before < 50
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(n)]}), tmp_path / "docs.parquet")
    before = rss_mb()
    assert export_documents(tmp_path / "docs.parquet", mapped, tmp_path / "out.parquet",
                            [f"t{j}" for j in range(k)], chunk_size=100_000) == n
    assert rss_mb() - before < 50 + 60  # (the chunk in flight: its table and frame)


def test_reduce_of_a_sharded_run_reads_its_sample_from_the_shards_and_equals_the_in_memory_reduce(
        corpora, monkeypatch, tmp_path):
    """merge/reduce fit the merged network on a sample of the training documents read from the shards
    (Corpus.bow never asked for), with the result of the same sample taken from the matrix in memory."""
    from topicvae.runs.merging import reduce_topics

    run = train_run(Corpus.load("sharded", corpora), "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    with monkeypatch.context() as m:
        in_memory_rows(m)
        whole = reduce_topics(run, 3, name="whole", corpora_dir=corpora, epochs=1)
    refuse_the_whole_matrix(monkeypatch)
    streamed = reduce_topics(run, 3, name="streamed", corpora_dir=corpora, epochs=1)
    assert np.array_equal(streamed.topic_word, whole.topic_word)
    assert np.array_equal(np.asarray(streamed.doc_topic), np.asarray(whole.doc_topic))


def test_c_v_of_a_sharded_corpus_reads_the_texts_of_its_reference_documents_only(tmp_path, monkeypatch):
    """evaluate's C_v tokenizes the reference texts read from the row groups that hold them (the document
    table is never read whole), and scores what it scores from the whole table in memory."""
    from topicvae.analysis.run_metrics import evaluate_run

    folder = tmp_path / "corpora"
    ingest("builtin:sample", "sharded", corpora_dir=folder, shard_docs=400)
    assert len(Corpus.load("sharded", folder).shards) > 1
    run = train_run(Corpus.load("sharded", folder), "prodlda", 5, runs_dir=tmp_path / "runs", progress=False, **FAST)
    with monkeypatch.context() as m:  # the texts taken from the whole table, read into memory
        m.setattr(Corpus, "column", lambda self, name, rows=None: self.docs[name].iloc[
            slice(None) if rows is None else rows].reset_index(drop=True))
        whole = evaluate_run(run, corpora_dir=folder, save=False)["c_v"]
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, columns=None, **k: real(
        path, *a, columns=columns, **k) if columns else pytest.fail("the whole document table was read"))
    assert whole is not None and evaluate_run(run, corpora_dir=folder, save=False)["c_v"] == whole
