"""The schema: questions, their sources' append-only versions, raw bodies and change events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.terms import (
    CrawlOutcome,
    Frequency,
    JobState,
    MailKind,
    OutboxStatus,
    SubscriberStatus,
    VersionStatus,
)


class Base(DeclarativeBase):
    """Declarative base of every pqwatch table."""


class Question(Base):
    """A written question, identified by (house, uin, date_tabled)."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("house", "uin", "date_tabled", name="uq_question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    house: Mapped[str] = mapped_column(String(16))  # a House: Commons | Lords
    uin: Mapped[str] = mapped_column(String(32), index=True)
    # Null only for copies that never state it (the Hansard-style paste).
    date_tabled: Mapped[date | None] = mapped_column(Date)
    api_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)

    versions: Mapped[list[Version]] = relationship(back_populates="question")


class Source(Base):
    """A place an observation came from: one blog post URL, one API record, one page."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a SourceKind: blog | api | html | hansard
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class Body(Base):
    """A raw response body, zlib-compressed and addressed by the SHA-256 of its bytes."""

    __tablename__ = "bodies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AnswerContent:
    """What one source says of one question: the content columns of a version and of an unmatched
    copy alike (storage.record.CONTENT_FIELDS)."""

    asking_member: Mapped[str | None] = mapped_column(Text)
    answering_member: Mapped[str | None] = mapped_column(Text)
    answering_body: Mapped[str | None] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text)
    question_text: Mapped[str | None] = mapped_column(Text)
    answer_text: Mapped[str | None] = mapped_column(Text)
    date_answered: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_holding: Mapped[bool] = mapped_column(Boolean, default=False)
    date_holding_answer: Mapped[date | None] = mapped_column(Date)
    is_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    date_corrected: Mapped[date | None] = mapped_column(Date)
    is_withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    grouped_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    correcting_member: Mapped[str | None] = mapped_column(Text)
    original_answer_text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    date_for_answer: Mapped[date | None] = mapped_column(Date)
    is_named_day: Mapped[bool | None] = mapped_column(Boolean)
    member_has_interest: Mapped[bool | None] = mapped_column(Boolean)
    comparable_answer_text: Mapped[str | None] = mapped_column(Text)


class Version(AnswerContent, Base):
    """One stored state of one question as one source shows it. Inserted, never updated."""

    __tablename__ = "versions"
    __table_args__ = (
        # Its index also serves every walk of a chain (question, source, seq).
        UniqueConstraint("question_id", "source_id", "seq", name="uq_version_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # A VersionStatus: present (the source shows the question) or removed (the source is gone,
    # 404/410, or no longer carries it). A removed version repeats no content.
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.PRESENT)
    content_hash: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))

    # When the source says it was written (a blog post's date); not content, so not hashed.
    source_date: Mapped[date | None] = mapped_column(Date)
    # The parser that derived this content from the raw body (its code's fingerprint); None for
    # versions stored before parsers were recorded. A new parser's reading of the same body is a
    # re-baseline, not a change.
    parser: Mapped[str | None] = mapped_column(String(64))

    question: Mapped[Question] = relationship(back_populates="versions")
    source: Mapped[Source] = relationship()


class HttpValidator(Base):
    """The ETag and Last-Modified last seen for a URL, sent back on the next crawl."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(DateTime)


class PageFingerprint(Base):
    """The fingerprint of a page's content region (under the parser that read it) when its answers
    were last recorded, so a page whose content is the same costs no parsing and no versions."""

    __tablename__ = "page_fingerprints"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # the source's canonical URL
    fingerprint: Mapped[str] = mapped_column(String(64))
    answers: Mapped[int] = mapped_column(Integer)  # how many answers the page carried
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class BlogSite(Base):
    """What is known of one blog's host between crawls: where its REST API is (or that it refused),
    when its last change crawl started and when every post was last re-read."""

    __tablename__ = "blog_sites"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)  # bare host, no "www."
    api_root: Mapped[str | None] = mapped_column(String(2048))  # the advertised /wp-json/ root
    api_refused_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_change_crawl_at: Mapped[datetime | None] = mapped_column(DateTime)  # modified_after cursor
    last_full_at: Mapped[datetime | None] = mapped_column(DateTime)  # last full verification


class ChangeEvent(Base):
    """A typed change detected between two versions (or a new question)."""

    __tablename__ = "change_events"
    __table_args__ = (UniqueConstraint("version_id", "kind", "field", name="uq_event_per_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    kind: Mapped[str] = mapped_column(String(32))  # a ChangeKind
    field: Mapped[str] = mapped_column(String(64), default="")
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[list[list[str]] | None] = mapped_column(JSON)
    # Kind-specific facts: the correction date and minister, the other source of a disagreement.
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)
    source_kind: Mapped[str] = mapped_column(String(16))  # a SourceKind
    source_url: Mapped[str] = mapped_column(String(2048))
    detected_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # A mass change's events wait under a hold until an operator releases or discards them.
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"), index=True)

    question: Mapped[Question] = relationship()


class DetectedVersion(Base):
    """A version change detection has read: every committed version is read exactly once, however
    late its transaction commits (a cursor on ids would skip a version committed behind it)."""

    __tablename__ = "detected_versions"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    detected_at: Mapped[datetime] = mapped_column(DateTime)


class Hold(Base):
    """The events of a mass change (a large share of one source's answers changing or vanishing in
    one run), kept from digests until an operator releases or discards them."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(16))  # a SourceKind
    source: Mapped[str] = mapped_column(String(2048))  # the source's name or site
    reason: Mapped[str] = mapped_column(Text)  # one line: what share changed
    event_count: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="held")  # a HoldState
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class PendingChange(Base):
    """A change a source seems to show but that waits for confirmation before it is stored: an
    answer missing from a page that still reads as its post, an official record that lost its
    text. Confirmed by a later crawl (a day later at least), it becomes a version; undone, it goes."""

    __tablename__ = "pending_changes"
    __table_args__ = (UniqueConstraint("source_id", "question_id", name="uq_pending_change"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    reason: Mapped[str] = mapped_column(String(16))  # a PendingReason
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class UnmatchedCopy(AnswerContent, Base):
    """A republished copy that states no UIN and that no single official question matches (none
    does, or several do): kept as the copy says it, never guessed, until a later read of its post
    or a later official record matches it to exactly one question. Then `question_id` and
    `resolved_at` say where it went, and its content is that source's version of the question."""

    __tablename__ = "unmatched_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # its place among the page's answers, from 1
    house: Mapped[str] = mapped_column(String(16), index=True)  # a House
    date_tabled: Mapped[date | None] = mapped_column(Date)  # as the copy states it (rarely)
    reason: Mapped[str] = mapped_column(Text)  # why it is unmatched: "2 official questions match"
    content_hash: Mapped[str] = mapped_column(String(64))  # storage.record.content_hash of the copy
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))
    source_date: Mapped[date | None] = mapped_column(Date)
    parser: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    source: Mapped[Source] = relationship()


class DetectCursor(Base):
    """How far change detection has read the versions table (the highest version id seen)."""

    __tablename__ = "detect_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_version_id: Mapped[int] = mapped_column(Integer, default=0)


class CrawlState(Base):
    """Where a resumable job got to (a backfill's last finished day), by job name."""

    __tablename__ = "crawl_state"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ListFingerprint(Base):
    """What the API list said of a question last time, so an unchanged entry needs no detail
    request; `refreshed_at` is when its detail was last read in full."""

    __tablename__ = "list_fingerprints"

    api_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime)


def filters_key(filters: Mapping[str, Any] | None) -> str:
    """The digest that, with the address, keys a subscription: the same filters, the same key."""
    return hashlib.sha256(json.dumps(filters or {}, sort_keys=True).encode()).hexdigest()


def _key_of_row(context: Any) -> str:
    return filters_key(context.get_current_parameters().get("filters"))


class CrawlRun(Base):
    """One run of a named source's crawl: when, how long, its counts, and how it ended."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))  # the configured name ("parliament", a blog's)
    spider: Mapped[str] = mapped_column(String(32))  # blog | parliament | pages
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A CrawlOutcome: running | ok | failed (the run could not do its job; `reason` says why).
    outcome: Mapped[str] = mapped_column(String(16), default=CrawlOutcome.RUNNING)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


class CrawlJob(Base):
    """One crawl job dispatched to a Scrapyd node: the leader writes it before scheduling the
    job under the same id, the node's process claims it (dispatched -> running) and reports its
    counts on it; a job whose row is no longer "dispatched" when it starts does not crawl."""

    __tablename__ = "crawl_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)  # Scrapyd's jobid, chosen by the leader
    source: Mapped[str] = mapped_column(String(200))
    spider: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(300))  # the node's URL, without its credentials
    shard: Mapped[int] = mapped_column(Integer, default=0)
    shards: Mapped[int] = mapped_column(Integer, default=1)
    attempt: Mapped[int] = mapped_column(Integer, default=1)  # 2: re-dispatched after a loss
    # A JobState: dispatched | running | finished | failed | lost
    state: Mapped[str] = mapped_column(String(16), default=JobState.DISPATCHED, index=True)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


class Subscriber(Base):
    """One subscription: an address and the filters of the changes it gets digests of. An address
    may hold several (a department, and a keyword), each managed and removed on its own."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("email", "filters_key", name="uq_subscribers_email_filters"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    # filters_key(filters): the same address with the same filters is one subscription (set it
    # whenever filters change; the default covers an insert).
    filters_key: Mapped[str] = mapped_column(String(64), default=_key_of_row)
    # A SubscriberStatus: pending (awaiting confirmation) | confirmed | unsubscribed | suppressed
    # (mail bounced for good).
    status: Mapped[str] = mapped_column(String(16), default=SubscriberStatus.PENDING)
    # A Frequency: immediate | daily | weekly.
    frequency: Mapped[str] = mapped_column(String(16), default=Frequency.DAILY)
    send_time: Mapped[str] = mapped_column(String(5), default="07:00")  # HH:MM, Europe/London
    # {"house": .., "department": .., "member": .., "keyword": .., "uin": .., "kinds": [..]}
    filters: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Events up to this id existed when the subscription began: digests start after them.
    start_event_id: Mapped[int] = mapped_column(Integer, default=0)
    # Part of every manage and unsubscribe link; raised on unsubscribe and re-subscribe, so a link
    # issued before stops working.
    link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UsedToken(Base):
    """A single-use token's nonce, once spent (a confirmation link works once)."""

    __tablename__ = "used_tokens"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMail(Base):
    """One mail per (subscriber, period): the unique key makes a second run send nothing twice."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("subscriber_id", "period_key", name="uq_outbox_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    period_key: Mapped[str] = mapped_column(String(64))  # daily:2026-11-30, weekly:2026-W48, …
    kind: Mapped[str] = mapped_column(String(16), default=MailKind.DIGEST)  # digest | confirm
    # An OutboxStatus: claimed -> sending -> sent | failed | suppressed. A row left in "sending"
    # by a crash is never sent again: at most once, as the design asks.
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.CLAIMED)
    first_event_id: Mapped[int | None] = mapped_column(Integer)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class Bounce(Base):
    """A delivery status notification read by `pqwatch bounces`: a hard bounce suppresses the
    address, soft ones are counted over a window."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # a BounceKind
    status: Mapped[str | None] = mapped_column(String(16))  # the RFC 3463 status, e.g. 5.1.1
    received_at: Mapped[datetime] = mapped_column(DateTime)
    # The notification's own Message-ID: the same one read twice counts once.
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class StatementLink(Base):
    """A written ministerial statement that corrects a written answer (the statements API's
    `linkedStatements` of type CorrectedAnswer), joined to its question once that is stored; its
    `corrected` event is made once."""

    __tablename__ = "statement_links"
    __table_args__ = (UniqueConstraint("statement_id", "linked_id", name="uq_statement_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(BigInteger)  # the statement's API id
    statement_uin: Mapped[str] = mapped_column(String(32))  # HCWS123, HLWS45
    house: Mapped[str] = mapped_column(String(16))  # a House
    date_made: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(Text)
    answering_body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2048))  # the statement's page
    link_type: Mapped[str] = mapped_column(String(32))  # CorrectedAnswer
    linked_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the written question's API id
    link_date: Mapped[date | None] = mapped_column(Date)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    # Why SET NULL: releasing a held mass change stores its events again under new ids (deleting
    # the old ones); the link then waits and the next detection joins it to the new copy.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("change_events.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class QuestionCurrent(Base):
    """Each question's current state as `pqwatch stats` and `pqwatch overdue` read it: derived
    from its versions (the merged current view, its due date, on time or late, its non-answer
    rule), never a source of truth. Change detection rewrites a question's row whenever it reads
    one of its versions and fills any missing row, so the table can be dropped and rebuilt; what
    depends on today's date (due today, overdue) is worked out when it is read."""

    __tablename__ = "question_current"
    __table_args__ = (
        # Covers `pqwatch stats`: its GROUP BY walks this index in order, reading no row and
        # sorting nothing (SQLite would otherwise sort every row in a temporary tree).
        Index(
            "ix_question_current_figures",
            "answering_body",
            "house",
            "is_named_day",
            "working_days_to_answer",
            "answered_on_time",
            "held",
            "is_correction",
            "is_withdrawn",
            "non_answer",
            "copies",
            "date_tabled",
        ),
    )

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    house: Mapped[str] = mapped_column(String(16))  # the question's, copied for filtering
    date_tabled: Mapped[date | None] = mapped_column(Date)
    copies: Mapped[int] = mapped_column(Integer)  # sources with a present copy; 0: no current view
    official: Mapped[bool] = mapped_column(Boolean)  # one of them is Parliament's own record
    answering_body: Mapped[str | None] = mapped_column(Text)
    date_answered: Mapped[date | None] = mapped_column(Date)
    date_for_answer: Mapped[date | None] = mapped_column(Date)
    is_named_day: Mapped[bool | None] = mapped_column(Boolean)
    is_holding: Mapped[bool] = mapped_column(Boolean)
    held: Mapped[bool] = mapped_column(Boolean)  # a holding answer now, or a holding answer date
    is_correction: Mapped[bool] = mapped_column(Boolean)
    is_withdrawn: Mapped[bool] = mapped_column(Boolean)
    answered: Mapped[bool] = mapped_column(Boolean)  # the substantive answer (not a holding one)
    due_date: Mapped[date | None] = mapped_column(Date)
    working_days_to_answer: Mapped[int | None] = mapped_column(Integer)
    answered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    non_answer: Mapped[str | None] = mapped_column(String(64))  # a non-answer rule's name
    # The due date of a question still awaiting its answer by Parliament's own record (no copy
    # ever answered or withdrew it), else null: it is late once this is before today.
    unanswered_due: Mapped[date | None] = mapped_column(Date, index=True)
