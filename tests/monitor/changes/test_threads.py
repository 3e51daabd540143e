"""Follow-up threads: the references a question or answer text makes to earlier answers, read from
real phrases (tests/fixtures/threads/, each with the page it was quoted from) and their variants."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from monitor.changes.threads import Reference, follows, references
from tests.support.helpers import FIXTURES

CASES: list[dict[str, Any]] = json.loads((FIXTURES / "threads" / "real_phrases.json").read_text("utf-8"))[
    "cases"
]
JAN_5 = date(2024, 1, 5)


def _read(text: str | None, house: str = "Commons", context: date | None = JAN_5) -> list[tuple]:
    """What references() finds, as (kind, uin, answered_on) triples."""
    return [(r.kind, r.uin, r.answered_on) for r in references(text, house=house, context_date=context)]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_each_real_phrase_reads_as_its_kind_uin_and_date(case: dict[str, Any]) -> None:
    context = date.fromisoformat(case["context_date"]) if case["context_date"] else None
    expected = [
        (ref["kind"], ref["uin"], date.fromisoformat(ref["answered_on"]) if ref["answered_on"] else None)
        for ref in case["expected"]
    ]
    assert _read(case["text"], case["house"], context) == expected
    assert case["source_url"].startswith(("https://", "http://"))


def test_every_real_phrase_names_the_page_it_was_quoted_from() -> None:
    assert len(CASES) >= 20
    assert all(case["source_url"] and case["text"] for case in CASES)
    assert len({case["id"] for case in CASES}) == len(CASES)


def test_the_matched_phrase_is_kept_for_display() -> None:
    (found,) = references(
        "To ask His Majesty's Government, further to the Written Answer by Lord X on 1 September (HL2328),"
        " what steps they are taking.",
        house="Lords",
        context_date=JAN_5,
    )
    assert found == Reference(
        "further_to",
        "HL2328",
        date(2023, 9, 1),
        "further to the Written Answer by Lord X on 1 September (HL2328)",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pursuant to the Answer of 5 January 2024 to Question 7926", ("pursuant", "7926", date(2024, 1, 5))),
        (
            "pursuant to his Answer of 3 March 2023 to Question 155,432",
            ("pursuant", "155432", date(2023, 3, 3)),
        ),
        ("pursuant to the Answer of 1st September 2023 to UIN 12", ("pursuant", "12", date(2023, 9, 1))),
        ("pursuant to my answer of 5 Jan 2024 to Question 7926", ("pursuant", "7926", date(2024, 1, 5))),
        ("pursuant to the answer of 5 Jan. 2024 to PQ 7926", ("pursuant", "7926", date(2024, 1, 5))),
        (
            "pursuant to the Answer of 22nd Sept 2023 to Question 7926",
            ("pursuant", "7926", date(2023, 9, 22)),
        ),
        (
            "I refer the hon. Member to the answer I gave on 12 February 2023 to Question 12345.",
            ("refers_to", "12345", date(2023, 2, 12)),
        ),
        (
            "I refer my hon. Friend to the answer given to PQ 12345 on 3 January.",
            ("refers_to", "12345", date(2024, 1, 3)),
        ),
        (
            "I refer the hon. Member to the answer I gave on 20 December (PQ 12345).",
            ("refers_to", "12345", date(2023, 12, 20)),
        ),
        ("[holding answer 11 January 2024]: The figures are", ("holding", None, date(2024, 1, 11))),
    ],
)
def test_the_variants_of_each_phrase_read_alike(text: str, expected: tuple) -> None:
    assert _read(text) == [expected]


def test_curly_quotes_and_non_breaking_spaces_read_as_plain_text() -> None:
    text = (
        "To ask His Majesty\u2019s Government, further\u00a0to the\u202fWritten Answer by Lord\u00a0X"
        " on 1\u00a0September (HL\u00a02328)"
    )
    assert _read(text, "Lords") == [("further_to", "HL2328", date(2023, 9, 1))]
    assert _read("pursuant to the Answer of 5\u00a0January\u00a02024 to Question\u00a07926") == [
        ("pursuant", "7926", date(2024, 1, 5))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "To ask the Secretary of State, pursuant to section 3 of the Act, what guidance she has issued.",
        "The answer is 7926 cases.",
        "To ask His Majesty's Government, further to the Minister's statement, what steps they are taking.",
        "further to the Minister\u2019s statement of 5 January (HL1234)",
        "I refer the hon. Member to my written ministerial statement of 30 October 2003.",
        "I refer my hon. Friend to the answer I gave earlier.",
        "Further to his answer, the Minister wrote to the Member.",
        "",
        None,
    ],
)
def test_near_misses_make_no_reference(text: str | None) -> None:
    assert _read(text, "Lords") == []
    assert _read(text, "Commons") == []


def test_a_year_less_date_is_the_latest_such_date_not_after_the_context_date() -> None:
    later = "pursuant to the Answer of 20 December to Question 7926"
    assert _read(later) == [("pursuant", "7926", date(2023, 12, 20))]  # across the new year
    same_day = "pursuant to the Answer of 5 January to Question 7926"
    assert _read(same_day) == [("pursuant", "7926", date(2024, 1, 5))]
    earlier = "pursuant to the Answer of 2 January to Question 7926"
    assert _read(earlier) == [("pursuant", "7926", date(2024, 1, 2))]
    leap = "pursuant to the Answer of 29 February to Question 7926"
    assert _read(leap, context=date(2027, 3, 1)) == [("pursuant", "7926", date(2024, 2, 29))]


def test_a_year_less_date_without_a_context_date_stays_unknown() -> None:
    assert _read("further to the Written Answer on 1 September (HL2328)", "Lords", None) == [
        ("further_to", "HL2328", None)
    ]
    # A date with its year needs no context; one the calendar lacks is no date.
    assert _read("pursuant to the Answer of 1 May 2007 to Question 1", context=None) == [
        ("pursuant", "1", date(2007, 5, 1))
    ]
    assert _read("pursuant to the Answer of 31 June 2007 to Question 1") == [("pursuant", "1", None)]


def test_the_house_decides_how_a_bare_number_reads() -> None:
    text = "further to the answer to Written Question 1234"
    assert _read(text, "Lords") == [("further_to", "HL1234", None)]
    assert _read(text, "Commons") == [("further_to", "1234", None)]
    # A Lords UIN spelled out is a Lords UIN in either House's text.
    assert _read("further to the answer to Written Question HL1234", "Commons") == [
        ("further_to", "HL1234", None)
    ]
    assert _read("further to the answer to Written Question hl 1234", "Lords") == [
        ("further_to", "HL1234", None)
    ]


def test_an_unknown_house_is_refused() -> None:
    with pytest.raises(ValueError):
        references("pursuant to the Answer to Question 1", house="Senate", context_date=None)


def test_a_question_s_own_uin_in_square_brackets_is_not_a_reference() -> None:
    text = "To ask His Majesty's Government, further to the Written Answer on 2 May.[HL9224]"
    assert _read(text, "Lords") == [("further_to", None, date(2023, 5, 2))]
    text = "To ask the Secretary of State for Health pursuant to the answer of 1 December 2010. [67110]"
    assert _read(text) == [("pursuant", None, date(2010, 12, 1))]


def test_the_date_of_a_later_clause_is_not_the_earlier_answer_s() -> None:
    text = (
        "To ask His Majesty's Government, further to the answer to Written Question HL1234, what assessment"
        " they have made of the report published on 19 March."
    )
    assert _read(text, "Lords") == [("further_to", "HL1234", None)]


def test_every_question_a_phrase_lists_is_its_own_reference() -> None:
    text = "pursuant to the Answer of 5 January 2024 to Questions 12345 and 12346, whether"
    assert _read(text) == [
        ("pursuant", "12345", date(2024, 1, 5)),
        ("pursuant", "12346", date(2024, 1, 5)),
    ]


def test_references_come_in_text_order_each_once() -> None:
    text = (
        "[holding answer 11 January 2024]: I refer the hon. Member to the answer I gave on 3 January to"
        " PQ 111. I refer the hon. Member to the answer I gave on 3 January to PQ 111. Further to my"
        " answer of 2 January (PQ 222), I can add the figures."
    )
    assert _read(text) == [
        ("holding", None, date(2024, 1, 11)),
        ("refers_to", "111", date(2024, 1, 3)),
        ("further_to", "222", date(2024, 1, 2)),
    ]


def test_follows_keeps_only_the_questions_named_each_once() -> None:
    text = (
        "[holding answer 11 January 2024]: I refer the hon. Member to the answer I gave on 12 June 2014,"
        " Official Report, column 256W. I refer the hon. Member to the answer given to PQ 111 on 3 January,"
        " and to the answer given to PQ 111."
    )
    refs = references(text, house="Commons", context_date=JAN_5)
    assert [r.kind for r in refs] == ["holding", "refers_to", "refers_to", "refers_to"]
    assert [(r.kind, r.uin) for r in follows(refs)] == [("refers_to", "111")]
    assert follows(()) == ()


def test_a_real_thread_s_follow_ups_are_its_uins() -> None:
    (case,) = [case for case in CASES if case["id"] == "commons_pursuant_two_answers_in_one_clause_2019"]
    refs = references(case["text"], house=case["house"], context_date=date(2019, 1, 11))
    assert [r.uin for r in follows(refs)] == ["203928", "205307"]
