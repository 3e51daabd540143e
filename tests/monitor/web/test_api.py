"""The read-only JSON API over real HTTP, on each engine: questions and changes a page at a time by
id cursors, with the export's and `changes`' field names and values, one question's views, thread
and versions, errors as JSON problems, scraped text escaped, CORS for GET, no subscriber shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from monitor.cli import main
from monitor.notify.subscriptions import make_filters
from monitor.web import api
from monitor.web.filtering import filter_query, filters_from
from tests.support.digests import add_events
from tests.support.feeds_api import (
    BASE_URL,
    C_7927,
    HOSTILE,
    SUBSCRIBER,
    Api,
    request,
    running_api,
)
from tests.support.web import NOW


@pytest.fixture
def site(db_url: str, sessions: sessionmaker[Session]) -> Iterator[Api]:
    """The app over the populated database, served on 127.0.0.1."""
    with running_api(db_url, sessions) as running:
        yield running


def cli_json(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> Any:
    """What `pqwatch --db URL ARGS` prints, as JSON."""
    capsys.readouterr()
    assert main(["--db", db_url, *args]) == 0
    return json.loads(capsys.readouterr().out)


LIFE = {"due_date", "answered_on_time", "working_days_to_answer", "status", "non_answer"}


def test_questions_carry_the_exports_fields_and_values(site: Api, capsys: pytest.CaptureFixture[str]) -> None:
    reply = site.get("/api/v1/questions")
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    page = reply.json()
    exported = {(q["house"], q["uin"], q["date_tabled"]): q for q in cli_json(capsys, site.db_url, "export")}
    assert len(page["items"]) == len(exported) == 4 and page["has_more"] is False
    for item in page["items"]:
        same = exported[(item["house"], item["uin"], item["date_tabled"])]
        assert list(item) == [*same, "page_url"]  # the export's names, in its order
        for name, value in same.items():
            if name in LIFE:
                continue  # as of the app's clock, not today
            if name in ("follows", "followed_by"):
                assert item[name] is None  # a list does not look threads up
            else:
                assert item[name] == value, name
        assert item["page_url"].startswith(
            f"{BASE_URL}/questions/{item['house'].lower()}/{item['uin']}?tabled="
        )
    ids = [item["question_id"] for item in page["items"]]
    assert ids == sorted(ids) and page["next_cursor"] == ids[-1]


def test_question_pages_follow_the_cursor_and_end(site: Api) -> None:
    seen, cursor, pages = [], "", 0
    while True:
        page = site.get(f"/api/v1/questions?limit=1&cursor={cursor}").json()
        pages += 1
        seen += [item["question_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == 4 and seen == sorted(set(seen)) and pages in (4, 5)
    after = site.get(f"/api/v1/questions?cursor={cursor}").json()
    assert after == {"items": [], "next_cursor": cursor, "has_more": False}


def test_a_page_builds_only_its_own_questions_views(site: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[set[int] | None] = []
    real = api.current_views

    def counting(session, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs.get("question_ids"))
        return real(session, **kwargs)

    monkeypatch.setattr(api, "current_views", counting)
    page = site.get("/api/v1/questions?limit=2").json()
    assert len(page["items"]) == 2 and page["has_more"] is True
    assert asked and all(ids is not None and len(ids) <= 2 for ids in asked)


def test_a_rare_filter_gives_short_pages_that_still_list_each_question_once(
    site: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "SCAN_WINDOW", 1)  # one question id looked at per page
    pages, cursor = [], ""
    while True:
        page = site.get(f"/api/v1/questions?house=Commons&cursor={cursor}").json()
        pages.append([item["uin"] for item in page["items"]])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert pages == [[], [], ["7926"], ["7927"]]  # the two Lords questions come first


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("house=lords", ["HL2472", "HL2472"]),
        ("house=Commons&department=home%20OFFICE", ["7926"]),
        ("department=%3Cb%3Ecabinet", ["7927"]),
        ("tabled_from=2023-01-01&tabled_to=2024-01-05", ["HL2472", "7926"]),
        ("tabled_from=2024-01-06", ["7927"]),
        ("department=Treasury", []),
    ],
)
def test_questions_are_filtered_by_house_department_and_tabled_dates(
    site: Api, query: str, expected: list[str]
) -> None:
    page = site.get(f"/api/v1/questions?{query}").json()
    assert [item["uin"] for item in page["items"]] == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/questions?house=Senate", "house='Senate' is not one of Commons, Lords."),
        ("/api/v1/questions?tabled_from=2024-13-01", "tabled_from='2024-13-01' is not a date (YYYY-MM-DD)."),
        ("/api/v1/questions?limit=501", "limit='501' is not a whole number from 1 to 500."),
        ("/api/v1/questions?limit=0", "limit='0' is not a whole number from 1 to 500."),
        ("/api/v1/questions?cursor=-1", "cursor='-1' is not a cursor"),
        ("/api/v1/changes?kind=renamed", "unknown change kind 'renamed'"),
        ("/api/v1/changes?thread=yes", "following a thread needs the UIN of a question in it."),
        ("/api/v1/changes?since=1e3", "since='1e3' is not a cursor"),
        ("/api/v1/changes?keyword=" + "x" * 201, "keyword is longer than 200 characters."),
        ("/api/v1/changes?member=a%00b", "member has a NUL character."),
    ],
)
def test_a_bad_parameter_is_a_400_problem_that_names_it(site: Api, path: str, message: str) -> None:
    reply = site.get(path)
    assert reply.status == 400 and reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request" and message in problem["detail"]
    assert "\n" not in problem["detail"]


def test_a_question_shows_each_sessions_view_thread_and_versions(
    site: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = site.get("/api/v1/questions/lords/hl2472")
    assert reply.status == 200
    items = reply.json()["items"]
    assert [item["date_tabled"] for item in items] == ["2021-09-07", "2023-09-07"]
    history = cli_json(capsys, site.db_url, "history", "HL2472", "--house", "Lords", "--format", "json")
    assert [item["versions"] for item in items] == [question["versions"] for question in history]
    first = items[0]
    assert [v["answer_text"] for v in first["versions"]] == [
        "I will be meeting the Commissioner shortly.",
        "I will be meeting the Commissioner next week.",
    ]
    assert first["answer_text"] == "I will be meeting the Commissioner next week."
    assert first["follows"] == [] and first["status"] == "answered"
    assert first["followed_by"] == [{"uin": "HL2472", "date_tabled": "2023-09-07"}]
    assert items[1]["follows"] == [{"uin": "HL2472", "date_tabled": "2021-09-07"}]
    one = site.get("/api/v1/questions/Lords/HL2472?tabled=2023-09-07").json()
    assert [item["date_tabled"] for item in one["items"]] == ["2023-09-07"]
    assert one["next_cursor"] is None and one["has_more"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/questions/Lords/HL9999",
        "/api/v1/questions/Lords/HL2472?tabled=2022-01-01",
        "/api/v1/questions/Senate/HL2472",
        "/api/v1/questions/Lords/HL%002472",
        "/api/v1/nothing",
    ],
)
def test_an_absent_question_or_route_is_a_404_problem(site: Api, path: str) -> None:
    reply = site.get(path)
    assert reply.status == 404 and reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json()["status"] == 404


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(site: Api) -> None:
    reply = request(site.url + "/api/v1/changes", method="POST")
    assert reply.status == 405 and reply.json()["status"] == 405
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert "Access-Control-Allow-Origin" not in reply.headers  # CORS is for reading only


def test_changes_carry_the_changes_commands_fields_and_values(
    site: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    page = site.get("/api/v1/changes").json()
    printed = cli_json(capsys, site.db_url, "changes", "--format", "json")
    assert [{k: v for k, v in item.items() if k != "page_url"} for item in page["items"]] == printed
    assert all(list(item) == [*printed[0], "page_url"] for item in page["items"])
    assert [item["kind"] for item in page["items"]] == ["new"] * 4 + ["answer_text_changed"] * 2
    assert page["next_cursor"] == page["items"][-1]["id"] and page["has_more"] is False


def test_a_poller_reads_every_change_once_from_its_cursor(site: Api) -> None:
    seen, cursor = [], 0
    while True:
        page = site.get(f"/api/v1/changes?since={cursor}&limit=4").json()
        seen += [item["id"] for item in page["items"]]
        assert page["next_cursor"] >= cursor
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == 6 and seen == sorted(set(seen))
    later = site.get(f"/api/v1/changes?since={cursor}").json()
    assert later == {"items": [], "next_cursor": cursor, "has_more": False}  # poll again from here
    add_events(site.sessions, replace(C_7927, answer_text="The Cabinet Office now holds it."), at=NOW)
    fresh = site.get(f"/api/v1/changes?since={cursor}").json()
    assert [item["uin"] for item in fresh["items"]] == ["7927"] and fresh["next_cursor"] > cursor


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=answer_text_changed", [("7926", "answer_text_changed"), ("HL2472", "answer_text_changed")]),
        ("kind=answer_text_changed&kind=&house=Commons", [("7926", "answer_text_changed")]),
        ("department=cabinet&kind=new", [("7927", "new")]),
        ("keyword=commissioner&kind=answer_text_changed", [("HL2472", "answer_text_changed")]),
        ("uin=hl%202472&kind=new", [("HL2472", "new"), ("HL2472", "new")]),
        ("member=philp&kind=new", [("7926", "new"), ("7927", "new")]),
    ],
)
def test_changes_are_filtered_as_a_subscription_is(
    site: Api, query: str, expected: list[tuple[str, str]]
) -> None:
    page = site.get(f"/api/v1/changes?{query}").json()
    assert [(item["uin"], item["kind"]) for item in page["items"]] == expected


def test_scraped_markup_is_escaped_in_the_json_and_read_back_intact(site: Api) -> None:
    for path in ("/api/v1/changes", "/api/v1/questions", "/api/v1/questions/Commons/7926"):
        body = site.get(path).body
        assert "<" not in body and ">" not in body and "&" not in body
        assert HOSTILE in json.dumps(json.loads(body), ensure_ascii=False)
    changed = site.get("/api/v1/changes?kind=answer_text_changed&uin=7926").json()["items"][0]
    assert changed["new"] == f"Figures follow. {HOSTILE}" and ["+", f" {HOSTILE}"] in changed["diff"]


def test_the_api_and_feeds_allow_any_origin_to_read_without_credentials(site: Api) -> None:
    for path in (
        "/api/v1/questions",
        "/api/v1/changes?kind=bad",
        "/feeds/changes.atom",
        "/api/v1/openapi.json",
    ):
        reply = site.get(path, Origin="https://newsroom.example")
        assert reply.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in reply.headers and "Set-Cookie" not in reply.headers
    preflight = request(
        site.url + "/api/v1/changes?since=3",
        method="OPTIONS",
        headers={
            "Origin": "https://newsroom.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status == 200 and preflight.body == ""
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert "Access-Control-Allow-Origin" not in site.get("/stats").headers  # the pages are not shared


def test_the_security_headers_stay_on_json(site: Api) -> None:
    headers = site.get("/api/v1/changes").headers
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_response_shows_a_subscribers_address(site: Api) -> None:
    paths = [
        "/api/v1/questions",
        "/api/v1/questions/Commons/7926",
        "/api/v1/changes",
        "/api/v1/changes?department=home",
        "/api/v1/openapi.json",
        "/feeds/changes.atom",
        "/feeds/changes.atom?department=Home%20Office",
        "/feeds/questions/commons/7926.atom",
    ]
    for path in paths:
        reply = site.get(path)
        assert reply.status == 200, path
        assert SUBSCRIBER not in reply.body and "ann.reader" not in reply.body, path


def test_the_filter_reader_and_its_canonical_query_agree() -> None:
    args = MultiDict(
        [("kind", "corrected"), ("house", "lords"), ("uin", "hl 2472"), ("kind", ""), ("thread", "on"),
         ("department", " Home  Office "), ("kind", "answered")]
    )  # fmt: skip
    filters = filters_from(args)
    assert filters == make_filters(
        house="Lords", department="Home Office", uin="HL2472", kinds=["corrected", "answered"], thread=True
    )
    query = filter_query(filters)
    assert query == "house=Lords&department=Home+Office&uin=HL2472&kind=corrected&kind=answered&thread=yes"
    assert filters_from(MultiDict(parse_qsl(query))) == filters
    assert filters_from(MultiDict()) == make_filters() and filter_query(make_filters()) == ""
    with pytest.raises(BadRequest, match="house='Senate' is not one of Commons, Lords."):
        filters_from(MultiDict([("house", "Senate")]))
