"""gensim LDA on 20 Newsgroups: train seconds, NPMI (test reference), diversity, inference docs/s.

    python benchmarks/lda_20news.py [--topics 50] [--passes 10] [--seeds 0 1] [--workers 1]

Corpus: header stripped (text after the first blank line), scikit-learn CountVectorizer
(English stop words, [a-z]{3,} tokens, df >= 5, df <= 70 %, 2,000 most frequent words)
fit on the train split; documents left empty are dropped. Not GUIDE §7's exact
preprocessing (no footer/quote stripping), so compare ratios, not absolute values.
"""

from __future__ import annotations

import argparse
import tarfile
import time
from pathlib import Path

import numpy as np

ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "20news-bydate.tar.gz"


def load_20news(archive: Path = ARCHIVE):
    """(texts, labels, splits) of every post in the bydate archive, headers removed."""
    texts, labels, splits = [], [], []
    with tarfile.open(archive) as tf:
        for member in tf:
            if not member.isfile():
                continue
            split_dir, group, _ = member.name.split("/")[-3:]
            raw = tf.extractfile(member).read().decode("latin-1")
            texts.append(raw.partition("\n\n")[2])
            labels.append(group)
            splits.append("train" if split_dir.endswith("train") else "test")
    return texts, np.array(labels), np.array(splits)


def main() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from topicvae import evaluation
    from topicvae.models.lda import LDA

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--passes", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--history-docs", type=int, default=0)
    args = ap.parse_args()

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

    tws = []
    for seed in args.seeds:
        model = LDA(args.topics, passes=args.passes, workers=args.workers, seed=seed,
                    history_docs=args.history_docs)
        t = time.perf_counter()
        model.fit(Xtr, progress=False)
        fit_s = time.perf_counter() - t
        tws.append(model.topic_word_)
        npmi, per_topic = evaluation.npmi(model.topic_word_, Xte)
        div = evaluation.topic_diversity(model.topic_word_)
        speed = evaluation.inference_speed(model, Xte)
        bound, n_tok = model.log_bound(Xte)
        theta_tr, theta_te = model.transform(Xtr), model.transform(Xte)
        theta = np.vstack([theta_tr, theta_te])
        lab = evaluation.label_metrics(
            theta, np.concatenate([ytr, yte]),
            train_rows=np.arange(len(ytr)), test_rows=np.arange(len(ytr), len(ytr) + len(yte)), seed=seed)
        print(f"seed {seed}: fit {fit_s:.1f}s (train {model.train_seconds_:.1f}s) | NPMI(test) {npmi:.3f} | "
              f"diversity@25 {div:.3f} | ppl bound(test) {evaluation.perplexity(bound, n_tok):.0f} | "
              f"label acc {lab['accuracy']:.3f} NMI {lab['nmi']:.3f} | infer {speed:,.0f} docs/s")
        top = model.top_words(vocab, 10)
        for k in np.argsort(-per_topic)[:3]:
            print(f"  topic {k} NPMI {per_topic[k]:.3f}: {' '.join(top[k])}")
    if len(tws) > 1:
        print(f"stability over seeds {args.seeds}: {evaluation.stability(tws):.3f}")


if __name__ == "__main__":
    main()
