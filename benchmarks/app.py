"""Dashboard speed on one run: the document map, first visits and pages served from the cache.

    python benchmarks/app.py --run news-prodlda-k50 --runs-dir runs --corpora-dir corpora [--browser]

Measures, on the given run (the issue's target is the 20 Newsgroups K=50 run):

1. the document map: computing it (PCA, and UMAP when installed) and reading it back
   from the run folder (what the next app start does);
2. the first visit of each page in a fresh process (Streamlit's AppTest runs the page
   script: loading the run and corpus, NPMI, the intertopic map, ...), once with the map
   cache removed and once with it present;
3. pages served from the cache: switching pages, switching topics, moving the λ slider
   (median of ``--repeats`` script runs after a first visit);
4. with ``--browser``, the same in headless Chromium through ``topicvae app``: the time
   from a click in the sidebar (or a new topic) until the page is drawn.

AppTest times are the server's share (running the page script); the browser times add
the network round trip and drawing. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = ["overview", "topics", "documents", "infer", "compare", "trends", "downloads"]
CHROMIUM = os.environ.get("TOPICVAE_CHROMIUM", "/usr/bin/chromium")


# ---------------------------------------------------------------------------- helpers
def _entry() -> Path:
    """The dashboard's entry file in the installed package (topicvae/interfaces/app/streamlit_app.py)."""
    from topicvae.interfaces.app_launcher import ENTRY_FILE, find_app_dir

    return find_app_dir() / ENTRY_FILE


def _apptest(run: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(_entry()), default_timeout=600)
    at.query_params["run"] = run
    return at


def _timed_run(at) -> float:
    t = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - t
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return seconds


def _goto(at, page: str) -> float:
    at.switch_page(f"views/{page}.py")
    return _timed_run(at)


def _child(args: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- measurements
def _view_rows(run, corpora_dir: Path):
    """The rows the dashboard maps: all, or its seeded sample of a run above SAMPLE_DOCS (None: all)."""
    from topicvae.analysis import documents
    from topicvae.runs import DOC_TOPIC_FILE
    from topicvae.runs.workspace import run_corpus

    n = run.array(DOC_TOPIC_FILE, mmap_mode="r").shape[0]
    rows = documents.view_rows(n, run_corpus(run, corpora_dir))
    return None if len(rows) == n else rows


def measure_map(run_name: str, runs_dir: Path, corpora_dir: Path) -> list[dict]:
    from topicvae.analysis import docmap
    from topicvae.runs.workspace import load_run

    run = load_run(run_name, runs_dir)
    view = _view_rows(run, corpora_dir)
    rows = []
    methods = ["pca"] + (["umap"] if docmap.umap_available() else [])
    for method in methods:
        t = time.perf_counter()
        m = docmap.document_map(run, method=method, refresh=True, rows=view)
        compute = time.perf_counter() - t
        t = time.perf_counter()
        cached = docmap.read_map_cache(load_run(run_name, runs_dir), "theta", method, rows=view)
        read = time.perf_counter() - t
        assert cached is not None
        rows.append({"method": method, "docs": m.coords.shape[0], "compute_s": compute, "read_cache_s": read})
    # leave the app's default (UMAP when installed, else PCA) in the cache
    docmap.document_map(run, method=methods[-1], rows=view)
    return rows


def child_first_visits(run: str) -> dict:
    """In a fresh process: the first visit of every page, in order (the app's own start)."""
    import resource

    at = _apptest(run)
    out = {"overview": _timed_run(at)}
    out["overview peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for page in PAGES[1:]:
        out[page] = _goto(at, page)
        out[f"{page} peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child_documents_first(run: str) -> dict:
    at = _apptest(run)
    at.switch_page("views/documents.py")
    return {"documents": _timed_run(at)}


def measure_warm(run_name: str, repeats: int) -> dict:
    """Script seconds of pages served from the cache (median over ``repeats``)."""
    at = _apptest(run_name)
    at.run()
    for page in PAGES:  # first visits fill the caches
        _goto(at, page)
    switch = {p: [] for p in PAGES}
    for _ in range(repeats):
        for page in PAGES:
            switch[page].append(_goto(at, page))
    _goto(at, "topics")
    key = f"topic_{run_name}"
    K = len(at.selectbox(key=key).options)
    topic_times, lam_times = [], []
    for i in range(repeats):
        at.selectbox(key=key).set_value((i * 7 + 1) % K)
        topic_times.append(_timed_run(at))
        at.slider(key="relevance_lambda").set_value([0.2, 0.6, 1.0][i % 3])
        lam_times.append(_timed_run(at))
    result = {f"switch to {p}": statistics.median(v) for p, v in switch.items()}
    result["topics: another topic"] = statistics.median(topic_times)
    result["topics: move λ"] = statistics.median(lam_times)

    _goto(at, "infer")
    texts = ["The space shuttle was launched into orbit by NASA on Tuesday.",
             "Our team won the hockey game in overtime after a late goal.",
             "Which graphics card works best with this monitor under Windows?"]
    at.text_area(key="infer_text").input(texts[0])
    result["infer: first text (loads the model)"] = _timed_run(at)
    infer_times = []
    for i in range(repeats):
        at.text_area(key="infer_text").input(f"{texts[1 + i % 2]} ({i})")
        infer_times.append(_timed_run(at))
    result["infer: another text"] = statistics.median(infer_times)
    return result


def run_topics(runs_dir: Path, run_name: str) -> int:
    return int(json.loads((runs_dir / run_name / "config.json").read_text())["n_topics"])


def measure_browser(run_name: str, corpora_dir: Path, runs_dir: Path, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "topicvae.interfaces.cli", "app", "--port", str(port), "--corpora-dir",
                             str(corpora_dir), "--runs-dir", str(runs_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    titles = {"overview": "Overview", "topics": "Topics", "documents": "Documents", "infer": "Infer",
              "compare": "Compare", "trends": "Trends", "downloads": "Downloads"}
    try:
        import urllib.request

        for _ in range(180):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                        "--headless", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(f"{url}/?run={run_name}")
            page.wait_for_selector(idle)

            def click(name: str) -> float:
                t = time.perf_counter()
                page.locator('[data-testid="stSidebarNav"] a', has_text=titles[name]).first.click()
                page.wait_for_timeout(50)
                page.wait_for_selector(idle)
                if page.locator('[data-testid="stPlotlyChart"]').count():
                    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
                return time.perf_counter() - t

            for name in PAGES[1:] + ["overview"]:  # first visits
                click(name)
            times = {p: [] for p in PAGES}
            for _ in range(repeats):
                for name in PAGES[1:] + ["overview"]:
                    times[name].append(click(name))
            result = {f"switch to {p}": statistics.median(v) for p, v in times.items()}

            click("topics")
            K = run_topics(runs_dir, run_name)
            picker = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(has_text="Topic").first
            topic_times = []
            for i in range(repeats):
                k = (i * 7 + 3) % K
                t = time.perf_counter()
                picker.click()
                page.keyboard.type(f"{k}: ")
                page.keyboard.press("Enter")
                page.wait_for_timeout(50)
                page.wait_for_selector(idle)
                page.get_by_role("heading", name="Most representative documents").wait_for()
                topic_times.append(time.perf_counter() - t)
            result["topics: another topic"] = statistics.median(topic_times)
            browser.close()
        return result
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


# ---------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run name")
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--corpora-dir", default="corpora")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--browser", action="store_true", help="also time page switches in headless Chromium")
    ap.add_argument("--first-visits", action="store_true",
                    help="only the first visit of each page in a fresh process, with the process's peak RSS after "
                         "it, on the run in place (for a run too large to copy; the map cache is kept)")
    ap.add_argument("--child", choices=["first-visits", "documents-first"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    corpora_dir, runs_dir = Path(args.corpora_dir).resolve(), Path(args.runs_dir).resolve()
    os.environ["TOPICVAE_CORPORA_DIR"], os.environ["TOPICVAE_RUNS_DIR"] = str(corpora_dir), str(runs_dir)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    if args.child == "first-visits":
        print(json.dumps(child_first_visits(args.run)))
        return
    if args.child == "documents-first":
        print(json.dumps(child_documents_first(args.run)))
        return

    from topicvae.analysis import docmap
    from topicvae.runs import DOC_TOPIC_FILE
    from topicvae.runs.workspace import load_run

    run = load_run(args.run, runs_dir)
    n_docs, K = run.array(DOC_TOPIC_FILE, mmap_mode="r").shape
    print(f"## Dashboard speed: run `{args.run}` ({run.model_name}, K={K}, {n_docs:,} documents, "
          f"{run.topic_word.shape[1]:,} words)\n")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")

    if args.first_visits:
        child = ["--run", args.run, "--runs-dir", str(runs_dir), "--corpora-dir", str(corpora_dir)]
        first = _child(child + ["--child", "first-visits"], dict(os.environ))
        print("### First visit of each page (fresh process, in menu order)\n")
        print("| page | s | process peak RSS after it, MB |\n|---|---|---|")
        for p in PAGES:
            print(f"| {p} | {first[p]:.2f} | {first.get(f'{p} peak MB', float('nan')):,.0f} |")
        return
    # work on a copy of the run so that the user's label edits and caches stay as they were
    with tempfile.TemporaryDirectory(prefix="topicvae-bench-") as tmp:
        runs_copy = Path(tmp) / "runs"
        shutil.copytree(runs_dir, runs_copy, ignore=shutil.ignore_patterns(".*"))  # the other runs: Compare
        (runs_copy / args.run / "labels.json").unlink(missing_ok=True)
        env = {**os.environ, "TOPICVAE_RUNS_DIR": str(runs_copy)}
        os.environ["TOPICVAE_RUNS_DIR"] = str(runs_copy)
        child = ["--run", args.run, "--runs-dir", str(runs_copy), "--corpora-dir", str(corpora_dir)]

        for f in (docmap.MAP_FILE, docmap.MAP_META_FILE):
            (runs_copy / args.run / f).unlink(missing_ok=True)
        no_cache = _child(child + ["--child", "documents-first"], env)["documents"]
        maps = measure_map(args.run, runs_copy, corpora_dir)
        with_cache = _child(child + ["--child", "documents-first"], env)["documents"]
        first = _child(child + ["--child", "first-visits"], env)
        warm = measure_warm(args.run, args.repeats)
        browser = measure_browser(args.run, corpora_dir, runs_copy, args.repeats) if args.browser else None

    print("### Document map\n")
    print("| method | documents | compute s | read back from the run folder s |")
    print("|---|---|---|---|")
    for r in maps:
        print(f"| {r['method']} | {r['docs']:,} | {r['compute_s']:.2f} | {r['read_cache_s']:.3f} |")
    print(f"\nDocuments page, first visit in a fresh process: {no_cache:.2f} s without the map cache, "
          f"{with_cache:.2f} s with it.\n")
    print("### First visit of each page (fresh process, in menu order)\n")
    print("| page | s |\n|---|---|")
    for p in PAGES:
        print(f"| {p} | {first[p]:.2f} |")
    print(f"\n### Served from the cache (median of {args.repeats})\n")
    head = "| action | script s (AppTest) |" + (" browser s (click → drawn) |" if browser else "")
    print(head)
    print("|---|---|" + ("---|" if browser else ""))
    for action, s in warm.items():
        b = f" {browser[action]:.2f} |" if browser and action in browser else (" |" if browser else "")
        print(f"| {action} | {s:.3f} |{b}")


if __name__ == "__main__":
    main()
