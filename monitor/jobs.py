"""The scheduled jobs: plain functions with plain arguments, which the scheduler runs (its job
store keeps a reference to each by module path, "monitor.jobs:crawl_job") and the CLI and the
tests call directly. Each reads the settings and opens the database itself, since a job may run
in a scheduler started long before; the scheduler passes the database URL and config file it was
started with (`pqwatch --db URL --config FILE run`), so a job never falls back on the environment
or the bundled config."""

from __future__ import annotations

import logging

from monitor.config import load_settings
from monitor.crawl.plans import configured_crawls, source_shards
from monitor.crawl.processes import HostBusy, kill_running_crawls
from monitor.crawl.record import SCHEDULE, recorded_crawl
from monitor.crawl.runner import CrawlOptions, summary_line
from monitor.notify.digest import mailer_for, send_due_digests
from storage.db import open_database
from storage.terms import Frequency, utcnow

log = logging.getLogger("pqwatch.run")


def crawl_job(source: str, db_url: str | None = None, config_file: str | None = None) -> dict[str, int]:
    """Crawl one configured source (in a subprocess, or as jobs on the Scrapyd nodes of
    PQWATCH_SCRAPYD_URLS), detect changes, send immediate digests.

    `db_url` and `config_file` (the daemon's) win over the environment, as the flags do."""
    settings = load_settings(db_url=db_url, config_file=config_file)
    sessions = open_database(settings.db_url)
    options = CrawlOptions(
        delay=settings.download_delay,
        concurrency=settings.concurrency_per_host,
        retry_base_delay=settings.retry_base_delay,
        timeout=settings.download_timeout,
        full_verify_days=settings.full_verify_days,
        log_times=True,  # its lines land in the daemon's log, among the daemon's timed ones
        nodes=settings.scrapyd_urls,  # none: a local crawl process
        shards=source_shards(settings, source),
    )
    spider, args = configured_crawls(settings, utcnow().date())[source]
    try:
        result = recorded_crawl(sessions, settings.db_url, source, spider, args, options, SCHEDULE)
    except HostBusy as error:  # another crawl of the host (a manual one, another scheduler) runs
        log.error("crawl %s: %s", source, error)
        return {"errors": 1}
    (log.error if result.failed else log.info)("crawl %s: %s", source, summary_line(result))
    if result.events:
        digest_job(Frequency.IMMEDIATE, settings.db_url, str(settings.config_file))
    return result.counts


def digest_job(frequency: str, db_url: str | None = None, config_file: str | None = None) -> None:
    """Send every digest of one frequency ("immediate", "daily", "weekly") that is due now, with
    the daemon's `db_url` and `config_file` when given."""
    settings = load_settings(db_url=db_url, config_file=config_file)
    sessions = open_database(settings.db_url)
    frequency = Frequency(frequency)
    run = send_due_digests(sessions, mailer_for(settings, sessions), utcnow(), frequency=frequency)
    # One line either way; a run that did not do its job says so at error level.
    (log.info if run.ok else log.error)("digest %s: %s", frequency, run.summary())


def cancel_dispatched_crawls(db_url: str) -> int:
    """Cancel every crawl job this process is watching on a Scrapyd node (a second SIGTERM)."""
    from monitor.crawl.dispatch import cancel_jobs

    return cancel_jobs(open_database(db_url))


def stop_running_crawls() -> int:
    """Kill every crawl process this process is running (a scheduler that lost its lock)."""
    return kill_running_crawls()
