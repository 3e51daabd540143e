"""What every command module shares: the one-line usage error, the choices of the contract and
the reading of a date option."""

from __future__ import annotations

from datetime import date

from storage.terms import Frequency, House

FREQUENCIES = [frequency.value for frequency in Frequency]
HOUSES = [house.value for house in House]
# "2026-12-03 07:40:01 INFO pqwatch.run: ...": the format of `pqwatch run` and its crawl processes,
# and of a manual crawl's job lines when it dispatches to Scrapyd nodes.
TIMED_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class UsageError(ValueError):
    """Bad input on the command line; the message is the one line shown."""


def day_arg(flag: str, value: str | None) -> date | None:
    """A YYYY-MM-DD option's date (None when not given); UsageError names a bad one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a date YYYY-MM-DD") from None
