"""Find posts on a blog's HTML pages: listing pages and their pagination.

Pure functions over text and the page URL; no Scrapy, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from spiders.normalise import html_document
from spiders.sources.blog import platforms

_NOISE_PARAMS = re.compile(rf"^({'|'.join(platforms.NOISE_PARAMS)})$", re.I)
_DATED_PERMALINK_PAGE = re.compile(platforms.DATED_PERMALINK_PAGE)
_LISTING_PAGE = re.compile(platforms.LISTING_PAGE)
NOT_POSTS = re.compile(
    rf"/(?:{'|'.join(platforms.NOT_POST_SECTIONS)})(?:/|$)|\.(?:{'|'.join(platforms.NOT_POST_EXTENSIONS)})$",
    re.I,
)
_POST_LINKS = CSSSelector(", ".join(platforms.POST_LINKS))
_OLDER = re.compile("|".join(re.escape(word) for word in platforms.OLDER_WORDS), re.I)
_POST_BODY_CLASSES = frozenset(platforms.POST_BODY_CLASSES)
_LISTING_BODY_CLASSES = frozenset(platforms.LISTING_BODY_CLASSES)


@dataclass(frozen=True)
class Discovery:
    """What a page points to: posts to read and more listing pages to walk."""

    is_post: bool
    posts: tuple[str, ...]
    listings: tuple[str, ...]
    # When a sitemap or feed says a post last changed: (post URL, UTC time), for posts it dates.
    lastmod: tuple[tuple[str, datetime], ...] = ()


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
    body_classes = set((tree.find("body").get("class", "") if tree.find("body") is not None else "").split())
    og_type = "".join(tree.xpath('//meta[@property="og:type"]/@content')).strip().lower()
    is_post = bool(body_classes & _POST_BODY_CLASSES) or (
        og_type == platforms.POST_OG_TYPE and not body_classes & _LISTING_BODY_CLASSES
    )
    posts: list[str] = []
    listings: list[str] = []
    if not is_post:
        for link in _POST_LINKS(tree):
            add_link(posts, urljoin(url, link.get("href", "")), hosts)
        for link in tree.xpath('//link[@rel="next"][@href]'):
            add_link(listings, urljoin(url, link.get("href", "")), hosts)
        for link in tree.xpath("//a[@href]"):
            href = urljoin(url, link.get("href", ""))
            if _LISTING_PAGE.search(urlsplit(href).path) and _is_pagination(link):
                add_link(listings, href, hosts)
    posts = [p for p in posts if not NOT_POSTS.search(urlsplit(p).path) and p not in listings]
    return Discovery(is_post, tuple(posts), tuple(listings))


def _is_pagination(link: lxml_html.HtmlElement) -> bool:
    """A link to older posts: its words say so, or it is one of the page-number links."""
    return bool(_OLDER.search(link.text_content() or "")) or (
        platforms.PAGINATION_CLASS_WORD in link.get("class", "")
    )


def add_link(found: list[str], url: str, hosts: frozenset[str]) -> None:
    if url and same_site(url, hosts):
        cleaned = clean_url(url)
        if cleaned not in found:
            found.append(cleaned)
