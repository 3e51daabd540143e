"""The scheduler is wiring: it registers the plain functions of monitor.jobs, and a job store
written by an older layout (jobs referenced as "monitor.scheduler:crawl_job") does not stop it."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, text

from monitor.config import load_settings
from monitor.notify.digest import LONDON
from monitor.scheduler import build_scheduler
from storage.db import open_database

CURRENT = {
    "crawl:parliament",
    "crawl:statements",
    "crawl:davidalton.net",
    "digest:immediate",
    "digest:daily",
    "digest:weekly",
}


def started(db_url: str) -> BackgroundScheduler:
    """A scheduler of the default config on db_url, started paused: nothing runs."""
    scheduler = build_scheduler(load_settings(db_url=db_url), BackgroundScheduler)
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)
    return scheduler


def test_the_jobs_are_the_plain_functions_of_monitor_jobs(db_url):
    open_database(db_url)
    scheduler = started(db_url)
    config = str(load_settings(db_url=db_url).config_file)
    try:
        refs = {job.id: (job.func_ref, job.args) for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    # Each job carries the daemon's database and config: it never re-reads them from elsewhere.
    assert refs["crawl:parliament"] == ("monitor.jobs:crawl_job", ("parliament", db_url, config))
    assert refs["digest:weekly"] == ("monitor.jobs:digest_job", ("weekly", db_url, config))
    assert all(type(arg) is str for arg in refs["digest:weekly"][1])  # plain strs are pickled


def test_a_job_store_of_the_old_layout_is_replaced_and_its_orphans_dropped_unrun(db_url):
    open_database(db_url)
    started(db_url).shutdown(wait=False)  # the store exists, with today's jobs
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all()
        for job_id, blob in rows:  # rewrite every job as the old layout stored it
            state = pickle.loads(blob)
            state["func"] = state["func"].replace("monitor.jobs:", "monitor.scheduler:")
            connection.execute(
                text("UPDATE apscheduler_jobs SET job_state = :s WHERE id = :id"),
                {"s": pickle.dumps(state), "id": job_id},
            )
        # ... and one for a blog since removed from the config, due now
        state = pickle.loads(rows[0][1])
        state.update(id="crawl:gone", args=("gone",), func="monitor.scheduler:crawl_job")
        due = (datetime.now(LONDON) - timedelta(minutes=1)).timestamp()
        connection.execute(
            text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (:id, :t, :s)"),
            {"id": "crawl:gone", "t": due, "s": pickle.dumps(state)},
        )
    engine.dispose()
    scheduler = started(db_url)
    try:
        store = scheduler._lookup_jobstore("default")
        # What the running scheduler reads on each wake-up: the orphan cannot load, so it goes.
        assert "crawl:gone" not in {job.id for job in store.get_due_jobs(datetime.now(LONDON))}
        jobs = {job.id: job.func_ref for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == CURRENT
    assert all(ref.startswith("monitor.jobs:") for ref in jobs.values())
