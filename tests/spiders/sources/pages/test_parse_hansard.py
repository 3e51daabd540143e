"""The historic Hansard (1803-2005) written-answers parser against saved pages, field by field.

Each `tests/fixtures/pages/hansard/<name>.html` is a written-answers section page in the historic
Hansard layout ("§" permalinks, member citations, column-marker links, header, breadcrumbs,
section navigation, footer). Beside it, `<name>.expected.json` gives the URL and every field of
every record the parser must return, in page order.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest

from spiders.records import AnswerRecord
from spiders.sources.pages.parse_hansard import parse_historic_hansard
from tests.support.helpers import FIXTURES as SAVED
from tests.support.helpers import RECORD_FIELDS, record_json, saved_cases, saved_expected, saved_html

FIXTURES = SAVED / "pages" / "hansard"
CASES = saved_cases(FIXTURES)
URL = "https://api.parliament.uk/historic-hansard/written-answers/2004/jul/21/example"


def expected(name: str) -> dict:
    return saved_expected(FIXTURES, name)


@cache
def parsed(name: str) -> list[AnswerRecord]:
    html_text = saved_html(FIXTURES, name)
    return parse_historic_hansard(html_text, expected(name)["url"])


def by_uin(name: str) -> dict[str, AnswerRecord]:
    return {record.uin: record for record in parsed(name) if record.uin is not None}


def section(citation: str, *contributions: str, heading: str = "EXAMPLE") -> str:
    """A minimal historic Hansard page: heading, citation, then one blockquote per contribution."""
    body = "".join(
        f"<div class='hentry member_contribution'><blockquote><a class='permalink'>&sect;</a> {text}"
        "</blockquote></div>"
        for text in contributions
    )
    return (
        f"<html><body><div id='header'>HANSARD 1803&ndash;2005</div><div id='content'><h1>{heading}</h1>"
        f"<cite class='section'>{citation}</cite>{body}</div><div id='footer'>Contact</div></body></html>"
    )


QUESTION = (
    "<cite>Mr. Smith</cite><p>To ask the Secretary of State for Health how many beds there are. [171183]</p>"
)


# ---------------------------------------------------------------------------------------------
# The fixture folder, field by field


def test_every_saved_page_has_its_expected_results_beside_it():
    pages = {path.name.removesuffix(".html") for path in FIXTURES.glob("*.html")}
    expectations = {path.name.removesuffix(".expected.json") for path in FIXTURES.glob("*.expected.json")}
    assert pages == expectations
    assert len(pages) >= 4


@pytest.mark.parametrize("name", CASES)
def test_expectations_state_every_record_field(name):
    for record in expected(name)["records"]:
        assert sorted(record) == sorted(RECORD_FIELDS), record.get("uin")


@pytest.mark.parametrize("name", CASES)
def test_the_page_yields_exactly_the_expected_records_in_order(name):
    got = [(record.house, record.uin) for record in parsed(name)]
    assert got == [(record["house"], record["uin"]) for record in expected(name)["records"]]


@pytest.mark.parametrize("field_name", RECORD_FIELDS)
@pytest.mark.parametrize("name", CASES)
def test_each_record_field_matches_expected(name, field_name):
    got = {record.uin: record_json(record)[field_name] for record in parsed(name)}
    assert got == {record["uin"]: record[field_name] for record in expected(name)["records"]}


@pytest.mark.parametrize("name", CASES)
def test_no_text_field_carries_a_marker_a_uin_a_speaker_or_page_chrome(name):
    for record in parsed(name):
        assert record.question_text and record.answer_text
        assert f"[{record.uin}]" not in record.question_text
        for text in (record.question_text, record.answer_text):
            assert "§" not in text and "HANSARD" not in text and "Forward to" not in text
            assert "Deb " not in text and "holding answer" not in text and "  " not in text
            assert not text.startswith((":", str(record.answering_member)))
        assert record.date_tabled is None and record.answered_at is None


# ---------------------------------------------------------------------------------------------
# Each rule, stated once


def test_column_markers_are_removed_even_mid_sentence():
    answers = by_uin("commons_two_questions_column_markers_mid_sentence")
    # A link marker ("643W") and a plain-text marker ("644W"), each in the middle of a sentence.
    assert "annual schools census and include 643 community schools." in answers["147385"].answer_text
    assert "sets out the average number of pupils" in answers["147390"].answer_text
    single = by_uin("commons_single_housing_benefit_2004")["171183"]
    assert "against a national average of 36 days." in single.answer_text


def test_real_numbers_and_column_citations_survive_marker_removal():
    answers = by_uin("commons_two_questions_column_markers_mid_sentence")
    assert "In January 2003, 642 maintained secondary schools" in answers["147385"].answer_text
    assert "Official Report, column 642W, which" in answers["147390"].answer_text
    assert "longer than 36 days" in by_uin("commons_single_housing_benefit_2004")["171183"].question_text


def test_a_column_marker_on_its_own_line_is_removed_and_the_paragraphs_kept():
    answer = by_uin("lords_office_style_minister_line_2002")["HL4005"].answer_text
    assert "201WA" not in answer
    assert "planning permission.\n\nSites are being assessed" in answer


def test_only_the_pages_own_columns_with_its_own_suffix_are_markers():
    answer = "<cite>Mr. Jones</cite><p>In 1999, 35W of 41W bulbs went; see c. 36W and 36WA. Total 36W.</p>"
    (record,) = parse_historic_hansard(section("HC Deb 21 July 2004 vol 424 cc35-6W", QUESTION, answer), URL)
    # 41W is outside cc35-6W, "c. 36W" is a citation and 36WA has the Lords suffix; the rest are markers.
    assert record.answer_text == "In 1999, of 41W bulbs went; see c. 36W and 36WA. Total."


def test_an_abbreviated_column_range_covers_every_column_of_the_page():
    answer = "<cite>Mr. Jones</cite><p>Spending rose by 1100W 4 per cent.; see column 1100W.</p>"
    (record,) = parse_historic_hansard(
        section("HC Deb 1 May 2003 vol 404 cc1099-100W", QUESTION, answer), URL
    )
    assert record.answer_text == "Spending rose by 4 per cent.; see column 1100W."


def test_answer_date_and_house_come_from_the_citation():
    record = by_uin("lords_office_style_minister_line_2002")["HL4005"]
    assert (record.house, record.date_answered, record.date_tabled) == ("Lords", date(2002, 5, 9), None)
    record = by_uin("commons_single_housing_benefit_2004")["171183"]
    assert (record.house, record.date_answered) == ("Commons", date(2004, 7, 21))


def test_a_page_without_its_citation_is_dated_by_its_url():
    html_text = section("", QUESTION, "<cite>Mr. Jones</cite><p>Ten.</p>")
    (record,) = parse_historic_hansard(html_text, URL)
    assert (record.house, record.uin, record.date_answered) == ("Commons", "171183", date(2004, 7, 21))


def test_commons_question_number_and_constituency_are_not_part_of_the_member_name():
    record = by_uin("commons_single_housing_benefit_2004")["171183"]
    assert record.asking_member == "Mr. Alan Brook"
    assert record.question_text.startswith("To ask the Secretary of State for Work and Pensions")
    assert record.heading == "HOUSING BENEFIT"


def test_a_minister_line_with_an_office_gives_the_name_in_brackets():
    answers = by_uin("lords_office_style_minister_line_2002")
    assert answers["HL4005"].answering_member == "Lord Bassam of Brighton"
    assert answers["HL4006"].answering_member == "Lord Bassam of Brighton"
    assert by_uin("commons_single_housing_benefit_2004")["171183"].answering_member == "Mr. Gerald Hume"


def test_lords_questions_read_the_asker_and_the_text_after_asked_her_majestys_government():
    record = by_uin("lords_office_style_minister_line_2002")["HL4005"]
    assert record.asking_member == "Lord Ashwell"
    assert record.question_text.startswith("How many places there will be")
    assert record.question_text.endswith("when the first centre will open.")


@pytest.mark.parametrize(
    "question",
    [
        "Lord Ashwell asked Her Majesty's Government: Whether they will act. [HL4005]",
        "<cite>Lord Ashwell</cite> asked Her Majesty's Government:<p>Whether they will act. [HL4005]</p>",
        "<cite>Lord Ashwell</cite><p>asked Her Majesty's Government:</p>"
        "<p>Whether they will act. [HL4005]</p>",
    ],
)
def test_lords_question_layouts_all_read_alike(question):
    answer = "<cite>Lord Bassam of Brighton</cite><p>: Yes.</p>"
    html_text = section("HL Deb 09 May 2002 vol 634 c200WA", question, answer)
    (record,) = parse_historic_hansard(html_text, URL)
    assert (record.asking_member, record.question_text) == ("Lord Ashwell", "Whether they will act.")
    assert (record.answering_member, record.answer_text) == ("Lord Bassam of Brighton", "Yes.")


def test_several_question_answer_pairs_on_a_page_give_one_record_each():
    answers = parsed("commons_two_questions_column_markers_mid_sentence")
    assert [(r.uin, r.asking_member) for r in answers] == [
        ("147385", "Mr. Peter Dunn"),
        ("147390", "Mrs. Ann Winter"),
    ]
    assert answers[0].answer_text != answers[1].answer_text
    assert all(record.grouped_with == () for record in answers)


def test_a_question_answered_by_reference_to_another_answer_still_gives_its_own_record():
    answers = by_uin("lords_office_style_minister_line_2002")
    assert answers["HL4006"].answer_text.startswith("I refer the noble Lord to the Answer I gave")
    assert answers["HL4006"].question_text.startswith("Whether children of asylum seekers")


def test_a_holding_answer_mark_gives_its_date_and_leaves_name_and_text_clean():
    record = by_uin("commons_two_questions_column_markers_mid_sentence")["147385"]
    assert (record.date_holding_answer, record.is_holding) == (date(2004, 1, 12), False)
    assert record.answering_member == "Mr. Martin Hale"
    assert record.answer_text.startswith("In January 2003")


def test_a_multi_part_question_gives_a_record_per_uin_grouped_with_everything_answered_together():
    answers = by_uin("commons_flattened_table_multi_part_question")
    assert list(answers) == ["183901", "183902", "183955"]
    assert answers["183901"].question_text == (
        "To ask the Secretary of State for Health how many patients waited more than 13 weeks for a first "
        "outpatient appointment in each strategic health authority in 2003"
    )
    assert answers["183902"].question_text == (
        "To ask the Secretary of State for Health what the average wait for a first outpatient appointment "
        "was in 2003."
    )
    assert answers["183902"].grouped_with == ("183901", "183955")
    assert answers["183955"].asking_member == "Mr. Colin Fenwick"
    assert len({record.answer_text for record in answers.values()}) == 1


def test_a_table_split_by_a_column_marker_reads_as_one_table_of_lines():
    answer = by_uin("commons_flattened_table_multi_part_question")["183901"].answer_text
    assert (
        "shown in the table.\n\nStrategic health authority | Patients waiting more than 13 weeks\n"
        "Northshire | 1,204\nSouthvale | 987\nWestmoor | 1,102\nEngland | 3,293\n\nThe average wait"
    ) in answer
    assert "102W" not in answer


def test_a_page_without_section_marks_is_split_at_each_speaker():
    body = (
        "<p>Mr. Smith: To ask the Secretary of State for Health how many beds there are. [171183]</p>"
        "<p>Jacqui Jones: There are 10.</p><p>The figures are as follows: 4 and 6.</p>"
        "<p>Mr. Smith: To ask the Secretary of State for Health how many wards there are. [171184]</p>"
        "<p>The Minister of State, Department of Health (Ms Jacqui Jones): There are two.</p>"
    )
    html_text = section("HC Deb 21 July 2004 vol 424 c35W").replace("</cite>", f"</cite>{body}")
    first, second = parse_historic_hansard(html_text, URL)
    assert (first.uin, first.answering_member) == ("171183", "Jacqui Jones")
    assert first.answer_text == "There are 10.\n\nThe figures are as follows: 4 and 6."
    assert (second.uin, second.answering_member, second.answer_text) == (
        "171184",
        "Ms Jacqui Jones",
        "There are two.",
    )


def test_questions_without_a_uin_give_no_record():
    # Why: before about 1990 written questions carried no UIN, so nothing could key the record.
    old = "<cite>Mr. Smith</cite><p>To ask the Minister of Health how many beds there are.</p>"
    html_text = section("HC Deb 02 March 1955 vol 538 cc41-2W", old, "<cite>Mr. Jones</cite><p>Ten.</p>")
    assert parse_historic_hansard(html_text, URL) == []


def test_an_xhtml_page_with_an_xml_declaration_reads_like_any_other():
    html_text = section("HC Deb 21 July 2004 vol 424 c35W", QUESTION, "<cite>Mr. Jones</cite><p>Ten.</p>")
    (record,) = parse_historic_hansard('<?xml version="1.0" encoding="UTF-8"?>\n' + html_text, URL)
    assert (record.uin, record.answer_text) == ("171183", "Ten.")


def test_a_page_that_is_not_a_written_answers_page_is_a_clear_error():
    url = "https://api.parliament.uk/historic-hansard/people/mr-alan-brook"
    with pytest.raises(ValueError) as error:
        parse_historic_hansard("<html><body><h1>Mr Alan Brook</h1><p>1997-2005</p></body></html>", url)
    assert "not a historic Hansard written-answers page" in str(error.value) and url in str(error.value)


def test_a_question_left_without_an_answer_is_a_clear_error():
    with pytest.raises(ValueError) as error:
        parse_historic_hansard(section("HC Deb 21 July 2004 vol 424 c35W", QUESTION), URL)
    assert "has no answer" in str(error.value) and URL in str(error.value)
