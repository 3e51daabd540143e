"""Normalise scraped text and dates so that only real content differences remain."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from lxml import html as lxml_html

from storage.terms import EARLIEST_DATE, House, canonical_uin

# Why: blogs paste the e-mail with typographic quotes while the official record uses straight
# ones; the two must compare equal.
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
        "\t": " ",
        "\r": None,
    }
)


def _c1_replacement(code: int) -> str | None:
    """What a C1 control character (U+0080-U+009F) is stored as: the character windows-1252 puts
    at that byte (then mapped as that character is), or nothing where windows-1252 has none."""
    try:
        meant = bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        return None
    mapped = _CHAR_MAP.get(ord(meant), meant)
    return mapped if isinstance(mapped, str) or mapped is None else chr(mapped)


# Why: no C1 control character is ever stored. Text that carries one almost always met
# windows-1252 bytes read as Latin-1 on the way (U+0092 for "’", U+0096 for "–"), so each is
# mapped to the character those bytes meant; the five bytes windows-1252 leaves undefined are
# dropped.
_CHAR_MAP.update({code: _c1_replacement(code) for code in range(0x80, 0xA0)})
# The characters _CHAR_MAP changes, found by one regex scan (str.translate with a dict is slow).
_MAPPED = re.compile("[" + "".join(re.escape(chr(code)) for code in _CHAR_MAP) + "]")
_SPACES = re.compile(r"[ \f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str | None) -> str:
    """Return NFC text with straight quotes, single spaces and paragraphs split by one blank line."""
    if not text:
        return ""
    if not text.isascii():  # ASCII is already NFC
        text = unicodedata.normalize("NFC", text)
    text = _MAPPED.sub(_map_char, text)
    lines = [line.strip() for line in _SPACES.sub(" ", text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _map_char(found: re.Match[str]) -> str:
    mapped = _CHAR_MAP[ord(found.group())]
    return mapped if isinstance(mapped, str) else ""


class TooDeepError(ValueError):
    """A document nested deeper than the HTML parser reads: what lies below was dropped."""


def html_document(html_text: str) -> lxml_html.HtmlElement:
    """Parse a whole HTML page; raise TooDeepError when the parser cut a tree too deep to read."""
    parser = lxml_html.HTMLParser()
    tree = lxml_html.document_fromstring(html_text if html_text.strip() else "<html></html>", parser=parser)
    # Why: libxml2 stops descending at its depth limit (256) and silently drops the rest of the
    # document, which would read as answers removed; only its error log tells.
    for entry in parser.error_log:
        if "excessive depth" in entry.message.lower():
            raise TooDeepError(f"the page is nested deeper than the HTML parser reads ({entry.message})")
    return tree


@dataclass(frozen=True)
class TextLine:
    """One non-empty line of normalised text, and whether it starts a paragraph."""

    text: str
    new_paragraph: bool


def text_lines(text: str) -> list[TextLine]:
    """Split text into its non-empty normalised lines, remembering paragraph starts."""
    lines: list[TextLine] = []
    for paragraph in normalise_text(text).split("\n\n"):
        for number, line in enumerate(paragraph.split("\n")):
            if line.strip():
                lines.append(TextLine(line.strip(), number == 0))
    return lines


def join_lines(lines: Iterable[TextLine]) -> str:
    """Join lines back into text: a blank line before each paragraph, a newline inside one."""
    out: list[str] = []
    for line in lines:
        if out:
            out.append("\n\n" if line.new_paragraph else "\n")
        out.append(line.text)
    return normalise_text("".join(out))


def normalise_inline(text: str | None) -> str:
    """Return normalised text on one line (names, headings, departments)."""
    return " ".join(normalise_text(text).split())


def normalise_body_name(name: str | None) -> str | None:
    """Return a department name as the official record spells it: no leading "the", no full stop."""
    if not name:
        return None
    name = normalise_inline(name).rstrip(".,;: ")
    name = re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)
    return name or None


_BLOCK_TAGS = {
    "p",
    "div",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "dl",
    "hr",
    "figure",
    "figcaption",
    "address",
    "main",
    "aside",
    "nav",
    "form",
    "fieldset",
    "caption",
}
_LINE_TAGS = {"li", "tr", "dt", "dd"}
_CELL_TAGS = ("td", "th")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "object", "embed")
# Why: source whitespace (including the newline editors put after each <br />) is layout, not
# content, and collapses as a browser collapses it. Not \s: a non-breaking space is content.
_HTML_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def element_to_text(element: lxml_html.HtmlElement) -> str:
    """Return the readable text of an element: blocks become paragraphs, <br> a line break,
    list items and table rows one line each, with " | " between cells."""
    parts: list[str] = []
    pending = 0  # newlines owed before the next text: 1 = line break, 2 = new paragraph
    in_cell = in_pre = 0

    def text(value: str) -> None:
        nonlocal pending
        if not in_pre:
            value = _HTML_SPACE.sub(" ", value)
        if not value.strip(" ") and (pending or not parts):
            return  # whitespace between blocks is source layout
        if pending and parts:
            parts.append("\n" * pending)
        pending = 0
        parts.append(value)

    def newline(count: int, *, add: bool = False) -> None:
        nonlocal pending
        if in_cell:
            text(" ")  # a table row stays on one line
        else:
            # Breaks from nested blocks merge (</p></div><p> is one paragraph break), while
            # <br><br> adds up to a blank line.
            pending = pending + count if add else max(pending, count)

    def walk(node: lxml_html.HtmlElement) -> None:
        nonlocal in_cell, in_pre
        # Comments and processing instructions have no string tag: only their tail is text.
        tag = node.tag if isinstance(node.tag, str) else None
        if tag == "br":
            newline(1, add=True)
        elif tag is not None and tag not in _DROP_TAGS:
            breaks = 2 if tag in _BLOCK_TAGS else 1 if tag in _LINE_TAGS else 0
            if breaks:
                newline(breaks)
            in_cell += tag in _CELL_TAGS
            in_pre += tag == "pre"
            if node.text:
                text(node.text)
            for child in node:
                walk(child)
                if child.tail:
                    text(child.tail)
                if tag == "tr" and child.tag in _CELL_TAGS and child.getnext() is not None:
                    text(" | ")
            in_cell -= tag in _CELL_TAGS
            in_pre -= tag == "pre"
            if breaks:
                newline(breaks)

    walk(element)  # the element's own tail belongs to its parent, not to it
    return normalise_text("".join(parts))


def html_to_text(fragment: str | None) -> str:
    """Return the plain text of an HTML fragment (paragraphs kept, links kept as their text)."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return normalise_text(fragment)
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    return element_to_text(root)


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_MDY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str, *, latest: date | None = None) -> date:
    """Parse "07 September 2021", "21 Sep 2021", "24th October 2022", "Sep 21, 2021" or ISO.

    Raises ValueError naming the text for an unreadable or impossible date ("31 Feb 2022").
    """
    cleaned = normalise_inline(text).rstrip(".")
    cleaned = re.sub(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+", "", cleaned, flags=re.I)
    if match := _ISO.match(cleaned):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(cleaned):
        day, month, year = int(match[1]), _month(match[2], text), int(match[3])
    elif match := _MDY.match(cleaned):
        month, day, year = _month(match[1], text), int(match[2]), int(match[3])
    else:
        raise ValueError(f"unreadable date {text!r}")
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError(f"impossible date {text!r}") from None
    if value < EARLIEST_DATE or (latest is not None and value > latest):
        raise ValueError(f"date out of range {text!r}")
    return value


def _month(name: str, text: str) -> int:
    try:
        return _MONTHS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown month in date {text!r}") from None


_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_time_of_day(day: date, text: str) -> datetime:
    """Combine a date with "15:56" into a naive datetime; ValueError for "25:10"."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"unreadable time {text!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"impossible time {text!r}")
    return datetime(day.year, day.month, day.day, hour, minute)


def normalise_uin(uin: str) -> tuple[House, str]:
    """Return (house, UIN) for "HL2472", "hl 2472" or "7926"."""
    compact = canonical_uin(uin)
    return (House.LORDS if compact.startswith("HL") else House.COMMONS), compact
