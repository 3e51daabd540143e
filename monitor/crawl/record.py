"""Every crawl run, manual or scheduled, recorded in `crawl_runs`: its source's name, spider,
trigger, when it started and ended, its counts, and ok or failed with why. `pqwatch status`
reads them, and a restarted scheduler asks them whether a source ran recently."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.crawl.processes import CrawlOptions, HostBusy
from monitor.crawl.runner import CrawlResult, run_crawl

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SCHEDULE, MANUAL = "schedule", "manual"  # crawl_runs.trigger


def recorded_crawl(
    sessions: sessionmaker[Session] | None,
    db_url: str,
    source: str,
    spider: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
    trigger: str,
) -> CrawlResult:
    """Run one crawl (monitor.crawl.runner.run_crawl) and record it in crawl_runs; HostBusy is
    recorded as a failed run ("host busy: ...") and raised again.

    Why one row written at the end: a manual crawl opens the database only while its crawl
    processes load (run_crawl), and a run cut short leaves no half-true "running" row behind."""
    from storage.terms import utcnow

    started = utcnow()
    try:
        result = run_crawl(sessions, db_url, spider, spider_args, options, source=source)
    except HostBusy as error:
        _record(sessions, db_url, source, spider, trigger, started, None, f"host busy: {error}")
        raise
    _record(sessions, db_url, source, spider, trigger, started, result, failure_reason(result))
    return result


def record_run(
    sessions: sessionmaker[Session],
    source: str,
    spider: str,
    trigger: str,
    started: datetime,
    result: CrawlResult,
) -> None:
    """Record a crawl that ran outside run_crawl (`scrapy crawl` crawls in its own process)."""
    _record(sessions, "", source, spider, trigger, started, result, failure_reason(result))


def failure_reason(result: CrawlResult) -> str | None:
    """Why a crawl failed, in a few words ("3 errors"); None when it did not."""
    if not result.failed:
        return None
    if result.reason or result.held:
        return result.reason or result.held
    errors = result.counts.get("errors", 0)
    if result.unreachable:
        # One counted error per unreachable host; any others are said after them.
        others = errors - len(result.unreachable)
        more = f"; {others} other error{'s' if others != 1 else ''}" if others > 0 else ""
        return f"host unreachable: {', '.join(result.unreachable)}{more}"
    return f"{errors} error{'s' if errors != 1 else ''}" if errors else "a crawl process failed"


def last_starts(sessions: sessionmaker[Session]) -> dict[str, datetime]:
    """When each source's latest recorded run started (naive UTC, as stored)."""
    from sqlalchemy import func, select

    from storage.models import CrawlRun

    with sessions() as session:
        rows = session.execute(
            select(CrawlRun.source, func.max(CrawlRun.started_at)).group_by(CrawlRun.source)
        )
        return {source: started for source, started in rows if started is not None}


def _record(
    sessions: sessionmaker[Session] | None,
    db_url: str,
    source: str,
    spider: str,
    trigger: str,
    started: datetime,
    result: CrawlResult | None,
    reason: str | None,
) -> None:
    from storage.db import open_database
    from storage.models import CrawlRun
    from storage.terms import CrawlOutcome, utcnow

    sessions = sessions or open_database(db_url)
    failed = result is None or result.failed
    with sessions.begin() as session:
        session.add(
            CrawlRun(
                source=source,
                spider=spider,
                trigger=trigger,
                started_at=started,
                finished_at=utcnow(),
                outcome=CrawlOutcome.FAILED if failed else CrawlOutcome.OK,
                counts=dict(result.counts) if result is not None else {},
                reason=reason,
            )
        )
