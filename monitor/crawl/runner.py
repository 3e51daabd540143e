"""Start crawls as subprocesses (Scrapy's reactor cannot restart in one process) and detect the
changes they stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.config import Settings

if TYPE_CHECKING:  # the database layer is imported late: a manual crawl starts its processes first
    from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl did: its counts, the events detected after it, and whether it failed."""

    counts: dict[str, int]
    events: int
    failed: bool
    reason: str | None = None


@dataclass(frozen=True)
class CrawlOptions:
    """How politely to crawl, and what to show while crawling."""

    delay: float = 1.0
    concurrency: int = 1
    retry_base_delay: float = 2.0
    timeout: float = 30.0
    progress: bool = False
    verbose: bool = False


# A blog crawl at a concurrency of 2 or more is shared by up to this many processes, one per
# core: Scrapy runs on one core, and on a local or fast site the crawl is CPU-bound.
MAX_CRAWL_PROCESSES = 4


def crawl_processes(spider: str, concurrency: int) -> int:
    """How many processes share a crawl: one, except a blog crawl allowed several requests at once."""
    if spider != "blog":
        return 1
    return max(1, min(concurrency, os.cpu_count() or 1, MAX_CRAWL_PROCESSES))


def run_crawl(
    sessions: sessionmaker[Session] | None,
    db_url: str,
    spider: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
) -> CrawlResult:
    """Run one spider in subprocesses, then turn what it stored into change events.

    A blog crawl with a concurrency of n >= 2 runs in up to min(n, cores) processes, each walking
    the listings and reading its own share of the posts; the site sees the same load, since the
    concurrency is divided between them and each one's delay multiplied by their number.

    With `sessions` None the database is opened (and migrated) here while the crawl processes
    start: they load Scrapy meanwhile and begin only when it is ready (or exit quietly when it
    cannot be opened, whose DatabaseError is raised here)."""
    shards = crawl_processes(spider, options.concurrency)
    gated = sessions is None
    with tempfile.TemporaryDirectory(prefix="pqwatch-") as folder:
        running = []
        try:
            for shard in range(shards):
                counts_file = Path(folder, f"counts-{shard}.json")
                args = {**spider_args, "shard": shard, "shards": shards} if shards > 1 else spider_args
                concurrency = options.concurrency // shards + (shard < options.concurrency % shards)
                command = _crawl_command(spider, db_url, args, options, concurrency, shards, counts_file)
                if options.progress and shards > 1:
                    command += ["--progress-position", str(shard)]
                if gated:
                    command.append("--wait-for-go")
                stdin = subprocess.PIPE if gated else None
                running.append((subprocess.Popen(command, stdin=stdin), counts_file))
            if sessions is None:
                from storage.db import open_database

                sessions = open_database(db_url)
                for process, _ in running:
                    _go(process)
            statuses = [process.wait() for process, _ in running]
        except BaseException:  # interrupted (Ctrl-C, the scheduler stopping), or no database
            for process, _ in running:
                _stop(process)
            raise
        reports = [json.loads(f.read_text()) if f.exists() else None for _, f in running]
    reason = None
    if any(report is None for report in reports):
        failed_status = next(s for s, r in zip(statuses, reports, strict=True) if r is None)
        reason = f"the crawl process failed (exit status {failed_status}) before reporting"
    counts: dict[str, int] = {}
    for report in reports:
        for name, value in (report or {}).items():
            counts[name] = counts.get(name, 0) + value
    from monitor.changes.detect import detect_changes

    with sessions.begin() as session:
        events = detect_changes(session)
    failed = bool(reason) or any(statuses) or counts.get("errors", 0) > 0
    return CrawlResult(counts, events, failed, reason)


def _go(process: subprocess.Popen[bytes]) -> None:
    """Let a waiting crawl process begin."""
    if process.stdin is not None:
        process.stdin.write(b"go\n")
        process.stdin.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a crawl process at once; one still waiting for its go sees its input close."""
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
    command = [sys.executable, "-m", "spiders.run", spider, "--db", db_url]
    command += ["--args", json.dumps(spider_args), "--delay", str(options.delay * shards)]
    command += ["--concurrency", str(concurrency), "--retry-base-delay", str(options.retry_base_delay)]
    command += ["--timeout", str(options.timeout), "--counts-file", str(counts_file)]
    if options.progress:
        command.append("--progress")
    if options.verbose:
        command.append("--verbose")
    return command


def run_blog_crawl(
    sessions: sessionmaker[Session],
    db_url: str,
    start_urls: list[str],
    options: CrawlOptions,
    max_listing_pages: int = 0,
) -> CrawlResult:
    """Crawl a blog from its start URLs."""
    args = {"start_urls": start_urls, "max_listing_pages": max_listing_pages}
    return run_crawl(sessions, db_url, "blog", args, options)


def summary_line(result: CrawlResult) -> str:
    """Return the one-line summary a manual crawl ends with."""
    c = result.counts
    if result.reason:
        return f"crawl failed: {result.reason}"
    return (
        f"crawl {'finished with errors' if result.failed else 'finished'}: "
        f"{c.get('pages_fetched', 0)} pages fetched, {c.get('not_modified', 0)} not modified, "
        f"answers {c.get('answers_new', 0)} new / {c.get('answers_changed', 0)} changed / "
        f"{c.get('answers_removed', 0)} removed, {c.get('dead_links', 0)} dead links, "
        f"{c.get('errors', 0)} errors; {result.events} change events"
    )


def daily_windows(today: date, sweep_days: int = 30) -> list[dict[str, str]]:
    """The routine API windows: answered or corrected since yesterday, and a sweep of questions
    tabled in the last `sweep_days` and not yet answered (holding answers, withdrawals, transfers)."""
    yesterday = (today - timedelta(days=1)).isoformat()
    return [
        {"answeredWhenFrom": yesterday, "answeredWhenTo": today.isoformat()},
        {"correctedWhenFrom": yesterday, "correctedWhenTo": today.isoformat()},
        {
            "tabledWhenFrom": (today - timedelta(days=sweep_days)).isoformat(),
            "tabledWhenTo": today.isoformat(),
            "answered": "Unanswered",
        },
    ]


def parliament_args(
    api_base: str,
    windows: list[dict[str, str]],
    house: str | None,
    full_refresh: bool,
    refresh_days: int,
) -> dict[str, Any]:
    """The parliament spider's arguments."""
    return {
        "api_base": api_base,
        "windows": windows,
        "house": house or "",
        "full_refresh": full_refresh,
        "refresh_days": refresh_days,
    }


def configured_crawls(settings: Settings, today: date) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every source of the config as name -> (spider, arguments): the API's routine run and
    each blog."""
    routine = parliament_args(settings.api_base, daily_windows(today), None, False, settings.refresh_days)
    crawls: dict[str, tuple[str, dict[str, Any]]] = {"parliament": ("parliament", routine)}
    for blog in settings.blogs:
        crawls[blog.name] = (
            "blog",
            {"start_urls": list(blog.start_urls), "max_listing_pages": blog.max_listing_pages},
        )
    return crawls


def run_backfill(
    sessions: sessionmaker[Session],
    db_url: str,
    args: dict[str, Any],
    start: date,
    end: date,
    options: CrawlOptions,
    chunk_days: int = 7,
    report: Callable[[str], None] = print,
) -> bool:
    """Crawl answered dates from start to end in chunks, resuming after the last finished chunk.

    Returns False when a chunk failed; a rerun starts again at that chunk."""
    from storage.models import CrawlState

    key = f"backfill:{args['api_base']}:{args['house'] or 'Bicameral'}:{start}:{end}"
    with sessions() as session:
        state = session.get(CrawlState, key)
        resume = date.fromisoformat(state.value) + timedelta(days=1) if state else start
    if resume > start:
        report(f"backfill resumes at {resume} (done up to {resume - timedelta(days=1)})")
    day = resume
    while day <= end:
        last = min(day + timedelta(days=chunk_days - 1), end)
        window = {"answeredWhenFrom": day.isoformat(), "answeredWhenTo": last.isoformat()}
        result = run_crawl(sessions, db_url, "parliament", {**args, "windows": [window]}, options)
        report(f"backfill {day}..{last}: {summary_line(result)}")
        if result.failed:
            report(f"backfill stopped at {day}; run the same command again to resume there")
            return False
        with sessions.begin() as session:
            state = session.get(CrawlState, key)
            now = datetime.now(UTC).replace(tzinfo=None)
            if state is None:
                session.add(CrawlState(name=key, value=last.isoformat(), updated_at=now))
            else:
                # A resumable job's bookmark, not history: moving it forward is right.
                state.value, state.updated_at = last.isoformat(), now
        day = last + timedelta(days=1)
    return True
