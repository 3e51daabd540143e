"""The crawl processes: one crawl run as `python -m spiders.run NAME` subprocesses (Scrapy's
reactor cannot restart in one process), with the two start-up and throughput tricks kept here,
out of the runner's main path; and the fencing that keeps crawls apart: a per-host lock held for
the whole crawl, and processes that die with the process that started them."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from spiders.registry import KINDS
from spiders.safety import ALLOW_PRIVATE_ENV
from storage.errors import DatabaseError
from storage.terms import SourceKind

log = logging.getLogger("pqwatch.crawl")

# The one spider whose crawl can be split into shards (each reads the posts whose URL hashes to
# it): the spider keeps the ability for jobs spread over several machines.
BLOG_SPIDER = KINDS[SourceKind.BLOG].spider
# The first key of every per-host advisory lock on PostgreSQL (the second: a hash of the host).
HOST_LOCK_KEY = 7926_2473
HOST_LOCK_POLL = 0.5  # seconds between tries while another crawl of the host runs
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class CrawlOptions:
    """How politely to crawl, and what to show while crawling."""

    delay: float = 1.0
    concurrency: int = 1
    retry_base_delay: float = 2.0
    timeout: float = 30.0
    progress: bool = False
    verbose: bool = False
    # Lets the crawl reach loopback and private addresses: the demo and the benchmarks only,
    # which crawl a site on 127.0.0.1 (spiders.safety refuses them otherwise).
    allow_private_addresses: bool = False
    # How long a crawl waits for another crawl of the same host to end before it gives up.
    host_lock_wait: float = 60.0
    # A blog crawl re-reads every post this often (PQWATCH_FULL_VERIFY_DAYS, from the settings).
    full_verify_days: float = 7.0
    # Every log line of the crawl process starts with its time (the daemon's log, `pqwatch run`).
    log_times: bool = False
    # Scrapyd nodes to run the crawl on (PQWATCH_SCRAPYD_URLS; monitor.crawl.dispatch), and how:
    # a blog's jobs (its `shards`), seconds between polls of a job, seconds a node may not answer
    # before its job counts as lost, seconds to wait for any node to answer at dispatch.
    nodes: tuple[str, ...] = ()
    shards: int = 1
    node_poll: float = 1.0
    node_lost_after: float = 30.0
    node_wait: float = 60.0


class HostBusy(DatabaseError):
    """Another crawl of the same host is running (on this database) and did not end in time.

    A DatabaseError: the lock lives in the database (or beside the SQLite file), and the command
    line prints it as its one-line error."""


@dataclass(frozen=True)
class ProcessReport:
    """How one crawl process (or Scrapyd job) ended: its exit status, the counts it wrote (None
    if it wrote none), and why it failed when that is known."""

    status: int
    counts: dict[str, int] | None
    reason: str | None = None


def crawl_processes(spider: str, concurrency: int) -> int:
    """How many processes share one crawl on this machine: one. Why (issue 11, measured on the
    1,000-post sample blog, 2 cores): two processes made no first crawl faster (8.85 s against
    8.76 s), made an all-304 change crawl 2.2 s slower (each walks every listing page), cost a
    second Scrapy start-up (0.85 s CPU), and on the REST API path the second has nothing to do."""
    return 1


class CrawlProcesses:
    """The subprocesses of one crawl, as a context manager: entering starts them, `wait` collects
    how each ended, and leaving on an exception (Ctrl-C, the scheduler stopping, a database that
    cannot be opened) kills any still running, so none outlives the crawl.

    The start-up gate (`gated=True`), re-measured in issue 11 and kept: the processes start
    before the caller has opened and migrated the database, load Scrapy meanwhile, and begin
    crawling only on `go()`; if the caller fails instead, their input closes and they exit
    quietly, having fetched nothing. It takes about 0.25 s off a manual crawl's wall time (1.00 s
    against 1.25 s for a one-post crawl) at the same CPU. (A shared blog crawl over several local
    processes was measured then too, and removed: see crawl_processes.)
    """

    def __init__(
        self,
        spider: str,
        db_url: str,
        spider_args: dict[str, Any],
        options: CrawlOptions,
        *,
        gated: bool = False,
    ) -> None:
        self.spider, self.db_url, self.spider_args, self.options = spider, db_url, spider_args, options
        self.gated = gated
        self.shards = crawl_processes(spider, options.concurrency)
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._running: list[tuple[subprocess.Popen[bytes], Path]] = []
        self._locks = ExitStack()

    def __enter__(self) -> CrawlProcesses:
        self._folder = folder = tempfile.TemporaryDirectory(prefix="pqwatch-")
        self._locks = ExitStack()
        try:
            if not self.gated:  # a gated crawl starts loading first: it fetches nothing before go()
                self._lock_hosts()
            for shard in range(self.shards):
                counts_file = Path(folder.name, f"counts-{shard}.json")
                command = self._command(shard, counts_file)
                stdin = subprocess.PIPE if self.gated else None
                process = subprocess.Popen(
                    command, stdin=stdin, env=self._environment(), preexec_fn=_die_with_parent()
                )
                self._running.append((process, counts_file))
                with _LIVE_LOCK:
                    _LIVE.append(process)
            if self.gated:
                self._lock_hosts()
        except BaseException:
            self._kill_all()
            self._locks.close()
            folder.cleanup()
            raise
        return self

    def _lock_hosts(self) -> None:
        # Sorted, so two crawls sharing hosts take them in one order and cannot deadlock.
        for host in sorted(crawl_hosts(self.spider_args)):
            self._locks.enter_context(host_lock(self.db_url, host, self.options.host_lock_wait))

    def go(self) -> None:
        """Let gated processes begin crawling (the database is ready)."""
        for process, _ in self._running:
            if process.stdin is not None:
                process.stdin.write(b"go\n")
                process.stdin.close()

    def wait(self) -> list[ProcessReport]:
        """Wait for every process to end; return each one's exit status and counts."""
        statuses = [process.wait() for process, _ in self._running]
        return [
            ProcessReport(status, json.loads(counts_file.read_text()) if counts_file.exists() else None)
            for status, (_, counts_file) in zip(statuses, self._running, strict=True)
        ]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is not None:
                self._kill_all()
        finally:
            with _LIVE_LOCK:
                for process, _ in self._running:
                    if process in _LIVE:
                        _LIVE.remove(process)
            self._locks.close()
            if self._folder is not None:
                self._folder.cleanup()

    def _command(self, shard: int, counts_file: Path) -> list[str]:
        shards, options = self.shards, self.options
        args = {**self.spider_args, "shard": shard, "shards": shards} if shards > 1 else self.spider_args
        # Shards 0..r-1 take one request more, r being what divides unevenly: n in total.
        concurrency = options.concurrency // shards + (shard < options.concurrency % shards)
        command = _crawl_command(self.spider, self.db_url, args, options, concurrency, shards, counts_file)
        if options.progress and shards > 1:
            command += ["--progress-position", str(shard)]
        if self.gated:
            command.append("--wait-for-go")
        return command

    def _environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        # Why the environment: spiders.settings reads it, and the settings (a .env file
        # included) were read and checked here once.
        environment["PQWATCH_FULL_VERIFY_DAYS"] = str(self.options.full_verify_days)
        if self.options.allow_private_addresses:
            environment[ALLOW_PRIVATE_ENV] = "1"
        return environment

    def _kill_all(self) -> None:
        """End every process at once; one still waiting for its go sees its input close."""
        for process, _ in self._running:
            if process.stdin is not None and not process.stdin.closed:
                process.stdin.close()
            process.kill()
            process.wait()


def _crawl_command(
    spider: str,
    db_url: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
    concurrency: int,
    shards: int,
    counts_file: Path,
) -> list[str]:
    """The command line of one crawl process; its delay is multiplied by the number of shards."""
    command = [sys.executable, "-m", "spiders.run", spider, "--db", db_url]
    command += ["--args", json.dumps(spider_args), "--delay", str(options.delay * shards)]
    command += ["--concurrency", str(concurrency), "--retry-base-delay", str(options.retry_base_delay)]
    command += ["--timeout", str(options.timeout), "--counts-file", str(counts_file)]
    if options.progress:
        command.append("--progress")
    if options.verbose:
        command.append("--verbose")
    if options.log_times:
        command.append("--log-times")
    return command


# Every crawl process running in this process, so a scheduler that lost its lock can end them.
_LIVE: list[subprocess.Popen[bytes]] = []
_LIVE_LOCK = threading.Lock()


def kill_running_crawls() -> int:
    """Kill every crawl process this process started that is still running; return how many."""
    with _LIVE_LOCK:
        running = [process for process in _LIVE if process.poll() is None]
    for process in running:
        process.kill()
    for process in running:
        process.wait()
    return len(running)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel SIGKILL the child when its parent dies (Linux), even on
    the parent's SIGKILL, so no crawl outlives the CLI or scheduler that started it.

    The signal comes when the *thread* that started the child ends: the CLI's main thread, or a
    scheduler's job thread, which lives as long as the scheduler (APScheduler keeps its pool)."""
    if not sys.platform.startswith("linux"):
        return None  # elsewhere the parent's own cleanup (and a gated child's closed input) must do
    # Resolved here, before the fork: the child only calls it.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # Why: the parent may have died between the fork and the prctl; the signal would not come.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return set_death_signal


def crawl_hosts(spider_args: dict[str, Any]) -> frozenset[str]:
    """The hosts a crawl reads: its start URLs, page URLs or API base (www. and bare count as one)."""
    urls = [*spider_args.get("start_urls", ()), *spider_args.get("urls", ())]
    if spider_args.get("api_base"):
        urls.append(spider_args["api_base"])
    hosts = {(urlsplit(url).hostname or "").lower().removeprefix("www.") for url in urls}
    return frozenset(host for host in hosts if host)


@contextmanager
def host_lock(
    db_url: str,
    host: str,
    wait: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold the lock of one host for as long as the block runs: on PostgreSQL an advisory lock
    (scoped to the database's schema), otherwise a file lock beside the SQLite database. Waits
    up to `wait` seconds for another crawl of the host to end, then raises HostBusy."""
    from sqlalchemy.engine import make_url  # late: a gated crawl's processes start first

    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        lock: _HostLock = _AdvisoryHostLock(db_url, host)
    else:
        lock = _FileHostLock(url.database, host)
    try:
        deadline = clock() + wait
        if not lock.try_acquire():
            log.warning("another crawl of %s is running; waiting up to %.0f s for it to end", host, wait)
            while not lock.try_acquire():
                if clock() >= deadline:
                    raise HostBusy(f"another crawl of {host} is running; gave up after {wait:g} s")
                sleep(HOST_LOCK_POLL)
        yield
    finally:
        lock.close()


class _HostLock:
    def try_acquire(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _AdvisoryHostLock(_HostLock):
    """pg_try_advisory_lock(HOST_LOCK_KEY, hash of schema and host) on a connection of its own."""

    def __init__(self, db_url: str, host: str) -> None:
        from storage.db import create_db_engine

        self.host = host
        self.held = False
        self.engine = create_db_engine(db_url)
        self.connection = self.engine.connect()

    def try_acquire(self) -> bool:
        self.held = bool(self._call("pg_try_advisory_lock"))
        return self.held

    def close(self) -> None:
        try:
            # Why explicitly: a closed session's lock goes only once its backend has exited,
            # a moment later; a crawl waiting for the host should not wait for that.
            if self.held:
                self._call("pg_advisory_unlock")
        except Exception:  # a dead connection: its lock has gone with it
            pass
        finally:
            self.connection.close()
            self.engine.dispose()

    def _call(self, function: str) -> object:
        from sqlalchemy import text

        query = text(f"SELECT {function}(:key, hashtext(current_schema() || ' ' || :host))")
        value = self.connection.execute(query, {"key": HOST_LOCK_KEY, "host": self.host}).scalar()
        self.connection.commit()  # a session-level lock: it outlives the transaction
        return value


class _FileHostLock(_HostLock):
    """A file lock beside the SQLite database (in the temporary folder for an in-memory one)."""

    def __init__(self, database: str | None, host: str) -> None:
        from filelock import FileLock

        digest = hashlib.sha256(host.encode()).hexdigest()[:16]
        if database and database != ":memory:" and Path(database).resolve().parent.is_dir():
            path = f"{Path(database).resolve()}.host-{digest}.lock"
        else:
            # Why not beside it: FileLock would create the missing folder, and the database with
            # it; opening it then fails as it should, and this lock guards nothing meanwhile.
            path = str(Path(tempfile.gettempdir(), f"pqwatch-host-{digest}.lock"))
        self.lock = FileLock(path)

    def try_acquire(self) -> bool:
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def close(self) -> None:
        if self.lock.is_locked:
            self.lock.release()
