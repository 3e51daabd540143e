"""The `pqwatch` command line: parsing and dispatch (`commands`), and what it prints (`text`)."""

from monitor.cli.commands import main as main

__all__ = ["main"]
