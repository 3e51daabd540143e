"""The blog spider: reads a blog's posts with the fewest requests and hands each post's answers to
the pipeline.

For each start URL's host, in this order:

1. **The WordPress REST API**, when it is known (blog_sites) or advertised (the start page's
   `<link rel="https://api.w.org/">` or `Link:` header): 100 posts a request, their bodies in the
   list; a change crawl asks only for posts modified since the last change crawl (less a margin).
2. **Sitemaps with lastmod** (robots.txt's `Sitemap:` lines, else the platforms' usual paths),
   when the API is missing or refuses: only posts whose lastmod is after the last change crawl
   are fetched (every post on a first crawl or a full verification).
3. **Feeds and HTML listings with conditional GETs**, when there is no readable sitemap.

A full verification (every PQWATCH_FULL_VERIFY_DAYS, or with the `full` argument) re-reads every
post, tries a refused API again, and fetches once each stored post the listing no longer has.
A post read through the API and the same post read as a page give the same fingerprint, so
switching between the two never makes a change event."""

from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.arguments import ArgumentError, flag, url_list, whole_number
from spiders.base import PqwatchSpider, content_type_of, header
from spiders.decode import stand_in_page
from spiders.pipelines import (
    PageMark,
    SiteState,
    full_due,
    save_blog_sites,
    stored_blog_sites,
    stored_page_fingerprints,
    stored_source_urls,
)
from spiders.records import PageFetched, PageGone, PageUnchanged
from spiders.sources.blog import wpapi
from spiders.sources.blog.discover import clean_url, discover_html, same_site, site_hosts
from spiders.sources.blog.feeds import MAX_BYTES, FeedKind, discover_feed, is_feed, read_feed
from spiders.sources.blog.parse import PARSER_ID, PostPage, read_post, read_rendered
from storage.terms import SourceKind, utcnow

log = logging.getLogger("pqwatch.crawl")

# Where WordPress (core, then Yoast and Rank Math) and most other platforms put their sitemap.
SITEMAP_PATHS = ("/wp-sitemap.xml", "/sitemap_index.xml", "/sitemap.xml")
# Sitemap indexes nest at most this deep (an index of indexes); deeper ones are refused, counted.
MAX_SITEMAP_DEPTH = 2
# The statuses an API request answers that are facts to act on (fall back), not errors to retry.
API_STATUSES = [400, 401, 403, 404, 410]
RENDERED_TYPE = "text/html; charset=utf-8"


@dataclass
class _Host:
    """What one crawl learns of one blog host; the spider's own bookkeeping, never passed on."""

    host: str
    start_urls: list[str]
    stored: SiteState
    full: bool
    cursor: datetime | None  # aware UTC: posts changed before it are not read (None: read all)
    path: str = "start"  # "api", "sitemap" or "html", once chosen
    api_root: str | None = None
    refused_at: datetime | None = None  # set when the API refused or lied in this crawl
    tried: bool = False  # the API was asked in this crawl
    solo: bool = False  # one process reads the whole host (the API path); others leave it
    api_pages: int = 0  # API pages still expected
    total: int | None = None  # what X-WP-Total said
    sitemaps: int = 0  # sitemap documents still expected
    sitemap_posts: int = 0
    probes: list[str] = field(default_factory=list)  # sitemap URLs still to try
    listed: set[str] = field(default_factory=set)  # canonical URLs the API or sitemap listed
    start_response: Response | None = None


class BlogSpider(PqwatchSpider):
    """Discover posts from start URLs (home, listing, post, feed or sitemap) and parse each once.

    Arguments (`scrapy crawl blog -a NAME=VALUE`, forms in spiders.arguments):
    `start_urls` one http(s) URL or several joined by commas (required);
    `max_listing_pages` a whole number, 0 (the default) walks every listing page;
    `full` true/false, a full verification (every post re-read);
    `shard`, `shards` whole numbers, this process's share of the posts (default 0 of 1)."""

    name = "blog"
    # Why: 304 is "not modified", 404/410 a vanished post; both are facts the callback records.
    handle_httpstatus_list = [304, 404, 410]

    def __init__(
        self,
        start_urls: list[str] | str = "",
        max_listing_pages: int | str = 0,
        shard: int | str = 0,
        shards: int | str = 1,
        full: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_listing_pages = whole_number("max_listing_pages", max_listing_pages)  # 0: walk all
        # One of `shards` processes crawling the blog together: each walks the listings and
        # reads only the posts whose URL falls to it (see owner_of). The API path is read by
        # shard 0 alone: one request lists 100 posts, and splitting it would read each twice.
        self.shard, self.shards = whole_number("shard", shard), whole_number("shards", shards)
        if not self.shard < self.shards:
            raise ArgumentError(f"shard: {shard!r} is not below shards {shards!r}")
        self.full = flag("full", full)
        urls = url_list("start_urls", start_urls)
        if not urls:
            raise ArgumentError("start_urls: give the blog's start URL (-a start_urls=URL or URL,URL,...)")
        self.start_urls = [clean_url(url) for url in urls]
        self.hosts = site_hosts(self.start_urls)
        self.allowed_domains = sorted(self.hosts | {f"www.{host}" for host in self.hosts})
        self.canonical_seen: set[str] = set()
        # Canonical URL -> its content fingerprint and answer count as stored: an equal page is not re-read.
        self.page_fingerprints: dict[str, PageMark] = {}
        # Posts found (linked or read) per site, and posts stored per site before this crawl.
        self.posts_found: Counter[str] = Counter()
        self.stored_posts: Counter[str] = Counter()
        self.stored_urls: set[str] = set()
        self.sites: dict[str, _Host] = {}

    async def start(self) -> AsyncIterator[Request]:
        """Request every start URL, or a host's known API straight away."""
        db_url = self.settings["PQWATCH_DB_URL"]
        self.page_fingerprints = stored_page_fingerprints(db_url)
        self.stored_urls = {clean_url(url) for url in stored_source_urls(db_url, SourceKind.BLOG)}
        self.stored_posts = Counter(_bare_host(url) for url in self.stored_urls)
        known = stored_blog_sites(db_url, self.hosts)
        days = float(self.settings.get("PQWATCH_FULL_VERIFY_DAYS", 7))
        now = utcnow()
        for url in self.start_urls:
            host = _bare_host(url)
            if host in self.sites:
                self.sites[host].start_urls.append(url)
                continue
            stored = known.get(host) or SiteState(host)
            full = self.full or full_due(stored, now, days)
            cursor = None
            if not full and stored.last_change_crawl_at is not None:
                cursor = wpapi.change_cursor(stored.last_change_crawl_at.replace(tzinfo=UTC))
            self.sites[host] = _Host(host, [url], stored, full, cursor)
        for site in self.sites.values():
            root = site.stored.api_root
            if root and same_site(root, self.hosts) and (site.stored.api_refused_at is None or site.full):
                site.solo = True
                if self.shard == 0:
                    site.path, site.api_root = "api", root
                    yield self._api_request(site, 1)
                continue
            for url in site.start_urls:
                yield Request(url, callback=self.parse_any, errback=self.on_error, meta={"start": True})

    # ---- the start page --------------------------------------------------------------------

    def parse_any(self, response: Response) -> Iterator[Any]:
        """Read a start page or a sitemap: a feed, a sitemap, a listing or a post."""
        if not self.readable(response):
            return
        if is_feed(response.body, content_type_of(response)):
            try:
                found = discover_feed(response.body, response.url, self.hosts)
            except (ValueError, SyntaxError) as error:
                self.error(response.url, f"unreadable feed or sitemap: {error}")
                return
            yield from self._follow(found.posts, found.listings, self.parse_any, response)
            return
        site = self.sites.get(_bare_host(response.url))
        if site is None or site.path != "start" or not response.meta.get("start"):
            yield from self._read_html(response, start=True)
            return
        text = self._text(response)
        if text is None:
            return
        root = wpapi.api_root_in_header(header(response.headers, b"Link"), response.url)
        root = root or wpapi.api_root_in_html(text, response.url)
        if root and not same_site(root, self.hosts):
            log.warning("%s: the REST API is advertised on another host (%s): not used", response.url, root)
            root = None
        site.start_response = response
        refused = site.stored.api_refused_at is not None and not site.full
        if root and not refused:
            site.solo, site.api_root = True, root
            if self.shard == 0:
                site.path = "api"
                yield self._api_request(site, 1)
            return
        if root:
            site.api_root = root  # still advertised; tried again at the next full verification
        if site.solo and self.shard != 0:
            return
        if _looks_like_one_post(text, response.url, self.hosts):
            # A post's own address names that post: read it, look for no sitemap.
            site.path = "html"
            yield from self._read_html(response, start=True)
            return
        yield from self._sitemaps(site)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """Read a listing page: its posts and the next listing pages."""
        if self.readable(response):
            yield from self._read_html(response, start=False)

    def _read_html(self, response: Response, start: bool) -> Iterator[Any]:
        """Read an HTML page as a post (a start URL, or a listing link that turned out to be one)
        or as a listing whose posts and next pages are followed."""
        text = self._text(response)
        if text is None:
            return
        try:
            found = discover_html(text, response.url, self.hosts)
        except ValueError as error:  # a tree too deep to read
            self.error(response.url, str(error))
            return
        if found.is_post:
            if start:
                self._found(response.url, 1)
            if self._mine(response.url):
                yield from self._post(response, text)
        else:
            if start:
                # Feeds list the newest posts first: a new post is read even when the listings
                # are cut short (max_listing_pages).
                for feed in found.feeds:
                    yield Request(feed, callback=self.parse_any, errback=self.on_error, priority=5)
            yield from self._follow(found.posts, found.listings, self.parse_listing, response)

    # ---- 1. the REST API -------------------------------------------------------------------

    def _api_request(self, site: _Host, page: int, beyond: bool = False) -> Request:
        site.api_pages += 1
        site.tried = True
        meta = {"host": site.host, "api_page": page, "beyond": beyond, "handle_httpstatus_list": API_STATUSES}
        return Request(
            wpapi.posts_url(site.api_root or "", page, site.cursor),
            callback=self.parse_api,
            errback=self.on_api_error,
            meta=meta,
            headers={"Accept": "application/json"},
            priority=20,
        )

    def parse_api(self, response: Response) -> Iterator[Any]:
        """Read one page of the posts list: every post in it, and on page 1 the other pages."""
        site = self.sites[response.meta["host"]]
        site.api_pages -= 1
        if site.path != "api":
            return  # the API already failed in this crawl; its fallback reads these posts
        number = response.meta["api_page"]
        if response.meta.get("beyond"):
            yield from self._beyond_the_end(site, response, number)
            return
        if response.status != 200:
            yield from self._api_refused(site, response.url, _status_reason(response), number > 1)
            return
        try:
            page = wpapi.read_posts_page(
                response.body,
                content_type_of(response),
                header(response.headers, b"X-WP-Total"),
                header(response.headers, b"X-WP-TotalPages"),
            )
            expected = self._api_expected(site, page, number)
        except wpapi.ApiError as error:
            yield from self._api_refused(site, response.url, str(error), True)
            return
        if len(page.posts) != expected:
            reason = (
                f"page {number} holds {len(page.posts)} posts where X-WP-Total {site.total} means {expected}"
            )
            yield from self._api_refused(site, response.url, reason, True)
            return
        if number == 1:
            site.refused_at = None
            for later in range(2, (page.total_pages or 1) + 1):
                yield self._api_request(site, later)
        off_site = 0
        for post in page.posts:
            link = clean_url(post.link)
            if not same_site(link, self.hosts):
                off_site += 1
                continue
            site.listed.add(link)
            self._found(link, 1)
            yield from self._api_post(post, link, response.url)
        if off_site:
            self.error(response.url, f"{off_site} posts link to other hosts: not read")
        if number == (page.total_pages or 1) and len(page.posts) == wpapi.PER_PAGE:
            # Why one page more: a last page that is full cannot show that the totals were cut
            # short (a caching plugin's stale headers); past the real end WordPress says 400.
            yield self._api_request(site, number + 1, beyond=True)
        if site.api_pages == 0:
            yield from self._listing_done(site)

    def _beyond_the_end(self, site: _Host, response: Response, number: int) -> Iterator[Any]:
        """The page after the last: WordPress's 400 (or an empty list) confirms the totals."""
        try:
            page = wpapi.read_posts_page(response.body, content_type_of(response), None, None)
            more = len(page.posts)
        except wpapi.ApiError:
            more = 0  # the 400 rest_post_invalid_page_number: nothing past the end
        if response.status == 200 and more:
            reason = f"X-WP-TotalPages says {number - 1} but page {number} holds {more} posts"
            yield from self._api_refused(site, response.url, reason, True)
            return
        if site.api_pages == 0:
            yield from self._listing_done(site)

    def _api_expected(self, site: _Host, page: wpapi.ApiPage, number: int) -> int:
        """How many posts this page must hold, from what page 1's headers said; ApiError when
        the headers contradict themselves."""
        if number == 1:
            if page.total is None or page.total_pages is None:
                raise wpapi.ApiError("no X-WP-Total / X-WP-TotalPages headers: not WordPress's posts list")
            if page.total_pages != -(-page.total // wpapi.PER_PAGE):
                raise wpapi.ApiError(
                    f"X-WP-TotalPages {page.total_pages} does not fit "
                    f"X-WP-Total {page.total} at {wpapi.PER_PAGE} a page"
                )
            site.total = page.total
        total = site.total or 0
        return max(0, min(wpapi.PER_PAGE, total - wpapi.PER_PAGE * (number - 1)))

    def _api_post(self, post: wpapi.ApiPost, link: str, list_url: str) -> Iterator[Any]:
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        self.crawler.stats.inc_value("pqwatch/api_posts")
        try:
            page = read_rendered(post.content_html, link, post.title, post.published)
        except ValueError as error:  # a tree too deep to read
            self.error(link, str(error))
            return
        yield from self._page(
            page, list_url, wpapi.rendered_page(post, link), RENDERED_TYPE, None, None, api=True
        )

    def on_api_error(self, failure: Failure) -> Iterator[Any]:
        """An API request that failed (network, 5xx after retries, robots.txt): fall back."""
        request = failure.request  # type: ignore[attr-defined]
        site = self.sites[request.meta["host"]]
        site.api_pages -= 1
        if site.path != "api":
            return
        message = failure.getErrorMessage()
        if "robots.txt" in message or "Forbidden by robots.txt" in message:
            yield from self._api_refused(site, request.url, "robots.txt forbids it", False)
            return
        self.on_error(failure)
        yield from self._api_refused(site, request.url, f"could not fetch: {message}", False, counted=True)

    def _api_refused(
        self, site: _Host, url: str, reason: str, error: bool, counted: bool = False
    ) -> Iterator[Any]:
        """One line for the refusal (an error when the API misbehaved rather than said no),
        remember it, and read the host's posts by its sitemaps, feeds and pages instead."""
        line = f"the REST API is not usable ({reason}); reading sitemaps, feeds and pages instead"
        if error and not counted:
            self.crawler.stats.inc_value("pqwatch/api_errors")
            self.error(url, line)
        elif not counted:
            log.warning("%s: %s", url, line)
        site.refused_at = utcnow()
        site.path = "start"
        yield from self._sitemaps(site)

    # ---- 2. sitemaps with lastmod ----------------------------------------------------------

    def _sitemaps(self, site: _Host) -> Iterator[Request]:
        """Look for the host's sitemaps: robots.txt's Sitemap lines first."""
        site.path = "sitemap"
        base = _origin(site.start_urls[0])
        named = self._robots_sitemaps(base)
        if named is not None:
            yield from self._probe(site, named, base + "/robots.txt")
            return
        yield Request(
            base + "/robots.txt",
            callback=self.parse_robots,
            errback=self._no_robots,
            meta={"host": site.host, "handle_httpstatus_all": True, "dont_obey_robotstxt": True},
            dont_filter=True,
            priority=20,
        )

    def _robots_sitemaps(self, base: str) -> list[str] | None:
        """The Sitemap lines of the robots.txt Scrapy has read for the host (None: not read).

        Why Scrapy's copy: the robots.txt middleware fetched it before the first request to the
        host; fetching it again would cost a request of every crawl."""
        netloc = urlsplit(base).netloc
        engine = self.crawler.engine
        middlewares = getattr(
            getattr(getattr(engine, "downloader", None), "middleware", None), "middlewares", ()
        )
        for middleware in middlewares:
            parsers = getattr(middleware, "_parsers", None)
            if not isinstance(middleware, RobotsTxtMiddleware) or not isinstance(parsers, dict):
                continue
            if netloc not in parsers:
                return None
            rules = getattr(parsers[netloc], "rp", None)  # Protego's parser (Scrapy's default)
            if rules is None:
                return [] if parsers[netloc] is None else None  # None: robots.txt unreadable
            return [str(url) for url in rules.sitemaps]
        return None

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """Read robots.txt's Sitemap lines (same-site ones; others are counted and ignored)."""
        site = self.sites[response.meta["host"]]
        found: list[str] = []
        if response.status == 200:
            for line in response.body.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() == "sitemap" and value.strip():
                    found.append(value.strip())
        yield from self._probe(site, found, response.url)

    def _probe(self, site: _Host, named: list[str], robots_url: str) -> Iterator[Any]:
        """Try the sitemaps robots.txt names (same-site ones), else the platforms' usual paths."""
        found = []
        off_site = 0
        for raw in named:
            url = urljoin(robots_url, raw)
            if same_site(url, self.hosts):
                found.append(clean_url(url))
            else:
                off_site += 1
        if off_site:
            log.warning("%s: %d Sitemap lines name other hosts: ignored", robots_url, off_site)
        base = _origin(site.start_urls[0])
        site.probes = list(dict.fromkeys(found or [base + path for path in SITEMAP_PATHS]))
        yield from self._next_probe(site)

    def _no_robots(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        site = self.sites[request.meta["host"]]
        base = _origin(site.start_urls[0])
        site.probes = [base + path for path in SITEMAP_PATHS]
        yield from self._next_probe(site)

    def _next_probe(self, site: _Host) -> Iterator[Any]:
        if site.probes:
            yield self._sitemap_request(site, site.probes.pop(0), 1, probe=True)
        else:
            yield from self._html_path(site)

    def _sitemap_request(self, site: _Host, url: str, depth: int, probe: bool = False) -> Request:
        site.sitemaps += 1
        return Request(
            url,
            callback=self.parse_sitemap,
            errback=self.on_sitemap_error,
            meta={
                "host": site.host,
                "depth": depth,
                "probe": probe,
                "handle_httpstatus_all": True,
                # sitemaps.org allows 50 MiB; feeds.read_feed refuses more, gzip'd or not.
                "download_maxsize": MAX_BYTES,
            },
            priority=15,
        )

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Read one sitemap or sitemap index: fetch the posts changed since the last change crawl."""
        site = self.sites[response.meta["host"]]
        site.sitemaps -= 1
        probe, depth = response.meta["probe"], response.meta["depth"]
        if response.status != 200:
            if probe:
                yield from self._next_probe(site)
            else:
                self.error(response.url, f"sitemap answered HTTP {response.status}")
                yield from self._sitemap_done(site)
            return
        try:
            page = read_feed(response.body, response.url, self.hosts)
        except (ValueError, SyntaxError) as error:
            if probe:
                log.info("%s: not a sitemap (%s)", response.url, error)
                yield from self._next_probe(site)
            else:
                self.error(response.url, f"unreadable sitemap: {error}")
                yield from self._sitemap_done(site)
            return
        if page.kind not in (FeedKind.SITEMAP_INDEX, FeedKind.URLSET):
            # A feed where a sitemap was expected: its posts are read, but it is no sitemap.
            if probe:
                yield from self._next_probe(site)
            return
        if page.off_site:
            self.error(response.url, f"{page.off_site} links to other hosts in the sitemap: ignored")
        if page.truncated:
            self.error(response.url, "the sitemap lists more URLs than a sitemap may: the rest ignored")
        if page.sitemaps and depth > MAX_SITEMAP_DEPTH:
            self.error(
                response.url,
                f"sitemap index nested deeper than {MAX_SITEMAP_DEPTH} "
                f"levels: {len(page.sitemaps)} sitemaps ignored",
            )
        elif page.sitemaps:
            changed = dict(page.sitemap_lastmod)
            for child in page.sitemaps:
                when = changed.get(child)
                if site.cursor is not None and when is not None and when < site.cursor:
                    continue  # nothing in it changed since the last change crawl
                yield self._sitemap_request(site, child, depth + 1)
        lastmod = dict(page.lastmod)
        site.sitemap_posts += len(page.posts)
        self._found(response.url, len(page.posts))
        for url in page.posts:
            site.listed.add(url)
            when = lastmod.get(url)
            # Why not only stored posts: a post without answers stores nothing, and the last change
            # crawl (which finished without errors, or the cursor would not have moved) read it.
            if site.cursor is not None and when is not None and when < site.cursor:
                self.crawler.stats.inc_value("pqwatch/lastmod_skipped")
                continue
            if self._mine(url):
                yield self._post_request(url)
        yield from self._sitemap_done(site)

    def on_sitemap_error(self, failure: Failure) -> Iterator[Any]:
        """A sitemap that could not be fetched: the next candidate, or a counted error."""
        request = failure.request  # type: ignore[attr-defined]
        site = self.sites[request.meta["host"]]
        site.sitemaps -= 1
        if request.meta["probe"]:
            yield from self._next_probe(site)
            return
        self.on_error(failure)
        yield from self._sitemap_done(site)

    def _sitemap_done(self, site: _Host) -> Iterator[Any]:
        if site.sitemaps:
            return
        if site.sitemap_posts == 0:
            # A sitemap without a post (an empty or archive-only one): the pages are read instead.
            yield from self._html_path(site)
            return
        yield from self._listing_done(site)

    # ---- 3. feeds and HTML listings --------------------------------------------------------

    def _html_path(self, site: _Host) -> Iterator[Any]:
        site.path = "html"
        for url in site.start_urls:
            response = (
                site.start_response
                if site.start_response is not None and site.start_response.url == url
                else None
            )
            if response is not None:
                yield from self._read_html(response, start=True)
            else:
                yield Request(
                    url,
                    callback=self.parse_any,
                    errback=self.on_error,
                    meta={"start": True},
                    dont_filter=True,
                )

    # ---- the end of a listing: posts gone from it ------------------------------------------

    def _listing_done(self, site: _Host) -> Iterator[Any]:
        """At a full verification, fetch once each stored post of the host the listing lacks (a
        404 or 410 is a post gone)."""
        if not site.full:
            return
        for url in sorted(self.stored_urls - site.listed - self.canonical_seen):
            if _bare_host(url) == site.host and self._mine(url):
                yield self._post_request(url)

    def _post_request(self, url: str) -> Request:
        return Request(url, callback=self.parse_post_page, errback=self.on_error, meta={"conditional": True})

    def parse_post_page(self, response: Response) -> Iterator[Any]:
        """Read one post, or record that it is gone or unchanged."""
        if response.status == 304:
            self.crawler.stats.inc_value("pqwatch/not_modified")
            return
        if response.status in (404, 410):
            self.crawler.stats.inc_value("pqwatch/dead_links")
            log.warning("gone (%s): %s", response.status, response.url)
            yield PageGone(SourceKind.BLOG, clean_url(response.url), response.status, utcnow())
            return
        if not self.readable(response):
            return
        text = self._text(response)
        if text is not None:
            yield from self._post(response, text)

    def closed(self, reason: str) -> None:
        """Keep what was learnt of each host's API; and a start URL where no post was found but
        posts were stored before is an error: the site moved, broke or refused us."""
        if reason != "finished":
            return
        self._save_sites()
        for url in self.start_urls:
            host = _bare_host(url)
            site = self.sites.get(host)
            if site is not None and site.solo and self.shard != 0:
                continue  # shard 0 read this host alone
            if site is not None and site.path == "api":
                continue  # the posts list answered: none changed since the last change crawl
            stored = self.stored_posts.get(host, 0)
            # A start URL that failed (unreachable, forbidden, a challenge page) has said why.
            if stored and not self.posts_found.get(host) and url not in self.failed_urls:
                self.crawler.stats.inc_value("pqwatch/no_posts")
                self.error(url, f"found no posts at {url} where {stored} were stored")

    def _save_sites(self) -> None:
        """Write each host's API root and refusal; the change crawl's cursors are the runner's to
        move, once every crawl process has finished without errors."""
        if self.shard != 0:
            return
        changed = []
        for site in self.sites.values():
            refused = site.stored.api_refused_at  # not asked in this crawl: the old answer holds
            if site.tried:
                refused = None if site.path == "api" else site.refused_at
            state = replace(
                site.stored, api_root=site.api_root or site.stored.api_root, api_refused_at=refused
            )
            if state != site.stored:
                changed.append(state)
        if changed:
            save_blog_sites(self.settings["PQWATCH_DB_URL"], changed)

    # -----------------------------------------------------------------------------------------

    def _text(self, response: Response) -> str | None:
        """The page's text, or None (counted) when it is not text or stands in for the content."""
        text = self.decode(response)
        if text is None:
            return None
        if (stand_in := stand_in_page(text)) is not None:
            self.extraction_failure(response.url, stand_in)
            return None
        return text

    def _found(self, url: str, posts: int) -> None:
        self.posts_found[_bare_host(url)] += posts

    def _post(self, response: Response, text: str) -> Iterator[Any]:
        self.crawler.stats.inc_value("pqwatch/pages_fetched")
        try:
            page = read_post(text, response.url)
        except ValueError as error:  # a tree too deep to read
            self.error(response.url, str(error))
            return
        headers = response.headers
        etag, last_modified = header(headers, b"ETag"), header(headers, b"Last-Modified")
        yield from self._page(
            page, response.url, response.body, content_type_of(response), etag, last_modified, api=False
        )

    def _page(
        self,
        page: PostPage,
        fetched_url: str,
        body: bytes,
        content_type: str | None,
        etag: str | None,
        last_modified: str | None,
        api: bool,
    ) -> Iterator[Any]:
        """A post read whole, from its page or the API's list: unchanged, or its answers."""
        canonical = page.canonical_url
        if not same_site(canonical, self.hosts):
            canonical = fetched_url
        canonical = clean_url(canonical)
        if canonical in self.canonical_seen:
            self.crawler.stats.inc_value("pqwatch/duplicates")
            return
        self.canonical_seen.add(canonical)
        stored = self.page_fingerprints.get(canonical)
        if stored is not None and stored.fingerprint == page.fingerprint:
            # The content region is what it was when its answers were recorded: furniture changed.
            self.crawler.stats.inc_value("pqwatch/answers_unchanged", stored.answers)
            if not api:  # a list entry has no validators of its own to keep
                yield PageUnchanged(canonical, fetched_url, etag, last_modified, utcnow())
            return
        result = page.parse()
        if result.problems:
            for problem in result.problems:
                self.error(canonical if api else fetched_url, f"unreadable answer: {problem.reason}")
            return  # the whole post waits for a parser that reads it: never half-stored
        answers = result.post.answers
        doubt = page.doubt()
        yield PageFetched(
            source_kind=SourceKind.BLOG,
            url=canonical,
            fetched_url=canonical if api else fetched_url,
            answers=answers,
            body=body,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            fetched_at=utcnow(),
            source_date=result.post.published,
            keeps_validators=not api,
            # Why only when every answer has a UIN and a tabled date: another copy is matched to
            # its question afresh each time (a later official record may place it), so it is
            # always re-read.
            page_fingerprint=page.fingerprint if all(a.date_tabled and a.uin for a in answers) else None,
            parser=PARSER_ID,
            reads_as_post=doubt is None,
            doubt=doubt,
        )

    def _mine(self, url: str) -> bool:
        if self.shards == 1:
            return True
        site = self.sites.get(_bare_host(url))
        if site is not None and site.solo:
            return self.shard == 0  # shard 0 fell back from the API alone: every post is its own
        return owner_of(url, self.shards) == self.shard

    def _follow(
        self,
        posts: tuple[str, ...],
        listings: tuple[str, ...],
        listing_callback: Any,
        response: Response,
    ) -> Iterator[Request]:
        depth = response.meta.get("listing_depth", 1) + 1
        if self.max_listing_pages and depth > self.max_listing_pages:
            listings = ()
        self._found(response.url, len(posts))
        for url in filter(self._mine, posts):
            yield self._post_request(url)
        for url in listings:
            # Why: the pagination chain is sequential; walking it first keeps every slot busy.
            yield Request(
                url,
                callback=listing_callback,
                errback=self.on_error,
                meta={"listing_depth": depth},
                priority=10,
            )


def _looks_like_one_post(text: str, url: str, hosts: frozenset[str]) -> bool:
    try:
        return discover_html(text, url, hosts).is_post
    except ValueError:
        return False  # a tree too deep: _read_html says so


def _status_reason(response: Response) -> str:
    code = ""
    if b"json" in (response.headers.get(b"Content-Type") or b""):
        try:
            data = json.loads(response.body)
            code = f" {data.get('code')}" if isinstance(data, dict) and data.get("code") else ""
        except ValueError:
            pass
    return f"HTTP {response.status}{code}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _bare_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def owner_of(url: str, shards: int) -> int:
    """Which of `shards` crawl processes reads the post at `url`: the same one on every run."""
    return zlib.crc32(clean_url(url).encode()) % shards
