"""`pqwatch search` through the installed command: JSON and text, past versions, filters, and
one-line errors for a search with nothing to look for or a bad filter."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from spiders.records import AnswerRecord
from storage.db import open_database
from storage.record import record_page

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))

FIRST = AnswerRecord(
    house="Lords",
    uin="HL500",
    date_tabled=date(2024, 1, 8),
    heading="Dental Services",
    question_text="To ask His Majesty's Government what access to NHS dentistry people in hotels have.",
    answer_text="Knife crime fell by 4 per cent.",
    asking_member="Baroness Cox",
    answering_member="Lord Markham",
    answering_body="Department of Health and Social Care",
    date_answered=date(2024, 1, 15),
)
OTHER = AnswerRecord(
    house="Commons",
    uin="7927",
    date_tabled=date(2024, 1, 5),
    heading="Asylum: Hotels",
    question_text="To ask the Secretary of State for the Home Department, how many asylum seekers are"
    " in hotels.",
    answer_text="Asylum seekers are housed in 200 hotels.",
    asking_member="Caroline Lucas",
    answering_body="Home Office",
    date_answered=date(2024, 1, 10),
)


def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PQWATCH, "--db", db_url, "search", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def stored(db_url: str) -> str:
    sessions = open_database(db_url)
    later = replace(FIRST, answer_text="Figures are under review.")
    answers = [
        (FIRST, 1, datetime(2024, 1, 20)),
        (OTHER, 2, datetime(2024, 1, 20)),
        (later, 1, datetime(2024, 3, 2)),
    ]
    for answer, number, seen in answers:
        with sessions.begin() as session:
            record_page(session, source_kind="api", url=f"https://api.example/{number}", answers=[answer],
                        observed_at=seen)  # fmt: skip
    sessions.kw["bind"].dispose()
    return db_url


def test_json_lists_the_hits_with_where_they_matched(stored: str) -> None:
    done = run(stored, "hotels", "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert (found["query"], found["total"], found["offset"], found["limit"]) == ("hotels", 2, 0, 20)
    assert sorted(hit["uin"] for hit in found["hits"]) == ["7927", "HL500"]
    hit = next(hit for hit in found["hits"] if hit["uin"] == "7927")
    assert hit["matched"] == "current" and hit["house"] == "Commons" and hit["date_tabled"] == "2024-01-05"
    assert any(piece["match"] and piece["text"].lower() == "hotels" for piece in hit["snippet"])
    past = json.loads(run(stored, '"fell by 4 per cent"', "--format", "json").stdout)
    assert [(hit["uin"], hit["matched"], hit["observed_at"]) for hit in past["hits"]] == [
        ("HL500", "past", "2024-01-20T00:00:00Z")
    ]


def test_text_marks_the_matched_words_and_says_what_only_a_past_version_said(stored: str) -> None:
    lines = run(stored, "fell", "by", "4", "per", "cent").stdout.splitlines()
    assert lines[0] == "1 question for fell by 4 per cent (1-1)"
    assert lines[1].startswith(
        "Lords HL500 tabled 2024-01-08, Department of Health and Social Care: Dental Services"
    )
    assert lines[1].endswith("[only in a past version, first stored 2024-01-20]")
    assert "[fell]" in lines[2] or "[fell by 4 per cent]" in lines[2]
    assert run(stored, "review").stdout.splitlines()[1].endswith("[current]")
    assert run(stored, "nowhere").stdout == "no question matches nowhere\n"


def test_filters_narrow_the_hits(stored: str) -> None:
    def uins(*args: str) -> list[str]:
        return sorted(hit["uin"] for hit in json.loads(run(stored, *args, "--format", "json").stdout)["hits"])

    assert uins("hotels", "--house", "Commons") == ["7927"]
    assert uins("hotels", "--member", "markham") == ["HL500"]
    assert uins("hotels", "--department", "home office") == ["7927"]
    assert uins("hotels", "--status", "answered", "--answered-from", "2024-01-12") == ["HL500"]
    assert uins("hotels", "--tabled-to", "2024-01-05") == ["7927"]
    assert uins("knife", "--current") == []
    assert uins("hotels", "--limit", "1", "--offset", "1") != uins("hotels", "--limit", "1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["*"], "say what to look for"),
        (["--", "-hotels"], "say what to look for as well as what to leave out"),
        (["hotels", "--status", "lost"], "--status 'lost' is not a question status"),
        (["hotels", "--tabled-from", "2024-13-01"], "--tabled-from '2024-13-01' is not a date"),
        (["hotels", "--limit", "0"], "a page holds 1 to 100 hits"),
        (["hotels", "--house", "Senate"], "invalid choice"),
    ],
)
def test_bad_input_is_a_one_line_error(stored: str, args: list[str], message: str) -> None:
    done = run(stored, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


def test_hostile_text_is_searched_as_words(stored: str) -> None:
    done = run(stored, "'; DROP TABLE versions; --", "NEAR(", "hot*")
    assert done.returncode == 0 and done.stdout.startswith("no question matches")
    assert json.loads(run(stored, "hotels", "--format", "json").stdout)["total"] == 2
