"""Read a blog post's page: its canonical URL, title, date and the region that holds its answers,
whose text formats.py reads. Pure functions: text in, typed records out; no Scrapy, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from html import escape

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from spiders import decode, normalise, records
from spiders.decode import code_fingerprint, decode_body
from spiders.normalise import element_to_text, html_document, normalise_inline, parse_date
from spiders.records import AnswerRecord, ParsedPost, PostResult
from spiders.sources.blog import formats, platforms
from spiders.sources.blog.formats import parse_answers_text
from storage.terms import minute_text

# Page furniture: never part of an answer. Removed from the content root before its text is read.
FURNITURE = CSSSelector(
    ", ".join(
        (
            *platforms.FURNITURE_TAGS,
            *(f"#{name}" for name in platforms.FURNITURE_IDS),
            *(f".{name}" for name in platforms.FURNITURE_CLASSES),
        )
    )
)
_FURNITURE_TAGS = frozenset(platforms.FURNITURE_TAGS)
_FURNITURE_IDS = frozenset(platforms.FURNITURE_IDS)
_FURNITURE_CLASSES = frozenset(platforms.FURNITURE_CLASSES)


def _is_furniture(node: lxml_html.HtmlElement) -> bool:
    """The FURNITURE test for one element (a CSS selector only searches below a node)."""
    if node.tag in _FURNITURE_TAGS or node.get("id") in _FURNITURE_IDS:
        return True
    classes = node.get("class")
    return bool(classes) and not _FURNITURE_CLASSES.isdisjoint(classes.split())


CONTENT_ROOTS = tuple(CSSSelector(selector) for selector in platforms.CONTENT_ROOTS)

# The code that turns a post's tree into records: this module, the text formats, the platforms'
# selectors, text normalising and decoding, the records.
PARSER_ID = code_fingerprint(
    __file__, formats.__file__, platforms.__file__, normalise.__file__, decode.__file__, records.__file__
)
_CANONICAL = etree.XPath('//head/link[@href][contains(concat(" ", @rel, " "), " canonical ")]')
_PUBLISHED_META = etree.XPath(f'/html/head/meta[@property="{platforms.PUBLISHED_META_PROPERTY}"]')
_PUBLISHED_META_ANYWHERE = etree.XPath(f'//meta[@property="{platforms.PUBLISHED_META_PROPERTY}"]')
_TITLES_AT = tuple(CSSSelector(selector) for selector in platforms.TITLES)
_TIMES = CSSSelector(platforms.PUBLISHED_TIMES)
_PUBLISHED = CSSSelector(", ".join(platforms.PUBLISHED_TEXT))
# ---------------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class PostPage:
    """A post's page read as far as its content root: enough to tell whether it changed."""

    url: str
    canonical_url: str
    title: str | None
    published: date | None
    root: lxml_html.HtmlElement  # the content root, furniture removed
    # Same fingerprint, same records: it covers everything the answers are read from and the
    # parser's own code, so a change to the parser voids every stored fingerprint.
    fingerprint: str
    content_region: bool = True  # the root is a post's content region, not the whole body
    canonical_link: bool = True  # the page names its canonical URL

    @cached_property
    def text(self) -> str:
        """The content root's plain text."""
        return element_to_text(self.root)

    def doubt(self) -> str | None:
        """Why the page does not read as a post (None when it does): no content region, no title
        and no canonical link, or no text in its content region."""
        if not self.content_region:
            return "no post content region on the page"
        if not self.title and not self.canonical_link:
            return "neither a title nor a canonical link on the page"
        if not self.text.strip():
            return "the post's content region is empty"
        return None

    def parse(self) -> PostResult:
        """Read the written answers of the content root."""
        answers, problems = parse_answers_text(self.text)
        post = ParsedPost(self.url, self.canonical_url, self.title, self.published, tuple(answers))
        return PostResult(post, tuple(problems))


def read_post(html_text: str, url: str) -> PostPage:
    """Read a post's page: its canonical URL, title, date and content root, and their fingerprint."""
    tree = html_document(html_text)
    canonical = canonical_url(tree, url)
    title = _first_text(tree, _TITLES_AT)
    published = _published(tree)
    root = _content_root(tree)
    region = root is not tree and root is not tree.find("body")
    # Why only below the root: testing every selector on every element of a whole page cost more
    # than the rest of the parse.
    for node in FURNITURE(root):
        _drop(node)
    digest = hashlib.sha256(PARSER_ID.encode())
    digest.update(f"{published}\n".encode())
    digest.update(etree.tostring(root, encoding="utf-8", with_tail=False))
    has_link = bool(_CANONICAL(tree))
    return PostPage(url, canonical, title, published, root, digest.hexdigest(), region, has_link)


def read_rendered(content_html: str, url: str, title: str | None, published: date | None) -> PostPage:
    """Read a post's body as an API returns it (WordPress's `content.rendered`): the same region,
    the same answers and the same fingerprint as `read_post` gives for the post's own page."""
    document = (
        f'<html><head><link rel="canonical" href="{escape(url)}"></head><body><article>'
        f'<h1>{escape(title or "")}</h1><div class="entry-content">{content_html}</div>'
        "</article></body></html>"
    )
    page = read_post(document, url)
    return replace(page, published=published) if published != page.published else page


def parse_post(html_text: str, url: str) -> PostResult:
    """Parse one blog post page into its written answers (none for posts without any)."""
    return read_post(html_text, url).parse()


def parse_body(body: bytes, url: str, content_type: str | None = None) -> tuple[AnswerRecord, ...]:
    """Re-derive a stored post body's answers as the spider does; ValueError when unreadable
    (bytes that are not text, a tree too deep, an answer the parser cannot read whole)."""
    text, _ = decode_body(body, content_type)
    result = read_post(text, url).parse()
    if result.problems:
        raise ValueError("; ".join(problem.reason for problem in result.problems))
    return result.post.answers


def _content_root(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The first element matching a content-root selector, in that order, that is not inside
    furniture (a related-posts `<article>`, say); else the body."""
    for select in CONTENT_ROOTS:
        for found in select(tree):
            if not any(_is_furniture(node) for node in (found, *found.iterancestors())):
                return found
    body = tree.find("body")
    return body if body is not None else tree


def canonical_url(tree: lxml_html.HtmlElement, url: str) -> str:
    """Return the page's `<link rel="canonical">` when present, else the URL it was fetched from."""
    for link in _CANONICAL(tree):
        href = link.get("href", "").strip()
        if href:
            return href
    return url


def _first_text(tree: lxml_html.HtmlElement, selectors: tuple[CSSSelector, ...]) -> str | None:
    for select in selectors:
        for node in select(tree):
            text = normalise_inline(node.text_content())
            if text:
                return text
    return None


def _published(tree: lxml_html.HtmlElement) -> date | None:
    for candidate in _date_candidates(tree):
        try:
            return parse_date(candidate.strip())
        except ValueError:
            continue
    return None


def _date_candidates(tree: lxml_html.HtmlElement) -> Iterator[str]:
    # Lazily, best first: most pages are settled by their meta tag, without the other searches.
    yield from (m.get("content", "") for m in _PUBLISHED_META(tree))
    yield from (t.get("datetime", "") for t in _TIMES(tree))
    yield from (n.text_content() for n in _PUBLISHED(tree))
    yield from (m.get("content", "") for m in _PUBLISHED_META_ANYWHERE(tree))  # a stray one in <body>


def _drop(node: lxml_html.HtmlElement) -> None:
    parent = node.getparent()
    if parent is not None:
        node.drop_tree()


def answered_at_text(value: datetime | None) -> str | None:
    """Format an answer time as the JSON contract wants it: YYYY-MM-DDTHH:MM."""
    return minute_text(value) if value else None
