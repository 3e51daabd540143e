"""A real `pqwatch --db X --config C run` in an empty folder: its jobs use exactly that database
and that config (a custom blog's job crawls into X), and nothing lands in the folder it runs in."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.helpers import site_pages
from tests.support.processes import StallingSite, alive, children, wait_until

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))
TIMED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
UNREACHABLE = "http://127.0.0.1:9/"  # nothing listens on port 9 (discard): connection refused


def _daemon(tmp_path: Path, config_text: str, work: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """Start `pqwatch --db X --config C run` in `work`, with no PQWATCH_DB_URL or PQWATCH_CONFIG
    in its environment: only the flags name the database and config. Returns it, X and its log."""
    config = tmp_path / "sources.toml"
    config.write_text(config_text)
    db = tmp_path / "chosen.sqlite3"
    env = {**os.environ, "PQWATCH_OUTBOX_DIR": str(tmp_path / "out"), "PQWATCH_DOWNLOAD_DELAY": "0"}
    env.pop("PQWATCH_DB_URL", None)
    env.pop("PQWATCH_CONFIG", None)
    log = tmp_path / "daemon.log"
    daemon = subprocess.Popen(
        [PQWATCH, "--db", f"sqlite:///{db}", "--config", str(config), "run"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    return daemon, db, log


def _stored_blog_sources(db: Path) -> int:
    """How many blog pages the database holds (0 while it is not there or not migrated yet)."""
    if not db.exists():
        return 0
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM sources WHERE kind = 'blog'")).scalar() or 0
            )
    except Exception:  # not migrated yet: the daemon is still starting
        return 0
    finally:
        engine.dispose()


def test_a_custom_blog_job_crawls_into_the_daemons_db_and_not_the_folder(site, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    daemon, db, log = _daemon(
        tmp_path,
        f'[parliament]\napi_base = "{UNREACHABLE}"\nschedule = "0 3 * * *"\n'
        f'[[blog]]\nname = "localblog"\nstart_urls = ["{site.url}/"]\nschedule = "0 4 * * *"\n',
        work,
    )
    try:
        # The blog's job runs at start; its posts arrive in --db.
        stored = wait_until(lambda: _stored_blog_sources(db) >= 3, 60)
        assert daemon.poll() is None, log.read_text()
        # ... and the parliament crawl of an unreachable host ends too (a summary line).
        wait_until(lambda: "crawl parliament:" in log.read_text(), 60)
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    err = log.read_text()
    assert stored, err
    assert status == 0, err
    assert list(work.iterdir()) == [], "a job wrote beside the daemon instead of to --db"
    assert "KeyError" not in err and "Traceback" not in err and "raised an exception" not in err, err
    lines = err.splitlines()
    assert lines and all(TIMED.match(line) for line in lines), err
    assert any("localblog: crawl finished: 3 pages fetched" in line for line in lines), err
    # The unreachable API host: one line per crawl of it (the API's, the written statements'), no
    # Scrapy traceback, no per-retry warnings.
    about = [line for line in lines if "127.0.0.1:9" in line]
    crawls = sum(f"crawl {name}: crawl finished" in err for name in ("parliament", "statements"))
    assert crawls >= 1 and len(about) == crawls, err
    assert all("127.0.0.1:9: unreachable (connection refused)" in line for line in about), err
    assert "retrying" not in err
    assert "stopped" in lines[-1], err


def test_a_second_sigterm_mid_crawl_is_clean_and_leaves_no_crawl_process(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    with StallingSite() as slow:
        slow.replace(site_pages(slow.url))
        daemon, _, log = _daemon(
            tmp_path,
            f'[parliament]\napi_base = "{UNREACHABLE}"\nschedule = "0 3 * * *"\n'
            f'[[blog]]\nname = "slowblog"\nstart_urls = ["{slow.url}/"]\nschedule = "0 4 * * *"\n',
            work,
        )
        try:
            assert slow.reached.wait(60), log.read_text()  # the blog crawl hangs mid-request
            crawlers = [pid for pid in children(daemon.pid) if _is_crawl(pid)]
            assert crawlers, log.read_text()
            daemon.send_signal(signal.SIGTERM)
            assert wait_until(lambda: "stopping after the running jobs finish" in log.read_text(), 10)
            time.sleep(0.5)
            assert daemon.poll() is None, "stopped before its running crawl finished"
            daemon.send_signal(signal.SIGTERM)
            status = daemon.wait(30)
            gone = wait_until(lambda: not any(alive(pid) for pid in crawlers), 10)
        finally:
            slow.release.set()
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    err = log.read_text()
    assert status == 0, err
    assert gone, f"crawl processes left behind: {crawlers}"
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert "stopped" in lines[-1], err
    summary = next(i for i, line in enumerate(lines) if "crawl slowblog:" in line)
    assert summary < len(lines) - 1, err


def _is_crawl(pid: int) -> bool:
    try:
        return b"spiders.run" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
