"""What every pqwatch spider does alike: count errors with one clear log line, read response
bodies safely, and turn a failed request into a counted error."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.decode import UndecodableError, decode_html

log = logging.getLogger("pqwatch.crawl")


class PqwatchSpider(Spider):
    """A spider whose errors are counted in `pqwatch/errors` and logged one line each."""

    def on_error(self, failure: Failure) -> None:
        """Count a request that failed: network error, 5xx after retries, size cap, refusal."""
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            self.error(request.url, f"HTTP {failure.value.response.status} after retries")
        elif failure.check(IgnoreRequest):
            return  # already counted and explained where it was refused
        else:
            reason = failure.getErrorMessage() or failure.type.__name__
            self.error(request.url, f"could not fetch: {reason}")

    def error(self, url: str, reason: str) -> None:
        """Count one error and log it on one line."""
        self.crawler.stats.inc_value("pqwatch/errors")
        log.error("%s: %s", url, reason)

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
        charset = None
        content_type = content_type_of(response) or ""
        if "charset=" in content_type:
            charset = content_type.split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
        try:
            text, note = decode_html(response.body, charset)
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
