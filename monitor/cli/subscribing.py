"""The subscriber commands: `subscribe`, `unsubscribe`, `subscribers`, `resend-confirmation`,
`restore`, `bounces` and `digest`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta

from monitor.cli.base import FREQUENCIES, HOUSES, UsageError
from monitor.config import Settings
from storage.terms import utcnow


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the subscriber commands to the parser."""
    subscribe = commands.add_parser(
        "subscribe",
        help="add a subscription (a confirmation mail goes out); other filters add another",
    )
    subscribe.set_defaults(run=cmd_subscribe)
    subscribe.add_argument("email")
    subscribe.add_argument("--frequency", choices=FREQUENCIES, default="daily")
    subscribe.add_argument("--send-time", default="07:00", metavar="HH:MM", help="Europe/London")
    subscribe.add_argument("--house", choices=HOUSES)
    subscribe.add_argument("--department", metavar="TEXT")
    subscribe.add_argument("--member", metavar="TEXT", help="asker or minister")
    subscribe.add_argument("--keyword", metavar="TEXT", help="in the question or the answer")
    subscribe.add_argument("--uin", metavar="UIN", help="follow one question")
    subscribe.add_argument(
        "--thread",
        action="store_true",
        help="with --uin: also every question that follows it up or that it follows up",
    )
    subscribe.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="only these change kinds (repeatable), e.g. corrected",
    )
    subscribe.add_argument("--confirmed", action="store_true", help="skip the confirmation mail")

    unsubscribe = commands.add_parser(
        "unsubscribe", help="end an address's subscriptions (all of them, or one with --id)"
    )
    unsubscribe.set_defaults(run=cmd_unsubscribe)
    unsubscribe.add_argument("email")
    unsubscribe.add_argument("--id", type=int, metavar="N", help="only this subscription (see `subscribers`)")

    commands.add_parser("subscribers", help="list subscribers").set_defaults(run=cmd_subscribers)

    resend = commands.add_parser(
        "resend-confirmation", help="send the confirmation mail of an address's pending subscriptions again"
    )
    resend.set_defaults(run=cmd_resend_confirmation)
    resend.add_argument("email")

    restore = commands.add_parser("restore", help="restore a suppressed subscriber to confirmed")
    restore.set_defaults(run=cmd_restore)
    restore.add_argument("email")

    bounces = commands.add_parser("bounces", help="read delivery status notifications (RFC 3464)")
    bounces.set_defaults(run=cmd_bounces)
    bounces.add_argument("path", metavar="FILE|DIR", help="an mbox file or a Maildir folder")

    digest = commands.add_parser("digest", help="send every digest that is due now")
    digest.set_defaults(run=cmd_digest)
    digest.add_argument("--frequency", choices=FREQUENCIES)
    digest.add_argument("--dry-run", action="store_true", help="print what would be sent")
    digest.add_argument(
        "--show", action="store_true", help="with --dry-run: print each mail's To, Subject and text body"
    )


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Add a subscription, or update the address's one with the same filters; send the
    confirmation mail unless --confirmed."""
    from monitor.notify.digest import mailer_for, send_confirmation
    from monitor.notify.subscriptions import (
        filters_text,
        find_subscription,
        make_filters,
        normalise_email,
        subscribe,
        unseen_uin_note,
    )
    from storage.db import open_database
    from storage.terms import SubscriberStatus

    filters = make_filters(
        args.house, args.department, args.member, args.keyword, args.uin, args.kind, thread=args.thread
    )
    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        note = unseen_uin_note(session, filters)
        before = find_subscription(session, normalise_email(args.email), filters)
        was = (before.status, before.frequency, before.send_time) if before is not None else None
        subscriber, needs_confirmation = subscribe(
            session,
            args.email,
            frequency=args.frequency,
            send_time=args.send_time,
            filters=filters,
            confirmed=args.confirmed,
            now=utcnow(),
        )
        subscriber_id, email = subscriber.id, subscriber.email
        now = (subscriber.status, subscriber.frequency, subscriber.send_time)
    what = f"subscription {subscriber_id} ({filters_text(filters.as_json())})"
    if note:
        print(f"{email}: {note}")
    if was is not None and was[0] == SubscriberStatus.CONFIRMED:
        # The same filters again is the same subscription: say so rather than add a second.
        change = "already subscribed" if was == now else f"updated to {args.frequency} at {args.send_time}"
        print(f"{email}: {what}: {change}")
    elif needs_confirmation:
        sent = send_confirmation(sessions, mailer_for(settings, sessions), subscriber_id, utcnow())
        print(
            f"{email}: {what}: confirmation mail {'sent' if sent else 'already sent'}; "
            "nothing else until confirmed"
        )
    else:
        print(f"{email}: {what}: subscribed ({args.frequency})")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    """End every subscription of an address, or the one --id names (idempotent); say which."""
    from monitor.notify.subscriptions import filters_text, normalise_email, unsubscribe
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        ended = [(s.id, filters_text(s.filters)) for s in unsubscribe(session, args.email, args.id)]
    email = normalise_email(args.email)
    if not ended:
        print(f"{email}: was not subscribed")
    for subscription_id, filters in ended:
        print(f"{email}: unsubscribed from subscription {subscription_id} ({filters})")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a suppressed subscriber to confirmed (an error when it is not suppressed)."""
    from monitor.notify.subscriptions import restore
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        email = restore(session, args.email, utcnow()).email
    print(f"{email}: restored to confirmed; digests resume with the changes from now on")
    return 0


def cmd_bounces(args: argparse.Namespace, settings: Settings) -> int:
    """Read bounces from an mbox or Maildir: suppress hard bounces, count soft ones."""
    from pathlib import Path

    from monitor.notify.bounces import BounceError, read_mailbox, record_bounces
    from storage.db import open_database

    path = Path(args.path)
    if not (path.is_file() or path.is_dir()):
        raise UsageError(f"{args.path} is not an mbox file or a Maildir folder")
    sessions = open_database(settings.db_url)
    try:
        with sessions.begin() as session:
            run = record_bounces(session, read_mailbox(path), utcnow())
    except BounceError as error:
        raise UsageError(str(error)) from None
    print(run.summary())
    return 0


def cmd_subscribers(args: argparse.Namespace, settings: Settings) -> int:
    """List subscriptions as an aligned table: id, address, status, frequency, send time,
    filters and when each was made."""
    from sqlalchemy import select

    from monitor.notify.subscriptions import filters_text
    from storage.db import open_database
    from storage.models import Subscriber

    sessions = open_database(settings.db_url)
    with sessions() as session:
        rows = [
            (
                str(row.id),
                row.email,
                row.status,
                row.frequency,
                row.send_time,
                filters_text(row.filters),
                f"{row.created_at:%Y-%m-%d %H:%M}Z",
            )
            for row in session.scalars(select(Subscriber).order_by(Subscriber.email, Subscriber.id))
        ]
    if not rows:
        print("no subscribers")
        return 0
    for line in table(("id", "email", "status", "frequency", "send time", "filters", "created"), rows):
        print(line)
    return 0


def table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Lines of a plain-text table: columns padded to their widest cell, the id column right-aligned,
    no trailing spaces."""
    widths = [max(len(cell) for cell in column) for column in zip(head, *rows, strict=True)]
    lines = []
    for cells in (head, *rows):
        padded = [cells[0].rjust(widths[0])] + [
            cell.ljust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    return lines


def cmd_resend_confirmation(args: argparse.Namespace, settings: Settings) -> int:
    """Send the confirmation mail of each pending subscription of an address again (at most once an
    hour each); a one-line error when the address has none pending."""
    from sqlalchemy import select

    from monitor.notify.digest import RESEND_EVERY, mailer_for, send_confirmation
    from monitor.notify.subscriptions import SubscriptionError, filters_text, normalise_email
    from storage.db import open_database
    from storage.models import Subscriber
    from storage.terms import SubscriberStatus

    try:
        email = normalise_email(args.email)
    except SubscriptionError as error:
        raise UsageError(str(error)) from None
    sessions = open_database(settings.db_url)
    with sessions() as session:
        pending = [
            (row.id, filters_text(row.filters))
            for row in session.scalars(
                select(Subscriber)
                .where(Subscriber.email == email, Subscriber.status == SubscriberStatus.PENDING)
                .order_by(Subscriber.id)
            )
        ]
    if not pending:
        raise UsageError(f"{email} has no subscription waiting for confirmation")
    mailer = mailer_for(settings, sessions)
    for subscriber_id, filters in pending:
        sent = send_confirmation(sessions, mailer, subscriber_id, utcnow(), resend=True)
        outcome = (
            "confirmation mail sent again" if sent else f"already sent again within {_hours(RESEND_EVERY)}"
        )
        print(f"{email} (subscription {subscriber_id}: {filters}): {outcome}")
    return 0


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return "the hour" if hours == 1 else f"{hours:g} hours"


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Send every digest that is due now (or print them with --dry-run)."""
    from monitor.notify.digest import mailer_for, send_due_digests
    from storage.db import open_database

    if args.show and not args.dry_run:
        raise UsageError("--show needs --dry-run (it prints the mails instead of sending them)")
    sessions = open_database(settings.db_url)
    run = send_due_digests(
        sessions,
        mailer_for(settings, sessions),
        utcnow(),
        frequency=args.frequency,
        dry_run=args.dry_run,
        show=args.show,
    )
    for preview in run.previews:
        print(f"would send to {preview}")
    for to, mail in run.shown:
        # One block per mail, its headers then its text part, as the reader would see it.
        print(f"\n{'=' * 72}\nTo: {to}\nSubject: {mail.subject}\n\n{mail.text}", end="")
    if run.shown:
        print("=" * 72)
    print(run.summary(dry_run=args.dry_run))
    return 0 if run.ok else 1
