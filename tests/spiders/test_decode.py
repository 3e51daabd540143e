"""Bad bytes: labels browsers read as windows-1252 are read so, no C1 control character survives
normalising, pages that stand in for content are named, and a tree nested deeper than the HTML
parser reads is an error for its page — with saved byte strings."""

from __future__ import annotations

import pytest

from spiders.decode import decode_body, decode_html, stand_in_page
from spiders.normalise import TooDeepError, html_document, html_to_text, normalise_inline, normalise_text
from spiders.sources.blog.parse import parse_body as parse_blog_body
from spiders.sources.pages.parse_hansard import parse_historic_hansard
from spiders.sources.pages.parse_html import parse_wq_detail_page
from tests.support.helpers import FIXTURES

# A page saved as its server sent it: labelled ISO-8859-1, written in windows-1252 (Word's quotes
# and dashes, the euro sign, an ellipsis).
SAVED_1252 = (
    b"<html><head><title>Funding</title></head><body><p>His Majesty\x92s Government \x96 \x93the "
    b"scheme\x94 costs \x80250 million\x85 and caf\xe9s</p></body></html>"
)


@pytest.mark.parametrize("label", ["ISO-8859-1", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"])
def test_labels_browsers_read_as_windows_1252_are_read_as_windows_1252(label):
    text, note = decode_body(SAVED_1252, f"text/html; charset={label}")
    assert note is None
    assert "His Majesty\u2019s Government \u2013 \u201cthe scheme\u201d costs \u20ac250 million\u2026" in text
    assert "caf\u00e9s" in text
    assert not any("\x80" <= char <= "\x9f" for char in text)


def test_a_meta_charset_latin_label_is_read_as_windows_1252_too():
    body = b'<html><head><meta charset="iso-8859-1"></head><body>\x91quoted\x92</body></html>'
    assert "\u2018quoted\u2019" in decode_html(body, None)[0]


def test_the_five_bytes_windows_1252_leaves_undefined_never_reach_stored_text():
    text, _ = decode_body(b"<p>a\x81b\x8dc\x8fd\x90e\x9df</p>", "text/html; charset=windows-1252")
    assert normalise_text(html_to_text(text)) == "abcdef"


def test_utf8_sent_as_latin1_is_still_read_as_utf8():
    text, note = decode_body("His Majesty’s".encode(), "text/html; charset=ISO-8859-1")
    assert text == "His Majesty’s" and note and "UTF-8" in note


def test_no_c1_control_character_survives_normalising_each_is_the_character_windows_1252_meant():
    # Text that met windows-1252 bytes read as Latin-1 on the way (an API record, a pasted e-mail).
    assert normalise_text("Majesty\x92s \x96 \x93scheme\x94 \x80 5\x85") == 'Majesty\'s – "scheme" € 5…'
    assert normalise_inline("Lord\x81 Smith\x9d") == "Lord Smith"
    every_c1 = "".join(chr(code) for code in range(0x80, 0xA0))
    assert not any("\x80" <= char <= "\x9f" for char in normalise_text(f"x{every_c1}y"))


def test_a_blog_post_served_as_latin1_with_windows_1252_bytes_stores_no_c1_character():
    page = (FIXTURES / "blog" / "seed_hl2472_hikvision.html").read_bytes().decode("utf-8")
    body = page.replace("\u2019", "\x92").encode("cp1252", "replace")
    records = parse_blog_body(body, "https://blog.test/p/", "text/html; charset=ISO-8859-1")
    assert records
    for record in records:
        for text in (record.question_text, record.answer_text, record.asking_member or ""):
            assert not any("\x80" <= char <= "\x9f" for char in text)


def _deep(levels: int, inner: str) -> str:
    return "<html><body>" + "<div>" * levels + inner + "</div>" * levels + "</body></html>"


def test_a_tree_nested_deeper_than_the_parser_reads_is_an_error_not_a_silent_truncation():
    with pytest.raises(TooDeepError, match="nested deeper"):
        html_document(_deep(300, "<p>an answer</p>"))
    assert "an answer" in html_document(_deep(200, "<p>an answer</p>")).text_content()


@pytest.mark.parametrize(
    "parse",
    [
        lambda text: parse_blog_body(text.encode(), "https://blog.test/p/"),
        lambda text: parse_wq_detail_page(text, "https://x.test/written-questions/detail/2024-01-05/7926"),
        lambda text: parse_historic_hansard(
            text, "https://api.parliament.uk/historic-hansard/written_answers/x"
        ),
    ],
)
def test_every_page_parser_refuses_a_tree_too_deep_to_read(parse):
    with pytest.raises(ValueError, match="nested deeper"):
        parse(_deep(400, "<p>UIN 7926</p>"))


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("", "an empty body"),
        ("  \n\t ", "an empty body"),
        ("<html><head><title>Just a moment...</title></head><body></body></html>", "a bot-challenge page"),
        (
            "<html><body><h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>"
            "</body></html>",
            "a maintenance page",
        ),
        (
            "<html><body><p>There has been a critical error on this website.</p></body></html>",
            "a site error page",
        ),
        ("<html><body><p>An answer cut off in the mid", "a page cut off before its end"),
    ],
)
def test_pages_that_stand_in_for_content_are_named(body, what):
    assert (stand_in_page(body) or "").startswith(what)


def test_ordinary_pages_are_not_stand_ins():
    for name in ("blog/seed_hl2472_hikvision.html", "pages/html/commons_7926_answered.html"):
        assert stand_in_page((FIXTURES / name).read_text()) is None


def test_an_ordinary_page_behind_cloudflare_is_not_a_challenge():
    # Cloudflare adds its bot-detection script to every page it serves, challenge or not.
    page = (
        (FIXTURES / "blog" / "seed_hl2472_hikvision.html")
        .read_text()
        .replace(
            "</body>",
            "<script>(function(){var a=document.createElement('script');"
            "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.head.appendChild(a);})();</script></body>",
        )
    )
    assert stand_in_page(page) is None
