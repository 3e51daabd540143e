"""Deadline events on a frozen clock: `due_today` on the due date, `overdue` from the day after
(each once, whatever the detections in between), `answered_late` when the answer comes after it,
and none of them for a question answered on time, withdrawn or long past."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from monitor.changes.detect import detect
from spiders.records import AnswerRecord
from storage.models import ChangeEvent
from storage.record import record_page

URL = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1"


def _question(uin: str = "7926", **fields: object) -> AnswerRecord:
    base: dict[str, object] = {
        "house": "Commons",
        "uin": uin,
        "date_tabled": date(2026, 11, 27),  # a Friday
        "question_text": "To ask the Secretary of State for Education, how many apprentices.",
        "answer_text": "",
        "answering_body": "Department for Education",
        "date_for_answer": date(2026, 12, 2),  # the Wednesday after
        "is_named_day": True,
    }
    return AnswerRecord(**{**base, **fields})  # type: ignore[arg-type]


def _crawl(sessions, answer: AnswerRecord, at: datetime, url: str = URL) -> list[str]:  # type: ignore[no-untyped-def]
    """Record the question as a crawl at `at` (naive UTC) reads it, then detect; the kinds stored."""
    with sessions.begin() as session:
        record_page(session, source_kind="api", url=url, answers=[answer], observed_at=at)
    with sessions.begin() as session:
        before = session.scalar(select(ChangeEvent.id).order_by(ChangeEvent.id.desc()).limit(1)) or 0
        detect(session, at)
        return list(
            session.scalars(select(ChangeEvent.kind).where(ChangeEvent.id > before).order_by(ChangeEvent.id))
        )


def test_a_crawl_across_the_due_date_says_due_today_then_overdue_once_each(sessions):
    question = _question()
    assert _crawl(sessions, question, datetime(2026, 11, 27, 12, 0)) == ["new"]
    assert _crawl(sessions, question, datetime(2026, 12, 1, 12, 0)) == []
    assert _crawl(sessions, question, datetime(2026, 12, 2, 8, 0)) == ["due_today"]
    assert (
        _crawl(sessions, question, datetime(2026, 12, 2, 23, 30)) == []
    )  # 2 December still (GMT): said once
    assert _crawl(sessions, question, datetime(2026, 12, 3, 9, 0)) == ["overdue"]
    assert _crawl(sessions, question, datetime(2026, 12, 4, 9, 0)) == []
    late = _question(answer_text="The department is supporting sectors.", date_answered=date(2026, 12, 4))
    assert _crawl(sessions, late, datetime(2026, 12, 4, 17, 0)) == ["answered", "answered_late"]
    with sessions() as session:
        event = session.scalars(select(ChangeEvent).where(ChangeEvent.kind == "answered_late")).one()
    assert (event.old, event.new) == ("2026-12-02", "2026-12-04")
    assert event.detail == {"due_date": "2026-12-02", "working_days_to_answer": 5}


def test_a_question_answered_on_time_or_withdrawn_has_no_deadline_events(sessions):
    on_time = _question("100", answer_text="An answer.", date_answered=date(2026, 12, 1))
    withdrawn = _question("101", is_withdrawn=True)
    assert _crawl(sessions, on_time, datetime(2026, 11, 30, 9, 0), URL + "00") == ["new"]
    assert _crawl(sessions, withdrawn, datetime(2026, 11, 30, 9, 0), URL + "01") == ["new"]
    assert _crawl(sessions, on_time, datetime(2026, 12, 3, 9, 0), URL + "00") == []


def test_a_question_long_overdue_when_first_seen_is_not_news(sessions):
    # A backfill of an old unanswered question: `pqwatch overdue` lists it, no digest announces it.
    old = _question("102", date_tabled=date(2026, 10, 1), date_for_answer=date(2026, 10, 6))
    assert _crawl(sessions, old, datetime(2026, 12, 3, 9, 0), URL + "02") == ["new"]
