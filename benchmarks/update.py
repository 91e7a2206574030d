"""Updating a run with new documents (``topicvae update``) against training on everything from scratch.

    python benchmarks/update.py [--model prodlda|lda] [--topics 20,50] [--replay 0,0.25,0.5]
                                [--order article|shuffle] [--seeds 0,1,2] [--threads 1] [--out FILE]
                                [--reference test|validation] [--update-topic-lr X] [--shared DIR] [--cache DIR]

The 20 Newsgroups archive's train split is cut in two halves. The bydate archive keeps no
``Date:`` header, so ``--order article`` (the default) orders each newsgroup's posts by their
article number (Usenet numbers a group's articles in the order they arrive): half 1 is every
group's earlier half, half 2 its later half. ``--order shuffle`` cuts a seeded shuffle instead.

1. Half 1 and the test split are ingested as corpus ``ng-half1`` with the ``ng2k`` settings of
   ``benchmarks/quality.py`` (``strip=headers,quotes,signatures``, 2,000 words), so the
   vocabulary is chosen on half 1 alone, as it would be before the new posts arrived.
2. ProdLDA (``--model``, default prodlda; topicvae's defaults, ``--threads``, the seed) trains on half 1.
3. :func:`topicvae.runs.update.update_run` reads half 2 (a JSON Lines file of the raw posts) with
   that corpus's pipeline and trains on from the half-1 run: its default epochs (half the
   run's), with each ``--replay`` share of the half-1 documents.
4. "scratch": a fresh model of the same kind on both halves (the updated corpus's training rows: the same
   vocabulary and test documents), with the defaults.

Scores, from ``benchmarks/quality.py``'s :func:`score_topics` (topicvae.scoring.metrics's NPMI and
diversity): held-out NPMI (the test documents), training NPMI (both halves), NPMI on half 1
and on half 2 alone (a model that forgot half 1 loses on it), diversity of the top 25;
train seconds (``fit`` only, config.json's ``fit_seconds``) and its ratio to scratch's; the
share of topics matched to their old id at JS distance ≤ 0.5 (the drift report's
``matched_same_id``). The must-target (docs/update.md) is checked for each update row.

``--reference validation`` (as in ``quality.py``): a seeded share of the train split's posts
(``quality.validation_carve``, as ``quality.py`` carves its validation rows) is set aside before the
halves are cut and stands in for the test posts as the held-out reference (ingested in the
benchmark's own corpus with the split ``test``); the test split is not read. Settings of ``update``
are chosen so.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from bench_common import SHARED, machine, versions, warm_imports  # benchmarks/bench_common.py
from quality import CORPORA, REFERENCES, code_version, score_topics, settings, validation_carve  # benchmarks/quality.py

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "update"
BASE = "ng-half1"
SETTINGS = "ng2k"  # quality.py's corpus whose preprocessing and vocabulary settings are used
TARGET = {"npmi_gap": 0.02, "time_ratio": 0.5, "matched": 0.9, "js": 0.5}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- the halves
def article_number(doc_id: str) -> int:
    """The Usenet article number of an archive member ``20news-bydate-train/GROUP/NUMBER``."""
    try:
        return int(doc_id.rsplit("/", 1)[-1])
    except ValueError:
        return 0


def halves(docs: list, order: str, seed: int) -> tuple[list, list]:
    """The train documents cut in two: by article number within each newsgroup, or a seeded shuffle."""
    train = [d for d in docs if d.split == "train"]
    if order == "shuffle":
        perm = np.random.default_rng(seed).permutation(len(train))
        cut = len(train) // 2
        return [train[i] for i in sorted(perm[:cut])], [train[i] for i in sorted(perm[cut:])]
    first, second = [], []
    for group in sorted({d.label for d in train}):
        posts = sorted((d for d in train if d.label == group), key=lambda d: article_number(d.id))
        cut = len(posts) // 2
        first += posts[:cut]
        second += posts[cut:]
    return first, second


def write_jsonl(docs: list, path: Path) -> Path:
    """The documents as JSON Lines, each with its own split."""
    with path.open("w") as f:
        for d in docs:
            f.write(json.dumps({"id": d.id, "text": d.text, "label": d.label, "split": d.split}) + "\n")
    return path


def reference_posts(docs: list, reference: str) -> tuple[list, list]:
    """(the documents left to halve, the held-out reference posts, their split ``test``): the train
    and test splits for ``test``; for ``validation`` the train posts :func:`validation_carve` holds
    out as the reference and the rest of them to halve."""
    train = [d for d in docs if d.split == "train"]
    if reference == "test":
        return train, [d for d in docs if d.split == "test"]
    rest, held = validation_carve(np.arange(len(train)))
    return [train[i] for i in rest], [dataclasses.replace(train[i], split="test") for i in held]


def prepare(shared: Path, cache: Path, order: str, seed: int, reference: str = "test"):
    """(base corpus of half 1 + the reference posts, the half-2 JSON Lines file), cached in
    ``cache/article`` or ``cache/shuffle-SEED`` (``-validation`` appended for that reference)."""
    import topicvae
    from topicvae.text.settings import to_dict
    from topicvae.text.sources import TableColumns, read_source

    folder = cache / (("article" if order == "article" else f"shuffle-{seed}")
                      + ("-validation" if reference == "validation" else ""))
    folder.mkdir(parents=True, exist_ok=True)
    (cache / ".gitignore").write_text("*\n")
    pre, voc = settings(SETTINGS)
    corpora = folder / "corpora"
    new_file = folder / "half2.jsonl"
    if (corpora / BASE / "manifest.json").is_file() and new_file.is_file():
        c = topicvae.Corpus.load(BASE, corpora)
        if c.manifest.get("preprocess") == to_dict(pre) and c.manifest.get("vocab") == to_dict(voc):
            return c, new_file
    docs, held_out = reference_posts(list(read_source(str(shared / CORPORA[SETTINGS]["source"]))), reference)
    first, second = halves(docs, order, seed)
    base_file = write_jsonl(first + held_out, folder / "half1-test.jsonl")
    write_jsonl(second, new_file)
    t = time.perf_counter()
    c = topicvae.ingest(str(base_file), BASE, columns=TableColumns(id="id", label="label", split="split"),
                        preprocess=pre, vocab=voc, corpora_dir=corpora, force=True, n_process=1)
    log(f"ingested {BASE} ({c.n_docs:,} documents) in {time.perf_counter() - t:.0f}s; half 2: {len(second):,} posts")
    return c, new_file


# ---------------------------------------------------------------------------- one comparison
def scores(run, corpus, half1_rows, half2_rows) -> dict:
    """Held-out, training, half-1 and half-2 NPMI and diversity of ``run``'s topics."""
    from topicvae.scoring import metrics as evaluation
    train_rows = np.concatenate([half1_rows, half2_rows])
    out = score_topics(run.topic_word, corpus.bow[train_rows], corpus.bow[corpus.split_rows("test")])
    ids = evaluation.top_word_ids(run.topic_word, 10)
    out["npmi_half1"] = float(evaluation.npmi(ids, corpus.bow[half1_rows], 10)[0])
    out["npmi_half2"] = float(evaluation.npmi(ids, corpus.bow[half2_rows], 10)[0])
    out["fit_s"] = float(run.config["fit_seconds"])
    out["epochs"] = run.config["epochs"]
    out["n_train"] = run.config["n_train_docs"]
    return out


def compare(corpus, new_file: Path, k: int, replays: list[float], seed: int, threads: int, runs_dir: Path,
            corpora_dir: Path, model: str = "prodlda", update_settings: dict | None = None) -> list[dict]:
    """The rows of one K: half 1, each update (``update_settings``: settings of the updates only), scratch."""
    from topicvae.runs import model_class, train_run
    from topicvae.runs.update import drift_report, update_run
    from topicvae.text.sources import TableColumns

    warm_imports(model)
    cpu = {"threads": threads} if "threads" in model_class(model).param_names() else {}  # (LDA has no threads)
    base = train_run(corpus, model, k, name=f"half1-k{k}", runs_dir=runs_dir, force=True, progress=False,
                     seed=seed, **cpu)
    updates = []
    for replay in replays:
        t = time.perf_counter()
        res = update_run(base.name, str(new_file), f"upd-k{k}-r{replay:g}", columns=TableColumns(
            id="id", label="label", split="split"), replay=replay, corpora_dir=corpora_dir, runs_dir=runs_dir,
            force=True, seed=seed, **cpu, **(update_settings or {}))
        updates.append((replay, res, time.perf_counter() - t))
        log(f"K={k} update replay {replay:g}: {res.run.config['fit_seconds']:.1f}s fit, "
            f"{res.drift['summary']['matched_same_id']}/{k} kept; {res.new.unknown_line()}")
    full = updates[0][1].corpus  # half 1 + test, then half 2: the same rows in every update
    half1_rows = corpus.split_rows("train")
    half2_rows = np.arange(corpus.n_docs, full.n_docs)
    scratch = train_run(full, model, k, name=f"scratch-k{k}", runs_dir=runs_dir, force=True, progress=False,
                        train_rows=full.split_rows("train"), seed=seed, **cpu)
    rows = [{"K": k, "model": "half 1 only", **scores(base, full_like(base, full), half1_rows, half2_rows)}]
    for replay, res, wall in updates:
        s = res.drift["summary"]
        rows.append({"K": k, "model": f"update, replay {replay:g}", **scores(res.run, full, half1_rows, half2_rows),
                     "kept": s["matched_same_id"] / s["n_topics"], "mean_js": s["mean_js"], "wall_s": wall,
                     "unknown": res.new.unknown_share})
    vs_half1 = drift_report(base, scratch, corpus.n_docs)["summary"]
    rows.append({"K": k, "model": "scratch, both halves", **scores(scratch, full, half1_rows, half2_rows),
                 "kept": vs_half1["matched"] / vs_half1["n_topics"], "mean_js": vs_half1["mean_js"]})
    return rows


def full_like(run, full):
    """The updated corpus serves every model's scores: half 1's run has the same vocabulary (its
    own corpus is the first rows of it)."""
    assert run.vocab == full.vocab
    return full


# ---------------------------------------------------------------------------- the report
COLUMNS = [("npmi", "NPMI held-out", "{:.3f}"), ("npmi_train", "NPMI train (both halves)", "{:.3f}"),
           ("npmi_half1", "NPMI half 1", "{:.3f}"), ("npmi_half2", "NPMI half 2", "{:.3f}"),
           ("diversity", "div@25", "{:.3f}"), ("epochs", "epochs", "{}"), ("n_train", "docs trained on", "{:,}"),
           ("fit_s", "train s", "{:.1f}"), ("time_ratio", "÷ scratch", "{:.2f}"),
           ("kept", "topics kept (own id, JS ≤ 0.5)", "{:.0%}"), ("mean_js", "mean JS to half-1 topics", "{:.3f}")]


def add_ratios(rows: list[dict]) -> list[dict]:
    """Each row's gap to the scratch row of its (seed, K) and its time and work (documents ×
    epochs, which the machine's load does not change) as shares of scratch's."""
    for r in rows:
        scratch = next(x for x in rows if x["seed"] == r["seed"] and x["K"] == r["K"]
                       and x["model"].startswith("scratch"))
        r["gap"] = r["npmi"] - scratch["npmi"]
        r["time_ratio"] = r["fit_s"] / scratch["fit_s"]
        r["work_ratio"] = r["n_train"] * r["epochs"] / (scratch["n_train"] * scratch["epochs"])
    return rows


def table(rows: list[dict]) -> str:
    head = ["K", "model"] + [h for _, h, _ in COLUMNS]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r["K"]), r["model"]] + ["" if r.get(k) is None else f.format(r[k]) for k, _, f in COLUMNS]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _groups(rows: list[dict]) -> dict[tuple, list[dict]]:
    """(K, model) → its rows, one per seed, in the order first seen."""
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault((r["K"], r["model"]), []).append(r)
    return out


def summary_table(rows: list[dict]) -> str:
    """Mean ± half the range over seeds of each (K, model), the gap to scratch, time and work shares."""
    head = ["K", "model", "seeds", "NPMI held-out", "− scratch (worst)", "NPMI half 1", "div@25", "train s",
            "÷ scratch, time (max)", "÷ scratch, documents × epochs", "topics kept (min)", "mean JS to half-1 topics"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def pm(values, fmt="{:.3f}"):
        v = np.asarray(values, dtype=float)
        return fmt.format(v.mean()) + ("" if len(v) == 1 else " ± " + fmt.format((v.max() - v.min()) / 2))

    for (k, model), group in _groups(rows).items():
        col = lambda key: [r[key] for r in group]  # noqa: E731
        kept = col("kept") if all(r.get("kept") is not None for r in group) else None
        gaps = col("gap")
        cells = [str(k), model, str(len(group)), pm(col("npmi")), f"{np.mean(gaps):+.3f} ({min(gaps):+.3f})",
                 pm(col("npmi_half1")), f"{np.mean(col('diversity')):.3f}", f"{np.mean(col('fit_s')):.1f}",
                 f"{np.mean(col('time_ratio')):.2f} ({max(col('time_ratio')):.2f})",
                 f"{np.mean(col('work_ratio')):.2f}",
                 "" if kept is None else f"{np.mean(kept):.0%} ({min(kept):.0%})",
                 "" if kept is None else f"{np.mean(col('mean_js')):.3f}"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def met(r: dict) -> dict[str, bool]:
    """The must-target's three checks of one update row."""
    return {"npmi": r["gap"] >= -TARGET["npmi_gap"], "time": r["time_ratio"] < TARGET["time_ratio"],
            "kept": r["kept"] >= TARGET["matched"]}


def verdict(rows: list[dict]) -> str:
    """Per update setting and K: each seed's figures for the three checks, and on how many seeds all hold."""
    head = ["K", "update", f"NPMI − scratch ≥ −{TARGET['npmi_gap']}", f"time < {TARGET['time_ratio']} × scratch",
            f"≥ {TARGET['matched']:.0%} kept (JS ≤ {TARGET['js']})", "met on"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (k, model), group in _groups(rows).items():
        if not model.startswith("update"):
            continue
        marks = [met(r) for r in group]

        def cell(check, value, fmt):
            return ", ".join(fmt.format(r[value]) + ("" if m[check] else " ✗") for r, m in zip(group, marks))
        n_met = sum(all(m.values()) for m in marks)
        out.append(f"| {k} | {model.removeprefix('update, ')} | {cell('npmi', 'gap', '{:+.3f}')} | "
                   f"{cell('time', 'time_ratio', '{:.2f}')} | {cell('kept', 'kept', '{:.0%}')} | "
                   f"{n_met} of {len(group)} seeds |")
    return "\n".join(out)


def main() -> None:
    argv = sys.argv[1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="prodlda", help="the model of every run: prodlda (default), gsm, nvdm or lda")
    ap.add_argument("--topics", default="20,50", help="comma-separated K (default 20,50)")
    ap.add_argument("--replay", default="0,0.25,0.5", help="comma-separated replay shares (default 0,0.25,0.5)")
    ap.add_argument("--order", choices=["article", "shuffle"], default="article",
                    help="how the train split is halved (default: article number within each newsgroup)")
    ap.add_argument("--seeds", default="0", help="comma-separated model seeds (the shuffle's too); default 0")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--shared", type=Path, default=SHARED, help=f"the shared corpora (default {SHARED})")
    ap.add_argument("--cache", type=Path, default=CACHE, help="folder for the corpora and runs made here")
    ap.add_argument("--out", type=Path, help="also write the report (Markdown) to this file")
    ap.add_argument("--update-topic-lr", type=float, default=None,
                    help="the topics' learning rate in the updates (default: update's own, UPDATE_TOPIC_LR)")
    ap.add_argument("--reference", default="test", choices=REFERENCES,
                    help="held-out posts: test (default) or validation, set aside from the train split")
    args = ap.parse_args(argv)
    if not (args.shared / CORPORA[SETTINGS]["source"]).is_file():
        sys.exit(f"no {CORPORA[SETTINGS]['source']} in {args.shared}")
    rows, per_seed = [], []
    for seed in (int(x) for x in args.seeds.split(",")):
        corpus, new_file = prepare(args.shared, args.cache, args.order, seed, args.reference)
        folder = new_file.parent / (f"seed-{seed}" if args.model == "prodlda" else f"{args.model}-seed-{seed}")
        seed_rows = []
        for k in (int(x) for x in args.topics.split(",")):
            seed_rows += [{"seed": seed, **r} for r in compare(
                corpus, new_file, k, [float(x) for x in args.replay.split(",")], seed, args.threads,
                folder / "runs", new_file.parent / "corpora", args.model,
                {} if args.update_topic_lr is None else {"topic_lr": args.update_topic_lr})]
        rows += add_ratios(seed_rows)
        per_seed += [f"### Seed {seed}", "", table(seed_rows), ""]
    report = "\n".join([
        f"# Updating a run with new documents ({args.model})", "",
        f"Measured {dt.date.today().isoformat()} with `{shlex.join(['python', 'benchmarks/update.py', *argv])}` "
        f"on {machine()}.", "", f"Libraries: {versions()}.", "", f"topicvae measured: {code_version()}.", "",
        f"20 Newsgroups train split halved by {'article number within each newsgroup' if args.order == 'article' else 'a seeded shuffle'}; "
        f"half 1 + test ingested with the {SETTINGS} settings ({corpus.n_words:,} words, chosen on half 1); "
        f"held-out NPMI on the {len(corpus.split_rows('test')):,} "
        f"{'test posts' if args.reference == 'test' else 'validation posts (set aside from the train split)'}.", "",
        "## Mean ± half the range over seeds", "", summary_table(rows), "",
        "## The must-target, per seed", "", verdict(rows), "", "## Each seed", "", *per_seed])
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
