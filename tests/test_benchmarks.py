"""The benchmark scripts' own logic (their figures are measured by running them, not here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    if str(BENCH) not in sys.path:  # the scripts import their neighbours (bench_common.py), as when run
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def train():
    return load("train")


def row(fit_s: float, npmi: float, epochs=None) -> dict:
    return {"fit_s": fit_s, "npmi": npmi, "diversity": 0.9, "epochs": epochs}


def test_curve_finds_the_first_epoch_count_that_reaches_the_best_lda(train):
    results = [(train.LABELS["lda"], [row(30.0, 0.19)]),
               (train.LABELS["tomotopy"], [row(50.0, 0.28), row(60.0, 0.26)]),  # best: mean NPMI 0.27 in 55 s
               (train.LABELS["prodlda"], [row(20.0, 0.30)])]                     # not an LDA
    curve = {5: [row(4.0, 0.20)], 10: [row(8.0, 0.27)], 15: [row(11.0, 0.29)]}
    text = train.curve_table(curve, results)
    assert "| 10 | 8.0 | 0.270 | 0.900 | 0.15 |" in text  # 8 s of tomotopy's 55 s
    assert "after 10 epochs, in 8.0 s: 0.15 of its time" in text and "tomotopy" in text


def test_curve_says_when_the_best_lda_is_never_reached(train):
    results = [(train.LABELS["ldamulticore"], [row(30.0, 0.35)])]
    text = train.curve_table({5: [row(4.0, 0.2)], 10: [row(8.0, 0.3)]}, results)
    assert "does not reach gensim LdaMulticore's NPMI (0.350)" in text


def test_ratios_are_to_ldamulticore_when_it_ran(train):
    full = {k: 1.0 for k, _, _ in train.COLUMNS}
    rows = [(train.LABELS["lda"], [{**full, "fit_s": 10.0, "npmi": 0.1, "epochs": None}]),
            (train.LABELS["ldamulticore"], [{**full, "fit_s": 20.0, "npmi": 0.2, "epochs": None}]),
            (train.LABELS["prodlda"], [{**full, "fit_s": 5.0, "npmi": 0.3, "epochs": 30}])]
    text = train.table(rows)
    assert "time ÷ LdaMulticore" in text
    assert text.splitlines()[-1].endswith("| 0.25 | +0.100 |")
