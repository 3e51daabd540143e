"""Hosts a crawl cannot reach at all: the connection is refused, the name does not resolve, or
the host does not answer in time. Such a host is one fact for the operator, told on one line at
the end of the crawl ("127.0.0.1:9: unreachable (connection refused); 3 requests not made"),
not a warning per retry and an error per URL.

How: BackoffRetry retries a first failure as usual (a blip is not an outage), quietly; once
those retries are spent it marks the host here, and SkipUnreachableHosts drops every later
request to it without a connection. The marks live in the crawl's stats, which every component
and the crawl's end (spiders.run, the Scrapy command) already share."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.statscollectors import StatsCollector
from twisted.internet import error as twisted_errors

__all__ = [
    "SkipUnreachableHosts",
    "has_answered",
    "mark_answered",
    "host_of",
    "is_unreachable",
    "mark_unreachable",
    "report_unreachable",
    "unreachable_hosts",
    "unreachable_reason",
]

log = logging.getLogger("pqwatch.crawl")

_MARK, _NOT_MADE, _REACHED = "pqwatch/unreachable/", "pqwatch/not_made/", "pqwatch/reached/"
# Most specific first: Twisted's refused and timed-out errors are ConnectErrors too.
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadConnectionRefusedError, "connection refused"),
    (twisted_errors.ConnectionRefusedError, "connection refused"),
    (CannotResolveHostError, "DNS lookup failed"),
    (twisted_errors.DNSLookupError, "DNS lookup failed"),
    (DownloadTimeoutError, "timed out"),
    (twisted_errors.TimeoutError, "timed out"),
    (twisted_errors.TCPTimedOutError, "timed out"),
    (twisted_errors.NoRouteError, "no route to host"),
    (twisted_errors.ConnectError, "could not connect"),
)


def unreachable_reason(exception: BaseException | None, answered: bool = False) -> str | None:
    """Why this download failure means the host cannot be reached, in a few words; None when it
    does not (the host answered, however badly). A timeout from a host that has `answered` in
    this crawl is one slow page, not a host down: None."""
    for kind, reason in _REASONS:
        if isinstance(exception, kind):
            return None if answered and reason == "timed out" else reason
    return None


def mark_answered(stats: StatsCollector | None, url: str) -> None:
    """Remember that the host of this URL answered in this crawl."""
    if stats is not None and stats.get_value(_REACHED + host_of(url)) is None:
        stats.set_value(_REACHED + host_of(url), 1)


def has_answered(stats: StatsCollector | None, url: str) -> bool:
    """Whether the host of this URL has answered in this crawl."""
    return stats is not None and stats.get_value(_REACHED + host_of(url)) is not None


def host_of(url: str) -> str:
    """The host (and port, when given) of a URL, as the unreachable line names it."""
    return urlsplit(url).netloc.lower() or "?"


def is_unreachable(stats: StatsCollector | None, url: str) -> bool:
    """Whether the host of this URL was marked unreachable in this crawl."""
    return stats is not None and stats.get_value(_MARK + host_of(url)) is not None


def mark_unreachable(stats: StatsCollector | None, url: str, reason: str) -> None:
    """Mark the host of this URL unreachable (the first reason stays)."""
    if stats is not None and not is_unreachable(stats, url):
        stats.set_value(_MARK + host_of(url), reason)


def unreachable_hosts(stats: dict[str, object]) -> dict[str, str]:
    """Each unreachable host of a finished crawl (its stats) and why:
    {"127.0.0.1:9": "connection refused"}."""
    return {name.removeprefix(_MARK): str(why) for name, why in stats.items() if name.startswith(_MARK)}


def report_unreachable(stats: StatsCollector | None) -> None:
    """At the crawl's end: one error line and one counted error per unreachable host."""
    if stats is None:
        return
    values = stats.get_stats()
    for host, reason in sorted(unreachable_hosts(values).items()):
        skipped = int(values.get(_NOT_MADE + host, 0))
        stats.inc_value("pqwatch/errors")
        plural = "" if skipped == 1 else "s"
        log.error("%s: unreachable (%s); %d request%s not made", host, reason, skipped, plural)


class SkipUnreachableHosts:
    """Drop a request to a host already marked unreachable, counting it as not made.

    After robots.txt (100) in the chain: a start URL held for its host's robots.txt is dropped
    here once that robots.txt found the host unreachable."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipUnreachableHosts:
        """Build the middleware on the crawl's stats."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Let the request on, or refuse it (IgnoreRequest) when its host is unreachable."""
        stats = self.crawler.stats
        if is_unreachable(stats, request.url):
            assert stats is not None  # is_unreachable is False without stats
            stats.inc_value(_NOT_MADE + host_of(request.url))
            raise IgnoreRequest(f"{host_of(request.url)}: host unreachable")
