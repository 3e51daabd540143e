"""The typed context a digest mail is rendered from (built by monitor.notify.digest, rendered by
monitor.notify.render). Everything here is scraped or derived text: templates must escape it."""

from __future__ import annotations

from dataclasses import dataclass

from storage.terms import ChangeKind

# Digest sections, in the order a subscriber reads them: key -> (title, event kinds). Every change
# kind is in exactly one section; section_key() moves a `new` event whose question was already
# answered when first seen (every blog copy, every first crawl) to "first_seen".
SECTIONS: dict[str, tuple[str, tuple[ChangeKind, ...]]] = {
    "answered": ("Newly answered", (ChangeKind.ANSWERED, ChangeKind.HOLDING_REPLACED)),
    "late": ("Answered late", (ChangeKind.ANSWERED_LATE,)),
    "overdue": ("Overdue: past the due date without an answer", (ChangeKind.OVERDUE,)),
    "due_today": ("Due today", (ChangeKind.DUE_TODAY,)),
    "first_seen": ("First seen, already answered", ()),
    "corrected": ("Corrected", (ChangeKind.CORRECTED,)),
    "changed": (
        "Answers changed",
        (
            ChangeKind.ANSWER_TEXT_CHANGED,
            ChangeKind.QUESTION_TEXT_CHANGED,
            ChangeKind.ANSWERING_MEMBER_CHANGED,
            ChangeKind.REGROUPED,
        ),
    ),
    "dates": ("Dates moved", (ChangeKind.ANSWER_DATE_CHANGED,)),
    "holding": (
        "Holding answers, withdrawals and transfers",
        (
            ChangeKind.HOLDING_ANSWER,
            ChangeKind.WITHDRAWN,
            ChangeKind.ANSWERING_BODY_CHANGED,
            ChangeKind.SOURCE_REMOVED,
        ),
    ),
    "disagree": ("Blog copy disagrees with the official record", (ChangeKind.SOURCES_DISAGREE,)),
    "new": ("New questions", (ChangeKind.NEW,)),
}
_SECTION_OF: dict[str, str] = {kind: key for key, (_title, kinds) in SECTIONS.items() for kind in kinds}


def section_key(kind: str, first_answer: str | None = None) -> str:
    """The digest section of an event: by its kind, except that a question first seen with its
    answer already given is not a "new question" waiting for one."""
    if kind == ChangeKind.NEW and first_answer:
        return "first_seen"
    return _SECTION_OF.get(kind, "changed")  # StrEnum members hash as their values


@dataclass(frozen=True)
class DigestItem:
    """One change to one question, as a subscriber sees it."""

    event_id: int
    kind: str  # a ChangeKind
    house: str  # a House
    uin: str
    date_tabled: str | None  # YYYY-MM-DD
    heading: str | None
    question_text: str | None
    answering_member: str | None
    answering_body: str | None
    field: str | None
    old: str | None
    new: str | None
    diff: tuple[tuple[str, str], ...]  # word diff: ("=", same) ("-", removed) ("+", added)
    source_kind: str  # a SourceKind
    source_url: str
    official_url: str | None  # the question's page on questions-statements.parliament.uk
    question_url: str  # the question's page on this pqwatch (versions and diffs)
    detected_at: str  # YYYY-MM-DDTHH:MMZ
    detail: tuple[tuple[str, str], ...] = ()  # e.g. (("date_corrected", "2024-02-05"),)
    # For a `new` event: the answer the question already had when first seen (None: unanswered,
    # holding or withdrawn), so the digest shows it instead of announcing a bare new question.
    first_answer: str | None = None
    # What the answer does instead of answering (monitor.changes.nonanswers), when it is a non-answer.
    non_answer: str | None = None


@dataclass(frozen=True)
class DigestSection:
    """The items of one kind of change."""

    key: str
    title: str
    items: tuple[DigestItem, ...]
    more: int = 0  # further changes of this kind left out of the mail (they are on pqwatch)

    @property
    def count(self) -> int:
        """How many changes of this kind there were, shown or not."""
        return len(self.items) + self.more


@dataclass(frozen=True)
class DigestContext:
    """Everything one digest mail says."""

    email: str
    frequency: str  # a Frequency
    period_label: str  # "30 November 2026", "week of 23 November 2026", "just now"
    sections: tuple[DigestSection, ...]
    total: int
    unsubscribe_url: str  # one-click (RFC 8058) target, also the page with a button
    manage_url: str
    base_url: str
    # What this subscription follows ("Department: Home Office"): an address may hold several,
    # each with its own mails, so each mail says which it is for. Empty: not said.
    follows: str = ""


@dataclass(frozen=True)
class RenderedMail:
    """A mail's subject and its two bodies, ready to be put into a message."""

    subject: str
    text: str
    html: str
