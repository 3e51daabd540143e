"""The statements source's typed records: what the parser reads of a written statement, and the
item the spider hands to storage (the corrections it carries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class CorrectionLink:
    """A written ministerial statement's link to the written answer it corrects (a
    `linkedStatements` entry of type CorrectedAnswer), with what a digest says of the statement."""

    statement_id: int  # the statement's API id
    statement_uin: str  # HCWS123, HLWS45
    house: str  # a House
    date_made: date | None
    title: str | None
    answering_body: str | None
    url: str  # the statement's page on questions-statements.parliament.uk
    link_type: str  # CorrectedAnswer
    linked_id: int  # the written question's API id (see spiders.sources.statements.parse)
    link_date: date | None


@dataclass(frozen=True)
class Statement:
    """One written statement as a list page or the detail endpoint shows it."""

    statement_id: int
    uin: str
    house: str
    date_made: date | None
    has_linked_statements: bool  # the record's own flag
    links_listed: bool  # the record carried its `linkedStatements` (a list may leave them out)
    corrections: tuple[CorrectionLink, ...]  # only the CorrectedAnswer links


@dataclass(frozen=True)
class StatementPage:
    """One page of the statements list endpoint."""

    total: int
    statements: tuple[Statement, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class StatementsFetched:
    """The corrections one statement carries, read whole, for storage (spiders.pipelines)."""

    url: str  # the statement's API record, for log lines
    links: tuple[CorrectionLink, ...]
    fetched_at: datetime
