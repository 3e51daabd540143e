"""What the browse pages list: answering bodies and members by their URL slugs, a body's recent
answers, and the questions a member asked or answered.

Bodies are read from `question_current` (one narrow row a question, monitor.changes.current);
members from the versions' asking and answering members, the names as the sources print them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from monitor.queries.views import QuestionView, current_views
from storage.models import Question, QuestionCurrent, Version


def slug(name: str) -> str:
    """A name as a URL path segment: "Department for Education" -> "department-for-education",
    "Lord Ahmad of Wimbledon" -> "lord-ahmad-of-wimbledon" (accents dropped)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


@dataclass(frozen=True)
class Named:
    """A body or a member with its slug and how many questions name it."""

    name: str
    slug: str
    questions: int


def bodies(session: Session) -> list[Named]:
    """Every answering body a current question names, the most questions first."""
    rows = session.execute(
        select(QuestionCurrent.answering_body, func.count())
        .where(QuestionCurrent.copies > 0, QuestionCurrent.answering_body.is_not(None))
        .group_by(QuestionCurrent.answering_body)
    ).all()
    return _named(rows)


def members(session: Session) -> list[Named]:
    """Every member who asked or answered a stored question, the most questions first."""
    asked = select(Version.asking_member.label("name"), Version.question_id)
    answered = select(Version.answering_member.label("name"), Version.question_id)
    both = union(asked, answered).subquery()
    rows = session.execute(
        select(both.c.name, func.count(func.distinct(both.c.question_id)))
        .where(both.c.name.is_not(None), both.c.name != "")
        .group_by(both.c.name)
    ).all()
    return _named(rows)


def _named(rows: Iterable[Any]) -> list[Named]:
    merged: dict[str, Named] = {}
    for name, count in rows:
        key = slug(name)
        if not key:
            continue
        known = merged.get(key)
        # Two spellings of one name ("Home Office", "Home office") are one page, named as most print it.
        if known is None or count > known.questions:
            merged[key] = Named(name, key, count + (known.questions if known else 0))
        else:
            merged[key] = Named(known.name, key, known.questions + count)
    return sorted(merged.values(), key=lambda named: (-named.questions, named.name))


def find_named(named: list[Named], wanted: str) -> Named | None:
    """The body or member with this slug."""
    return next((one for one in named if one.slug == wanted), None)


def answered_since(session: Session, body: str, since: date, limit: int = 50) -> list[QuestionView]:
    """The body's questions answered on or after `since`, the latest answer first."""
    ids = list(
        session.scalars(
            select(QuestionCurrent.question_id)
            .where(
                func.lower(QuestionCurrent.answering_body) == func.lower(body),
                QuestionCurrent.answered.is_(True),
                QuestionCurrent.date_answered >= since,
            )
            .order_by(QuestionCurrent.date_answered.desc(), QuestionCurrent.question_id.desc())
            .limit(limit)
        )
    )
    views = list(current_views(session, question_ids=set(ids))) if ids else []
    return sorted(views, key=lambda v: (v.date_answered or date.min, v.question_id), reverse=True)


def member_questions(session: Session, name: str, role: str, limit: int = 50) -> list[QuestionView]:
    """The questions a member asked (`role` "asking") or answered ("answering"), the latest
    tabled first; any copy naming them counts."""
    column = Version.asking_member if role == "asking" else Version.answering_member
    ids = list(
        session.scalars(
            select(Question.id)
            .where(Question.id.in_(select(Version.question_id).where(func.lower(column) == func.lower(name))))
            .order_by(Question.date_tabled.desc(), Question.id.desc())
            .limit(limit)
        )
    )
    views = list(current_views(session, question_ids=set(ids))) if ids else []
    return sorted(views, key=lambda v: (v.date_tabled or date.min, v.question_id), reverse=True)
