"""What every dashboard page shares: the folders, cached loaders, the run picker, friendly errors.

Heavy things are loaded once per process and reused across pages and sessions:
``st.cache_resource`` holds runs, corpora and arrays derived from them, keyed by the
folder and the modification time of ``config.json`` / ``manifest.json``, so a run
trained again (or a corpus ingested again) is read afresh.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from topicvae import paths
from topicvae.analysis import command_lines, docmap, documents, overview, run_metrics, topics
from topicvae.analysis.topics import TopicView
from topicvae.corpus import MANIFEST_FILE, Corpus
from topicvae.errors import RunError, TopicVAEError
from topicvae.runs import CONFIG_FILE, Run, damaged, list_runs, workspace
from topicvae.runs.labels import LABELS_FILE, default_labels, topic_labels
from topicvae.runs.workspace import CorpusStatus
from topicvae.scoring import representation as representations


# ---------------------------------------------------------------------------- folders and keys
def folders() -> tuple[Path, Path]:
    """(corpora folder, runs folder) as absolute paths, from TOPICVAE_CORPORA_DIR / TOPICVAE_RUNS_DIR."""
    return paths.corpora_dir().resolve(), paths.runs_dir().resolve()


def _stamp(path: Path) -> int:
    """The modification time of ``path`` in ns (0 when absent): part of every cache key."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def run_key(run: Run) -> tuple[str, int]:
    """Identifies one version of a run: its folder and the time its config.json was written."""
    return str(run.path), _stamp(run.path / CONFIG_FILE)


def corpus_key(corpus: Corpus | None) -> tuple[str, int] | None:
    """Identifies one version of a corpus: its folder and the time its manifest was written."""
    return None if corpus is None else (str(corpus.path), _stamp(Path(corpus.path) / MANIFEST_FILE))


# ---------------------------------------------------------------------------- cached loaders
@st.cache_resource(max_entries=4, show_spinner=False)
def _run_summaries(runs_dir: str, stamp: int) -> list[dict]:
    return list_runs(runs_dir)


def run_summaries() -> list[dict]:
    """Summaries of the complete runs in the runs folder, re-read when the folder changes."""
    _, runs = folders()
    return _run_summaries(str(runs), _stamp(runs))


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_run(runs_dir: str, name: str, stamp: int) -> Run:
    return workspace.load_run(name, runs_dir)


def get_run(name: str) -> Run:
    """The run ``name`` in the runs folder (refusing names that would leave it); :class:`RunError`, one line,
    when a file it records is missing or of another size (checked on every call: a stat per file)."""
    _, runs = folders()
    folder = paths.resolve_run_dir(name, runs)
    run = _load_run(str(runs), name, _stamp(folder / CONFIG_FILE))
    problems = run.file_problems()
    if problems:
        raise damaged(name, folder.parent, problems[0])
    return run


@st.cache_resource(max_entries=8, show_spinner="Loading the corpus…")
def _load_corpus(corpora_dir: str, name: str, stamp: int) -> Corpus:
    return workspace.load_corpus(name, corpora_dir)


@st.cache_resource(max_entries=32, show_spinner=False)
def _corpus_status(key: tuple, corpora_dir: str, manifest_stamp: int, _run: Run) -> CorpusStatus:
    return workspace.corpus_status(_run, corpora_dir)


def corpus_for(run: Run) -> tuple[Corpus | None, CorpusStatus]:
    """The run's corpus when it is present and unchanged, else (None, status saying why)."""
    corpora, _ = folders()
    name = run.config.get("corpus") or ""
    try:
        manifest = paths.resolve_corpus_dir(name, corpora) / MANIFEST_FILE
    except TopicVAEError:
        manifest = corpora / "-"
    status = _corpus_status(run_key(run), str(corpora), _stamp(manifest), run)
    if not status.ok:
        return None, status
    return _load_corpus(str(corpora), status.name, _stamp(manifest)), status


@st.cache_resource(max_entries=64, show_spinner=False)
def _labels(key: tuple, labels_stamp: int, _run: Run) -> list[str]:
    return topic_labels(_run)


def labels(run: Run) -> list[str]:
    """Topic labels (saved names over 'k: top words'), re-read when labels.json changes. A damaged
    labels.json is said in one warning, with how to mend it, and the default labels stand in (the rest
    of the page does not need it)."""
    try:
        return _labels(run_key(run), _stamp(run.path / LABELS_FILE), run)
    except RunError as exc:
        st.warning(f"{exc}. The labels shown meanwhile are the defaults.", icon=":material/warning:")
        return default_labels(run.top_words(3))


REPRESENTATION_KEY = "representation"


def representation_picker() -> str:
    """The representation picked on the page (one choice shared by every page; default
    :data:`topicvae.scoring.representation.DEFAULT`): how each topic's words are ranked."""
    names = representations.methods()
    if st.session_state.get(REPRESENTATION_KEY) not in names:
        st.session_state[REPRESENTATION_KEY] = representations.DEFAULT
    return st.selectbox("Topic words by", names, key=REPRESENTATION_KEY, format_func=representations.describe,
                        help="How each topic's words are ranked; the topics themselves (the model's own "
                             "p(word | topic), exported as weight) stay the same.")


def representation(corpus: Corpus | None = None) -> str:
    """The representation picked (:func:`representation_picker`), or the default before any pick;
    ``probability`` when the pick needs the training documents and ``corpus`` is None."""
    picked = st.session_state.get(REPRESENTATION_KEY)
    return topics.readable_representation(picked if picked in representations.methods() else representations.DEFAULT,
                                          corpus)


#: the most words per topic a page lists (the topic table's): ranked once per run, each page takes the first
#: n (a representation's first n words are the first n of a longer list: tests/test_representation.py)
RANKED_WORDS = 20


@st.cache_resource(max_entries=32, show_spinner="Ranking the topics' words…")
def _top_word_ids(key: tuple, ckey: tuple | None, method: str, _run: Run, _corpus: Corpus | None) -> np.ndarray:
    return topics.topic_word_ids(_run, _corpus, method, RANKED_WORDS)


def top_word_ids(run: Run, n: int = 10, corpus: Corpus | None = None) -> np.ndarray:
    """(K, n) ids of the first ``n`` (at most :data:`RANKED_WORDS`) words of every topic of ``run`` in the
    picked representation, ranked once per run version and representation (the topic words, their NPMI
    and the topic table share them)."""
    return _top_word_ids(run_key(run), corpus_key(corpus), representation(corpus), run, corpus)[:, :n]


def top_words(run: Run, n: int = 10, corpus: Corpus | None = None) -> list[list[str]]:
    """The first ``n`` words of every topic of ``run`` in the picked representation."""
    return [[run.vocab[j] for j in row] for row in top_word_ids(run, n, corpus)]


@st.cache_resource(max_entries=32, show_spinner=False)
def _metrics(key: tuple, stamp: int, _run: Run) -> dict | None:
    return run_metrics.read_metrics(_run)


def metrics(run: Run) -> dict | None:
    """metrics.json of the run (None when it has not been evaluated). A damaged file is one warning,
    with the command that writes it again, and the page goes on as for a run not evaluated."""
    try:
        return _metrics(run_key(run), _stamp(run.path / run_metrics.METRICS_FILE), run)
    except RunError as exc:
        st.warning(f"{exc}. Meanwhile the page shows what needs no metrics.json.", icon=":material/warning:")
        return None


@st.cache_resource(max_entries=16, show_spinner="Preparing the topics…")
def _topic_view(key: tuple, ckey: tuple | None, _run: Run, _corpus: Corpus | None) -> TopicView:
    return topics.topic_view(_run, _corpus)


def topic_view(run: Run, corpus: Corpus | None) -> TopicView:
    """Prevalence, p(w) and the intertopic map of ``run`` (:func:`topicvae.analysis.topics.topic_view`), once per run version."""
    return _topic_view(run_key(run), corpus_key(corpus), run, corpus)


@st.cache_resource(max_entries=16, show_spinner="Measuring topic coherence (NPMI)…")
def _coherence(key: tuple, ckey: tuple | None, mstamp: int, method: str, _run: Run, _corpus: Corpus | None,
               _metrics: dict | None):
    ids = _top_word_ids(key, ckey, method, _run, _corpus)
    return topics.topic_coherence(_run, _corpus, _metrics, method, word_ids=ids)


def coherence(run: Run, corpus: Corpus | None) -> tuple[np.ndarray | None, str]:
    """Per-topic NPMI of the words in the picked representation (from metrics.json when it measured
    that one, else computed on the corpus, from the topic words the page shows) and its source."""
    return _coherence(run_key(run), corpus_key(corpus), _stamp(run.path / run_metrics.METRICS_FILE),
                      representation(corpus), run, corpus, metrics(run))


@st.cache_resource(max_entries=8, show_spinner="Reading the documents…")
def _document_view(key: tuple, ckey: tuple | None, _run: Run, _corpus: Corpus | None) -> documents.DocumentView:
    return documents.document_view(_run, _corpus)


def document_view(run: Run, corpus: Corpus | None) -> documents.DocumentView:
    """The documents the pages hold (:func:`topicvae.analysis.documents.document_view`: all of a run's, or a
    seeded sample of a large run's), once per run version."""
    return _document_view(run_key(run), corpus_key(corpus), run, corpus)


@st.cache_resource(max_entries=16,
                   show_spinner="Computing the document map (once per run; it is then kept in the run folder)…")
def _doc_map(key: tuple, source: str, sampled: bool, _run: Run, _view: documents.DocumentView) -> docmap.DocMap:
    return docmap.document_map(_run, source=source, rows=_view.rows if sampled else None)


def doc_map(run: Run, view: documents.DocumentView, source: str = "theta") -> docmap.DocMap:
    """The map of the view's documents (:func:`topicvae.analysis.docmap.document_map`), once per run version;
    ``coords[i]`` is the view's document i."""
    return _doc_map(run_key(run), source, view.sampled, run, view)


@st.cache_resource(max_entries=8, show_spinner=False)
def _titles(key: tuple, ckey: tuple | None, html_escaped: bool, _view: documents.DocumentView) -> np.ndarray:
    if html_escaped:
        return np.asarray([html.escape(t) for t in _titles(key, ckey, False, _view)], dtype=object)
    if _view.docs is None:
        return np.asarray([f"Document row {r}" for r in _view.rows], dtype=object)
    return documents.document_titles(_view.docs)


def titles(run: Run, corpus: Corpus | None, view: documents.DocumentView, html_escaped: bool = False) -> np.ndarray:
    """A short title for every document of the view: its 'title' column, else its Subject header or first
    line ('Document row N' without the corpus).

    ``html_escaped`` gives them ready for Plotly's hover labels (which read HTML).
    """
    return _titles(run_key(run), corpus_key(corpus), html_escaped, view)


# ---------------------------------------------------------------------------- page furniture
def new_click(chart_key: str, memo_key: str, run_name: str) -> int | None:
    """The index (first ``customdata`` value) of the point clicked on the plotly chart whose
    selection is in ``st.session_state[chart_key]``; None when nothing new was clicked.

    A selection stays in the session after reruns; ``memo_key`` remembers the last click
    applied so that later widget changes are not overridden by the same old click.
    """
    event = st.session_state.get(chart_key)
    try:
        points = event["selection"]["points"]
    except (TypeError, KeyError):
        return None
    if not points:
        return None
    custom = points[0].get("customdata")
    index = int(custom[0] if isinstance(custom, (list, tuple)) else custom)
    if st.session_state.get(memo_key) == (run_name, index):
        return None
    st.session_state[memo_key] = (run_name, index)
    return index


def run_label(summary: dict) -> str:
    """How the run pickers name a run: its name, model and K."""
    return f"{summary['name']}  ({summary.get('model')}, K={summary.get('n_topics')})"


def empty_state() -> None:
    """The page shown when there is nothing to explore: what to run, and where the app looks."""
    corpora, runs = folders()
    names = overview.corpora_overview(corpora)["corpus"].tolist()
    st.title("Welcome to topicvae")
    if not names:
        st.markdown("There are no corpora or trained runs here yet. Make the built-in sample corpus "
                    "and train a first model on it from a terminal (one command), then reload this page:")
        st.code(command_lines.quickstart_command(), language="bash")
    else:
        st.markdown("There are corpora but no trained runs yet. Train a model from a terminal, "
                    "then reload this page:")
        st.code("\n".join(command_lines.train_command(n) for n in names), language="bash")
    st.caption(f"Looking for corpora in `{corpora}` and runs in `{runs}`. "
               "Start the app with `--corpora-dir` / `--runs-dir` to look elsewhere.")


def pick_run(page: str) -> Run:
    """The run picker in the sidebar (its choice carries over to the other pages).

    Shows the empty-installation page and stops the script when there is no run.
    """
    summaries = run_summaries()
    if not summaries:
        empty_state()
        st.stop()
    names = [s["name"] for s in summaries]
    by_name = {s["name"]: s for s in summaries}
    picker = f"run_picker_{page}"
    wanted = st.query_params.get("run")  # ?run=NAME in the address: a link to one run
    if wanted and wanted != st.session_state.get("_run_from_url"):
        st.session_state["_run_from_url"] = wanted
        if wanted in names:
            st.session_state["run_name"] = wanted
            st.session_state.pop(picker, None)
        else:
            try:
                paths.resolve_run_dir(wanted, folders()[1])
            except TopicVAEError as exc:
                message = f"refused: {exc}"
            else:
                try:  # the picker leaves out a run whose config.json cannot be used: say so
                    workspace.load_run(wanted, folders()[1])
                    message = f"there is no run named {wanted!r}; showing another run"
                except TopicVAEError as exc:
                    message = f"{exc}; showing another run"
            st.warning(message, icon=":material/warning:")
    current = st.session_state.get("run_name")
    choice = st.sidebar.selectbox("Run", names, index=names.index(current) if current in names else 0, key=picker)
    s = by_name[choice]
    st.sidebar.caption(f"{s.get('model')} · K = {s.get('n_topics')} · corpus {s.get('corpus')} · "
                       f"{s.get('epochs')} epochs")
    st.session_state["run_name"] = choice
    if st.query_params.get("run") != choice:
        st.query_params["run"] = choice
        st.session_state["_run_from_url"] = choice
    return get_run(choice)


def run_page(page: str, title: str, caption: Callable[[Run], str] | None = None) -> tuple[Run, Corpus | None, list[str]]:
    """The start of every page about one run: the run picked in the sidebar, its corpus (None
    when missing or changed) and its topic labels, under the page's title, its caption and a
    warning when the corpus cannot be used."""
    run = pick_run(page)
    corpus, status = corpus_for(run)
    st.title(title)
    if caption is not None:
        st.caption(caption(run))
    names = labels(run)  # (under the title: a damaged labels.json is a warning)
    show_corpus_status(status)
    return run, corpus, names


def show_corpus_status(status: CorpusStatus) -> None:
    """A warning saying why the run's corpus cannot be used (nothing when it can)."""
    if not status.ok:
        st.warning(status.message[:1].upper() + status.message[1:], icon=":material/warning:")


def render(page: Callable[[], None]) -> None:
    """Run a page, turning errors a person can fix into one readable line instead of a traceback."""
    try:
        page()
    except TopicVAEError as exc:
        st.error(str(exc), icon=":material/error:")


def md_escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped, for st.markdown."""
    out = str(text)
    for ch in "\\`*_[]#|<>~$":
        out = out.replace(ch, "\\" + ch)
    return out


def show_text(text, limit: int = 4000) -> None:
    """A document's text as plain text, cut after ``limit`` characters (a long post would slow the page)."""
    text = str(text)
    st.text(text[:limit] + (" …" if len(text) > limit else ""))


def percent(x: float) -> str:
    """``x`` (a share) as a percentage with one decimal."""
    return f"{100 * x:.1f} %"
