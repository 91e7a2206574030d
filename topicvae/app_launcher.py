"""Start the Streamlit dashboard (``topicvae app``) on the configured folders.

The dashboard lives in the repository's ``app/`` folder (beside this package in an
editable install). It reads its folders from ``TOPICVAE_CORPORA_DIR`` and
``TOPICVAE_RUNS_DIR``, which :func:`launch` sets to absolute paths, so the app sees the
same folders whatever directory Streamlit runs in.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

from . import paths
from .errors import ConfigError

APP_ENV = "TOPICVAE_APP_DIR"
ENTRY_FILE = "streamlit_app.py"


def find_app_dir() -> Path:
    """The folder holding ``streamlit_app.py``: ``$TOPICVAE_APP_DIR``, else ``app/`` beside the package.

    Raises:
        ConfigError: neither exists (the package was installed without its source checkout).
    """
    candidates = []
    if os.environ.get(APP_ENV):
        candidates.append(Path(os.environ[APP_ENV]))
    candidates.append(Path(__file__).resolve().parent.parent / "app")
    for folder in candidates:
        if (folder / ENTRY_FILE).is_file():
            return folder.resolve()
    tried = ", ".join(str(c / ENTRY_FILE) for c in candidates)
    raise ConfigError(f"the dashboard's files were not found (looked for {tried}); the app runs from a source "
                      f"checkout installed with 'pip install -e .', or set {APP_ENV} to its app/ folder")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def check_port(host: str, port: int) -> None:
    """Raise :class:`ConfigError` when ``port`` is out of range or already taken on ``host``."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"--port must be a number from 1 to 65535, got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                              "choose another --port or stop what uses it") from None


def streamlit_command(entry: Path, host: str, port: int) -> list[str]:
    """The ``python -m streamlit run`` command line for the dashboard."""
    return [sys.executable, "-m", "streamlit", "run", str(entry),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]


def launch(corpora_dir: str | os.PathLike | None = None, runs_dir: str | os.PathLike | None = None,
           host: str = "127.0.0.1", port: int = 8501) -> int:
    """Run the dashboard until it stops (Ctrl-C); return its exit status.

    Args:
        corpora_dir: folder of corpora (default: ``$TOPICVAE_CORPORA_DIR`` or ``./corpora``).
        runs_dir: folder of runs (default: ``$TOPICVAE_RUNS_DIR`` or ``./runs``).
        host: address to listen on; anything but a loopback address is reachable from
            other machines, and the dashboard has no login, so a warning is printed.
        port: TCP port.
    """
    entry = find_app_dir() / ENTRY_FILE
    corpora = paths.corpora_dir(corpora_dir).expanduser().resolve()
    runs = paths.runs_dir(runs_dir).expanduser().resolve()
    check_port(host, port)
    env = dict(os.environ)
    env[paths.CORPORA_ENV] = str(corpora)
    env[paths.RUNS_ENV] = str(runs)
    if not is_loopback(host):
        print(f"warning: listening on {host} makes the dashboard reachable from other machines; "
              "it has no login and shows your documents (use the default 127.0.0.1 to keep it local)",
              file=sys.stderr)
    print(f"topicvae dashboard: {app_url(host, port)}", flush=True)
    print(f"  corpora: {corpora}\n  runs:    {runs}\n  stop with Ctrl-C", flush=True)
    proc = subprocess.Popen(streamlit_command(entry, host, port), env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Streamlit got the same Ctrl-C; give it a moment to close, then make sure it is gone
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
        return 0
