"""The analysis layer: every number the ``topicvae`` command and the dashboard show about runs.

Nothing here imports Streamlit, so each function can be tested and used from a notebook.
Imports go one way: this package uses :mod:`topicvae.runs`, :mod:`topicvae.corpus`,
:mod:`topicvae.evaluation` (and :mod:`topicvae.paths`, :mod:`topicvae.inference`, and
:mod:`topicvae.ingestion`'s tokenizer for C_v); :mod:`topicvae.cli`, :mod:`topicvae.experiments` and the
dashboard (:mod:`topicvae.app`) use this package; never the reverse.

Arrays follow the run layout (:mod:`topicvae.runs`): ``topic_word`` is (K, V) with rows
summing to 1 and ``doc_topic`` is θ, (n_docs, K), in corpus row order.

- :mod:`.run_metrics`: ``evaluate_run`` (the metrics of ``docs/metrics.md``), ``metrics.json``
  reading and writing, the text ``topicvae evaluate`` prints.
- :mod:`.compare`: metrics tables of several runs, and one ``align_runs`` for topics.
- :mod:`.workspace`: opening runs and corpora by a name from a user interface, and
  whether a run's corpus is still there unchanged.
- :mod:`.overview`: the tables of the corpora and runs folders, and what to run next.
- :mod:`.commands`: the command lines shown to people.
- :mod:`.topics`: prevalence, LDAvis relevance, the intertopic map (classical MDS),
  coherence per topic, topic tables with labels.
- :mod:`.documents`: titles, filters, θ entropy, nearest documents, inference of a text.
- :mod:`.docmap`: the 2-D document map and its cache in the run folder.
- :mod:`.trends`: topic prevalence by label and over time.

The submodules are imported by name (``from topicvae.analysis import topics``); this
file imports none of them, so importing one does not load the others.
"""
