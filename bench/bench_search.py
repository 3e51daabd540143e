"""Benchmark search (monitor.queries.search) over the scale database: N questions, 3 API versions
each, from bench/scale.py's generator, on SQLite (FTS5) and PostgreSQL (full-text search).

    python -m bench.bench_search [--questions 500000] [--engines sqlite,postgresql]
                                 [--sqlite-path bench/out/search.sqlite3]
                                 [--pg-url postgresql://postgres@127.0.0.1:5432/pq_h3_scale]
                                 [--runs 5] [--reuse]

Without `--reuse` each database is built afresh (the PostgreSQL one dropped and created) through
bench.scale's loaders, so it has the real schema and its search index is kept by the insert
trigger as a crawl keeps it. With `--reuse` a database left by an earlier run is opened as it is
(an older one is upgraded first: the search migration's backfill is then timed as `upgrade_s`).

Each query of QUERIES runs `--runs` times through `search()` in-process, as the /search page and
`pqwatch search` call it (a page of 20, the total counted); the best and the median are printed,
with the number of matching questions. Writes bench/out/search.json. Not a test."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.scale import (
    DEPARTMENT,
    TABLES,
    Loader,
    PostgresLoader,
    Rows,
    SqliteLoader,
    batches,
    build_rows,
    create_pg_database,
    make_plan,
)
from monitor.changes.lifecycle import Lifecycle
from monitor.queries.search import SearchFilters, search
from storage.db import open_database
from storage.models import Question, Version

OUT = Path(__file__).with_name("out")


def build(loaders: list[Loader], questions: int, seed: int, batch: int = 2000) -> dict[str, float]:
    """Generate the scale data batch by batch into every loader's database; seconds per engine."""
    rng = random.Random(seed)
    plan = make_plan(questions, 3, 0.5, rng)
    plan.seed = seed
    started = time.perf_counter()
    step = max(1, questions // 10)
    for start, stop in batches(questions, batch):
        rows = build_rows(plan, start, stop, rng)
        _fill_missing_columns(rows)
        for loader in loaders:
            loader.load(rows)
        if stop % step < batch:
            print(
                f"loaded {stop:,}/{questions:,} questions in {time.perf_counter() - started:.0f}s", flush=True
            )
    for loader in loaders:
        loader.mark_detected()
        loader.finish()
    return {loader.name: round(loader.insert_s + loader.derive_s + loader.finish_s, 1) for loader in loaders}


def _fill_missing_columns(rows: Rows) -> None:
    """Give every row each column of its table (None where the generator has no value): COPY
    names every column, and the generator predates some (a version's parser, for one)."""
    for table in TABLES:
        names = [column.name for column in table.columns]
        for row in rows[table.name]:
            for name in names:
                row.setdefault(name, None)


def main() -> None:
    """Build or reuse the databases, time the queries, print and save the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=500_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sqlite-path", default=str(OUT / "search.sqlite3"))
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/pq_h3_scale")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20250303)
    parser.add_argument("--reuse", action="store_true", help="time the databases an earlier run left")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    urls = {"sqlite": f"sqlite:///{args.sqlite_path}", "postgresql": args.pg_url}
    figures: dict[str, Any] = {"questions": args.questions, "engines": {}}
    if not args.reuse:
        OUT.mkdir(exist_ok=True)
        loaders: list[Loader] = []
        if "sqlite" in engines:
            for stale in Path(args.sqlite_path).parent.glob(Path(args.sqlite_path).name + "*"):
                stale.unlink()
            loaders.append(SqliteLoader(urls["sqlite"]))
        if "postgresql" in engines:
            create_pg_database(args.pg_url)
            loaders.append(PostgresLoader(args.pg_url))
        figures["build_s"] = build(loaders, args.questions, args.seed)
        for loader in loaders:
            loader.close()
        print(f"built: {figures['build_s']}", flush=True)
    if args.build_only:
        return
    for name in engines:
        figures["engines"][name] = measure(urls[name], args.runs)
    OUT.mkdir(exist_ok=True)
    (OUT / "search.json").write_text(json.dumps(figures, indent=2) + "\n")


# What a reader of the scale database's answers would look for: its vocabulary is each
# department's topics (a topic is in about one question in 21), the answers' stock phrases (in
# many) and their figures (in few); then the same with each filter.
QUERIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("a topic word", "Hikvision", {}),
    ("a topic phrase", '"badger cull"', {}),
    ("two words", "asylum hotels", {}),
    ("OR", "cladding OR concrete", {}),
    ("a phrase, less a topic", '"disproportionate cost" -hotels', {}),
    ("a rare figure", '"4,567 cases"', {}),
    ("a word in every answer", "Government", {}),
    ("+ house", "Hikvision", {"house": "Lords"}),
    ("+ department + status", "hotels", {"department": DEPARTMENT, "status": Lifecycle.ANSWERED}),
    ("+ member", "Hikvision", {"member": "Chris Philp"}),
    ("+ tabled in a month", "Uyghur", {"tabled_from": date(2025, 6, 1), "tabled_to": date(2025, 6, 30)}),
    ("+ answered in a week", "cladding", {"answered_from": date(2025, 9, 1),
                                          "answered_to": date(2025, 9, 7)}),
    ("+ current text only", "Hikvision", {"current_only": True}),
    ("every filter", "hotels", {"house": "Commons", "department": DEPARTMENT, "member": "Philp",
                                 "status": Lifecycle.ANSWERED, "tabled_from": date(2025, 5, 1)}),
)  # fmt: skip


def measure(url: str, runs: int) -> dict[str, Any]:
    """Open (and upgrade) one database, then time every query `runs` times; its figures."""
    started = time.perf_counter()
    sessions = open_database(url)
    upgrade_s = time.perf_counter() - started
    with sessions() as session:
        counts = {
            "questions": session.scalar(select(func.count()).select_from(Question)),
            "versions": session.scalar(select(func.count()).select_from(Version)),
            "documents": session.scalar(text("SELECT count(*) FROM search_documents")),
        }
    name = sessions.kw["bind"].dialect.name
    print(f"\n[{name}] {counts}, open (and upgrade) {upgrade_s:.1f}s", flush=True)
    print(f"{'query':28} {'text':34} {'questions':>10} {'ranked all':>10} {'best ms':>8} {'median ms':>9}")
    rows = []
    for label, typed, filters in QUERIES:
        times, results = [], None
        for _ in range(runs):
            with sessions() as session:
                began = time.perf_counter()
                results = search(session, typed, SearchFilters(**filters))
                times.append(time.perf_counter() - began)
        assert results is not None
        row = {
            "query": label,
            "text": typed,
            "filters": {key: str(value) for key, value in filters.items()},
            "questions": results.total,
            "complete": results.complete,
            "best_ms": round(min(times) * 1000, 1),
            "median_ms": round(statistics.median(times) * 1000, 1),
        }
        rows.append(row)
        print(
            f"{label:28} {typed:34} {results.total:>10,} {'yes' if results.complete else 'no':>10}"
            f" {row['best_ms']:>8} {row['median_ms']:>9}",
            flush=True,
        )
    sessions.kw["bind"].dispose()
    return {"upgrade_s": round(upgrade_s, 1), **counts, "load_average": os.getloadavg(), "queries": rows}


if __name__ == "__main__":
    main()
