"""Read models: the current view of each question, change events and version history as frozen
typed views; each view's `as_json()` is its shape in the command-line contract."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from monitor.changes.lifecycle import (
    answered_on_time,
    due_date,
    lifecycle_status,
    london_today,
    working_days_between,
)
from monitor.changes.nonanswers import RULES_BY_NAME, classify
from spiders.registry import rank
from storage.models import (
    ChangeEvent,
    DetectedVersion,
    Hold,
    Question,
    QuestionCurrent,
    Source,
    UnmatchedCopy,
    Version,
)
from storage.terms import (
    ChangeKind,
    HoldState,
    House,
    SourceKind,
    VersionStatus,
    canonical_uin,
    minute_text,
)


def iso(value: date | datetime | None) -> str | None:
    """A date as the contract prints it, YYYY-MM-DD, and a time to the minute, YYYY-MM-DDTHH:MM."""
    if isinstance(value, datetime):  # first: a datetime is a date too
        return minute_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return None


def utc_text(moment: datetime) -> str:
    """A stored (UTC) time to the second, as the contract prints observations and detections."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One source that carries a question."""

    kind: SourceKind
    url: str

    def as_json(self) -> dict[str, str]:
        """The contract's form: {"kind", "url"}."""
        return {"kind": self.kind.value, "url": self.url}


@dataclass(frozen=True, slots=True)
class AttachmentView:
    """A file published with an answer, as stored with its version."""

    title: str | None
    url: str | None
    file_type: str | None = None
    size_bytes: int | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> AttachmentView:
        """Read one stored attachment (a JSON object)."""
        return cls(stored.get("title"), stored.get("url"), stored.get("file_type"), stored.get("size_bytes"))

    def as_json(self) -> dict[str, Any]:
        """The stored and printed form."""
        return {
            "title": self.title,
            "url": self.url,
            "file_type": self.file_type,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerContent:
    """What a copy of a question says: the fields of storage.record.CONTENT_FIELDS, in the order
    the contract prints them."""

    asking_member: str | None
    answering_member: str | None
    answering_body: str | None
    heading: str | None
    question_text: str | None
    answer_text: str | None
    date_answered: date | None
    answered_at: datetime | None  # naive Europe/London wall time, as the answer states it
    is_holding: bool
    date_holding_answer: date | None
    is_correction: bool
    date_corrected: date | None
    is_withdrawn: bool
    grouped_with: tuple[str, ...]
    correcting_member: str | None
    original_answer_text: str | None
    attachments: tuple[AttachmentView, ...] | None  # None: no attachments stored at all
    date_for_answer: date | None = None  # the official due date
    is_named_day: bool | None = None
    member_has_interest: bool | None = None
    comparable_answer_text: str | None = None

    def content_json(self) -> dict[str, Any]:
        """The content fields in the contract's form and order."""
        return {name: _json_value(getattr(self, name)) for name in CONTENT_NAMES}


# The content fields in the contract's order (a test ties them to storage.record.CONTENT_FIELDS).
CONTENT_NAMES: tuple[str, ...] = tuple(field.name for field in fields(AnswerContent))


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionView(AnswerContent):
    """The current view of one question: each field from its best-ranked copy that has it."""

    house: House
    uin: str
    date_tabled: date | None
    api_id: int | None
    sources: tuple[SourceRef, ...]  # best first
    version_count: int
    removed: bool  # every source has gone; the view keeps their last good versions
    question_id: int
    # The thread (monitor.queries.export.link_threads): the questions this one follows up and
    # those that follow it up, as (UIN, date tabled or None when not stored), oldest first.
    follows: tuple[tuple[str, date | None], ...] = ()
    followed_by: tuple[tuple[str, date | None], ...] = ()

    @property
    def answered(self) -> bool:
        """Whether it has its substantive answer (a holding answer is not one)."""
        return self.date_answered is not None and not self.is_holding

    @property
    def non_answer(self) -> str | None:
        """The non-answer rule its answer meets (monitor.changes.nonanswers), or None."""
        return classify(self.answer_text)

    @property
    def non_answer_meaning(self) -> str | None:
        """What its answer does instead of answering, for a reader; None when it answers."""
        name = self.non_answer
        return RULES_BY_NAME[name].meaning if name else None

    def due(self) -> date | None:
        """The day its answer is due (monitor.changes.lifecycle)."""
        return due_date(self.house, self.date_tabled, self.date_for_answer)

    def life_json(self, today: date | None = None) -> dict[str, Any]:
        """Its lifecycle fields (monitor.changes.lifecycle), as of `today` (default: London's)."""
        answered_on = self.date_answered if self.answered else None
        on_time = answered_on_time(
            self.house, self.date_tabled, answered_on, self.date_for_answer, self.is_named_day
        )
        days = None
        if answered_on is not None and self.date_tabled is not None:
            days = working_days_between(self.date_tabled, answered_on)
        status = lifecycle_status(
            today=today or london_today(),
            due=self.due(),
            answered=self.answered,
            is_holding=self.is_holding,
            is_correction=self.is_correction,
            is_withdrawn=self.is_withdrawn,
        )
        return {
            "due_date": iso(self.due()),
            "answered_on_time": on_time,
            "working_days_to_answer": days,
            "status": status.value,
            "non_answer": self.non_answer,
        }

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch export --format json` prints for this question."""
        return {
            "house": self.house.value,
            "uin": self.uin,
            "date_tabled": iso(self.date_tabled),
            "api_id": self.api_id,
            **self.content_json(),
            **self.life_json(),
            "sources": [source.as_json() for source in self.sources],
            "version_count": self.version_count,
            "removed": self.removed,
            "question_id": self.question_id,
            "follows": [{"uin": uin, "date_tabled": iso(day)} for uin, day in self.follows],
            "followed_by": [{"uin": uin, "date_tabled": iso(day)} for uin, day in self.followed_by],
            "unmatched": False,
            "unmatched_reason": None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmatchedView(AnswerContent):
    """A copy without a UIN that no single official question matches, as the copy states it: it
    is exported, never hidden, and never guessed into a question."""

    house: House
    date_tabled: date | None  # as the copy states it (rarely)
    source: SourceRef  # the post that carries it
    position: int  # its place among the post's answers, from 1
    reason: str  # "no official question matches", "2 official questions match", …
    first_seen: datetime  # UTC
    last_seen: datetime  # UTC

    @property
    def sources(self) -> tuple[SourceRef, ...]:
        """The post, as a question's `sources` are listed."""
        return (self.source,)

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch export --format json` prints for it: a question's keys, with `uin`,
        `api_id` and `question_id` null and `unmatched` true."""
        return {
            "house": self.house.value,
            "uin": None,
            "date_tabled": iso(self.date_tabled),
            "api_id": None,
            **self.content_json(),
            "sources": [self.source.as_json()],
            "version_count": 0,
            "removed": False,
            "question_id": None,
            "unmatched": True,
            "unmatched_reason": self.reason,
            "position": self.position,
            "first_seen": utc_text(self.first_seen),
            "last_seen": utc_text(self.last_seen),
        }


def unmatched_views(session: Session, *, department: str | None = None) -> Iterator[UnmatchedView]:
    """Yield every copy still unmatched (or those in one answering body), by house, answer date,
    post and place on it."""
    query = (
        select(UnmatchedCopy, Source.kind, Source.url)
        .join(Source, Source.id == UnmatchedCopy.source_id)
        .where(UnmatchedCopy.resolved_at.is_(None))
        .order_by(UnmatchedCopy.house, UnmatchedCopy.date_answered, Source.url, UnmatchedCopy.position)
    )
    if department:
        query = query.where(
            func.lower(UnmatchedCopy.answering_body).contains(department.lower(), autoescape=True)
        )
    for row, kind, url in session.execute(query):
        content = {name: getattr(row, name) for name in CONTENT_NAMES}
        content["grouped_with"] = tuple(content["grouped_with"] or ())
        content["attachments"] = _attachments(content["attachments"])
        yield UnmatchedView(
            house=House(row.house),
            date_tabled=row.date_tabled,
            source=SourceRef(SourceKind(kind), url),
            position=row.position,
            reason=row.reason,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            **content,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionView(AnswerContent):
    """One stored version of one source's copy of a question."""

    seq: int
    source_kind: SourceKind
    source_url: str
    observed_at: datetime  # UTC
    status: VersionStatus
    content_hash: str
    parser: str | None = None  # the parser that derived it (None: stored before parsers were noted)
    # A new parser's reading of the source that says nothing new: stored, never mailed.
    rebaseline: bool = False

    def as_json(self) -> dict[str, Any]:
        """One version as `pqwatch history --format json` prints it."""
        return {
            "seq": self.seq,
            "source_kind": self.source_kind.value,
            "source_url": self.source_url,
            "observed_at": utc_text(self.observed_at),
            "status": self.status.value,
            "content_hash": self.content_hash,
            **self.content_json(),
            "parser": self.parser,
            "rebaseline": self.rebaseline,
        }


@dataclass(frozen=True, slots=True)
class QuestionHistory:
    """One question and every version of it from every source, oldest first."""

    house: House
    uin: str
    date_tabled: date | None
    versions: tuple[VersionView, ...]
    # Its thread (monitor.queries.export.question_thread): (UIN, date tabled), oldest first.
    follows: tuple[tuple[str, date | None], ...] = ()
    followed_by: tuple[tuple[str, date | None], ...] = ()

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch history --format json` prints for this question."""
        return {
            "house": self.house.value,
            "uin": self.uin,
            "date_tabled": iso(self.date_tabled),
            "follows": [{"uin": uin, "date_tabled": iso(day)} for uin, day in self.follows],
            "followed_by": [{"uin": uin, "date_tabled": iso(day)} for uin, day in self.followed_by],
            "versions": [version.as_json() for version in self.versions],
        }


@dataclass(frozen=True, slots=True)
class HoldRef:
    """The mass change hold an event is under."""

    id: int
    state: HoldState

    def as_json(self) -> dict[str, Any]:
        """The contract's form: {"id", "state"}."""
        return {"id": self.id, "state": self.state.value}


@dataclass(frozen=True, slots=True)
class HoldView:
    """One mass change hold, as `pqwatch held` lists it."""

    id: int
    source_kind: str
    source: str
    reason: str
    event_count: int
    state: HoldState
    created_at: datetime  # UTC
    decided_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """One hold as `pqwatch held --format json` and `pqwatch status` print it."""
        return {
            "id": self.id,
            "source_kind": self.source_kind,
            "source": self.source,
            "reason": self.reason,
            "event_count": self.event_count,
            "state": self.state.value,
            "created_at": utc_text(self.created_at),
            "decided_at": None if self.decided_at is None else utc_text(self.decided_at),
        }


def holds(session: Session, state: HoldState | None = None) -> list[HoldView]:
    """Every mass change hold (or those in one state), newest first."""
    query = select(Hold).order_by(Hold.id.desc())
    if state is not None:
        query = query.where(Hold.state == state)
    return [
        HoldView(
            id=hold.id,
            source_kind=hold.source_kind,
            source=hold.source,
            reason=hold.reason,
            event_count=hold.event_count,
            state=HoldState(hold.state),
            created_at=hold.created_at,
            decided_at=hold.decided_at,
        )
        for hold in session.scalars(query)
    ]


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One change event with the question it is about."""

    id: int
    question_id: int
    house: House
    uin: str
    date_tabled: date | None
    kind: ChangeKind
    field: str | None  # the field that changed; None for events about the whole question
    old: str | None
    new: str | None
    diff: tuple[tuple[str, str], ...] | None  # word diff of a text field: ("=" | "-" | "+", text)
    detail: Mapping[str, Any] | None  # e.g. a correction's date and member
    source_kind: SourceKind
    source_url: str
    detected_at: datetime  # UTC
    hold: HoldRef | None = None  # the mass change hold it waits (or waited) under

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch changes --format json` prints for this event."""
        return {
            "id": self.id,
            "question_id": self.question_id,
            "house": self.house.value,
            "uin": self.uin,
            "date_tabled": iso(self.date_tabled),
            "kind": self.kind.value,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "diff": None if self.diff is None else [[op, text] for op, text in self.diff],
            "detail": None if self.detail is None else dict(self.detail),
            "source_kind": self.source_kind.value,
            "source_url": self.source_url,
            "detected_at": utc_text(self.detected_at),
            "hold": None if self.hold is None else self.hold.as_json(),
        }


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return iso(value)
    if isinstance(value, tuple):
        return [item.as_json() if isinstance(item, AttachmentView) else item for item in value]
    return value


def current_views(
    session: Session, *, department: str | None = None, question_ids: set[int] | None = None
) -> Iterator[QuestionView]:
    """Yield the current view of every question: official values first, blog copies filling gaps.

    A source that has gone keeps its last good version in the view (and `removed` says so when
    every source has gone)."""
    newer = aliased(Version)
    latest_present = (
        select(Version, Source.kind, Source.url)
        .join(Source, Source.id == Version.source_id)
        .outerjoin(
            newer,
            and_(
                newer.question_id == Version.question_id,
                newer.source_id == Version.source_id,
                newer.status == VersionStatus.PRESENT,
                newer.seq > Version.seq,
            ),
        )
        .where(Version.status == VersionStatus.PRESENT, newer.id.is_(None))
    )
    questions = select(Question).order_by(Question.house, Question.date_tabled, Question.uin)
    counting = select(Version.question_id, func.count()).group_by(Version.question_id)
    scope: Any = None
    if question_ids is not None:
        scope = question_ids
    elif department:
        # Narrow in SQL to questions some copy places in that department; the merged view decides.
        scope = select(Version.question_id).where(
            func.lower(Version.answering_body).contains(department.lower(), autoescape=True)
        )
    if scope is not None:
        latest_present = latest_present.where(Version.question_id.in_(scope))
        questions = questions.where(Question.id.in_(scope))
        counting = counting.where(Version.question_id.in_(scope))
    by_question: dict[int, list[tuple[Version, str, str]]] = defaultdict(list)
    for version, kind, url in session.execute(latest_present):
        by_question[version.question_id].append((version, kind, url))
    counts = dict(session.execute(counting).all())
    gone = _gone_sources(session, scope)
    for question in session.scalars(questions):
        copies = sorted(
            by_question.get(question.id, []), key=lambda c: (rank(c[1]), -c[0].observed_at.timestamp())
        )
        if not copies:
            continue
        answering_body = _first([c[0] for c in copies], "answering_body")
        if department and department.lower() not in (answering_body or "").lower():
            continue
        yield QuestionView(
            house=House(question.house),
            uin=question.uin,
            date_tabled=question.date_tabled,
            api_id=question.api_id,
            **merge_copies([c[0] for c in copies]),
            sources=tuple(SourceRef(SourceKind(kind), url) for _, kind, url in copies),
            version_count=counts.get(question.id, 0),
            removed=all((question.id, v.source_id) in gone for v, _, _ in copies),
            question_id=question.id,
        )


def merge_copies(copies: list[Version]) -> dict[str, Any]:
    """Merge one question's copies, best source first: the first non-empty value of each content
    field, and the flags of the best copy."""
    merged = {name: _first(copies, name) for name in CONTENT_NAMES}
    for flag in ("is_holding", "is_correction", "is_withdrawn"):
        merged[flag] = bool(getattr(copies[0], flag))
    merged["grouped_with"] = tuple(merged["grouped_with"] or ())
    merged["attachments"] = _attachments(merged["attachments"])
    return merged


def _first(copies: list[Version], name: str) -> Any:
    return next((getattr(c, name) for c in copies if getattr(c, name) not in (None, "", [])), None)


def _attachments(stored: Iterable[Any] | None) -> tuple[AttachmentView, ...] | None:
    if stored is None:
        return None
    return tuple(AttachmentView.from_stored(item) for item in stored if isinstance(item, Mapping))


def _gone_sources(session: Session, scope: Any = None) -> set[tuple[int, int]]:
    newer = aliased(Version)
    query = (
        select(Version.question_id, Version.source_id)
        .outerjoin(
            newer,
            and_(
                newer.question_id == Version.question_id,
                newer.source_id == Version.source_id,
                newer.seq > Version.seq,
            ),
        )
        .where(newer.id.is_(None), Version.status == VersionStatus.REMOVED)
    )
    if scope is not None:
        query = query.where(Version.question_id.in_(scope))
    return {(q, s) for q, s in session.execute(query)}


def change_events(
    session: Session,
    since: datetime | None = None,
    after_id: int | None = None,
    *,
    include_held: bool = False,
    until: datetime | None = None,
    uin: str | None = None,
    kinds: Iterable[ChangeKind] = (),
    house: str | None = None,
    department: str | None = None,
    newest_first: bool = False,
    limit: int | None = None,
    before_id: int | None = None,
    by_id: bool = False,
    current_department: str | None = None,
) -> Iterator[ChangeView]:
    """Yield change events oldest first (or `newest_first`, at most `limit` of them): detected
    at or after `since` (UTC), or with an id
    above `after_id`; narrowed in SQL to events detected before `until`, of one UIN, of the given
    `kinds`, of one house, and of questions some copy places in `department` (case-insensitive);
    `before_id` keeps the events with a lower id, and `by_id` orders by id alone, for cursors
    (a page's or a feed reader's) that must never skip or repeat an event. `current_department`
    keeps the questions whose current answering body (question_current) contains it: what a
    subscription's department filter reads, and one narrow row a question to scan.

    Events under a hold that is held or discarded are left out (digests must never carry them)
    unless `include_held`; a released hold's events are yielded."""
    query = (
        select(ChangeEvent, Question, Hold.state)
        .join(Question, Question.id == ChangeEvent.question_id)
        .outerjoin(Hold, Hold.id == ChangeEvent.hold_id)
    )
    if not include_held:
        query = query.where(or_(ChangeEvent.hold_id.is_(None), Hold.state == HoldState.RELEASED))
    if since is not None:
        query = query.where(ChangeEvent.detected_at >= since)
    if after_id is not None:
        query = query.where(ChangeEvent.id > after_id)
    if until is not None:
        query = query.where(ChangeEvent.detected_at < until)
    if before_id is not None:
        query = query.where(ChangeEvent.id < before_id)
    if uin:
        query = query.where(Question.uin == canonical_uin(uin))
    wanted = [kind.value for kind in kinds]
    if wanted:
        query = query.where(ChangeEvent.kind.in_(wanted))
    if house:
        query = query.where(Question.house == house)
    if department:
        # Any copy placing the question in that department counts, as the export's filter does.
        query = query.where(
            Question.id.in_(
                select(Version.question_id).where(
                    func.lower(Version.answering_body).contains(department.lower(), autoescape=True)
                )
            )
        )
    if current_department:
        query = query.where(
            Question.id.in_(
                select(QuestionCurrent.question_id).where(
                    func.lower(QuestionCurrent.answering_body).contains(
                        current_department.lower(), autoescape=True
                    )
                )
            )
        )
    order = (
        ((ChangeEvent.id.desc(),) if newest_first else (ChangeEvent.id,))
        if by_id
        else (ChangeEvent.detected_at.desc(), ChangeEvent.id.desc())
        if newest_first
        else (
            ChangeEvent.detected_at,
            ChangeEvent.id,
        )
    )
    rows = session.execute(query.order_by(*order).limit(limit))
    for event, question, hold_state in rows:
        yield ChangeView(
            id=event.id,
            question_id=question.id,
            house=House(question.house),
            uin=question.uin,
            date_tabled=question.date_tabled,
            kind=ChangeKind(event.kind),
            field=event.field or None,
            old=event.old,
            new=event.new,
            diff=None if event.diff is None else tuple((op, text) for op, text in event.diff),
            detail=None if event.detail is None else dict(event.detail),
            source_kind=SourceKind(event.source_kind),
            source_url=event.source_url,
            detected_at=event.detected_at,
            hold=None if event.hold_id is None else HoldRef(event.hold_id, HoldState(hold_state)),
        )


def question_history(session: Session, uin: str, house: str | None = None) -> list[QuestionHistory]:
    """Return every question with this UIN and every version of it, oldest first."""
    query = select(Question).where(Question.uin == canonical_uin(uin))
    if house:
        query = query.where(Question.house == house)
    history = []
    for question in session.scalars(query.order_by(Question.date_tabled)):
        versions = session.execute(
            select(Version, Source.kind, Source.url)
            .join(Source, Source.id == Version.source_id)
            .where(Version.question_id == question.id)
            .order_by(Version.observed_at, Version.id)
        ).all()
        rebaselines = _rebaselines(session, question.id, [v for v, _, _ in versions])
        history.append(
            QuestionHistory(
                house=House(question.house),
                uin=question.uin,
                date_tabled=question.date_tabled,
                versions=tuple(_version_view(v, kind, url, v.id in rebaselines) for v, kind, url in versions),
            )
        )
    return history


def _rebaselines(session: Session, question_id: int, versions: list[Version]) -> set[int]:
    """The ids of a question's re-baselines: present versions whose parser differs from the one of
    the same source's previous present version and that detection found nothing to say about."""
    spoke = set(
        session.scalars(
            select(ChangeEvent.version_id).where(
                ChangeEvent.question_id == question_id, ChangeEvent.kind != ChangeKind.SOURCES_DISAGREE
            )
        )
    )
    detected = set(
        session.scalars(
            select(DetectedVersion.version_id).where(DetectedVersion.version_id.in_([v.id for v in versions]))
        )
    )
    found: set[int] = set()
    last: dict[int, Version] = {}
    for version in sorted(versions, key=lambda v: (v.source_id, v.seq)):
        if version.status != VersionStatus.PRESENT:
            continue
        before = last.get(version.source_id)
        if before is not None and before.parser != version.parser and version.id in detected - spoke:
            found.add(version.id)
        last[version.source_id] = version
    return found


def _version_view(version: Version, kind: str, url: str, rebaseline: bool = False) -> VersionView:
    content = {name: getattr(version, name) for name in CONTENT_NAMES}
    content["grouped_with"] = tuple(content["grouped_with"] or ())
    content["attachments"] = _attachments(content["attachments"])
    return VersionView(
        seq=version.seq,
        source_kind=SourceKind(kind),
        source_url=url,
        observed_at=version.observed_at,
        status=VersionStatus(version.status),
        content_hash=version.content_hash,
        parser=version.parser,
        rebaseline=rebaseline,
        **content,
    )
