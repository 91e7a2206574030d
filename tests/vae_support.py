"""What the VAE tests share: one torch thread (identical numbers from run to run) and the tiny
network settings that keep their fits fast."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
TINY = dict(hidden=(16,), batch_size=40, threads=1, seed=0)
