"""The crawling commands: `crawl`, `run` (the daemon), `status`, `held`, `reparse` and `demo`."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from monitor.cli.base import HOUSES, LOG_DATE_FORMAT, TIMED_LOG_FORMAT, UsageError
from monitor.config import Settings, check_http_url
from monitor.crawl.plans import (
    configured_crawls,
    parliament_args,
    routine_statements,
    run_backfill,
    source_shards,
    statements_args,
)
from monitor.crawl.processes import HostBusy
from monitor.crawl.record import MANUAL, recorded_crawl
from monitor.crawl.runner import CrawlOptions, summary_line
from spiders.registry import SPIDERS
from spiders.sources.api.windows import DATE_KINDS, Window, routine_windows, window
from storage.terms import utcnow


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the crawling commands to the parser."""
    crawl = commands.add_parser("crawl", help="crawl a source (or every source in the config)")
    crawl.set_defaults(run=cmd_crawl)
    crawl.add_argument(
        "source",
        nargs="?",
        help="blog, parliament, statements or pages (or nothing: every source in the config)",
    )
    crawl.add_argument("--start-url", action="append", default=[], metavar="URL")
    crawl.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="pages: a questions-statements.parliament.uk detail page or a historic Hansard page",
    )
    crawl.add_argument("--any-host", action="store_true", help="pages: allow --url off the official hosts")
    crawl.add_argument(
        "--max-pages", type=int, default=0, metavar="N", help="walk at most N listing pages (default: all)"
    )
    crawl.add_argument("--api-base", metavar="URL", help="Written Questions API base URL")
    crawl.add_argument("--house", choices=(*HOUSES, "Bicameral"))  # the API's word for both
    for name in DATE_KINDS:
        crawl.add_argument(f"--{name}-from", metavar="D", help=f"{name} on or after D (YYYY-MM-DD)")
        crawl.add_argument(f"--{name}-to", metavar="D", help=f"{name} on or before D (YYYY-MM-DD)")
    crawl.add_argument("--made-from", metavar="D", help="statements: made on or after D (YYYY-MM-DD)")
    crawl.add_argument("--made-to", metavar="D", help="statements: made on or before D (YYYY-MM-DD)")
    crawl.add_argument("--backfill", nargs=2, metavar=("FROM", "TO"), help="answered dates, resumable")
    crawl.add_argument("--full-refresh", action="store_true", help="read every detail, changed or not")
    crawl.add_argument(
        "--full",
        action="store_true",
        help="blog: a full verification now (every post re-read; else every PQWATCH_FULL_VERIFY_DAYS)",
    )
    crawl.add_argument("--delay", type=float, help="seconds between requests to one host")
    crawl.add_argument("--concurrency", type=int, help="requests at a time per host")

    deploy = commands.add_parser("deploy", help="upload pqwatch's egg to every Scrapyd node")
    deploy.set_defaults(run=cmd_deploy)
    deploy.add_argument(
        "--node", action="append", default=[], metavar="URL", help="a node (default: PQWATCH_SCRAPYD_URLS)"
    )
    deploy.add_argument(
        "--requirements",
        action="store_true",
        help="print what a node must have installed (pip install -r), and deploy nothing",
    )

    commands.add_parser("run", help="the scheduler daemon: crawls and digests on schedule").set_defaults(
        run=cmd_run
    )
    commands.add_parser("demo", help="the whole cycle offline, on bundled sample pages").set_defaults(
        run=cmd_demo
    )
    commands.add_parser(
        "reparse", help="re-derive stored answers from their raw bodies (after an upgrade)"
    ).set_defaults(run=cmd_reparse)
    held = commands.add_parser("held", help="list mass changes held from digests, or decide one")
    held.set_defaults(run=cmd_held)
    held.add_argument("action", nargs="?", choices=("release", "discard"))
    held.add_argument("hold", nargs="?", type=int, metavar="N")
    held.add_argument("--format", choices=("json", "text"), default="text")
    status = commands.add_parser(
        "status", help="sources, last and next runs, holds waiting, subscribers and digests due"
    )
    status.set_defaults(run=cmd_status)
    status.add_argument("--format", choices=("json", "text"), default="text")


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    """Crawl the named source, or every source in the config."""
    options = CrawlOptions(
        delay=settings.download_delay if args.delay is None else args.delay,
        concurrency=settings.concurrency_per_host if args.concurrency is None else args.concurrency,
        retry_base_delay=settings.retry_base_delay,
        timeout=settings.download_timeout,
        full_verify_days=settings.full_verify_days,
        progress=sys.stderr.isatty(),
        verbose=args.verbose,
        nodes=settings.scrapyd_urls,
    )
    if settings.scrapyd_urls:  # each job's dispatch and end as they happen, with their times
        logging.getLogger("pqwatch.crawl").setLevel(logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(TIMED_LOG_FORMAT, LOG_DATE_FORMAT))
    if options.delay < 0 or options.concurrency < 1:
        raise UsageError("--delay must be at least 0 and --concurrency at least 1")
    if args.max_pages < 0:
        raise UsageError("--max-pages must be at least 0 (0: every listing page)")
    configured = configured_crawls(settings, utcnow().date())
    if args.source is not None and args.source not in SPIDERS:
        if args.source not in configured:
            known = ", ".join(dict.fromkeys([*SPIDERS, *configured]))
            raise UsageError(f"unknown source {args.source!r} (known: {known})")
        return _crawl_named(args, settings, options, args.source, configured[args.source])
    if bool(args.url) != (args.source == "pages"):
        raise UsageError("crawl pages needs --url URL, and --url needs the source pages")
    if args.url:
        from spiders.sources.pages.kinds import page_kind  # the parsers: only to check --url
    for url in args.url:
        if page_kind(check_http_url(url, "--url")) is None:
            raise UsageError(
                f"--url {url!r} is not a written-question detail page or a historic Hansard page"
            )
        if not (args.any_host or official_page_url(url)):
            raise UsageError(f"--url {url!r} is not on an official Parliament host (--any-host allows it)")
    if args.full and args.source != "blog":
        raise UsageError("--full needs the blog source: pqwatch crawl blog --start-url URL --full")
    if args.start_url and args.source != "blog":
        raise UsageError("--start-url needs a source: pqwatch crawl blog --start-url URL")
    if args.source == "blog" and not args.start_url:
        raise UsageError("crawl blog needs --start-url URL")
    for url in args.start_url:
        check_http_url(url, "--start-url")
    api_base = check_http_url(args.api_base or settings.api_base, "--api-base")
    windows = _windows(args)
    if (windows or args.backfill) and args.source != "parliament":
        raise UsageError("date windows and --backfill need a source: pqwatch crawl parliament ...")
    parliament = parliament_args(
        api_base,
        windows or routine_windows(utcnow().date()),
        args.house,
        args.full_refresh,
        settings.refresh_days,
    )
    statements = _statements(args, api_base)
    if args.backfill:
        start, end = (_date_arg("--backfill", value) for value in args.backfill)
        if start > end:
            raise UsageError("--backfill FROM must not be after TO")
        from storage.db import open_database

        opened = open_database(settings.db_url)
        return 0 if run_backfill(opened, settings.db_url, parliament, start, end, options) else 1
    # (source name, spider, arguments): the name is what summaries and crawl_runs call it.
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    if args.source == "blog":
        blog: dict[str, Any] = {"start_urls": args.start_url, "max_listing_pages": args.max_pages}
        if args.full:
            blog["full"] = True
        jobs.append((_blog_name(settings, args.start_url), "blog", blog))
    if args.source == "pages":
        jobs.append(("pages", "pages", {"urls": args.url}))
    if args.source == "parliament":
        jobs.append(("parliament", "parliament", parliament))
    if args.source == "statements":
        jobs.append(("statements", "statements", statements))
    if args.source is None:
        jobs += [(name, spider, spider_args) for name, (spider, spider_args) in configured.items()]
    # One crawl opens the database while its crawl processes start; several share it, opened first.
    sessions = None
    if len(jobs) > 1:
        from storage.db import open_database

        sessions = open_database(settings.db_url)
    failed = False
    for name, spider, spider_args in jobs:
        try:
            shards = replace(options, shards=source_shards(settings, name))
            result = recorded_crawl(sessions, settings.db_url, name, spider, spider_args, shards, MANUAL)
        except HostBusy as error:  # the crawl could not do its job: 1, not the 2 of bad input
            print(f"{name}: crawl failed: {error}")
            failed = True
            continue
        print(f"{name}: {summary_line(result)}")
        failed = failed or result.failed
    return 1 if failed else 0


def _crawl_named(
    args: argparse.Namespace,
    settings: Settings,
    options: CrawlOptions,
    name: str,
    crawl: tuple[str, dict[str, Any]],
) -> int:
    """Crawl one source of the config by its name ([[blog]] name, default its host)."""
    given = [flag for flag, value in (("--start-url", args.start_url), ("--url", args.url)) if value]
    if given or args.backfill or _windows(args) or args.full:
        raise UsageError(
            f"{name} is a configured source: crawl it as configured (no {' '.join(given) or 'options'})"
        )
    spider, spider_args = crawl
    options = replace(options, shards=source_shards(settings, name))
    if args.max_pages and "max_listing_pages" in spider_args:
        spider_args = {**spider_args, "max_listing_pages": args.max_pages}
    try:
        result = recorded_crawl(None, settings.db_url, name, spider, spider_args, options, MANUAL)
    except HostBusy as error:
        print(f"{name}: crawl failed: {error}")
        return 1
    print(f"{name}: {summary_line(result)}")
    return 1 if result.failed else 0


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> int:
    """Build pqwatch's egg once and upload it to every node; 1 when a node did not take it."""
    from monitor.crawl.egg import build_egg, node_requirements
    from monitor.crawl.scrapyd import Node, NodeError

    if args.requirements:
        print("\n".join(node_requirements()))
        return 0
    urls = [check_http_url(url.rstrip("/"), "--node") for url in args.node] or list(settings.scrapyd_urls)
    if not urls:
        raise UsageError("no Scrapyd nodes: set PQWATCH_SCRAPYD_URLS or give --node URL")
    version, egg = build_egg()
    failed = False
    for url in urls:
        node = Node(url, timeout=120.0)  # the node lists the egg's spiders before it answers
        try:
            spiders = node.add_version(version, egg)
        except NodeError as error:
            print(f"{node.name}: not deployed: {error}")
            failed = True
            continue
        print(f"{node.name}: deployed pqwatch {version} ({len(egg) // 1024} KiB, {spiders} spiders)")
    return 1 if failed else 0


def _blog_name(settings: Settings, start_urls: list[str]) -> str:
    """The name of a blog crawled by --start-url: the configured blog with the same start URLs,
    else the host of the first."""
    for blog in settings.blogs:
        if list(blog.start_urls) == list(start_urls):
            return blog.name
    return urlsplit(start_urls[0]).hostname or start_urls[0]


# The hosts `crawl pages --url` reads without --any-host (path prefix "" means any path).
OFFICIAL_PAGE_HOSTS = {
    "questions-statements.parliament.uk": "",
    "hansard.parliament.uk": "",
    "publications.parliament.uk": "",
    "api.parliament.uk": "/historic-hansard/",
}


def official_page_url(url: str) -> bool:
    """Say whether url is an official Parliament page: https on one of OFFICIAL_PAGE_HOSTS."""
    parts = urlsplit(url)
    prefix = OFFICIAL_PAGE_HOSTS.get((parts.hostname or "").lower())
    on_host = parts.scheme == "https" and parts.port in (None, 443) and prefix is not None
    return on_host and parts.path.startswith(prefix or "")


def _windows(args: argparse.Namespace) -> list[Window]:
    """The list windows named on the command line: one per kind of date given."""
    windows = []
    for name in DATE_KINDS:
        start, end = getattr(args, f"{name}_from"), getattr(args, f"{name}_to")
        if start is None and end is None:
            continue
        first = None if start is None else _date_arg(f"--{name}-from", start)
        last = None if end is None else _date_arg(f"--{name}-to", end)
        try:
            windows.append(window(name, first, last))
        except ValueError:
            raise UsageError(f"--{name}-from must not be after --{name}-to") from None
    return windows


def _statements(args: argparse.Namespace, api_base: str) -> dict[str, Any]:
    """The statements spider's arguments from --made-from/--made-to (default: the routine week)."""
    start = None if args.made_from is None else _date_arg("--made-from", args.made_from)
    end = None if args.made_to is None else _date_arg("--made-to", args.made_to)
    if (start or end) and args.source != "statements":
        raise UsageError("--made-from and --made-to need the source statements: pqwatch crawl statements ...")
    if start and end and start > end:
        raise UsageError("--made-from must not be after --made-to")
    if start is None and end is None:
        return {**routine_statements(api_base, utcnow().date()), "house": args.house or ""}
    return statements_args(api_base, start, end, args.house)


def _date_arg(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the scheduler daemon."""
    from monitor.scheduler import LockHeld, run_daemon

    logging.getLogger("pqwatch").setLevel(logging.INFO)
    # The jobs get --db and --config as their arguments (monitor.scheduler.build_scheduler), and
    # the crawl processes their --db on the command line: nothing goes through the environment.
    try:
        return run_daemon(settings)
    except LockHeld as error:
        raise UsageError(str(error)) from None


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print every source's schedule, last and next run, the holds waiting, subscriptions by
    state, the digests due next and when changes were last detected."""
    from monitor.cli.status import print_status

    return print_status(settings, args.format, utcnow())


def cmd_reparse(args: argparse.Namespace, settings: Settings) -> int:
    """Re-derive every source's latest stored body with the current parser; 1 if one is unreadable."""
    from monitor.changes.reparse import reparse
    from storage.db import open_database

    result = reparse(open_database(settings.db_url))
    print(result.summary())
    return 1 if result.unreadable else 0


def cmd_held(args: argparse.Namespace, settings: Settings) -> int:
    """List mass change holds, or release or discard one."""
    from monitor.changes.holds import HoldError, decide_hold
    from monitor.cli.text import write_json
    from monitor.queries.views import holds
    from storage.db import open_database
    from storage.terms import HoldState

    if (args.action is None) != (args.hold is None):
        raise UsageError("held needs both an action and a hold: pqwatch held release N | discard N")
    sessions = open_database(settings.db_url)
    if args.action is not None:
        state = HoldState.RELEASED if args.action == "release" else HoldState.DISCARDED
        try:
            with sessions.begin() as session:
                hold = decide_hold(session, args.hold, state, utcnow())
                count = hold.event_count
        except HoldError as error:
            raise UsageError(str(error)) from None
        print(f"hold {args.hold}: {count} events {state}")
        return 0
    with sessions() as session:
        views = holds(session)
    if args.format == "json":
        write_json(views, sys.stdout)
        return 0
    for view in views:
        print(f"{view.id}  {view.state:<9} {view.created_at:%Y-%m-%d %H:%M}  {view.reason}")
    if not views:
        print("no holds")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the whole cycle offline on the bundled sample blog."""
    from monitor.demo.run import run_demo

    return run_demo(verbose=args.verbose)
