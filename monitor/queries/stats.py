"""Timeliness by answering body: how many questions each answered, how many on time (ordinary
and named-day questions apart), the median working days to answer, and how often it gave holding
answers, corrected, had questions withdrawn or declined to answer. The method of "on time" and
"working day" is monitor.changes.lifecycle's."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.changes.lifecycle import answered_on_time, working_days_between
from monitor.queries.views import QuestionView, current_views
from storage.models import Question

STATS_COLUMNS = (
    "answering_body",
    "questions",
    "answered",
    "on_time_ordinary_pct",
    "on_time_named_day_pct",
    "median_working_days",
    "holding_rate_pct",
    "correction_rate_pct",
    "withdrawn",
    "non_answer_rate_pct",
)


@dataclass
class BodyStats:
    """The tallies of one answering body."""

    answering_body: str
    questions: int = 0
    answered: int = 0
    ordinary: list[bool] = field(default_factory=list)  # on time or not, per answered question
    named_day: list[bool] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    holding: int = 0
    corrected: int = 0
    withdrawn: int = 0
    non_answers: int = 0

    def add(self, view: QuestionView) -> None:
        """Count one question."""
        self.questions += 1
        self.withdrawn += view.is_withdrawn
        self.holding += view.is_holding or view.date_holding_answer is not None
        if not view.answered or view.date_tabled is None or view.date_answered is None:
            return
        self.answered += 1
        self.corrected += view.is_correction
        self.non_answers += view.non_answer is not None
        self.days.append(working_days_between(view.date_tabled, view.date_answered))
        on_time = answered_on_time(
            view.house, view.date_tabled, view.date_answered, view.date_for_answer, view.is_named_day
        )
        (self.named_day if view.is_named_day and view.house == "Commons" else self.ordinary).append(
            bool(on_time)
        )

    def as_json(self) -> dict[str, Any]:
        """One row of `pqwatch stats`."""
        return {
            "answering_body": self.answering_body,
            "questions": self.questions,
            "answered": self.answered,
            "on_time_ordinary_pct": _pct(sum(self.ordinary), len(self.ordinary)),
            "on_time_named_day_pct": _pct(sum(self.named_day), len(self.named_day)),
            "median_working_days": statistics.median(self.days) if self.days else None,
            "holding_rate_pct": _pct(self.holding, self.questions),
            "correction_rate_pct": _pct(self.corrected, self.answered),
            "withdrawn": self.withdrawn,
            "non_answer_rate_pct": _pct(self.non_answers, self.answered),
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def timeliness(
    session: Session,
    *,
    house: str | None = None,
    tabled_from: date | None = None,
    tabled_to: date | None = None,
) -> list[BodyStats]:
    """Every answering body's tallies over the questions tabled in the range (all when open),
    most questions first."""
    query = select(Question.id)
    if house:
        query = query.where(Question.house == house)
    if tabled_from:
        query = query.where(Question.date_tabled >= tabled_from)
    if tabled_to:
        query = query.where(Question.date_tabled <= tabled_to)
    ids = set(session.scalars(query))
    return tally(current_views(session, question_ids=ids) if ids else ())


def tally(views: Iterable[QuestionView]) -> list[BodyStats]:
    """The views counted by answering body ("unknown" for none)."""
    bodies: dict[str, BodyStats] = {}
    for view in views:
        name = view.answering_body or "unknown"
        bodies.setdefault(name, BodyStats(name)).add(view)
    return sorted(bodies.values(), key=lambda body: (-body.questions, body.answering_body))
