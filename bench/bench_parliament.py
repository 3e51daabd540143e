"""Benchmark the official-record crawl: N questions from a local stand-in of the Written Questions
API, then a second run with nothing changed, then a day's official changes caught by a routine run
and a full refresh (the silent edit beyond the list's 255 characters needs the detail).

    python -m bench.bench_parliament [--questions 5000] [--concurrency 8]

Prints figures and writes bench/out/parliament.json. Not a test."""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from monitor.crawl.plans import parliament_args
from monitor.crawl.runner import CrawlOptions, run_crawl
from monitor.queries.views import change_events
from storage.db import open_database
from storage.models import Version
from tests.support.api_standin import ApiStandIn, evolve, generate_questions

OUT = Path(__file__).with_name("out")
WINDOW = {"tabledWhenFrom": "2000-01-01", "tabledWhenTo": "2100-01-01"}


def main() -> None:
    """Run the three crawls and print their figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    options = CrawlOptions(delay=0, concurrency=args.concurrency, allow_private_addresses=True)
    figures: dict[str, object] = {"questions": args.questions, "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory(prefix="pqwatch-bench-") as folder, ApiStandIn() as api:
        db_url = f"sqlite:///{folder}/parliament.sqlite3"
        sessions = open_database(db_url)
        questions = generate_questions(args.questions)
        api.replace(questions)
        evolved, manifest = evolve(questions, seed=1, day=date(2024, 6, 3))
        runs = [
            ("first_run", questions, False),
            ("unchanged_run", questions, False),
            ("changed_routine_run", evolved, False),
            ("changed_full_refresh", evolved, True),
        ]
        for label, served, full in runs:
            api.replace(served)
            api.requests.clear()
            started = time.perf_counter()
            result = run_crawl(
                sessions, db_url, "parliament", parliament_args(api.url, [WINDOW], None, full, 7), options
            )
            wall = time.perf_counter() - started
            detail = sum(1 for _, p, _ in api.requests if "/questions/" in p.split("?")[0])
            with sessions() as session:
                versions = session.scalar(select(func.count(Version.id)))
            figures[label] = {
                "wall_s": round(wall, 2),
                "requests": len(api.requests),
                "detail_requests": detail,
                "requests_per_question": round(len(api.requests) / len(served), 3),
                "versions_total": versions,
                "events": result.events,
                "errors": result.counts.get("errors", -1),
                "crawler_peak_rss_mib": round(
                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
                ),
            }
        with sessions() as session:
            found = {(e.uin, e.as_json()["date_tabled"], e.kind.value) for e in change_events(session)}
        truth = {(c["uin"], c["date_tabled"], c["kind"]) for c in manifest}
        figures["manifest"] = {
            "true_changes": len(truth),
            "found": len(truth & found),
            "missed": sorted(map(list, truth - found)),
        }
    OUT.mkdir(exist_ok=True)
    (OUT / "parliament.json").write_text(json.dumps(figures, indent=2))
    for label, _, _ in runs:
        f = figures[label]
        assert isinstance(f, dict)
        print(
            f"{label:<22} {f['wall_s']:>7} s  {f['requests']:>6} requests ({f['detail_requests']} detail, "
            f"{f['requests_per_question']} per question)  {f['events']} events  {f['errors']} errors  "
            f"crawler peak RSS {f['crawler_peak_rss_mib']} MiB"
        )
    m = figures["manifest"]
    assert isinstance(m, dict)
    print(f"official changes: {m['found']} of {m['true_changes']} found; missed: {m['missed']}")


if __name__ == "__main__":
    main()
