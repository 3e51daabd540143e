"""What to crawl: the sources of the config with their spider arguments, and a backfill of past
answered dates in resumable chunks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from monitor.config import Settings
from monitor.crawl.processes import BLOG_SPIDER
from monitor.crawl.runner import CrawlOptions, run_crawl, summary_line
from spiders.registry import KINDS
from spiders.sources.api.windows import Window, routine_windows, window
from storage.terms import SourceKind, utcnow

if TYPE_CHECKING:  # the database layer is imported late: a manual crawl starts its processes first
    from sqlalchemy.orm import Session, sessionmaker

API_SPIDER = KINDS[SourceKind.API].spider
STATEMENTS_SPIDER = "statements"  # spiders.registry.SPIDERS: written statements correcting answers
# Why a week, not a day: a statement's links carry their own date (`linkDate`), so a link may be
# added after the statement is made; a week of statements is one or two list pages.
STATEMENT_SWEEP_DAYS = 7


def parliament_args(
    api_base: str,
    windows: list[Window],
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


def statements_args(
    api_base: str, made_from: date | None, made_to: date | None, house: str | None
) -> dict[str, Any]:
    """The statements spider's arguments: the statements made from `made_from` to `made_to`."""
    return {
        "api_base": api_base,
        "made_from": made_from.isoformat() if made_from else "",
        "made_to": made_to.isoformat() if made_to else "",
        "house": house or "",
    }


def routine_statements(api_base: str, today: date) -> dict[str, Any]:
    """The routine run's statements: those made in the last STATEMENT_SWEEP_DAYS."""
    return statements_args(api_base, today - timedelta(days=STATEMENT_SWEEP_DAYS), today, None)


def configured_crawls(settings: Settings, today: date) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every source of the config as name -> (spider, arguments): the API's routine run, its
    statements' sweep and each blog."""
    routine = parliament_args(settings.api_base, routine_windows(today), None, False, settings.refresh_days)
    # "parliament" is the config's name for the API source ([parliament], the scheduler's job id).
    crawls: dict[str, tuple[str, dict[str, Any]]] = {"parliament": (API_SPIDER, routine)}
    # The same API's written statements: the answers they correct (monitor.changes.corrections).
    crawls["statements"] = (STATEMENTS_SPIDER, routine_statements(settings.api_base, today))
    for blog in settings.blogs:
        crawls[blog.name] = (
            BLOG_SPIDER,
            {"start_urls": list(blog.start_urls), "max_listing_pages": blog.max_listing_pages},
        )
    return crawls


def source_shards(settings: Settings, source: str) -> int:
    """How many jobs a configured source's crawl is on Scrapyd nodes (its `shards`; else 1)."""
    return next((blog.shards for blog in settings.blogs if blog.name == source), 1)


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
        chunk = {**args, "windows": [window("answered", day, last)]}
        result = run_crawl(sessions, db_url, API_SPIDER, chunk, options)
        report(f"backfill {day}..{last}: {summary_line(result)}")
        if result.failed:
            report(f"backfill stopped at {day}; run the same command again to resume there")
            return False
        with sessions.begin() as session:
            state = session.get(CrawlState, key)
            now = utcnow()
            if state is None:
                session.add(CrawlState(name=key, value=last.isoformat(), updated_at=now))
            else:
                # A resumable job's bookmark, not history: moving it forward is right.
                state.value, state.updated_at = last.isoformat(), now
        day = last + timedelta(days=1)
    return True
