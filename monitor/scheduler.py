"""`pqwatch run`: the scheduler daemon. Wiring only — every job is a plain function in
`monitor.jobs` that the CLI and the tests call too. APScheduler 3 keeps its jobs in the same
database; one scheduler holds a lock (a PostgreSQL advisory lock, or a file lock beside a SQLite
database) so two never run at once."""

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

from monitor import jobs
from monitor.config import Settings
from monitor.notify.digest import LONDON
from storage.db import create_db_engine, open_database
from storage.terms import Frequency

log = logging.getLogger("pqwatch.run")
LOCK_KEY = 7926_2472  # the advisory lock pqwatch's scheduler holds on PostgreSQL
DIGEST_TICK_MINUTES = 10
MISFIRE_GRACE = 3600  # a job up to an hour late still runs (once: coalesced)


class LockHeld(RuntimeError):
    """Another scheduler is running on this database."""


def build_scheduler(settings: Settings, kind: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with a persistent job store and the jobs of the config (replacing old ones).

    The store references each job's function by module path ("monitor.jobs:crawl_job"); a stored
    job whose function no longer loads (one of an older layout whose id the config no longer
    has) is removed by APScheduler when it is next read, with a logged error, and never run."""
    store = SQLAlchemyJobStore(url=_sqlalchemy_url(settings.db_url), tablename="apscheduler_jobs")
    scheduler = kind(
        jobstores={"default": store},
        timezone=LONDON,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    for source, schedule in schedules(settings).items():
        scheduler.add_job(
            jobs.crawl_job,
            CronTrigger.from_crontab(schedule, timezone=LONDON),
            args=[source],
            id=f"crawl:{source}",
            name=f"crawl {source}",
            replace_existing=True,
            # A scheduler just started crawls at once, then on schedule: an operator sees it work.
            next_run_time=datetime.now(LONDON),
        )
    for frequency in Frequency:
        scheduler.add_job(
            jobs.digest_job,
            IntervalTrigger(minutes=DIGEST_TICK_MINUTES),
            args=[frequency.value],  # a plain str: the job store pickles the arguments
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
