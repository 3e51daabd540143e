"""End to end: a Church in Parliament post (no UIN) crawled with `pqwatch crawl blog` is exported
unmatched until its official record is stored, and then becomes that question's blog copy the next
time the post is read — the post is re-read, never skipped by a fingerprint or a 304."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from spiders.records import AnswerRecord
from storage.db import open_database
from storage.record import record_page
from storage.terms import SourceKind, utcnow
from tests.support.helpers import FIXTURES, crawl, saved_expected, saved_html

NAME = "churchinparliament_bishop_st_albans_2024"
PATH = "/2024/04/16/bishop-of-st-albans-asks-about-plastic-surgery-consultation/"


def export(db_url: str, capfd) -> list[dict]:  # type: ignore[type-arg]
    capfd.readouterr()
    assert main(["--db", db_url, "export", "--format", "json"]) == 0
    return json.loads(capfd.readouterr().out)


def test_a_copy_without_a_uin_stays_unmatched_until_its_official_record_comes_then_joins_it(db_url, capfd):
    copy = saved_expected(FIXTURES / "blog", NAME)["answers"][0]
    page = saved_html(FIXTURES / "blog", NAME).replace("https://churchinparliament.org", "{base}")
    with LocalSite() as site:
        site.replace({PATH: page.replace("{base}", site.url).encode()})
        status, out = crawl(db_url, site.url + PATH, capfd=capfd)
        assert status == 0, out
        views = export(db_url, capfd)
        assert [(v["uin"], v["unmatched"], v["unmatched_reason"]) for v in views] == [
            (None, True, "no official question matches")
        ]
        assert views[0]["asking_member"] == "The Lord Bishop of St Albans"
        assert views[0]["sources"] == [{"kind": "blog", "url": site.url + PATH}]

        official = AnswerRecord(
            house="Lords",
            uin="HL3540",
            date_tabled=date(2024, 4, 2),
            api_id=1_700_001,
            asking_member="The Lord Bishop of St Albans",
            answering_member="Lord Markham",
            answering_body="Department of Health and Social Care",
            question_text=copy["question_text"],
            answer_text=copy["answer_text"],
            date_answered=date(2024, 4, 15),
        )
        sessions = open_database(db_url)
        with sessions.begin() as session:
            record_page(
                session,
                source_kind=SourceKind.API,
                url="https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1700001",
                answers=[replace(official)],
                observed_at=utcnow(),
                parser="api",
            )
        status, out = crawl(db_url, site.url + PATH, capfd=capfd)
        assert status == 0, out
        gets = [target for method, target, _ in site.requests if method == "GET" and target == PATH]
        assert len(gets) == 2  # read whole both times
        views = export(db_url, capfd)
    assert [(v["uin"], v["date_tabled"], v["unmatched"]) for v in views] == [("HL3540", "2024-04-02", False)]
    assert {s["kind"] for s in views[0]["sources"]} == {"api", "blog"}
