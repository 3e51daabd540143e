"""Detect changes: read every version stored since the last run, compare it with the one before it
(the pure rules in `rules`) and store the typed events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.changes.diff import word_diff
from monitor.changes.rules import (
    TEXT_FIELDS,
    Change,
    compare_copies,
    detect_version_changes,
    first_sighting_changes,
)
from spiders.registry import OFFICIAL_KINDS
from storage.models import ChangeEvent, DetectCursor, Source, Version
from storage.terms import SourceKind, VersionStatus, utcnow

_CURSOR = "changes"
# Versions read per round: a first crawl of a big blog stores tens of thousands at once, and
# holding them all (with their histories) would make memory grow with the crawl.
DETECT_BATCH = 1000


def detect_changes(session: Session, now: datetime | None = None) -> int:
    """Turn every version stored since the last run into change events; return how many.

    Idempotent: a cursor remembers the last version read, and events are unique per version.
    """
    detected_at = now or utcnow()
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
        if version.status == VersionStatus.PRESENT:
            earlier = [v for v in earlier if v.status == VersionStatus.PRESENT]
        return earlier[-1] if earlier else None

    def first_of_question(self, version: Version) -> bool:
        """Say whether no source had shown this question before this version."""
        return self.first_id[version.question_id] == version.id

    def newest_present(self, question_id: int) -> list[tuple[Version, Source]]:
        """The latest present version of each source of a question."""
        out = []
        for source_id, chain in self.chains[question_id].items():
            present = [v for v in chain if v.status == VersionStatus.PRESENT]
            if present:
                out.append((present[-1], self.sources[source_id]))
        return out


def _record_disagreements(
    session: Session, history: _History, question_id: int, detected_at: datetime
) -> int:
    """Compare the best official copy of a question with each blog copy; store new disagreements."""
    newest = history.newest_present(question_id)
    official = sorted(
        (pair for pair in newest if pair[1].kind in OFFICIAL_KINDS),
        key=lambda pair: OFFICIAL_KINDS.index(SourceKind(pair[1].kind)),
    )
    if not official:
        return 0
    official_version, official_source = official[0]
    count = 0
    for version, source in newest:
        if source.kind != SourceKind.BLOG:
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
