"""End to end: `pqwatch crawl pages` on saved Parliament detail pages and historic Hansard pages
served on 127.0.0.1 — the second official source and the past, reconciled with the API."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from sqlalchemy import select

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from spiders.registry import parser_id
from storage.db import open_database
from storage.models import Version
from storage.terms import SourceKind
from tests.support.api_standin import ApiStandIn
from tests.support.helpers import FIXTURES as SAVED

FIXTURES = SAVED / "pages"


def saved(folder: str, name: str) -> tuple[str, bytes]:
    """A saved page and the path of the URL it was saved from."""
    expected = json.loads((FIXTURES / folder / f"{name}.expected.json").read_text())
    return urlsplit(expected["url"]).path, (FIXTURES / folder / f"{name}.html").read_bytes()


def crawl_pages(db_url: str, site: LocalSite, *paths: str) -> int:
    # --any-host: the stand-in serves the official paths on 127.0.0.1
    args = ["--db", db_url, "crawl", "pages", "--delay", "0", "--any-host"]
    for path in paths:
        args += ["--url", site.url + path]
    return main(args)


def export(db_url: str, capfd) -> list[dict]:
    capfd.readouterr()
    assert main(["--db", db_url, "export"]) == 0
    return json.loads(capfd.readouterr().out)


def test_a_holding_answer_then_its_substantive_answer_on_the_html_site(db_url, capfd):
    path, holding = saved("html", "commons_8221_holding_only")
    _, answered = saved("html", "commons_8221_holding_then_answered")
    with LocalSite() as site:
        site.replace({path: holding})
        assert crawl_pages(db_url, site, path) == 0
        site.replace({path: answered})
        assert crawl_pages(db_url, site, path) == 0
        assert crawl_pages(db_url, site, path) == 0  # unchanged: a 304
        assert [s for _, p, s in site.requests if p == path] == [200, 200, 304]
    [view] = export(db_url, capfd)
    assert (view["uin"], view["date_tabled"], view["is_holding"]) == ("8221", "2024-01-08", False)
    assert view["sources"][0]["kind"] == "html" and view["version_count"] == 2
    assert main(["--db", db_url, "changes", "--format", "json"]) == 0
    kinds = [e["kind"] for e in json.loads(capfd.readouterr().out)]
    # Due 5 working days after tabling (8 January 2024), answered on the 22nd: late.
    assert kinds == ["new", "holding_answer", "holding_replaced", "answered_late"]


def test_historic_hansard_pages_give_undated_questions_with_their_answer_date(db_url, capfd):
    path, page = saved("hansard", "commons_two_questions_column_markers_mid_sentence")
    with LocalSite() as site:
        site.replace({path: page})
        assert crawl_pages(db_url, site, path) == 0
    views = export(db_url, capfd)
    assert len(views) == 2
    assert all(v["sources"][0]["kind"] == "hansard" and v["date_tabled"] is None for v in views)
    assert all(v["date_answered"] for v in views)


def test_the_api_and_the_html_page_of_one_question_are_one_question_and_the_api_wins(db_url, capfd):
    path, page = saved("html", "commons_7926_answered")
    record = json.loads((FIXTURES / "html" / "api_detail_7926.json").read_text())["value"]
    with LocalSite() as site, ApiStandIn([record]) as api:
        site.replace({path: page})
        assert crawl_pages(db_url, site, path) == 0
        assert (
            main(
                [
                    "--db",
                    db_url,
                    "crawl",
                    "parliament",
                    "--api-base",
                    api.url,
                    "--delay",
                    "0",
                    "--tabled-from",
                    "2024-01-05",
                    "--tabled-to",
                    "2024-01-05",
                ]
            )
            == 0
        )
    [view] = export(db_url, capfd)
    assert [s["kind"] for s in view["sources"]] == ["api", "html"]
    assert view["api_id"] == record["id"]


def test_a_url_that_is_no_official_page_is_refused_before_crawling(db_url, capfd):
    assert main(["--db", db_url, "crawl", "pages", "--url", "https://example.org/news/"]) == 2
    assert "is not a written-question detail page" in capfd.readouterr().err


def test_a_page_that_does_not_parse_is_a_counted_error(db_url, capfd):
    with LocalSite() as site:
        site.replace({"/written-questions/detail/2024-01-05/7926": b"<html><body>Maintenance</body></html>"})
        assert crawl_pages(db_url, site, "/written-questions/detail/2024-01-05/7926") == 1
    assert "1 errors" in capfd.readouterr().out
    assert export(db_url, capfd) == []


def test_a_stand_in_page_where_official_answers_were_is_an_extraction_failure(db_url, capfd):
    path, page = saved("hansard", "commons_two_questions_column_markers_mid_sentence")
    with LocalSite() as site:
        site.replace({path: page})
        assert crawl_pages(db_url, site, path) == 0
        before = export(db_url, capfd)
        site.replace(
            {path: b"<html><body><h1>Briefly unavailable for scheduled maintenance.</h1></body></html>"}
        )
        assert crawl_pages(db_url, site, path) == 1
        captured = capfd.readouterr()
        out = captured.out + captured.err
        lines = [line for line in out.splitlines() if "extraction failure: a maintenance page" in line]
        assert len(lines) == 1 and site.url + path in lines[0]
    assert export(db_url, capfd) == before
    with open_database(db_url)() as session:
        versions = list(session.scalars(select(Version)))
    assert [v.status for v in versions] == ["present", "present"]
    assert {v.parser for v in versions} == {parser_id(SourceKind.HANSARD)}
