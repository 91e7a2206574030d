"""The digests of the corpora that eight ingests write, to compare one commit's ingest with another's.

    python docs/probes/ingest_digests.py OUT.json      # at one commit, then at another; diff the files

Writes seeded sources into a temporary folder (a CSV of 3,000 documents with id, label, date, split and
four metadata columns of text, numbers and booleans, some cells missing, one text with U+FFFD; the same
as Parquet; the CSV with a duplicate id; JSON lines whose fields come and go; a TSV without ids) and
ingests them, the built-in sample and benchmarks/ingest.py's generated CSV of 100,000 documents, each
with partitions of 700 and of 20,000 documents, shards of 1,000. OUT.json gets, per ingest, the sha256
of every file of the corpus and of its manifest without the fields that vary from run to run
(created, seconds, name, the source's path) (docs/benchmarks.md, "Tables read column-wise").
"""
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import ingest as bench  # noqa: E402  (benchmarks/ingest.py)

from topicvae import ingest  # noqa: E402
from topicvae.text.settings import VocabSettings  # noqa: E402
from topicvae.text.sources import TableColumns  # noqa: E402


def write_sources(folder: Path) -> None:
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma", "omega",
             "river", "stone", "caf\u00e9", "na\u00efve"]
    n = 3000
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 30))) for _ in range(n)]
    texts[5] = ""
    texts[7] = "bad \ufffd here " + texts[7]
    df = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": texts,
                       "label": [None if i % 7 == 0 else f"L{i % 3}" for i in range(n)],
                       "date": [f"2020-01-{1 + i % 28:02d}" for i in range(n)],
                       "split": ["test" if i % 5 == 4 else "train" for i in range(n)],
                       "author": [None if i % 11 == 0 else f"a{i % 4}" for i in range(n)],
                       "score": [float(i) if i % 13 else None for i in range(n)],
                       "year": [2000 + i % 20 for i in range(n)],
                       "flag": [bool(i % 2) for i in range(n)]})
    df.to_csv(folder / "meta.csv", index=False)
    df.to_parquet(folder / "meta.parquet")
    dups = df.copy()
    dups.loc[100, "id"] = "d5"
    dups.to_csv(folder / "dups.csv", index=False)
    with open(folder / "var.jsonl", "w") as f:
        for i, r in df.iterrows():
            row = {"text": r.text, "id": r.id}
            if i % 3:
                row["author"] = r.author
            if i % 4 == 0:
                row["extra"] = [1, 2] if i % 8 == 0 else {"k": i}
            if i % 6 == 0:
                row["split"] = r.split
            f.write(json.dumps(row) + "\n")
    df[["text", "author"]].to_csv(folder / "noid.tsv", sep="\t", index=False)


with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    write_sources(d)
    roles = TableColumns(id="id", label="label", date="date", split="split")
    cases = [("sample", "builtin:sample", {}),
             ("meta_csv", d / "meta.csv", {"columns": roles}),
             ("meta_csv_noroles", d / "meta.csv", {}),
             ("meta_parquet", d / "meta.parquet", {"columns": roles}),
             ("dups", d / "dups.csv", {"columns": TableColumns(id="id", split="split"), "dedupe": True}),
             ("jsonl", d / "var.jsonl", {"columns": TableColumns(id="id", split="split")}),
             ("tsv", d / "noid.tsv", {}),
             ("gen", bench.generated_csv(100_000), {"columns": TableColumns(id="id", split="split")})]
    out = {}
    for name, source, kw in cases:
        for partition in (700, 20_000):
            key = f"{name}-{partition}"
            ingest(str(source), key, corpora_dir=d / "corpora", partition_docs=partition, shard_docs=1000,
                   vocab=VocabSettings(min_df=2), **kw)
            folder = d / "corpora" / key
            files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
                     if p.is_file() and p.name != "manifest.json"}
            manifest = json.loads((folder / "manifest.json").read_text())
            for field in ("created", "seconds", "name"):
                manifest.pop(field, None)
            manifest["source"].pop("path")  # the sources' temporary folder
            out[key] = {"files": files,
                        "manifest": hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()}
            print(key, "done", flush=True)
Path(sys.argv[1]).write_text(json.dumps(out, indent=1, sort_keys=True))
