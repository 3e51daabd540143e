"""Benchmark pqwatch at scale: a synthetic database of N questions (3 API versions each, change
events over ~250 days) per engine, built through `open_database` so it has the real schema, then
`pqwatch changes --since <last day>`, `pqwatch export --department`, `pqwatch stats` and
`pqwatch overdue` timed, and bytes per version.

    python -m bench.scale [--questions 500000] [--versions 3] [--engines sqlite,postgresql]
                          [--pg-url postgresql://postgres@127.0.0.1:5432/pqwatch_scale]
                          [--sqlite-dir DIR] [--keep | --reuse]

Each question has one "api" source (as the parliament spider makes), `--versions` versions, each
with its raw API body (zlib-compressed, as stored), a `new` event and, for about `--change-rate`
per question, answer_text_changed (with a word diff) or answer_date_changed events. Events are
spread evenly over 250 days, so the last day holds ~0.4% of them. Each question's course comes
from its own generator (`question_life`): a due date (a Commons named day for 15%, else the
house's rule), answers late and on time, holding answers, corrections, refusals (non-answers),
withdrawals, and questions still unanswered long after their due date (overdue now).

Both databases are loaded from the same generated batches (SQLite: Core executemany; PostgreSQL:
COPY), each insert timed apart; then each batch's current states are derived through the real code
path, `monitor.changes.current.refresh_current` (what detection runs), timed apart too, and the
detection cursor is left at the highest version id, as a detection of everything leaves it.
`--reuse` of a database kept from before the current-state table first fills it as the upgrade's
first detection does (`heal_s`).

Commands run as subprocesses under GNU time (for the child's own peak RSS), best of `--runs`;
`changes`, `stats` and `overdue` are also timed in-process. `--keep` keeps the databases and
`--reuse` times them again without loading. The PostgreSQL database named in --pg-url is dropped
and created afresh (and dropped at the end unless --keep). Prints a table and writes
bench/out/scale.json. Not a test."""

from __future__ import annotations

import argparse
import bisect
import hashlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, Table, case, create_engine, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from monitor.changes.current import fill_missing_current, refresh_current
from monitor.changes.lifecycle import COMMONS_WORKING_DAYS, LORDS_WORKING_DAYS, add_working_days, london_today
from monitor.queries.export import overdue_views
from monitor.queries.stats import timeliness
from monitor.queries.views import change_events
from storage.db import open_database
from storage.models import Body, ChangeEvent, DetectCursor, Question, QuestionCurrent, Source, Version
from tests.support.api_standin import (
    ASKERS,
    ASKS,
    CONTEXT,
    DEPARTMENTS,
    LONG_TAILS,
    MINISTERS,
    OPENERS,
    figures_sentence,
)

OUT = Path(__file__).with_name("out")
PQWATCH = str(Path(sys.executable).with_name("pqwatch"))
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
START = datetime(2025, 3, 3)  # the first day of the synthetic history (naive UTC, as stored)
DAYS = 250
DAY_S = 86400.0
CHANGE_WINDOW_S = 60 * DAY_S  # a change lands on a question first seen at most this long before
API_URL = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions"
DEPARTMENT = "Home Office"
HOLDING_REPLY = "I shall let the hon. Member have a reply as soon as possible."
# A filtered table: one house, the questions tabled in the second half of the history.
STATS_FILTERED = [
    "stats",
    "--house",
    "Commons",
    "--tabled-from",
    (START + timedelta(days=DAYS // 2)).date().isoformat(),
]
# A figure an answer can be corrected in: an amount, a count of cases or organisations, a percentage.
NUMBER = re.compile(r"(?<=£)\d[\d,]*|\d[\d,]*(?= (?:cases|organisations|per cent))")
# Insert order, parents first (foreign keys are on).
TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (Question, Source, Body, Version, ChangeEvent)
)
Rows = dict[str, list[dict[str, Any]]]


# --- the plan: when things happen -------------------------------------------------------------


@dataclass
class Plan:
    """When each question was first seen, when its later versions came, and its event ids."""

    n: int
    versions: int
    first_seen: list[float] = field(default_factory=list)  # seconds after START, ascending
    later: list[list[float]] = field(default_factory=list)  # observed times of versions 2..k
    kinds: list[list[str | None]] = field(default_factory=list)  # their event kind (None: no event)
    event_ids: dict[tuple[int, int], int] = field(default_factory=dict)  # (question, seq) -> event id
    seed: int = 0  # each question's life (due date, holding, fate) draws from its own generator

    @property
    def event_count(self) -> int:
        """Return how many change events the plan holds."""
        return len(self.event_ids)


def make_plan(n: int, versions: int, change_rate: float, rng: random.Random) -> Plan:
    """Spread first sightings and text/date changes uniformly over DAYS; number events by time."""
    span = DAYS * DAY_S
    plan = Plan(n, versions, sorted(rng.random() * span for _ in range(n)))
    changes: list[list[float]] = [[] for _ in range(n)]
    wanted = round(n * change_rate)
    made = attempts = 0
    while made < wanted and attempts < 20 * wanted + 100:
        attempts += 1
        moment = rng.random() * span
        high = bisect.bisect_left(plan.first_seen, moment)
        if high == 0:
            continue
        question = rng.randrange(bisect.bisect_left(plan.first_seen, moment - CHANGE_WINDOW_S), high)
        if len(changes[question]) < versions - 1:
            changes[question].append(moment)
            made += 1
    timeline: list[tuple[float, int, int]] = []
    for question, first in enumerate(plan.first_seen):
        moments: list[float] = []
        kinds: list[str | None] = []
        previous = first
        events = sorted(changes[question])
        for seq in range(2, versions + 1):
            if events:
                previous = events.pop(0)
                kinds.append("answer_text_changed" if rng.random() < 0.6 else "answer_date_changed")
                timeline.append((previous, question, seq))
            else:  # a change no event reports (an attachment added), some time before the end
                previous = previous + rng.random() * (span - previous)
                kinds.append(None)
            moments.append(previous)
        plan.later.append(moments)
        plan.kinds.append(kinds)
        timeline.append((first, question, 1))
    timeline.sort()
    plan.event_ids = {(question, seq): index + 1 for index, (_, question, seq) in enumerate(timeline)}
    return plan


# --- the data: what each version says ---------------------------------------------------------


def answer_paragraphs(rng: random.Random, subject: str) -> list[str]:
    """An answer of 600-1,500 characters: an opener, figures and context, two sentences a paragraph."""
    target = rng.randint(600, 1500)
    sentences = [rng.choice(OPENERS).format(s=subject), figures_sentence(rng)]
    length = sum(len(s) + 1 for s in sentences)
    while length < target:
        sentence = figures_sentence(rng) if rng.random() < 0.45 else rng.choice(CONTEXT)
        sentences.append(sentence)
        length += len(sentence) + 1
    return [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]


def edit_number(rng: random.Random, paragraphs: list[str]) -> tuple[list[str], list[list[str]]]:
    """Change one figure in an answer; return the new paragraphs and the word diff of the texts."""
    old = "\n\n".join(paragraphs)
    spots = list(NUMBER.finditer(old))
    spot = rng.choice(spots)
    value = int(spot.group().replace(",", ""))
    figure = f"{max(1, value + rng.choice((-1, 1)) * rng.randint(1, max(1, value // 10))):,}"
    if figure == spot.group():
        figure = f"{value + 1:,}"
    new = old[: spot.start()] + figure + old[spot.end() :]
    diff = [["=", old[: spot.start()]], ["-", spot.group()], ["+", figure], ["=", old[spot.end() :]]]
    return new.split("\n\n"), [part for part in diff if part[1]]


@dataclass(frozen=True)
class Life:
    """What the official record says of a question's course: its due date (a named day or the
    house's rule), a holding answer first, a correction, a refusal, or no answer at all."""

    date_for_answer: date
    is_named_day: bool
    fate: str  # "answered" | "unanswered" (late now) | "holding" (a holding answer, late now) | "withdrawn"
    holding_first: bool  # answered after a holding answer (its date is kept)
    corrected: bool  # the last version corrects the answer
    refusal: bool  # the answer opens by declining (a non-answer)


NAMED_DAY_SHARE = 0.15  # of Commons questions
OPEN_SHARE = 0.006  # of questions with no change event: still unanswered (and long overdue)
HOLDING_OPEN_SHARE = 0.003  # a holding answer and nothing since
WITHDRAWN_SHARE = 0.015
HOLDING_FIRST_SHARE = 0.05  # of answered questions
CORRECTED_SHARE = 0.02
REFUSAL_SHARE = 0.04
REFUSAL = "The information requested could be provided only at disproportionate cost."


def question_life(rng: random.Random, house: str, tabled: date, quiet: bool, versions: int) -> Life:
    """Draw one question's course; `quiet` questions (no change event planned) may stay open."""
    named = house == "Commons" and rng.random() < NAMED_DAY_SHARE
    if named:
        due = add_working_days(tabled, rng.randint(3, 5))
    else:
        due = add_working_days(tabled, LORDS_WORKING_DAYS if house == "Lords" else COMMONS_WORKING_DAYS)
    fate, draw = "answered", rng.random()
    if quiet and draw < OPEN_SHARE:
        fate = "unanswered"
    elif quiet and draw < OPEN_SHARE + HOLDING_OPEN_SHARE:
        fate = "holding"
    elif quiet and draw < OPEN_SHARE + HOLDING_OPEN_SHARE + WITHDRAWN_SHARE:
        fate = "withdrawn"
    return Life(
        date_for_answer=due,
        is_named_day=named,
        fate=fate,
        holding_first=fate == "answered" and rng.random() < HOLDING_FIRST_SHARE,
        corrected=fate == "answered" and versions > 1 and rng.random() < CORRECTED_SHARE,
        refusal=fate == "answered" and rng.random() < REFUSAL_SHARE,
    )


def _weekday_before(day: date, days: int) -> date:
    day -= timedelta(days=days)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _api_date(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00" if day else None


def _body(question: dict[str, Any], version: dict[str, Any], paragraphs: list[str], dept: Any) -> bytes:
    """The raw detail response the API would have sent for this version (as the spider stores it)."""
    house = question["house"]
    asker = ASKERS[house][question["id"] % len(ASKERS[house])]
    minister = MINISTERS[house, dept.id]
    value = {
        "id": question["api_id"],
        "askingMemberId": asker["id"],
        "askingMember": asker,
        "house": house,
        "memberHasInterest": False,
        "dateTabled": _api_date(question["date_tabled"]),
        "dateForAnswer": _api_date(version["date_for_answer"]),
        "uin": question["uin"],
        "questionText": version["question_text"],
        "answeringBodyId": dept.id,
        "answeringBodyName": dept.name,
        "isWithdrawn": version["is_withdrawn"],
        "isNamedDay": version["is_named_day"],
        "groupedQuestions": [],
        "answerIsHolding": version["is_holding"],
        "answerIsCorrection": version["is_correction"],
        "answeringMemberId": minister["id"],
        "answeringMember": minister,
        "correctingMemberId": None,
        "correctingMember": None,
        "dateAnswered": _api_date(version["date_answered"]),
        "answerText": "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs),
        "originalAnswerText": "",
        "comparableAnswerText": "",
        "dateAnswerCorrected": _api_date(version["date_corrected"]),
        "dateHoldingAnswer": _api_date(version["date_holding_answer"]),
        "attachmentCount": len(version["attachments"]),
        "heading": version["heading"],
        "attachments": [
            {
                "url": a["url"],
                "title": a["title"],
                "fileType": a["file_type"],
                "fileSizeBytes": a["size_bytes"],
            }
            for a in version["attachments"]
        ],
        "groupedQuestionsDates": [],
    }
    return json.dumps({"value": value, "links": []}, ensure_ascii=False).encode()


def _content_hash(version: dict[str, Any]) -> str:
    parts = (
        version["question_text"],
        version["answer_text"],
        str(version["date_answered"]),
        str(version["answered_at"]),
        json.dumps(version["attachments"]),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def build_rows(plan: Plan, start: int, stop: int, rng: random.Random) -> Rows:
    """Return the rows of questions start..stop-1 (0-based), every table's rows in insert order."""
    rows: Rows = {table.name: [] for table in TABLES}
    for index in range(start, stop):
        qid = index + 1
        first_seen = START + timedelta(seconds=plan.first_seen[index])
        house = "Lords" if rng.random() < 0.45 else "Commons"
        dept = rng.choice(DEPARTMENTS)
        heading, subject = rng.choice(dept.topics)
        answered = _weekday_before(first_seen.date(), rng.randint(0, 2))
        tabled = _weekday_before(answered, rng.randint(3, 15))
        question = {
            "id": qid,
            "house": house,
            "uin": f"HL{1000 + qid}" if house == "Lords" else str(1000 + qid),
            "date_tabled": tabled,
            "api_id": 1_680_000 + 2 * qid,
            "first_seen": first_seen,
        }
        url = f"{API_URL}/{question['api_id']}"
        rows["questions"].append(question)
        rows["sources"].append({"id": qid, "kind": "api", "url": url, "first_seen": first_seen})
        ask = rng.choice(ASKS[house]).format(s=subject) + (LONG_TAILS[house] if rng.random() < 0.15 else "")
        addressee = dept.addressee if house == "Commons" else "His Majesty's Government"
        paragraphs = answer_paragraphs(rng, subject)
        life = question_life(
            random.Random(plan.seed * 1_000_003 + qid),
            house,
            tabled,
            not any(plan.kinds[index]),
            plan.versions,
        )
        if life.refusal:
            paragraphs = [f"{REFUSAL} {paragraphs[0]}", *paragraphs[1:]]
        version: dict[str, Any] = {
            "status": "present",
            "asking_member": ASKERS[house][qid % len(ASKERS[house])]["name"],
            "answering_member": MINISTERS[house, dept.id]["name"],
            "answering_body": dept.name,
            "heading": heading,
            "question_text": f"To ask {addressee}{',' if house == 'Commons' else ''} {ask}.",
            "answer_text": "\n\n".join(paragraphs),
            "date_answered": answered,
            "answered_at": datetime.combine(answered, datetime.min.time())
            + timedelta(minutes=rng.randint(540, 1050)),
            "is_holding": False,
            "date_holding_answer": None,
            "is_correction": False,
            "date_corrected": None,
            "is_withdrawn": False,
            "grouped_with": [],
            "correcting_member": None,
            "original_answer_text": None,
            "attachments": [],
            "source_date": None,
            "date_for_answer": life.date_for_answer,
            "is_named_day": life.is_named_day,
            "member_has_interest": False,
            "comparable_answer_text": None,
            "parser": None,
        }
        if life.holding_first:
            version["date_holding_answer"] = add_working_days(tabled, 3)
        if life.fate != "answered":  # no substantive answer: no answer text, date or minister yet
            paragraphs = []
            version.update(answer_text="", date_answered=None, answered_at=None, answering_member=None)
        if life.fate == "holding":
            paragraphs = [HOLDING_REPLY]
            version.update(
                answer_text=HOLDING_REPLY,
                is_holding=True,
                date_holding_answer=life.date_for_answer,
                answering_member=MINISTERS[house, dept.id]["name"],
            )
        version["is_withdrawn"] = life.fate == "withdrawn"
        seen_bodies: set[str] = set()
        moments = [plan.first_seen[index], *plan.later[index]]
        kinds: list[str | None] = ["new", *plan.kinds[index]]
        for seq, (moment, kind) in enumerate(zip(moments, kinds, strict=True), start=1):
            observed = START + timedelta(seconds=moment)
            event: dict[str, Any] | None = None
            if kind == "answer_text_changed":
                old_text = version["answer_text"]
                paragraphs, diff = edit_number(rng, paragraphs)
                version = {**version, "answer_text": "\n\n".join(paragraphs)}
                event = {"field": "answer_text", "old": old_text, "new": version["answer_text"], "diff": diff}
            elif kind == "answer_date_changed":
                old_day = version["date_answered"]
                new_day = old_day + timedelta(days=rng.choice((-2, -1, 1, 2, 7)))
                version = {
                    **version,
                    "date_answered": new_day,
                    "answered_at": version["answered_at"] + (new_day - old_day),
                }
                event = {"field": "date_answered", "old": old_day.isoformat(), "new": new_day.isoformat()}
            elif kind is None:  # an attachment added: a new version, no event
                number = len(version["attachments"]) + 1
                name = f"{question['uin']}_table{number}.xlsx"
                attachment = {
                    "title": f"{question['uin']} - {heading} (table)",
                    "url": f"https://qna.files.parliament.uk/qna-attachments/{question['api_id']}/original/{name}",
                    "file_type": "Microsoft Excel",
                    "size_bytes": rng.randint(12_000, 400_000),
                }
                version = {**version, "attachments": [*version["attachments"], attachment]}
            else:
                event = {"field": ""}
            if life.corrected and seq == plan.versions:
                version = {
                    **version,
                    "is_correction": True,
                    "date_corrected": version["date_answered"] + timedelta(days=21),
                    "correcting_member": version["answering_member"],
                }
            body = _body(question, version, paragraphs, dept)
            body_key = hashlib.sha256(body).hexdigest()
            if body_key not in seen_bodies:  # a date changed and changed back: the body is kept once
                seen_bodies.add(body_key)
                rows["bodies"].append(
                    {
                        "sha256": body_key,
                        "size": len(body),
                        "content_type": "application/json",
                        "data": zlib.compress(body, 6),
                    }
                )
            version_id = (qid - 1) * plan.versions + seq
            rows["versions"].append(
                {
                    **version,
                    "id": version_id,
                    "question_id": qid,
                    "source_id": qid,
                    "seq": seq,
                    "observed_at": observed,
                    "content_hash": _content_hash(version),
                    "body_sha256": body_key,
                }
            )
            if event is not None:
                rows["change_events"].append(
                    {
                        "old": None,
                        "new": None,
                        "diff": None,
                        **event,
                        "id": plan.event_ids[index, seq],
                        "question_id": qid,
                        "version_id": version_id,
                        "kind": kind,
                        "detail": None,
                        "hold_id": None,
                        "source_kind": "api",
                        "source_url": url,
                        "detected_at": observed,
                    }
                )
    return rows


# --- loading ----------------------------------------------------------------------------------


class Loader:
    """One engine's database: created through open_database, loaded batch by batch."""

    name = ""

    def __init__(self, url: str) -> None:
        self.url = url
        self.insert_s = 0.0
        self.derive_s = 0.0
        self.finish_s = 0.0
        self.sessions = open_database(url)
        self.engine: Engine = self.sessions.kw["bind"]

    def load(self, rows: Rows) -> None:
        """Insert one batch in one transaction, then derive its questions' current states as
        change detection does (monitor.changes.current.refresh_current), each timed apart."""
        started = time.perf_counter()
        self._load(rows)
        self.insert_s += time.perf_counter() - started
        started = time.perf_counter()
        with self.sessions.begin() as session:
            refresh_current(session, [question["id"] for question in rows["questions"]])
        self.derive_s += time.perf_counter() - started

    def mark_detected(self) -> None:
        """Say every loaded version was read by detection (its events are loaded with it): the
        detection cursor's low-water mark at the highest version id, as detection leaves it."""
        with self.engine.begin() as connection:
            highest = connection.scalar(select(func.max(Version.id))) or 0
            connection.execute(delete(DetectCursor))
            connection.execute(insert(DetectCursor), [{"name": "changes", "last_version_id": highest}])

    def heal(self) -> float:
        """Fill the current states a database loaded before the table existed lacks, as its first
        detection after the upgrade does; return the seconds it took (0 when nothing lacked)."""
        started = time.perf_counter()
        with self.sessions.begin() as session:
            written = fill_missing_current(session)
        return time.perf_counter() - started if written else 0.0

    def _load(self, rows: Rows) -> None:
        with self.engine.begin() as connection:
            for table in TABLES:
                if rows[table.name]:
                    connection.execute(insert(table), rows[table.name])

    def finish(self) -> None:
        """Whatever follows a bulk load on this engine, timed."""

    def sizes(self) -> dict[str, int]:
        """Return bytes stored: the whole database and the versions and bodies tables."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()


class SqliteLoader(Loader):
    """A SQLite file, loaded with Core executemany."""

    name = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = Path(make_url(url).database or "")

    def _load(self, rows: Rows) -> None:
        with self.engine.begin() as connection:
            # Why: the default 2 MB page cache makes the random inserts into bodies' key index thrash.
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
            for table in TABLES:
                if rows[table.name]:
                    connection.execute(insert(table), rows[table.name])

    def finish(self) -> None:
        """Checkpoint the WAL into the main file (no ANALYZE: pqwatch never runs one)."""
        started = time.perf_counter()
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.finish_s = time.perf_counter() - started

    def sizes(self) -> dict[str, int]:
        """Return the file size and each table's pages (with its indexes) from dbstat."""
        with self.engine.connect() as connection:
            tables = connection.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master").all()
            owners: dict[str, str] = {name: table for name, table in tables}
            pages = connection.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").all()
        sizes = {"database": self.path.stat().st_size}
        for table in ("versions", "bodies", "change_events"):
            sizes[f"{table}_table"] = sum(size for name, size in pages if name == table)
            sizes[f"{table}_indexes"] = sum(
                size for name, size in pages if owners.get(name) == table and name != table
            )
        return sizes


class PostgresLoader(Loader):
    """A PostgreSQL database, loaded with COPY through psycopg."""

    name = "postgresql"
    batches = 0

    def load(self, rows: Rows) -> None:
        """Load a batch; after the 1st, 2nd, 4th, 8th … ANALYZE the tables (timed with `finish`).

        Why: this server runs with autovacuum off, and a planner that still believes the tables
        empty reads the whole of `sources` for every batch's current states (the load slows as
        it grows); a live database's autovacuum keeps its statistics about this fresh."""
        super().load(rows)
        self.batches += 1
        if self.batches & (self.batches - 1) == 0:
            started = time.perf_counter()
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
            self.finish_s += time.perf_counter() - started

    def _load(self, rows: Rows) -> None:
        with self.engine.begin() as connection:
            raw: Any = connection.connection.driver_connection
            with raw.cursor() as cursor:
                for table in TABLES:
                    names = [column.name for column in table.columns]
                    as_json = [isinstance(column.type, JSON) for column in table.columns]
                    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                        for row in rows[table.name]:
                            values = [row[name] for name in names]
                            copy.write_row(
                                [
                                    json.dumps(v) if j and v is not None else v
                                    for v, j in zip(values, as_json, strict=True)
                                ]
                            )

    def finish(self) -> None:
        """Move the id sequences past the loaded ids, put events in id order, VACUUM ANALYZE."""
        started = time.perf_counter()
        with self.engine.begin() as connection:
            for table in ("questions", "sources", "versions", "change_events"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
                )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # Why: events went in question by question; a live table has them in detection (id) order.
            connection.exec_driver_sql("CLUSTER change_events USING change_events_pkey")
            connection.exec_driver_sql("VACUUM ANALYZE")
        self.finish_s += time.perf_counter() - started

    def sizes(self) -> dict[str, int]:
        """Return pg_database_size and each table's heap (with TOAST) and index sizes."""
        sizes: dict[str, int] = {}
        with self.engine.connect() as connection:
            sizes["database"] = connection.scalar(text("SELECT pg_database_size(current_database())")) or 0
            for table in ("versions", "bodies", "change_events"):
                sizes[f"{table}_table"] = connection.scalar(text(f"SELECT pg_table_size('{table}')")) or 0
                sizes[f"{table}_indexes"] = connection.scalar(text(f"SELECT pg_indexes_size('{table}')")) or 0
        return sizes


def _admin_engine(pg_url: str) -> tuple[Engine, str]:
    url = make_url(pg_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = url.database or "pqwatch_scale"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"bench.scale: refusing the database name {name!r}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    return admin, name


def create_pg_database(pg_url: str) -> None:
    """Drop (if there) and create the benchmark's PostgreSQL database."""
    admin, name = _admin_engine(pg_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()


def drop_pg_database(pg_url: str) -> None:
    """Drop the benchmark's PostgreSQL database."""
    admin, name = _admin_engine(pg_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


# --- timing -----------------------------------------------------------------------------------


def run_cli(db_url: str, args: list[str], runs: int) -> dict[str, Any]:
    """Run `pqwatch --db URL args` runs times, output to /dev/null; wall times and peak RSS."""
    walls, peaks = [], []
    env = {k: v for k, v in os.environ.items() if not k.startswith("PQWATCH_")}
    with tempfile.TemporaryDirectory(prefix="pqwatch-scale-cwd-") as cwd:
        errors, usage = Path(cwd) / "stderr", Path(cwd) / "maxrss"
        # Why: a child's own ru_maxrss starts at the RSS of the process that spawned it (this one is
        # large), so GNU time, a small process, spawns pqwatch and reports its peak RSS.
        wrapper = [GNU_TIME, "-f", "%M", "-o", str(usage)] if GNU_TIME else []
        for _ in range(runs):
            with errors.open("wb") as stderr:
                started = time.perf_counter()
                done = subprocess.run(
                    [*wrapper, PQWATCH, "--db", db_url, *args],
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    cwd=cwd,
                    env=env,
                    check=False,
                )
            walls.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"pqwatch {' '.join(args)} failed ({done.returncode}): {errors.read_text()}")
            if GNU_TIME:
                peaks.append(int(usage.read_text().split()[-1]) / 1024)
    return {
        "best_s": round(min(walls), 3),
        "runs_s": [round(w, 3) for w in walls],
        "peak_rss_mib": round(max(peaks)) if peaks else None,
    }


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Return the best wall time of `runs` calls of work and what its last call returned."""
    best, result = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(loader: Loader, since: datetime, runs: int, export_runs: int) -> dict[str, Any]:
    """Time the day's changes (CLI and in-process), the department export, and sizes."""
    sessions = open_database(loader.url)
    day = since.date().isoformat()
    with sessions() as session:
        day_events = (
            session.scalar(
                select(func.count()).select_from(ChangeEvent).where(ChangeEvent.detected_at >= since)
            )
            or 0
        )
        versions = session.scalar(select(func.count(Version.id))) or 0
        total_events = session.scalar(select(func.count(ChangeEvent.id))) or 0
        questions = session.scalar(select(func.count(Question.id))) or 0
        department_questions = (
            session.scalar(
                select(func.count())
                .select_from(Version)
                .where(Version.seq == 1, Version.answering_body.contains(DEPARTMENT))
            )
            or 0
        )

    def day_changes() -> int:
        with sessions() as session:
            return len(list(change_events(session, since=since)))

    query_s, returned = best_of(runs, day_changes)
    print(f"[{loader.name}] changes --since {day}: {returned} events; in-process {query_s:.3f}s", flush=True)
    figures: dict[str, Any] = {
        "day": day,
        "day_events": day_events,
        "day_share_pct": round(100 * day_events / max(1, total_events), 3),
        "changes_in_process_s": round(query_s, 3),
        "changes_cli": run_cli(loader.url, ["changes", "--since", day, "--format", "json"], runs),
        "cli_floor_no_events": run_cli(
            loader.url, ["changes", "--since", "2100-01-01", "--format", "json"], runs
        ),
    }
    print(f"[{loader.name}] changes CLI {figures['changes_cli']}", flush=True)
    if export_runs:
        figures["export_cli"] = run_cli(
            loader.url, ["export", "--department", DEPARTMENT, "--format", "json"], export_runs
        )
        print(f"[{loader.name}] export --department CLI {figures['export_cli']}", flush=True)
    figures["export_questions"] = department_questions
    figures.update(measure_lifecycle(loader, sessions, runs))
    sizes = loader.sizes()
    figures["sizes"] = sizes
    figures.update(versions=versions, questions=questions, events=total_events)
    figures["bytes_per_version"] = {
        "database": round(sizes["database"] / versions),
        "versions_and_bodies": round(
            sum(sizes[f"{t}_{p}"] for t in ("versions", "bodies") for p in ("table", "indexes")) / versions
        ),
        "versions_table": round(sizes["versions_table"] / versions),
        "versions_table_and_indexes": round((sizes["versions_table"] + sizes["versions_indexes"]) / versions),
        "bodies_table_and_indexes": round((sizes["bodies_table"] + sizes["bodies_indexes"]) / versions),
        "change_events_table_and_indexes": round(
            (sizes["change_events_table"] + sizes["change_events_indexes"]) / versions
        ),
    }
    return figures


def measure_lifecycle(loader: Loader, sessions: Any, runs: int) -> dict[str, Any]:
    """Time `pqwatch stats` and `pqwatch overdue` (CLI and in-process) and say how much work
    the data gives them: bodies, answered, late answers, holding, corrections, overdue."""
    today = london_today()
    with sessions() as session:
        rows = session.execute(
            select(
                func.count(),
                func.count(QuestionCurrent.working_days_to_answer),
                func.count(QuestionCurrent.unanswered_due),
                func.sum(case((QuestionCurrent.answered_on_time.is_(False), 1), else_=0)),
                func.sum(case((QuestionCurrent.is_named_day.is_(True), 1), else_=0)),
                func.sum(case((QuestionCurrent.held.is_(True), 1), else_=0)),
                func.sum(case((QuestionCurrent.is_correction.is_(True), 1), else_=0)),
                func.sum(case((QuestionCurrent.is_withdrawn.is_(True), 1), else_=0)),
                func.count(QuestionCurrent.non_answer),
            )
        ).one()
    names = "states answered awaiting late_answers named_day holding corrected withdrawn non_answers".split()
    work = {name: int(value or 0) for name, value in zip(names, rows, strict=True)}

    def stats_rows() -> int:
        with sessions() as session:
            return len(timeliness(session))

    def overdue_rows() -> int:
        with sessions() as session:
            return len(overdue_views(session, today))

    stats_s, bodies = best_of(runs, stats_rows)
    overdue_s, late = best_of(runs, overdue_rows)
    figures: dict[str, Any] = {
        "lifecycle": {**work, "bodies": bodies, "overdue": late},
        "stats_in_process_s": round(stats_s, 3),
        "overdue_in_process_s": round(overdue_s, 3),
        "stats_cli": run_cli(loader.url, ["stats", "--format", "json"], runs),
        "stats_filtered_cli": run_cli(loader.url, [*STATS_FILTERED, "--format", "csv"], runs),
        "overdue_cli": run_cli(loader.url, ["overdue"], runs),
        "overdue_json_cli": run_cli(loader.url, ["overdue", "--format", "json"], runs),
    }
    print(
        f"[{loader.name}] stats: {bodies} bodies, in-process {stats_s:.3f}s, CLI {figures['stats_cli']};"
        f" overdue: {late} questions, in-process {overdue_s:.3f}s, CLI {figures['overdue_cli']}",
        flush=True,
    )
    return figures


# --- main -------------------------------------------------------------------------------------


def batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    """Yield (start, stop) question ranges of at most size questions."""
    for start in range(0, n, size):
        yield start, min(n, start + size)


def print_table(figures: dict[str, Any]) -> None:
    """Print the headline figures, one column per engine."""
    engines = figures["engines"]
    lines: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("load: insert s", lambda e: e.get("load", {}).get("insert_s", "-")),
        ("load: finish s", lambda e: e.get("load", {}).get("finish_s", "-")),
        ("load: questions/s (insert only)", lambda e: e.get("load", {}).get("questions_per_s", "-")),
        ("events on the last day", lambda e: e["day_events"]),
        ("  share of all events %", lambda e: e["day_share_pct"]),
        ("changes --since day, in-process s", lambda e: e["changes_in_process_s"]),
        ("changes --since day, CLI best s", lambda e: e["changes_cli"]["best_s"]),
        ("CLI floor (no events) best s", lambda e: e["cli_floor_no_events"]["best_s"]),
        ("export --department, CLI best s", lambda e: e.get("export_cli", {}).get("best_s", "-")),
        ("export peak RSS MiB", lambda e: e.get("export_cli", {}).get("peak_rss_mib", "-")),
        ("load: derive current states s", lambda e: e.get("load", {}).get("derive_s", "-")),
        ("heal (upgraded database) s", lambda e: e.get("heal_s", "-")),
        ("stats, in-process s", lambda e: e["stats_in_process_s"]),
        ("stats --format json, CLI best s", lambda e: e["stats_cli"]["best_s"]),
        ("stats --house --tabled-from, CLI s", lambda e: e["stats_filtered_cli"]["best_s"]),
        ("stats peak RSS MiB", lambda e: e["stats_cli"]["peak_rss_mib"]),
        ("overdue questions", lambda e: e["lifecycle"]["overdue"]),
        ("overdue, in-process s", lambda e: e["overdue_in_process_s"]),
        ("overdue (text), CLI best s", lambda e: e["overdue_cli"]["best_s"]),
        ("overdue --format json, CLI best s", lambda e: e["overdue_json_cli"]["best_s"]),
        ("overdue peak RSS MiB", lambda e: e["overdue_cli"]["peak_rss_mib"]),
        ("questions in the department", lambda e: e["export_questions"]),
        ("database MiB", lambda e: round(e["sizes"]["database"] / 2**20)),
        ("bytes/version: database", lambda e: e["bytes_per_version"]["database"]),
        ("bytes/version: versions+bodies", lambda e: e["bytes_per_version"]["versions_and_bodies"]),
        ("bytes/version: versions table", lambda e: e["bytes_per_version"]["versions_table"]),
        ("bytes/version: versions + indexes", lambda e: e["bytes_per_version"]["versions_table_and_indexes"]),
        ("bytes/version: bodies + index", lambda e: e["bytes_per_version"]["bodies_table_and_indexes"]),
        (
            "bytes/version: events + indexes",
            lambda e: e["bytes_per_version"]["change_events_table_and_indexes"],
        ),
    ]
    names = list(engines)
    counts = (
        f"{figures['questions']:,} questions, {figures['versions']:,} versions, {figures['events']:,} events"
    )
    print(f"\n{counts}")
    print(f"{'':40}" + "".join(f"{name:>14}" for name in names))
    for label, value in lines:
        print(f"{label:40}" + "".join(f"{value(engines[name])!s:>14}" for name in names))


def load(loaders: list[Loader], args: argparse.Namespace) -> dict[str, Any]:
    """Generate the questions batch by batch and load every batch into every database."""
    rng = random.Random(args.seed)
    started = time.perf_counter()
    plan = make_plan(args.questions, args.versions, args.change_rate, rng)
    plan.seed = args.seed
    plan_s = time.perf_counter() - started
    print(f"plan: {args.questions:,} questions, {plan.event_count:,} events ({plan_s:.1f}s)", flush=True)
    generate_s = 0.0
    step = max(1, args.questions // 20)
    next_report = step
    for start, stop in batches(args.questions, args.batch):
        began = time.perf_counter()
        rows = build_rows(plan, start, stop, rng)
        generate_s += time.perf_counter() - began
        for loader in loaders:
            loader.load(rows)
        if stop >= next_report or stop == args.questions:
            next_report += step
            parts = ", ".join(f"{x.name} {x.insert_s:.0f}s + derive {x.derive_s:.0f}s" for x in loaders)
            print(
                f"loaded {stop:,}/{args.questions:,} questions in {time.perf_counter() - started:.0f}s"
                f" (generate {generate_s:.0f}s, {parts})",
                flush=True,
            )
    for loader in loaders:
        loader.mark_detected()
        loader.finish()
    return {"plan_s": round(plan_s, 1), "generate_s": round(generate_s, 1)}


def main() -> None:
    """Build the databases, time the commands, print and save the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=500_000)
    parser.add_argument("--versions", type=int, default=3, help="versions per question (at least 1)")
    parser.add_argument("--change-rate", type=float, default=0.5, help="text/date change events per question")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/pqwatch_scale")
    parser.add_argument("--sqlite-dir", help="where the SQLite file goes (default: a temporary folder)")
    parser.add_argument("--batch", type=int, default=2000, help="questions per insert transaction")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timed command (best is kept)")
    parser.add_argument("--export-runs", type=int, default=3, help="runs of the export (0: skip it)")
    parser.add_argument("--seed", type=int, default=20250303)
    parser.add_argument("--keep", action="store_true", help="keep the databases (their URLs are printed)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time databases kept by an earlier --keep run (needs --sqlite-dir)",
    )
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if args.versions < 1 or args.questions < 1 or not set(engines) <= {"sqlite", "postgresql"}:
        parser.error("--versions and --questions must be at least 1; --engines takes sqlite,postgresql")
    if args.reuse and "sqlite" in engines and not args.sqlite_dir:
        parser.error("--reuse needs the --sqlite-dir of the kept SQLite file")
    folder = Path(args.sqlite_dir or tempfile.mkdtemp(prefix="pqwatch-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    sqlite_path = folder / "scale.sqlite3"
    if args.reuse and "sqlite" in engines and not sqlite_path.exists():
        parser.error(f"--reuse: no {sqlite_path}")
    if not args.reuse:
        for stale in folder.glob("scale.sqlite3*"):
            stale.unlink()
    loaders: list[Loader] = []
    keep = args.keep or args.reuse
    try:
        if "sqlite" in engines:
            loaders.append(SqliteLoader(f"sqlite:///{sqlite_path}"))
        if "postgresql" in engines:
            if not args.reuse:
                create_pg_database(args.pg_url)
            loaders.append(PostgresLoader(args.pg_url))
        figures: dict[str, Any] = {"change_rate": args.change_rate, "seed": args.seed, "reused": args.reuse}
        if not args.reuse:
            figures.update(load(loaders, args))
        figures["engines"] = {}
        since = START + timedelta(days=DAYS - 1)
        for loader in loaders:
            result: dict[str, Any] = {"url": loader.url}
            if not args.reuse:
                result["load"] = {
                    "insert_s": round(loader.insert_s, 1),
                    "derive_s": round(loader.derive_s, 1),
                    "finish_s": round(loader.finish_s, 1),
                    "questions_per_s": round(args.questions / loader.insert_s),
                }
            else:  # a database kept from before the current-state table: its upgrade's first detection
                loader.mark_detected()
                result["heal_s"] = round(loader.heal(), 1)
            result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            result.update(measure(loader, since, args.runs, args.export_runs))
            figures["engines"][loader.name] = result
        first = next(iter(figures["engines"].values()))
        figures.update(
            questions=first["questions"], versions=first["versions"], events=first["events"], commit=_commit()
        )
        print_table(figures)
        OUT.mkdir(exist_ok=True)
        (OUT / "scale.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nwrote {OUT / 'scale.json'}")
    finally:
        for loader in loaders:
            loader.close()
        if keep:
            for loader in loaders:
                print(f"kept {loader.url}")
        else:
            if "postgresql" in engines:
                drop_pg_database(args.pg_url)
            if args.sqlite_dir:
                for stale in folder.glob("scale.sqlite3*"):
                    stale.unlink()
            else:
                shutil.rmtree(folder, ignore_errors=True)


def _commit() -> str | None:
    """The git commit of the code measured (None outside a checkout)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=OUT.parent, check=False
    )
    return done.stdout.strip() or None


if __name__ == "__main__":
    main()
