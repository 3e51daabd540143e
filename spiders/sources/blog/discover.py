"""Find posts on a blog's HTML pages: listing pages and their pagination.

Pure functions over text and the page URL; no Scrapy, no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from spiders.normalise import html_document
from spiders.sources.blog import platforms
from spiders.sources.blog.parse import holds_answers, in_furniture

_NOISE_PARAMS = re.compile(rf"^({'|'.join(platforms.NOISE_PARAMS)})$", re.I)
_DATED_PERMALINK_PAGE = re.compile(platforms.DATED_PERMALINK_PAGE)
_DATED_PERMALINK = re.compile(platforms.DATED_PERMALINK)
_LISTING_PAGE = re.compile(platforms.LISTING_PAGE)
_LISTING_PAGE_PARAMS = re.compile(platforms.LISTING_PAGE_PARAMS, re.I)
NOT_POSTS = re.compile(
    rf"/(?:{'|'.join(platforms.NOT_POST_SECTIONS)})(?:/|$)|\.(?:{'|'.join(platforms.NOT_POST_EXTENSIONS)})$",
    re.I,
)
_POST_LINKS = CSSSelector(", ".join(platforms.POST_LINKS))
_OLDER = re.compile("|".join(re.escape(word) for word in platforms.OLDER_WORDS), re.I)
_POST_BODY_CLASSES = frozenset(platforms.POST_BODY_CLASSES)
_LISTING_BODY_CLASSES = frozenset(platforms.LISTING_BODY_CLASSES)
_POST_LD_TYPES = frozenset(platforms.POST_LD_TYPES)
_LISTING_LD_TYPES = frozenset(platforms.LISTING_LD_TYPES)
_FEED_TYPES = frozenset(platforms.FEED_TYPES)
_NOT_FEED_PATHS = re.compile(platforms.NOT_FEED_PATHS)


@dataclass(frozen=True)
class Discovery:
    """What a page points to: posts to read and more listing pages to walk."""

    is_post: bool
    posts: tuple[str, ...]
    listings: tuple[str, ...]
    # When a sitemap or feed says a post last changed: (post URL, UTC time), for posts it dates.
    lastmod: tuple[tuple[str, datetime], ...] = ()
    # The same-site feeds the page advertises (<link rel="alternate">: RSS, Atom, JSON Feed), in
    # page order; never a comments feed.
    feeds: tuple[str, ...] = ()


def clean_url(url: str) -> str:
    """Return a URL without fragment or noise parameters, host lower-cased, post paging stripped."""
    parts = urlsplit(url.strip())
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _NOISE_PARAMS.match(k)]
    )
    path = parts.path or "/"
    # Why: Divi serves "<permalink>/page/2/?et_blog" for the same post; fetch the permalink once.
    if match := _DATED_PERMALINK_PAGE.match(path):
        path = match[1]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def same_site(url: str, hosts: frozenset[str]) -> bool:
    """Say whether url is http(s) on one of the hosts (www. and bare count as one)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and _bare(parts.hostname or "") in hosts


def site_hosts(urls: list[str]) -> frozenset[str]:
    """Return the bare host names of the start URLs."""
    return frozenset(_bare(urlsplit(url).hostname or "") for url in urls)


def _bare(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def discover_html(html_text: str, url: str, hosts: frozenset[str]) -> Discovery:
    """Classify an HTML page as a post or a listing and return the same-site links to follow."""
    tree = html_document(html_text)
    posts: list[str] = []
    page = clean_url(url)
    # Post links outside furniture: a listing's own entries (a post's page has none but itself).
    entries: set[str] = set()
    for link in _POST_LINKS(tree):
        href = urljoin(url, link.get("href", ""))
        add_link(posts, href, hosts)
        if same_site(href, hosts) and not in_furniture(link):
            entries.add(clean_url(href))
    for xpath in platforms.POST_LINK_XPATHS:
        for link in tree.xpath(xpath):
            href = urljoin(url, link.get("href", ""))
            add_link(posts, href, hosts)
            if same_site(href, hosts) and not in_furniture(link):
                entries.add(clean_url(href))
    for link in tree.iter("a"):
        href = urljoin(url, link.get("href", ""))
        # Why any link: a date-shaped permalink names a post on every platform, whatever the
        # theme's markup around it.
        if _DATED_PERMALINK.match(urlsplit(href).path):
            add_link(posts, href, hosts)
    is_post = _is_post(tree, entries - {page})
    listings: list[str] = []
    if not is_post:
        for link in tree.xpath('//link[@href][contains(concat(" ", @rel, " "), " next ")]'):
            add_link(listings, urljoin(url, link.get("href", "")), hosts)
        for link in tree.iter("a"):
            href = urljoin(url, link.get("href", ""))
            if _is_pagination(link, href):
                add_link(listings, href, hosts)
    listings = [listing for listing in listings if listing != page]  # "#" links, a self rel=next
    posts = [p for p in posts if not NOT_POSTS.search(urlsplit(p).path) and p not in listings and p != page]
    return Discovery(
        is_post, () if is_post else tuple(posts), tuple(listings), feeds=_feeds(tree, url, hosts)
    )


def _is_post(tree: lxml_html.HtmlElement, entries: set[str]) -> bool:
    """Whether the page is a single post: its body classes, its JSON-LD type or Open Graph type
    say so, in that order; else it holds answers and lists no other post as an entry."""
    body = tree.find("body")
    classes = set((body.get("class", "") if body is not None else "").split())
    if classes & _POST_BODY_CLASSES:
        return True
    if classes & _LISTING_BODY_CLASSES:
        return False
    types = set(_ld_types(tree))
    if types & _POST_LD_TYPES:
        return True
    if types & _LISTING_LD_TYPES:
        return False
    og_type = "".join(tree.xpath('//meta[@property="og:type"]/@content')).strip().lower()
    if og_type == platforms.POST_OG_TYPE:
        return True
    return len(entries) < 2 and holds_answers(tree)


def _ld_types(tree: lxml_html.HtmlElement) -> Iterator[str]:
    """The schema.org types of a page's JSON-LD objects, top level and "@graph" (not nested: a
    Blog's "blogPost" list is the posts it lists, not the page)."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue  # a broken (or absurdly nested) block says nothing about the page
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            for thing in (item, *(g for g in item.get("@graph", ()) if isinstance(g, dict))):
                kind = thing.get("@type")
                yield from (k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str))


def _feeds(tree: lxml_html.HtmlElement, url: str, hosts: frozenset[str]) -> tuple[str, ...]:
    """The same-site RSS, Atom and JSON feeds the page's <link rel="alternate"> name, but comments feeds."""
    found: list[str] = []
    for link in tree.xpath('//link[@href][contains(concat(" ", @rel, " "), " alternate ")][@type]'):
        href = urljoin(url, link.get("href", ""))
        if link.get("type", "").strip().lower() in _FEED_TYPES and not _NOT_FEED_PATHS.search(
            urlsplit(href).path
        ):
            add_link(found, href, hosts)
    return tuple(found)


def _is_pagination(link: lxml_html.HtmlElement, href: str) -> bool:
    """A link to older posts: rel=next, or a listing page's address (/page/N/, ?paged=N…) on a link
    whose words say older posts or whose class is a pagination link's."""
    if "next" in link.get("rel", "").split():
        return True
    parts = urlsplit(href)
    paged = bool(_LISTING_PAGE.search(parts.path)) or any(
        _LISTING_PAGE_PARAMS.match(key) for key, _ in parse_qsl(parts.query, keep_blank_values=True)
    )
    if not paged:
        return False
    classes = link.get("class", "").lower()
    return bool(_OLDER.search(link.text_content() or "")) or any(
        word in classes for word in platforms.PAGINATION_CLASS_WORDS
    )


def add_link(found: list[str], url: str, hosts: frozenset[str]) -> None:
    """Add a same-site URL, cleaned, to `found` unless it is there already."""
    if url and same_site(url, hosts):
        cleaned = clean_url(url)
        if cleaned not in found:
            found.append(cleaned)
