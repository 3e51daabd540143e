"""The reading commands: `export`, `changes`, `overdue`, `stats` and `history`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime

from monitor.cli.base import HOUSES, UsageError, day_arg
from monitor.config import Settings
from storage.terms import ChangeKind


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the reading commands to the parser."""
    export = commands.add_parser(
        "export", help="print the current view of every question and every unmatched copy"
    )
    export.set_defaults(run=cmd_export)
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--department", metavar="TEXT", help="only this answering body")
    export.add_argument("--house", choices=HOUSES, help="only this house")
    export.add_argument(
        "--since",
        metavar="ISO-8601",
        help="only questions with a version observed since then (new, changed or seen again by a"
        " crawl), and unmatched copies last seen since then",
    )

    changes = commands.add_parser("changes", help="print change events, oldest first")
    changes.set_defaults(run=cmd_changes)
    changes.add_argument("--since", metavar="ISO-8601", help="only events detected since then")
    changes.add_argument("--until", metavar="ISO-8601", help="only events detected before then")
    changes.add_argument("--uin", help="only events of questions with this UIN")
    changes.add_argument(
        "--kind", action="append", default=[], metavar="KIND", help="only events of this kind (repeatable)"
    )
    changes.add_argument("--house", choices=HOUSES)
    changes.add_argument("--department", metavar="TEXT", help="only this answering body (any case)")
    changes.add_argument("--format", choices=("json", "text"), default="text")

    overdue = commands.add_parser("overdue", help="list the questions late now, the longest overdue first")
    overdue.set_defaults(run=cmd_overdue)
    overdue.add_argument("--department", metavar="TEXT", help="only this answering body (any case)")
    overdue.add_argument("--house", choices=HOUSES)
    overdue.add_argument("--format", choices=("json", "text"), default="text")

    stats = commands.add_parser("stats", help="timeliness by answering body: on time, working days, holding")
    stats.set_defaults(run=cmd_stats)
    stats.add_argument("--house", choices=HOUSES)
    stats.add_argument(
        "--session", metavar="NAME", help="only questions tabled in this parliamentary session (2023-24)"
    )
    stats.add_argument("--tabled-from", metavar="YYYY-MM-DD", help="only questions tabled on or after")
    stats.add_argument("--tabled-to", metavar="YYYY-MM-DD", help="only questions tabled on or before")
    stats.add_argument("--format", choices=("json", "csv", "text"), default="text")

    history = commands.add_parser("history", help="print every version of one question")
    history.set_defaults(run=cmd_history)
    history.add_argument("uin")
    history.add_argument("--house", choices=HOUSES)
    history.add_argument("--diff", action="store_true", help="show word diffs between versions")
    history.add_argument("--format", choices=("json", "text"), default="text")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print the current view of every question, then every unmatched copy, as JSON or CSV."""
    from monitor.cli.text import write_json
    from monitor.queries.export import export_views, write_export_csv
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions() as session:
        views = export_views(
            session,
            department=args.department,
            house=args.house,
            since=parse_since(args.since) if args.since else None,
        )
    if args.format == "json":
        write_json(views, sys.stdout)
    else:
        write_export_csv(views, sys.stdout)
    return 0


def cmd_overdue(args: argparse.Namespace, settings: Settings) -> int:
    """Print every question late today (London's date), the longest overdue first."""
    from monitor.changes.lifecycle import london_today, working_days_between
    from monitor.cli.text import write_json
    from monitor.queries.export import overdue_views
    from storage.db import open_database

    today = london_today()
    with open_database(settings.db_url)() as session:
        late = overdue_views(session, today, department=args.department, house=args.house)
    if args.format == "json":
        write_json(late, sys.stdout)
        return 0
    for view in late:
        due = view.due()
        assert due is not None  # overdue_views keeps only questions with a due date
        days = working_days_between(due, today)
        holding = ", holding answer" if view.is_holding else ""
        named = " (named day)" if view.is_named_day else ""
        where = f"{view.house} {view.uin}, {view.answering_body or 'unknown department'}"
        late_by = f"{days} working day{'s' if days != 1 else ''} late{holding}"
        print(
            f"due {due.isoformat()}{named}, {late_by}: {where}"
            + (f": {view.heading}" if view.heading else "")
        )
    if not late:
        print("nothing is overdue")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print each answering body's timeliness as text, JSON or CSV."""
    import csv
    import json

    from monitor.queries.stats import STATS_COLUMNS, timeliness
    from storage.db import open_database

    bounds = [
        day_arg(flag, value)
        for flag, value in (("--tabled-from", args.tabled_from), ("--tabled-to", args.tabled_to))
    ]
    if args.session:
        bounds = _within_session(args.session, bounds[0], bounds[1])
    with open_database(settings.db_url)() as session:
        rows = [
            body.as_json()
            for body in timeliness(session, house=args.house, tabled_from=bounds[0], tabled_to=bounds[1])
        ]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=STATS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            cells = ", ".join(
                f"{name.replace('_', ' ')} {'-' if row[name] is None else row[name]}"
                for name in STATS_COLUMNS[1:]
            )
            print(f"{row['answering_body']}: {cells}")
        if not rows:
            print("no questions")
    return 0


def _within_session(name: str, tabled_from: date | None, tabled_to: date | None) -> list[date | None]:
    """The tabled-date bounds of a session, narrowed by --tabled-from/--tabled-to when given."""
    from monitor.changes.sessions import UnknownSession, find_session

    try:
        found = find_session(name)
    except UnknownSession as error:
        raise UsageError(f"--session: {error}") from None
    return list(found.narrowed(tabled_from, tabled_to))


def cmd_changes(args: argparse.Namespace, settings: Settings) -> int:
    """Print change events, oldest first, as JSON or readable text."""
    from monitor.cli.text import write_json
    from monitor.queries.text import render_event_text
    from monitor.queries.views import change_events
    from storage.db import open_database

    since = parse_since(args.since) if args.since else None
    until = parse_since(args.until, "--until") if args.until else None
    kinds = [parse_kind(text) for text in args.kind]
    sessions = open_database(settings.db_url)
    with sessions() as session:
        events = list(
            change_events(
                session,
                since,
                include_held=True,
                until=until,
                uin=args.uin,
                kinds=kinds,
                house=args.house,
                department=args.department,
            )
        )
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
        if not history and args.house:
            # A wrong --house is a likelier mistake than a missing question: show the other
            # house's question and say so, rather than claim nothing is stored.
            history = question_history(session, args.uin)
            if history:
                found = ", ".join(sorted({str(item.house.value) for item in history}))
                print(
                    f"pqwatch: no {args.house} question {args.uin}; showing the {found} one",
                    file=sys.stderr,
                )
        if history:
            from monitor.queries.export import question_thread

            history = [question_thread(session, item) for item in history]
    if not history:
        raise UsageError(f"no question with UIN {args.uin!r} is stored")
    if args.format == "json":
        write_json(history, sys.stdout)
        return 0
    for line in history_lines(history, diff=args.diff):
        print(line)
    return 0


def parse_kind(text: str) -> ChangeKind:
    """Parse a --kind value into a ChangeKind; a bad one is a one-line error listing the kinds."""
    try:
        return ChangeKind(text)
    except ValueError:
        known = ", ".join(kind.value for kind in ChangeKind)
        raise UsageError(f"--kind {text!r} is not a change kind (one of: {known})") from None


def parse_since(text: str, option: str = "--since") -> datetime:
    """Parse an ISO-8601 date or date-time (UTC when no zone is given) into naive UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO-8601 date or date-time") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
