"""ProdLDA / NVDM on 20 Newsgroups: train seconds, NPMI (test reference), diversity, bound, inference docs/s.

    python benchmarks/vae_20news.py [--model prodlda] [--topics 50] [--epochs 100] [--patience 10]
                                    [--threads 2] [--seeds 0 1] [--set theta_dropout=0.5 ...]

Same corpus as ``lda_20news.py`` (header stripped, scikit-learn CountVectorizer, English
stop words, [a-z]{3,} tokens, df >= 5, df <= 70 %, 2,000 most frequent words fit on the
train split, empty documents dropped), so the two scripts' numbers compare directly.
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np
from lda_20news import load_20news


def main() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from topicvae import evaluation
    from topicvae.runs import model_class

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="prodlda", choices=["prodlda", "nvdm"])
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--patience", type=int, default=10, help="0: no early stopping")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="more model settings")
    args = ap.parse_args()
    extra = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}

    t = time.perf_counter()
    texts, labels, splits = load_20news()
    vec = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[a-z]{3,}\b",
                          min_df=5, max_df=0.7, max_features=2000)
    train_idx, test_idx = np.flatnonzero(splits == "train"), np.flatnonzero(splits == "test")
    Xtr = vec.fit_transform([texts[i] for i in train_idx]).tocsr()
    Xte = vec.transform([texts[i] for i in test_idx]).tocsr()
    keep_tr, keep_te = Xtr.getnnz(axis=1) > 0, Xte.getnnz(axis=1) > 0
    Xtr, Xte = Xtr[keep_tr], Xte[keep_te]
    ytr, yte = labels[train_idx][keep_tr], labels[test_idx][keep_te]
    vocab = vec.get_feature_names_out().tolist()
    print(f"corpus: {Xtr.shape[0]} train / {Xte.shape[0]} test docs, {len(vocab)} words "
          f"({time.perf_counter() - t:.1f}s to read and vectorise)")

    cls = model_class(args.model)
    tws = []
    for seed in args.seeds:
        model = cls(args.topics, epochs=args.epochs, patience=args.patience, threads=args.threads,
                    seed=seed, device="cpu", **extra)
        t = time.perf_counter()
        model.fit(Xtr)
        fit_s = time.perf_counter() - t
        h = model.history_
        tws.append(model.topic_word_)
        npmi, per_topic = evaluation.npmi(model.topic_word_, Xte)
        div = evaluation.topic_diversity(model.topic_word_)
        speed = evaluation.inference_speed(model, Xte)
        theta = np.vstack([model.transform(Xtr), model.transform(Xte)])
        lab = evaluation.label_metrics(
            theta, np.concatenate([ytr, yte]),
            train_rows=np.arange(len(ytr)), test_rows=np.arange(len(ytr), len(ytr) + len(yte)), seed=seed)
        print(f"seed {seed}: fit {fit_s:.1f}s ({len(h['epoch'])} epochs, {np.mean(h['seconds']):.2f}s each, "
              f"best {model.best_epoch_}) | NPMI(test) {npmi:.3f} | diversity@25 {div:.3f} | "
              f"ppl bound(test) {evaluation.perplexity(*model.log_bound(Xte)):.0f} | "
              f"label acc {lab['accuracy']:.3f} NMI {lab['nmi']:.3f} | infer {speed:,.0f} docs/s")
        top = model.top_words(vocab, 10)
        for k in np.argsort(-per_topic)[:3]:
            print(f"  topic {k} NPMI {per_topic[k]:.3f}: {' '.join(top[k])}")
    if len(tws) > 1:
        print(f"stability over seeds {args.seeds}: {evaluation.stability(tws):.3f}")


if __name__ == "__main__":
    main()
