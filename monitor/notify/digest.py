"""Digests: which are due, what each says, and sending each exactly once.

A digest covers the matching events after the last one this subscriber was *sent* (derived from
the outbox's "sent" rows, not kept as a counter). An outbox row per (subscriber, period) under a
unique constraint is written *before* the mail goes out, so a second run, a second scheduler or a
crash after sending sends nothing twice. Each row moves claimed -> sending -> sent | failed |
suppressed: "claimed" while the mail is not yet handed over, "sending" from just before the
transport's send until its outcome is recorded.

A run that dies leaves its row behind, and a later run settles it: a claimed row was never handed
over, so it is sent now under the same Message-ID; a sending row may or may not have reached the
server, so it becomes "interrupted": reported (a log line, the run's summary, a non-zero exit) and,
as only "sent" rows count, its changes go in the subscriber's next digest. Only rows claimed before
the settling run began are candidates (their `created_at`, the claiming run's clock, is older than
its `now`), and a run settles only rows of its own frequency. Taking a row over is a
compare-and-set on its status, so two runs never both send one row.

On PostgreSQL several `pqwatch digest` senders (on several machines) can share the due digests: a
sender holds the row it works `FOR KEY SHARE` on a connection of its own, from just after its
claim until its outcome is recorded, and a settler takes only the candidates it can lock `FOR
UPDATE SKIP LOCKED`. The lock proves its sender alive (it goes only with the sender's transaction
or connection), so a live sender's hand-over is never taken for a dead one's. A claim is unlocked
for the instant between its commit and its lock; a settler taking it then resumes it, and the
compare-and-set lets one of the two send. On SQLite (one machine, one scheduler) there is no row
lock: two runs that overlap there (a manual `pqwatch digest` beside the daemon) may have the later
one report the earlier one's live hand-over as interrupted, and that row is put right when the
live run records its outcome."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, CursorResult, Engine, Update, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.notify.mail import (
    MailError,
    PermanentFailure,
    Scope,
    Transport,
    build_message,
    transport_from_url,
)
from monitor.notify.model import (
    SECTIONS,
    DigestContext,
    DigestItem,
    DigestSection,
    RenderedMail,
    section_key,
)
from monitor.notify.render import render_confirmation, render_digest
from monitor.notify.subscriptions import Filters, filter_labels, make_token, matches, suppress, with_thread
from monitor.queries.views import ChangeView, QuestionView, change_events, current_views
from storage.models import ChangeEvent, CrawlState, OutboxMail, Subscriber, Version
from storage.terms import ChangeKind, Frequency, MailKind, OutboxStatus, SubscriberStatus, minute_text
from storage.terms import utcnow as utcnow  # re-exported: callers of the digest jobs take the clock here

LONDON = ZoneInfo("Europe/London")
MAX_ITEMS_PER_SECTION = 50
log = logging.getLogger("pqwatch.digest")


@dataclass
class DigestRun:
    """What one digest run did."""

    sent: int = 0
    skipped_already_sent: int = 0
    nothing_to_report: int = 0
    failed: int = 0
    suppressed: int = 0
    interrupted: int = 0  # hand-overs a dead run left unfinished: reported, changes carried
    resumed: int = 0  # mails a dead run claimed but never handed over, sent by this run
    stopped: str | None = None  # why the run stopped early (a refusal that is the server's)
    previews: list[str] = field(default_factory=list)
    shown: list[tuple[str, RenderedMail]] = field(default_factory=list)  # (to, mail) of a dry run's --show

    @property
    def ok(self) -> bool:
        """True when the run did all it should: nothing failed, interrupted or stopped it."""
        return not (self.failed or self.interrupted or self.stopped)

    def summary(self, dry_run: bool = False) -> str:
        """The run's one-line summary."""
        line = (
            f"digests: {self.sent} sent, {self.skipped_already_sent} already sent, "
            f"{self.nothing_to_report} with nothing to report, {self.failed} failed, "
            f"{self.suppressed} suppressed"
        )
        if self.interrupted:
            line += f", {self.interrupted} interrupted (their changes go in the next digest)"
        if self.resumed:
            line += f", {self.resumed} of them left unsent by a dead run"
        if dry_run:
            line += f", {len(self.previews)} would be sent (dry run)"
        if self.stopped:
            line += f"; stopped: {self.stopped}"
        return line


@dataclass(frozen=True)
class Period:
    """One digest period: its key and when it begins (naive UTC)."""

    key: str
    start: datetime


def latest_period(frequency: str, send_time: str, now: datetime) -> Period | None:
    """The latest period of a daily or weekly digest that has begun by `now` (naive UTC).

    A daily period begins at the send time (Europe/London) each day, a weekly one at the send
    time each Monday. A digest is due for the latest begun period that has no outbox row yet, so a
    send time of 23:59 is due from 23:59 until the next one begins (whenever the ticks fall), and
    after downtime only the latest period is sent: the one catch-up. None for immediate digests."""
    if frequency == Frequency.IMMEDIATE:
        return None
    day = now.replace(tzinfo=UTC).astimezone(LONDON).date()
    if frequency == Frequency.DAILY:
        start = _period_start(day, send_time)
        if start > now:
            day -= timedelta(days=1)
            start = _period_start(day, send_time)
        return Period(f"daily:{day}", start)
    if frequency == Frequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        start = _period_start(monday, send_time)
        if start > now:
            monday -= timedelta(days=7)
            start = _period_start(monday, send_time)
        year, week, _ = monday.isocalendar()
        return Period(f"weekly:{year}-W{week:02d}", start)
    raise ValueError(f"unknown frequency {frequency!r}")


def _period_start(day: date, send_time: str) -> datetime:
    hours, minutes = (int(part) for part in send_time.split(":"))
    # Why: on the spring change a send time the clocks skip (01:30) is read with the offset
    # before the change, so it goes an hour later (02:30 BST); on the autumn change a send time
    # the clocks repeat goes at its first occurrence. Either way one period a day.
    local = datetime.combine(day, time(hours, minutes), tzinfo=LONDON)
    return local.astimezone(UTC).replace(tzinfo=None)


def period_label(key: str) -> str:
    """A human label for a period key: "30 November 2026", "week of 23 November 2026"."""
    kind, _, value = key.partition(":")
    if kind == "daily":
        return f"{date.fromisoformat(value):%-d %B %Y}"
    if kind == "weekly":
        monday = datetime.strptime(value + "-1", "%G-W%V-%u").date()
        return f"week of {monday:%-d %B %Y}"
    return "just now"


def ensure_secret(sessions: sessionmaker[Session], configured: str | None) -> str:
    """Return the key that signs links: PQWATCH_SECRET_KEY, else one made once and kept in the
    database, so the embedded default needs no setup and links survive restarts."""
    if configured:
        return configured
    try:
        with sessions.begin() as session:
            state = session.get(CrawlState, "secret_key")
            if state is None:
                state = CrawlState(name="secret_key", value=secrets.token_urlsafe(32), updated_at=utcnow())
                session.add(state)
            return state.value
    except IntegrityError:
        # Another job (the daemon runs its digests side by side) made the key first: use it.
        with sessions() as session:
            made = session.get(CrawlState, "secret_key")
            if made is None:
                raise
            return made.value


@dataclass(frozen=True)
class Mailer:
    """Where mails go and what their links point at."""

    transport: Transport
    sender: str
    base_url: str
    secret: str

    def links(self, email: str, version: int = 0, subscription_id: int | None = None) -> tuple[str, str]:
        """The (unsubscribe, manage) links of one subscription at its current link version: each
        names the subscription, so it acts on that one alone."""
        base = self.base_url.rstrip("/")
        return (
            f"{base}/unsubscribe/{make_token(self.secret, email, 'unsubscribe', version, subscription_id)}",
            f"{base}/manage/{make_token(self.secret, email, 'manage', version, subscription_id)}",
        )


def mailer_for(settings: Settings, sessions: sessionmaker[Session]) -> Mailer:
    """The mailer the settings describe: SMTP when PQWATCH_SMTP_URL is set, else the outbox folder."""
    return Mailer(
        transport=transport_from_url(settings.smtp_url, settings.outbox_dir),
        sender=settings.mail_from,
        base_url=settings.base_url,
        secret=ensure_secret(sessions, settings.secret_key),
    )


class _RowLocks:
    """The liveness locks of one run (PostgreSQL): while the run works an outbox row it holds it
    `FOR KEY SHARE` in a transaction of a connection of its own, so a settler's `FOR UPDATE SKIP
    LOCKED` passes it by. The lock goes when the run's outcome is recorded or its connection
    closes (the run died). On SQLite, which has no row locks, it does nothing."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        engine: Engine = sessions.kw["bind"]
        self._engine = engine if engine.dialect.name == "postgresql" else None
        self._connection: Connection | None = None  # opened at the first row: most runs send nothing

    @contextmanager
    def held(self, row_id: int) -> Iterator[None]:
        """Hold the row's lock for the block; its transaction ends with the block."""
        if self._engine is None:
            yield
            return
        if self._connection is None:
            self._connection = self._engine.connect()
        # Why KEY SHARE: it conflicts with a settler's FOR UPDATE but not with the FOR NO KEY
        # UPDATE of this run's own status updates (non-key columns) on its other connection.
        self._connection.execute(
            select(OutboxMail.id).where(OutboxMail.id == row_id).with_for_update(read=True, key_share=True)
        )
        try:
            yield
        finally:
            self._connection.rollback()  # the transaction only holds the lock: ending it releases it

    def close(self) -> None:
        """Close the lock connection, if one was opened."""
        if self._connection is not None:
            self._connection.close()


RESEND_EVERY = timedelta(hours=1)  # a confirmation mail may be sent again at most once an hour


def send_confirmation(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    subscriber_id: int,
    now: datetime,
    *,
    resend: bool = False,
) -> bool:
    """Send the one confirmation mail of a pending subscription (never twice); return if sent.

    With `resend`, send it again: at most once per RESEND_EVERY (the outbox key names the hour),
    so a form or a script asking again and again mails nobody more than that."""
    with sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise ValueError(f"no subscriber {subscriber_id}")
        key = f"confirm:{subscriber.created_at:%Y%m%dT%H%M%S}"
        if resend:
            key += f":again:{now:%Y%m%dT%H}"
        mail = _confirmation_mail(subscriber, mailer)
        email = subscriber.email
    locks = _RowLocks(sessions)
    try:
        outcome = _deliver(
            sessions, mailer, locks, subscriber_id, email, key, MailKind.CONFIRM, mail, (None, None, 0), now
        )
    finally:
        locks.close()
    return outcome == OutboxStatus.SENT


def _confirmation_mail(subscriber: Subscriber, mailer: Mailer) -> RenderedMail:
    email, version = subscriber.email, subscriber.link_version
    token = make_token(mailer.secret, email, "confirm", version, subscriber.id)
    confirm_url = f"{mailer.base_url.rstrip('/')}/confirm/{token}"
    unsubscribe_url, _ = mailer.links(email, version, subscriber.id)
    return render_confirmation(
        email,
        confirm_url,
        mailer.base_url,
        frequency=subscriber.frequency,
        send_time=subscriber.send_time,
        filters=filter_labels(subscriber.filters),
        unsubscribe_url=unsubscribe_url,
    )


def send_due_digests(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    now: datetime,
    *,
    frequency: str | None = None,
    dry_run: bool = False,
    show: bool = False,
) -> DigestRun:
    """Send every digest due at `now` (optionally of one frequency); a dry run sends nothing and
    marks nothing (with `show`, it keeps each mail it would send in `run.shown`).

    First the rows a dead run left are settled (see the module's docstring), then each confirmed
    subscriber whose latest begun period has no outbox row gets the matching changes since the
    last digest it was sent. A refusal that is the server's (policy, set-up, network) stops the
    run and suppresses nobody; a subscriber whose mail cannot be built (an address unfit for a
    header) fails alone, logged, and the run goes on."""
    run = DigestRun()
    locks = _RowLocks(sessions)
    try:
        if not dry_run:
            _settle_dead_runs(sessions, mailer, locks, now, frequency, run)
        if not run.stopped:
            _send_due(sessions, mailer, locks, now, frequency, dry_run, run, show)
    finally:
        locks.close()
        close = getattr(mailer.transport, "close", None)
        if close is not None:
            close()  # an SMTP transport keeps one connection for the whole run
    return run


def _send_due(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    locks: _RowLocks,
    now: datetime,
    frequency: str | None,
    dry_run: bool,
    run: DigestRun,
    show: bool = False,
) -> None:
    with sessions() as session:
        query = (
            select(Subscriber).where(Subscriber.status == SubscriberStatus.CONFIRMED).order_by(Subscriber.id)
        )
        if frequency:
            query = query.where(Subscriber.frequency == frequency)
        subscribers = list(session.scalars(query))
        due = []
        for subscriber in subscribers:
            try:
                key = _due_key(subscriber, now)
            except ValueError as error:  # a stored row unfit to schedule fails alone
                run.failed += 1
                log.error("the digest to %r cannot be scheduled: %s", subscriber.email, error)
                continue
            if key:
                due.append((subscriber, key))
        if not due:
            return
        done = set(
            session.execute(
                select(OutboxMail.subscriber_id, OutboxMail.period_key).where(
                    OutboxMail.period_key.in_({key for _, key in due})
                )
            ).all()
        )
        run.skipped_already_sent = sum(1 for s, key in due if (s.id, key) in done)
        due = [(s, key) for s, key in due if (s.id, key) not in done]
        if not due:
            return
        sent_up_to = _sent_up_to(session, [s.id for s, _ in due])
        after = {s.id: max(sent_up_to.get(s.id, 0), s.start_event_id) for s, _ in due}
        events = list(change_events(session, after_id=min(after.values())))
        views = {
            view.question_id: view
            for view in current_views(session, question_ids={event.question_id for event in events})
        }
        answers = first_answers(session, events)
    # Each event with its question's current view, paired once for every subscriber's filters.
    paired = [(event, views.get(event.question_id)) for event in events]
    threads: dict[tuple[str | None, str], frozenset[tuple[str, str]]] = {}
    for subscriber, key in due:
        filters = Filters.from_json(subscriber.filters)
        if filters.thread:
            with sessions() as session:
                filters = with_thread(session, filters, threads)
        mine = [
            (event, view)
            for event, view in paired
            if event.id > after[subscriber.id] and matches(filters, event, view)
        ]
        if not mine:
            run.nothing_to_report += 1
            continue
        ids = [event.id for event, _ in mine]
        if key == "immediate":
            key = f"immediate:{max(ids)}"
        try:
            mail = render_digest(build_context(subscriber, key, mine, mailer, answers))
        except ValueError as error:  # a stored row unfit for a mail stops that mail, not the run
            run.failed += 1
            log.error("the digest to %r (%s) cannot be built: %s", subscriber.email, key, error)
            continue
        if dry_run:
            run.previews.append(f"{subscriber.email}: {mail.subject}")
            if show:
                run.shown.append((subscriber.email, mail))
            continue
        span = (min(ids), max(ids), len(ids))
        try:
            outcome = _deliver(
                sessions,
                mailer,
                locks,
                subscriber.id,
                subscriber.email,
                key,
                MailKind.DIGEST,
                mail,
                span,
                now,
                subscriber.link_version,
            )
        except MailError as failure:
            _stop(run, failure)
            break
        setattr(run, outcome, getattr(run, outcome) + 1)


def _due_key(subscriber: Subscriber, now: datetime) -> str | None:
    if subscriber.frequency == Frequency.IMMEDIATE:
        return "immediate"  # completed with the last event id when there is something to send
    period = latest_period(subscriber.frequency, subscriber.send_time, now)
    return period.key if period else None


def _stop(run: DigestRun, failure: MailError) -> None:
    run.failed += 1
    run.stopped = f"the mail server refuses ({failure}); nobody was suppressed"
    log.error(
        "the mail server refuses to send (%s); stopping this run, nobody suppressed: check "
        "PQWATCH_SMTP_URL and the server's policy",
        failure,
    )


def _settle_dead_runs(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    locks: _RowLocks,
    now: datetime,
    frequency: str | None,
    run: DigestRun,
) -> None:
    """Settle the rows a dead run left (claimed or sending, claimed before this run began, and on
    PostgreSQL not locked by a live sender)."""
    with sessions.begin() as session:
        query = (
            select(OutboxMail.id, OutboxMail.status, OutboxMail.kind, Subscriber.frequency)
            .join(Subscriber, Subscriber.id == OutboxMail.subscriber_id)
            .where(
                OutboxMail.status.in_((OutboxStatus.CLAIMED, OutboxStatus.SENDING)),
                OutboxMail.created_at < now,
            )
            .order_by(OutboxMail.id)
            # A live sender holds its row FOR KEY SHARE (_RowLocks): the rows this can lock are
            # those whose sender has gone. The lock is only the probe, so it ends with this
            # transaction. SQLite has no row locks (this renders nothing there).
            .with_for_update(skip_locked=True, of=OutboxMail)
        )
        rows = [
            (row_id, status)
            for row_id, status, kind, of in session.execute(query)
            if not frequency or kind != MailKind.DIGEST or of == frequency
        ]
    for row_id, status in rows:
        if status == OutboxStatus.SENDING:
            _interrupt(sessions, row_id, run)
            continue
        try:
            outcome = _resume(sessions, mailer, locks, row_id, now)
        except MailError as failure:
            _stop(run, failure)
            return
        if outcome == OutboxStatus.SENT:
            run.resumed += 1
        setattr(run, outcome, getattr(run, outcome) + 1)


def _interrupt(sessions: sessionmaker[Session], row_id: int, run: DigestRun) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMail, row_id)
        subscriber = session.get(Subscriber, row.subscriber_id) if row else None
        if row is None or subscriber is None:
            return
        moved = _changed(
            session,
            update(OutboxMail)
            .where(OutboxMail.id == row_id, OutboxMail.status == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.INTERRUPTED,
                error="its run died while handing it to the mail server; it may not have arrived",
            ),
        )
        email, key, message_id = subscriber.email, row.period_key, row.message_id
    if moved:
        run.interrupted += 1
        log.error(
            "the mail to %s (%s, %s) was being handed to the mail server when its run died; it may "
            "or may not have arrived: marked interrupted, its changes go in the next digest",
            email,
            key,
            message_id,
        )


def _resume(
    sessions: sessionmaker[Session], mailer: Mailer, locks: _RowLocks, row_id: int, now: datetime
) -> str:
    """Send a row a dead run claimed but never handed over, with its Message-ID; the outcome."""
    with sessions() as session:
        row = session.get(OutboxMail, row_id)
        subscriber = session.get(Subscriber, row.subscriber_id) if row else None
        if row is None or subscriber is None:
            return "skipped_already_sent"
        wanted = SubscriberStatus.PENDING if row.kind == MailKind.CONFIRM else SubscriberStatus.CONFIRMED
        if subscriber.status != wanted:
            reason = f"not sent: the subscriber is {subscriber.status} now"
            return _finish_unsent(sessions, row_id, reason, "skipped_already_sent")
        try:
            mail: RenderedMail | None = (
                _confirmation_mail(subscriber, mailer)
                if row.kind == MailKind.CONFIRM
                else _claimed_digest(session, row, subscriber, mailer)
            )
        except ValueError as error:
            log.error("the mail to %r (%s) cannot be built: %s", subscriber.email, row.period_key, error)
            return _finish_unsent(sessions, row_id, f"cannot be built: {error}", OutboxStatus.FAILED)
        if mail is None:
            return _finish_unsent(sessions, row_id, "nothing left to send", "nothing_to_report")
        email, version, subscriber_id = subscriber.email, subscriber.link_version, subscriber.id
        key, message_id = row.period_key, row.message_id or _message_id(mailer, subscriber.id, row.period_key)
    log.warning("sending the mail to %s (%s) that a dead run claimed but never handed over", email, key)
    return _hand_over(
        sessions, mailer, locks, row_id, email, key, mail, message_id, now, version, subscriber_id
    )


def _claimed_digest(
    session: Session, row: OutboxMail, subscriber: Subscriber, mailer: Mailer
) -> RenderedMail | None:
    """The digest a claimed row stands for: the matching events of its span, rendered again."""
    if row.first_event_id is None or row.last_event_id is None:
        return None
    filters = with_thread(session, Filters.from_json(subscriber.filters), {})
    events = [e for e in change_events(session, after_id=row.first_event_id - 1) if e.id <= row.last_event_id]
    views = {
        view.question_id: view
        for view in current_views(session, question_ids={event.question_id for event in events})
    }
    mine = [(e, views.get(e.question_id)) for e in events if matches(filters, e, views.get(e.question_id))]
    if not mine:
        return None
    answers = first_answers(session, [event for event, _ in mine])
    return render_digest(build_context(subscriber, row.period_key, mine, mailer, answers))


def first_answers(session: Session, events: Iterable[ChangeView]) -> dict[int, str]:
    """The answer each `new` event's question already had in the version it was first seen in
    (event id -> answer text), for the questions first seen answered (not holding, not withdrawn).

    Detection emits a bare `new` event for a first sighting; the version it was read from says
    whether the answer was already there, which the question's current view cannot (it may have
    been answered since, and that answer has its own event)."""
    ids = [event.id for event in events if event.kind == ChangeKind.NEW]
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists: a first crawl has thousands
        rows = session.execute(
            select(ChangeEvent.id, Version.answer_text)
            .join(Version, Version.id == ChangeEvent.version_id)
            .where(
                ChangeEvent.id.in_(ids[start : start + 500]),
                Version.is_holding.is_(False),
                Version.is_withdrawn.is_(False),
            )
        )
        found.update({event_id: text for event_id, text in rows if text and text.strip()})
    return found


def _finish_unsent(sessions: sessionmaker[Session], row_id: int, reason: str, outcome: str) -> str:
    with sessions.begin() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == row_id, OutboxMail.status == OutboxStatus.CLAIMED)
            .values(status=OutboxStatus.FAILED, error=reason)
        )
    return outcome


def _sent_up_to(session: Session, subscriber_ids: list[int]) -> dict[int, int]:
    """The last event id each subscriber has been sent: "sent" rows only, so the changes of a
    mail that failed or whose hand-over was interrupted go in the next digest."""
    rows = session.execute(
        select(OutboxMail.subscriber_id, func.max(OutboxMail.last_event_id))
        .where(
            OutboxMail.kind == MailKind.DIGEST,
            OutboxMail.status == OutboxStatus.SENT,
            OutboxMail.subscriber_id.in_(subscriber_ids),
        )
        .group_by(OutboxMail.subscriber_id)
    )
    return {subscriber_id: last or 0 for subscriber_id, last in rows}


def build_context(
    subscriber: Subscriber,
    key: str,
    events: Iterable[tuple[ChangeView, QuestionView | None]],
    mailer: Mailer,
    answers: dict[int, str] | None = None,
) -> DigestContext:
    """Build one digest's context: its events, each with its question's current view (None when
    it has none), grouped into sections; `answers` are first_answers() of its `new` events."""
    items: dict[str, list[DigestItem]] = {section: [] for section in SECTIONS}
    answers = answers or {}
    base = mailer.base_url.rstrip("/")
    for event, view in events:
        tabled = event.date_tabled.isoformat() if event.date_tabled else None
        first_answer = answers.get(event.id)
        items[section_key(event.kind, first_answer)].append(
            DigestItem(
                event_id=event.id,
                kind=event.kind.value,
                house=event.house.value,
                uin=event.uin,
                date_tabled=tabled,
                heading=view.heading if view else None,
                question_text=view.question_text if view else None,
                answering_member=view.answering_member if view else None,
                answering_body=view.answering_body if view else None,
                field=event.field,
                old=event.old,
                new=event.new,
                diff=event.diff or (),
                source_kind=event.source_kind.value,
                source_url=event.source_url,
                official_url=(
                    f"https://questions-statements.parliament.uk/written-questions/detail/{tabled}/{event.uin}"
                    if tabled
                    else None
                ),
                question_url=f"{base}/questions/{event.house}/{event.uin}"
                + (f"?tabled={tabled}" if tabled else ""),
                detected_at=minute_text(event.detected_at) + "Z",
                detail=tuple((k, str(v)) for k, v in (event.detail or {}).items() if v is not None),
                first_answer=first_answer,
                non_answer=view.non_answer_meaning if view else None,
            )
        )
    unsubscribe_url, manage_url = mailer.links(subscriber.email, subscriber.link_version, subscriber.id)
    # A mail of hundreds of changes helps nobody: the first ones, and a count of the rest.
    sections = tuple(
        DigestSection(
            key=section,
            title=SECTIONS[section][0],
            items=tuple(found[:MAX_ITEMS_PER_SECTION]),
            more=max(0, len(found) - MAX_ITEMS_PER_SECTION),
        )
        for section, found in items.items()
        if found
    )
    return DigestContext(
        email=subscriber.email,
        frequency=subscriber.frequency,
        period_label=period_label(key),
        sections=sections,
        total=sum(s.count for s in sections),
        unsubscribe_url=unsubscribe_url,
        manage_url=manage_url,
        base_url=base,
        follows="; ".join(f"{label}: {value}" for label, value in filter_labels(subscriber.filters))
        or "every change to every written question",
    )


def _deliver(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    locks: _RowLocks,
    subscriber_id: int,
    email: str,
    key: str,
    kind: MailKind,
    mail: RenderedMail,
    ids: tuple[int | None, int | None, int],
    now: datetime,
    version: int = 0,
) -> str:
    """Claim the (subscriber, period) row, send, record the outcome; return which run counter
    moves. Raises the MailError of a refusal that is the server's, after recording it."""
    message_id = _message_id(mailer, subscriber_id, key)
    try:
        with sessions.begin() as session:
            row = OutboxMail(
                subscriber_id=subscriber_id,
                period_key=key,
                kind=kind,
                status=OutboxStatus.CLAIMED,  # not handed over yet: a dead run's claim is sent later
                first_event_id=ids[0],
                last_event_id=ids[1],
                event_count=ids[2],
                subject=mail.subject,
                message_id=message_id,
                attempts=0,
                created_at=now,
            )
            session.add(row)
            session.flush()
            row_id = row.id
    except IntegrityError:
        return "skipped_already_sent"  # another run or scheduler has this period: never twice
    return _hand_over(
        sessions, mailer, locks, row_id, email, key, mail, message_id, now, version, subscriber_id
    )


def _hand_over(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    locks: _RowLocks,
    row_id: int,
    email: str,
    key: str,
    mail: RenderedMail,
    message_id: str,
    now: datetime,
    version: int,
    subscriber_id: int,
) -> str:
    """Hand a claimed row's mail to the transport and record the outcome (the run counter),
    holding the row's liveness lock throughout."""
    # Locked before claimed -> sending, released after the outcome: a live sender's "sending"
    # row is always locked, so no settler takes it for a dead run's.
    with locks.held(row_id):
        # The List-Unsubscribe link (RFC 8058) ends this subscription only, not the address's others.
        unsubscribe_url, _ = mailer.links(email, version, subscriber_id)
        try:
            message = build_message(mail, email, mailer.sender, unsubscribe_url, message_id, date=now)
        except ValueError as unfit:  # a stored address unfit for a header: this mail fails, the run goes on
            log.error("mail to %r (%s) failed: it cannot be put in a mail header: %s", email, key, unfit)
            return _finish_unsent(
                sessions, row_id, f"cannot be put in a mail header: {unfit}", OutboxStatus.FAILED
            )
        with sessions.begin() as session:
            # Claimed -> sending as a compare-and-set: of two runs taking over one row, one sends.
            moved = _changed(
                session,
                update(OutboxMail)
                .where(OutboxMail.id == row_id, OutboxMail.status == OutboxStatus.CLAIMED)
                .values(status=OutboxStatus.SENDING, attempts=OutboxMail.attempts + 1),
            )
        if not moved:
            return "skipped_already_sent"
        status: OutboxStatus = OutboxStatus.SENT
        stop: MailError | None = None
        error_text: str | None = None
        try:
            mailer.transport.send(message)
        except MailError as failure:
            address = isinstance(failure, PermanentFailure) and failure.scope == Scope.ADDRESS
            status = OutboxStatus.SUPPRESSED if address else OutboxStatus.FAILED
            error_text = f"{failure} [{failure.scope}]"
            # Not about this address (relaying denied, a refused login, rate limited, the server
            # gone): every mail would fail alike, so the run stops and nobody is suppressed.
            stop = failure if failure.scope == Scope.POLICY else None
        with sessions.begin() as session:
            row = session.get(OutboxMail, row_id)
            if row is None:  # claimed above, and outbox rows are never deleted
                raise RuntimeError(f"the outbox row of {email} ({key}) has gone")
            # The outbox row is this mail's state machine, not history: moving it on is right.
            row.status, row.error = status, error_text
            row.sent_at = now if status == OutboxStatus.SENT else None
            if status == OutboxStatus.SUPPRESSED:
                suppress(session, row.subscriber_id)
        if error_text:
            log.error("mail to %s (%s) %s: %s", email, key, status, error_text)
        if stop is not None:
            raise stop
        return status.value  # the run counter of the same name


def _changed(session: Session, statement: Update) -> int:
    """Run a conditional UPDATE; return how many rows it changed (0: another run got there first)."""
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount)


def _message_id(mailer: Mailer, subscriber_id: int, key: str) -> str:
    # The same (subscriber, period) always has the same Message-ID, on any retry.
    return f"<pqwatch.{subscriber_id}.{key.replace(':', '.')}@{_host(mailer.base_url)}>"


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "localhost"
