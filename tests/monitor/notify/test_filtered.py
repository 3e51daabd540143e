"""Change events a page at a time through a subscription's filters: every matching event once,
in order, across chunk boundaries, newest first or oldest first from a cursor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.notify import filtered
from monitor.notify.filtered import filtered_changes
from monitor.notify.subscriptions import make_filters
from tests.support.digests import add_events
from tests.support.helpers import ANSWER


def _all_pages(sessions, filters, limit, oldest_first=False):  # type: ignore[no-untyped-def]
    seen, cursor = [], None
    while True:
        with sessions() as session:
            page = filtered_changes(
                session,
                filters,
                limit=limit,
                **({"after": cursor} if oldest_first else {"before": cursor}),
                oldest_first=oldest_first,
            )
        seen.extend(event.id for event, _ in page.events)
        if not page.more:
            return seen, page
        cursor = page.position


@pytest.fixture
def events(sessions, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(filtered, "CHUNK", 4)  # pages cross chunk boundaries
    answers = [
        replace(ANSWER, uin=f"HL{2400 + n}", answering_member="Lord True" if n % 3 == 0 else "Lord Sharpe")
        for n in range(11)
    ]
    add_events(sessions, *answers)
    with sessions() as session:
        page = filtered_changes(session, make_filters(), limit=1000)
    return [event.id for event, _ in page.events]


def test_pages_newest_first_give_every_event_once(sessions, events):
    assert len(events) == 11 and events == sorted(events, reverse=True)
    seen, last = _all_pages(sessions, make_filters(), limit=3)
    assert seen == events and last.more is False


def test_a_member_filter_read_from_the_views_pages_through_chunks(sessions, events):
    seen, _ = _all_pages(sessions, make_filters(member="lord true"), limit=2)
    with sessions() as session:
        page = filtered_changes(session, make_filters(member="Lord True"), limit=100)
    assert seen == [event.id for event, _ in page.events] and len(seen) == 4  # HL2400, 2403, 2406, 2409
    assert all(view is not None and view.answering_member == "Lord True" for _, view in page.events)


def test_oldest_first_from_a_cursor_reads_what_came_after_it(sessions, events):
    seen, last = _all_pages(sessions, make_filters(), limit=4, oldest_first=True)
    assert seen == sorted(events) and last.position == max(events)
    with sessions() as session:
        after = filtered_changes(session, make_filters(), after=max(events), oldest_first=True)
    assert (after.events, after.position, after.more) == ((), max(events), False)
