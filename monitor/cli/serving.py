"""The web command: `serve`, the pages the mails link to."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from monitor.cli.base import UsageError
from monitor.config import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the web command to the parser."""
    serve = commands.add_parser("serve", help="the web service the mails link to")
    serve.set_defaults(run=cmd_serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the pages until Ctrl-C or SIGTERM: say where, and log every request."""
    from monitor.web.app import serve

    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (1 to 65535)")
    logging.getLogger("pqwatch.web").setLevel(logging.INFO)
    # Why: SIGTERM (a service manager's stop) ends the server as Ctrl-C does, not mid-reply.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(settings, host=args.host, port=args.port, announce=_announce)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    except KeyboardInterrupt:  # before waitress's loop, which ends quietly on one itself
        pass
    print("pqwatch: stopped serving", file=sys.stderr)
    return 0


def _announce(url: str, base_url: str) -> None:
    print(f"pqwatch: serving {url} (links in mails point at {base_url}); Ctrl-C stops", flush=True)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
