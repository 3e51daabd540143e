"""The blog spider: walks a WordPress-style blog and hands each post's answers to the pipeline."""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from spiders.base import PqwatchSpider, content_type_of, header
from spiders.decode import stand_in_page
from spiders.pipelines import PageMark, stored_page_fingerprints, stored_source_urls
from spiders.records import PageFetched, PageGone, PageUnchanged
from spiders.sources.blog.discover import clean_url, discover_html, same_site, site_hosts
from spiders.sources.blog.feeds import discover_feed, is_feed
from spiders.sources.blog.parse import PARSER_ID, read_post
from storage.terms import SourceKind, utcnow

log = logging.getLogger("pqwatch.crawl")


class BlogSpider(PqwatchSpider):
    """Discover posts from start URLs (home, listing, post, feed or sitemap) and parse each once."""

    name = "blog"
    # Why: 304 is "not modified", 404/410 a vanished post; both are facts the callback records.
    handle_httpstatus_list = [304, 404, 410]

    def __init__(
        self,
        start_urls: list[str] | str = "",
        max_listing_pages: int | str = 0,
        shard: int | str = 0,
        shards: int | str = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_listing_pages = int(max_listing_pages)  # 0: walk every listing page
        # One of `shards` processes crawling the blog together: each walks the listings and
        # reads only the posts whose URL falls to it (see owner_of).
        self.shard, self.shards = int(shard), int(shards)
        urls = ([start_urls] if start_urls else []) if isinstance(start_urls, str) else list(start_urls)
        self.start_urls = [clean_url(url) for url in urls]
        self.hosts = site_hosts(self.start_urls)
        self.allowed_domains = sorted(self.hosts | {f"www.{host}" for host in self.hosts})
        self.canonical_seen: set[str] = set()
        # Canonical URL -> its content fingerprint and answer count as stored: an equal page is not re-read.
        self.page_fingerprints: dict[str, PageMark] = {}
        # Posts found (linked or read) per site, and posts stored per site before this crawl.
        self.posts_found: Counter[str] = Counter()
        self.stored_posts: Counter[str] = Counter()

    async def start(self) -> AsyncIterator[Request]:
        """Request every start URL; what each is decides how it is read."""
        self.page_fingerprints = stored_page_fingerprints(self.settings["PQWATCH_DB_URL"])
        self.stored_posts = Counter(
            _bare_host(url) for url in stored_source_urls(self.settings["PQWATCH_DB_URL"], SourceKind.BLOG)
        )
        for url in self.start_urls:
            yield Request(url, callback=self.parse_any, errback=self.on_error, meta={"start": True})

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
        yield from self._read_html(response, start=True)

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
            yield from self._follow(found.posts, found.listings, self.parse_listing, response)

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
        """A start URL where no post was found but posts were stored before is an error: the site
        moved, broke or refused us, and nothing of it was checked."""
        if reason != "finished":
            return
        for url in self.start_urls:
            host = _bare_host(url)
            stored = self.stored_posts.get(host, 0)
            # A start URL that failed (unreachable, forbidden, a challenge page) has said why.
            if stored and not self.posts_found.get(host) and url not in self.failed_urls:
                self.crawler.stats.inc_value("pqwatch/no_posts")
                self.error(url, f"found no posts at {url} where {stored} were stored")

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
        canonical = page.canonical_url
        if not same_site(canonical, self.hosts):
            canonical = response.url
        canonical = clean_url(canonical)
        if canonical in self.canonical_seen:
            self.crawler.stats.inc_value("pqwatch/duplicates")
            return
        self.canonical_seen.add(canonical)
        headers = response.headers
        etag, last_modified = header(headers, b"ETag"), header(headers, b"Last-Modified")
        stored = self.page_fingerprints.get(canonical)
        if stored is not None and stored.fingerprint == page.fingerprint:
            # The content region is what it was when its answers were recorded: furniture changed.
            self.crawler.stats.inc_value("pqwatch/answers_unchanged", stored.answers)
            yield PageUnchanged(canonical, response.url, etag, last_modified, utcnow())
            return
        result = page.parse()
        if result.problems:
            for problem in result.problems:
                self.error(response.url, f"unreadable answer: {problem.reason}")
            return  # the whole post waits for a parser that reads it: never half-stored
        answers = result.post.answers
        doubt = page.doubt()
        yield PageFetched(
            source_kind=SourceKind.BLOG,
            url=canonical,
            fetched_url=response.url,
            answers=answers,
            body=response.body,
            content_type=content_type_of(response),
            etag=etag,
            last_modified=last_modified,
            fetched_at=utcnow(),
            source_date=result.post.published,
            # Why only when every answer is dated: an undated copy is matched to its question
            # afresh each time (a later official record may place it), so it is always re-read.
            page_fingerprint=page.fingerprint if all(a.date_tabled for a in answers) else None,
            parser=PARSER_ID,
            reads_as_post=doubt is None,
            doubt=doubt,
        )

    def _mine(self, url: str) -> bool:
        return self.shards == 1 or owner_of(url, self.shards) == self.shard

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
            yield Request(
                url,
                callback=self.parse_post_page,
                errback=self.on_error,
                meta={"conditional": True},
            )
        for url in listings:
            # Why: the pagination chain is sequential; walking it first keeps every slot busy.
            yield Request(
                url,
                callback=listing_callback,
                errback=self.on_error,
                meta={"listing_depth": depth},
                priority=10,
            )


def _bare_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def owner_of(url: str, shards: int) -> int:
    """Which of `shards` crawl processes reads the post at `url`: the same one on every run."""
    return zlib.crc32(clean_url(url).encode()) % shards
