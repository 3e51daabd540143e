"""Rendering mails: golden text and HTML for a digest with every section and for the confirmation
mail; scraped text stays data (escaped in HTML, literal in text, never evaluated as a template);
the subject sums the digest up in one header-safe line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.digest_model import SECTIONS, DigestContext, DigestItem, DigestSection
from monitor.render import render_confirmation, render_digest, template_environment, trim_diff

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
BASE = "https://pqwatch.example.org"
OFFICIAL = "https://questions-statements.parliament.uk/written-questions/detail"
BLOG = "https://answers.example.net/2026/11"

LONG_SAME = (
    "The Department keeps the funding formula under review and publishes the allocations for every "
    "local authority each year, together with the technical note that explains how each factor is "
    "weighted and how the minimum funding guarantee is applied. "
)


def item(event_id: int, kind: str, **fields: object) -> DigestItem:
    """A digest item with plausible defaults; keyword arguments override any field."""
    uin = str(fields.pop("uin", 100000 + event_id))
    values: dict[str, object] = {
        "event_id": event_id,
        "kind": kind,
        "house": "Commons",
        "uin": uin,
        "date_tabled": "2026-11-03",
        "heading": "Schools: Finance",
        "question_text": "To ask the Secretary of State for Education, what assessment she has made of "
        "the adequacy of funding for schools in rural areas.",
        "answering_member": "Catherine McKinnell",
        "answering_body": "Department for Education",
        "field": None,
        "old": None,
        "new": None,
        "diff": (),
        "source_kind": "blog",
        "source_url": f"{BLOG}/schools-finance-{uin}/",
        "official_url": f"{OFFICIAL}/2026-11-03/{uin}",
        "question_url": f"{BASE}/questions/commons/{uin}",
        "detected_at": "2026-11-30T06:00Z",
    }
    values.update(fields)
    return DigestItem(**values)  # type: ignore[arg-type]


def every_section_items() -> dict[str, tuple[DigestItem, ...]]:
    """Items for every digest section, covering each way a change is shown."""
    full_answer = "The Environment Agency will complete repairs to the Parrett embankment by March 2027."
    first_answer = "The Government is increasing core schools funding by £2.3 billion in 2026-27."
    return {
        "answered": (
            item(1, "answered", field="answer_text", new=first_answer, diff=(("+", first_answer),)),
            item(
                2,
                "holding_replaced",
                house="Lords",
                uin="HL4021",
                heading="Flood Defences: Somerset",
                question_text="To ask His Majesty's Government what plans they have to repair the flood "
                "defences on the River Parrett.",
                answering_member="Baroness Hayman of Ullock",
                answering_body="Department for Environment, Food and Rural Affairs",
                field="answer_text",
                old="I will reply as soon as possible.",
                new=full_answer,
                diff=(
                    ("-", "I will reply as soon as possible."),
                    ("+", full_answer),
                ),
                source_kind="api",
                source_url="https://questions-statements-api.parliament.uk/api/writtenquestions/questions/2",
                official_url=f"{OFFICIAL}/2026-11-04/HL4021",
                question_url=f"{BASE}/questions/lords/HL4021",
            ),
        ),
        "corrected": (
            item(
                3,
                "corrected",
                field="answer_text",
                old="Funding will rise by £3 million.",
                new="Funding will rise by £4 million.",
                diff=(("=", "Funding will rise by "), ("-", "£3"), ("+", "£4"), ("=", " million.")),
                detail=(("date_corrected", "2026-11-28"), ("correcting_member", "Catherine McKinnell")),
                source_kind="api",
                source_url="https://questions-statements-api.parliament.uk/api/writtenquestions/questions/3",
            ),
        ),
        "changed": (
            item(
                4,
                "answer_text_changed",
                field="answer_text",
                old=LONG_SAME + "Allocations for 2027-28 will be published in December." + " " + LONG_SAME,
                new=LONG_SAME + "Allocations for 2027-28 will be published in January." + " " + LONG_SAME,
                diff=(
                    ("=", LONG_SAME + "Allocations for 2027-28 will be published in "),
                    ("-", "December."),
                    ("+", "January."),
                    ("=", " " + LONG_SAME),
                ),
            ),
            item(
                5,
                "answering_member_changed",
                field="answering_member",
                old="Stephen Morgan",
                new="Catherine McKinnell",
            ),
        ),
        "dates": (
            item(
                6,
                "answer_date_changed",
                field="answered_at",
                old="2026-11-20T09:30",
                new="2026-11-21T14:05",
            ),
        ),
        "holding": (
            item(7, "holding_answer", field="is_holding", old="false", new="true", answering_member=None),
            item(
                8,
                "answering_body_changed",
                field="answering_body",
                old="Department for Education",
                new="HM Treasury",
                answering_member=None,
                answering_body="HM Treasury",
            ),
        ),
        "disagree": (
            item(
                9,
                "sources_disagree",
                field="answer_text",
                old="The scheme will open on 1 April 2027.",
                new="The scheme will open on 1 May 2027.",
                diff=(("=", "The scheme will open on 1 "), ("-", "April"), ("+", "May"), ("=", " 2027.")),
                detail=(("official_url", f"{OFFICIAL}/2026-11-03/100009"), ("official_kind", "html")),
                official_url=None,
            ),
            item(
                10,
                "sources_disagree",
                field="date_answered",
                old="2026-11-20",
                new="2026-11-21",
                detail=(("official_url", f"{OFFICIAL}/2026-11-03/100010"), ("official_kind", "html")),
            ),
        ),
    }


def context_of(items: dict[str, tuple[DigestItem, ...]], period: str = "30 November 2026") -> DigestContext:
    """A daily digest context holding `items` by section key, in SECTIONS order."""
    sections = tuple(
        DigestSection(key, title, items[key]) for key, (title, _kinds) in SECTIONS.items() if key in items
    )
    return DigestContext(
        email="reader@example.org",
        frequency="daily",
        period_label=period,
        sections=sections,
        total=sum(len(section.items) for section in sections),
        unsubscribe_url=f"{BASE}/unsubscribe/tok-123",
        manage_url=f"{BASE}/manage/tok-456",
        base_url=BASE,
    )


def one_item_context(**fields: object) -> DigestContext:
    """A digest of one corrected answer, with fields of the item overridden."""
    return context_of({"corrected": (replace(every_section_items()["corrected"][0], **fields),)})  # type: ignore[arg-type]


def assert_golden(name: str, actual: str) -> None:
    """Compare rendered output with a golden file, exactly."""
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file"


# --- golden files ---------------------------------------------------------------------------------


def test_digest_with_every_section_matches_golden_text_and_html() -> None:
    mail = render_digest(context_of(every_section_items()))
    assert_golden("digest.txt", mail.text)
    assert_golden("digest.html", mail.html)


def test_confirmation_matches_golden_text_and_html() -> None:
    mail = render_confirmation(
        "reader@example.org",
        f"{BASE}/confirm/tok-789",
        BASE,
        manage_url=f"{BASE}/manage/tok-456",
        unsubscribe_url=f"{BASE}/unsubscribe/tok-123",
    )
    assert mail.subject == "pqwatch: confirm your subscription"
    assert_golden("confirm.txt", mail.text)
    assert_golden("confirm.html", mail.html)


# --- scraped text is data -------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_script_in_question_text_is_escaped_in_html_and_literal_in_text() -> None:
    mail = render_digest(one_item_context(question_text=f"What about {SCRIPT}?", heading=f"A {SCRIPT}"))
    assert "<script" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert f"What about {SCRIPT}?" in mail.text
    assert f"A {SCRIPT}" in mail.text


def test_markup_in_diff_segments_and_values_is_escaped_in_html() -> None:
    diff = (("=", "Before "), ("-", "<b>old</b>"), ("+", '<img src=x onerror="alert(1)">'), ("=", " after"))
    mail = render_digest(one_item_context(diff=diff, detail=(("correcting_member", "<i>Minister</i>"),)))
    assert "<img" not in mail.html and "<b>old" not in mail.html and "<i>Minister" not in mail.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in mail.html
    assert '[-<b>old</b>-]{+<img src=x onerror="alert(1)">+}' in mail.text
    assert "by <i>Minister</i>" in mail.text


@pytest.mark.parametrize(
    "syntax", ["{{ 7*7 }}", "{% if true %}yes{% endif %}", "{% for x in y %}", "{# note #}"]
)
def test_template_syntax_in_scraped_text_comes_out_literally(syntax: str) -> None:
    context = one_item_context(
        heading=f"H {syntax}",
        question_text=f"Q {syntax}",
        answering_member=f"M {syntax}",
        diff=(("=", f"same {syntax} "), ("-", "a"), ("+", f"b {syntax}")),
        detail=(("date_corrected", "2026-11-28"), ("correcting_member", f"C {syntax}")),
    )
    mail = render_digest(context)
    for field in ("H", "Q", "M", "same", "C"):
        assert f"{field} {syntax}" in mail.text
        assert f"{field} 49" not in mail.text and f"{field} 49" not in mail.html
    assert "yes" not in mail.text.replace(syntax, "")
    html_syntax = syntax.replace('"', "&#34;")
    assert f"Q {html_syntax}" in mail.html


def test_links_other_than_http_are_not_linked() -> None:
    mail = render_digest(one_item_context(source_url="javascript:alert(1)", official_url="data:text/html,x"))
    assert "javascript:" not in mail.html and "data:text" not in mail.html
    assert "javascript:" not in mail.text
    assert 'href="https://pqwatch.example.org/questions/commons/100003"' in mail.html


def test_environment_is_built_once_escapes_html_only_and_rejects_undefined_names() -> None:
    env = template_environment()
    assert env is template_environment()
    assert env.autoescape("digest.html") is True  # type: ignore[operator]
    assert env.autoescape("digest.txt") is False  # type: ignore[operator]
    with pytest.raises(Exception, match="undefined"):
        env.get_template("confirm.txt").render(email="a@b.c")


# --- what a digest says ---------------------------------------------------------------------------


def counted(**counts: int) -> DigestContext:
    """A digest with `counts[key]` copies of one item in each named section."""
    base = every_section_items()["corrected"][0]
    return context_of(
        {key: tuple(replace(base, event_id=n) for n in range(count)) for key, count in counts.items()}
    )


def test_subject_counts_sections_most_important_first() -> None:
    subject = render_digest(counted(answered=12, corrected=3, disagree=1)).subject
    assert (
        subject == "pqwatch: 3 answers corrected, 1 blog copy disagrees, 12 newly answered (30 November 2026)"
    )


def test_subject_names_two_sections_and_counts_the_rest_when_more_than_three() -> None:
    subject = render_digest(counted(answered=5, changed=2, dates=1, holding=1)).subject
    assert subject == "pqwatch: 1 answer date moved, 2 answers changed, 6 other changes (30 November 2026)"


def test_subject_of_three_sections_names_all_three_with_plurals() -> None:
    subject = render_digest(counted(dates=2, holding=1, answered=1)).subject
    assert subject == (
        "pqwatch: 2 answer dates moved, 1 holding answer, withdrawal or transfer, 1 newly answered"
        " (30 November 2026)"
    )


def test_subject_of_one_change_names_the_question() -> None:
    subject = render_digest(one_item_context()).subject
    assert subject == "pqwatch: 1 answer corrected: Commons 100003 Schools: Finance (30 November 2026)"


@pytest.mark.parametrize(
    "heading",
    ["Schools\r\nBcc: victim@example.org", "Schools\nBcc: x", "=?utf-8?q?a=0D=0ABcc:_x?=", "a\u2028b\x00c"],
)
def test_subject_never_contains_cr_lf_or_control_characters(heading: str) -> None:
    mail = render_digest(replace(one_item_context(heading=heading), period_label="30 November\r\n2026"))
    assert not any(char in mail.subject for char in "\r\n\x00\u2028")
    assert "=?" not in mail.subject  # an encoded word is decoded (then cleaned), never passed on


def test_empty_digest_says_no_changes() -> None:
    mail = render_digest(context_of({}))
    assert mail.subject == "pqwatch: no changes (30 November 2026)"
    assert "No changes" in mail.text and "No changes" in mail.html


def test_every_mail_ends_with_a_footer_holding_the_manage_and_unsubscribe_links() -> None:
    digest = render_digest(one_item_context())
    confirm = render_confirmation(
        "a@example.org",
        f"{BASE}/c",
        BASE,
        manage_url=f"{BASE}/manage/tok-456",
        unsubscribe_url=f"{BASE}/unsubscribe/tok-123",
    )
    for mail in (digest, confirm):
        text_footer = mail.text.split("\n-- \n")[-1]
        html_footer = mail.html.split("border-top:1px solid #dddddd")[-1]
        for footer in (text_footer, html_footer):
            assert f"{BASE}/manage/tok-456" in footer and f"{BASE}/unsubscribe/tok-123" in footer


def test_confirmation_promises_nothing_else_until_confirmed_and_escapes_the_address() -> None:
    mail = render_confirmation('"<b>x</b>"@example.org', f"{BASE}/confirm/t?a=1&b=2", BASE)
    assert "nothing else will be sent" in mail.text and "nothing else will be sent" in mail.html
    assert "<b>x</b>" not in mail.html and "&lt;b&gt;x&lt;/b&gt;" in mail.html
    assert 'href="https://pqwatch.example.org/confirm/t?a=1&amp;b=2"' in mail.html
    assert f"{BASE}/confirm/t?a=1&b=2" in mail.text


def test_long_unchanged_runs_are_trimmed_to_about_80_characters_each_side() -> None:
    same = "word " * 100
    trimmed = trim_diff(
        (("=", same), ("-", "old"), ("+", "new"), ("=", " mid " * 10), ("-", "x"), ("=", same))
    )
    first, *_, last = trimmed
    assert first[1].startswith("…") and 70 <= len(first[1]) <= 82
    assert last[1].endswith("…") and 70 <= len(last[1]) <= 82
    assert trimmed[3] == ("=", " mid " * 10)  # a short run between two changes is kept whole
    middle = trim_diff((("-", "a"), ("=", same), ("+", "b")))[1][1]
    assert "…" in middle and 140 <= len(middle) <= 170


def test_a_multiline_diff_stays_indented_in_text() -> None:
    diff = (("=", "First paragraph.\n\nSecond "), ("-", "old"), ("+", "new"), ("=", " paragraph."))
    text = render_digest(one_item_context(diff=diff)).text
    assert "  Answer: First paragraph.\n\n    Second [-old-]{+new+} paragraph.\n" in text
