"""The read path's typed views: what each holds, and that `as_json()` is the command line's
contract, key for key and in order."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date, datetime

import pytest

from monitor.changes.detect import detect_changes
from monitor.notify.subscriptions import make_filters, matches
from monitor.queries.views import (
    CONTENT_NAMES,
    AttachmentView,
    ChangeView,
    QuestionView,
    SourceRef,
    change_events,
    current_views,
    question_history,
)
from spiders.records import Attachment
from storage.record import CONTENT_FIELDS, record_gone, record_page
from storage.terms import ChangeKind, House, SourceKind, VersionStatus
from tests.support.helpers import ANSWER, URL

API_URL = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1"
SEEN = datetime(2021, 9, 22, 8, 30, 15)
# The contract's order of an exported question's keys.
EXPORT_KEYS = [
    "house",
    "uin",
    "date_tabled",
    "api_id",
    "asking_member",
    "answering_member",
    "answering_body",
    "heading",
    "question_text",
    "answer_text",
    "date_answered",
    "answered_at",
    "is_holding",
    "date_holding_answer",
    "is_correction",
    "date_corrected",
    "is_withdrawn",
    "grouped_with",
    "correcting_member",
    "original_answer_text",
    "attachments",
    "date_for_answer",
    "is_named_day",
    "member_has_interest",
    "comparable_answer_text",
    "due_date",
    "answered_on_time",
    "working_days_to_answer",
    "status",
    "non_answer",
    "sources",
    "version_count",
    "removed",
    "question_id",
    "follows",
    "followed_by",
    "unmatched",
    "unmatched_reason",
]


def store(sessions, *pages, at=SEEN):  # type: ignore[no-untyped-def]
    """Record (kind, url, answer) pages and detect their changes."""
    for kind, url, answer in pages:
        with sessions.begin() as session:
            record_page(session, source_kind=kind, url=url, answers=[answer], observed_at=at)
    with sessions.begin() as session:
        detect_changes(session, now=at)


def test_a_view_has_every_content_field_of_a_version():
    assert set(CONTENT_NAMES) == set(CONTENT_FIELDS) and len(CONTENT_NAMES) == len(CONTENT_FIELDS)


def test_the_current_view_merges_the_best_copy_first_and_prints_the_contract(sessions):
    official = replace(
        ANSWER,
        api_id=1,
        answered_at=None,
        heading="Surveillance: Hikvision",
        grouped_with=("HL2473",),
        attachments=(Attachment("Table", "https://qna.files.parliament.uk/t.xlsx", "Excel", 40634),),
    )
    store(
        sessions, ("blog", URL, replace(ANSWER, answer_text="A blog's wording.")), ("api", API_URL, official)
    )
    with sessions() as session:
        [view] = list(current_views(session))
    assert isinstance(view, QuestionView)
    assert (view.house, view.date_tabled, view.answered_at) == (
        House.LORDS,
        date(2021, 9, 7),
        ANSWER.answered_at,
    )
    assert view.answer_text == ANSWER.answer_text  # the official copy wins; the blog fills the time
    assert view.sources == (SourceRef(SourceKind.API, API_URL), SourceRef(SourceKind.BLOG, URL))
    assert view.attachments == (
        AttachmentView("Table", "https://qna.files.parliament.uk/t.xlsx", "Excel", 40634),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.uin = "HL1"  # type: ignore[misc]
    printed = view.as_json()
    assert list(printed) == EXPORT_KEYS
    assert printed == {
        "house": "Lords",
        "uin": "HL2472",
        "date_tabled": "2021-09-07",
        "api_id": 1,  # learnt from the official record
        "asking_member": None,
        "answering_member": "Baroness Williams of Trafford",
        "answering_body": "Home Office",
        "heading": "Surveillance: Hikvision",
        "question_text": ANSWER.question_text,
        "answer_text": ANSWER.answer_text,
        "date_answered": "2021-09-21",
        "answered_at": "2021-09-21T15:56",
        "is_holding": False,
        "date_holding_answer": None,
        "is_correction": False,
        "date_corrected": None,
        "is_withdrawn": False,
        "grouped_with": ["HL2473"],
        "correcting_member": None,
        "original_answer_text": None,
        "attachments": [
            {
                "title": "Table",
                "url": "https://qna.files.parliament.uk/t.xlsx",
                "file_type": "Excel",
                "size_bytes": 40634,
            }
        ],
        "date_for_answer": None,
        "is_named_day": None,
        "member_has_interest": None,
        "comparable_answer_text": None,
        # No due date in the record: a Lords question is due 10 working days after tabling.
        "due_date": "2021-09-21",
        "answered_on_time": True,
        "working_days_to_answer": 10,
        "status": "answered",
        "non_answer": None,
        "sources": [{"kind": "api", "url": API_URL}, {"kind": "blog", "url": URL}],
        "version_count": 2,
        "removed": False,
        "question_id": view.question_id,
        "follows": [],
        "followed_by": [],
        "unmatched": False,
        "unmatched_reason": None,
    }


def test_change_events_are_typed_and_print_the_contract(sessions):
    store(sessions, ("blog", URL, ANSWER))
    store(
        sessions,
        ("blog", URL, replace(ANSWER, answer_text="I have met the Commissioner.")),
        at=SEEN.replace(day=23),
    )
    with sessions() as session:
        events = list(change_events(session))
    assert [event.kind for event in events] == [ChangeKind.NEW, ChangeKind.ANSWER_TEXT_CHANGED]
    changed = events[1]
    assert isinstance(changed, ChangeView) and changed.detected_at == SEEN.replace(day=23)
    assert changed.diff is not None and ("+", "have met the Commissioner.") in changed.diff
    printed = changed.as_json()
    assert list(printed) == [
        "id",
        "question_id",
        "house",
        "uin",
        "date_tabled",
        "kind",
        "field",
        "old",
        "new",
        "diff",
        "detail",
        "source_kind",
        "source_url",
        "detected_at",
        "hold",
    ]
    assert printed["detected_at"] == "2021-09-23T08:30:15Z" and printed["date_tabled"] == "2021-09-07"
    assert printed["kind"] == "answer_text_changed" and printed["field"] == "answer_text"
    assert printed["diff"] == [list(pair) for pair in changed.diff]
    assert events[0].as_json()["field"] is None and events[0].as_json()["diff"] is None


def test_a_question_history_lists_each_version_with_its_source(sessions):
    store(sessions, ("blog", URL, ANSWER))
    with sessions.begin() as session:
        record_gone(session, url=URL, observed_at=SEEN.replace(day=24))  # the post answered 404
    with sessions() as session:
        [history] = question_history(session, "hl 2472")
    assert [(v.seq, v.status) for v in history.versions] == [
        (1, VersionStatus.PRESENT),
        (2, VersionStatus.REMOVED),
    ]
    printed = history.as_json()
    assert list(printed) == ["house", "uin", "date_tabled", "follows", "followed_by", "versions"]
    first, removed = printed["versions"]
    assert list(first) == [
        "seq",
        "source_kind",
        "source_url",
        "observed_at",
        "status",
        "content_hash",
        *EXPORT_KEYS[4:25],
        "parser",
        "rebaseline",
    ]
    assert (first["observed_at"], first["answered_at"], first["grouped_with"]) == (
        "2021-09-22T08:30:15Z",
        "2021-09-21T15:56",
        [],
    )
    assert (removed["status"], removed["answer_text"], removed["attachments"]) == ("removed", None, None)


def test_a_change_matches_filters_on_its_own_fields_and_its_questions_view(sessions):
    store(sessions, ("blog", URL, ANSWER))
    with sessions() as session:
        [event] = list(change_events(session))
        [view] = list(current_views(session))
    assert matches(make_filters(house="Lords", uin="hl2472", kinds=["new"]), event, view)
    assert matches(make_filters(department="home", member="williams", keyword="commissioner"), event, view)
    assert not matches(make_filters(house="Commons"), event, view)
    assert not matches(make_filters(kinds=["corrected"]), event, view)
    # Without a current view, what only the view says matches nothing; the event's fields still do.
    assert matches(make_filters(house="Lords"), event, None)
    assert not matches(make_filters(department="home"), event, None)
    assert not matches(make_filters(keyword="commissioner"), event, None)
