"""Issue 10: revocable links (a manage or unsubscribe link issued before an unsubscribe or a
re-subscribe stops working), the manage form's origin check (RFC 8058 one-click unsubscribe is
left alone), and a server that idle or half-open connections cannot starve."""

from __future__ import annotations

import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from urllib.error import HTTPError

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.notify.subscriptions import make_token, subscribe, unsubscribe
from monitor.web.app import SERVER_OPTIONS, create_app
from storage.models import Subscriber
from tests.support.web import ANN, GOOD_FORM, NOW, WEB_SECRET, Reply, Site, serve_in_thread

BASE = "https://pqwatch.example"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(
    url: str, data: dict[str, str | list[str]] | None = None, headers: dict[str, str] | None = None
) -> Reply:
    body = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
    prepared = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with _OPENER.open(prepared, timeout=10) as response:
            return Reply(response.status, response.headers, response.read().decode())
    except HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read().decode())


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    app = create_app(sessions, WEB_SECRET, BASE, clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def subscribe_ann(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        subscriber, _ = subscribe(session, ANN, confirmed=True, now=datetime(2026, 11, 1))
        return subscriber.link_version


def subscriber(sessions: sessionmaker[Session]) -> Subscriber:
    with sessions() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == ANN))
        assert found is not None
        session.expunge(found)
        return found


def test_links_issued_before_an_unsubscribe_and_re_subscribe_stop_working(site: Site) -> None:
    old = subscribe_ann(site.sessions)
    old_manage = f"/manage/{make_token(WEB_SECRET, ANN, 'manage', old)}"
    old_unsubscribe = f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe', old)}"
    assert site.get(old_manage).status == 200
    with site.sessions.begin() as session:
        unsubscribe(session, ANN)
    current = subscribe_ann(site.sessions)
    assert current > old and subscriber(site.sessions).status == "confirmed"
    for path in (old_manage, old_unsubscribe):
        reply = site.get(path)
        assert reply.status == 400 and "this link is not valid any more" in reply.body
    assert site.post(old_unsubscribe, {"List-Unsubscribe": "One-Click"}).status == 400
    assert site.post(old_manage, GOOD_FORM).status == 400
    after = subscriber(site.sessions)
    assert (after.status, after.frequency) == ("confirmed", "daily")
    assert site.get(f"/manage/{make_token(WEB_SECRET, ANN, 'manage', current)}").status == 200


def test_using_an_unsubscribe_link_revokes_the_manage_link_it_came_with(site: Site) -> None:
    version = subscribe_ann(site.sessions)
    manage = f"/manage/{make_token(WEB_SECRET, ANN, 'manage', version)}"
    unsubscribe_path = f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe', version)}"
    assert site.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"}).status == 200
    assert subscriber(site.sessions).link_version == version + 1
    assert site.post(manage, GOOD_FORM).status == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://pqwatch.example"},  # another scheme is another origin
        {"Origin": "https://pqwatch.example:8443"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "https://evil.example", "Referer": "https://pqwatch.example/manage/x"},
    ],
)
def test_a_cross_site_manage_post_is_refused_with_403(site: Site, headers: dict[str, str]) -> None:
    version = subscribe_ann(site.sessions)
    reply = request(f"{site.url}/manage/{make_token(WEB_SECRET, ANN, 'manage', version)}", GOOD_FORM, headers)
    assert reply.status == 403
    assert subscriber(site.sessions).frequency == "daily"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": BASE}, {"Referer": f"{BASE}/manage/token"}, {"Origin": "https://PQWATCH.example:443"}, {}],
)
def test_a_same_site_manage_post_is_saved(site: Site, headers: dict[str, str]) -> None:
    version = subscribe_ann(site.sessions)
    reply = request(f"{site.url}/manage/{make_token(WEB_SECRET, ANN, 'manage', version)}", GOOD_FORM, headers)
    assert reply.status == 200 and "Saved" in reply.body
    assert subscriber(site.sessions).frequency == "weekly"


def test_the_manage_page_lets_its_own_form_send_its_origin(site: Site) -> None:
    version = subscribe_ann(site.sessions)
    reply = site.get(f"/manage/{make_token(WEB_SECRET, ANN, 'manage', version)}")
    # Under "no-referrer" a browser would send "Origin: null" with the form, which is refused.
    assert reply.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://mail.example"}])
def test_one_click_unsubscribe_from_a_mail_client_needs_no_origin(
    site: Site, headers: dict[str, str]
) -> None:
    version = subscribe_ann(site.sessions)
    path = f"{site.url}/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe', version)}"
    reply = request(path, {"List-Unsubscribe": "One-Click"}, headers)
    assert reply.status == 200 and subscriber(site.sessions).status == "unsubscribed"


def test_the_served_options_bound_idle_connections() -> None:
    assert SERVER_OPTIONS["channel_timeout"] <= 30 and SERVER_OPTIONS["cleanup_interval"] <= 10
    assert 0 < SERVER_OPTIONS["connection_limit"] <= 1000


def test_idle_and_half_open_sockets_cannot_starve_the_server(sessions: sessionmaker[Session]) -> None:
    app = create_app(sessions, WEB_SECRET, BASE, clock=lambda: NOW)
    # The served connection limit, with the idle timeout shortened so the test takes seconds.
    limit = 30
    with serve_in_thread(app, connection_limit=limit, channel_timeout=1, cleanup_interval=1) as url:
        port = int(url.rsplit(":", 1)[1])
        idle = []
        try:
            for number in range(limit * 3):
                held = socket.create_connection(("127.0.0.1", port), timeout=5)
                if number % 2:
                    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # a request never finished
                idle.append(held)
            started = time.monotonic()
            reply = request(url + "/healthz")
            assert (reply.status, reply.body) == (200, "ok")
            assert time.monotonic() - started < 8
        finally:
            for held in idle:
                held.close()
