"""Read a blog post's page: its canonical URL, title, date and the region that holds its answers,
whose text formats.py reads. Pure functions: text in, typed records out; no Scrapy, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
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

# Page furniture: never part of an answer. Removed from the content region before its text is read.
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
# Furniture that rules out the answers found inside it: all but the ambiguous names.
_STRONG_FURNITURE_CLASSES = _FURNITURE_CLASSES - frozenset(platforms.AMBIGUOUS_FURNITURE_CLASSES)


def _is_furniture(node: lxml_html.HtmlElement, classes: frozenset[str] = _FURNITURE_CLASSES) -> bool:
    """The FURNITURE test for one element (a CSS selector only searches below a node)."""
    if node.tag in _FURNITURE_TAGS or node.get("id") in _FURNITURE_IDS:
        return True
    names = node.get("class")
    return bool(names) and not classes.isdisjoint(names.split())


def in_furniture(node: lxml_html.HtmlElement, classes: frozenset[str] = _FURNITURE_CLASSES) -> bool:
    """Whether the element or an ancestor below <body> is furniture (body classes name the
    page's layout, "content-sidebar" and the like, never a piece of furniture)."""
    for element in (node, *node.iterancestors()):
        if element.tag in ("body", "html"):
            return False
        if _is_furniture(element, classes):
            return True
    return False


# Elements that break text into blocks (as element_to_text reads them), whose own lines are
# tested as anchors; headings among them are titles (the post's, related posts'), never an
# answer's own line. A region is lifted until it is a container of blocks or lines.
_BLOCKS = frozenset(
    (
        *("p", "div", "ul", "ol", "li", "table", "tr", "td", "th", "dl", "dt", "dd"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "address", "caption"),
        *("section", "article", "header", "footer", "main", "aside", "nav", "figure", "figcaption"),
        *("form", "fieldset", "center", "body"),
    )
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_CONTAINERS = frozenset(("div", "section", "article", "main", "blockquote", "center", "body"))
_SKIPPED = frozenset(("script", "style", "noscript", "template", "iframe", "svg", "object", "embed"))
# A text line break inside a block: a <br>, or the start of a nested block.
_LINE_BREAK = "\n"
# The id of the element read_rendered puts an API's rendered body in.
_RENDERED = "pqwatch-rendered-body"


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
_TIMES = CSSSelector(", ".join(platforms.PUBLISHED_TIMES))
_PUBLISHED = CSSSelector(", ".join(platforms.PUBLISHED_TEXT))
# ---------------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class PostPage:
    """A post's page read as far as its content region: enough to tell whether it changed."""

    url: str
    canonical_url: str
    title: str | None
    published: date | None
    root: lxml_html.HtmlElement  # the content region (see content_region), furniture removed
    # Same fingerprint, same records: it covers everything the answers are read from and the
    # parser's own code, so a change to the parser voids every stored fingerprint.
    fingerprint: str
    content_region: bool = True  # the root is a post's content region, not the whole body
    canonical_link: bool = True  # the page names its canonical URL

    @cached_property
    def text(self) -> str:
        """The content region's plain text."""
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
        """Read the written answers of the content region."""
        answers, problems = parse_answers_text(self.text)
        post = ParsedPost(self.url, self.canonical_url, self.title, self.published, tuple(answers))
        return PostResult(post, tuple(problems))


def read_post(html_text: str, url: str) -> PostPage:
    """Read a post's page: its canonical URL, title, date and content region, and their fingerprint."""
    tree = html_document(html_text)
    canonical = canonical_url(tree, url)
    title = _first_text(tree, _TITLES_AT)
    published = _published(tree)
    root = content_region(tree)
    region = root is not tree and root is not tree.find("body")
    _drop_furniture(root)
    has_link = bool(_CANONICAL(tree))
    return PostPage(url, canonical, title, published, root, _fingerprint(root, published), region, has_link)


def read_rendered(content_html: str, url: str, title: str | None, published: date | None) -> PostPage:
    """Read a post's body as an API returns it (WordPress's `content.rendered`): the same region,
    the same answers and the same fingerprint as `read_post` gives for the post's own page."""
    # Why a bare <div>: the region is found below it as on the page, and when the answers lie
    # straight in the post's content element the region is this <div>, whose inner content is
    # that element's; the fingerprint covers only the inner content.
    document = (
        f'<html><head><link rel="canonical" href="{escape(url)}"></head><body>'
        f'<h1>{escape(title or "")}</h1><div id="{_RENDERED}">{content_html}</div></body></html>'
    )
    tree = html_document(document)
    found = tree.xpath(f'//div[@id="{_RENDERED}"]')
    wrapper = found[0] if found else tree
    root = _region_below(wrapper)
    _drop_furniture(root)
    return PostPage(url, url, title, published, root, _fingerprint(root, published), True, True)


def _fingerprint(root: lxml_html.HtmlElement, published: date | None) -> str:
    """The parser's code, the post's date and the region's inner content: its text and children,
    not its own tag and attributes (a theme's wrapper, which an API's rendered body lacks), nor
    the layout whitespace at either end."""
    digest = hashlib.sha256(PARSER_ID.encode())
    digest.update(f"{published}\n".encode())
    children = list(root)
    digest.update((root.text or "").strip().encode())
    for number, child in enumerate(children):
        chunk = etree.tostring(child, encoding="utf-8", with_tail=False)
        tail = (child.tail or "") if number < len(children) - 1 else (child.tail or "").rstrip()
        digest.update(chunk)
        digest.update(tail.encode())
    return digest.hexdigest()


def _drop_furniture(root: lxml_html.HtmlElement) -> None:
    """Remove the furniture below the region, except an ambiguous one that holds answers."""
    # Why only below the root: testing every selector on every element of a whole page cost more
    # than the rest of the parse.
    dropped: list[lxml_html.HtmlElement] = []
    ambiguous: list[lxml_html.HtmlElement] = []
    for node in FURNITURE(root):
        (dropped if _is_furniture(node, _STRONG_FURNITURE_CLASSES) else ambiguous).append(node)
    if ambiguous:
        held = _anchor_blocks(root)
        for node in ambiguous:
            if not any(node is block or node in block.iterancestors() for block in held):
                dropped.append(node)
    for node in dropped:
        _drop(node)


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


def content_region(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The element that holds the post's answers: the lowest container of every republishing
    format's own line outside furniture; on a page without any, the first content-root selector
    that matches outside furniture; else the body."""
    body = tree.find("body")
    body = body if body is not None else tree
    anchors = _anchor_blocks(body)
    if anchors:
        return _lifted(_common_ancestor(anchors), body)
    for select in CONTENT_ROOTS:
        candidates = [found for found in select(tree) if not in_furniture(found, _STRONG_FURNITURE_CLASSES)]
        # Outside any furniture first; else inside only the ambiguous kind (Blogger's post body
        # sits in its "widget Blog").
        for found in candidates:
            if not in_furniture(found):
                return found
        if candidates:
            return candidates[0]
    return body


def holds_answers(tree: lxml_html.HtmlElement) -> bool:
    """Whether a page holds a republishing format's own line outside furniture (a post does; a
    listing of excerpts may too, so this settles only a page nothing else classifies)."""
    body = tree.find("body")
    return bool(_anchor_blocks(body if body is not None else tree))


def _region_below(top: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The region of a post body with no page around it: as on the page, else the body itself."""
    anchors = _anchor_blocks(top)
    return _lifted(_common_ancestor(anchors), top) if anchors else top


def _anchor_blocks(top: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The blocks at or below `top` whose own text holds a republishing format's own line
    (formats.is_anchor), leaving out headings and blocks inside furniture other than the
    ambiguous kind (Blogger's post column is a "widget")."""
    found: list[lxml_html.HtmlElement] = []
    for block in top.iter(*_BLOCKS):
        if block.tag in _HEADINGS:
            continue
        parts: list[str] = []
        _own_text(block, parts)
        text = "".join(parts)
        if not text.strip():
            continue
        if any(formats.is_anchor(line) for line in _plain_lines(text)):
            if not in_furniture(block, _STRONG_FURNITURE_CLASSES):
                found.append(block)
    return found


def _plain_lines(text: str) -> Iterator[str]:
    """The non-empty lines of a block's own text, normalised as the text formats.py reads."""
    for raw in text.split(_LINE_BREAK):
        line = " ".join(raw.split())
        if line:
            # Why the ASCII shortcut: most lines are, and full normalising of every line of a
            # page cost more than the rest of the region search.
            yield line if line.isascii() else normalise_inline(line)


def _own_text(block: lxml_html.HtmlElement, parts: list[str]) -> None:
    """A block's own text: its text and its inline descendants', a line break for each <br> and
    nested block (whose text is its own), and a link's text on a line of its own: a listing's
    or sidebar's teaser that links to a post is never the post's own answer line."""
    if block.text:
        parts.append(block.text)
    for child in block:
        tag = child.tag if isinstance(child.tag, str) else None  # comments: only their tail
        if tag == "br" or tag in _BLOCKS:
            parts.append(_LINE_BREAK)
        elif tag == "a" and child.get("href"):
            parts.append(_LINE_BREAK)
        elif tag is not None and tag not in _SKIPPED:
            _own_text(child, parts)
        if child.tail:
            parts.append(child.tail)


def _common_ancestor(nodes: list[lxml_html.HtmlElement]) -> lxml_html.HtmlElement:
    """The lowest element that is or holds every node."""
    common = [nodes[0], *nodes[0].iterancestors()]
    for node in nodes[1:]:
        chain = {id(element) for element in (node, *node.iterancestors())}
        common = [element for element in common if id(element) in chain]
    return common[0]


def _lifted(node: lxml_html.HtmlElement, top: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The element lifted to a container of blocks or lines (a <div>, <article>, <blockquote>…):
    a lone answer line's paragraph, list, table or line <div> is read with the lines around it (a
    Hansard-style paste's answer follows its one anchor line)."""
    while node is not top and not (node.tag in _CONTAINERS and _holds_lines(node)):
        parent = node.getparent()
        if parent is None:
            break
        node = parent
    return node


def _holds_lines(node: lxml_html.HtmlElement) -> bool:
    """Whether an element holds blocks, or several lines of its own (Blogger's post body is text
    and <br>s; its editor's line <div>s hold one line each)."""
    if any(child.tag in _BLOCKS for child in node):
        return True
    parts: list[str] = []
    _own_text(node, parts)
    return sum(1 for line in "".join(parts).split(_LINE_BREAK) if line.strip()) > 1


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
