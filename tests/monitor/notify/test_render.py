"""Rendering mails: golden text and HTML for a digest with every section and for the confirmation
mail; scraped text stays data (escaped in HTML, literal in text, never evaluated as a template);
the subject sums the digest up in one header-safe line."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.notify.model import SECTIONS, DigestContext
from monitor.notify.render import (
    KIND_LABELS,
    render_confirmation,
    render_digest,
    template_environment,
    trim_diff,
)
from storage.terms import ChangeKind
from tests.support.helpers import BASE, FIXTURES, context_of, every_section_items, one_item_context

GOLDEN = FIXTURES / "golden"


def assert_golden(name: str, actual: str) -> None:
    """Compare rendered output with a golden file, exactly."""
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file"


# --- golden files ---------------------------------------------------------------------------------


def test_digest_with_every_section_matches_golden_text_and_html() -> None:
    mail = render_digest(context_of(every_section_items()))
    assert_golden("digest.txt", mail.text)
    assert_golden("digest.html", mail.html)


def test_every_change_kind_has_one_digest_section_and_a_label() -> None:
    placed = [kind for _title, kinds in SECTIONS.values() for kind in kinds]
    assert sorted(placed) == sorted(ChangeKind) and len(placed) == len(set(placed))
    assert set(KIND_LABELS) == set(ChangeKind)


def test_confirmation_matches_golden_text_and_html() -> None:
    mail = render_confirmation(
        "reader@example.org",
        f"{BASE}/confirm/tok-789",
        BASE,
        frequency="weekly",
        send_time="08:30",
        filters=(("Department", "Home Office"), ("Keyword", "asylum")),
        unsubscribe_url=f"{BASE}/unsubscribe/tok-123",
    )
    assert mail.subject == "pqwatch: confirm your subscription"
    assert_golden("confirm.txt", mail.text)
    assert_golden("confirm.html", mail.html)


def test_the_confirmation_says_what_is_confirmed_and_has_no_manage_link() -> None:
    # A pending subscription has nothing to manage: the manage link is on the page that confirms.
    mail = render_confirmation("reader@example.org", f"{BASE}/confirm/tok-789", BASE, frequency="immediate")
    assert "  Follows: every change to every written question\n" in mail.text
    assert "  How often: an alert as each change is seen\n" in mail.text and "sent at" not in mail.text
    for body in (mail.text, mail.html):
        assert "/manage/" not in body and "Manage your subscription" not in body
    ruled = render_confirmation(
        "reader@example.org", f"{BASE}/confirm/t", BASE, filters=(("UIN", "HL2472"), ("House", "Lords"))
    )
    assert "  Follows: UIN: HL2472; House: Lords\n" in ruled.text
    assert "<li>Follows: UIN: HL2472; House: Lords</li>" in ruled.html
    assert "<li>How often: a daily digest, sent at 07:00 (UK time)</li>" in ruled.html


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
    assert '[-<b>old</b>-] {+<img src=x onerror="alert(1)">+}' in mail.text
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


def test_every_mail_ends_with_a_footer_holding_its_links() -> None:
    # A digest's footer has the manage and unsubscribe links; a confirmation's only unsubscribe
    # (a pending subscription has nothing to manage yet).
    digest = render_digest(one_item_context())
    confirm = render_confirmation(
        "a@example.org", f"{BASE}/c", BASE, unsubscribe_url=f"{BASE}/unsubscribe/tok-123"
    )
    for mail, manage in ((digest, True), (confirm, False)):
        text_footer = mail.text.split("\n-- \n")[-1]
        html_footer = mail.html.split("border-top:1px solid #dddddd")[-1]
        for footer in (text_footer, html_footer):
            assert f"{BASE}/unsubscribe/tok-123" in footer
            assert (f"{BASE}/manage/tok-456" in footer) is manage


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
    assert "  Answer: First paragraph.\n\n    Second [-old-] {+new+} paragraph.\n" in text


def test_a_rewritten_passage_reads_as_one_deletion_then_one_insertion_spaced_in_both_bodies() -> None:
    # A word diff interleaves a rewritten sentence; the mail groups it into phrases.
    diff = (
        ("=", "Yes. "),
        ("-", "I"),
        ("+", "Ministers"),
        ("=", " "),
        ("-", "shall"),
        ("+", "and"),
        ("=", " "),
        ("-", "write"),
        ("+", "officials continue"),
        ("=", " to the noble Lord."),
    )
    mail = render_digest(one_item_context(diff=diff))
    assert "Yes. [-I shall write-] {+Ministers and officials continue+} to the noble Lord." in mail.text
    assert mail.text.count("[-") == 1 and mail.text.count("{+") == 1
    assert (
        'Yes. <del style="background:#ffe0e0;color:#8b0000;">I shall write</del> '
        '<ins style="background:#ddf4dd;color:#0b5d0b;text-decoration:none;">Ministers and officials '
        "continue</ins> to the noble Lord."
    ) in mail.html


def test_an_answer_that_declines_is_marked_in_both_parts_and_only_where_its_text_is_the_news() -> None:
    from monitor.changes.nonanswers import RULES_BY_NAME
    from tests.support.helpers import context_of, every_section_items

    meaning = RULES_BY_NAME["disproportionate_cost"].meaning
    answered = replace(every_section_items()["answered"][0], non_answer=meaning)
    mail = render_digest(context_of({"answered": (answered,)}))
    assert f"Non-answer: {meaning}" in mail.text
    assert "<strong>Non-answer:</strong>" in mail.html
    # A withdrawal is not about the answer's text: no mark, whatever the answer says.
    held = every_section_items()["holding"][0]
    withdrawn = replace(held, kind="withdrawn", non_answer=meaning)
    assert "Non-answer" not in render_digest(context_of({"holding": (withdrawn,)})).text
