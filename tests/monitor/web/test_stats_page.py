"""The timeliness page (/stats): each answering body's figures as a table and an SVG bar chart,
filtered by House, session and tabled dates, with scraped names escaped and bad filters refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.web.app import create_app
from monitor.web.stats import BAR_WIDTH, bar_chart
from spiders.records import AnswerRecord
from storage.record import record_page
from tests.support.web import NOW, WEB_SECRET, Site, serve_in_thread

SEEN = datetime(2026, 12, 1, 9, 0)


def _answer(uin: str, tabled: date, answered: date | None, body: str, house: str = "Commons") -> AnswerRecord:
    return AnswerRecord(
        house=house,
        uin=uin,
        date_tabled=tabled,
        question_text=f"To ask the Secretary of State, question {uin}.",
        answer_text="Figures follow." if answered else "",
        date_answered=answered,
        answering_body=body,
        heading=f"Heading {uin}",
    )


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    """The app over four Commons questions of two bodies in 2023-24 and a Lords one in 2022-23."""
    answers = [
        _answer("7926", date(2024, 1, 5), date(2024, 1, 10), "Home Office"),  # 3 working days: on time
        _answer("7927", date(2024, 1, 5), date(2024, 1, 15), "Home Office"),  # 6: late
        _answer("7928", date(2024, 1, 8), date(2024, 1, 9), "<b>Cabinet</b> Office"),  # a hostile name
        _answer("7929", date(2024, 1, 8), None, "<b>Cabinet</b> Office"),
        _answer("HL500", date(2023, 1, 9), date(2023, 1, 12), "Home Office", house="Lords"),
    ]
    for number, answer in enumerate(answers):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[answer],
                        observed_at=SEEN)  # fmt: skip
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Site(url, sessions)


def _rows(body: str) -> list[list[str]]:
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", body, re.S)
    return [[name, *re.findall(r"<td>(.*?)</td>", cells)] for name, cells in rows]


def test_the_page_shows_each_body_in_a_table_and_a_chart(site: Site) -> None:
    reply = site.get("/stats")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "<h1>Timeliness of answers</h1>" in reply.body
    rows = _rows(reply.body)
    assert [row[:4] for row in rows] == [
        ["Home Office", "3", "3", "66.7"],  # HL500 (3 working days) is an ordinary one on time
        ["&lt;b&gt;Cabinet&lt;/b&gt; Office", "2", "1", "100.0"],
    ]
    assert "<b>Cabinet</b>" not in reply.body  # scraped text is escaped, in the table and the SVG
    svg = re.search(r"<svg .*?</svg>", reply.body, re.S)
    assert svg and 'role="img"' in svg.group(0)
    widths = re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', svg.group(0))
    assert [float(w) for w in widths] == [round(BAR_WIDTH * 0.667, 1), BAR_WIDTH * 1.0]
    assert "<script" not in reply.body
    assert "Method" in reply.body and "within 5 working days" in reply.body


def test_the_page_filters_by_house_and_session(site: Site) -> None:
    rows = _rows(site.get("/stats?house=Lords").body)
    assert [row[:3] for row in rows] == [["Home Office", "1", "1"]]
    body = site.get("/stats?session=2023-24&house=Commons").body
    assert [row[:3] for row in _rows(body)] == [  # as many questions each: by name
        ["&lt;b&gt;Cabinet&lt;/b&gt; Office", "2", "1"],
        ["Home Office", "2", "2"],
    ]
    assert "<option selected>2023-24</option>" in body and "session 2023-24, House of Commons" in body
    body = site.get("/stats?session=2022-23&house=Commons").body
    assert _rows(body) == [] and "No questions are stored for this choice." in body
    body = site.get("/stats?session=2024-26&tabled_from=2024-01-08").body  # an alias, and a narrower start
    assert _rows(body) == []  # 2024-26 is the session that began in July 2024


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("house=Senate", "house=&#39;Senate&#39; is not Commons or Lords."),
        ("session=1999-00", "no parliamentary session"),
        ("tabled_from=2024-13-01", "tabled_from=&#39;2024-13-01&#39; is not a date"),
    ],
)
def test_a_bad_filter_is_a_400_that_says_what_is_wrong(site: Site, query: str, message: str) -> None:
    reply = site.get("/stats?" + query)
    assert reply.status == 400 and message in reply.body


def test_the_chart_keeps_bodies_with_an_ordinary_answer_and_at_most_thirty() -> None:
    rows = [
        {"answering_body": f"Body {n}", "on_time_ordinary_pct": float(n), "answered": 1} for n in range(40)
    ]
    rows.insert(0, {"answering_body": "Unanswered", "on_time_ordinary_pct": None, "answered": 0})
    chart = bar_chart(rows)
    assert len(chart.bars) == 30 and chart.bars[0].label == "Body 0"
    assert chart.bars[1].y - chart.bars[0].y == 40 and chart.height > chart.bars[-1].y + 35
    long = bar_chart([{"answering_body": "D" * 60, "on_time_ordinary_pct": 25.0, "answered": 4}])
    assert long.bars[0].label == "D" * 47 + "…" and long.bars[0].title.startswith("D" * 60)
