"""The web pages the mails link to, through real HTTP: waitress on 127.0.0.1, urllib as client."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import itsdangerous.timed
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.notify.subscriptions import Filters, make_filters, make_token, subscribe
from monitor.web.app import create_app
from spiders.records import AnswerRecord
from storage.models import Subscriber
from storage.record import record_page
from tests.support.web import ANN, GOOD_FORM, NOW, WEB_SECRET, Site, fetch, serve_in_thread

ANSWER = AnswerRecord(
    house="Lords",
    uin="HL2472",
    date_tabled=date(2021, 9, 7),
    question_text="To ask His Majesty's Government whether they have met the Commissioner.",
    answer_text="I will be meeting the Commissioner shortly.",
    answering_member="Baroness Williams of Trafford",
    answering_body="Home Office",
    date_answered=date(2021, 9, 21),
)
BLOG = "https://blog.example/2021/09/21/hikvision/"
API = "https://api.example/questions/1"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    """The app on a migrated empty database, its clock frozen at NOW."""
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def add_subscriber(
    sessions: sessionmaker[Session], *, confirmed: bool, filters: Filters | None = None, email: str = ANN
) -> None:
    """Add a subscriber: pending (awaiting confirmation) or confirmed."""
    with sessions.begin() as session:
        subscribe(
            session, email, filters=filters or Filters(), confirmed=confirmed, now=datetime(2026, 11, 1)
        )


def stored(sessions: sessionmaker[Session], email: str = ANN) -> Subscriber:
    """The subscriber as the database has it now."""
    with sessions() as session:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert subscriber is not None
        session.expunge(subscriber)
        return subscriber


def record(sessions: sessionmaker[Session], kind: str, url: str, answer: AnswerRecord, at: datetime) -> None:
    """Store what one source showed at one moment."""
    with sessions.begin() as session:
        record_page(session, source_kind=kind, url=url, answers=[answer], observed_at=at)


# ---------------------------------------------------------------------------------------------
# Confirm


def test_a_confirmation_link_shows_a_button_whose_press_confirms_once(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=False, filters=make_filters(house="Lords", kinds=["corrected"]))
    token = make_token(WEB_SECRET, ANN, "confirm")

    page = site.get(f"/confirm/{token}")
    assert page.status == 200
    assert f"Confirm digests to {ANN}?" in page.body and 'method="post"' in page.body
    assert stored(site.sessions).status == "pending"  # opening the link is not consent

    first = site.post(f"/confirm/{token}", {})
    assert first.status == 200
    assert "Subscription confirmed" in first.body
    assert "House: Lords" in first.body and "Changes: corrected" in first.body
    assert "/manage/" in first.body
    subscriber = stored(site.sessions)
    assert (subscriber.status, subscriber.confirmed_at) == ("confirmed", NOW)

    for again in (site.post(f"/confirm/{token}", {}), site.get(f"/confirm/{token}")):
        assert again.status == 400
        assert "already been used" in again.body


def test_an_expired_confirmation_link_is_refused_and_confirms_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_subscriber(site.sessions, confirmed=False)
    eight_days_ago = time.time() - 8 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.time, "time", lambda: eight_days_ago)
        token = make_token(WEB_SECRET, ANN, "confirm")

    for reply in (site.get(f"/confirm/{token}"), site.post(f"/confirm/{token}", {})):
        assert reply.status == 400
        assert "expired" in reply.body
    assert stored(site.sessions).status == "pending"


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    at = len(token) - 10
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        make_token("another-secret", ANN, "confirm"),
        make_token(WEB_SECRET, ANN, "unsubscribe"),  # a token for another action
        tampered(make_token(WEB_SECRET, ANN, "confirm")),
    ],
    ids=["garbage", "other-key", "other-action", "tampered"],
)
def test_a_forged_confirmation_link_is_a_400_page_without_a_traceback(site: Site, token: str) -> None:
    add_subscriber(site.sessions, confirmed=False)
    for reply in (site.get(f"/confirm/{token}"), site.post(f"/confirm/{token}", {})):
        assert reply.status == 400
        assert "not valid" in reply.body
        assert "Traceback" not in reply.body
    assert stored(site.sessions).status == "pending"


def test_link_scanners_and_head_requests_do_not_spend_a_confirmation_link(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=False)
    token = make_token(WEB_SECRET, ANN, "confirm")
    for _ in range(3):  # a scanner, a link preview, the reader opening it
        assert site.get(f"/confirm/{token}", method="HEAD").status == 200
        assert site.get(f"/confirm/{token}").status == 200
    assert stored(site.sessions).status == "pending"
    assert site.post(f"/confirm/{token}", {}).status == 200
    assert stored(site.sessions).status == "confirmed"


# ---------------------------------------------------------------------------------------------
# Unsubscribe


def test_unsubscribe_get_changes_nothing_and_shows_a_post_button(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    path = f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}"

    for _ in range(2):  # a mail scanner may follow the link more than once
        reply = site.get(path)
        assert reply.status == 200
        assert stored(site.sessions).status == "confirmed"
    form = re.search(r'<form method="post" action="([^"]+)">', reply.body)
    assert form is not None and form.group(1) == path
    assert '<button type="submit">' in reply.body
    assert ANN in reply.body


def test_one_click_post_unsubscribes_and_a_second_post_still_says_unsubscribed(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    path = f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}"

    first = site.post(path, {"List-Unsubscribe": "One-Click"})
    assert first.status == 200
    assert "You are unsubscribed" in first.body
    assert stored(site.sessions).status == "unsubscribed"

    second = site.post(path, {"List-Unsubscribe": "One-Click"})
    assert second.status == 200
    assert "You are unsubscribed" in second.body
    assert stored(site.sessions).status == "unsubscribed"


def test_the_unsubscribe_page_button_unsubscribes(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    page = site.get(f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}")
    action = re.search(r'action="([^"]+)"', page.body)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', page.body))
    assert action is not None
    assert site.post(action.group(1), fields).status == 200
    assert stored(site.sessions).status == "unsubscribed"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unsubscribe_with_a_bad_token_is_400_and_changes_nothing(site: Site, method: str) -> None:
    add_subscriber(site.sessions, confirmed=True)
    path = f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'manage')}"  # signed, but for another action
    reply = site.post(path, {"List-Unsubscribe": "One-Click"}) if method == "POST" else site.get(path)
    assert reply.status == 400
    assert "not valid" in reply.body
    assert stored(site.sessions).status == "confirmed"


# ---------------------------------------------------------------------------------------------
# Manage


def manage_path(email: str = ANN) -> str:
    """The path of a subscriber's manage link."""
    return f"/manage/{make_token(WEB_SECRET, email, 'manage')}"


def test_the_manage_form_shows_the_stored_settings(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True, filters=make_filters(house="Lords", kinds=["withdrawn"]))
    reply = site.get(manage_path())
    assert reply.status == 200
    assert '<option value="Lords" selected>' in reply.body
    assert 'name="kinds" value="withdrawn" checked' in reply.body
    assert 'name="frequency" value="daily" checked' in reply.body
    assert 'name="send_time" value="07:00"' in reply.body


def test_the_manage_form_saves_frequency_time_and_filters(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    reply = site.post(manage_path(), GOOD_FORM)
    assert reply.status == 200
    assert "Saved" in reply.body
    assert 'name="kinds" value="corrected" checked' in reply.body
    subscriber = stored(site.sessions)
    assert (subscriber.frequency, subscriber.send_time, subscriber.status) == ("weekly", "18:30", "confirmed")
    assert subscriber.filters == {
        "house": "Commons",
        "department": "Home Office",
        "keyword": "Hikvision",
        "uin": "HL2472",
        "kinds": ["corrected", "answer_text_changed"],
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("house", "Scotland", "house 'Scotland' is not one of Commons, Lords"),
        ("send_time", "25:00", "send time '25:00' is not HH:MM"),
        ("send_time", "7pm", "send time '7pm' is not HH:MM"),
        ("frequency", "hourly", "frequency 'hourly' is not one of immediate, daily, weekly"),
        ("kinds", "everything", "unknown change kind 'everything'"),
    ],
)
def test_the_manage_form_rejects_a_bad_value_with_400_and_keeps_the_settings(
    site: Site, field: str, value: str, message: str
) -> None:
    add_subscriber(site.sessions, confirmed=True)
    before = stored(site.sessions)
    reply = site.post(manage_path(), {**GOOD_FORM, field: value})
    assert reply.status == 400
    assert message.replace("'", "&#39;") in reply.body
    assert "<form" in reply.body and "Saved" not in reply.body
    after = stored(site.sessions)
    assert (after.frequency, after.send_time, after.filters) == (before.frequency, before.send_time, {})


def test_a_manage_link_of_an_unsubscribed_address_changes_nothing(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    site.post(f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}", {"List-Unsubscribe": "One-Click"})
    assert site.get(manage_path()).status == 400
    reply = site.post(manage_path(), GOOD_FORM)
    assert reply.status == 400
    assert "unsubscribed" in reply.body
    assert stored(site.sessions).status == "unsubscribed"
    assert stored(site.sessions).frequency == "daily"


def test_a_forged_manage_link_is_400(site: Site) -> None:
    add_subscriber(site.sessions, confirmed=True)
    token = make_token("another-secret", ANN, "manage")
    assert site.get(f"/manage/{token}").status == 400
    assert site.post(f"/manage/{token}", GOOD_FORM).status == 400
    assert stored(site.sessions).frequency == "daily"


# ---------------------------------------------------------------------------------------------
# Question pages


def test_the_question_page_shows_every_source_newest_first_with_a_word_diff(site: Site) -> None:
    edited = replace(ANSWER, answer_text="I will be meeting the Commissioner on 1 October.")
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 1, 9))
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 2, 9))
    record(site.sessions, "blog", BLOG, edited, datetime(2026, 11, 3, 9))

    reply = site.get("/questions/Lords/HL2472")
    assert reply.status == 200
    headings = re.findall(r"<h2>([^<]+), version (\d+)</h2>\s*<p class=\"muted\">Read ([^·]+) ·", reply.body)
    assert headings == [
        ("Blog copy on blog.example", "2", "3 Nov 2026, 09:00 UTC"),
        ("Official record (Written Questions API)", "1", "2 Nov 2026, 09:00 UTC"),
        ("Blog copy on blog.example", "1", "1 Nov 2026, 09:00 UTC"),
    ]
    versions = reply.body[reply.body.index('<article class="version">') :]
    assert re.search(r"<del>[^<]*shortly\.[^<]*</del>", versions)
    assert re.search(r"<ins>[^<]*1 October\.[^<]*</ins>", versions)
    assert versions.count("<ins>") == 1  # the api copy is not compared with the blog's
    assert f'<a href="{BLOG}"' in reply.body


def test_the_question_page_escapes_scraped_markup_and_template_syntax(site: Site) -> None:
    hostile = replace(
        ANSWER,
        heading="<b>bold</b>",
        answer_text="<script>alert(1)</script> {{ 7*7 }}",
        answering_member="{% raw %}<img src=x onerror=alert(2)>",
    )
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 1, 9))
    record(site.sessions, "blog", BLOG, hostile, datetime(2026, 11, 2, 9))
    record(site.sessions, "html", "javascript://blog.example/%0Aalert(3)", hostile, datetime(2026, 11, 3, 9))

    reply = site.get("/questions/Lords/HL2472")
    assert reply.status == 200
    assert "<script" not in reply.body.lower() and "<img" not in reply.body and "<b>" not in reply.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.body
    assert "{{ 7*7 }}" in reply.body
    assert "&lt;img src=x onerror=alert(2)&gt;" in reply.body
    assert 'href="javascript:' not in reply.body
    assert "javascript://blog.example/%0Aalert(3)" in reply.body  # shown as text, not as a link


def test_the_question_page_picks_a_session_by_tabled_date(site: Site) -> None:
    later = replace(ANSWER, date_tabled=date(2023, 11, 20), answer_text="A later session's answer.")
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 1, 9))
    record(site.sessions, "blog", "https://blog.example/later/", later, datetime(2026, 11, 2, 9))

    both = site.get("/questions/lords/hl2472")
    assert both.status == 200
    assert "shortly" in both.body and "A later session" in both.body
    one = site.get("/questions/Lords/HL2472?tabled=2023-11-20")
    assert "A later session" in one.body and "shortly" not in one.body
    assert site.get("/questions/Lords/HL2472?tabled=2020-01-01").status == 404
    assert site.get("/questions/Lords/HL2472?tabled=yesterday").status == 400


@pytest.mark.parametrize("path", ["/questions/Lords/HL9999", "/questions/Senate/HL2472", "/no/such/page"])
def test_unknown_questions_and_routes_are_a_404_page(site: Site, path: str) -> None:
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 1, 9))
    reply = site.get(path)
    assert reply.status == 404
    assert reply.headers.get_content_type() == "text/html"
    assert "404 Not Found" in reply.body


# ---------------------------------------------------------------------------------------------
# Every page


def test_healthz_says_ok(site: Site) -> None:
    reply = site.get("/healthz")
    assert (reply.status, reply.body) == (200, "ok")


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/confirm/forged",
        f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}",
        "/questions/Lords/HL2472",
        "/no/such/page",
    ],
)
def test_every_response_carries_the_security_headers(site: Site, path: str) -> None:
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 1, 9))
    reply = site.get(path)
    # The question page holds the follow form, whose POST must carry the page's real Origin.
    referrer = "same-origin" if path.startswith("/questions/") else "no-referrer"
    for name, value in {**HEADERS, "Referrer-Policy": referrer}.items():
        assert reply.headers[name] == value


def test_pages_reached_by_a_token_are_not_cached(site: Site) -> None:
    reply = site.get(f"/unsubscribe/{make_token(WEB_SECRET, ANN, 'unsubscribe')}")
    assert reply.headers["Cache-Control"] == "no-store"


def test_a_wrong_method_is_a_405_page_naming_the_allowed_ones(site: Site) -> None:
    reply = site.post("/questions/Lords/HL2472", {})
    assert reply.status == 405
    assert "GET" in (reply.headers["Allow"] or "")


def test_a_database_failure_is_a_500_page_without_a_traceback() -> None:
    broken = sessionmaker(create_engine("sqlite:////nonexistent-folder/pqwatch.sqlite3"))
    app = create_app(broken, WEB_SECRET, "https://pqwatch.example")
    with serve_in_thread(app) as url:
        reply = fetch(url + "/questions/Lords/HL2472")
        assert reply.status == 500
        assert "Server error" in reply.body
        assert "Traceback" not in reply.body and "sqlite" not in reply.body.lower()
        assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_the_app_refuses_to_start_without_a_secret_key(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="secret key"):
        create_app(sessions, "", "https://pqwatch.example")
