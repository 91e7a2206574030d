"""How widespread the words are that a diversity floor forces into the topics' first words.

Diversity at 25 words ≥ d over K topics needs ⌈d·25·K⌉ distinct words among the K top-25 lists; even
with positions 11–25 all distinct, the top-10 lists need at least ⌈d·25·K⌉ − 15·K distinct words.
For each corpus (as ``benchmarks/quality.py`` ingests it, its training rows of the validation carve)
and K, this prints those counts, the vocabulary they come from, and the training and reference
document frequency of the word at that rank of the most widespread words: the most widespread words
any such topics could lead with. Held-out NPMI scores pairs of the first 10 words by their
co-occurrence in the reference documents, and a pair that never co-occurs there scores −1.

    python docs/probes/title_vocabulary.py [CORPUS ...]     (default: m10 dblp dbpedia_it ng2k sample)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import quality  # noqa: E402  (benchmarks/quality.py: the corpora and the validation carve)

from topicvae.corpus import Corpus  # noqa: E402

FLOOR = 0.85


def doc_freq(X) -> np.ndarray:
    return np.asarray((X > 0).sum(axis=0)).ravel()


def main(keys: list[str]) -> None:
    print(f"| corpus | training docs | reference docs | words in ≥ 1 training doc | K | distinct words the "
          f"{FLOOR} floor needs in the top-25s | at least in the top-10s | training df / reference df of the word at "
          f"that rank |")
    print("|---|---|---|---|---|---|---|---|")
    for key in keys:
        c, reason = quality.prepare_corpus(key, quality.SHARED, quality.CACHE, n_process=2)
        if c is None:
            print(f"{key}: {reason}")
            continue
        train, ref = quality.reference_rows(c, "validation")
        df_train, df_ref = doc_freq(c.bow[train]), doc_freq(c.bow[ref])
        order = np.argsort(-df_train, kind="stable")
        used = int((df_train > 0).sum())
        for k in (20, 50):
            top25 = math.ceil(FLOOR * 25 * k)
            top10 = top25 - 15 * k
            at = order[min(top10, used) - 1]
            print(f"| {key} | {len(train):,} | {len(ref):,} | {used:,} | {k} | {top25:,} | {top10:,} | "
                  f"{df_train[at]:,} / {df_ref[at]:,} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["m10", "dblp", "dbpedia_it", "ng2k", "sample"])
