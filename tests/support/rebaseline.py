"""A stored blog post read by the blog parser, and a simulated parser upgrade, for re-baseline tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from monitor.changes.detect import detect_changes
from spiders.sources.blog import parse
from storage.record import record_page
from tests.support.helpers import email, post

POST_URL = "https://blog.example/hl2472/"
OLD_PARSE = parse.parse_body


def post_body(answer: str) -> bytes:
    """The raw body of the HL2472 post on the blog, answering `answer`."""
    paragraphs = email("HL2472", "6 September 2021", "21 September 2021 at 16:56", answer)
    return post("https://blog.example", "/hl2472/", paragraphs).encode()


BODY = post_body("The Government's view is clear: we won't.")


def _curly(body: bytes, url: str, content_type: str | None = None):
    """The upgraded normaliser: typographic apostrophes."""
    return tuple(
        replace(
            r, answer_text=r.answer_text.replace("'", "’"), question_text=r.question_text.replace("'", "’")
        )
        for r in OLD_PARSE(body, url, content_type)
    )


def upgrade_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate a normaliser change in the blog parse module (its code fingerprint changes too)."""
    monkeypatch.setattr(parse, "parse_body", _curly)
    monkeypatch.setattr(parse, "PARSER_ID", "upgraded-normaliser")


def record_crawl(sessions, body: bytes, at: datetime) -> int:
    """What a crawl of the post stores (the pipeline's record_page with the parser's id), then
    detection; return the events."""
    with sessions.begin() as s:
        record_page(
            s,
            source_kind="blog",
            url=POST_URL,
            answers=parse.parse_body(body, POST_URL),
            observed_at=at,
            body=body,
            parser=parse.PARSER_ID,
        )
    with sessions.begin() as s:
        return detect_changes(s, now=at)
