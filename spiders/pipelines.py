"""The one way from spiders into storage: each page is recorded in one transaction, and what a
crawl reads of the store before it starts (validators, fingerprints) is read here.

No other module of spiders imports storage (but storage.terms, the import-free vocabulary)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from spiders.records import PageFetched, PageGone, PageUnchanged
from spiders.sources.statements.records import StatementsFetched
from storage.db import open_database
from storage.record import (
    ListMark,
    PageMark,
    PageOutcome,
    Validators,
    forget_fingerprint,
    load_fingerprints,
    load_page_fingerprints,
    load_source_urls,
    load_validators,
    record_gone,
    record_page,
    refresh_validators,
    remember_fingerprint,
    remember_page_fingerprint,
)
from storage.sites import SiteState, full_due, load_sites, save_sites
from storage.statements import record_statement_links
from storage.terms import SourceKind

# What the spiders take from here: the pipeline, the reads before a crawl, and the value types
# of what those read (storage.record's, passed on so that no spider imports storage).
__all__ = [
    "ListMark",
    "PageMark",
    "SiteState",
    "StoragePipeline",
    "Validators",
    "full_due",
    "load_from_store",
    "save_blog_sites",
    "stored_blog_sites",
    "stored_list_fingerprints",
    "stored_page_fingerprints",
    "stored_source_urls",
    "stored_validators",
]

# Unchanged pages whose new validators are written together, in one transaction.
UNCHANGED_BATCH = 200
CONFLICT_RETRIES = 5
T = TypeVar("T")


def _a_conflict(error: IntegrityError | OperationalError) -> bool:
    """A failure that a concurrent writer explains, so that trying again can succeed."""
    if isinstance(error, IntegrityError):
        return True  # a unique key another process has just taken; the retry reads its row
    message = str(error.orig).lower()
    return "locked" in message or "busy" in message


log = logging.getLogger("pqwatch.crawl")


def load_from_store(db_url: str, load: Callable[[Session], T]) -> T:
    """Read something a crawl needs before it starts (validators, fingerprints) from its database."""
    sessions = open_database(db_url)
    with sessions() as session:
        return load(session)


def stored_validators(db_url: str) -> dict[str, Validators]:
    """The ETag / Last-Modified remembered for each URL, for conditional requests."""
    return load_from_store(db_url, load_validators)


def stored_page_fingerprints(db_url: str) -> dict[str, PageMark]:
    """Each blog post's content fingerprint and answer count when last recorded, by canonical URL."""
    return load_from_store(db_url, load_page_fingerprints)


def stored_source_urls(db_url: str, kind: SourceKind) -> list[str]:
    """The URLs of every source of this kind that has stored a version."""
    return load_from_store(db_url, lambda session: load_source_urls(session, kind))


def stored_blog_sites(db_url: str, hosts: frozenset[str]) -> dict[str, SiteState]:
    """What is known of each blog host before the crawl: its API root or refusal, its cursors."""
    return load_from_store(db_url, lambda session: load_sites(session, hosts))


def save_blog_sites(db_url: str, states: list[SiteState]) -> None:
    """Keep what a blog crawl learnt of its hosts, in one transaction, when it ends."""
    sessions = open_database(db_url)
    with sessions.begin() as session:
        save_sites(session, states)


def stored_list_fingerprints(db_url: str) -> dict[int, ListMark]:
    """What the API list last said of each question, and when its detail was read, by API id."""
    return load_from_store(db_url, load_fingerprints)


class StoragePipeline:
    """Record every page the spiders hand over; a database failure stops the crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.sessions = open_database(crawler.settings["PQWATCH_DB_URL"])
        self.unchanged: list[PageUnchanged] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        """Open the crawl's database once, when the crawl starts."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Store one page whole, or nothing of it."""
        if isinstance(item, PageUnchanged):
            self.unchanged.append(item)
            if len(self.unchanged) >= UNCHANGED_BATCH:
                self._store_unchanged()
        elif isinstance(item, PageFetched):
            outcome = self._transaction(lambda session: self._record(session, item), item.url)
            if outcome is not None and outcome.extraction_failed:
                self.stats.inc_value("pqwatch/extraction_failures")
                self.stats.inc_value("pqwatch/errors")
                log.error(
                    "%s: extraction failure: %s; %d answers were stored, none recorded",
                    item.url,
                    item.doubt or "the page does not read as the post",
                    outcome.stored_before,
                )
            elif outcome is not None:
                self.stats.inc_value("pqwatch/answers_pending", outcome.pending)
                self.stats.inc_value("pqwatch/answers_new", outcome.first_versions)
                self.stats.inc_value("pqwatch/answers_changed", outcome.changed_versions)
                self.stats.inc_value("pqwatch/answers_unchanged", outcome.unchanged)
                self.stats.inc_value("pqwatch/answers_removed", outcome.removed)
        elif isinstance(item, PageGone):
            removed = self._transaction(
                lambda session: record_gone(session, url=item.url, observed_at=item.fetched_at), item.url
            )
            self.stats.inc_value("pqwatch/answers_removed", removed or 0)
        elif isinstance(item, StatementsFetched):  # a statement's corrections: links, not versions
            stored = self._transaction(
                lambda session: record_statement_links(session, item.links, item.fetched_at), item.url
            )
            self.stats.inc_value("pqwatch/statement_links_new", stored or 0)
        return item

    def close_spider(self) -> None:
        """Keep the validators of the unchanged pages still waiting."""
        self._store_unchanged()

    @staticmethod
    def _record(session: Session, item: PageFetched) -> PageOutcome:
        outcome = record_page(
            session,
            source_kind=item.source_kind,
            url=item.url,
            answers=item.answers,
            observed_at=item.fetched_at,
            body=item.body,
            content_type=item.content_type,
            etag=item.etag,
            last_modified=item.last_modified,
            validator_url=item.fetched_url if item.keeps_validators else None,
            source_date=item.source_date,
            complete=item.complete,
            parser=item.parser,
            reads_as_post=item.reads_as_post,
        )
        if outcome.extraction_failed:
            return outcome  # nothing of the page is kept: the next crawl reads it afresh
        # Why forget the fingerprints while a change waits: an unchanged page (or list entry) is
        # not re-read, and the change would never be confirmed.
        if item.source_kind == SourceKind.BLOG:
            fingerprint = None if outcome.pending else item.page_fingerprint
            remember_page_fingerprint(session, item.url, fingerprint, len(item.answers), item.fetched_at)
        if item.list_fingerprint is not None:
            api_id, fingerprint = item.list_fingerprint
            if outcome.pending:
                forget_fingerprint(session, api_id)
            else:
                remember_fingerprint(session, api_id, fingerprint, item.fetched_at)
        return outcome

    def _store_unchanged(self) -> None:
        # Why batched: these pages change nothing but their validators, a cache; losing a batch
        # to a crash costs one full fetch of each next time, never a wrong record.
        pages, self.unchanged = self.unchanged, []
        if pages:
            fetched = [(page.fetched_url, Validators(page.etag, page.last_modified)) for page in pages]
            self._transaction(
                lambda session: refresh_validators(session, fetched, pages[-1].fetched_at),
                f"the validators of {len(pages)} unchanged pages",
            )

    def _transaction(self, work: Callable[[Session], T], what: str) -> T | None:
        """Run `work` in one transaction; None (an error counted, the crawl stopped) when the
        database refuses it. Another process writing the same database at once (a second crawl
        process, a scheduled crawl) can make a transaction fail harmlessly: the same row added by
        both, or SQLite refusing a snapshot that went stale; such a page is tried again afresh."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.sessions.begin() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as error:
                if attempt == CONFLICT_RETRIES or not _a_conflict(error):
                    failure: SQLAlchemyError = error
                    break
                time.sleep(0.05 * 2**attempt)
            except SQLAlchemyError as error:
                failure = error
                break
        self.stats.inc_value("pqwatch/errors")
        log.error("database error while storing %s: %s", what, failure)
        self._stop("database_error")
        return None

    def _stop(self, reason: str) -> None:
        # Why: a database that refuses writes will refuse every page; stop rather than fetch on.
        engine = self.crawler.engine
        if engine is not None and self.crawler.spider is not None:
            engine.close_spider(self.crawler.spider, reason)
