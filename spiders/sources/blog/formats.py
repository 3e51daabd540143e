"""Read the written answers in a post's plain text, in every republishing format pqwatch knows:
the House of Lords notification e-mail and the Hansard-style paste. Pure functions: text in,
typed records out; no HTML, no Scrapy, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spiders.normalise import (
    TextLine,
    join_lines,
    normalise_body_name,
    normalise_inline,
    normalise_uin,
    parse_date,
    parse_time_of_day,
    text_lines,
)
from spiders.records import AnswerRecord, ParseProblem

_SEPARATOR = re.compile(r"^\s*[=]{5,}\s*$")
_INTRO = re.compile(
    r"^(?P<minister>[^,]+?),\s+(?P<body>.+?),?\s+has provided the following answers?\s+to\s+"
    r"your written parliamentary questions?\s*\((?P<uins>HL\s?\d+(?:\s*(?:,|and|&)\s*HL\s?\d+)*)\)"
    r"\s*[:.]?$",
    re.IGNORECASE,
)
_INTRO_HINT = re.compile(r"has provided the following answer", re.IGNORECASE)
_QUESTION_LABEL = re.compile(
    r"^Questions?\b(?:\s+by)?\s*(?P<asker>(?!To ask)[^:]{0,80}?)\s*(?::\s*(?P<rest>.*))?$"
)
_TABLED = re.compile(r"^Tabled on\s*:?\s*(?P<date>.+?)\s*\.?$", re.IGNORECASE)
_GROUPED_HEADER = re.compile(r"^This question was grouped with", re.IGNORECASE)
_ITEM_NUMBER = re.compile(r"^\d{1,2}[.)]\s+")
_ANSWER_LABEL = re.compile(r"^Answer\s*(?::\s*(?P<rest>.*))?$")
_ANSWER_DATE = re.compile(
    r"^Date and time of answer\s*:?\s*(?P<date>.+?)(?:\s+at\s+(?P<time>\d{1,2}[:.]\d{2}))?"
    r"\s*\.?$",
    re.IGNORECASE,
)
_TRAILING_UIN = re.compile(r"\s*[(\[](?P<uin>HL\s?\d+)[)\]]\s*\.?\s*$", re.IGNORECASE)
_ANY_UIN = re.compile(r"[(\[](HL\s?\d+)[)\]]", re.IGNORECASE)
_TITLES = (
    r"(?:The\s+)?(?:Lord|Baroness|Earl|Countess|Viscount|Viscountess|Marquess|Duke|Lady|"
    r"Bishop|Lord Bishop|Rt Hon|Sir|Dame|Mr|Mrs|Ms|Miss|Dr)\b"
)
_MEMBER_NAME = re.compile(rf"^{_TITLES}[^.;]{{0,80}}$")
# "Lord Alton of Liverpool – To ask …" / "Lord Ahmad of Wimbledon – The Government …"
_SPEAKER = re.compile(rf"^(?P<who>{_TITLES}[^–—:]{{0,80}}?)\s+[–—-]\s+(?P<text>\S.*)$")


@dataclass
class _Entry:
    text: list[TextLine] = field(default_factory=list)
    tabled: str | None = None


def parse_answers_text(text: str) -> tuple[list[AnswerRecord], list[ParseProblem]]:
    """Find every written answer in a post's plain text; return records and unreadable ones."""
    lines = text_lines(text)
    answers: list[AnswerRecord] = []
    problems: list[ParseProblem] = []
    for block in _blocks(lines):
        try:
            answers.extend(_parse_email_block(block))
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
    if not answers and not problems:
        try:
            answers.extend(_parse_hansard_paste(lines))
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
    return answers, problems


def is_anchor(line: str) -> bool:
    """Say whether a line of text is one of a republishing format's own lines (a notification
    e-mail's intro or date-and-time line, a "Tabled on" line, a Hansard-style "– To ask"): the
    lines that place a post's answers on its page."""
    return bool(_INTRO_HINT.search(line) or _ANSWER_DATE.match(line) or _TABLED.match(line)) or (
        " To ask " in line and bool(_SPEAKER.match(line))
    )


class _Unreadable(ValueError):
    def __init__(self, message: str, uin: str | None = None) -> None:
        super().__init__(message)
        self.uin = uin


def _blocks(lines: list[TextLine]) -> list[list[TextLine]]:
    """Split the text into one block per e-mail: at `====` lines and at each intro line."""
    blocks: list[list[TextLine]] = []
    current: list[TextLine] = []
    for line in lines:
        if _SEPARATOR.match(line.text):
            blocks.append(current)
            current = []
        elif _INTRO_HINT.search(line.text) and any(_INTRO_HINT.search(x.text) for x in current):
            blocks.append(current)
            current = [line]
        else:
            current.append(line)
    blocks.append(current)
    return [block for block in blocks if _is_email_block(block)]


def _is_email_block(block: list[TextLine]) -> bool:
    return any(_INTRO_HINT.search(line.text) or _ANSWER_DATE.match(line.text) for line in block) or (
        any(_TABLED.match(line.text) for line in block) and any(_ANY_UIN.search(line.text) for line in block)
    )


def _parse_email_block(block: list[TextLine]) -> list[AnswerRecord]:
    intro_at = next((i for i, line in enumerate(block) if _INTRO_HINT.search(line.text)), None)
    minister = body = None
    intro_uins: list[str] = []
    if intro_at is not None:
        match = _INTRO.match(block[intro_at].text)
        uin_hint = _ANY_UIN.search(block[intro_at].text)
        if not match:
            raise _Unreadable(
                f"unreadable notification line {block[intro_at].text[:80]!r}",
                uin_hint[1] if uin_hint else None,
            )
        minister = normalise_inline(match["minister"])
        body = normalise_body_name(match["body"])
        intro_uins = [normalise_uin(u)[1] for u in re.findall(r"HL\s?\d+", match["uins"], re.I)]
        rest = block[intro_at + 1 :]
    else:
        rest = block
    uin_label = intro_uins[0] if intro_uins else None

    asker, entries, position = _read_questions(rest, uin_label)
    if not entries:
        raise _Unreadable(f"answer {uin_label or '?'}: no question text found", uin_label)
    for entry in entries:
        entry_uin = _entry_uin(entry)
        if entry_uin is None:
            raise _Unreadable(f"answer {uin_label or '?'}: a question has no UIN", uin_label)
        if entry.tabled is None:
            raise _Unreadable(f"answer {entry_uin}: no 'Tabled on' date", entry_uin)

    answer_minister, answer_lines, stamp = _read_answer(rest[position:], minister)
    main_uin = uin_label or _entry_uin(entries[0])
    if stamp is None:
        raise _Unreadable(f"answer {main_uin} is cut off: no 'Date and time of answer' line", main_uin)
    if not answer_lines:
        raise _Unreadable(f"answer {main_uin}: the answer text is empty", main_uin)
    try:
        answered = parse_date(stamp["date"])
        answered_at = parse_time_of_day(answered, stamp["time"]) if stamp["time"] else None
        tabled_dates = [parse_date(entry.tabled or "") for entry in entries]
    except ValueError as error:
        raise _Unreadable(f"answer {main_uin}: {error}", main_uin) from None

    answer_text = join_lines(answer_lines)
    uins = [_entry_uin(entry) or "" for entry in entries]
    # The e-mail answers the UIN it names; the others were grouped with it for answer.
    if main_uin in uins:
        order = [uins.index(main_uin)] + [i for i in range(len(uins)) if uins[i] != main_uin]
    else:
        order = list(range(len(uins)))
    records = []
    for i in order:
        house, uin = normalise_uin(uins[i])
        records.append(
            AnswerRecord(
                house=house,
                uin=uin,
                date_tabled=tabled_dates[i],
                question_text=_question_text(entries[i]),
                answer_text=answer_text,
                asking_member=asker,
                answering_member=answer_minister or minister,
                answering_body=body,
                date_answered=answered,
                answered_at=answered_at,
                grouped_with=tuple(u for u in uins if u != uins[i]),
            )
        )
    return records


def _read_questions(lines: list[TextLine], uin_label: str | None) -> tuple[str | None, list[_Entry], int]:
    """Read the question part: an optional label, then (text, Tabled on) entries."""
    asker: str | None = None
    entries: list[_Entry] = []
    current = _Entry()
    i = 0
    while i < len(lines):
        text = lines[i].text
        if not entries and not current.text and (label := _question_label(text)):
            asker, rest = label
            if rest:
                current.text.append(TextLine(rest, True))
        elif _GROUPED_HEADER.match(text):
            pass
        elif tabled := _TABLED.match(text):
            current.tabled = tabled["date"]
            entries.append(current)
            current = _Entry()
            following = lines[i + 1].text if i + 1 < len(lines) else ""
            if not _continues_questions(following):
                return asker, entries, i + 1
        elif _ANSWER_LABEL.match(text) or _ANSWER_DATE.match(text):
            break
        else:
            current.text.append(TextLine(_ITEM_NUMBER.sub("", text), lines[i].new_paragraph))
        i += 1
    if current.text and not entries:
        entries.append(current)  # a question with no "Tabled on": reported by the caller
    return asker, entries, i


def _question_label(text: str) -> tuple[str | None, str | None] | None:
    match = _QUESTION_LABEL.match(text)
    if not match:
        return None
    asker = (match["asker"] or "").strip() or None
    rest = (match["rest"] or "").strip() or None
    has_colon = match["rest"] is not None
    # "Question" / "Question:" / "Question by X" / "Question X:" — but never a sentence.
    if asker and not (has_colon or text.lower().startswith(("question by", "questions by"))):
        return None
    if asker and not _MEMBER_NAME.match(asker):
        return None
    return asker, rest


def _continues_questions(text: str) -> bool:
    return bool(_GROUPED_HEADER.match(text) or _ITEM_NUMBER.match(text) or text.startswith("To ask"))


def _entry_uin(entry: _Entry) -> str | None:
    # The question's own UIN closes it; earlier ones are references ("further to … (HL2328)").
    for line in reversed(entry.text):
        if found := _ANY_UIN.findall(line.text):
            return normalise_uin(found[-1])[1]
    return None


def _question_text(entry: _Entry) -> str:
    lines = list(entry.text)
    last = _TRAILING_UIN.sub("", lines[-1].text)
    lines[-1] = TextLine(last, lines[-1].new_paragraph)
    return join_lines([line for line in lines if line.text])


def _read_answer(
    lines: list[TextLine], intro_minister: str | None
) -> tuple[str | None, list[TextLine], re.Match[str] | None]:
    """Read "Answer:", the minister's line, the answer paragraphs and the date-and-time line
    (None when the answer is cut off before it)."""
    minister: str | None = None
    body: list[TextLine] = []
    i = 0
    if i < len(lines) and (label := _ANSWER_LABEL.match(lines[i].text)):
        rest = (label["rest"] or "").strip()
        if rest and _is_minister_line(rest, intro_minister):
            minister = rest.rstrip(": ")
        elif rest:
            body.append(TextLine(rest, True))
        i += 1
    if minister is None and not body and i < len(lines):
        if _is_minister_line(lines[i].text, intro_minister):
            minister = lines[i].text.rstrip(": ")
            i += 1
    for line in lines[i:]:
        if stamp := _ANSWER_DATE.match(line.text):
            return minister, body, stamp
        body.append(line)
    return minister, body, None


def _is_minister_line(text: str, intro_minister: str | None) -> bool:
    name = text.rstrip(": ").strip()
    if intro_minister and name.lower() == intro_minister.lower():
        return True
    if len(name) > 80 or name.endswith((".", "?", "!")):
        return False
    return bool(_MEMBER_NAME.match(name)) and (text.endswith(":") or len(name.split()) <= 8)


# ---------------------------------------------------------------------------------------------
# The Hansard-style paste: "Lord X – To ask … [HL8104]" then "Minister – answer"


def _parse_hansard_paste(lines: list[TextLine]) -> list[AnswerRecord]:
    records: list[AnswerRecord] = []
    i = 0
    while i < len(lines):
        speaker = _SPEAKER.match(lines[i].text)
        if not (speaker and speaker["text"].startswith("To ask")):
            i += 1
            continue
        asker = normalise_inline(speaker["who"])
        question = [TextLine(speaker["text"], True)]
        i += 1
        # The question's own UIN closes it ("… [HL8104]", often on a line of its own); a UIN
        # inside the text cites an earlier answer ("further to … (HL6538), what …").
        while not _TRAILING_UIN.search(question[-1].text) and i < len(lines):
            if _SPEAKER.match(lines[i].text):
                break
            question.append(lines[i])
            i += 1
        uin_match = _TRAILING_UIN.search(question[-1].text)
        if uin_match is None:
            continue  # an oral question: no UIN, not a written answer
        house, uin = normalise_uin(uin_match["uin"])
        answer = _SPEAKER.match(lines[i].text) if i < len(lines) else None
        if answer is None or answer["text"].startswith("To ask"):
            raise _Unreadable(f"answer {uin} is cut off: the minister's reply is missing", uin)
        minister = normalise_inline(answer["who"])
        body = [TextLine(answer["text"], True)]
        i += 1
        while i < len(lines):
            nxt = _SPEAKER.match(lines[i].text)
            if nxt and nxt["text"].startswith("To ask"):
                break
            body.append(lines[i])
            i += 1
        question_text = _question_text(_Entry(question))
        records.append(
            AnswerRecord(
                house=house,
                uin=uin,
                date_tabled=None,
                question_text=question_text,
                answer_text=join_lines(body),
                asking_member=asker,
                answering_member=minister,
            )
        )
    return records
