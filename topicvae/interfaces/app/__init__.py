"""The Streamlit dashboard (``topicvae app``), shipped inside the package so a wheel has it.

``streamlit_app.py`` is the entry file Streamlit runs; ``views/`` holds one script per
page and ``common.py`` what the pages share. Streamlit runs these files as scripts, so
importing this package imports nothing (and needs no Streamlit).
"""
