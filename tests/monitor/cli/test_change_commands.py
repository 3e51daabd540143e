"""The commands around change detection: a crawl held as a mass change (`held`, `changes`, `status`)
and `reparse` after a parser upgrade."""

from __future__ import annotations

import json
from datetime import datetime

from monitor.changes.detect import detect_changes
from monitor.cli import main
from monitor.demo.site import LocalSite
from spiders.sources.blog import parse
from tests.support.helpers import ten_answer_blog
from tests.support.rebaseline import BODY, record_crawl, upgrade_parser

ORIGINAL_PARSER = parse.PARSER_ID


def _json(capfd, argv: list[str]):
    capfd.readouterr()
    assert main(argv) == 0
    return json.loads(capfd.readouterr().out)


def test_a_crawl_that_changes_30_percent_is_held_until_released(db_url, capfd):
    with LocalSite() as site:
        site.replace(ten_answer_blog(site.url))
        crawl_args = ["--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url + "/"]
        assert main(crawl_args) == 0
        site.replace(ten_answer_blog(site.url, changed=3))
        capfd.readouterr()
        assert main(crawl_args) == 1
        out = capfd.readouterr().out.strip().splitlines()
    assert out[-1] == (
        "127.0.0.1: crawl held 3 changes to 10 answers of 127.0.0.1 (30%, threshold 20%):"
        " pqwatch held release 1 or pqwatch held discard 1"
    )
    events = _json(capfd, ["--db", db_url, "changes", "--format", "json"])
    assert [e["hold"] for e in events if e["kind"] == "answer_text_changed"] == [
        {"id": 1, "state": "held"}
    ] * 3
    assert {e["hold"] is None for e in events if e["kind"] == "new"} == {True}
    [waiting] = _json(capfd, ["--db", db_url, "status", "--format", "json"])["holds_waiting"]
    assert (waiting["id"], waiting["state"], waiting["event_count"]) == (1, "held", 3)
    assert main(["--db", db_url, "status"]) == 0
    assert "holds waiting: 1 (3 events held back)\n  1  3 changes to 10 answers of 127.0.0.1" in (
        capfd.readouterr().out
    )
    assert main(["--db", db_url, "held"]) == 0
    assert "1  held" in capfd.readouterr().out
    assert main(["--db", db_url, "held", "release", "1"]) == 0
    assert capfd.readouterr().out.strip() == "hold 1: 3 events released"
    assert main(["--db", db_url, "held", "discard", "1"]) == 2  # decided already: one line
    assert capfd.readouterr().err.strip() == "pqwatch: error: hold 1 was already released"
    assert main(["--db", db_url, "held", "release"]) == 2
    events = _json(capfd, ["--db", db_url, "changes", "--format", "json"])
    assert [e["hold"] for e in events if e["kind"] == "answer_text_changed"] == [
        {"id": 1, "state": "released"}
    ] * 3
    status = _json(capfd, ["--db", db_url, "status", "--format", "json"])
    assert status["holds_waiting"] == [] and status["undetected_versions"] == 0
    assert status["last_detection"] is not None


def test_a_small_change_is_not_held(db_url, capfd):
    with LocalSite() as site:
        site.replace(ten_answer_blog(site.url))
        crawl_args = ["--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url + "/"]
        assert main(crawl_args) == 0
        site.replace(ten_answer_blog(site.url, changed=1))
        assert main(crawl_args) == 0  # 10%: below the threshold
    assert main(["--db", db_url, "held"]) == 0
    assert capfd.readouterr().out.strip().endswith("no holds")


def test_a_bad_threshold_stops_the_crawl_with_one_line(db_url, capfd, monkeypatch):
    monkeypatch.setenv("PQWATCH_MASS_CHANGE_THRESHOLD", "20%")
    assert main(["--db", db_url, "crawl", "blog", "--start-url", "http://127.0.0.1:9/"]) == 2
    assert capfd.readouterr().err.strip() == (
        "pqwatch: error: PQWATCH_MASS_CHANGE_THRESHOLD='20%' is not a number"
    )


def test_reparse_after_a_parser_upgrade_records_rebaselines_and_mails_nothing(
    sessions, db_url, capfd, monkeypatch
):
    record_crawl(sessions, BODY, datetime(2026, 11, 1, 9))
    upgrade_parser(monkeypatch)
    capfd.readouterr()
    assert main(["--db", db_url, "reparse"]) == 0
    assert capfd.readouterr().out.strip() == (
        "reparse finished: 1 sources read again, 1 new versions, 0 unchanged, 0 already current,"
        " 0 without a stored body, 0 unreadable"
    )
    assert _json(capfd, ["--db", db_url, "status", "--format", "json"])["undetected_versions"] == 1
    with sessions.begin() as s:
        assert detect_changes(s) == 0  # what the next crawl's detection does: nothing to say
    history = _json(capfd, ["--db", db_url, "history", "HL2472", "--format", "json"])
    versions = history[0]["versions"]
    assert [(v["parser"], v["rebaseline"]) for v in versions] == [
        (ORIGINAL_PARSER, False),
        ("upgraded-normaliser", True),
    ]
    events = _json(capfd, ["--db", db_url, "changes", "--format", "json"])
    assert [e["kind"] for e in events] == ["new"]
    assert main(["--db", db_url, "history", "HL2472"]) == 0
    assert "re-baseline: read again by parser upgraded-normaliser" in capfd.readouterr().out


def test_reparse_exits_non_zero_on_an_unreadable_body(sessions, db_url, capfd, monkeypatch):
    record_crawl(sessions, BODY, datetime(2026, 11, 1, 9))

    def unreadable(body: bytes, url: str, content_type: str | None = None):
        raise ValueError("not a post")

    monkeypatch.setattr(parse, "parse_body", unreadable)
    monkeypatch.setattr(parse, "PARSER_ID", "broken")
    capfd.readouterr()
    assert main(["--db", db_url, "reparse"]) == 1
    assert capfd.readouterr().out.strip().endswith(", 1 unreadable")
