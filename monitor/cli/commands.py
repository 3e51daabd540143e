"""The `pqwatch` command line: parsing and dispatch (what it prints is in `monitor.cli.text`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from monitor.config import ConfigError, Settings, check_http_url, load_settings
from monitor.crawl.plans import configured_crawls, parliament_args, run_backfill
from monitor.crawl.processes import HostBusy
from monitor.crawl.runner import CrawlOptions, run_crawl, summary_line
from monitor.notify.errors import SubscriptionError
from spiders.registry import SPIDERS
from spiders.sources.api.windows import DATE_KINDS, Window, routine_windows, window
from storage.errors import DatabaseError
from storage.terms import Frequency, House, utcnow

# Each command imports what it needs when it runs (the database layer, the parsers, mail): a
# manual crawl then starts its crawl processes a third of a second sooner, and every command
# starts faster.

FREQUENCIES = [frequency.value for frequency in Frequency]
HOUSES = [house.value for house in House]


class UsageError(ValueError):
    """Bad input on the command line; the message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as every pqwatch error is."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and where help is, then exit 2."""
        self.exit(2, f"pqwatch: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the documented command line."""
    parser = _Parser(prog="pqwatch", description="Follow answers to UK parliamentary written questions.")
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default: PQWATCH_DB_URL or ./pqwatch.sqlite3)"
    )
    parser.add_argument("--config", metavar="FILE", help="sources file (default: the bundled pqwatch.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    crawl = commands.add_parser("crawl", help="crawl a source (or every source in the config)")
    crawl.add_argument(
        "source", nargs="?", help="blog, parliament or pages (or nothing: every source in the config)"
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
    crawl.add_argument("--backfill", nargs=2, metavar=("FROM", "TO"), help="answered dates, resumable")
    crawl.add_argument("--full-refresh", action="store_true", help="read every detail, changed or not")
    crawl.add_argument(
        "--full",
        action="store_true",
        help="blog: a full verification now (every post re-read; else every PQWATCH_FULL_VERIFY_DAYS)",
    )
    crawl.add_argument("--delay", type=float, help="seconds between requests to one host")
    crawl.add_argument("--concurrency", type=int, help="requests at a time per host")

    export = commands.add_parser(
        "export", help="print the current view of every question and every unmatched copy"
    )
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--department", metavar="TEXT", help="only this answering body")

    changes = commands.add_parser("changes", help="print change events, oldest first")
    changes.add_argument("--since", metavar="ISO-8601", help="only events detected since then")
    changes.add_argument("--format", choices=("json", "text"), default="text")

    history = commands.add_parser("history", help="print every version of one question")
    history.add_argument("uin")
    history.add_argument("--house", choices=HOUSES)
    history.add_argument("--diff", action="store_true", help="show word diffs between versions")
    history.add_argument("--format", choices=("json", "text"), default="text")

    subscribe = commands.add_parser("subscribe", help="add a subscriber (a confirmation mail goes out)")
    subscribe.add_argument("email")
    subscribe.add_argument("--frequency", choices=FREQUENCIES, default="daily")
    subscribe.add_argument("--send-time", default="07:00", metavar="HH:MM", help="Europe/London")
    subscribe.add_argument("--house", choices=HOUSES)
    subscribe.add_argument("--department", metavar="TEXT")
    subscribe.add_argument("--member", metavar="TEXT", help="asker or minister")
    subscribe.add_argument("--keyword", metavar="TEXT", help="in the question or the answer")
    subscribe.add_argument("--uin", metavar="UIN", help="follow one question")
    subscribe.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="only these change kinds (repeatable), e.g. corrected",
    )
    subscribe.add_argument("--confirmed", action="store_true", help="skip the confirmation mail")

    unsubscribe = commands.add_parser("unsubscribe", help="stop a subscriber's mails")
    unsubscribe.add_argument("email")

    commands.add_parser("subscribers", help="list subscribers")

    restore = commands.add_parser("restore", help="restore a suppressed subscriber to confirmed")
    restore.add_argument("email")

    bounces = commands.add_parser("bounces", help="read delivery status notifications (RFC 3464)")
    bounces.add_argument("path", metavar="FILE|DIR", help="an mbox file or a Maildir folder")

    digest = commands.add_parser("digest", help="send every digest that is due now")
    digest.add_argument("--frequency", choices=FREQUENCIES)
    digest.add_argument("--dry-run", action="store_true", help="print what would be sent")

    commands.add_parser("run", help="the scheduler daemon: crawls and digests on schedule")
    serve = commands.add_parser("serve", help="the web service the mails link to")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    commands.add_parser("demo", help="the whole cycle offline, on bundled sample pages")

    commands.add_parser("reparse", help="re-derive stored answers from their raw bodies (after an upgrade)")
    held = commands.add_parser("held", help="list mass changes held from digests, or decide one")
    held.add_argument("action", nargs="?", choices=("release", "discard"))
    held.add_argument("hold", nargs="?", type=int, metavar="N")
    held.add_argument("--format", choices=("json", "text"), default="text")
    status = commands.add_parser("status", help="holds waiting and the last change detection")
    status.add_argument("--format", choices=("json", "text"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input, 1 for a failed crawl)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(db_url=args.db, config_file=args.config)
        return COMMANDS[args.command](args, settings)
    except (UsageError, ConfigError, DatabaseError, SubscriptionError) as error:
        print(f"pqwatch: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pqwatch: interrupted; everything stored so far is kept", file=sys.stderr)
        return 130


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
    )
    if options.delay < 0 or options.concurrency < 1:
        raise UsageError("--delay must be at least 0 and --concurrency at least 1")
    if args.source is not None and args.source not in SPIDERS:
        raise UsageError(f"unknown source {args.source!r} (known: {', '.join(SPIDERS)})")
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
    if args.backfill:
        start, end = (_date_arg("--backfill", value) for value in args.backfill)
        if start > end:
            raise UsageError("--backfill FROM must not be after TO")
        from storage.db import open_database

        opened = open_database(settings.db_url)
        return 0 if run_backfill(opened, settings.db_url, parliament, start, end, options) else 1
    jobs: list[tuple[str, dict[str, Any]]] = []
    if args.source == "blog":
        blog: dict[str, Any] = {"start_urls": args.start_url, "max_listing_pages": args.max_pages}
        if args.full:
            blog["full"] = True
        jobs.append(("blog", blog))
    if args.source == "pages":
        jobs.append(("pages", {"urls": args.url}))
    if args.source == "parliament":
        jobs.append(("parliament", parliament))
    if args.source is None:
        jobs += list(configured_crawls(settings, utcnow().date()).values())
    # One crawl opens the database while its crawl processes start; several share it, opened first.
    sessions = None
    if len(jobs) > 1:
        from storage.db import open_database

        sessions = open_database(settings.db_url)
    failed = False
    for spider, spider_args in jobs:
        try:
            result = run_crawl(sessions, settings.db_url, spider, spider_args, options)
        except HostBusy as error:  # the crawl could not do its job: 1, not the 2 of bad input
            print(f"{spider}: crawl failed: {error}")
            failed = True
            continue
        print(f"{spider}: {summary_line(result)}")
        failed = failed or result.failed
    return 1 if failed else 0


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


def _date_arg(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print the current view of every question, then every unmatched copy, as JSON or CSV."""
    from monitor.cli.text import write_json
    from monitor.queries.export import export_views, write_export_csv
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions() as session:
        views = export_views(session, department=args.department)
    if args.format == "json":
        write_json(views, sys.stdout)
    else:
        write_export_csv(views, sys.stdout)
    return 0


def cmd_changes(args: argparse.Namespace, settings: Settings) -> int:
    """Print change events, oldest first, as JSON or readable text."""
    from monitor.cli.text import write_json
    from monitor.queries.text import render_event_text
    from monitor.queries.views import change_events
    from storage.db import open_database

    since = parse_since(args.since) if args.since else None
    sessions = open_database(settings.db_url)
    with sessions() as session:
        events = list(change_events(session, since, include_held=True))
    if args.format == "json":
        write_json(events, sys.stdout)
        return 0
    for event in events:
        print(render_event_text(event))
    if not events:
        print("no changes")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    """Print every version of the questions with one UIN."""
    from monitor.cli.text import history_lines, write_json
    from monitor.queries.views import question_history
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions() as session:
        history = question_history(session, args.uin, args.house)
    if not history:
        raise UsageError(f"no question with UIN {args.uin!r} is stored")
    if args.format == "json":
        write_json(history, sys.stdout)
        return 0
    for line in history_lines(history, diff=args.diff):
        print(line)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the whole cycle offline on the bundled sample blog."""
    from monitor.demo.run import run_demo

    return run_demo(verbose=args.verbose)


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Add or update a subscriber; send the confirmation mail unless --confirmed."""
    from monitor.notify.digest import mailer_for, send_confirmation
    from monitor.notify.subscriptions import make_filters, subscribe
    from storage.db import open_database

    filters = make_filters(args.house, args.department, args.member, args.keyword, args.uin, args.kind)
    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        subscriber, needs_confirmation = subscribe(
            session,
            args.email,
            frequency=args.frequency,
            send_time=args.send_time,
            filters=filters,
            confirmed=args.confirmed,
            now=utcnow(),
        )
        subscriber_id, email = subscriber.id, subscriber.email
    if needs_confirmation:
        sent = send_confirmation(sessions, mailer_for(settings, sessions), subscriber_id, utcnow())
        print(
            f"{email}: confirmation mail {'sent' if sent else 'already sent'}; nothing else until confirmed"
        )
    else:
        print(f"{email}: subscribed ({args.frequency})")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Unsubscribe an address (idempotent)."""
    from monitor.notify.subscriptions import normalise_email, unsubscribe
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        was = unsubscribe(session, args.email)
    print(f"{normalise_email(args.email)}: {'unsubscribed' if was else 'was not subscribed'}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a suppressed subscriber to confirmed (an error when it is not suppressed)."""
    from monitor.notify.subscriptions import restore
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        email = restore(session, args.email, utcnow()).email
    print(f"{email}: restored to confirmed; digests resume with the changes from now on")
    return 0


def cmd_bounces(args: argparse.Namespace, settings: Settings) -> int:
    """Read bounces from an mbox or Maildir: suppress hard bounces, count soft ones."""
    from pathlib import Path

    from monitor.notify.bounces import BounceError, read_mailbox, record_bounces
    from storage.db import open_database

    path = Path(args.path)
    if not (path.is_file() or path.is_dir()):
        raise UsageError(f"{args.path} is not an mbox file or a Maildir folder")
    sessions = open_database(settings.db_url)
    try:
        with sessions.begin() as session:
            run = record_bounces(session, read_mailbox(path), utcnow())
    except BounceError as error:
        raise UsageError(str(error)) from None
    print(run.summary())
    return 0


def cmd_subscribers(args: argparse.Namespace, settings: Settings) -> int:
    """List subscribers with their status, frequency and filters."""
    from sqlalchemy import select

    from storage.db import open_database
    from storage.models import Subscriber

    sessions = open_database(settings.db_url)
    with sessions() as session:
        rows = session.scalars(select(Subscriber).order_by(Subscriber.email)).all()
        for row in rows:
            filters = " ".join(f"{k}={v}" for k, v in (row.filters or {}).items()) or "everything"
            print(f"{row.email}  {row.status}  {row.frequency} at {row.send_time}  {filters}")
        if not rows:
            print("no subscribers")
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Send every digest that is due now (or print them with --dry-run)."""
    from monitor.notify.digest import mailer_for, send_due_digests
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    run = send_due_digests(
        sessions, mailer_for(settings, sessions), utcnow(), frequency=args.frequency, dry_run=args.dry_run
    )
    for preview in run.previews:
        print(f"would send to {preview}")
    print(run.summary(dry_run=args.dry_run))
    return 0 if run.ok else 1


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the scheduler daemon."""
    from monitor.scheduler import LockHeld, run_daemon

    logging.getLogger("pqwatch").setLevel(logging.INFO)
    # Why: each job reads its settings afresh (the job store keeps only names), so --db and
    # --config must reach them, and the crawl processes they start, through the environment.
    os.environ["PQWATCH_DB_URL"] = settings.db_url
    os.environ["PQWATCH_CONFIG"] = str(settings.config_file)
    try:
        return run_daemon(settings)
    except LockHeld as error:
        raise UsageError(str(error)) from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the confirm / unsubscribe / manage / question pages."""
    from monitor.web.app import serve

    serve(settings, host=args.host, port=args.port)
    return 0


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


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the holds waiting for a decision and when changes were last detected."""
    import json

    from monitor.queries.views import monitor_status
    from storage.db import open_database

    with open_database(settings.db_url)() as session:
        status = monitor_status(session)
    if args.format == "json":
        print(json.dumps(status.as_json(), ensure_ascii=False, indent=1))
        return 0
    for line in status.lines():
        print(line)
    return 0


def parse_since(text: str) -> datetime:
    """Parse an ISO-8601 date or date-time (UTC when no zone is given) into naive UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r} is not an ISO-8601 date or date-time") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


COMMANDS = {
    "crawl": cmd_crawl,
    "export": cmd_export,
    "changes": cmd_changes,
    "history": cmd_history,
    "demo": cmd_demo,
    "subscribe": cmd_subscribe,
    "unsubscribe": cmd_unsubscribe,
    "subscribers": cmd_subscribers,
    "restore": cmd_restore,
    "bounces": cmd_bounces,
    "digest": cmd_digest,
    "run": cmd_run,
    "serve": cmd_serve,
    "reparse": cmd_reparse,
    "held": cmd_held,
    "status": cmd_status,
}
