"""Child processes and blogs that stall or count requests in flight, for tests of crawls that must
die with their parent, wait for their host or keep to their concurrency."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from sqlalchemy import create_engine, text

from monitor.demo.site import LocalSite
from monitor.scheduler import LOCK_KEY


class StallingSite(LocalSite):
    """A blog whose every request hangs until `release` is set; `reached` says one arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.reached, self.release = threading.Event(), threading.Event()

    def _respond(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        self.reached.set()
        self.release.wait(30)
        super()._respond(h, head)


class CountingSite(LocalSite):
    """A LocalSite that takes a moment over each request and records the most served at once,
    and each request's start and end (`spans`), whoever sent it."""

    def __init__(self, pause: float = 0.02, host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self.pause = pause
        self.in_flight = self.peak = 0
        self.spans: list[tuple[float, float]] = []
        self._count = threading.Lock()

    def _respond(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        start = time.monotonic()
        with self._count:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.pause)  # a server-side delay, so overlapping requests are seen
            super()._respond(h, head)
        finally:
            with self._count:
                self.in_flight -= 1
                self.spans.append((start, time.monotonic()))

    def overlaps(self) -> int:
        """How many of its requests began before the one before them had ended."""
        spans = sorted(self.spans)
        return sum(1 for (_, end), (start, _) in zip(spans, spans[1:], strict=False) if start < end)


def children(pid: int) -> list[int]:
    """The pids of a process's children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie no longer does)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    """Poll `condition` every 50 ms until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def terminate_lock_holder(db_url: str) -> int:
    """pg_terminate_backend on the session holding the scheduler's advisory lock; its pid."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            pid = connection.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": LOCK_KEY},
            ).scalar_one()
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()
    return int(pid)
