"""ProdLDA's topic read-out: the same trained models read out with other read-out settings.

    python benchmarks/readout.py [--corpora sample,m10,dbpedia_it,dblp,ng2k,ng] [--topics 20,50]
                                 [--seeds 0,1] [--readouts 10:0,0:0,0:auto,0:0.75,0:1,0:2,0:1.5:0,0:auto::0]
                                 [--shared DIR] [--cache DIR] [--out FILE]

How a ProdLDA model lists its topics' words is a reading of β, not part of its likelihood
(``ProdLDANet.topic_word``): the reliability weight df / (df + c) and the prevalence weight df^δ of
each word (df: its training documents), the exclusivity γ and the lead words' coherence weight λ
(``lead_coherence``). This benchmark trains the default ProdLDA once per (corpus, K, seed), on the
corpora and splits of ``quality.py`` (the same cache), and reads each model out again with every
``c:δ``, ``c:δ:γ`` or ``c:δ:γ:λ`` of ``--readouts`` (δ ``auto``: the default, 0.75 on short
documents, else 0; γ left out or empty: the default, 2; λ left out: the default, 7) through
``ProdLDA.reread``, so
the rows of one cell differ in the read-out alone. Columns: held-out NPMI of the top 10 words (test
documents; as ``topicvae evaluate``), its difference from the first read-out's, NPMI on the training documents and diversity@25, means over
the seeds (``quality.score_topics``). No times: training is the same for every row.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from bench_common import SHARED, machine, versions  # benchmarks/bench_common.py
from quality import CACHE, prepare_corpus, score_topics, split_rows  # benchmarks/quality.py

DEFAULT_READOUTS = "10:0,0:0,0:auto,0:0.75,0:1,0:2"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_readouts(text: str) -> list[tuple]:
    """``c:δ,...`` as (reliability_df, prevalence) pairs, ``c:δ:γ`` as (reliability_df, prevalence,
    exclusivity), ``c:δ:γ:λ`` as (reliability_df, prevalence, exclusivity, lead_coherence); δ ``auto``
    is None (the model's choice), and so is an empty γ (the default)."""
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        c, _, rest = item.partition(":")
        d, _, rest = rest.partition(":")
        g, _, lead = rest.partition(":")
        readout = (float(c), None if d in ("", "auto") else float(d))
        if lead:
            readout += (float(g) if g else None, float(lead))
        elif g:
            readout += (float(g),)
        out.append(readout)
    return out


def label(readout: tuple) -> str:
    c, d = readout[:2]
    text = f"c={c:g}, δ={'auto' if d is None else f'{d:g}'}"
    if len(readout) > 2 and readout[2] is not None:
        text += f", γ={readout[2]:g}"
    return text + (f", λ={readout[3]:g}" if len(readout) > 3 else "")


def cell_scores(corpus, k: int, seed: int, readouts) -> list[dict]:
    """One trained model of (corpus, K, seed), read out with every read-out: one score dict each."""
    import torch

    from topicvae.models.vae import ProdLDA

    torch.set_num_threads(1)
    train, test, _ = split_rows(corpus)
    X_train, X_test = corpus.bow[train], corpus.bow[test]
    model = ProdLDA(k, seed=seed, threads=1, device="cpu").fit(X_train)
    rows = []
    default_gamma, default_lead = model.exclusivity, model.lead_coherence
    for readout in readouts:
        c, d = readout[:2]
        gamma = readout[2] if len(readout) > 2 and readout[2] is not None else default_gamma
        model.reread(X_train, reliability_df=c, prevalence=d, exclusivity=gamma,
                     lead_coherence=readout[3] if len(readout) > 3 else default_lead)
        s = score_topics(model.topic_word_, X_train, X_test)
        rows.append({"npmi": s["npmi"], "npmi_train": s["npmi_train"], "diversity": s["diversity"]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", default="sample,m10,dbpedia_it,dblp,ng2k,ng")
    ap.add_argument("--topics", default="20,50")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--readouts", default=DEFAULT_READOUTS,
                    help="c:δ, c:δ:γ or c:δ:γ:λ, comma-separated (δ auto: the default; no γ or an empty one: "
                         "the default; λ: lead_coherence, no λ: the default)")
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, help="also write the report here")
    args = ap.parse_args()
    topics = [int(t) for t in args.topics.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    readouts = parse_readouts(args.readouts)
    lines = ["# ProdLDA read-out settings", "",
             f"`python benchmarks/readout.py {shlex.join(sys.argv[1:])}` on {machine()}; {versions()}.", "",
             "Means over seeds " + ", ".join(map(str, seeds)) + "; Δ: held-out NPMI minus that of the first read-out.",
             "", "| corpus | K | read-out | NPMI held-out | Δ | NPMI train | div@25 |", "|---|---|---|---|---|---|---|"]
    for key in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        corpus, why = prepare_corpus(key, args.shared, args.cache, n_process=1)
        if corpus is None:
            log(f"{key}: skipped ({why})")
            continue
        for k in topics:
            per_seed = []
            for seed in seeds:
                log(f"{key} K={k} seed {seed}")
                per_seed.append(cell_scores(corpus, k, seed, readouts))
            means = [{m: float(np.mean([s[i][m] for s in per_seed])) for m in per_seed[0][i]} for i in range(len(readouts))]
            for readout, m in zip(readouts, means):
                lines.append(f"| {key} | {k} | {label(readout)} | {m['npmi']:.3f} | {m['npmi'] - means[0]['npmi']:+.3f} "
                             f"| {m['npmi_train']:.3f} | {m['diversity']:.3f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
