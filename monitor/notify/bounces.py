"""Bounces: read delivery status notifications (RFC 3464) from an mbox file or a Maildir folder,
suppress the addresses that bounced for good, count the soft bounces of each over a window.

A notification is a multipart/report with report-type=delivery-status and a
message/delivery-status part: per-message fields, then one block per recipient with its
Final-Recipient, Action and Status. Only `Action: failed` with a 5.1.x (bad mailbox, system or
syntax; not 5.1.7/5.1.8, the sender's) or 5.2.1 (mailbox disabled) status is a hard bounce, which
suppresses the address at once. Any other failed or delayed recipient is a soft bounce; SOFT_LIMIT
soft bounces of one address within SOFT_WINDOW suppress it too. Delivered, relayed and expanded
recipients are not bounces. A message with no delivery-status part is not a notification (an
out-of-office or other auto-reply, a human's answer) and is ignored, whatever its headers say:
MTAs mark their own DSNs "Auto-Submitted: auto-replied" (Postfix does), so that header alone
cannot tell them apart. Each notification is recorded once, by its Message-ID (or, without one, a
hash of its bytes), so reading the same mailbox again changes nothing."""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.notify.mail import enhanced_status
from storage.models import Bounce, Subscriber
from storage.terms import BounceKind, SubscriberStatus

SOFT_LIMIT = 3  # soft bounces of one address ...
SOFT_WINDOW = timedelta(days=14)  # ... within this window suppress it
_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")


class BounceError(ValueError):
    """A mailbox that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Notice:
    """One recipient's failure in one delivery status notification."""

    email: str
    kind: BounceKind
    status: str | None
    message_id: str
    received_at: datetime


@dataclass
class BounceRun:
    """What one `pqwatch bounces` read did."""

    messages: int = 0
    hard: int = 0
    soft: int = 0
    ignored: int = 0  # not a delivery status notification: auto-replies and the like
    already: int = 0  # notifications recorded by an earlier read
    suppressed: int = 0

    def summary(self) -> str:
        """The read's one-line summary."""
        return (
            f"bounces: {self.messages} messages read, {self.hard} hard, {self.soft} soft, "
            f"{self.ignored} ignored (not a delivery report), {self.already} already recorded, "
            f"{self.suppressed} addresses suppressed"
        )


def read_mailbox(path: Path) -> Iterator[bytes]:
    """Yield the raw messages of an mbox file or a Maildir folder; BounceError when it is neither."""
    if path.is_dir():
        if not any((path / sub).is_dir() for sub in ("cur", "new")):
            raise BounceError(f"{path} is a folder but not a Maildir (no cur/ or new/ in it)")
        box: mailbox.Mailbox[mailbox.Message] = mailbox.Maildir(path, factory=None, create=False)
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
    else:
        raise BounceError(f"{path} is not an mbox file or a Maildir folder")
    try:
        for key in box.keys():
            yield box.get_bytes(key)
    except (OSError, mailbox.Error) as error:
        raise BounceError(f"cannot read {path}: {error}") from None
    finally:
        box.close()


def parse_notification(raw: bytes, now: datetime) -> list[Notice] | None:
    """The failed or delayed recipients of one delivery status notification (an empty list when
    none failed), or None when the message is not one (an auto-reply, say)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    report = _delivery_status(message)
    if report is None:
        return None
    blocks = report.get_payload()
    if not isinstance(blocks, list) or not blocks:
        return None
    typed = [block for block in blocks if isinstance(block, Message)]
    if len(typed) != len(blocks):
        return None
    per_message, recipients = typed[0], typed[1:]
    received = _when(per_message.get("Arrival-Date")) or _when(message.get("Date")) or now
    message_id = _notification_id(message, raw)
    notices = []
    for number, block in enumerate(recipients):
        action = (block.get("Action") or "").strip().lower()
        if action not in ("failed", "delayed"):
            continue  # delivered, relayed, expanded: not a bounce
        email = _recipient(block)
        if not email:
            continue
        status = _status(block)
        hard = action == "failed" and status is not None and _is_address_failure(status)
        notices.append(
            Notice(
                email=email,
                kind=BounceKind.HARD if hard else BounceKind.SOFT,
                status=status,
                # One row per recipient: a notification about several keeps its id on the first.
                message_id=message_id if number == 0 else f"{message_id}#{number}",
                received_at=received,
            )
        )
    return notices


def _delivery_status(message: Message) -> Message | None:
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            return part
    return None


def _recipient(block: Message) -> str | None:
    for name in ("Final-Recipient", "Original-Recipient"):
        value = block.get(name)
        if value:
            _, _, address = str(value).partition(";")
            address = (address or str(value)).strip().strip("<>").lower()
            if "@" in address:
                return address
    return None


def _status(block: Message) -> str | None:
    match = _STATUS.search(str(block.get("Status") or ""))
    status = match.group(0) if match else None
    # Why: Exim and others often say "Status: 5.0.0" and put the server's real code in the
    # Diagnostic-Code ("smtp; 550 5.1.1 <x>: unknown user"): prefer the more specific one.
    diagnostic = str(block.get("Diagnostic-Code") or "")
    _, _, reply = diagnostic.partition(";")
    found = enhanced_status(re.sub(r"^\s*\d{3}[ -]", "", reply.strip()))
    if found and (status is None or (status.endswith(".0.0") and status[0] == str(found[0]))):
        status = ".".join(str(part) for part in found)
    return status


def _is_address_failure(status: str) -> bool:
    klass, subject, detail = (int(part) for part in status.split("."))
    if klass != 5:
        return False
    return (subject == 1 and detail not in (7, 8)) or (subject, detail) == (2, 1)


def _when(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _notification_id(message: Message, raw: bytes) -> str:
    found = str(message.get("Message-ID") or "").strip()
    if found:
        return found[:200]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def record_bounces(session: Session, messages: Iterator[bytes], now: datetime) -> BounceRun:
    """Record the notifications among `messages` once each, and suppress what bounced too often."""
    run = BounceRun()
    for raw in messages:
        run.messages += 1
        notices = parse_notification(raw, now)
        if notices is None:
            run.ignored += 1
            continue
        for notice in notices:
            if session.scalar(select(Bounce.id).where(Bounce.message_id == notice.message_id)) is not None:
                run.already += 1
                continue
            session.add(
                Bounce(
                    email=notice.email,
                    kind=notice.kind,
                    status=notice.status,
                    received_at=notice.received_at,
                    message_id=notice.message_id,
                )
            )
            session.flush()
            if notice.kind == BounceKind.HARD:
                run.hard += 1
            else:
                run.soft += 1
            if notice.kind == BounceKind.HARD or _soft_count(session, notice) >= SOFT_LIMIT:
                run.suppressed += _suppress(session, notice.email)
    return run


def _soft_count(session: Session, notice: Notice) -> int:
    return (
        session.scalar(
            select(func.count(Bounce.id)).where(
                Bounce.email == notice.email,
                Bounce.kind == BounceKind.SOFT,
                Bounce.received_at > notice.received_at - SOFT_WINDOW,
                Bounce.received_at <= notice.received_at,
            )
        )
        or 0
    )


def _suppress(session: Session, email: str) -> int:
    # A bounce is the address's: every live subscription of it stops (counted as one address).
    live = list(
        session.scalars(
            select(Subscriber).where(
                Subscriber.email == email,
                Subscriber.status.in_((SubscriberStatus.CONFIRMED, SubscriberStatus.PENDING)),
            )
        )
    )
    for subscriber in live:
        subscriber.status = SubscriberStatus.SUPPRESSED
    return 1 if live else 0
