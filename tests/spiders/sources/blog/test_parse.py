"""The blog parser against saved pages of every post format it meets, field by field.

Each `tests/fixtures/blog/<name>.html` is a saved post page (page chrome included: header,
sidebar, share widgets, scripts, footer and, on some, reader comments). Beside it,
`<name>.expected.json` states what the parser must return: the post's URL, canonical URL,
title and publication date, every field of every written-answer record, and the problems.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

import pytest

from spiders.normalise import html_to_text, normalise_text, parse_date
from spiders.records import AnswerRecord, PostResult
from spiders.sources.blog.formats import parse_answers_text
from spiders.sources.blog.parse import parse_post, read_post
from tests.support.helpers import FIXTURES as SAVED
from tests.support.helpers import (
    RECORD_FIELDS,
    email,
    post,
    record_json,
    saved_cases,
    saved_expected,
    saved_html,
)

FIXTURES = SAVED / "blog"
CASES = saved_cases(FIXTURES)
ALTON = "Lord Alton of Liverpool"


def expected(name: str) -> dict:
    return saved_expected(FIXTURES, name)


@cache
def parsed(name: str) -> PostResult:
    html_text = saved_html(FIXTURES, name)
    return parse_post(html_text, expected(name)["fetched_url"])


def string_fields(record: AnswerRecord) -> dict[str, str]:
    values = {name: getattr(record, name) for name in RECORD_FIELDS}
    values["grouped_with"] = " ".join(record.grouped_with)
    return {name: value for name, value in values.items() if isinstance(value, str)}


def answers(name: str) -> dict[str, AnswerRecord]:
    return {record.uin: record for record in parsed(name).post.answers if record.uin is not None}


# ---------------------------------------------------------------------------------------------
# The fixture folder, field by field


def test_every_saved_page_has_its_expected_results_beside_it():
    pages = {path.name.removesuffix(".html") for path in FIXTURES.glob("*.html")}
    expectations = {path.name.removesuffix(".expected.json") for path in FIXTURES.glob("*.json")}
    assert pages == expectations
    assert len(pages) >= 15


@pytest.mark.parametrize("name", CASES)
def test_expectations_state_every_record_field(name):
    for record in expected(name)["answers"]:
        assert sorted(record) == sorted(RECORD_FIELDS), record.get("uin")


@pytest.mark.parametrize("name", CASES)
def test_post_url_canonical_url_title_and_date_match_expected(name):
    post = parsed(name).post
    want = expected(name)["post"]
    got = {
        "url": post.url,
        "canonical_url": post.canonical_url,
        "title": post.title,
        "published": post.published.isoformat() if post.published else None,
    }
    assert got == want


@pytest.mark.parametrize("name", CASES)
def test_the_post_yields_exactly_the_expected_answers_in_order(name):
    got = [(record.house, record.uin) for record in parsed(name).post.answers]
    want = [(record["house"], record["uin"]) for record in expected(name)["answers"]]
    assert got == want


@pytest.mark.parametrize("field_name", RECORD_FIELDS)
@pytest.mark.parametrize("name", CASES)
def test_each_record_field_matches_expected(name, field_name):
    # In page order: copies without a UIN have no other key.
    got = [record_json(record)[field_name] for record in parsed(name).post.answers]
    want = [record[field_name] for record in expected(name)["answers"]]
    assert got == want


@pytest.mark.parametrize("name", CASES)
def test_problems_match_expected_and_name_the_uin(name):
    got = parsed(name).problems
    want = expected(name)["problems"]
    assert [problem.uin for problem in got] == [problem["uin"] for problem in want]
    for problem, wanted in zip(got, want, strict=True):
        assert wanted["reason_contains"] in problem.reason


# ---------------------------------------------------------------------------------------------
# Furniture and normalisation, across every page

# Text that only the page chrome carries: sidebar, share widgets, comment form, footer, scripts.
FURNITURE_TEXT = [
    "Lord David Alton",
    "For 18 years",
    "Social Media",
    "Subscribe to Blog",
    "Enter your email address",
    "Site Search",
    "Recent Posts",
    "Share This",
    "Share this:",
    "Like this:",
    "Related",
    "Facebook",
    "Twitter",
    "Submit a Comment",
    "Leave a Comment",
    "Elegant Themes",
    "Powered by",
    "GeneratePress",
    "Skip to content",
    "Select Page",
    "Comments",
    "Reply",
    "_wpemojiSettings",
    "et_pb_custom",
    "_stq",
    "monarchSettings",
    "window.",
    "AddThis",
    "Post navigation",
]


@pytest.mark.parametrize("name", CASES)
def test_page_furniture_never_appears_in_any_field(name):
    for record in parsed(name).post.answers:
        for field_name, value in string_fields(record).items():
            for text in FURNITURE_TEXT:
                assert text not in value, f"{record.uin}.{field_name} contains {text!r}"


@pytest.mark.parametrize("name", CASES)
def test_typographic_characters_never_survive_into_any_field(name):
    for record in parsed(name).post.answers:
        for field_name, value in string_fields(record).items():
            for char in "\u2018\u2019\u201c\u201d\u00a0\u00ad\u200b\r\t":
                assert char not in value, f"{record.uin}.{field_name} contains {char!r}"
            assert "&nbsp;" not in value and "&#" not in value and "<" not in value
            assert "  " not in value and "\n\n\n" not in value
            assert value == value.strip()


@pytest.mark.parametrize("name", CASES)
def test_no_field_carries_a_label_a_minister_line_or_the_answer_stamp(name):
    for record in parsed(name).post.answers:
        assert record.question_text.startswith("To ask")
        assert not record.answer_text.startswith(("Answer", str(record.answering_member)))
        assert "Date and time of answer" not in record.answer_text
        assert "Tabled on" not in record.question_text + record.answer_text
        assert not record.question_text.rstrip().endswith((f"({record.uin})", f"[{record.uin}]"))


# ---------------------------------------------------------------------------------------------
# Each format's rule, stated once


def test_an_earlier_uin_cited_in_the_question_is_not_taken_as_its_uin():
    (record,) = parsed("seed_hl2472_hikvision").post.answers
    assert record.uin == "HL2472"
    assert "on 1 September (HL2328), (1) whether" in record.question_text
    assert record.question_text.endswith("in banning Hikvision.")


def test_the_seed_answer_reads_as_published():
    (record,) = parsed("seed_hl2472_hikvision").post.answers
    assert (record.house, record.uin, record.date_tabled) == ("Lords", "HL2472", date(2021, 9, 7))
    assert record.answering_member == "Baroness Williams of Trafford"
    assert record.answering_body == "Home Office"
    assert record.asking_member is None  # the seed says only "Question:"
    assert record.answered_at == datetime(2021, 9, 21, 15, 56)
    assert record.answer_text.count("\n\n") == 3


def test_canonical_url_comes_from_link_rel_canonical_not_the_fetched_url():
    seed = parsed("seed_hl2472_hikvision").post
    assert seed.url.endswith("/page/2/?et_blog")
    assert seed.canonical_url == seed.url.removesuffix("page/2/?et_blog")
    by_id = parsed("grouped_questions_hl6108_hl6064").post
    assert by_id.url == "https://davidalton.net/?p=25324"
    assert by_id.canonical_url.startswith("https://www.davidalton.net/2022/02/15/")


def test_a_page_without_a_canonical_link_keeps_the_fetched_url():
    page = "<html><head><title>x</title></head><body><p>Nothing here.</p></body></html>"
    result = parse_post(page, "https://example.org/2021/09/21/post/")
    assert result.post.canonical_url == "https://example.org/2021/09/21/post/"
    assert result.post.answers == () and result.problems == ()


def test_lines_of_equals_signs_of_any_length_separate_answers():
    records = answers("multiple_answers_separated_by_equals_lines")
    assert list(records) == ["HL3801", "HL3802", "HL3856"]
    assert {r.answering_body for r in records.values()} == {
        "Foreign, Commonwealth and Development Office",
        "Department of Health and Social Care",
        "Cabinet Office",
    }
    for record in records.values():
        assert "=" not in record.question_text + record.answer_text
        assert "has provided the following answer" not in record.answer_text


def test_a_notification_line_starts_a_new_answer_even_without_a_separator():
    records = answers("question_label_spellings")
    assert records["HL6613"].answer_text.endswith("Strategic Export Licensing Criteria.")
    assert records["HL6701"].answering_member == "Lord Callanan"


E_MAIL = """\
Lord True, the Cabinet Office, has provided the following answer to your written \
parliamentary question (HL7001):

{label}
To ask Her Majesty's Government whether they will publish the review. (HL7001)

Tabled on: 14 March 2022

{answer}

The review will be published in due course.

Date and time of answer: 28 Mar 2022 at 15:10.
"""


@pytest.mark.parametrize(
    "label, asker",
    [
        ("Question by Lord Alton of Liverpool:", ALTON),
        ("Question by Lord Alton of Liverpool :", ALTON),
        ("Question by Lord Alton of Liverpool", ALTON),
        ("Question Lord Alton of Liverpool:", ALTON),
        ("Questions by Lord Alton of Liverpool:", ALTON),
        ("Question:", None),
        ("", None),
    ],
)
def test_asking_member_is_taken_only_from_a_question_label_that_names_one(label, asker):
    records, problems = parse_answers_text(E_MAIL.format(label=label, answer="Answer:\nLord True:"))
    assert problems == []
    (record,) = records
    assert record.asking_member == asker
    assert record.question_text == "To ask Her Majesty's Government whether they will publish the review."


@pytest.mark.parametrize(
    "answer_lines",
    [
        "Answer: Lord True:",
        "Answer:\nLord True:",
        "Answer:\nLord True",
        "Answer:\n\nLord True:",
        "Lord True:",
        "",
    ],
)
def test_every_answer_label_spelling_gives_the_minister_and_a_clean_answer(answer_lines):
    records, problems = parse_answers_text(E_MAIL.format(label="Question:", answer=answer_lines))
    assert problems == []
    (record,) = records
    assert record.answering_member == "Lord True"
    assert record.answering_body == "Cabinet Office"
    assert record.answer_text == "The review will be published in due course."
    assert record.answered_at == datetime(2022, 3, 28, 15, 10)


def test_a_notification_naming_several_uins_answers_the_first_and_groups_the_rest():
    text = (
        E_MAIL.format(label="Questions by Lord Alton of Liverpool:", answer="Answer:")
        .replace("question (HL7001):", "questions (HL7001 and HL7002):")
        .replace(
            "Tabled on: 14 March 2022\n",
            "Tabled on: 14 March 2022\n\nThis question was grouped with the following question(s) "
            "for answer:\n\n1. To ask Her Majesty's Government when. (HL7002)\n"
            "Tabled on: 15 March 2022\n",
        )
    )
    records, problems = parse_answers_text(text)
    assert problems == []
    assert [(r.uin, r.grouped_with, r.date_tabled) for r in records] == [
        ("HL7001", ("HL7002",), date(2022, 3, 14)),
        ("HL7002", ("HL7001",), date(2022, 3, 15)),
    ]
    assert records[1].question_text == "To ask Her Majesty's Government when."


def test_questions_grouped_for_answer_give_one_record_each_sharing_the_answer():
    records = answers("grouped_questions_hl6108_hl6064")
    assert list(records) == ["HL6108", "HL6064"]  # the answered UIN first
    assert records["HL6108"].grouped_with == ("HL6064",)
    assert records["HL6064"].grouped_with == ("HL6108",)
    assert records["HL6108"].answer_text == records["HL6064"].answer_text
    assert records["HL6064"].date_tabled == date(2022, 1, 31)
    assert records["HL6064"].question_text.startswith("To ask")  # the "1. " numbering is gone
    assert all(r.asking_member == ALTON for r in records.values())
    assert "grouped" not in records["HL6108"].question_text


def test_reader_comments_never_leak_into_the_answer():
    comments = [
        ("eritreahub_no_labels_with_comments", "HL12470", ["still no sanctions", "Shameful"]),
        ("seed_hl2472_hikvision", "HL2472", ["Thank you for persisting", "Why is the UK"]),
        ("grouped_questions_hl6108_hl6064", "HL6108", ["nobody knows"]),
        ("hansard_style_paste_hl8104", "HL8104", ["Pray for southern Kaduna"]),
    ]
    for name, uin, phrases in comments:
        result = parsed(name)
        assert [r.uin for r in result.post.answers][:1] == [uin]
        record = answers(name)[uin]
        for phrase in phrases:
            assert phrase not in record.answer_text + record.question_text
        assert record.answered_at != datetime(2021, 2, 24, 9, 0)  # a comment's fake stamp
        assert result.problems == ()


def test_a_content_root_inside_furniture_is_passed_over_for_the_post_itself():
    # A related-posts widget before the post, carrying its own .entry-content excerpt.
    page = """<html><body>
    <aside class="widget"><article><div class="entry-content"><p>Related: another answer.</p>
    </div></article></aside>
    <article class="post"><div class="entry-content">
    <p>Lord Alton of Liverpool &#8211; To ask Her Majesty&#8217;s Government what steps they
    are taking. [HL8104]</p>
    <p>Lord Ahmad of Wimbledon &#8211; We are taking several steps.</p>
    <div class="sharedaddy">Share this: 12 shares</div></div></article></body></html>"""
    (record,) = parse_post(page, "https://example.org/p/1/").post.answers
    assert record.uin == "HL8104"
    assert record.answer_text == "We are taking several steps."


def test_reader_comments_inside_the_post_article_are_dropped_before_reading():
    # A theme with no .entry-content: the parser reads the whole <article>, comments included,
    # and a Hansard-style answer runs to the end of what it reads.
    page = """<html><head><link rel="canonical" href="https://example.org/p/1/"></head><body>
    <article class="post"><h1>Kaduna</h1>
    <p>Lord Alton of Liverpool &#8211; To ask Her Majesty&#8217;s Government what steps they
    are taking. [HL8104]</p>
    <p>Lord Ahmad of Wimbledon &#8211; We are taking several steps.</p>
    <section id="comments" class="comments-area"><h2>One Response</h2>
    <ol class="comment-list"><li class="comment"><p>Not enough steps, Minister.</p></li></ol>
    <div id="respond" class="comment-respond"><h3>Leave a Reply</h3><form>Name</form></div>
    </section></article>
    <div id="secondary" class="widget-area"><p>Recent Posts</p></div>
    <footer id="colophon">Powered by WordPress</footer></body></html>"""
    (record,) = parse_post(page, "https://example.org/?p=1").post.answers
    assert record.answer_text == "We are taking several steps."
    assert record.question_text == "To ask Her Majesty's Government what steps they are taking."


def test_a_post_with_no_labels_still_reads_question_minister_and_answer():
    (record,) = parsed("eritreahub_no_labels_with_comments").post.answers
    assert record.asking_member is None
    assert record.answering_member == "Lord Ahmad of Wimbledon"
    assert record.question_text.startswith("To ask Her Majesty's Government what assessment")
    assert record.answer_text.startswith("We are aware of credible reports")
    assert "Source:" not in record.question_text + record.answer_text


def test_lines_broken_by_br_inside_one_paragraph_are_joined_by_single_newlines():
    record = answers("answer_label_spellings")["HL3012"]
    assert record.answer_text.split("\n") == [
        "The Government keeps the regulation of surveillance technology under review. "
        "Relevant measures include:",
        "- the Surveillance Camera Code of Practice;",
        "- the Data Protection Act 2018; and",
        "- the export control regime.",
    ]


@pytest.mark.parametrize(
    "name, uin, wording",
    [
        ("her_majestys_government_2021", "HL1108", "To ask Her Majesty's Government"),
        ("his_majestys_government_2023", "HL8521", "To ask His Majesty's Government"),
    ],
)
def test_her_and_his_majestys_government_wordings_both_read(name, uin, wording):
    record = answers(name)[uin]
    assert record.question_text.startswith(wording)
    assert record.asking_member == ALTON


def test_a_hansard_style_paste_gives_speakers_and_every_answer_paragraph_but_no_dates():
    (record,) = parsed("hansard_style_paste_hl8104").post.answers
    assert (record.uin, record.asking_member, record.answering_member) == (
        "HL8104",
        ALTON,
        "Lord Ahmad of Wimbledon",
    )
    assert (record.date_tabled, record.date_answered, record.answered_at) == (None, None, None)
    assert record.answering_body is None
    assert "(HL6538)" in record.question_text and "HL8104" not in record.question_text
    assert len(record.answer_text.split("\n\n")) == 2
    assert not record.answer_text.startswith(("Lord Ahmad", "–"))


def test_hansard_style_uin_on_the_question_line_after_an_earlier_reference():
    text = (
        "Lord Alton of Liverpool – To ask Her Majesty's Government, further to the Written "
        "Answer on 14 July (HL6538), what steps they are taking. [HL8104]\n\n"
        "Lord Ahmad of Wimbledon – We are taking several steps.\n\n"
        "Lord Alton of Liverpool – To ask Her Majesty's Government what assessment they have "
        "made. [HL8105]\n\n"
        "Lord Ahmad of Wimbledon – We keep this under review."
    )
    records, problems = parse_answers_text(text)
    assert problems == []
    assert [(r.uin, r.answer_text) for r in records] == [
        ("HL8104", "We are taking several steps."),
        ("HL8105", "We keep this under review."),
    ]
    assert records[0].question_text.endswith("(HL6538), what steps they are taking.")


@pytest.mark.parametrize("name", ["oral_question_transcript", "news_post_without_answers"])
def test_posts_without_a_written_answer_give_no_records_and_no_problems(name):
    result = parsed(name)
    assert result.post.answers == ()
    assert result.problems == ()
    assert result.post.title  # the post itself is still read


@pytest.mark.parametrize(
    "name, uin",
    [("impossible_tabled_date", "HL5231"), ("impossible_answer_time", "HL7020")],
)
def test_an_impossible_date_or_time_is_a_problem_naming_the_uin_not_a_record(name, uin):
    result = parsed(name)
    assert result.post.answers == ()
    assert [problem.uin for problem in result.problems] == [uin]
    assert "impossible" in result.problems[0].reason


def test_a_cut_off_answer_is_a_problem_and_leaves_no_partial_record():
    result = parsed("cut_off_mid_answer")
    assert [r.uin for r in result.post.answers] == ["HL4410"]  # the whole answer before it
    assert [(p.uin, "cut off" in p.reason) for p in result.problems] == [("HL4411", True)]
    assert all("the Government will" not in r.answer_text for r in result.post.answers)


def test_curly_quotes_nbsp_and_entities_normalise_to_plain_text():
    (record,) = parsed("curly_quotes_nbsp_and_entities").post.answers
    assert record.uin == "HL2990"  # written "HL&nbsp;2990" in the page
    assert record.date_tabled == date(2021, 9, 28)  # "28&nbsp;September&nbsp;2021"
    assert '"The Great Leap Backwards of Journalism in China"' in record.question_text
    assert "'The Great Leap Backwards of Journalism in China'" in record.answer_text
    assert "Zhang Zhan & Cheng Lei" in record.answer_text
    assert record.answer_text.endswith("on media freedom.")  # soft hyphen and ZWSP gone
    assert "AddThis" not in record.question_text  # an HTML comment is not text


# ---------------------------------------------------------------------------------------------
# The pure helpers in spiders/normalise.py


@pytest.mark.parametrize(
    "text, value",
    [
        ("07 September 2021", date(2021, 9, 7)),
        ("7 September 2021", date(2021, 9, 7)),
        ("21 Sep 2021", date(2021, 9, 21)),
        ("21 Sept 2021", date(2021, 9, 21)),
        ("24th October 2022", date(2022, 10, 24)),
        ("1st March 2020", date(2020, 3, 1)),
        ("Sep 21, 2021", date(2021, 9, 21)),
        ("September 21, 2021", date(2021, 9, 21)),
        ("2021-09-21", date(2021, 9, 21)),
        ("2021-09-21T15:56:00+01:00", date(2021, 9, 21)),
        ("Tuesday 21 September 2021", date(2021, 9, 21)),
        ("21\u00a0Sep\u00a02021.", date(2021, 9, 21)),
    ],
)
def test_parse_date_reads_every_date_spelling_the_sources_use(text, value):
    assert parse_date(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "31 Feb 2022",
        "31 February 2022",
        "29 Feb 2022",
        "2022-02-30",
        "garbage",
        "",
        "21 Smarch 2021",
        "21 Sep 1066",
    ],
)
def test_parse_date_rejects_impossible_or_unreadable_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_parse_date_accepts_a_leap_day_and_rejects_dates_after_latest():
    assert parse_date("29 Feb 2024") == date(2024, 2, 29)
    with pytest.raises(ValueError):
        parse_date("22 Sep 2021", latest=date(2021, 9, 21))


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Her Majesty\u2019s \u201cGovernment\u201d", 'Her Majesty\'s "Government"'),
        ("\u2018single\u2019", "'single'"),
        ("a\u00a0b  c\tand\u202fd", "a b c and d"),
        ("in\u00adde\u00adpendent\u200b", "independent"),
        ("  first  \r\n\n\n\n second \n", "first\n\nsecond"),
        ("line one\nline two", "line one\nline two"),
        ("cafe\u0301", "caf\u00e9"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_text_gives_straight_quotes_single_spaces_and_one_blank_line(raw, clean):
    assert normalise_text(raw) == clean


def test_normalise_text_maps_each_typographic_character_alone_and_among_others():
    expected = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2033": '"', "\u00a0": " "}
    expected |= {"\u200b": "", "\u2060": "", "\ufeff": "", "\u00ad": "", "\t": " ", "\r": ""}
    for char, plain in expected.items():
        assert normalise_text(f"x{char}y") == f"x{plain}y"
    assert normalise_text("\u201cTo\u00a0ask\u201d \u2013 HMG\u2019s") == '"To ask" \u2013 HMG\'s'


def test_normalise_text_is_idempotent():
    once = normalise_text("\u201cA\u201d\u00a0 b\n\n\n\nc ")
    assert normalise_text(once) == once


def test_html_to_text_keeps_paragraphs_and_lines_broken_by_br():
    fragment = (
        "<p>First paragraph.</p>\n<p>Line one<br />\nline two</p><p>&nbsp;</p>"
        "<div><p>Third, wrapped\nin the source.<br><br>Fourth.</p></div>"
    )
    assert html_to_text(fragment) == (
        "First paragraph.\n\nLine one\nline two\n\nThird, wrapped in the source.\n\nFourth."
    )


def test_html_to_text_renders_a_table_with_cells_separated_by_pipes():
    fragment = (
        "<p>Figures:</p><table><thead><tr><th>Year</th><th>Prosecutions</th></tr></thead>"
        "<tbody><tr><td>2020</td><td>1,002</td></tr><tr><td>2021</td><td>1,165</td></tr>"
        "</tbody></table><p>Source: CPS.</p>"
    )
    text = html_to_text(fragment)
    assert "Year | Prosecutions\n2020 | 1,002\n2021 | 1,165" in text
    assert text.startswith("Figures:\n\n") and text.endswith("\n\nSource: CPS.")


def test_html_to_text_keeps_links_and_inline_markup_as_their_text():
    fragment = (
        '<p>See <a href="https://questions-statements.parliament.uk/">the <em>official</em> '
        "record</a> &amp; <strong>GOV.UK</strong>.</p>"
    )
    assert html_to_text(fragment) == "See the official record & GOV.UK."


def test_html_to_text_drops_scripts_styles_and_comments_but_keeps_their_tails():
    fragment = (
        "<p>Before<script>var x = 1;</script> after</p><style>p{color:red}</style>"
        "<!-- a plugin comment --><p>Last<!-- inline --> word</p>"
    )
    assert html_to_text(fragment) == "Before after\n\nLast word"


@pytest.mark.parametrize("fragment, text", [("", ""), (None, ""), ("plain \u2019text\u2019", "plain 'text'")])
def test_html_to_text_handles_empty_and_plain_input(fragment, text):
    assert html_to_text(fragment) == text


def _fingerprint(**changes) -> str:
    answer = changes.pop("answer", "I will meet the Commissioner shortly.")
    paragraphs = email("HL2472", "07 September 2021", "21 Sep 2021 at 15:56", answer)
    return read_post(
        post("https://blog.example", "/p/", paragraphs, **changes), "https://blog.example/p/"
    ).fingerprint


def test_a_page_fingerprint_ignores_furniture_and_notices_any_content_edit():
    base = _fingerprint()
    assert _fingerprint(footer="generated at 10:02, nonce 8f3a", shares=99, comments=["Me too"]) == base
    assert _fingerprint(answer="I will meet the Commissioner shortly!") != base
    assert _fingerprint(answer="I will  meet the Commissioner shortly.") != base  # markup, not text


def test_a_page_fingerprint_covers_the_post_date_and_the_parsers_code(monkeypatch):
    page = (FIXTURES / "seed_hl2472_hikvision.html").read_text()
    base = read_post(page, "https://example.org/").fingerprint
    assert (
        read_post(
            page.replace("2021-09-21T18:02:11", "2021-09-22T18:02:11"), "https://example.org/"
        ).fingerprint
        != base
    )
    monkeypatch.setattr("spiders.sources.blog.parse.PARSER_ID", "another parser")
    assert read_post(page, "https://example.org/").fingerprint != base
