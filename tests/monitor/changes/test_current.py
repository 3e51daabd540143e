"""The current-state table (monitor.changes.current) stays the current view's as versions arrive
(tabled, holding, answered, corrected, withdrawn, a blog copy filling gaps), heals when rows are
missing, and `pqwatch stats` and `pqwatch overdue` read from it the figures the views themselves
give, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session

from monitor.changes.current import derive_states, fill_missing_current, pending_question_ids
from monitor.changes.deadlines import still_open
from monitor.changes.detect import detect
from monitor.changes.lifecycle import is_working_day, working_days_between
from monitor.queries.export import overdue_views
from monitor.queries.stats import _median, tally, timeliness
from monitor.queries.views import QuestionView, current_views
from spiders.records import AnswerRecord
from spiders.registry import OFFICIAL_KINDS
from storage.db import create_db_engine, upgrade
from storage.models import Question, QuestionCurrent
from storage.record import record_gone, record_page

API = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/"
BLOG = "https://answers.example.net/2026/12/"
TODAY = date(2026, 12, 10)


def _question(uin: str = "7926", **fields: object) -> AnswerRecord:
    base: dict[str, object] = {
        "house": "Commons",
        "uin": uin,
        "date_tabled": date(2026, 11, 27),  # a Friday
        "question_text": f"To ask the Secretary of State for Education, question {uin}.",
        "answer_text": "",
        "answering_body": "Department for Education",
        "date_for_answer": date(2026, 12, 2),  # the Wednesday after
        "is_named_day": True,
    }
    return AnswerRecord(**{**base, **fields})  # type: ignore[arg-type]


def _record(sessions, answer: AnswerRecord, at: datetime, url: str, kind: str = "api") -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        record_page(session, source_kind=kind, url=url, answers=[answer], observed_at=at)


def _detect(sessions, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        detect(session, at)


def _row(sessions, uin: str) -> QuestionCurrent:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(
            select(QuestionCurrent)
            .join(Question, Question.id == QuestionCurrent.question_id)
            .where(Question.uin == uin)
        ).one()


def reference_overdue(
    session: Session, today: date, department: str | None = None, house: str | None = None
) -> list[QuestionView]:
    """`pqwatch overdue` as it was before the table: every open question's view judged in Python."""
    query = select(Question.id).where(still_open())
    if house:
        query = query.where(Question.house == house)
    candidates = set(session.scalars(query))
    if not candidates:
        return []
    late = [
        view
        for view in current_views(session, department=department, question_ids=candidates)
        if not view.answered
        and not view.is_withdrawn
        and (due := view.due()) is not None
        and due < today
        and any(source.kind in OFFICIAL_KINDS for source in view.sources)
    ]
    return sorted(late, key=lambda view: (view.due() or today, view.house, view.uin))


def reference_stats(
    session: Session, house: str | None = None, tabled_from: date | None = None, tabled_to: date | None = None
) -> list[dict[str, object]]:
    """`pqwatch stats` from every question's view, as it was before the table."""
    query = select(Question.id)
    if house:
        query = query.where(Question.house == house)
    if tabled_from:
        query = query.where(Question.date_tabled >= tabled_from)
    if tabled_to:
        query = query.where(Question.date_tabled <= tabled_to)
    ids = set(session.scalars(query))
    return [body.as_json() for body in tally(current_views(session, question_ids=ids) if ids else ())]


def assert_agree(sessions, today: date = TODAY) -> None:  # type: ignore[no-untyped-def]
    """The figures and the overdue list from the table are those of the views."""
    with sessions() as session:
        for house in (None, "Commons", "Lords"):
            for bounds in ((None, None), (date(2026, 11, 1), None), (None, date(2026, 11, 30))):
                found = timeliness(session, house=house, tabled_from=bounds[0], tabled_to=bounds[1])
                fast = [body.as_json() for body in found]
                assert fast == reference_stats(session, house, *bounds), (house, bounds)
            for department in (None, "education", "home"):
                fast_late = [
                    v.question_id for v in overdue_views(session, today, department=department, house=house)
                ]
                slow_late = [v.question_id for v in reference_overdue(session, today, department, house)]
                assert fast_late == slow_late, (house, department)


def assert_rows_fresh(sessions) -> None:  # type: ignore[no-untyped-def]
    """Every question has its row, and each row is what its versions say now."""
    with sessions() as session:
        assert pending_question_ids(session) == set()
        ids = set(session.scalars(select(Question.id)))
        stored = {row.question_id: row for row in session.scalars(select(QuestionCurrent))}
        assert set(stored) == ids
        for state in derive_states(session, ids):
            row = stored[state.question_id]
            assert {name: getattr(row, name) for name in asdict(state)} == asdict(state)


def test_the_row_follows_a_question_from_tabled_through_holding_answered_and_corrected(sessions):
    question = _question()
    _record(sessions, question, datetime(2026, 11, 27, 12, 0), API + "1")
    _detect(sessions, datetime(2026, 11, 27, 12, 5))
    row = _row(sessions, "7926")
    due = date(2026, 12, 2)
    assert (row.copies, row.official, row.answered, row.due_date, row.unanswered_due) == (
        1,
        True,
        False,
        due,
        due,
    )
    assert_agree(sessions)

    reply = "I will reply as soon as possible."
    holding = replace(question, answer_text=reply, is_holding=True, date_holding_answer=due)
    _record(sessions, holding, datetime(2026, 12, 2, 12, 0), API + "1")
    _detect(sessions, datetime(2026, 12, 2, 12, 5))
    row = _row(sessions, "7926")
    # A holding answer does not stop the clock: still awaiting its answer, and late from the 3rd.
    assert (row.is_holding, row.held, row.answered, row.unanswered_due) == (
        True,
        True,
        False,
        date(2026, 12, 2),
    )
    assert row.non_answer == "holding_as_soon_as_possible"
    assert_agree(sessions)

    reply = "The department funds 12 hubs."
    answered = replace(holding, answer_text=reply, is_holding=False, date_answered=date(2026, 12, 4))
    _record(sessions, answered, datetime(2026, 12, 4, 17, 0), API + "1")
    _detect(sessions, datetime(2026, 12, 4, 17, 5))
    row = _row(sessions, "7926")
    # Tabled Friday 27 November, answered Friday 4 December: 5 working days, after its named day.
    assert (row.answered, row.working_days_to_answer, row.answered_on_time) == (True, 5, False)
    assert (row.held, row.unanswered_due) == (True, None)
    assert row.non_answer is None
    assert_agree(sessions)

    reply = "The department funds 14 hubs."
    corrected = replace(answered, answer_text=reply, is_correction=True, date_corrected=date(2026, 12, 8))
    _record(sessions, corrected, datetime(2026, 12, 8, 10, 0), API + "1")
    _detect(sessions, datetime(2026, 12, 8, 10, 5))
    assert _row(sessions, "7926").is_correction
    assert_agree(sessions)
    assert_rows_fresh(sessions)


def test_a_withdrawal_and_a_blog_copy_filling_what_the_record_lacks(sessions):
    at = datetime(2026, 12, 1, 9, 0)
    _record(sessions, _question("100", answering_body=None), at, API + "100")
    _record(sessions, _question("101"), at, API + "101")
    _detect(sessions, at)
    assert _row(sessions, "100").answering_body is None
    assert _row(sessions, "101").unanswered_due == date(2026, 12, 2)

    # The blog names the department the record leaves out, and carries 101's answer before it does.
    _record(
        sessions, _question("100", answering_body="Home Office"), at + timedelta(hours=1), BLOG + "a/", "blog"
    )
    answer = _question("101", answer_text="Figures are published.", date_answered=date(2026, 12, 3))
    _record(sessions, answer, at + timedelta(hours=1), BLOG + "b/", "blog")
    _detect(sessions, at + timedelta(hours=2))
    row = _row(sessions, "100")
    assert (row.answering_body, row.copies, row.official) == ("Home Office", 2, True)
    row = _row(sessions, "101")
    assert (row.answered, row.working_days_to_answer, row.unanswered_due) == (True, 4, None)
    assert_agree(sessions)

    _record(
        sessions,
        _question("100", answering_body=None, is_withdrawn=True),
        at + timedelta(days=1),
        API + "100",
    )
    _detect(sessions, at + timedelta(days=1))
    row = _row(sessions, "100")
    assert (row.is_withdrawn, row.unanswered_due) == (True, None)
    # The blog post goes (404): the view keeps its last good copy, and the row with it.
    with sessions.begin() as session:
        record_gone(session, url=BLOG + "a/", observed_at=at + timedelta(days=2))
    _detect(sessions, at + timedelta(days=2))
    assert _row(sessions, "100").answering_body == "Home Office"
    assert_agree(sessions)
    assert_rows_fresh(sessions)


def test_readers_never_trust_a_row_older_than_the_versions_or_a_missing_one(sessions):
    at = datetime(2026, 12, 1, 9, 0)
    # Stored, never detected: no rows yet, and the figures are already right.
    _record(sessions, _question("200"), at, API + "200")
    # A Lords question with no due date of its own: due 10 working days after tabling, 27 November.
    lords = _question(
        "HL201", house="Lords", date_tabled=date(2026, 11, 13), date_for_answer=None, is_named_day=None
    )
    _record(sessions, lords, at, API + "201")
    assert_agree(sessions)
    _detect(sessions, at)
    # Answered after the last detection: the stale row is set aside until the next one.
    answered = _question("200", answer_text="Done.", date_answered=date(2026, 12, 1))
    _record(sessions, answered, at + timedelta(hours=3), API + "200")
    with sessions() as session:
        assert len(pending_question_ids(session)) == 1
        assert [v.uin for v in overdue_views(session, TODAY)] == ["HL201"]
    assert_agree(sessions)
    _detect(sessions, at + timedelta(hours=4))
    assert_rows_fresh(sessions)


def test_a_database_without_rows_heals_on_its_next_detection(sessions):
    at = datetime(2026, 12, 1, 9, 0)
    for number in range(5):
        _record(sessions, _question(str(300 + number)), at, API + str(300 + number))
    _detect(sessions, at)
    with sessions.begin() as session:  # as an upgrade leaves it: every version read, no rows
        session.execute(delete(QuestionCurrent))
    with sessions() as session:
        assert len(pending_question_ids(session)) == 5
    assert_agree(sessions)
    _detect(sessions, at + timedelta(hours=1))
    assert_rows_fresh(sessions)
    with sessions.begin() as session:
        assert fill_missing_current(session) == 0  # nothing left to fill: two counts, no anti-join


def test_random_histories_give_the_views_figures(sessions):
    rng = random.Random(14)
    bodies = ["Home Office", "Department for Education", None]
    at = datetime(2026, 11, 2, 9, 0)
    for step in range(160):
        number = rng.randrange(40)
        house = "Lords" if number % 3 == 0 else "Commons"
        uin = f"HL{number}" if house == "Lords" else str(number)
        tabled = date(2026, 11, 2) + timedelta(days=number % 20)
        answered = rng.random() < 0.5
        fields: dict[str, object] = {
            "house": house,
            "date_tabled": tabled,
            "answering_body": rng.choice(bodies),
            "date_for_answer": rng.choice([None, tabled + timedelta(days=rng.randint(2, 12))]),
            "is_named_day": rng.choice([None, False, True]),
            "is_holding": rng.random() < 0.15,
            "date_holding_answer": rng.choice([None, None, tabled + timedelta(days=3)]),
            "is_correction": rng.random() < 0.1,
            "is_withdrawn": rng.random() < 0.05,
        }
        if answered:
            fields["answer_text"] = rng.choice(
                [
                    "The information is not held centrally.",
                    "We fund 12 hubs.",
                    "I will write to the hon. Member.",
                ]
            )
            fields["date_answered"] = tabled + timedelta(days=rng.randint(1, 20))
        kind, url = ("blog", f"{BLOG}{number % 7}/") if rng.random() < 0.3 else ("api", f"{API}{number}")
        at += timedelta(hours=rng.randint(1, 30))
        with sessions.begin() as session:
            answers = [_question(uin, **fields)]
            record_page(session, source_kind=kind, url=url, answers=answers, observed_at=at, complete=False)
        if rng.random() < 0.3:
            _detect(sessions, at)
        if step % 40 == 39:
            assert_agree(sessions, TODAY)
            assert_agree(sessions, date(2026, 11, 20))
    _detect(sessions, at)
    assert_rows_fresh(sessions)
    assert_agree(sessions)


def test_the_median_of_a_histogram_is_statistics_median():
    rng = random.Random(7)
    for _ in range(300):
        values = [rng.randint(0, 12) for _ in range(rng.randint(1, 9))]
        assert _median(Counter(values)) == statistics.median(values)
    assert _median(Counter()) is None


def test_working_days_between_counts_what_a_walk_over_the_days_counts():
    rng = random.Random(5)
    for _ in range(3000):
        start = date(2018, 1, 1) + timedelta(days=rng.randrange(3300))
        end = start + timedelta(days=rng.randrange(-20, 800))
        walked = sum(is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))
        assert working_days_between(start, end) == walked


def test_the_migration_gives_the_table_every_column_of_the_model(db_url):
    engine = create_db_engine(db_url)
    upgrade(engine)
    columns = {
        column["name"]: column["nullable"] for column in inspect(engine).get_columns("question_current")
    }
    indexes = {index["name"] for index in inspect(engine).get_indexes("question_current")}
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(QuestionCurrent)) == 0
    engine.dispose()
    model = {column.name: column.nullable for column in QuestionCurrent.__table__.columns}
    assert columns == model
    assert "ix_question_current_unanswered_due" in indexes
