"""Readable diffs: phrase-level word diffs and their text and HTML renderings."""

from __future__ import annotations

from markupsafe import Markup

from monitor.changes.diff import phrases, render_diff_html, render_diff_text, word_diff

HOLDING = "I shall write to the hon. Member shortly."
SUBSTANTIVE = "Ministers and officials continue to engage with the hon. Member."


def test_a_holding_answer_replaced_by_a_substantive_one_reads_as_phrases():
    diff = word_diff(HOLDING, SUBSTANTIVE)
    assert render_diff_text(diff) == (
        "[-I shall write to-] {+Ministers and officials continue to engage with+} the hon."
        " [-Member shortly.-] {+Member.+}"
    )
    # The diff still rebuilds both texts exactly.
    assert "".join(t for op, t in diff if op != "+") == HOLDING
    assert "".join(t for op, t in diff if op != "-") == SUBSTANTIVE


def test_a_correction_of_one_figure_stays_a_one_word_change():
    diff = word_diff("The cost was £4.2 million in 2024.", "The cost was £4.7 million in 2024.")
    assert diff == [["=", "The cost was "], ["-", "£4.2"], ["+", "£4.7"], ["=", " million in 2024."]]
    assert render_diff_text(diff) == "The cost was [-£4.2-] {+£4.7+} million in 2024."


def test_a_reordered_sentence_is_one_insertion_and_one_deletion():
    old = "The review will report in spring. It is independent."
    new = "It is independent. The review will report in spring."
    assert render_diff_text(word_diff(old, new)) == (
        "{+It is independent. +}The review will report in spring.[- It is independent.-]"
    )


def test_old_word_interleaved_diffs_are_regrouped_when_rendered():
    stored = [
        ["-", "I"],
        ["+", "Ministers"],
        ["=", " "],
        ["-", "shall"],
        ["+", "and"],
        ["=", " "],
        ["-", "write"],
        ["+", "officials continue"],
        ["=", " to"],
    ]
    assert phrases(stored) == [
        ["-", "I shall write"],
        ["+", "Ministers and officials continue"],
        ["=", " to"],
    ]
    assert render_diff_text(stored) == "[-I shall write-] {+Ministers and officials continue+} to"
    assert render_diff_html(stored) == Markup(
        "<del>I shall write</del> <ins>Ministers and officials continue</ins> to"
    )


def test_html_is_escaped_styled_and_spaced():
    diff = word_diff("Costs <£5 & rising", "Costs >£6 & rising")
    html = render_diff_html(diff, del_style="color:#a00", ins_style='color:"#0a0"')
    assert isinstance(html, Markup)
    assert html == Markup(
        'Costs <del style="color:#a00">&lt;£5</del> <ins style="color:&#34;#0a0&#34;">&gt;£6</ins>'
        " &amp; rising"
    )


def test_no_doubled_spaces_when_a_side_carries_its_own_space():
    diff = [["=", "a"], ["-", " b"], ["+", " c"], ["=", " d"]]
    assert render_diff_text(diff) == "a[- b-]{+ c+} d"
    assert render_diff_html(diff) == Markup("a<del> b</del><ins> c</ins> d")
    assert word_diff("one two three", "one three") == [["=", "one "], ["-", "two "], ["=", "three"]]
    assert render_diff_text(word_diff("one two three", "one three")) == "one [-two -]three"


def test_pure_insertions_and_empty_sides():
    assert word_diff(None, "new") == [["+", "new"]]
    assert word_diff("old", None) == [["-", "old"]]
    assert render_diff_text(word_diff("same", "same")) == "same"
    assert render_diff_html(word_diff("a", "a b")) == Markup("a<ins> b</ins>")
