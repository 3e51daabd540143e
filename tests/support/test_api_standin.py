"""Tests for the Written Questions API stand-in (tests.support.api_standin) and its data generator."""

from __future__ import annotations

import copy
import html
import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.api_standin import CHANGE_KINDS, ApiStandIn, evolve, generate_questions

N = 250
DAY = date(2024, 3, 1)  # after every date in generate_questions(N)
LIST = "/api/writtenquestions/questions"
# Field order of the real detail sample (shared/reference/api-question-detail-sample.json).
SAMPLE_FIELDS = """
    id askingMemberId askingMember house memberHasInterest dateTabled dateForAnswer uin questionText
    answeringBodyId answeringBodyName isWithdrawn isNamedDay groupedQuestions answerIsHolding
    answerIsCorrection answeringMemberId answeringMember correctingMemberId correctingMember dateAnswered
    answerText originalAnswerText comparableAnswerText dateAnswerCorrected dateHoldingAnswer attachmentCount
    heading attachments groupedQuestionsDates
""".split()
MEMBER_FIELDS = {
    "id",
    "listAs",
    "name",
    "party",
    "partyColour",
    "partyAbbreviation",
    "memberFrom",
    "thumbnailUrl",
}
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}
BODIES = {  # the real answeringBodyId/Name pairs of data-sources.md §1.4
    1: "Home Office",
    13: "Department for Environment, Food and Rural Affairs",
    17: "Department of Health and Social Care",
    54: "Ministry of Justice",
    60: "Department for Education",
    208: "Foreign, Commonwealth and Development Office",
    211: "Department for Levelling Up, Housing and Communities",
}


def fetch(url: str, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get(api: ApiStandIn, path: str, **params: Any) -> tuple[int, Any]:
    """Status and decoded JSON of a GET of path with query params."""
    query = f"?{urlencode(params)}" if params else ""
    status, headers, body = fetch(api.url + path + query)
    assert headers["Content-Type"].endswith("json; charset=utf-8")
    return status, json.loads(body)


def listing(api: ApiStandIn, **params: Any) -> list[dict[str, Any]]:
    """The values of a one-page list request (take 1000)."""
    status, payload = get(api, LIST, take=1000, **params)
    assert status == 200 and payload["totalResults"] == len(payload["results"])
    return [r["value"] for r in payload["results"]]


def strip_tags(text: str) -> str:
    """HTML to the list endpoint's plain text, done independently of the module under test."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def day_of(value: str | None) -> str | None:
    """The yyyy-mm-dd part of an API date-time."""
    return value[:10] if value else None


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return generate_questions(N)


@pytest.fixture
def api(questions: list[dict[str, Any]]) -> Iterator[ApiStandIn]:
    with ApiStandIn(questions) as server:
        yield server


def first(questions: list[dict[str, Any]], test: Any) -> dict[str, Any]:
    """The first generated question that passes the test."""
    return next(q for q in questions if test(q))


# --- list endpoint ----------------------------------------------------------------------------


def test_paging_reaches_total_results_exactly_once(api: ApiStandIn, questions: list[dict[str, Any]]) -> None:
    seen: list[int] = []
    skip, pages = 0, 0
    while True:
        status, payload = get(api, LIST, skip=skip, take=40, includeWithdrawn="true")
        assert status == 200 and payload["totalResults"] == N
        pages += 1
        if not payload["results"]:
            break
        for result in payload["results"]:
            assert result["links"] == [
                {"rel": "self", "href": f"/Questions/{result['value']['id']}", "method": "GET"}
            ]
            seen.append(result["value"]["id"])
        skip += 40
    assert len(seen) == N and Counter(seen).most_common(1)[0][1] == 1
    assert pages == 8 and len(api.requests) == 8
    expected = sorted(questions, key=lambda q: q["id"])
    expected.sort(key=lambda q: q["dateAnswered"] or "", reverse=True)
    assert seen == [q["id"] for q in expected]  # dateAnswered descending, unanswered last, then id


def test_take_defaults_to_20_and_is_capped_at_1000() -> None:
    many = generate_questions(1100, seed=1)
    with ApiStandIn(many) as api:
        status, payload = get(api, LIST, includeWithdrawn="true")
        assert status == 200 and len(payload["results"]) == 20 and payload["totalResults"] == 1100
        status, payload = get(api, LIST, includeWithdrawn="true", take=5000)
        assert status == 200 and len(payload["results"]) == 1000
        status, payload = get(api, LIST, includeWithdrawn="true", skip=1090, take=100)
        assert len(payload["results"]) == 10


def test_withdrawn_questions_are_hidden_unless_asked_for(
    api: ApiStandIn, questions: list[dict[str, Any]]
) -> None:
    withdrawn = {q["id"] for q in questions if q["isWithdrawn"]}
    assert withdrawn
    default = {v["id"] for v in listing(api)}
    assert len(default) == N - len(withdrawn) and not default & withdrawn
    assert {v["id"] for v in listing(api, includeWithdrawn="false")} == default
    assert {v["id"] for v in listing(api, IncludeWithdrawn="True")} == default | withdrawn


@pytest.mark.parametrize(
    ("prefix", "field"),
    [("tabled", "dateTabled"), ("answered", "dateAnswered"), ("corrected", "dateAnswerCorrected")],
)
def test_date_filters_are_inclusive(
    api: ApiStandIn, questions: list[dict[str, Any]], prefix: str, field: str
) -> None:
    days = sorted({q[field][:10] for q in questions if q[field] and not q["isWithdrawn"]})
    assert len(days) >= 3
    low, high = days[1], days[-2]

    def expected(lo: str | None, hi: str | None) -> set[int]:
        return {
            q["id"]
            for q in questions
            if q[field]
            and not q["isWithdrawn"]
            and (lo is None or q[field][:10] >= lo)
            and (hi is None or q[field][:10] <= hi)
        }

    got = listing(api, **{f"{prefix}WhenFrom": low, f"{prefix}WhenTo": high})
    assert {v["id"] for v in got} == expected(low, high)
    assert {day_of(v[field]) for v in got} >= {low, high}  # both ends included
    one_day = listing(api, **{f"{prefix}WhenFrom": low, f"{prefix}WhenTo": low})
    assert {v["id"] for v in one_day} == expected(low, low) and one_day
    assert {v["id"] for v in listing(api, **{f"{prefix}WhenFrom": high})} == expected(high, None)
    assert {v["id"] for v in listing(api, **{f"{prefix}WHENTO": low})} == expected(None, low)


def test_house_answered_and_uin_filters(api: ApiStandIn, questions: list[dict[str, Any]]) -> None:
    live = [q for q in questions if not q["isWithdrawn"]]
    lords = listing(api, house="Lords")
    assert lords and {v["house"] for v in lords} == {"Lords"}
    assert (
        len(lords) + len(listing(api, house="commons")) == len(listing(api, house="Bicameral")) == len(live)
    )
    unanswered = listing(api, answered="Unanswered")
    assert {v["id"] for v in unanswered} == {q["id"] for q in live if not q["dateAnswered"]}
    assert {v["id"] for v in listing(api, answered="Answered")} == {
        q["id"] for q in live if q["dateAnswered"]
    }
    target = first(live, lambda q: q["house"] == "Lords")
    found = listing(api, uin=target["uin"].lower())  # ASP.NET binds uIN case-insensitively
    assert [v["id"] for v in found] == [target["id"]]


def test_expand_member_fills_or_nulls_member_objects(
    api: ApiStandIn, questions: list[dict[str, Any]]
) -> None:
    corrected = first(questions, lambda q: q["answerIsCorrection"])
    plain = listing(api, uIN=corrected["uin"])
    assert [(v["askingMember"], v["answeringMember"], v["correctingMember"]) for v in plain] == [
        (None, None, None)
    ]
    assert plain[0]["askingMemberId"] == corrected["askingMemberId"]
    expanded = listing(api, uIN=corrected["uin"], expandMember="true")[0]
    for name in ("askingMember", "answeringMember", "correctingMember"):
        assert set(expanded[name]) == MEMBER_FIELDS
        assert expanded[name]["id"] == expanded[f"{name}Id"]
    _, detail = get(api, f"{LIST}/{corrected['id']}")
    assert detail["value"]["askingMember"] is None
    _, detail = get(api, f"{LIST}/{corrected['id']}", ExpandMember="True")
    assert detail["value"]["askingMember"] == corrected["askingMember"]


def test_list_truncates_text_but_detail_is_full(api: ApiStandIn, questions: list[dict[str, Any]]) -> None:
    long = first(
        questions,
        lambda q: len(q["questionText"]) > 255 and q["answerText"] and len(strip_tags(q["answerText"])) > 300,
    )
    value = listing(api, uIN=long["uin"])[0]
    assert len(value["questionText"]) == 255 and value["questionText"] == long["questionText"][:255]
    assert len(value["answerText"]) == 258 and value["answerText"].endswith("...")
    assert value["answerText"] == strip_tags(long["answerText"])[:255] + "..."
    assert "<" not in value["answerText"]
    _, detail = get(api, f"{LIST}/{long['id']}")
    assert detail["value"]["questionText"] == long["questionText"]
    assert detail["value"]["answerText"] == long["answerText"] and detail["value"]["answerText"].startswith(
        "<p>"
    )
    assert list(detail["value"]) == SAMPLE_FIELDS

    short = first(questions, lambda q: q["answerText"] and len(strip_tags(q["answerText"])) <= 255)
    assert listing(api, uIN=short["uin"])[0]["answerText"] == strip_tags(short["answerText"])  # no "..."

    corrected = first(questions, lambda q: q["answerIsCorrection"])
    assert listing(api, uIN=corrected["uin"])[0]["originalAnswerText"] == ""
    _, detail = get(api, f"{LIST}/{corrected['id']}")
    assert detail["value"]["originalAnswerText"] == corrected["originalAnswerText"] != ""


# --- detail endpoints and errors --------------------------------------------------------------


def test_lookup_by_tabled_date_and_uin(api: ApiStandIn, questions: list[dict[str, Any]]) -> None:
    lords = first(questions, lambda q: q["house"] == "Lords")
    status, by_id = get(api, f"{LIST}/{lords['id']}")
    assert status == 200 and by_id["value"] == {**lords, "askingMember": None, "answeringMember": None}
    for uin in (lords["uin"], lords["uin"].lower()):
        status, found = get(api, f"{LIST}/{lords['dateTabled'][:10]}/{uin}")
        assert status == 200 and found == by_id
    status, body = get(api, f"{LIST}/2023-01-02/{lords['uin']}")
    assert status == 404 and set(body) == PROBLEM_FIELDS and body["status"] == 404
    status, body = get(api, f"{LIST}/2024-13-45/{lords['uin']}")
    assert status == 400 and body["title"] == "Bad Request"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (f"{LIST}/999", {}, 404),
        ("/api/writtenquestions/nothing", {}, 404),
        ("/", {}, 404),
        (LIST, {"tabledWhenFrom": "yesterday"}, 400),
        (LIST, {"answeredWhenTo": "2024-02-30"}, 400),
        (LIST, {"includeWithdrawn": "maybe"}, 400),
        (LIST, {"skip": "ten"}, 400),
        (LIST, {"house": "Scottish"}, 400),
        (f"{LIST}/1680001", {"expandMember": "yes"}, 400),
    ],
)
def test_errors_are_problem_details(api: ApiStandIn, path: str, params: dict[str, str], status: int) -> None:
    got, body = get(api, path, **params)
    assert got == status and set(body) == PROBLEM_FIELDS
    assert body["status"] == status and body["title"] == {400: "Bad Request", 404: "Not Found"}[status]
    assert api.requests[-1][2] == status


def test_put_and_remove(api: ApiStandIn, questions: list[dict[str, Any]]) -> None:
    record = copy.deepcopy(questions[0])
    record["heading"] = "Changed Heading"
    api.put(record)
    record["heading"] = "Not stored: put keeps a copy"
    assert get(api, f"{LIST}/{record['id']}")[1]["value"]["heading"] == "Changed Heading"
    extra = {**copy.deepcopy(questions[1]), "id": 1, "uin": "99999", "isWithdrawn": False}
    api.put(extra)
    assert get(api, LIST, includeWithdrawn="true")[1]["totalResults"] == N + 1
    api.remove(1)
    assert get(api, f"{LIST}/1")[0] == 404
    assert get(api, LIST, includeWithdrawn="true")[1]["totalResults"] == N
    with pytest.raises(KeyError):
        api.remove(1)


# --- fault injection --------------------------------------------------------------------------


def test_fail_injects_statuses_headers_and_bodies(api: ApiStandIn) -> None:
    api.fail(LIST, 500)
    assert fetch(api.url + LIST)[0] == 500
    assert fetch(api.url + LIST)[0] == 200

    api.fail(LIST, 429, times=2, headers={"Retry-After": "1"})
    for _ in range(2):
        status, headers, _ = fetch(api.url + LIST + "?skip=20")
        assert status == 429 and headers["Retry-After"] == "1"
    assert fetch(api.url + LIST + "?skip=20")[0] == 200

    api.fail(LIST, 200, body=b'{"status": 500}')
    assert fetch(api.url + LIST)[:3:2] == (200, b'{"status": 500}')
    api.fail(LIST, 200, body=b'{"value": ')
    with pytest.raises(json.JSONDecodeError):
        json.loads(fetch(api.url + LIST)[2])
    api.fail(LIST, 599)  # an unregistered status still gets a ProblemDetails body
    status, _, body = fetch(api.url + LIST)
    assert status == 599 and json.loads(body)["status"] == 599

    api.fail(f"{LIST}/1680", 503)  # a narrower prefix leaves the list endpoint alone
    assert fetch(api.url + LIST)[0] == 200
    assert fetch(api.url + f"{LIST}/1680001")[0] == 503
    assert [s for _, _, s in api.requests] == [500, 200, 429, 429, 200, 200, 200, 599, 200, 503]


def test_delay_makes_a_client_time_out(api: ApiStandIn) -> None:
    api.delay(LIST, 1.0)
    began = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(api.url + LIST, timeout=0.2)
    assert time.monotonic() - began < 0.9
    began = time.monotonic()
    assert fetch(api.url + LIST, timeout=2)[0] == 200  # only the first request was slowed
    assert time.monotonic() - began < 0.9


def test_concurrent_requests_are_all_logged(api: ApiStandIn) -> None:
    urls = [f"{api.url}{LIST}?skip={n * 5}&take=5" for n in range(64)]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda u: fetch(u)[0], urls))
    assert statuses == [200] * 64 and len(api.requests) == 64


# --- generator ----------------------------------------------------------------------------------


def test_generate_questions_is_deterministic_and_realistic(questions: list[dict[str, Any]]) -> None:
    assert generate_questions(N) == questions
    assert generate_questions(N, seed=8) != questions
    assert json.loads(json.dumps(questions)) == questions
    assert all(list(q) == SAMPLE_FIELDS for q in questions)
    assert len({q["id"] for q in questions}) == N
    assert len({(q["house"], q["dateTabled"], q["uin"]) for q in questions}) == N
    assert all(re.fullmatch(r"HL\d+" if q["house"] == "Lords" else r"\d+", q["uin"]) for q in questions)
    assert {q["house"] for q in questions} == {"Commons", "Lords"}
    assert len({q["dateTabled"] for q in questions}) >= 10  # spread over weeks
    assert all(BODIES[q["answeringBodyId"]] == q["answeringBodyName"] for q in questions)
    names = {q[m]["name"] for q in questions for m in ("askingMember", "answeringMember") if q[m]}
    assert {"Baroness Williams of Trafford", "Lord Ahmad of Wimbledon", "Andrew Griffith"} <= names
    assert any(len(q["questionText"]) > 255 for q in questions)
    answers = [q["answerText"] for q in questions if q["answerText"]]
    assert any("<table" in a for a in answers) and any('<a href="' in a for a in answers)
    assert all(a.startswith("<p>") for a in answers)

    unanswered = [q for q in questions if not q["dateAnswered"] and not q["isWithdrawn"]]
    assert len(unanswered) == N // 10
    assert all(q["answerText"] is None and q["answeringMemberId"] is None for q in unanswered)
    holding = [q for q in questions if q["answerIsHolding"]]
    assert 0.03 * N <= len(holding) <= 0.07 * N
    assert all(
        q["dateHoldingAnswer"] == q["dateAnswered"] and "as soon as possible" in q["answerText"]
        for q in holding
    )
    withdrawn = [q for q in questions if q["isWithdrawn"]]
    assert 0.02 * N <= len(withdrawn) <= 0.04 * N
    corrected = [q for q in questions if q["answerIsCorrection"]]
    assert corrected and all(
        q["dateAnswerCorrected"] > q["dateAnswered"]
        and q["originalAnswerText"]
        and q["originalAnswerText"] != q["answerText"]
        and q["correctingMemberId"] == q["correctingMember"]["id"]
        for q in corrected
    )
    assert all(q["dateAnswerCorrected"] is None for q in questions if not q["answerIsCorrection"])
    assert all(q["attachmentCount"] == len(q["attachments"]) for q in questions)
    attached = [a for q in questions for a in q["attachments"]]
    assert attached and all(set(a) == {"url", "title", "fileType", "fileSizeBytes"} for a in attached)
    assert all(q["dateAnswered"][:10] >= q["dateTabled"][:10] for q in questions if q["dateAnswered"])


def assert_groups_consistent(questions: list[dict[str, Any]]) -> None:
    """Every grouping is listed on both sides, with the partner's real tabled date."""
    key = {(q["uin"], q["dateTabled"]): q for q in questions}
    for q in questions:
        assert [g["questionUin"] for g in q["groupedQuestionsDates"]] == q["groupedQuestions"]
        for g in q["groupedQuestionsDates"]:
            partner = key[g["questionUin"], g["dateTabled"]]
            assert q["uin"] in partner["groupedQuestions"] and partner["house"] == q["house"]


def test_grouped_pairs(questions: list[dict[str, Any]]) -> None:
    grouped = [q for q in questions if q["groupedQuestions"]]
    assert 0.03 * N <= len(grouped) <= 0.08 * N
    assert_groups_consistent(questions)
    assert any(q["groupedQuestionsDates"][0]["dateTabled"] != q["dateTabled"] for q in grouped)
    key = {(q["uin"], q["dateTabled"]): q for q in questions}
    for q in grouped:  # answered together: the same answer on the same day
        partner = key[q["groupedQuestions"][0], q["groupedQuestionsDates"][0]["dateTabled"]]
        assert (q["answerText"], q["dateAnswered"]) == (partner["answerText"], partner["dateAnswered"])


# --- evolve -------------------------------------------------------------------------------------


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Names of the fields whose values differ between two versions of a record."""
    return {name for name in old if old[name] != new[name]}


def test_evolve_is_deterministic_and_leaves_input_alone(questions: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(questions)
    first = evolve(questions, 5, DAY)
    assert questions == before
    assert evolve(questions, 5, DAY) == first
    assert evolve(questions, 6, DAY) != first
    assert evolve(questions, 5, date(2024, 3, 4)) != first


def test_manifest_matches_the_differences(questions: list[dict[str, Any]]) -> None:
    new, manifest = evolve(questions, 5, DAY)
    today = f"{DAY.isoformat()}T00:00:00"
    old_by_id = {q["id"]: q for q in questions}
    new_by_id = {q["id"]: q for q in new}
    assert set(old_by_id) == set(new_by_id)
    differing = {i for i in old_by_id if old_by_id[i] != new_by_id[i]}
    assert differing == {m["id"] for m in manifest}
    assert len(manifest) == len(differing)  # one entry per changed question
    assert {m["kind"] for m in manifest} == set(CHANGE_KINDS)
    assert Counter(m["kind"] for m in manifest)["regrouped"] in (2, 3)
    assert_groups_consistent(new)
    for m in manifest:
        old, now = old_by_id[m["id"]], new_by_id[m["id"]]
        assert (m["uin"], m["date_tabled"]) == (old["uin"], old["dateTabled"][:10])
        fields = changed_fields(old, now)
        kind = m["kind"]
        if kind == "holding_replaced":
            assert old["answerIsHolding"] and not now["answerIsHolding"] and now["dateAnswered"] == today
            assert now["dateHoldingAnswer"] == old["dateHoldingAnswer"] is not None
            assert fields == {"answerIsHolding", "dateAnswered", "answerText"}
        elif kind == "corrected":
            assert now["answerIsCorrection"] and now["dateAnswerCorrected"] == today
            assert now["originalAnswerText"] == old["answerText"] != now["answerText"]
            assert now["correctingMemberId"] == now["answeringMemberId"] and now["correctingMember"]
            assert "dateAnswered" not in fields
        elif kind == "answered":
            assert old["dateAnswered"] is None and now["dateAnswered"] == today
            assert now["answerText"] and now["answeringMemberId"] == now["answeringMember"]["id"]
        elif kind == "withdrawn":
            assert fields == {"isWithdrawn"} and now["isWithdrawn"]
        elif kind == "answering_body_changed":
            assert fields == {"answeringBodyId", "answeringBodyName"}
            assert BODIES[now["answeringBodyId"]] == now["answeringBodyName"]
        elif kind == "regrouped":
            assert fields == {"groupedQuestions", "groupedQuestionsDates"}
        elif kind == "answer_date_changed":
            assert fields == {"dateAnswered"} and now["dateAnswered"] == today
        else:
            assert kind == "answer_text_changed" and fields == {"answerText"}
            old_text, new_text = strip_tags(old["answerText"]), strip_tags(now["answerText"])
            first_difference = next(
                i for i, (a, b) in enumerate(zip(old_text, new_text, strict=False)) if a != b
            )
            assert first_difference >= 300


def test_evolved_changes_through_the_api(questions: list[dict[str, Any]]) -> None:
    new, manifest = evolve(questions, 5, DAY)
    kinds = {m["kind"]: m["id"] for m in manifest}
    silent = next(q for q in new if q["id"] == kinds["answer_text_changed"])
    with ApiStandIn(questions) as api:
        before_list = listing(api, uIN=silent["uin"])
        before_detail = get(api, f"{LIST}/{silent['id']}")[1]
        api.replace(new)
        assert listing(api, uIN=silent["uin"]) == before_list  # invisible in the truncated list
        assert get(api, f"{LIST}/{silent['id']}")[1] != before_detail
        answered_today = {v["id"] for v in listing(api, answeredWhenFrom=DAY, answeredWhenTo=DAY)}
        assert answered_today == {kinds["answered"], kinds["holding_replaced"], kinds["answer_date_changed"]}
        corrected_today = listing(api, correctedWhenFrom=DAY, correctedWhenTo=DAY)
        assert [v["id"] for v in corrected_today] == [kinds["corrected"]]
        assert kinds["withdrawn"] not in {v["id"] for v in listing(api)}
