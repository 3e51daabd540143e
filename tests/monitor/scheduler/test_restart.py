"""A restarted scheduler does not crawl again at once a source that ran since its schedule last
fired (crawl_runs says when it ran); a source that did not runs at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config import load_settings
from monitor.notify.digest import LONDON
from monitor.scheduler import build_scheduler
from storage.db import open_database
from storage.models import CrawlRun
from storage.terms import utcnow


def test_a_source_run_minutes_ago_is_not_run_again_at_start(db_url, tmp_path):
    config = tmp_path / "pqwatch.toml"
    config.write_text(
        '[parliament]\nschedule = "0 3 * * *"\n'  # daily: a run a minute ago is this interval's
        '[[blog]]\nname = "recent"\nstart_urls = ["https://a.example/"]\nschedule = "0 3 * * *"\n'
        '[[blog]]\nname = "stale"\nstart_urls = ["https://b.example/"]\nschedule = "0 3 * * *"\n'
    )
    sessions = open_database(db_url)
    now = utcnow()
    with sessions.begin() as session:
        for source, started in (("recent", now - timedelta(minutes=1)), ("stale", now - timedelta(days=2))):
            session.add(
                CrawlRun(
                    source=source,
                    spider="blog",
                    trigger="schedule",
                    started_at=started,
                    finished_at=started,
                    outcome="ok",
                    counts={},
                )
            )
    scheduler = build_scheduler(load_settings(db_url=db_url, config_file=str(config)), BackgroundScheduler)
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        next_runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    soon = datetime.now(LONDON) + timedelta(minutes=1)
    assert next_runs["crawl:stale"] < soon and next_runs["crawl:parliament"] < soon  # at once
    assert next_runs["crawl:recent"] > soon  # its next fire time, 03:00
