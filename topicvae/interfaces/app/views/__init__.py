"""The dashboard's pages: Streamlit runs each file as a script, in the entry file's navigation."""
