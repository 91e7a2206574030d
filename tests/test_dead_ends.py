"""Dead ends and leftovers (issue 33): every failure gets out without ``--force`` and leaves nothing behind.

- a truncated checkpoint: ``--resume`` says to start over, the plain command does, ``verify`` says so;
- a temporary folder whose pid now names another process is debris, not "busy" forever;
- a full disk (ENOSPC) in merge, reduce, update and train releases the lock and removes what it began;
- a sweep with a bad setting refuses before it makes its output folder or trains its first run.

Commands go through the real CLI entry (``topicvae.interfaces.cli.main``) on a copy of test_bad_input's workspace.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from topicvae.analysis.verify import BUSY, DAMAGED, DEBRIS, verify
from topicvae.models.vae import training_loop
from topicvae.runs import Run
from topicvae.runs.labels import save_labels, saved_labels

from cli_support import one_error_line
from snapshots import snapshot
from test_bad_input import CORPUS, RUN, WORDS_RUN, argv_for, run_cli, template  # noqa: F401 (fixture)
from test_runs import interrupt_in_epoch

TRAIN = f"train {CORPUS} --topics 3 --hidden 16 --epochs 3 --batch-size 40 --threads 1 --seed 1"


def dirs(ws: Path) -> list[str]:
    return ["--corpora-dir", str(ws / "corpora"), "--runs-dir", str(ws / "runs")]


def hidden(ws: Path) -> list[str]:
    """The hidden names (locks, temporary folders, checkpoints) in the corpora and runs folders."""
    return sorted(str(p.relative_to(ws)) for folder in ("corpora", "runs") for p in (ws / folder).rglob(".*"))


# ---------------------------------------------------------------------------- a truncated checkpoint
@pytest.fixture
def truncated(ws, monkeypatch, capsys) -> Path:
    """``ws`` after run 'half' was interrupted in its 2nd epoch and its checkpoint.pt cut to half its size."""
    real = interrupt_in_epoch(monkeypatch, 2)
    code, _, _ = run_cli(argv_for(f"{TRAIN} --name half", ws), capsys)
    assert code == 130
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    ckpt = ws / "runs" / ".half.checkpoint" / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    return ws


def test_resume_of_a_truncated_checkpoint_says_in_one_line_to_start_over_and_changes_nothing(truncated, capsys):
    before = snapshot(truncated)
    code, _, err = run_cli(argv_for(f"{TRAIN} --name half --resume", truncated), capsys)
    assert one_error_line(code, err), err
    assert "cannot be resumed" in err and "without --resume to start over" in err, err
    assert snapshot(truncated) == before


def test_the_plain_command_starts_over_from_a_truncated_checkpoint(truncated, capsys, caplog):
    code, _, err = run_cli(argv_for(f"{TRAIN} --name half", truncated), capsys)
    assert code == 0, err
    assert "cannot be resumed" in caplog.text and "starting over" in caplog.text  # the warning the CLI shows
    assert hidden(truncated) == []
    code, _, err = run_cli(argv_for(f"{TRAIN} --name straight", truncated), capsys)
    assert code == 0, err
    half, straight = Run.load("half", truncated / "runs"), Run.load("straight", truncated / "runs")
    assert not half.config["resumed"]
    np.testing.assert_array_equal(half.doc_topic, straight.doc_topic)  # a fresh start, nothing of the damage


def test_verify_says_a_truncated_checkpoint_cannot_be_continued_and_clean_removes_it(truncated, capsys):
    (finding,) = [f for f in verify(["half"], truncated / "corpora", truncated / "runs") if f.what == "checkpoint"]
    assert finding.status == DAMAGED and "cannot be read" in finding.detail
    assert "without --resume" in finding.detail and "--force" not in finding.detail
    code, out, _ = run_cli(["verify", "half", "--clean", *dirs(truncated)], capsys)
    assert code == 0 and "(removed)" in out, out
    assert hidden(truncated) == []
    code, _, err = run_cli(argv_for(f"{TRAIN} --name half", truncated), capsys)
    assert code == 0, err


# ---------------------------------------------------------------------------- a pid reused by another process
def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (None where there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 1:].split()[19])


@pytest.fixture
def other_process():
    """A live process that is not topicvae (``sleep``): its pid and start time."""
    proc = subprocess.Popen(["sleep", "600"])
    try:
        start = start_time(proc.pid)
        if start is None:
            pytest.skip("no /proc here: process start times cannot be read")
        yield proc.pid, start
    finally:
        proc.kill()
        proc.wait()


def test_a_temporary_folder_whose_pid_now_names_another_process_is_debris(ws, other_process, capsys):
    pid, start = other_process
    runs = ws / "runs"
    reused = runs / f".gone.tmp-{pid}.{start + 1}-deadbeef"  # its writer started at another time: dead
    live = runs / f".busy.tmp-{pid}.{start}-0badcafe"  # the same process instance: alive
    legacy = runs / f".legacy.tmp-{pid}-0123abcd"  # no start time recorded: as before, the pid decides
    for folder in (reused, live, legacy):
        folder.mkdir()
        (folder / "model.pt").write_bytes(b"half a model")
    status = {f.name: f.status for f in verify(None, ws / "corpora", runs) if f.what == "temporary"}
    assert status == {"gone": DEBRIS, "busy": BUSY, "legacy": BUSY}
    code, _, err = run_cli(argv_for(f"{TRAIN} --name fresh", ws), capsys)  # the next writer sweeps it
    assert code == 0, err
    assert not reused.exists() and live.is_dir() and legacy.is_dir()


def test_a_temporary_name_records_its_writers_start_time(ws):
    from topicvae import paths

    if start_time(os.getpid()) is None:
        pytest.skip("no /proc here: the name records the pid alone")
    with paths.atomic_dir(ws / "runs" / "x") as tmp:
        assert f".tmp-{os.getpid()}.{start_time(os.getpid())}-" in tmp.name
        (debris,) = paths.find_debris(ws / "runs")
        assert debris.owner_alive
    assert (ws / "runs" / "x").is_dir()


# ---------------------------------------------------------------------------- a full disk
def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def disk_full_for(*names: str):
    """Path.write_text that refuses the files whose name contains one of ``names`` (their temporary siblings)."""
    real = Path.write_text

    def write_text(self, *args, **kwargs):
        if any(n in self.name for n in names):
            disk_full()
        return real(self, *args, **kwargs)
    return write_text


#: where the disk fills up: (object, attribute, replacement)
WRITERS = {
    "the lock's pid": (os, "write", disk_full),
    "the run's arrays": (np, "save", disk_full),
    "the rename into place": (os, "rename", disk_full),
    "the last step (labels, drift report)": (Path, "write_text", disk_full_for("labels.json", "drift.json")),
}
DERIVED = {
    "merge": f"merge {RUN} 0,1 --name m --epochs 1 --threads 1 --quiet",
    "reduce": f"reduce {RUN} --topics 2 --name m --epochs 1 --threads 1 --quiet",
    "update": f"update {WORDS_RUN} {{ws}}/in/words.csv --name m --epochs 1 --threads 1 --quiet",
}


#: every pair but the one that left nothing already before these fixes (update removed its corpus and
#: checkpoint itself). A full disk at model.pt is left out too: there the checkpoint write failed first.
FULL_DISK_CASES = [(c, w) for c in DERIVED for w in WRITERS if (c, w) != ("update", "the run's arrays")]


@pytest.mark.parametrize("command,writer", FULL_DISK_CASES, ids=[f"{c}-{w}" for c, w in FULL_DISK_CASES])
def test_a_full_disk_in_a_derived_run_releases_its_lock_and_leaves_nothing(command, writer, ws, monkeypatch,
                                                                           capsys):
    save_labels(ws / "runs" / RUN, {0: "zero", 1: "one"})  # merge and reduce carry them: their last step
    save_labels(ws / "runs" / WORDS_RUN, {0: "zero"})
    argv = argv_for(DERIVED[command], ws)
    before = snapshot(ws)
    obj, attr, refuse = WRITERS[writer]
    real = getattr(obj, attr)
    monkeypatch.setattr(obj, attr, refuse)
    code, _, err = run_cli(argv, capsys)
    monkeypatch.setattr(obj, attr, real)
    assert hidden(ws) == [], f"{command}, full disk at {writer}: left {hidden(ws)}"
    if writer == "the lock's pid":  # the lock is the flock, the pid only a courtesy: the command goes on
        assert code == 0, err
        return
    assert one_error_line(code, err), err
    assert snapshot(ws) == before, f"{command}, full disk at {writer}: the workspace changed"
    code, _, err = run_cli(argv, capsys)  # "after freeing space": the same command, no --force
    assert code == 0, err
    assert hidden(ws) == []


@pytest.mark.parametrize("writer", ["the lock's pid", "the rename into place"])
def test_a_full_disk_in_train_leaves_no_lock_and_no_temporary_folder(writer, ws, monkeypatch, capsys):
    argv = argv_for(f"{TRAIN} --name n", ws)
    obj, attr, refuse = WRITERS[writer]
    real = getattr(obj, attr)
    monkeypatch.setattr(obj, attr, refuse)
    code, _, err = run_cli(argv, capsys)
    monkeypatch.setattr(obj, attr, real)
    assert hidden(ws) in ([], ["runs/.n.checkpoint"]), hidden(ws)  # a checkpoint only to resume
    # a lock whose pid cannot be written still holds, so that command goes on; a failed rename stops it
    assert (code == 0) == (writer == "the lock's pid"), err
    if code != 0:
        assert one_error_line(code, err), err
        assert "--resume" in err or hidden(ws) == []
        code, _, err = run_cli(argv + (["--resume"] if "--resume" in err else []), capsys)
    assert code == 0, err
    assert hidden(ws) == []


def test_a_full_disk_at_a_guided_runs_labels_leaves_no_run_without_them(ws, monkeypatch, capsys):
    vocab = (ws / "corpora" / CORPUS / "vocab.json").read_text()
    words = json.loads(vocab)[:4]
    seeds = ws / "seeds.txt"
    seeds.write_text(f"first: {words[0]} {words[1]}\nsecond: {words[2]} {words[3]}\n")
    argv = argv_for(f"{TRAIN} --name g --seed-topics {seeds}", ws)
    obj, attr, refuse = WRITERS["the last step (labels, drift report)"]
    real = getattr(obj, attr)
    monkeypatch.setattr(obj, attr, refuse)
    code, _, err = run_cli(argv, capsys)
    monkeypatch.setattr(obj, attr, real)
    assert one_error_line(code, err), err
    assert not (ws / "runs" / "g").exists(), "a guided run stands without its labels"
    code, _, err = run_cli(argv + (["--resume"] if "--resume" in err else []), capsys)
    assert code == 0, err
    assert hidden(ws) == []
    assert saved_labels(ws / "runs" / "g") == {0: "first", 1: "second"}


# ---------------------------------------------------------------------------- a sweep with a bad setting
SWEEP = f"sweep {CORPUS} --out {{ws}}/sw --quiet"
BAD_SWEEPS = [
    ("--topics 0", f"{SWEEP} --models prodlda --topics 0"),
    ("a good K, then K = 1", f"{SWEEP} --models lda --topics 3,1 --passes 1"),
    ("K = the vocabulary size", f"{SWEEP} --models lda --topics 50"),
    ("no K", [*f"{SWEEP} --models lda --topics".split(), ","]),
    ("no model", [*f"{SWEEP} --topics 3 --models".split(), ","]),
    ("an unknown model after a good one", f"{SWEEP} --models lda,bert --topics 3 --passes 1"),
    ("--lr 0", f"{SWEEP} --models prodlda --topics 3 --lr 0"),
    ("--batch-size 0", f"{SWEEP} --models lda,prodlda --topics 3 --batch-size 0"),
    ("unknown reference corpus", f"{SWEEP} --models lda --topics 3 --passes 1 --reference nosuch"),
]


@pytest.mark.parametrize("what,command", BAD_SWEEPS, ids=[c[0] for c in BAD_SWEEPS])
def test_a_bad_sweep_setting_is_refused_before_anything_is_made(what, command, ws, capsys):
    before = snapshot(ws)
    code, _, err = run_cli(argv_for(command, ws), capsys)
    assert one_error_line(code, err), f"{what}:\n{err}"
    assert not (ws / "sw").exists(), f"{what}: the output folder was made"
    assert snapshot(ws) == before, f"{what}: the workspace changed"


# ---------------------------------------------------------------------------- an interrupted quickstart
QUICKSTART = "quickstart --topics 3 --epochs 3 --out {ws}/exports"


def test_an_interrupted_quickstart_is_taken_up_by_the_plain_command(ws, monkeypatch, capsys):
    """Ctrl-C in quickstart's training leaves its corpus and a checkpoint; the same command again
    continues from them (no --force) and ends with the exports; a third time it refuses to replace them."""
    from test_runs import interrupt_in_epoch

    real = interrupt_in_epoch(monkeypatch, 2)
    code, _, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code not in (0, None) and "interrupted" in err
    assert (ws / "corpora" / "sample").is_dir() and not (ws / "exports").exists()
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    code, out, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code == 0, err
    assert "using corpus 'sample', the built-in sample an earlier quickstart ingested" in out
    assert "continuing an earlier quickstart's checkpoint" in out
    assert (ws / "exports" / "sample-prodlda-k3-documents.csv").is_file()
    code, _, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code not in (0, None) and "sample-prodlda-k3-documents.csv" in err and "--force" in err


def test_a_quickstart_whose_exports_were_removed_uses_its_corpus_and_run(ws, capsys):
    code, _, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code == 0, err
    config = (ws / "runs" / "sample-prodlda-k3" / "config.json").read_bytes()
    for f in (ws / "exports").iterdir():
        f.unlink()
    code, out, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code == 0, err
    assert "using run 'sample-prodlda-k3', trained by an earlier quickstart" in out
    assert (ws / "runs" / "sample-prodlda-k3" / "config.json").read_bytes() == config  # not retrained
    assert (ws / "exports" / "sample-prodlda-k3-topics.csv").is_file()
    for f in (ws / "exports").iterdir():
        f.unlink()
    code, _, err = run_cli(argv_for(QUICKSTART.replace("--epochs 3", "--epochs 4"), ws), capsys)  # other settings
    assert one_error_line(code, err) and "run 'sample-prodlda-k3'" in err and "--force" in err
    assert (ws / "runs" / "sample-prodlda-k3" / "config.json").read_bytes() == config


def test_an_interrupted_quickstart_with_an_unreadable_checkpoint_starts_its_training_over(ws, monkeypatch, capsys):
    from test_runs import interrupt_in_epoch

    real = interrupt_in_epoch(monkeypatch, 2)
    code, _, _ = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code not in (0, None)
    monkeypatch.setattr(training_loop._TrainingState, "run_epoch", real)
    checkpoint = ws / "runs" / ".sample-prodlda-k3.checkpoint" / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    code, out, err = run_cli(argv_for(QUICKSTART, ws), capsys)
    assert code == 0, err
    assert "continuing" not in out and (ws / "exports" / "sample-prodlda-k3-documents.csv").is_file()
