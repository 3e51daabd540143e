"""Run one crawl: start its crawl processes, wait for them, add up their counts, and detect the
changes they stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.crawl.processes import BLOG_SPIDER, CrawlOptions, CrawlProcesses, ProcessReport

if TYPE_CHECKING:  # the database layer is imported late: a manual crawl starts its processes first
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["CrawlOptions", "CrawlResult", "run_blog_crawl", "run_crawl", "summary_line"]


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl did: its counts, the events detected after it, and whether it failed."""

    counts: dict[str, int]
    events: int
    failed: bool
    reason: str | None = None


def run_crawl(
    sessions: sessionmaker[Session] | None,
    db_url: str,
    spider: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
) -> CrawlResult:
    """Run one spider in its crawl processes, then turn what it stored into change events.

    With `sessions` None the database is opened (and migrated) here while the crawl processes
    load; they begin only once it is ready, and a DatabaseError from opening it is raised here
    (CrawlProcesses says what this and the shared blog crawl buy)."""
    with CrawlProcesses(spider, db_url, spider_args, options, gated=sessions is None) as processes:
        if sessions is None:
            from storage.db import open_database

            sessions = open_database(db_url)
            processes.go()
        reports = processes.wait()
    counts = _total_counts(reports)
    reason = _failure_reason(reports)
    from monitor.changes.detect import detect_changes

    with sessions.begin() as session:
        events = detect_changes(session)
    failed = bool(reason) or any(report.status for report in reports) or counts.get("errors", 0) > 0
    return CrawlResult(counts, events, failed, reason)


def _total_counts(reports: list[ProcessReport]) -> dict[str, int]:
    """The counts of every process of a crawl, added up."""
    counts: dict[str, int] = {}
    for report in reports:
        for name, value in (report.counts or {}).items():
            counts[name] = counts.get(name, 0) + value
    return counts


def _failure_reason(reports: list[ProcessReport]) -> str | None:
    """Why the crawl failed outright: a process that ended without writing its counts."""
    silent = next((report for report in reports if report.counts is None), None)
    if silent is None:
        return None
    return f"the crawl process failed (exit status {silent.status}) before reporting"


def run_blog_crawl(
    sessions: sessionmaker[Session],
    db_url: str,
    start_urls: list[str],
    options: CrawlOptions,
    max_listing_pages: int = 0,
) -> CrawlResult:
    """Crawl a blog from its start URLs."""
    args = {"start_urls": start_urls, "max_listing_pages": max_listing_pages}
    return run_crawl(sessions, db_url, BLOG_SPIDER, args, options)


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
