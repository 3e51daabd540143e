"""Start crawls as subprocesses (Scrapy's reactor cannot restart in one process) and detect the
changes they stored."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from monitor.detect import detect_changes


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl did: its counts, the events detected after it, and whether it failed."""

    counts: dict[str, int]
    events: int
    failed: bool
    reason: str | None = None


def run_blog_crawl(
    sessions: sessionmaker[Session],
    db_url: str,
    start_urls: list[str],
    *,
    delay: float,
    concurrency: int,
    max_listing_pages: int = 0,
    progress: bool = False,
    verbose: bool = False,
) -> CrawlResult:
    """Crawl a blog in a subprocess, then turn what it stored into change events."""
    with tempfile.TemporaryDirectory(prefix="pqwatch-") as folder:
        counts_file = Path(folder, "counts.json")
        command = [
            sys.executable,
            "-m",
            "spiders.run",
            "blog",
            "--db",
            db_url,
            "--delay",
            str(delay),
            "--concurrency",
            str(concurrency),
            "--max-listing-pages",
            str(max_listing_pages),
            "--counts-file",
            str(counts_file),
        ]
        for url in start_urls:
            command += ["--start-url", url]
        if progress:
            command.append("--progress")
        if verbose:
            command.append("--verbose")
        finished = subprocess.run(command, check=False)
        counts = json.loads(counts_file.read_text()) if counts_file.exists() else {}
    reason = None
    if not counts:
        reason = f"the crawl process failed (exit status {finished.returncode}) before reporting"
    with sessions.begin() as session:
        events = detect_changes(session)
    failed = bool(reason) or finished.returncode != 0 or counts.get("errors", 0) > 0
    return CrawlResult(counts, events, failed, reason)


def summary_line(result: CrawlResult) -> str:
    """Return the one-line summary a manual crawl ends with."""
    c = result.counts
    if result.reason:
        return f"crawl failed: {result.reason}"
    return (
        f"crawl {'finished with errors' if result.failed else 'finished'}: "
        f"{c.get('pages_fetched', 0)} pages fetched, {c.get('not_modified', 0)} not modified, "
        f"answers {c.get('answers_new', 0)} new / {c.get('answers_changed', 0)} changed / "
        f"{c.get('answers_removed', 0)} removed, {c.get('dead_links', 0)} dead links, "
        f"{c.get('errors', 0)} errors; {result.events} change events"
    )
