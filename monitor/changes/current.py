"""The current state of each question, derived from its versions and kept in `question_current`,
so `pqwatch stats` and `pqwatch overdue` read one narrow row a question instead of merging every
question's copies in Python.

A row is what the question's current view (monitor.queries.views.current_views) says of it: each
source's newest present copy, best-ranked first (the newest first within a rank); the first
non-empty value of each field among them and the flags of the best one; then its due date, whether
and how fast it was answered (monitor.changes.lifecycle) and its non-answer rule
(monitor.changes.nonanswers). Nothing in a row depends on today's date.

Who writes it: change detection, for the questions whose versions it read (`refresh_current`),
and for any question that lacks a row (`fill_missing_current`), so a database upgraded to this
table, or one whose table was emptied, heals on its next detection. A reader that cannot wait
for that asks `pending_question_ids` which rows may be missing or stale (a question with a
version no detection has read yet, or with no row) and derives those in memory with
`derive_states`: its figures are always those of the versions stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from monitor.changes.lifecycle import answered_on_time, due_date, working_days_between
from monitor.changes.nonanswers import classify
from spiders.registry import OFFICIAL_KINDS, rank
from storage.models import DetectCursor, DetectedVersion, Question, QuestionCurrent, Source, Version
from storage.terms import VersionStatus

# Questions derived per round: their versions are read in one query (IN lists stay short).
CHUNK = 500

# The version fields a state is derived from: the merged ones and the flags of every copy.
_MERGED = (
    "answering_body",
    "answer_text",
    "date_answered",
    "date_holding_answer",
    "date_for_answer",
    "is_named_day",
)
_FLAGS = ("is_holding", "is_correction", "is_withdrawn")


@dataclass(frozen=True, slots=True)
class CurrentState:
    """One question's row of `question_current` (its columns, by name). The defaults are the
    state of a question no source shows any longer: no current view, left out of every figure."""

    question_id: int
    house: str
    date_tabled: date | None
    copies: int = 0
    official: bool = False
    answering_body: str | None = None
    date_answered: date | None = None
    date_for_answer: date | None = None
    is_named_day: bool | None = None
    is_holding: bool = False
    held: bool = False
    is_correction: bool = False
    is_withdrawn: bool = False
    answered: bool = False
    due_date: date | None = None
    working_days_to_answer: int | None = None
    answered_on_time: bool | None = None
    non_answer: str | None = None
    unanswered_due: date | None = None

    def late_at(self, today: date) -> bool:
        """Whether `pqwatch overdue` lists it on `today`."""
        return self.unanswered_due is not None and self.unanswered_due < today


@dataclass(frozen=True, slots=True)
class _Copy:
    """What a state reads of one version."""

    id: int
    source_id: int
    seq: int
    present: bool
    observed_at: datetime
    kind: str
    fields: dict[str, Any]

    @property
    def closes(self) -> bool:
        """Whether this version answers the question substantively or withdraws it: a question
        one of whose versions ever did is not awaiting its answer (as monitor.changes.deadlines
        reads it)."""
        answered = self.fields["date_answered"] is not None and not self.fields["is_holding"]
        return answered or bool(self.fields["is_withdrawn"])


def derive_state(
    question_id: int, house: str, date_tabled: date | None, versions: Iterable[_Copy]
) -> CurrentState:
    """The state of one question from every version of it (any order)."""
    versions = sorted(versions, key=lambda v: v.id)
    newest: dict[int, _Copy] = {}
    for version in versions:
        if version.present and (
            version.source_id not in newest or version.seq > newest[version.source_id].seq
        ):
            newest[version.source_id] = version
    # The current view's order: best source kind first, the newest first within a kind.
    copies = sorted(newest.values(), key=lambda c: (rank(c.kind), -c.observed_at.timestamp()))
    if not copies:
        return CurrentState(question_id, house, date_tabled)
    merged = {name: _first(copies, name) for name in _MERGED}
    flags = {name: bool(copies[0].fields[name]) for name in _FLAGS}
    answered = merged["date_answered"] is not None and not flags["is_holding"]
    answered_on = merged["date_answered"] if answered else None
    due = due_date(house, date_tabled, merged["date_for_answer"])
    days = None
    if answered_on is not None and date_tabled is not None:
        days = working_days_between(date_tabled, answered_on)
    official = any(copy.kind in OFFICIAL_KINDS for copy in copies)
    awaiting = official and not answered and not flags["is_withdrawn"] and not any(v.closes for v in versions)
    return CurrentState(
        question_id=question_id,
        house=house,
        date_tabled=date_tabled,
        copies=len(copies),
        official=official,
        answering_body=merged["answering_body"],
        date_answered=merged["date_answered"],
        date_for_answer=merged["date_for_answer"],
        is_named_day=merged["is_named_day"],
        is_holding=flags["is_holding"],
        held=flags["is_holding"] or merged["date_holding_answer"] is not None,
        is_correction=flags["is_correction"],
        is_withdrawn=flags["is_withdrawn"],
        answered=answered,
        due_date=due,
        working_days_to_answer=days,
        answered_on_time=answered_on_time(
            house, date_tabled, answered_on, merged["date_for_answer"], merged["is_named_day"]
        ),
        non_answer=classify(merged["answer_text"]),
        unanswered_due=due if awaiting else None,
    )


def _first(copies: list[_Copy], name: str) -> Any:
    """The first non-empty value of a field, best copy first (the current view's merge rule)."""
    return next((c.fields[name] for c in copies if c.fields[name] not in (None, "", [])), None)


def derive_states(session: Session, question_ids: Iterable[int]) -> Iterator[CurrentState]:
    """Yield the state of each of these questions, from the versions stored now."""
    ids = sorted(set(question_ids))
    columns = [getattr(Version, name) for name in (*_MERGED, *_FLAGS)]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        questions = session.execute(
            select(Question.id, Question.house, Question.date_tabled).where(Question.id.in_(chunk))
        ).all()
        versions: dict[int, list[_Copy]] = defaultdict(list)
        rows = session.execute(
            select(
                Version.question_id,
                Version.id,
                Version.source_id,
                Version.seq,
                Version.status,
                Version.observed_at,
                Source.kind,
                *columns,
            )
            .join(Source, Source.id == Version.source_id)
            .where(Version.question_id.in_(chunk))
        )
        for row in rows:
            question_id, version_id, source_id, seq, status, observed_at, kind, *values = row
            versions[question_id].append(
                _Copy(
                    version_id,
                    source_id,
                    seq,
                    status == VersionStatus.PRESENT,
                    observed_at,
                    kind,
                    dict(zip((*_MERGED, *_FLAGS), values, strict=True)),
                )
            )
        for question_id, house, date_tabled in questions:
            yield derive_state(question_id, house, date_tabled, versions.get(question_id, ()))


def refresh_current(session: Session, question_ids: Iterable[int]) -> int:
    """Rewrite the rows of these questions from their versions; return how many were written."""
    states = [asdict(state) for state in derive_states(session, question_ids)]
    ids = [state["question_id"] for state in states]
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(QuestionCurrent).where(QuestionCurrent.question_id.in_(ids[start : start + CHUNK]))
        )
    if states:
        session.execute(insert(QuestionCurrent), states)
    return len(states)


def missing_question_ids(session: Session) -> set[int]:
    """The questions without a row. Cheap when there are none: two counts (a row exists only for a
    question, so equal counts mean none is missing), then an anti-join only when they differ."""
    questions = session.scalar(select(func.count()).select_from(Question)) or 0
    rows = session.scalar(select(func.count()).select_from(QuestionCurrent)) or 0
    if questions == rows:
        return set()
    return set(
        session.scalars(
            select(Question.id).where(~exists().where(QuestionCurrent.question_id == Question.id))
        )
    )


def fill_missing_current(session: Session) -> int:
    """Write the rows of every question that lacks one (all of them, once, after the upgrade that
    made the table); return how many. Flushed and cleared round by round, as detection is."""
    missing = sorted(missing_question_ids(session))
    written = 0
    for start in range(0, len(missing), CHUNK * 4):
        written += refresh_current(session, missing[start : start + CHUNK * 4])
        session.flush()
        session.expunge_all()
    return written


def undetected_question_ids(session: Session) -> set[int]:
    """The questions with a version no detection has read yet: their rows may be stale. Only the
    ids above detection's low-water mark are scanned (monitor.changes.detect)."""
    low = session.scalar(select(func.min(DetectCursor.last_version_id))) or 0
    # Why no DISTINCT: SQLite would then walk the whole question index instead of the id range.
    return set(
        session.scalars(
            select(Version.question_id).where(
                Version.id > low, ~exists().where(DetectedVersion.version_id == Version.id)
            )
        )
    )


def pending_question_ids(session: Session) -> set[int]:
    """The questions whose stored row a reader must not trust: missing, or older than a version."""
    return undetected_question_ids(session) | missing_question_ids(session)
