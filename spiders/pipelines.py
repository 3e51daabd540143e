"""The one way from spiders into storage: each page is recorded in one transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError

from spiders.records import PageFetched, PageGone, PageUnchanged
from storage.db import open_database
from storage.record import (
    load_fingerprints,
    load_page_fingerprints,
    load_validators,
    record_gone,
    record_page,
    refresh_validators,
    remember_fingerprint,
    remember_page_fingerprint,
)

# Unchanged pages whose new validators are written together, in one transaction.
UNCHANGED_BATCH = 200

log = logging.getLogger("pqwatch.crawl")


def load_store_validators(db_url: str) -> dict[str, tuple[str | None, str | None]]:
    """Return the stored ETag / Last-Modified by URL for conditional requests."""
    sessions = open_database(db_url)
    with sessions() as session:
        return load_validators(session)


def load_store_page_fingerprints(db_url: str) -> dict[str, tuple[str, int]]:
    """Return the blog pages' content fingerprints and answer counts by canonical URL."""
    sessions = open_database(db_url)
    with sessions() as session:
        return load_page_fingerprints(session)


def load_store_fingerprints(db_url: str) -> dict[int, tuple[str, datetime]]:
    """Return the API list fingerprints by question id, to skip unchanged details."""
    sessions = open_database(db_url)
    with sessions() as session:
        return load_fingerprints(session)


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
            return item
        try:
            with self.sessions.begin() as session:
                if isinstance(item, PageFetched):
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
                    )
                    self.stats.inc_value("pqwatch/answers_new", outcome.first_versions)
                    self.stats.inc_value("pqwatch/answers_changed", outcome.changed_versions)
                    self.stats.inc_value("pqwatch/answers_unchanged", outcome.unchanged)
                    self.stats.inc_value("pqwatch/answers_removed", outcome.removed)
                    if item.source_kind == "blog":
                        remember_page_fingerprint(
                            session, item.url, item.page_fingerprint, len(item.answers), item.fetched_at
                        )
                    if item.list_fingerprint is not None:
                        api_id, fingerprint = item.list_fingerprint
                        remember_fingerprint(session, api_id, fingerprint, item.fetched_at)
                elif isinstance(item, PageGone):
                    removed = record_gone(session, url=item.url, observed_at=item.fetched_at)
                    self.stats.inc_value("pqwatch/answers_removed", removed)
        except SQLAlchemyError as error:
            self.stats.inc_value("pqwatch/errors")
            log.error("database error while storing %s: %s", getattr(item, "url", "?"), error)
            self._stop("database_error")
        return item

    def close_spider(self) -> None:
        """Keep the validators of the unchanged pages still waiting."""
        self._store_unchanged()

    def _store_unchanged(self) -> None:
        # Why batched: these pages change nothing but their validators, a cache; losing a batch
        # to a crash costs one full fetch of each next time, never a wrong record.
        pages, self.unchanged = self.unchanged, []
        if not pages:
            return
        try:
            with self.sessions.begin() as session:
                fetched = [(page.fetched_url, page.etag, page.last_modified) for page in pages]
                refresh_validators(session, fetched, pages[-1].fetched_at)
        except SQLAlchemyError as error:
            self.stats.inc_value("pqwatch/errors")
            log.error(
                "database error while keeping the validators of %d unchanged pages: %s", len(pages), error
            )
            self._stop("database_error")

    def _stop(self, reason: str) -> None:
        # Why: a database that refuses writes will refuse every page; stop rather than fetch on.
        engine = self.crawler.engine
        if engine is not None and self.crawler.spider is not None:
            engine.close_spider(self.crawler.spider, reason)
