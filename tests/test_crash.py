"""kill -9 at seeded random moments of real ingest and train processes: the next command recovers.

The same trials as ``benchmarks/crash.py`` (which runs 20 kills each), 3 each here to keep
the suite short: after each kill the folder holds nothing half-written that looks complete,
the plain command (or ``--resume`` when it says the run can be continued) succeeds without
``--force``, the result equals an uninterrupted run's bitwise, no debris is left, and a
killed training loses no epoch it had reported finished.
"""

from __future__ import annotations

import pytest

from bench_support import load

pytestmark = pytest.mark.slow
KILLS = 3


@pytest.fixture(scope="module")
def crash():
    return load("crash")


@pytest.mark.parametrize("kind", ["ingest", "train"])
def test_kill_9_at_random_moments_then_the_next_command_recovers(crash, kind, tmp_path):
    results = crash.trials(kind, KILLS, seed=0, work=tmp_path)
    assert sum(t.killed for t in results) >= KILLS - 1, f"the kill moments missed the command: {results}"
    for t in results:
        assert t.whole, f"a half-written {kind} result looked complete after the kill at {t.kill_at:.1f} s"
        assert t.recovered, f"the next command failed after the kill at {t.kill_at:.1f} s: {t.message}"
        assert t.identical, f"the recovered result differs from an uninterrupted one (kill at {t.kill_at:.1f} s)"
        assert t.leftovers == [], f"debris after the next command: {t.leftovers}"
        if kind == "train" and t.killed and not t.complete:
            assert t.epochs_lost == 0, f"finished epochs lost: {t}"


@pytest.mark.parametrize("kind", ["ingest", "train"])
def test_two_writers_of_one_name_end_with_one_result_and_one_clear_refusal(crash, kind, tmp_path):
    import subprocess

    if kind == "train":
        crash.run(crash.ingest_cmd("builtin:sample", tmp_path), tmp_path)
        cmd = crash.train_cmd(tmp_path)
    else:
        cmd = crash.ingest_cmd("builtin:sample", tmp_path)
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=crash._env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=crash.TIMEOUT), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    refusal = next(err for code, err in results if code != 0) if codes[1] else ""
    assert codes[0] == 0 and codes[1] != 0, results
    assert "being written by another topicvae process" in refusal.strip().splitlines()[-1], refusal
    folder = tmp_path / ("corpora/c" if kind == "ingest" else "runs/r")
    assert crash.whole_after_kill(tmp_path, kind) and folder.is_dir()
    assert crash.hidden(folder.parent) == []
