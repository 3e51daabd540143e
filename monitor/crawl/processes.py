"""The crawl processes: one crawl run as `python -m spiders.run NAME` subprocesses (Scrapy's
reactor cannot restart in one process), with the two start-up and throughput tricks kept here,
out of the runner's main path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from spiders.registry import KINDS
from storage.terms import SourceKind

# The one spider that can share its crawl: each process reads the posts whose URL hashes to it.
BLOG_SPIDER = KINDS[SourceKind.BLOG].spider
# A blog crawl at a concurrency of 2 or more is shared by up to this many processes, one per
# core: Scrapy runs on one core, and on a local or fast site the crawl is CPU-bound.
MAX_CRAWL_PROCESSES = 4


@dataclass(frozen=True)
class CrawlOptions:
    """How politely to crawl, and what to show while crawling."""

    delay: float = 1.0
    concurrency: int = 1
    retry_base_delay: float = 2.0
    timeout: float = 30.0
    progress: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class ProcessReport:
    """How one crawl process ended: its exit status, and the counts it wrote (None if it wrote none)."""

    status: int
    counts: dict[str, int] | None


def crawl_processes(spider: str, concurrency: int) -> int:
    """How many processes share a crawl: one, except a blog crawl allowed several requests at once."""
    if spider != BLOG_SPIDER:
        return 1
    return max(1, min(concurrency, os.cpu_count() or 1, MAX_CRAWL_PROCESSES))


class CrawlProcesses:
    """The subprocesses of one crawl, as a context manager: entering starts them, `wait` collects
    how each ended, and leaving on an exception (Ctrl-C, the scheduler stopping, a database that
    cannot be opened) kills any still running, so none outlives the crawl.

    Two tricks live here, each for what it was measured to buy (README, Benchmarks: the
    1,000-post change crawl of the sample blog on a 2-core machine); issue 11 re-measures both and
    removes whichever no longer pays:

    - **The start-up gate** (`gated=True`): the processes start before the caller has opened and
      migrated the database, load Scrapy meanwhile, and begin crawling only on `go()`; if the
      caller fails instead, their input closes and they exit quietly, having fetched nothing.
      It makes a manual crawl's processes start about 0.3 s sooner.
    - **The shared blog crawl**: a blog crawl allowed a concurrency of n >= 2 runs in
      min(n, cores, MAX_CRAWL_PROCESSES) processes, each walking the listings and reading the
      posts whose URL hashes to it. The site sees the same load: the concurrency is divided
      between them and each one's delay multiplied by their number. Scrapy runs on one core and a
      crawl of a fast site is CPU-bound, so two processes took the change crawl from 3.8 s to
      3.4–3.7 s.
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

    def __enter__(self) -> CrawlProcesses:
        self._folder = folder = tempfile.TemporaryDirectory(prefix="pqwatch-")
        try:
            for shard in range(self.shards):
                counts_file = Path(folder.name, f"counts-{shard}.json")
                command = self._command(shard, counts_file)
                stdin = subprocess.PIPE if self.gated else None
                self._running.append((subprocess.Popen(command, stdin=stdin), counts_file))
        except BaseException:
            self._kill_all()
            folder.cleanup()
            raise
        return self

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
        if exc is not None:
            self._kill_all()
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
    return command
