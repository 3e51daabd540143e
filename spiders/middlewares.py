"""Downloader middlewares: conditional requests, and redirects that must not be followed."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from spiders.discover import same_site
from spiders.pipelines import load_store_validators

log = logging.getLogger("pqwatch.crawl")


class ConditionalRequests:
    """Send the stored ETag / Last-Modified with requests marked `conditional`, so an unchanged
    page costs a 304 and no parsing."""

    def __init__(self, validators: dict[str, tuple[str | None, str | None]]) -> None:
        self.validators = validators

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequests:
        """Load the validators once, at start-up, from the crawl's database."""
        return cls(load_store_validators(crawler.settings["PQWATCH_DB_URL"]))

    def process_request(self, request: Request) -> None:
        """Add If-None-Match / If-Modified-Since when this URL's validators are known."""
        if not request.meta.get("conditional"):
            return
        etag, modified = self.validators.get(request.url, (None, None))
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1"))
        if modified:
            request.headers.setdefault(b"If-Modified-Since", modified.encode("latin-1"))


class RefuseOffsiteRedirects:
    """Refuse a redirect to another site or to a non-HTTP scheme (file:, data:, ftp:)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RefuseOffsiteRedirects:
        """Build the middleware for a crawler."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass the response on unless it redirects off the crawled site."""
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        hosts: Any = getattr(self.crawler.spider, "hosts", None)
        scheme_ok = urlsplit(target).scheme in ("http", "https")
        if scheme_ok and (hosts is None or same_site(target, hosts)):
            return response
        self.crawler.stats.inc_value("pqwatch/errors")
        log.error("%s: refused redirect to %s (off-site or not http)", request.url, target)
        raise IgnoreRequest(f"refused redirect to {target}")
