"""The change rules are pure: two versions in (no session, no database), typed changes out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from monitor.changes.rules import Change, compare_copies, detect_version_changes, first_sighting_changes
from storage.models import Version
from storage.terms import ChangeKind


def version(**fields: Any) -> Version:
    """A version that was never stored: the rules need only its fields."""
    base: dict[str, Any] = {
        "status": "present",
        "question_text": "To ask His Majesty's Government when they will meet the Commissioner.",
        "answer_text": "I met the Commissioner last week.",
        "answering_member": "Lord Hanson of Flint",
        "answering_body": "Home Office",
        "date_answered": date(2021, 9, 21),
        "answered_at": datetime(2021, 9, 21, 14, 30),
        "is_holding": False,
        "is_correction": False,
        "is_withdrawn": False,
        "grouped_with": [],
    }
    return Version(**{**base, **fields})


def test_a_removed_copy_is_one_source_removed_change():
    assert detect_version_changes(version(), version(status="removed")) == [
        Change(ChangeKind.SOURCE_REMOVED, "", "present", "removed")
    ]


def test_a_replaced_holding_answer_says_so_and_not_that_the_text_changed():
    changes = detect_version_changes(version(is_holding=True), version(answer_text="A full answer."))
    assert [(c.kind, c.field) for c in changes] == [("holding_replaced", "answer_text")]


def test_a_moved_answer_time_is_a_date_change_to_the_minute():
    [change] = detect_version_changes(version(), version(answered_at=datetime(2021, 9, 21, 16, 5, 59)))
    assert change == Change(
        ChangeKind.ANSWER_DATE_CHANGED, "answered_at", "2021-09-21T14:30", "2021-09-21T16:05"
    )


def test_a_first_sighting_of_a_correction_carries_the_original_and_who_corrected_it():
    seen = version(
        is_correction=True,
        original_answer_text="I met the Commissioner last month.",
        date_corrected=date(2021, 10, 1),
        correcting_member="Lord Hanson of Flint",
    )
    assert [c.kind for c in first_sighting_changes(seen)] == ["new", "corrected"]
    assert first_sighting_changes(seen)[1].detail == {
        "date_corrected": "2021-10-01",
        "correcting_member": "Lord Hanson of Flint",
    }


def test_a_blog_copy_disagrees_on_words_and_dates_but_not_on_case_or_punctuation():
    official = version()
    assert compare_copies(official, version(answer_text="i met the commissioner, last week")) == []
    changes = compare_copies(official, version(answer_text="I met nobody.", date_answered=date(2021, 9, 22)))
    assert [(c.kind, c.field, c.new) for c in changes] == [
        ("sources_disagree", "answer_text", "I met nobody."),
        ("sources_disagree", "date_answered", "2021-09-22"),
    ]
