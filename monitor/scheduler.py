"""`pqwatch run`: the scheduler daemon. Wiring only — every job is a plain function in
`monitor.jobs` that the CLI and the tests call too. APScheduler 3 keeps its jobs in the same
database; one scheduler holds a lock (a PostgreSQL advisory lock, or a file lock beside a SQLite
database) so two never run at once, and checks every few seconds that it still holds it: one that
lost it (its lock connection killed) kills its crawls and exits at once, since another scheduler
may already have taken over."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
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
from monitor.crawl.record import last_starts
from monitor.notify.digest import LONDON
from storage.db import create_db_engine, open_database
from storage.terms import Frequency

log = logging.getLogger("pqwatch.run")
LOCK_KEY = 7926_2472  # the advisory lock pqwatch's scheduler holds on PostgreSQL
DIGEST_TICK_MINUTES = 10
MISFIRE_GRACE = 3600  # a job up to an hour late still runs (once: coalesced)
LOCK_CHECK_SECONDS = 2.0  # how often a running scheduler checks that it still holds its lock
LOCK_LOST_STATUS = 3  # the exit status of a scheduler that lost its lock


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
    recent = last_starts(open_database(settings.db_url))
    now = datetime.now(LONDON)
    for source, schedule in schedules(settings).items():
        trigger = CronTrigger.from_crontab(schedule, timezone=LONDON)
        # A scheduler just started crawls at once, then on schedule: an operator sees it work;
        # but a source that ran since its trigger's previous fire time (a restart) waits for
        # its next one.
        first = {} if ran_this_interval(trigger, recent.get(source), now) else {"next_run_time": now}
        scheduler.add_job(
            jobs.crawl_job,
            trigger,
            # Why the database and config as arguments: a job runs in the daemon long after it
            # started, and must use exactly the --db and --config it was started with.
            args=[source, settings.db_url, str(settings.config_file)],
            id=f"crawl:{source}",
            name=f"crawl {source}",
            replace_existing=True,
            **first,
        )
    for frequency in Frequency:
        scheduler.add_job(
            jobs.digest_job,
            IntervalTrigger(minutes=DIGEST_TICK_MINUTES),
            # Plain strs: the job store pickles the arguments.
            args=[frequency.value, settings.db_url, str(settings.config_file)],
            id=f"digest:{frequency}",
            name=f"digest {frequency}",
            replace_existing=True,
            next_run_time=datetime.now(LONDON),
        )
    return scheduler


def ran_this_interval(trigger: CronTrigger, last_start: datetime | None, now: datetime) -> bool:
    """Whether a run started at `last_start` (naive UTC) is after the trigger's previous fire
    time: its next fire time after that start is still to come."""
    if last_start is None:
        return False
    after = trigger.get_next_fire_time(None, last_start.replace(tzinfo=UTC).astimezone(LONDON))
    return after is not None and after > now


def schedules(settings: Settings) -> dict[str, str]:
    """Crontab schedules by source name: the API every two hours, written statements and each
    blog every six."""
    found = {"parliament": settings.parliament_schedule, "statements": settings.statements_schedule}
    found.update({blog.name: blog.schedule for blog in settings.blogs})
    return found


@contextmanager
def leader_lock(db_url: str) -> Iterator[Callable[[], str | None]]:
    """Hold the one-scheduler lock for as long as the block runs; LockHeld when another has it.

    Yields a check to call now and then: None while the lock is held, else why it is lost."""
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        engine = create_db_engine(db_url)
        connection = engine.connect()
        try:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                raise LockHeld("another pqwatch scheduler is running on this database")
            connection.commit()  # a session-level lock: it outlives the transaction

            def still_held() -> str | None:
                try:
                    held = connection.execute(_HOLDS_LOCK, {"key": LOCK_KEY}).scalar()
                    connection.commit()
                except Exception as error:  # any failure of the lock's own connection loses the lock
                    return f"its lock connection failed ({type(error).__name__})"
                return None if held else "its advisory lock is no longer held"

            yield still_held
        finally:
            connection.close()  # closing the session releases the advisory lock
            engine.dispose()
        return
    path = Path(url.database or "pqwatch.sqlite3").resolve()
    lock_path = Path(str(path) + ".scheduler.lock")
    # Why not thread-local: the lock watch asks from its own thread whether this one holds it.
    lock = FileLock(str(lock_path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockHeld(f"another pqwatch scheduler is running on {path}") from None

    def file_still_held() -> str | None:
        # A removed lock file lets another scheduler lock a new one under the same name.
        return None if lock.is_locked and lock_path.exists() else f"its lock file {lock_path} is gone"

    try:
        yield file_still_held
    finally:
        lock.release()


_HOLDS_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint) = :key)"
)


class LockWatch:
    """Call `still_held` every `interval` seconds in a daemon thread; on the first loss, call
    `on_lost` with the reason once and stop watching."""

    def __init__(
        self,
        still_held: Callable[[], str | None],
        on_lost: Callable[[str], None],
        interval: float = LOCK_CHECK_SECONDS,
    ) -> None:
        self.still_held, self.on_lost, self.interval = still_held, on_lost, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pqwatch-lock-watch", daemon=True)

    def start(self) -> LockWatch:
        """Begin watching."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before the lock is released, so no check races the release)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            reason = self.still_held()
            if reason is not None:
                self.on_lost(reason)
                return


def run_daemon(settings: Settings) -> int:
    """Run the scheduler until SIGTERM or Ctrl-C; return the exit status."""
    open_database(settings.db_url)  # migrate before any job runs
    with leader_lock(settings.db_url) as still_held:
        scheduler = build_scheduler(settings)

        signals: list[int] = []

        def stop(signum: int, _frame: object) -> None:
            signals.append(signum)
            if len(signals) == 1:
                log.warning("signal %d: stopping after the running jobs finish", signum)
                scheduler.shutdown(wait=False)
                return
            # A second SIGTERM or Ctrl-C: the operator will not wait; the crawls end now, their
            # jobs see them gone and return, and the daemon stops (no orphan crawl process).
            killed = jobs.stop_running_crawls()
            cancelled = jobs.cancel_dispatched_crawls(settings.db_url) if settings.scrapyd_urls else 0
            log.warning(
                "signal %d again: killed %d running crawl processes, cancelled %d jobs on Scrapyd nodes",
                signum,
                killed,
                cancelled,
            )

        def fence(reason: str) -> None:
            # Why at once and hard: another scheduler may hold the lock already, so no job of this
            # one may write another row; a running job's thread cannot be stopped but the process can.
            # Its jobs on Scrapyd nodes are not cancelled: they may be the next leader's to read.
            log.error("lost the scheduler lock: %s; stopping and killing the running crawls", reason)
            scheduler.shutdown(wait=False)
            jobs.stop_running_crawls()
            logging.shutdown()
            os._exit(LOCK_LOST_STATUS)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)  # Ctrl-C alike: no KeyboardInterrupt traceback
        log.warning("pqwatch scheduler running: %s", ", ".join(j.name for j in scheduler.get_jobs()))
        watch = LockWatch(still_held, fence).start()
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            _wait_for_running_jobs(scheduler)
            watch.stop()
    log.warning("pqwatch scheduler stopped")
    return 0


def _wait_for_running_jobs(scheduler: BaseScheduler) -> None:
    """Wait until every job the scheduler started has returned, so "stopped" is logged last.

    Why the executor's threads: shutdown(wait=False) (what a signal handler may call) leaves
    them running; joined in short steps, the main thread still runs a second signal's handler."""
    try:
        executor = scheduler._lookup_executor("default")
    except KeyError:  # never started: no job ran
        return
    pool = getattr(executor, "_pool", None)
    threads = list(getattr(pool, "_threads", ()))
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(0.2)


def _sqlalchemy_url(db_url: str) -> str:
    url = make_url(db_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)
