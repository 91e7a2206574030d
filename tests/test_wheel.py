"""The wheel, installed as a user would: the quickstart and the dashboard work without the checkout.

The module builds the wheel (``pip wheel --no-deps``, from a copy of the files the build
reads, so no stale ``build/`` folder of the checkout can slip into it), makes a fresh
virtual environment with ``--system-site-packages`` (torch, streamlit and the rest are
reused, nothing is downloaded) and installs the wheel there with ``--no-deps``. Every
command then runs from a folder outside the checkout, with ``PYTHONPATH`` unset, and the
tests check that the ``topicvae`` imported is the venv's own (the main environment may hold
an editable install pointing elsewhere).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import site
import subprocess
import sys
import textwrap
import urllib.request
import zipfile
from pathlib import Path

import psutil
import pytest

from app_support import EXECUTABLE_ENV, PAGES, free_port, is_healthy, start_app, stop_app, wait_healthy

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "README.md", "topicvae", "app"]  # app/: to prove it stays out of the wheel
CHROMIUM = os.environ.get("TOPICVAE_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 600  # seconds for any one command: generous, the machine may be shared


def run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``cmd``; fail the test with its output when it does not exit 0."""
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited with {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def outside_env() -> dict:
    """This environment without what would make the checkout (or other folders) importable or chosen."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV") and not k.startswith("TOPICVAE_")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / name, src / name)
    # no build isolation: the installed setuptools builds it, so nothing is downloaded
    run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
         "-w", base / "dist"], cwd=base)
    wheels = list((base / "dist").glob("topicvae-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _inherit_site_packages(venv: Path) -> None:
    """When this Python is itself a virtual environment, ``--system-site-packages`` reaches the
    base interpreter's packages only: list this one's too (after the new venv's own)."""
    if sys.prefix == sys.base_prefix:
        return
    (own,) = (venv / "lib").glob("python*/site-packages")
    (own / "_outer_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    # no pip of its own: the system site-packages' pip serves, run by the venv's Python (so it
    # installs there and leaves the outer environment's topicvae alone)
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=venv.parent)
    _inherit_site_packages(venv)
    run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--force-reinstall", "--no-index",
         "--disable-pip-version-check", wheel], cwd=venv.parent, env=outside_env())
    return venv


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A working folder outside the checkout."""
    folder = tmp_path_factory.mktemp("outside")
    assert REPO not in folder.resolve().parents
    return folder


@pytest.fixture(scope="module")
def quickstart(venv, outside) -> Path:
    """``topicvae quickstart`` (small: 5 topics, 2 epochs) run by the venv's executable in ``outside``."""
    out = run([venv / "bin" / "topicvae", "quickstart", "--topics", "5", "--epochs", "2", "--quiet"],
              cwd=outside, env=outside_env())
    assert "done. What landed where" in out.stdout
    return outside


def test_the_wheel_holds_the_dashboard_and_no_top_level_app(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for page in PAGES:
        assert f"topicvae/interfaces/app/views/{page}.py" in names
    assert {"topicvae/interfaces/app/__init__.py", "topicvae/interfaces/app/streamlit_app.py", "topicvae/interfaces/app/common.py"} <= set(names)
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"topicvae"}, tops  # never a package 'app'


def test_the_venv_imports_its_own_topicvae(venv, outside):
    out = run([venv / "bin" / "python", "-c", textwrap.dedent("""
        import json, topicvae
        from topicvae.interfaces.app_launcher import find_app_dir
        print(json.dumps({"package": topicvae.__file__, "app": str(find_app_dir())}))
        """)], cwd=outside, env=outside_env())
    where = json.loads(out.stdout.strip().splitlines()[-1])
    site_packages = next((venv / "lib").glob("python*/site-packages")).resolve()
    assert Path(where["package"]).resolve().is_relative_to(site_packages), where
    assert Path(where["app"]) == site_packages / "topicvae" / "interfaces" / "app", where
    assert not (site_packages / "app").exists()


def test_quickstart_then_every_page_renders_from_the_installed_package(venv, quickstart):
    assert (quickstart / "runs" / "sample-prodlda-k5" / "config.json").is_file()
    # Streamlit's AppTest inside the venv: every page script of the installed package runs
    script = textwrap.dedent(f"""
        from streamlit.testing.v1 import AppTest
        from topicvae.interfaces.app_launcher import ENTRY_FILE, find_app_dir

        for page in {PAGES!r}:
            at = AppTest.from_file(str(find_app_dir() / ENTRY_FILE), default_timeout=300)
            at.run()
            if page != "overview":
                at.switch_page(f"views/{{page}}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
            print("ok", page)
        """)
    env = {**outside_env(), "TOPICVAE_CORPORA_DIR": str(quickstart / "corpora"),
           "TOPICVAE_RUNS_DIR": str(quickstart / "runs")}
    out = run([venv / "bin" / "python", "-c", script], cwd=quickstart, env=env)
    assert out.stdout.split().count("ok") == len(PAGES), out.stdout


def test_topicvae_app_from_the_wheel_answers_and_stops_on_sigterm(venv, quickstart):
    port = free_port()
    log = quickstart / "app.log"
    proc = start_app(port, quickstart / "corpora", quickstart / "runs", log, cwd=quickstart,
                     executable=str(venv / "bin" / "topicvae"), env=outside_env())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, timeout=180)
        with urllib.request.urlopen(f"{url}/", timeout=30) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        (child,) = psutil.Process(proc.pid).children()
        entry = next(a for a in child.cmdline() if a.endswith("streamlit_app.py"))
        assert Path(entry).resolve().is_relative_to(venv.resolve()), entry  # the wheel's dashboard is served
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert not child.is_running() and not is_healthy(url)  # the launcher waited for Streamlit to close
    finally:
        stop_app(proc)


def test_the_browser_test_passes_against_the_wheel(venv, outside, tmp_path):
    """tests/test_browser.py run by the venv's Python, starting the venv's ``topicvae``, outside the checkout."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    pytest.importorskip("playwright.sync_api")
    env = {**outside_env(), EXECUTABLE_ENV: str(venv / "bin" / "topicvae"),
           "TOPICVAE_SCREENSHOTS": str(tmp_path / "screenshots")}
    if "TOPICVAE_CHROMIUM" in os.environ:
        env["TOPICVAE_CHROMIUM"] = os.environ["TOPICVAE_CHROMIUM"]
    out = run([venv / "bin" / "python", "-m", "pytest", REPO / "tests" / "test_browser.py", "-p", "no:cacheprovider",
               "-q", "-rs", "--basetemp", tmp_path / "basetemp"], cwd=outside, env=env, timeout=900)
    assert " passed" in out.stdout and "skipped" not in out.stdout, out.stdout[-3000:]
