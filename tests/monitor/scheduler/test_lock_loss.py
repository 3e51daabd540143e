"""A scheduler that loses its lock stops within seconds: it checks its lock every few seconds and,
once it is gone (its PostgreSQL connection killed, its lock file removed), logs one line, kills its
running crawls and exits non-zero, since another scheduler may already be running."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from monitor.scheduler import LOCK_LOST_STATUS, LockWatch, leader_lock
from tests.support.helpers import site_pages
from tests.support.processes import StallingSite, alive, children, terminate_lock_holder, wait_until

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


def test_the_watch_reports_the_first_loss_once():
    answers = iter([None, None, "gone", "gone"])
    lost: list[str] = []
    done = threading.Event()

    def on_lost(reason: str) -> None:
        lost.append(reason)
        done.set()

    watch = LockWatch(lambda: next(answers), on_lost, interval=0.01).start()
    assert done.wait(5)
    time.sleep(0.05)
    watch.stop()
    assert lost == ["gone"]


def test_a_held_lock_file_is_held_seen_from_the_watch_thread(tmp_path):
    # The watch runs in a thread of its own; a thread-local file lock looked lost from there.
    db_url = f"sqlite:///{tmp_path / 'pqwatch.sqlite3'}"
    answers: list[str | None] = []
    with leader_lock(db_url) as still_held:
        seen = threading.Thread(target=lambda: answers.append(still_held()))
        seen.start()
        seen.join(5)
    assert answers == [None]


def test_a_removed_lock_file_is_a_lost_lock(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'pqwatch.sqlite3'}"
    with leader_lock(db_url) as still_held:
        assert still_held() is None
        Path(f"{tmp_path / 'pqwatch.sqlite3'}.scheduler.lock").unlink()
        assert "is gone" in (still_held() or "")


def test_a_killed_lock_connection_is_a_lost_lock(pg_url):
    db_url = pg_url
    with leader_lock(db_url) as still_held:
        assert still_held() is None
        terminate_lock_holder(db_url)
        assert still_held() is not None


def test_a_scheduler_whose_lock_connection_is_killed_stops_and_kills_its_crawls(pg_url, tmp_path):
    db_url = pg_url
    with StallingSite() as api:
        api.replace(site_pages(api.url))
        config = tmp_path / "pqwatch.toml"
        config.write_text(f'[parliament]\napi_base = "{api.url}"\nschedule = "45 */2 * * *"\n')
        env = {
            **os.environ,
            "PQWATCH_DB_URL": db_url,
            "PQWATCH_CONFIG": str(config),
            "PQWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
            "PQWATCH_DOWNLOAD_DELAY": "0",
        }
        log = tmp_path / "scheduler.log"
        daemon = subprocess.Popen([PQWATCH, "run"], env=env, stderr=log.open("wb"), stdout=subprocess.DEVNULL)
        try:
            # The parliament crawl starts at once; it hangs on the stand-in, mid-crawl.
            assert api.reached.wait(60), log.read_text()
            crawlers = [pid for pid in children(daemon.pid) if "spiders.run" in _cmdline(pid)]
            assert crawlers
            terminate_lock_holder(db_url)
            started = time.monotonic()
            status = daemon.wait(15)
            stopped_in = time.monotonic() - started
            assert wait_until(lambda: not any(alive(pid) for pid in crawlers), 5)
        finally:
            api.release.set()
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    assert status == LOCK_LOST_STATUS
    assert stopped_in < 10
    lost = [line for line in log.read_text().splitlines() if "lost the scheduler lock" in line]
    assert len(lost) == 1


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_daemon_started_with_db_and_config_runs_its_jobs_there(tmp_path):
    config = tmp_path / "sources.toml"
    config.write_text('[parliament]\napi_base = "http://127.0.0.1:9/"\nschedule = "0 3 * * *"\n')
    db = tmp_path / "chosen.sqlite3"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PQWATCH_RETRY_BASE_DELAY": "0.01", "PQWATCH_OUTBOX_DIR": str(tmp_path / "out")}
    env.pop("PQWATCH_DB_URL", None)
    env.pop("PQWATCH_CONFIG", None)
    daemon = subprocess.Popen(
        [PQWATCH, "--db", f"sqlite:///{db}", "--config", str(config), "run"],
        cwd=work,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(6)  # its jobs run at start: digests find nothing, the crawl cannot connect
        assert daemon.poll() is None, "the daemon stopped by itself"
        daemon.terminate()
        _, err = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert list(work.iterdir()) == [], "a job wrote beside the daemon instead of to --db"
    assert "raised an exception" not in err and "lost the scheduler lock" not in err, err
