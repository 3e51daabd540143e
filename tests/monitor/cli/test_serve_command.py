"""`pqwatch serve` as an operator starts it: the installed command in a subprocess says where it
listens, logs every request with a time, refuses a port in use or out of range in one line, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`pqwatch --db sqlite:///<tmp>/p.sqlite3 serve --port N` in an empty folder."""
    return subprocess.Popen(
        [PQWATCH, "--db", f"sqlite:///{tmp_path}/p.sqlite3", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_says_where_it_listens_logs_each_request_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # waits until it listens
        assert first.startswith(f"pqwatch: serving http://127.0.0.1:{port}/ ")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            assert reply.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/manage/a-secret-token", timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=20)
    assert server.returncode == 0
    lines = stderr.splitlines()
    assert any(" INFO pqwatch.web: GET / 200 " in line and line.endswith(" ms") for line in lines), stderr
    assert any("GET /manage/… 400" in line for line in lines), stderr
    assert "a-secret-token" not in stderr
    assert all(line[:4].isdigit() for line in lines[:-1]), stderr  # every log line has its time
    assert lines[-1] == "pqwatch: stopped serving"
    assert "Traceback" not in stderr


@pytest.mark.parametrize("port", ["70000", "-1", "0"])
def test_a_port_out_of_range_is_one_line(tmp_path: Path, port: str) -> None:
    done = subprocess.run(
        [PQWATCH, "--db", f"sqlite:///{tmp_path}/p.sqlite3", "serve", "--port", port],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == f"pqwatch: error: --port {port} is not a TCP port (1 to 65535)\n"


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [PQWATCH, "--db", f"sqlite:///{tmp_path}/p.sqlite3", "serve", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"pqwatch: error: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in done.stderr
