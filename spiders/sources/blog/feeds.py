"""Find posts in a blog's feeds and sitemaps: RSS 2.0, RSS 1.0 (RDF), Atom, JSON Feed 1.0/1.1,
sitemap indexes and URL sets (sitemaps.org 0.9), plain or gzip'd, with the dates they give.

Pure functions over bytes and the URL; no Scrapy, no I/O.

The contract, for the spider:

- `is_feed(body_start, content_type)` says whether a response should be read here rather than
  as an HTML page. It never raises.
- `read_feed(body, url, hosts)` reads one document and returns a `FeedPage`: the posts it lists
  (same-site, cleaned, in document order, each once), the child sitemaps of a sitemap index,
  a feed's next page, the dates given for each, and how many links it dropped for pointing off
  the site. Anything unreadable raises `ValueError` with a one-line message, and nothing of the
  document is returned: the caller counts and logs it.
- `discover_feed(body, url, hosts)` is `read_feed` folded into discover.py's `Discovery`
  (child sitemaps and next pages as listings), for callers that need nothing else.

Limits (the sitemaps.org protocol's, applied to every kind of document):

- A body over `MAX_BYTES` (50 MiB), plain or once inflated, is refused; a JSON Feed over
  `MAX_JSON_BYTES` too. Gzip is inflated with that cap, so a gzip bomb costs at most 50 MiB.
- A document listing more than `MAX_URLS` (50,000) entries is read to its 50,000th entry and the
  rest is ignored; `FeedPage.truncated` says so. Why read rather than refuse: the first 50,000
  posts of an oversized sitemap are still posts, and refusing would lose them all.
- A document of more than 2,000,000 elements, or an entry of more than 10,000, is refused: reading
  keeps one entry in memory at a time, and these caps bound the time a hostile file can take.
- Entities are never expanded and no DTD is loaded; a document that declares entities (the
  "billion laughs" trick) is refused.
- A sitemap index lists child sitemaps and `read_feed` never follows them: the crawler does, and
  counts the depth. An index that lists indexes is legal here but should be followed at most
  `MAX_SITEMAP_DEPTH` levels below the start document (see its comment).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from io import BytesIO
from urllib.parse import urljoin, urlsplit

from lxml import etree

from spiders.sources.blog import platforms
from spiders.sources.blog.discover import NOT_POSTS, Discovery, clean_url, same_site

MAX_URLS = 50_000  # sitemaps.org: at most 50,000 URLs in one sitemap, 50,000 sitemaps in an index
MAX_BYTES = 50 * 1024 * 1024  # sitemaps.org: at most 50 MiB (52,428,800 bytes) uncompressed
# Why smaller: json.loads builds the whole document as Python objects, several times its size.
MAX_JSON_BYTES = 10 * 1024 * 1024
# A sitemap index should list only URL sets (sitemaps.org), but some list indexes. A crawler that
# reads the start document at depth 0 follows an index's children only while the index's depth is
# below this: start index -> child index -> URL set, and no deeper.
MAX_SITEMAP_DEPTH = 2
# Elements inside one entry (a <url>, <item> or <entry>): real ones hold a dozen or so (Yoast's
# <image:image> children among them); a million is an attack on memory, refused.
_MAX_ENTRY_ELEMENTS = 10_000
# Elements in one document: 40 an entry at 50,000 entries. Why: a document of nothing but empty
# elements (13 million in 50 MiB) would otherwise cost half a minute of reading.
_MAX_ELEMENTS = 2_000_000

_GZIP_MAGIC = b"\x1f\x8b"
_ENTITIES_REFUSED = "the document declares XML entities (an entity expansion attack): refused"
_MIB = 1024 * 1024

_ATOM = "http://www.w3.org/2005/Atom"
_RSS1 = "http://purl.org/rss/1.0/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"

# Words in a child sitemap's file name that say it lists archives, not posts: WordPress core's
# wp-sitemap-taxonomies-{category,post_tag}-1.xml and wp-sitemap-users-1.xml, Yoast's
# {category,post_tag,post_format,author}-sitemap.xml, Ghost's sitemap-{tags,authors}.xml, Wix's
# blog-{categories,tags}-sitemap.xml. A name without them (Blogger's sitemap.xml?page=N,
# Squarespace's and Drupal's sitemap.xml, custom post types) is read: an unknown name may hold posts.
_ARCHIVE_SITEMAP_WORDS = frozenset(
    {"category", "categories", "tag", "tags", "taxonomy", "taxonomies", "format"}
    | {"author", "authors", "user", "users", "label", "labels"}
)
# Archive sections that discover.py's NOT_POSTS does not name: Wix's /blog/categories/… and
# /blog/tags/…, Ghost's and Wix's /authors/…, Blogger's /search/label/… is already there.
_ARCHIVE_PATHS = r"/(?:categories|tags|authors|users|hashtags)(?:/|$)"
_NOT_POSTS = re.compile(f"{NOT_POSTS.pattern}|{_ARCHIVE_PATHS}", re.I)

# A URL that clean_url returns unchanged: http(s), a lower-case host, a path, and no query,
# fragment or whitespace (Divi's post paging and dot segments are checked apart).
_CLEAN = re.compile(r"^https?://([a-z0-9.-]+(?::\d+)?)(/[^?#\s]*)$")
_DATED_PERMALINK_PAGE = re.compile(platforms.DATED_PERMALINK_PAGE)
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(?:\.\d+)?/?$")
# In the first bytes of an application/json body; PHP's json_encode writes "\/" for "/".
_JSON_FEED_SNIFF = re.compile(rb"jsonfeed\.org\\?/version\\?/1")
_JSON_TYPES = ("application/feed+json", "application/json+feed")
_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "urlset", "sitemapindex"})
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.-]*(?::[\w.-]+)?)")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
# W3C datetime (the sitemaps.org and Atom date format) in each of its precisions.
_W3C = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)


class FeedKind(StrEnum):
    """The kind of document read."""

    RSS = "rss"  # RSS 0.9x / 2.0: <rss><channel><item>
    RDF = "rdf"  # RSS 1.0: <rdf:RDF><item>
    ATOM = "atom"  # RFC 4287: <feed><entry>
    JSON_FEED = "json_feed"  # jsonfeed.org 1.0 / 1.1
    SITEMAP_INDEX = "sitemap_index"  # sitemaps.org <sitemapindex><sitemap>
    URLSET = "urlset"  # sitemaps.org <urlset><url>


@dataclass(frozen=True)
class FeedPage:
    """What one feed or sitemap says: posts to read, more documents to read, and their dates.

    Every URL is absolute, http(s), on one of the site's hosts and cleaned by discover.clean_url;
    each appears once per tuple, in document order. Dates are aware, in UTC.
    """

    kind: FeedKind
    posts: tuple[str, ...]
    # (post, when it last changed): a sitemap's <lastmod>, Atom's <updated>, JSON Feed's
    # date_modified, an RSS item's <atom:updated>. Only dates that say "changed at": a crawler may
    # skip a post whose lastmod is before its last crawl.
    lastmod: tuple[tuple[str, datetime], ...]
    # (post, when it was published): RSS <pubDate> / <dc:date>, Atom <published>, JSON Feed's
    # date_published. Why apart from lastmod: an edit keeps the publication date, so skipping on it
    # would miss every edit of an old post.
    published: tuple[tuple[str, datetime], ...]
    # A sitemap index's child sitemaps, archive sitemaps (tags, categories, authors) left out,
    # and each one's own <lastmod>: a child whose lastmod is before the last crawl is unchanged.
    sitemaps: tuple[str, ...]
    sitemap_lastmod: tuple[tuple[str, datetime], ...]
    # A feed's next page: Atom's (RFC 5005) and RSS's <atom:link rel="next">, JSON Feed's next_url.
    next_pages: tuple[str, ...]
    # Links dropped because they lead off the site or are not http(s) (file:, javascript:, …).
    off_site: int
    # True when the document listed more than MAX_URLS entries and only the first were read.
    truncated: bool


def is_feed(body_start: bytes, content_type: str | None) -> bool:
    """Say whether a response is a feed or sitemap rather than an HTML page.

    Yes for gzip (magic bytes 1f 8b), a JSON Feed (application/feed+json, or application/json
    whose body names a jsonfeed.org version), any XML content type but XHTML, and a body whose
    root element is a feed's or sitemap's. An HTML page served as XML says yes: `read_feed` then
    refuses it with a clear message, which is what the crawler should log."""
    if body_start[:2] == _GZIP_MAGIC:
        return True
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _JSON_TYPES:
        return True
    if ctype == "application/json" or ctype.endswith("+json"):
        return bool(_JSON_FEED_SNIFF.search(body_start[:4096]))
    root = _first_element(body_start[:4096])
    if root in _FEED_ROOTS:
        return True
    if "html" in ctype:
        return False
    if "xml" in ctype or "rss" in ctype or "atom" in ctype:
        return True
    # No content type: a document that starts as XML and is not XHTML.
    return body_start.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"<?xml" and root != "html"


def read_feed(body: bytes, url: str, hosts: frozenset[str]) -> FeedPage:
    """Read one feed or sitemap (plain or gzip'd) at url and return what it lists on the hosts.

    Raises ValueError, with a one-line message, for a body that is not a readable feed or sitemap:
    not XML or not JSON, an HTML page, XML of another kind, a JSON document that is not a JSON
    Feed, declared entities, a body or inflated body over the limits, broken gzip."""
    if body[:2] == _GZIP_MAGIC:
        body = gunzip(body)
        if body[:2] == _GZIP_MAGIC:
            raise ValueError("gzip inside gzip: refused")
    if len(body) > MAX_BYTES:
        raise ValueError(f"body of {len(body) // _MIB} MiB is over the {MAX_BYTES // _MIB} MiB limit")
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ValueError("empty body, not a feed or sitemap")
    if head[:1] in (b"{", b"["):
        return _read_json_feed(body, url, hosts)
    if _first_element(head) == "html" or head[:14].lower().startswith(b"<!doctype html"):
        raise ValueError("an HTML page, not a feed or sitemap")
    if head[:1] != b"<":
        raise ValueError("neither XML nor JSON, not a feed or sitemap")
    return _read_xml(body, url, hosts)


def discover_feed(body: bytes, url: str, hosts: frozenset[str]) -> Discovery:
    """Read a feed or sitemap as `read_feed` does and return it as a Discovery: its posts, its
    child sitemaps and next pages as listings, and its posts' lastmod. Raises as read_feed does."""
    page = read_feed(body, url, hosts)
    return Discovery(False, page.posts, page.sitemaps + page.next_pages, page.lastmod)


def gunzip(body: bytes, limit: int = MAX_BYTES) -> bytes:
    """Inflate a gzip body (one member or several), refusing with ValueError once past limit bytes.

    Why by hand: gzip.decompress inflates everything before its size can be checked."""
    out: list[bytes] = []
    total = 0
    data = body
    while data[:2] == _GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(data, limit - total + 1)
        except zlib.error as error:
            raise ValueError(f"broken gzip: {error}") from None
        total += len(chunk)
        if total > limit:
            raise ValueError(f"gzip'd body inflates past the {limit // _MIB} MiB limit")
        if not inflater.eof:
            raise ValueError("gzip body cut short")
        out.append(chunk)
        # Why: gzip allows members one after another; anything else after the end is padding.
        data = inflater.unused_data
    return b"".join(out)


# ---------------------------------------------------------------------------------------------
# What is found while reading: a mutable tally, frozen into a FeedPage at the end.


class _Found:
    def __init__(self, url: str, hosts: frozenset[str]) -> None:
        self.url, self.hosts = url, hosts
        self.own = _clean_or_none(url)
        self.posts: dict[str, None] = {}
        self.sitemaps: dict[str, None] = {}
        self.next_pages: dict[str, None] = {}
        self.lastmod: dict[str, datetime] = {}
        self.published: dict[str, datetime] = {}
        self.sitemap_lastmod: dict[str, datetime] = {}
        self.off_site = 0
        self.on_site: dict[str, bool] = {}  # netloc -> same_site, asked once per host
        self.entries = 0
        self.truncated = False
        # A URL set named for archives (Yoast's category-sitemap.xml) lists no posts, whatever
        # its URLs look like: a custom category base ("/topics/…") passes every path rule.
        self.archive_sitemap = _names_archive(url)

    def _accept(self, raw: str | None, base: str | None) -> tuple[str, str] | None:
        """The cleaned URL and its path if it is an http(s) link on the site, else None (counted
        unless it was empty)."""
        raw = (raw or "").strip()
        if not raw:
            return None
        # Why a shortcut: sitemap URLs are almost all absolute and already clean, and skipping
        # urljoin, urlsplit and urlunsplit for them reads a 50,000-URL sitemap in a third of the
        # time. test_feeds checks that it agrees with clean_url.
        if (
            (match := _CLEAN.match(raw))
            and "/." not in match[2]
            and not _DATED_PERMALINK_PAGE.match(match[2])
        ):
            netloc = match[1]
            if netloc not in self.on_site:
                self.on_site[netloc] = same_site(f"http://{netloc}/", self.hosts)
            if self.on_site[netloc]:
                return raw, match[2]
            self.off_site += 1
            return None
        try:
            # Why join twice: Atom's xml:base may itself be relative to the document's URL.
            absolute = urljoin(urljoin(self.url, base) if base else self.url, raw)
            if same_site(absolute, self.hosts):
                cleaned = clean_url(absolute)
                return cleaned, urlsplit(cleaned).path
        except ValueError:  # a malformed URL (an unclosed IPv6 bracket): dropped like an off-site one
            pass
        self.off_site += 1
        return None

    def post(
        self, raw: str | None, base: str | None, changed: datetime | None, published: datetime | None
    ) -> None:
        accepted = self._accept(raw, base)
        if accepted is None or self.archive_sitemap or not _may_be_post(accepted[1]):
            return
        url = accepted[0]
        self.posts[url] = None
        _keep_latest(self.lastmod, url, changed)
        _keep_latest(self.published, url, published)

    def sitemap(self, raw: str | None, changed: datetime | None) -> None:
        accepted = self._accept(raw, None)
        if accepted is None or accepted[0] == self.own or _names_archive(accepted[0]):
            return
        url = accepted[0]
        self.sitemaps[url] = None
        _keep_latest(self.sitemap_lastmod, url, changed)

    def next_page(self, raw: str | None, base: str | None) -> None:
        accepted = self._accept(raw, base)
        if accepted is not None and accepted[0] != self.own:
            self.next_pages[accepted[0]] = None

    def page(self, kind: FeedKind) -> FeedPage:
        return FeedPage(
            kind=kind,
            posts=tuple(self.posts),
            lastmod=tuple(self.lastmod.items()),
            published=tuple(self.published.items()),
            sitemaps=tuple(self.sitemaps),
            sitemap_lastmod=tuple(self.sitemap_lastmod.items()),
            next_pages=tuple(self.next_pages),
            off_site=self.off_site,
            truncated=self.truncated,
        )


def _keep_latest(dates: dict[str, datetime], url: str, when: datetime | None) -> None:
    if when is not None and (url not in dates or when > dates[url]):
        dates[url] = when


def _clean_or_none(url: str) -> str | None:
    try:
        return clean_url(url)
    except ValueError:
        return None


def _names_archive(url: str) -> bool:
    """Say whether a sitemap's file name says it lists archives (tags, categories, authors)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    return not _ARCHIVE_SITEMAP_WORDS.isdisjoint(re.split(r"[^a-z]+", name))


def _may_be_post(path: str) -> bool:
    return not _NOT_POSTS.search(path)


# ---------------------------------------------------------------------------------------------
# XML: RSS, RDF, Atom, sitemaps. Read entry by entry and each entry dropped once read, so memory
# stays that of one entry whatever the document's size.

_ROOT_KINDS = {
    "rss": FeedKind.RSS,
    "RDF": FeedKind.RDF,
    "feed": FeedKind.ATOM,
    "sitemapindex": FeedKind.SITEMAP_INDEX,
    "urlset": FeedKind.URLSET,
}
_ENTRY_NAMES = {
    FeedKind.RSS: "item",
    FeedKind.RDF: "item",
    FeedKind.ATOM: "entry",
    FeedKind.SITEMAP_INDEX: "sitemap",
    FeedKind.URLSET: "url",
}


def _read_xml(body: bytes, url: str, hosts: frozenset[str]) -> FeedPage:
    # Why look before parsing: libxml2 expands internal entities while it parses, before the
    # first element is handed over. (Its own amplification limit and _kind_of's check of the
    # parsed DTD are the backstops for a prolog this look misses.)
    root = _FIRST_ELEMENT.search(body)
    if b"<!ENTITY" in body[: root.start() if root else len(body)]:
        raise ValueError(_ENTITIES_REFUSED)
    found = _Found(url, hosts)
    try:
        kind = _walk(body, found)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"not well-formed XML: {_one_line(str(error))}") from None
    return found.page(kind)


def _walk(body: bytes, found: _Found) -> FeedKind:
    """Read the document's entries into found and return its kind."""
    events = etree.iterparse(
        BytesIO(body),
        # Why only "end": an element is whole when it ends, and half the events is half the time.
        events=("end",),
        # Why each: never expand entities or fetch anything a document names (XXE, billion
        # laughs), never lift libxml2's own depth and text-size limits, never read a broken
        # document half (recover would hand back whatever parsed before the break).
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )
    kind: FeedKind | None = None
    # Entries are the root's children, but RSS 2.0's are its <channel>'s.
    entries_parent: etree._Element | None = None
    entry_name = ""
    inside = 0  # elements ended inside the current entry
    elements = 0
    for _, element in events:
        if kind is None:
            root = element
            while (parent := root.getparent()) is not None:
                root = parent
            kind = _kind_of(root)
            entry_name = _ENTRY_NAMES[kind]
            entries_parent = root.find("channel") if kind is FeedKind.RSS else root
        elements += 1
        if elements > _MAX_ELEMENTS:
            raise ValueError(f"more than {_MAX_ELEMENTS:,} elements: refused")
        if element.getparent() is not entries_parent or entries_parent is None:
            inside += 1
            if inside > _MAX_ENTRY_ELEMENTS:
                raise ValueError(f"an entry holds more than {_MAX_ENTRY_ELEMENTS:,} elements: refused")
            continue
        inside = 0
        tag = element.tag
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if name == entry_name:
            found.entries += 1
            if found.entries > MAX_URLS:
                found.truncated = True
                break
        _read_entry(kind, name, element, found)
        # Drop what has been read: the entry's content and the siblings before it.
        element.clear(keep_tail=False)
        while element.getprevious() is not None:
            del entries_parent[0]
    if kind is None:
        raise ValueError("no root element, not a feed or sitemap")
    return kind


def _kind_of(root: etree._Element) -> FeedKind:
    """The document's kind from its root element; refuses declared entities and other XML."""
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ValueError(_ENTITIES_REFUSED)
    name = etree.QName(root).localname
    if name == "html":
        raise ValueError("an HTML page, not a feed or sitemap")
    if name not in _ROOT_KINDS:
        raise ValueError(f"not a feed or sitemap (root element <{name}>)")
    return _ROOT_KINDS[name]


def _read_entry(kind: FeedKind, name: str, element: etree._Element, found: _Found) -> None:
    """Read one child (of that local name) of the root, or of RSS's channel: an entry, or a
    feed's next-page link."""
    if kind is FeedKind.URLSET:
        if name == "url":
            loc, lastmod = _loc_and_lastmod(element)
            found.post(loc, None, _w3c_date(lastmod), None)
    elif kind is FeedKind.SITEMAP_INDEX:
        if name == "sitemap":
            loc, lastmod = _loc_and_lastmod(element)
            found.sitemap(loc, _w3c_date(lastmod))
    elif kind is FeedKind.ATOM:
        if name == "entry":
            _read_atom_entry(element, found)
        elif name == "link" and element.get("rel") == "next":
            found.next_page(element.get("href"), element.base)
    elif name == "item":  # RSS 2.0 and RSS 1.0
        _read_rss_item(element, found)
    elif element.tag == f"{{{_ATOM}}}link" and element.get("rel") == "next":
        found.next_page(element.get("href"), element.base)


def _read_atom_entry(entry: etree._Element, found: _Found) -> None:
    """An Atom entry's post is its rel=alternate HTML link (rel absent means alternate, RFC 4287
    §4.2.7.2). Why not any link: Blogger's entries also carry rel=replies (the comments feed and
    "#comment-form"), rel=edit and rel=self, which are not the post."""
    href = base = None
    for link in entry.iterchildren("{*}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("type", "text/html") in (
            "text/html",
            "application/xhtml+xml",
        ):
            href, base = link.get("href"), link.base
            break
    if href is None:
        return
    found.post(
        href, base, _w3c_date(_child_text(entry, "updated")), _w3c_date(_child_text(entry, "published"))
    )


def _read_rss_item(item: etree._Element, found: _Found) -> None:
    """An RSS item's post is its <link>; FeedBurner's <feedburner:origLink> when present (its
    <link> is a feedproxy.google.com redirect), else a <guid> that is a permalink (isPermaLink is
    true unless it says false, RSS 2.0; WordPress writes "?p=N" guids with isPermaLink="false")."""
    link = _child_text(item, "origLink", _FEEDBURNER)
    if link is None:
        link = next(
            (child.text for child in item.iterchildren() if child.tag in ("link", f"{{{_RSS1}}}link")),
            None,
        )
    if link is None:
        guid = item.find("guid")
        if guid is not None and guid.get("isPermaLink", "true").lower() != "false":
            link = guid.text
    if link is None:  # RSS 1.0: the item's rdf:about is its URL
        link = item.get(f"{{{_RDF}}}about")
    changed = _w3c_date(_child_text(item, "updated", _ATOM)) or _w3c_date(
        _child_text(item, "modified", _DCTERMS)
    )
    published = _rfc822_date(_child_text(item, "pubDate", "")) or _w3c_date(_child_text(item, "date", _DC))
    found.post(link, item.base, changed, published)


def _loc_and_lastmod(entry: etree._Element) -> tuple[str | None, str | None]:
    """A sitemap entry's <loc> and <lastmod>, in one pass over its children (only its own:
    an <image:loc> inside <image:image> is an image, never the entry's URL)."""
    loc = lastmod = None
    for child in entry:
        tag = child.tag
        if isinstance(tag, str):
            name = tag.rpartition("}")[2]
            if name == "loc" and loc is None:
                loc = child.text
            elif name == "lastmod" and lastmod is None:
                lastmod = child.text
    return loc, lastmod


def _child_text(element: etree._Element, name: str, namespace: str | None = None) -> str | None:
    """The text of element's first child of that name: in namespace ("" for none), or in any."""
    tag = f"{{{namespace}}}{name}" if namespace else (name if namespace == "" else f"{{*}}{name}")
    child = element.find(tag)
    return None if child is None else (child.text or "").strip()


def _first_element(head: bytes) -> str:
    """The local name of the first element in head ("" if none), past the XML declaration,
    processing instructions, comments and the doctype."""
    match = _FIRST_ELEMENT.search(_COMMENT.sub(b"", head))
    if match is None:
        return ""
    return match[1].decode("ascii", "replace").rsplit(":", 1)[-1].lower()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# JSON Feed (https://www.jsonfeed.org/version/1.1/).


def _read_json_feed(body: bytes, url: str, hosts: frozenset[str]) -> FeedPage:
    if len(body) > MAX_JSON_BYTES:
        raise ValueError(f"JSON body over the {MAX_JSON_BYTES // _MIB} MiB limit")
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply: refused") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError both are
        raise ValueError(f"not valid JSON: {_one_line(str(error))}") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_VERSION.match(version):
        raise ValueError("JSON, but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise ValueError("a JSON Feed without an items list")
    found = _Found(url, hosts)
    if len(items) > MAX_URLS:
        items, found.truncated = items[:MAX_URLS], True
    for item in items:
        # Why not external_url or id: external_url is the page a link post points to, on another
        # site; id is only "unique", often not a URL.
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            found.post(
                item["url"], None, _w3c_date(item.get("date_modified")), _w3c_date(item.get("date_published"))
            )
    next_url = data.get("next_url")
    if isinstance(next_url, str):
        found.next_page(next_url, None)
    return found.page(FeedKind.JSON_FEED)


# ---------------------------------------------------------------------------------------------
# Dates. A bad or missing date is None: the entry is still read, only undated.


def _w3c_date(text: object) -> datetime | None:
    """A W3C datetime (RFC 3339 is one of its profiles) as an aware UTC datetime, or None.

    Every precision: "2024", "2024-03", "2024-03-05", "2024-03-05T10:00+00:00",
    "2024-03-05T10:00:00.123Z". A date without a time stands for the END of its period (the last
    microsecond of that day, month or year, UTC). Why: a crawler skips a post whose lastmod is
    before its last crawl, and a post changed later on the crawl's own day must not be skipped.
    A time without a zone (not W3C, but plugins write it) is taken as UTC."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    # Why a shortcut: "2024-03-05T10:00:00+00:00" and "…Z", the forms WordPress, Yoast and Blogger
    # write, are what fromisoformat reads as it is; the rest takes the long way.
    if len(text) in (20, 25) and text[10] == "T" and text[-1] in "Z0123456789":
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    match = _W3C.match(text)
    if match is None:
        return None
    year, month, day, clock, zone = match.groups()
    try:
        start = date(int(year), int(month or 1), int(day or 1))  # refuses month 13, 30 February
        if clock is None:
            if day is not None:
                end = start + timedelta(days=1)
            elif month is not None:
                end = date(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
            else:
                end = date(int(year) + 1, 1, 1)
            return datetime.combine(end, time(), UTC) - timedelta(microseconds=1)
        zone = "+00:00" if zone in (None, "Z", "z") else zone
        if len(zone) == 3:  # "+01": an hour offset alone
            zone += ":00"
        if "." in clock:  # Why trim: fromisoformat takes at most microseconds on some versions.
            clock = clock[: clock.index(".") + 7]
        when = datetime.fromisoformat(f"{year}-{month}-{day}T{clock}{zone}")
    except (ValueError, OverflowError):
        return None
    return when.astimezone(UTC)


def _rfc822_date(text: str | None) -> datetime | None:
    """An RSS date (RFC 822, as RFC 2822 reads it: "Tue, 05 Mar 2024 10:00:00 +0000") as an
    aware UTC datetime, or None. Why the W3C fallback: some feeds put ISO dates in <pubDate>."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return _w3c_date(text)
    if when.tzinfo is None:  # "-0000": the zone is unknown; UTC is the best guess
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
