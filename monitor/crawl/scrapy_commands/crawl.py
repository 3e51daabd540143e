"""`scrapy crawl NAME -a ARG=VALUE` from the project root, doing what `pqwatch crawl` does.

Scrapy's own `crawl` runs the spider and exits 0 whatever happened. This one, in its place:
reads PQWATCH_* from the environment and ./.env (the database, delay, per-host concurrency,
retry and timeout, as `pqwatch crawl` does; a `-s NAME=VALUE` still wins), checks the spider's
`-a` arguments first (a bad one is one line and exit 2; their forms are in spiders.arguments and
each spider's docstring), opens and migrates the database, crawls in this process with the
project's politeness and safety settings, then detects the changes the crawl stored, records the
run in crawl_runs, prints the summary line `pqwatch crawl` prints, and exits 1 when the crawl
failed (errors, an unreachable host, a mass change held) and 0 when it did not.

It takes the same per-host crawl locks as `pqwatch crawl` (waiting up to a minute for another
crawl of a host to end, then failing with exit 1), so two crawls of one host never overlap
whichever way they were started.

On a Scrapyd node (which runs `scrapy crawl NAME -a _job=ID ...`), a job pqwatch dispatched has
a crawl_jobs row of that id (monitor.crawl.dispatch): the command claims it, crawls and stores,
and reports its counts or its failure on the row, detecting nothing (the leader does). A job
whose row has left "dispatched" does not crawl; one without a row (scheduled by hand) runs as
above."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from spiders.registry import SPIDERS

HOST_LOCK_WAIT = 60.0  # seconds, as CrawlOptions.host_lock_wait (-s PQWATCH_HOST_LOCK_WAIT=S)

# PQWATCH settings (monitor.config.Settings field) -> the Scrapy setting each becomes.
_FROM_CONFIG = {
    "db_url": "PQWATCH_DB_URL",
    "download_delay": "DOWNLOAD_DELAY",
    "concurrency_per_host": "CONCURRENT_REQUESTS_PER_DOMAIN",
    "retry_base_delay": "PQWATCH_RETRY_BASE_DELAY",
    "download_timeout": "DOWNLOAD_TIMEOUT",
    "full_verify_days": "PQWATCH_FULL_VERIFY_DAYS",
}


class Command(ScrapyCrawl):
    """Scrapy's `crawl`, with pqwatch's configuration, storage, change detection and exit status."""

    def short_desc(self) -> str:
        """The line `scrapy -h` shows."""
        return "Run a pqwatch spider as `pqwatch crawl` does: store, detect changes, exit 1 on errors"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then pqwatch's configuration under them (a -s setting wins)."""
        super().process_options(args, opts)
        from monitor.config import ConfigError, load_settings

        assert self.settings is not None
        try:
            config = load_settings()
        except ConfigError as error:
            raise UsageError(str(error), print_help=False) from None
        for field, name in _FROM_CONFIG.items():
            # Why "project": the priority of spiders.settings, below the -s of "cmdline".
            self.settings.set(name, getattr(config, field), priority="project")
        if config.download_delay == 0:  # as spiders.run: AutoThrottle would raise it again
            self.settings.set("AUTOTHROTTLE_ENABLED", False, priority="project")
        self.config = config

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Check the arguments, crawl, detect and record; set the exit status."""
        if len(args) != 1:
            raise UsageError("give one spider: scrapy crawl blog|parliament|pages -a NAME=VALUE ...")
        name, spargs = args[0], dict(opts.spargs)
        self.job_id: str | None = spargs.pop("_job", None)  # Scrapyd's job id (scrapyd.launcher)
        self.claimed = False
        if name == "parliament":  # as `pqwatch crawl parliament`: the configured API's routine run
            from spiders.sources.api.windows import routine_windows
            from storage.terms import utcnow as now

            spargs.setdefault("api_base", self.config.api_base)
            spargs.setdefault("refresh_days", str(self.config.refresh_days))
            if "windows" not in spargs:
                spargs["windows"] = routine_windows(now().date())
        if name not in SPIDERS:
            return self._fail(f"no spider {name!r} (known: {', '.join(sorted(SPIDERS))})", 2)
        assert self.crawler_process is not None and self.settings is not None
        from spiders.arguments import ArgumentError

        spidercls = self.crawler_process.spider_loader.load(name)
        try:
            checked = spidercls(**spargs)  # the spider's own checks, before anything starts
        except (ArgumentError, TypeError) as error:
            return self._fail(f"{name}: {error}", 2)
        from monitor.crawl.processes import HostBusy, crawl_hosts, host_lock
        from monitor.crawl.record import MANUAL, record_run
        from monitor.crawl.runner import finish_crawl, full_hosts_of, summary_line
        from spiders.reach import unreachable_hosts
        from spiders.run import crawl_counts
        from storage.db import open_database
        from storage.errors import DatabaseError
        from storage.terms import utcnow

        try:
            sessions = open_database(self.settings["PQWATCH_DB_URL"])  # and migrated
        except DatabaseError as error:
            return self._fail(str(error), 1)
        if self.job_id is not None:
            from monitor.crawl.dispatch import UNKNOWN, claim_job

            state = claim_job(sessions, self.job_id)
            self.claimed = state == "running"
            if not self.claimed and state != UNKNOWN:
                print(f"scrapy crawl: job {self.job_id} is {state}: not crawling", flush=True)
                return
            self.job_id = self.job_id if self.claimed else None  # no row: a job scheduled by hand
        args_seen = _spider_args(checked)
        started = utcnow()
        full_hosts: frozenset[str] = frozenset()
        if name == "blog":
            days = self.settings.getfloat("PQWATCH_FULL_VERIFY_DAYS")
            full_hosts = full_hosts_of(sessions, args_seen, started, days)
        crawler = self._create_crawler(name)
        with ExitStack() as locks:
            try:
                wait = self.settings.getfloat("PQWATCH_HOST_LOCK_WAIT", HOST_LOCK_WAIT)
                for host in sorted(crawl_hosts(args_seen)):
                    locks.enter_context(host_lock(self.settings["PQWATCH_DB_URL"], host, wait))
            except HostBusy as error:
                return self._fail(f"{name}: crawl failed: {error}", 1)
            self.crawler_process.crawl(crawler, **spargs)
            self.crawler_process.start()
        stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
        if self.crawler_process.bootstrap_failed or not stats:
            return self._fail(f"{name}: the spider could not start (see the log above)", 1)
        hosts = unreachable_hosts(stats)
        if self.claimed and self.job_id is not None:
            return self._report(sessions, {**crawl_counts(stats), "unreachable": hosts})
        result = finish_crawl(
            sessions,
            name,
            args_seen,
            crawl_counts(stats),
            started,
            full_hosts,
            unreachable=tuple(f"{host} ({why})" for host, why in sorted(hosts.items())),
            mass_change_threshold=self.config.mass_change_threshold,
        )
        source = _source_name(self.config, name, args_seen)
        record_run(sessions, source, name, MANUAL, started, result)
        print(f"{source}: {summary_line(result)}", flush=True)
        self.exitcode = 1 if result.failed else 0

    def _report(self, sessions: Any, counts: dict[str, Any]) -> None:
        """A dispatched job's end: its counts on its crawl_jobs row, for the leader to detect."""
        from monitor.crawl.dispatch import report_job

        assert self.job_id is not None
        kept = report_job(sessions, self.job_id, counts, None)
        errors = counts.get("errors", 0)
        note = "" if kept else " (too late: the leader gave this job up as lost)"
        print(f"scrapy crawl: job {self.job_id} reported: {errors} errors{note}", flush=True)
        self.exitcode = 1 if errors else 0

    def _fail(self, message: str, status: int) -> None:
        """One line on stderr, and the exit status; a dispatched job reports the failure on its row."""
        print(f"scrapy crawl: {message}", file=sys.stderr, flush=True)
        self.exitcode = status
        if getattr(self, "job_id", None) is not None:
            _report_failure(
                self.settings["PQWATCH_DB_URL"] if self.settings else "", self.job_id or "", message
            )


def _report_failure(db_url: str, job_id: str, message: str) -> None:
    """Report a dispatched job that could not crawl (bad arguments, a busy host) on its row, so
    its leader does not take it for lost and dispatch it again."""
    from monitor.crawl.dispatch import UNKNOWN, claim_job, report_job
    from storage.db import open_database
    from storage.errors import DatabaseError

    try:
        sessions = open_database(db_url)
        if claim_job(sessions, job_id) in (UNKNOWN, "lost", "failed", "finished"):
            return  # not ours to report: no row, or one that has ended
        report_job(sessions, job_id, {}, message)
    except DatabaseError:
        pass  # nowhere to report: the leader sees the job end without a report


def _spider_args(spider: Any) -> dict[str, Any]:
    """The arguments as the spider read them (lists, not -a strings), for detection's scope and
    the blog hosts' marks."""
    args: dict[str, Any] = {}
    for name in ("start_urls", "urls"):
        if getattr(spider, name, None):
            args[name] = list(getattr(spider, name))
    if getattr(spider, "api_base", None):
        args["api_base"] = spider.api_base
    if getattr(spider, "full", False):
        args["full"] = True
    return args


def _source_name(config: Any, spider: str, args: dict[str, Any]) -> str:
    """The source's name in summaries and crawl_runs, as `pqwatch crawl` names it: a configured
    blog's name (same start URLs), else the first start URL's host; "parliament", "pages"."""
    urls = args.get("start_urls") or []
    if spider != "blog" or not urls:
        return spider
    for blog in config.blogs:
        if list(blog.start_urls) == urls:
            return str(blog.name)
    return urlsplit(urls[0]).hostname or urls[0]
