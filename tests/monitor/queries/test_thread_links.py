"""Follow-up threads in the export: a question that names an earlier answer follows that question
(the one of its UIN tabled last before the named answer), and the earlier one is followed by it."""

from __future__ import annotations

import json
from datetime import date, datetime

from monitor.cli.commands import main
from spiders.records import AnswerRecord
from storage.record import record_page

SEEN = datetime(2026, 12, 1, 9, 0)


def _question(uin: str, tabled: date, text: str, answer: str = "") -> AnswerRecord:
    return AnswerRecord(house="Commons", uin=uin, date_tabled=tabled, question_text=text, answer_text=answer)


def test_the_export_links_a_follow_up_both_ways(sessions, db_url, capsys):
    questions = [
        # 7926 in an earlier session, then again: the follow-up names the 2024 answer.
        _question("7926", date(2022, 1, 4), "To ask the Secretary of State, an old question."),
        _question(
            "7926", date(2024, 1, 5), "To ask the Secretary of State for Education, how many apprentices."
        ),
        _question(
            "12345",
            date(2024, 2, 1),
            "To ask the Secretary of State for Education, pursuant to the Answer of 10 January 2024 to "
            "Question 7926 on Apprentices, what steps she is taking.",
        ),
        _question(
            "12999",
            date(2024, 3, 1),
            "To ask the Secretary of State, another question.",
            "I refer the hon. Member to the answer I gave on 20 February 2024 to Question 12345.",
        ),  # fmt: skip
    ]
    for number, question in enumerate(questions):
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[question],
                        observed_at=SEEN)  # fmt: skip
    assert main(["--db", db_url, "export"]) == 0
    views = {(v["uin"], v["date_tabled"]): v for v in json.loads(capsys.readouterr().out)}
    assert views[("12345", "2024-02-01")]["follows"] == [{"uin": "7926", "date_tabled": "2024-01-05"}]
    assert views[("7926", "2024-01-05")]["followed_by"] == [{"uin": "12345", "date_tabled": "2024-02-01"}]
    assert views[("7926", "2022-01-04")]["followed_by"] == []
    assert views[("12999", "2024-03-01")]["follows"] == [{"uin": "12345", "date_tabled": "2024-02-01"}]
    assert views[("12345", "2024-02-01")]["followed_by"] == [{"uin": "12999", "date_tabled": "2024-03-01"}]
    assert main(["--db", db_url, "history", "12345", "--format", "json"]) == 0
    [history] = json.loads(capsys.readouterr().out)
    assert history["follows"] == [{"uin": "7926", "date_tabled": "2024-01-05"}]
    assert history["followed_by"] == [{"uin": "12999", "date_tabled": "2024-03-01"}]
    assert main(["--db", db_url, "history", "7926"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  followed by: 12345 (tabled 2024-02-01)" in lines
