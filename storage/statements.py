"""Store the links of written statements to the written answers they correct (`statement_links`).

A link is keyed by (statement id, linked id) and stored once, as first seen: a re-crawl of the
statement adds nothing and changes nothing, so the `corrected` event change detection makes of it
(monitor.changes.corrections, which fills `question_id` and `event_id`) is made once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from storage.models import StatementLink


class CorrectionLinkFields(Protocol):
    """What storage reads of a statement's link to the answer it corrects (the spiders'
    CorrectionLink has these fields)."""

    @property
    def statement_id(self) -> int: ...
    @property
    def statement_uin(self) -> str: ...
    @property
    def house(self) -> str: ...
    @property
    def date_made(self) -> date | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def answering_body(self) -> str | None: ...
    @property
    def url(self) -> str: ...
    @property
    def link_type(self) -> str: ...
    @property
    def linked_id(self) -> int: ...
    @property
    def link_date(self) -> date | None: ...


def record_statement_links(
    session: Session, links: Iterable[CorrectionLinkFields], observed_at: datetime
) -> int:
    """Add each link not stored yet; return how many were new. The caller owns the transaction.

    Two crawls adding the same link at once: the second one's unique key fails and its pipeline
    tries again, and then finds the link stored."""
    wanted = {(link.statement_id, link.linked_id): link for link in links}
    if not wanted:
        return 0
    rows = session.execute(
        select(StatementLink.statement_id, StatementLink.linked_id).where(
            tuple_(StatementLink.statement_id, StatementLink.linked_id).in_(list(wanted))
        )
    )
    stored = {(statement_id, linked_id) for statement_id, linked_id in rows}
    new = [link for key, link in wanted.items() if key not in stored]
    session.add_all(
        StatementLink(
            statement_id=link.statement_id,
            statement_uin=link.statement_uin,
            house=link.house,
            date_made=link.date_made,
            title=link.title,
            answering_body=link.answering_body,
            url=link.url,
            link_type=link.link_type,
            linked_id=link.linked_id,
            link_date=link.link_date,
            first_seen=observed_at,
        )
        for link in new
    )
    session.flush()
    return len(new)
