"""Parliamentary sessions by name, and `pqwatch stats --session`."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from monitor.changes.sessions import SESSIONS, UnknownSession, find_session, session_of
from monitor.cli.commands import main
from spiders.records import AnswerRecord
from storage.record import record_page


def test_sessions_follow_each_other_without_gaps_or_overlaps():
    for before, after in zip(SESSIONS, SESSIONS[1:], strict=False):
        assert before.ends is not None and (after.begins - before.ends).days == 1
    assert SESSIONS[-1].ends is None


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 1, 5), "2023-24"),  # Commons 7926, tabled in the session that began 7 Nov 2023
        (date(2023, 11, 6), "2022-23"),  # the day before that session met
        (date(2019, 10, 30), "2019"),  # the short session of October 2019
        (date(2020, 1, 27), "2019-21"),
        (date(2026, 11, 30), "2024-25"),  # the latest listed session is open-ended
    ],
)
def test_a_day_belongs_to_the_session_that_covers_it(day, name):
    found = session_of(day)
    assert found is not None and found.name == name


def test_a_session_is_found_by_its_name_or_by_years_starting_the_same_year():
    assert find_session("2023-24").begins == date(2023, 11, 7)
    assert find_session("2024-26").name == "2024-25"  # its end was not known when it began
    assert find_session("2017–19").name == "2017-19"  # an en dash, as Parliament prints it
    with pytest.raises(UnknownSession, match="known: 2010-12"):
        find_session("2019-20")  # two sessions began in 2019: ambiguous
    with pytest.raises(UnknownSession):
        find_session("last")
    assert session_of(date(2001, 1, 1)) is None


def _answered(uin: str, tabled: date, answered: date) -> AnswerRecord:
    return AnswerRecord(
        house="Commons",
        uin=uin,
        date_tabled=tabled,
        question_text=f"To ask the Secretary of State, question {uin}.",
        answer_text="An answer.",
        date_answered=answered,
        answering_body="Home Office",
        heading=f"Heading {uin}",
    )


def test_stats_session_counts_only_the_questions_tabled_in_it(sessions, db_url, capsys):
    questions = [
        _answered("7926", date(2024, 1, 5), date(2024, 1, 10)),  # 2023-24
        _answered("1578", date(2023, 11, 14), date(2023, 11, 21)),  # 2023-24
        _answered("9999", date(2023, 1, 9), date(2023, 1, 12)),  # 2022-23
    ]
    for number, question in enumerate(questions):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[question],
                        observed_at=datetime(2026, 12, 1, 9, 0))  # fmt: skip
    assert main(["--db", db_url, "stats", "--session", "2023-24", "--format", "json"]) == 0
    (home,) = json.loads(capsys.readouterr().out)
    assert (home["questions"], home["answered"]) == (2, 2)
    assert main(["--db", db_url, "stats", "--session", "2022-23", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["questions"] == 1
    # --tabled-from narrows within the session.
    narrowed = ["--session", "2023-24", "--tabled-from", "2024-01-01", "--format", "json"]
    assert main(["--db", db_url, "stats", *narrowed]) == 0
    assert json.loads(capsys.readouterr().out)[0]["questions"] == 1
    assert main(["--db", db_url, "stats", "--session", "2019-20"]) == 2
    error = capsys.readouterr().err
    assert "no parliamentary session '2019-20'" in error and len(error.strip().splitlines()) == 1
