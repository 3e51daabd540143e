"""The browse pages: changes through any filter a subscription can express, paged; answering
bodies and members by slug; and the form on each that subscribes to what the page shows (double
opt-in, one confirmation an hour to one address, a per-client limit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes.detect import detect_changes
from monitor.queries.browse import slug
from monitor.web import browse
from monitor.web.app import create_app
from spiders.records import AnswerRecord
from storage.models import Subscriber
from storage.record import record_page
from tests.support.digests import RecordingTransport, mailer
from tests.support.web import NOW, WEB_SECRET, Site, serve_in_thread

HOME = AnswerRecord(
    house="Commons",
    uin="7926",
    date_tabled=date(2026, 11, 20),
    heading="Asylum: Hotels",
    question_text="To ask the Home Secretary, how many hotels house asylum seekers.",
    asking_member="Jo White",
    answer_text="There were 210 hotels in use.",
    answering_member="Dame Angela Eagle",
    answering_body="Home Office",
    date_answered=date(2026, 11, 27),  # within the 7 days before NOW (30 November 2026)
)
JUSTICE = replace(
    HOME,
    uin="8001",
    heading="Prisons: Capacity <script>alert(1)</script>",
    question_text="To ask the Secretary of State for Justice, how many prison places there are.",
    asking_member="Zoë Ó Brien",
    answer_text="There are 88,000 places.",
    answering_member="Lord Timpson",
    answering_body="Ministry of Justice",
    date_answered=date(2026, 10, 1),
)


def store(sessions: sessionmaker[Session], answer: AnswerRecord, at: datetime) -> None:
    with sessions.begin() as session:
        url = f"https://questions-statements-api.parliament.uk/api/writtenquestions/questions/{answer.uin}"
        record_page(session, source_kind="api", url=url, answers=[answer], observed_at=at)
    with sessions.begin() as session:
        detect_changes(session, now=at)


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def site(sessions: sessionmaker[Session], transport: RecordingTransport) -> Iterator[Site]:
    store(sessions, HOME, NOW - timedelta(days=3))
    store(sessions, JUSTICE, NOW - timedelta(days=2))
    store(sessions, replace(HOME, answer_text="There were 212 hotels in use."), NOW - timedelta(days=1))
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    app.extensions["pqwatch"] = replace(
        app.extensions["pqwatch"], mailer=replace(mailer(transport), secret=WEB_SECRET)
    )
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def listed(body: str) -> list[str]:
    """The (House UIN, kind) of each change a page lists, in order."""
    items = re.findall(r'<a href="/questions/[^"]+">([^<]+)</a>\s*<span class="kind">([^<]+)</span>', body)
    return [f"{uin} {kind}" for uin, kind in items]


def test_slugs_are_plain_ascii_words():
    assert slug("Department for Education") == "department-for-education"
    assert slug("Zoë Ó Brien") == "zoe-o-brien"
    assert slug("Foreign, Commonwealth & Development Office") == "foreign-commonwealth-development-office"


def test_the_changes_pages_filter_by_kind_department_member_and_keyword(site: Site) -> None:
    everything = listed(site.get("/").body)
    assert everything[0] == "Commons 7926 Answer text changed" and len(everything) >= 3
    assert listed(site.get("/changes?kind=answer_text_changed").body) == ["Commons 7926 Answer text changed"]
    assert all("8001" in item for item in listed(site.get("/changes?department=justice").body))
    assert all("7926" in item for item in listed(site.get("/changes?member=angela+eagle").body))
    body = site.get("/changes?keyword=prison&house=Commons").body
    assert listed(body) and all("8001" in item for item in listed(body))
    assert "Showing changes where house: Commons; keyword: prison." in body
    assert listed(site.get("/changes?keyword=nothing-says-this").body) == []
    assert "No change matches these filters." in site.get("/changes?keyword=nothing-says-this").body
    assert listed(site.get(f"/changes?since={(NOW - timedelta(days=1)).date()}").body) == [
        "Commons 7926 Answer text changed"
    ]


def test_the_changes_pages_page_through_every_change_once(site: Site, monkeypatch) -> None:
    monkeypatch.setattr(browse, "PAGE_SIZE", 1)
    every = listed(site.get("/changes").body)
    seen, path = [], "/changes?house=Commons"
    while path:
        body = site.get(path).body
        seen.extend(listed(body))
        older = re.search(r'<a href="([^"]+)" rel="next">Older changes</a>', body)
        path = unquote(older.group(1)).replace("&amp;", "&") if older else ""
        assert len(seen) < 20
    monkeypatch.setattr(browse, "PAGE_SIZE", 50)
    assert seen == listed(site.get("/changes?house=Commons").body) and len(seen) >= 3 and every


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/changes?kind=renamed", "unknown change kind &#39;renamed&#39;"),
        ("/changes?house=Senate", "house=&#39;Senate&#39; is not one of Commons, Lords"),
        ("/changes?since=yesterday", "since=&#39;yesterday&#39; is not a date"),
        ("/changes?before=-1", "before=&#39;-1&#39; is not a cursor"),
        ("/changes?thread=yes", "following a thread needs the UIN"),
    ],
)
def test_a_bad_filter_is_a_400_that_names_it(site: Site, path: str, message: str) -> None:
    reply = site.get(path)
    assert reply.status == 400 and message in reply.body


def test_departments_and_members_have_pages_by_slug(site: Site) -> None:
    body = site.get("/departments").body
    assert '<a href="/departments/home-office">Home Office</a>' in body
    assert '<a href="/departments/ministry-of-justice">Ministry of Justice</a>' in body
    home = site.get("/departments/home-office").body
    answered = home.split('id="answered"')[1].split("</section>")[0]
    assert "Commons 7926" in answered and "8001" not in answered  # 8001 was answered in October
    assert "Answer text changed" in home
    assert site.get("/departments/no-such-office").status == 404

    members = site.get("/members").body
    assert '<a href="/members/zoe-o-brien">Zoë Ó Brien</a>' in members
    zoe = site.get("/members/zoe-o-brien").body
    asked = zoe.split('id="asked"')[1].split("</section>")[0]
    assert "Commons 8001" in asked and "Prisons: Capacity &lt;script&gt;" in asked and "<script>" not in zoe
    timpson = site.get("/members/lord-timpson").body
    assert "Commons 8001" in timpson.split('id="answered"')[1] and "None stored." in timpson
    assert site.get("/members/nobody").status == 404


def test_a_filtered_view_subscribes_to_its_filters_with_one_confirmation_an_hour(
    site: Site, transport: RecordingTransport
) -> None:
    page = site.get("/departments/ministry-of-justice").body
    assert 'name="department" value="Ministry of Justice"' in page
    form: dict[str, str | list[str]] = {
        "email": "Reader@Example.org",
        "department": "Ministry of Justice",
        "frequency": "weekly",
        "back": "/departments/ministry-of-justice",
    }
    reply = site.post("/subscribe", form)
    assert reply.status == 200 and "Check your mail to confirm" in reply.body
    assert "the changes where department: Ministry of Justice" in reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    with site.sessions() as session:
        [made] = session.scalars(select(Subscriber)).all()
        assert (made.email, made.status, made.frequency, made.filters) == (
            "reader@example.org", "pending", "weekly", {"department": "Ministry of Justice"}
        )  # fmt: skip
    assert [m["To"] for m in transport.sent] == ["reader@example.org"]
    # Other filters within the hour: a second pending subscription, but no second mail.
    again = site.post("/subscribe", {"email": "reader@example.org", "kind": "corrected"})
    assert again.status == 200 and "Check your mail to confirm" in again.body
    with site.sessions() as session:
        assert len(session.scalars(select(Subscriber)).all()) == 2
    assert len(transport.sent) == 1
    # Only this site's pages are offered as the way back.
    off = site.post("/subscribe", {"email": "x@example.org", "back": "//evil.example/"})
    assert 'href="/"' in off.body and "evil" not in off.body
    bad = site.post("/subscribe", {"email": "not an address"})
    assert bad.status == 400 and 'role="alert"' in bad.body


def test_one_client_may_post_the_mailing_forms_only_so_often(site: Site) -> None:
    replies = [site.post("/subscribe", {"email": f"r{n}@example.org"}).status for n in range(11)]
    assert replies[:10] == [200] * 10 and replies[10] == 429
    follow = site.post("/questions/commons/7926/follow", {"email": "late@example.org"})
    assert follow.status == 429  # the limit is shared by the two forms


def test_each_filtered_page_offers_the_feed_of_what_it_shows(site: Site) -> None:
    body = site.get("/changes?department=home+office&kind=new").body
    feed = re.search(r'<link rel="alternate" type="application/atom\+xml" [^>]*href="([^"]+)"', body)
    assert (
        feed and feed.group(1).replace("&amp;", "&") == "/feeds/changes.atom?department=home+office&kind=new"
    )
    reply = site.get(feed.group(1).replace("&amp;", "&"))
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/atom+xml")
    assert (
        'href="/feeds/changes.atom?department=Ministry+of+Justice"'
        in site.get("/departments/ministry-of-justice").body
    )
    question = site.get("/questions/commons/7926").body
    assert 'href="/feeds/questions/commons/7926.atom"' in question
    assert site.get("/feeds/questions/commons/7926.atom").status == 200
