"""VAE topic models: ProdLDA, NVDM and GSM (torch is imported here, not at package import).

- :mod:`.networks`: sparse batches, encoder, decoders, priors, ELBO terms;
- :mod:`.training_loop`: the training loop, early stopping, checkpoints;
- :mod:`.model`: the :class:`~topicvae.models.base.TopicModel` classes.
"""

from topicvae.models.vae.model import GSM, NVDM, ProdLDA, VAETopicModel
from topicvae.models.vae.training_loop import TrainingInterrupted

__all__ = ["GSM", "NVDM", "ProdLDA", "VAETopicModel", "TrainingInterrupted"]
