"""Read models: the current view of each question, change events and version history as JSON-ready
dicts in the shape of the command-line contract."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from storage.models import ChangeEvent, Question, Source, Version
from storage.record import CONTENT_FIELDS

# Which source wins a field: the official record first, then the blog copies.
SOURCE_PRIORITY = {"api": 0, "html": 1, "hansard": 2, "blog": 3}
# A question's view has the same fields as a version's content.
VIEW_FIELDS = CONTENT_FIELDS
EXPORT_COLUMNS = (
    "house",
    "uin",
    "date_tabled",
    *VIEW_FIELDS,
    "sources",
    "version_count",
    "removed",
)


def iso(value: object) -> Any:
    """Format dates as YYYY-MM-DD and datetimes as YYYY-MM-DDTHH:MM; pass the rest through."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def current_views(
    session: Session, *, department: str | None = None, question_ids: set[int] | None = None
) -> Iterator[dict[str, Any]]:
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
                newer.status == "present",
                newer.seq > Version.seq,
            ),
        )
        .where(Version.status == "present", newer.id.is_(None))
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
            by_question.get(question.id, []),
            key=lambda c: (SOURCE_PRIORITY.get(c[1], 9), -c[0].observed_at.timestamp()),
        )
        if not copies:
            continue
        view = merge_copies(question, [c[0] for c in copies])
        if department and department.lower() not in (view["answering_body"] or "").lower():
            continue
        view["sources"] = [{"kind": kind, "url": url} for _, kind, url in copies]
        view["version_count"] = counts.get(question.id, 0)
        view["removed"] = all((question.id, v.source_id) in gone for v, _, _ in copies)
        view["question_id"] = question.id
        yield view


def merge_copies(question: Question, copies: list[Version]) -> dict[str, Any]:
    """Merge one question's copies, best source first: the first non-empty value of each field."""
    view: dict[str, Any] = {
        "house": question.house,
        "uin": question.uin,
        "date_tabled": iso(question.date_tabled),
        "api_id": question.api_id,
    }
    for field in VIEW_FIELDS:
        value = next((getattr(c, field) for c in copies if getattr(c, field) not in (None, "", [])), None)
        view[field] = iso(value)
    for flag in ("is_holding", "is_correction", "is_withdrawn"):
        view[flag] = bool(getattr(copies[0], flag))
    view["grouped_with"] = list(view["grouped_with"] or [])
    return view


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
        .where(newer.id.is_(None), Version.status == "removed")
    )
    if scope is not None:
        query = query.where(Version.question_id.in_(scope))
    return {(q, s) for q, s in session.execute(query)}


def change_events(
    session: Session, since: datetime | None = None, after_id: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield change events oldest first: detected at or after `since` (UTC), or with an id
    above `after_id`."""
    query = select(ChangeEvent, Question).join(Question, Question.id == ChangeEvent.question_id)
    if since is not None:
        query = query.where(ChangeEvent.detected_at >= since)
    if after_id is not None:
        query = query.where(ChangeEvent.id > after_id)
    for event, question in session.execute(query.order_by(ChangeEvent.detected_at, ChangeEvent.id)):
        yield {
            "id": event.id,
            "question_id": question.id,
            "house": question.house,
            "uin": question.uin,
            "date_tabled": iso(question.date_tabled),
            "kind": event.kind,
            "field": event.field or None,
            "old": event.old,
            "new": event.new,
            "diff": event.diff,
            "detail": event.detail,
            "source_kind": event.source_kind,
            "source_url": event.source_url,
            "detected_at": event.detected_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def question_history(session: Session, uin: str, house: str | None = None) -> list[dict[str, Any]]:
    """Return every question with this UIN and every version of it, oldest first."""
    query = select(Question).where(Question.uin == uin.upper().replace(" ", ""))
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
        history.append(
            {
                "house": question.house,
                "uin": question.uin,
                "date_tabled": iso(question.date_tabled),
                "versions": [
                    {
                        "seq": v.seq,
                        "source_kind": kind,
                        "source_url": url,
                        "observed_at": v.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "status": v.status,
                        "content_hash": v.content_hash,
                        **{f: iso(getattr(v, f)) for f in VIEW_FIELDS},
                    }
                    for v, kind, url in versions
                ],
            }
        )
    return history
