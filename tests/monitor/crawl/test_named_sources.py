"""Named sources through the installed `pqwatch` command: `pqwatch crawl NAME` crawls a configured
source, summaries use its name, every run lands in crawl_runs, and bad input is a one-line error
with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from monitor.config import ConfigError, load_settings
from monitor.notify.digest import LONDON
from monitor.scheduler import ran_this_interval
from storage.db import open_database
from storage.models import CrawlRun

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


def pqwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PQWATCH_DOWNLOAD_DELAY": "0"}
    env.pop("PQWATCH_CONFIG", None)
    return subprocess.run([PQWATCH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def runs(db_url: str) -> list[CrawlRun]:
    with open_database(db_url)() as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def test_crawl_name_runs_the_configured_blog_and_records_the_run(site, db_url, tmp_path):
    config = tmp_path / "pqwatch.toml"
    config.write_text(f'[[blog]]\nname = "localwp"\nstart_urls = ["{site.url}/"]\n')
    done = pqwatch("--db", db_url, "--config", str(config), "crawl", "localwp", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("localwp: crawl finished: 3 pages fetched"), done.stdout
    [run] = runs(db_url)
    assert (run.source, run.spider, run.trigger, run.outcome) == ("localwp", "blog", "manual", "ok")
    assert run.counts["answers_new"] == 3 and run.reason is None
    assert run.finished_at is not None and run.finished_at >= run.started_at


def test_a_failed_crawl_is_recorded_failed_with_its_reason(db_url, tmp_path):
    # Nothing listens on port 9: every request is refused.
    done = pqwatch("--db", db_url, "crawl", "blog", "--start-url", "http://127.0.0.1:9/", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("127.0.0.1: crawl finished with errors"), done.stdout
    [run] = runs(db_url)
    assert (run.source, run.outcome) == ("127.0.0.1", "failed")
    # Issue 12: the reason names the unreachable host (one counted error for it).
    assert run.reason == "host unreachable: 127.0.0.1:9 (connection refused)" and run.counts["errors"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "localwp"], "unknown source 'localwp'"),
        (["crawl", "blog", "--start-url", "http://a b/"], "contains a space"),
        (["crawl", "blog", "--start-url", "http://127.0.0.1:9/", "--max-pages", "-1"], "--max-pages"),
    ],
)
def test_bad_crawl_input_is_one_line_and_exit_2(args, message, tmp_path):
    done = pqwatch("--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["blog", "pages", "parliament"])
def test_a_blog_named_like_a_spider_is_a_config_error(name, tmp_path):
    config = tmp_path / "pqwatch.toml"
    config.write_text(f'[[blog]]\nname = "{name}"\nstart_urls = ["https://example.org/"]\n')
    with pytest.raises(ConfigError, match="spider's name"):
        load_settings({}, config_file=str(config))


def test_a_source_that_ran_since_its_last_fire_time_waits_for_the_next():
    trigger = CronTrigger.from_crontab("0 */6 * * *", timezone=LONDON)  # 00:00, 06:00, 12:00, 18:00
    now = datetime(2026, 12, 3, 8, 40, tzinfo=LONDON)  # December: London is UTC
    ran_at = lambda hour, minute: datetime(2026, 12, 3, hour, minute)  # noqa: E731 (naive UTC)
    assert ran_this_interval(trigger, ran_at(7, 0), now)  # after 06:00: not again until 12:00
    assert not ran_this_interval(trigger, ran_at(5, 59), now)  # before 06:00: it is due
    assert not ran_this_interval(trigger, None, now)  # never ran: at once
    assert not ran_this_interval(trigger, (now - timedelta(days=2)).astimezone(UTC).replace(tzinfo=None), now)
