"""`pqwatch run`: the scheduler daemon. Wiring only — every job is a plain function the CLI and
the tests call too. APScheduler 3 keeps its jobs in the same database; one scheduler holds a lock
(a PostgreSQL advisory lock, or a file lock beside a SQLite database) so two never run at once."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import make_url

from monitor.config import Settings, load_settings
from monitor.crawl.runner import CrawlOptions, configured_crawls, run_crawl, summary_line
from monitor.notify.digest import LONDON, mailer_for, send_due_digests, utcnow
from storage.db import create_db_engine, open_database

log = logging.getLogger("pqwatch.run")
LOCK_KEY = 7926_2472  # the advisory lock pqwatch's scheduler holds on PostgreSQL
DIGEST_TICK_MINUTES = 10
MISFIRE_GRACE = 3600  # a job up to an hour late still runs (once: coalesced)


class LockHeld(RuntimeError):
    """Another scheduler is running on this database."""


# ---------------------------------------------------------------------------------------------
# Jobs: plain functions with plain arguments (the job store pickles references to them)


def crawl_job(source: str) -> dict[str, int]:
    """Crawl one configured source in a subprocess, detect changes, send immediate digests."""
    settings = load_settings()
    sessions = open_database(settings.db_url)
    options = CrawlOptions(
        delay=settings.download_delay,
        concurrency=settings.concurrency_per_host,
        retry_base_delay=settings.retry_base_delay,
        timeout=settings.download_timeout,
    )
    spider, args = configured_crawls(settings, utcnow().date())[source]
    result = run_crawl(sessions, settings.db_url, spider, args, options)
    log.info("crawl %s: %s", source, summary_line(result))
    if result.events:
        digest_job("immediate")
    return result.counts


def digest_job(frequency: str) -> None:
    """Send every digest of one frequency that is due now."""
    settings = load_settings()
    sessions = open_database(settings.db_url)
    run = send_due_digests(sessions, mailer_for(settings, sessions), utcnow(), frequency=frequency)
    log.info(
        "digest %s: %d sent, %d already sent, %d with nothing to report, %d failed, %d suppressed",
        frequency,
        run.sent,
        run.skipped_already_sent,
        run.nothing_to_report,
        run.failed,
        run.suppressed,
    )


# ---------------------------------------------------------------------------------------------
# Wiring


def build_scheduler(settings: Settings, kind: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with a persistent job store and the jobs of the config (replacing old ones)."""
    store = SQLAlchemyJobStore(url=_sqlalchemy_url(settings.db_url), tablename="apscheduler_jobs")
    scheduler = kind(
        jobstores={"default": store},
        timezone=LONDON,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    for source, schedule in schedules(settings).items():
        scheduler.add_job(
            crawl_job,
            CronTrigger.from_crontab(schedule, timezone=LONDON),
            args=[source],
            id=f"crawl:{source}",
            name=f"crawl {source}",
            replace_existing=True,
            # A scheduler just started crawls at once, then on schedule: an operator sees it work.
            next_run_time=datetime.now(LONDON),
        )
    for frequency in ("immediate", "daily", "weekly"):
        scheduler.add_job(
            digest_job,
            IntervalTrigger(minutes=DIGEST_TICK_MINUTES),
            args=[frequency],
            id=f"digest:{frequency}",
            name=f"digest {frequency}",
            replace_existing=True,
            next_run_time=datetime.now(LONDON),
        )
    return scheduler


def schedules(settings: Settings) -> dict[str, str]:
    """Crontab schedules by source name: the API every two hours, each blog every six."""
    found = {"parliament": settings.parliament_schedule}
    found.update({blog.name: blog.schedule for blog in settings.blogs})
    return found


@contextmanager
def leader_lock(db_url: str) -> Iterator[None]:
    """Hold the one-scheduler lock for as long as the block runs; LockHeld when another has it."""
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        engine = create_db_engine(db_url)
        connection = engine.connect()
        try:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                raise LockHeld("another pqwatch scheduler is running on this database")
            yield
        finally:
            connection.close()  # closing the session releases the advisory lock
            engine.dispose()
        return
    path = Path(url.database or "pqwatch.sqlite3").resolve()
    lock = FileLock(str(path) + ".scheduler.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockHeld(f"another pqwatch scheduler is running on {path}") from None
    try:
        yield
    finally:
        lock.release()


def run_daemon(settings: Settings) -> int:
    """Run the scheduler until SIGTERM or Ctrl-C; return the exit status."""
    open_database(settings.db_url)  # migrate before any job runs
    with leader_lock(settings.db_url):
        scheduler = build_scheduler(settings)

        def stop(signum: int, _frame: object) -> None:
            log.warning("signal %d: stopping after the running jobs finish", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        log.warning("pqwatch scheduler running: %s", ", ".join(j.name for j in scheduler.get_jobs()))
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
    log.warning("pqwatch scheduler stopped")
    return 0


def _sqlalchemy_url(db_url: str) -> str:
    url = make_url(db_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)
