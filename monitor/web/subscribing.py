"""The subscriber's pages the mails link to: confirm a subscription, unsubscribe (RFC 8058
one-click) and manage settings (the signed link tokens are the only authority), and the
question page's "follow this question" form (double opt-in: it only ever sends a confirmation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote, urlsplit

from flask import Response, abort, make_response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers, MultiDict

from monitor.notify.digest import RESEND_EVERY, send_confirmation
from monitor.notify.errors import SubscriptionError
from monitor.notify.subscriptions import (
    STALE_LINK,
    Filters,
    check_confirmation,
    check_link,
    confirm,
    filter_labels,
    find_subscription,
    make_filters,
    make_token,
    named_subscription,
    normalise_email,
    read_subscription_link,
    subscribe,
    subscriptions_of,
    unseen_uin_note,
    unsubscribe_by_token,
    update_settings,
)
from monitor.web.base import ctx, transaction, web
from storage.models import OutboxMail, Subscriber
from storage.terms import ChangeKind, Frequency, House, MailKind, SubscriberStatus

# Why a manage link of an inactive subscription changes nothing: saving would revive it.
INACTIVE: dict[str, str] = {
    SubscriberStatus.PENDING: (
        "this subscription is not confirmed yet; use the link in the confirmation mail first"
    ),
    SubscriberStatus.UNSUBSCRIBED: "this subscription is unsubscribed; subscribe again to get its digests",
    SubscriberStatus.SUPPRESSED: (
        "mail to this address bounced, so digests have stopped; ask the operator to re-add it"
    ),
}


@dataclass(frozen=True)
class Plan:
    """What a subscriber will get, as the pages show it."""

    email: str
    frequency: str
    send_time: str
    filters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SettingsForm:
    """The manage form's values, as typed or as stored."""

    frequency: str
    send_time: str
    house: str = ""
    department: str = ""
    member: str = ""
    keyword: str = ""
    uin: str = ""
    kinds: tuple[str, ...] = ()
    thread: bool = False


@web.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """Show the confirm button for a link that can still be used; a GET changes nothing, since
    mail scanners and link previews open links that nobody clicked."""
    with transaction() as session:
        subscriber, _ = check_confirmation(session, ctx().secret, token)
        plan = describe(subscriber)
    # The page says what is being confirmed: the address may hold other subscriptions.
    return render_template("confirm.html", email=plan.email, plan=plan, token=token)


@web.post("/confirm/<token>")
def confirm_now(token: str) -> ResponseReturnValue:
    """Confirm a subscription (once, within its week) and say what it will bring."""
    context = ctx()
    with transaction() as session:
        subscriber = confirm(session, context.secret, token, context.clock())
        plan, version, named = describe(subscriber), subscriber.link_version, subscriber.id
    token = make_token(context.secret, plan.email, "manage", version, named)
    manage_url = f"{context.base_url}/manage/{token}"
    return render_template("confirmed.html", plan=plan, manage_url=manage_url)


@web.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show the unsubscribe button; a GET changes nothing, as mail scanners follow links."""
    with transaction() as session:
        plan = describe(check_link(session, ctx().secret, token, "unsubscribe"))
    return render_template("unsubscribe.html", email=plan.email, plan=plan, token=token)


@web.post("/unsubscribe/<token>")
def unsubscribe_now(token: str) -> ResponseReturnValue:
    """Unsubscribe: RFC 8058 one-click from a mail client or the page's button; idempotent."""
    context = ctx()
    with transaction() as session:
        email = unsubscribe_by_token(session, context.secret, token)
        others = [
            describe(s) for s in subscriptions_of(session, email) if s.status == SubscriberStatus.CONFIRMED
        ]
    return render_template("unsubscribed.html", email=email, others=others)


@web.get("/manage/<token>")
def manage_page(token: str) -> ResponseReturnValue:
    """Show the settings form of the subscription a manage link names, with links to the
    address's other subscriptions."""
    with transaction() as session:
        subscriber = current_manager(session, ctx().secret, token)
        form, email, others = form_of(subscriber), subscriber.email, _others(session, subscriber)
        remove = _remove_token(subscriber)
    return _manage_form(token, remove, email, form, others)


@web.post("/manage/<token>")
def manage_save(token: str) -> ResponseReturnValue:
    """Save the settings form; a bad value re-shows the form with a one-line message (400)."""
    context = ctx()
    check_origin(request.headers, context.base_url)
    with transaction() as session:
        subscriber = current_manager(session, context.secret, token)
        named, email, others = subscriber.id, subscriber.email, _others(session, subscriber)
        remove = _remove_token(subscriber)
    typed = parse_form(request.form)
    try:
        with transaction() as session:
            saved = form_of(save_settings(session, named, typed, context.clock()))
    except SubscriptionError as error:
        return _manage_form(token, remove, email, typed, others, error=str(error)), 400
    return _manage_form(token, remove, email, saved, others, saved=True)


def _remove_token(subscriber: Subscriber) -> str:
    # The page's remove button posts this subscription's own unsubscribe link.
    return make_token(ctx().secret, subscriber.email, "unsubscribe", subscriber.link_version, subscriber.id)


@dataclass(frozen=True)
class OtherSubscription:
    """Another live subscription of the same address, as the manage page links to it."""

    plan: Plan
    manage_url: str


def _others(session: Session, subscriber: Subscriber) -> list[OtherSubscription]:
    # Whoever holds a manage link holds the mailbox every subscription of it mails, so the page
    # may link to the others; each link names its own subscription.
    context = ctx()
    return [
        OtherSubscription(
            describe(other),
            "/manage/" + make_token(context.secret, other.email, "manage", other.link_version, other.id),
        )
        for other in subscriptions_of(session, subscriber.email)
        if other.id != subscriber.id and other.status == SubscriberStatus.CONFIRMED
    ]


def _manage_form(
    token: str,
    remove: str,
    email: str,
    form: SettingsForm,
    others: list[OtherSubscription],
    *,
    error: str | None = None,
    saved: bool = False,
) -> str:
    return render_template(
        "manage.html",
        token=token,
        email=email,
        form=form,
        others=others,
        remove_token=remove,
        error=error,
        saved=saved,
        frequencies=[frequency.value for frequency in Frequency],
        houses=[house.value for house in House],
        kinds=[kind.value for kind in ChangeKind],
    )


def describe(subscriber: Subscriber) -> Plan:
    """Say what a subscriber will get: how often, when, and which filters."""
    return Plan(
        subscriber.email, subscriber.frequency, subscriber.send_time, filter_labels(subscriber.filters)
    )


def current_manager(session: Session, secret: str, token: str) -> Subscriber:
    """The subscription a manage link names, if it is confirmed and the link is current (made at
    its link version); an inactive subscription says so, a stale link says it is not valid any
    more."""
    email, _, version, named = read_subscription_link(secret, token, "manage")
    subscriber = named_subscription(session, email, named)
    if subscriber is None:
        raise SubscriptionError(STALE_LINK)
    if subscriber.status != SubscriberStatus.CONFIRMED:
        raise SubscriptionError(INACTIVE.get(subscriber.status, "this subscription is not active"))
    if subscriber.link_version != version:
        raise SubscriptionError(STALE_LINK)
    return subscriber


def check_origin(headers: Mapping[str, str] | Headers, base_url: str) -> None:
    """Refuse (403) a form POST whose Origin, or else Referer, names another site than
    PQWATCH_BASE_URL's origin; a request with neither is let through (some browsers and proxies
    send none), and the link's token is what authorises it."""
    expected = _origin(base_url)
    sent = headers.get("Origin") or headers.get("Referer")
    if not sent:
        return
    if sent == "null" or _origin(sent) != expected:
        abort(403, description="This form was sent from another site, so nothing was changed.")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port or default)


def save_settings(session: Session, subscription_id: int, form: SettingsForm, now: datetime) -> Subscriber:
    """Apply a manage form to one confirmed subscription; SubscriptionError names a bad value
    (or filters another subscription of the address already has)."""
    subscriber = session.get(Subscriber, subscription_id)
    if subscriber is None:
        raise SubscriptionError(STALE_LINK)
    if subscriber.status != SubscriberStatus.CONFIRMED:
        raise SubscriptionError(INACTIVE.get(subscriber.status, "this subscription is not active"))
    filters = make_filters(
        house=form.house or None,
        department=form.department,
        member=form.member,
        keyword=form.keyword,
        uin=form.uin,
        kinds=form.kinds,
        thread=form.thread,
    )
    # The subscription is confirmed already, so this only stores the new settings.
    return update_settings(
        session, subscriber, frequency=form.frequency, send_time=form.send_time, filters=filters
    )


def parse_form(form: MultiDict[str, str]) -> SettingsForm:
    """Read the manage form as typed (checked later, by the subscription functions)."""

    def value(name: str) -> str:
        return (form.get(name) or "").strip()

    return SettingsForm(
        frequency=value("frequency"),
        send_time=value("send_time"),
        house=value("house"),
        department=value("department"),
        member=value("member"),
        keyword=value("keyword"),
        uin=value("uin"),
        kinds=tuple(form.getlist("kinds")),
        thread=value("thread") == "yes",
    )


def form_of(subscriber: Subscriber) -> SettingsForm:
    """The manage form filled with a subscriber's stored settings."""
    filters = Filters.from_json(subscriber.filters)
    return SettingsForm(
        frequency=subscriber.frequency,
        send_time=subscriber.send_time,
        house=filters.house or "",
        department=filters.department or "",
        member=filters.member or "",
        keyword=filters.keyword or "",
        uin=filters.uin or "",
        kinds=filters.kinds,
        thread=filters.thread,
    )


@web.post("/questions/<house>/<uin>/follow")
def follow_question(house: str, uin: str) -> ResponseReturnValue:
    """Follow one question: a pending subscription filtered to its House and UIN, and its
    confirmation mail. The page says the same whatever the address already had (no leak of who
    subscribes); a pending subscription's mail goes again at most once an hour."""
    context = ctx()
    check_origin(request.headers, context.base_url)
    chamber = next((h.value for h in House if h.value.lower() == house.lower()), None)
    if chamber is None:
        abort(404, description=f"There is no House {house!r}: it is Commons or Lords.")
    tabled = (request.form.get("tabled") or "").strip()
    filters = make_filters(house=chamber, uin=uin, thread=request.form.get("thread") == "yes")
    shown = filters.uin or uin
    if tabled and not _is_date(tabled):
        return _follow_page(chamber, shown, "", error=f"{tabled!r} is not a date (YYYY-MM-DD)"), 400
    try:
        email = normalise_email((request.form.get("email") or "").strip())
    except SubscriptionError as error:
        return _follow_page(chamber, shown, tabled, error=str(error)), 400
    note = request_subscription(email, filters)
    return _follow_page(chamber, shown, tabled, email=email, note=note)


def request_subscription(email: str, filters: Filters, frequency: str | None = None) -> str | None:
    """What a form asking to subscribe does: store a pending subscription (unless the address
    has one with these filters) and mail its confirmation, at most once an hour to one address
    whatever the filters; return the note for the page (a UIN not stored yet), or None.

    The page must say the same whatever happened: who subscribes to what never leaks."""
    context = ctx()
    now = context.clock()
    send: tuple[int, bool] | None = None  # (subscription, whether it is a resend)
    with transaction() as session:
        note = unseen_uin_note(session, filters)
        existing = find_subscription(session, email, filters)
        if existing is None or existing.status == SubscriberStatus.UNSUBSCRIBED:
            try:
                subscriber, needs = subscribe(
                    session, email, frequency=frequency or Frequency.DAILY, filters=filters, now=now
                )
                send = (subscriber.id, False) if needs else None
            except SubscriptionError:
                pass  # the address bounced for good: nothing is sent, and the page is the same
        elif existing.status == SubscriberStatus.PENDING and existing.created_at <= now - RESEND_EVERY:
            # Asked again: a form anyone can post mails an address at most once an hour.
            send = (existing.id, True)
        # Confirmed already, or suppressed: nothing to send, and the page is the same.
        if send is not None and confirmation_sent_recently(session, email, now):
            send = None  # the address had a confirmation this hour: it stays pending, unmailed
    if send is not None and context.mailer is not None:
        send_confirmation(context.sessions, context.mailer, send[0], now, resend=send[1])
    return note


def confirmation_sent_recently(session: Session, email: str, now: datetime) -> bool:
    """Whether any confirmation mail went (or is going) to the address within RESEND_EVERY:
    one form posted with many filters must not mail an address many times."""
    return (
        session.scalar(
            select(OutboxMail.id)
            .join(Subscriber, Subscriber.id == OutboxMail.subscriber_id)
            .where(
                Subscriber.email == email,
                OutboxMail.kind == MailKind.CONFIRM,
                OutboxMail.created_at > now - RESEND_EVERY,
            )
            .limit(1)
        )
        is not None
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _follow_page(
    house: str,
    uin: str,
    tabled: str,
    *,
    email: str | None = None,
    note: str | None = None,
    error: str | None = None,
) -> Response:
    page = render_template(
        "follow.html",
        house=house,
        uin=uin,
        email=email,
        note=note,
        error=error,
        question_url=f"/questions/{quote(house.lower())}/{quote(uin)}"
        + (f"?tabled={tabled}" if tabled else ""),
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the page shows an address
    return response
