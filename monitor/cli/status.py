"""`pqwatch status`: the schedule-derived times (the scheduler's cron triggers, the digest's
periods) that monitor.queries.status is given, and the command's output."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from monitor.config import Settings
from monitor.crawl.plans import configured_crawls
from monitor.notify.digest import LONDON, latest_period
from monitor.queries.status import ConfiguredSource, DigestSlot, NodeStatus, StatusView, monitor_status
from monitor.scheduler import schedules
from storage.terms import Frequency

# How far past a period's start the next period surely has begun and the one after has not:
# a day is 23 to 25 hours across a clock change, so 26 hours lands inside the next day's period.
_NEXT_PERIOD_PROBE = {Frequency.DAILY: timedelta(hours=26), Frequency.WEEKLY: timedelta(days=7, hours=2)}


def configured_sources(settings: Settings, now: datetime) -> list[ConfiguredSource]:
    """Every source of the config (the API first, then each blog) with its crontab and the
    next time the scheduler fires it after `now` (naive UTC), as `pqwatch run` schedules it."""
    spiders = {name: spider for name, (spider, _) in configured_crawls(settings, now.date()).items()}
    moment = now.replace(tzinfo=UTC).astimezone(LONDON)
    found = []
    for name, schedule in schedules(settings).items():
        fire = CronTrigger.from_crontab(schedule, timezone=LONDON).get_next_fire_time(None, moment)
        next_run = None if fire is None else fire.astimezone(UTC).replace(tzinfo=None)
        found.append(ConfiguredSource(name, spiders.get(name, "blog"), schedule, next_run))
    return found


def digest_slot(frequency: str, send_time: str, now: datetime) -> DigestSlot:
    """Where a subscription's digests stand at `now` (naive UTC), by the digest's own periods
    (monitor.notify.digest.latest_period): the latest begun period's key and the next one's start."""
    current = latest_period(frequency, send_time, now)
    if current is None:  # immediate: no periods
        return DigestSlot(None, None)
    following = latest_period(frequency, send_time, current.start + _NEXT_PERIOD_PROBE[Frequency(frequency)])
    return DigestSlot(current.key, None if following is None else following.start)


def read_status(settings: Settings, now: datetime) -> StatusView:
    """The status of the database and config in `settings` at `now` (naive UTC), with each
    Scrapyd node of the settings as it answers now."""
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    try:
        with sessions() as session:
            status = monitor_status(
                session, sources=configured_sources(settings, now), digest_slots=digest_slot, now=now
            )
    finally:
        sessions.kw["bind"].dispose()
    return replace(status, nodes=tuple(node_status(url) for url in settings.scrapyd_urls))


def node_status(url: str) -> NodeStatus:
    """One node as it answers daemonstatus.json and listversions.json now."""
    from monitor.crawl.scrapyd import Node, NodeError

    node = Node(url, timeout=5.0)
    try:
        load = node.load()
        versions = node.versions()
    except NodeError as error:
        return NodeStatus(node.name, reachable=False, error=str(error))
    return NodeStatus(node.name, True, load.running, load.pending, versions[-1] if versions else None)


def print_status(settings: Settings, output_format: str, now: datetime) -> int:
    """Print the status as text or JSON; return the exit status (0)."""
    status = read_status(settings, now)
    if output_format == "json":
        print(json.dumps(status.as_json(), ensure_ascii=False, indent=1))
        return 0
    for line in status.lines():
        print(line)
    return 0
