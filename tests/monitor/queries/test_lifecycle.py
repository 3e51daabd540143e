"""A question's life: working days (England and Wales bank holidays), due dates, on time or late,
its status, the official record's due-date fields, and `pqwatch overdue`."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from monitor.changes.lifecycle import (
    Lifecycle,
    add_working_days,
    answered_on_time,
    due_date,
    is_working_day,
    lifecycle_status,
    working_days_between,
)
from monitor.cli.commands import main
from spiders.records import AnswerRecord
from spiders.sources.api.parse import parse_question
from storage.record import record_page

# The reference's real API record (shared/reference/api-question-detail-sample.json), kept as a fixture.
REFERENCE = Path(__file__).parents[2] / "fixtures" / "api" / "detail-1679416.json"
SEEN = datetime(2026, 12, 1, 9, 0)


def test_working_days_skip_weekends_and_england_and_wales_bank_holidays():
    # Easter 2024: Good Friday 29 March and Easter Monday 1 April are bank holidays.
    assert not is_working_day(date(2024, 3, 29)) and not is_working_day(date(2024, 4, 1))
    assert not is_working_day(date(2024, 3, 30))  # a Saturday
    assert working_days_between(date(2024, 3, 27), date(2024, 4, 2)) == 2  # 28 March, 2 April
    assert add_working_days(date(2024, 3, 28), 1) == date(2024, 4, 2)
    # Christmas 2026: 25 December is a Friday, Boxing Day's holiday moves to Monday 28th.
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert working_days_between(date(2024, 1, 5), date(2024, 1, 5)) == 0


def test_the_official_record_carries_its_due_date_and_flags_and_was_answered_on_time():
    record = parse_question(json.loads(REFERENCE.read_text()), date(2026, 12, 3))
    assert (record.date_for_answer, record.is_named_day, record.member_has_interest) == (
        date(2024, 1, 10),
        True,
        False,
    )
    assert record.comparable_answer_text is None  # "" in the record
    # Tabled Friday 5 January, a named day of Wednesday 10th, answered that day: 3 working days.
    assert answered_on_time("Commons", record.date_tabled, record.date_answered, date(2024, 1, 10), True)
    assert working_days_between(date(2024, 1, 5), date(2024, 1, 10)) == 3


@pytest.mark.parametrize(
    ("house", "answered", "for_answer", "named", "on_time"),
    [
        ("Commons", date(2024, 1, 10), date(2024, 1, 10), True, True),  # on its named day
        ("Commons", date(2024, 1, 11), date(2024, 1, 10), True, False),  # a day after it
        ("Commons", date(2024, 1, 12), date(2024, 1, 9), False, True),  # ordinary: 5 working days
        ("Commons", date(2024, 1, 15), date(2024, 1, 9), False, False),  # 6 working days
        ("Lords", date(2024, 1, 19), None, None, True),  # 10 working days
        ("Lords", date(2024, 1, 22), None, None, False),  # 11
        ("Lords", None, None, None, None),  # not answered yet
    ],
)
def test_on_time_by_each_houses_rule(house, answered, for_answer, named, on_time):
    assert answered_on_time(house, date(2024, 1, 5), answered, for_answer, named) is on_time


def test_a_due_date_is_the_records_own_else_the_houses_rule():
    assert due_date("Commons", date(2024, 1, 5), date(2024, 1, 9)) == date(2024, 1, 9)
    assert due_date("Commons", date(2024, 1, 5), None) == date(2024, 1, 12)
    assert due_date("Lords", date(2024, 1, 5), None) == date(2024, 1, 19)
    assert due_date("Lords", None, None) is None


def test_the_status_on_a_given_day():
    due = date(2024, 1, 10)

    def status(today: date, **flags: bool) -> Lifecycle:
        found = {"answered": False, "is_holding": False, "is_correction": False, "is_withdrawn": False}
        return lifecycle_status(today=today, due=due, **{**found, **flags})

    assert status(date(2024, 1, 9)) == Lifecycle.TABLED
    assert status(date(2024, 1, 10)) == Lifecycle.DUE_TODAY
    assert status(date(2024, 1, 11)) == Lifecycle.OVERDUE
    assert status(date(2024, 1, 11), is_holding=True) == Lifecycle.HOLDING
    assert status(date(2024, 1, 11), answered=True) == Lifecycle.ANSWERED
    assert status(date(2024, 1, 11), answered=True, is_correction=True) == Lifecycle.CORRECTED
    assert status(date(2024, 1, 11), is_withdrawn=True) == Lifecycle.WITHDRAWN


def _question(uin: str, tabled: date, **fields: object) -> AnswerRecord:
    base: dict[str, object] = {
        "house": "Commons",
        "uin": uin,
        "date_tabled": tabled,
        "question_text": f"To ask the Secretary of State, question {uin}.",
        "answer_text": "",
        "answering_body": "Home Office",
        "heading": f"Heading {uin}",
    }
    return AnswerRecord(**{**base, **fields})  # type: ignore[arg-type]


def test_overdue_lists_what_is_late_now_the_longest_overdue_first(sessions, db_url, capsys):
    questions = [
        _question("101", date(2024, 2, 1), date_for_answer=date(2024, 2, 6)),
        _question("102", date(2024, 1, 2), date_for_answer=date(2024, 1, 8), is_named_day=True),
        _question("103", date(2024, 1, 2), answer_text="An answer.", date_answered=date(2024, 1, 5)),
        _question("104", date(2024, 1, 2), is_withdrawn=True),
        _question(
            "105",
            date(2024, 1, 3),
            answer_text="I will reply as soon as possible.",
            is_holding=True,
            date_holding_answer=date(2024, 1, 9),
            answering_body="Cabinet Office",
        ),  # fmt: skip
        _question("106", date(2099, 1, 2), date_for_answer=date(2099, 1, 9)),  # not due yet
    ]
    for number, question in enumerate(questions):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[question],
                        observed_at=SEEN)  # fmt: skip
    assert main(["--db", db_url, "overdue"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1].split(",")[0] for line in lines] == [
        "Commons 102",
        "Commons 105",
        "Commons 101",
    ]
    assert lines[0].startswith("due 2024-01-08 (named day), ")
    assert ", holding answer:" in lines[1] and "Cabinet Office" in lines[1]
    assert main(["--db", db_url, "overdue", "--department", "cabinet", "--format", "json"]) == 0
    [late] = json.loads(capsys.readouterr().out)
    assert (late["uin"], late["status"], late["due_date"], late["answered_on_time"], late["non_answer"]) == (
        "105",
        "holding",
        "2024-01-10",
        None,
        "holding_as_soon_as_possible",
    )
    assert main(["--db", db_url, "overdue", "--house", "Lords"]) == 0
    assert capsys.readouterr().out == "nothing is overdue\n"


def test_stats_count_each_answering_body(sessions, db_url, capsys):
    questions = [
        # Home Office: one ordinary answer on time (3 working days), one late (6), one named day on time.
        _question("201", date(2024, 1, 5), answer_text="Figures follow.", date_answered=date(2024, 1, 10)),
        _question(
            "202",
            date(2024, 1, 5),
            answer_text="This information is not held centrally.",
            date_answered=date(2024, 1, 15),
        ),  # fmt: skip
        _question(
            "203",
            date(2024, 1, 5),
            answer_text="Done.",
            date_answered=date(2024, 1, 9),
            date_for_answer=date(2024, 1, 9),
            is_named_day=True,
            date_holding_answer=date(2024, 1, 8),
        ),  # fmt: skip
        _question("204", date(2024, 1, 5), is_withdrawn=True),
        _question("205", date(2024, 1, 5), answering_body="Cabinet Office"),
        _question("206", date(2023, 1, 5), answering_body="Cabinet Office"),  # before the range
    ]
    for number, question in enumerate(questions):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[question],
                        observed_at=SEEN)  # fmt: skip
    assert main(["--db", db_url, "stats", "--tabled-from", "2024-01-01", "--format", "json"]) == 0
    home, cabinet = json.loads(capsys.readouterr().out)
    assert home == {
        "answering_body": "Home Office",
        "questions": 4,
        "answered": 3,
        "on_time_ordinary_pct": 50.0,
        "on_time_named_day_pct": 100.0,
        "median_working_days": 3,
        "holding_rate_pct": 25.0,
        "correction_rate_pct": 0.0,
        "withdrawn": 1,
        "non_answer_rate_pct": 33.3,
    }
    assert (cabinet["answering_body"], cabinet["questions"], cabinet["answered"]) == ("Cabinet Office", 1, 0)
    assert main(["--db", db_url, "stats", "--format", "csv"]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .startswith("answering_body,questions,answered,on_time_ordinary_pct")
    )
    assert main(["--db", db_url, "stats", "--tabled-from", "2024-13-01"]) == 2
