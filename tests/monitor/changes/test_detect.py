"""Change detection: typed events from version pairs, idempotent, furniture-blind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select

from monitor.changes.detect import detect_changes
from monitor.changes.diff import render_diff_text, word_diff
from monitor.queries.views import change_events
from storage.models import ChangeEvent
from storage.record import record_gone, record_page
from storage.terms import ChangeKind
from tests.support.helpers import ANSWER, URL

T = [datetime(2026, 11, d, 9, 0) for d in range(1, 6)]


def _crawl(sessions, answers, at, url=URL):
    with sessions.begin() as s:
        record_page(s, source_kind="blog", url=url, answers=answers, observed_at=at)
    with sessions.begin() as s:
        return detect_changes(s, now=at)


def _kinds(sessions) -> list[tuple[str, str | None]]:
    with sessions() as s:
        return [(e.kind, e.field) for e in change_events(s)]


def test_a_first_sighting_is_new_and_a_recrawl_says_nothing(sessions):
    assert _crawl(sessions, [ANSWER], T[0]) == 1
    assert _crawl(sessions, [ANSWER], T[1]) == 0
    assert _kinds(sessions) == [("new", None)]


def test_each_field_change_is_its_own_typed_event(sessions):
    _crawl(sessions, [ANSWER], T[0])
    changed = replace(
        ANSWER,
        answer_text="I will be meeting the Commissioner next week.",
        question_text=ANSWER.question_text + " And when?",
        answering_member="Lord Sharpe of Epsom",
        answering_body="Cabinet Office",
        date_answered=date(2021, 9, 22),
        answered_at=datetime(2021, 9, 22, 10, 0),
    )
    _crawl(sessions, [changed], T[1])
    assert sorted(_kinds(sessions)[1:]) == sorted(
        [
            ("answer_text_changed", "answer_text"),
            ("question_text_changed", "question_text"),
            ("answering_member_changed", "answering_member"),
            ("answering_body_changed", "answering_body"),
            ("answer_date_changed", "date_answered"),
        ]
    )


def test_a_moved_time_of_answer_on_the_same_day_is_a_date_change(sessions):
    _crawl(sessions, [ANSWER], T[0])
    _crawl(sessions, [replace(ANSWER, answered_at=datetime(2021, 9, 21, 17, 2))], T[1])
    with sessions() as s:
        event = list(change_events(s))[-1]
    assert (event.kind, event.field, event.old, event.new) == (
        "answer_date_changed",
        "answered_at",
        "2021-09-21T15:56",
        "2021-09-21T17:02",
    )


def test_text_changes_carry_a_word_level_diff(sessions):
    _crawl(sessions, [ANSWER], T[0])
    _crawl(sessions, [replace(ANSWER, answer_text="I will be meeting the Commissioner today.")], T[1])
    with sessions() as s:
        event = s.scalars(select(ChangeEvent).where(ChangeEvent.kind == "answer_text_changed")).one()
    assert render_diff_text(event.diff) == "I will be meeting the Commissioner [-shortly.-] {+today.+}"


def test_a_vanished_source_is_source_removed_and_its_return_is_quiet(sessions):
    _crawl(sessions, [ANSWER], T[0])
    with sessions.begin() as s:
        record_gone(s, url=URL, observed_at=T[1])
    with sessions.begin() as s:
        detect_changes(s, now=T[1])
    _crawl(sessions, [ANSWER], T[2])
    assert _kinds(sessions) == [("new", None), ("source_removed", None)]


def test_detection_is_idempotent(sessions):
    _crawl(sessions, [ANSWER], T[0])
    with sessions.begin() as s:
        assert detect_changes(s) == 0
    assert len(_kinds(sessions)) == 1


def test_a_second_source_of_a_known_question_is_not_new(sessions):
    _crawl(sessions, [ANSWER], T[0])
    _crawl(sessions, [ANSWER], T[1], url="https://mirror.example/hl2472/")
    assert _kinds(sessions) == [("new", None)]


def test_official_state_changes_have_their_own_kinds(sessions):
    holding = replace(ANSWER, is_holding=True, answer_text="I shall reply as soon as possible.")
    _crawl(sessions, [holding], T[0])
    _crawl(sessions, [replace(ANSWER, grouped_with=("HL2473",))], T[1])
    _crawl(
        sessions,
        [
            replace(
                ANSWER,
                grouped_with=("HL2473",),
                is_correction=True,
                date_corrected=date(2021, 10, 1),
                answer_text="Corrected.",
            )
        ],
        T[2],
    )
    _crawl(
        sessions,
        [
            replace(
                ANSWER,
                grouped_with=("HL2473",),
                is_correction=True,
                date_corrected=date(2021, 10, 1),
                answer_text="Corrected.",
                is_withdrawn=True,
            )
        ],
        T[3],
    )
    kinds = [k for k, _ in _kinds(sessions)]
    assert kinds[0] == "new"
    assert {"holding_replaced", "regrouped", "corrected", "withdrawn"} <= set(kinds)
    assert "answer_text_changed" not in kinds  # a replaced holding answer or correction says so
    assert set(kinds) <= set(ChangeKind)


def test_word_diff_keeps_whitespace_and_marks_only_what_changed():
    assert word_diff("a b c", "a x c") == [["=", "a "], ["-", "b"], ["+", "x"], ["=", " c"]]
    assert word_diff(None, "new") == [["+", "new"]]
    assert word_diff("same", "same") == [["=", "same"]]


def test_text_diff_rendering_cuts_long_unchanged_runs_but_keeps_the_change():
    old = "word " * 100 + "old ending."
    rendered = render_diff_text(word_diff(old, "word " * 100 + "new ending."))
    assert rendered.startswith("…") and rendered.endswith("[-old-] {+new+} ending.")
    assert len(rendered) < 120
    assert render_diff_text(word_diff(old, old + " More."), context=None).startswith("word word")


def _record_as(sessions, kind, url, answer, at):
    with sessions.begin() as s:
        record_page(s, source_kind=kind, url=url, answers=[answer], observed_at=at)
    with sessions.begin() as s:
        detect_changes(s, now=at)


def test_a_blog_copy_that_disagrees_with_the_official_record_is_reported_once(sessions):
    official = replace(
        ANSWER, api_id=1, answered_at=None, answer_text="The Commissioner was met on 1 October."
    )
    _record_as(sessions, "blog", URL, ANSWER, T[0])
    _record_as(sessions, "api", "https://api.example/questions/1", official, T[1])
    _record_as(sessions, "api", "https://api.example/questions/1", official, T[2])  # unchanged
    with sessions() as s:
        events = [e for e in change_events(s) if e.kind == "sources_disagree"]
    assert [(e.field, e.old, e.new, e.source_url) for e in events] == [
        ("answer_text", official.answer_text, ANSWER.answer_text, URL)
    ]
    assert events[0].detail == {"official_url": "https://api.example/questions/1", "official_kind": "api"}


def test_formatting_differences_between_copies_are_not_a_disagreement(sessions):
    reformatted = replace(
        ANSWER, api_id=1, answered_at=None, answer_text="I will be meeting the  commissioner\n\nshortly"
    )
    _record_as(sessions, "blog", URL, ANSWER, T[0])
    _record_as(sessions, "api", "https://api.example/questions/1", reformatted, T[1])
    assert [k for k, _ in _kinds(sessions)] == ["new"]


def test_a_correction_event_names_the_date_and_the_correcting_minister(sessions):
    official = replace(ANSWER, api_id=1)
    _record_as(sessions, "api", "https://api.example/questions/1", official, T[0])
    corrected = replace(
        official,
        is_correction=True,
        date_corrected=date(2021, 10, 1),
        correcting_member="Lord Sharpe of Epsom",
        answer_text="I met the Commissioner on 28 September.",
        original_answer_text=ANSWER.answer_text,
    )
    _record_as(sessions, "api", "https://api.example/questions/1", corrected, T[1])
    with sessions() as s:
        event = next(e for e in change_events(s) if e.kind == "corrected")
    assert (event.old, event.new) == (ANSWER.answer_text, corrected.answer_text)
    assert event.detail == {"date_corrected": "2021-10-01", "correcting_member": "Lord Sharpe of Epsom"}


def test_a_question_first_seen_with_a_holding_answer_says_so(sessions):
    _record_as(
        sessions,
        "api",
        "https://api.example/questions/1",
        replace(ANSWER, api_id=1, is_holding=True, answer_text="I shall reply shortly."),
        T[0],
    )
    assert [k for k, _ in _kinds(sessions)] == ["new", "holding_answer"]


def test_versions_read_in_small_rounds_give_the_same_events_as_one_round(sessions, monkeypatch):
    # Stored with no detection in between: a first crawl, an edit, an official copy, a removal.
    official = replace(ANSWER, api_id=1, answered_at=None, answer_text="The Commissioner was met.")
    other = replace(ANSWER, uin="HL2473")
    steps = [
        ("blog", URL, [ANSWER, other]),
        ("blog", URL, [replace(ANSWER, answer_text="Met on 1 October."), other]),
        ("api", "https://api.example/questions/1", [official]),
        ("blog", URL, [other]),
        # Missing from a page that still reads as its post: a removal once a day later confirms it.
        ("blog", URL, [other]),
    ]
    for at, (kind, url, answers) in zip(T, steps, strict=False):
        with sessions.begin() as s:
            record_page(s, source_kind=kind, url=url, answers=answers, observed_at=at, complete=True)
    monkeypatch.setattr("monitor.changes.detect.DETECT_BATCH", 1)
    with sessions.begin() as s:
        found = detect_changes(s, now=T[4])
    with sessions() as s:
        events = sorted((e.uin, e.kind, e.field) for e in change_events(s))
    assert found == len(events)
    assert events == [
        ("HL2472", "answer_text_changed", "answer_text"),
        ("HL2472", "new", None),
        ("HL2472", "source_removed", None),
        ("HL2472", "sources_disagree", "answer_text"),
        ("HL2473", "new", None),
    ]
    with sessions.begin() as s:
        assert detect_changes(s, now=T[4]) == 0
