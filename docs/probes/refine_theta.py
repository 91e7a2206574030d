"""Probe: does refining each document's posterior (μ, log σ²) by gradient steps on its ELBO, the decoder
fixed (semi-amortised inference), give θ that classifies better? Validation documents carved from the
training split (a seeded tenth of it); the test split unused.

    python docs/probes/refine_theta.py CORPUS K STEPS[,STEPS...] [ALPHA] [CORPORA_DIR]

CORPUS is a corpus of benchmarks/quality.py's cache (default folder benchmarks/.cache/quality)."""
import sys, time
import numpy as np, torch
from sklearn.linear_model import LogisticRegression
from topicvae.corpus import Corpus
from topicvae.models.vae import ProdLDA
from topicvae.models.vae.elbo import gaussian_kl
from topicvae.models.vae.sparse import eval_batches

name, K, steps = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
alpha = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
torch.set_num_threads(1)
corpus = Corpus.load(name, sys.argv[5] if len(sys.argv) > 5 else "benchmarks/.cache/quality")
labels = corpus.docs["label"].to_numpy()
train = corpus.split_rows("train")
rng = np.random.default_rng(0)
val = np.sort(rng.choice(train, size=len(train) // 10, replace=False))
fit = np.setdiff1d(train, val)
X = corpus.bow.tocsr()
t = time.time()
model = ProdLDA(n_topics=K, seed=0, threads=1, alpha=alpha).fit(X[fit])
print(f"{name} K={K}: trained in {time.time() - t:.0f}s", flush=True)
net = model._fitted_net().eval()

def refined(Xs, n_steps, lr=0.05):
    out = np.empty((Xs.shape[0], K), np.float32)
    for start, stop, batch in eval_batches(net, Xs):
        with torch.no_grad():
            mu0, lv0 = net.encode(batch)
        mu, lv = mu0.clone().requires_grad_(True), lv0.clone().requires_grad_(True)
        opt = torch.optim.Adam([mu, lv], lr=lr)
        g = torch.Generator().manual_seed(start)
        for _ in range(n_steps):
            opt.zero_grad()
            z = mu + (0.5 * lv).exp() * torch.randn(mu.shape, generator=g)
            loss = (net.reconstruct(z, batch) + gaussian_kl(mu, lv, net.prior_mean(batch), net.prior_var)).sum()
            loss.backward()
            opt.step()
        out[start:stop] = torch.softmax(mu.detach(), dim=1).numpy()
    return out

for n in steps:
    t = time.time()
    th_fit, th_val = refined(X[fit], n), refined(X[val], n)
    secs = time.time() - t
    clf = LogisticRegression(max_iter=2000).fit(th_fit, labels[fit])
    acc = clf.score(th_val, labels[val])
    ent = float(-(th_val * np.log(np.clip(th_val, 1e-12, None))).sum(1).mean())
    print(f"{name} K={K} steps={n}: θ accuracy {acc:.3f}, θ entropy {ent:.2f}, {secs:.0f}s for {len(fit) + len(val)} docs", flush=True)
