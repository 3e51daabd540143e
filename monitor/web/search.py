"""The search page (/search): full text over every version of every question, with the filters of
monitor.queries.search, as a GET form that works without script; each hit links to its
question's page and says whether its current text matches or only an earlier version did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from monitor.changes.lifecycle import Lifecycle, london_date
from monitor.queries import search as queries
from monitor.queries.search import MAX_OFFSET, SearchError, SearchFilters, SearchHit, search
from monitor.web.base import ctx, transaction, web
from monitor.web.questions import STATUS_TEXT, long_date, question_href
from storage.terms import House

PAGE_SIZE = 20
# The form's fields, in the order the page's links repeat them.
FIELDS = (
    "q",
    "house",
    "department",
    "member",
    "status",
    "tabled_from",
    "tabled_to",
    "answered_from",
    "answered_to",
    "versions",
)


@dataclass(frozen=True)
class HitRow:
    """One hit as the page lists it."""

    href: str
    title: str  # the heading, or "Commons written question 7926"
    where: str  # "Commons 7926, tabled 5 January 2024 · Home Office · asked by Jim Shannon"
    current: bool
    seen: str  # "3 December 2026": when the quoted text was first stored
    snippet: tuple[tuple[str, bool], ...]


def hit_row(hit: SearchHit) -> HitRow:
    """A hit as a row of the page."""
    parts = [f"{hit.house} {hit.uin}, tabled {long_date(hit.date_tabled)}"]
    if hit.answering_body:
        parts.append(hit.answering_body)
    if hit.asking_member:
        parts.append(f"asked by {hit.asking_member}")
    return HitRow(
        href=question_href(hit.house, hit.uin, hit.date_tabled),
        title=hit.heading or f"{hit.house} written question {hit.uin}",
        where=" · ".join(parts),
        current=hit.current,
        seen=long_date(hit.observed_at.date()),
        snippet=hit.snippet,
    )


@web.get("/search")
def search_page() -> ResponseReturnValue:
    """Search the text of every version; the filters narrow it, `page` goes through the hits."""
    form = {name: request.args.get(name, "").strip() for name in FIELDS}
    filters = _filters(form)
    page = _page(request.args.get("page"))
    message, results = None, None
    if form["q"]:
        try:
            with transaction() as session:
                results = search(
                    session,
                    form["q"],
                    filters,
                    limit=PAGE_SIZE,
                    offset=(page - 1) * PAGE_SIZE,
                    today=london_date(ctx().clock()),
                )
        except SearchError as error:
            message = str(error)
    links = {}
    if results is not None:
        if page > 1:
            links["previous"] = _href(form, page - 1)
        if results.more and page * PAGE_SIZE <= MAX_OFFSET:
            links["next"] = _href(form, page + 1)
    return render_template(
        "search.html",
        title=f"Search: {form['q']}" if form["q"] else "Search",
        form=form,
        houses=[house.value for house in House],
        statuses=[(status.value, STATUS_TEXT[status.value]) for status in Lifecycle],
        message=message,
        results=results,
        rows=[hit_row(hit) for hit in results.hits] if results else [],
        first=(page - 1) * PAGE_SIZE + 1,
        links=links,
        rank_limit=f"{queries.RANK_LIMIT:,}",
    )


def _filters(form: dict[str, str]) -> SearchFilters:
    """The form's filters; a bad House, status or date is a 400 that says which."""
    if form["status"] and form["status"] not in {status.value for status in Lifecycle}:
        abort(400, description=f"status={form['status']!r} is not a question status.")
    if form["versions"] not in ("", "any", "current"):
        abort(400, description=f"versions={form['versions']!r} is not any or current.")
    try:
        return SearchFilters(
            house=form["house"] or None,
            department=form["department"] or None,
            member=form["member"] or None,
            status=Lifecycle(form["status"]) if form["status"] else None,
            tabled_from=_day(form, "tabled_from"),
            tabled_to=_day(form, "tabled_to"),
            answered_from=_day(form, "answered_from"),
            answered_to=_day(form, "answered_to"),
            current_only=form["versions"] == "current",
        )
    except SearchError as error:
        abort(400, description=f"{str(error)[0].upper()}{str(error)[1:]}.")


def _day(form: dict[str, str], name: str) -> date | None:
    if not form[name]:
        return None
    try:
        return date.fromisoformat(form[name])
    except ValueError:
        abort(400, description=f"{name}={form[name]!r} is not a date (YYYY-MM-DD).")


def _page(raw: str | None) -> int:
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_OFFSET // PAGE_SIZE + 1:
        abort(400, description=f"page={raw!r} is not a page number from 1 to {MAX_OFFSET // PAGE_SIZE + 1}.")
    return int(raw)


def _href(form: dict[str, str], page: int) -> str:
    """The link to another page of the same search (only the fields given)."""
    fields = [(name, form[name]) for name in FIELDS if form[name]]
    return "/search?" + urlencode([*fields, ("page", str(page))])
