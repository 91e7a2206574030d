"""Every registered TopicModel passes the same interface contract (tests/contract.py)."""

from __future__ import annotations

import pytest

from contract import check_topic_model
from topicvae.corpus.synthetic import sample_lda_corpus
from topicvae.models.lda import LDA
from topicvae.models.vae import GSM, NVDM, ProdLDA
from topicvae.runs import MODELS

SMALL_VAE = dict(hidden=(32,), epochs=5, batch_size=50, threads=1, seed=0)

#: (registry name, factory of an unfitted model with n_topics=4). Add a model here when
#: it joins topicvae.runs.MODELS.
MODEL_FACTORIES = [
    ("prodlda", lambda: ProdLDA(4, **SMALL_VAE)),
    ("nvdm", lambda: NVDM(4, **SMALL_VAE)),
    ("gsm", lambda: GSM(4, **SMALL_VAE)),
    ("lda", lambda: LDA(4, passes=3, chunksize=100, seed=0, history_docs=0)),
]


@pytest.fixture(scope="module")
def counts():
    X, _, _ = sample_lda_corpus(n_docs=300, n_topics=4, n_words=80, doc_len=40, alpha=0.2, beta=0.1, seed=3)
    return X


@pytest.mark.parametrize("factory", [f for _, f in MODEL_FACTORIES], ids=[n for n, _ in MODEL_FACTORIES])
def test_topic_model_contract(factory, counts, tmp_path):
    check_topic_model(factory, counts, tmp_path=tmp_path)


def test_every_registered_model_is_in_the_contract():
    assert set(MODELS) <= {name for name, _ in MODEL_FACTORIES}
