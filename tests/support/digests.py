"""Digest test helpers: a recording transport, a mailer, and subscribers and change events in a database."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from monitor.changes.detect import detect_changes
from monitor.notify.digest import Mailer
from monitor.notify.subscriptions import make_filters, subscribe
from storage.models import OutboxMail
from storage.record import record_page
from tests.support.helpers import URL

DIGEST_SECRET = "test-secret"
# 30 Nov 2026 is a Monday; London is on GMT then, so 07:00 London is 07:00 UTC.
MONDAY_8AM = datetime(2026, 11, 30, 8, 0)


class RecordingTransport:
    """A transport that keeps what it was given, and can fail on demand."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.failure = failure

    def send(self, message: EmailMessage) -> None:
        """Keep the message, or raise the failure given."""
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)


def mailer(transport) -> Mailer:  # type: ignore[no-untyped-def]
    """A Mailer over `transport`, signing links with DIGEST_SECRET."""
    return Mailer(
        transport=transport,
        sender="pqwatch <pq@example.org>",
        base_url="https://pq.example",
        secret=DIGEST_SECRET,
    )


def add_subscriber(sessions, address="reader@example.org", **filters):  # type: ignore[no-untyped-def]
    """Add a confirmed daily subscriber with the given filters; return its id."""
    with sessions.begin() as session:
        subscriber, _ = subscribe(
            session,
            address,
            filters=make_filters(**filters),
            confirmed=True,
            now=MONDAY_8AM - timedelta(days=1),
        )
        return subscriber.id


def add_events(sessions, *answers, at=MONDAY_8AM - timedelta(hours=2)):  # type: ignore[no-untyped-def]
    """Store each answer as seen on a blog page of its own at `at`, then run detection."""
    for answer in answers:
        with sessions.begin() as session:
            # One page per question: a page that drops a question would say "source removed".
            url = f"{URL}{answer.house}/{answer.uin}"
            record_page(session, source_kind="blog", url=url, answers=[answer], observed_at=at)
    with sessions.begin() as session:
        detect_changes(session, now=at)


def outbox_rows(sessions) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The (period key, status) of every outbox row, oldest first."""
    with sessions() as session:
        return [(r.period_key, r.status) for r in session.scalars(select(OutboxMail).order_by(OutboxMail.id))]


def pqwatch(db_url: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`pqwatch --db URL ARGS...` started in a process of its own, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--db", db_url, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
