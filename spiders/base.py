"""What every pqwatch spider does alike: count errors with one clear log line, read response
bodies safely, and turn a failed request into a counted error."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from spiders.decode import UndecodableError, decode_body
from spiders.reach import is_unreachable, report_unreachable, unreachable_reason

log = logging.getLogger("pqwatch.crawl")


# Scrapy's own log lines that a pqwatch error line replaces (shown again with -v): the traceback
# of a spider callback's exception, and the size cap's warnings.
_REPLACED_LOGS = {
    "scrapy.core.scraper": ("Spider error processing",),
    "scrapy.core.downloader.handlers.http11": ("larger than download max size",),
    "scrapy.downloadermiddlewares.httpcompression": ("exceeded DOWNLOAD_MAXSIZE",),
}


class _Replaced(logging.Filter):
    """Drop the Scrapy log records a pqwatch error line already says."""

    def __init__(self, markers: tuple[str, ...]) -> None:
        super().__init__()
        self.markers = markers

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not any(marker in message for marker in self.markers)


class OneLineRobotsErrors(logging.Filter):
    """Turn Scrapy's robots.txt download error (a traceback per host) into one line naming the
    host and why: an unreachable host is an operator's fact, not a programming error. A host
    that cannot be reached at all is said once at the crawl's end (spiders.reach): dropped here."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; drop it only for an unreachable host."""
        if record.exc_info and isinstance(record.args, dict) and "request" in record.args:
            request, error = record.args["request"], record.args.get("f_exception")
            if isinstance(error, BaseException) and unreachable_reason(error) is not None:
                return False
            host = urlsplit(getattr(request, "url", "")).netloc or "?"
            record.msg, record.args = "%s: could not fetch robots.txt: %s", (host, error)
            record.exc_info = record.exc_text = None
        return True


class PqwatchSpider(Spider):
    """A spider whose errors are counted in `pqwatch/errors` and logged one line each."""

    failed_urls: set[str]  # the URLs an error was counted for, so none is reported twice

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failed_urls = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        """Build the spider and count an exception raised in one of its callbacks as an error."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        robots_log = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
        if not any(isinstance(f, OneLineRobotsErrors) for f in robots_log.filters):
            robots_log.addFilter(OneLineRobotsErrors())
        if crawler.settings.get("LOG_LEVEL") not in ("DEBUG", "INFO"):
            for name, markers in _REPLACED_LOGS.items():
                scrapy_log = logging.getLogger(name)
                if not any(isinstance(f, _Replaced) for f in scrapy_log.filters):
                    scrapy_log.addFilter(_Replaced(markers))
        return spider

    def on_spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """Count a parser crash (an exception in a callback) as an error, on one line."""
        if spider is not self:
            return
        url = getattr(response, "url", None) or "?"
        self.error(url, f"parser crashed: {failure.type.__name__}: {failure.getErrorMessage()}")

    def on_closed(self, spider: Spider) -> None:
        """At the end of the crawl, say each unreachable host once (spiders.reach)."""
        if spider is self:
            report_unreachable(self.crawler.stats)

    def on_error(self, failure: Failure) -> None:
        """Count a request that failed: network error, 5xx after retries, size cap, refusal."""
        request = failure.request  # type: ignore[attr-defined]
        if is_unreachable(self.crawler.stats, request.url):
            return  # its host is one line and one error at the end (on_closed), not one per URL
        cap = request.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
        if failure.check(HttpError):
            self.error(request.url, f"HTTP {failure.value.response.status} after retries")
        elif failure.check(IgnoreRequest):
            message = failure.getErrorMessage()
            if "DOWNLOAD_MAXSIZE" in message:
                self.error(
                    request.url,
                    f"could not fetch: the body decompresses to more than the size cap ({cap} bytes)",
                )
            elif "robots.txt" in message and request.meta.get("start"):
                self.error(request.url, "refused: robots.txt forbids this start URL")
            # else: already counted and explained where it was refused
        elif failure.check(DownloadCancelledError, CancelledError):
            self.error(request.url, f"could not fetch: the body is larger than the size cap ({cap} bytes)")
        else:
            reason = failure.getErrorMessage() or failure.type.__name__
            self.error(request.url, f"could not fetch: {reason}")

    def error(self, url: str, reason: str) -> None:
        """Count one error and log it on one line."""
        self.failed_urls.add(url)
        self.crawler.stats.inc_value("pqwatch/errors")
        log.error("%s: %s", url, reason)

    def extraction_failure(self, url: str, why: str) -> None:
        """Count a page that answered but carries no content (a challenge or maintenance page, an
        empty body): an error, never a removal."""
        self.crawler.stats.inc_value("pqwatch/extraction_failures")
        self.error(url, f"extraction failure: {why}")

    def readable(self, response: Response) -> bool:
        """Say whether a response is a page to read: not 304/404/410, and text of some kind."""
        if response.status in (304, 404, 410):
            if response.status != 304:
                self.crawler.stats.inc_value("pqwatch/dead_links")
                log.warning("dead link (%s): %s", response.status, response.url)
            return False
        content_type = content_type_of(response) or ""
        if content_type and not any(kind in content_type for kind in ("html", "xml", "rss", "text/plain")):
            self.error(response.url, f"not an HTML page (Content-Type {content_type})")
            return False
        return True

    def decode(self, response: Response) -> str | None:
        """Return the body as text, or None (an error counted) when its bytes are not text."""
        try:
            text, note = decode_body(response.body, content_type_of(response))
        except UndecodableError as error:
            self.error(response.url, str(error))
            return None
        if note:
            self.error(response.url, f"{note}; read as UTF-8")
        return text


def content_type_of(response: Response) -> str | None:
    """Return a response's Content-Type header as text."""
    return header(response.headers, b"Content-Type")


def header(headers: Any, name: bytes) -> str | None:
    """Return one header's value as text (None when absent)."""
    value = headers.get(name)
    return value.decode("latin-1") if value else None
