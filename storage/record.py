"""Record what a source shows: append a version only when its content differs from the latest."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Body,
    HttpValidator,
    ListFingerprint,
    PageFingerprint,
    PendingChange,
    Question,
    Source,
    UnmatchedCopy,
    Version,
)
from storage.terms import PendingReason, SourceKind, VersionStatus

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
    "date_for_answer",
    "is_named_day",
    "member_has_interest",
    "comparable_answer_text",
)


class AnswerFields(Protocol):
    """What storage needs of a parsed answer (spiders' AnswerRecord satisfies it)."""

    @property
    def house(self) -> str: ...
    @property
    def uin(self) -> str | None: ...  # None: a copy that never states it (matched by its fields)
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
    @property
    def date_for_answer(self) -> date | None: ...
    @property
    def is_named_day(self) -> bool | None: ...
    @property
    def member_has_interest(self) -> bool | None: ...
    @property
    def comparable_answer_text(self) -> str | None: ...


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
    unmatched: int = 0  # copies without a UIN that no single official question matches (kept)
    resolved: int = 0  # unmatched copies (of any source) this page's official record matched


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
        source, created = _source(session, source_kind, url, observed_at)
        latest = latest_versions(session, source.id)
        # The questions this source showed last time, by id and by key: a re-crawl finds them
        # without a query.
        by_id = (
            {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(latest)))}
            if latest
            else {}
        )
        shown = {(q.house, q.uin, q.date_tabled): q for q in by_id.values()}
        seen: set[int] = set()
        read: list[tuple[Question, AnswerFields]] = []
        strays: list[_Stray] = []  # copies without a UIN that no single official question matches
        matched: dict[str, int] = {}  # content hash -> question of each copy without a UIN placed
        for position, answer in enumerate(answers, start=1):
            if answer.uin is None:
                placed, reason = _place_copy(session, answer, latest, by_id)
                if placed is None:
                    strays.append(_Stray(position, answer, reason))
                    continue
                question = placed
                matched[content_hash(answer)] = question.id
            else:
                known = (
                    shown.get((answer.house, answer.uin, answer.date_tabled)) if answer.date_tabled else None
                )
                if known is None or (answer.api_id is not None and known.api_id != answer.api_id):
                    known = _question(session, answer, observed_at, source_date)
                question = known
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
            content = {name: _column_value(getattr(answer, name)) for name in CONTENT_FIELDS}
            session.add(
                _present_version(
                    question.id,
                    source.id,
                    previous,
                    observed_at,
                    digest,
                    body_key,
                    source_date,
                    parser,
                    content,
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
        if strays or not created:
            body_key = _keep_strays(
                session,
                _PageFacts(source.id, observed_at, body, content_type, source_date, parser, complete),
                strays,
                matched,
                body_key,
            )
        resolved = 0
        if source_kind not in REPUBLISHED_KINDS and (first or changed):
            session.flush()  # the official versions just added are candidates now
            resolved = resolve_unmatched(session, read, observed_at)
        if validator_url is not None:
            # Why forget them while a change waits: a 304 next time would hide its confirmation;
            # and while a copy waits unmatched, a 304 would keep it from being tried again.
            sent = Validators(None, None) if pending or strays else Validators(etag, last_modified)
            refresh_validators(session, [(validator_url, sent)], observed_at)
        session.flush()
    return PageOutcome(first, changed, unchanged, removed, pending, unmatched=len(strays), resolved=resolved)


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
    # A 404/410 is a removal at once: nothing waits for confirmation any more, and the copies it
    # carried unmatched are nowhere to be placed.
    session.execute(delete(PendingChange).where(PendingChange.source_id == source.id))
    session.execute(
        delete(UnmatchedCopy).where(UnmatchedCopy.source_id == source.id, UnmatchedCopy.resolved_at.is_(None))
    )
    removed = _record_removals(session, list(latest_versions(session, source.id).values()), observed_at)
    session.flush()
    return removed


def _present_version(
    question_id: int,
    source_id: int,
    previous: Version | None,
    observed_at: datetime,
    content_hash: str,
    body_sha256: str | None,
    source_date: date | None,
    parser: str | None,
    content: dict[str, object],
) -> Version:
    """The next version of a source's chain for one question, showing `content`."""
    return Version(
        question_id=question_id,
        source_id=source_id,
        seq=(previous.seq + 1) if previous else 1,
        observed_at=observed_at,
        status=VersionStatus.PRESENT,
        content_hash=content_hash,
        body_sha256=body_sha256,
        source_date=source_date,
        parser=parser,
        **content,
    )


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


def _source(session: Session, kind: str, url: str, observed_at: datetime) -> tuple[Source, bool]:
    """The source at `url`, and whether it was created just now."""
    source = session.scalar(select(Source).where(Source.url == url))
    if source is not None:
        return source, False
    source = Source(kind=kind, url=url, first_seen=observed_at)
    session.add(source)
    session.flush()
    return source, True


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


# --- copies without a UIN ------------------------------------------------------------------
#
# A copy that never states its UIN (a Church in Parliament post) is matched to its official
# question by its fields, or kept unmatched: never guessed. The official kinds are every kind but
# these (spiders/registry.py says the same with `official`; storage cannot import it).
REPUBLISHED_KINDS = (SourceKind.BLOG,)
NO_MATCH = "no official question matches"
NO_MEMBER = "the copy names no asking member"
NO_DATE = "the copy states neither its tabled date nor its answer date"


class CopyFields(Protocol):
    """What matching a copy without a UIN reads of it (a parsed answer or an UnmatchedCopy)."""

    @property
    def house(self) -> str: ...
    @property
    def date_tabled(self) -> date | None: ...
    @property
    def date_answered(self) -> date | None: ...
    @property
    def asking_member(self) -> str | None: ...
    @property
    def answering_body(self) -> str | None: ...
    @property
    def heading(self) -> str | None: ...


@dataclass(frozen=True)
class _Stray:
    """A copy without a UIN that this read could not place, where it stood on its page, and why."""

    position: int
    answer: AnswerFields
    reason: str


@dataclass(frozen=True)
class _PageFacts:
    """What an unmatched copy keeps of the page it was read on."""

    source_id: int
    observed_at: datetime
    body: bytes | None
    content_type: str | None
    source_date: date | None
    parser: str | None
    complete: bool


def official_candidates(session: Session, copy: CopyFields) -> list[Question] | str:
    """The official questions a copy without a UIN may be a copy of, or why none can be told.

    A candidate is a question of the copy's house with a present version from an official source
    that was tabled on the copy's tabled date (when stated; else answered on its answer date), asked
    by the same member (titles aside: `same_member`), and in the same answering body and under the
    same heading wherever both state one."""
    if not (copy.asking_member or "").strip():
        return NO_MEMBER
    query = (
        select(Question.id, Version.asking_member, Version.answering_body, Version.heading)
        .join(Version, Version.question_id == Question.id)
        .join(Source, Source.id == Version.source_id)
        .where(
            Question.house == copy.house,
            Source.kind.not_in(REPUBLISHED_KINDS),
            Version.status == VersionStatus.PRESENT,
        )
    )
    if copy.date_tabled is not None:
        query = query.where(Question.date_tabled == copy.date_tabled)
    elif copy.date_answered is not None:
        # Any official version counts: a copy made before the answer date moved still matches.
        query = query.where(Version.date_answered == copy.date_answered)
    else:
        return NO_DATE
    ids = {
        question_id
        for question_id, member, body, heading in session.execute(query)
        if _same_asker_and_subject(copy, member, body, heading)
    }
    return list(session.scalars(select(Question).where(Question.id.in_(ids)).order_by(Question.id)))


def _same_asker_and_subject(
    copy: CopyFields, member: str | None, body: str | None, heading: str | None
) -> bool:
    """The matching rule but for dates: the same asking member, and the same answering body and
    heading wherever both state one."""
    return (
        same_member(copy.asking_member, member)
        and _agree(copy.answering_body, body)
        and _agree(copy.heading, heading)
    )


def _fits(copy: CopyFields, question: Question, answer: AnswerFields) -> bool:
    """Say whether one official record (`answer`, of `question`) fits a copy without a UIN."""
    if copy.house != question.house:
        return False
    if copy.date_tabled is not None:
        if copy.date_tabled != question.date_tabled:
            return False
    elif copy.date_answered is None or copy.date_answered != answer.date_answered:
        return False
    return _same_asker_and_subject(copy, answer.asking_member, answer.answering_body, answer.heading)


def _ambiguity(count: int) -> str:
    return NO_MATCH if count == 0 else f"{count} official questions match"


def _place_copy(
    session: Session, answer: AnswerFields, latest: dict[int, Version], by_id: dict[int, Question]
) -> tuple[Question | None, str]:
    """The question a copy without a UIN belongs to, or None and why it cannot be told."""
    # Why first: a copy this source already showed, unchanged, stays where it was placed (even
    # if a second official question that fits it has come along since), and costs no query.
    digest = content_hash(answer)
    for version in latest.values():
        if version.status == VersionStatus.PRESENT and version.content_hash == digest:
            if (question := by_id.get(version.question_id)) is not None:
                return question, ""
    found = official_candidates(session, answer)
    if isinstance(found, str):
        return None, found
    if len(found) == 1:
        return found[0], ""
    # An edited copy of a question this source already carries stays with it.
    mine = [question for question in found if question.id in latest]
    if len(mine) == 1:
        return mine[0], ""
    return None, _ambiguity(len(found))


def _keep_strays(
    session: Session,
    page: _PageFacts,
    strays: list[_Stray],
    matched: dict[str, int],
    body_key: str | None,
) -> str | None:
    """Keep what a page shows unplaced now: a row per unmatched copy (the same copy read again
    keeps its row), rows of copies placed this time resolved, and, when the page is complete, rows
    of copies it no longer carries gone. Return the body's key once stored."""
    rows = session.scalars(
        select(UnmatchedCopy).where(
            UnmatchedCopy.source_id == page.source_id, UnmatchedCopy.resolved_at.is_(None)
        )
    ).all()
    waiting = {row.content_hash: row for row in rows}
    for stray in strays:
        digest = content_hash(stray.answer)
        row = waiting.pop(digest, None)
        if row is not None:
            # Not history but what the post shows unplaced now: overwriting is right.
            row.position, row.reason, row.last_seen = stray.position, stray.reason, page.observed_at
            continue
        if page.body is not None and body_key is None:
            body_key = store_body(session, page.body, page.content_type)
        session.add(
            UnmatchedCopy(
                source_id=page.source_id,
                position=stray.position,
                house=stray.answer.house,
                date_tabled=stray.answer.date_tabled,
                reason=stray.reason,
                content_hash=digest,
                body_sha256=body_key,
                source_date=page.source_date,
                parser=page.parser,
                first_seen=page.observed_at,
                last_seen=page.observed_at,
                **{name: _column_value(getattr(stray.answer, name)) for name in CONTENT_FIELDS},
            )
        )
    for digest, row in waiting.items():
        if digest in matched:
            row.question_id, row.resolved_at = matched[digest], page.observed_at
        elif page.complete:
            session.delete(row)  # the post no longer carries it: nothing is left to place
    return body_key


def resolve_unmatched(
    session: Session, recorded: Sequence[tuple[Question, AnswerFields]], observed_at: datetime
) -> int:
    """Try again the unmatched copies that official records just recorded may place (same house,
    same tabled or answer date); a copy now matching exactly one question becomes its source's
    version of it. Return how many were placed."""
    houses = {question.house for question, _ in recorded}
    tabled = {question.date_tabled for question, _ in recorded if question.date_tabled}
    answered = {answer.date_answered for _, answer in recorded if answer.date_answered}
    if not houses or not (tabled or answered):
        return 0
    rows = session.scalars(
        select(UnmatchedCopy)
        .where(
            UnmatchedCopy.resolved_at.is_(None),
            UnmatchedCopy.house.in_(houses),
            or_(
                UnmatchedCopy.date_tabled.in_(tabled),
                and_(UnmatchedCopy.date_tabled.is_(None), UnmatchedCopy.date_answered.in_(answered)),
            ),
        )
        .order_by(UnmatchedCopy.id)
    ).all()
    placed = 0
    for row in rows:
        # Why only these: candidates only ever grow (any official version counts), so a copy no
        # record just recorded fits has the same candidates as when it was last tried.
        if not any(_fits(row, question, answer) for question, answer in recorded):
            continue
        found = official_candidates(session, row)
        if isinstance(found, str) or len(found) != 1:
            row.reason = found if isinstance(found, str) else _ambiguity(len(found))
            continue
        _adopt_copy(session, row, found[0], observed_at)
        placed += 1
    return placed


def _adopt_copy(session: Session, row: UnmatchedCopy, question: Question, observed_at: datetime) -> None:
    """Make an unmatched copy its source's version of `question` (unless that source's latest
    version of it says the same already) and mark the row resolved."""
    previous = session.scalar(
        select(Version)
        .where(Version.question_id == question.id, Version.source_id == row.source_id)
        .order_by(Version.seq.desc())
        .limit(1)
    )
    if (
        previous is None
        or previous.status != VersionStatus.PRESENT
        or previous.content_hash != row.content_hash
    ):
        content = {name: getattr(row, name) for name in CONTENT_FIELDS}
        # Observed when the source was last read, not when the copy was placed.
        session.add(
            _present_version(
                question.id,
                row.source_id,
                previous,
                row.last_seen,
                row.content_hash,
                row.body_sha256,
                row.source_date,
                row.parser,
                content,
            )
        )
    row.question_id, row.resolved_at = question.id, observed_at


# Words a member's name may carry or not, as one source or another writes it.
_HONORIFICS = frozenset(
    "the rt right hon honourable honorable mr mrs ms miss mx dr sir dame prof professor rev revd"
    " reverend very most".split()
)
# Letters after a name (written in capitals: "MP", "KC", "CBE"), dropped from its end.
_POST_NOMINALS = frozenset("MP KC QC PC CB CBE OBE MBE KBE DBE GBE CH FRS MSP MS MLA".split())
# A peer's rank: "Baroness Cox" and "Baroness Cox of Queensbury" are the same member.
_PEER_RANKS = frozenset("lord baroness lady viscount viscountess earl countess marquess duke duchess".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def member_key(name: str | None) -> str:
    """A member's name reduced to what every source writes alike: no honorifics ("The Rt Hon",
    "Dr"), no party in brackets, no letters after the name, no "Lord" before "Bishop", lower case."""
    text = unicodedata.normalize("NFKC", name or "")
    text = re.sub(r"\([^)]*\)", " ", text).split(",")[0]
    words = _WORD.findall(text)
    while words and words[-1] in _POST_NOMINALS:
        words.pop()
    folded = [word.casefold().replace("’", "'") for word in words]
    while folded and folded[0] in _HONORIFICS:
        folded.pop(0)
    if len(folded) > 1 and folded[0] == "lord" and folded[1] in ("bishop", "archbishop"):
        folded.pop(0)  # "The Lord Bishop of Oxford" is the Bishop of Oxford
    return " ".join(folded)


def same_member(one: str | None, other: str | None) -> bool:
    """Say whether two spellings name the same member: equal keys, or a peer written once with
    and once without a territorial designation ("Lord Smith" and "Lord Smith of Finsbury")."""
    a, b = member_key(one), member_key(other)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return short.split()[0] in _PEER_RANKS and " of " not in f" {short} " and long.startswith(short + " of ")


def _label_key(text: str | None) -> str:
    """A department or heading reduced for comparison: case, "&", punctuation and "The" aside."""
    folded = unicodedata.normalize("NFKC", text or "").casefold().replace("&", " and ")
    words = re.findall(r"\w+", folded)
    if words and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def _agree(copy: str | None, official: str | None) -> bool:
    """A field agrees when either side does not state it, or both state the same."""
    a, b = _label_key(copy), _label_key(official)
    return not a or not b or a == b


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
