"""Typed, immutable records passed between parse, normalise and storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from storage.terms import SourceKind


@dataclass(frozen=True)
class AnswerRecord:
    """What one source says about one written question at one moment."""

    house: str  # a House: "Lords" or "Commons"
    # None: a copy that never states its UIN (a Church in Parliament post); storage matches it to
    # its official question by house, asker, date and department, or keeps it unmatched.
    uin: str | None
    date_tabled: date | None
    question_text: str
    answer_text: str
    asking_member: str | None = None
    answering_member: str | None = None
    answering_body: str | None = None
    date_answered: date | None = None
    answered_at: datetime | None = None  # naive Europe/London wall time, as the e-mail states it
    grouped_with: tuple[str, ...] = ()
    heading: str | None = None
    is_holding: bool = False
    date_holding_answer: date | None = None
    is_correction: bool = False
    date_corrected: date | None = None
    is_withdrawn: bool = False
    api_id: int | None = None
    correcting_member: str | None = None
    original_answer_text: str | None = None  # the answer before a correction
    attachments: tuple[Attachment, ...] = ()
    # The official record's due date and its flags (None where a copy does not say: a blog's).
    date_for_answer: date | None = None
    is_named_day: bool | None = None  # a Commons question tabled for answer on a named day
    member_has_interest: bool | None = None  # the asker declared a relevant interest
    comparable_answer_text: str | None = None  # the API's comparable text of a corrected answer


@dataclass(frozen=True)
class Attachment:
    """A file published with an answer."""

    title: str
    url: str
    file_type: str | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class ParsedPost:
    """One blog post: where it lives and the written answers it carries."""

    url: str
    canonical_url: str
    title: str | None
    published: date | None
    answers: tuple[AnswerRecord, ...]


@dataclass(frozen=True)
class ParseProblem:
    """A written answer the parser recognised but could not read whole."""

    uin: str | None
    reason: str


@dataclass(frozen=True)
class PostResult:
    """A parsed post plus the problems met on the way (empty when clean)."""

    post: ParsedPost
    problems: tuple[ParseProblem, ...] = field(default=())


@dataclass(frozen=True)
class PageFetched:
    """A page read whole: the answers it carries now (maybe none) and what to keep of the fetch."""

    source_kind: SourceKind
    url: str  # the canonical URL: the source's identity
    fetched_url: str  # the URL the body came from, whose validators are kept
    answers: tuple[AnswerRecord, ...]
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    source_date: date | None = None  # a blog post's own date, to place undated copies
    complete: bool = True  # False: the page shows some of a source's answers, not all
    keeps_validators: bool = True  # False: a source fetched without conditional requests
    list_fingerprint: tuple[int, str] | None = None  # (API id, what its list entry said)
    page_fingerprint: str | None = None  # a blog post's content fingerprint, kept when stable
    parser: str | None = None  # the PARSER_ID of the parser that read the answers
    # False: the page does not read as the post it stood for (no content region, no title or
    # canonical link, no text), so answers missing from it are an extraction failure, not removals
    reads_as_post: bool = True
    doubt: str | None = None  # why it does not read as the post, for the log line


@dataclass(frozen=True)
class PageUnchanged:
    """A page fetched whole whose content fingerprint is the one stored with its answers: only
    its new validators are kept."""

    url: str  # the canonical URL
    fetched_url: str
    etag: str | None
    last_modified: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class PageGone:
    """A page that answered 404 or 410: a fact to record, not an error."""

    source_kind: SourceKind
    url: str
    status: int
    fetched_at: datetime
