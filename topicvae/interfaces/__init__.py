"""The ways people reach topicvae: the ``topicvae`` command line and the Streamlit dashboard, thin layers
over the public API of the layers below."""
