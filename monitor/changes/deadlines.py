"""Deadline events: a question whose answer is due today (`due_today`) and one that is overdue
(`overdue`, from the day after its due date), each once per question, read from the official
record's due date (monitor.changes.lifecycle) at each detection.

Why a window for `overdue`: a database that has just learnt due dates (an upgrade, a backfill of
old unanswered questions) would otherwise announce every question ever late at once; a question
becomes `overdue` news only within OVERDUE_NEWS_DAYS of its due date, and `pqwatch overdue` lists
every late one whatever its age."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session, aliased

from monitor.changes.lifecycle import due_date
from spiders.registry import OFFICIAL_KINDS
from spiders.registry import rank as source_rank
from storage.models import ChangeEvent, Question, Source, Version
from storage.terms import ChangeKind, VersionStatus

OVERDUE_NEWS_DAYS = 7


def still_open() -> ColumnElement[bool]:
    """The questions that can be late: none of their copies has a substantive answer (a holding
    answer is not one) or a withdrawal. Anti-joins on the versions' question index."""
    copy = aliased(Version)
    answered = exists().where(
        copy.question_id == Question.id,
        (copy.date_answered.is_not(None) & copy.is_holding.is_(False)) | copy.is_withdrawn.is_(True),
    )
    return ~answered


def deadline_events(session: Session, today: date, detected_at: datetime) -> int:
    """Store today's `due_today` and `overdue` events; return how many."""
    rows = session.execute(
        select(Question, Version, Source)
        .join(Version, Version.question_id == Question.id)
        .join(Source, Source.id == Version.source_id)
        .where(
            still_open(),
            Version.status == VersionStatus.PRESENT,
            # Only Parliament's own record says a question is still unanswered; a blog copy
            # without an answer may be a post that quotes only the question.
            Source.kind.in_(OFFICIAL_KINDS),
            Question.date_tabled >= today - timedelta(days=120),  # a due date is weeks after tabling
        )
        .order_by(Question.id, Version.id)
    ).all()
    latest: dict[int, tuple[Question, Version, Source]] = {}
    for question, version, source in rows:
        best = latest.get(question.id)
        rank = source_rank(source.kind)
        if (
            best is None
            or rank < source_rank(best[2].kind)
            or (rank == source_rank(best[2].kind) and version.id > best[1].id)
        ):
            latest[question.id] = (question, version, source)
    count = 0
    for question, version, source in latest.values():
        due = due_date(question.house, question.date_tabled, version.date_for_answer)
        if due is None:
            continue
        if due == today:
            kind = ChangeKind.DUE_TODAY
        elif due < today <= due + timedelta(days=OVERDUE_NEWS_DAYS):
            kind = ChangeKind.OVERDUE
        else:
            continue
        if session.scalar(
            select(ChangeEvent.id).where(ChangeEvent.question_id == question.id, ChangeEvent.kind == kind)
        ):
            continue  # once per question
        session.add(
            ChangeEvent(
                question_id=question.id,
                version_id=version.id,
                kind=kind,
                field="date_for_answer",
                old=None,
                new=due.isoformat(),
                detail={"due_date": due.isoformat(), "named_day": bool(version.is_named_day)},
                source_kind=source.kind,
                source_url=source.url,
                detected_at=detected_at,
            )
        )
        count += 1
    return count
