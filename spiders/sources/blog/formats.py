"""Read the written answers in a post's plain text, in every republishing format pqwatch knows:
the House of Lords notification e-mail, the Hansard-style paste, the Church in Parliament posts,
copies of the official question page, parallelparliament and TheyWorkForYou copies, quotations
cited "[Official Report, …; Vol. …, c. …W.]" and Commons answers republished by MPs. Pure
functions: text in, typed records out; no HTML, no Scrapy, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

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
from storage.terms import House

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
        # The copies' formats in turn; the first that reads anything owns the post (an MP's
        # copy may cite the Official Report too, and must not be read twice).
        for reader in _COPY_READERS:
            found, unreadable = reader(lines)
            if found or unreadable:
                answers.extend(found)
                problems.extend(unreadable)
                break
    if not answers and not problems:
        try:
            answers.extend(_parse_hansard_paste(lines))
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
    return answers, problems


def is_anchor(line: str) -> bool:
    """Say whether a line of text is one of a republishing format's own lines, the lines that place
    a post's answers on its page: a notification e-mail's intro or date-and-time line, a "Tabled
    on" line, a Hansard-style "– To ask"; a Church in Parliament "received the following written
    answer", an "[Official Report, …W.]" citation, a "Written Question" or "Question to the …:"
    line, a "<Department> written question – answered on" lead, a dated "Asked" or "Answered"
    line, a "UIN" line, and a "To ask …" that ends with its UIN."""
    return (
        bool(_INTRO_HINT.search(line) or _ANSWER_DATE.match(line) or _TABLED.match(line))
        or (" To ask " in line and bool(_SPEAKER.match(line)))
        or _is_copy_anchor(line)
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


# ---------------------------------------------------------------------------------------------
# Copies of answers: shared pieces

# A date as the copies write it: "7 June 2021", "24th October 2022", "Tuesday 9th April 2024",
# "Sep 21, 2021", "2016-01-20". Only label lines that carry one count as a format's own lines.
_DATE_TEXT = (
    r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]{2,8}\.?,?\s+\d{4}"
    r"|[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2})"
)
# A question's own UIN at its end: "[12345]", "(12345)", "[HL1234]".
_OWN_UIN = re.compile(r"\s*[(\[](?P<uin>(?:HL\s?)?\d{1,6})[)\]]\s*\.?\s*$", re.IGNORECASE)
_TO_ASK = re.compile(r"^To ask\b")
# Lines that end an answer: the copying site's own furniture after it (TheyWorkForYou's vote
# box and links, a "Hansard" source link, share prompts).
_ANSWER_END = re.compile(
    r"^(?:Does this answer the above question\??|Link to this (?:speech|answer)\b.*|Hansard source\b.*"
    r"|Hansard|\(?via parliament\.uk\)?|Source:?\s+Hansard\b.*|Share this\b.*|Like this\b.*"
    r"|Tags?:.*|Categories:.*|Posted in\b.*|Filed under\b.*)$",
    re.IGNORECASE,
)
# An excerpt that stops before its end ("Continue reading", "Read more", a trailing ellipsis):
# the copy is cut off, and waits for the whole post.
_CUT_OFF = re.compile(r"^(?:Continue reading\b.*|Read more\b.*|\[?…\]?|\[\.\.\.\])$|(?:…|\.\.\.)\s*$", re.I)
_LORDS_TITLES = re.compile(
    r"^(?:The\s+)?(?:Lord|Baroness|Earl|Countess|Viscount|Viscountess|Marquess|Duke|Lady|"
    r"Lord Bishop|Bishop|Archbishop)\b"
)
# Party and office words that follow a member's name on TheyWorkForYou's speaker lines
# ("Tulip Siddiq Labour, Hampstead and Kilburn", "Simon Kirby The Economic Secretary to the
# Treasury"), and after a dash or in brackets on the other copies.
_PARTIES = (
    "Labour/Co-operative",
    "Labour",
    "Conservative",
    "Liberal Democrat",
    "Scottish National Party",
    "Democratic Unionist Party",
    "Plaid Cymru",
    "Green Party",
    "Green",
    "Independent",
    "Sinn Féin",
    "Sinn Fein",
    "Social Democratic and Labour Party",
    "Alliance",
    "Reform UK",
    "UKIP",
    "Crossbench",
    "Bishops",
    "Non-affiliated",
    "Speaker",
    "Deputy Speaker",
)
_OFFICE_WORDS = (
    "The ",
    "Minister",
    "Parliamentary",
    "Secretary",
    "Under-Secretary",
    "Chancellor",
    "Solicitor",
    "Attorney",
    "Advocate",
    "Leader of",
    "Lord Privy Seal",
    "Paymaster",
    "Financial Secretary",
    "Economic Secretary",
    "Exchequer Secretary",
    "Chief Secretary",
)
_SPEAKER_TAIL = re.compile(
    r"\s+(?=(?:" + "|".join(re.escape(word) for word in (*_PARTIES, *_OFFICE_WORDS)) + r")\b)"
)
_PERSON = re.compile(
    rf"^(?:{_TITLES}\s*)?[A-Z][\w'’.-]+(?:\s+(?:of|de|van|von|the|and|[A-Z][\w'’.-]+)){{0,6}}$"
)
# The Whitehall abbreviations Church in Parliament puts after a minister ("Lord Markham (Con,
# DHSC):"), spelt as the Written Questions API names the answering body.
_BODY_ABBREVIATIONS = {
    "DHSC": "Department of Health and Social Care",
    "DWP": "Department for Work and Pensions",
    "DFE": "Department for Education",
    "HO": "Home Office",
    "FCDO": "Foreign, Commonwealth and Development Office",
    "MOJ": "Ministry of Justice",
    "MOD": "Ministry of Defence",
    "DLUHC": "Department for Levelling Up, Housing and Communities",
    "MHCLG": "Ministry of Housing, Communities and Local Government",
    "DEFRA": "Department for Environment, Food and Rural Affairs",
    "DCMS": "Department for Culture, Media and Sport",
    "DFT": "Department for Transport",
    "DESNZ": "Department for Energy Security and Net Zero",
    "DSIT": "Department for Science, Innovation and Technology",
    "DBT": "Department for Business and Trade",
    "HMT": "HM Treasury",
    "CO": "Cabinet Office",
    "NIO": "Northern Ireland Office",
}
# The answering bodies a copy of the official page may run into its heading on one line
# ("Question for Home Office Immigration: Detention"): the longest that starts the text wins.
_BODIES = tuple(
    sorted(
        {
            *_BODY_ABBREVIATIONS.values(),
            "Department for International Development",
            "Department for International Trade",
            "Department for Business, Energy and Industrial Strategy",
            "Department of Health",
            "Department for Digital, Culture, Media and Sport",
            "Foreign and Commonwealth Office",
            "Scotland Office",
            "Wales Office",
            "Office of the Leader of the House of Lords",
            "Attorney General",
            "Department for Exiting the European Union",
            "Women and Equalities",
            "Department for Communities and Local Government",
            "Department of Energy and Climate Change",
            "Church Commissioners",
            "House of Commons Commission",
            "Prime Minister",
        },
        key=len,
        reverse=True,
    )
)


def _clean_member(text: str) -> str:
    """A member's name without what copies put after it: "(Conservative, Life peer)", "(Con,
    DHSC)", "(Labour - Hampstead and Kilburn)", "- Minister of State (Home Office)", a colon."""
    name = normalise_inline(text).rstrip(": ")
    # "The Minister of State, Home Office (Mr Tom Tugendhat)": the name is in the brackets.
    if name.startswith("The ") and (inner := re.search(r"\(([^()]+)\)\s*$", name)):
        if _PERSON.match(inner[1]):
            return inner[1].strip()
    # "(Party, peerage)", "(Con, DHSC)", and parallelparliament's "(Labour (Co-op) - York Central)".
    name = re.sub(r"(?:\s*\((?:[^()]|\([^()]*\))*\))+\s*$", "", name)
    name = re.sub(r"\s+[–—-]\s+.*$", "", name)  # "Name - current role"
    return name.strip(" ,:")


def _body_name(text: str) -> str | None:
    """An answering body as the API names it: parallelparliament writes "Foreign, Commonwealth &
    Development Office", the API "Foreign, Commonwealth and Development Office"."""
    return normalise_body_name(re.sub(r"\s+&\s+", " and ", normalise_inline(text)))


def _known_body(text: str) -> str | None:
    """The answering body a line names, when the whole line is one the copies use."""
    name = (_body_name(text) or "").rstrip(":")
    return next((body for body in _BODIES if body.lower() == name.lower()), None)


def _split_speaker(text: str) -> str | None:
    """The name in a TheyWorkForYou speaker line ("Tulip Siddiq Labour, Hampstead and Kilburn"),
    or None when the line is not a name followed by a party or an office."""
    parts = _SPEAKER_TAIL.split(text, maxsplit=1)
    if len(parts) != 2 or not _PERSON.match(parts[0].strip()):
        return None
    return parts[0].strip()


def _house_of(uin: str | None, asker: str | None, question: str) -> str:
    """A copy's House: from its UIN; without one, a peer or bishop asks in the Lords, and Lords
    questions are put to "His/Her Majesty's Government"; else the Commons."""
    if uin:
        return normalise_uin(uin)[0]
    if (asker and _LORDS_TITLES.match(asker)) or re.match(r"^To ask (?:His|Her) Majesty", question):
        return House.LORDS
    return House.COMMONS


def _split_own_uin(lines: list[TextLine]) -> tuple[list[TextLine], str | None]:
    """A question's lines without the UIN that closes them, and that UIN (None without one)."""
    if not lines:
        return lines, None
    match = _OWN_UIN.search(lines[-1].text)
    if not match:
        return lines, None
    last = TextLine(lines[-1].text[: match.start()].rstrip(), lines[-1].new_paragraph)
    return [*lines[:-1], last] if last.text else lines[:-1], normalise_uin(match["uin"])[1]


def _date(text: str | None, uin: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        raise _Unreadable(f"answer {uin or '(no UIN)'}: {what}: {error}", uin) from None


def _is_copy_anchor(line: str) -> bool:
    if len(line) > 400:
        return False
    if _TO_ASK.match(line):
        return bool(_OWN_UIN.search(line))
    return bool(
        _CHURCH_INTRO.match(line)
        or _CITATION.match(line)
        or _WRITTEN_QUESTION.match(line)
        or _QUESTION_TO.match(line)
        or _LEAD.match(line)
        or _ASKED_ON.match(line)
        or bool((asked := _ASKED_BY.match(line)) and asked["date"])
        or _ANSWERED_ON.match(line)
        or _UIN_LINE.match(line)
    )


# ---------------------------------------------------------------------------------------------
# Church in Parliament: "The Bishop of X received the following written answer on 24th October
# 2022:" then "The Lord Bishop of X asked His Majesty's Government …" (or "The Lord Bishop of X:
# To ask …"), then "Lord Y (Con, DHSC): <answer>"

_CHURCH_INTRO = re.compile(
    r"^(?:On\s+(?P<on>[^,]+?),?\s+)?the\s+(?:Lord\s+)?Bishop\s+of\s+(?P<see>[A-Z][\w .'’-]+?)"
    r"(?:,\s*[^,]+,)?\s+received\s+(?:the\s+following\s+|a\s+)?written\s+answers?\b"
    r"(?:\s+on\s+(?P<date>\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+(?:\s+\d{4})?))?[^:]*:?$",
    re.IGNORECASE,
)
_BISHOP_ASKS = re.compile(
    r"^(?:The\s+)?Lord\s+Bishop\s+of\s+(?P<see>[A-Z][\w .'’-]+?)"
    r"(?:\s+asked\s+(?P<asked>(?:His|Her)\s+Majesty.*)|\s*:\s*(?P<text>.*To ask\b.*))$"
)
_LEADING_UIN = re.compile(r"^\[?(?P<uin>HL\s?\d+)\]?\s+(?=To ask\b)", re.IGNORECASE)
_MINISTER_SAYS = re.compile(
    rf"^(?P<who>{_TITLES}[^:()]{{0,80}}?)\s*(?:\((?P<meta>[^()]*)\))?\s*:\s*(?P<text>.*)$"
)


def _read_church(lines: list[TextLine]) -> tuple[list[AnswerRecord], list[ParseProblem]]:
    """Read Church in Parliament posts: one intro dates the answers that follow it."""
    records: list[AnswerRecord] = []
    problems: list[ParseProblem] = []
    answered_text: str | None = None
    intro_seen = False
    i = 0
    while i < len(lines):
        text = lines[i].text
        if intro := _CHURCH_INTRO.match(text):
            intro_seen = True
            answered_text = intro["date"] or intro["on"]
            i += 1
            continue
        asks = _BISHOP_ASKS.match(text) if intro_seen else None
        if not asks:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not (
            _BISHOP_ASKS.match(lines[end].text) or _CHURCH_INTRO.match(lines[end].text)
        ):
            end += 1
        try:
            records.append(_church_record(asks, lines[i + 1 : end], answered_text, lines[i].new_paragraph))
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
        i = end
    return records, problems


def _church_record(
    asks: re.Match[str], rest: list[TextLine], answered_text: str | None, new_paragraph: bool
) -> AnswerRecord:
    asker = f"The Lord Bishop of {normalise_inline(asks['see'])}"
    if asks["asked"]:
        # "The Lord Bishop of X asked His Majesty's Government what …": the official text is
        # "To ask His Majesty's Government what …".
        first = f"To ask {asks['asked']}"
    else:
        first = asks["text"]
    uin = None
    if leading := _LEADING_UIN.match(first):
        uin = normalise_uin(leading["uin"])[1]
        first = first[leading.end() :]
    question = [TextLine(first, new_paragraph)]
    minister = body = None
    answer: list[TextLine] = []
    for line in rest:
        if minister is None:
            says = _MINISTER_SAYS.match(line.text)
            if says and not _TO_ASK.match(line.text):
                minister = _clean_member(says["who"])
                body = _church_body(says["meta"])
                if says["text"].strip():
                    answer.append(TextLine(says["text"].strip(), True))
            elif _is_minister_line(line.text, None) and not line.text.endswith("."):
                minister = _clean_member(line.text)
            else:
                question.append(line)
            continue
        if _ANSWER_END.match(line.text):
            break
        if _CUT_OFF.search(line.text):
            answer = []
            break
        answer.append(line)
    question, own_uin = _split_own_uin(question)
    uin = uin or own_uin
    label = uin or asker
    if minister is None or not answer:
        raise _Unreadable(f"answer to {label} is cut off: the minister's reply is missing", uin)
    if answered_text and not re.search(r"\d{4}", answered_text):
        raise _Unreadable(f"answer to {label}: the answer date {answered_text!r} has no year", uin)
    answered = _date(answered_text, uin, "answer date")
    question_text = join_lines(question)
    return AnswerRecord(
        house=House.LORDS,
        uin=uin,
        date_tabled=None,
        question_text=question_text,
        answer_text=join_lines(answer),
        asking_member=asker,
        answering_member=minister,
        answering_body=body,
        date_answered=answered,
    )


def _church_body(meta: str | None) -> str | None:
    """The answering body from "(Con, DHSC)" when the abbreviation is a known one."""
    for part in (meta or "").split(","):
        if found := _BODY_ABBREVIATIONS.get(part.strip().upper()):
            return found
    return None


# ---------------------------------------------------------------------------------------------
# Quotations cited "[Official Report, 5 March 2024; Vol. 746, c. 123W.]" (julianlewis.net): the
# question ("Dr Julian Lewis: To ask … [12345]"), the minister's answer, then the citation, whose
# date is the answer's; a column ending in W is a written answer.

_CITATION = re.compile(
    r"^\[?\s*Official Report,\s*(?P<date>[^;,\]]+?)\s*[;,]\s*Vol\.?\s*\d+\s*[,;]?\s*"
    r"cc?\.?\s*(?P<column>[\d\s–—-]+[A-Z]{0,3})\s*\.?\s*\]?\s*\.?$",
    re.IGNORECASE,
)
_SAYS = re.compile(
    r"^(?P<who>(?:The\s+)?[A-Z][\w'’.-]+(?:\s+[\w'’.,-]+){0,12}?(?:\s*\([^()]+\))*)\s*:\s*(?P<text>\S.*)$"
)


def _read_citations(lines: list[TextLine]) -> tuple[list[AnswerRecord], list[ParseProblem]]:
    """Read written answers each followed by their Official Report citation."""
    records: list[AnswerRecord] = []
    problems: list[ParseProblem] = []
    start = 0
    heading: str | None = None
    for i, line in enumerate(lines):
        cited = _CITATION.match(line.text)
        if not cited:
            continue
        chunk, start = lines[start:i], i + 1
        if not cited["column"].rstrip().upper().endswith("W"):
            continue  # a debate or statement column: not a written answer
        # Hansard's heading stands above the first of the answers under it, and covers the rest.
        heading = _cited_heading(chunk) or heading
        try:
            if record := _cited_record(chunk, cited["date"], heading):
                records.append(record)
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
    return records, problems


def _cited_heading(chunk: list[TextLine]) -> str | None:
    """The heading line just above a quoted question ("NUCLEAR DETERRENT: SUCCESSOR
    SUBMARINES"): short, not a sentence, not a speaker's line; None without one."""
    for j, line in enumerate(chunk):
        if (says := _SAYS.match(line.text)) and _TO_ASK.match(says["text"]):
            above = chunk[j - 1].text if j else ""
            if above and len(above) < 150 and not above.endswith((".", ":", "?", "]")):
                return above
            return None
    return None


def _cited_record(chunk: list[TextLine], cited_date: str, heading: str | None = None) -> AnswerRecord | None:
    asked_at = next(
        (
            j
            for j in range(len(chunk) - 1, -1, -1)
            if (m := _SAYS.match(chunk[j].text)) and _TO_ASK.match(m["text"])
        ),
        None,
    )
    if asked_at is None:
        return None  # a citation under prose, not under a quoted answer
    asks = _SAYS.match(chunk[asked_at].text)
    assert asks is not None
    question = [TextLine(asks["text"], True)]
    j = asked_at + 1
    while j < len(chunk) and not _OWN_UIN.search(question[-1].text) and not _SAYS.match(chunk[j].text):
        question.append(chunk[j])
        j += 1
    question, uin = _split_own_uin(question)
    reply = _SAYS.match(chunk[j].text) if j < len(chunk) else None
    if reply is None:
        raise _Unreadable(f"answer {uin or '(no UIN)'} is cut off: the minister's reply is missing", uin)
    answer = [TextLine(reply["text"], True), *chunk[j + 1 :]]
    if any(_CUT_OFF.search(line.text) for line in answer[-1:]):
        raise _Unreadable(f"answer {uin or '(no UIN)'} is cut off", uin)
    asker = _clean_member(asks["who"])
    question_text = join_lines(question)
    return AnswerRecord(
        house=_house_of(uin, asker, question_text),
        uin=uin,
        date_tabled=None,
        question_text=question_text,
        answer_text=join_lines(answer),
        asking_member=asker,
        answering_member=_clean_member(reply["who"]),
        date_answered=_date(cited_date, uin, "citation date"),
        heading=heading,
    )


# ---------------------------------------------------------------------------------------------
# Labelled copies: the official question page as Blogger sites copy it ("Baroness Cox Question
# for <Department>" / "Asked 7 June 2021" / "UIN HL567" / "Answered 21 June 2021 By …"),
# parallelparliament ("Written Question" / heading / date / "Asked by: …" / "Question to the …:"
# / "Answered by <Name> - <role>"), TheyWorkForYou ("<Department> written question – answered
# on …", speaker lines) and MPs' own copies ("UIN 12345", "Asked by", "Tabled on", "Answered by",
# "Answered on").

_WRITTEN_QUESTION = re.compile(r"^Written Question$", re.IGNORECASE)
_QUESTION_FOR = re.compile(r"^(?:(?P<asker>.{3,80}?)\s+)?Question for\s+(?P<rest>(?!Short Debate)\S.*)$")
_LEAD = re.compile(
    rf"^(?P<body>.+?)\s+written question\s*[–—-]\s*answered on\s+(?P<date>{_DATE_TEXT})\.?$",
    re.IGNORECASE,
)
_ASKED_BY = re.compile(
    rf"^(?:The below Parliamentary question was\s+)?Asked by:?\s+(?P<who>.+?)"
    rf"(?:,?\s+(?:asked\s+)?on:?\s+(?P<date>{_DATE_TEXT}))?\.?$",
    re.IGNORECASE,
)
_ASKED_ON = re.compile(
    rf"^(?:This question was\s+)?(?:Asked|Tabled)(?:\s+on)?:?\s+(?P<date>{_DATE_TEXT})\.?$", re.I
)
_ANSWERED_ON = re.compile(
    rf"^(?:This question was\s+)?Answered(?:\s+on)?:?\s+(?P<date>{_DATE_TEXT})"
    rf"(?:\s+By:?\s+(?P<who>.+?))?\.?$",
    re.IGNORECASE,
)
_ANSWERED_BY = re.compile(r"^Answered by:?\s+(?P<who>\S.{0,150})$", re.IGNORECASE)
_UIN_LINE = re.compile(
    r"^(?:UIN|Question(?: number)?)\s*:?\s*(?P<uin>(?:HL\s?)?\d{1,6})\s*\.?$"
    r"|^[(\[](?P<bare>(?:HL\s?)?\d{1,6})[)\]]$|^(?P<lords>HL\s?\d{1,6})$",
    re.IGNORECASE,
)
_QUESTION_TO = re.compile(r"^Question to (?:the\s+)?(?P<body>[^:]{3,120}):$", re.IGNORECASE)
_DATE_LINE = re.compile(rf"^{_DATE_TEXT}$")
_ALERT = re.compile(r"^Alert me about\b", re.IGNORECASE)


@dataclass
class _Copy:
    """One labelled copy being read, line by line."""

    written: bool = False  # it carries a written question's own label (not an oral question's)
    heading: str | None = None
    body: str | None = None
    asker: str | None = None
    speaker_line: str | None = None  # TheyWorkForYou: the line before the question
    tabled: str | None = None
    answered: str | None = None
    minister: str | None = None
    uin: str | None = None
    question: list[TextLine] = field(default_factory=list)
    answer: list[TextLine] = field(default_factory=list)
    in_answer: bool = False
    done: bool = False
    cut_off: bool = False


def _read_labelled(lines: list[TextLine]) -> tuple[list[AnswerRecord], list[ParseProblem]]:
    """Read every labelled copy in the text: a new one starts at its first label line."""
    copies: list[_Copy] = []
    current: _Copy | None = None
    previous: str | None = None
    for line in lines:
        text = line.text
        starts = _WRITTEN_QUESTION.match(text) or _QUESTION_FOR.match(text) or _LEAD.match(text)
        # A field label after an answer has begun starts the next copy (MPs' lists of answers).
        field_label = _UIN_LINE.match(text) or _ASKED_BY.match(text) or _ASKED_ON.match(text)
        if starts or (field_label and (current is None or current.in_answer or current.done)):
            current = _Copy()
            copies.append(current)
            if _LEAD.match(text) and previous and len(previous) < 150 and not previous.endswith("."):
                current.heading = previous  # TheyWorkForYou's heading stands above its lead
            elif field_label and previous and (body := _known_body(previous)):
                current.body = body  # MPs' copies put the department above the UIN
        if current is not None:
            _read_copy_line(current, line)
        previous = text
    records: list[AnswerRecord] = []
    problems: list[ParseProblem] = []
    for copy in copies:
        try:
            if record := _copy_record(copy):
                records.append(record)
        except _Unreadable as error:
            problems.append(ParseProblem(error.uin, str(error)))
    return records, problems


def _read_copy_line(copy: _Copy, line: TextLine) -> None:
    text = line.text
    if copy.done:
        return
    if copy.in_answer and copy.answer:
        if stamp := _ANSWERED_ON.match(text):
            # parallelparliament's question page dates the answer below it ("This question was
            # answered on 16th March 2020"): a stamp, not a paragraph, and the answer's end.
            copy.answered = copy.answered or stamp["date"]
            copy.done = True
        elif _ANSWER_END.match(text):
            copy.done = True
        elif _CUT_OFF.search(text):
            copy.cut_off = copy.done = True
        else:
            copy.answer.append(line)
        return
    if copy.question and _ANSWER_END.match(text):
        return  # TheyWorkForYou's "Hansard source" link under the question: furniture
    if match := _WRITTEN_QUESTION.match(text):
        copy.written = True
    elif match := _QUESTION_FOR.match(text):
        copy.asker = _clean_member(match["asker"]) if match["asker"] else copy.asker
        rest = normalise_inline(match["rest"])
        body = next((name for name in _BODIES if rest.lower().startswith(name.lower())), None)
        if body and rest[len(body) :].strip():
            copy.body, copy.heading = body, rest[len(body) :].strip(" :")
        else:
            copy.body = _body_name(rest)
    elif match := _LEAD.match(text):
        copy.written = True
        copy.body = _body_name(match["body"])
        copy.answered = match["date"]
    elif match := _UIN_LINE.match(text):
        copy.written = True
        copy.uin = normalise_uin(match["uin"] or match["bare"] or match["lords"])[1]
    elif match := _ASKED_BY.match(text):
        copy.asker = _clean_member(match["who"])
        if match["date"]:
            copy.written, copy.tabled = True, match["date"]
    elif match := _ASKED_ON.match(text):
        copy.written, copy.tabled = True, match["date"]
    elif match := _QUESTION_TO.match(text):
        copy.written, copy.body = True, _body_name(match["body"])
    elif match := _ANSWERED_ON.match(text):
        copy.answered = match["date"]
        copy.minister = _clean_member(match["who"]) if match["who"] else copy.minister
        copy.in_answer = bool(copy.question)
    elif match := _ANSWERED_BY.match(text):
        copy.minister = _clean_member(match["who"])
        copy.in_answer = bool(copy.question)
    elif _TO_ASK.match(text) and not copy.question:
        copy.question.append(TextLine(text, True))
        if copy.asker is None and copy.speaker_line:
            copy.asker = _split_speaker(copy.speaker_line)
    elif copy.in_answer:
        # TheyWorkForYou names the minister on a line of its own before the answer.
        if copy.minister is None and (name := _split_speaker(text)):
            copy.minister = name
        else:
            copy.answer.append(line)
    elif copy.question:
        closed = bool(_OWN_UIN.search(copy.question[-1].text))
        if (name := _split_speaker(text)) and (closed or len(text) < 120):
            copy.minister, copy.in_answer = name, True
        elif closed:
            copy.in_answer = True
            copy.answer.append(line)
        else:
            copy.question.append(line)
    elif _DATE_LINE.match(text) and copy.tabled is None:
        copy.tabled = text  # parallelparliament's listing: the date the question was asked
    elif _ALERT.match(text):
        pass
    elif copy.heading is None and not copy.speaker_line and len(text) < 150 and not _split_speaker(text):
        copy.heading = text
    else:
        copy.speaker_line = text


def _copy_record(copy: _Copy) -> AnswerRecord | None:
    """The record a labelled copy gives; None for one that is not a written answer (an oral
    question, prose that quotes a label); a problem for one cut off or half-readable."""
    if not copy.question or not (copy.written or copy.uin):
        return None
    question, own_uin = _split_own_uin(copy.question)
    uin = copy.uin or own_uin
    label = uin or "(no UIN)"
    if copy.cut_off:
        raise _Unreadable(f"answer {label} is cut off before its end", uin)
    if not copy.answer or not (copy.minister or copy.answered):
        raise _Unreadable(f"answer {label} is cut off: the answer is missing", uin)
    question_text = join_lines(question)
    asker = copy.asker
    return AnswerRecord(
        house=_house_of(uin, asker, question_text),
        uin=uin,
        date_tabled=_date(copy.tabled, uin, "tabled date"),
        question_text=question_text,
        answer_text=join_lines(copy.answer),
        asking_member=asker,
        answering_member=copy.minister,
        answering_body=copy.body,
        date_answered=_date(copy.answered, uin, "answer date"),
        heading=copy.heading,
    )


_COPY_READERS = (_read_church, _read_citations, _read_labelled)
