"""Subscribers: subscribe with filters, double opt-in with signed single-use links, one-click
unsubscribe, and which change events a subscriber's filters match."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
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
from storage.models import ChangeEvent, Question, Subscriber, UsedToken, filters_key
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
    thread: bool = False  # with `uin`: that question's whole thread of follow-ups
    # The thread's questions as (House, UIN), found when a digest is made (with_thread); not stored.
    thread_members: frozenset[tuple[str, str]] = field(default=frozenset(), compare=False)

    def as_json(self) -> dict[str, Any]:
        """The stored form: only the fields that are set."""
        raw = {
            "house": self.house,
            "department": self.department,
            "member": self.member,
            "keyword": self.keyword,
            "uin": self.uin,
            "kinds": list(self.kinds),
            "thread": self.thread,
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
            thread=bool(data.get("thread")),
        )


def make_filters(
    house: str | None = None,
    department: str | None = None,
    member: str | None = None,
    keyword: str | None = None,
    uin: str | None = None,
    kinds: list[str] | tuple[str, ...] = (),
    thread: bool = False,
) -> Filters:
    """Check and normalise filters given by a user; SubscriptionError names a bad one."""
    if thread and not uin:
        raise SubscriptionError("following a thread needs the UIN of a question in it")
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
        thread=thread,
    )


FILTER_LABELS = {
    "house": "House",
    "department": "Department",
    "member": "Member",
    "keyword": "Keyword",
    "uin": "UIN",
    "kinds": "Changes",
    "thread": "With its thread",
}


def filter_labels(filters: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """A subscription's stored filters as (label, value) pairs for a page or a mail
    (("Department", "Home Office"), ("Changes", "corrected, answered")); () follows everything."""
    return tuple(
        (FILTER_LABELS[key], _shown(value)) for key, value in Filters.from_json(filters).as_json().items()
    )


def _shown(value: object) -> str:
    if value is True:
        return "yes"
    return ", ".join(value) if isinstance(value, list) else str(value)


def filters_text(filters: dict[str, Any] | None) -> str:
    """A subscription's stored filters as a reader writes them ("department=Home Office
    keyword=asylum kinds=corrected,answered"); "everything" when none is set."""
    parts = []
    for key, value in Filters.from_json(filters).as_json().items():
        parts.append(f"{key}={_shown(value)}")
    return " ".join(parts) or "everything"


def unseen_uin_note(session: Session, filters: Filters) -> str | None:
    """What to tell someone following a UIN pqwatch has not stored (in that House, when one is
    given): it may simply not be crawled yet, so the subscription stands and this only says so."""
    if not filters.uin:
        return None
    query = select(Question.id).where(Question.uin == filters.uin)
    if filters.house:
        query = query.where(Question.house == filters.house)
    if session.scalar(query.limit(1)) is not None:
        return None
    where = f" in the {filters.house}" if filters.house else ""
    return f"no question UIN {filters.uin}{where} is stored yet; you will hear when it is"


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
    """Add a subscription, or update the one this address has with the same filters (an address
    may hold several, one per set of filters: other filters add one, the first is untouched);
    return it and whether a confirmation mail is needed."""
    email = normalise_email(address)
    if frequency not in _values(Frequency):
        raise SubscriptionError(f"frequency {frequency!r} is not one of {', '.join(_values(Frequency))}")
    _check_time(send_time)
    stored = filters.as_json()
    # A hard bounce is the address's: a new subscription of it would bounce as well.
    if not confirmed and session.scalar(
        select(Subscriber.id).where(
            Subscriber.email == email, Subscriber.status == SubscriberStatus.SUPPRESSED
        )
    ):
        raise SubscriptionError(f"{email} bounced permanently; an operator can re-add it with --confirmed")
    subscriber = find_subscription(session, email, filters)
    if subscriber is None:
        subscriber = Subscriber(
            email=email,
            filters=stored,
            filters_key=filters_key(stored),
            created_at=now,
            status=SubscriberStatus.PENDING,
            link_version=0,
        )
        session.add(subscriber)
    elif subscriber.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED):
        # A subscription begun again: links issued for the old one stop working.
        subscriber.link_version = (subscriber.link_version or 0) + 1
    subscriber.frequency, subscriber.send_time = frequency, send_time
    needs_confirmation = False
    if confirmed:
        if subscriber.status != SubscriberStatus.CONFIRMED:
            _activate(session, subscriber, now)
    elif subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
        subscriber.status, subscriber.created_at = SubscriberStatus.PENDING, now
        needs_confirmation = True
    session.flush()
    return subscriber, needs_confirmation


def find_subscription(session: Session, email: str, filters: Filters) -> Subscriber | None:
    """The subscription of a (normalised) address with exactly these filters, if there is one."""
    return session.scalar(
        select(Subscriber).where(
            Subscriber.email == email, Subscriber.filters_key == filters_key(filters.as_json())
        )
    )


def subscriptions_of(session: Session, email: str) -> list[Subscriber]:
    """Every subscription of a (normalised) address, oldest first."""
    return list(session.scalars(select(Subscriber).where(Subscriber.email == email).order_by(Subscriber.id)))


def update_settings(
    session: Session, subscriber: Subscriber, *, frequency: str, send_time: str, filters: Filters
) -> Subscriber:
    """Change one subscription's frequency, send time and filters (the manage form); refused
    (SubscriptionError) when the address already has another subscription with those filters."""
    if frequency not in _values(Frequency):
        raise SubscriptionError(f"frequency {frequency!r} is not one of {', '.join(_values(Frequency))}")
    _check_time(send_time)
    stored = filters.as_json()
    other = find_subscription(session, subscriber.email, filters)
    if other is not None and other.id != subscriber.id:
        raise SubscriptionError("another of your subscriptions has exactly these filters; change that one")
    subscriber.frequency, subscriber.send_time = frequency, send_time
    subscriber.filters, subscriber.filters_key = stored, filters_key(stored)
    session.flush()
    return subscriber


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


def unsubscribe(session: Session, address: str, subscription_id: int | None = None) -> list[Subscriber]:
    """Unsubscribe every live subscription of an address, or only the one `subscription_id` names
    (SubscriptionError when the address has no such subscription); idempotent. Return the
    subscriptions it ended (none: it was not subscribed)."""
    email = normalise_email(address)
    found = subscriptions_of(session, email)
    if subscription_id is not None:
        found = [subscriber for subscriber in found if subscriber.id == subscription_id]
        if not found:
            raise SubscriptionError(f"{email} has no subscription {subscription_id}")
    ended = [subscriber for subscriber in found if subscriber.status != SubscriberStatus.UNSUBSCRIBED]
    for subscriber in ended:
        _end(subscriber)
    return ended


def _end(subscriber: Subscriber) -> None:
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.link_version += 1  # every manage and unsubscribe link issued before stops working


def restore(session: Session, address: str, now: datetime) -> Subscriber:
    """Restore a suppressed subscriber to confirmed (an operator's decision after a bounce or a
    refusal that was not the address's fault); digests resume with the changes from now on.
    SubscriptionError when the address is not suppressed."""
    email = address.strip().lower()
    found = subscriptions_of(session, email)
    if not found:
        raise SubscriptionError(f"{email} is not a subscriber")
    suppressed = [subscriber for subscriber in found if subscriber.status == SubscriberStatus.SUPPRESSED]
    if not suppressed:
        raise SubscriptionError(f"{email} is not suppressed (it is {found[0].status})")
    # A bounce suppressed every subscription of the address; restoring brings them all back.
    for subscriber in suppressed:
        _activate(session, subscriber, now)
    return suppressed[0]


def suppress(session: Session, subscriber_id: int) -> None:
    """Stop mailing an address the mail server rejected for good: every live subscription of it."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return
    for each in subscriptions_of(session, subscriber.email):
        if each.status in (SubscriberStatus.CONFIRMED, SubscriberStatus.PENDING):
            each.status = SubscriberStatus.SUPPRESSED


# ---------------------------------------------------------------------------------------------
# Signed links


STALE_LINK = "this link is not valid any more"


def make_token(
    secret: str, email: str, action: str, version: int = 0, subscription_id: int | None = None
) -> str:
    """Sign a link token for one action (confirm | unsubscribe | manage) on one subscription (its
    id; an address of several needs it) at its link version (see `check_link`)."""
    data: dict[str, Any] = {"e": email, "n": secrets.token_hex(8), "v": version}
    if subscription_id is not None:
        data["s"] = subscription_id
    return _serializer(secret, action).dumps(data)


def named_subscription(session: Session, email: str, subscription_id: int | None) -> Subscriber | None:
    """The subscription a token names: by its id (and address), or, for a token made before an
    address could hold several, the address's oldest subscription."""
    if subscription_id is not None:
        subscriber = session.get(Subscriber, subscription_id)
        return subscriber if subscriber is not None and subscriber.email == email else None
    found = subscriptions_of(session, email)
    return found[0] if found else None


def read_token(secret: str, token: str, action: str, max_age: int | None = None) -> tuple[str, str]:
    """Return (email, nonce) of a valid token for this action; SubscriptionError otherwise."""
    email, nonce, _ = read_link(secret, token, action, max_age)
    return email, nonce


def read_link(secret: str, token: str, action: str, max_age: int | None = None) -> tuple[str, str, int]:
    """Return (email, nonce, link version) of a validly signed token for this action (a token
    made before links had versions is version 0); SubscriptionError otherwise."""
    email, nonce, version, _ = read_subscription_link(secret, token, action, max_age)
    return email, nonce, version


def read_subscription_link(
    secret: str, token: str, action: str, max_age: int | None = None
) -> tuple[str, str, int, int | None]:
    """Return (email, nonce, link version, subscription id or None) of a validly signed token for
    this action; SubscriptionError otherwise."""
    try:
        data = _serializer(secret, action).loads(token, max_age=max_age)
    except SignatureExpired:
        raise SubscriptionError("this link has expired; subscribe again for a new one") from None
    except BadSignature:
        raise SubscriptionError("this link is not valid") from None
    try:
        version = int(data.get("v", 0))
        named = int(data["s"]) if data.get("s") is not None else None
    except (TypeError, ValueError):
        raise SubscriptionError("this link is not valid") from None
    return str(data["e"]), str(data["n"]), version, named


def check_link(session: Session, secret: str, token: str, action: str) -> Subscriber:
    """The subscriber a manage or unsubscribe link names, if the link is still good: signed for
    this action and made at the subscriber's current link version. Unsubscribing and subscribing
    again raise the version, so every link issued before stops working (SubscriptionError)."""
    email, _, version, named = read_subscription_link(secret, token, action)
    subscriber = named_subscription(session, email, named)
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
    email, nonce, _, named = read_subscription_link(secret, token, "confirm", max_age=CONFIRM_MAX_AGE)
    subscriber = named_subscription(session, email, named)
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
    """End the one subscription a current unsubscribe link names (no expiry; the address's other
    subscriptions go on); return its address. Once used, the link only says so again (mail
    clients repeat RFC 8058 POSTs)."""
    subscriber = check_link(session, secret, token, "unsubscribe")
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        _end(subscriber)
    return subscriber.email


# ---------------------------------------------------------------------------------------------
# Matching


def matches(filters: Filters, change: ChangeView, question: QuestionView | None) -> bool:
    """Say whether a change event passes a subscriber's filters: kind, House and UIN (or the
    thread's questions, once `with_thread` has found them) are the event's; department, member and
    keyword are read from its question's current view (a question with no current view matches
    none of them)."""
    if filters.kinds and change.kind not in filters.kinds:
        return False
    if filters.house and change.house != filters.house:
        return False
    if filters.thread and filters.thread_members:
        if (change.house, change.uin) not in filters.thread_members:
            return False
    elif filters.uin and change.uin != filters.uin:
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


THREAD_LIMIT = 200  # questions in one followed thread: past it, a thread is a whole topic


def with_thread(
    session: Session, filters: Filters, found: dict[tuple[str | None, str], frozenset[tuple[str, str]]]
) -> Filters:
    """The filters with their thread's questions found, when they follow a thread; `found`
    keeps the threads already found in this run, by (House, UIN)."""
    if not filters.thread or not filters.uin:
        return filters
    key = (filters.house, filters.uin)
    if key not in found:
        found[key] = thread_members(session, filters.uin, filters.house)
    return replace(filters, thread_members=found[key])


def thread_members(session: Session, uin: str, house: str | None) -> frozenset[tuple[str, str]]:
    """Every question linked to the question(s) of this UIN by follow-ups, either way and
    through any number of links (up to THREAD_LIMIT), as (House, UIN); the UIN itself always."""
    from monitor.queries.export import question_thread
    from monitor.queries.views import question_history

    # Why: with no House given, a UIN says it: Lords UINs are "HL…", Commons ones are numbers.
    chamber_of = House(house) if house else (House.LORDS if uin.startswith("HL") else House.COMMONS)
    members = {(chamber_of.value, uin)}
    frontier = list(members)
    while frontier and len(members) < THREAD_LIMIT:
        chamber, number = frontier.pop()
        for history in question_history(session, number, House(chamber)):
            threaded = question_thread(session, history)
            for linked, _ in (*threaded.follows, *threaded.followed_by):
                if (chamber, linked) not in members:
                    members.add((chamber, linked))
                    frontier.append((chamber, linked))
    return frozenset(members)
