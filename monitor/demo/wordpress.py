"""A local WordPress-like blog on 127.0.0.1 that behaves as real WordPress does, for the tests, the
demo and the benchmarks: the front end (home, listing pages, posts) in the Twenty Twenty-One
theme's markup, the REST API's posts list, the core sitemaps and the RSS feed, all from one set of
posts that can be edited between crawls.

What it copies from WordPress core (wordpress-develop, src/wp-includes/rest-api/endpoints/
class-wp-rest-posts-controller.php, src/wp-includes/sitemaps/, src/wp-includes/feed-rss2.php):

- every front-end page advertises the API: `<link rel="https://api.w.org/" href=".../wp-json/">`
  in its head and the same `Link:` header (rest_output_link_wp_head, rest_output_link_header);
- `/wp-json/wp/v2/posts` (and `/?rest_route=/wp/v2/posts`): `per_page` 1..100 (else 400
  rest_invalid_param), `page` (past the last: 400 rest_post_invalid_page_number), `_fields`,
  `after`/`modified_after` (compared with the site's local time), `orderby=date|modified|id`,
  `order`, and the `X-WP-Total` / `X-WP-TotalPages` headers;
- `/wp-sitemap.xml`, an index of `/wp-sitemap-posts-post-N.xml` (2,000 URLs a file), each URL with
  its `<lastmod>` (WordPress 6.5 and later), plus the page, category and user sitemaps;
- `/feed/`: RSS 2.0 of the latest 10 posts, `content:encoded` holding the body;
- robots.txt as `do_robots()` writes it, with its `Sitemap:` line.

Switches for what real sites do: `api` = "on", 401 (a security plugin's rest_cannot_access), 403
or 404; `lying` (an edit that leaves `modified` alone, as a direct database edit or some import
plugins do); `bad_api` for broken answers (not JSON, an HTML page as JSON, lying totals). Every
request is recorded in `requests`, as LocalSite records them."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.demo.server import LocalServer

HTML_TYPE = "text/html; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
XML_TYPE = "application/xml; charset=UTF-8"
RSS_TYPE = "application/rss+xml; charset=UTF-8"
LISTING_PER_PAGE = 10  # Settings > Reading: "Blog pages show at most" 10 posts
FEED_ITEMS = 10  # Settings > Reading: "Syndication feeds show the most recent" 10 items
SITEMAP_MAX_URLS = 2000  # wp_sitemaps_get_max_urls()
API_MAX_PER_PAGE = 100
EPOCH = datetime(2021, 1, 4, 9, 30)  # the first post's local publication time
MINISTERS = (
    ("Baroness Williams of Trafford", "the Home Office"),
    ("Lord Ahmad of Wimbledon", "the Foreign, Commonwealth and Development Office"),
    ("Lord True", "the Cabinet Office"),
)
MONTHS = ("January February March April May June July August September October November December").split()


@dataclass(frozen=True)
class WpPost:
    """One published post: its own fields, as wp_posts holds them (times local and GMT)."""

    id: int
    slug: str
    title: str
    paragraphs: tuple[str, ...]  # the body's paragraphs, plain text
    date: datetime  # local
    modified: datetime  # local

    @property
    def path(self) -> str:
        """The permalink's path (/%year%/%monthnum%/%day%/%postname%/)."""
        return f"/{self.date:%Y/%m/%d}/{self.slug}/"

    @property
    def content_html(self) -> str:
        """The body as `the_content` renders it (wpautop): one <p> a paragraph, a newline after each."""
        return "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in self.paragraphs)


def answer_paragraphs(number: int, answer: str | None = None) -> tuple[str, ...]:
    """The paragraphs of post `number`'s Lords notification e-mail (UIN HL{1000 + number})."""
    minister, body = MINISTERS[number % len(MINISTERS)]
    uin = f"HL{1000 + number}"
    tabled = date(2021, 1, 1) + timedelta(days=number % 300)
    answered = tabled + timedelta(days=14)
    return (
        f"{minister}, {body}, has provided the following answer "
        f"to your written parliamentary question ({uin}):",
        "Question:",
        f"To ask His Majesty’s Government what steps they are taking on matter {number}. ({uin})",
        f"Tabled on: {tabled.day:02d} {MONTHS[tabled.month - 1]} {tabled.year}",
        "Answer:",
        minister,
        answer or f"The Government keeps matter {number} under review.",
        f"Date and time of answer: {answered.day:02d} "
        f"{MONTHS[answered.month - 1][:3]} {answered.year} at 15:56.",
    )


def sample_posts(n: int) -> list[WpPost]:
    """n posts, one a day from EPOCH, each carrying one written answer."""
    posts = []
    for number in range(1, n + 1):
        when = EPOCH + timedelta(days=number - 1, minutes=number % 60)
        slug = f"written-answer-hl{1000 + number}"
        posts.append(
            WpPost(number, slug, f"Written answer HL{1000 + number}", answer_paragraphs(number), when, when)
        )
    return posts


class WordPressSite(LocalServer):
    """A WordPress blog served from memory; `edit` and `delete` change it between crawls."""

    def __init__(
        self, posts: list[WpPost] | int, *, utc_offset_hours: float = 0.0, etags: bool = True
    ) -> None:
        super().__init__()
        self.posts: dict[int, WpPost] = {
            p.id: p for p in (sample_posts(posts) if isinstance(posts, int) else posts)
        }
        self.offset = timedelta(hours=utc_offset_hours)  # the site's time zone (Settings > General)
        self.etags = etags  # a caching layer's validators on front-end pages (core sends none)
        self.api: str | int = "on"  # "on", or the status a refusal answers: 401, 403, 404
        self.pretty_permalinks = True  # False: the API is advertised as /?rest_route=/
        # "not_json", "html_json", "lying_total", "short_total" or "bad_pages": see _posts_list
        self.bad_api: str | None = None
        self.robots = "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
        self.sitemaps = True  # False: core sitemaps off (wp_sitemaps_enabled filter)
        self.extra: dict[str, tuple[int, str, bytes]] = {}  # path -> (status, type, body), served first
        self._edits = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the site was answering at once
        self.latency = 0.0  # seconds each answer takes, so that overlapping requests show

    # ---- editing between crawls ---------------------------------------------------------

    def now_local(self) -> datetime:
        """The site's local time now."""
        return datetime.now(UTC).replace(tzinfo=None) + self.offset

    def edit(self, post_id: int, answer: str, *, lying: bool = False) -> None:
        """Change a post's answer text; `modified` moves to now unless the edit is `lying`."""
        with self._edits:
            post = self.posts[post_id]
            edited = replace(post, paragraphs=answer_paragraphs(post_id, answer))
            self.posts[post_id] = edited if lying else replace(edited, modified=self.now_local())

    def add(self, post: WpPost) -> None:
        """Publish a new post."""
        with self._edits:
            self.posts[post.id] = post

    def delete(self, post_id: int) -> None:
        """Remove a post (its permalink then answers 404)."""
        with self._edits:
            del self.posts[post_id]

    def post_url(self, post_id: int) -> str:
        """A post's permalink."""
        return self.url + self.posts[post_id].path

    def api_root(self) -> str:
        """The API root the front end advertises."""
        return f"{self.url}/wp-json/" if self.pretty_permalinks else f"{self.url}/?rest_route=/"

    def gets(self, prefix: str = "") -> int:
        """How many GETs were made of paths starting with prefix (robots.txt included)."""
        return sum(1 for method, target, _ in self.requests if method == "GET" and target.startswith(prefix))

    # ---- serving ------------------------------------------------------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this site."""
        return _handler_for(self)

    def _route(self, target: str) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path, query = parts.path or "/", parse_qs(parts.query, keep_blank_values=True)
        with self._edits:
            posts = sorted(self.posts.values(), key=lambda p: (p.date, p.id), reverse=True)
        if path in self.extra:
            status, ctype, body = self.extra[path]
            return status, {"Content-Type": ctype}, body
        route = query.get("rest_route", [None])[0]
        if path.startswith("/wp-json") or (path == "/" and route is not None):
            rest = route if route is not None else path.removeprefix("/wp-json") or "/"
            return self._rest(rest.rstrip("/") or "/", query, posts)
        if path == "/robots.txt":
            sitemap = f"\nSitemap: {self.url}/wp-sitemap.xml\n" if self.sitemaps else ""
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, (self.robots + sitemap).encode()
        if path == "/" and "p" in query:  # the shortlink redirects to the permalink
            found = next((p for p in posts if str(p.id) == query["p"][0]), None)
            if found is None:
                return self._html(404, _not_found(self))
            return 301, {"Location": self.url + found.path}, b""
        if path == "/feed/":
            return 200, {"Content-Type": RSS_TYPE}, _feed(self, posts[:FEED_ITEMS]).encode()
        if self.sitemaps and path.startswith("/wp-sitemap"):
            return self._sitemap(path, posts)
        if path == "/" or (path.startswith("/page/") and path.rstrip("/").split("/")[-1].isdigit()):
            number = 1 if path == "/" else int(path.rstrip("/").split("/")[-1])
            pages = max(1, math.ceil(len(posts) / LISTING_PER_PAGE))
            if number > pages:
                return self._html(404, _not_found(self))
            chunk = posts[(number - 1) * LISTING_PER_PAGE : number * LISTING_PER_PAGE]
            return self._html(200, _listing(self, chunk, number, pages))
        for post in posts:
            if post.path == path:
                return self._html(200, _single(self, post), post)
        if path == "/about/":  # the one WordPress page (post type "page") the page sitemap lists
            return self._html(200, _about(self))
        return self._html(404, _not_found(self))

    def _html(self, status: int, page: str, post: WpPost | None = None) -> tuple[int, dict[str, str], bytes]:
        body = page.encode()
        headers = {"Content-Type": HTML_TYPE, "Link": f'<{self.api_root()}>; rel="https://api.w.org/"'}
        if post is not None:
            headers["Link"] += (
                f', <{self.api_root()}wp/v2/posts/{post.id}>; rel="alternate"; title="JSON"; '
                f'type="application/json", <{self.url}/?p={post.id}>; rel=shortlink'
            )
            if self.etags:
                headers["ETag"] = f'"{hashlib.sha1(body).hexdigest()}"'
                headers["Last-Modified"] = format_datetime(
                    (post.modified - self.offset).replace(tzinfo=UTC), usegmt=True
                )
        return status, headers, body

    def _rest(
        self, route: str, query: dict[str, list[str]], posts: list[WpPost]
    ) -> tuple[int, dict[str, str], bytes]:
        if self.api != "on":
            return _rest_refusal(int(self.api))
        if route == "/":
            index = {"name": "Local WordPress", "url": self.url, "namespaces": ["oembed/1.0", "wp/v2"]}
            return 200, {"Content-Type": JSON_TYPE}, json.dumps(index).encode()
        if route != "/wp/v2/posts":
            return _rest_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        if self.bad_api == "not_json":
            return 200, {"Content-Type": JSON_TYPE}, b'[{"id": 1, "link": "http://x/",'
        if self.bad_api == "html_json":
            page = "<!DOCTYPE html><html><body><h1>Checking your browser</h1></body></html>"
            return 200, {"Content-Type": JSON_TYPE}, page.encode()
        return self._posts_list(query, posts)

    def _posts_list(
        self, query: dict[str, list[str]], posts: list[WpPost]
    ) -> tuple[int, dict[str, str], bytes]:
        def one(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        per_page, page = one("per_page", "10"), one("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= API_MAX_PER_PAGE:
            return _invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        if not page.isdigit() or int(page) < 1:
            return _invalid_param("page", "page must be greater than or equal to 1")
        chosen = posts
        for name, column in (("after", "date"), ("modified_after", "modified")):
            if name in query:
                try:
                    since = datetime.fromisoformat(one(name, "")).replace(tzinfo=None)
                except ValueError:
                    return _invalid_param(name, "Invalid date.")
                chosen = [p for p in chosen if getattr(p, column) > since]
        orderby, order = one("orderby", "date"), one("order", "desc")
        if orderby not in ("date", "modified", "id") or order not in ("asc", "desc"):
            return _invalid_param("orderby", "orderby is not one of date, modified, id")
        chosen = sorted(chosen, key=lambda p: (getattr(p, orderby), p.id), reverse=order == "desc")
        size, number = int(per_page), int(page)
        total, pages = len(chosen), math.ceil(len(chosen) / size)
        if number > pages and total > 0:
            return _rest_error(
                400,
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
            )
        items = [self._item(p, one("_fields", "")) for p in chosen[(number - 1) * size : number * size]]
        shown_total, shown_pages = total, pages
        if self.bad_api == "lying_total":  # says there are more pages than there are
            shown_total, shown_pages = total + 3 * size, pages + 3
        if self.bad_api == "short_total":  # says there are fewer
            shown_total, shown_pages = min(total, size), 1
        if self.bad_api == "bad_pages":  # the two headers disagree
            shown_pages = pages + 1
        headers = {
            "Content-Type": JSON_TYPE,
            "X-WP-Total": str(shown_total),
            "X-WP-TotalPages": str(shown_pages),
        }
        return 200, headers, json.dumps(items).encode()

    def _item(self, post: WpPost, fields: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": post.id,
            "date": post.date.isoformat(),
            "date_gmt": (post.date - self.offset).isoformat(),
            "guid": {"rendered": f"{self.url}/?p={post.id}"},
            "modified": post.modified.isoformat(),
            "modified_gmt": (post.modified - self.offset).isoformat(),
            "slug": post.slug,
            "status": "publish",
            "type": "post",
            "link": self.url + post.path,
            "title": {"rendered": escape(post.title, quote=False).replace("'", "&#8217;")},
            "content": {"rendered": post.content_html, "protected": False},
            "excerpt": {
                "rendered": f"<p>{escape(post.paragraphs[0][:55])} [&hellip;]</p>\n",
                "protected": False,
            },
            "author": 1,
            "categories": [1],
        }
        if fields:
            wanted = {name.split(".", 1)[0] for name in fields.split(",")}
            item = {name: value for name, value in item.items() if name in wanted}
        return item

    def _sitemap(self, path: str, posts: list[WpPost]) -> tuple[int, dict[str, str], bytes]:
        files = max(1, math.ceil(len(posts) / SITEMAP_MAX_URLS))
        if path == "/wp-sitemap.xml":
            names = [f"wp-sitemap-posts-post-{n}.xml" for n in range(1, files + 1)]
            names += [
                "wp-sitemap-posts-page-1.xml",
                "wp-sitemap-taxonomies-category-1.xml",
                "wp-sitemap-users-1.xml",
            ]
            entries = "".join(f"<sitemap><loc>{self.url}/{name}</loc></sitemap>" for name in names)
            body = _SITEMAP_HEAD.format(xsl=f"{self.url}/wp-sitemap-index.xsl") + (
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>\n'
            )
            return 200, {"Content-Type": XML_TYPE}, body.encode()
        by_id = sorted(posts, key=lambda p: p.id)  # core lists posts in ID order
        urls: list[tuple[str, datetime | None]]
        if path.startswith("/wp-sitemap-posts-post-") and path.endswith(".xml"):
            number = path.removeprefix("/wp-sitemap-posts-post-").removesuffix(".xml")
            if not number.isdigit() or not 1 <= int(number) <= files:
                return self._html(404, _not_found(self))
            chunk = by_id[(int(number) - 1) * SITEMAP_MAX_URLS : int(number) * SITEMAP_MAX_URLS]
            urls = [(self.url + p.path, p.modified - self.offset) for p in chunk]
        elif path == "/wp-sitemap-posts-page-1.xml":
            urls = [(f"{self.url}/about/", datetime(2021, 1, 1))]
        elif path == "/wp-sitemap-taxonomies-category-1.xml":
            urls = [(f"{self.url}/category/uncategorized/", None)]
        elif path == "/wp-sitemap-users-1.xml":
            urls = [(f"{self.url}/author/admin/", None)]
        else:
            return self._html(404, _not_found(self))
        entries = "".join(
            f"<url><loc>{escape(loc)}</loc>"
            + (f"<lastmod>{when:%Y-%m-%dT%H:%M:%S}+00:00</lastmod>" if when else "")
            + "</url>"
            for loc, when in urls
        )
        body = _SITEMAP_HEAD.format(xsl=f"{self.url}/wp-sitemap.xsl") + (
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
        )
        return 200, {"Content-Type": XML_TYPE}, body.encode()

    def respond(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        """Answer one GET or HEAD request, recording it."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            self._answer(h, head)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        status, headers, body = self._route(h.path)
        if status == 200 and headers.get("ETag") and h.headers.get("If-None-Match") == headers["ETag"]:
            status, body = 304, b""
        if "Location" in headers and not body:
            body = b""
        with self._lock:
            self.requests.append((h.command, h.path, status))
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        if status != 304:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head and body:
            h.wfile.write(body)


_SITEMAP_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="{xsl}" ?>\n'


def _rest_error(status: int, code: str, message: str, **data: Any) -> tuple[int, dict[str, str], bytes]:
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return status, {"Content-Type": JSON_TYPE}, json.dumps(body).encode()


def _invalid_param(name: str, why: str) -> tuple[int, dict[str, str], bytes]:
    return _rest_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: why})


def _rest_refusal(status: int) -> tuple[int, dict[str, str], bytes]:
    if status == 401:  # what "Disable REST API" and security plugins answer to anonymous users
        return _rest_error(401, "rest_cannot_access", "Only authenticated users can access the REST API.")
    if status == 403:
        return _rest_error(403, "rest_forbidden", "Sorry, you are not allowed to do that.")
    return _rest_error(404, "rest_no_route", "No route was found matching the URL and request method.")


# ---- the front end: Twenty Twenty-One's markup -----------------------------------------------
# Modelled on WordPress/twentytwentyone header.php, single.php, index.php,
# template-parts/content/content-single.php, content.php and inc/template-tags.php.


def _head(site: WordPressSite, title: str, canonical: str | None, body_class: str) -> str:
    canon = f'<link rel="canonical" href="{escape(canonical)}" />\n' if canonical else ""
    return (
        "<!-- modelled on WordPress/twentytwentyone header.php -->\n"
        '<!doctype html>\n<html lang="en-GB">\n<head>\n<meta charset="UTF-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{escape(title)} &#8211; Local WordPress</title>\n"
        '<link rel="alternate" type="application/rss+xml" title="Local '
        f'WordPress &raquo; Feed" href="{site.url}/feed/" />\n'
        f'<link rel="https://api.w.org/" href="{site.api_root()}" />\n'
        f'<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{site.url}/xmlrpc.php?rsd" />\n'
        f'<meta name="generator" content="WordPress 6.7.1" />\n{canon}'
        f'</head>\n<body class="{body_class}">\n<div id="page" class="site">\n'
        '<a class="skip-link screen-reader-text" href="#content">Skip to content</a>\n'
        '<header id="masthead" class="site-header has-title-and-tagline" role="banner">'
        f'<div class="site-branding"><p class="site-title"><a href="{site.url}/">Local WordPress</a></p>'
        '<p class="site-description">Written answers</p></div></header>\n'
        '<div id="content" class="site-content"><div id="primary" class="content-area">'
        '<main id="main" class="site-main">\n'
    )


def _foot() -> str:
    return (
        "</main></div></div>\n"
        '<aside class="widget-area"><section id="block-3" class="widget widget_block">'
        '<h2 class="wp-block-heading">Recent Posts</h2><ul class="wp-block-latest-posts__list">'
        "<li>Lord True has provided the following answer (HL9999)</li></ul></section></aside>\n"
        '<footer id="colophon" class="site-footer" role="contentinfo"><div class="site-info">'
        '<div class="powered-by">Proudly powered by <a href="https://wordpress.org/">WordPress</a>.</div>'
        "</div></footer>\n</div>\n</body>\n</html>\n"
    )


def _posted_on(post: WpPost) -> str:
    return (
        '<span class="posted-on">Published <time class="entry-date published updated" '
        f'datetime="{post.date:%Y-%m-%dT%H:%M:%S}+00:00">{MONTHS[post.date.month - 1]} {post.date.day}, '
        f"{post.date.year}</time></span>"
    )


def _single(site: WordPressSite, post: WpPost) -> str:
    classes = (
        f"post-{post.id} post type-post status-publish format-standard hentry category-uncategorized entry"
    )
    return (
        _head(
            site,
            post.title,
            site.url + post.path,
            f"post-template-default single single-post postid-{post.id} "
            "single-format-standard wp-embed-responsive",
        )
        + f'<article id="post-{post.id}" class="{classes}">\n'
        f'<header class="entry-header alignwide"><h1 class="entry-title">{escape(post.title)}</h1></header>\n'
        f'<div class="entry-content">\n{post.content_html}</div><!-- .entry-content -->\n'
        f'<footer class="entry-footer default-max-width">{_posted_on(post)}'
        '<div class="post-taxonomies"><span class="cat-links">Categorized as '
        f'<a href="{site.url}/category/uncategorized/" rel="category tag">Uncategorized</a></span></div>'
        "</footer></article>\n"
        '<nav class="navigation post-navigation" aria-label="Posts"><h2 '
        'class="screen-reader-text">Post navigation</h2>'
        '<div class="nav-links"></div></nav>\n' + _foot()
    )


def _listing(site: WordPressSite, posts: list[WpPost], number: int, pages: int) -> str:
    body_class = "home blog wp-embed-responsive" + (" paged" if number > 1 else "")
    head = _head(site, "Local WordPress", None, body_class)
    entries = "".join(
        f'<article id="post-{p.id}" class="post-{p.id} post '
        'type-post status-publish format-standard hentry entry">'
        f'<header class="entry-header"><h2 class="entry-title default-max-width">'
        f'<a href="{site.url}{p.path}">{escape(p.title)}</a></h2></header>'
        f'<div class="entry-content"><p>{escape(p.paragraphs[0][:80])}&hellip;</p></div>'
        f'<footer class="entry-footer default-max-width">{_posted_on(p)}</footer></article>\n'
        for p in posts
    )
    older = (
        '<div class="nav-next"><a class="next page-numbers" '
        f'href="{site.url}/page/{number + 1}/">Older posts</a></div>'
        if number < pages
        else ""
    )
    nav = (
        '<nav class="navigation pagination" aria-label="Posts"><h2 '
        'class="screen-reader-text">Posts navigation</h2>'
        '<div class="nav-links"><span aria-current="page" '
        f'class="page-numbers current">{number}</span>{older}</div></nav>\n'
    )
    return head + entries + nav + _foot()


def _about(site: WordPressSite) -> str:
    return (
        _head(site, "About", f"{site.url}/about/", "page-template-default page page-id-2 wp-embed-responsive")
        + '<article id="post-2" class="post-2 page type-page status-publish hentry entry">'
        '<header class="entry-header alignwide"><h1 class="entry-title">About</h1></header>'
        '<div class="entry-content"><p>This blog republishes written answers.</p></div></article>\n' + _foot()
    )


def _not_found(site: WordPressSite) -> str:
    return (
        _head(site, "Page not found", None, "error404 wp-embed-responsive")
        + '<header class="page-header alignwide"><h1 class="page-title">Nothing here</h1></header>'
        '<div class="error-404 not-found default-max-width"><div class="page-content">'
        "<p>It looks like nothing was found at this location.</p></div></div>\n" + _foot()
    )


def _feed(site: WordPressSite, posts: list[WpPost]) -> str:
    # Modelled on WordPress/wordpress-develop src/wp-includes/feed-rss2.php.
    def items() -> Iterator[str]:
        for p in posts:
            when = format_datetime((p.date - site.offset).replace(tzinfo=UTC), usegmt=False)
            yield (
                f"<item><title>{escape(p.title)}</title><link>{site.url}{p.path}</link>"
                f"<dc:creator><![CDATA[admin]]></dc:creator><pubDate>{when}</pubDate>"
                "<category><![CDATA[Uncategorized]]></category><guid "
                f'isPermaLink="false">{site.url}/?p={p.id}</guid>'
                f"<description><![CDATA[{p.paragraphs[0][:55]} [&#8230;]]]></description>"
                f"<content:encoded><![CDATA[{p.content_html}]]></content:encoded></item>\n"
            )

    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>'
        "<title>Local WordPress</title><atom:link "
        f'href="{site.url}/feed/" rel="self" type="application/rss+xml" />'
        f"<link>{site.url}</link><description>Written answers</description><language>en-GB</language>"
        "<generator>https://wordpress.org/?v=6.7.1</generator>\n" + "".join(items()) + "</channel></rss>\n"
    )


def _handler_for(site: WordPressSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""
        timeout = 30

        def do_GET(self) -> None:  # names fixed by http.server
            site.respond(self, head=False)

        def do_HEAD(self) -> None:
            site.respond(self, head=True)

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are recorded in site.requests

    return Handler
