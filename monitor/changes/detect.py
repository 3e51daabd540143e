"""Detect changes: compare each new version with the one before it and store typed events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.changes.diff import word_diff
from storage.models import ChangeEvent, DetectCursor, Source, Version

KINDS = (
    "new",
    "answered",
    "answer_text_changed",
    "answer_date_changed",
    "question_text_changed",
    "answering_member_changed",
    "answering_body_changed",
    "holding_answer",
    "holding_replaced",
    "corrected",
    "withdrawn",
    "regrouped",
    "source_removed",
    "sources_disagree",
)
# Plain field changes: field -> kind. Text fields also carry a word diff.
FIELD_KINDS = {
    "question_text": "question_text_changed",
    "answering_member": "answering_member_changed",
    "answering_body": "answering_body_changed",
    "date_answered": "answer_date_changed",
}
TEXT_FIELDS = {"question_text", "answer_text"}
_CURSOR = "changes"


@dataclass(frozen=True)
class Change:
    """One typed change between two versions of one source's copy of a question."""

    kind: str
    field: str
    old: str | None
    new: str | None
    detail: dict[str, Any] | None = None


def detect_version_changes(previous: Version, current: Version) -> list[Change]:
    """Return the changes from one version to the next of the same source (pure)."""
    if current.status == "removed":
        return [Change("source_removed", "", "present", "removed")]
    changes: list[Change] = []
    for rule in RULES:
        changes.extend(rule(previous, current))
    return changes


def _state_changes(old: Version, new: Version) -> Iterator[Change]:
    if not old.is_holding and new.is_holding:
        yield Change("holding_answer", "is_holding", "false", "true")
    if old.is_holding and not new.is_holding and new.answer_text:
        yield Change("holding_replaced", "answer_text", old.answer_text, new.answer_text)
    if (not old.is_correction and new.is_correction) or (
        new.date_corrected and old.date_corrected != new.date_corrected
    ):
        yield Change("corrected", "answer_text", old.answer_text, new.answer_text, _correction(new))
    if not old.is_withdrawn and new.is_withdrawn:
        yield Change("withdrawn", "is_withdrawn", "false", "true")
    if sorted(old.grouped_with or []) != sorted(new.grouped_with or []):
        yield Change(
            "regrouped", "grouped_with", ", ".join(old.grouped_with or []), ", ".join(new.grouped_with or [])
        )


def _answer_changes(old: Version, new: Version) -> Iterator[Change]:
    if old.is_holding and not new.is_holding:
        return  # the holding answer was replaced: `holding_replaced` says so
    if not old.answer_text and new.answer_text:
        yield Change("answered", "answer_text", None, new.answer_text)
    elif old.answer_text != new.answer_text and not (new.is_correction and not old.is_correction):
        yield Change("answer_text_changed", "answer_text", old.answer_text, new.answer_text)


def _field_changes(old: Version, new: Version) -> Iterator[Change]:
    for field, kind in FIELD_KINDS.items():
        before, after = getattr(old, field), getattr(new, field)
        # A value appearing where there was none (the minister of a first answer) is not a change.
        if before != after and before is not None:
            yield Change(kind, field, _text(before), _text(after))
    if old.date_answered == new.date_answered and old.answered_at != new.answered_at and old.answered_at:
        yield Change("answer_date_changed", "answered_at", _text(old.answered_at), _text(new.answered_at))


RULES: tuple[Callable[[Version, Version], Iterator[Change]], ...] = (
    _state_changes,
    _answer_changes,
    _field_changes,
)


def first_sighting_changes(version: Version) -> list[Change]:
    """Return the events of a question seen for the first time: `new`, plus the state it is in."""
    changes = [Change("new", "", None, None)]
    if version.is_holding:
        changes.append(Change("holding_answer", "is_holding", None, "true"))
    if version.is_correction and version.original_answer_text:
        changes.append(
            Change(
                "corrected",
                "answer_text",
                version.original_answer_text,
                version.answer_text,
                _correction(version),
            )
        )
    return changes


def _correction(version: Version) -> dict[str, Any]:
    return {"date_corrected": _text(version.date_corrected), "correcting_member": version.correcting_member}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Versions read per round: a first crawl of a big blog stores tens of thousands at once, and
# holding them all (with their histories) would make memory grow with the crawl.
DETECT_BATCH = 1000


def detect_changes(session: Session, now: datetime | None = None) -> int:
    """Turn every version stored since the last run into change events; return how many.

    Idempotent: a cursor remembers the last version read, and events are unique per version.
    """
    detected_at = now or datetime.now(UTC).replace(tzinfo=None)
    count = 0
    while True:
        cursor = session.get(DetectCursor, _CURSOR)
        if cursor is None:
            cursor = DetectCursor(name=_CURSOR, last_version_id=0)
            session.add(cursor)
        batch = session.scalars(
            select(Version)
            .where(Version.id > cursor.last_version_id)
            .order_by(Version.id)
            .limit(DETECT_BATCH)
        ).all()
        if not batch:
            return count
        count += _detect_batch(session, batch, detected_at)
        cursor.last_version_id = batch[-1].id
        session.flush()
        # Why: the identity map keeps every object read until the transaction ends otherwise.
        session.expunge_all()


def _detect_batch(session: Session, batch: Sequence[Version], detected_at: datetime) -> int:
    history = _History(session, {v.question_id for v in batch})
    count = 0
    with session.no_autoflush:
        for version in batch:
            previous = history.previous(version)
            if previous is None and version.seq > 1:
                changes = []  # a removed copy re-appearing unchanged has nothing new to say
            elif previous is None:
                changes = first_sighting_changes(version) if history.first_of_question(version) else []
            else:
                changes = detect_version_changes(previous, version)
            for change in changes:
                session.add(_event(version, change, history.sources[version.source_id], detected_at))
                count += 1
        for question_id in dict.fromkeys(v.question_id for v in batch):
            count += _record_disagreements(session, history, question_id, detected_at)
    return count


class _History:
    """Every version of the questions a batch touches, read in a few queries, not one per version."""

    CHUNK = 500  # ids per IN (...) list

    def __init__(self, session: Session, question_ids: set[int]) -> None:
        ids = sorted(question_ids)
        rows: list[Any] = []
        for start in range(0, len(ids), self.CHUNK):
            rows += session.execute(
                select(Version, Source)
                .join(Source, Source.id == Version.source_id)
                .where(Version.question_id.in_(ids[start : start + self.CHUNK]))
                .order_by(Version.id)
            ).all()
        self.sources = {source.id: source for _, source in rows}
        # question id -> source id -> that source's versions of it, by seq
        self.chains: dict[int, dict[int, list[Version]]] = {}
        self.first_id: dict[int, int] = {}
        for version, _ in rows:
            self.chains.setdefault(version.question_id, {}).setdefault(version.source_id, []).append(version)
            self.first_id.setdefault(version.question_id, version.id)
        for by_source in self.chains.values():
            for chain in by_source.values():
                chain.sort(key=lambda v: v.seq)

    def previous(self, version: Version) -> Version | None:
        """The version this one is compared with: the same source's last one before it.

        A removal is compared with the last version (to say it went); a re-appearance with the
        last *present* version, so A -> gone -> A says nothing new about the text."""
        earlier = [v for v in self.chains[version.question_id][version.source_id] if v.seq < version.seq]
        if version.status == "present":
            earlier = [v for v in earlier if v.status == "present"]
        return earlier[-1] if earlier else None

    def first_of_question(self, version: Version) -> bool:
        """Say whether no source had shown this question before this version."""
        return self.first_id[version.question_id] == version.id

    def newest_present(self, question_id: int) -> list[tuple[Version, Source]]:
        """The latest present version of each source of a question."""
        out = []
        for source_id, chain in self.chains[question_id].items():
            present = [v for v in chain if v.status == "present"]
            if present:
                out.append((present[-1], self.sources[source_id]))
        return out


OFFICIAL_KINDS = ("api", "html", "hansard")  # best first
_WORDS = re.compile(r"[\w']+")


def compare_copies(official: Version, copy: Version) -> list[Change]:
    """Return where a blog copy disagrees with the official record beyond formatting (pure)."""
    changes = []
    for field in ("answer_text", "question_text"):
        ours, theirs = getattr(official, field), getattr(copy, field)
        if ours and theirs and _WORDS.findall(ours.lower()) != _WORDS.findall(theirs.lower()):
            changes.append(Change("sources_disagree", field, ours, theirs))
    if official.date_answered and copy.date_answered and official.date_answered != copy.date_answered:
        changes.append(
            Change(
                "sources_disagree", "date_answered", _text(official.date_answered), _text(copy.date_answered)
            )
        )
    return changes


def _record_disagreements(
    session: Session, history: _History, question_id: int, detected_at: datetime
) -> int:
    """Compare the best official copy of a question with each blog copy; store new disagreements."""
    newest = history.newest_present(question_id)
    official = sorted(
        (pair for pair in newest if pair[1].kind in OFFICIAL_KINDS),
        key=lambda pair: OFFICIAL_KINDS.index(pair[1].kind),
    )
    if not official:
        return 0
    official_version, official_source = official[0]
    count = 0
    for version, source in newest:
        if source.kind != "blog":
            continue
        for change in compare_copies(official_version, version):
            exists = session.scalar(
                select(ChangeEvent.id).where(
                    ChangeEvent.version_id == version.id,
                    ChangeEvent.kind == change.kind,
                    ChangeEvent.field == change.field,
                )
            )
            if exists:
                continue  # this copy's disagreement on this field is already on record
            detail = {"official_url": official_source.url, "official_kind": official_source.kind}
            session.add(_event(version, replace(change, detail=detail), source, detected_at))
            count += 1
    return count


def _event(version: Version, change: Change, source: Source, detected_at: datetime) -> ChangeEvent:
    """The stored form of a change seen in `version` of `source`."""
    return ChangeEvent(
        question_id=version.question_id,
        version_id=version.id,
        kind=change.kind,
        field=change.field,
        old=change.old,
        new=change.new,
        diff=word_diff(change.old, change.new) if change.field in TEXT_FIELDS else None,
        detail=change.detail,
        source_kind=source.kind,
        source_url=source.url,
        detected_at=detected_at,
    )
