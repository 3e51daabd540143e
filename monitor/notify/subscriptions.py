"""Subscribers: subscribe with filters, double opt-in with signed single-use links, one-click
unsubscribe, and which change events a subscriber's filters match."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.notify.errors import SubscriptionError as SubscriptionError  # re-exported for callers
from monitor.notify.mail import plain_address
from monitor.queries.views import ChangeView, QuestionView
from storage.models import ChangeEvent, Subscriber, UsedToken
from storage.terms import ChangeKind, Frequency, House, SubscriberStatus, canonical_uin

CONFIRM_MAX_AGE = 7 * 24 * 3600  # a confirmation link works for a week, once


@dataclass(frozen=True)
class Filters:
    """What a subscriber follows; empty fields match everything."""

    house: str | None = None
    department: str | None = None
    member: str | None = None
    keyword: str | None = None
    uin: str | None = None
    kinds: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The stored form: only the fields that are set."""
        raw = {
            "house": self.house,
            "department": self.department,
            "member": self.member,
            "keyword": self.keyword,
            "uin": self.uin,
            "kinds": list(self.kinds),
        }
        return {key: value for key, value in raw.items() if value}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Filters:
        """Read the stored form back."""
        data = data or {}
        return cls(
            house=data.get("house"),
            department=data.get("department"),
            member=data.get("member"),
            keyword=data.get("keyword"),
            uin=data.get("uin"),
            kinds=tuple(data.get("kinds") or ()),
        )


def make_filters(
    house: str | None = None,
    department: str | None = None,
    member: str | None = None,
    keyword: str | None = None,
    uin: str | None = None,
    kinds: list[str] | tuple[str, ...] = (),
) -> Filters:
    """Check and normalise filters given by a user; SubscriptionError names a bad one."""
    if house and house not in _values(House):
        raise SubscriptionError(f"house {house!r} is not one of {', '.join(_values(House))}")
    unknown = [kind for kind in kinds if kind not in _values(ChangeKind)]
    if unknown:
        raise SubscriptionError(
            f"unknown change kind {unknown[0]!r} (known: {', '.join(_values(ChangeKind))})"
        )
    return Filters(
        house=house or None,
        department=_clean(department),
        member=_clean(member),
        keyword=_clean(keyword),
        uin=canonical_uin(uin) if uin else None,
        kinds=tuple(dict.fromkeys(kinds)),
    )


def _values(terms: type[StrEnum]) -> list[str]:
    """The stored spellings of a closed set, in its order."""
    return [term.value for term in terms]


def _clean(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())
    if len(cleaned) > 200:
        raise SubscriptionError("a filter may be at most 200 characters")
    return cleaned or None


def normalise_email(address: str) -> str:
    """Return a valid address in its normal form, or raise SubscriptionError naming it."""
    if any(ch in address for ch in "\r\n\0,;<>"):
        raise SubscriptionError(f"{address!r} is not a single e-mail address")
    try:
        # Why: deliverability checks need DNS; pqwatch must work offline, and the double
        # opt-in mail proves the address anyway.
        normal = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise SubscriptionError(f"{address!r} is not a valid e-mail address: {error}") from None
    try:
        # RFC 5322 allows "=?x?=" in a local part, but a header would read it as an encoded
        # word: refuse here what build_message would refuse at every digest.
        return plain_address(normal)
    except ValueError:
        raise SubscriptionError(f"{address!r} cannot be put in a mail header") from None


def subscribe(
    session: Session,
    address: str,
    *,
    frequency: str = Frequency.DAILY,
    send_time: str = "07:00",
    filters: Filters = Filters(),
    confirmed: bool = False,
    now: datetime,
) -> tuple[Subscriber, bool]:
    """Add or update a subscriber; return it and whether a confirmation mail is needed."""
    email = normalise_email(address)
    if frequency not in _values(Frequency):
        raise SubscriptionError(f"frequency {frequency!r} is not one of {', '.join(_values(Frequency))}")
    _check_time(send_time)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        subscriber = Subscriber(email=email, created_at=now, status=SubscriberStatus.PENDING, link_version=0)
        session.add(subscriber)
    elif subscriber.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED):
        # A subscription begun again: links issued for the old one stop working.
        subscriber.link_version = (subscriber.link_version or 0) + 1
    subscriber.frequency, subscriber.send_time, subscriber.filters = frequency, send_time, filters.as_json()
    if subscriber.status == SubscriberStatus.SUPPRESSED and not confirmed:
        raise SubscriptionError(f"{email} bounced permanently; an operator can re-add it with --confirmed")
    needs_confirmation = False
    if confirmed:
        if subscriber.status != SubscriberStatus.CONFIRMED:
            _activate(session, subscriber, now)
    elif subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
        subscriber.status, subscriber.created_at = SubscriberStatus.PENDING, now
        needs_confirmation = True
    session.flush()
    return subscriber, needs_confirmation


def _activate(session: Session, subscriber: Subscriber, now: datetime) -> None:
    # Digests start with what changes after confirmation, not with the whole history.
    subscriber.status, subscriber.confirmed_at = SubscriberStatus.CONFIRMED, now
    subscriber.start_event_id = session.scalar(select(func.max(ChangeEvent.id))) or 0


def _check_time(send_time: str) -> None:
    try:
        hours, minutes = (int(part) for part in send_time.split(":"))
    except ValueError:
        raise SubscriptionError(f"send time {send_time!r} is not HH:MM") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60) or len(send_time) != 5:
        raise SubscriptionError(f"send time {send_time!r} is not HH:MM")


def unsubscribe(session: Session, address: str) -> bool:
    """Unsubscribe an address; idempotent. Return whether it was subscribed."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(address)))
    if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.link_version += 1  # every manage and unsubscribe link issued before stops working
    return True


def restore(session: Session, address: str, now: datetime) -> Subscriber:
    """Restore a suppressed subscriber to confirmed (an operator's decision after a bounce or a
    refusal that was not the address's fault); digests resume with the changes from now on.
    SubscriptionError when the address is not suppressed."""
    email = address.strip().lower()
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        raise SubscriptionError(f"{email} is not a subscriber")
    if subscriber.status != SubscriberStatus.SUPPRESSED:
        raise SubscriptionError(f"{email} is not suppressed (it is {subscriber.status})")
    _activate(session, subscriber, now)
    return subscriber


def suppress(session: Session, subscriber_id: int) -> None:
    """Stop mailing an address the mail server rejected for good."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        subscriber.status = SubscriberStatus.SUPPRESSED


# ---------------------------------------------------------------------------------------------
# Signed links


STALE_LINK = "this link is not valid any more"


def make_token(secret: str, email: str, action: str, version: int = 0) -> str:
    """Sign a link token for one action (confirm | unsubscribe | manage) on one address at the
    subscriber's link version (see `check_link`)."""
    return _serializer(secret, action).dumps({"e": email, "n": secrets.token_hex(8), "v": version})


def read_token(secret: str, token: str, action: str, max_age: int | None = None) -> tuple[str, str]:
    """Return (email, nonce) of a valid token for this action; SubscriptionError otherwise."""
    email, nonce, _ = read_link(secret, token, action, max_age)
    return email, nonce


def read_link(secret: str, token: str, action: str, max_age: int | None = None) -> tuple[str, str, int]:
    """Return (email, nonce, link version) of a validly signed token for this action (a token
    made before links had versions is version 0); SubscriptionError otherwise."""
    try:
        data = _serializer(secret, action).loads(token, max_age=max_age)
    except SignatureExpired:
        raise SubscriptionError("this link has expired; subscribe again for a new one") from None
    except BadSignature:
        raise SubscriptionError("this link is not valid") from None
    try:
        version = int(data.get("v", 0))
    except (TypeError, ValueError):
        raise SubscriptionError("this link is not valid") from None
    return str(data["e"]), str(data["n"]), version


def check_link(session: Session, secret: str, token: str, action: str) -> Subscriber:
    """The subscriber a manage or unsubscribe link names, if the link is still good: signed for
    this action and made at the subscriber's current link version. Unsubscribing and subscribing
    again raise the version, so every link issued before stops working (SubscriptionError)."""
    email, _, version = read_link(secret, token, action)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        raise SubscriptionError(STALE_LINK)
    # Why: an unsubscribe link of an address that is unsubscribed changes nothing, so it may say
    # so again (mail clients repeat RFC 8058 POSTs); only acting on a live subscription needs a
    # current link.
    repeat = action == "unsubscribe" and subscriber.status == SubscriberStatus.UNSUBSCRIBED
    if subscriber.link_version != version and not repeat:
        raise SubscriptionError(STALE_LINK)
    return subscriber


def _serializer(secret: str, action: str) -> URLSafeTimedSerializer:
    # The action is the salt: a token made for one action is worthless for another.
    return URLSafeTimedSerializer(secret, salt=f"pqwatch-{action}")


def check_confirmation(session: Session, secret: str, token: str) -> tuple[Subscriber, str]:
    """The subscriber and nonce of a confirmation link that can still be used, without using it;
    SubscriptionError says why it cannot."""
    email, nonce = read_token(secret, token, "confirm", max_age=CONFIRM_MAX_AGE)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None or subscriber.status not in (SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED):
        raise SubscriptionError("this link is not valid any more")
    if session.get(UsedToken, nonce) is not None:
        raise SubscriptionError("this link has already been used")
    return subscriber, nonce


def confirm(session: Session, secret: str, token: str, now: datetime) -> Subscriber:
    """Confirm the subscription a confirmation link names: once, within its week."""
    subscriber, nonce = check_confirmation(session, secret, token)
    try:
        with session.begin_nested():
            session.add(UsedToken(nonce=nonce, used_at=now))
    except IntegrityError:
        raise SubscriptionError("this link has already been used") from None
    if subscriber.status == SubscriberStatus.PENDING:
        _activate(session, subscriber, now)
    return subscriber


def unsubscribe_by_token(session: Session, secret: str, token: str) -> str:
    """Unsubscribe the address a current unsubscribe link names (no expiry); return it. The link
    stops working once used (the unsubscribe raises the link version), so a second POST of it
    gets SubscriptionError."""
    subscriber = check_link(session, secret, token, "unsubscribe")
    unsubscribe(session, subscriber.email)
    return subscriber.email


# ---------------------------------------------------------------------------------------------
# Matching


def matches(filters: Filters, change: ChangeView, question: QuestionView | None) -> bool:
    """Say whether a change event passes a subscriber's filters: kind, House and UIN are the
    event's; department, member and keyword are read from its question's current view (a question
    with no current view matches none of them)."""
    if filters.kinds and change.kind not in filters.kinds:
        return False
    if filters.house and change.house != filters.house:
        return False
    if filters.uin and change.uin != filters.uin:
        return False
    if filters.department:
        body = question.answering_body if question else None
        if filters.department.lower() not in (body or "").lower():
            return False
    if filters.member:
        asking, answering = (question.asking_member, question.answering_member) if question else (None, None)
        if filters.member.lower() not in f"{asking or ''} {answering or ''}".lower():
            return False
    if filters.keyword:
        asked, answer = (question.question_text, question.answer_text) if question else (None, None)
        if filters.keyword.lower() not in f"{asked or ''} {answer or ''}".lower():
            return False
    return True
