"""topicvae app: the launcher's command line, folders, warnings and refusals, and how it stops.

Most tests fake the Streamlit process; the last ones start a real ``topicvae app`` and stop
it for real (SIGTERM to the launcher alone, a SIGKILL of it, a restart on the same port at once).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from app_support import free_port, is_healthy, start_app, stop_app, wait_healthy
from topicvae.errors import ConfigError
from topicvae.interfaces import app_launcher
from topicvae.interfaces.cli import main


class FakeProcess:
    calls: list = []

    def __init__(self, cmd, env=None, **kwargs):
        FakeProcess.calls.append((cmd, env))

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def fake_popen(monkeypatch):
    FakeProcess.calls = []
    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    return FakeProcess


def test_launch_runs_streamlit_on_loopback_with_absolute_folders(fake_popen, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    assert main(["app", "--corpora-dir", "c", "--runs-dir", "r", "--port", str(port)]) == 0
    (cmd, env), = fake_popen.calls
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == Path(app_launcher.__file__).resolve().parent / "app" / "streamlit_app.py"  # in the package
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert opts["--server.address"] == "127.0.0.1" and opts["--server.port"] == str(port)
    assert opts["--server.headless"] == "true" and opts["--browser.gatherUsageStats"] == "false"
    assert env["TOPICVAE_CORPORA_DIR"] == str((tmp_path / "c").resolve())
    assert env["TOPICVAE_RUNS_DIR"] == str((tmp_path / "r").resolve())
    out = capsys.readouterr()
    assert f"topicvae dashboard: http://127.0.0.1:{port}" in out.out
    assert "warning" not in out.err


def test_a_host_other_than_loopback_gets_a_warning(fake_popen, capsys):
    app_launcher.launch(host="0.0.0.0", port=free_port())
    err = capsys.readouterr().err
    assert "reachable from other machines" in err
    assert app_launcher.is_loopback("localhost") and app_launcher.is_loopback("::1")
    assert not app_launcher.is_loopback("0.0.0.0") and not app_launcher.is_loopback("example.org")
    assert app_launcher.app_url("::1", 80) == "http://[::1]:80"


def test_a_taken_or_bad_port_is_refused_before_starting(fake_popen, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        assert main(["app", "--port", str(taken)]) == 2
    assert "choose another --port" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="1 to 65535"):
        app_launcher.launch(port=70000)
    assert fake_popen.calls == []


def test_the_entry_file_is_found_in_the_package(monkeypatch):
    monkeypatch.delenv(app_launcher.APP_ENV, raising=False)
    folder = app_launcher.find_app_dir()
    import topicvae.interfaces.app

    assert folder == Path(topicvae.interfaces.app.__file__).resolve().parent
    assert {p.name for p in (folder / "views").glob("*.py")} >= {"overview.py", "infer.py", "topics.py"}


def test_missing_app_folder_is_said_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(app_launcher, "packaged_app_dir", lambda: tmp_path / "site-packages" / "topicvae" / "app")
    monkeypatch.delenv(app_launcher.APP_ENV, raising=False)
    with pytest.raises(ConfigError, match="dashboard's files were not found"):
        app_launcher.find_app_dir()
    monkeypatch.setattr(app_launcher, "packaged_app_dir", lambda: None)
    with pytest.raises(ConfigError, match="dashboard's files were not found"):
        app_launcher.find_app_dir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "streamlit_app.py").write_text("")
    monkeypatch.setenv(app_launcher.APP_ENV, str(tmp_path / "elsewhere"))
    assert app_launcher.find_app_dir() == (tmp_path / "elsewhere").resolve()


def test_a_port_left_in_time_wait_is_free_to_listen_on():
    # what a stopped server leaves: it closed its side of a connection first, so that
    # connection waits in TIME-WAIT on the server's port for about a minute (Linux lets a
    # bind with SO_REUSEADDR past it when the old socket had the flag too, as Tornado's have)
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()
        client.recv(1)  # the server's FIN has arrived
        client.close()
    app_launcher.check_port("127.0.0.1", port)  # no "Address already in use"
    with socket.socket() as s:  # and a server can listen there, as Streamlit's Tornado will
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        with pytest.raises(ConfigError, match="choose another --port"):
            app_launcher.check_port("127.0.0.1", port)  # but one that is listened on is still taken


def test_sigterm_while_waiting_stops_the_child_and_returns_0():
    before = signal.getsignal(signal.SIGTERM)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    previous_alarm = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    try:
        with app_launcher.sigterm_raises_stop():
            signal.setitimer(signal.ITIMER_REAL, 0.3)  # a SIGTERM to this process while it waits
            assert app_launcher.wait_for(child) == 0
        assert child.poll() is not None  # stopped and reaped, not left running
        assert signal.getsignal(signal.SIGTERM) is before  # the handler is the launcher's only while it waits
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        if child.poll() is None:
            child.kill()
            child.wait()


# ---------------------------------------------------------------------------- a real server, stopped for real
def _start(tmp_path: Path, port: int, name: str) -> tuple[subprocess.Popen, str, Path]:
    log = tmp_path / f"{name}.log"
    proc = start_app(port, tmp_path / "corpora", tmp_path / "runs", log, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, log)
    return proc, url, log


def _port_is_free(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def _streamlit_child(proc: subprocess.Popen) -> psutil.Process:
    children = psutil.Process(proc.pid).children()
    assert len(children) == 1 and "streamlit" in " ".join(children[0].cmdline()), children
    return children[0]


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
def test_sigterm_to_the_launcher_stops_streamlit_and_frees_the_port(tmp_path):
    port = free_port()
    proc, url, log = _start(tmp_path, port, "first")
    try:
        child = _streamlit_child(proc)
        os.kill(proc.pid, signal.SIGTERM)  # the launcher alone, as docker stop / systemd do
        status = proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while not (_gone(child) and _port_is_free(port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(child), f"Streamlit (pid {child.pid}) outlived the launcher"
        assert _port_is_free(port) and not is_healthy(url)
        assert status == 0, log.read_text()[-3000:]  # a stop that was asked for
    finally:
        stop_app(proc)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_a_launcher_killed_outright_takes_streamlit_with_it(tmp_path):
    port = free_port()
    proc, url, log = _start(tmp_path, port, "first")
    try:
        child = _streamlit_child(proc)
        os.kill(proc.pid, signal.SIGKILL)  # no handler runs: only the kernel can tell Streamlit
        proc.wait(timeout=60)
        deadline = time.monotonic() + 60
        while not (_gone(child) and _port_is_free(port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(child), f"Streamlit (pid {child.pid}) outlived the killed launcher"
        assert _port_is_free(port) and not is_healthy(url)
    finally:
        stop_app(proc)
        with contextlib.suppress(psutil.NoSuchProcess):
            if not _gone(child):
                child.kill()


@pytest.mark.slow
def test_the_app_starts_again_at_once_on_the_port_it_just_left(tmp_path):
    port = free_port()
    first, url, log = _start(tmp_path, port, "first")
    try:
        for _ in range(3):  # connections the server closes itself end in TIME-WAIT on its port
            assert is_healthy(url)
        os.kill(first.pid, signal.SIGTERM)
        first.wait(timeout=60)
        assert _port_is_free(port)  # the launcher returns once Streamlit has closed
    finally:
        stop_app(first)
    second, url, log = _start(tmp_path, port, "second")
    try:
        assert is_healthy(url)
        assert "cannot listen" not in log.read_text()
    finally:
        stop_app(second)
