"""The one reader of filter query parameters, shared by the feeds, the JSON API and the browse pages,
so a URL means the same events wherever it is used, and what a subscription with those filters is
mailed. `filters_from(request.args)` reads the filters a subscription can express:

    house       Commons or Lords (any case); empty: both
    department  text within the answering body's name (case-insensitive)
    member      text within the asking or answering member's name
    keyword     text within the question or answer
    uin         one question's UIN ("hl 2472" reads as "HL2472")
    kind        a change kind, repeatable (kind=corrected&kind=answered); an empty one is ignored
    thread      yes, true, 1 or on: with uin, that question's whole thread of follow-ups;
                no, false, 0, off or empty: just the question

A text is at most TEXT_LIMIT characters and has no NUL; an empty parameter is an absent one (a
form's blank field). It returns `Filters`, checked by monitor.notify.subscriptions.make_filters.

Every reader here refuses a bad value by aborting the request with a 400 whose description is one
line naming the parameter (`bad_request`); the app's error handlers show it as a page, or as JSON
under /api/. The OpenAPI document (monitor.web.openapi) states these same rules as schemas."""

from __future__ import annotations

import re
from datetime import date
from typing import NoReturn
from urllib.parse import urlencode

from flask import abort
from werkzeug.datastructures import MultiDict

from monitor.notify.errors import SubscriptionError
from monitor.notify.subscriptions import Filters, make_filters
from storage.terms import House

FILTER_PARAMETERS = ("house", "department", "member", "keyword", "uin", "kind", "thread")
TEXT_LIMIT = 200  # as make_filters allows
YES = ("yes", "true", "1", "on")
NO = ("no", "false", "0", "off", "")
HOUSES = {house.value.lower(): house.value for house in House}
# Why: ids are SQL INTEGERs, and PostgreSQL refuses to compare one with a larger number.
CURSOR_MAX = 2**31 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def filters_from(args: MultiDict[str, str]) -> Filters:
    """The subscription filters in a query string or form (see the module's docstring); a bad one
    aborts with a 400 that names it."""
    thread = args.get("thread", "")
    if thread not in YES + NO:
        bad_request(f"thread={thread[:40]!r} is not yes or no")
    try:
        return make_filters(
            house=house_arg(args),
            department=text_arg(args, "department") or None,
            member=text_arg(args, "member") or None,
            keyword=text_arg(args, "keyword") or None,
            uin=text_arg(args, "uin") or None,
            kinds=[kind for kind in _texts(args, "kind") if kind],
            thread=thread in YES,
        )
    except SubscriptionError as error:
        bad_request(str(error))


def house_arg(args: MultiDict[str, str], name: str = "house") -> str | None:
    """A House parameter, as the record spells it ("lords" reads as "Lords"); empty: None."""
    raw = args.get(name, "")
    if not raw:
        return None
    if not raw.isascii() or raw.lower() not in HOUSES:
        bad_request(f"{name}={raw[:40]!r} is not one of {', '.join(HOUSES.values())}")
    return HOUSES[raw.lower()]


def text_arg(args: MultiDict[str, str], name: str) -> str:
    """A text parameter, its first value ("" when absent)."""
    return _texts(args, name)[0] if name in args else ""


def _texts(args: MultiDict[str, str], name: str) -> list[str]:
    values = args.getlist(name)
    for value in values:
        # Why: PostgreSQL refuses a NUL in text, and no name or word has one.
        if "\x00" in value:
            bad_request(f"{name} has a NUL character")
        if len(value) > TEXT_LIMIT:
            bad_request(f"{name} is longer than {TEXT_LIMIT} characters")
    return values


def filter_query(filters: Filters) -> str:
    """The canonical query string of these filters (fixed order, kinds repeated): `filters_from`
    reads it back as the same filters, and equal filters always give the same string."""
    pairs: list[tuple[str, str]] = []
    for key, value in filters.as_json().items():
        if key == "kinds":
            pairs.extend(("kind", kind) for kind in value)
        elif key == "thread":
            pairs.append(("thread", "yes"))
        else:
            pairs.append((key, str(value)))
    return urlencode(pairs)


def limit_arg(args: MultiDict[str, str], default: int, most: int) -> int:
    """The `limit` parameter: a whole number from 1 to `most`, or `default` when absent or empty."""
    raw = args.get("limit", "")
    if not raw:
        return default
    if not _whole(raw) or not 1 <= int(raw) <= most:
        bad_request(f"limit={raw[:40]!r} is not a whole number from 1 to {most}")
    return int(raw)


def cursor_arg(args: MultiDict[str, str], name: str) -> int | None:
    """A cursor parameter (an id a previous page gave as its `next_cursor`): a whole number from 0
    to CURSOR_MAX; empty: None."""
    raw = args.get(name, "")
    if not raw:
        return None
    if not _whole(raw) or len(raw) > 10 or int(raw) > CURSOR_MAX:
        bad_request(f"{name}={raw[:40]!r} is not a cursor (a whole number a previous page gave)")
    return int(raw)


def date_arg(args: MultiDict[str, str], name: str) -> date | None:
    """A date parameter, YYYY-MM-DD; empty: None."""
    raw = args.get(name, "")
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        bad_request(f"{name}={raw[:40]!r} is not a date (YYYY-MM-DD)")


def _whole(raw: str) -> bool:
    # Why ASCII: str.isdigit() also accepts other scripts' digits and superscripts.
    return raw.isascii() and raw.isdigit()


def bad_request(message: str) -> NoReturn:
    """Abort the request with a 400 saying `message` (one line, ending with a full stop)."""
    abort(400, description=" ".join(message.split()).rstrip(".") + ".")
