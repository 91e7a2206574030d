"""The dashboard from a source checkout: ``streamlit run app/streamlit_app.py``.

The dashboard itself lives in the package (:mod:`topicvae.interfaces.app`); this file only runs its
entry, and is not part of the wheel. ``topicvae app`` does the same and also sets the
corpora and runs folders (here they come from TOPICVAE_CORPORA_DIR / TOPICVAE_RUNS_DIR,
else ./corpora and ./runs).
"""

from topicvae.interfaces.app.streamlit_app import main

main()
