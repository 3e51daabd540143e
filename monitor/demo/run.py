"""`pqwatch demo`: the whole cycle offline — serve a sample blog on 127.0.0.1, crawl it, serve
its second generation (some answers edited, some dates moved, furniture changed everywhere),
crawl again and print what changed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from monitor.crawl.runner import CrawlOptions, run_blog_crawl, summary_line
from monitor.demo.sample_blog import generate_blog
from monitor.demo.site import LocalSite
from monitor.queries.text import render_event_text
from monitor.queries.views import change_events, iso
from storage.db import open_database
from storage.terms import ChangeKind

POSTS = 30
CHANGE_RATE = 0.2


def run_demo(verbose: bool = False) -> int:
    """Run the demo; return 0 when pqwatch found exactly the sample's true answer changes."""
    with tempfile.TemporaryDirectory(prefix="pqwatch-demo-") as folder, LocalSite() as site:
        db_url = f"sqlite:///{Path(folder, 'demo.sqlite3')}"
        sessions = open_database(db_url)
        failed = False
        for generation in (1, 2):
            blog = generate_blog(POSTS, generation=generation, change_rate=CHANGE_RATE, base_url=site.url)
            site.replace(blog.pages, blog.content_types, blog.redirects)
            print(
                f"[{generation}/2] crawling the sample blog at {site.url}/ (generation {generation}"
                + (
                    ": some answers edited or re-dated, every page's furniture changed)"
                    if generation == 2
                    else ")"
                )
            )
            result = run_blog_crawl(
                sessions,
                db_url,
                [site.url + "/"],
                CrawlOptions(
                    delay=0,
                    concurrency=2,
                    progress=sys.stderr.isatty(),
                    verbose=verbose,
                    allow_private_addresses=True,  # the sample blog is on 127.0.0.1
                ),
            )
            print("      " + summary_line(result))
            failed = failed or result.failed
        with sessions() as session:
            events = [e for e in change_events(session) if e.kind != ChangeKind.NEW]
        print(f"\nChanges found by the second crawl ({len(events)}):")
        for event in events:
            print(render_event_text(event))
        truth = {(c["uin"], c["date_tabled"], c["kind"]) for c in blog.manifest}
        found = {(e.uin, iso(e.date_tabled), e.kind.value) for e in events}
        print(
            f"\nThe sample blog's manifest lists {len(truth)} true answer changes; pqwatch found "
            f"{len(found & truth)} of them, {len(found - truth)} false changes, {len(truth - found)} misses."
        )
        print(
            "Try it on a real blog: pqwatch crawl blog --start-url https://www.davidalton.net/ --max-pages 1"
        )
        return 1 if failed or found != truth else 0
