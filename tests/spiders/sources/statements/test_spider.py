"""End to end: `pqwatch crawl statements` against the local stand-in of the Written Questions API
sweeps the statements made in its window with the fewest requests, stores each CorrectedAnswer
link once, and the `corrected` event is made once, whether the question is there first or later."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest

from monitor.cli.commands import main
from monitor.config import load_settings
from monitor.crawl.plans import STATEMENT_SWEEP_DAYS, configured_crawls
from tests.support.api_standin import STATEMENTS_PATH, ApiStandIn
from tests.support.helpers import FIXTURES

QUESTION = json.loads((FIXTURES / "api/detail-1679416.json").read_text())["value"]
SAVED = [
    entry["value"]
    for entry in json.loads((FIXTURES / "statements/list-2024-02-05.json").read_text())["results"]
]
STATEMENT_PAGE = "https://questions-statements.parliament.uk/written-statements/detail/2024-02-05/HCWS245"
WINDOW = ("--made-from", "2024-02-01", "--made-to", "2024-02-07")


def crawl(db_url: str, api: ApiStandIn, source: str, *args: str, capfd=None) -> tuple[int, str]:
    status = main(["--db", db_url, "crawl", source, "--api-base", api.url, "--delay", "0", *args])
    out = capfd.readouterr() if capfd else None
    return status, (out.out + out.err) if out else ""


def corrected(db_url: str, capfd) -> list[dict]:
    capfd.readouterr()
    assert main(["--db", db_url, "changes", "--format", "json"]) == 0
    return [event for event in json.loads(capfd.readouterr().out) if event["kind"] == "corrected"]


def statement_requests(api: ApiStandIn) -> list[str]:
    return [path for _, path, _ in api.requests if path.startswith(STATEMENTS_PATH)]


@pytest.fixture
def api():
    with ApiStandIn() as running:
        running.statements = {statement["id"]: copy.deepcopy(statement) for statement in SAVED}
        yield running


def test_a_statement_seen_before_its_question_becomes_its_corrected_event_once(api, db_url, capfd):
    status, out = crawl(db_url, api, "statements", *WINDOW, capfd=capfd)
    assert status == 0, out
    # One list page holds the window; the list shows the links, so no detail is read.
    [listed] = statement_requests(api)
    assert listed.startswith(f"{STATEMENTS_PATH}?") and "madeWhenFrom=2024-02-01" in listed
    assert "madeWhenTo=2024-02-07" in listed and "take=100" in listed
    assert corrected(db_url, capfd) == []  # its question is not stored yet
    api.put(copy.deepcopy(QUESTION))
    status, out = crawl(db_url, api, "parliament", "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05")
    assert status == 0, out
    [event] = corrected(db_url, capfd)
    assert (event["house"], event["uin"], event["date_tabled"], event["field"]) == (
        "Commons",
        "7926",
        "2024-01-05",
        "statement",
    )
    assert event["source_url"] == STATEMENT_PAGE and event["detail"]["statement_uin"] == "HCWS245"
    status, out = crawl(db_url, api, "statements", *WINDOW, capfd=capfd)  # a re-crawl: nothing new
    assert status == 0 and "0 change events" in out, out
    assert len(corrected(db_url, capfd)) == 1


def test_a_statement_crawled_after_its_question_is_joined_at_once(api, db_url, capfd):
    api.put(copy.deepcopy(QUESTION))
    crawl(db_url, api, "parliament", "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05")
    status, out = crawl(db_url, api, "statements", *WINDOW, capfd=capfd)
    assert status == 0 and "1 change events" in out, out
    capfd.readouterr()
    assert main(["--db", db_url, "changes"]) == 0
    text = capfd.readouterr().out
    assert f"corrected                Commons 7926 (tabled 2024-01-05)  {STATEMENT_PAGE}" in text
    assert "statement: None -> HCWS245: Correction to a Written Answer" in text


def test_only_a_list_entry_that_hides_its_links_costs_a_detail_request(api, db_url, capfd):
    api.statement_links_listed = False
    status, out = crawl(db_url, api, "statements", *WINDOW, capfd=capfd)
    assert status == 0, out
    # HCWS245 and HLWS210 have linked statements the list does not show; HCWS246 has none.
    details = sorted(path for path in statement_requests(api) if "?" in path and "skip=" not in path)
    assert details == [
        f"{STATEMENTS_PATH}/1700101?expandMember=true",
        f"{STATEMENTS_PATH}/1700102?expandMember=true",
    ]
    api.put(copy.deepcopy(QUESTION))
    crawl(db_url, api, "parliament", "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05")
    assert [event["detail"]["statement_uin"] for event in corrected(db_url, capfd)] == ["HCWS245"]


def test_paging_reaches_every_statement_of_the_window(api, db_url, capfd):
    plain = SAVED[2]
    for number in range(150):
        api.statements[1800000 + number] = copy.deepcopy(plain) | {
            "id": 1800000 + number,
            "uin": f"HCWS{900 + number}",
        }
    # The window's oldest statement, so on the last page: a second statement of the same correction.
    last = copy.deepcopy(SAVED[0]) | {"id": 1900000, "uin": "HCWS200", "dateMade": "2024-02-01T00:00:00"}
    api.statements = {**api.statements, last["id"]: last}
    status, out = crawl(db_url, api, "statements", *WINDOW, capfd=capfd)
    assert status == 0, out
    pages = statement_requests(api)
    assert len(pages) == 2 and "skip=100" in pages[1]
    api.put(copy.deepcopy(QUESTION))
    crawl(db_url, api, "parliament", "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05")
    assert len(corrected(db_url, capfd)) == 1  # two statements, one correction made the same week


def test_a_house_narrows_the_sweep(api, db_url, capfd):
    status, out = crawl(db_url, api, "statements", "--house", "Lords", *WINDOW, capfd=capfd)
    assert status == 0, out
    assert all("house=Lords" in path for path in statement_requests(api))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("statements", "--made-from", "2024-02-07", "--made-to", "2024-02-01"),
            "--made-from must not be after",
        ),
        (("statements", "--made-from", "5 Feb 2024"), "is not a date"),
        (("parliament", "--made-from", "2024-02-01"), "need the source statements"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(api, db_url, capfd, args, message):
    source, *rest = args
    status, out = crawl(db_url, api, source, *rest, capfd=capfd)
    assert status == 2 and message in out
    assert statement_requests(api) == []


def test_the_routine_crawl_sweeps_the_last_weeks_statements(tmp_path):
    config = tmp_path / "pqwatch.toml"
    config.write_text('[parliament]\napi_base = "http://127.0.0.1:9"\n')
    crawls = configured_crawls(load_settings({}, config_file=str(config)), date(2026, 3, 2))
    assert STATEMENT_SWEEP_DAYS == 7
    assert crawls["statements"] == (
        "statements",
        {"api_base": "http://127.0.0.1:9", "made_from": "2026-02-23", "made_to": "2026-03-02", "house": ""},
    )


def test_the_pipeline_stores_a_statements_corrections_once(db_url):
    from scrapy.utils.test import get_crawler
    from sqlalchemy import select

    from spiders.pipelines import StoragePipeline
    from spiders.sources.statements.parse import parse_detail
    from spiders.sources.statements.records import StatementsFetched
    from storage.models import StatementLink

    detail = json.loads((FIXTURES / "statements/detail-1700101.json").read_text())
    links = parse_detail(detail, date(2024, 2, 6)).corrections
    item = StatementsFetched(
        url="http://api.test/statements/1700101", links=links, fetched_at=datetime(2024, 2, 6)
    )
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    pipeline.process_item(item)
    pipeline.process_item(item)  # a re-crawl
    with pipeline.sessions() as session:
        stored = session.scalars(select(StatementLink)).all()
    # Why this fails on a tree without the hook: spiders/pipelines.py must store StatementsFetched
    # items (record_statement_links, storage/statements.py).
    assert [(link.statement_uin, link.linked_id) for link in stored] == [("HCWS245", 1679416)], (
        "spiders/pipelines.py does not store StatementsFetched items"
    )
    assert crawler.stats.get_value("pqwatch/statement_links_new") == 1  # type: ignore[union-attr]
