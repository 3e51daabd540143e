"""The subscriber commands: `subscribe`, `unsubscribe`, `subscribers`, `restore`, `bounces` and
`digest`."""

from __future__ import annotations

import argparse

from monitor.cli.base import FREQUENCIES, HOUSES, UsageError
from monitor.config import Settings
from storage.terms import utcnow


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the subscriber commands to the parser."""
    subscribe = commands.add_parser("subscribe", help="add a subscriber (a confirmation mail goes out)")
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
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="only these change kinds (repeatable), e.g. corrected",
    )
    subscribe.add_argument("--confirmed", action="store_true", help="skip the confirmation mail")

    unsubscribe = commands.add_parser("unsubscribe", help="stop a subscriber's mails")
    unsubscribe.set_defaults(run=cmd_unsubscribe)
    unsubscribe.add_argument("email")

    commands.add_parser("subscribers", help="list subscribers").set_defaults(run=cmd_subscribers)

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


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Add or update a subscriber; send the confirmation mail unless --confirmed."""
    from monitor.notify.digest import mailer_for, send_confirmation
    from monitor.notify.subscriptions import make_filters, subscribe
    from storage.db import open_database

    filters = make_filters(args.house, args.department, args.member, args.keyword, args.uin, args.kind)
    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
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
    if needs_confirmation:
        sent = send_confirmation(sessions, mailer_for(settings, sessions), subscriber_id, utcnow())
        print(
            f"{email}: confirmation mail {'sent' if sent else 'already sent'}; nothing else until confirmed"
        )
    else:
        print(f"{email}: subscribed ({args.frequency})")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Unsubscribe an address (idempotent)."""
    from monitor.notify.subscriptions import normalise_email, unsubscribe
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    with sessions.begin() as session:
        was = unsubscribe(session, args.email)
    print(f"{normalise_email(args.email)}: {'unsubscribed' if was else 'was not subscribed'}")
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
    """List subscribers with their status, frequency and filters."""
    from sqlalchemy import select

    from storage.db import open_database
    from storage.models import Subscriber

    sessions = open_database(settings.db_url)
    with sessions() as session:
        rows = session.scalars(select(Subscriber).order_by(Subscriber.email)).all()
        for row in rows:
            filters = " ".join(f"{k}={v}" for k, v in (row.filters or {}).items()) or "everything"
            print(f"{row.email}  {row.status}  {row.frequency} at {row.send_time}  {filters}")
        if not rows:
            print("no subscribers")
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Send every digest that is due now (or print them with --dry-run)."""
    from monitor.notify.digest import mailer_for, send_due_digests
    from storage.db import open_database

    sessions = open_database(settings.db_url)
    run = send_due_digests(
        sessions, mailer_for(settings, sessions), utcnow(), frequency=args.frequency, dry_run=args.dry_run
    )
    for preview in run.previews:
        print(f"would send to {preview}")
    print(run.summary(dry_run=args.dry_run))
    return 0 if run.ok else 1
