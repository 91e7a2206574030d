"""Choose the constants of the ``lead_words`` representation on validation documents.

    python benchmarks/quality.py --reference validation --topics 20,50 --seeds 0 --models prodlda,tomotopy \\
        --no-cv --n-process 1 --save-topics TOPICS            # once: every cell's topic_word_
    python benchmarks/lead_words_constants.py --topics-dir TOPICS [--rounds 2] [--out FILE]

``lead_words`` (:func:`topicvae.scoring.representation.lead_word_order`) has four constants: c, how much
co-occurrence weighs against probability (``LEAD_COHERENCE``); the pool of most probable words the lead
words come from (``POOL``); the penalty for a word that already leads another topic
(``SHARED_PENALTY``); and the reference share whose co-occurrence the pair score expects
(``REFERENCE_SHARE``). They were first chosen on the test split. This script reads the topic-word
matrices ``quality.py --save-topics`` saved (any models; the file names say corpus, K, model, seed and
reference documents), rebuilds each cell's training and reference documents as ``quality.py`` does
(``--reference validation``: a seeded 20 % of the training rows, the models trained on the rest), and
scores every setting tried on every matrix the same way ``quality.py`` does: held-out NPMI of the top
10 words on the reference documents, diversity of the top 25.

The search: one constant at a time over its grid, the others held (a round), from the current constants;
``--rounds 2`` starts a second round from the first round's choice. A setting is chosen by the mean
held-out NPMI over every matrix, among those that keep the diversity of every cell of every model at
0.85 or more where the current constants do (so the choice cannot buy coherence with repeated words).
Each setting's line is printed as it is scored; the report (Markdown) ends with the choice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from topicvae.corpus import Corpus
from topicvae.scoring import metrics, representation
from quality import CACHE, DIVERSITY_TOP, TOP_N, reference_rows  # benchmarks/quality.py

NAMES = ("coherence", "pool", "shared", "reference_share")
GRID = {"coherence": (0.0, 1.0, 2.0, 4.0, 7.0, 10.0, 15.0, 25.0),
        "pool": (20, 30, 60, 100, 200),
        "shared": (0.0, 0.5, 1.0, 2.0, 4.0),
        "reference_share": (0.05, 0.1, 0.25, 0.5, 1.0)}
CURRENT = {"coherence": representation.LEAD_COHERENCE, "pool": representation.POOL,
           "shared": representation.SHARED_PENALTY, "reference_share": representation.REFERENCE_SHARE}
MIN_DIVERSITY = 0.85


def load_cells(folder: Path, cache: Path) -> list[dict]:
    """Every saved matrix with its training and reference documents."""
    cells, corpora = [], {}
    for path in sorted(folder.glob("*.npy")):
        corpus, k, label, seed, reference = _parse(path.stem)
        if corpus not in corpora:
            corpora[corpus] = Corpus.load(corpus, cache)
        c = corpora[corpus]
        train, ref = reference_rows(c, reference)
        cells.append({"name": path.stem, "corpus": corpus, "K": k, "model": label, "seed": seed,
                      "phi": np.load(path), "X_train": c.bow[train], "X_ref": c.bow[ref]})
    return cells


def _parse(stem: str) -> tuple[str, int, str, str, str]:
    """(corpus, K, model label, seed, reference) of ``quality.saved_topics_path``'s file name."""
    head, seed, reference = stem.rsplit("-", 2)
    corpus, k, label = head.split("-", 2)
    return corpus, int(k), label, seed.lstrip("s"), reference


def score(cell: dict, setting: dict) -> tuple[float, float]:
    """(held-out NPMI of the top 10, diversity of the top 25) of one matrix read by lead words with ``setting``."""
    wide = representation.lead_word_order(cell["phi"], cell["X_train"], DIVERSITY_TOP, **setting)
    npmi, _ = metrics.npmi(list(wide[:, :TOP_N]), cell["X_ref"], TOP_N)
    return float(npmi), float(metrics.topic_diversity(list(wide), DIVERSITY_TOP))


def evaluate(cells: list[dict], setting: dict, seen: dict) -> dict:
    """The setting's scores on every cell (cached by setting)."""
    key = tuple(setting[n] for n in NAMES)
    if key not in seen:
        scores = [score(c, setting) for c in cells]
        seen[key] = {"setting": dict(setting), "npmi": [s[0] for s in scores], "div": [s[1] for s in scores]}
        print(line(seen[key], cells), flush=True)
    return seen[key]


def line(result: dict, cells: list[dict]) -> str:
    """One Markdown row: the setting, mean NPMI per model and over all, the lowest diversity per model."""
    s = result["setting"]
    cols = [f"{s['coherence']:g}", f"{s['pool']}", f"{s['shared']:g}", f"{s['reference_share']:g}"]
    for model in models(cells):
        idx = [i for i, c in enumerate(cells) if c["model"] == model]
        cols.append(f"{np.mean([result['npmi'][i] for i in idx]):.3f}")
        cols.append(f"{min(result['div'][i] for i in idx):.2f}")
    cols.append(f"{np.mean(result['npmi']):.4f}")
    return "| " + " | ".join(cols) + " |"


def header(cells: list[dict]) -> str:
    cols = ["c", "pool", "shared penalty", "reference share"]
    for model in models(cells):
        cols += [f"NPMI {model}", f"lowest div@25 {model}"]
    cols.append("mean NPMI, all")
    return "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)


def models(cells: list[dict]) -> list[str]:
    return sorted({c["model"] for c in cells})


def admissible(result: dict, base: dict) -> bool:
    """Keeps every cell's diversity at 0.85 or more where the current constants do."""
    return all(d >= MIN_DIVERSITY or b < MIN_DIVERSITY for d, b in zip(result["div"], base["div"]))


def search(cells: list[dict], rounds: int) -> tuple[dict, dict, dict]:
    """(the current constants' result, the chosen one's, every result by setting)."""
    seen: dict = {}
    base = evaluate(cells, CURRENT, seen)
    best = base
    for _ in range(rounds):
        start = dict(best["setting"])
        for name in NAMES:
            for value in GRID[name]:
                r = evaluate(cells, {**start, name: value}, seen)
                if admissible(r, base) and np.mean(r["npmi"]) > np.mean(best["npmi"]):
                    best = r
            start = dict(best["setting"])
    return base, best, seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics-dir", type=Path, required=True, help="quality.py --save-topics DIR")
    ap.add_argument("--cache", type=Path, default=CACHE, help="quality.py's corpora folder")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of the one-constant-at-a-time search")
    ap.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    args = ap.parse_args()
    cells = load_cells(args.topics_dir, args.cache)
    if not cells:
        sys.exit(f"no saved topic-word matrices in {args.topics_dir} (run quality.py --save-topics first)")
    refs = sorted({c["name"].rsplit("-", 1)[1] for c in cells})
    print(f"{len(cells)} matrices ({', '.join(models(cells))}) on {', '.join(sorted({c['corpus'] for c in cells}))}; "
          f"reference documents: {', '.join(refs)}\n\n{header(cells)}", flush=True)
    base, best, seen = search(cells, args.rounds)
    lines = [header(cells)] + [line(r, cells) for r in seen.values()]
    verdict = (f"Current constants: {base['setting']}, mean NPMI {np.mean(base['npmi']):.4f}. "
               f"Chosen: {best['setting']}, mean NPMI {np.mean(best['npmi']):.4f} "
               f"({'the current ones' if best is base else 'a change'}).")
    print("\n" + verdict)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n\n" + verdict + "\n")


if __name__ == "__main__":
    main()
