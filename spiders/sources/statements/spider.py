"""The statements spider: sweeps the written ministerial statements made in a date window and hands
storage each statement's CorrectedAnswer links (the written answers it corrects); change detection
joins them to their questions (monitor.changes.corrections).

Fewest requests: the list endpoint pages with take/skip (100 a page, a routine week's statements
fit on one or two pages), and a statement's detail is fetched only when its list entry says it has
linked statements but does not show them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from scrapy import Request
from scrapy.http import Response

from spiders.arguments import ArgumentError, url_list
from spiders.sources.api.spider import ApiSpider
from spiders.sources.statements.parse import (
    ApiRecordError,
    parse_detail,
    parse_list_page,
)
from spiders.sources.statements.records import Statement, StatementsFetched
from storage.terms import utcnow

log = logging.getLogger("pqwatch.crawl")
LIST_PATH = "/api/writtenstatements/statements"
HOUSES = ("", "Commons", "Lords", "Bicameral")  # "" and Bicameral: both houses
PAGE_SIZE = 100  # as the parliament spider asks of the same API


class StatementsSpider(ApiSpider):
    """Crawl the statements list of a window, and a detail only where the list hides the links.

    Arguments (`scrapy crawl statements -a NAME=VALUE`):
    `api_base` the API's http(s) root (required; https://questions-statements-api.parliament.uk);
    `made_from`, `made_to` the window of dates made, YYYY-MM-DD (either may be left out);
    `house` Commons, Lords or Bicameral (default: both)."""

    name = "statements"
    handle_httpstatus_list = [404]

    def __init__(
        self, api_base: str = "", made_from: str = "", made_to: str = "", house: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        bases = url_list("api_base", api_base)
        if len(bases) != 1:
            raise ArgumentError("api_base: give the API's one http(s) root URL (-a api_base=URL)")
        if house not in HOUSES:
            raise ArgumentError(f"house: {house!r} is not one of {', '.join(h for h in HOUSES if h)}")
        self.api_base = bases[0].rstrip("/")
        self.hosts = frozenset({urlsplit(self.api_base).hostname or ""})  # redirects stay on the API host
        start, end = _day("made_from", made_from), _day("made_to", made_to)
        if start is not None and end is not None and start > end:
            raise ArgumentError(f"made_from {start} is after made_to {end}")
        self.window = {
            name: day.isoformat() for name, day in (("madeWhenFrom", start), ("madeWhenTo", end)) if day
        }
        self.house = house
        self.today = utcnow().date()
        self.seen: set[int] = set()  # statement ids handled: a statement paged onto twice counts once

    async def start(self) -> AsyncIterator[Request]:
        """Request the window's first list page."""
        yield self._list_request(0)

    def _list_request(self, skip: int) -> Request:
        query = {**self.window, "expandMember": "true", "skip": str(skip), "take": str(PAGE_SIZE)}
        if self.house and self.house != "Bicameral":
            query["house"] = self.house
        return Request(
            f"{self.api_base}{LIST_PATH}?{urlencode(sorted(query.items()))}",
            callback=self.parse_list,
            errback=self.on_error,
            meta={"skip": skip, "start": skip == 0},
            priority=10,  # keep paging ahead of the details it discovers
        )

    def parse_list(self, response: Response) -> Iterator[Any]:
        """Read one list page: hand over each statement's corrections, then ask for the next page."""
        payload = self._json(response)
        if payload is None:
            return
        try:
            page = parse_list_page(payload, self.today)
        except ApiRecordError as error:
            self.error(response.url, str(error))
            return
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        for problem in page.problems:
            self.error(response.url, problem)
        for statement in page.statements:
            if statement.statement_id in self.seen:
                continue
            self.crawler.stats.inc_value("pqwatch/statements_listed")
            if statement.has_linked_statements and not statement.links_listed:
                yield Request(
                    f"{self.api_base}{LIST_PATH}/{statement.statement_id}?expandMember=true",
                    callback=self.parse_statement_detail,
                    errback=self.on_error,
                    meta={"statement_id": statement.statement_id},
                )
                continue
            yield from self._hand_over(statement)
        results = payload.get("results") or []
        skip = response.meta["skip"] + len(results)
        if results and skip < page.total:
            yield self._list_request(skip)

    def parse_statement_detail(self, response: Response) -> Iterator[StatementsFetched]:
        """Read one statement's full record and hand over its corrections."""
        if response.status == 404:
            self.crawler.stats.inc_value("pqwatch/dead_links")
            log.warning("gone (404): %s", response.url)
            return
        payload = self._json(response)
        if payload is None:
            return
        try:
            statement = parse_detail(payload, self.today)
        except ApiRecordError as error:
            self.error(response.url, str(error))
            return
        asked = response.meta["statement_id"]
        if statement.statement_id != asked:
            self.error(
                response.url, f"asked for statement {asked}, the API answered {statement.statement_id}"
            )
            return
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        yield from self._hand_over(statement)

    def _hand_over(self, statement: Statement) -> Iterator[StatementsFetched]:
        self.seen.add(statement.statement_id)
        if not statement.corrections:
            return  # a statement that corrects no written answer is none of pqwatch's business
        self.crawler.stats.inc_value("pqwatch/statement_corrections", len(statement.corrections))
        yield StatementsFetched(
            url=f"{self.api_base}{LIST_PATH}/{statement.statement_id}",
            links=statement.corrections,
            fetched_at=utcnow(),
        )


def _day(name: str, value: Any) -> date | None:
    """A window's end: a date, or its YYYY-MM-DD text; None when left out."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ArgumentError(f"{name}: {value!r} is not a date YYYY-MM-DD") from None
