"""Re-derive stored answers after a parser upgrade: each source's latest raw body, read again by the
current parser, becomes a new version where its content differs (noting the new parser). The same
body read by a new parser is a re-baseline, so detection makes no event of these versions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes.detect import current_parser, matching_record
from spiders.registry import load_parser
from storage.models import Body, Question, Source
from storage.record import latest_versions, load_body, record_page
from storage.terms import SourceKind, VersionStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReparseResult:
    """What a reparse did, source by source."""

    sources: int = 0  # sources whose latest body was read again
    versions: int = 0  # new versions recorded (re-derived content that differs)
    unchanged: int = 0  # sources whose content the current parser reads alike
    current: int = 0  # sources already read by the current parser
    no_body: int = 0  # sources whose latest present versions have no stored body
    unreadable: int = 0  # bodies the current parser could not read (or that are gone)

    def summary(self) -> str:
        """The one line `pqwatch reparse` ends with."""
        return (
            f"reparse {'finished with unreadable bodies' if self.unreadable else 'finished'}: "
            f"{self.sources} sources read again, {self.versions} new versions, {self.unchanged} unchanged, "
            f"{self.current} already current, {self.no_body} without a stored body, "
            f"{self.unreadable} unreadable"
        )


def reparse(sessions: sessionmaker[Session]) -> ReparseResult:
    """Read every source's latest present body again with the current parser; record what differs.

    Each source is its own transaction, so one that fails leaves the others recorded."""
    counts = dict.fromkeys(("sources", "versions", "unchanged", "current", "no_body", "unreadable"), 0)
    with sessions() as session:
        sources = session.execute(select(Source.id, Source.kind, Source.url).order_by(Source.id)).all()
    for source_id, kind, url in sources:
        with sessions.begin() as session:
            outcome, versions = _reparse_source(session, source_id, kind, url)
        counts[outcome] += versions if outcome == "versions" else 1
        counts["sources"] += outcome in ("versions", "unchanged")
    return ReparseResult(**counts)


def _reparse_source(session: Session, source_id: int, kind: str, url: str) -> tuple[str, int]:
    """Read one source's latest body again: which count it adds to, and the versions recorded."""
    present = [v for v in latest_versions(session, source_id).values() if v.status == VersionStatus.PRESENT]
    parser = current_parser(kind)
    if not present or parser is None:
        return "no_body", 0
    if all(v.parser == parser for v in present):
        return "current", 0
    with_body = [(v, v.body_sha256) for v in present if v.body_sha256 is not None]
    if not with_body:
        return "no_body", 0
    newest, key = max(with_body, key=lambda pair: (pair[0].observed_at, pair[0].id))
    try:
        body = load_body(session, key)
        records = tuple(load_parser(SourceKind(kind))(body, url))
    except (KeyError, ValueError) as error:
        log.warning("cannot read body %s of %s again: %s", key[:12], url, error)
        return "unreadable", 0
    questions = session.scalars(select(Question).where(Question.id.in_([v.question_id for v in present])))
    # Only the questions the source shows now: a reparse restates them, it discovers nothing.
    found = (matching_record(records, q.house, q.uin, q.date_tabled) for q in questions)
    answers = [record for record in found if record is not None]
    content_type = session.scalar(select(Body.content_type).where(Body.sha256 == key))
    outcome = record_page(
        session,
        source_kind=kind,
        url=url,
        answers=answers,
        observed_at=newest.observed_at,  # what the source showed then, read again
        body=body,
        content_type=content_type,
        complete=False,
        parser=parser,
    )
    versions = outcome.first_versions + outcome.changed_versions
    return ("versions", versions) if versions else ("unchanged", 0)
