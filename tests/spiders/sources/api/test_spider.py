"""End to end: `pqwatch crawl parliament` against a local stand-in of the Written Questions API —
paging, details, grouped questions, official change kinds, reconciliation with blog copies,
resumable backfill and the bad inputs."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from tests.support.api_standin import ApiStandIn, evolve, generate_questions
from tests.support.helpers import FIXTURES as SAVED
from tests.support.helpers import email, post

REAL = json.loads((SAVED / "api/detail-1679416.json").read_text())["value"]
DAY = date(2024, 3, 1)


def crawl(db_url: str, api: ApiStandIn, *args: str, capfd=None) -> tuple[int, str]:
    status = main(["--db", db_url, "crawl", "parliament", "--api-base", api.url, "--delay", "0", *args])
    out = capfd.readouterr() if capfd else None
    return status, (out.out + out.err) if out else ""


def run_json(db_url: str, capfd, *args: str):
    assert main(["--db", db_url, *args]) == 0
    return json.loads(capfd.readouterr().out)


def details(api: ApiStandIn) -> list[str]:
    return [path for _, path, _ in api.requests if "/questions/" in path.split("?")[0]]


def lists(api: ApiStandIn) -> list[str]:
    return [path for _, path, _ in api.requests if path.startswith("/api/writtenquestions/questions?")]


@pytest.fixture
def api():
    with ApiStandIn() as running:
        yield running


def test_the_real_record_is_read_from_the_detail_endpoint(api, db_url, capfd):
    api.put(copy.deepcopy(REAL))
    status, out = crawl(db_url, api, "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05", capfd=capfd)
    assert status == 0, out
    [view] = run_json(db_url, capfd, "export")
    assert (view["house"], view["uin"], view["date_tabled"], view["api_id"]) == (
        "Commons",
        "7926",
        "2024-01-05",
        1679416,
    )
    assert view["answer_text"].startswith("The department is supporting sectors")
    assert len(view["answer_text"]) > 258  # the full text, not the list's cut
    assert view["sources"] == [{"kind": "api", "url": f"{api.url}/api/writtenquestions/questions/1679416"}]
    assert details(api) == ["/api/writtenquestions/questions/1679416?expandMember=true"]
    assert all("includeWithdrawn=true" in path for path in lists(api))


def test_paging_reaches_every_result_and_a_second_run_reads_no_unchanged_detail(api, db_url, capfd):
    questions = generate_questions(400)
    api.replace(questions)
    window = ("--tabled-from", "2000-01-01", "--tabled-to", "2100-01-01")
    status, out = crawl(db_url, api, *window, capfd=capfd)
    assert status == 0, out
    visible = [q for q in questions if not q["isWithdrawn"]]
    assert len(visible) > 250
    exported = run_json(db_url, capfd, "export")
    assert len(exported) == len(questions)  # withdrawn ones included: includeWithdrawn=true
    assert len(details(api)) == len(questions) and len(set(details(api))) == len(questions)
    assert len(lists(api)) == 4  # 400 results, 100 a page
    api.requests.clear()
    status, out = crawl(db_url, api, *window, capfd=capfd)
    assert status == 0 and details(api) == [] and "0 change events" in out
    api.requests.clear()
    status, out = crawl(db_url, api, *window, "--full-refresh", capfd=capfd)
    assert status == 0 and len(details(api)) == len(questions) and "0 change events" in out


def test_official_changes_become_their_own_kinds(api, db_url, capfd):
    questions = generate_questions(300)
    api.replace(questions)
    window = ("--tabled-from", "2000-01-01", "--tabled-to", "2100-01-01")
    crawl(db_url, api, *window, capfd=capfd)
    evolved, manifest = evolve(questions, seed=1, day=DAY)
    api.replace(evolved)
    # A full refresh: the silent edit beyond the list's 255 characters needs the detail.
    status, out = crawl(db_url, api, *window, "--full-refresh", capfd=capfd)
    assert status == 0, out
    events = run_json(db_url, capfd, "changes", "--format", "json")
    found = {(e["uin"], e["date_tabled"], e["kind"]) for e in events if e["kind"] != "new"}
    for change in manifest:
        assert (change["uin"], change["date_tabled"], change["kind"]) in found, change
    kinds = {change["kind"] for change in manifest}
    assert {
        "answered",
        "holding_replaced",
        "corrected",
        "withdrawn",
        "answering_body_changed",
        "answer_text_changed",
    } <= kinds


def test_grouped_questions_outside_the_window_are_fetched_too(api, db_url, capfd):
    first = copy.deepcopy(REAL)
    partner = copy.deepcopy(REAL) | {"id": 1679999, "uin": "8024", "dateTabled": "2024-01-08T00:00:00"}
    first["groupedQuestions"] = ["8024"]
    first["groupedQuestionsDates"] = [{"questionUin": "8024", "dateTabled": "2024-01-08T00:00:00"}]
    partner["groupedQuestions"] = ["7926"]
    api.replace([first, partner])
    status, out = crawl(db_url, api, "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05", capfd=capfd)
    assert status == 0, out
    assert sorted(v["uin"] for v in run_json(db_url, capfd, "export")) == ["7926", "8024"]
    assert "/api/writtenquestions/questions/2024-01-08/8024?expandMember=true" in details(api)


@pytest.mark.parametrize(
    ("rule", "expected_log"),
    [
        ({"status": 500, "times": 10}, "HTTP 500 after retries"),
        ({"status": 200, "body": b'{"value": ', "times": 1}, "malformed JSON"),
        ({"status": 200, "body": b'{"status": 500, "title": "Error"}', "times": 10}, "status 500"),
    ],
)
def test_a_failing_detail_is_a_counted_error_and_the_rest_goes_on(api, db_url, capfd, rule, expected_log):
    questions = generate_questions(30)
    api.replace(questions)
    victim = questions[0]["id"]
    api.fail(f"/api/writtenquestions/questions/{victim}", **rule)
    status, out = crawl(db_url, api, "--tabled-from", "2000-01-01", "--tabled-to", "2100-01-01", capfd=capfd)
    assert status == 1
    assert expected_log in out and "1 errors" in out
    exported = {v["api_id"] for v in run_json(db_url, capfd, "export")}
    assert victim not in exported and len(exported) == len(questions) - 1


def test_429_with_retry_after_is_waited_out_and_not_an_error(api, db_url, capfd):
    api.put(copy.deepcopy(REAL))
    api.fail("/api/writtenquestions/questions/1679416", 429, times=1, headers={"Retry-After": "1"})
    status, out = crawl(db_url, api, "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05", capfd=capfd)
    assert status == 0, out
    assert "retrying in 1.0 s" in out
    assert [s for _, p, s in api.requests if p.startswith("/api/writtenquestions/questions/1679416")] == [
        429,
        200,
    ]


@pytest.mark.parametrize(
    ("changes", "expected_log"),
    [
        ({"uin": ""}, "lacks uin"),
        ({"dateAnswered": "2999-01-10T00:00:00"}, "outside any sane range"),
        ({"uin": "7927"}, "list and detail disagree"),
    ],
)
def test_a_broken_or_inconsistent_record_leaves_what_is_stored_untouched(
    api, db_url, capfd, changes, expected_log
):
    api.put(copy.deepcopy(REAL))
    window = ("--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05", "--full-refresh")
    crawl(db_url, api, *window, capfd=capfd)
    before = run_json(db_url, capfd, "export")
    broken = copy.deepcopy(REAL) | changes
    body = json.dumps({"value": broken, "links": []}).encode()
    api.fail("/api/writtenquestions/questions/1679416", 200, times=1, body=body)
    status, out = crawl(db_url, api, *window, capfd=capfd)
    assert status == 1 and expected_log in out
    assert run_json(db_url, capfd, "export") == before


def test_bad_parliament_options_exit_2_with_one_line(db_url, capfd):
    for args in (
        ["--answered-from", "2024-02-30"],
        ["--tabled-from", "2024-03-02", "--tabled-to", "2024-03-01"],
        ["--api-base", "ftp://x"],
        ["--backfill", "2024-03-01", "2024-01-01"],
    ):
        assert main(["--db", db_url, "crawl", "parliament", *args]) == 2
        err = capfd.readouterr().err.strip()
        assert err.startswith("pqwatch: error:") and len(err.splitlines()) == 1


def test_backfill_resumes_after_the_last_finished_chunk(api, db_url, capfd):
    questions = generate_questions(120)
    api.replace(questions)
    answered = sorted(q["dateAnswered"][:10] for q in questions if q["dateAnswered"])
    start, end = answered[0], answered[-1]
    # The second chunk's list fails through every retry: the backfill stops there.
    second = date.fromordinal(date.fromisoformat(start).toordinal() + 7).isoformat()
    api.fail(f"/api/writtenquestions/questions?answeredWhenFrom={second}", 500, times=4)  # 1 + 3 retries
    status, out = crawl(db_url, api, "--backfill", start, end, capfd=capfd)
    assert status == 1 and f"backfill stopped at {second}" in out
    api.requests.clear()
    status, out = crawl(db_url, api, "--backfill", start, end, capfd=capfd)
    assert status == 0, out
    assert f"backfill resumes at {second}" in out
    assert not any(f"answeredWhenFrom={start}" in path for path in lists(api))
    answered_uins = {(q["uin"], q["dateTabled"][:10]) for q in questions if q["dateAnswered"]}
    exported = {(v["uin"], v["date_tabled"]) for v in run_json(db_url, capfd, "export")}
    assert answered_uins <= exported


def test_a_blog_copy_and_the_official_record_are_one_question_with_two_sources(api, db_url, capfd):
    lords = copy.deepcopy(REAL) | {
        "id": 1500001,
        "house": "Lords",
        "uin": "HL2472",
        "dateTabled": "2021-09-07T00:00:00",
        "dateAnswered": "2021-09-21T00:00:00",
        "answeringBodyName": "Home Office",
        "questionText": "To ask His Majesty's Government what steps they are taking on HL2472.",
        "answerText": "<p>I will meet the Commissioner next month.</p>",
        "answeringMember": {"id": 1, "name": "Baroness Williams of Trafford"},
    }
    api.put(lords)
    with LocalSite() as blog:
        path = "/2021/09/21/hikvision/"
        page = post(
            blog.url,
            path,
            email(
                "HL2472", "07 September 2021", "21 Sep 2021 at 15:56", "I will meet the Commissioner shortly."
            ),
        )
        blog.replace({path: page.encode()})
        assert main(["--db", db_url, "crawl", "blog", "--start-url", blog.url + path, "--delay", "0"]) == 0
        status, out = crawl(
            db_url, api, "--tabled-from", "2021-09-07", "--tabled-to", "2021-09-07", capfd=capfd
        )
        assert status == 0, out
        [view] = run_json(db_url, capfd, "export")
        assert [s["kind"] for s in view["sources"]] == ["api", "blog"]
        assert view["answer_text"] == "I will meet the Commissioner next month."  # the official wins
        assert view["answered_at"] == "2021-09-21T15:56"  # only the blog has the time of day
        assert view["api_id"] == 1500001
        events = run_json(db_url, capfd, "changes", "--format", "json")
        disagree = [e for e in events if e["kind"] == "sources_disagree"]
        assert [(e["field"], e["source_url"]) for e in disagree] == [("answer_text", blog.url + path)]


def test_a_timeout_is_retried_then_a_counted_error(api, db_url, capfd, monkeypatch):
    monkeypatch.setenv("PQWATCH_DOWNLOAD_TIMEOUT", "0.5")
    api.put(copy.deepcopy(REAL))
    api.delay("/api/writtenquestions/questions/1679416", 2.0, times=10)
    status, out = crawl(db_url, api, "--tabled-from", "2024-01-05", "--tabled-to", "2024-01-05", capfd=capfd)
    assert status == 1
    assert "TimeoutError; retrying" in out and "could not fetch" in out and "1 errors" in out
