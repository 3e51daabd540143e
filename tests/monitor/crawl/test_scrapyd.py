"""Crawls on real Scrapyd nodes (two `scrapyd` processes on 127.0.0.1, started here, the project's
egg deployed to both by `pqwatch deploy`) writing to the machine's PostgreSQL: spread over the
nodes, every answer stored once, no host ever crawled by two jobs at once, a node killed mid-job
or down at dispatch, and the operator's commands (crawl, status, the daemon's job)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.crawl.dispatch import claim_job
from monitor.crawl.runner import CrawlOptions, CrawlResult, run_crawl, summary_line
from monitor.crawl.scrapyd import Node
from monitor.demo.sample_blog import generate_blog
from storage.db import open_database
from storage.models import CrawlJob, Question, Source, Version
from storage.terms import JobState, utcnow
from tests.support.helpers import closed_port
from tests.support.processes import CountingSite, wait_until
from tests.support.scrapyd import ScrapydNode, deploy

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


@pytest.fixture
def pg_url(pg_url: str) -> str:
    """A migrated PostgreSQL schema (as the leader migrates before it dispatches anything)."""
    open_database(pg_url)
    return pg_url


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[ScrapydNode, ScrapydNode]]:
    """Two nodes, the first behind basic auth (a password that needs escaping in a URL)."""
    with ScrapydNode("pqwatch", "s3cr:t@node") as first, ScrapydNode() as second:
        deploy(first, second)
        yield first, second


def _options(*urls: str, **overrides: Any) -> CrawlOptions:
    settings: dict[str, Any] = {
        "delay": 0,
        "allow_private_addresses": True,
        "nodes": urls,
        "node_poll": 0.2,
        "node_lost_after": 2.0,
        "node_wait": 1.0,
        "host_lock_wait": 60.0,
    }
    return CrawlOptions(**{**settings, **overrides})


def _blog(host: str, posts: int = 30, pause: float = 0.003) -> CountingSite:
    site = CountingSite(pause=pause, host=host).start()
    blog = generate_blog(posts, base_url=site.url, seed=sum(map(ord, host)))
    site.replace(blog.pages, blog.content_types, blog.redirects)
    return site


def _crawl(db_url: str, site: CountingSite, options: CrawlOptions, **args: Any) -> CrawlResult:
    sessions = open_database(db_url)
    spider_args = {"start_urls": [site.url + "/"], "max_listing_pages": 0, **args}
    return run_crawl(sessions, db_url, "blog", spider_args, options, source=site.host)


def _stored(db_url: str) -> list[tuple[str, str, str, int]]:
    """Every stored version: (question, source URL, content hash, seq), sorted."""
    with open_database(db_url)() as session:
        rows = session.execute(
            select(Question.uin, Source.url, Version.content_hash, Version.seq)
            .join(Question, Question.id == Version.question_id)
            .join(Source, Source.id == Version.source_id)
        )
        return sorted((uin, url, digest, seq) for uin, url, digest, seq in rows)


def _jobs(db_url: str) -> list[CrawlJob]:
    with open_database(db_url)() as session:
        return list(session.scalars(select(CrawlJob).order_by(CrawlJob.id)))


def test_a_crawl_of_several_blogs_spreads_over_both_nodes_and_stores_every_answer_once(
    pg_url, nodes, tmp_path
):
    sites = [_blog(f"127.0.0.{n}") for n in (11, 12, 13, 14)]
    try:
        options = _options(*(node.url for node in nodes))
        results: list[CrawlResult] = []
        # As the daemon runs its sources: each crawl in a thread of its own, all at once.
        threads = [
            threading.Thread(target=lambda s=s: results.append(_crawl(pg_url, s, options))) for s in sites
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(results) == 4 and not any(r.failed for r in results), [summary_line(r) for r in results]
        jobs = _jobs(pg_url)
        assert {job.state for job in jobs} == {JobState.FINISHED}
        assert {job.node for job in jobs} == {node.name for node in nodes}  # both nodes worked
        assert all("s3cr" not in job.node for job in jobs)  # never the password
        # The same answers, once each, as one local crawl process stores them.
        local = f"sqlite:///{tmp_path / 'local.sqlite3'}"
        for site in sites:
            assert not _crawl(local, site, _options()).failed
        assert _stored(pg_url) == _stored(local)
        assert len(_stored(pg_url)) == sum(r.counts["answers_new"] for r in results) > 0
        assert all(site.overlaps() == 0 for site in sites)
    finally:
        for site in sites:
            site.stop()


def test_two_jobs_of_one_host_on_two_nodes_never_crawl_it_at_once(pg_url, nodes):
    site = _blog("127.0.0.21", posts=40, pause=0.01)
    try:
        # One crawl pinned to each node, started together: the host lock in PostgreSQL makes the
        # second wait for the first, across the two machines.
        first, second = (_options(node.url) for node in nodes)
        results: list[CrawlResult] = []
        threads = [
            threading.Thread(target=lambda o=o: results.append(_crawl(pg_url, site, o)))
            for o in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(results) == 2 and not any(r.failed for r in results), [summary_line(r) for r in results]
        assert {job.node for job in _jobs(pg_url)} == {node.name for node in nodes}
        assert site.peak == 1 and site.overlaps() == 0
        assert len(site.spans) > 40  # both crawled: the second re-read what the first had not changed
    finally:
        site.stop()


def test_a_blog_in_shards_is_jobs_run_one_after_another(pg_url, nodes, tmp_path):
    site = _blog("127.0.0.25", posts=30)
    try:
        result = _crawl(pg_url, site, _options(*(node.url for node in nodes), shards=3))
        assert not result.failed, summary_line(result)
        jobs = _jobs(pg_url)
        assert [(job.shard, job.shards, job.state) for job in jobs] == [
            (n, 3, JobState.FINISHED) for n in range(3)
        ]
        assert all(a.finished_at <= b.dispatched_at for a, b in zip(jobs, jobs[1:], strict=False))
        local = f"sqlite:///{tmp_path / 'local.sqlite3'}"
        assert not _crawl(local, site, _options()).failed
        assert _stored(pg_url) == _stored(local)
        assert site.overlaps() == 0
    finally:
        site.stop()


def test_a_node_killed_mid_job_has_its_job_dispatched_again_and_nothing_is_stored_twice(
    pg_url, nodes, tmp_path
):
    site = _blog("127.0.0.31", posts=60, pause=0.03)
    victim_and_result: dict[str, Any] = {}
    try:
        options = _options(*(node.url for node in nodes))
        crawl = threading.Thread(
            target=lambda: victim_and_result.update(result=_crawl(pg_url, site, options))
        )
        crawl.start()
        # Wait until the job is crawling and has stored some answers, then kill its node.
        assert wait_until(lambda: any(j.state == JobState.RUNNING for j in _jobs(pg_url)), 30)
        assert wait_until(lambda: len(_stored(pg_url)) >= 5, 30)
        running = next(job for job in _jobs(pg_url) if job.state == JobState.RUNNING)
        victim = next(node for node in nodes if node.name == running.node)
        victim.kill()
        crawl.join(120)
        result: CrawlResult = victim_and_result["result"]
        assert not result.failed, summary_line(result)
        jobs = _jobs(pg_url)
        assert [(job.attempt, job.state) for job in jobs] == [(1, JobState.LOST), (2, JobState.FINISHED)]
        assert jobs[1].node != victim.name  # the other node took it
        assert "without reporting" in (jobs[0].reason or "") or "unreachable" in (jobs[0].reason or "")
        local = f"sqlite:///{tmp_path / 'local.sqlite3'}"
        assert not _crawl(local, site, _options()).failed
        assert _stored(pg_url) == _stored(local)  # every answer, once
        assert site.overlaps() == 0
    finally:
        site.stop()
        for node in nodes:
            if node.process is not None and node.process.poll() is not None:
                node.start()  # its eggs are kept: the next test finds it deployed


def test_a_node_down_at_dispatch_is_skipped(pg_url, nodes):
    site = _blog("127.0.0.41", posts=5)
    try:
        down = f"http://127.0.0.1:{closed_port()}"
        result = _crawl(pg_url, site, _options(down, nodes[1].url))
        assert not result.failed, summary_line(result)
        assert [job.node for job in _jobs(pg_url)] == [nodes[1].name]
    finally:
        site.stop()


def test_no_node_answering_fails_the_crawl_with_the_reason(pg_url):
    down = f"http://127.0.0.1:{closed_port()}"
    site = _blog("127.0.0.42", posts=2)
    try:
        result = _crawl(pg_url, site, _options(down))
        assert result.failed
        assert "no Scrapyd node answered within 1 s" in (result.reason or "")
        assert "127.0.0.1" in (result.reason or "") and not site.requests
    finally:
        site.stop()


def test_a_job_whose_row_left_dispatched_does_not_crawl(pg_url, nodes):
    site = _blog("127.0.0.43", posts=3)
    try:
        sessions = open_database(pg_url)
        with sessions.begin() as session:
            session.add(
                CrawlJob(
                    job_id="lostjob1", source="x", spider="blog", node=nodes[1].name, shard=0, shards=1,
                    attempt=1, state=JobState.LOST, dispatched_at=utcnow(), counts={},
                )
            )  # fmt: skip
        node = Node(nodes[1].url)
        node.schedule("blog", "lostjob1", {"start_urls": site.url + "/"}, {"PQWATCH_DB_URL": pg_url})
        assert wait_until(lambda: node.job_states().get("lostjob1") == "finished", 30)
        assert not site.requests
        assert "job lostjob1 is lost: not crawling" in nodes[1].output()
        assert claim_job(sessions, "lostjob1") == JobState.LOST
    finally:
        site.stop()


def test_the_operator_crawls_by_hand_and_reads_the_nodes_in_status(pg_url, nodes, tmp_path):
    site = _blog("127.0.0.51", posts=4)
    config = tmp_path / "pqwatch.toml"
    config.write_text(f'[[blog]]\nname = "local"\nstart_urls = ["{site.url}/"]\nshards = 2\n')
    env = {
        **dict(__import__("os").environ),
        "PQWATCH_SCRAPYD_URLS": ",".join(node.url for node in nodes),
        "PQWATCH_DOWNLOAD_DELAY": "0",
    }
    try:
        crawled = subprocess.run(
            [PQWATCH, "--db", pg_url, "--config", str(config), "crawl", "local"],
            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert crawled.returncode == 0, crawled.stdout + crawled.stderr
        assert crawled.stdout.startswith("local: crawl finished:")
        assert "(shard 1 of 2): job" in crawled.stderr and "dispatched to http://127.0.0.1:" in crawled.stderr
        assert "s3cr" not in crawled.stdout + crawled.stderr
        status = subprocess.run(
            [PQWATCH, "--db", pg_url, "--config", str(config), "status", "--format", "json"],
            capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        shown = json.loads(status.stdout)
        assert [node["reachable"] for node in shown["nodes"]] == [True, True]
        assert all(node["version"] for node in shown["nodes"])
        assert [(job["source"], job["shard"], job["state"]) for job in shown["jobs"]] == [
            ("local", 1, "finished"),
            ("local", 0, "finished"),
        ]
        text = subprocess.run(
            [PQWATCH, "--db", pg_url, "--config", str(config), "status"],
            capture_output=True, text=True, env={**env, "PQWATCH_SCRAPYD_URLS": f"http://127.0.0.1:{closed_port()}"},
            timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert "scrapyd nodes:" in text.stdout and " no " in text.stdout and "is unreachable" in text.stdout
        assert "local 2/2" in text.stdout
    finally:
        site.stop()


def test_the_daemons_crawl_job_dispatches_and_detects(pg_url, nodes, tmp_path, monkeypatch):
    from monitor import jobs

    site = _blog("127.0.0.61", posts=4)
    config = tmp_path / "pqwatch.toml"
    config.write_text(f'[[blog]]\nname = "local"\nstart_urls = ["{site.url}/"]\n')
    monkeypatch.setenv("PQWATCH_SCRAPYD_URLS", nodes[0].url)
    monkeypatch.setenv("PQWATCH_DOWNLOAD_DELAY", "0")
    monkeypatch.chdir(tmp_path)
    try:
        counts = jobs.crawl_job("local", pg_url, str(config))
        assert counts["answers_new"] > 0 and counts["errors"] == 0
        assert [(job.source, job.node, job.state) for job in _jobs(pg_url)] == [
            ("local", nodes[0].name, JobState.FINISHED)
        ]
        from storage.models import ChangeEvent

        with open_database(pg_url)() as session:
            assert session.scalar(select(ChangeEvent.id).limit(1)) is not None  # the leader detected
    finally:
        site.stop()


def test_deploy_says_which_node_refused_and_never_its_password(nodes):
    wrong = nodes[0].url.replace("s3cr%3At%40node", "wrong")
    done = subprocess.run(
        [PQWATCH, "deploy", "--node", wrong, "--node", nodes[1].url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    refused = f"{nodes[0].name} answered addversion.json with HTTP 401"
    hint = "(check the user and password in PQWATCH_SCRAPYD_URLS)"
    assert lines[0] == f"{nodes[0].name}: not deployed: {refused} {hint}"
    assert lines[1].startswith(f"{nodes[1].name}: deployed pqwatch ")
    assert "wrong" not in done.stdout


def test_without_nodes_nothing_changes_and_sqlite_is_refused_with_them(tmp_path):
    from monitor.config import ConfigError, load_settings

    assert load_settings({}).scrapyd_urls == ()
    with pytest.raises(ConfigError, match="needs a PostgreSQL database"):
        load_settings({"PQWATCH_SCRAPYD_URLS": "http://node1:6800"})
    with pytest.raises(ConfigError, match="PQWATCH_SCRAPYD_URLS: 'ftp://node1' is not an http"):
        load_settings({"PQWATCH_SCRAPYD_URLS": "ftp://node1", "PQWATCH_DB_URL": "postgresql://db/pq"})
    settings = load_settings(
        {"PQWATCH_SCRAPYD_URLS": "http://a:6800/, http://u:p@b:6800", "PQWATCH_DB_URL": "postgresql://db/pq"}
    )
    assert settings.scrapyd_urls == ("http://a:6800", "http://u:p@b:6800")


def test_a_nodes_refusal_and_an_unreachable_node_are_one_line_each(nodes):
    from monitor.crawl.scrapyd import NodeError

    with pytest.raises(NodeError, match=r"refused schedule.json: spider 'nospider' not found"):
        Node(nodes[1].url).schedule("nospider", "j1", {}, {})
    down = closed_port()
    with pytest.raises(NodeError, match=rf"^http://127.0.0.1:{down} is unreachable \(.*refused"):
        Node(f"http://user:secret@127.0.0.1:{down}").load()


def test_the_egg_holds_the_three_packages_and_what_scrapyd_reads():
    import io
    import zipfile

    from monitor.crawl.egg import build_egg

    version, egg = build_egg()
    names = zipfile.ZipFile(io.BytesIO(egg)).namelist()
    assert "EGG-INFO/entry_points.txt" in names and "spiders/settings.py" in names
    assert "storage/migrations/versions/0009_crawl_jobs.py" in names and "monitor/pqwatch.toml" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    entry = zipfile.ZipFile(io.BytesIO(egg)).read("EGG-INFO/entry_points.txt").decode()
    assert entry == "[scrapy]\nsettings = spiders.settings\n"
    stamp, digest = version.split("_")
    assert stamp.isdigit() and len(digest) == 8


def test_scrapyd_deploy_from_a_checkout_uploads_an_egg_scrapyd_can_run(nodes, tmp_path):
    # The documented alternative: scrapy.cfg's [deploy] target and scrapyd-client's scrapyd-deploy,
    # from a copy of the checkout (it writes a setup.py there on its first run).
    import shutil

    root = Path(__file__).parents[3]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    checkout = tmp_path / "checkout"
    for name in tracked.stdout.splitlines():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, checkout / name)
    node = nodes[1]
    with (checkout / "scrapy.cfg").open("a") as cfg:
        cfg.write(f"\n[deploy:test]\nurl = {node.name}/\nproject = pqwatch\n")
    deploy_tool = str(Path(sys.executable).with_name("scrapyd-deploy"))
    done = subprocess.run([deploy_tool, "test"], cwd=checkout, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert (answer["status"], answer["spiders"]) == ("ok", 4), (
        answer
    )  # Scrapyd found the settings and spiders


def test_a_leader_that_loses_its_lock_stops_and_cancels_nothing_on_the_nodes(pg_url, nodes, tmp_path):
    import os

    from monitor.scheduler import LOCK_LOST_STATUS
    from tests.support.helpers import site_pages
    from tests.support.processes import StallingSite, terminate_lock_holder

    with StallingSite() as blog:
        blog.replace(site_pages(blog.url))
        config = tmp_path / "pqwatch.toml"
        config.write_text(
            f'[parliament]\napi_base = "http://127.0.0.1:{closed_port()}"\n'
            f'[[blog]]\nname = "stalling"\nstart_urls = ["{blog.url}/"]\n'
        )
        env = {
            **os.environ,
            "PQWATCH_SCRAPYD_URLS": nodes[1].url,
            "PQWATCH_DOWNLOAD_DELAY": "0",
            "PQWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
        log = tmp_path / "daemon.log"
        daemon = subprocess.Popen(
            [PQWATCH, "--db", pg_url, "--config", str(config), "run"],
            env=env, cwd=tmp_path, stderr=log.open("wb"), stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert blog.reached.wait(60), log.read_text()  # the blog's job runs on the node, stalled
            terminate_lock_holder(pg_url)
            status = daemon.wait(20)
        finally:
            blog.release.set()
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        assert status == LOCK_LOST_STATUS
        # The job it dispatched was not cancelled: it runs on and reports, for a follower to detect.
        assert wait_until(
            lambda: {j.source: j.state for j in _jobs(pg_url)}.get("stalling") == "finished", 60
        )
        assert "lost the scheduler lock" in log.read_text()


def test_ctrl_c_on_a_manual_crawl_cancels_its_job_on_the_node(pg_url, nodes, tmp_path):
    import os
    import signal

    from tests.support.helpers import site_pages
    from tests.support.processes import StallingSite

    with StallingSite() as blog:
        blog.replace(site_pages(blog.url))
        env = {**os.environ, "PQWATCH_SCRAPYD_URLS": nodes[1].url, "PQWATCH_DOWNLOAD_DELAY": "0"}
        crawl = subprocess.Popen(
            [PQWATCH, "--db", pg_url, "crawl", "blog", "--start-url", blog.url + "/"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert blog.reached.wait(60)
            job_id = _jobs(pg_url)[0].job_id
            crawl.send_signal(signal.SIGINT)
            _, err = crawl.communicate(timeout=30)
        finally:
            blog.release.set()
            if crawl.poll() is None:
                crawl.kill()
        assert crawl.returncode == 130, err
        assert "interrupted" in err and f"job {job_id}: cancelled on {nodes[1].name}" in err
        [job] = _jobs(pg_url)
        assert (job.state, job.reason) == (JobState.FAILED, "cancelled: its crawl was stopped")
        # Scrapy on the node got the cancel's SIGINT and stops.
        assert wait_until(lambda: Node(nodes[1].url).job_states().get(job_id) == "finished", 60)
