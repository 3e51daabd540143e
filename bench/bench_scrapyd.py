"""Benchmark the Scrapyd scale-out: eight local blogs crawled by two local Scrapyd nodes (the
project's egg deployed to both, as `pqwatch deploy` does) against the same crawls by local crawl
processes (one at a time, as `pqwatch crawl` runs sources, and all at once, as the daemon's
threads do), on PostgreSQL, at delay 0.

    python -m bench.bench_scrapyd [--blogs 8] [--posts 500] [--db postgresql://...]

Prints, and writes bench/out/scrapyd.json: each way's wall time, the most requests any one host
had in flight at once and how many of a host's requests overlapped (politeness: both must be 1
and 0), and the leader's cost per job: the wait from dispatch to the node's process claiming the
job (Scrapyd's queue poll and the process's start-up), and from the job's report to the end of
the crawl (the leader's poll, change detection, the run's record). Figures, not assertions."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from monitor.crawl.runner import CrawlOptions, CrawlResult, run_crawl
from monitor.demo.sample_blog import generate_blog
from storage.db import open_database
from storage.models import CrawlJob
from storage.terms import utcnow
from tests.support.processes import CountingSite
from tests.support.scrapyd import ScrapydNode, deploy

OUT = Path(__file__).with_name("out")
DEFAULT_PG = os.environ.get("PQWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_schema(pg_url: str) -> str:
    """A new empty schema of the PostgreSQL database at `pg_url`, migrated; its URL."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = make_url(pg_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    schema_url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = schema_url.render_as_string(hide_password=False)
    open_database(rendered)
    return rendered


def crawl_all(
    db_url: str, sites: list[CountingSite], options: CrawlOptions, parallel: bool
) -> dict[str, Any]:
    """Crawl every site (each a source of its own); all at once as the daemon's threads do when
    `parallel`, else one after another as `pqwatch crawl` does. Wall time and each crawl's end."""
    sessions = open_database(db_url)
    ends: dict[str, Any] = {}
    results: list[CrawlResult] = []

    def one(site: CountingSite) -> None:
        args = {"start_urls": [site.url + "/"], "max_listing_pages": 0}
        results.append(run_crawl(sessions, db_url, "blog", args, options, source=site.host))
        ends[site.host] = utcnow()

    started = time.perf_counter()
    if parallel:
        threads = [threading.Thread(target=one, args=(site,)) for site in sites]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for site in sites:
            one(site)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 2),
        "failed": sum(result.failed for result in results),
        "answers_new": sum(result.counts.get("answers_new", 0) for result in results),
        "ends": ends,
    }


def reset(sites: list[CountingSite]) -> None:
    for site in sites:
        site.spans.clear()
        site.peak = 0


def politeness(sites: list[CountingSite]) -> dict[str, int]:
    return {
        "most_in_flight_per_host": max(site.peak for site in sites),
        "overlapping_requests": sum(site.overlaps() for site in sites),
        "requests": sum(len(site.spans) for site in sites),
    }


def job_costs(db_url: str, ends: dict[str, Any]) -> dict[str, float]:
    """Median seconds per job: dispatch -> claimed, the job's own run, report -> crawl's end."""
    with open_database(db_url)() as session:
        jobs = list(session.scalars(select(CrawlJob)))
    before = [(job.started_at - job.dispatched_at).total_seconds() for job in jobs if job.started_at]
    running = [
        (job.finished_at - job.started_at).total_seconds()
        for job in jobs
        if job.finished_at and job.started_at
    ]
    after = [(ends[job.source] - job.finished_at).total_seconds() for job in jobs if job.finished_at]
    return {
        "jobs": len(jobs),
        "nodes_used": len({job.node for job in jobs}),
        "dispatch_to_claim_s": round(statistics.median(before), 2),
        "job_run_s": round(statistics.median(running), 2),
        "report_to_end_s": round(statistics.median(after), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blogs", type=int, default=8)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument(
        "--db", default=DEFAULT_PG, help="a PostgreSQL database (a schema per run is made in it)"
    )
    args = parser.parse_args()
    os.environ["PQWATCH_ALLOW_PRIVATE_ADDRESSES"] = "1"
    # Each blog on a loopback address of its own: a host of its own, as separate blogs are.
    sites = [CountingSite(pause=0, host=f"127.0.0.{100 + n}").start() for n in range(args.blogs)]
    for n, site in enumerate(sites):
        blog = generate_blog(args.posts, base_url=site.url, seed=2472 + n)
        site.replace(blog.pages, blog.content_types, blog.redirects)
    report: dict[str, Any] = {"blogs": args.blogs, "posts_per_blog": args.posts}
    options = CrawlOptions(delay=0, allow_private_addresses=True)
    try:
        local = crawl_all(fresh_schema(args.db), sites, options, parallel=False)
        report["local, one process at a time"] = {**local, **politeness(sites)}
        reset(sites)
        together = crawl_all(fresh_schema(args.db), sites, options, parallel=True)
        report["local, every blog at once"] = {**together, **politeness(sites)}
        reset(sites)
        with ScrapydNode(max_proc=4) as first, ScrapydNode(max_proc=4) as second:
            deploy(first, second)
            db_url = fresh_schema(args.db)
            dispatched = replace(options, nodes=(first.url, second.url), node_poll=0.5)
            spread = crawl_all(db_url, sites, dispatched, parallel=True)
            report["two Scrapyd nodes, every blog at once"] = {
                **spread,
                **politeness(sites),
                **job_costs(db_url, spread["ends"]),
            }
    finally:
        for site in sites:
            site.stop()
    for row in report.values():
        if isinstance(row, dict):
            row.pop("ends", None)
    OUT.mkdir(exist_ok=True)
    (OUT / "scrapyd.json").write_text(json.dumps(report, indent=1))
    print(f"{args.blogs} blogs of {args.posts} posts, delay 0, PostgreSQL")
    for name, row in report.items():
        if isinstance(row, dict):
            print(f"{name}:")
            for key, value in row.items():
                print(f"  {key:26} {value}")


if __name__ == "__main__":
    main()
