"""`scrapy crawl NAME -a ...` from the project root (scrapy.cfg), as a real subprocess: it does
what `pqwatch crawl` does (configuration from the environment and .env, storage, change
detection, a recorded run, the summary line) and its exit status says whether it failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.crawl.processes import host_lock
from monitor.demo.site import LocalSite
from storage.db import open_database
from storage.terms import CrawlOutcome
from tests.support.api_standin import ApiStandIn, generate_questions
from tests.support.helpers import closed_port
from tests.support.helpers import crawl_runs as runs

ROOT = Path(__file__).resolve().parents[2]  # where scrapy.cfg is
BIN = Path(sys.executable).parent


def scrapy(*args: str, db_url: str | None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PQWATCH_DOWNLOAD_DELAY": "0"}
    env.pop("PQWATCH_DB_URL", None)
    if db_url is not None:
        env["PQWATCH_DB_URL"] = db_url
    return subprocess.run(
        [str(BIN / "scrapy"), "crawl", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def pqwatch(db_url: str, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "pqwatch"), "--db", db_url, *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scrapy.sqlite3'}"


def test_scrapy_crawl_blog_stores_detects_records_and_exits_0(site: LocalSite, sqlite_url: str) -> None:
    done = scrapy("blog", "-a", f"start_urls={site.url}/", db_url=sqlite_url)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()
    assert summary == [
        "127.0.0.1: crawl finished: 3 pages fetched, 0 not modified, answers 3 new / 0 changed / "
        "0 removed, 0 dead links, 0 errors; 3 change events"
    ]
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr
    views = json.loads(pqwatch(sqlite_url, "export", "--format", "json"))
    assert sorted(view["uin"] for view in views) == ["HL2472", "HL2500", "HL2501"]
    events = json.loads(pqwatch(sqlite_url, "changes", "--format", "json"))
    assert sorted(event["kind"] for event in events) == ["new", "new", "new"]
    [run] = runs(sqlite_url)
    assert (run.source, run.spider, run.outcome, run.reason) == ("127.0.0.1", "blog", CrawlOutcome.OK, None)
    assert run.counts["answers_new"] == 3
    # Politeness as configured: the project's User-Agent, and robots.txt asked first.
    assert site.requests[0][1] == "/robots.txt"


def test_a_second_scrapy_crawl_is_conditional_and_finds_no_change(site: LocalSite, sqlite_url: str) -> None:
    assert scrapy("blog", "-a", f"start_urls={site.url}/", db_url=sqlite_url).returncode == 0
    again = scrapy("blog", "-a", f"start_urls={site.url}/", db_url=sqlite_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 pages fetched, 3 not modified" in again.stdout and "0 change events" in again.stdout
    assert len(runs(sqlite_url)) == 2


def test_scrapy_crawl_waits_for_another_crawl_of_the_host_and_then_fails(
    site: LocalSite, sqlite_url: str
) -> None:
    open_database(sqlite_url)
    with host_lock(sqlite_url, "127.0.0.1", wait=0):  # another crawl of the host is running
        done = scrapy(
            "blog", "-a", f"start_urls={site.url}/", "-s", "PQWATCH_HOST_LOCK_WAIT=0.5", db_url=sqlite_url
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "another crawl of 127.0.0.1 is running" in done.stderr
    assert site.requests == []  # nothing fetched while the other crawl held the host


def test_scrapy_crawl_reads_the_database_from_dot_env(site: LocalSite, tmp_path: Path) -> None:
    # A folder of its own with the project's scrapy.cfg, so that its .env is the one read.
    shutil.copy(ROOT / "scrapy.cfg", tmp_path / "scrapy.cfg")
    db_file = tmp_path / "from-dotenv.sqlite3"
    (tmp_path / ".env").write_text(f"PQWATCH_DB_URL=sqlite:///{db_file}\n")
    done = scrapy("blog", "-a", f"start_urls={site.url}/", db_url=None, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answers 3 new" in done.stdout
    assert len(runs(f"sqlite:///{db_file}")) == 1
    assert not (tmp_path / "pqwatch.sqlite3").exists()


def test_scrapy_crawl_parliament_takes_windows_in_their_documented_form(sqlite_url: str) -> None:
    with ApiStandIn() as api:
        for question in generate_questions(30):
            api.put(question)
        done = scrapy(
            "parliament",
            "-a",
            f"api_base={api.url}",
            "-a",
            "windows=tabled:2024-01-08..2024-01-09,answered:2024-01-10..",
            "-a",
            "house=Commons",
            db_url=sqlite_url,
        )
        queries = [
            parse_qs(urlsplit(path).query)
            for _, path, _ in api.requests
            if "writtenquestions/questions?" in path
        ]
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("parliament: crawl finished: ")
    assert {(q.get("tabledWhenFrom", [""])[0], q.get("tabledWhenTo", [""])[0]) for q in queries} >= {
        ("2024-01-08", "2024-01-09")
    }
    assert any(q.get("answeredWhenFrom") == ["2024-01-10"] and "answeredWhenTo" not in q for q in queries)
    assert all(q["house"] == ["Commons"] for q in queries)
    views = json.loads(pqwatch(sqlite_url, "export", "--format", "json"))
    assert views and {view["house"] for view in views} == {"Commons"}
    assert json.loads(pqwatch(sqlite_url, "changes", "--format", "json"))


def test_scrapy_crawl_parliament_without_windows_is_the_routine_run_of_the_configured_api(
    sqlite_url: str, tmp_path: Path
) -> None:
    with ApiStandIn() as api:
        api.put(generate_questions(1)[0])
        config = tmp_path / "sources.toml"
        config.write_text(f'[parliament]\napi_base = "{api.url}"\n')
        env = {**os.environ, "PQWATCH_CONFIG": str(config)}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "environ", env)
            done = scrapy("parliament", db_url=sqlite_url)
        queries = [parse_qs(urlsplit(path).query) for _, path, _ in api.requests if "questions?" in path]
    assert done.returncode == 0, done.stdout + done.stderr
    # Not the whole API: answered and corrected since yesterday, and the 30-day unanswered sweep.
    assert queries and all(
        "answeredWhenFrom" in q or "correctedWhenFrom" in q or q.get("answered") == ["Unanswered"]
        for q in queries
    )


@pytest.mark.parametrize(
    ("spider", "argument", "says"),
    [
        ("blog", "start_urls=not a url", "start_urls: 'not a url' is not an http(s) URL"),
        ("blog", "max_listing_pages=-1", "max_listing_pages: '-1' is not a whole number"),
        (
            "pages",
            "urls=https://a.example/x,ftp://b.example/y",
            "urls: 'ftp://b.example/y' is not an http(s) URL",
        ),
        ("parliament", "windows=answered:2024-01-12..2024-01-08", "answered from 2024-01-12 is after"),
        ("parliament", "windows=someday", "windows: 'someday' is not a window"),
        ("parliament", "windows=tabled:2024-02-30..", "'2024-02-30' in 'tabled:2024-02-30..' is not a date"),
        ("parliament", "house=Commoners", "house: 'Commoners' is not one of Commons, Lords, Bicameral"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2_before_anything_starts(
    spider: str, argument: str, says: str, sqlite_url: str, tmp_path: Path
) -> None:
    base = [] if spider != "parliament" else ["-a", "api_base=http://127.0.0.1:9"]
    done = scrapy(spider, *base, "-a", argument, db_url=sqlite_url)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"scrapy crawl: {spider}: ") and says in lines[0], lines
    assert done.stdout == ""
    assert not (tmp_path / "scrapy.sqlite3").exists()  # nothing opened, nothing crawled


def test_scrapy_crawl_of_an_unreachable_start_url_fails_with_one_line(sqlite_url: str) -> None:
    port = closed_port()
    done = scrapy("blog", "-a", f"start_urls=http://127.0.0.1:{port}/", db_url=sqlite_url)
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    about = [line for line in output.splitlines() if f"127.0.0.1:{port}" in line]
    assert about == [
        f"ERROR pqwatch.crawl: 127.0.0.1:{port}: unreachable (connection refused); 1 request not made"
    ]
    assert "Traceback" not in output and "retrying" not in output
    assert "crawl finished with errors" in done.stdout
    [run] = runs(sqlite_url)
    assert run.outcome == CrawlOutcome.FAILED
    assert run.reason == f"host unreachable: 127.0.0.1:{port} (connection refused)"
