"""The subscriber's pages the mails link to: confirm a subscription, unsubscribe (RFC 8058
one-click) and manage settings. The signed link tokens are the only authority."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers, MultiDict

from monitor.notify.errors import SubscriptionError
from monitor.notify.subscriptions import (
    STALE_LINK,
    Filters,
    check_confirmation,
    check_link,
    confirm,
    make_filters,
    make_token,
    read_link,
    subscribe,
    unsubscribe_by_token,
)
from monitor.web.base import ctx, transaction, web
from storage.models import Subscriber
from storage.terms import ChangeKind, Frequency, House, SubscriberStatus

FILTER_LABELS = {
    "house": "House",
    "department": "Department",
    "member": "Member",
    "keyword": "Keyword",
    "uin": "UIN",
    "kinds": "Changes",
}


# Why a manage link of an inactive address changes nothing: saving would revive the subscription.
INACTIVE: dict[str, str] = {
    SubscriberStatus.PENDING: (
        "this subscription is not confirmed yet; use the link in the confirmation mail first"
    ),
    SubscriberStatus.UNSUBSCRIBED: "this address is unsubscribed; subscribe again to get digests",
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


@web.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """Show the confirm button for a link that can still be used; a GET changes nothing, since
    mail scanners and link previews open links that nobody clicked."""
    with transaction() as session:
        subscriber, _ = check_confirmation(session, ctx().secret, token)
    return render_template("confirm.html", email=subscriber.email, token=token)


@web.post("/confirm/<token>")
def confirm_now(token: str) -> ResponseReturnValue:
    """Confirm a subscription (once, within its week) and say what it will bring."""
    context = ctx()
    with transaction() as session:
        subscriber = confirm(session, context.secret, token, context.clock())
        plan, version = describe(subscriber), subscriber.link_version
    manage_url = f"{context.base_url}/manage/{make_token(context.secret, plan.email, 'manage', version)}"
    return render_template("confirmed.html", plan=plan, manage_url=manage_url)


@web.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show the unsubscribe button; a GET changes nothing, as mail scanners follow links."""
    with transaction() as session:
        email = check_link(session, ctx().secret, token, "unsubscribe").email
    return render_template("unsubscribe.html", email=email, token=token)


@web.post("/unsubscribe/<token>")
def unsubscribe_now(token: str) -> ResponseReturnValue:
    """Unsubscribe: RFC 8058 one-click from a mail client or the page's button; idempotent."""
    with transaction() as session:
        email = unsubscribe_by_token(session, ctx().secret, token)
    return render_template("unsubscribed.html", email=email)


@web.get("/manage/<token>")
def manage_page(token: str) -> ResponseReturnValue:
    """Show the settings form of the address a manage link names."""
    with transaction() as session:
        email = current_manager(session, ctx().secret, token)
        form = form_of(active_subscriber(session, email))
    return _manage_form(token, email, form)


@web.post("/manage/<token>")
def manage_save(token: str) -> ResponseReturnValue:
    """Save the settings form; a bad value re-shows the form with a one-line message (400)."""
    context = ctx()
    check_origin(request.headers, context.base_url)
    with transaction() as session:
        email = current_manager(session, context.secret, token)
    typed = parse_form(request.form)
    try:
        with transaction() as session:
            saved = form_of(save_settings(session, email, typed, context.clock()))
    except SubscriptionError as error:
        return _manage_form(token, email, typed, error=str(error)), 400
    return _manage_form(token, email, saved, saved=True)


def _manage_form(
    token: str, email: str, form: SettingsForm, *, error: str | None = None, saved: bool = False
) -> str:
    return render_template(
        "manage.html",
        token=token,
        email=email,
        form=form,
        error=error,
        saved=saved,
        frequencies=[frequency.value for frequency in Frequency],
        houses=[house.value for house in House],
        kinds=[kind.value for kind in ChangeKind],
    )


def describe(subscriber: Subscriber) -> Plan:
    """Say what a subscriber will get: how often, when, and which filters."""
    stored = Filters.from_json(subscriber.filters).as_json()
    filters = tuple(
        (FILTER_LABELS[key], ", ".join(value) if isinstance(value, list) else str(value))
        for key, value in stored.items()
    )
    return Plan(subscriber.email, subscriber.frequency, subscriber.send_time, filters)


def current_manager(session: Session, secret: str, token: str) -> str:
    """The address a manage link names, if the link is current (made at the subscriber's link
    version); an inactive subscription says so, a stale link says it is not valid any more."""
    email, _, version = read_link(secret, token, "manage")
    subscriber = active_subscriber(session, email)
    if subscriber.link_version != version:
        raise SubscriptionError(STALE_LINK)
    return email


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


def active_subscriber(session: Session, email: str) -> Subscriber:
    """Return the confirmed subscriber with this address; SubscriptionError says why not."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        raise SubscriptionError("this link is not valid any more")
    if subscriber.status != SubscriberStatus.CONFIRMED:
        raise SubscriptionError(INACTIVE.get(subscriber.status, "this subscription is not active"))
    return subscriber


def save_settings(session: Session, email: str, form: SettingsForm, now: datetime) -> Subscriber:
    """Apply a manage form to a confirmed subscriber; SubscriptionError names a bad value."""
    active_subscriber(session, email)
    filters = make_filters(
        house=form.house or None,
        department=form.department,
        member=form.member,
        keyword=form.keyword,
        uin=form.uin,
        kinds=form.kinds,
    )
    # The subscriber is confirmed already, so this only stores the new settings.
    subscriber, _ = subscribe(
        session,
        email,
        frequency=form.frequency,
        send_time=form.send_time,
        filters=filters,
        confirmed=True,
        now=now,
    )
    return subscriber


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
    )
