"""Follow-up threads: the earlier answers a question or answer text names ("pursuant to the Answer
of 5 January 2024 to Question 7926", "further to the Written Answer by … on 1 September (HL2328)",
"I refer the hon. Member to the answer given to PQ 146306") and the date of its own holding answer
("[holding answer 11 January 2024]").

Pure: text in, references out. A reference is a trigger phrase ("pursuant to the Answer", "further
to the Written Answer", "I refer … to the answer") followed, within the same clause, by the date
and/or UIN it names; a trigger that names neither identifies nothing and is dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from storage.terms import EARLIEST_DATE, House, canonical_uin

Kind = Literal["pursuant", "further_to", "refers_to", "holding"]

# How far after its trigger a reference may name its date and UIN: one clause of a question.
_REACH = 250
# How many years back a year-less date may resolve (a 29 February needs up to eight).
_YEARS_BACK = 8

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_MONTH = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_DATE = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<month>{_MONTH})\b\.?(?:,?\s+(?P<year>1[89]\d\d|20\d\d)\b)?",
    re.IGNORECASE,
)
# A number that is a UIN: "7926", "155,432" (Hansard groups thousands), "HL2328", "HL 2328"; never
# the day of a date that follows ("Questions 12345 and 5 January" is one question).
_NUMBER = rf"(?:HL\s?)?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)\b(?!(?:st|nd|rd|th)?\s+(?:{_MONTH})\b)"
_UIN = re.compile(
    r"\b(?:(?:Written|Parliamentary)\s+)?(?:Questions?|PQs?|UINs?)\s*(?:No\.?\s*|number\s+)?"
    rf"(?P<numbers>{_NUMBER}(?:\s*(?:,|and|&|or)\s*{_NUMBER})*)"
    # A Lords UIN stands alone in brackets, "(HL2328)"; one in square brackets ends a question and
    # is that question's own UIN, not the one it follows.
    r"|(?<!\[)\b(?P<lords>HL\s?\d+)\b(?!\])",
    re.IGNORECASE,
)
_ONE_NUMBER = re.compile(r"(?:HL\s?)?(?:\d{1,3}(?:,\d{3})+\b|\d+)", re.IGNORECASE)

_WHOSE = r"(?:the|his|her|my|their|your|our|an?)"
_ANSWER = r"(?:(?:written|parliamentary)\s+)?(?:answers?|repl(?:y|ies))\b"
_TRIGGER = re.compile(
    rf"(?P<pursuant>\bpursuant\s+to\s+{_WHOSE}\s+{_ANSWER})"
    rf"|(?P<further_to>\bfurther\s+to\s+{_WHOSE}\s+{_ANSWER})"
    # "I refer the hon. Member [for Blaby] to the answer": whoever is referred, then "to" an answer.
    rf"|(?P<refers_to>\b(?:I|we)\s+(?:would\s+|should\s+|can\s+)?refer\s+(?:(?!\bto\b)[^;\n]){{1,100}}?"
    rf"\bto\s+{_WHOSE}\s+{_ANSWER})",
    re.IGNORECASE,
)
# "… the Answer of 7 January 2019 to Question 203928 and the Answer of 8 January 2019 to Question
# 205307": a second reference of the same kind inside the first one's clause.
_AND_ANSWER = re.compile(rf"\b(?:and|or)\s+(?:to\s+)?(?P<answer>{_WHOSE}\s+{_ANSWER})", re.IGNORECASE)
_HOLDING = re.compile(
    r"\[\s*holding\s+(?:answers?|repl(?:y|ies))\s*(?:(?:on|of|issued(?:\s+on)?|given(?:\s+on)?)\s+)?"
    r"(?P<date>[^\]]{1,40}?)\s*\]",
    re.IGNORECASE,
)
# Where a reference's clause ends: a sentence, a semicolon, or the question proper beginning
# (", whether …", ", what …", ", (1) …").
_BREAK = re.compile(
    r"[;?\n]|(?P<word>\w*)\.(?=[\s\[]|$)"
    r"|,\s*(?:what|whether|how|if|when|which|why|where|who|and\s+(?:if|what|whether|how))\b"
    r"|,\s*\((?:\d+|[a-z]|[ivx]+)\)",
    re.IGNORECASE,
)
# Words whose full stop ends an abbreviation, not a sentence ("the hon. Member", "Mr. Field", "Jan.").
_ABBREVIATIONS = frozenset(
    {
        "hon",
        "rt",
        "mr",
        "mrs",
        "ms",
        "dr",
        "no",
        "st",
        "col",
        "cols",
        "c",
        "cc",
        "vol",
        "sept",
        *(_MONTHS.keys() - {"may"}),
    }
)
_SPACES = re.compile(r"\s+")
_PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2007": " ", "\u202f": " "}
)


@dataclass(frozen=True)
class Reference:
    """One earlier answer a text names, or the date of the text's own holding answer."""

    kind: Kind
    uin: str | None  # canonical: Commons digits ("7926"), Lords "HL2328"
    answered_on: date | None  # the date the text gives the earlier (or holding) answer
    text: str  # the matched phrase, for display


def references(text: str | None, *, house: str, context_date: date | None) -> tuple[Reference, ...]:
    """Every reference in a question or answer text, in order, each once.

    `house` ("Commons" or "Lords") decides how a bare number reads: in the Lords "Question 2328" is
    HL2328. A date without a year takes the latest such date not after `context_date` (usually the
    date tabled); with no context it stays None. Raises ValueError for an unknown house."""
    lords = House(house) is House.LORDS
    if not text:
        return ()
    plain = _SPACES.sub(" ", text.translate(_PLAIN))
    found = sorted(
        [*_holding_references(plain, context_date), *_answer_references(plain, lords, context_date)],
        key=lambda pair: pair[0],
    )
    unique: dict[tuple[str, str | None, date | None], Reference] = {}
    for _, reference in found:
        unique.setdefault((reference.kind, reference.uin, reference.answered_on), reference)
    return tuple(unique.values())


def follows(refs: Iterable[Reference]) -> tuple[Reference, ...]:
    """The references that name another question by UIN (what this one follows), each UIN once;
    a holding answer dates this question's own reply, so it is never a follow-up."""
    unique: dict[str, Reference] = {}
    for reference in refs:
        if reference.uin is not None and reference.kind != "holding":
            unique.setdefault(reference.uin, reference)
    return tuple(unique.values())


def _holding_references(text: str, context: date | None) -> Iterator[tuple[int, Reference]]:
    """Each "[holding answer 11 January 2024]" mark, with its date."""
    for match in _HOLDING.finditer(text):
        found = _DATE.search(match["date"])
        answered_on = _resolve_date(found, context) if found else None
        if answered_on is not None:
            yield match.start(), Reference("holding", None, answered_on, match.group())


def _answer_references(text: str, lords: bool, context: date | None) -> Iterator[tuple[int, Reference]]:
    """Each reference a trigger phrase starts: one per UIN it names, or one for its date alone."""
    triggers = list(_TRIGGER.finditer(text))
    for index, trigger in enumerate(triggers):
        kind: Kind = (
            "pursuant" if trigger["pursuant"] else "further_to" if trigger["further_to"] else "refers_to"
        )
        limit = triggers[index + 1].start() if index + 1 < len(triggers) else len(text)
        end = _clause_end(text, trigger.end(), min(limit, trigger.end() + _REACH))
        # Split the clause where a second answer is named ("… and the Answer of 8 January …").
        starts = [(trigger.start(), trigger.end())]
        starts += [(m.start("answer"), m.end()) for m in _AND_ANSWER.finditer(text, trigger.end(), end)]
        for part, (start, body) in enumerate(starts):
            stop = starts[part + 1][0] if part + 1 < len(starts) else end
            yield from ((start, ref) for ref in _named(text, kind, start, body, stop, lords, context))


def _named(
    text: str, kind: Kind, start: int, body: int, stop: int, lords: bool, context: date | None
) -> Iterator[Reference]:
    """The references one answer phrase makes: its date and each UIN it names in text[body:stop]."""
    found_date = _DATE.search(text, body, stop)
    answered_on = _resolve_date(found_date, context) if found_date else None
    uins: list[str] = []
    last = found_date.end() if found_date else body
    for match in _UIN.finditer(text, body, stop):
        numbers = match["numbers"] or match["lords"]
        uins += [_uin(number, lords) for number in _ONE_NUMBER.findall(numbers)]
        last = max(last, match.end())
    if not uins and found_date is None:
        return  # "I refer my hon. Friend to the answer I gave earlier": nothing to link
    if text.count("(", start, last) > text.count(")", start, last) and text.startswith(")", last):
        last += 1  # close the bracket a Lords UIN stands in: "(HL2328)"
    phrase = text[start:last].rstrip(" ,(")
    for uin in dict.fromkeys(uins) or [None]:
        yield Reference(kind, uin, answered_on, phrase)


def _clause_end(text: str, start: int, limit: int) -> int:
    """Where the clause that starts at `start` ends, at the latest `limit`."""
    for match in _BREAK.finditer(text, start, limit):
        word = match["word"]
        if word is not None and (word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())):
            continue  # "the hon. Member", "Mr. Field", "J. Smith": not a sentence's end
        return match.end("word") if word is not None else match.start()  # a full stop ends after its word
    return limit


def _uin(number: str, lords: bool) -> str:
    """A UIN as the text names it, canonical; a bare number in a Lords text is a Lords UIN."""
    uin = canonical_uin(number.replace(",", ""))
    return f"HL{uin}" if lords and uin.isdigit() else uin


def _resolve_date(match: re.Match[str], context: date | None) -> date | None:
    """The date a match names; without a year, the latest such date not after `context`."""
    day, month = int(match["day"]), _MONTHS[match["month"][:3].lower()]
    if match["year"]:
        return _valid_date(int(match["year"]), month, day)
    if context is None:
        return None
    for year in range(context.year, context.year - _YEARS_BACK, -1):
        candidate = _valid_date(year, month, day)
        if candidate is not None and candidate <= context:
            return candidate
    return None


def _valid_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when the calendar has no such day or it is before the record begins."""
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value if value >= EARLIEST_DATE else None
