"""The spiders' arguments, checked where they arrive: a list from pqwatch's CLI and scheduler, or
a string from `scrapy crawl NAME -a name=value`. A bad value is one ArgumentError naming the
argument and the form it takes; the spider never starts with it.

The `-a` forms (each spider's docstring shows them too):

- a URL list (`start_urls`, `urls`): one http(s) URL, or several joined by commas, no spaces;
- `windows`: windows joined by commas, each `KIND:FROM..TO` with KIND tabled, answered or
  corrected and FROM, TO dates `YYYY-MM-DD`, either left out for an open end
  (`answered:2024-01-08..2024-01-12,tabled:2024-01-01..`); `unanswered` after a window's dates
  and a `+` (`tabled:2024-01-01..+unanswered`) keeps only questions not yet answered;
- a whole number (`max_listing_pages`, `refresh_days`, `shard`, `shards`): digits, 0 or more;
- a flag (`full`, `full_refresh`): true/false, 1/0, yes/no."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from spiders.sources.api.windows import DATE_KINDS, Window, window

__all__ = ["ArgumentError", "as_text", "flag", "url_list", "whole_number", "window_text", "windows"]

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ArgumentError(ValueError):
    """A spider argument that is not in its documented form; the message says which and how."""


def url_list(name: str, value: Any) -> list[str]:
    """Read a list of http(s) URLs: a list, or one string of URLs joined by commas."""
    if value is None or value == "":
        return []
    raw = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)
    urls = []
    for url in raw:
        if not isinstance(url, str) or not url:
            raise ArgumentError(f"{name}: an empty URL in {value!r} (form: URL or URL,URL,...)")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
            raise ArgumentError(f"{name}: {url!r} is not an http(s) URL (form: URL or URL,URL,...)")
        urls.append(url)
    return urls


def whole_number(name: str, value: Any) -> int:
    """Read a whole number of 0 or more (an int, or its digits)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ArgumentError(f"{name}: {value!r} is not a whole number")
    if isinstance(value, str) and not value.strip().isdigit():
        raise ArgumentError(f"{name}: {value!r} is not a whole number (0 or more)")
    number = int(value)
    if number < 0:
        raise ArgumentError(f"{name}: {value!r} is not a whole number (0 or more)")
    return number


def flag(name: str, value: Any) -> bool:
    """Read a yes/no argument (a bool, or true/false, 1/0, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ArgumentError(f"{name}: {value!r} is not true or false")


def windows(value: Any) -> list[Window]:
    """Read the parliament spider's list windows: a list of query dicts (as pqwatch builds them),
    or the `-a windows=` string form (see the module docstring)."""
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        if not all(isinstance(item, dict) for item in value):
            raise ArgumentError(f"windows: {value!r} is not a list of windows")
        return [dict(item) for item in value]
    return [_window(part.strip()) for part in value.split(",")]


_FORM = "KIND:FROM..TO[+unanswered], KIND one of " + "/".join(DATE_KINDS) + ", dates YYYY-MM-DD"


def _window(text: str) -> Window:
    kind, colon, rest = text.partition(":")
    rest, plus, extra = rest.partition("+")
    start, dots, end = rest.partition("..")
    if not colon or not dots or kind not in DATE_KINDS or (plus and extra != "unanswered"):
        raise ArgumentError(f"windows: {text!r} is not a window ({_FORM})")
    if not start and not end:
        raise ArgumentError(f"windows: {text!r} has neither a start nor an end date ({_FORM})")
    first, last = _day(start, text), _day(end, text)
    try:
        query = window(kind, first, last)
    except ValueError as error:
        raise ArgumentError(f"windows: {text!r}: {error}") from None
    if plus:
        query["answered"] = "Unanswered"
    return query


def _day(text: str, whole: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentError(f"windows: {text!r} in {whole!r} is not a date YYYY-MM-DD") from None


def as_text(args: dict[str, Any]) -> dict[str, str]:
    """The `-a` strings of spider arguments as pqwatch builds them (lists, numbers, flags,
    windows): what a Scrapyd job is scheduled with. Each spider reads them back to the same."""
    texts: dict[str, str] = {}
    for name, value in args.items():
        if name == "windows":
            texts[name] = ",".join(window_text(item) for item in value or ())
        elif isinstance(value, bool):
            texts[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            texts[name] = ",".join(value)
        else:
            texts[name] = str(value)
    return texts


def window_text(query: Window) -> str:
    """A window as its `-a windows=` form: `answered:2024-01-08..2024-01-12[+unanswered]`."""
    for kind in DATE_KINDS:
        start, end = query.get(f"{kind}WhenFrom"), query.get(f"{kind}WhenTo")
        if start or end:
            unanswered = "+unanswered" if query.get("answered") == "Unanswered" else ""
            return f"{kind}:{start or ''}..{end or ''}{unanswered}"
    raise ArgumentError(f"windows: {query!r} bounds no date")
