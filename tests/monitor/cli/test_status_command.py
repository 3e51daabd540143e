"""`pqwatch status` through the installed command, on each engine: a config of two blogs, one
crawled for real from a local site (then held as a mass change), the other failing on a port
nothing listens on; subscriptions in several states; text and JSON. And where digest periods
fall across the clock changes (monitor.cli.status.digest_slot)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from monitor.cli.status import digest_slot
from monitor.demo.site import LocalSite
from monitor.notify.digest import LONDON
from storage.db import open_database
from storage.models import CrawlRun, Subscriber, filters_key
from storage.terms import Frequency, SubscriberStatus, utcnow
from tests.support.helpers import ten_answer_blog

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


def pqwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PQWATCH_DOWNLOAD_DELAY": "0"}
    env.pop("PQWATCH_CONFIG", None)
    return subprocess.run([PQWATCH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def _add_subscriptions(db_url: str) -> None:
    made = utcnow() - timedelta(days=2)
    rows = [
        ("one@example.org", SubscriberStatus.CONFIRMED, Frequency.DAILY, "07:00", {"department": "Defence"}),
        ("one@example.org", SubscriberStatus.PENDING, Frequency.DAILY, "07:00", {"keyword": "ships"}),
        ("two@example.org", SubscriberStatus.CONFIRMED, Frequency.WEEKLY, "08:30", {}),
        ("three@example.org", SubscriberStatus.UNSUBSCRIBED, Frequency.DAILY, "07:00", {}),
        ("four@example.org", SubscriberStatus.PENDING, Frequency.IMMEDIATE, "07:00", {}),
    ]
    sessions = open_database(db_url)
    with sessions.begin() as session:
        for address, state, frequency, send_time, filters in rows:
            session.add(
                Subscriber(
                    email=address,
                    status=state,
                    frequency=frequency,
                    send_time=send_time,
                    filters=filters,
                    filters_key=filters_key(filters),
                    created_at=made,
                    confirmed_at=made if state == SubscriberStatus.CONFIRMED else None,
                    start_event_id=0,
                    link_version=0,
                )
            )
    sessions.kw["bind"].dispose()


def _next_fire(schedule: str, moment: datetime) -> str:
    """When a crontab next fires after `moment` (naive UTC), computed here from APScheduler."""
    fire = CronTrigger.from_crontab(schedule, timezone=LONDON).get_next_fire_time(
        None, moment.replace(tzinfo=UTC).astimezone(LONDON)
    )
    assert fire is not None
    return fire.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_local(moment: datetime, hour: int, minute: int, weekday: int | None = None) -> str:
    """The next London wall time hour:minute (on `weekday`, if given) after `moment` (naive UTC)."""
    local = moment.replace(tzinfo=UTC).astimezone(LONDON)
    day = local.date()
    while True:
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
        if at > local and (weekday is None or day.weekday() == weekday):
            return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        day += timedelta(days=1)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_status_shows_sources_runs_holds_subscribers_and_digests_due(db_url, tmp_path):
    with LocalSite() as site:
        site.replace(ten_answer_blog(site.url))
        config = tmp_path / "pqwatch.toml"
        config.write_text(
            f'[[blog]]\nname = "localwp"\nstart_urls = ["{site.url}/"]\nschedule = "15 */6 * * *"\n\n'
            '[[blog]]\nname = "down"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "5 3 * * *"\n\n'
            '[parliament]\nschedule = "45 */2 * * *"\n'
        )
        base = ("--db", db_url, "--config", str(config))
        first = pqwatch(*base, "crawl", "localwp", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        site.replace(ten_answer_blog(site.url, changed=3))
        held = pqwatch(*base, "crawl", "localwp", cwd=tmp_path)
        assert held.returncode == 1 and "crawl held 3 changes" in held.stdout, held.stdout + held.stderr
        again = pqwatch(*base, "crawl", "localwp", cwd=tmp_path)  # nothing new: an ok run
        assert again.returncode == 0, again.stdout + again.stderr
    failed = pqwatch(*base, "crawl", "down", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    _add_subscriptions(db_url)
    sessions = open_database(db_url)
    with sessions() as session:
        rows = {run.source: run for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id))}
    sessions.kw["bind"].dispose()

    before = utcnow()
    done = pqwatch(*base, "status", "--format", "json", cwd=tmp_path)
    after = utcnow()
    assert done.returncode == 0, done.stdout + done.stderr
    status = json.loads(done.stdout)

    parliament, statements, localwp, down = status["sources"]
    assert (statements["name"], statements["spider"], statements["schedule"]) == (
        "statements",
        "statements",
        "15 */6 * * *",
    )
    assert (parliament["name"], parliament["spider"], parliament["schedule"]) == (
        "parliament",
        "parliament",
        "45 */2 * * *",
    )
    assert parliament["last_run"] is None
    for source, schedule in ((parliament, "45 */2 * * *"), (localwp, "15 */6 * * *"), (down, "5 3 * * *")):
        assert source["next_run"] in {_next_fire(schedule, before), _next_fire(schedule, after)}
    ok, bad = rows["localwp"], rows["down"]
    assert (localwp["name"], localwp["spider"], localwp["schedule"]) == ("localwp", "blog", "15 */6 * * *")
    assert localwp["last_run"] == {
        "started_at": _stamp(ok.started_at),
        "finished_at": _stamp(ok.finished_at),
        "seconds": round((ok.finished_at - ok.started_at).total_seconds(), 1),
        "outcome": "ok",
        "counts": ok.counts,
        "reason": None,
        "trigger": "manual",
    }
    counts = localwp["last_run"]["counts"]  # the unchanged site answers 304s: read, not fetched
    assert counts["pages_fetched"] + counts["not_modified"] >= 1 and counts["errors"] == 0
    assert down["last_run"]["outcome"] == "failed" and down["last_run"]["reason"] == bad.reason
    assert bad.reason and "error" in bad.reason, bad.reason  # its wording is the crawl's
    assert down["last_run"]["counts"]["errors"] >= 1

    [hold] = status["holds_waiting"]
    assert (hold["id"], hold["state"], hold["event_count"]) == (1, "held", 3)
    assert hold["reason"].startswith("3 changes to 10 answers"), hold["reason"]
    assert status["held_events"] == 3
    assert status["subscribers"] == {"pending": 2, "confirmed": 2, "unsubscribed": 1, "suppressed": 0}
    assert status["addresses"] == 4
    assert status["digests_due"] == [
        {"frequency": "immediate", "next_due": None, "subscriptions": 0, "confirmed": 0, "due_now": 0},
        {
            "frequency": "daily",
            "next_due": _next_local(before, 7, 0),
            "subscriptions": 1,
            "confirmed": 1,
            "due_now": 1,  # its latest begun day was never sent
        },
        {
            "frequency": "weekly",
            "next_due": _next_local(before, 8, 30, weekday=0),
            "subscriptions": 1,
            "confirmed": 1,
            "due_now": 1,
        },
    ]
    assert status["last_detection"] is not None and status["undetected_versions"] == 0

    text = pqwatch(*base, "status", cwd=tmp_path)
    assert text.returncode == 0 and text.stderr == "", text.stderr
    out = text.stdout
    assert re.search(r"^  parliament +parliament +45 \*/2 \* \* \* +never run +\S+Z$", out, re.M), out
    assert re.search(
        rf"^  localwp +blog +15 \*/6 \* \* \* +{_stamp(ok.started_at)} +[\d.]+ s +ok +\S+Z$", out, re.M
    )
    assert re.search(
        rf"^  down +blog +5 3 \* \* \* +{_stamp(bad.started_at)} +[\d.]+ s +failed +\S+Z$", out, re.M
    )
    assert (
        f"  down: {bad.reason}; 0 pages fetched, 0 not modified, answers 0 new / 0 changed / 0 removed, "
        f"{bad.counts['errors']} error{'' if bad.counts['errors'] == 1 else 's'}\n" in out
    )
    assert f"holds waiting: 1 (3 events held back)\n  1  {hold['reason']}: pqwatch held release 1" in out
    assert "subscriptions: 2 pending, 2 confirmed, 1 unsubscribed, 0 suppressed; 4 addresses\n" in out
    assert re.search(rf"^  daily +{_next_local(before, 7, 0)} +1 +1 +1$", out, re.M), out
    assert re.search(r"^  immediate +after each crawl that finds changes +0 +0 +0$", out, re.M), out


def test_status_on_a_fresh_database_says_never_and_exits_0(db_url, tmp_path):
    done = pqwatch("--db", db_url, "status", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "never run" in done.stdout
    assert "last change detection: never; 0 versions not yet read" in done.stdout


@pytest.mark.parametrize(
    ("frequency", "send_time", "now", "key", "next_due"),
    [
        # GMT: a daily 07:00 is 07:00 UTC; past today's, the next is tomorrow's.
        ("daily", "07:00", datetime(2026, 11, 30, 8, 0), "daily:2026-11-30", datetime(2026, 12, 1, 7, 0)),
        # Just before today's: the latest begun is yesterday's, the next today's.
        ("daily", "07:00", datetime(2026, 11, 30, 6, 59), "daily:2026-11-29", datetime(2026, 11, 30, 7, 0)),
        # Spring forward (28 March 2027): the day is 23 hours, 07:00 BST is 06:00 UTC.
        ("daily", "07:00", datetime(2027, 3, 28, 5, 59), "daily:2027-03-27", datetime(2027, 3, 28, 6, 0)),
        # Fall back (31 October 2027): the day is 25 hours, 07:00 GMT is 07:00 UTC.
        ("daily", "07:00", datetime(2027, 10, 30, 6, 30), "daily:2027-10-30", datetime(2027, 10, 31, 7, 0)),
        # Weekly: Mondays at the send time; on a Monday past it, next Monday.
        ("weekly", "07:00", datetime(2026, 11, 30, 8, 0), "weekly:2026-W49", datetime(2026, 12, 7, 7, 0)),
        ("weekly", "07:00", datetime(2026, 12, 3, 8, 0), "weekly:2026-W49", datetime(2026, 12, 7, 7, 0)),
        # A week over the spring change: Monday 29 March 2027 07:00 BST.
        ("weekly", "07:00", datetime(2027, 3, 24, 9, 0), "weekly:2027-W12", datetime(2027, 3, 29, 6, 0)),
        ("immediate", "07:00", datetime(2026, 11, 30, 8, 0), None, None),
    ],
)
def test_digest_slots_follow_the_digest_periods_across_clock_changes(
    frequency, send_time, now, key, next_due
):
    slot = digest_slot(frequency, send_time, now)
    assert (slot.current_key, slot.next_due) == (key, next_due)
