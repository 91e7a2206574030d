"""Where the label information of ProdLDA's document vectors is: θ against μ, and θ after per-document refinement.

Trains one ProdLDA (the defaults, or the settings given) on the training rows of a corpus of
``benchmarks/quality.py`` (``--reference validation``: the validation split carved from them, the
test documents unused), then scores θ accuracy the way quality.py does (scikit-learn
``LogisticRegression(max_iter=2000)`` fit on the training documents' vectors, accuracy on the
reference documents) for:

- θ = softmax(μ), the model's document vectors;
- μ, the posterior mean itself (the same information, unsquashed);
- θ after N steps of Adam on each document's own ELBO, starting from the encoder's q(z|x) with the
  decoder fixed (semi-amortised inference: how much the encoder leaves on the table).

    python benchmarks/theta_probe.py --corpus ng --topics 50 --steps 0,20,100 [--set bn_anneal=0]

Corpora are read from quality.py's cache (``--cache``), ingested there by quality.py first.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import CACHE, reference_rows  # noqa: E402  (benchmarks/quality.py)


def accuracy(train_vectors, train_labels, ref_vectors, ref_labels) -> float:
    from quality import label_scores

    return round(float(label_scores(train_vectors, train_labels, ref_vectors, ref_labels)[0]), 3)


def refined_theta(net, X, steps: int, lr: float = 0.05, seed: int = 0) -> np.ndarray:
    """θ = softmax(μ) after ``steps`` Adam steps on each document's ELBO (one sample of z a step),
    from the encoder's (μ, log σ²), the network's weights fixed."""
    from topicvae.models.vae.elbo import gaussian_kl
    from topicvae.models.vae.sparse import eval_batches

    gen = torch.Generator().manual_seed(seed)
    out = []
    for _, _, batch in eval_batches(net, X, 2048):
        with torch.no_grad():
            mu, logvar = net.encoder(batch)
        mu, logvar = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
        opt = torch.optim.Adam([mu, logvar], lr=lr)
        for _ in range(steps):
            z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=gen)
            loss = (net.reconstruct(z, batch) + gaussian_kl(mu, logvar, net.prior_mean(batch), net.prior_var)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        out.append(torch.softmax(mu.detach(), dim=1).numpy())
    return np.vstack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="ng", help="a corpus key of benchmarks/quality.py, already in --cache")
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", choices=["validation", "test"], default="validation")
    ap.add_argument("--steps", default="0,20,100", help="refinement steps to score, comma-separated")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a ProdLDA setting (repeatable)")
    ap.add_argument("--cache", type=Path, default=CACHE)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from topicvae.corpus import Corpus
    from topicvae.models.vae import ProdLDA

    settings = {k: ast.literal_eval(v) for k, v in (item.split("=", 1) for item in args.set)}
    c = Corpus.load(args.corpus, args.cache)
    train, ref = reference_rows(c, args.reference)
    labels = c.docs["label"].to_numpy()
    model = ProdLDA(args.topics, seed=args.seed, threads=1, device="cpu", **settings).fit(c.bow[train])
    mu_train, mu_ref = model.posterior(c.bow[train])[0], model.posterior(c.bow[ref])[0]
    print(f"{args.corpus} K={args.topics} seed {args.seed} {settings or 'defaults'} ({args.reference} documents)")
    print(f"μ: θ accuracy {accuracy(mu_train, labels[train], mu_ref, labels[ref])}")
    net = model.net_.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    for steps in (int(s) for s in args.steps.split(",")):
        t = time.perf_counter()
        a, b = refined_theta(net, c.bow[train], steps), refined_theta(net, c.bow[ref], steps)
        print(f"θ after {steps} refinement steps: θ accuracy {accuracy(a, labels[train], b, labels[ref])}, "
              f"mean largest share {b.max(1).mean():.3f} ({time.perf_counter() - t:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
