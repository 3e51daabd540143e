"""Run one crawl: start its crawl processes, wait for them, add up their counts, and detect the
changes they stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.crawl.processes import BLOG_SPIDER, CrawlOptions, CrawlProcesses, ProcessReport, crawl_hosts

# The counts file's key for the hosts a crawl process could not reach (spiders.run.UNREACHABLE_KEY,
# not imported: that module loads Scrapy, which a manual crawl's own process never needs).
UNREACHABLE_KEY = "unreachable"

if TYPE_CHECKING:  # the database layer is imported late: a manual crawl starts its processes first
    from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "CrawlOptions",
    "CrawlResult",
    "finish_crawl",
    "full_hosts_of",
    "run_blog_crawl",
    "run_crawl",
    "summary_line",
]


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl did: its counts, the events detected after it, and whether it failed."""

    counts: dict[str, int]
    events: int
    failed: bool
    reason: str | None = None
    held: str | None = None  # the one line of a mass change held from digests
    # Each host the crawl could not reach, and why: "127.0.0.1:9 (connection refused)".
    unreachable: tuple[str, ...] = ()


def run_crawl(
    sessions: sessionmaker[Session] | None,
    db_url: str,
    spider: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
    *,
    mass_change_threshold: float | None = None,
    source: str | None = None,
) -> CrawlResult:
    """Run one spider in its crawl processes (or as jobs on the Scrapyd nodes of
    `options.nodes`, named `source`), then turn what it stored into change events.

    With `sessions` None the database is opened (and migrated) here while the crawl processes
    load; they begin only once it is ready, and a DatabaseError from opening it is raised here
    (CrawlProcesses says what this and the shared blog crawl buy). When the run changed or lost
    at least `mass_change_threshold` (default: PQWATCH_MASS_CHANGE_THRESHOLD) of its source's
    answers, its events are held from digests and the crawl fails with the hold's line."""
    from storage.terms import utcnow

    started = utcnow()
    full_hosts: frozenset[str] = frozenset()
    if options.nodes:  # jobs on Scrapyd nodes (monitor.crawl.dispatch), not local processes
        from monitor.crawl.dispatch import dispatch_crawl
        from storage.db import open_database

        sessions = sessions or open_database(db_url)
        if spider == BLOG_SPIDER:
            full_hosts = full_hosts_of(sessions, spider_args, started, options.full_verify_days)
        reports = dispatch_crawl(sessions, db_url, source or spider, spider, spider_args, options)
        return _finish_reports(
            sessions, spider, spider_args, reports, started, full_hosts, mass_change_threshold
        )
    if sessions is not None and spider == BLOG_SPIDER:
        full_hosts = full_hosts_of(sessions, spider_args, started, options.full_verify_days)
    with CrawlProcesses(spider, db_url, spider_args, options, gated=sessions is None) as processes:
        if sessions is None:
            from storage.db import open_database

            sessions = open_database(db_url)
            if spider == BLOG_SPIDER:  # read before the crawl processes begin (and write)
                full_hosts = full_hosts_of(sessions, spider_args, started, options.full_verify_days)
            processes.go()
        reports = processes.wait()
    return _finish_reports(sessions, spider, spider_args, reports, started, full_hosts, mass_change_threshold)


def _finish_reports(
    sessions: sessionmaker[Session],
    spider: str,
    spider_args: dict[str, Any],
    reports: list[ProcessReport],
    started: datetime,
    full_hosts: frozenset[str],
    mass_change_threshold: float | None,
) -> CrawlResult:
    counts = _total_counts(reports)
    return finish_crawl(
        sessions,
        spider,
        spider_args,
        counts,
        started,
        full_hosts,
        reason=_failure_reason(reports),
        process_failed=any(report.status for report in reports),
        unreachable=_unreachable(reports),
        mass_change_threshold=mass_change_threshold,
    )


def finish_crawl(
    sessions: sessionmaker[Session],
    spider: str,
    spider_args: dict[str, Any],
    counts: dict[str, int],
    started: datetime,
    full_hosts: frozenset[str],
    *,
    reason: str | None = None,
    process_failed: bool = False,
    unreachable: tuple[str, ...] = (),
    mass_change_threshold: float | None = None,
) -> CrawlResult:
    """What every crawl does once its spider has stopped, wherever it ran (its crawl processes,
    or `scrapy crawl` in its own process): detect the changes it stored, hold a mass change,
    and on success move its blog hosts' crawl marks."""
    from monitor.changes.detect import detect
    from monitor.changes.holds import SourceScope, hold_mass_change
    from monitor.config import mass_change_threshold as configured_threshold

    threshold = configured_threshold() if mass_change_threshold is None else mass_change_threshold
    scope = SourceScope.of_crawl(spider, spider_args.get("start_urls") or ())
    # One transaction: no digest can read the events before their hold is on them.
    with sessions.begin() as session:
        detection = detect(session)
        mass = hold_mass_change(session, detection, scope, threshold, detection.detected_at)
    held = None if mass is None else mass.line()
    failed = bool(reason) or bool(held) or process_failed or counts.get("errors", 0) > 0
    if spider == BLOG_SPIDER and not failed:
        from storage.sites import mark_crawled

        with sessions.begin() as session:
            mark_crawled(session, crawl_hosts(spider_args), started, full_hosts)
    return CrawlResult(counts, detection.events, failed, reason, held, unreachable)


def full_hosts_of(
    sessions: sessionmaker[Session], spider_args: dict[str, Any], now: datetime, days: float
) -> frozenset[str]:
    """The blog hosts whose crawl is a full verification (the blog spider decides alike): every
    post re-read, so only then does their last full verification move."""
    from storage.sites import SiteState, full_due, load_sites

    hosts = crawl_hosts(spider_args)
    if spider_args.get("full"):
        return hosts
    with sessions() as session:
        known = load_sites(session, hosts)
    return frozenset(h for h in hosts if full_due(known.get(h) or SiteState(h), now, days))


def _total_counts(reports: list[ProcessReport]) -> dict[str, int]:
    """The counts of every process of a crawl, added up."""
    counts: dict[str, int] = {}
    for report in reports:
        for name, value in (report.counts or {}).items():
            if name != UNREACHABLE_KEY:  # not a count: _unreachable reads it
                counts[name] = counts.get(name, 0) + value
    return counts


def _unreachable(reports: list[ProcessReport]) -> tuple[str, ...]:
    """Each host some process of the crawl could not reach, once: "host (why)"."""
    hosts: dict[str, str] = {}
    for report in reports:
        written: dict[str, Any] = dict(report.counts or {})
        hosts.update(written.get(UNREACHABLE_KEY) or {})
    return tuple(f"{host} ({why})" for host, why in sorted(hosts.items()))


def _failure_reason(reports: list[ProcessReport]) -> str | None:
    """Why the crawl failed outright: a job that said why, or a process that ended without
    writing its counts."""
    said = next((report.reason for report in reports if report.reason), None)
    if said:
        return said
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
    full: bool = False,
) -> CrawlResult:
    """Crawl a blog from its start URLs (`full`: a full verification, every post re-read)."""
    args: dict[str, Any] = {"start_urls": start_urls, "max_listing_pages": max_listing_pages}
    if full:
        args["full"] = True
    return run_crawl(sessions, db_url, BLOG_SPIDER, args, options)


def summary_line(result: CrawlResult) -> str:
    """Return the one-line summary a manual crawl ends with."""
    c = result.counts
    if result.reason:
        return f"crawl failed: {result.reason}"
    if result.held:
        return result.held
    return (
        f"crawl {'finished with errors' if result.failed else 'finished'}: "
        f"{c.get('pages_fetched', 0)} pages fetched, {c.get('not_modified', 0)} not modified, "
        f"answers {c.get('answers_new', 0)} new / {c.get('answers_changed', 0)} changed / "
        f"{c.get('answers_removed', 0)} removed{_waiting(c)}, {c.get('dead_links', 0)} dead links, "
        f"{c.get('errors', 0)} errors{_failures(c)}; {result.events} change events"
    )


def _waiting(counts: dict[str, int]) -> str:
    pending = counts.get("answers_pending", 0)
    return f" ({pending} waiting for confirmation a day later)" if pending else ""


def _failures(counts: dict[str, int]) -> str:
    failures = counts.get("extraction_failures", 0)
    return f" ({failures} pages without their answers)" if failures else ""
