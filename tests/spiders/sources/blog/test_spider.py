"""End to end: `pqwatch crawl blog` against a local HTTP server on 127.0.0.1, then the CLI's
JSON contract — pagination, feed, duplicates, 304, 404, edits, moved dates, furniture, bad input."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.cli.commands import main
from monitor.crawl.processes import _crawl_command, crawl_processes
from monitor.crawl.runner import CrawlOptions, run_blog_crawl
from monitor.demo.site import LocalSite
from storage.db import open_database
from storage.models import PageFingerprint
from tests.support.helpers import P1, P2, P3, crawl, post, site_pages


def run_json(db_url: str, capfd, *args: str):
    assert main(["--db", db_url, *args]) == 0
    return json.loads(capfd.readouterr().out)


def gets(site: LocalSite, path: str) -> int:
    return sum(1 for method, target, _ in site.requests if method == "GET" and target == path)


def test_crawl_follows_pagination_reads_every_answer_and_fetches_each_post_once(site, db_url, capfd):
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0, out
    assert "3 pages fetched" in out and "answers 3 new" in out and "0 errors" in out
    assert "WARNING" not in out and "ERROR" not in out  # a clean crawl says nothing but its summary
    # The ?et_blog copy is cleaned to the permalink, the ?p= redirect lands on it: one GET each.
    assert gets(site, P1) == 1 and gets(site, P2) == 1
    views = run_json(db_url, capfd, "export", "--format", "json")
    assert [(v["uin"], v["date_tabled"]) for v in views] == [
        ("HL2472", "2021-09-07"),
        ("HL2500", "2021-09-08"),
        ("HL2501", "2021-09-08"),
    ]
    first = views[0]
    assert first["house"] == "Lords" and first["answered_at"] == "2021-09-21T15:56"
    assert first["date_answered"] == "2021-09-21" and first["is_holding"] is False
    assert first["answering_body"] == "Home Office"
    assert first["answer_text"] == "I will meet the Commissioner shortly."
    assert first["sources"] == [{"kind": "blog", "url": site.url + P1}]
    assert first["version_count"] == 1
    assert views[1]["answering_body"] == "Foreign, Commonwealth and Development Office"
    for view in views:
        for text in (view["question_text"], view["answer_text"]):
            assert "<" not in text and "Recent Posts" not in text and "Share" not in text


def test_a_recrawl_of_unchanged_posts_is_all_304_and_stores_nothing(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0
    assert "0 pages fetched, 3 not modified" in out and "0 change events" in out
    assert [status for _, target, status in site.requests if target == P1] == [200, 304]
    assert len(run_json(db_url, capfd, "changes", "--format", "json")) == 3  # the three "new"


def test_edits_and_moved_dates_are_events_and_furniture_is_not(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    site.replace(
        site_pages(
            site.url,
            answer1="I met the Commissioner on 1 October.",
            answered2="23 Sep 2021 at 09:00",
            footer="gen 2",
            shares=99,
            comments=("Great answer (HL2472)!",),
        )
    )
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0, out
    events = run_json(db_url, capfd, "changes", "--format", "json")
    changed = [(e["uin"], e["kind"], e["field"]) for e in events if e["kind"] != "new"]
    assert sorted(changed) == [
        ("HL2472", "answer_text_changed", "answer_text"),
        ("HL2500", "answer_date_changed", "date_answered"),
    ]
    edit = next(e for e in events if e["kind"] == "answer_text_changed")
    assert edit["old"] == "I will meet the Commissioner shortly."
    assert edit["new"] == "I met the Commissioner on 1 October."
    assert edit["source_url"] == site.url + P1 and edit["date_tabled"] == "2021-09-07"
    assert edit["detected_at"].endswith("Z")
    history = run_json(db_url, capfd, "history", "HL2472", "--format", "json")
    assert [v["seq"] for v in history[0]["versions"]] == [1, 2]


def fingerprints(db_url: str) -> dict[str, tuple[str, object]]:
    with open_database(db_url)() as session:
        return {row.url: (row.fingerprint, row.recorded_at) for row in session.query(PageFingerprint)}


def test_a_furniture_only_change_is_read_no_further_than_its_fingerprint(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    before = fingerprints(db_url)
    assert sorted(before) == [site.url + P for P in (P1, P2, P3)]
    site.replace(site_pages(site.url, footer="gen 2", shares=99, comments=("Great (HL2472)!",)))
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0, out
    assert "3 pages fetched, 0 not modified" in out and "0 change events" in out
    # Not re-recorded: the fingerprints are the ones written when the answers were recorded.
    assert fingerprints(db_url) == before
    # The new ETags were kept all the same: the next crawl is all 304.
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert "0 pages fetched, 3 not modified" in out
    assert [status for _, target, status in site.requests if target == P1] == [200, 200, 304]


def test_a_stale_fingerprint_reads_the_page_again_and_finds_no_change(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    before = fingerprints(db_url)
    with open_database(db_url).begin() as session:  # as if the parser's code had changed
        session.execute(update(PageFingerprint).values(fingerprint="made by an older parser"))
    site.replace(site_pages(site.url, footer="gen 2"))
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0 and "0 change events" in out
    after = fingerprints(db_url)
    assert {url: fp for url, (fp, _) in after.items()} == {url: fp for url, (fp, _) in before.items()}
    assert all(after[url][1] > before[url][1] for url in before)  # recorded again


def test_a_post_with_an_undated_copy_keeps_no_fingerprint_and_is_read_every_time(site, db_url, capfd):
    paste = [
        "Lord Alton of Liverpool – To ask His Majesty’s Government what steps they are taking. [HL8104]",
        "Lord Ahmad of Wimbledon – We are taking several steps.",
    ]
    pages = site_pages(site.url)
    site.replace({**pages, P3: post(site.url, P3, paste).encode()})
    crawl(db_url, site.url + "/", capfd=capfd)
    assert sorted(fingerprints(db_url)) == [site.url + P1, site.url + P2]
    site.replace(
        {**site_pages(site.url, footer="gen 2"), P3: post(site.url, P3, paste, footer="gen 2").encode()}
    )
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0 and "0 change events" in out
    assert sorted(fingerprints(db_url)) == [site.url + P1, site.url + P2]


def test_a_vanished_post_is_source_removed_and_still_exported(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    site.set_status(P1, 404)
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 0, out  # a 404 is a fact, not an error
    assert "1 dead links" in out
    kinds = [(e["uin"], e["kind"]) for e in run_json(db_url, capfd, "changes", "--format", "json")]
    assert ("HL2472", "source_removed") in kinds
    view = next(v for v in run_json(db_url, capfd, "export") if v["uin"] == "HL2472")
    assert view["answer_text"] == "I will meet the Commissioner shortly." and view["removed"] is True
    assert site.url + P1 not in fingerprints(db_url)


def test_the_feed_is_a_start_page(site, db_url, capfd):
    status, out = crawl(db_url, site.url + "/feed/", capfd=capfd)
    assert status == 0, out
    assert sorted(v["uin"] for v in run_json(db_url, capfd, "export")) == ["HL2500", "HL2501"]


def test_a_post_is_a_start_page(site, db_url, capfd):
    status, _ = crawl(db_url, site.url + P1, capfd=capfd)
    assert status == 0
    assert [v["uin"] for v in run_json(db_url, capfd, "export")] == ["HL2472"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_start_url_is_a_counted_error_and_a_failed_exit(db_url, capfd):
    port = _free_port()
    status, out = crawl(db_url, f"http://127.0.0.1:{port}/", capfd=capfd)
    assert status == 1
    # One line for the host (issue 12), not a "could not fetch" per URL and a warning per retry.
    assert f"127.0.0.1:{port}: unreachable (connection refused)" in out and "1 errors" in out
    assert "could not fetch" not in out and "retrying" not in out


@pytest.mark.parametrize(
    ("case", "expected_log"),
    [
        ("not_html", "not an HTML page"),
        ("too_big", "could not fetch"),
        ("invalid_utf8", "invalid UTF-8 bytes"),
        ("impossible_date", "impossible date"),
        ("cut_off", "cut off"),
        ("offsite_redirect", "refused redirect"),
        ("server_error", "HTTP 500 after retries"),
    ],
)
def test_bad_input_is_one_log_line_a_counted_error_and_nothing_half_stored(
    site, db_url, capfd, case, expected_log
):
    crawl(db_url, site.url + "/", capfd=capfd)
    before = run_json(db_url, capfd, "export")
    pages = site_pages(site.url)
    if case == "not_html":
        site.replace({**pages, P1: b"\x89PNG\r\n\x1a\n" + b"\0" * 100}, {P1: "image/png"})
    elif case == "too_big":
        pages[P1] = pages[P1].replace(b"</body>", b"<!--" + b"x" * (6 * 1024 * 1024) + b"--></body>")
        site.replace(pages)
    elif case == "invalid_utf8":
        site.replace({**pages, P1: pages[P1].replace(b"shortly", b"short\xff\xfe\xfdly")})
    elif case == "impossible_date":
        site.replace(
            {
                **pages,
                P1: pages[P1].replace(b"07 September 2021", b"31 February 2022").replace(b"shortly", b"soon"),
            }
        )
    elif case == "cut_off":
        site.replace({**pages, P1: pages[P1].split(b"Date and time of answer")[0]})
    elif case == "offsite_redirect":
        site.set_status(P1, 302, {"Location": f"http://localhost:{site.port}{P1}"})
    elif case == "server_error":
        site.set_status(P1, 500)
    status, out = crawl(db_url, site.url + "/", capfd=capfd)
    assert status == 1
    assert expected_log in out
    assert "1 errors" in out
    assert sum(1 for line in out.splitlines() if expected_log in line) == 1
    assert run_json(db_url, capfd, "export") == before  # nothing stored changed


def test_a_charset_that_lies_is_corrected_and_reported(site, db_url, capfd):
    site.replace(site_pages(site.url), {P1: "text/html; charset=ISO-8859-1"})
    status, out = crawl(db_url, site.url + P1, capfd=capfd)
    assert status == 1 and "declared charset ISO-8859-1 but the page is UTF-8" in out
    view = run_json(db_url, capfd, "export")[0]
    assert "His Majesty's Government" in view["question_text"]  # not "Majestyâ€™s"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "blog", "--start-url", "not a url"], "is not an http(s) URL"),
        (["crawl", "blog", "--start-url", "file:///etc/passwd"], "is not an http(s) URL"),
        (["crawl", "blog"], "needs --start-url"),
        (["crawl", "gopher"], "unknown source"),
        (["changes", "--since", "yesterday"], "not an ISO-8601"),
        (["history", "HL1"], "no question with UIN"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(db_url, capfd, args, message):
    assert main(["--db", db_url, *args]) == 2
    err = capfd.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("pqwatch: error:")


@pytest.mark.parametrize(
    "args", [["crawl", "blog", "--delay", "soon"], ["export", "--format", "xml"], ["frobnicate"], []]
)
def test_argument_errors_are_one_line_too(capfd, args):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capfd.readouterr().err.strip()
    assert err.startswith("pqwatch") and "error:" in err and len(err.splitlines()) == 1


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path, capfd):
    assert main(["--db", f"sqlite:///{tmp_path}/missing/dir/x.sqlite3", "export"]) == 2
    assert "cannot open database" in capfd.readouterr().err
    assert main(["--db", "nosuchdb://x", "export"]) == 2
    assert capfd.readouterr().err.startswith("pqwatch: error:")


def test_changes_since_filters_by_detection_time(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    assert run_json(db_url, capfd, "changes", "--format", "json", "--since", "2999-01-01") == []
    assert len(run_json(db_url, capfd, "changes", "--format", "json", "--since", "2000-01-01T00:00:00Z")) == 3


def test_a_blog_crawl_allowed_two_requests_at_once_runs_in_one_process_and_reads_each_page_once(
    site, db_url, capfd, monkeypatch
):
    monkeypatch.setattr("monitor.crawl.processes.os.cpu_count", lambda: 2)
    args = ["--db", db_url, "crawl", "blog", "--start-url", site.url + "/", "--delay", "0"]
    assert main([*args, "--concurrency", "2"]) == 0
    out = capfd.readouterr().out
    assert gets(site, "/page/2/") == 1
    assert gets(site, P1) == 1 and gets(site, P2) == 1 and gets(site, P3) == 1
    assert "answers 3 new" in out and "0 errors" in out
    site.replace(site_pages(site.url, answer1="I met the Commissioner on 1 October.", footer="gen 2"))
    assert main([*args, "--concurrency", "2"]) == 0
    assert "1 changed" in capfd.readouterr().out
    kinds = [e["kind"] for e in run_json(db_url, capfd, "changes", "--format", "json")]
    assert sorted(kinds) == ["answer_text_changed", "new", "new", "new"]


def test_every_crawl_runs_in_one_process_whatever_its_concurrency(monkeypatch):
    # Measured in issue 11: a second local process never made a crawl faster (README, Benchmarks).
    monkeypatch.setattr("monitor.crawl.processes.os.cpu_count", lambda: 8)
    assert [crawl_processes("blog", n) for n in (1, 2, 3, 8)] == [1, 1, 1, 1]
    assert crawl_processes("parliament", 8) == 1 and crawl_processes("pages", 8) == 1
    command = _crawl_command("blog", "sqlite://", {}, CrawlOptions(delay=1.5), 1, 1, Path("c.json"))
    assert command[command.index("--delay") + 1] == "1.5"


def test_an_interrupted_crawl_leaves_no_crawl_process_running(db_url, monkeypatch):
    # A real crawl process that would run for a minute; the wait for it is interrupted (Ctrl-C).
    started = []
    real_popen = subprocess.Popen

    def popen(command, **kwargs):
        started.append(real_popen([sys.executable, "-c", "import time; time.sleep(20)"]))
        return started[-1]

    monkeypatch.setattr("monitor.crawl.processes.subprocess.Popen", popen)
    monkeypatch.setattr("monitor.crawl.processes.os.cpu_count", lambda: 2)
    real_wait = real_popen.wait
    calls = []

    def interrupted_wait(self, timeout=None):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    monkeypatch.setattr(real_popen, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        run_blog_crawl(open_database(db_url), db_url, ["http://127.0.0.1:9/"], CrawlOptions(concurrency=2))
    assert len(started) == 1 and all(process.returncode == -signal.SIGKILL for process in started)


def test_a_crawl_whose_database_cannot_be_opened_fetches_nothing_and_says_so_in_one_line(
    site, tmp_path, capfd
):
    # The crawl processes start while the database is opened; they must not begin without it.
    db = f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"
    assert main(["--db", db, "crawl", "blog", "--start-url", site.url + "/", "--delay", "0"]) == 2
    err = capfd.readouterr().err
    assert err.startswith("pqwatch: error: cannot open database") and err.count("\n") == 1
    assert site.requests == []


def test_a_crawl_process_told_to_wait_begins_only_on_go(site, db_url, tmp_path):
    open_database(db_url)  # what the CLI does while the crawl process loads
    args = json.dumps({"start_urls": [site.url + "/"], "max_listing_pages": 0})
    command = [sys.executable, "-m", "spiders.run", "blog", "--db", db_url, "--args", args, "--delay", "0"]
    command += ["--counts-file", str(tmp_path / "counts.json"), "--wait-for-go"]
    stopped = subprocess.run(command, input="", capture_output=True, text=True, timeout=60)
    assert (stopped.returncode, stopped.stderr, site.requests) == (3, "", [])
    assert not (tmp_path / "counts.json").exists()
    started = subprocess.run(command, input="go\n", capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    assert json.loads((tmp_path / "counts.json").read_text())["answers_new"] == 3
