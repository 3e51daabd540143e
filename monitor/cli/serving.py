"""The web command: `serve`, the pages the mails link to."""

from __future__ import annotations

import argparse

from monitor.config import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the web command to the parser."""
    serve = commands.add_parser("serve", help="the web service the mails link to")
    serve.set_defaults(run=cmd_serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the confirm / unsubscribe / manage / question pages."""
    from monitor.web.app import serve

    serve(settings, host=args.host, port=args.port)
    return 0
