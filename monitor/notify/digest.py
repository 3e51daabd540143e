"""Digests: which are due, what each says, and sending each exactly once.

A digest covers the matching events after the last one this subscriber was sent (derived from
the outbox, not kept as a counter). An outbox row per (subscriber, period) under a unique
constraint is written *before* the mail goes out, so a second run, a second scheduler or a crash
after sending sends nothing twice (a row a crash leaves in "sending" is never retried)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.notify.mail import (
    PermanentFailure,
    TemporaryFailure,
    Transport,
    build_message,
    transport_from_url,
)
from monitor.notify.model import SECTIONS, DigestContext, DigestItem, DigestSection, RenderedMail
from monitor.notify.render import render_confirmation, render_digest
from monitor.notify.subscriptions import Filters, make_token, matches, suppress
from monitor.queries.views import ChangeView, QuestionView, change_events, current_views
from storage.models import CrawlState, OutboxMail, Subscriber
from storage.terms import Frequency, MailKind, OutboxStatus, SubscriberStatus, minute_text
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
    previews: list[str] = field(default_factory=list)


def period_key(frequency: str, send_time: str, now: datetime) -> str | None:
    """Return the key of the digest period due at `now` (UTC), or None while it is not due yet.

    Daily digests are due from the send time (Europe/London) each day, weekly ones from the send
    time each Monday; after downtime the current period is due once, which is the one catch-up."""
    local = now.replace(tzinfo=UTC).astimezone(LONDON)
    hours, minutes = (int(part) for part in send_time.split(":"))
    passed = local.time() >= time(hours, minutes)
    if frequency == Frequency.DAILY:
        return f"daily:{local.date()}" if passed else None
    if frequency == Frequency.WEEKLY:
        year, week, weekday = local.isocalendar()
        return f"weekly:{year}-W{week:02d}" if weekday > 1 or passed else None
    if frequency == Frequency.IMMEDIATE:
        return "immediate"  # completed with the last event id when there is something to send
    raise ValueError(f"unknown frequency {frequency!r}")


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
    with sessions.begin() as session:
        state = session.get(CrawlState, "secret_key")
        if state is None:
            state = CrawlState(
                name="secret_key",
                value=secrets.token_urlsafe(32),
                updated_at=utcnow(),
            )
            session.add(state)
        return state.value


@dataclass(frozen=True)
class Mailer:
    """Where mails go and what their links point at."""

    transport: Transport
    sender: str
    base_url: str
    secret: str

    def links(self, email: str) -> tuple[str, str]:
        """The (unsubscribe, manage) links of one subscriber."""
        base = self.base_url.rstrip("/")
        return (
            f"{base}/unsubscribe/{make_token(self.secret, email, 'unsubscribe')}",
            f"{base}/manage/{make_token(self.secret, email, 'manage')}",
        )


def mailer_for(settings: Settings, sessions: sessionmaker[Session]) -> Mailer:
    """The mailer the settings describe: SMTP when PQWATCH_SMTP_URL is set, else the outbox folder."""
    return Mailer(
        transport=transport_from_url(settings.smtp_url, settings.outbox_dir),
        sender=settings.mail_from,
        base_url=settings.base_url,
        secret=ensure_secret(sessions, settings.secret_key),
    )


def send_confirmation(
    sessions: sessionmaker[Session], mailer: Mailer, subscriber_id: int, now: datetime
) -> bool:
    """Send the one confirmation mail of a pending subscription (never twice); return if sent."""
    with sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise ValueError(f"no subscriber {subscriber_id}")
        email, key = subscriber.email, f"confirm:{subscriber.created_at:%Y%m%dT%H%M%S}"
    confirm_url = f"{mailer.base_url.rstrip('/')}/confirm/{make_token(mailer.secret, email, 'confirm')}"
    unsubscribe_url, manage_url = mailer.links(email)
    mail = render_confirmation(
        email, confirm_url, mailer.base_url, manage_url=manage_url, unsubscribe_url=unsubscribe_url
    )
    outcome = _deliver(
        sessions, mailer, subscriber_id, email, key, MailKind.CONFIRM, mail, (None, None, 0), now
    )
    return outcome == OutboxStatus.SENT


def send_due_digests(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    now: datetime,
    *,
    frequency: str | None = None,
    dry_run: bool = False,
) -> DigestRun:
    """Send every digest due at `now` (optionally of one frequency); a dry run sends nothing."""
    run = DigestRun()
    with sessions() as session:
        query = (
            select(Subscriber).where(Subscriber.status == SubscriberStatus.CONFIRMED).order_by(Subscriber.id)
        )
        if frequency:
            query = query.where(Subscriber.frequency == frequency)
        subscribers = list(session.scalars(query))
        due = [(s, key) for s in subscribers if (key := period_key(s.frequency, s.send_time, now))]
        if not due:
            return run
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
            return run
        sent_up_to = _sent_up_to(session, [s.id for s, _ in due])
        after = {s.id: max(sent_up_to.get(s.id, 0), s.start_event_id) for s, _ in due}
        events = list(change_events(session, after_id=min(after.values())))
        views = {
            view.question_id: view
            for view in current_views(session, question_ids={event.question_id for event in events})
        }
    # Each event with its question's current view, paired once for every subscriber's filters.
    paired = [(event, views.get(event.question_id)) for event in events]
    for subscriber, key in due:
        filters = Filters.from_json(subscriber.filters)
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
        context = build_context(subscriber, key, mine, mailer)
        mail = render_digest(context)
        if dry_run:
            run.previews.append(f"{subscriber.email}: {mail.subject}")
            continue
        try:
            outcome = _deliver(
                sessions,
                mailer,
                subscriber.id,
                subscriber.email,
                key,
                MailKind.DIGEST,
                mail,
                (min(ids), max(ids), len(ids)),
                now,
            )
        except PermanentFailure as failure:
            run.failed += 1
            log.error(
                "the mail server refuses to send (%s); stopping this run: check PQWATCH_SMTP_URL", failure
            )
            break
        setattr(run, outcome, getattr(run, outcome) + 1)
    close = getattr(mailer.transport, "close", None)
    if close is not None:
        close()  # an SMTP transport keeps one connection for the whole run
    return run


def _sent_up_to(session: Session, subscriber_ids: list[int]) -> dict[int, int]:
    """The last event id each subscriber has been sent (a "sending" row counts: never twice)."""
    rows = session.execute(
        select(OutboxMail.subscriber_id, func.max(OutboxMail.last_event_id))
        .where(
            OutboxMail.kind == MailKind.DIGEST,
            OutboxMail.status.in_((OutboxStatus.SENT, OutboxStatus.SENDING)),
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
) -> DigestContext:
    """Build one digest's context: its events, each with its question's current view (None when
    it has none), grouped into sections."""
    items: dict[str, list[DigestItem]] = {section: [] for section in SECTIONS}
    section_of = {kind: section for section, (_, kinds) in SECTIONS.items() for kind in kinds}
    base = mailer.base_url.rstrip("/")
    for event, view in events:
        tabled = event.date_tabled.isoformat() if event.date_tabled else None
        items[section_of.get(event.kind, "changed")].append(
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
            )
        )
    unsubscribe_url, manage_url = mailer.links(subscriber.email)
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
    )


def _deliver(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    subscriber_id: int,
    email: str,
    key: str,
    kind: MailKind,
    mail: RenderedMail,
    ids: tuple[int | None, int | None, int],
    now: datetime,
) -> str:
    """Claim the (subscriber, period) row, send, record the outcome; return which run counter moves."""
    message_id = f"<pqwatch.{subscriber_id}.{key.replace(':', '.')}@{_host(mailer.base_url)}>"
    try:
        with sessions.begin() as session:
            session.add(
                OutboxMail(
                    subscriber_id=subscriber_id,
                    period_key=key,
                    kind=kind,
                    status=OutboxStatus.SENDING,
                    first_event_id=ids[0],
                    last_event_id=ids[1],
                    event_count=ids[2],
                    subject=mail.subject,
                    message_id=message_id,
                    attempts=1,
                    created_at=now,
                )
            )
    except IntegrityError:
        return "skipped_already_sent"  # another run or scheduler has this period: never twice
    unsubscribe_url, _ = mailer.links(email)
    status, error, stop = OutboxStatus.SENT, None, None
    try:
        mailer.transport.send(
            build_message(mail, email, mailer.sender, unsubscribe_url, message_id, date=now)
        )
    except PermanentFailure as failure:
        status = OutboxStatus.SUPPRESSED if failure.recipient_rejected else OutboxStatus.FAILED
        error = str(failure)
        stop = None if failure.recipient_rejected else failure
    except TemporaryFailure as failure:
        status, error = OutboxStatus.FAILED, str(failure)
    with sessions.begin() as session:
        row = session.scalar(
            select(OutboxMail).where(OutboxMail.subscriber_id == subscriber_id, OutboxMail.period_key == key)
        )
        if row is None:  # claimed above, and outbox rows are never deleted
            raise RuntimeError(f"the outbox row of {email} ({key}) has gone")
        # The outbox row is this mail's state machine, not history: moving it on is right.
        row.status, row.error = status, error
        row.sent_at = now if status == OutboxStatus.SENT else None
        if status == OutboxStatus.SUPPRESSED:
            suppress(session, subscriber_id)
    if error:
        log.error("mail to %s (%s) %s: %s", email, key, status, error)
    if stop is not None:
        # Not about this address (a refused login, a refused sender): every mail would fail alike.
        raise stop
    return status.value  # the run counter of the same name


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "localhost"
