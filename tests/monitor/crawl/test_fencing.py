"""Fencing of crawls: a crawl process dies with the process that started it, even when that one
is SIGKILLed, and no two crawls of one host overlap, across processes (a per-host lock: an
advisory lock on PostgreSQL, a file lock beside a SQLite database)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.crawl import processes
from monitor.crawl.processes import CrawlOptions, CrawlProcesses, HostBusy, crawl_hosts, host_lock
from tests.support.helpers import site_pages
from tests.support.processes import CountingSite, StallingSite, alive, children, wait_until

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_crawl_process_dies_when_its_cli_is_sigkilled(db_url):
    with StallingSite() as site:
        site.replace(site_pages(site.url))
        command = [PQWATCH, "--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url]
        cli = subprocess.Popen(command)
        try:
            assert site.reached.wait(30), "the crawl never reached the site"
            crawlers = children(cli.pid)
            assert crawlers, "the crawl runs in a subprocess of the CLI"
            cli.send_signal(signal.SIGKILL)
            cli.wait()
            # The crawl is mid-request, waiting on the site: only the kernel's signal ends it.
            assert wait_until(lambda: not any(alive(pid) for pid in crawlers), 5)
        finally:
            site.release.set()
            if cli.poll() is None:
                cli.kill()


def test_two_crawls_of_one_host_never_overlap(db_url, tmp_path):
    with CountingSite(pause=0.05) as site:
        site.replace(site_pages(site.url))
        command = [PQWATCH, "--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url + "/"]
        subprocess.run([PQWATCH, "--db", db_url, "export"], check=True, capture_output=True)  # migrated
        logs = [tmp_path / "one.log", tmp_path / "two.log"]
        crawls = [subprocess.Popen(command, stderr=log.open("wb"), stdout=subprocess.DEVNULL) for log in logs]
        assert [crawl.wait(60) for crawl in crawls] == [0, 0]
    assert site.peak == 1  # one request at a time: the two crawls ran one after the other
    assert len([path for _, path, _ in site.requests if path == "/robots.txt"]) == 2
    assert any("another crawl of 127.0.0.1 is running; waiting" in log.read_text() for log in logs)


def test_a_crawl_that_cannot_get_its_host_fails_with_one_line(db_url, site, capfd, monkeypatch):
    monkeypatch.setattr(processes, "host_lock", lambda db, host, wait: host_lock(db, host, 0.3))
    with host_lock(db_url, "127.0.0.1", wait=0):  # another crawl of the host holds it
        status = main(["--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url + "/"])
    out = capfd.readouterr().out
    assert status == 1  # the crawl could not do its job; 2 is for bad input
    assert site.requests == []
    assert out.splitlines() == [
        "127.0.0.1: crawl failed: another crawl of 127.0.0.1 is running; gave up after 0.3 s"
    ]


def test_the_host_lock_is_taken_before_any_process_starts(db_url, site):
    options = CrawlOptions(delay=0, host_lock_wait=0)
    args = {"start_urls": [site.url + "/"]}
    with host_lock(db_url, "127.0.0.1", wait=0):
        with pytest.raises(HostBusy), CrawlProcesses("blog", db_url, args, options):
            pass
    assert site.requests == []
    with CrawlProcesses("blog", db_url, args, options) as crawl:  # released: it runs now
        assert [report.status for report in crawl.wait()] == [0]


def test_the_lock_is_per_host_and_www_is_the_same_host(db_url):
    both = ["https://www.Example.org/", "https://example.org/x"]
    assert crawl_hosts({"start_urls": both}) == {"example.org"}
    assert crawl_hosts({"api_base": "https://questions-statements-api.parliament.uk"}) == {
        "questions-statements-api.parliament.uk"
    }
    with host_lock(db_url, "a.example", wait=0), host_lock(db_url, "b.example", wait=0):
        with pytest.raises(HostBusy), host_lock(db_url, "a.example", wait=0):
            pass


def test_a_waiting_crawl_gets_the_host_when_the_other_ends(db_url):
    clock = iter(range(1000)).__next__
    held = host_lock(db_url, "a.example", wait=0)
    held.__enter__()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            held.__exit__(None, None, None)  # the other crawl ends

    with host_lock(db_url, "a.example", wait=100, sleep=sleep, clock=lambda: float(clock())):
        pass
    assert len(slept) == 3


def test_crawl_processes_run_with_a_parent_death_signal():
    preexec = processes._die_with_parent()
    if not sys.platform.startswith("linux"):
        assert preexec is None
        return
    # PR_GET_PDEATHSIG (2) writes the child's parent-death signal into an int.
    probe = "import ctypes; s=ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(s)); print(s.value)"
    done = subprocess.run([sys.executable, "-c", probe], preexec_fn=preexec, capture_output=True, text=True)
    assert done.stdout.strip() == str(int(signal.SIGKILL))
