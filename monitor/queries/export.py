"""The export: the current view of every question, then every copy still unmatched (a copy
without a UIN that no single official question matches), in the contract's JSON and CSV forms."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.changes.current import derive_states, pending_question_ids
from monitor.changes.threads import Reference, references
from monitor.changes.threads import follows as thread_follows
from monitor.queries.search import questions_naming
from monitor.queries.views import (
    CONTENT_NAMES,
    QuestionHistory,
    QuestionView,
    UnmatchedView,
    current_views,
    unmatched_views,
)
from spiders.registry import OFFICIAL_KINDS
from storage.models import Question, QuestionCurrent, Version

ExportView = QuestionView | UnmatchedView

EXPORT_COLUMNS = (
    "house",
    "uin",
    "date_tabled",
    *CONTENT_NAMES,
    "due_date",
    "answered_on_time",
    "working_days_to_answer",
    "status",
    "non_answer",
    "sources",
    "version_count",
    "removed",
    "unmatched",
    "unmatched_reason",
)


def export_views(
    session: Session,
    *,
    department: str | None = None,
    house: str | None = None,
    since: datetime | None = None,
) -> list[ExportView]:
    """Every question's current view, then every unmatched copy: nothing read is left out.

    `house` keeps one house; `since` keeps questions with a version observed since then (UTC:
    new, changed or merely seen again by a crawl) and unmatched copies last seen since then."""
    question_ids: set[int] | None = None
    if house or since is not None:
        query = select(Question.id)
        if house:
            query = query.where(Question.house == house)
        if since is not None:
            query = query.where(
                Question.id.in_(select(Version.question_id).where(Version.observed_at >= since))
            )
        if department:
            query = query.where(
                Question.id.in_(
                    select(Version.question_id).where(
                        func.lower(Version.answering_body).contains(department.lower(), autoescape=True)
                    )
                )
            )
        question_ids = set(session.scalars(query))
    views: list[ExportView] = list(
        link_threads(list(current_views(session, department=department, question_ids=question_ids)))
    )
    views += [
        copy
        for copy in unmatched_views(session, department=department)
        if (not house or copy.house == house) and (since is None or copy.last_seen >= since)
    ]
    return views


def link_threads(views: list[QuestionView]) -> list[QuestionView]:
    """The views with their threads linked both ways: each question's `follows` (the earlier
    questions its text names, monitor.changes.threads) and `followed_by`, among these views.

    A named UIN is the question of that house and UIN tabled last on or before the date the
    reference names (or this question's own tabled date); one not among the views keeps its UIN
    with no date. Why among the views: a filtered export links within what it exports."""
    by_key: dict[tuple[str, str], list[QuestionView]] = {}
    for view in views:
        by_key.setdefault((view.house, view.uin), []).append(view)
    for same in by_key.values():
        same.sort(key=lambda v: v.date_tabled or date.min)
    follows: dict[int, list[tuple[str, date | None]]] = {}
    followed_by: dict[int, list[tuple[str, date | None]]] = {}
    for view in views:
        for reference in named_follows(view):
            assert reference.uin is not None  # thread_follows keeps only references naming one
            before = reference.answered_on or view.date_tabled or date.max
            earlier = [
                v
                for v in by_key.get((view.house, reference.uin), [])
                if (v.date_tabled or date.min) <= before
            ]
            target = earlier[-1] if earlier else None
            if target is not None and target.question_id == view.question_id:
                continue  # a question naming its own UIN is no thread
            link = (reference.uin, target.date_tabled if target else None)
            if link not in follows.setdefault(view.question_id, []):
                follows[view.question_id].append(link)
            if target is not None:
                followed_by.setdefault(target.question_id, []).append((view.uin, view.date_tabled))
    return [
        replace(
            view,
            follows=tuple(follows.get(view.question_id, ())),
            followed_by=tuple(sorted(set(followed_by.get(view.question_id, ())), key=_thread_order)),
        )
        for view in views
    ]


def question_thread(session: Session, history: QuestionHistory) -> QuestionHistory:
    """One question's history with its thread: the questions it follows up and those that follow
    it up, found among the questions whose texts name its UIN (the search index: a cheap first
    filter, checked by the thread's own parser)."""
    own = select(Question.id).where(
        Question.house == history.house,
        Question.uin == history.uin,
        Question.date_tabled == history.date_tabled,
    )
    ids = set(session.scalars(own))
    views = list(current_views(session, question_ids=ids)) if ids else []
    if not views:
        return history
    named = {reference.uin for reference in named_follows(views[0])}
    naming = questions_naming(session, history.uin)
    others = select(Question.id).where(
        Question.house == history.house, Question.uin.in_(named) | Question.id.in_(naming)
    )
    ids |= set(session.scalars(others))
    linked = {view.question_id: view for view in link_threads(list(current_views(session, question_ids=ids)))}
    mine = linked[views[0].question_id]
    return replace(history, follows=mine.follows, followed_by=mine.followed_by)


def named_follows(view: QuestionView) -> tuple[Reference, ...]:
    """The earlier questions its question and answer texts name (monitor.changes.threads); a
    year-less date is read against its tabled date, or in the answer its answer date."""
    answered_on = view.date_answered or view.date_tabled
    return thread_follows(
        [
            *references(view.question_text, house=view.house, context_date=view.date_tabled),
            *references(view.answer_text, house=view.house, context_date=answered_on),
        ]
    )


def _thread_order(link: tuple[str, date | None]) -> tuple[date, str]:
    return (link[1] or date.min, link[0])


def overdue_views(
    session: Session, today: date, *, department: str | None = None, house: str | None = None
) -> list[QuestionView]:
    """Every question late at `today`: past its due date without its substantive answer (a holding
    answer does not count), not withdrawn; the longest overdue first.

    The candidates come from the current-state table's index of due dates (monitor.changes.current),
    those whose row may be stale re-derived from their versions; each is then judged on its view."""
    ids = late_question_ids(session, today, house=house)
    late = [
        view
        for start in range(0, len(ids), OVERDUE_CHUNK)
        for view in current_views(
            session, department=department, question_ids=set(ids[start : start + OVERDUE_CHUNK])
        )
        if not view.answered
        and not view.is_withdrawn
        and (due := view.due()) is not None
        and due < today
        # Only Parliament's own record says it is unanswered (a blog may quote only the question).
        and any(source.kind in OFFICIAL_KINDS for source in view.sources)
    ]
    return sorted(late, key=lambda view: (view.due() or today, view.house, view.uin))


# Questions whose views are read per query (an IN list of ids).
OVERDUE_CHUNK = 1000


def late_question_ids(session: Session, today: date, *, house: str | None = None) -> list[int]:
    """The questions awaiting an answer due before `today` (of one house): indexed rows, less
    those that may be stale, plus those of them that their versions now make late."""
    query = select(QuestionCurrent.question_id).where(QuestionCurrent.unanswered_due < today)
    if house:
        query = query.where(QuestionCurrent.house == house)
    found = set(session.scalars(query))
    pending = pending_question_ids(session)
    if pending:
        found -= pending
        found.update(
            state.question_id
            for state in derive_states(session, pending)
            if state.late_at(today) and (not house or state.house == house)
        )
    return sorted(found)


def export_row(view: ExportView) -> dict[str, Any]:
    """One question or unmatched copy as a CSV row: the JSON form, lists joined by spaces, an
    unknown UIN empty."""
    row = view.as_json()
    row["grouped_with"] = " ".join(view.grouped_with)
    row["sources"] = " ".join(source.url for source in view.sources)
    return row


def write_export_csv(views: Iterable[ExportView], out: TextIO) -> None:
    """Print the export as CSV with a header of EXPORT_COLUMNS."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for view in views:
        writer.writerow(export_row(view))
