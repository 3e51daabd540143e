"""The search page (/search) over real HTTP on both engines: a labelled GET form, hits linking to
their questions with the matched words marked, past versions said so, scraped text escaped,
pages, and bad queries and filters answered with what is wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.web import search as search_module
from monitor.web.app import create_app
from spiders.records import AnswerRecord
from storage.record import record_page
from tests.support.web import NOW, WEB_SECRET, Site, serve_in_thread

HOTELS = AnswerRecord(
    house="Commons",
    uin="7927",
    date_tabled=date(2024, 1, 5),
    # Scraped text that looks like markup: PostgreSQL's parser skips it (it reads tags), FTS5 indexes
    # its words; the page escapes it either way.
    heading="Asylum: Hotels <script>alert('pwned')</script>",
    question_text="To ask the Secretary of State for the Home Department, how many asylum seekers are"
    " in hotels.",
    answer_text="Asylum seekers are housed in 200 hotels. <script>alert('pwned')</script> & <b>more</b>",
    asking_member="Caroline Lucas",
    answering_member="Chris Philp",
    answering_body="Home <i>Office</i>",
    date_answered=date(2024, 1, 10),
)
DENTAL = AnswerRecord(
    house="Lords",
    uin="HL500",
    date_tabled=date(2024, 1, 8),
    heading="Dental Services",
    question_text="To ask His Majesty's Government what access to NHS dentistry people in hotels have.",
    answer_text="Knife crime fell by 4 per cent.",
    asking_member="Baroness Cox",
    answering_body="Department of Health and Social Care",
    date_answered=date(2024, 1, 15),
)


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    """The app over two questions, the Lords one's answer later rewritten."""
    for number, (answer, seen) in enumerate(
        [
            (HOTELS, datetime(2024, 1, 20, 9, 0)),
            (DENTAL, datetime(2024, 1, 20, 9, 5)),
            (replace(DENTAL, answer_text="Figures are under review."), datetime(2024, 3, 2, 9, 0)),
        ]
    ):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{min(number, 1)}",
                        answers=[answer], observed_at=seen)  # fmt: skip
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def _hits(body: str) -> list[str]:
    return re.findall(r'<li>\s*<a href="([^"]+)">', body)


def test_the_form_is_labelled_and_works_without_script(site: Site) -> None:
    reply = site.get("/search")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert '<form method="get" action="/search" role="search"' in reply.body
    ids = re.findall(r'<(?:input|select) id="([^"]+)"', reply.body)
    assert len(ids) == 10
    for name in ids:
        assert f'<label for="{name}">' in reply.body
    assert "<script" not in reply.body and "hits-title" not in reply.body  # no search yet, no results
    assert '<a href="/search">Search</a>' in site.get("/stats").body  # in every page's navigation


def test_hits_link_to_their_questions_with_the_words_marked_and_scraped_text_escaped(site: Site) -> None:
    reply = site.get("/search?q=hotels")
    assert reply.status == 200
    assert "2 questions for hotels" in reply.body
    assert sorted(_hits(reply.body)) == [
        "/questions/commons/7927?tabled=2024-01-05",
        "/questions/lords/HL500?tabled=2024-01-08",
    ]
    assert re.search(r"<mark>hotels</mark>", reply.body, re.I)
    body = reply.body
    assert "Asylum: Hotels &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;</a>" in body
    assert "<script>" not in body and "<b>more" not in body
    assert "Home &lt;i&gt;Office&lt;/i&gt;" in body and "<i>Office</i>" not in body
    assert 'value="hotels"' in body  # the form keeps the search
    hostile = site.get("/search?q=" + "%22%3E%3Cscript%3E")
    assert (
        hostile.status == 200
        and "<script>" not in hostile.body
        and 'value="&#34;&gt;&lt;script&gt;"' in hostile.body
    )


def test_a_past_versions_text_is_found_and_said_to_be_past(site: Site) -> None:
    body = site.get("/search?q=%22fell+by+4+per+cent%22").body
    assert _hits(body) == ["/questions/lords/HL500?tabled=2024-01-08"]
    assert "Only in an earlier version</strong>, first stored 20 January 2024" in body
    current = site.get("/search?q=%22fell+by+4+per+cent%22&versions=current").body
    assert _hits(current) == [] and "No question matches" in current
    assert "In its current text." in site.get("/search?q=review").body


def test_filters_narrow_the_hits(site: Site) -> None:
    assert _hits(site.get("/search?q=hotels&house=Lords").body) == [
        "/questions/lords/HL500?tabled=2024-01-08"
    ]
    assert _hits(site.get("/search?q=hotels&member=lucas").body) == [
        "/questions/commons/7927?tabled=2024-01-05"
    ]
    assert _hits(site.get("/search?q=hotels&department=health").body) == [
        "/questions/lords/HL500?tabled=2024-01-08"
    ]
    assert _hits(site.get("/search?q=hotels&answered_to=2024-01-12&status=answered").body) == [
        "/questions/commons/7927?tabled=2024-01-05"
    ]
    body = site.get("/search?q=hotels&house=Lords&tabled_from=2024-01-01").body
    assert "<option selected>Lords</option>" in body and 'value="2024-01-01"' in body


def test_pages_go_through_the_hits(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "PAGE_SIZE", 1)
    first = site.get("/search?q=hotels&house=")
    assert len(_hits(first.body)) == 1
    more = re.search(r'<a href="([^"]+)" rel="next">More hits</a>', first.body)
    assert more and more.group(1) == "/search?q=hotels&amp;page=2"
    second = site.get("/search?q=hotels&page=2")
    assert len(_hits(second.body)) == 1 and _hits(second.body) != _hits(first.body)
    assert 'rel="prev">Previous hits</a>' in second.body and 'rel="next"' not in second.body
    assert '<ol class="hits" start="2">' in second.body


def test_a_search_matching_more_than_is_ranked_says_so(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.queries.search as queries

    monkeypatch.setattr(queries, "RANK_LIMIT", 1)
    body = site.get("/search?q=hotels").body
    # The newest 2 documents are both the Lords question's (its two versions say "hotels").
    assert "More than 1 question for hotels" in body and "these are the best of the newest 1," in body
    assert "Too many versions" not in site.get("/search?q=review").body  # one version says it


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=-barracks", "say what to look for as well as what to leave out"),
        ("q=*+%22%22", "say what to look for"),
    ],
)
def test_a_search_with_nothing_to_look_for_says_so(site: Site, query: str, message: str) -> None:
    reply = site.get("/search?" + query)
    assert reply.status == 200 and message in reply.body and "hits-title" not in reply.body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=x&house=Senate", "House &#39;Senate&#39; is not Commons or Lords."),
        ("q=x&tabled_from=2024-13-01", "tabled_from=&#39;2024-13-01&#39; is not a date"),
        ("q=x&answered_from=2024-02-01&answered_to=2024-01-01", "The answered dates are the wrong way round"),
        ("q=x&status=lost", "status=&#39;lost&#39; is not a question status."),
        ("q=x&versions=some", "versions=&#39;some&#39; is not any or current."),
        ("q=x&page=0", "page=&#39;0&#39; is not a page number"),
    ],
)
def test_a_bad_filter_is_a_400_that_says_what_is_wrong(site: Site, query: str, message: str) -> None:
    reply = site.get("/search?" + query)
    assert reply.status == 400 and message in reply.body
