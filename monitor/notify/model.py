"""The typed context a digest mail is rendered from (built by monitor.notify.digest, rendered by
monitor.notify.render). Everything here is scraped or derived text: templates must escape it."""

from __future__ import annotations

from dataclasses import dataclass

# Digest sections, in the order a subscriber reads them: key -> (title, event kinds).
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "answered": ("Newly answered", ("new", "answered", "holding_replaced")),
    "corrected": ("Corrected", ("corrected",)),
    "changed": (
        "Answers changed",
        ("answer_text_changed", "question_text_changed", "answering_member_changed", "regrouped"),
    ),
    "dates": ("Dates moved", ("answer_date_changed",)),
    "holding": (
        "Holding answers, withdrawals and transfers",
        ("holding_answer", "withdrawn", "answering_body_changed", "source_removed"),
    ),
    "disagree": ("Blog copy disagrees with the official record", ("sources_disagree",)),
}


@dataclass(frozen=True)
class DigestItem:
    """One change to one question, as a subscriber sees it."""

    event_id: int
    kind: str
    house: str
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
    source_kind: str
    source_url: str
    official_url: str | None  # the question's page on questions-statements.parliament.uk
    question_url: str  # the question's page on this pqwatch (versions and diffs)
    detected_at: str  # YYYY-MM-DDTHH:MMZ
    detail: tuple[tuple[str, str], ...] = ()  # e.g. (("date_corrected", "2024-02-05"),)


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
    frequency: str  # immediate | daily | weekly
    period_label: str  # "30 November 2026", "week of 23 November 2026", "just now"
    sections: tuple[DigestSection, ...]
    total: int
    unsubscribe_url: str  # one-click (RFC 8058) target, also the page with a button
    manage_url: str
    base_url: str


@dataclass(frozen=True)
class RenderedMail:
    """A mail's subject and its two bodies, ready to be put into a message."""

    subject: str
    text: str
    html: str
