"""VAE topic models: ProdLDA, NVDM and GSM (torch is imported here, not at package import).

- :mod:`.networks`: the networks, encoder + prior + decoder (ProdLDA's and GSM's, NVDM's);
- :mod:`.sparse`: documents as sparse minibatches, and the first layer that reads them;
- :mod:`.encoder`: q(z|x), the encoder;
- :mod:`.elbo`: the ELBO's terms (KL, reconstruction) and the priors;
- :mod:`.word_embeddings`: the PPMI word embeddings and clusters ProdLDA's topics start from;
- :mod:`.transport`: the balanced-assignment (optimal transport) regulariser's plan;
- :mod:`.training_loop`: the training loop, early stopping, checkpoints;
- :mod:`.model`: the :class:`~topicvae.models.base.TopicModel` classes.
"""

from topicvae.models.vae.model import GSM, NVDM, ProdLDA, VAETopicModel
from topicvae.models.vae.training_loop import TrainingInterrupted

__all__ = ["GSM", "NVDM", "ProdLDA", "VAETopicModel", "TrainingInterrupted"]
