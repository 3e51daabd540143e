"""The change rules: what changed between two versions of one source's copy of a question, and
where a blog copy disagrees with the official record. Pure: versions in, typed `Change`s out; no
session, no I/O (`detect` reads the versions and stores the events).

A new change kind is a member of `storage.terms.ChangeKind` and a rule here, added to `RULES`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from monitor.changes.lifecycle import answered_on_time, due_date, working_days_between
from storage.terms import ChangeKind, VersionStatus, minute_text

if TYPE_CHECKING:  # the rules read a version's fields; they never touch a session
    from storage.models import Version

# Plain field changes: field -> kind. Text fields also carry a word diff.
FIELD_KINDS: dict[str, ChangeKind] = {
    "question_text": ChangeKind.QUESTION_TEXT_CHANGED,
    "answering_member": ChangeKind.ANSWERING_MEMBER_CHANGED,
    "answering_body": ChangeKind.ANSWERING_BODY_CHANGED,
    "date_answered": ChangeKind.ANSWER_DATE_CHANGED,
}
TEXT_FIELDS = {"question_text", "answer_text"}
# The fields on which a blog copy is compared with the official record, word for word.
COMPARED_TEXT_FIELDS = ("answer_text", "question_text")
_WORDS = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Change:
    """One typed change between two versions of one source's copy of a question."""

    kind: ChangeKind
    field: str
    old: str | None
    new: str | None
    detail: dict[str, Any] | None = None


def detect_version_changes(previous: Version, current: Version) -> list[Change]:
    """Return the changes from one version to the next of the same source."""
    if current.status == VersionStatus.REMOVED:
        return [Change(ChangeKind.SOURCE_REMOVED, "", VersionStatus.PRESENT, VersionStatus.REMOVED)]
    changes: list[Change] = []
    for rule in RULES:
        changes.extend(rule(previous, current))
    return changes


def _answered_late(old: Version, new: Version) -> Iterator[Change]:
    """The substantive answer arrived after it was due (monitor.changes.lifecycle's method)."""
    if new.date_answered is None or new.is_holding or not new.answer_text:
        return
    if old.date_answered is not None and not old.is_holding:
        return  # it had its answer already
    question = getattr(new, "question", None)  # a stored version's question (house, tabled date)
    if question is None or question.date_tabled is None:
        return
    on_time = answered_on_time(
        question.house, question.date_tabled, new.date_answered, new.date_for_answer, new.is_named_day
    )
    if on_time is False:
        due = due_date(question.house, question.date_tabled, new.date_for_answer)
        days = working_days_between(question.date_tabled, new.date_answered)
        detail = {"due_date": _text(due), "working_days_to_answer": days}
        yield Change(ChangeKind.ANSWERED_LATE, "date_answered", _text(due), _text(new.date_answered), detail)


def _state_changes(old: Version, new: Version) -> Iterator[Change]:
    if not old.is_holding and new.is_holding:
        yield Change(ChangeKind.HOLDING_ANSWER, "is_holding", "false", "true")
    if old.is_holding and not new.is_holding and new.answer_text:
        yield Change(ChangeKind.HOLDING_REPLACED, "answer_text", old.answer_text, new.answer_text)
    if (not old.is_correction and new.is_correction) or (
        new.date_corrected and old.date_corrected != new.date_corrected
    ):
        yield Change(ChangeKind.CORRECTED, "answer_text", old.answer_text, new.answer_text, _correction(new))
    if not old.is_withdrawn and new.is_withdrawn:
        yield Change(ChangeKind.WITHDRAWN, "is_withdrawn", "false", "true")
    if sorted(old.grouped_with or []) != sorted(new.grouped_with or []):
        yield Change(
            ChangeKind.REGROUPED,
            "grouped_with",
            ", ".join(old.grouped_with or []),
            ", ".join(new.grouped_with or []),
        )


def _answer_changes(old: Version, new: Version) -> Iterator[Change]:
    if old.is_holding and not new.is_holding:
        return  # the holding answer was replaced: `holding_replaced` says so
    if not old.answer_text and new.answer_text:
        yield Change(ChangeKind.ANSWERED, "answer_text", None, new.answer_text)
    elif old.answer_text != new.answer_text and not (new.is_correction and not old.is_correction):
        yield Change(ChangeKind.ANSWER_TEXT_CHANGED, "answer_text", old.answer_text, new.answer_text)


def _field_changes(old: Version, new: Version) -> Iterator[Change]:
    for field, kind in FIELD_KINDS.items():
        before, after = getattr(old, field), getattr(new, field)
        # A value appearing where there was none (the minister of a first answer) is not a change.
        if before != after and before is not None:
            yield Change(kind, field, _text(before), _text(after))
    if old.date_answered == new.date_answered and old.answered_at != new.answered_at and old.answered_at:
        yield Change(
            ChangeKind.ANSWER_DATE_CHANGED, "answered_at", _text(old.answered_at), _text(new.answered_at)
        )


RULES: tuple[Callable[[Version, Version], Iterator[Change]], ...] = (
    _state_changes,
    _answer_changes,
    _answered_late,
    _field_changes,
)


def first_sighting_changes(version: Version) -> list[Change]:
    """Return the events of a question seen for the first time: `new`, plus the state it is in."""
    changes = [Change(ChangeKind.NEW, "", None, None)]
    if version.is_holding:
        changes.append(Change(ChangeKind.HOLDING_ANSWER, "is_holding", None, "true"))
    if version.is_correction and version.original_answer_text:
        changes.append(
            Change(
                ChangeKind.CORRECTED,
                "answer_text",
                version.original_answer_text,
                version.answer_text,
                _correction(version),
            )
        )
    return changes


def compare_copies(official: Version, copy: Version) -> list[Change]:
    """Return where a blog copy disagrees with the official record beyond formatting."""
    changes = []
    for field in COMPARED_TEXT_FIELDS:
        ours, theirs = getattr(official, field), getattr(copy, field)
        if ours and theirs and _WORDS.findall(ours.lower()) != _WORDS.findall(theirs.lower()):
            changes.append(Change(ChangeKind.SOURCES_DISAGREE, field, ours, theirs))
    if official.date_answered and copy.date_answered and official.date_answered != copy.date_answered:
        changes.append(
            Change(
                ChangeKind.SOURCES_DISAGREE,
                "date_answered",
                _text(official.date_answered),
                _text(copy.date_answered),
            )
        )
    return changes


def _correction(version: Version) -> dict[str, Any]:
    return {"date_corrected": _text(version.date_corrected), "correcting_member": version.correcting_member}


def _text(value: object) -> str | None:
    """A field's value as an event stores it: times to the minute, dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return minute_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
