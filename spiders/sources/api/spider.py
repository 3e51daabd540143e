"""The parliament spider: pages through the Written Questions API list and reads each question's
full record from the detail endpoint (the list cuts texts at 255 characters)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from scrapy import Request
from scrapy.http import Response

from spiders.arguments import ArgumentError, flag, url_list, whole_number
from spiders.arguments import windows as parse_windows
from spiders.base import PqwatchSpider
from spiders.pipelines import ListMark, stored_list_fingerprints
from spiders.records import PageFetched
from spiders.sources.api.parse import (
    PARSER_ID,
    ApiRecordError,
    ListEntry,
    grouped_question_keys,
    load_json,
    parse_list_page,
    parse_question,
)
from storage.terms import SourceKind, utcnow

log = logging.getLogger("pqwatch.crawl")
LIST_PATH = "/api/writtenquestions/questions"
HOUSES = ("", "Commons", "Lords", "Bicameral")  # "": both houses
PAGE_SIZE = 100  # public clients go to 1000; 100 is the safe maximum the reference suggests


class ApiSpider(PqwatchSpider):
    """A spider of questions-statements-api.parliament.uk: its JSON bodies read one way."""

    def _json(self, response: Response) -> dict[str, Any] | None:
        """The response's JSON object; an unreadable one is counted as an error (None)."""
        try:
            return load_json(response.body)
        except ApiRecordError as error:
            self.error(response.url, str(error))
            return None


class ParliamentSpider(ApiSpider):
    """Crawl list windows of the API, then the detail of every question that may have changed.

    Arguments (`scrapy crawl parliament -a NAME=VALUE`, forms in spiders.arguments):
    `api_base` the API's http(s) root (required; https://questions-statements-api.parliament.uk);
    `windows` windows joined by commas, each `KIND:FROM..TO` (KIND tabled, answered or corrected,
    dates YYYY-MM-DD, either end may be left out), `+unanswered` after one keeps only unanswered
    questions: `-a windows=answered:2024-01-08..2024-01-12,tabled:2024-01-01..+unanswered`
    (default: one window, the whole list);
    `house` Commons, Lords or Bicameral (default: both);
    `full_refresh` true/false, re-read every question's detail;
    `refresh_days` a whole number, re-read a detail at least this often (default 7)."""

    name = "parliament"
    handle_httpstatus_list = [404]

    def __init__(
        self,
        api_base: str = "",
        windows: list[dict[str, str]] | str | None = None,
        house: str = "",
        full_refresh: bool | str = False,
        refresh_days: int | str = 7,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        bases = url_list("api_base", api_base)
        if len(bases) != 1:
            raise ArgumentError("api_base: give the API's one http(s) root URL (-a api_base=URL)")
        if house not in HOUSES:
            raise ArgumentError(f"house: {house!r} is not one of {', '.join(h for h in HOUSES if h)}")
        self.api_base = bases[0].rstrip("/")
        self.hosts = frozenset({urlsplit(self.api_base).hostname or ""})  # redirects stay on the API host
        self.windows = parse_windows(windows) or [{}]
        self.house = house
        self.full_refresh = flag("full_refresh", full_refresh)
        # Why: the list cannot show an edit past its first 255 characters; re-read every detail
        # at least this often so silent edits are caught.
        started = utcnow()
        self.refresh_before = started - timedelta(days=whole_number("refresh_days", refresh_days))
        self.today = started.date()
        self.seen_keys: set[tuple[str, str]] = set()
        self.fingerprints: dict[int, ListMark] = {}

    async def start(self) -> AsyncIterator[Request]:
        """Request the first page of every list window."""
        self.fingerprints = stored_list_fingerprints(self.settings["PQWATCH_DB_URL"])
        for window in self.windows:
            yield self._list_request(window, 0)

    def _list_request(self, window: dict[str, str], skip: int) -> Request:
        query = {
            **window,
            "includeWithdrawn": "true",
            "expandMember": "true",
            "skip": str(skip),
            "take": str(PAGE_SIZE),
        }
        if self.house and self.house != "Bicameral":
            query["house"] = self.house
        return Request(
            f"{self.api_base}{LIST_PATH}?{urlencode(sorted(query.items()))}",
            callback=self.parse_list,
            errback=self.on_error,
            meta={"window": window, "skip": skip, "start": skip == 0},
            priority=10,  # keep paging ahead of the details it discovers
        )

    def parse_list(self, response: Response) -> Iterator[Request]:
        """Read one list page: request details that may have changed, then the next page."""
        payload = self._json(response)
        if payload is None:
            return
        try:
            page = parse_list_page(payload, self.today)
        except ApiRecordError as error:
            self.error(response.url, str(error))
            return
        for problem in page.problems:
            self.error(response.url, problem)
        for entry in page.entries:
            self.seen_keys.add((entry.date_tabled.isoformat(), entry.uin))
            self.crawler.stats.inc_value("pqwatch/questions_listed")
            known = self.fingerprints.get(entry.api_id)
            fresh = (
                known is not None
                and known.fingerprint == entry.fingerprint
                and known.refreshed_at > self.refresh_before
            )
            if fresh and not self.full_refresh:
                self.crawler.stats.inc_value("pqwatch/not_modified")
                continue
            yield self._detail_request(f"{LIST_PATH}/{entry.api_id}", entry)
        skip = response.meta["skip"] + len(payload.get("results") or [])
        if payload.get("results") and skip < page.total:
            yield self._list_request(response.meta["window"], skip)

    def _detail_request(self, path: str, entry: ListEntry | None) -> Request:
        return Request(
            f"{self.api_base}{path}?expandMember=true",
            callback=self.parse_detail,
            errback=self.on_error,
            meta={"entry": entry},
        )

    def parse_detail(self, response: Response) -> Iterator[Any]:
        """Read one full record, check it against its list entry, and hand it to storage."""
        if response.status == 404:
            self.crawler.stats.inc_value("pqwatch/dead_links")
            log.warning("gone (404): %s", response.url)
            return
        payload = self._json(response)
        if payload is None:
            return
        entry: ListEntry | None = response.meta.get("entry")
        try:
            record = parse_question(payload, self.today)
        except ApiRecordError as error:
            self.error(response.url, str(error))
            return
        if entry is not None and (record.api_id, record.house, record.uin, record.date_tabled) != (
            entry.api_id,
            entry.house,
            entry.uin,
            entry.date_tabled,
        ):
            self.error(
                response.url,
                f"list and detail disagree: list has {entry.house} {entry.uin} tabled {entry.date_tabled},"
                f" detail has {record.house} {record.uin} tabled {record.date_tabled}",
            )
            return
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        yield PageFetched(
            source_kind=SourceKind.API,
            url=f"{self.api_base}{LIST_PATH}/{record.api_id}",
            fetched_url=response.url,
            answers=(record,),
            body=response.body,
            content_type="application/json",
            etag=None,
            last_modified=None,
            fetched_at=utcnow(),
            keeps_validators=False,
            list_fingerprint=(entry.api_id, entry.fingerprint) if entry is not None else None,
            parser=PARSER_ID,
        )
        # Grouped questions can fall outside the window (tabled another day): fetch them too.
        for tabled, uin in grouped_question_keys(payload):
            if (tabled, uin) not in self.seen_keys:
                self.seen_keys.add((tabled, uin))
                yield self._detail_request(f"{LIST_PATH}/{tabled}/{uin}", None)
