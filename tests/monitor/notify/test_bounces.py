"""Issue 10: delivery status notifications (RFC 3464) modelled on what Postfix, Exim, Gmail and
Microsoft 365 send: hard bounces suppress, soft ones count over a window, auto-replies are
ignored, and each notification is recorded once."""

from __future__ import annotations

import mailbox
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.notify.bounces import (
    SOFT_LIMIT,
    SOFT_WINDOW,
    BounceError,
    parse_notification,
    read_mailbox,
    record_bounces,
)
from monitor.notify.subscriptions import subscribe
from storage.models import Bounce, Subscriber
from tests.support.mail import DSN

NOW = datetime(2026, 12, 2, 9, 0)


def raw(name: str) -> bytes:
    return (DSN / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "email", "kind", "status"),
    [
        ("postfix_hard.eml", "gone@example.net", "hard", "5.1.1"),
        ("exim_hard.eml", "nobody@example.co.uk", "hard", "5.1.1"),  # "Status: 5.0.0", code in the diagnostic
        ("gmail_hard.eml", "no.such.person@gmail.com", "hard", "5.1.1"),
        ("m365_hard.eml", "left.the.firm@contoso.com", "hard", "5.1.10"),
        ("m365_mailbox_full.eml", "full.box@fabrikam.com", "soft", "5.2.2"),
        ("postfix_delayed.eml", "slow@example.com", "soft", "4.4.1"),
    ],
)
def test_each_mtas_notification_names_the_recipient_and_its_kind(name, email, kind, status):
    [notice] = parse_notification(raw(name), NOW) or []
    assert (notice.email, notice.kind, notice.status) == (email, kind, status)
    assert notice.received_at < NOW and notice.message_id


@pytest.mark.parametrize("name", ["out_of_office.eml", "outlook_automatic_reply.eml"])
def test_auto_replies_are_not_notifications(name):
    assert parse_notification(raw(name), NOW) is None


def test_a_gmail_notification_in_pacific_time_is_read_as_utc():
    [notice] = parse_notification(raw("gmail_hard.eml"), NOW) or []
    assert notice.received_at == datetime(2026, 11, 30, 7, 1, 4)


def add(sessions, email, status="confirmed"):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        subscriber, _ = subscribe(session, email, confirmed=True, now=datetime(2026, 11, 1))
        subscriber.status = status


def statuses(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {s.email: s.status for s in session.scalars(select(Subscriber))}


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message)
    box.close()
    return path


def test_hard_bounces_suppress_soft_ones_and_auto_replies_do_not_and_a_second_read_changes_nothing(
    sessions, tmp_path
):
    for email in ("gone@example.net", "full.box@fabrikam.com", "away@example.org", "bystander@example.org"):
        add(sessions, email)
    names = ["postfix_hard.eml", "m365_mailbox_full.eml", "out_of_office.eml", "outlook_automatic_reply.eml"]
    path = write_mbox(tmp_path / "bounces.mbox", [raw(name) for name in names])
    with sessions.begin() as session:
        run = record_bounces(session, read_mailbox(path), NOW)
    assert (run.messages, run.hard, run.soft, run.ignored, run.suppressed) == (4, 1, 1, 2, 1)
    assert statuses(sessions) == {
        "gone@example.net": "suppressed",
        "full.box@fabrikam.com": "confirmed",
        "away@example.org": "confirmed",
        "bystander@example.org": "confirmed",
    }
    with sessions.begin() as session:
        again = record_bounces(session, read_mailbox(path), NOW)
    assert (again.already, again.hard, again.soft, again.suppressed) == (2, 0, 0, 0)
    with sessions() as session:
        assert session.scalar(select(Bounce).where(Bounce.email == "gone@example.net")).status == "5.1.1"
        assert len(session.scalars(select(Bounce)).all()) == 2


def soft_bounce(number: int, when: datetime) -> bytes:
    """The Postfix delay notice again, as another notification sent at `when`."""
    text = raw("postfix_delayed.eml").decode()
    text = text.replace("20261130110540.4Q3BbM2x1Nz9sTc", f"2026-soft-{number}")
    text = text.replace(
        "Arrival-Date: Mon, 30 Nov 2026 07:01:10 +0000 (GMT)", f"Arrival-Date: {format_datetime(when)}"
    )
    return text.encode()


def test_soft_bounces_suppress_only_when_enough_fall_within_the_window(sessions, tmp_path):
    add(sessions, "slow@example.com")
    start = datetime(2026, 10, 1, 8)
    spread = [start + n * (SOFT_WINDOW + timedelta(days=1)) / (SOFT_LIMIT - 1) for n in range(SOFT_LIMIT)]
    with sessions.begin() as session:
        run = record_bounces(session, iter([soft_bounce(n, when) for n, when in enumerate(spread)]), NOW)
    assert (run.soft, run.suppressed) == (SOFT_LIMIT, 0)
    assert statuses(sessions)["slow@example.com"] == "confirmed"
    close = [datetime(2026, 11, 20) + timedelta(days=n * 6) for n in range(SOFT_LIMIT)]
    with sessions.begin() as session:
        run = record_bounces(session, iter([soft_bounce(10 + n, when) for n, when in enumerate(close)]), NOW)
    assert run.suppressed == 1
    assert statuses(sessions)["slow@example.com"] == "suppressed"


def test_a_maildir_is_read_like_an_mbox(sessions, tmp_path):
    add(sessions, "no.such.person@gmail.com")
    folder = mailbox.Maildir(tmp_path / "Bounces", create=True)
    folder.add(raw("gmail_hard.eml"))
    folder.add(raw("exim_hard.eml"))
    folder.close()
    with sessions.begin() as session:
        run = record_bounces(session, read_mailbox(tmp_path / "Bounces"), NOW)
    assert (run.messages, run.hard, run.suppressed) == (2, 2, 1)


def test_a_path_that_is_no_mailbox_is_a_one_line_error(tmp_path):
    (tmp_path / "plain-folder").mkdir()
    for path in (tmp_path / "missing.mbox", tmp_path / "plain-folder"):
        with pytest.raises(BounceError) as refused:
            list(read_mailbox(path))
        assert len(str(refused.value).splitlines()) == 1
