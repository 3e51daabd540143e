"""Change events through a subscription's filters, a page at a time: what the web's lists, feeds
and API show, so each of them shows what the same subscription would be mailed.

Kind, House, UIN and department narrow in SQL (change_events); member, keyword and a thread are
read from each question's current view (monitor.notify.subscriptions.matches), so events are
read in chunks, newest first, until a page is full or SCAN_LIMIT events have been read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.notify.subscriptions import Filters, matches, with_thread
from monitor.queries.views import ChangeView, QuestionView, change_events, current_views
from storage.terms import ChangeKind

CHUNK = 200
SCAN_LIMIT = 20_000  # events read for one page at most: a rare member or keyword ends the page early


@dataclass(frozen=True)
class ChangePage:
    """One page of matching events with their questions' current views. `position` is the id of
    the last event read (the cursor to go on from, in the same direction; the one given when none
    was read) and `more` says whether events past it are stored now."""

    events: tuple[tuple[ChangeView, QuestionView | None], ...]
    position: int | None
    more: bool


def filtered_changes(
    session: Session,
    filters: Filters,
    *,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    oldest_first: bool = False,
) -> ChangePage:
    """The events matching `filters` with ids below `before` and above `after`, detected in
    [since, until), newest first (or `oldest_first`); at most `limit`."""
    filters = with_thread(session, filters, {})
    kinds = [ChangeKind(kind) for kind in filters.kinds]
    found: list[tuple[ChangeView, QuestionView | None]] = []
    position = after if oldest_first else before
    more, scanned = True, 0
    while more and len(found) < limit and scanned < SCAN_LIMIT:
        chunk = list(
            change_events(
                session,
                since,
                position if oldest_first else after,
                until=until,
                uin=None if filters.thread else filters.uin,
                kinds=kinds,
                house=filters.house,
                current_department=filters.department,
                newest_first=not oldest_first,
                limit=CHUNK,
                before_id=before if oldest_first else position,
                by_id=True,
            )
        )
        more = len(chunk) == CHUNK
        views = {
            view.question_id: view
            for view in current_views(session, question_ids={event.question_id for event in chunk})
        }
        for index, event in enumerate(chunk):
            scanned += 1
            position = event.id
            if matches(filters, event, views.get(event.question_id)):
                found.append((event, views.get(event.question_id)))
                if len(found) == limit:
                    more = more or index < len(chunk) - 1
                    break
    return ChangePage(tuple(found), position, more)
