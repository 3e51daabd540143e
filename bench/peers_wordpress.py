"""The peers benchmark's blog served as WordPress serves it: the sample blog's own pages (its Divi
theme, furniture churn and all) behind the REST API, core sitemaps and `Link:` header of
monitor.demo.wordpress.WordPressSite, from the same posts.

A post's `modified` moves only when its text is edited (an answer changed or its date moved), as
WordPress moves `post_modified`; a new comment, a share count or a rearranged sidebar leaves it,
as they do on a real site."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.demo.sample_blog import SampleBlog
from monitor.demo.wordpress import WordPressSite, WpPost


@dataclass(frozen=True)
class _Post(WpPost):
    html: str = ""

    @property
    def content_html(self) -> str:
        """The body as the post's page holds it."""
        return self.html


class SampleWordPress(WordPressSite):
    """A WordPressSite whose front end is a generated sample blog; `load` swaps in a generation."""

    def __init__(self) -> None:
        super().__init__([])
        self.pages: dict[str, bytes] = {}
        self.types: dict[str, str] = {}
        self.by_path: dict[str, WpPost] = {}  # Why: a scan of 10,000 posts a request bound the site

    def load(self, blog: SampleBlog, edited: frozenset[str] = frozenset()) -> None:
        """Serve `blog`; posts whose path is in `edited` were modified now."""
        now = self.now_local()
        posts = {
            p.pid: _Post(p.pid, p.slug, p.title, (p.title,), p.published, p.published, p.content_html)
            for p in blog.posts
        }
        with self._edits:
            for pid, post in posts.items():
                before = self.posts.get(pid)
                modified = before.modified if before is not None else post.modified
                if post.path in edited:
                    modified = now
                self.posts[pid] = _Post(
                    pid, post.slug, post.title, post.paragraphs, post.date, modified, post.html
                )
            self.pages = {path: body for path, body in blog.pages.items() if path != "/robots.txt"}
            self.by_path = {post.path: post for post in self.posts.values()}
            self.types = dict(blog.content_types)

    def _route(self, target: str) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path or "/"
        page = self.pages.get(path)
        if page is None or path.startswith(("/wp-json", "/wp-sitemap")) or "rest_route=" in target:
            return super()._route(target)
        ctype = self.types.get(path, "text/html; charset=UTF-8")
        if "html" not in ctype:
            return 200, {"Content-Type": ctype}, page
        post = self.by_path.get(path)
        return self._html(200, page.decode("utf-8"), post)


def edited_paths(blog: SampleBlog) -> frozenset[str]:
    """The posts of a generation whose text an author edited: its manifest's pages."""
    return frozenset(m["path"] for m in blog.manifest)
