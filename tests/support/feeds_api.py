"""The feeds' and the API's tests' database and client: four questions with changes (scraped
markup among them) and a subscriber whose address no response may show, and a running app over
them answering requests with any method and headers."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.message import Message
from typing import Any
from urllib.error import HTTPError

from sqlalchemy.orm import Session, sessionmaker

from monitor.web.app import create_app
from spiders.records import AnswerRecord
from tests.support.digests import add_events, add_subscriber
from tests.support.web import NOW, WEB_SECRET, serve_in_thread

BASE_URL = "https://pqwatch.example"
SUBSCRIBER = "ann.reader@example.org"
HOSTILE = "<script>alert('x')</script> & {{ 7*7 }} </content>]]>"
FIRST, SECOND, THIRD = (
    datetime(2026, 11, 28, 9, 0),
    datetime(2026, 11, 29, 9, 0),
    datetime(2026, 11, 30, 8, 0),
)


def _answer(house: str, uin: str, tabled: date, body: str, answer: str, **extra: Any) -> AnswerRecord:
    return AnswerRecord(
        house=house,
        uin=uin,
        date_tabled=tabled,
        question_text=f"To ask the Secretary of State what steps are being taken on {uin}.",
        answer_text=answer,
        answering_member="Lord Sharpe of Epsom" if house == "Lords" else "Chris Philp",
        answering_body=body,
        date_answered=date(tabled.year, tabled.month, tabled.day + 5),
        heading=f"Heading of {uin}",
        **extra,
    )


HL_2021 = _answer(
    "Lords", "HL2472", date(2021, 9, 7), "Home Office", "I will be meeting the Commissioner shortly."
)
HL_2023 = replace(
    _answer("Lords", "HL2472", date(2023, 9, 7), "Home Office", "The figures are in the library."),
    question_text="To ask His Majesty's Government, further to the Written Answer by Lord Sharpe of Epsom "
    "on 12 September 2021 (HL2472), what steps they are taking.",
)
C_7926 = _answer("Commons", "7926", date(2024, 1, 5), "Home Office", "Figures follow.")
C_7927 = _answer(
    "Commons", "7927", date(2024, 1, 8), "<b>Cabinet</b> Office", "The Cabinet Office does not hold it."
)


def populate(sessions: sessionmaker[Session]) -> None:
    """Four questions, each new on the first day: two sessions' HL2472 (the later following up the
    earlier) and two Commons ones of two bodies (one with markup in its name); then 7926's answer
    rewritten with hostile markup, and HL2472 of 2021's reworded; and a subscriber, whose address
    must never be shown."""
    add_events(sessions, HL_2021, HL_2023, C_7926, C_7927, at=FIRST)
    add_events(sessions, replace(C_7926, answer_text=f"Figures follow. {HOSTILE}"), at=SECOND)
    add_events(
        sessions,
        replace(HL_2021, answer_text="I will be meeting the Commissioner next week."),
        at=THIRD,
    )
    add_subscriber(sessions, SUBSCRIBER, department="Home Office")


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read whole."""

    status: int
    headers: Message
    body: str

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


# Why: an HTTP(S)_PROXY in the environment must not capture requests to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
    """Make one request with these headers; an error status is a reply like any other."""
    try:
        with _OPENER.open(urllib.request.Request(url, method=method, headers=headers or {}), timeout=10) as r:
            return Reply(r.status, r.headers, r.read().decode())
    except HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read().decode())


@dataclass(frozen=True)
class Api:
    """The running app over the populated database."""

    url: str
    db_url: str
    sessions: sessionmaker[Session]

    def get(self, path: str, **headers: str) -> Reply:
        """GET a path of the app."""
        return request(self.url + path, headers=headers)


@contextmanager
def running_api(db_url: str, sessions: sessionmaker[Session]) -> Iterator[Api]:
    """The app, its clock at NOW, over the populated database (`populate`), served on 127.0.0.1."""
    populate(sessions)
    app = create_app(sessions, WEB_SECRET, BASE_URL, clock=lambda: NOW)
    with serve_in_thread(app) as url:
        yield Api(url, db_url, sessions)
