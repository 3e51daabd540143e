"""The list endpoint's query windows: which dates a crawl of the Written Questions API asks for.

Pure and import-light: the CLI and the scheduler build windows with it before a crawl starts, and
the parliament spider sends each one as query parameters (`tabledWhenFrom`, …)."""

from __future__ import annotations

from datetime import date, timedelta

# The kinds of date a window can bound, as the API names them: tabledWhen*, answeredWhen*, correctedWhen*.
DATE_KINDS = ("tabled", "answered", "corrected")
Window = dict[str, str]


def window(kind: str, start: date | None = None, end: date | None = None) -> Window:
    """One window: questions whose `kind` date ("tabled", "answered", "corrected") falls from
    `start` to `end` (either may be open); ValueError when start is after end."""
    if kind not in DATE_KINDS:
        raise ValueError(f"unknown kind of date {kind!r} (known: {', '.join(DATE_KINDS)})")
    if start is not None and end is not None and start > end:
        raise ValueError(f"{kind} from {start} is after {kind} to {end}")
    bounds = {f"{kind}WhenFrom": start, f"{kind}WhenTo": end}
    return {name: day.isoformat() for name, day in bounds.items() if day is not None}


def routine_windows(today: date, sweep_days: int = 30) -> list[Window]:
    """The routine run's windows: answered or corrected since yesterday, and a sweep of questions
    tabled in the last `sweep_days` and not yet answered (holding answers, withdrawals, transfers)."""
    yesterday = today - timedelta(days=1)
    unanswered = {**window("tabled", today - timedelta(days=sweep_days), today), "answered": "Unanswered"}
    return [window("answered", yesterday, today), window("corrected", yesterday, today), unanswered]
