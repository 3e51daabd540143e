"""Downloader middlewares: conditional requests, redirects that must not be followed, addresses
that must not be reached (the SSRF guard, with spiders.safety), and retries with back-off."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.misc import load_object
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from spiders.pipelines import Validators, stored_validators
from spiders.reach import has_answered, is_unreachable, mark_answered, mark_unreachable, unreachable_reason
from spiders.safety import REFUSED_HOSTS, AddressPolicy, literal_address, policy_from_settings
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
    """Refuse a redirect to another site or to a non-HTTP scheme (file:, data:, ftp:); a spider
    without `hosts` stays on the host of the request redirected."""

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
        if not hosts:
            hosts = frozenset({(urlsplit(request.url).hostname or "").removeprefix("www.")})
        scheme_ok = urlsplit(target).scheme in ("http", "https")
        if scheme_ok and same_site(target, hosts):
            return response
        self.crawler.stats.inc_value("pqwatch/errors")
        log.error("%s: refused redirect to %s (off-site or not http)", request.url, target)
        raise IgnoreRequest(f"refused redirect to {target}")


class RefusePrivateAddresses:
    """The SSRF guard's log line and count: refuse a URL whose host is a loopback, private,
    link-local, CGNAT, multicast or reserved IP literal before anything is sent, and turn a
    connection `spiders.safety.GuardedResolver` refused (a name resolving only to such addresses)
    into one counted error. Early in the chain (before robots.txt) so a refused URL costs no
    robots.txt request; its process_exception runs last, after BackoffRetry has let it pass."""

    def __init__(self, crawler: Crawler, policy: AddressPolicy) -> None:
        self.crawler, self.policy = crawler, policy
        # IP-literal host -> the policy's refusal (None: allowed). Why cached: the policy is
        # fixed for the crawl and a literal's answer cannot change, while parsing it twice on
        # every request was a measurable share of a 304's CPU. Names are never cached here:
        # REFUSED_HOSTS is read afresh, and the resolver checks every connection.
        self._literals: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RefusePrivateAddresses:
        """Build the guard from the crawl's PQWATCH_ALLOW_PRIVATE_ADDRESSES setting."""
        return cls(crawler, policy_from_settings(crawler.settings))

    def process_request(self, request: Request) -> None:
        """Refuse an IP literal the policy forbids, or a host already seen resolving only to such."""
        host = urlsplit(request.url).hostname or ""
        if host in self._literals:
            reason = self._literals[host]
        elif literal_address(host):
            reason = self._literals[host] = self.policy.refusal(host)
        else:
            reason = REFUSED_HOSTS.get(host)
        if reason is not None:
            self._refuse(request, reason)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Explain a connection that failed because every address of its host was refused."""
        reason = refused_reason(request)
        if reason is not None:
            self._refuse(request, reason)

    def _refuse(self, request: Request, reason: str) -> None:
        # Why quiet for robots.txt: the page that asked for it is refused and counted next.
        if not (request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt")):
            self.crawler.stats.inc_value("pqwatch/errors")
            log.error("%s: refused: %s (not a public address)", request.url, reason)
        raise IgnoreRequest(f"refused: {reason}")


def refused_reason(request: Request) -> str | None:
    """Why the SSRF guard refused every address of this request's host, or None."""
    return REFUSED_HOSTS.get(urlsplit(request.url).hostname or "")


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with its per-host limit (CONCURRENT_REQUESTS_PER_DOMAIN) kept at a
    download delay of 0.

    Why: Scrapy's `_process_queue` starts queued requests while `slot.free_transfer_slots()` is
    positive, but a request only joins `slot.transferring` once its task first runs, after the
    loop has ended; with no delay to break the loop, every queued request of a host starts at
    once (measured: 7 in flight at a concurrency of 1). Counting it as transferring when its task
    is created closes that gap; Scrapy's `_download` adds it again (a set) and removes it when
    the response or the error arrives."""

    def _wait_for_download(self, slot: Slot, request: Request, queue_dfd: Any) -> Any:
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)


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
        mark_answered(self.crawler.stats, request.url)  # a later timeout there is a slow page
        status = response.status
        if status not in self.codes and json_error_status(response) is None:
            return response
        reason = f"HTTP {status}" if status in self.codes else "error status inside the JSON body"
        return await self._retry(request, reason, response.headers.get(b"Retry-After")) or response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Retry a timeout or a dropped connection the same way (never an address refused)."""
        if not isinstance(exception, self.exceptions) or refused_reason(request) is not None:
            return None
        unreachable = unreachable_reason(exception, has_answered(self.crawler.stats, request.url))
        if unreachable is None:
            return await self._retry(request, type(exception).__name__, None)
        if is_unreachable(self.crawler.stats, request.url):
            return None  # its host is already known to be down: no more tries, no more lines
        # Quiet (INFO, shown with -v): once the tries are spent the host is one line at the end.
        retry = await self._retry(request, unreachable, None, level=logging.INFO)
        if retry is None:
            mark_unreachable(self.crawler.stats, request.url, unreachable)
        return retry

    async def _retry(
        self, request: Request, reason: str, retry_after: bytes | None, level: int = logging.WARNING
    ) -> Request | None:
        attempt = request.meta.get("retry_times", 0)
        if attempt >= self.times:
            return None
        delay = retry_after_seconds(retry_after)
        if delay is None:
            delay = self.base * 2**attempt
        delay = min(delay, self.cap)
        log.log(
            level,
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


@implementer(IResolutionReceiver)
class _Filter:
    """Hands on a resolution's permitted addresses; remembers the refused ones."""

    def __init__(self, receiver: Any, host: str, policy: AddressPolicy) -> None:  # an IResolutionReceiver
        self.receiver, self.host, self.policy = receiver, host, policy
        self.passed = 0
        self.refused: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 (Twisted's names)
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        reason = self.policy.refusal(str(getattr(address, "host", "")))
        if reason is None:
            self.passed += 1
            self.receiver.addressResolved(address)
        else:
            self.refused.append(reason)

    def resolutionComplete(self) -> None:  # noqa: N802
        if self.passed:
            REFUSED_HOSTS.pop(self.host, None)
        elif self.refused:
            REFUSED_HOSTS[self.host] = "; ".join(dict.fromkeys(self.refused))
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """The reactor's name resolver, handing on only the addresses the policy permits."""

    def __init__(self, reactor: Any, policy: AddressPolicy) -> None:
        self.reactor = reactor
        self.policy = policy
        self.original: Any = reactor.nameResolver  # an IHostnameResolver

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        """Build it from the crawl's PQWATCH_ALLOW_PRIVATE_ADDRESSES setting."""
        return cls(reactor, policy_from_settings(crawler.settings))

    def install_on_reactor(self) -> None:
        """Become the resolver every HostnameEndpoint asks."""
        self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 (Twisted's interface)
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        """Resolve through the original resolver, dropping refused addresses."""
        receiver = _Filter(resolutionReceiver, hostName, self.policy)
        return self.original.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)
