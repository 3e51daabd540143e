"""Benchmark the blog path: parse + normalise + store throughput over N saved posts, then a first
crawl and an unchanged re-crawl (conditional requests) of the same posts served on 127.0.0.1.

    python -m bench.bench_blog [--posts 1000] [--concurrency 8] [--db URL]

Prints a table and writes bench/out/blog.json. Figures, not assertions: this is not a test."""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from monitor.crawl.runner import CrawlOptions, run_blog_crawl
from monitor.demo.sample_blog import generate_blog
from monitor.demo.site import LocalSite
from spiders.sources.blog.parse import parse_post
from storage.db import open_database
from storage.models import Version
from storage.record import record_page

OUT = Path(__file__).with_name("out")


def bench_parse_store(posts: dict[str, bytes], db_url: str) -> dict[str, float]:
    """Parse, normalise and store every post, one transaction per page, as the pipeline does."""
    sessions = open_database(db_url)
    started, cpu = time.perf_counter(), time.process_time()
    answers = 0
    for path, body in posts.items():
        result = parse_post(body.decode(), "http://bench.local" + path)
        answers += len(result.post.answers)
        with sessions.begin() as session:
            record_page(
                session,
                source_kind="blog",
                url=result.post.canonical_url,
                answers=result.post.answers,
                observed_at=_now(),
                body=body,
                content_type="text/html",
            )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pages": len(posts),
        "answers": answers,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "pages_per_s": round(len(posts) / wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def bench_crawl(n_posts: int, concurrency: int, db_url: str) -> dict[str, dict[str, float]]:
    """Crawl the served blog twice: the first crawl, then a re-crawl with nothing changed."""
    sessions = open_database(db_url)
    results: dict[str, dict[str, float]] = {}
    with LocalSite() as site:
        blog = generate_blog(n_posts, generation=1, base_url=site.url)
        site.replace(blog.pages, blog.content_types, blog.redirects)
        for label in ("first_crawl", "unchanged_recrawl"):
            site.requests.clear()
            started = time.perf_counter()
            result = run_blog_crawl(
                sessions,
                db_url,
                [site.url + "/"],
                CrawlOptions(delay=0, concurrency=concurrency, allow_private_addresses=True),
            )
            wall = time.perf_counter() - started
            with sessions() as session:
                versions = session.scalar(select(func.count(Version.id))) or 0
            child = resource.getrusage(resource.RUSAGE_CHILDREN)
            results[label] = {
                "wall_s": round(wall, 2),
                "requests": len(site.requests),
                "status_200": sum(1 for _, _, s in site.requests if s == 200),
                "status_304": sum(1 for _, _, s in site.requests if s == 304),
                "pages_per_s": round(len(site.requests) / wall, 1),
                "versions_total": versions,
                "errors": result.counts.get("errors", -1),
                "crawler_peak_rss_mib": round(child.ru_maxrss / 1024, 1),
            }
    results["recrawl_fraction_of_first"] = {
        "ratio": round(results["unchanged_recrawl"]["wall_s"] / results["first_crawl"]["wall_s"], 3)
    }
    return results


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def main() -> None:
    """Run both benchmarks and print their figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pqwatch-bench-") as folder:
        blog = generate_blog(args.posts, generation=1)
        posts = {p: b for p, b in blog.pages.items() if p.count("/") >= 5}  # /YYYY/MM/DD/slug/
        parse = bench_parse_store(posts, args.db or f"sqlite:///{folder}/parse.sqlite3")
        crawl = bench_crawl(args.posts, args.concurrency, args.db or f"sqlite:///{folder}/crawl.sqlite3")
    figures = {"posts": args.posts, "concurrency": args.concurrency, "parse_store": parse, **crawl}
    OUT.mkdir(exist_ok=True)
    (OUT / "blog.json").write_text(json.dumps(figures, indent=2))
    print(
        f"parse+normalise+store  {parse['pages']} posts ({parse['answers']} answers): "
        f"{parse['pages_per_s']} pages/s, {parse['wall_s']} s wall, {parse['cpu_s']} s CPU, "
        f"peak RSS {parse['peak_rss_mib']} MiB"
    )
    for label in ("first_crawl", "unchanged_recrawl"):
        c = crawl[label]
        print(
            f"{label:<20}  {c['wall_s']} s, {c['requests']} requests ({c['status_200']} x 200, "
            f"{c['status_304']} x 304), {c['versions_total']} versions stored in all, "
            f"{c['errors']} errors, crawler peak RSS {c['crawler_peak_rss_mib']} MiB"
        )
    print(f"re-crawl / first crawl wall time: {crawl['recrawl_fraction_of_first']['ratio']}")


if __name__ == "__main__":
    main()
