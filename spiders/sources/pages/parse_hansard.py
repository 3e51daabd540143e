"""Parse historic Hansard (1803-2005) written-answer pages into records, one per question.

A page of api.parliament.uk/historic-hansard/written-answers/... holds a section heading, the
citation that dates it ("HC Deb 21 July 2004 vol 424 cc35-6W") and question and answer
contributions, each opened by a "§" permalink. Pure: HTML text and URL in, records out; no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import html as lxml_html

from spiders import decode, normalise, records
from spiders.decode import code_fingerprint, decode_body
from spiders.normalise import (
    TextLine,
    element_to_text,
    html_document,
    join_lines,
    normalise_inline,
    normalise_uin,
    parse_date,
    text_lines,
)
from spiders.records import AnswerRecord
from storage.terms import House

# The code that turns a Hansard page into records: this module, text normalising and decoding,
# the records.
PARSER_ID = code_fingerprint(__file__, normalise.__file__, decode.__file__, records.__file__)

# Page chrome. The "Back to ... / Forward to ..." section links come after the last answer and
# would otherwise read as its closing paragraph.
_DROP = (
    "//script|//style|//form|//nav|//footer|//*[@id='header' or @id='footer']"
    "|//*[contains(@id, 'navigation') or contains(@class, 'navigation')]"
    "|//*[contains(@class, 'previous-section') or contains(@class, 'next-section')]"
    "|//*[contains(@class, 'page-preview')]"
    # Column markers as the site prints them: <a class='permalink column-permalink' id='column_36w'>.
    "|//*[contains(@class, 'column-permalink')]|//*[starts-with(@id, 'column_')]"
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ROOTS = ("//*[@id='content']", "//body")
_CITATION = re.compile(
    r"\b(?P<house>HC|HL) Deb (?P<date>\d{1,2} [A-Za-z]+ \d{4}) vol \d+\s+"
    r"cc?\s?(?P<first>\d+)(?:-(?P<last>\d+))?(?P<suffix>WA|WS|W)?\b"
)
_URL_DATE = re.compile(r"/(\d{4})/([a-z]{3})/(\d{1,2})(?:/|$)")
_UIN_MARK = re.compile(r"\s*\[(HL\s?\d+|\d{1,6})\]")
_LORDS_ASKED = re.compile(r"(?P<who>.+?)\s+asked (?:Her|His) Majesty's Government\s*[:,.]?\s*(?P<text>.*)")
_TO_ASK = re.compile(r"(?P<who>.{0,150}?)[\s:]*(?P<text>To ask\b.*)")
_SPEAKER = re.compile(r"(?P<who>[^:]{2,200}?)\s*:\s*(?P<text>.*)")
_HOLDING = re.compile(r"\s*\[holding answers? (?P<date>\d{1,2} [A-Za-z]+ \d{4})\]\s*:?\s*", re.IGNORECASE)
# Lower-case words a name or an office may hold ("Lord Bassam of Brighton").
_CONNECTORS = set("of and the for de la le du von van upon on in with without at to".split())
# A column number: "642W" (Commons), "200WA" (Lords answers), "35WS" (statements).
_MARKER = re.compile(r"(?P<pre> ?)(?<![\w.,/–-])(?P<col>\d{1,4})(?P<suffix>WA|WS|W)\b(?![/–-]\d)")
_REFERENCE = re.compile(r"(?:\bcolumns?|\bcols?\.?|\bcc?\.)\s*$", re.IGNORECASE)


@dataclass
class _Contribution:
    who: str | None
    lines: list[TextLine]
    is_question: bool


@dataclass
class _Group:
    """Questions printed together and the one answer that follows them."""

    questions: list[_Contribution]
    answer: _Contribution


def parse_historic_hansard(html_text: str, url: str) -> list[AnswerRecord]:
    """Read a historic Hansard written-answers page into one record per question with a UIN."""
    # Why: lxml refuses a str that opens with an XML declaration naming an encoding (XHTML pages).
    tree = html_document(_XML_DECLARATION.sub("", html_text or ""))
    for node in tree.xpath(_DROP):
        if node.getparent() is not None:
            node.drop_tree()
    _merge_split_tables(tree)
    root = next((found[0] for xpath in _ROOTS if (found := tree.xpath(xpath))), tree)
    text = element_to_text(root)
    citation = _CITATION.search(text)
    answered = _answer_date(citation, url)
    if answered is None:
        raise ValueError(f"{url}: not a historic Hansard written-answers page (no 'HC/HL Deb' citation)")
    body = text[citation.end() :] if citation else text
    body = _strip_column_markers(body, citation)
    house = {"HC": House.COMMONS, "HL": House.LORDS}.get(citation["house"]) if citation else None
    heading = _heading(root, tree)
    records = []
    for group in _groups(_contributions(text_lines(body)), url):
        try:
            holding, answer_lines = _holding(group.answer)
        except ValueError as error:
            raise ValueError(f"{url}: {error}") from None
        # Questions printed together before one answer were answered together: each is grouped
        # with the others, as the official record groups them.
        parts = [(q, *normalise_uin(uin), text) for q in group.questions for uin, text in _question_parts(q)]
        together = {uin for _, _, uin, _ in parts}
        for question, uin_house, uin, question_text in parts:
            records.append(
                AnswerRecord(
                    house=house or uin_house,
                    uin=uin,
                    date_tabled=None,  # historic Hansard prints only the day of the answer
                    question_text=question_text,
                    answer_text=join_lines(answer_lines),
                    asking_member=_asker(question.who),
                    answering_member=_answerer(group.answer.who),
                    date_answered=answered,
                    grouped_with=tuple(sorted(together - {uin})),
                    heading=heading,
                    date_holding_answer=holding,
                )
            )
    return records


def parse_body(body: bytes, url: str, content_type: str | None = None) -> tuple[AnswerRecord, ...]:
    """Re-derive a stored Hansard page's records as the spider does; ValueError when unreadable."""
    text, _ = decode_body(body, content_type)
    return tuple(parse_historic_hansard(text, url))


def _answer_date(citation: re.Match[str] | None, url: str) -> date | None:
    if citation:
        try:
            return parse_date(citation["date"])
        except ValueError as error:
            raise ValueError(f"{url}: {error} in the citation") from None
    # Why: without its citation the page still states the day in its URL (/2004/jul/21/slug).
    found = _URL_DATE.search(url) if "historic-hansard/written" in url else None
    return parse_date(f"{found[3]} {found[2]} {found[1]}") if found else None


def _merge_split_tables(tree: lxml_html.HtmlElement) -> None:
    # Why: the site closes a table around each column marker and opens a new one after it; with
    # the marker gone, the two halves are one table again.
    for table in list(tree.iter("table")):
        following = table.getnext()
        if table.getparent() is None or following is None or following.tag != "table":
            continue
        if (table.tail or "").strip():
            continue
        for row in following.xpath("./tr | ./*/tr"):
            (table.find("tbody") if table.find("tbody") is not None else table).append(row)
        following.drop_tree()


def _strip_column_markers(text: str, citation: re.Match[str] | None) -> str:
    """Remove "643W"-style column numbers (the page's own columns only) wherever they stand."""
    if citation is None or citation["suffix"] is None:
        return text
    first, last = _columns(citation["first"], citation["last"])

    def replace(match: re.Match[str]) -> str:
        # Why: "Official Report, column 642W" cites a column; it is text, not a marker.
        if match["suffix"] != citation["suffix"] or not first <= int(match["col"]) <= last:
            return match[0]
        if _REFERENCE.search(text[max(0, match.start() - 12) : match.start() + len(match["pre"])]):
            return match[0]
        after = text[match.end() : match.end() + 1]
        return "" if after in ("", ".", ",", ";", ":", ")", "\n") else match["pre"]

    return _MARKER.sub(replace, text)


def _columns(first: str, last: str | None) -> tuple[int, int]:
    """Expand a citation's range: "cc642-4W" is columns 642 to 644, "cc1099-100W" 1099 to 1100."""
    if not last:
        return int(first), int(first)
    return int(first), int(first[: max(0, len(first) - len(last))] + last)


def _contributions(lines: list[TextLine]) -> list[_Contribution]:
    """Split at each "§" permalink (or, on a page without them, at each speaker) and classify."""
    marked = any(line.text.startswith("§") for line in lines)
    chunks: list[list[TextLine]] = []
    for line in lines:
        starts = line.text.startswith("§") if marked else _opens_contribution(line.text)
        if starts or not chunks:
            chunks.append([])
        text = line.text.lstrip("§ ")
        if text:
            chunks[-1].append(TextLine(text, line.new_paragraph or starts))
    return [_read(chunk) for chunk in chunks if chunk]


def _opens_contribution(text: str) -> bool:
    speaker = _SPEAKER.match(text)
    return bool(_LORDS_ASKED.match(text) or (speaker and _name_like(speaker["who"])))


def _read(chunk: list[TextLine]) -> _Contribution:
    head, rest = chunk[0].text, chunk[1:]
    # The speaker may stand alone on the first line, or share it with the text.
    candidates = [(head, rest)] + ([(f"{head} {rest[0].text}", rest[1:])] if rest else [])
    for joined, tail in candidates:
        for pattern in (_LORDS_ASKED, _TO_ASK):
            if not (found := pattern.fullmatch(joined)):
                continue
            who = found["who"].rstrip(": ") or None
            if who is None and pattern is _TO_ASK or who and _name_like(who):
                opening = [TextLine(found["text"], True)] if found["text"] else []
                return _Contribution(who, opening + tail, True)
    if (found := _SPEAKER.fullmatch(head)) and _name_like(found["who"]):
        return _Contribution(
            found["who"], ([TextLine(found["text"], True)] if found["text"] else []) + rest, False
        )
    if _name_like(head):
        # Why: the colon after the name opens the text paragraph when the name stands in its own tag.
        if rest and rest[0].text.startswith(":"):
            rest = [TextLine(rest[0].text.lstrip(": "), True)] + rest[1:]
        return _Contribution(head, [line for line in rest if line.text], False)
    return _Contribution(None, chunk, False)  # a paragraph that continues the one before


def _name_like(text: str) -> bool:
    """A member or office: "Mr. Smith (Bury)", "The Minister of State, Home Office (Lord X)"."""
    bare = re.sub(r"\([^()]*\)|\[[^\]]*\]|^\d+\.\s*", " ", text).replace(",", " ")
    words = bare.split()
    return (
        0 < len(words) <= 20 and len(text) <= 200 and all(w[0].isupper() or w in _CONNECTORS for w in words)
    )


def _groups(contributions: list[_Contribution], url: str) -> list[_Group]:
    """Pair the questions with the answer that follows them (several questions may share one)."""
    groups: list[_Group] = []
    questions: list[_Contribution] = []
    answer: _Contribution | None = None
    for contribution in contributions:
        if contribution.is_question:
            if answer is not None:
                groups.append(_Group(questions, answer))
                questions, answer = [], None
            questions.append(contribution)
        elif answer is not None:
            answer.lines += contribution.lines  # the answer goes on after a table or a break
        elif questions:
            answer = contribution  # the first contribution after the questions answers them
    if questions and answer is None:
        raise ValueError(f"{url}: the question {join_lines(questions[-1].lines)[:60]!r} has no answer")
    if answer is not None:
        groups.append(_Group(questions, answer))
    return groups


def _question_parts(question: _Contribution) -> list[tuple[str, str]]:
    """Return (UIN, question text) for each UIN: "(1) how many …; [1] (2) what … [2]" gives two."""
    text = join_lines(question.lines)
    pieces = _UIN_MARK.split(text)
    uins, segments = pieces[1::2], pieces[0::2]
    if len(uins) <= 1:
        # Why: questions before about 1990 carry no UIN; with no key to match they give no record.
        return [(uin, _clean(_UIN_MARK.sub("", text))) for uin in uins]
    prefix, _, first = segments[0].partition("(1)")
    if not first:
        return [(uin, _clean(_UIN_MARK.sub("", text))) for uin in uins]
    parts = [first] + [re.sub(r"^\s*\(\d+\)\s*", "", s) for s in segments[1 : len(uins)]]
    return [(uin, _clean(f"{prefix.strip()} {part.strip()}")) for uin, part in zip(uins, parts, strict=True)]


def _clean(text: str) -> str:
    return re.sub(r"[ ;]+(\n|$)", r"\1", text).strip()


def _holding(answer: _Contribution) -> tuple[date | None, list[TextLine]]:
    """The date of an earlier holding answer, and the answer's lines without that mark."""
    # Why: an answer that followed a holding answer carries "[holding answer 12 July 2004]" after
    # the minister's name, before the colon or at the start of the text.
    lines = answer.lines
    if found := _HOLDING.search(answer.who or ""):
        return parse_date(found["date"]), lines
    if lines and (found := _HOLDING.match(lines[0].text)):
        rest = lines[0].text[found.end() :]
        return parse_date(found["date"]), ([TextLine(rest, True)] if rest else []) + lines[1:]
    return None, lines


def _asker(who: str | None) -> str | None:
    # "12. Mr. Smith (Bury North)": the question number and the constituency are not the name.
    return normalise_inline(re.sub(r"^\d+\.\s*|\s*\([^()]*\)\s*$", "", who or "")) or None


def _answerer(who: str | None) -> str | None:
    who = _HOLDING.sub(" ", who or "").strip()
    office = re.fullmatch(r"The .+\((?P<name>[^()]+)\)", who)
    return normalise_inline(office["name"]) if office else _asker(who)


def _heading(root: lxml_html.HtmlElement, tree: lxml_html.HtmlElement) -> str | None:
    for node in root.xpath(".//h1") + tree.xpath("//title"):
        text = re.sub(r"\s*\(Hansard[^()]*\)\s*$", "", normalise_inline(node.text_content()))
        if text:
            return text
    return None
