"""Two Dask workers against one, with the local cluster's workers spawned (Dask's default) and started
another way.

    python docs/probes/ingest_fork_ab.py [fork|forkserver]

Three rounds on benchmarks/ingest.py's generated CSV of 1,000,000 documents, each round in turn:
``--workers 1``, ``--workers 2`` spawned, ``--workers 2`` started by the method given (default
fork; set through the environment variable ``DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD``);
prints each run and the median speed-ups (docs/benchmarks.md, "Two Dask workers against one").
"""
import os, sys, json, shutil, tempfile, statistics
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import ingest as B
METHOD = sys.argv[1] if len(sys.argv) > 1 else "fork"
if METHOD not in ("fork", "forkserver"):
    sys.exit("usage: python docs/probes/ingest_fork_ab.py [fork|forkserver]")
src = B.generated_csv(1_000_000)
rows = []
with tempfile.TemporaryDirectory() as d:
    for rnd in range(1, 4):
        for label, w, method in (("w1", 1, "spawn"), ("w2-spawn", 2, "spawn"), (f"w2-{METHOD}", 2, METHOD)):
            os.environ["DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD"] = method
            name = f"{label}-{rnd}"
            cmd = [sys.executable, "-m", "topicvae.interfaces.cli", "ingest", str(src), "--name", name,
                   "--workers", str(w), "--quiet", "--corpora-dir", d]
            r = B.run_command_tree(cmd)
            m = json.loads((Path(d) / name / "manifest.json").read_text())
            r["digest"] = [s["sha256"] for s in m["shards"]]
            shutil.rmtree(Path(d) / name)
            rows.append((rnd, label, r))
            print(f"round {rnd} {label}: {r['seconds']:.1f} s, cpu {r['cpu_s']:.1f}, peak {r['peak_mb']:.0f} MB, load {r['load']:.2f}", flush=True)
base = {rnd: r for rnd, l, r in rows if l == "w1"}
for lab in ("w2-spawn", f"w2-{METHOD}"):
    ups = sorted(base[rnd]["seconds"] / r["seconds"] for rnd, l, r in rows if l == lab)
    print(lab, "speed-ups", [f"{u:.2f}" for u in ups], "median", f"{statistics.median(ups):.2f}")
print("same corpus:", all(r["digest"] == rows[0][2]["digest"] for _, _, r in rows))
