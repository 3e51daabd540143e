"""The search command: `pqwatch search TEXT`, full text over every version (monitor.queries.search)."""

from __future__ import annotations

import argparse
import json

from monitor.cli.base import HOUSES, UsageError, day_arg
from monitor.config import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the search command to the parser."""
    search = commands.add_parser(
        "search",
        help="find the questions whose text (current or past) says something",
        description='Words must all appear; "a phrase" in order; OR between terms; -word leaves one out.'
        " Quote the whole search when it holds a -word: pqwatch search 'asylum -Rwanda'.",
    )
    search.set_defaults(run=cmd_search)
    search.add_argument("text", nargs="+", metavar="TEXT", help="what to look for")
    search.add_argument("--house", choices=HOUSES)
    search.add_argument("--department", metavar="TEXT", help="only this answering body (any case)")
    search.add_argument("--member", metavar="NAME", help="only questions this member asked or answered")
    # Why no `choices`: the statuses' module loads the bank-holiday calendars, which every other
    # command would then pay for at start-up; a bad one is refused when the command runs.
    search.add_argument(
        "--status", metavar="STATUS", help="only questions with this status (answered, overdue, …)"
    )
    for name in ("tabled", "answered"):
        search.add_argument(f"--{name}-from", metavar="YYYY-MM-DD", help=f"only questions {name} on or after")
        search.add_argument(f"--{name}-to", metavar="YYYY-MM-DD", help=f"only questions {name} on or before")
    search.add_argument(
        "--current", action="store_true", help="only what the current text says (not past versions)"
    )
    search.add_argument("--limit", type=int, default=20, metavar="N", help="hits to print (1 to 100)")
    search.add_argument("--offset", type=int, default=0, metavar="N", help="hits to skip first")
    search.add_argument("--format", choices=("json", "text"), default="text")


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Print the best hits, as text or as one JSON object: {query, total, offset, limit, complete,
    hits} (`complete` false: more versions matched than are ranked, and `total` is a lower bound)."""
    from monitor.changes.lifecycle import Lifecycle
    from monitor.queries.search import RANK_LIMIT, SearchError, SearchFilters, search
    from storage.db import open_database

    status = None
    if args.status:
        try:
            status = Lifecycle(args.status)
        except ValueError:
            known = ", ".join(item.value for item in Lifecycle)
            raise UsageError(f"--status {args.status!r} is not a question status (one of: {known})") from None
    try:
        filters = SearchFilters(
            house=args.house,
            department=args.department,
            member=args.member,
            status=status,
            tabled_from=day_arg("--tabled-from", args.tabled_from),
            tabled_to=day_arg("--tabled-to", args.tabled_to),
            answered_from=day_arg("--answered-from", args.answered_from),
            answered_to=day_arg("--answered-to", args.answered_to),
            current_only=args.current,
        )
        with open_database(settings.db_url)() as session:
            results = search(session, " ".join(args.text), filters, limit=args.limit, offset=args.offset)
    except SearchError as error:
        raise UsageError(str(error)) from None
    if args.format == "json":
        print(
            json.dumps(
                {
                    "query": results.query.text(),
                    "total": results.total,
                    "offset": results.offset,
                    "limit": results.limit,
                    "complete": results.complete,
                    "hits": [hit.as_json() for hit in results.hits],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if not results.total:
        print(f"no question matches {results.query.text()}")
        return 0
    shown = f"{results.offset + 1}-{results.offset + len(results.hits)}" if results.hits else "none"
    more = "" if results.complete else "more than "
    found = f"{more}{results.total} question{'s' if results.total != 1 else ''}"
    print(f"{found} for {results.query.text()} ({shown})")
    if not results.complete:
        print(f"(too many versions match to rank them all: the best of the newest {RANK_LIMIT:,})")
    for hit in results.hits:
        where = f"{hit.house} {hit.uin} tabled {hit.date_tabled or 'unknown'}"
        body = f", {hit.answering_body}" if hit.answering_body else ""
        said = (
            "current" if hit.current else f"only in a past version, first stored {hit.observed_at:%Y-%m-%d}"
        )
        print(f"{where}{body}: {hit.heading or '(no heading)'} [{said}]")
        print("  " + " ".join(hit.snippet_text().split()))
    return 0
