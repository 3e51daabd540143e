"""End to end against the API stand-in: an official record that loses its answer text is suspect,
not a change — stored only when a crawl a day later still shows it empty, forgotten when the text
returns."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.cli.commands import main
from storage.db import open_database
from storage.models import PendingChange, Version
from storage.terms import PendingReason
from tests.support.api_standin import ApiStandIn
from tests.support.helpers import FIXTURES as SAVED

REAL = json.loads((SAVED / "api/detail-1679416.json").read_text())["value"]
WINDOW = ("--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05")


@pytest.fixture
def api():
    with ApiStandIn() as running:
        yield running


def crawl(db_url: str, api: ApiStandIn, capfd) -> tuple[int, str]:
    status = main(["--db", db_url, "crawl", "parliament", "--api-base", api.url, "--delay", "0", *WINDOW])
    out = capfd.readouterr()
    return status, out.out + out.err


def answers(db_url: str) -> list[str | None]:
    with open_database(db_url)() as session:
        return [v.answer_text for v in session.scalars(select(Version).order_by(Version.id))]


def pending(db_url: str) -> list[str]:
    with open_database(db_url)() as session:
        return [p.reason for p in session.scalars(select(PendingChange))]


def kinds(db_url: str, capfd) -> list[str]:
    assert main(["--db", db_url, "changes", "--format", "json"]) == 0
    return [event["kind"] for event in json.loads(capfd.readouterr().out)]


def a_day_passes(db_url: str) -> None:
    with open_database(db_url).begin() as session:
        for change in session.scalars(select(PendingChange)):
            change.first_seen -= timedelta(days=1)


def emptied() -> dict:
    record = copy.deepcopy(REAL)
    record["answerText"] = ""
    return record


def test_an_official_text_gone_empty_is_stored_only_when_a_crawl_a_day_later_confirms_it(api, db_url, capfd):
    api.put(copy.deepcopy(REAL))
    assert crawl(db_url, api, capfd)[0] == 0
    text = answers(db_url)[0]
    assert text
    api.put(emptied())
    status, out = crawl(db_url, api, capfd)
    assert status == 0, out
    assert answers(db_url) == [text] and pending(db_url) == [PendingReason.EMPTIED]
    assert kinds(db_url, capfd) == ["new"]
    # The same day: still suspect. A day later, still empty: the version is stored.
    assert crawl(db_url, api, capfd)[0] == 0
    assert answers(db_url) == [text] and pending(db_url) == [PendingReason.EMPTIED]
    a_day_passes(db_url)
    status, out = crawl(db_url, api, capfd)
    assert status == 0, out
    assert answers(db_url) == [text, ""] and pending(db_url) == []


def test_an_official_text_that_returns_undoes_the_suspect_change(api, db_url, capfd):
    api.put(copy.deepcopy(REAL))
    crawl(db_url, api, capfd)
    api.put(emptied())
    crawl(db_url, api, capfd)
    assert pending(db_url) == [PendingReason.EMPTIED]
    api.put(copy.deepcopy(REAL))
    a_day_passes(db_url)
    status, out = crawl(db_url, api, capfd)
    assert status == 0, out
    assert len(answers(db_url)) == 1 and pending(db_url) == []
    assert kinds(db_url, capfd) == ["new"]


def test_every_version_an_api_crawl_stores_names_the_api_parser(api, db_url, capfd):
    from spiders.registry import parser_id
    from storage.terms import SourceKind

    api.put(copy.deepcopy(REAL))
    assert crawl(db_url, api, capfd)[0] == 0
    with open_database(db_url)() as session:
        assert [v.parser for v in session.scalars(select(Version))] == [parser_id(SourceKind.API)]
