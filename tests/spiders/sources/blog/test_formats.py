"""The republishing formats of copies (data-sources.md §4.4), read from plain text field by field:
Church in Parliament, the copy of the official page, parallelparliament, TheyWorkForYou, Official
Report citations and MPs' own copies; and the near-misses that must give nothing."""

from __future__ import annotations

from datetime import date

import pytest

from spiders.sources.blog.formats import is_anchor, parse_answers_text

CHURCH = """\
The Bishop of St Albans received the following written answer on {date}:

The Lord Bishop of St Albans asked His Majesty's Government when they intend to publish the \
consultation response.

{minister} We are analysing the feedback.

Hansard"""

COPY_OF_OFFICIAL_PAGE = """\
Baroness Cox Question for Foreign, Commonwealth and Development Office
Sudan: Armed Conflict
{asked}
{uin}
To ask Her Majesty's Government what assessment they have made of the conflict in Sudan.
Answered 21 June 2021 By {minister}
The UK is deeply concerned.

We continue to press for a ceasefire."""

PARALLEL_PARLIAMENT = """\
Written Question
National Flagship
{date}
Asked by: {asker}
Question to the Ministry of Defence:
To ask the Secretary of State for Defence, what his Department's policy is on a national flagship.
Answered by James Cartlidge - Minister of State (Ministry of Defence)
The decision was made to suspend the programme."""

THEYWORKFORYOU = """\
Treasury: Migrant Workers
HM Treasury written question – answered on 21st March 2017.
Alert me about debates like this
Tulip Siddiq Labour, Hampstead and Kilburn
To ask Mr Chancellor of the Exchequer, how many people employed by his Department are from \
other EU countries. [67471]
Simon Kirby The Economic Secretary to the Treasury
All Government Departments are bound by legal requirements.
Does this answer the above question?
Yes 2 people think so"""

CITATION = """\
Dr Julian Lewis (New Forest East) (Con): To ask the Secretary of State for Defence how many \
frigates are in service. [12345]
The Minister for the Armed Forces (James Heappey): There are 12 frigates in service.
{citation}"""

MP_COPY = """\
Ministry of Defence written question – answered on 5 March 2024
{uin}
Asked by Dr Julian Lewis
{tabled}
To ask the Secretary of State for Defence, how many frigates are in service.
Answered by James Heappey
There are 12 frigates in service."""


def one(text: str):
    records, problems = parse_answers_text(text)
    assert problems == []
    (record,) = records
    return record


# ---------------------------------------------------------------------------------------------
# Church in Parliament


@pytest.mark.parametrize(
    "written, day",
    [
        ("24th October 2022", date(2022, 10, 24)),
        ("1st March 2020", date(2020, 3, 1)),
        ("15 April 2024", date(2024, 4, 15)),
    ],
)
def test_church_posts_take_the_answer_date_from_the_intro_in_any_ordinal_spelling(written, day):
    record = one(CHURCH.format(date=written, minister="Lord Markham (Con, DHSC):"))
    assert record.date_answered == day
    assert record.date_tabled is None


def test_church_posts_give_a_lords_record_without_uin_asked_by_the_lord_bishop():
    record = one(CHURCH.format(date="15th April 2024", minister="Lord Markham (Con, DHSC):"))
    assert (record.house, record.uin) == ("Lords", None)
    assert record.asking_member == "The Lord Bishop of St Albans"
    assert record.question_text == (
        "To ask His Majesty's Government when they intend to publish the consultation response."
    )
    assert record.answer_text == "We are analysing the feedback."  # the "Hansard" link is not


@pytest.mark.parametrize(
    "minister, name, body",
    [
        ("Lord Markham (Con, DHSC):", "Lord Markham", "Department of Health and Social Care"),
        ("Lord Markham (Con):", "Lord Markham", None),
        ("Lord Markham:", "Lord Markham", None),
        ("Baroness Barran (Con, XYZ):", "Baroness Barran", None),
        ("Lord Markham\n\n", "Lord Markham", None),
    ],
)
def test_church_ministers_lose_their_party_and_a_known_department_becomes_the_body(minister, name, body):
    record = one(CHURCH.format(date="15th April 2024", minister=minister))
    assert (record.answering_member, record.answering_body) == (name, body)
    assert record.answer_text == "We are analysing the feedback."


def test_a_church_question_in_the_to_ask_form_keeps_its_uin():
    text = (
        "On 1st May 2019 the Bishop of St Albans, Rt Revd Alan Smith, received a written answer to a "
        "question on street preachers:\n\nThe Lord Bishop of St Albans: HL15288 To ask Her Majesty's "
        "Government whether police officers receive training on religious literacy.\n\n"
        "Baroness Williams of Trafford: Training is a matter for chief constables."
    )
    record = one(text)
    assert (record.uin, record.date_answered) == ("HL15288", date(2019, 5, 1))
    assert record.question_text.startswith("To ask Her Majesty's Government whether")


def test_a_church_excerpt_cut_off_at_continue_reading_is_a_problem_not_a_record():
    text = CHURCH.format(date="15th April 2024", minister="Lord Markham (Con, DHSC):").replace(
        "Hansard", 'Continue reading "Bishop of St Albans asks about consultations"'
    )
    records, problems = parse_answers_text(text)
    assert records == [] and len(problems) == 1 and "cut off" in problems[0].reason


def test_a_church_answer_date_without_a_year_is_a_problem():
    text = CHURCH.format(date="1st May", minister="Lord Markham:")
    records, problems = parse_answers_text(text)
    assert records == [] and "no year" in problems[0].reason


# ---------------------------------------------------------------------------------------------
# The copy of the official question page (baronesscox.com)


@pytest.mark.parametrize(
    "asked, uin",
    [
        ("Asked 7 June 2021", "UIN HL567"),
        ("Asked by Baroness Cox on 7 June 2021", "HL567"),
        ("Asked on: 7 June 2021", "UIN: HL567"),
    ],
)
def test_the_official_page_copy_reads_asked_and_uin_in_every_spelling(asked, uin):
    record = one(COPY_OF_OFFICIAL_PAGE.format(asked=asked, uin=uin, minister="Lord Ahmad of Wimbledon"))
    assert (record.house, record.uin, record.date_tabled) == ("Lords", "HL567", date(2021, 6, 7))
    assert record.asking_member == "Baroness Cox"
    assert record.answering_body == "Foreign, Commonwealth and Development Office"
    assert record.heading == "Sudan: Armed Conflict"
    assert record.date_answered == date(2021, 6, 21)
    assert record.answer_text == "The UK is deeply concerned.\n\nWe continue to press for a ceasefire."


def test_the_official_page_copy_takes_party_and_peerage_out_of_the_minister():
    record = one(
        COPY_OF_OFFICIAL_PAGE.format(
            asked="Asked 7 June 2021",
            uin="UIN HL567",
            minister="Lord Ahmad of Wimbledon (Conservative, Life peer)",
        )
    )
    assert record.answering_member == "Lord Ahmad of Wimbledon"


def test_a_department_and_heading_run_together_on_one_line_are_split_at_the_known_department():
    text = COPY_OF_OFFICIAL_PAGE.format(
        asked="Asked 7 June 2021", uin="UIN HL567", minister="Lord Ahmad"
    ).replace("Development Office\nSudan", "Development Office Sudan")
    record = one(text)
    assert (record.answering_body, record.heading) == (
        "Foreign, Commonwealth and Development Office",
        "Sudan: Armed Conflict",
    )


def test_an_unanswered_copy_of_the_official_page_is_a_problem_naming_its_uin():
    text = COPY_OF_OFFICIAL_PAGE.format(asked="Asked 7 June 2021", uin="UIN HL567", minister="x").split(
        "Answered"
    )[0]
    records, problems = parse_answers_text(text)
    assert records == [] and [p.uin for p in problems] == ["HL567"]


# ---------------------------------------------------------------------------------------------
# parallelparliament


@pytest.mark.parametrize(
    "written, day",
    [
        ("Tuesday 9th April 2024", date(2024, 4, 9)),
        ("Monday 18th December 2023", date(2023, 12, 18)),
        ("2016-01-20", date(2016, 1, 20)),
    ],
)
def test_parallelparliament_listing_dates_read_with_weekday_and_ordinal(written, day):
    record = one(
        PARALLEL_PARLIAMENT.format(date=written, asker="Julian Lewis (Conservative - New Forest East)")
    )
    assert record.date_tabled == day


@pytest.mark.parametrize(
    "asker, name, house",
    [
        ("Julian Lewis (Conservative - New Forest East)", "Julian Lewis", "Commons"),
        ("Lord Bishop of Lincoln (Bishops - Bishops)", "Lord Bishop of Lincoln", "Lords"),
        ("Baroness Cox (Crossbench - Life peer)", "Baroness Cox", "Lords"),
    ],
)
def test_parallelparliament_names_lose_party_and_seat_and_give_the_house(asker, name, house):
    record = one(PARALLEL_PARLIAMENT.format(date="Tuesday 9th April 2024", asker=asker))
    assert (record.asking_member, record.house, record.uin) == (name, house, None)


def test_parallelparliament_keeps_the_ministers_name_not_their_current_role():
    record = one(PARALLEL_PARLIAMENT.format(date="Tuesday 9th April 2024", asker="Julian Lewis"))
    assert record.answering_member == "James Cartlidge"
    assert (record.answering_body, record.heading) == ("Ministry of Defence", "National Flagship")


def test_a_parallelparliament_listing_gives_one_record_per_written_question():
    text = PARALLEL_PARLIAMENT.format(date="Tuesday 9th April 2024", asker="Julian Lewis")
    records, problems = parse_answers_text(text + "\n\n" + text.replace("National Flagship", "Frigates"))
    assert problems == []
    assert [r.heading for r in records] == ["National Flagship", "Frigates"]


def test_a_parallelparliament_question_page_reads_asked_on_and_answered_on():
    text = (
        "Written Question\nSchools: Finance\nAsked by: Julian Lewis (Conservative - New Forest East)\n"
        "This question was asked on 2nd March 2020\nQuestion to the Department for Education:\n"
        "To ask the Secretary of State for Education, what funding schools will receive.\n"
        "Answered by Nick Gibb - Former Minister of State\nThis question was answered on 16th March 2020\n"
        "Schools will receive more funding."
    )
    record = one(text)
    assert (record.date_tabled, record.date_answered) == (date(2020, 3, 2), date(2020, 3, 16))
    assert record.answering_member == "Nick Gibb"
    assert record.answer_text == "Schools will receive more funding."


# ---------------------------------------------------------------------------------------------
# TheyWorkForYou


def test_theyworkforyou_copies_read_lead_speakers_and_the_bracketed_uin():
    record = one(THEYWORKFORYOU)
    assert (record.house, record.uin) == ("Commons", "67471")
    assert (record.asking_member, record.answering_member) == ("Tulip Siddiq", "Simon Kirby")
    assert (record.answering_body, record.heading) == ("HM Treasury", "Treasury: Migrant Workers")
    assert record.date_answered == date(2017, 3, 21)
    assert record.question_text.endswith("from other EU countries.")
    assert record.answer_text == "All Government Departments are bound by legal requirements."


def test_theyworkforyou_lords_uins_give_a_lords_record():
    text = THEYWORKFORYOU.replace("[67471]", "[HL1234]").replace(
        "Tulip Siddiq Labour, Hampstead and Kilburn", "Lord Alton of Liverpool Crossbench"
    )
    record = one(text)
    assert (record.house, record.uin, record.asking_member) == ("Lords", "HL1234", "Lord Alton of Liverpool")


# ---------------------------------------------------------------------------------------------
# Official Report citations


def test_an_official_report_citation_dates_the_answer_above_it():
    record = one(CITATION.format(citation="[Official Report, 5 March 2024; Vol. 746, c. 123W.]"))
    assert (record.house, record.uin, record.date_answered) == ("Commons", "12345", date(2024, 3, 5))
    assert record.asking_member == "Dr Julian Lewis"
    assert record.answering_member == "James Heappey"  # from "The Minister … (James Heappey)"
    assert record.answer_text == "There are 12 frigates in service."


def test_a_citation_of_a_debate_column_is_not_a_written_answer():
    records, problems = parse_answers_text(
        CITATION.format(citation="[Official Report, 5 March 2024; Vol. 746, c. 123.]")
    )
    assert (records, problems) == ([], [])


# ---------------------------------------------------------------------------------------------
# MPs' own copies


@pytest.mark.parametrize("uin", ["UIN 12345", "Question 12345", "(12345)", "Question number: 12345"])
@pytest.mark.parametrize(
    "tabled", ["Tabled on 26 February 2024", "Asked on 26 February 2024", "Tabled on: 26th February 2024"]
)
def test_mps_copies_read_every_uin_and_tabled_spelling(uin, tabled):
    record = one(MP_COPY.format(uin=uin, tabled=tabled))
    assert (record.house, record.uin, record.date_tabled) == ("Commons", "12345", date(2024, 2, 26))
    assert record.date_answered == date(2024, 3, 5)
    assert record.answering_body == "Ministry of Defence"
    assert (record.asking_member, record.answering_member) == ("Dr Julian Lewis", "James Heappey")


def test_an_mps_copy_without_a_uin_is_a_commons_record_without_one():
    record = one(MP_COPY.format(uin="", tabled="Tabled on 26 February 2024"))
    assert (record.house, record.uin) == ("Commons", None)


# ---------------------------------------------------------------------------------------------
# Near-misses and anchors

NEAR_MISSES = [
    "Asked by reporters whether the answer was adequate, Lord Alton said it was not.\n"
    "He had asked the Government about Sudan on 7 June 2021 and was answered by the Minister.",
    "Question for Short Debate\nAsked by\nBaroness Corston\nTo ask Her Majesty's Government what is "
    "their response to the Report.\nBaroness Corston (Lab): My Lords, in opening this debate, I stress.",
    "The Bishop of Durham spoke in a debate on childcare on 19th April 2017:\n\nThe Lord Bishop of "
    "Durham: My Lords, I am grateful to the Minister.",
    "As the Minister told the House [Official Report, 5 March 2024; Vol. 746, c. 123W.], frigates matter.",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_prose_that_quotes_a_label_and_oral_questions_give_no_records_and_no_problems(text):
    assert parse_answers_text(text) == ([], [])


@pytest.mark.parametrize(
    "line",
    [
        "The Bishop of St Albans received the following written answer on 24th October 2022:",
        "[Official Report, 5 March 2024; Vol. 746, c. 123W.]",
        "Written Question",
        "Question to the Ministry of Defence:",
        "HM Treasury written question – answered on 21st March 2017.",
        "Asked 7 June 2021",
        "Answered 21 June 2021 By Lord Ahmad of Wimbledon (Conservative, Life peer)",
        "UIN HL567",
        "To ask Mr Chancellor of the Exchequer, how many. [67471]",
    ],
)
def test_each_formats_own_lines_are_anchors(line):
    assert is_anchor(line)


@pytest.mark.parametrize(
    "line",
    [
        "Asked by reporters whether the answer was adequate, Lord Alton said it was not.",
        "Answered by the Minister in the usual way.",
        "The question was answered on a Tuesday.",
        "To ask a question is easy.",
        "Question for the Minister: why not?",
    ],
)
def test_ordinary_prose_is_not_an_anchor(line):
    assert not is_anchor(line)


# ---------------------------------------------------------------------------------------------
# Gaps the saved pages of each site showed


def test_a_question_pages_answered_on_line_below_the_answer_dates_it_and_ends_it():
    page = PARALLEL_PARLIAMENT.format(date="Monday 2nd March 2020", asker="Rachael Maskell (Labour - York)")
    records, problems = parse_answers_text(page + "\nThis question was answered on 16th March 2020")
    assert problems == []
    (record,) = records
    assert (record.date_tabled, record.date_answered) == (date(2020, 3, 2), date(2020, 3, 16))
    assert record.answer_text == "The decision was made to suspend the programme."


@pytest.mark.parametrize(
    "asker",
    [
        "Rachael Maskell (Labour (Co-op) - York Central)",
        "Rachael Maskell (Labour/Co-operative - York Central)",
        "Rachael Maskell",
    ],
)
def test_a_party_with_its_own_brackets_is_taken_out_of_the_member_name(asker):
    text = PARALLEL_PARLIAMENT.format(date="Monday 2nd March 2020", asker=asker)
    records, _ = parse_answers_text(text)
    assert [record.asking_member for record in records] == ["Rachael Maskell"]


def test_an_ampersand_in_a_department_is_spelt_as_the_api_names_it():
    text = PARALLEL_PARLIAMENT.format(
        date="Tuesday 9th April 2024", asker="Jim Shannon (DUP - Strangford)"
    ).replace("Ministry of Defence:", "Foreign, Commonwealth & Development Office:")
    (record,) = parse_answers_text(text)[0]
    assert record.answering_body == "Foreign, Commonwealth and Development Office"


def test_a_hansard_source_link_under_the_question_is_not_the_answer():
    text = """\
Schools: Admissions
Department for Education written question – answered on 9th March 2016.
Tulip Siddiq Labour, Hampstead and Kilburn
To ask the Secretary of State for Education, how many children were refused a place. [28753]
Hansard source
Nick Gibb The Minister of State for Schools
The information requested is not held centrally.
Does this answer the above question?"""
    (record,) = parse_answers_text(text)[0]
    assert (record.uin, record.answering_member) == ("28753", "Nick Gibb")
    assert record.answer_text == "The information requested is not held centrally."


def test_the_department_line_above_an_mps_uin_is_the_answering_body():
    text = """\
Department for Transport
UIN 12345
Asked by Sarah Dyke (Liberal Democrat – Glastonbury and Somerton)
Tabled on 18 November 2024
To ask the Secretary of State for Transport, what steps she is taking to protect bus services.
Answered by Simon Lightwood – Parliamentary Under-Secretary (Department for Transport)
Answered on 26 November 2024
The Government recognises that buses are a lifeline."""
    (record,) = parse_answers_text(text)[0]
    assert (record.answering_body, record.asking_member) == ("Department for Transport", "Sarah Dyke")
    assert (record.date_tabled, record.date_answered) == (date(2024, 11, 18), date(2024, 11, 26))


def test_an_official_report_heading_covers_every_cited_answer_under_it():
    text = """\
NUCLEAR DETERRENT: SUCCESSOR SUBMARINES
Dr Julian Lewis: To ask the Secretary of State for Defence, when. [22871]
Mr Philip Dunne: In the early 2030s.
[Official Report, 18 January 2016; Vol. 604, c. 45W.]
Dr Julian Lewis: To ask the Secretary of State for Defence, how much. [22872]
Mr Philip Dunne: Around £1.4 billion.
[Official Report, 19 January 2016; Vol. 604, c. 121W.]"""
    records, problems = parse_answers_text(text)
    assert problems == []
    assert [(r.uin, r.heading) for r in records] == [
        ("22871", "NUCLEAR DETERRENT: SUCCESSOR SUBMARINES"),
        ("22872", "NUCLEAR DETERRENT: SUCCESSOR SUBMARINES"),
    ]
