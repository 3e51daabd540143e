"""Non-answers: a deterministic classifier that names the way an answer declines or defers.

`classify(answer_text)` returns the name of the first rule in `NON_ANSWER_RULES` that matches, or
None for an ordinary answer. Exports carry it as `non_answer`; digests mark such answers and
count them per department. Each rule has a saved real example and a near miss that must not
match (tests/fixtures/nonanswers/<rule>.json).

How far into an answer a rule looks is the rule's `reach` (see `Reach`): most refusals count
only when the answer opens with them, so an answer that gives its figures first and declines a
detail later is not a non-answer. The text is read as found: HTML tags are dropped, entities
decoded, and every pattern is case-insensitive and takes any run of whitespace (line breaks,
non-breaking spaces) between words, so "Hon." and "hon." and curly or straight quotes all read
alike.

Pure and fast (it runs on every exported answer): of a long answer only the first `LEAD_CHARS`
characters are read, each rule is skipped unless one of its lower-case cue words occurs (a
substring test), and the patterns have bounded gaps only, so no input makes them backtrack
catastrophically."""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

# "Short": the whole answer has at most this many words (and, as received, at most this many
# characters), so a formula anywhere in it is the answer.
SHORT_ANSWER_WORDS = 60
SHORT_ANSWER_CHARS = 1000
# A longer answer is read only this far: its opening sentence is all that can matter, and one
# longer than this is cut here.
LEAD_CHARS = 700
LEAD_PROBE_CHARS = 320
# `Reach.ALONE`: at most this many words may follow the opening sentence (room for "copies are in
# the Library" boilerplate, not for an answer).
ALONE_TAIL_WORDS = 30


class Reach(Enum):
    """Where in an answer a rule's pattern must match for the answer to count as that non-answer."""

    LEAD = "lead"  # in the opening sentence, whatever follows it
    LEAD_OR_SHORT = "lead_or_short"  # in the opening sentence, or anywhere in a short answer
    ALONE = "alone"  # in the opening sentence with almost nothing after it, or anywhere in a short answer


@dataclass(frozen=True)
class NonAnswerRule:
    """One way of declining or deferring: its name (exported as `non_answer`), what a reader is
    told, the pattern, the cue words one of which the text must contain before the pattern is
    tried, and how far into the answer it looks."""

    name: str
    meaning: str
    pattern: re.Pattern[str]
    cues: tuple[str, ...]
    reach: Reach

    def matches(self, answer_text: str | None) -> bool:
        """Whether this rule alone would flag the answer (regardless of earlier rules)."""
        if not answer_text:
            return False
        view = _Answer(answer_text)
        return _applies(self, view)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Who the answer is addressed to: "the hon. Member", "my right hon. Friend", "the Rt Hon. member",
# "the noble Lord", "the noble and learned Baroness", "the hon. and gallant Gentleman".
_ADDRESSEE = (
    r"(?:the|my)\s+(?:(?:right|rt\.?)\s+)?(?:hon(?:ourable)?\.?|noble)\s+"
    r"(?:and\s+(?:learned|gallant|right\s+reverend)\s+)?"
    r"(?:member|friend|gentleman|lady|lord|baroness|earl|countess|viscount|marquess|duke|bishop)s?\b"
)
_SOON = r"(?:as\s+soon\s+as\s+(?:possible|practicable)|shortly|soon)"
# The subject at the start of a sentence: a few plain words ("Information on vehicle life ",
# "The Department "), no full stop among them.
_OPENING_WORDS = r"(?:[\w'\u2019,()-]+\s+){0,15}?"

# Order matters: the first match wins. The formulas that say most precisely what happened come
# first (a prorogation answer often also says "I will write"; "not held centrally and could be
# provided only at disproportionate cost" is a cost refusal).
NON_ANSWER_RULES: tuple[NonAnswerRule, ...] = (
    # The end-of-session formula (Erskine May 22.23, the 2004 Hain statement) and the older
    # "not possible to provide an answer before Prorogation" wording; Dissolution likewise.
    # Opening sentence or a short answer: a long statement that quotes the formula is not one.
    NonAnswerRule(
        name="prorogation",
        meaning="Not answered before Prorogation (or Dissolution); the Member may table it again.",
        pattern=_rx(
            r"\bnot\s+(?:proved|been)\s+possible\s+to\s+(?:respond|reply|answer|provide)\b[^\n]{0,160}?"
            r"\bbefore\s+(?:the\s+)?(?:prorogation|dissolution)\b"
            r"|\b(?:not\s+been\s+able|unable)\s+to\s+(?:answer|respond|reply|provide)\b[^\n]{0,120}?"
            r"\bbefore\s+(?:the\s+House\s+(?:prorogues|is\s+prorogued|is\s+dissolved)|prorogation|dissolution)\b"
        ),
        cues=("prorog", "dissol"),
        reach=Reach.LEAD_OR_SHORT,
    ),
    # A holding reply: "I shall let the hon. Member have a reply as soon as possible" (the Cabinet
    # Office formula), "I will reply to the hon. Member as soon as possible". Only when it is (almost)
    # the whole answer: "we will publish the guidance as soon as possible" in a substantive answer
    # is not a holding reply, and nor is anything that answers after the promise.
    NonAnswerRule(
        name="holding_as_soon_as_possible",
        meaning="A holding reply: the Minister promises an answer later (\u201cas soon as possible\u201d).",
        pattern=_rx(
            rf"\b(?:I|we)\s+(?:will|shall)\s+(?:reply|respond)\s+(?:to\s+{_ADDRESSEE}\s+)?{_SOON}"
            rf"|\blet\s+(?:{_ADDRESSEE}|him|her)\s+have\s+(?:a|an|the|my)\s+(?:substantive\s+|full\s+)?"
            rf"(?:reply|answer|response)\s+{_SOON}"
            rf"|\b(?:a|an|the)\s+(?:substantive\s+|full\s+)?(?:reply|answer|response)\s+will\s+be\s+"
            rf"(?:provided|given|sent)\s+(?:to\s+{_ADDRESSEE}\s+)?{_SOON}"
        ),
        cues=("soon", "shortly"),
        reach=Reach.ALONE,
    ),
    # "I will write to the hon. Member and place a copy of my letter in the Library": the answer
    # goes in a letter. Only a letter to the Member who asked: "I will write to every school" and
    # "I will write to my right hon. Friend the Secretary of State" are not. Opening sentence or a
    # short answer; a long answer that ends by promising a letter on one detail has answered.
    NonAnswerRule(
        name="will_write",
        meaning="The Minister will reply by letter instead of answering here.",
        pattern=_rx(
            rf"\b(?:I|we)\s+(?:will|shall)\s+(?:(?:separately|personally|directly|also)\s+)?write\s+to\s+"
            rf"{_ADDRESSEE}"
            r"(?!\s+the\s+(?:secretary|minister|chancellor|prime|leader|chief|attorney|solicitor|paymaster))"
        ),
        cues=("write to",),
        reach=Reach.LEAD_OR_SHORT,
    ),
    # "I refer the hon. Member to the answer I gave ... on 1 May". Only when the referral is the
    # whole answer: an answer that refers to another and then gives new figures has answered.
    NonAnswerRule(
        name="refers_to_earlier_answer",
        meaning="Refers the Member to an earlier answer instead of answering.",
        pattern=_rx(
            rf"\bI\s+(?:would\s+|therefore\s+|also\s+)?refer\s+{_ADDRESSEE}[^\n]{{0,200}}?"
            r"\bto\s+(?:the|my|his|her)\s+(?:[\w-]+\s+){0,3}?"
            r"(?:answers?|repl(?:y|ies)|responses?|statements?)\b"
        ),
        cues=("refer",),
        reach=Reach.ALONE,
    ),
    # "could be provided only at disproportionate cost" and its variants (the refusal grammar, not
    # the words: "guidance on disproportionate cost" or "a disproportionate increase" are not it).
    # Opening sentence only: figures first and "earlier years only at disproportionate cost" after
    # is an answer with a gap, not a refusal.
    NonAnswerRule(
        name="disproportionate_cost",
        meaning="Declined: finding the information would cost more than the disproportionate cost limit.",
        pattern=_rx(
            r"\bonly\s+(?:at|by\s+incurring)\s+(?:an?\s+)?disproportionate\s+costs?\b"
            r"|\b(?:would|could|will)\s+(?:involve|incur|entail|require)\s+(?:an?\s+)?disproportionate\s+costs?\b"
            r"|\bwithout\s+incurring\s+(?:an?\s+)?disproportionate\s+costs?\b"
            r"|\bexceed(?:s|ed)?\s+the\s+disproportionate\s+cost\s+(?:threshold|limit)\b"
        ),
        cues=("disproportionate",),
        reach=Reach.LEAD,
    ),
    # "This information is not collected centrally", "The Department does not hold this information
    # centrally". Opening sentence only, for the same reason as the cost rule, and as its main
    # clause (a few plain words, then the refusal): "... for information on replies stating that
    # information is not held centrally" reports refusals. An answer that opens this way and then
    # offers related guidance is still flagged: its first word to the reader is a refusal.
    NonAnswerRule(
        name="not_held_centrally",
        meaning="Declined: the information is not held (or collected) centrally.",
        pattern=_rx(
            rf"\A{_OPENING_WORDS}(?:(?:is|are)\s+not\s+(?:held|collected|recorded|kept|maintained|compiled|available)"
            r"\s+centrally|(?:is|are)\s+not\s+centrally\s+(?:held|collected|recorded|available)"
            r"|(?:does|do)\s+not\s+(?:hold|collect|record|keep)\b[^.\n]{0,80}?\bcentrally)\b"
        ),
        cues=("centrally",),
        reach=Reach.LEAD,
    ),
    # "The information requested is not held." The opening sentence must be that refusal and
    # nothing more: "not available on a county level basis. However, ..." declines a breakdown and
    # answers the rest, so it is not flagged.
    NonAnswerRule(
        name="not_held",
        meaning="Declined: the information asked for is not held.",
        pattern=_rx(
            r"\b(?:information|data|figures?|records?|statistics)\b[^.\n]{0,80}?\b(?:is|are)\s+not\s+"
            r"(?:held|collected|recorded|kept|available)"
            r"(?:\s+(?:by|in|within)\s+(?:the|my|this|his|her)\s+department)?\s*[.;]?\s*\Z"
            r"|\b(?:does|do)\s+not\s+hold\s+(?:the|this|that|such|any)\s+"
            r"(?:information|data|figures|records|statistics)(?:\s+(?:requested|sought))?\s*[.;]?\s*\Z"
        ),
        cues=("not held", "not collected", "not recorded", "not kept", "not available", "not hold"),
        reach=Reach.LEAD,
    ),
    # "It would not be in the national interest to discuss ...", "successive Governments have not
    # commented on matters relating to security and intelligence". Opening sentence only; "national
    # security" in passing (a strategy, a sale "in the national interest") is not a refusal.
    NonAnswerRule(
        name="national_security",
        meaning="Declined on security grounds: the Government does not comment, or disclosure would do harm.",
        pattern=_rx(
            r"\b(?:would|could)\s+not\s+be\s+in\s+the\s+(?:interests?\s+of\s+(?:national\s+)?security|national\s+interest)\b"
            r"|\bwould\s+(?:prejudice|harm|damage)\s+(?:national\s+)?security\b"
            r"|\b(?:have|has)\s+not\s+commented\s+on\s+(?:matters\s+relating\s+to\s+)?(?:security|intelligence)\b"
            r"|\b(?:do|does|will)\s+not\s+comment\s+on\s+(?:matters\s+relating\s+to\s+)?(?:security|intelligence)\b"
            r"|\bpolicy\s+of\s+(?:successive|this|the)\s+governments?\s+not\s+to\s+comment\s+on\s+"
            r"(?:matters\s+relating\s+to\s+)?(?:security|intelligence)\b"
        ),
        cues=("security", "intelligence", "national interest"),
        reach=Reach.LEAD,
    ),
    # "cannot be supplied as it contains data which are confidential", "is commercially sensitive".
    # Opening sentence only, and only the refusal grammar: "has not been given on the grounds of
    # commercial confidentiality" reports past refusals, and "is not commercially sensitive" is not one.
    NonAnswerRule(
        name="commercially_confidential",
        meaning="Declined: the information is commercially sensitive or confidential.",
        pattern=_rx(
            r"\b(?:is|are|was|were)\s+commercially\s+(?:sensitive|confidential)\b"
            r"|\b(?:cannot|can\s+not|could\s+not|will\s+not|would\s+not)\s+be\s+"
            r"(?:supplied|provided|disclosed|released|published|given|made\s+available)\b[^.\n]{0,80}?"
            r"\b(?:commercial(?:ly)?\s+(?:confiden\w+|sensitiv\w+)|confidential)\b"
        ),
        cues=("confiden", "commercial"),
        reach=Reach.LEAD,
    ),
)

RULES_BY_NAME: dict[str, NonAnswerRule] = {rule.name: rule for rule in NON_ANSWER_RULES}
_CUES = tuple(sorted({cue for rule in NON_ANSWER_RULES for cue in rule.cues}))


def classify(answer_text: str | None) -> str | None:
    """The name of the first rule in `NON_ANSWER_RULES` the answer matches, or None."""
    if not answer_text:
        return None
    view = _Answer(answer_text)
    # The common case, a substantive answer, ends here: no cue word at all where a rule would look.
    if not view.lead_cues and not (view.is_short and view.cues):
        return None
    for rule in NON_ANSWER_RULES:
        if _applies(rule, view):
            return rule.name
    return None


def _applies(rule: NonAnswerRule, view: _Answer) -> bool:
    """Whether `rule` matches the answer within its reach."""
    if (
        not view.lead_cues.isdisjoint(rule.cues)
        and rule.pattern.search(view.lead)
        and (rule.reach is not Reach.ALONE or view.words_after_lead <= ALONE_TAIL_WORDS)
    ):
        return True
    if rule.reach is Reach.LEAD or not view.is_short:
        return False
    return not view.cues.isdisjoint(rule.cues) and rule.pattern.search(view.text) is not None


# Tags that end a block of text; a paragraph break ends the opening sentence too.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|li|ul|ol|tr|table|h[1-6]|blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A candidate sentence end: a stop, then a space and something that can start a sentence.
_SENTENCE_END = re.compile(r"[.!?](?= [A-Z0-9\"'(\[\u2018\u201c])")
# Words whose full stop does not end a sentence ("the hon. Member", "Mr. Field", "Cm. 344").
_ABBREVIATIONS = frozenset(
    "hon rt mr mrs ms dr st no nos vol vols col cols cc para paras art arts reg regs sch cm cmnd "
    "gen lt capt cllr prof rev revd sen jr sr co ltd bros approx fig figs op cit ch chap".split()
)


class _Answer:
    """An answer as the rules read it: tags dropped, entities decoded, one space between words and
    one newline between paragraphs; the opening sentence; word counts (only when a rule asks).

    An answer longer than `SHORT_ANSWER_CHARS` as received is read only to `LEAD_CHARS`: nothing
    but its opening sentence can matter."""

    def __init__(self, answer_text: str) -> None:
        self.complete = len(answer_text) <= SHORT_ANSWER_CHARS
        if self.complete:
            self.text = _normalise(answer_text)
            end = _lead_end(self.text)
        else:
            # Why two tries: most opening sentences end well inside the shorter window, and
            # normalising costs in proportion to the characters read.
            for window in (LEAD_PROBE_CHARS, LEAD_CHARS):
                self.text = _normalise(answer_text[:window])
                end = _lead_end(self.text)
                if end is not None:
                    break
        self._lead_end = len(self.text) if end is None else end
        self.lead = self.text[: self._lead_end]
        self.lead_cues = _cues_in(self.lead)

    @cached_property
    def cues(self) -> frozenset[str]:
        """The cue words anywhere in the text read."""
        return _cues_in(self.text)

    @cached_property
    def words_after_lead(self) -> int:
        """Words after the opening sentence; a long answer has more than any limit."""
        if not self.complete:
            return sys.maxsize
        return len(self.text[self._lead_end :].split())

    @cached_property
    def is_short(self) -> bool:
        """Whether the whole answer has at most `SHORT_ANSWER_WORDS` words."""
        return self.complete and len(self.text.split()) <= SHORT_ANSWER_WORDS


def _cues_in(text: str) -> frozenset[str]:
    """The rules' cue words that occur in `text`: substring tests, far cheaper than any pattern."""
    lower = text.lower()
    return frozenset([cue for cue in _CUES if cue in lower])


def _normalise(text: str) -> str:
    """Plain text: tags dropped (blocks become paragraph breaks), entities decoded, one space
    between words (str.split knows every Unicode space) and a newline between paragraphs."""
    if "<" in text:
        text = _TAG.sub(" ", _BLOCK_TAG.sub("\n\n", text))
    if "&" in text:
        text = html.unescape(text)
    if "\n" not in text:
        return " ".join(text.split())
    # Why the NUL: it is not whitespace, so it survives the split and marks where paragraphs break.
    text = " ".join(_PARAGRAPH_BREAK.sub("\0", text).split()).strip("\0 ")
    return text.replace("\0", "\n")


def _lead_end(text: str) -> int | None:
    """Where the opening sentence ends: after its full stop, or at the end of its paragraph; None
    if the text ends first."""
    paragraph_end = text.find("\n")
    limit = len(text) if paragraph_end < 0 else paragraph_end
    position = 0
    while match := _SENTENCE_END.search(text, position, limit):
        if not _is_abbreviation(text, match.start()):
            return match.end()
        position = match.end()
    return None if paragraph_end < 0 else paragraph_end


def _is_abbreviation(text: str, stop: int) -> bool:
    """Whether the full stop at `stop` closes an abbreviation or an initial, not a sentence."""
    start = stop
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:stop].lstrip("([\"'\u2018\u201c").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word
