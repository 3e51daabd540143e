"""Corrections from written statements: a statement's CorrectedAnswer link becomes one `corrected`
event on its question, whichever arrives first, and one correction is one digest item."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from monitor.changes.corrections import SAME_CORRECTION_DAYS, STATEMENT_FIELD
from monitor.changes.detect import detect
from monitor.changes.holds import decide_hold
from monitor.notify.digest import build_context
from monitor.notify.render import render_digest
from monitor.queries.views import change_events
from spiders.records import AnswerRecord
from spiders.sources.api.parse import parse_question
from spiders.sources.statements.parse import parse_list_page
from spiders.sources.statements.records import CorrectionLink
from storage.models import ChangeEvent, Hold, StatementLink, Subscriber
from storage.record import record_page
from storage.statements import record_statement_links
from storage.terms import ChangeKind, HoldState
from tests.support.digests import RecordingTransport, mailer
from tests.support.helpers import FIXTURES

TODAY = date(2024, 2, 6)
QUESTION = parse_question(json.loads((FIXTURES / "api/detail-1679416.json").read_text()), TODAY)
PAGE = parse_list_page(json.loads((FIXTURES / "statements/list-2024-02-05.json").read_text()), TODAY)
LINK = next(statement for statement in PAGE.statements if statement.corrections).corrections[0]
API_URL = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1679416"
STATEMENT_PAGE = "https://questions-statements.parliament.uk/written-statements/detail/2024-02-05/HCWS245"


def at(hours: int) -> datetime:
    return datetime(2024, 2, 6, 9) + timedelta(hours=hours)


def store_question(sessions, record: AnswerRecord, when: datetime) -> None:
    with sessions.begin() as session:
        record_page(session, source_kind="api", url=API_URL, answers=[record], observed_at=when)


def store_links(sessions, *links: CorrectionLink, when: datetime) -> int:
    with sessions.begin() as session:
        return record_statement_links(session, links, when)


def run_detection(sessions, when: datetime) -> int:
    with sessions.begin() as session:
        return detect(session, when).events


def corrected(sessions) -> list:
    with sessions() as session:
        return [e for e in change_events(session, include_held=True) if e.kind == ChangeKind.CORRECTED]


def corrected_answer(record: AnswerRecord, day: date) -> AnswerRecord:
    """The record as the official record shows it once the answer itself is corrected on `day`."""
    return replace(
        record,
        answer_text=record.answer_text.replace("44 FJAAs", "41 FJAAs"),
        original_answer_text=record.answer_text,
        is_correction=True,
        date_corrected=day,
    )


def test_a_statement_correcting_a_stored_answer_is_one_corrected_event_with_its_link(sessions):
    store_question(sessions, QUESTION, at(0))
    run_detection(sessions, at(0))
    assert store_links(sessions, LINK, when=at(1)) == 1
    assert run_detection(sessions, at(1)) == 1
    [event] = corrected(sessions)
    assert (event.uin, event.field, event.old) == ("7926", STATEMENT_FIELD, None)
    assert event.new == "HCWS245: Correction to a Written Answer: Flexi-job Apprenticeships"
    assert event.source_url == STATEMENT_PAGE
    assert event.detail == {
        "statement_uin": "HCWS245",
        "statement_url": STATEMENT_PAGE,
        "statement_title": "Correction to a Written Answer: Flexi-job Apprenticeships",
        "statement_date": "2024-02-05",
        "date_corrected": "2024-02-05",
    }
    with sessions() as session:
        link = session.scalars(select(StatementLink)).one()
        version = session.get(ChangeEvent, event.id).version_id
        assert (link.question_id, link.event_id) == (event.question_id, event.id)
        assert version is not None


def test_the_event_is_made_once_however_often_the_statement_is_crawled(sessions):
    store_question(sessions, QUESTION, at(0))
    store_links(sessions, LINK, when=at(0))
    run_detection(sessions, at(0))
    assert store_links(sessions, LINK, when=at(2)) == 0  # stored as first seen
    assert run_detection(sessions, at(2)) == 0
    assert run_detection(sessions, at(3)) == 0
    assert len(corrected(sessions)) == 1
    with sessions() as session:
        assert len(session.scalars(select(StatementLink)).all()) == 1


def test_a_statement_seen_before_its_question_is_joined_when_the_question_arrives(sessions):
    store_links(sessions, LINK, when=at(0))
    assert run_detection(sessions, at(0)) == 0  # nothing to join to yet
    with sessions() as session:
        assert session.scalars(select(StatementLink.event_id)).one() is None
    store_question(sessions, QUESTION, at(5))
    run_detection(sessions, at(5))
    [event] = corrected(sessions)
    assert event.detected_at == at(5) and event.field == STATEMENT_FIELD
    assert run_detection(sessions, at(6)) == 0 and len(corrected(sessions)) == 1


def test_a_statement_for_an_answer_already_corrected_goes_into_that_event(sessions):
    # The official record showed the correction first: its event has the text diff; the statement
    # is added to it, not announced a second time.
    store_question(sessions, QUESTION, at(0))
    run_detection(sessions, at(0))
    store_question(sessions, corrected_answer(QUESTION, date(2024, 2, 5)), at(1))
    run_detection(sessions, at(1))
    store_links(sessions, LINK, when=at(2))
    assert run_detection(sessions, at(2)) == 0
    [event] = corrected(sessions)
    assert event.field == "answer_text" and event.diff
    assert event.detail["statement_url"] == STATEMENT_PAGE
    assert event.detail["date_corrected"] == "2024-02-05"  # the answer's own, kept


def test_a_question_first_seen_corrected_with_its_statement_is_one_event(sessions):
    store_links(sessions, LINK, when=at(0))
    store_question(sessions, corrected_answer(QUESTION, date(2024, 2, 5)), at(0))
    run_detection(sessions, at(0))
    [event] = corrected(sessions)
    assert event.field == "answer_text" and event.detail["statement_uin"] == "HCWS245"


def test_an_answer_corrected_after_its_statement_keeps_its_own_event_and_names_the_statement(sessions):
    store_question(sessions, QUESTION, at(0))
    store_links(sessions, LINK, when=at(0))
    run_detection(sessions, at(0))
    store_question(sessions, corrected_answer(QUESTION, date(2024, 2, 6)), at(24))
    run_detection(sessions, at(24))
    statement, answer = corrected(sessions)
    assert (statement.field, answer.field) == (STATEMENT_FIELD, "answer_text")
    assert answer.diff and answer.detail["statement_uin"] == "HCWS245"


def test_the_commons_and_lords_copies_of_one_statement_are_one_event(sessions):
    lords = replace(
        LINK,
        statement_id=1700150,
        statement_uin="HLWS211",
        house="Lords",
        url=STATEMENT_PAGE.replace("HCWS245", "HLWS211"),
    )
    store_question(sessions, QUESTION, at(0))
    store_links(sessions, LINK, lords, when=at(0))
    assert run_detection(sessions, at(0)) >= 1
    [event] = corrected(sessions)
    with sessions() as session:
        assert set(session.scalars(select(StatementLink.event_id))) == {event.id}


def test_a_correction_long_after_the_answers_own_is_a_new_event(sessions):
    store_question(sessions, corrected_answer(QUESTION, date(2024, 1, 12)), at(0))
    run_detection(sessions, at(0))
    late = replace(LINK, date_made=date(2024, 1, 12) + timedelta(days=SAME_CORRECTION_DAYS + 1))
    store_links(sessions, late, when=at(1))
    assert run_detection(sessions, at(1)) == 1
    assert [e.field for e in corrected(sessions)] == ["answer_text", STATEMENT_FIELD]


def test_a_released_hold_leaves_the_statement_joined_to_the_events_new_copy(sessions):
    store_question(sessions, QUESTION, at(0))
    store_links(sessions, LINK, when=at(0))
    run_detection(sessions, at(0))
    [event] = corrected(sessions)
    with sessions.begin() as session:
        hold = Hold(source_kind="api", source="parliament", reason="test", event_count=1, created_at=at(1))
        session.add(hold)
        session.flush()
        session.get(ChangeEvent, event.id).hold_id = hold.id
        hold_id = hold.id
    with sessions.begin() as session:
        decide_hold(session, hold_id, HoldState.RELEASED, at(2))  # stores the event again, new id
    run_detection(sessions, at(3))
    [copy] = corrected(sessions)  # the event stored again (SQLite may reuse its id)
    assert copy.hold is not None and copy.hold.state == HoldState.RELEASED
    with sessions() as session:
        assert session.scalars(select(StatementLink.event_id)).one() == copy.id


def test_the_digest_item_shows_the_statement_and_links_its_page_escaped(sessions):
    titled = replace(LINK, title='Correction <script>alert("x")</script> & more')
    store_question(sessions, QUESTION, at(0))
    store_links(sessions, titled, when=at(0))
    run_detection(sessions, at(0))
    with sessions() as session:
        events = [(e, None) for e in change_events(session) if e.kind == ChangeKind.CORRECTED]
    subscriber = Subscriber(id=1, email="reader@example.org", link_version=0, frequency="daily")
    mail = render_digest(build_context(subscriber, "daily:2024-02-06", events, mailer(RecordingTransport())))
    assert 'Statement: HCWS245: Correction <script>alert("x")</script> & more' in mail.text
    assert f"Source (api): {STATEMENT_PAGE}" in mail.text
    assert "Answer corrected on 5 February 2024" in mail.text
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert f'href="{STATEMENT_PAGE}"' in mail.html
