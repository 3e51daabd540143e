"""Read a WordPress site's REST API: where it is advertised, the URLs of its posts list, and a page
of that list as typed posts. Pure functions: text and headers in, typed records out; no Scrapy, no I/O.

WordPress advertises its API root on every front-end page, both as `<link rel="https://api.w.org/"
href="https://example.org/wp-json/">` in the head and as an HTTP `Link:` header with the same
relation; sites without pretty permalinks advertise `https://example.org/?rest_route=/` instead.
The posts list (`wp/v2/posts`) returns at most 100 posts a page, and says how many there are in
`X-WP-Total` and `X-WP-TotalPages`; `content.rendered` is the post body as the theme's content
element holds it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree

from spiders.normalise import html_document, normalise_inline

API_REL = "https://api.w.org/"
PER_PAGE = 100  # WordPress refuses more (400 rest_invalid_param)
# Only what the crawl reads: `_fields` keeps a page of 100 posts to their bodies.
FIELDS = "id,link,date,modified_gmt,title,content"
# How far before the last change crawl's start a change crawl asks from. Why a day: WordPress
# compares `modified_after` with `post_modified`, the site's local time, not UTC; a site's clock
# and time zone can be up to 14 hours either side of ours. Posts modified within the margin come
# back again, in the same request, and their fingerprints say they are unchanged.
CHANGE_MARGIN = timedelta(days=1)
MAX_JSON_BYTES = 20 * 1024 * 1024
# Why "<": a WordPress error page, a security plugin's challenge or a PHP notice served as JSON.
_HTML_START = re.compile(rb"^\s*(?:<!doctype|<html|<head|<body|<\?xml|<)", re.I)
_API_LINK = etree.XPath(
    '//link[@href][contains(concat(" ", normalize-space(@rel), " "), " https://api.w.org/ ")]'
)
_LINK_HEADER = re.compile(r'<([^>]*)>\s*;([^,]*?rel="?([^";,]*)"?[^,]*)')


class ApiError(ValueError):
    """A posts list that cannot be read: not JSON, an HTML page, not a list of posts, or headers
    that contradict what the page holds. Its message is one line, for the log."""


@dataclass(frozen=True)
class ApiPost:
    """One post of the posts list, as far as pqwatch reads it."""

    id: int
    link: str  # the post's permalink: its canonical URL
    title: str  # the rendered title, as plain text
    content_html: str  # content.rendered: the post body as the page's content element holds it
    published: date | None  # the post's own (local) date
    modified_gmt: datetime | None  # aware, UTC


@dataclass(frozen=True)
class ApiPage:
    """One page of the posts list and what its headers say of the whole list."""

    posts: tuple[ApiPost, ...]
    total: int | None  # X-WP-Total
    total_pages: int | None  # X-WP-TotalPages


def api_root_in_html(html_text: str, url: str) -> str | None:
    """The API root a page advertises in its head (`<link rel="https://api.w.org/">`), absolute."""
    try:
        tree = html_document(html_text)
    except ValueError:
        return None
    for link in _API_LINK(tree):
        return urljoin(url, str(link.get("href", "")).strip())
    return None


def api_root_in_header(value: str | None, url: str) -> str | None:
    """The API root a `Link:` header advertises (rel="https://api.w.org/"), absolute."""
    for match in _LINK_HEADER.finditer(value or ""):
        if match[3].strip() == API_REL:
            return urljoin(url, match[1].strip())
    return None


def posts_url(root: str, page: int, modified_after: datetime | None = None) -> str:
    """The URL of one page of the posts list, newest change first, under an API root of either
    form (`…/wp-json/` or `…/?rest_route=/`)."""
    params = [
        ("per_page", str(PER_PAGE)),
        ("page", str(page)),
        ("_fields", FIELDS),
        ("orderby", "modified"),
        ("order", "desc"),
    ]
    if modified_after is not None:
        # Why no time zone: WordPress reads it as the site's local time, which the margin covers.
        params.append(("modified_after", modified_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")))
    parts = urlsplit(root)
    query = parse_qsl(parts.query, keep_blank_values=True)
    route = dict(query).get("rest_route")
    if route is not None:
        rest = [(key, value) for key, value in query if key != "rest_route"]
        rest.append(("rest_route", route.rstrip("/") + "/wp/v2/posts"))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest + params), ""))
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + "wp/v2/posts", urlencode(params), ""))


def change_cursor(last_change_crawl_at: datetime) -> datetime:
    """What a change crawl asks `modified_after` from: the last change crawl's start less the margin."""
    return last_change_crawl_at - CHANGE_MARGIN


def read_posts_page(
    body: bytes, content_type: str | None, total: str | None, total_pages: str | None
) -> ApiPage:
    """Read one page of the posts list; ApiError (one line) when it is not a list of posts."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if len(body) > MAX_JSON_BYTES:
        raise ApiError(f"posts list of {len(body)} bytes is over the {MAX_JSON_BYTES} byte limit")
    if _HTML_START.match(body[:512]) or "html" in ctype:
        raise ApiError(f"an HTML page, not JSON (Content-Type {content_type or 'none'})")
    if "json" not in ctype:
        raise ApiError(f"not JSON (Content-Type {content_type or 'none'})")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ApiError(f"JSON that is not JSON: {_one_line(str(error))}") from None
    if not isinstance(data, list):
        raise ApiError("not a list of posts")
    posts = tuple(_post(item, number) for number, item in enumerate(data))
    return ApiPage(posts, _count(total, "X-WP-Total"), _count(total_pages, "X-WP-TotalPages"))


def rendered_page(post: ApiPost, canonical: str) -> bytes:
    """The body kept for a post read through the API: a page that `parse.parse_body` reads to the
    same answers, so `pqwatch reparse` re-reads it as it re-reads a fetched page."""
    published = (
        f'<meta property="article:published_time" content="{post.published}">' if post.published else ""
    )
    page = (
        '<!DOCTYPE html><html><head><meta charset="UTF-8">'
        f"<title>{escape(post.title)}</title>"
        f'<link rel="canonical" href="{escape(canonical)}">{published}</head>'
        '<body class="single single-post"><main id="main"><article class="post">'
        f'<h1 class="entry-title">{escape(post.title)}</h1>'
        f'<div class="entry-content">{post.content_html}</div>'
        "</article></main></body></html>"
    )
    return page.encode()


def _post(item: object, number: int) -> ApiPost:
    if not isinstance(item, dict):
        raise ApiError(f"item {number} of the posts list is not an object")
    post_id, link = item.get("id"), item.get("link")
    content, title = item.get("content"), item.get("title")
    if not isinstance(post_id, int) or not isinstance(link, str) or not link:
        raise ApiError(f"item {number} of the posts list has no id or link")
    rendered = content.get("rendered") if isinstance(content, dict) else None
    if not isinstance(rendered, str):
        raise ApiError(f"post {post_id} has no content.rendered (a protected or stripped post)")
    title_html = title.get("rendered") if isinstance(title, dict) else None
    return ApiPost(
        id=post_id,
        link=link,
        title=_plain(title_html) if isinstance(title_html, str) else "",
        content_html=rendered,
        published=_local_date(item.get("date")),
        modified_gmt=_gmt(item.get("modified_gmt")),
    )


def _plain(title_html: str) -> str:
    # Why parse: WordPress renders titles with texturized entities (&#8217; for ’).
    if "<" not in title_html and "&" not in title_html:
        return title_html.strip()
    try:
        return normalise_inline(html_document(f"<p>{title_html}</p>").text_content())
    except ValueError:
        return title_html.strip()


def _local_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _gmt(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _count(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise ApiError(f"{name} {value!r} is not a number") from None
    if number < 0:
        raise ApiError(f"{name} {value!r} is negative")
    return number


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
