"""topicvae app: the launcher's command line, folders, warnings and refusals (no server is started)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from topicvae import app_launcher
from topicvae.cli import main
from topicvae.errors import ConfigError


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_launch_runs_streamlit_on_loopback_with_absolute_folders(fake_popen, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    assert main(["app", "--corpora-dir", "c", "--runs-dir", "r", "--port", str(port)]) == 0
    (cmd, env), = fake_popen.calls
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == Path(app_launcher.__file__).resolve().parents[1] / "app" / "streamlit_app.py"
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


def test_missing_app_folder_is_said_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(app_launcher, "__file__", str(tmp_path / "site-packages" / "topicvae" / "app_launcher.py"))
    monkeypatch.delenv(app_launcher.APP_ENV, raising=False)
    with pytest.raises(ConfigError, match="dashboard's files were not found"):
        app_launcher.find_app_dir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "streamlit_app.py").write_text("")
    monkeypatch.setenv(app_launcher.APP_ENV, str(tmp_path / "elsewhere"))
    assert app_launcher.find_app_dir() == (tmp_path / "elsewhere").resolve()
