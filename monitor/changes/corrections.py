"""Corrections from written statements: a written ministerial statement that corrects a written
answer (its CorrectedAnswer link, stored by the statements crawl in `statement_links`) is joined
to its question at the end of each detection, as a `corrected` event carrying the statement's
UIN, page, title and date made.

Joined once: a link records the event it went into (`event_id`), in the transaction that makes
the event, under the detection lock. A link whose question is not stored yet waits, and is joined
by the first detection after its question arrives (`Question.api_id` = the link's `linked_id`,
the question's API id: spiders.sources.statements.parse says why that reading).

One correction, one digest item. The official record often shows the same correction itself
(answerIsCorrection, the corrected text): that answer-side `corrected` event carries the news and
its text diff, so the statement is added to it (its detail gains the `statement_*` keys) rather
than announced again:

- the question already has an answer-side `corrected` event for this correction (dated within
  SAME_CORRECTION_DAYS of the statement, or undated): the statement goes into that event, and no
  event is made, even if that event was mailed before the statement was seen (its link is then on
  `pqwatch changes` and the question's page, not in a mail);
- else, if the question has a statement's event for this correction (the Commons and the Lords
  copies of one statement, made the same day), the link joins that event;
- else a new `corrected` event (field "statement") on the question's latest official version.

An answer-side `corrected` event made later than the statement's event (the corrected text reaching
the official record a day after) is news of its own, the new text; it stays, and gets the
statement's keys too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiders.registry import OFFICIAL_KINDS
from storage.models import ChangeEvent, Question, Source, StatementLink, Version
from storage.terms import ChangeKind, SourceKind

# Within this many days of each other, a statement and an answer's correction date are one correction.
SAME_CORRECTION_DAYS = 14
STATEMENT_FIELD = "statement"  # the field of a statement's own `corrected` event
STATEMENT_KEYS = ("statement_uin", "statement_url", "statement_title", "statement_date")


def statement_corrections(session: Session, detected_at: datetime) -> int:
    """Join every waiting statement link whose question is stored; return how many events it made."""
    session.flush()  # this detection's events so far are what a statement may join
    waiting = session.execute(
        select(StatementLink, Question)
        .join(Question, Question.api_id == StatementLink.linked_id)
        .where(StatementLink.event_id.is_(None))
        .order_by(StatementLink.id)
    ).all()
    made = 0
    for link, question in waiting:
        link.question_id = question.id
        events = _corrected_events(session, question.id)
        answer_side = _same_correction([e for e in events if e.field != STATEMENT_FIELD], link)
        own = _same_correction([e for e in events if e.field == STATEMENT_FIELD], link)
        if answer_side is not None:
            _add_statement(answer_side, link)
            link.event_id = answer_side.id
            continue
        version = _latest_official_version(session, question.id)
        if own is None and version is not None:
            # A version carries one statement event (the events' unique key): a second statement
            # with nothing new in between is the same correction.
            own = next((e for e in events if e.field == STATEMENT_FIELD and e.version_id == version.id), None)
        if own is not None:
            link.event_id = own.id
            continue
        if version is None:
            continue  # no copy of the question to hang the event on: wait for one
        event = _statement_event(question.id, version.id, link, detected_at)
        session.add(event)
        session.flush()
        link.event_id = event.id
        made += 1
    _mark_later_corrections(session, detected_at)
    session.flush()
    return made


def statement_detail(link: StatementLink) -> dict[str, str]:
    """What an event says of the statement: its UIN, page, title and date made (strings, or left out)."""
    values = {
        "statement_uin": link.statement_uin,
        "statement_url": link.url,
        "statement_title": link.title,
        "statement_date": link.date_made.isoformat() if link.date_made else None,
    }
    return {key: value for key, value in values.items() if value}


def _statement_event(
    question_id: int, version_id: int, link: StatementLink, detected_at: datetime
) -> ChangeEvent:
    detail: dict[str, Any] = statement_detail(link)
    if link.date_made is not None:
        detail["date_corrected"] = link.date_made.isoformat()  # what the digest's "corrected on" reads
    return ChangeEvent(
        question_id=question_id,
        version_id=version_id,
        kind=ChangeKind.CORRECTED,
        field=STATEMENT_FIELD,
        old=None,
        new=f"{link.statement_uin}: {link.title}" if link.title else link.statement_uin,
        detail=detail,
        # The statement came from the Written Questions API; its page is what a reader follows.
        source_kind=SourceKind.API,
        source_url=link.url,
        detected_at=detected_at,
    )


def _corrected_events(session: Session, question_id: int) -> list[ChangeEvent]:
    """The question's `corrected` events, newest first."""
    return list(
        session.scalars(
            select(ChangeEvent)
            .where(ChangeEvent.question_id == question_id, ChangeEvent.kind == ChangeKind.CORRECTED)
            .order_by(ChangeEvent.id.desc())
        )
    )


def _same_correction(events: list[ChangeEvent], link: StatementLink) -> ChangeEvent | None:
    """The newest of these events that is the correction the statement makes."""
    made = link.date_made or link.link_date
    for event in events:
        when = _event_date(event)
        if when is None or made is None or abs((when - made).days) <= SAME_CORRECTION_DAYS:
            return event
    return None


def _event_date(event: ChangeEvent) -> date | None:
    """When an event's correction was made: its `date_corrected`, or the statement's date."""
    detail = event.detail or {}
    for key in ("date_corrected", "statement_date"):
        try:
            return date.fromisoformat(str(detail[key])[:10])
        except (KeyError, ValueError):
            continue
    return None


def _add_statement(event: ChangeEvent, link: StatementLink) -> None:
    """Put the statement into an event's detail, unless it names one already (a new dict: the
    JSON column sees only an assignment)."""
    detail = dict(event.detail or {})
    if any(key in detail for key in STATEMENT_KEYS):
        return
    event.detail = {**detail, **statement_detail(link)}


def _latest_official_version(session: Session, question_id: int) -> Version | None:
    """The question's newest version from Parliament's own record (else from any copy)."""
    newest = None
    for version, kind in session.execute(
        select(Version, Source.kind)
        .join(Source, Source.id == Version.source_id)
        .where(Version.question_id == question_id)
        .order_by(Version.id.desc())
    ):
        if kind in OFFICIAL_KINDS:
            return version
        newest = newest or version
    return newest


def _mark_later_corrections(session: Session, detected_at: datetime) -> None:
    """Give this detection's answer-side `corrected` events the statement already joined to their
    question for the same correction."""
    rows = session.execute(
        select(ChangeEvent, StatementLink)
        .join(StatementLink, StatementLink.question_id == ChangeEvent.question_id)
        .where(
            ChangeEvent.detected_at == detected_at,
            ChangeEvent.kind == ChangeKind.CORRECTED,
            ChangeEvent.field != STATEMENT_FIELD,
            StatementLink.event_id.is_not(None),
        )
        .order_by(StatementLink.id.desc())
    ).all()
    for event, link in rows:
        if _same_correction([event], link) is event:
            _add_statement(event, link)
