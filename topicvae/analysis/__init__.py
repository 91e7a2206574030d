"""The analysis layer: every number the ``topicvae`` command and the dashboard show about corpora and
runs, and the files made from them (exports, figures, checks).

Nothing here imports Streamlit, so each function can be tested and used from a notebook. It uses
the layers below it (:mod:`topicvae.runs`, :mod:`topicvae.scoring`, :mod:`topicvae.corpus`,
:mod:`topicvae.text`); :mod:`topicvae.interfaces` uses it; never the reverse
(``tests/test_layers.py``).

Arrays follow the run layout (:mod:`topicvae.runs`): ``topic_word`` is (K, V) with rows
summing to 1 and ``doc_topic`` is θ, (n_docs, K), in corpus row order.

- :mod:`.run_metrics`: ``evaluate_run`` (the metrics of ``docs/metrics.md``), ``metrics.json``
  reading and writing, the text ``topicvae evaluate`` prints.
- :mod:`.compare`: metrics tables of several runs, and one ``align_runs`` for topics.
- :mod:`.overview`: the tables of the corpora and runs folders, and what to run next.
- :mod:`.command_lines`: the command lines shown to people.
- :mod:`.topics`: prevalence, LDAvis relevance, the intertopic map (classical MDS),
  coherence per topic, topic tables with labels.
- :mod:`.documents`: titles, filters, θ entropy, nearest documents, inference of a text.
- :mod:`.docmap`: the 2-D document map and its cache in the run folder.
- :mod:`.trends`: topic prevalence by label and over time.
- :mod:`.experiments`: several runs at once (``stability``, ``sweep``).
- :mod:`.export`: document vectors and topic tables to CSV or Parquet, in chunks.
- :mod:`.plotting`: the PNG figures of the command line.
- :mod:`.verify`: ``topicvae verify``, corpora and runs checked against what they record.

The submodules are imported by name (``from topicvae.analysis import topics``); this
file imports none of them, so importing one does not load the others.
"""
