"""The web pages the mails link to: confirm a subscription, unsubscribe (RFC 8058 one-click),
manage settings, a question's version history and a health check. A Flask app served by waitress;
the signed link tokens are the only authority, and every page is an autoescaped template."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import waitress
from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from jinja2 import StrictUndefined
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import HTTPException

from monitor.changes.diff import Diff, word_diff
from monitor.config import Settings
from monitor.notify.digest import ensure_secret
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
from monitor.queries.views import QuestionHistory, VersionView, iso, question_history, utc_text
from storage.db import open_database
from storage.models import Subscriber
from storage.terms import ChangeKind, Frequency, House, SubscriberStatus, VersionStatus, utcnow

log = logging.getLogger("pqwatch.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Why: the CSP above has no frame-ancestors, so this keeps the unsubscribe button unframeable.
    "X-Frame-Options": "DENY",
}
MAX_FORM_BYTES = 64 * 1024  # the manage form is a few hundred bytes
FILTER_LABELS = {
    "house": "House",
    "department": "Department",
    "member": "Member",
    "keyword": "Keyword",
    "uin": "UIN",
    "kinds": "Changes",
}
TEXT_FIELDS = {"question_text": "Question", "answer_text": "Answer"}
DETAIL_FIELDS = {
    "heading": "Heading",
    "asking_member": "Asked by",
    "answering_member": "Answered by",
    "answering_body": "Department",
    "date_answered": "Date answered",
    "answered_at": "Answered at",
    "is_holding": "Holding answer",
    "date_holding_answer": "Holding answer given",
    "is_correction": "Corrected",
    "date_corrected": "Date corrected",
    "correcting_member": "Corrected by",
    "original_answer_text": "Answer before correction",
    "is_withdrawn": "Withdrawn",
    "grouped_with": "Grouped with",
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

web = Blueprint("web", __name__)


@dataclass(frozen=True)
class WebContext:
    """What the views need: the database, the key that signs links, the public URL, the clock."""

    sessions: sessionmaker[Session]
    secret: str
    base_url: str
    clock: Callable[[], datetime]


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


@dataclass(frozen=True)
class VersionRow:
    """One version of a question on its page, with what changed since the source's previous one."""

    seq: int
    source_kind: str
    source_url: str
    source_href: str | None
    observed_at: str
    status: str
    texts: tuple[tuple[str, str | None, Diff | None], ...]  # (label, text, diff or None)
    details: tuple[tuple[str, str], ...]
    changes: tuple[tuple[str, str, str], ...]  # (label, old, new) of the other fields
    attachments: tuple[tuple[str, str | None], ...]  # (title, safe href)
    previous_seq: int | None


@dataclass(frozen=True)
class QuestionPage:
    """One question on its page: who asked it where, and its versions as rows, newest first."""

    house: str
    uin: str
    date_tabled: str | None  # YYYY-MM-DD
    rows: tuple[VersionRow, ...]


# ---------------------------------------------------------------------------------------------
# The app


def create_app(
    sessions: sessionmaker[Session],
    secret_key: str,
    base_url: str,
    clock: Callable[[], datetime] = utcnow,
) -> Flask:
    """Build the web app over a session factory; links are checked against `secret_key`."""
    if not secret_key:
        raise ValueError("the web app needs the secret key that signs the mails' links")
    app = Flask(__name__, template_folder="templates", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_FORM_BYTES
    # Why: every stored text is scraped, so escape whatever a template's name ends with.
    app.jinja_env.autoescape = True
    app.jinja_env.undefined = StrictUndefined
    app.extensions["pqwatch"] = WebContext(sessions, secret_key, base_url.rstrip("/"), clock)
    app.register_blueprint(web)
    app.register_error_handler(SubscriptionError, _bad_link)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    app.after_request(_add_security_headers)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the web app with waitress until interrupted."""
    sessions = open_database(settings.db_url)
    secret = ensure_secret(sessions, settings.secret_key)
    app = create_app(sessions, secret, settings.base_url)
    log.info("serving %s on http://%s:%d", settings.base_url, host, port)
    server = create_server(app, host, port)
    try:
        server.run()
    finally:
        server.close()


# Why: idle or half-open connections must not starve the server. An idle channel is closed after
# `channel_timeout` seconds (checked every `cleanup_interval`), at most `connection_limit` are
# open at once (past it the rest wait in the kernel's backlog until one closes), and poll() has no
# select()'s limit of 1024 descriptors.
SERVER_OPTIONS: dict[str, Any] = {
    "channel_timeout": 20,
    "cleanup_interval": 5,
    "connection_limit": 200,
    "asyncore_use_poll": True,
    "ident": "pqwatch",
}


def create_server(app: Flask, host: str, port: int, **overrides: object) -> Any:
    """A waitress server for the app with the connection bounds of SERVER_OPTIONS (overridable)."""
    options = {**SERVER_OPTIONS, **overrides}
    return waitress.create_server(app, host=host, port=port, **options)


def _ctx() -> WebContext:
    context: WebContext = current_app.extensions["pqwatch"]
    return context


@contextmanager
def _transaction() -> Iterator[Session]:
    """The request's database session: committed when the block ends, rolled back on error."""
    with _ctx().sessions.begin() as session:
        yield session


def _add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint == "web.manage_page":
        # Why: under "no-referrer" a browser sends "Origin: null" with the form's POST, which the
        # origin check must refuse; "same-origin" sends the real origin, and the page's address
        # (its token) still never leaves the site.
        response.headers["Referrer-Policy"] = "same-origin"
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"  # pages reached by a token show an address
    return response


def _bad_link(error: SubscriptionError) -> ResponseReturnValue:
    return render_template("message.html", title="This link does not work", message=str(error)), 400


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    page = render_template("message.html", title=f"{code} {error.name}", message=error.description or "")
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return page, code, headers


def _internal_error(error: Exception) -> ResponseReturnValue:
    log.exception("error serving %s %s", request.method, request.path)
    message = "Something went wrong on our side; nothing was changed. Please try again later."
    return render_template("message.html", title="Server error", message=message), 500


# ---------------------------------------------------------------------------------------------
# Routes


@web.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Say "ok" when the database answers."""
    with _transaction() as session:
        session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@web.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """Show the confirm button for a link that can still be used; a GET changes nothing, since
    mail scanners and link previews open links that nobody clicked."""
    with _transaction() as session:
        subscriber, _ = check_confirmation(session, _ctx().secret, token)
    return render_template("confirm.html", email=subscriber.email, token=token)


@web.post("/confirm/<token>")
def confirm_now(token: str) -> ResponseReturnValue:
    """Confirm a subscription (once, within its week) and say what it will bring."""
    context = _ctx()
    with _transaction() as session:
        subscriber = confirm(session, context.secret, token, context.clock())
        plan, version = describe(subscriber), subscriber.link_version
    manage_url = f"{context.base_url}/manage/{make_token(context.secret, plan.email, 'manage', version)}"
    return render_template("confirmed.html", plan=plan, manage_url=manage_url)


@web.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show the unsubscribe button; a GET changes nothing, as mail scanners follow links."""
    with _transaction() as session:
        email = check_link(session, _ctx().secret, token, "unsubscribe").email
    return render_template("unsubscribe.html", email=email, token=token)


@web.post("/unsubscribe/<token>")
def unsubscribe_now(token: str) -> ResponseReturnValue:
    """Unsubscribe: RFC 8058 one-click from a mail client or the page's button; idempotent."""
    with _transaction() as session:
        email = unsubscribe_by_token(session, _ctx().secret, token)
    return render_template("unsubscribed.html", email=email)


@web.get("/manage/<token>")
def manage_page(token: str) -> ResponseReturnValue:
    """Show the settings form of the address a manage link names."""
    with _transaction() as session:
        email = current_manager(session, _ctx().secret, token)
        form = form_of(active_subscriber(session, email))
    return _manage_form(token, email, form)


@web.post("/manage/<token>")
def manage_save(token: str) -> ResponseReturnValue:
    """Save the settings form; a bad value re-shows the form with a one-line message (400)."""
    context = _ctx()
    check_origin(request.headers, context.base_url)
    with _transaction() as session:
        email = current_manager(session, context.secret, token)
    typed = parse_form(request.form)
    try:
        with _transaction() as session:
            saved = form_of(save_settings(session, email, typed, context.clock()))
    except SubscriptionError as error:
        return _manage_form(token, email, typed, error=str(error)), 400
    return _manage_form(token, email, saved, saved=True)


@web.get("/questions/<house>/<uin>")
def question_page(house: str, uin: str) -> ResponseReturnValue:
    """A question's versions from every source, newest first, with word diffs within a source."""
    chamber = {name.lower(): name for name in House}.get(house.lower())
    if chamber is None:
        abort(404, description=f"There is no house called {house!r}.")
    tabled = _tabled_arg(request.args.get("tabled"))
    with _transaction() as session:
        history = question_history(session, uin, chamber)
    found = [q for q in history if tabled is None or q.date_tabled == tabled]
    if not found:
        abort(404, description=f"No written question {uin} of the {chamber.value} is stored.")
    pages = [question_page_of(question) for question in found]
    return render_template("question.html", questions=pages, house=chamber.value, uin=found[0].uin)


def question_page_of(question: QuestionHistory) -> QuestionPage:
    """A question as its page shows it."""
    return QuestionPage(
        house=question.house.value,
        uin=question.uin,
        date_tabled=iso(question.date_tabled),
        rows=tuple(version_rows(question.versions)),
    )


def _tabled_arg(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"tabled={raw!r} is not a date (YYYY-MM-DD).")


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


# ---------------------------------------------------------------------------------------------
# Subscribers, as the pages show and change them


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


# ---------------------------------------------------------------------------------------------
# A question's page


def version_rows(versions: Iterable[VersionView]) -> list[VersionRow]:
    """Turn `question_history` versions (oldest first) into page rows, newest first, each
    compared with the previous present version of the same source."""
    previous: dict[str, VersionView] = {}
    rows = []
    for version in versions:
        before = previous.get(version.source_url)
        rows.append(_row(version, before))
        if version.status == VersionStatus.PRESENT:
            previous[version.source_url] = version
    return rows[::-1]


def _row(version: VersionView, before: VersionView | None) -> VersionRow:
    present = version.status == VersionStatus.PRESENT
    # A removed version repeats no content: it shows nothing and compares with nothing.
    compare_with = before if present else None
    return VersionRow(
        seq=version.seq,
        source_kind=version.source_kind.value,
        source_url=version.source_url,
        source_href=safe_href(version.source_url),
        observed_at=utc_text(version.observed_at),
        status=version.status.value,
        texts=_texts(version, compare_with) if present else (),
        details=_details(version) if present else (),
        changes=_changes(version, compare_with),
        attachments=_attachments(version),
        previous_seq=compare_with.seq if compare_with else None,
    )


def _texts(
    version: VersionView, before: VersionView | None
) -> tuple[tuple[str, str | None, Diff | None], ...]:
    return tuple(
        (
            label,
            getattr(version, name),
            _diff(getattr(before, name), getattr(version, name)) if before else None,
        )
        for name, label in TEXT_FIELDS.items()
    )


def _diff(old: str | None, new: str | None) -> Diff | None:
    return word_diff(old, new) if old != new else None


def _details(version: VersionView) -> tuple[tuple[str, str], ...]:
    return tuple(
        (label, _show(getattr(version, name)))
        for name, label in DETAIL_FIELDS.items()
        if getattr(version, name)
    )


def _changes(version: VersionView, before: VersionView | None) -> tuple[tuple[str, str, str], ...]:
    if before is None:
        return ()
    return tuple(
        (label, _show(getattr(before, name)), _show(getattr(version, name)))
        for name, label in DETAIL_FIELDS.items()
        if _plain(getattr(before, name)) != _plain(getattr(version, name))
    )


def _attachments(version: VersionView) -> tuple[tuple[str, str | None], ...]:
    return tuple(
        (str(item.title or item.url or "attachment"), safe_href(item.url))
        for item in version.attachments or ()
    )


def _plain(value: object) -> object:
    """A field's value as the contract prints it (dates and times in ISO form), to compare."""
    return iso(value) if isinstance(value, date) else value


def _show(value: object) -> str:
    if value is None or value == "" or value == ():
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return iso(value) or "—"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def safe_href(url: object) -> str | None:
    """Return a scraped URL if it is safe to link to (http or https), else None."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None
