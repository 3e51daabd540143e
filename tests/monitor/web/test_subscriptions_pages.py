"""Issue 12, the subscriber pages over a real server: the confirm page says what is confirmed; the
manage page of one of an address's subscriptions edits that one alone, removes it alone and links
to the others; and the question page's follow route (double opt-in) makes a pending subscription
to the question, mails its confirmation, says so for a UIN never seen, and never tells whether
the address already had subscriptions."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.error import HTTPError

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.notify.subscriptions import make_filters, make_token, subscribe
from monitor.web.app import create_app
from storage.models import OutboxMail, Subscriber
from tests.support.digests import RecordingTransport, add_events, mailer
from tests.support.helpers import ANSWER
from tests.support.web import ANN, GOOD_FORM, NOW, WEB_SECRET, Site, fetch, serve_in_thread

BASE = "https://pq.example"  # the digests' test mailer links here
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def site(sessions: sessionmaker[Session], transport: RecordingTransport) -> Iterator[Site]:
    """The app with a mailer (as WebContext.mailer), its links signed with the mailer's key."""
    test_mailer = replace(mailer(transport), secret=WEB_SECRET)
    app = create_app(sessions, WEB_SECRET, BASE, clock=lambda: NOW)
    app.extensions["pqwatch"] = replace(app.extensions["pqwatch"], mailer=test_mailer)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def add(sessions: sessionmaker[Session], confirmed: bool = True, **filters: Any) -> Subscriber:
    with sessions.begin() as session:
        subscriber, _ = subscribe(
            session, ANN, filters=make_filters(**filters), confirmed=confirmed, now=NOW - timedelta(days=1)
        )
        session.expunge(subscriber)
        return subscriber


def rows(sessions: sessionmaker[Session]) -> dict[int, Subscriber]:
    with sessions() as session:
        found = {s.id: s for s in session.scalars(select(Subscriber))}
        session.expunge_all()
        return found


def token_for(subscriber: Subscriber, action: str) -> str:
    return make_token(WEB_SECRET, subscriber.email, action, subscriber.link_version, subscriber.id)


def test_the_confirm_page_says_what_is_being_confirmed(site: Site) -> None:
    add(site.sessions, department="Home Office")
    pending = add(site.sessions, confirmed=False, keyword="asylum")
    page = site.get(f"/confirm/{token_for(pending, 'confirm')}")
    assert page.status == 200
    assert "Keyword: asylum" in page.body and "Home Office" not in page.body
    assert "daily" in page.body and "07:00" in page.body
    confirmed = site.post(f"/confirm/{token_for(pending, 'confirm')}", {})
    assert confirmed.status == 200 and "Keyword: asylum" in confirmed.body
    manage = re.search(r'href="([^"]*/manage/[^"]+)"', confirmed.body)
    assert manage is not None  # the confirmed page's manage link works now
    path = manage.group(1).removeprefix(BASE)
    assert site.get(path).status == 200
    assert {s.id: s.status for s in rows(site.sessions).values()}[pending.id] == "confirmed"


def test_a_subscriptions_manage_page_edits_and_removes_it_alone_and_links_to_the_others(site: Site) -> None:
    home = add(site.sessions, department="Home Office")
    asylum = add(site.sessions, keyword="asylum")
    page = site.get(f"/manage/{token_for(home, 'manage')}")
    assert page.status == 200 and 'value="Home Office"' in page.body
    assert "Your other subscriptions" in page.body and "Keyword: asylum" in page.body
    other = re.search(r'<a href="(/manage/[^"]+)">Keyword: asylum', page.body)
    assert other is not None
    other_page = site.get(other.group(1))
    assert other_page.status == 200 and 'value="asylum"' in other_page.body

    saved = site.post(f"/manage/{token_for(home, 'manage')}", GOOD_FORM)
    assert saved.status == 200 and "Saved" in saved.body
    after = rows(site.sessions)
    assert after[home.id].frequency == "weekly" and after[home.id].filters["keyword"] == "Hikvision"
    assert (after[asylum.id].frequency, after[asylum.id].filters) == ("daily", {"keyword": "asylum"})

    # Filters another subscription of the address has already: refused, nothing changed.
    clash = dict(GOOD_FORM, house="", department="", keyword="asylum", uin="", kinds=[], frequency="daily")
    clash["send_time"] = "07:00"
    refused = site.post(f"/manage/{token_for(home, 'manage')}", clash)
    assert refused.status == 400 and "another of your subscriptions has exactly these filters" in refused.body
    assert rows(site.sessions)[home.id].filters["keyword"] == "Hikvision"

    remove = re.search(r'action="(/unsubscribe/[^"]+)"', saved.body)
    assert remove is not None
    gone = site.post(remove.group(1), {})
    assert gone.status == 200 and "1 other subscription of this address goes on" in gone.body
    assert {i: s.status for i, s in rows(site.sessions).items()} == {
        home.id: "unsubscribed",
        asylum.id: "confirmed",
    }
    assert site.get(f"/manage/{token_for(home, 'manage')}").status == 400


def follow(
    site: Site, path: str, fields: dict[str, str], origin: str | None = None
) -> tuple[int, Message, str]:
    """POST the follow form as a browser on `origin` does: (status, headers, body)."""
    headers = {"Origin": origin} if origin else {}
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(site.url + path, data=body, headers=headers)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


def test_following_a_question_makes_a_pending_subscription_and_mails_its_confirmation(
    site: Site, transport: RecordingTransport
) -> None:
    add_events(site.sessions, ANSWER)  # HL2472 in the Lords
    status, headers, body = follow(
        site, "/questions/lords/HL2472/follow", {"email": "New@Example.org", "tabled": "2021-09-07"}, BASE
    )
    assert status == 200 and "Check your mail to confirm" in body
    assert "stored yet" not in body and headers["Cache-Control"] == "no-store"
    assert 'href="/questions/lords/HL2472?tabled=2021-09-07"' in body
    [made] = rows(site.sessions).values()
    assert (made.email, made.status, made.filters) == (
        "new@example.org",
        "pending",
        {"house": "Lords", "uin": "HL2472"},
    )
    [mail] = transport.sent
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail["To"] == "new@example.org" and "Follows: House: Lords; UIN: HL2472" in text
    # Asking again within the hour sends nothing more; the page is the same.
    again = follow(site, "/questions/lords/HL2472/follow", {"email": "new@example.org"}, BASE)
    assert again[0] == 200 and "Check your mail to confirm" in again[2] and len(transport.sent) == 1
    # An hour on, asking again sends the confirmation once more.
    with site.sessions.begin() as session:
        for s in session.scalars(select(Subscriber)):
            s.created_at = NOW - timedelta(hours=1)
        for row in session.scalars(select(OutboxMail)):
            row.created_at = NOW - timedelta(hours=1)
    later = follow(site, "/questions/lords/HL2472/follow", {"email": "new@example.org"}, BASE)
    assert later[0] == 200 and len(transport.sent) == 2
    assert follow(site, "/questions/lords/HL2472/follow", {"email": "new@example.org"}, BASE)[0] == 200
    assert len(transport.sent) == 2  # and not again within that hour


def test_following_a_uin_never_seen_says_so_and_still_subscribes(
    site: Site, transport: RecordingTransport
) -> None:
    status, _, body = follow(site, "/questions/commons/1234/follow", {"email": "new@example.org"}, BASE)
    assert (
        status == 200
        and "No question UIN 1234 in the Commons is stored yet; you will hear when it is." in body
    )
    [made] = rows(site.sessions).values()
    assert made.filters == {"house": "Commons", "uin": "1234"} and len(transport.sent) == 1


def test_the_follow_page_never_tells_whether_the_address_had_subscriptions(
    site: Site, transport: RecordingTransport
) -> None:
    add(site.sessions, house="Lords", uin="HL2472")  # ANN follows it already, confirmed
    known = follow(site, "/questions/lords/HL2472/follow", {"email": ANN}, BASE)
    fresh = follow(site, "/questions/lords/HL2472/follow", {"email": "someone@example.org"}, BASE)

    def scrub(body: str) -> str:
        return body.replace(ANN, "X").replace("someone@example.org", "X")

    assert known[0] == fresh[0] == 200 and scrub(known[2]) == scrub(fresh[2])
    assert [m["To"] for m in transport.sent] == ["someone@example.org"]
    with site.sessions.begin() as session:  # a hard bounce: still the same page, no mail
        for s in session.scalars(select(Subscriber).where(Subscriber.email == ANN)):
            s.status = "suppressed"
    bounced = follow(site, "/questions/commons/55/follow", {"email": ANN}, BASE)
    assert bounced[0] == 200 and "Check your mail to confirm" in bounced[2] and len(transport.sent) == 1


def test_the_follow_route_checks_the_origin_the_address_the_date_and_the_house(site: Site) -> None:
    path = "/questions/lords/HL2472/follow"
    assert follow(site, path, {"email": "a@example.org"}, "https://evil.example")[0] == 403
    assert follow(site, path, {"email": "a@example.org"}, "null")[0] == 403
    bad = follow(site, path, {"email": "not an address"}, BASE)
    assert bad[0] == 400 and "not a valid e-mail address" in bad[2]
    when = follow(site, path, {"email": "a@example.org", "tabled": "7 Sept"}, BASE)
    assert when[0] == 400 and "is not a date (YYYY-MM-DD)" in when[2]
    assert follow(site, "/questions/senate/1/follow", {"email": "a@example.org"}, BASE)[0] == 404
    assert rows(site.sessions) == {}
    assert fetch(site.url + path).status == 405  # a GET changes nothing


def test_following_a_question_with_its_thread_keeps_the_thread_through_the_manage_form(
    site: Site, transport: RecordingTransport
) -> None:
    add_events(site.sessions, ANSWER)
    form = {"email": "new@example.org", "tabled": "2021-09-07", "thread": "yes"}
    assert follow(site, "/questions/lords/HL2472/follow", form, BASE)[0] == 200
    [made] = rows(site.sessions).values()
    assert made.filters == {"house": "Lords", "uin": "HL2472", "thread": True}
    text = transport.sent[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Follows: House: Lords; UIN: HL2472; With its thread: yes" in text
    # Its manage page shows the thread ticked, and saving keeps it (or drops it when unticked).
    mine = add(site.sessions, house="Lords", uin="HL2472", thread=True)
    page = site.get(f"/manage/{token_for(mine, 'manage')}").body
    assert re.search(r'name="thread" value="yes" checked', page)
    kept = dict(GOOD_FORM, department="", keyword="", kinds=[], thread="yes")
    assert site.post(f"/manage/{token_for(mine, 'manage')}", kept).status == 200
    assert rows(site.sessions)[mine.id].filters == {"house": "Commons", "uin": "HL2472", "thread": True}
    dropped = dict(kept, thread="")
    assert site.post(f"/manage/{token_for(mine, 'manage')}", dropped).status == 200
    assert rows(site.sessions)[mine.id].filters == {"house": "Commons", "uin": "HL2472"}
