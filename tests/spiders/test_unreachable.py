"""A host that refuses connections is one line in a crawl's output, not a warning per retry and
an error per URL; its run fails with the reason "host unreachable: HOST (why)"."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from monitor.demo.site import LocalSite
from tests.support.helpers import closed_port
from tests.support.helpers import crawl_runs as runs

BIN = Path(sys.executable).parent


def pqwatch_crawl(db_url: str, *urls: str) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "pqwatch"), "--db", db_url, "crawl", "blog", "--delay", "0"]
    for url in urls:
        args += ["--start-url", url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_an_unreachable_start_url_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    port = closed_port()
    done = pqwatch_crawl(db_url, f"http://127.0.0.1:{port}/")
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    about = [line for line in output.splitlines() if f"127.0.0.1:{port}" in line]
    assert about == [
        f"ERROR pqwatch.crawl: 127.0.0.1:{port}: unreachable (connection refused); 1 request not made"
    ]
    assert "Traceback" not in output and "retrying" not in output and "robots.txt" not in output
    assert done.stdout.strip() == (
        "127.0.0.1: crawl finished with errors: 0 pages fetched, 0 not modified, answers 0 new / 0 changed"
        " / 0 removed, 0 dead links, 1 errors; 0 change events"
    )
    [run] = runs(db_url)
    assert run.reason == f"host unreachable: 127.0.0.1:{port} (connection refused)"


def test_a_down_host_beside_a_live_one_is_one_line_and_the_live_one_is_stored(
    site: LocalSite, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    port = closed_port()
    done = pqwatch_crawl(
        db_url, site.url + "/", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/page/2/"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    about = [line for line in output.splitlines() if f"127.0.0.1:{port}" in line]
    # robots.txt tried (and retried) once; the start URLs, and what the spider would ask the
    # host next (its API, its sitemaps), then not requested at all: still one line.
    assert len(about) == 1, about
    line = re.fullmatch(
        rf"ERROR pqwatch\.crawl: 127\.0\.0\.1:{port}: unreachable \(connection refused\); "
        r"(\d+) requests not made",
        about[0],
    )
    assert line is not None and int(line[1]) >= 2, about
    assert "answers 3 new" in done.stdout and "Traceback" not in output
    [run] = runs(db_url)
    assert run.reason == f"host unreachable: 127.0.0.1:{port} (connection refused)"
    assert run.counts["answers_new"] == 3
