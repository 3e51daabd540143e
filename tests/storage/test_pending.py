"""Suspect changes wait for confirmation, and every version names its parser: an answer missing
from a page that still reads as its post, and an official text gone empty, are stored only when a
crawl a day later still shows them; a page that does not read as its post records nothing — on
SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from storage.models import PendingChange, Version
from storage.record import (
    latest_versions,
    load_source_urls,
    load_validators,
    record_gone,
    record_page,
)
from storage.terms import PendingReason, SourceKind, VersionStatus
from tests.support.helpers import ANSWER, URL

T0 = datetime(2026, 11, 1, 9, 0)
T1 = datetime(2026, 11, 2, 9, 0)
OTHER = replace(ANSWER, uin="HL2473", answer_text="Second answer.")
API_URL = "http://api.test/api/writtenquestions/questions/1"


def _record(session, answers, at, *, kind="blog", url=URL, parser="p1", reads_as_post=True, etag="e1"):
    return record_page(
        session,
        source_kind=kind,
        url=url,
        answers=answers,
        observed_at=at,
        body=b"<html>v</html>",
        content_type="text/html",
        etag=etag,
        validator_url=url,
        parser=parser,
        reads_as_post=reads_as_post,
    )


def _versions(session) -> list[Version]:
    return list(session.scalars(select(Version).order_by(Version.id)))


def _pending(session) -> list[tuple[str, datetime, datetime]]:
    rows = session.scalars(select(PendingChange).order_by(PendingChange.id))
    return [(p.reason, p.first_seen, p.last_seen) for p in rows]


def test_every_version_records_its_parser_and_a_removal_records_none(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER, OTHER], T0, parser="a" * 64)
        _record(s, [replace(ANSWER, answer_text="Changed.")], T0 + timedelta(hours=1), parser="b" * 64)
        record_gone(s, url=URL, observed_at=T1)
    with sessions() as s:
        assert [(v.question.uin, v.status, v.parser) for v in _versions(s)] == [
            ("HL2472", "present", "a" * 64),
            ("HL2473", "present", "a" * 64),
            ("HL2472", "present", "b" * 64),
            ("HL2472", "removed", None),
            ("HL2473", "removed", None),
        ]


def test_a_page_that_drops_answers_and_does_not_read_as_its_post_records_nothing(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER, OTHER], T0)
    with sessions.begin() as s:
        outcome = _record(s, [], T1, reads_as_post=False, etag="challenge")
    assert outcome.extraction_failed and outcome.stored_before == 2
    assert (outcome.removed, outcome.pending, outcome.changed_versions) == (0, 0, 0)
    with sessions() as s:
        assert len(_versions(s)) == 2 and _pending(s) == []
        assert load_validators(s)[URL].etag == "e1"  # the challenge page's validators are not kept


def test_a_missing_answer_waits_a_day_for_a_second_sighting_before_it_is_removed(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER, OTHER], T0)
    with sessions.begin() as s:
        first = _record(s, [ANSWER], T1)
    assert (first.removed, first.pending, first.unchanged) == (0, 1, 1)
    with sessions() as s:
        assert len(_versions(s)) == 2
        assert _pending(s) == [(PendingReason.MISSING, T1, T1)]
        assert URL not in load_validators(s)  # a 304 must not hide the confirmation
    with sessions.begin() as s:
        again = _record(s, [ANSWER], T1 + timedelta(hours=23))  # not yet a day after
    assert (again.removed, again.pending) == (0, 1)
    with sessions() as s:
        assert _pending(s) == [(PendingReason.MISSING, T1, T1 + timedelta(hours=23))]
    with sessions.begin() as s:
        confirmed = _record(s, [ANSWER], T1 + timedelta(days=1))
    assert (confirmed.removed, confirmed.pending) == (1, 0)
    with sessions() as s:
        source_id = _versions(s)[0].source_id
        statuses = {v.question.uin: v.status for v in latest_versions(s, source_id).values()}
        assert statuses == {"HL2472": VersionStatus.PRESENT, "HL2473": VersionStatus.REMOVED}
        assert _pending(s) == []
        assert load_validators(s)[URL].etag == "e1"


def test_a_missing_answer_that_comes_back_is_no_change_at_all(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER, OTHER], T0)
        _record(s, [ANSWER], T1)
    with sessions.begin() as s:
        back = _record(s, [ANSWER, OTHER], T1 + timedelta(days=2))
    assert (back.removed, back.pending, back.unchanged, back.changed_versions) == (0, 0, 2, 0)
    with sessions() as s:
        assert len(_versions(s)) == 2 and _pending(s) == []


def test_an_official_text_gone_empty_waits_a_day_and_is_undone_when_the_text_returns(sessions):
    record = replace(ANSWER, api_id=1)
    emptied = replace(record, answer_text="")
    with sessions.begin() as s:
        _record(s, [record], T0, kind=SourceKind.API, url=API_URL)
    with sessions.begin() as s:
        first = _record(s, [emptied], T1, kind=SourceKind.API, url=API_URL)
    assert (first.changed_versions, first.pending) == (0, 1)
    with sessions() as s:
        assert len(_versions(s)) == 1 and _pending(s) == [(PendingReason.EMPTIED, T1, T1)]
    with sessions.begin() as s:
        back = _record(s, [record], T1 + timedelta(hours=5), kind=SourceKind.API, url=API_URL)
    assert (back.changed_versions, back.pending, back.unchanged) == (0, 0, 1)
    with sessions() as s:
        assert len(_versions(s)) == 1 and _pending(s) == []
    with sessions.begin() as s:
        _record(s, [emptied], T1 + timedelta(days=1), kind=SourceKind.API, url=API_URL)
        confirmed = _record(s, [emptied], T1 + timedelta(days=2), kind=SourceKind.API, url=API_URL)
    assert (confirmed.changed_versions, confirmed.pending) == (1, 0)
    with sessions() as s:
        assert [v.answer_text for v in _versions(s)] == [ANSWER.answer_text, ""]
        assert _pending(s) == []


def test_a_withdrawn_question_losing_its_text_is_stored_at_once(sessions):
    record = replace(ANSWER, api_id=1)
    with sessions.begin() as s:
        _record(s, [record], T0, kind=SourceKind.API, url=API_URL)
        outcome = _record(
            s, [replace(record, answer_text="", is_withdrawn=True)], T1, kind=SourceKind.API, url=API_URL
        )
    assert (outcome.changed_versions, outcome.pending) == (1, 0)


def test_a_404_removes_at_once_and_clears_what_was_waiting(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER, OTHER], T0)
        _record(s, [ANSWER], T1)
        assert record_gone(s, url=URL, observed_at=T1 + timedelta(hours=1)) == 2
    with sessions() as s:
        assert _pending(s) == []
        assert [v.status for v in _versions(s)][-2:] == [VersionStatus.REMOVED] * 2


def test_the_urls_of_sources_that_stored_a_version_are_listed_by_kind(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER], T0)
        _record(s, [], T0, url="https://blog.test/news/")  # a post without answers: no version
        _record(s, [replace(ANSWER, api_id=1)], T0, kind=SourceKind.API, url=API_URL)
    with sessions() as s:
        assert load_source_urls(s, SourceKind.BLOG) == [URL]
        assert load_source_urls(s, SourceKind.API) == [API_URL]
