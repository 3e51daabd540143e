"""The pages spider: reads given official pages — questions-statements.parliament.uk detail pages
(for when the API is behind or down) and historic Hansard written answers (before 2014)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from spiders.arguments import ArgumentError, url_list
from spiders.base import PqwatchSpider, content_type_of, header
from spiders.decode import stand_in_page
from spiders.records import PageFetched, PageGone
from spiders.sources.pages import parse_hansard, parse_html
from spiders.sources.pages.kinds import PAGE_KINDS, page_kind
from storage.terms import SourceKind, utcnow

PAGE_PARSER_IDS = {SourceKind.HTML: parse_html.PARSER_ID, SourceKind.HANSARD: parse_hansard.PARSER_ID}


class PagesSpider(PqwatchSpider):
    """Fetch each given page once (conditionally) and parse it with its kind's parser.

    Arguments (`scrapy crawl pages -a NAME=VALUE`, forms in spiders.arguments): `urls` one
    http(s) URL or several joined by commas (required), each a questions-statements.parliament.uk
    written-question page or a historic Hansard written answer:
    `-a urls=https://questions-statements.parliament.uk/written-questions/detail/2024-01-08/1234`."""

    name = "pages"
    handle_httpstatus_list = [304, 404, 410]

    def __init__(self, urls: list[str] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = url_list("urls", urls)
        if not self.urls:
            raise ArgumentError("urls: give the pages to read (-a urls=URL or URL,URL,...)")
        self.allowed_domains = sorted({urlsplit(url).hostname or "" for url in self.urls})
        self.hosts = frozenset(h.removeprefix("www.") for h in self.allowed_domains)

    async def start(self) -> AsyncIterator[Request]:
        """Request every page."""
        for url in self.urls:
            yield Request(
                url,
                callback=self.parse_page,
                errback=self.on_error,
                meta={"conditional": True, "start": True},
            )

    def parse_page(self, response: Response) -> Iterator[Any]:
        """Parse one page into records, or record that it is gone or unchanged."""
        kind = page_kind(response.url)
        if response.status == 304:
            self.crawler.stats.inc_value("pqwatch/not_modified")
            return
        if response.status in (404, 410) and kind is not None:
            self.crawler.stats.inc_value("pqwatch/dead_links")
            yield PageGone(kind, response.url, response.status, utcnow())
            return
        if kind is None:
            self.error(response.url, "not a written-question page or a historic Hansard page")
            return
        if not self.readable(response):
            return
        text = self.decode(response)
        if text is None:
            return
        if (stand_in := stand_in_page(text)) is not None:
            self.extraction_failure(response.url, stand_in)
            return
        try:
            records = PAGE_KINDS[kind][1](text, response.url)
        except ValueError as error:
            self.error(response.url, str(error))
            return
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        yield PageFetched(
            source_kind=kind,
            url=response.url,
            fetched_url=response.url,
            answers=tuple(records),
            body=response.body,
            content_type=content_type_of(response),
            etag=header(response.headers, b"ETag"),
            last_modified=header(response.headers, b"Last-Modified"),
            fetched_at=utcnow(),
            parser=PAGE_PARSER_IDS[kind],
        )
