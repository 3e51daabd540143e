"""Record what a source shows: append a version only when its content differs from the latest."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Body,
    HttpValidator,
    ListFingerprint,
    PageFingerprint,
    PendingChange,
    Question,
    Source,
    Version,
)
from storage.terms import PendingReason, VersionStatus

# How long a suspect change (an answer missing from its post, an official text gone empty) waits
# before a crawl that still shows it confirms it: at least this long after it was first seen.
CONFIRM_AFTER = timedelta(days=1)

# The fields of a version that make its content; the hash covers exactly these.
CONTENT_FIELDS = (
    "asking_member",
    "answering_member",
    "answering_body",
    "heading",
    "question_text",
    "answer_text",
    "date_answered",
    "answered_at",
    "is_holding",
    "date_holding_answer",
    "is_correction",
    "date_corrected",
    "is_withdrawn",
    "grouped_with",
    "correcting_member",
    "original_answer_text",
    "attachments",
)


class AnswerFields(Protocol):
    """What storage needs of a parsed answer (spiders' AnswerRecord satisfies it)."""

    @property
    def house(self) -> str: ...
    @property
    def uin(self) -> str: ...
    @property
    def date_tabled(self) -> date | None: ...
    @property
    def api_id(self) -> int | None: ...
    @property
    def asking_member(self) -> str | None: ...
    @property
    def answering_member(self) -> str | None: ...
    @property
    def answering_body(self) -> str | None: ...
    @property
    def heading(self) -> str | None: ...
    @property
    def question_text(self) -> str: ...
    @property
    def answer_text(self) -> str: ...
    @property
    def date_answered(self) -> date | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def is_holding(self) -> bool: ...
    @property
    def date_holding_answer(self) -> date | None: ...
    @property
    def is_correction(self) -> bool: ...
    @property
    def date_corrected(self) -> date | None: ...
    @property
    def is_withdrawn(self) -> bool: ...
    @property
    def grouped_with(self) -> Sequence[str]: ...
    @property
    def correcting_member(self) -> str | None: ...
    @property
    def original_answer_text(self) -> str | None: ...
    @property
    def attachments(self) -> Sequence[object]: ...


@dataclass(frozen=True)
class Validators:
    """A URL's ETag / Last-Modified as its server last sent them, for the next conditional request."""

    etag: str | None
    last_modified: str | None

    @property
    def empty(self) -> bool:
        """Say whether the server sent neither: nothing to keep, nothing to send back."""
        return not (self.etag or self.last_modified)


@dataclass(frozen=True)
class PageMark:
    """What a blog post's content root was when its answers were last recorded."""

    fingerprint: str  # read_post's fingerprint of the content root and the parser's code
    answers: int  # how many answers were recorded from it


@dataclass(frozen=True)
class ListMark:
    """What the API's list last said of a question, and when its full record was last read."""

    fingerprint: str  # the list entry's dates, flags and first 255 characters
    refreshed_at: datetime


@dataclass(frozen=True)
class PageOutcome:
    """What recording one page did: versions written, unchanged answers, removals, changes left
    waiting for confirmation, or nothing at all because the page failed to read."""

    first_versions: int = 0  # answers this source had not shown before
    changed_versions: int = 0  # answers whose content differs from this source's latest
    unchanged: int = 0
    removed: int = 0
    pending: int = 0  # suspect changes (PendingChange rows) still waiting for a later crawl
    # True: the page dropped answers but does not read as its post: nothing was recorded
    extraction_failed: bool = False
    stored_before: int = 0  # the answers this source showed before (for an extraction failure)


def content_hash(answer: AnswerFields) -> str:
    """Return the SHA-256 of an answer's content fields in a canonical JSON form."""
    # Empty values are left out, so a field added later does not change old hashes.
    values = {
        name: value
        for name in CONTENT_FIELDS
        if (value := _plain(getattr(answer, name))) not in (None, "", [])
    }
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def record_page(
    session: Session,
    *,
    source_kind: str,
    url: str,
    answers: Iterable[AnswerFields],
    observed_at: datetime,
    body: bytes | None = None,
    content_type: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    validator_url: str | None = None,
    source_date: date | None = None,
    complete: bool = True,
    parser: str | None = None,
    reads_as_post: bool = True,
) -> PageOutcome:
    """Record one fetched page: a version per changed answer (each noting the `parser` that read
    it), a removal per answer it dropped (only when the page is `complete`, i.e. shows everything
    this source carries), and the page's validators under `validator_url` (None: a source without
    conditional requests).

    Suspect changes wait for confirmation (a PendingChange) instead of a version: an answer
    missing from a page that still `reads_as_post`, and an answer text gone empty (not withdrawn).
    A crawl at least CONFIRM_AFTER after the first sighting that still shows it stores it; the
    answer or its text coming back undoes it. A page that drops answers and does not read as its
    post records nothing (`extraction_failed`).

    The caller owns the transaction, so a page is stored whole or not at all.
    """
    # Why: versions are added in bulk and flushed once; queries in between need not see them.
    with session.no_autoflush:
        source = _source(session, source_kind, url, observed_at)
        latest = latest_versions(session, source.id)
        # The questions this source showed last time, by key: a re-crawl finds them without a query.
        shown = (
            {
                (q.house, q.uin, q.date_tabled): q
                for q in session.scalars(select(Question).where(Question.id.in_(latest)))
            }
            if latest
            else {}
        )
        seen: set[int] = set()
        read: list[tuple[Question, AnswerFields]] = []
        for answer in answers:
            question = (
                shown.get((answer.house, answer.uin, answer.date_tabled)) if answer.date_tabled else None
            )
            if question is None or (answer.api_id is not None and question.api_id != answer.api_id):
                question = _question(session, answer, observed_at, source_date)
            if question.id in seen:
                continue  # the same question twice on one page: the first copy counts
            seen.add(question.id)
            read.append((question, answer))
        present = [v for v in latest.values() if v.status == VersionStatus.PRESENT]
        dropped = [v for v in present if v.question_id not in seen] if complete else []
        if dropped and not reads_as_post:
            # Why: a challenge, maintenance or error page in place of the post says nothing
            # about its answers; recording it would mail every one of them as removed.
            return PageOutcome(extraction_failed=True, stored_before=len(present))
        waiting = (
            {
                p.question_id: p
                for p in session.scalars(select(PendingChange).where(PendingChange.source_id == source.id))
            }
            if latest
            else {}
        )
        first = changed = unchanged = pending = 0
        body_key: str | None = None
        for question, answer in read:
            held = waiting.pop(question.id, None)
            digest = content_hash(answer)
            previous = latest.get(question.id)
            if (
                previous is not None
                and previous.status == VersionStatus.PRESENT
                and previous.content_hash == digest
            ):
                unchanged += 1
                if held is not None:
                    session.delete(held)  # what was missing or emptied is back as it was
                continue
            if _emptied(previous, answer):
                if not _confirmed(held, PendingReason.EMPTIED, observed_at):
                    _hold(session, held, source.id, question.id, PendingReason.EMPTIED, observed_at)
                    pending += 1
                    continue
            if held is not None:
                session.delete(held)  # confirmed now, or superseded by a real change
            if body is not None and body_key is None:
                body_key = store_body(session, body, content_type)
            session.add(
                Version(
                    question_id=question.id,
                    source_id=source.id,
                    seq=(previous.seq + 1) if previous else 1,
                    observed_at=observed_at,
                    status=VersionStatus.PRESENT,
                    content_hash=digest,
                    body_sha256=body_key,
                    source_date=source_date,
                    parser=parser,
                    **{name: _column_value(getattr(answer, name)) for name in CONTENT_FIELDS},
                )
            )
            if previous is None:
                first += 1
            else:
                changed += 1
        confirmed: list[Version] = []
        for version in dropped:
            held = waiting.pop(version.question_id, None)
            if _confirmed(held, PendingReason.MISSING, observed_at):
                session.delete(held)
                confirmed.append(version)
            else:
                _hold(session, held, source.id, version.question_id, PendingReason.MISSING, observed_at)
                pending += 1
        removed = _record_removals(session, confirmed, observed_at)
        if validator_url is not None:
            # Why forget them while a change waits: a 304 next time would hide its confirmation.
            sent = Validators(None, None) if pending else Validators(etag, last_modified)
            refresh_validators(session, [(validator_url, sent)], observed_at)
        session.flush()
    return PageOutcome(first, changed, unchanged, removed, pending)


def _emptied(previous: Version | None, answer: AnswerFields) -> bool:
    """An answer text gone empty where this source's latest version had text, not withdrawn."""
    return (
        previous is not None
        and previous.status == VersionStatus.PRESENT
        and bool((previous.answer_text or "").strip())
        and not answer.answer_text.strip()
        and not answer.is_withdrawn
    )


def _confirmed(held: PendingChange | None, reason: PendingReason, observed_at: datetime) -> bool:
    """A suspect change of this reason first seen at least CONFIRM_AFTER ago, and seen again now."""
    return held is not None and held.reason == reason and observed_at - held.first_seen >= CONFIRM_AFTER


def _hold(
    session: Session,
    held: PendingChange | None,
    source_id: int,
    question_id: int,
    reason: PendingReason,
    observed_at: datetime,
) -> None:
    """Note a suspect change as waiting: first sighting, a repeat sighting, or a new reason."""
    if held is None:
        session.add(
            PendingChange(
                source_id=source_id,
                question_id=question_id,
                reason=reason,
                first_seen=observed_at,
                last_seen=observed_at,
            )
        )
    elif held.reason != reason:
        # One row per source and question: a different suspicion starts the wait afresh.
        held.reason, held.first_seen, held.last_seen = reason, observed_at, observed_at
    else:
        held.last_seen = observed_at


def record_gone(session: Session, *, url: str, observed_at: datetime) -> int:
    """Record that a page answered 404/410: every answer it carried gets a removed version."""
    source = session.scalar(select(Source).where(Source.url == url))
    session.execute(delete(HttpValidator).where(HttpValidator.url == url))
    session.execute(delete(PageFingerprint).where(PageFingerprint.url == url))
    if source is None:
        return 0
    # A 404/410 is a removal at once: nothing waits for confirmation any more.
    session.execute(delete(PendingChange).where(PendingChange.source_id == source.id))
    removed = _record_removals(session, list(latest_versions(session, source.id).values()), observed_at)
    session.flush()
    return removed


def _record_removals(session: Session, latest: list[Version], observed_at: datetime) -> int:
    count = 0
    for version in latest:
        if version.status != VersionStatus.PRESENT:
            continue
        session.add(
            Version(
                question_id=version.question_id,
                source_id=version.source_id,
                seq=version.seq + 1,
                observed_at=observed_at,
                status=VersionStatus.REMOVED,
                content_hash="",
                grouped_with=[],
            )
        )
        count += 1
    return count


def load_pending(session: Session, url: str) -> dict[int, PendingChange]:
    """Return the changes of the source at `url` waiting for confirmation, by question id."""
    query = select(PendingChange).join(Source, Source.id == PendingChange.source_id).where(Source.url == url)
    return {pending.question_id: pending for pending in session.scalars(query)}


def latest_versions(session: Session, source_id: int) -> dict[int, Version]:
    """Return the latest version of every question a source has shown, by question id."""
    # A source holds few versions (one post, one record), so reading them all is the cheap way.
    versions = session.scalars(select(Version).where(Version.source_id == source_id).order_by(Version.seq))
    return {version.question_id: version for version in versions}


def store_body(session: Session, body: bytes, content_type: str | None) -> str:
    """Keep a raw body once, compressed, under the SHA-256 of its bytes; return that key."""
    key = hashlib.sha256(body).hexdigest()
    if session.get(Body, key) is None:
        session.add(Body(sha256=key, size=len(body), content_type=content_type, data=zlib.compress(body, 6)))
    return key


def load_body(session: Session, key: str) -> bytes:
    """Return a stored raw body by its key."""
    stored = session.get(Body, key)
    if stored is None:
        raise KeyError(key)
    return zlib.decompress(stored.data)


def refresh_validators(
    session: Session, fetched: Iterable[tuple[str, Validators]], seen_at: datetime
) -> None:
    """Keep the validators of each (URL, validators) pair for the next conditional request (the
    last pair of a URL counts), or forget a URL's when none came; many URLs at once, in at most
    four statements. Validators are a cache of the server's headers, not history: overwriting is
    right."""
    latest = dict(fetched)
    known = set(session.scalars(select(HttpValidator.url).where(HttpValidator.url.in_(latest))))
    rows = [
        {"url": url, "etag": sent.etag, "last_modified": sent.last_modified, "seen_at": seen_at}
        for url, sent in latest.items()
        if not sent.empty
    ]
    if updates := [row for row in rows if row["url"] in known]:
        session.execute(update(HttpValidator), updates)
    if inserts := [row for row in rows if row["url"] not in known]:
        session.execute(insert(HttpValidator), inserts)
    if forgotten := [url for url, sent in latest.items() if url in known and sent.empty]:
        session.execute(delete(HttpValidator).where(HttpValidator.url.in_(forgotten)))


def load_validators(session: Session) -> dict[str, Validators]:
    """Return every remembered URL's validators, by URL."""
    rows = session.execute(select(HttpValidator.url, HttpValidator.etag, HttpValidator.last_modified))
    return {url: Validators(etag, modified) for url, etag, modified in rows}


def _source(session: Session, kind: str, url: str, observed_at: datetime) -> Source:
    source = session.scalar(select(Source).where(Source.url == url))
    if source is None:
        source = Source(kind=kind, url=url, first_seen=observed_at)
        session.add(source)
        session.flush()
    return source


def _question(
    session: Session, answer: AnswerFields, observed_at: datetime, source_date: date | None = None
) -> Question:
    question: Question | None = None
    if answer.api_id is not None:
        question = session.scalar(select(Question).where(Question.api_id == answer.api_id))
    if question is None and answer.date_tabled is not None:
        question = session.scalar(
            select(Question).where(
                Question.house == answer.house,
                Question.uin == answer.uin,
                Question.date_tabled == answer.date_tabled,
            )
        )
    if question is None and answer.date_tabled is None:
        question = _match_undated(session, answer, answer.date_answered or source_date)
    if question is None and answer.date_tabled is not None:
        question = _adopt_undated(session, answer, answer.date_tabled)
    if question is not None:
        if answer.api_id is not None and question.api_id is None:
            question.api_id = answer.api_id  # identity only grows: the API id became known
        return question
    question = Question(
        house=answer.house,
        uin=answer.uin,
        date_tabled=answer.date_tabled,
        api_id=answer.api_id,
        first_seen=observed_at,
    )
    session.add(question)
    session.flush()
    return question


# UINs restart every session; a copy is matched only to a question tabled within this long before it.
SESSION_SPAN = timedelta(days=400)


def _match_undated(session: Session, answer: AnswerFields, bound: date | None) -> Question | None:
    """Match a copy that never states its tabled date (the Hansard-style paste) by house and UIN:
    the newest question of that UIN tabled on or before the copy's date (its answer date, else the
    post's date), else the undated one."""
    query = select(Question).where(Question.house == answer.house, Question.uin == answer.uin)
    if bound is not None:
        query = query.where(
            Question.date_tabled.between(bound - SESSION_SPAN, bound) | Question.date_tabled.is_(None)
        )
    candidates = session.scalars(query).all()
    dated = [q for q in candidates if q.date_tabled is not None]
    if dated:
        return max(dated, key=lambda q: q.date_tabled or date.min)
    return next(iter(candidates), None)


def _adopt_undated(session: Session, answer: AnswerFields, tabled: date) -> Question | None:
    """Give an undated question (known only from a copy without a tabled date) the date `tabled`
    of the official record of the same house and UIN, when the copy's date fits after it."""
    undated = session.scalars(
        select(Question).where(
            Question.house == answer.house, Question.uin == answer.uin, Question.date_tabled.is_(None)
        )
    ).all()
    for question in undated:
        dates = session.scalars(
            select(func.coalesce(Version.date_answered, Version.source_date)).where(
                Version.question_id == question.id
            )
        ).all()
        known = [d for d in dates if d is not None]
        if known and all(tabled <= d <= tabled + SESSION_SPAN for d in known):
            question.date_tabled = tabled  # identity only grows: the tabled date is known
            return question
    return None


def _column_value(value: object) -> object:
    return _plain(value) if isinstance(value, tuple) else value


def load_source_urls(session: Session, kind: str) -> list[str]:
    """Return the URL of every source of this kind that has stored a version."""
    query = select(Source.url).where(
        Source.kind == kind, select(Version.id).where(Version.source_id == Source.id).exists()
    )
    return list(session.scalars(query))


def load_page_fingerprints(session: Session) -> dict[str, PageMark]:
    """Return every page's content fingerprint and answer count, by canonical URL."""
    rows = session.execute(select(PageFingerprint.url, PageFingerprint.fingerprint, PageFingerprint.answers))
    return {url: PageMark(fingerprint, answers) for url, fingerprint, answers in rows}


def remember_page_fingerprint(
    session: Session, url: str, fingerprint: str | None, answers: int, recorded_at: datetime
) -> None:
    """Keep the content fingerprint of a page whose answers were just recorded (None forgets it)."""
    existing = session.get(PageFingerprint, url)
    if fingerprint is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(
            PageFingerprint(url=url, fingerprint=fingerprint, answers=answers, recorded_at=recorded_at)
        )
    else:
        # A cache of what was last read, not history: overwriting is right.
        existing.fingerprint, existing.answers, existing.recorded_at = fingerprint, answers, recorded_at


def load_fingerprints(session: Session) -> dict[int, ListMark]:
    """Return every remembered API list fingerprint, and when its detail was read, by API id."""
    rows = session.execute(
        select(ListFingerprint.api_id, ListFingerprint.fingerprint, ListFingerprint.refreshed_at)
    )
    return {api_id: ListMark(fingerprint, refreshed) for api_id, fingerprint, refreshed in rows}


def forget_fingerprint(session: Session, api_id: int) -> None:
    """Forget a question's list fingerprint, so that the next crawl reads its detail again."""
    session.execute(delete(ListFingerprint).where(ListFingerprint.api_id == api_id))


def remember_fingerprint(session: Session, api_id: int, fingerprint: str, refreshed_at: datetime) -> None:
    """Keep the list fingerprint of a question whose detail was just read in full."""
    existing = session.get(ListFingerprint, api_id)
    if existing is None:
        session.add(ListFingerprint(api_id=api_id, fingerprint=fingerprint, refreshed_at=refreshed_at))
    else:
        # A cache of what the list said, not history: overwriting is right.
        existing.fingerprint, existing.refreshed_at = fingerprint, refreshed_at
