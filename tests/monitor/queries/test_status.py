"""`monitor_status` at a frozen clock, on each engine: every configured source with its latest
run, sources crawled only by hand after them, holds waiting, subscriptions by state and
addresses, and the digests due next by the digest's own periods."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from monitor.cli.status import digest_slot
from monitor.queries.status import ConfiguredSource, monitor_status
from storage.models import CrawlRun, Hold, OutboxMail, Subscriber, filters_key
from storage.terms import CrawlOutcome, Frequency, HoldState, SubscriberStatus

# 30 Nov 2026 is a Monday; London is on GMT, so 07:00 London is 07:00 UTC.
NOW = datetime(2026, 11, 30, 8, 0)


def _run(source: str, started: datetime, seconds: int, outcome: CrawlOutcome, **counts: int) -> CrawlRun:
    return CrawlRun(
        source=source,
        spider="blog",
        trigger="schedule",
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        outcome=outcome,
        counts=counts,
        reason="2 errors" if outcome == CrawlOutcome.FAILED else None,
    )


def _subscription(email: str, status: SubscriberStatus, frequency: Frequency, send_time: str = "07:00", **f):  # type: ignore[no-untyped-def]
    return Subscriber(
        email=email,
        status=status,
        frequency=frequency,
        send_time=send_time,
        filters=f,
        filters_key=filters_key(f),
        created_at=NOW - timedelta(days=3),
        start_event_id=0,
        link_version=0,
    )


def test_each_source_shows_its_latest_run_and_a_source_never_run_says_so(sessions):
    with sessions.begin() as s:
        s.add(_run("alpha", NOW - timedelta(hours=7), 30, CrawlOutcome.OK, pages_fetched=9))
        s.add(_run("alpha", NOW - timedelta(hours=1), 12, CrawlOutcome.FAILED, pages_fetched=2, errors=2))
        s.add(_run("by-hand.example", NOW - timedelta(days=2), 5, CrawlOutcome.OK, pages_fetched=1))
    configured = [
        ConfiguredSource("parliament", "parliament", "45 */2 * * *", NOW + timedelta(minutes=45)),
        ConfiguredSource("alpha", "blog", "15 */6 * * *", NOW + timedelta(hours=4, minutes=15)),
    ]
    with sessions() as s:
        status = monitor_status(s, sources=configured, now=NOW)
    sources = status.as_json()["sources"]
    assert [source["name"] for source in sources] == ["parliament", "alpha", "by-hand.example"]
    assert sources[0] == {
        "name": "parliament",
        "spider": "parliament",
        "schedule": "45 */2 * * *",
        "next_run": "2026-11-30T08:45:00Z",
        "last_run": None,
    }
    assert sources[1]["last_run"] == {
        "started_at": "2026-11-30T07:00:00Z",
        "finished_at": "2026-11-30T07:00:12Z",
        "seconds": 12.0,
        "outcome": "failed",
        "counts": {"pages_fetched": 2, "errors": 2},
        "reason": "2 errors",
        "trigger": "schedule",
    }
    assert (sources[2]["schedule"], sources[2]["next_run"]) == (None, None)
    assert sources[2]["last_run"]["outcome"] == "ok"
    text = "\n".join(status.lines())
    assert re.search(
        r"^  parliament +parliament +45 \*/2 \* \* \* +never run +2026-11-30T08:45:00Z$", text, re.M
    )
    head, parliament, alpha, by_hand = text.splitlines()[1:5]  # the columns line up
    assert head.index("last run") == parliament.index("never run") == alpha.index("2026-11-30T07:00")
    assert head.index("next run") == parliament.index("2026-11-30T08:45") == alpha.index("2026-11-30T12:15")
    assert head.index("next run") == by_hand.rindex("-")
    assert (
        "  alpha: 2 errors; 2 pages fetched, 0 not modified, answers 0 new / 0 changed / 0 removed, 2 errors"
        in text
    )
    assert "by hand" in text


def test_holds_waiting_count_the_events_they_hold_back(sessions):
    with sessions.begin() as s:
        for n, state in enumerate([HoldState.HELD, HoldState.RELEASED, HoldState.HELD]):
            s.add(
                Hold(
                    source_kind="blog",
                    source="alpha",
                    reason=f"hold {n}",
                    event_count=3 + n,
                    state=state,
                    created_at=NOW,
                )
            )
    with sessions() as s:
        shown = monitor_status(s, now=NOW).as_json()
    assert [hold["reason"] for hold in shown["holds_waiting"]] == ["hold 2", "hold 0"]
    assert shown["held_events"] == 5 + 3


def test_subscriptions_are_counted_by_state_and_addresses_once(sessions):
    with sessions.begin() as s:
        s.add(
            _subscription("a@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, department="Defence")
        )
        s.add(_subscription("a@example.org", SubscriberStatus.PENDING, Frequency.DAILY, keyword="ships"))
        s.add(_subscription("b@example.org", SubscriberStatus.PENDING, Frequency.WEEKLY))
        s.add(_subscription("c@example.org", SubscriberStatus.SUPPRESSED, Frequency.DAILY))
    with sessions() as s:
        shown = monitor_status(s, now=NOW).as_json()
    assert shown["subscribers"] == {"pending": 2, "confirmed": 1, "unsubscribed": 0, "suppressed": 1}
    assert shown["addresses"] == 3


def test_digests_due_next_follow_the_digest_periods_and_the_outbox(sessions):
    with sessions.begin() as s:
        early = _subscription("early@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, "06:30")
        late = _subscription("late@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, "07:00")
        also = _subscription("also@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, "06:30")
        weekly = _subscription("w@example.org", SubscriberStatus.CONFIRMED, Frequency.WEEKLY, "09:00")
        now_ = _subscription("i@example.org", SubscriberStatus.CONFIRMED, Frequency.IMMEDIATE)
        gone = _subscription("u@example.org", SubscriberStatus.UNSUBSCRIBED, Frequency.DAILY, "06:00")
        s.add_all([early, late, also, weekly, now_, gone])
        s.flush()
        # Today's daily digest went to `early` already; `also` and `late` are due now.
        s.add(
            OutboxMail(subscriber_id=early.id, period_key="daily:2026-11-30", status="sent", created_at=NOW)
        )
    with sessions() as s:
        due = {
            d["frequency"]: d
            for d in monitor_status(s, digest_slots=digest_slot, now=NOW).as_json()["digests_due"]
        }
    assert due["daily"] == {
        "frequency": "daily",
        "next_due": "2026-12-01T06:30:00Z",  # tomorrow 06:30 London, GMT
        "subscriptions": 2,  # early and also; late goes at 07:00
        "confirmed": 3,
        "due_now": 2,
    }
    # Monday 09:00 has not come yet today: this week's is next, and last week's was never sent.
    assert due["weekly"] == {
        "frequency": "weekly",
        "next_due": "2026-11-30T09:00:00Z",
        "subscriptions": 1,
        "confirmed": 1,
        "due_now": 1,
    }
    assert due["immediate"] == {
        "frequency": "immediate",
        "next_due": None,
        "subscriptions": 1,
        "confirmed": 1,
        "due_now": 0,
    }


def test_a_send_time_unfit_to_schedule_is_left_out_not_fatal(sessions):
    with sessions.begin() as s:
        s.add(_subscription("bad@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, "25:99"))
    with sessions() as s:
        [_, daily, _] = monitor_status(s, digest_slots=digest_slot, now=NOW).digests_due
    assert (daily.confirmed, daily.subscriptions, daily.next_due) == (1, 0, None)
