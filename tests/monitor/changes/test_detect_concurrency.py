"""Change detection under concurrent writers: every committed version is read exactly once, however
late its transaction commits (the real PostgreSQL where PQWATCH_TEST_PG_URL is set, and SQLite)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from monitor.changes.detect import detect, detect_changes
from storage.models import ChangeEvent, DetectCursor, DetectedVersion, Version
from storage.record import record_page
from tests.support.helpers import ANSWER

T = [datetime(2026, 11, d, 9, 0) for d in range(1, 6)]
LATE = replace(ANSWER, uin="HL1001")
EARLY = replace(ANSWER, uin="HL1002")


def _store(session, answer, url, at=T[0]):
    record_page(session, source_kind="blog", url=url, answers=[answer], observed_at=at)


def _events_by_version(sessions) -> dict[int, int]:
    with sessions() as s:
        rows = s.execute(select(ChangeEvent.version_id, func.count()).group_by(ChangeEvent.version_id))
        return {version_id: count for version_id, count in rows}


def _mark(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(DetectCursor.last_version_id)) or 0


def test_a_version_committed_late_behind_a_higher_id_is_still_detected(sessions) -> None:
    engine = sessions.kw["bind"]
    postgres = engine.dialect.name == "postgresql"
    late = sessions()
    late.begin()
    _store(late, LATE, "https://blog.example/late/")  # holds its version, uncommitted
    late_id = late.scalar(select(Version.id).order_by(Version.id.desc()).limit(1))
    if postgres:
        # A second writer commits a higher id while the first still holds its own.
        with sessions.begin() as s:
            _store(s, EARLY, "https://blog.example/early/")
        with sessions() as s:
            assert s.scalar(select(func.max(Version.id))) > late_id
        with sessions.begin() as s:
            assert detect_changes(s, now=T[1]) == 1  # the committed one
        assert _mark(sessions) < late_id  # the mark waits for the writer in flight
        late.commit()
        late.close()
        with sessions.begin() as s:
            assert detect_changes(s, now=T[2]) == 1  # the late one, found
    else:
        # SQLite has one writer at a time: detection waits for the open write, never skips it.
        found: list[int] = []
        worker = threading.Thread(target=lambda: found.append(_detect_once(sessions, T[1])))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and not found
        late.commit()
        late.close()
        worker.join(10)
        assert found == [1]
    with sessions.begin() as s:
        assert detect_changes(s, now=T[3]) == 0  # each version exactly once
    counts = _events_by_version(sessions)
    assert counts[late_id] == 1
    assert sum(counts.values()) == (2 if postgres else 1)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(DetectedVersion)) == s.scalar(
            select(func.count()).select_from(Version)
        )
    with sessions.begin() as s:
        detect_changes(s, now=T[4])
    with sessions() as s:  # with no writer in flight, the mark rises to the top
        assert _mark(sessions) == s.scalar(select(func.max(Version.id)))


def _detect_once(sessions, at):
    with sessions.begin() as s:
        return detect_changes(s, now=at)


def test_two_detections_at_once_do_not_both_read_a_version(sessions) -> None:
    with sessions.begin() as s:
        _store(s, ANSWER, "https://blog.example/one/")
    first = sessions()
    first.begin()
    assert detect(first, now=T[1]).events == 1  # holds the detection lock until it commits
    found: list[int] = []
    worker = threading.Thread(target=lambda: found.append(_detect_once(sessions, T[2])))
    worker.start()
    worker.join(0.5)
    assert worker.is_alive() and not found  # the second waits for the first
    first.commit()
    first.close()
    worker.join(10)
    assert found == [0]
    assert sum(_events_by_version(sessions).values()) == 1


def test_an_old_cursor_counts_the_versions_below_it_as_detected(sessions):
    with sessions.begin() as s:
        _store(s, ANSWER, "https://blog.example/one/")
        _store(s, EARLY, "https://blog.example/two/")
        top = s.scalar(select(func.max(Version.id)))
        # A database from before the markers: its cursor had read everything up to `top`.
        s.add(DetectCursor(name="changes", last_version_id=top))
    with sessions.begin() as s:
        _store(s, LATE, "https://blog.example/three/")
    with sessions.begin() as s:
        assert detect_changes(s, now=T[1]) == 1  # only the version above the old cursor
    with sessions() as s:
        assert [e.version_id for e in s.scalars(select(ChangeEvent))] == [top + 1]
