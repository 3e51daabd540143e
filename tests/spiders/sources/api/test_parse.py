"""The Written Questions API parser, on the real detail response and variations of it."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from spiders.sources.api.parse import (
    ApiRecordError,
    grouped_question_keys,
    load_json,
    parse_list_page,
    parse_question,
)
from tests.support.helpers import FIXTURES as SAVED

REAL = json.loads((SAVED / "api/detail-1679416.json").read_text())
TODAY = date(2026, 11, 30)


def variant(**changes: object) -> dict:
    payload = copy.deepcopy(REAL)
    payload["value"].update(changes)
    return payload


def test_the_real_detail_response_parses_into_plain_text_fields():
    record = parse_question(REAL, TODAY)
    assert (record.house, record.uin, record.date_tabled, record.api_id) == (
        "Commons",
        "7926",
        date(2024, 1, 5),
        1679416,
    )
    assert record.date_answered == date(2024, 1, 10) and record.answered_at is None
    assert record.answering_body == "Department for Education"
    assert record.heading == "Apprentices: Employment Agencies"
    assert record.answer_text.startswith("The department is supporting sectors")
    assert "<" not in record.answer_text and "\n\n" in record.answer_text
    # Links are kept as their text; empty "<p> </p>" paragraphs vanish.
    assert "https://www.gov.uk/government/publications/flexi-job-apprenticeships" in record.answer_text
    assert "\n\n\n" not in record.answer_text
    assert record.is_holding is False and record.grouped_with == () and record.attachments == ()


def test_expanded_members_give_names_and_grouped_questions_their_keys():
    payload = variant(
        askingMember={"id": 4253, "name": "Ms Jane Doe", "listAs": "Doe, Ms Jane"},
        answeringMember={"id": 3985, "name": "Robert Halfon"},
        groupedQuestions=["8024"],
        groupedQuestionsDates=[{"questionUin": "8024", "dateTabled": "2024-01-05T00:00:00"}],
    )
    record = parse_question(payload, TODAY)
    assert (record.asking_member, record.answering_member) == ("Ms Jane Doe", "Robert Halfon")
    assert record.grouped_with == ("8024",)
    assert grouped_question_keys(payload) == [("2024-01-05", "8024")]


def test_a_corrected_answer_keeps_the_original_text_and_the_correcting_minister():
    record = parse_question(
        variant(
            answerIsCorrection=True,
            dateAnswerCorrected="2024-02-05T00:00:00",
            correctingMember={"name": "Robert Halfon"},
            originalAnswerText="<p>The old figure was 40.</p>",
            answerText="<p>The correct figure is 44.</p>",
        ),
        TODAY,
    )
    assert record.is_correction and record.date_corrected == date(2024, 2, 5)
    assert record.original_answer_text == "The old figure was 40."
    assert record.answer_text == "The correct figure is 44." and record.correcting_member == "Robert Halfon"


def test_a_table_in_an_answer_stays_readable():
    html = (
        "<p>Figures:</p><table><tr><th>Year</th><th>Starts</th></tr>"
        "<tr><td>2022</td><td>1,200</td></tr></table>"
    )
    assert parse_question(variant(answerText=html), TODAY).answer_text == (
        "Figures:\n\nYear | Starts\n2022 | 1,200"
    )


def test_attachments_are_recorded():
    record = parse_question(
        variant(
            attachments=[
                {
                    "url": "https://x.example/a.pdf",
                    "title": "Annex A",
                    "fileType": "pdf",
                    "fileSizeBytes": 1234,
                }
            ],
            attachmentCount=1,
        ),
        TODAY,
    )
    assert [(a.title, a.url, a.size_bytes) for a in record.attachments] == [
        ("Annex A", "https://x.example/a.pdf", 1234)
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"uin": None}, "lacks uin"),
        ({"questionText": ""}, "lacks questionText"),
        ({"house": "Senate"}, "unknown house"),
        ({"dateAnswered": "2124-01-10T00:00:00"}, "outside any sane range"),
        ({"dateTabled": "1776-07-04T00:00:00"}, "outside any sane range"),
        ({"dateTabled": "not a date"}, "is not a date"),
    ],
)
def test_a_broken_record_is_a_clear_error(changes, message):
    with pytest.raises(ApiRecordError, match=message):
        parse_question(variant(**changes), TODAY)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"value": ', "malformed JSON"),
        (b'{"status": 500, "title": "Oops"}', "status 500"),
        (b"[]", "not an object"),
    ],
)
def test_bad_bodies_are_clear_errors(body, message):
    with pytest.raises(ApiRecordError, match=message):
        load_json(body)


def test_a_list_page_gives_entries_and_reports_broken_ones_without_stopping():
    good = {"value": REAL["value"]}
    broken = {"value": {**REAL["value"], "id": 2, "uin": ""}}
    page = parse_list_page({"totalResults": 2, "results": [good, broken]}, TODAY)
    assert page.total == 2 and [e.api_id for e in page.entries] == [1679416]
    assert page.problems == ("record 2 lacks uin",)


def test_the_list_fingerprint_moves_with_dates_flags_and_the_first_255_characters_only():
    def fingerprint(**changes: object) -> str:
        return (
            parse_list_page({"totalResults": 1, "results": [variant(**changes)]}, TODAY)
            .entries[0]
            .fingerprint
        )

    base = fingerprint()
    assert fingerprint(answerIsHolding=True) != base
    assert fingerprint(dateAnswered="2024-01-11T00:00:00") != base
    assert fingerprint(answeringBodyId=61) != base
    assert fingerprint(answerText=REAL["value"]["answerText"][:255] + "a different tail") == base


def test_broken_answer_markup_still_gives_readable_text():
    html = "<p>Unclosed <b>bold<p>Second para<table><tr><td>2022<td>1,200"
    text = parse_question(variant(answerText=html), TODAY).answer_text
    assert text == "Unclosed bold\n\nSecond para\n\n2022 | 1,200"
