"""The `pqwatch` command line: the parser and dispatch. Each area's commands live in their own
module (crawling, reading, subscribing, serving), which adds its parsers; what the commands
print is in `monitor.cli.text`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from monitor.cli import crawling, reading, searching, serving, subscribing
from monitor.cli.base import LOG_DATE_FORMAT, TIMED_LOG_FORMAT, UsageError
from monitor.config import ConfigError, load_settings, pqwatch_version
from monitor.notify.errors import SubscriptionError
from storage.errors import DatabaseError

# Each command imports what it needs when it runs (the database layer, the parsers, mail): a
# manual crawl then starts its crawl processes a third of a second sooner, and every command
# starts faster.

__all__ = ["UsageError", "build_parser", "main"]


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
    parser.add_argument("--version", action="version", version=f"pqwatch {pqwatch_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for area in (crawling, reading, searching, subscribing, serving):
        area.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input, 1 for a failed crawl)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The daemon's and the web server's logs are read later, so every line carries its time.
    timed = getattr(args, "run", None) is not None and args.run.__name__ in ("cmd_run", "cmd_serve")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=TIMED_LOG_FORMAT if timed else "%(levelname)s %(name)s: %(message)s",
        datefmt=LOG_DATE_FORMAT,
    )
    try:
        settings = load_settings(db_url=args.db, config_file=args.config)
        status: int = args.run(args, settings)
        return status
    except (UsageError, ConfigError, DatabaseError, SubscriptionError) as error:
        print(f"pqwatch: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pqwatch: interrupted; everything stored so far is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Why: `pqwatch export | head` closes the pipe early, which is the reader's choice, not an
        # error to report; stdout goes to /dev/null so the interpreter's last flush is silent too,
        # and the status is a shell's for a reader that stopped (128 + SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
