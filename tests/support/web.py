"""The web app through real HTTP: its test secret and clock, a reply, a running site, a good manage form."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from urllib.error import HTTPError

from sqlalchemy.orm import Session, sessionmaker
from waitress.wasyncore import close_all

from monitor.web.app import create_server

WEB_SECRET = "test-secret-key"
NOW = datetime(2026, 11, 30, 9, 0)
ANN = "ann@example.org"

GOOD_FORM: dict[str, str | list[str]] = {
    "frequency": "weekly",
    "send_time": "18:30",
    "house": "Commons",
    "department": "  Home   Office ",
    "member": "",
    "keyword": "Hikvision",
    "uin": "hl 2472",
    "kinds": ["corrected", "answer_text_changed"],
}


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read whole."""

    status: int
    headers: Message
    body: str


@dataclass(frozen=True)
class Site:
    """The running web app and the database behind it."""

    url: str
    sessions: sessionmaker[Session]

    def get(self, path: str, method: str = "GET") -> Reply:
        """Request a path of the app."""
        return fetch(self.url + path, method=method)

    def post(self, path: str, fields: dict[str, str | list[str]]) -> Reply:
        """POST a form (application/x-www-form-urlencoded) to a path of the app."""
        return fetch(self.url + path, data=urllib.parse.urlencode(fields, doseq=True).encode())


# Why: an HTTP(S)_PROXY in the environment must not capture requests to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, data: bytes | None = None, method: str | None = None) -> Reply:
    """Make one request; an HTTP error status is a reply like any other."""
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read().decode())
    except HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read().decode())


@contextmanager
def serve_in_thread(app: object, **options: object) -> Iterator[str]:
    """Serve an app as `pqwatch serve` does (its connection bounds, `options` overriding them) on a
    free port of 127.0.0.1 in a thread; yield its URL, then stop it."""
    sockets: dict[int, object] = {}
    server = create_server(app, "127.0.0.1", 0, map=sockets, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Why: the loop thread closes its own sockets; closing them from here races its poll().
        try:
            server.trigger.pull_trigger(lambda: close_all(sockets))
        except OSError:
            close_all(sockets)  # the trigger is already gone: nothing is polling any more
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
