"""The vocabulary of pqwatch's stored data: every closed set as an enum, and the few conventions
that every layer writes alike (how a UIN is spelled, how a time is kept, the earliest sane date).

It imports nothing but the standard library, so the spiders, the CLI and the web app can name a
source kind or a status without loading the database layer. Each enum's members are `str`s whose
values are what the database stores, so stored data needs no migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum


class House(StrEnum):
    """A House of Parliament, as the official record names it."""

    COMMONS = "Commons"
    LORDS = "Lords"


class SourceKind(StrEnum):
    """Where an observation came from (`sources.kind`); spiders/registry.py says more of each."""

    API = "api"  # the Written Questions API
    HTML = "html"  # a questions-statements.parliament.uk detail page
    HANSARD = "hansard"  # a historic Hansard written-answers page
    BLOG = "blog"  # a blog post that republishes answers


class ChangeKind(StrEnum):
    """What a change event says happened (`change_events.kind`)."""

    NEW = "new"
    ANSWERED = "answered"
    ANSWER_TEXT_CHANGED = "answer_text_changed"
    ANSWER_DATE_CHANGED = "answer_date_changed"
    QUESTION_TEXT_CHANGED = "question_text_changed"
    ANSWERING_MEMBER_CHANGED = "answering_member_changed"
    ANSWERING_BODY_CHANGED = "answering_body_changed"
    HOLDING_ANSWER = "holding_answer"
    HOLDING_REPLACED = "holding_replaced"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"
    REGROUPED = "regrouped"
    SOURCE_REMOVED = "source_removed"
    SOURCES_DISAGREE = "sources_disagree"
    DUE_TODAY = "due_today"  # its answer is due today (the official due date)
    OVERDUE = "overdue"  # its due date has passed without its answer (once, the day after)
    ANSWERED_LATE = "answered_late"  # its answer came after it was due


class VersionStatus(StrEnum):
    """Whether a version shows the question (`versions.status`)."""

    PRESENT = "present"  # the source shows the question
    REMOVED = "removed"  # the source is gone (404/410) or no longer carries it


class Frequency(StrEnum):
    """How often a subscriber is sent a digest."""

    IMMEDIATE = "immediate"  # after each crawl that found changes
    DAILY = "daily"
    WEEKLY = "weekly"  # Mondays


class SubscriberStatus(StrEnum):
    """Where a subscription stands (`subscribers.status`)."""

    PENDING = "pending"  # awaiting confirmation
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"  # mail bounced for good


class CrawlOutcome(StrEnum):
    """How a crawl run ended (`crawl_runs.outcome`)."""

    RUNNING = "running"  # not ended yet (or its process died: a later run of the source says so)
    OK = "ok"
    FAILED = "failed"  # could not do its job: unreachable host, errors, a host busy


class JobState(StrEnum):
    """Where a crawl job dispatched to a Scrapyd node stands (`crawl_jobs.state`)."""

    DISPATCHED = "dispatched"  # scheduled on its node, not started
    RUNNING = "running"  # its node's process claimed it and is crawling
    FINISHED = "finished"  # it reported its counts; the crawl did its job
    FAILED = "failed"  # it reported, or its node refused it: `reason` says why
    LOST = "lost"  # its node lost it (killed, restarted, gone); it never reports now


class MailKind(StrEnum):
    """What an outbox row is (`outbox.kind`)."""

    DIGEST = "digest"
    CONFIRM = "confirm"


class OutboxStatus(StrEnum):
    """An outbox row's state (`outbox.status`): claimed -> sending -> sent | failed | suppressed."""

    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    # The hand-over to the mail server began but its end was never recorded (a killed run): the
    # mail may or may not have gone, so it is reported and its changes go into the next digest.
    INTERRUPTED = "interrupted"


class HoldState(StrEnum):
    """Where a held mass change stands (`holds.state`)."""

    HELD = "held"  # kept from digests, waiting for the operator
    RELEASED = "released"  # the operator let its events go to digests
    DISCARDED = "discarded"  # the operator said it was not real: its events are never mailed


class PendingReason(StrEnum):
    """Why a change waits for confirmation (`pending_changes.reason`)."""

    MISSING = "missing"  # an answer missing from a page that still reads as its post
    EMPTIED = "emptied"  # an official record whose answer text went empty


class BounceKind(StrEnum):
    """What a delivery status notification says of an address (`bounces.kind`)."""

    HARD = "hard"  # a permanent failure of the address itself (RFC 3463 5.1.x, 5.2.1)
    SOFT = "soft"  # a temporary or non-address failure (mailbox full, 4.x.x)


# Parliament's record starts in 1803 (historic Hansard); a date before it is a misparse.
EARLIEST_DATE = date(1803, 1, 1)


def utcnow() -> datetime:
    """Now in UTC, naive, as storage keeps every time."""
    return datetime.now(UTC).replace(tzinfo=None)


def minute_text(moment: datetime) -> str:
    """A time to the minute, as the contract prints it: YYYY-MM-DDTHH:MM."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def canonical_uin(uin: object) -> str:
    """A UIN as Parliament writes it: no spaces, upper case ("hl 2472" -> "HL2472")."""
    return "".join(str(uin).split()).upper()
