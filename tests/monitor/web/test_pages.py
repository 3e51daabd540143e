"""The reader's pages: the front page of recent changes, and a question's page with readable
headings, its heading as title, a blog copy that disagrees side by side with the record, two
sessions' questions of one UIN apart, and the follow form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes.detect import detect_changes
from monitor.changes.nonanswers import RULES_BY_NAME
from monitor.web.app import create_app, shown_path
from spiders.records import AnswerRecord
from storage.record import record_page
from tests.support.web import NOW, WEB_SECRET, Site, serve_in_thread

ANSWER = AnswerRecord(
    house="Lords",
    uin="HL2472",
    date_tabled=date(2021, 9, 7),
    heading="Hikvision: Surveillance",
    question_text="To ask His Majesty's Government whether they have met the Commissioner.",
    answer_text="I will be meeting the Commissioner shortly. Officials continue to review the figures.",
    answering_member="Baroness Williams of Trafford",
    answering_body="Home Office",
    date_answered=date(2021, 9, 21),
)
BLOG = "https://www.davidalton.net/2021/09/21/hikvision/"
API = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1"


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    """The app on a migrated empty database."""
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def record(sessions: sessionmaker[Session], kind: str, url: str, answer: AnswerRecord, at: datetime) -> None:
    """Store what one source showed at one moment, and detect its changes."""
    with sessions.begin() as session:
        record_page(session, source_kind=kind, url=url, answers=[answer], observed_at=at)
    with sessions.begin() as session:
        detect_changes(session, now=at)


def test_the_front_page_of_an_empty_database_says_nothing_is_recorded_yet(site: Site) -> None:
    reply = site.get("/")
    assert reply.status == 200
    assert "Nothing has been recorded yet" in reply.body
    assert "<h1>Recent changes</h1>" in reply.body


def test_the_front_page_lists_recent_changes_newest_first_with_links_to_their_questions(site: Site) -> None:
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 1, 9))
    other = replace(ANSWER, uin="HL6108", heading="Schools", answer_text="The department has no plans.")
    record(site.sessions, "api", API.replace("/1", "/2"), other, datetime(2026, 11, 2, 9))
    corrected = replace(ANSWER, answer_text="I met the Commissioner on 1 October.")
    record(site.sessions, "api", API, corrected, datetime(2026, 11, 3, 9))

    reply = site.get("/")
    assert reply.status == 200
    links = re.findall(r'<a href="(/questions/[^"]+)">([^<]+)</a>', reply.body)
    assert links[0] == ("/questions/lords/HL2472?tabled=2021-09-07", "Lords HL2472")  # newest first
    assert ("/questions/lords/HL6108?tabled=2021-09-07", "Lords HL6108") in links
    assert "Answer text changed" in reply.body and "3 Nov 2026, 09:00 UTC" in reply.body
    assert site.get(links[0][0].replace("&amp;", "&")).status == 200


def test_the_question_page_is_titled_by_its_heading_and_names_each_source_plainly(site: Site) -> None:
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 2, 9))
    record(site.sessions, "blog", BLOG, ANSWER, datetime(2026, 11, 3, 7, 40))

    reply = site.get("/questions/lords/HL2472")
    assert "<title>Hikvision: Surveillance · pqwatch</title>" in reply.body
    assert re.search(r"<h1[^>]*>Hikvision: Surveillance</h1>", reply.body)
    assert "Lords written question HL2472, tabled 7 September 2021" in reply.body
    headings = re.findall(r"<h2>([^<]+)</h2>", reply.body)
    assert "Blog copy on www.davidalton.net, version 1" in headings
    assert "Official record (Written Questions API), version 1" in headings
    assert "Read 3 Nov 2026, 07:40 UTC" in reply.body
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", reply.body)  # no machine times
    assert "differs from the official record" not in reply.body  # the copies agree


def test_a_blog_copy_that_disagrees_with_the_record_is_shown_beside_it(site: Site) -> None:
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 2, 9))
    copy = replace(
        ANSWER,
        answer_text="I will be meeting the Commissioner next week. Officials continue to review the figures.",
    )
    record(site.sessions, "blog", BLOG, copy, datetime(2026, 11, 3, 9))

    body = site.get("/questions/lords/HL2472").body
    assert "Answer: the blog copy on www.davidalton.net differs from the official record" in body
    side = body[body.index('class="columns"') : body.index('<article class="version">')]
    official, blog = side.split("<h3>Blog copy</h3>")
    assert "<del>shortly.</del>" in official and "<ins>" not in official
    assert "<ins>next week.</ins>" in blog and "<del>" not in blog
    assert "Officials continue to review the figures." in official and "Officials continue" in blog


def test_two_questions_with_one_uin_in_different_sessions_are_shown_apart(site: Site) -> None:
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 1, 9))
    later = replace(ANSWER, date_tabled=date(2024, 1, 5), heading="Prisons", answer_text="A later answer.")
    record(site.sessions, "api", API.replace("/1", "/9"), later, datetime(2026, 11, 2, 9))

    body = site.get("/questions/lords/HL2472").body
    assert "2 different questions carry the UIN HL2472 in the Lords" in body
    assert body.count('<section class="question"') == 2
    first, second = body.split('<section class="question"')[1:]
    assert "tabled 7 September 2021" in first and "shortly" in first and "A later answer" not in first
    assert "tabled 5 January 2024" in second and "A later answer" in second
    assert "<title>Lords written question HL2472 · pqwatch</title>" in body


def test_the_question_page_has_a_follow_form_for_each_question(site: Site) -> None:
    record(site.sessions, "api", API, ANSWER, datetime(2026, 11, 1, 9))
    body = site.get("/questions/lords/HL2472").body
    form = re.search(r'<form class="follow" method="post" action="([^"]+)">(.*?)</form>', body, re.S)
    assert form is not None
    assert form.group(1) == "/questions/lords/HL2472/follow"
    assert 'name="tabled" value="2021-09-07"' in form.group(2)
    assert re.search(
        r'<label for="(follow-email-1)">[^<]+</label>\s*<input id="\1" type="email" name="email" required',
        form.group(2),
    )


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/manage/eyJlbWFpbCI6ImFubkBleGFtcGxlLm9yZyJ9.abc", "/manage/…"),
        ("/confirm/secret.token", "/confirm/…"),
        ("/unsubscribe/secret", "/unsubscribe/…"),
        ("/questions/lords/HL2472", "/questions/lords/HL2472"),
    ],
)
def test_the_request_log_never_shows_a_signed_links_token(path: str, shown: str) -> None:
    assert shown_path(path) == shown


def test_a_question_page_shows_where_it_stands_and_its_thread_both_ways(site: Site) -> None:
    first = AnswerRecord(
        house="Commons",
        uin="7926",
        date_tabled=date(2024, 1, 5),
        heading="Prisons: Overcrowding",
        question_text="To ask the Secretary of State for Justice, how many prisons are full.",
        answer_text="The information is not held centrally.",
        answering_body="Ministry of Justice",
        date_for_answer=date(2024, 1, 10),
        is_named_day=True,
        date_answered=date(2024, 1, 10),
    )
    follow_up = replace(
        first,
        uin="9100",
        date_tabled=date(2024, 1, 22),
        heading="Prisons: Capacity",
        question_text="To ask the Secretary of State for Justice, pursuant to the Answer of 10 January"
        " 2024 to Question 7926, when those figures will be collected.",
        answer_text="",
        date_answered=None,
        date_for_answer=date(2024, 1, 29),
        is_named_day=False,
    )
    record(site.sessions, "api", API, first, datetime(2026, 11, 1, 9))
    record(site.sessions, "api", API.replace("/1", "/2"), follow_up, datetime(2026, 11, 2, 9))

    body = site.get("/questions/commons/7926").body
    life = re.search(r'<dl class="life".*?</dl>', body, re.S)
    assert life, body
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", life.group(0))
    assert pairs == [
        ("Status", "answered"),
        ("Due", "10 January 2024 (a named day)"),
        ("Answered", "on time, in 3 working days"),
        ("Non-answer", RULES_BY_NAME["not_held_centrally"].meaning),
    ]
    link = '<a href="/questions/commons/9100?tabled=2024-01-22">Commons 9100</a>, tabled 22 January 2024'
    assert f"Followed up by {link}" in body

    body = site.get("/questions/commons/9100").body
    link = '<a href="/questions/commons/7926?tabled=2024-01-05">Commons 7926</a>, tabled 5 January 2024'
    assert f"Follows up {link}" in body
    # NOW is 30 November 2026: the follow-up, due 29 January 2024 and unanswered, is overdue.
    assert "<dt>Status</dt><dd>overdue</dd>" in body
    assert "<dt>Answered</dt>" not in body
