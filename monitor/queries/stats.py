"""Timeliness by answering body: how many questions each answered, how many on time (ordinary
and named-day questions apart), the median working days to answer, and how often it gave holding
answers, corrected, had questions withdrawn or declined to answer. The method of "on time" and
"working day" is monitor.changes.lifecycle's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.changes.current import CurrentState, derive_states, pending_question_ids
from monitor.changes.lifecycle import answered_on_time, working_days_between
from monitor.queries.views import QuestionView
from storage.models import QuestionCurrent

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


@dataclass(frozen=True, slots=True)
class Facts:
    """What the figures count of one question: the key questions are tallied under."""

    answering_body: str  # "unknown" for none
    days: int | None  # working days to its substantive answer; None: not counted as answered
    named_day: bool  # a Commons named-day question: on time means by its named day
    on_time: bool | None
    held: bool  # a holding answer now, or a holding answer date
    corrected: bool
    withdrawn: bool
    non_answer: bool


@dataclass
class BodyStats:
    """The tallies of one answering body."""

    answering_body: str
    questions: int = 0
    answered: int = 0
    ordinary: int = 0  # answered ordinary questions, and those of them on time
    ordinary_on_time: int = 0
    named_day: int = 0
    named_day_on_time: int = 0
    days: Counter[int] = field(default_factory=Counter)  # working days to answer -> questions
    holding: int = 0
    corrected: int = 0
    withdrawn: int = 0
    non_answers: int = 0

    def add(self, view: QuestionView) -> None:
        """Count one question's current view."""
        self.count(view_facts(view))

    def count(self, facts: Facts, questions: int = 1) -> None:
        """Count `questions` questions with these facts."""
        self.questions += questions
        self.withdrawn += facts.withdrawn * questions
        self.holding += facts.held * questions
        if facts.days is None:
            return
        self.answered += questions
        self.corrected += facts.corrected * questions
        self.non_answers += facts.non_answer * questions
        self.days[facts.days] += questions
        if facts.named_day:
            self.named_day += questions
            self.named_day_on_time += bool(facts.on_time) * questions
        else:
            self.ordinary += questions
            self.ordinary_on_time += bool(facts.on_time) * questions

    def as_json(self) -> dict[str, Any]:
        """One row of `pqwatch stats`."""
        return {
            "answering_body": self.answering_body,
            "questions": self.questions,
            "answered": self.answered,
            "on_time_ordinary_pct": _pct(self.ordinary_on_time, self.ordinary),
            "on_time_named_day_pct": _pct(self.named_day_on_time, self.named_day),
            "median_working_days": _median(self.days),
            "holding_rate_pct": _pct(self.holding, self.questions),
            "correction_rate_pct": _pct(self.corrected, self.answered),
            "withdrawn": self.withdrawn,
            "non_answer_rate_pct": _pct(self.non_answers, self.answered),
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _median(histogram: Counter[int]) -> float | int | None:
    """statistics.median of the values the histogram counts: the middle one, or the mean of the
    two middle ones (a float) when there is an even number of them."""
    total = sum(histogram.values())
    if not total:
        return None
    middle: list[int] = []
    wanted = sorted({(total - 1) // 2, total // 2})
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while wanted and wanted[0] < seen:
            middle.append(value)
            wanted.pop(0)
    return middle[0] if total % 2 else (middle[0] + middle[1]) / 2


def view_facts(view: QuestionView) -> Facts:
    """What the figures count of a question's current view (the method, stated once per view)."""
    counted = view.answered and view.date_tabled is not None and view.date_answered is not None
    days = on_time = None
    if counted:
        assert view.date_tabled is not None and view.date_answered is not None
        days = working_days_between(view.date_tabled, view.date_answered)
        on_time = answered_on_time(
            view.house, view.date_tabled, view.date_answered, view.date_for_answer, view.is_named_day
        )
    return Facts(
        answering_body=view.answering_body or "unknown",
        days=days,
        named_day=bool(view.is_named_day) and view.house == "Commons",
        on_time=on_time,
        held=view.is_holding or view.date_holding_answer is not None,
        corrected=view.is_correction,
        withdrawn=view.is_withdrawn,
        non_answer=view.non_answer is not None,
    )


class _Stored(Protocol):
    """A stored row's columns the figures read (a QuestionCurrent row, a CurrentState, a row of
    the grouped query)."""

    @property
    def answering_body(self) -> str | None: ...
    @property
    def house(self) -> str: ...
    @property
    def is_named_day(self) -> bool | None: ...
    @property
    def working_days_to_answer(self) -> int | None: ...
    @property
    def answered_on_time(self) -> bool | None: ...
    @property
    def held(self) -> bool: ...
    @property
    def is_correction(self) -> bool: ...
    @property
    def is_withdrawn(self) -> bool: ...
    @property
    def non_answer(self) -> object: ...


def stored_facts(row: _Stored) -> Facts:
    """What the figures count of a question's current state (monitor.changes.current)."""
    return Facts(
        answering_body=row.answering_body or "unknown",
        days=row.working_days_to_answer,
        named_day=bool(row.is_named_day) and row.house == "Commons",
        on_time=None if row.answered_on_time is None else bool(row.answered_on_time),
        held=bool(row.held),
        corrected=bool(row.is_correction),
        withdrawn=bool(row.is_withdrawn),
        non_answer=bool(row.non_answer),
    )


# The columns the figures group the stored states by: one row per distinct combination (a few
# thousand), in the order of their covering index.
_GROUPED = (
    QuestionCurrent.answering_body,
    QuestionCurrent.house,
    QuestionCurrent.is_named_day,
    QuestionCurrent.working_days_to_answer,
    QuestionCurrent.answered_on_time,
    QuestionCurrent.held,
    QuestionCurrent.is_correction,
    QuestionCurrent.is_withdrawn,
    QuestionCurrent.non_answer,
)


def timeliness(
    session: Session,
    *,
    house: str | None = None,
    tabled_from: date | None = None,
    tabled_to: date | None = None,
) -> list[BodyStats]:
    """Every answering body's tallies over the questions tabled in the range (all when open),
    most questions first.

    Counted in SQL over the current-state table (monitor.changes.current), grouped so only a few
    thousand rows come back; a question whose row is missing or older than its versions is taken
    off and counted from its versions instead."""
    counted: Counter[Facts] = Counter()
    # Grouped by the covering index's leading columns, in its order (storage.models).
    query = select(*_GROUPED, func.count().label("questions")).where(QuestionCurrent.copies > 0)
    if house:
        query = query.where(QuestionCurrent.house == house)
    if tabled_from:
        query = query.where(QuestionCurrent.date_tabled >= tabled_from)
    if tabled_to:
        query = query.where(QuestionCurrent.date_tabled <= tabled_to)
    for row in session.execute(query.group_by(*_GROUPED)):
        counted[stored_facts(row)] += row.questions
    pending = sorted(pending_question_ids(session))
    if pending:
        chosen = _Range(house, tabled_from, tabled_to)
        for start in range(0, len(pending), 500):
            stale = session.scalars(
                select(QuestionCurrent).where(QuestionCurrent.question_id.in_(pending[start : start + 500]))
            )
            counted.subtract(stored_facts(row) for row in stale if chosen.holds(row))
        counted.update(
            stored_facts(state) for state in derive_states(session, pending) if chosen.holds(state)
        )
    return _by_body(counted.items())


@dataclass(frozen=True)
class _Range:
    """The questions `timeliness` counts, as a test of one row."""

    house: str | None
    tabled_from: date | None
    tabled_to: date | None

    def holds(self, row: QuestionCurrent | CurrentState) -> bool:
        """Whether the row has a current view and is in the range."""
        tabled = row.date_tabled
        return (
            row.copies > 0
            and (not self.house or row.house == self.house)
            and (not self.tabled_from or (tabled is not None and tabled >= self.tabled_from))
            and (not self.tabled_to or (tabled is not None and tabled <= self.tabled_to))
        )


def tally(views: Iterable[QuestionView]) -> list[BodyStats]:
    """The views counted by answering body ("unknown" for none): the figures from the views
    themselves, as `timeliness` gets them from the stored states."""
    return _by_body(Counter(view_facts(view) for view in views).items())


def _by_body(counted: Iterable[tuple[Facts, int]]) -> list[BodyStats]:
    bodies: dict[str, BodyStats] = {}
    for facts, questions in counted:
        if questions > 0:
            bodies.setdefault(facts.answering_body, BodyStats(facts.answering_body)).count(facts, questions)
    return sorted(bodies.values(), key=lambda body: (-body.questions, body.answering_body))
