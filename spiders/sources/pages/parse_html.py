"""Parse a written-question detail page of questions-statements.parliament.uk into one record.

The live markup was never captured, so the page is read by the labels it shows ("Asked by",
"UIN 7926, tabled on 5 January 2024", "Answered on" ...) in its text, not by CSS classes: a
redesign that keeps the wording keeps working. Pure: HTML text and URL in, a record out; no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

from lxml import html as lxml_html

from spiders import decode, normalise, records
from spiders.decode import code_fingerprint, decode_body
from spiders.normalise import (
    TextLine,
    element_to_text,
    html_document,
    join_lines,
    normalise_body_name,
    normalise_inline,
    normalise_uin,
    parse_date,
    text_lines,
)
from spiders.records import AnswerRecord, Attachment

# The code that turns a detail page into its record: this module, text normalising and decoding,
# the records.
PARSER_ID = code_fingerprint(__file__, normalise.__file__, decode.__file__, records.__file__)

_DETAIL_URL = re.compile(r"/written-questions/detail/(\d{4}-\d{2}-\d{2})/([A-Za-z]{0,2}\d+)/?(?:[?#]|$)")
_UIN = r"(?:HL\s?\d+|\d{1,6})"
# Controls and chrome are never content. <del> is the struck-out side of the "show changes"
# view: text the corrected answer no longer says.
_DROP = (
    "//script|//style|//noscript|//template|//svg|//iframe|//nav|//footer|//button|//input|//select"
    "|//del|//*[contains(concat(' ', normalize-space(@class), ' '), ' del ')]|//header[not(ancestor::main)]"
    "|//*[contains(@id, 'cookie') or contains(@class, 'cookie')]"
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ROOTS = ("//main", "//*[@id='main-content']", "//body")
_LABELS = [
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in [
        ("body", r"(?:Question for|Asked to)\b\s*:?\s*(?P<value>.*)"),
        ("uin", rf"UIN\s*:?\s*(?P<uin>{_UIN})?\s*(?:,?\s*tabled on\s*:?\s*(?P<value>.+))?"),
        ("asked_by", r"Asked by\s*:?\s*(?P<value>.*)"),
        ("tabled", r"(?:Date tabled|(?:Tabled|Asked) on|Tabled)\s*:?\s*(?P<value>.*)"),
        ("question", r"Question\s*:?"),
        ("answered_on", r"Answered on\s*:?\s*(?P<value>.*)"),
        ("answered_by", r"Answered by\s*:?\s*(?P<value>.*)"),
        ("holding", r"Holding answer received(?: on)?\s*:?\s*(?P<value>.*?)\.?"),
        ("corrected_on", r"(?:Answer )?corrected on\s*:?\s*(?P<value>.*?)\.?"),
        ("corrected", r"Corrected answer(?:\s+by\s*:?\s*(?P<value>.+))?\s*:?"),
        ("corrected_by", r"Corrected by\s*:?\s*(?P<value>.+)"),
        ("original", r"Original answer\s*:?"),
        ("grouped", r"This question was grouped with the following question(?:\(s\)|s)? for answer\s*:?"),
        ("grouped", r"Grouped questions?\s*:\s*(?P<value>.*)"),
        ("withdrawn", r"(?:Question withdrawn|This question was withdrawn(?:\s+on\s+.+)?)\.?"),
        ("attachments", r"Attachments?(?:\s*\(\d+\))?\s*:?"),
        ("house", r"(?:House of )?(?P<value>Lords|Commons)"),
        ("stop", r"(?:Share|Print) this (?:page|question)|Back to (?:top|search results|written questions)"),
        # Why: badges and toggles that say nothing the record keeps ("[N]" is the named-day mark).
        ("ignore", r"\[[NR]\]|Named day|(?:Due|Date) for answer\b.{0,40}"),
        ("ignore", r"(?:Show|Hide) (?:the )?(?:original|corrected|changes)\b.{0,20}"),
    ]
]
_INLINE_LABEL = re.compile(
    r"\s+(?=UIN\s*:?\s*(?:HL\s?)?\d|\[[NR]\]|Named day\b|Asked by\b|(?:Tabled|Asked) on\b"
    r"|Question for\b|Asked to\b)"
)
# Labels that open a section of their own; every other label is a fact on one line.
_SECTION_OPENERS = {"asked_by", "question", "answered_on", "answered_by", "corrected", "original", "grouped"}
_SECTION_OPENERS |= {"attachments", "stop"}
_BODY_WORDS = re.compile(
    r"\b(?:Department|Ministry|Office|Treasury|Commission|Committee|Attorney General|Advocate General|"
    r"Leader of the House|Deputy Speaker|Chairman of Committees)\b"
)


@dataclass
class _Scan:
    """The page text read once: one-line labels become facts, section labels gather the lines after."""

    facts: dict[str, str] = field(default_factory=dict)
    sections: dict[str, list[TextLine]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    section: str = "header"
    pending: str = ""  # a label seen without its value, waiting for the next line

    def label(self, kind: str, match: re.Match[str]) -> None:
        value = normalise_inline(match.groupdict().get("value") or "")
        if kind == "uin" and match["uin"]:
            self.facts.setdefault("uin", match["uin"])
        if kind == "withdrawn":
            self.flags.add(kind)
        elif value:
            fact = {"corrected": "corrected_by", "uin": "tabled"}.get(kind, kind)
            self.facts.setdefault(fact, value.title() if kind == "house" else value)
        self.pending = "" if value or (kind == "uin" and match["uin"]) else kind
        if kind in _SECTION_OPENERS:
            self.section = "answer" if kind == "answered_on" else kind
            self.sections.setdefault(self.section, [])
            # "Grouped questions: 16197, 16198" (old site) lists the UINs after the label.
            items = re.split(r"\s*(?:,|;|\band\b)\s*", value) if kind == "grouped" else [value]
            if kind in ("grouped", "answered_by"):
                self.sections[self.section] += [TextLine(item, True) for item in items if item]

    def content(self, line: TextLine) -> None:
        # Why: a label and its value may sit in separate elements (<dt>/<dd>, a date under its
        # heading), so a label without a value takes the next line that fits it.
        if self.pending and _fits(self.pending, line.text):
            self.facts.setdefault(self.pending, line.text)
        elif (
            self.section in ("header", "asked_by") and self.before_question and line.text.startswith("To ask")
        ):
            self.section = "question"
            self.sections["question"] = [line]
        elif self.section == "asked_by" and "asked_by" not in self.facts:
            self.facts["asked_by"] = line.text
        else:
            self.sections.setdefault(self.section, []).append(line)
        self.pending = ""

    @property
    def before_question(self) -> bool:
        return "question" not in self.sections


def parse_wq_detail_page(html_text: str, url: str) -> AnswerRecord:
    """Read a written-question detail page into its record; ValueError names the URL if it is not one."""
    # Why: lxml refuses a str that opens with an XML declaration naming an encoding (XHTML pages).
    tree = html_document(_XML_DECLARATION.sub("", html_text or ""))
    for node in tree.xpath(_DROP):
        if node.getparent() is not None:
            node.drop_tree()
    root = next((found[0] for xpath in _ROOTS if (found := tree.xpath(xpath))), tree)
    scan = _scan(text_lines(element_to_text(root)))
    from_url = _DETAIL_URL.search(url)
    if "/written-statements/" in url or not ({"uin", "body", "asked_by"} & scan.facts.keys()):
        raise ValueError(f"{url}: not a written-question page (no 'UIN', 'Question for' or 'Asked by' label)")
    raw_uin = scan.facts.get("uin") or (from_url[2] if from_url else None)
    if not raw_uin:
        raise ValueError(f"{url}: written-question page without a UIN on the page or in the URL")
    house, uin = normalise_uin(raw_uin)
    question = join_lines(scan.sections.get("question", []))
    if not question:
        raise ValueError(f"{url}: written question {uin} has no question text")
    corrected = join_lines(scan.sections.get("corrected", []))
    answered_by = [line.text for line in scan.sections.get("answered_by", [])]
    withdrawn = "withdrawn" in scan.flags
    try:
        tabled = _date(scan.facts.get("tabled") or (from_url[1] if from_url else None))
        answered, holding = _date(scan.facts.get("answered_on")), _date(scan.facts.get("holding"))
        date_corrected = _date(scan.facts.get("corrected_on"))
    except ValueError as error:
        raise ValueError(f"{url}: {error}") from None
    return AnswerRecord(
        house=scan.facts.get("house", house),
        uin=uin,
        date_tabled=tabled,
        question_text=question,
        answer_text="" if withdrawn else corrected or join_lines(scan.sections.get("answer", [])),
        asking_member=_member(scan.facts.get("asked_by")),
        answering_member=_member(answered_by[0])
        if answered_by and not _BODY_WORDS.search(answered_by[0])
        else None,
        answering_body=normalise_body_name(scan.facts.get("body")) or _body_after(answered_by),
        date_answered=answered,
        grouped_with=_grouped(tree, scan.sections.get("grouped", []), uin, url),
        heading=_heading(root),
        is_holding=holding is not None and answered is None and not withdrawn,
        date_holding_answer=holding,
        is_correction=bool(corrected) or date_corrected is not None,
        date_corrected=date_corrected,
        is_withdrawn=withdrawn,
        correcting_member=_member(scan.facts.get("corrected_by")),
        original_answer_text=join_lines(scan.sections.get("original", [])) or None,
        attachments=_attachments(root, url),
    )


def parse_body(body: bytes, url: str, content_type: str | None = None) -> tuple[AnswerRecord, ...]:
    """Re-derive a stored detail page's record as the spider does; ValueError when unreadable."""
    text, _ = decode_body(body, content_type)
    return (parse_wq_detail_page(text, url),)


def _label(text: str) -> tuple[str, re.Match[str]] | None:
    return next(((kind, m) for kind, pattern in _LABELS if (m := pattern.fullmatch(text))), None)


def _scan(lines: list[TextLine]) -> _Scan:
    scan = _Scan()
    queue = list(reversed(lines))
    while queue:
        line = queue.pop()
        # Why: header labels share a line when they sit in inline elements ("Question for X UIN
        # 7926, tabled on ..."); above the question, a line is split where a label starts.
        parts = _INLINE_LABEL.split(line.text, maxsplit=1) if scan.before_question else []
        if len(parts) == 2 and not line.text.startswith("To ask"):
            queue += [TextLine(parts[1], False), TextLine(parts[0], line.new_paragraph)]
            continue
        kind, match = _label(line.text) or ("", None)
        # A grouped question shows its own UIN, member and text: content there, not this page's facts.
        if scan.section == "grouped" and kind not in _SECTION_OPENERS - {"asked_by", "question"}:
            kind = ""
        # "Lords" or "Commons" alone on a line labels the house only in the page's header.
        if kind == "house" and not scan.before_question:
            kind = ""
        # A "Corrected answer" badge above the question flags the correction but holds no answer.
        if kind in ("corrected", "original") and scan.before_question:
            scan.flags.add(kind)
        elif kind and match and kind != "ignore":
            scan.label(kind, match)
        elif not kind:
            scan.content(line)
    return scan


def _fits(fact: str, text: str) -> bool:
    if fact == "uin":
        return re.fullmatch(_UIN, text, re.IGNORECASE) is not None
    if fact not in ("tabled", "answered_on", "holding", "corrected_on"):
        return fact == "body"
    try:
        return bool(parse_date(text))
    except ValueError:
        return False


def _date(text: str | None) -> date | None:
    return parse_date(text) if text else None


def _member(text: str | None) -> str | None:
    """Keep the name of a member card: no "(Constituency)", no ", Party, Constituency" after it."""
    if not text:
        return None
    name = re.split(r"\s+[-–—]\s+|,", re.sub(r"\s*\([^()]*\)\s*$", "", text))[0]
    return normalise_inline(name) or None


def _body_after(answered_by: list[str]) -> str | None:
    # Why: the site prints the answering body on its own line under "Answered by" (and, on some
    # pages, with no minister's name before it).
    return next((normalise_body_name(text) for text in answered_by[:2] if _BODY_WORDS.search(text)), None)


def _grouped(tree: lxml_html.HtmlElement, lines: list[TextLine], own_uin: str, url: str) -> tuple[str, ...]:
    """UINs named in the grouped section, plus those only in the href of a link shown there."""
    text = "\n".join(line.text for line in lines)
    found = re.findall(rf"\bUIN\s*:?\s*({_UIN})|[\[(]({_UIN})[\])]|^({_UIN})$", text, re.I | re.M)
    uins = {normalise_uin(next(u for u in groups if u))[1] for groups in found}
    shown = {line.text for line in lines}
    for link in tree.xpath("//a[@href]"):
        href = _DETAIL_URL.search(urljoin(url, link.get("href")))
        if href and normalise_inline(link.text_content()) in shown:
            uins.add(normalise_uin(href[2])[1])
    # Sorted as the API parser sorts them, so the two sources compare equal.
    return tuple(sorted(uins - {own_uin}))


def _heading(root: lxml_html.HtmlElement) -> str | None:
    for node in root.xpath(".//h1") + root.xpath(".//*[contains(@class, 'heading')]"):
        text = normalise_inline(node.text_content())
        # "Written questions, answers and statements" is the site's title, not the question's.
        if text and not text.lower().startswith("written questions") and not _label(text):
            return text
    return None


def _attachments(root: lxml_html.HtmlElement, url: str) -> tuple[Attachment, ...]:
    """The links that follow an "Attachments" label, up to the next label, in document order."""
    out: list[Attachment] = []
    collecting = False
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag != "a" and (found := _label(normalise_inline(node.text_content()))):
            collecting = found[0] == "attachments"
        elif collecting and node.tag == "a" and node.get("href"):
            title = normalise_inline(node.text_content())
            # Why: the link text ends with the file's type and size, "(PDF, 245 KB)".
            kind = re.search(r"\s*\((?P<type>[A-Za-z]{2,5})\b[^()]*\)$", title)
            file_type = kind["type"].upper() if kind else None
            title = title[: kind.start()] if kind else title
            out.append(Attachment(title, urljoin(url, node.get("href")), file_type))
    return tuple(out)
