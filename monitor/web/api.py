"""The read-only JSON API, version 1, described by monitor.web.openapi (served at
/api/v1/openapi.json):

    GET /api/v1/questions                  current views, by question id (house, department,
                                           tabled_from, tabled_to; cursor, limit)
    GET /api/v1/questions/<house>/<uin>    each stored question of that UIN (or the one of
                                           `tabled`): its current view, thread and versions
    GET /api/v1/changes                    change events oldest first from the `since` cursor,
                                           through the filters of monitor.web.filtering (events
                                           held as a mass change are left out until released,
                                           as from digests and feeds)

Every list answers `{"items": [...], "next_cursor": ..., "has_more": ...}`. Items carry the field
names of `pqwatch export --format json` (a question) and `pqwatch changes --format json` (an
event), plus `page_url`, the question's page. Cursors are ids, so paging is a keyset read: a page
of 500 questions reads 500 rows by primary key and builds only their views, however many are
stored, and looks through SCAN_WINDOW ids at most (`question_page`), so a rare filter costs no
more. A list item's `follows` and `followed_by` are null (finding a thread searches other
questions' texts); the question's own URL has them.

Errors are RFC 9457 problem details (`application/problem+json`), made by the app's error
handlers through `problem_response`. JSON is written with `<`, `>` and `&` as \\u escapes, so a
scraped text never reads as markup even to a client that sniffs. CORS (`add_cors_headers`):
any origin may GET the API and the feeds, with a preflight answer, never with credentials."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Response, abort, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.changes.lifecycle import london_date
from monitor.notify.filtered import filtered_changes
from monitor.queries.export import question_thread
from monitor.queries.views import ChangeView, QuestionView, current_views, question_history
from monitor.web.base import ctx, transaction, web
from monitor.web.filtering import (
    CURSOR_MAX,
    cursor_arg,
    date_arg,
    filters_from,
    house_arg,
    limit_arg,
    text_arg,
)
from monitor.web.questions import current_view, question_href
from storage.models import Question, Version
from storage.terms import House, canonical_uin

API_PREFIX = "/api/v1/"
CORS_PREFIXES = (API_PREFIX, "/feeds/")
DEFAULT_LIMIT = 100
SCAN_WINDOW = 20_000  # question ids one page of /api/v1/questions looks through at most
MAX_LIMIT = 500
PROBLEM_TYPE = "application/problem+json"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    # Why If-None-Match: a browser's conditional GET of a feed sends it, and it needs a preflight.
    "Access-Control-Allow-Headers": "If-None-Match",
    "Access-Control-Expose-Headers": "ETag",
    "Access-Control-Max-Age": "86400",
}


@web.get("/api/v1/questions")
def api_questions() -> ResponseReturnValue:
    """Questions' current views in order of their id, after the `cursor` id, at most `limit`."""
    args = request.args
    house = house_arg(args)
    department = text_arg(args, "department").strip() or None
    tabled_from, tabled_to = date_arg(args, "tabled_from"), date_arg(args, "tabled_to")
    cursor = cursor_arg(args, "cursor")
    limit = limit_arg(args, DEFAULT_LIMIT, MAX_LIMIT)
    today = london_date(ctx().clock())
    with transaction() as session:
        views, position, more = question_page(
            session,
            house=house,
            department=department,
            tabled_from=tabled_from,
            tabled_to=tabled_to,
            after=cursor,
            limit=limit,
        )
        items = [question_json(view, today, threaded=False) for view in views]
    return json_response({"items": items, "next_cursor": position, "has_more": more})


def question_page(
    session: Session,
    *,
    house: str | None,
    department: str | None,
    tabled_from: date | None,
    tabled_to: date | None,
    after: int | None,
    limit: int,
) -> tuple[list[QuestionView], int | None, bool]:
    """At most `limit` current views of the questions matching, with ids above `after`, by id;
    with the cursor to go on from and whether question ids past it are stored.

    One call looks at the ids in (after, after + SCAN_WINDOW] at most, `limit` at a time: house
    and tabled dates narrow them in SQL, the department among each chunk's versions and then on
    the merged view (as the export judges it), and only the survivors' views are built. So a page
    costs the same at any depth of 500,000 questions, whatever the filters; a rare filter can
    give a short (even empty) page with has_more, and the cursor then skips the window read."""
    query = select(Question.id).order_by(Question.id)
    if house:
        query = query.where(Question.house == house)
    if tabled_from:
        query = query.where(Question.date_tabled >= tabled_from)
    if tabled_to:
        query = query.where(Question.date_tabled <= tabled_to)
    start = after or 0
    end = min(start + SCAN_WINDOW, CURSOR_MAX)
    found: list[QuestionView] = []
    position = after
    while len(found) < limit:
        window = query.where(Question.id > (position or start), Question.id <= end)
        chunk = list(session.scalars(window.limit(limit)))
        views = {view.question_id: view for view in _views(session, chunk, department)}
        for question_id in chunk:
            position = question_id
            if question_id in views:
                found.append(views[question_id])
                if len(found) == limit:
                    break
        if len(found) < limit and len(chunk) < limit:  # the window is read to its end
            if _stored_after(session, end):
                position = end
            break
    return found, position, _stored_after(session, position or 0)


def _views(session: Session, ids: list[int], department: str | None) -> list[QuestionView]:
    """The current views of these questions (in `department`: those some copy places there, then
    judged on the merged view)."""
    if department and ids:
        body = func.lower(Version.answering_body).contains(department.lower(), autoescape=True)
        ids = list(session.scalars(select(Version.question_id).where(Version.question_id.in_(ids), body)))
    return list(current_views(session, department=department, question_ids=set(ids))) if ids else []


def _stored_after(session: Session, question_id: int) -> bool:
    """Whether a question with a higher id is stored (a primary key lookup)."""
    return session.scalar(select(Question.id).where(Question.id > question_id).limit(1)) is not None


@web.get("/api/v1/questions/<house>/<uin>")
def api_question(house: str, uin: str) -> ResponseReturnValue:
    """Every stored question of this House and UIN (one per session), or the one tabled on
    `tabled`: its current view with its thread, and every version of it, oldest first."""
    chamber = {name.lower(): name for name in House}.get(house.lower())
    if chamber is None:
        abort(404, description=f"There is no house called {house[:40]!r}.")
    tabled = date_arg(request.args, "tabled")
    if "\x00" in uin:  # PostgreSQL refuses a NUL, and no UIN has one
        abort(404, description="No such question is stored.")
    today = london_date(ctx().clock())
    items = []
    with transaction() as session:
        for history in question_history(session, uin, chamber):
            if tabled is not None and history.date_tabled != tabled:
                continue
            view = current_view(session, history)
            if view is None:
                continue  # no source has ever shown it present: nothing to say of it yet
            thread = question_thread(session, history).as_json()
            items.append(
                {
                    **question_json(view, today, threaded=True),
                    "follows": thread["follows"],
                    "followed_by": thread["followed_by"],
                    "versions": [version.as_json() for version in history.versions],
                }
            )
    if not items:
        shown = canonical_uin(uin)[:40]
        when = f" tabled on {tabled.isoformat()}" if tabled else ""
        abort(404, description=f"No written question {shown!r} of the {chamber.value}{when} is stored.")
    return json_response({"items": items, "next_cursor": None, "has_more": False})


@web.get("/api/v1/changes")
def api_changes() -> ResponseReturnValue:
    """Change events through the filters, oldest first, with ids above the `since` cursor; the
    next cursor is the last event read (pass it back as `since` to go on)."""
    filters = filters_from(request.args)
    since = cursor_arg(request.args, "since")
    limit = limit_arg(request.args, DEFAULT_LIMIT, MAX_LIMIT)
    with transaction() as session:
        page = filtered_changes(session, filters, limit=limit, after=since, oldest_first=True)
    items = [change_json(event) for event, _ in page.events]
    cursor = page.position if page.position is not None else (since or 0)
    return json_response({"items": items, "next_cursor": cursor, "has_more": page.more})


def question_json(view: QuestionView, today: date, *, threaded: bool) -> dict[str, Any]:
    """A question as the export prints it, its lifecycle as of `today` (the app's clock), with its
    page; without `threaded`, its thread fields are null (not looked up)."""
    shown = {**view.as_json(), **view.life_json(today)}
    if not threaded:
        shown["follows"] = shown["followed_by"] = None
    shown["page_url"] = ctx().base_url + question_href(view.house.value, view.uin, view.date_tabled)
    return shown


def change_json(event: ChangeView) -> dict[str, Any]:
    """A change event as `pqwatch changes --format json` prints it, with its question's page."""
    return {
        **event.as_json(),
        "page_url": ctx().base_url + question_href(event.house.value, event.uin, event.date_tabled),
    }


def json_response(data: object, status: int = 200, content_type: str = "application/json") -> Response:
    """`data` as JSON (UTF-8, keys in the contract's order, markup characters escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Why: "<" and "&" as \u escapes are the same JSON, and never markup to a sniffing client.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(text, status=status, content_type=content_type)


def is_api_request() -> bool:
    """Whether the request is the API's, so its errors are answered as JSON."""
    return request.path.startswith(API_PREFIX)


def problem_response(
    status: int, title: str, detail: str, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """An error as RFC 9457 problem details."""
    response = json_response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type=PROBLEM_TYPE,
    )
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def add_cors_headers(response: Response) -> Response:
    """Let any origin read the API and the feeds (GET, HEAD and a preflight OPTIONS; no cookies
    are ever set or read, so no credentials are allowed)."""
    if request.method in ("GET", "HEAD", "OPTIONS") and request.path.startswith(CORS_PREFIXES):
        response.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS":
            response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response
