"""The questions-statements.parliament.uk detail-page parser against saved pages, field by field.

Each `tests/fixtures/pages/html/<name>.html` is a written-question detail page with its
chrome (cookie banner, site header, navigation, footer, scripts). The live markup was never
captured, so the pages are modelled on the labels the site shows, in several layouts; the parser
reads labels, not CSS classes. Beside each page, `<name>.expected.json` gives the URL it was
fetched from and every field of the record the parser must return. `api_detail_7926.json` is the
real API detail response for the question the 7926 page shows, to check that the two agree.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache

import pytest

from spiders.normalise import html_to_text
from spiders.records import AnswerRecord
from spiders.sources.pages.parse_html import parse_wq_detail_page
from tests.support.helpers import FIXTURES as SAVED
from tests.support.helpers import RECORD_FIELDS, record_json, saved_cases, saved_expected, saved_html

FIXTURES = SAVED / "pages" / "html"
CASES = saved_cases(FIXTURES)
DETAIL = "https://questions-statements.parliament.uk/written-questions/detail/"


def expected(name: str) -> dict:
    return saved_expected(FIXTURES, name)


@cache
def parsed(name: str) -> AnswerRecord:
    html_text = saved_html(FIXTURES, name)
    return parse_wq_detail_page(html_text, expected(name)["url"])


def page(body: str, *, title: str = "Written questions and answers") -> str:
    """A minimal detail page around the given main content."""
    return (
        f"<html><head><title>{title}</title></head><body><header><nav>UK Parliament</nav></header>"
        f"<main>{body}</main><footer>Cookie policy</footer></body></html>"
    )


QUESTION = "<p>To ask the Secretary of State for Defence, how many reservists were mobilised in 2023.</p>"


# ---------------------------------------------------------------------------------------------
# The fixture folder, field by field


def test_every_saved_page_has_its_expected_results_beside_it():
    pages = {path.name.removesuffix(".html") for path in FIXTURES.glob("*.html")}
    expectations = {path.name.removesuffix(".expected.json") for path in FIXTURES.glob("*.expected.json")}
    assert pages == expectations
    assert len(pages) >= 6


@pytest.mark.parametrize("name", CASES)
def test_expectations_state_every_record_field(name):
    assert sorted(expected(name)["record"]) == sorted(RECORD_FIELDS)


@pytest.mark.parametrize("field_name", RECORD_FIELDS)
@pytest.mark.parametrize("name", CASES)
def test_each_record_field_matches_expected(name, field_name):
    assert record_json(parsed(name))[field_name] == expected(name)["record"][field_name]


CHROME_TEXT = [
    "Cookie",
    "cookies",
    "Skip to main content",
    "UK Parliament",
    "MPs and Lords",
    "Share this",
    "Back to",
]


@pytest.mark.parametrize("name", CASES)
def test_page_chrome_and_labels_never_appear_in_any_text_field(name):
    record = parsed(name)
    texts = [
        record.question_text,
        record.answer_text,
        record.original_answer_text or "",
        record.heading or "",
    ]
    texts += [record.asking_member or "", record.answering_member or "", record.answering_body or ""]
    for text in texts:
        for chrome in CHROME_TEXT:
            assert chrome not in text
        for label in (
            "Asked by",
            "Answered on",
            "Answered by",
            "tabled on",
            "Question for",
            "[N]",
            "Named day",
        ):
            assert label not in text
        assert "<" not in text and "\u00a0" not in text and "  " not in text and text == text.strip()


# ---------------------------------------------------------------------------------------------
# Each rule, stated once


def test_the_page_and_the_api_give_the_same_record_for_the_same_question():
    # The 7926 page carries the texts of the API detail sample beside it: both sources must read
    # alike, or the monitor would report a disagreement that is only a parsing difference.
    api = json.loads((FIXTURES / "api_detail_7926.json").read_text(encoding="utf-8"))["value"]
    record = parsed("commons_7926_answered")
    assert record.question_text == html_to_text(api["questionText"])
    assert record.answer_text == html_to_text(api["answerText"])
    assert (record.house, record.uin, record.heading) == (api["house"], api["uin"], api["heading"])
    assert record.answering_body == api["answeringBodyName"]
    assert record.date_tabled == date.fromisoformat(api["dateTabled"][:10])
    assert record.date_answered == date.fromisoformat(api["dateAnswered"][:10])
    assert record.answered_at is None  # the site, like the API, gives no time of day


def test_lowercase_uin_in_the_url_is_canonicalised():
    html_text = page(f"<p>Asked by Lord Example</p>{QUESTION}<p>Answered on 2 March 2020</p><p>Yes.</p>")
    record = parse_wq_detail_page(html_text, DETAIL + "2020-02-13/hl1629")
    assert (record.house, record.uin, record.date_tabled) == ("Lords", "HL1629", date(2020, 2, 13))


def test_the_uin_and_tabled_date_on_the_page_win_over_the_url():
    html_text = page(f"<p>UIN 7926, tabled on 5 January 2024</p>{QUESTION}")
    record = parse_wq_detail_page(html_text, DETAIL + "2024-01-06/7927")
    assert (record.uin, record.date_tabled) == ("7926", date(2024, 1, 5))


@pytest.mark.parametrize(
    ("label", "house"),
    [("House of Lords", "Lords"), ("Lords", "Lords"), ("House of Commons", "Commons"), ("", "Commons")],
)
def test_house_comes_from_an_explicit_label_else_from_the_uin(label, house):
    html_text = page(f"<p>{label}</p><p>UIN 8024, tabled on 5 January 2024</p>{QUESTION}")
    assert parse_wq_detail_page(html_text, DETAIL + "2024-01-05/8024").house == house


def test_house_named_inside_the_answer_is_not_the_house_label():
    html_text = page(f"<p>UIN HL96, tabled on 9 January 2020</p>{QUESTION}<p>Answered on 20 January 2020</p>")
    html_text = html_text.replace("</main>", "<table><tr><td>Commons</td></tr></table></main>")
    assert parse_wq_detail_page(html_text, DETAIL + "2020-01-09/HL96").house == "Lords"


def test_corrected_answer_text_is_the_correction_and_flags_are_set():
    record = parsed("commons_7947_corrected")
    assert record.is_correction and record.date_corrected == date(2024, 2, 5)
    assert record.date_answered == date(2024, 1, 11)  # the original answer's date stays
    assert "2,317 band 3 to 5" in record.answer_text and "3,217" not in record.answer_text
    assert record.original_answer_text is not None and "3,217 band 3 to 5" in record.original_answer_text
    assert "Show original answer" not in record.answer_text and "Corrected by" not in record.answer_text
    assert record.correcting_member == "Edward Quill"


def test_a_corrected_on_label_alone_sets_the_correction_flags():
    html_text = page(f"<p>UIN 7891</p>{QUESTION}<p>Answered on 11 January 2024</p><p>It is 12.</p>")
    html_text = html_text.replace("</main>", "<p>Corrected on: 30 January 2024</p></main>")
    record = parse_wq_detail_page(html_text, DETAIL + "2024-01-05/7891")
    assert (record.is_correction, record.date_corrected, record.answer_text) == (
        True,
        date(2024, 1, 30),
        "It is 12.",
    )


def test_a_holding_answer_keeps_its_date_after_the_substantive_answer():
    record = parsed("commons_8221_holding_then_answered")
    assert record.date_holding_answer == date(2024, 1, 11)
    assert record.date_answered == date(2024, 1, 22)
    assert not record.is_holding
    assert record.answer_text.startswith("Information on the number of children")


def test_a_question_with_only_a_holding_answer_is_holding_and_unanswered():
    record = parsed("commons_8221_holding_only")
    assert record.is_holding and record.date_holding_answer == date(2024, 1, 11)
    assert (record.date_answered, record.answer_text, record.answering_member) == (None, "", None)


def test_grouped_uins_come_from_the_grouped_section_and_its_text_stays_out_of_the_record():
    record = parsed("commons_8159_grouped_with_8160")
    assert record.grouped_with == ("8160",)
    assert (record.uin, record.date_tabled) == ("8159", date(2024, 1, 8))
    assert "Access for All programme for 2024-25" not in record.question_text + record.answer_text


def test_a_grouped_question_shown_only_as_a_link_is_read_from_its_href():
    grouped = (
        "<p>This question was grouped with the following question(s) for answer:</p>"
        '<ul><li><a href="/written-questions/detail/2023-10-10/hl10650">Railways: Freight</a></li>'
        '<li><a href="https://questions-statements.parliament.uk/written-questions/detail/2023-10-11/HL10651">'
        "Railways: Electrification</a></li></ul>"
    )
    answer = (
        '<p>Answered on 24 October 2023</p><p>See <a href="/written-questions/detail/2023-01-01/HL5">HL5</a>.'
    )
    html_text = page(f"<p>UIN HL10649, tabled on 10 October 2023</p>{QUESTION}{grouped}{answer}")
    record = parse_wq_detail_page(html_text, DETAIL + "2023-10-10/HL10649")
    assert record.grouped_with == ("HL10650", "HL10651")  # not HL5, a link inside the answer
    assert record.answer_text == "See HL5."


def test_grouped_uins_listed_after_an_old_style_grouped_questions_label_are_read():
    html_text = page(f"<p>UIN 16196</p>{QUESTION}<p>Answered on 9 January 2020</p><p>Yes.</p>")
    html_text = html_text.replace("</main>", "<p>Grouped Questions: 16197, 16198 and 16196</p></main>")
    record = parse_wq_detail_page(html_text, DETAIL + "2020-01-06/16196")
    assert (record.grouped_with, record.answer_text) == (("16197", "16198"), "Yes.")


def test_header_labels_sharing_one_line_are_read_apart():
    header = "<span>Question for Ministry of Defence</span> <span>UIN 8024, tabled on 5 January 2024</span>"
    header += " <b>[N]</b>"
    record = parse_wq_detail_page(page(header + QUESTION), DETAIL + "2024-01-06/1")
    assert (record.answering_body, record.uin, record.date_tabled) == (
        "Ministry of Defence",
        "8024",
        date(2024, 1, 5),
    )


def test_a_withdrawn_question_is_flagged_and_has_no_answer():
    record = parsed("commons_8302_withdrawn_unanswered")
    assert record.is_withdrawn and not record.is_holding
    assert (record.answer_text, record.date_answered) == ("", None)
    assert record.asking_member == "Martin Kells"  # "(Southwold Vale)" is the constituency


def test_an_answer_keeps_table_rows_as_lines_and_links_as_their_text_but_not_attachments():
    record = parsed("commons_8417_answer_with_table_links_and_attachment")
    assert "\nGwent | 154 | 187 | 143\n" in record.answer_text
    assert "'Police workforce, England and Wales' statistical bulletin" in record.answer_text
    assert "XLSX" not in record.answer_text and "Attachments" not in record.answer_text
    (attachment,) = record.attachments
    assert attachment.title == "Police recruitment in Wales 2020 to 2023" and attachment.file_type == "XLSX"
    assert attachment.url.startswith("https://questions-statements.parliament.uk/api/")


def test_labels_and_values_in_separate_elements_are_read_together():
    record = parsed("lords_hl1629_answered_lowercase_url")
    assert record.answering_body == "Department for Digital, Culture, Media and Sport"
    assert (record.date_tabled, record.date_answered) == (date(2020, 2, 13), date(2020, 2, 27))
    assert record.answering_member == "Baroness Hallam of Kettering"  # not her party line


def test_the_answering_body_under_answered_by_is_used_when_no_question_for_label():
    html_text = page(f"<p>UIN 99</p>{QUESTION}<p>Answered on 1 May 2018</p><p>No.</p><p>Answered by</p>")
    html_text = html_text.replace("</main>", "<p>Foreign and Commonwealth Office</p></main>")
    record = parse_wq_detail_page(html_text, DETAIL + "2018-04-16/99")
    assert (record.answering_member, record.answering_body) == (None, "Foreign and Commonwealth Office")
    assert record.answer_text == "No."


@pytest.mark.parametrize(
    ("html_text", "url", "reason"),
    [
        (
            page("<h1>Armed Forces</h1><p>Statement made by Jane Doe</p><p>HCWS123</p><p>Text.</p>"),
            "https://questions-statements.parliament.uk/written-statements/detail/2024-01-05/HCWS123",
            "not a written-question page",
        ),
        (
            page("<h1>Page not found</h1><p>Sorry, we could not find that page.</p>"),
            DETAIL + "2024-01-05/7926",
            "not a written-question page",
        ),
        ("", DETAIL + "2024-01-05/7926", "not a written-question page"),
        (
            page(f"<p>Question for Ministry of Defence</p>{QUESTION}"),
            "https://example.org/q",
            "without a UIN",
        ),
        (
            page("<p>UIN 7926, tabled on 5 January 2024</p><p>Asked by X</p>"),
            DETAIL + "2024-01-05/7926",
            "no question",
        ),
        (
            page(f"<p>UIN 7926, tabled on 31 February 2024</p>{QUESTION}"),
            DETAIL + "2024-01-05/7926",
            "impossible date",
        ),
    ],
)
def test_a_page_that_is_not_a_written_question_is_a_clear_error(html_text, url, reason):
    with pytest.raises(ValueError) as error:
        parse_wq_detail_page(html_text, url)
    message = str(error.value)
    assert reason in message and url in message and "\n" not in message
