"""Threaded local HTTP server for an in-memory website, such as a generated SampleBlog.

Pages that hold absolute links must be generated with the server's own URL, which is only
known once the server is listening, so start it empty and then swap pages in::

    with LocalSite({}) as site:
        blog = generate_blog(200, base_url=site.url)
        site.replace(blog.pages, blog.content_types, blog.redirects)
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from monitor.demo.server import LocalServer

LM_BASE = datetime(2023, 1, 1, tzinfo=UTC)
STATUS_BODY = "<!DOCTYPE html>\n<html><body><h1>{status} {phrase}</h1></body></html>\n"


def guess_type(path: str) -> str:
    """Content type for a path the caller gave none for: RSS for feeds, text for .txt, else HTML."""
    if path.rstrip("/").endswith("/feed"):
        return "application/rss+xml; charset=UTF-8"
    if path.endswith(".txt"):
        return "text/plain; charset=UTF-8"
    return "text/html; charset=UTF-8"


@dataclass(frozen=True)
class _Snapshot:
    """One generation of the site; replaced as a whole, so a request never sees a mixture."""

    pages: Mapping[str, bytes]
    content_types: Mapping[str, str]
    redirects: Mapping[str, str]
    last_modified: Mapping[str, datetime]
    etags: dict[str, str] = field(default_factory=dict)  # lazy cache; racing writers agree

    def etag(self, path: str) -> str:
        """Strong ETag: the quoted sha1 of the body."""
        tag = self.etags.get(path)
        if tag is None:
            tag = self.etags[path] = f'"{hashlib.sha1(self.pages[path]).hexdigest()}"'
        return tag


class LocalSite(LocalServer):
    """Serve a dict of pages over HTTP on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        pages: Mapping[str, bytes] | None = None,
        content_types: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        redirects: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(host, port)
        self._lm: dict[str, datetime] = {}  # every Last-Modified ever served, so it never goes back
        self._overrides: dict[str, tuple[int, dict[str, str]]] = {}
        self._snap = _Snapshot({}, {}, {}, {})
        self.replace(pages or {}, content_types, redirects or {})

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server."""
        return _handler_for(self)

    def replace(
        self,
        pages: Mapping[str, bytes],
        content_types: Mapping[str, str] | None = None,
        redirects: Mapping[str, str] | None = None,
    ) -> None:
        """Swap in another generation atomically; redirects=None keeps the current ones."""
        types = {path: (content_types or {}).get(path) or guess_type(path) for path in pages}
        with self._lock:
            old = self._snap
            for path, body in pages.items():
                crc = zlib.crc32(body)
                before = self._lm.get(path)
                if before is None:
                    self._lm[path] = LM_BASE + timedelta(seconds=crc % (30 * 86400))
                elif old.pages.get(path) != body:
                    # A changed body must look newer, or If-Modified-Since would hide the change.
                    self._lm[path] = before + timedelta(days=1, seconds=crc % 86400)
            lm = {path: self._lm[path] for path in pages}
            keep = old.redirects if redirects is None else dict(redirects)
            self._snap = _Snapshot(dict(pages), types, keep, lm)

    def set_status(self, path: str, status: int, headers: Mapping[str, str] | None = None) -> None:
        """Force a status (404, 410, 500, 301 with a Location header…) for a path; 200 clears it."""
        with self._lock:
            if status == 200:
                self._overrides.pop(path, None)
            else:
                self._overrides[path] = (status, dict(headers or {}))

    def _absolute(self, location: str) -> str:
        # Like WordPress, send absolute Location headers.
        return f"http://{self.host}:{self.port}{location}" if location.startswith("/") else location

    def _respond(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        """Answer one GET or HEAD request."""
        snap, target = self._snap, h.path
        parts = urlsplit(target)
        path = parts.path or "/"
        with self._lock:
            override = self._overrides.get(target) or self._overrides.get(path)
        headers: dict[str, str] = {}
        body = b""
        if override is not None:
            status, headers = override[0], dict(override[1])
            if "Location" in headers:
                headers["Location"] = self._absolute(headers["Location"])
        elif target in snap.redirects:
            status, headers = 301, {"Location": self._absolute(snap.redirects[target])}
        elif (key := _page_key(snap.pages, target, path)) is not None:
            etag, lm = snap.etag(key), snap.last_modified[key]
            headers = {
                "Content-Type": snap.content_types[key],
                "ETag": etag,
                "Last-Modified": format_datetime(lm, usegmt=True),
            }
            status = 304 if _not_modified(h.headers, etag, lm) else 200
            body = b"" if status == 304 else snap.pages[key]
        elif not path.endswith("/") and path + "/" in snap.pages:
            # WordPress redirects a permalink without its trailing slash to the canonical form.
            query = f"?{parts.query}" if parts.query else ""
            status, headers = 301, {"Location": self._absolute(path + "/" + query)}
        else:
            status = 404
        if status >= 300 and status != 304 and not body:
            phrase = h.responses.get(status, ("",))[0]
            body = STATUS_BODY.format(status=status, phrase=phrase).encode()
            headers.setdefault("Content-Type", "text/html; charset=UTF-8")
        with self._lock:  # logged before replying, so a client that has its answer sees the entry
            self.requests.append((h.command, target, status))
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        if status != 304:  # a 304 must not claim a zero length for the representation
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head and body:
            h.wfile.write(body)


def _page_key(pages: Mapping[str, bytes], target: str, path: str) -> str | None:
    """The page a request target names: a page saved under its path and query (a platform's
    `/search?updated-max=…` or `/blog?offset=…` listing), else under its path alone."""
    if "?" in target:
        for key in (target, unquote(target)):
            if key in pages:
                return key
    return path if path in pages else None


def _not_modified(headers: Message, etag: str, lm: datetime) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; If-Modified-Since only without it."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if not ims:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored, as the RFC requires
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return lm <= since


def _handler_for(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real site; every response has a length
        server_version = "Apache"
        sys_version = ""
        timeout = 30  # drop idle keep-alive connections so handler threads do not linger

        def do_GET(self) -> None:  # names fixed by http.server
            site._respond(self, head=False)

        def do_HEAD(self) -> None:
            site._respond(self, head=True)

        def log_message(self, format: str, *args: object) -> None:
            pass  # silence per-request logging; requests are recorded in site.requests

    return Handler
