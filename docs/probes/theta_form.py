"""Probe: is θ accuracy behind tomotopy's because θ lacks the documents' classes, or because of its form?

Trains a model on the validation split of ``benchmarks/quality.py`` (a seeded fifth of the training
rows held out, the test split unused) and scores the benchmark's θ accuracy (``quality.label_scores``:
scikit-learn ``LogisticRegression(max_iter=2000)``) on several forms of the same document vectors, the same forms
for every model: θ itself (the benchmark's θ accuracy), log θ, θ standardised per topic, and, for the
VAEs, μ of q(z|x) (θ = softmax(μ)). One line per form.

    python docs/probes/theta_form.py CORPUS K MODEL [CACHE]

CORPUS: a corpus of quality.py's cache (default folder benchmarks/.cache/quality); MODEL: prodlda or
tomotopy; seed 0, one thread."""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_common import child_env  # noqa: E402

os.environ.update(child_env(1))  # every BLAS pool at one thread, as quality.py's jobs run: the same models
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import quality  # noqa: E402  (benchmarks/quality.py: the split, the models as the benchmark builds them)
from topicvae.corpus import Corpus  # noqa: E402

if len(sys.argv) < 4 or sys.argv[3] not in ("prodlda", "tomotopy"):
    sys.exit(__doc__)
name, K, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cache = sys.argv[4] if len(sys.argv) > 4 else "benchmarks/.cache/quality"
torch.set_num_threads(1)
corpus = Corpus.load(name, cache)
train, ref = quality.reference_rows(corpus, "validation")
labels = corpus.docs["label"].to_numpy()
X_train, X_ref = corpus.bow[train], corpus.bow[ref]
job = {"kind": kind, "seed": 0, "topics": K, "threads": 1, "quick": False, "params": {}}
model = quality.build_model(job)
t = time.perf_counter()
model.fit(X_train, progress=False)
print(f"{name} K={K} {kind}: trained in {time.perf_counter() - t:.0f} s", flush=True)
theta_train, theta_ref = model.transform(X_train), model.transform(X_ref)


def accuracy(a: np.ndarray, b: np.ndarray) -> float:
    return quality.label_scores(a, labels[train], b, labels[ref])[0]


forms = {"theta": (theta_train, theta_ref),
         "log theta": (np.log(np.clip(theta_train, 1e-12, None)), np.log(np.clip(theta_ref, 1e-12, None)))}
scaler = StandardScaler().fit(theta_train)
forms["theta standardised"] = (scaler.transform(theta_train), scaler.transform(theta_ref))
if hasattr(model, "posterior"):
    forms["mu"] = (model.posterior(X_train)[0], model.posterior(X_ref)[0])
for form, (a, b) in forms.items():
    print(f"{name} K={K} {kind} {form}: accuracy {accuracy(a, b):.3f}", flush=True)
print(f"{name} K={K} {kind} mean largest θ share: {theta_ref.max(axis=1).mean():.3f}", flush=True)
