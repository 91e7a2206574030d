"""VAE topic models: ProdLDA and NVDM (torch is imported here, not at package import).

- :mod:`.networks`: sparse batches, encoder, decoders, priors, ELBO terms;
- :mod:`.trainer`: the training loop, early stopping, checkpoints;
- :mod:`.model`: the :class:`~topicvae.models.base.TopicModel` classes.
"""

from .model import NVDM, ProdLDA, VAETopicModel
from .trainer import TrainingInterrupted

__all__ = ["NVDM", "ProdLDA", "VAETopicModel", "TrainingInterrupted"]
