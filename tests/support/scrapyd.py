"""Real Scrapyd nodes for the scale-out tests and the benchmark: each a `scrapyd` process on its
own port of 127.0.0.1, with its own folder (scrapyd.conf, eggs, logs, its queue's database).

A node runs a Python that has pqwatch's dependencies but not pqwatch itself: a venv whose one
.pth file names this venv's site-packages (whose own .pth files, the editable install of
pqwatch among them, are not read from there). So a job imports pqwatch from the egg `pqwatch
deploy` uploaded, as on a real node, and a test fails if the egg is incomplete."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from monitor.crawl.scrapyd import Node, NodeError

_NODE_PYTHON: Path | None = None


def node_python() -> Path:
    """A Python with pqwatch's dependencies and without pqwatch (made once per test session)."""
    global _NODE_PYTHON
    if _NODE_PYTHON is None:
        folder = Path(tempfile.mkdtemp(prefix="pqwatch-node-venv-"))
        venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
        purelib = Path(sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)}))
        (purelib / "pqwatch-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
        _NODE_PYTHON = folder / "bin" / "python"
    return _NODE_PYTHON


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ScrapydNode:
    """A running Scrapyd node, as a context manager; `url` carries its credentials."""

    def __init__(self, username: str = "", password: str = "", max_proc: int = 2) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pqwatch-scrapyd-"))
        self.port = free_port()
        self.username, self.password, self.max_proc = username, password, max_proc
        self.process: subprocess.Popen[bytes] | None = None
        credentials = f"{quote(username, safe='')}:{quote(password, safe='')}@" if username else ""
        self.url = f"http://{credentials}127.0.0.1:{self.port}"
        self.name = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ScrapydNode:
        (self.folder / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"max_proc = {self.max_proc}\n"
            "poll_interval = 0.2\n"
            "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\n"
        )
        self.start()
        return self

    def start(self) -> None:
        """Start (or start again) the node's process and wait until it answers."""
        environment = {
            **os.environ,
            "PQWATCH_ALLOW_PRIVATE_ADDRESSES": "1",  # the test sites are on 127.0.0.1
            "PYTHONPATH": "",
            # Read by Scrapyd in place of scrapyd.conf's (whose values would be %-interpolated).
            "SCRAPYD_USERNAME": self.username,
            "SCRAPYD_PASSWORD": self.password,
        }
        log = (self.folder / "scrapyd.out").open("ab")
        # Its own process group: a "killed node" is the daemon and every job it runs.
        self.process = subprocess.Popen(
            [str(node_python()), "-m", "scrapyd"],
            cwd=self.folder,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                Node(self.url, timeout=2).load()
                return
            except NodeError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scrapyd did not start: {self.output()[-2000:]}") from None
                time.sleep(0.1)

    def kill(self) -> None:
        """Kill the node and every job it runs at once (SIGKILL to its process group)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def output(self) -> str:
        """What the node has logged (its jobs' logs are under logs/)."""
        path = self.folder / "scrapyd.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.kill()


def deploy(*nodes: ScrapydNode) -> None:
    """`pqwatch deploy --node URL ...`, as an operator runs it; fails the test when it fails."""
    command = [sys.executable, "-m", "monitor.cli", "deploy"]
    for node in nodes:
        command += ["--node", node.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise AssertionError(f"pqwatch deploy failed: {done.stdout}{done.stderr}")
