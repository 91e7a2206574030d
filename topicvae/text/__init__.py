"""Text pipeline: sources → cleaning and tokenizing → phrases → vocabulary → counts.

:mod:`~topicvae.text.sources` reads documents, :mod:`~topicvae.text.preprocess` and
:mod:`~topicvae.text.tokenize` clean and tokenize them, :mod:`~topicvae.text.phrases` joins
word pairs, :mod:`~topicvae.text.vocabulary` counts, and :mod:`~topicvae.text.vectorizer`
holds all of it fitted, saved with each corpus.
"""
