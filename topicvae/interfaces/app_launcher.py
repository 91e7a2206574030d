"""Start the Streamlit dashboard (``topicvae app``) on the configured folders.

The dashboard is the subpackage :mod:`topicvae.interfaces.app`; its entry file is found with
:mod:`importlib.resources`, so it is there in a wheel as in a checkout. It reads its
folders from ``TOPICVAE_CORPORA_DIR`` and ``TOPICVAE_RUNS_DIR``, which :func:`launch` sets
to absolute paths, so the app sees the same folders whatever directory Streamlit runs in.
The launcher stays in front of the Streamlit process it starts: Ctrl-C and SIGTERM (what
``docker stop`` and systemd send) stop both, and on Linux a launcher killed outright (SIGKILL,
the out-of-memory killer) takes Streamlit with it (:func:`stop_with_parent`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path

from topicvae import paths
from topicvae.errors import ConfigError

APP_ENV = "TOPICVAE_APP_DIR"
APP_PACKAGE = "topicvae.interfaces.app"
ENTRY_FILE = "streamlit_app.py"
STOP_WAIT_S = 10.0  # how long Streamlit may take to close before it is killed


def packaged_app_dir() -> Path | None:
    """The folder of :mod:`topicvae.interfaces.app` on disk; None when it is missing or not a real folder (a zip)."""
    try:
        folder = resources.files(APP_PACKAGE)
    except ModuleNotFoundError:
        return None
    return folder if isinstance(folder, Path) else None


def find_app_dir() -> Path:
    """The folder holding ``streamlit_app.py``: ``$TOPICVAE_APP_DIR``, else the package's :mod:`topicvae.interfaces.app`.

    Raises:
        ConfigError: neither holds it (a broken installation).
    """
    candidates = []
    if os.environ.get(APP_ENV):
        candidates.append(Path(os.environ[APP_ENV]))
    packaged = packaged_app_dir()
    if packaged is not None:
        candidates.append(packaged)
    for folder in candidates:
        if (folder / ENTRY_FILE).is_file():
            return folder.resolve()
    tried = ", ".join(str(c / ENTRY_FILE) for c in candidates) or f"the package {APP_PACKAGE}"
    raise ConfigError(f"the dashboard's files were not found (looked for {tried}); reinstall topicvae, "
                      f"or set {APP_ENV} to a folder holding {ENTRY_FILE}")


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
        if os.name != "nt":
            # as servers do (Streamlit's Tornado too): a port whose last server has just stopped
            # keeps TIME-WAIT connections for about a minute, and a bind without SO_REUSEADDR would
            # call it taken; a port something listens on is still refused. (On Windows the flag
            # would let the probe share a port in use, so it is left off there.)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    """Run the dashboard until it stops (Ctrl-C, SIGTERM); return its exit status.

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
    with sigterm_raises_stop():  # before Popen: a SIGTERM from now on stops Streamlit too
        proc = subprocess.Popen(streamlit_command(entry, host, port), env=env, preexec_fn=stop_with_parent())
        return wait_for(proc)


PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent dies


def stop_with_parent():
    """A ``preexec_fn`` that has the child sent SIGTERM when the launcher dies, however it dies
    (Linux's ``prctl(PR_SET_PDEATHSIG)``); None elsewhere.

    A SIGKILL cannot be caught, so without it a launcher killed outright would leave Streamlit
    listening, orphaned, with the port taken. The signal is tied to the thread that starts the
    child: :func:`launch` runs in the CLI's main thread, which lives as long as the launcher.
    libc is looked up here, before the fork: between fork and exec only the call itself runs.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the launcher died before the call took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class StopRequested(Exception):
    """Raised in the main thread by the SIGTERM handler while the launcher waits for Streamlit."""


def _raise_stop(signum, frame) -> None:
    raise StopRequested


@contextlib.contextmanager
def sigterm_raises_stop():
    """Within the block, SIGTERM raises :class:`StopRequested` (from the main thread only; elsewhere no-op).

    A SIGTERM goes to the launcher alone (``docker stop``, systemd, ``kill PID``): with Python's
    default the launcher would die at once and leave Streamlit listening, orphaned.
    """
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_child(proc: subprocess.Popen, timeout: float = STOP_WAIT_S) -> None:
    """Ask Streamlit to close (SIGTERM), wait up to ``timeout`` seconds, then kill it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(proc: subprocess.Popen) -> int:
    """Wait for the Streamlit process and return its exit status; 0 when Ctrl-C or SIGTERM stopped it.

    Streamlit runs in the launcher's process group, so Ctrl-C in a terminal reaches both; a
    SIGTERM (see :func:`sigterm_raises_stop`) reaches the launcher, which passes it on.
    """
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Streamlit got the same Ctrl-C; give it a moment to close, then make sure it is gone
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
        return 0
    except StopRequested:
        # a second SIGTERM must not cut the clean-up short (the block's exit restores the handler)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_child(proc)
        return 0
