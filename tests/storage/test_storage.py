"""Storage: append-only versions, identity by (house, uin, date_tabled), bodies, validators,
migrations — on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, inspect, select

from storage.db import create_db_engine, upgrade
from storage.models import Body, Question, Version
from storage.record import (
    ListMark,
    PageMark,
    Validators,
    content_hash,
    latest_versions,
    load_body,
    load_fingerprints,
    load_page_fingerprints,
    load_validators,
    record_gone,
    record_page,
    refresh_validators,
    remember_fingerprint,
    remember_page_fingerprint,
)
from tests.support.helpers import ANSWER, URL

T0 = datetime(2026, 11, 1, 9, 0)
T1 = datetime(2026, 11, 2, 9, 0)
T2 = datetime(2026, 11, 3, 9, 0)


def _record(session, answers, at, body=b"<html>v</html>", url=URL, etag=None, source_date=None):
    return record_page(
        session,
        source_kind="blog",
        url=url,
        answers=answers,
        observed_at=at,
        body=body,
        content_type="text/html",
        etag=etag,
        last_modified=None,
        validator_url=url,
        source_date=source_date,
    )


def _versions(session) -> list[Version]:
    return list(session.scalars(select(Version).order_by(Version.id)))


def test_a_recrawl_of_unchanged_content_writes_no_version(sessions):
    with sessions.begin() as s:
        first = _record(s, [ANSWER], T0)
    with sessions.begin() as s:
        # A different body (furniture) with the same answer content is not a new version.
        second = _record(s, [ANSWER], T1, body=b"<html>other footer</html>")
    assert (first.first_versions, second.unchanged, second.changed_versions) == (1, 1, 0)
    with sessions() as s:
        assert len(_versions(s)) == 1
        assert s.scalar(select(func.count()).select_from(Body)) == 1


def test_versions_are_appended_never_updated_and_a_b_a_is_two_changes(sessions):
    edited = replace(ANSWER, answer_text="I met the Commissioner on 1 October.")
    for at, answer in ((T0, ANSWER), (T1, edited), (T2, ANSWER)):
        with sessions.begin() as s:
            _record(s, [answer], at, body=answer.answer_text.encode())
    with sessions() as s:
        versions = _versions(s)
        assert [v.seq for v in versions] == [1, 2, 3]
        assert [v.answer_text for v in versions] == [
            ANSWER.answer_text,
            edited.answer_text,
            ANSWER.answer_text,
        ]
        assert versions[0].observed_at == T0 and versions[1].observed_at == T1
        assert versions[0].content_hash == versions[2].content_hash != versions[1].content_hash


def test_same_uin_in_another_session_is_another_question(sessions):
    next_session = replace(ANSWER, date_tabled=date(2023, 11, 20), answer_text="Another answer.")
    with sessions.begin() as s:
        _record(s, [ANSWER, next_session], T0)
    with sessions() as s:
        keys = s.execute(select(Question.uin, Question.date_tabled).order_by(Question.date_tabled)).all()
        assert keys == [("HL2472", date(2021, 9, 7)), ("HL2472", date(2023, 11, 20))]


def test_undated_copy_joins_the_question_tabled_before_its_answer(sessions):
    undated = replace(ANSWER, date_tabled=None, date_answered=None, answered_at=None)
    with sessions.begin() as s:
        _record(s, [ANSWER], T0)
        _record(s, [undated], T0, url="https://blog.example/hansard-paste/")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 1


def test_a_gone_page_keeps_its_last_version_and_adds_a_removal(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER], T0, etag='"abc"')
    with sessions.begin() as s:
        assert record_gone(s, url=URL, observed_at=T1) == 1
    with sessions.begin() as s:
        assert record_gone(s, url=URL, observed_at=T2) == 0  # gone stays gone: nothing new
    with sessions() as s:
        versions = _versions(s)
        assert [(v.seq, v.status) for v in versions] == [(1, "present"), (2, "removed")]
        assert versions[0].answer_text == ANSWER.answer_text
        assert load_validators(s) == {}


def test_an_answer_dropped_from_a_page_is_removed_from_that_source(sessions):
    other = replace(ANSWER, uin="HL2473", answer_text="Second answer.")
    with sessions.begin() as s:
        _record(s, [ANSWER, other], T0)
    with sessions.begin() as s:
        first_sighting = _record(s, [ANSWER], T1)
    assert (first_sighting.removed, first_sighting.pending) == (0, 1)  # confirmed a day later
    with sessions.begin() as s:
        outcome = _record(s, [ANSWER], T1 + timedelta(days=1))
    assert outcome.removed == 1
    with sessions() as s:
        source_id = _versions(s)[0].source_id
        statuses = {v.question.uin: v.status for v in latest_versions(s, source_id).values()}
        assert statuses == {"HL2472": "present", "HL2473": "removed"}


def test_raw_bodies_are_kept_compressed_and_addressed_by_content(sessions):
    body = b"<html>" + b"answer text " * 1000 + b"</html>"
    with sessions.begin() as s:
        _record(s, [ANSWER], T0, body=body)
    with sessions() as s:
        version = _versions(s)[0]
        stored = s.get(Body, version.body_sha256)
        assert stored is not None and len(stored.data) < len(body) // 10
        assert load_body(s, version.body_sha256) == body


def test_validators_are_kept_per_url_for_the_next_crawl(sessions):
    with sessions.begin() as s:
        record_page(
            s,
            source_kind="blog",
            url=URL,
            answers=[],
            observed_at=T0,
            etag='"v1"',
            last_modified="Mon, 01 Nov 2026 09:00:00 GMT",
            validator_url=URL,
        )
    with sessions.begin() as s:
        record_page(
            s, source_kind="blog", url=URL, answers=[], observed_at=T1, etag='"v2"', validator_url=URL
        )
    with sessions() as s:
        assert load_validators(s) == {URL: Validators('"v2"', None)}


def test_validators_of_many_pages_are_updated_added_and_forgotten_together(sessions):
    a, b, c = (f"https://blog.example/{name}/" for name in "abc")
    with sessions.begin() as s:
        refresh_validators(
            s, [(a, Validators('"a1"', None)), (b, Validators('"b1"', "Mon, 01 Nov 2026 09:00:00 GMT"))], T0
        )
    with sessions.begin() as s:
        # a changes, b stops sending validators, c is new; the last word on a URL counts
        refresh_validators(
            s,
            [
                (a, Validators('"a0"', None)),
                (a, Validators('"a2"', None)),
                (b, Validators(None, None)),
                (c, Validators(None, "x")),
            ],
            T1,
        )
    with sessions() as s:
        assert load_validators(s) == {a: Validators('"a2"', None), c: Validators(None, "x")}


def test_a_page_fingerprint_is_kept_replaced_and_forgotten_with_the_page(sessions):
    with sessions.begin() as s:
        _record(s, [ANSWER], T0)
        remember_page_fingerprint(s, URL, "f1", 1, T0)
    with sessions.begin() as s:
        remember_page_fingerprint(s, URL, "f2", 2, T1)
    with sessions() as s:
        assert load_page_fingerprints(s) == {URL: PageMark("f2", 2)}
    with sessions.begin() as s:
        record_gone(s, url=URL, observed_at=T2)
    with sessions() as s:
        assert load_page_fingerprints(s) == {}
    with sessions.begin() as s:
        remember_page_fingerprint(s, URL, "f3", 1, T2)
        remember_page_fingerprint(s, URL, None, 1, T2)  # an unstable page keeps none
    with sessions() as s:
        assert load_page_fingerprints(s) == {}


def test_an_api_list_fingerprint_is_kept_and_replaced_with_when_its_detail_was_read(sessions):
    with sessions.begin() as s:
        remember_fingerprint(s, 77, "l1", T0)
    with sessions.begin() as s:
        remember_fingerprint(s, 77, "l2", T1)
        remember_fingerprint(s, 78, "m1", T1)
    with sessions() as s:
        assert load_fingerprints(s) == {77: ListMark("l2", T1), 78: ListMark("m1", T1)}


def test_a_failed_page_transaction_stores_nothing(sessions):
    try:
        with sessions.begin() as s:
            _record(s, [ANSWER], T0)
            raise RuntimeError("crash mid-page")
    except RuntimeError:
        pass
    with sessions() as s:
        assert _versions(s) == []
        assert s.scalar(select(func.count()).select_from(Question)) == 0


def test_content_hash_ignores_nothing_of_the_content_and_only_content():
    assert content_hash(ANSWER) == content_hash(replace(ANSWER))
    assert content_hash(ANSWER) != content_hash(replace(ANSWER, answered_at=datetime(2021, 9, 21, 15, 57)))
    assert content_hash(ANSWER) != content_hash(replace(ANSWER, grouped_with=("HL2473",)))
    # Identity is not content: the same content under another key hashes the same.
    assert content_hash(ANSWER) == content_hash(replace(ANSWER, uin="HL9999"))


def test_migrations_build_the_schema_and_rerun_as_a_no_op(db_url):
    engine = create_db_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "questions",
        "sources",
        "versions",
        "bodies",
        "change_events",
        "http_validators",
        "page_fingerprints",
        "alembic_version",
    } <= tables
    # uq_version_seq's own index serves chain walks; no second index repeats its columns
    indexes = inspect(engine).get_indexes("versions")
    chain = [i["name"] for i in indexes if tuple(i["column_names"]) == ("question_id", "source_id", "seq")]
    assert chain in ([], ["uq_version_seq"])  # PostgreSQL lists the constraint's own index
    engine.dispose()


def test_an_undated_blog_copy_and_the_dated_official_record_meet_in_either_order(sessions):
    official = replace(ANSWER, api_id=77, answered_at=None)
    undated = replace(ANSWER, date_tabled=None, date_answered=None, answered_at=None)
    # Blog first: the copy waits under an unknown tabled date, then the official record adopts it
    # because the post's date fits after the tabled date.
    with sessions.begin() as s:
        _record(s, [undated], T0, url="https://blog.example/hansard-paste/", source_date=date(2021, 9, 22))
    with sessions.begin() as s:
        record_page(s, source_kind="api", url="https://api.example/q/77", answers=[official], observed_at=T1)
    with sessions() as s:
        [question] = s.scalars(select(Question)).all()
        assert (question.date_tabled, question.api_id) == (ANSWER.date_tabled, 77)
    # Official first: a later undated copy joins it by house, UIN and the post's date.
    other_official = replace(official, uin="HL2999", api_id=78)
    other_copy = replace(undated, uin="HL2999")
    with sessions.begin() as s:
        record_page(
            s, source_kind="api", url="https://api.example/q/78", answers=[other_official], observed_at=T1
        )
        _record(s, [other_copy], T2, url="https://blog.example/paste-2/", source_date=date(2021, 9, 30))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 2


def test_an_undated_copy_is_not_matched_to_a_question_from_another_session(sessions):
    old_session = replace(ANSWER, date_tabled=date(2019, 1, 10), date_answered=date(2019, 1, 20))
    undated = replace(ANSWER, date_tabled=None, date_answered=date(2021, 9, 21))
    with sessions.begin() as s:
        _record(s, [old_session], T0)
        _record(s, [undated], T1, url="https://blog.example/hansard-paste/")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 2


def test_the_schema_head_constant_is_alembics_head():
    from storage.db import SCHEMA_HEAD, schema_head

    assert schema_head() == SCHEMA_HEAD
