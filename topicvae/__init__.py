"""topicvae: neural topic models (ProdLDA, NVDM) for text corpora.

The package imports nothing heavy at start; the public API loads on first use::

    import topicvae
    corpus = topicvae.ingest("builtin:sample", name="sample")
    corpus = topicvae.Corpus.load("sample")
    vectorizer = topicvae.Vectorizer().fit(texts)   # text → counts, like CountVectorizer
"""

__version__ = "0.1.0"

_LAZY = {
    "Corpus": ("topicvae.corpus", "Corpus"),
    "ingest": ("topicvae.corpus.ingestion", "ingest"),
    "Vectorizer": ("topicvae.text.vectorizer", "Vectorizer"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'topicvae' has no attribute {name!r}")


__all__ = list(_LAZY)
