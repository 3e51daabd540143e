"""The browse pages: recent changes through any filter a subscription can express (`/` and
`/changes`, paged), answering bodies (`/departments`, `/departments/<slug>`: what a body answered
this week and its changes), members (`/members`, `/members/<slug>`: what they asked and answered),
and the form on each that subscribes to what the page shows (`POST /subscribe`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import abort, make_response, render_template, request
from flask.typing import ResponseReturnValue

from monitor.changes.lifecycle import london_date
from monitor.notify.errors import SubscriptionError
from monitor.notify.filtered import filtered_changes
from monitor.notify.subscriptions import Filters, filter_labels, make_filters, normalise_email
from monitor.queries.browse import answered_since, bodies, find_named, member_questions, members
from monitor.queries.views import QuestionView
from monitor.web.base import ctx, transaction, web
from monitor.web.filtering import cursor_arg, filter_query, filters_from
from monitor.web.questions import index_row, long_date, question_href
from monitor.web.subscribing import check_origin, request_subscription
from storage.terms import ChangeKind, Frequency, House

PAGE_SIZE = 50


def query_of(filters: Filters, **extra: object) -> str:
    """The query string that gives these filters back (and `extra` parameters), for links."""
    more = urlencode([(key, str(value)) for key, value in extra.items() if value not in (None, "")])
    return "&".join(part for part in (filter_query(filters), more) if part)


def _moment(raw: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A date (its start, UTC; with `end`, the end of that day) or an ISO 8601 time (UTC unless it
    says otherwise) from a query string."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time()).replace(tzinfo=None)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description=f"{name}={raw!r} is not a date (YYYY-MM-DD) or an ISO 8601 time.")
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class FilterForm:
    """The values a filter form shows, and the choices of its selects."""

    house: str
    department: str
    member: str
    keyword: str
    uin: str
    kinds: tuple[str, ...]
    thread: bool
    since: str
    until: str


def _form(filters: Filters, since: str = "", until: str = "") -> FilterForm:
    return FilterForm(
        house=filters.house or "",
        department=filters.department or "",
        member=filters.member or "",
        keyword=filters.keyword or "",
        uin=filters.uin or "",
        kinds=filters.kinds,
        thread=filters.thread,
        since=since,
        until=until,
    )


def _choices() -> dict[str, Any]:
    return {
        "houses": [h.value for h in House],
        "kinds": [(k.value, k.value.replace("_", " ")) for k in ChangeKind],
        "frequencies": [f.value for f in Frequency],
    }


@web.get("/")
def index_page() -> ResponseReturnValue:
    """The front page: the latest changes to every question, newest first, with the filter form."""
    return _changes_page("/", "Recent changes")


@web.get("/changes")
def changes_page() -> ResponseReturnValue:
    """Changes through the query string's filters and dates, newest first, a page at a time."""
    return _changes_page("/changes", "Changes")


def _changes_page(path: str, title: str) -> ResponseReturnValue:
    filters = filters_from(request.args)
    since_raw, until_raw = request.args.get("since", ""), request.args.get("until", "")
    since = _moment(since_raw, "since")
    until = _moment(until_raw, "until", end=True)
    before = cursor_arg(request.args, "before")
    with transaction() as session:
        page = filtered_changes(session, filters, limit=PAGE_SIZE, before=before, since=since, until=until)
    older = None
    if page.more and page.position is not None:
        older = f"{path}?{query_of(filters, since=since_raw, until=until_raw, before=page.position)}"
    return render_template(
        "index.html",
        title=title,
        path=path,
        changes=[index_row(change) for change, _ in page.events],
        older=older,
        newest=f"{path}?{query_of(filters, since=since_raw, until=until_raw)}" if before else None,
        feed=_feed(filters),
        filtered=bool(filters.as_json() or since or until),
        described=filter_labels(filters.as_json()),
        form=_form(filters, since_raw, until_raw),
        subscribe=filters,
        **_choices(),
    )


@web.get("/departments")
def departments_page() -> ResponseReturnValue:
    """Every answering body, the most questions first."""
    with transaction() as session:
        named = bodies(session)
    return render_template("departments.html", title="Departments", named=named, kind="departments")


@web.get("/departments/<slug>")
def department_page(slug: str) -> ResponseReturnValue:
    """One answering body: what it answered in the last 7 days, and its latest changes."""
    with transaction() as session:
        body = find_named(bodies(session), slug)
        if body is None:
            abort(404, description=f"No answering body {slug!r} is stored.")
        today = london_date(ctx().clock())
        answered = answered_since(session, body.name, today - timedelta(days=7))
        filters = make_filters(department=body.name)
        page = filtered_changes(session, filters, limit=20)
    return render_template(
        "department.html",
        title=body.name,
        body=body,
        answered=[_question_row(view) for view in answered],
        changes=[index_row(change) for change, _ in page.events],
        more=f"/changes?{query_of(filters)}" if page.more else None,
        feed=_feed(filters),
        subscribe=filters,
        **_choices(),
    )


@web.get("/members")
def members_page() -> ResponseReturnValue:
    """Every member who asked or answered a stored question, the most questions first."""
    with transaction() as session:
        named = members(session)
    return render_template("departments.html", title="Members", named=named, kind="members")


@web.get("/members/<slug>")
def member_page(slug: str) -> ResponseReturnValue:
    """One member: the questions they asked and those they answered, the latest first."""
    with transaction() as session:
        member = find_named(members(session), slug)
        if member is None:
            abort(404, description=f"No member {slug!r} is stored.")
        asked = member_questions(session, member.name, "asking")
        answered = member_questions(session, member.name, "answering")
    filters = make_filters(member=member.name)
    return render_template(
        "member.html",
        title=member.name,
        member=member,
        asked=[_question_row(view) for view in asked],
        answered=[_question_row(view) for view in answered],
        changes_href=f"/changes?{query_of(filters)}",
        feed=_feed(filters),
        subscribe=filters,
        **_choices(),
    )


def _feed(filters: Filters) -> str:
    """The Atom feed of the changes these filters give (monitor.web.feeds)."""
    query = filter_query(filters)
    return f"/feeds/changes.atom?{query}" if query else "/feeds/changes.atom"


@dataclass(frozen=True)
class QuestionRow:
    """A question in a list: its link, heading and where it stands."""

    href: str
    label: str  # "Commons 7926"
    heading: str
    tabled: str
    answered: str | None


def _question_row(view: QuestionView) -> QuestionRow:
    return QuestionRow(
        href=question_href(view.house.value, view.uin, view.date_tabled),
        label=f"{view.house.value} {view.uin}",
        heading=view.heading or (view.question_text or "")[:120],
        tabled=long_date(view.date_tabled),
        answered=long_date(view.date_answered) if view.answered and view.date_answered else None,
    )


@web.post("/subscribe")
def subscribe_to_view() -> ResponseReturnValue:
    """Subscribe to what a page shows: its filters from the form, double opt-in (a pending
    subscription and its confirmation mail; at most one such mail an hour to one address)."""
    check_origin(request.headers, ctx().base_url)
    filters = filters_from(request.form)
    frequency = request.form.get("frequency") or Frequency.DAILY
    if frequency not in {f.value for f in Frequency}:
        abort(400, description=f"frequency={frequency!r} is not one of daily, weekly, immediate.")
    back = request.form.get("back") or "/"
    if not back.startswith("/") or back.startswith("//"):
        back = "/"  # only this site's own pages
    try:
        email = normalise_email((request.form.get("email") or "").strip())
    except SubscriptionError as error:
        page = render_template("subscribed.html", title="Subscribe", error=str(error), back=back)
        return page, 400
    note = request_subscription(email, filters, frequency)
    page = render_template(
        "subscribed.html",
        title="Check your mail to confirm",
        email=email,
        note=note,
        described=filter_labels(filters.as_json()),
        back=back,
        error=None,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the page shows an address
    return response
