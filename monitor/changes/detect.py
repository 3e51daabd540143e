"""Detect changes: read every version no detection has read yet, compare it with the one before it
(the pure rules in `rules`) and store the typed events.

Every committed version is read exactly once, however late its transaction commits:

- A version is *detected* when it has a `detected_versions` marker, written in the transaction
  that stores its events (so a detection that fails leaves no marker and no event).
- Below a low-water mark (`detect_cursor.last_version_id`) every version is known detected, so
  the anti-join "versions without a marker" only ever scans the ids above it. The mark is raised
  only to an id M once no version at or below M can still appear: on SQLite, detection holds the
  write lock, so no insert is in flight; on PostgreSQL, an id is drawn inside the INSERT, which
  holds its table's RowExclusiveLock from before the draw until its transaction ends, so once
  every transaction that held that lock when M was the highest visible id has ended (pg_locks
  tells), every version at or below M is visible, and the scan that follows reads it.
- Detections run one at a time: each takes a lock on its cursor row (PostgreSQL's row lock,
  SQLite's write lock) for its whole transaction; the markers' primary key backs it up.

A version whose parser differs from its predecessor's is compared with the predecessor's raw body
re-read by the current parser, so a parser upgrade says nothing (see `_Rebaseliner`). Ids are
drawn inside the INSERT (SQLAlchemy's INSERT .. RETURNING on a serial key), never by a separate
nextval before it: the PostgreSQL argument above rests on that."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.changes.corrections import statement_corrections
from monitor.changes.current import fill_missing_current, refresh_current
from monitor.changes.deadlines import deadline_events
from monitor.changes.diff import word_diff
from monitor.changes.lifecycle import london_date
from monitor.changes.rules import (
    TEXT_FIELDS,
    Change,
    compare_copies,
    detect_version_changes,
    first_sighting_changes,
)
from spiders.registry import OFFICIAL_KINDS, load_parser, parser_id
from storage.models import ChangeEvent, CrawlState, DetectCursor, DetectedVersion, Source, Version
from storage.record import CONTENT_FIELDS, content_hash, load_body
from storage.terms import SourceKind, VersionStatus, canonical_uin, utcnow

log = logging.getLogger(__name__)

_CURSOR = "changes"
# Where a PostgreSQL detection leaves the mark it may raise to next time, and the writers it waits
# for: {"max": M, "writers": [virtual transaction ids]}.
_CANDIDATE = "detect:low-water-candidate"
# Versions read per round: a first crawl of a big blog stores tens of thousands at once, and
# holding them all (with their histories) would make memory grow with the crawl.
DETECT_BATCH = 1000


@dataclass(frozen=True)
class Detection:
    """What one detection did: the events it stored (their ids are above `after_event_id`) and
    the time its markers and events carry."""

    events: int
    after_event_id: int
    detected_at: datetime
    rebaselines: int = 0


def detect_changes(session: Session, now: datetime | None = None) -> int:
    """Turn every version no detection has read yet into change events; return how many.

    Idempotent: a version is read once (its marker says so), and events are unique per version.
    """
    return detect(session, now).events


def detect(session: Session, now: datetime | None = None) -> Detection:
    """Read every undetected version, store its events and its marker; say what was done."""
    detected_at = now or utcnow()
    low = lock_detection(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    after_event_id = session.scalar(select(func.coalesce(func.max(ChangeEvent.id), 0))) or 0
    # Why this order: the highest visible id is read before the writers in flight, so every
    # version at or below it was drawn by a transaction that has committed or is among them.
    highest = session.scalar(select(func.coalesce(func.max(Version.id), 0))) or 0
    writers = _version_writers(session) if postgres else set()
    ready = _ready_candidate(session, writers) if postgres else None
    count = rebaselines = 0
    start = low
    while True:
        batch = session.scalars(
            select(Version)
            .where(
                Version.id > start,
                ~exists().where(DetectedVersion.version_id == Version.id),
            )
            .order_by(Version.id)
            .limit(DETECT_BATCH)
        ).all()
        if not batch:
            break
        found, rebased = _detect_batch(session, batch, detected_at)
        count += found
        rebaselines += rebased
        session.add_all(DetectedVersion(version_id=v.id, detected_at=detected_at) for v in batch)
        # The current state of each question read (monitor.changes.current), in the same transaction.
        refresh_current(session, {v.question_id for v in batch})
        start = batch[-1].id
        session.flush()
        # Why: the identity map keeps every object read until the transaction ends otherwise.
        session.expunge_all()
    # Every visible version above the mark is now marked; raise the mark as far as is safe.
    if not postgres or not writers:
        mark = highest  # nothing was in flight when `highest` was read: all of it is read now
    else:
        mark = max(low, ready or 0)  # the writers the last detection waited for have ended
        _store_candidate(session, highest, writers)
    if mark > low:
        session.execute(update(DetectCursor).where(DetectCursor.name == _CURSOR).values(last_version_id=mark))
    fill_missing_current(session)  # a table new since an upgrade, or emptied: rebuilt here
    count += deadline_events(session, london_date(detected_at), detected_at)
    count += statement_corrections(session, detected_at)  # written statements correcting answers
    session.flush()
    return Detection(count, after_event_id, detected_at, rebaselines)


def lock_detection(session: Session) -> int:
    """Take the detection lock (the cursor row's) for this transaction; return the low-water mark.

    Whatever writes change events takes it too, so a detection's new events are exactly those
    above the highest id it saw when it began.

    A database that had only the old cursor keeps it: every version at or below it was read."""
    if session.get(DetectCursor, _CURSOR) is None:
        try:
            with session.begin_nested():
                session.add(DetectCursor(name=_CURSOR, last_version_id=0))
        except IntegrityError:
            pass  # another detection created it first; its lock below makes us wait for it
    session.expire_all()
    # A write, not a read: it takes PostgreSQL's row lock and SQLite's write lock at once, and
    # on SQLite before any read, so the transaction never reads a snapshot older than the lock.
    session.execute(
        update(DetectCursor)
        .where(DetectCursor.name == _CURSOR)
        .values(last_version_id=DetectCursor.last_version_id)
    )
    low: int = session.scalar(select(DetectCursor.last_version_id).where(DetectCursor.name == _CURSOR)) or 0
    return low


def _version_writers(session: Session) -> set[str]:
    """The other transactions that hold the versions table's insert lock (PostgreSQL)."""
    rows = session.execute(
        text(
            "SELECT DISTINCT virtualtransaction FROM pg_locks"
            " WHERE locktype = 'relation' AND relation = CAST('versions' AS regclass)"
            " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
        )
    ).scalars()
    return {str(row) for row in rows}


def _ready_candidate(session: Session, writers: set[str]) -> int | None:
    """The mark the last detection left, if every writer it waited for has ended since."""
    stored = session.get(CrawlState, _CANDIDATE)
    if stored is None:
        return None
    try:
        candidate = json.loads(stored.value)
        highest, waited = int(candidate["max"]), set(candidate["writers"])
    except (ValueError, KeyError, TypeError):
        return None
    return None if waited & writers else highest


def _store_candidate(session: Session, highest: int, writers: set[str]) -> None:
    """Leave the mark the next detection may raise to once these writers have ended."""
    value = json.dumps({"max": highest, "writers": sorted(writers)}, separators=(",", ":"))
    if len(value) > 255:
        return  # too many writers to remember: the mark waits for a quieter moment
    stored = session.get(CrawlState, _CANDIDATE)
    if stored is None:
        session.add(CrawlState(name=_CANDIDATE, value=value, updated_at=utcnow()))
    else:
        stored.value, stored.updated_at = value, utcnow()


def _detect_batch(session: Session, batch: Sequence[Version], detected_at: datetime) -> tuple[int, int]:
    history = _History(session, {v.question_id for v in batch})
    rebaseliner = _Rebaseliner(session)
    count = rebaselines = 0
    with session.no_autoflush:
        for version in batch:
            previous = history.previous(version)
            if previous is None and version.seq > 1:
                changes = []  # a removed copy re-appearing unchanged has nothing new to say
            elif previous is None:
                changes = first_sighting_changes(version) if history.first_of_question(version) else []
            elif version.status == VersionStatus.PRESENT and version.parser != previous.parser:
                base = rebaseliner.base(previous, version, history.sources[version.source_id])
                if base is None:
                    changes = []
                    rebaselines += 1
                else:
                    changes = detect_version_changes(base, version)
            else:
                changes = detect_version_changes(previous, version)
            for change in changes:
                session.add(_event(version, change, history.sources[version.source_id], detected_at))
                count += 1
        for question_id in dict.fromkeys(v.question_id for v in batch):
            count += _record_disagreements(session, history, question_id, detected_at)
    return count, rebaselines


class _Rebaseliner:
    """Decides what a version read by a new parser is compared with.

    The predecessor's raw body, re-read by the current parser, says what the predecessor would
    have been under it: the same content as the new version is a re-baseline (no event); other
    content is compared with the new version, so only a real change of the source speaks. With
    no stored body, or one the parser cannot read, only an identical body makes a re-baseline (any
    difference is then the parser's by definition); otherwise the stored versions are compared as
    before, since a change we cannot explain away must not be lost."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.parsed: dict[tuple[str, str], tuple[Any, ...] | None] = {}  # (body, url) -> records

    def base(self, previous: Version, version: Version, source: Source) -> Version | None:
        """Return the version to compare with, or None for a re-baseline (nothing to say)."""
        if previous.body_sha256 is not None and previous.body_sha256 == version.body_sha256:
            return None
        if previous.body_sha256 is None:
            return previous
        records = self._records(previous.body_sha256, source)
        question = previous.question
        record = matching_record(records or (), question.house, question.uin, question.date_tabled)
        if record is None:
            return previous
        derived = _as_version(record)
        return None if derived.content_hash == version.content_hash else derived

    def _records(self, key: str, source: Source) -> tuple[Any, ...] | None:
        if (key, source.url) not in self.parsed:
            records: tuple[Any, ...] | None = None
            try:
                kind = SourceKind(source.kind)
                records = tuple(load_parser(kind)(load_body(self.session, key), source.url))
            except (KeyError, ValueError) as error:
                log.warning("cannot re-read body %s of %s: %s", key[:12], source.url, error)
            self.parsed[(key, source.url)] = records
        return self.parsed[(key, source.url)]


def matching_record(records: Sequence[Any], house: str, uin: str, tabled: Any) -> Any | None:
    """Return the record of one question among a body's records (by house, UIN and date tabled)."""
    # A record without a UIN (matched to its question by its fields) is never one of these.
    same = [r for r in records if r.house == house and r.uin is not None and canonical_uin(r.uin) == uin]
    exact = [r for r in same if r.date_tabled == tabled]
    if exact:
        return exact[0]
    return same[0] if len(same) == 1 and (same[0].date_tabled is None or tabled is None) else None


def _as_version(record: Any) -> Version:
    """A transient version (never stored) holding a re-derived record's content."""
    values = {name: _column(getattr(record, name)) for name in CONTENT_FIELDS}
    return Version(status=VersionStatus.PRESENT, content_hash=content_hash(record), **values)


def _column(value: object) -> object:
    if isinstance(value, tuple):
        return [asdict(item) if is_dataclass(item) and not isinstance(item, type) else item for item in value]
    return value


def current_parser(kind: str) -> str | None:
    """The current parser id of a source kind, or None when it cannot be told."""
    try:
        return parser_id(SourceKind(kind))
    except (ValueError, ImportError, AttributeError, KeyError):
        return None


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
