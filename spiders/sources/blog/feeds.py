"""Find posts in a blog's feeds and sitemaps: RSS, Atom, sitemap indexes and URL sets.

Pure functions over bytes and the URL; no Scrapy, no I/O."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import etree

from spiders.sources.blog import platforms
from spiders.sources.blog.discover import NOT_POSTS, Discovery, add_link


def is_feed(body_start: bytes, content_type: str | None) -> bool:
    """Say whether a response is a feed or sitemap rather than an HTML page."""
    head = body_start[:512].lstrip().lower()
    if content_type and ("xml" in content_type or "rss" in content_type) and "html" not in content_type:
        return True
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<urlset", b"<sitemapindex"))


def discover_feed(body: bytes, url: str, hosts: frozenset[str]) -> Discovery:
    """Read an RSS/Atom feed or a sitemap (index) and return the posts and sitemaps it lists."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    root = etree.fromstring(body, parser=parser)
    if root is None:
        raise ValueError("not a readable feed or sitemap")
    posts: list[str] = []
    sitemaps: list[str] = []
    tag = etree.QName(root).localname
    if tag == "rss" or tag == "RDF":
        for link in root.iter("{*}link"):
            if link.getparent() is not None and etree.QName(link.getparent()).localname == "item":
                add_link(posts, (link.text or "").strip(), hosts)
    elif tag == "feed":
        for entry in root.iter("{*}entry"):
            for link in entry.iter("{*}link"):
                if link.get("rel", "alternate") == "alternate":
                    add_link(posts, urljoin(url, link.get("href", "")), hosts)
    elif tag == "sitemapindex":
        for loc in root.iter("{*}loc"):
            target = (loc.text or "").strip()
            # Only the sitemaps of posts (and pages): not users, tags or categories.
            name = urlsplit(target).path.lower()
            if any(word in name for word in platforms.SITEMAP_WORDS):
                add_link(sitemaps, target, hosts)
    elif tag == "urlset":
        for loc in root.iter("{*}loc"):
            add_link(posts, (loc.text or "").strip(), hosts)
    else:
        raise ValueError(f"not a feed or sitemap (root element <{tag}>)")
    posts = [p for p in posts if not NOT_POSTS.search(urlsplit(p).path)]
    return Discovery(False, tuple(posts), tuple(sitemaps))
