"""Run one crawl in this process and write its counts as JSON: `python -m spiders.run`.

The CLI starts this as a subprocess because Scrapy's reactor cannot restart in one process."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from spiders import settings as default_settings
from spiders.reach import unreachable_hosts
from spiders.registry import SPIDERS

# The counts file's one key that is not a count: {host: why} for each host the crawl could not reach.
UNREACHABLE_KEY = "unreachable"
COUNTS = (
    "questions_listed",
    "pages_fetched",
    "not_modified",
    "duplicates",
    "dead_links",
    "answers_new",
    "answers_changed",
    "answers_unchanged",
    "answers_removed",
    "statement_links_new",
    "answers_pending",
    "extraction_failures",
    "errors",
)


def crawl_settings(
    db_url: str,
    delay: float,
    concurrency: int,
    progress: bool,
    verbose: bool,
    retry_base_delay: float,
    timeout: float = 30.0,
) -> Settings:
    """Return the crawl's settings: the defaults with this run's choices on top."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.set("PQWATCH_DB_URL", db_url, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", delay, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", concurrency, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS", max(8, concurrency), priority="cmdline")
    settings.set("PQWATCH_PROGRESS", progress, priority="cmdline")
    settings.set("PQWATCH_RETRY_BASE_DELAY", retry_base_delay, priority="cmdline")
    settings.set("DOWNLOAD_TIMEOUT", timeout, priority="cmdline")
    if delay == 0:
        # AutoThrottle would raise the delay again; an explicit 0 is a local benchmark.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    settings.set("LOG_LEVEL", "INFO" if verbose else "WARNING", priority="cmdline")
    return settings


# The log format of a crawl process started with --log-times (the daemon's, monitor.cli.commands).
TIMED_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def run_crawl(
    spider: str, spider_args: dict[str, Any], settings: Settings, unreachable: dict[str, str] | None = None
) -> dict[str, int]:
    """Run one spider to the end and return its pqwatch counts; each host it could not reach,
    and why, goes into `unreachable` when given."""
    settings.set("LOG_INSTALL_ROOT_HANDLER", True, priority="cmdline")
    # Why: Scrapy imports every spider module at start-up; this crawl needs its own only.
    settings.set("SPIDER_MODULES", [SPIDERS[spider].module], priority="cmdline")
    process = CrawlerProcess(settings)
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spider_args)
    process.start()
    if unreachable is not None and crawler.stats:
        unreachable.update(unreachable_hosts(crawler.stats.get_stats()))
    return crawl_counts(crawler.stats.get_stats() if crawler.stats else {})


def crawl_counts(stats: dict[str, Any]) -> dict[str, int]:
    """A finished crawl's pqwatch counts, from its stats (a crawl stopped early: one error more)."""
    counts = {name: int(stats.get(f"pqwatch/{name}", 0)) for name in COUNTS}
    counts["requests"] = int(stats.get("downloader/request_count", 0))
    if stats.get("finish_reason") not in ("finished", None):
        counts["errors"] += 1
        logging.getLogger("pqwatch.crawl").error("crawl stopped early: %s", stats.get("finish_reason"))
    return counts


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, crawl, write the counts; exit 1 when the crawl met errors."""
    parser = argparse.ArgumentParser(prog="python -m spiders.run")
    parser.add_argument("spider", choices=sorted(SPIDERS))
    parser.add_argument("--db", required=True)
    parser.add_argument("--args", default="{}", help="the spider's arguments as a JSON object")
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--retry-base-delay", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--progress-position", type=int, default=0, help="this process's bar, from 0")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--log-times", action="store_true", help="start every log line with its time")
    parser.add_argument("--counts-file", type=Path, required=True)
    parser.add_argument(
        "--wait-for-go", action="store_true", help="load everything, then wait for a line 'go' on stdin"
    )
    args = parser.parse_args(argv)
    if args.wait_for_go:
        # Why: the CLI opens (and migrates) the database while this process loads Scrapy and
        # the spider; an end of input instead of "go" means it could not, and it says why.
        importlib.import_module(SPIDERS[args.spider].module)
        if sys.stdin.readline().strip() != "go":
            return 3
    settings = crawl_settings(
        args.db,
        args.delay,
        args.concurrency,
        args.progress,
        args.verbose,
        args.retry_base_delay,
        args.timeout,
    )
    settings.set("PQWATCH_PROGRESS_POSITION", args.progress_position, priority="cmdline")
    if args.log_times:
        settings.set("LOG_FORMAT", TIMED_LOG_FORMAT, priority="cmdline")
        settings.set("LOG_DATEFORMAT", LOG_DATE_FORMAT, priority="cmdline")
    unreachable: dict[str, str] = {}
    counts = run_crawl(args.spider, json.loads(args.args), settings, unreachable)
    # Beside the counts: each unreachable host and why (monitor.crawl.runner reads it out).
    args.counts_file.write_text(json.dumps({**counts, UNREACHABLE_KEY: unreachable}))
    return 1 if counts["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
