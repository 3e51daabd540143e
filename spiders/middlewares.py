"""Downloader middlewares: conditional requests, and redirects that must not be followed."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.misc import load_object

from spiders.pipelines import Validators, stored_validators
from spiders.sources.blog.discover import same_site

log = logging.getLogger("pqwatch.crawl")


class ConditionalRequests:
    """Send the stored ETag / Last-Modified with requests marked `conditional`, so an unchanged
    page costs a 304 and no parsing."""

    def __init__(self, validators: dict[str, Validators]) -> None:
        self.validators = validators

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequests:
        """Load the validators once, at start-up, from the crawl's database."""
        return cls(stored_validators(crawler.settings["PQWATCH_DB_URL"]))

    def process_request(self, request: Request) -> None:
        """Add If-None-Match / If-Modified-Since when this URL's validators are known."""
        if not request.meta.get("conditional"):
            return
        stored = self.validators.get(request.url)
        if stored is None:
            return
        if stored.etag:
            request.headers.setdefault(b"If-None-Match", stored.etag.encode("latin-1"))
        if stored.last_modified:
            request.headers.setdefault(b"If-Modified-Since", stored.last_modified.encode("latin-1"))


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


def retry_after_seconds(value: bytes | None, now: float | None = None) -> float | None:
    """Read a Retry-After header: delta seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetry:
    """Retry 429 and 5xx responses (and a JSON body carrying `"status": 500`) with exponential
    back-off, honouring Retry-After. Replaces Scrapy's RetryMiddleware, which retries at once."""

    def __init__(self, crawler: Crawler, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.codes = set(settings.getlist("RETRY_HTTP_CODES"))
        self.times = settings.getint("RETRY_TIMES")
        self.base = settings.getfloat("PQWATCH_RETRY_BASE_DELAY")
        self.cap = settings.getfloat("PQWATCH_RETRY_MAX_DELAY")
        self.sleep = sleep
        self.exceptions = tuple(
            load_object(name) if isinstance(name, str) else name
            for name in settings.getlist("RETRY_EXCEPTIONS")
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetry:
        """Build the middleware from the crawl's retry settings."""
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """Wait and retry a failed response; hand it on once retries are spent."""
        status = response.status
        if status not in self.codes and json_error_status(response) is None:
            return response
        reason = f"HTTP {status}" if status in self.codes else "error status inside the JSON body"
        return await self._retry(request, reason, response.headers.get(b"Retry-After")) or response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Retry a timeout or a dropped connection the same way."""
        if isinstance(exception, self.exceptions):
            return await self._retry(request, type(exception).__name__, None)
        return None

    async def _retry(self, request: Request, reason: str, retry_after: bytes | None) -> Request | None:
        attempt = request.meta.get("retry_times", 0)
        if attempt >= self.times:
            return None
        delay = retry_after_seconds(retry_after)
        if delay is None:
            delay = self.base * 2**attempt
        delay = min(delay, self.cap)
        log.warning(
            "%s: %s; retrying in %.1f s (attempt %d of %d)",
            request.url,
            reason,
            delay,
            attempt + 1,
            self.times,
        )
        # Why: sleeping here holds this request's download slot, so the host gets a real pause.
        await self.sleep(delay)
        spider = self.crawler.spider
        if spider is None:  # a response arrives only while a spider runs
            raise RuntimeError(f"{request.url}: cannot retry, the crawler has no spider running")
        return get_retry_request(request, spider=spider, reason=reason, max_retry_times=self.times)


def json_error_status(response: Response) -> int | None:
    """Return the error status a small JSON body carries (`{"status": 500, ...}`), else None."""
    body = response.body
    if len(body) > 4096 or not body.lstrip().startswith(b"{") or b'"status"' not in body:
        return None
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, int) and status >= 500 else None
