"""Atom feeds (RFC 4287) of change events: one for every filter a subscription can express
(`/feeds/changes.atom?department=…&kind=…`, read by monitor.web.filtering) and one per question
(`/feeds/questions/<house>/<uin>.atom`), each the FEED_ENTRIES newest events, newest first, as
monitor.notify.filtered gives them (so a feed shows what a subscription with its filters is mailed).

Written with an autoescaped Jinja2 template (templates/feed_changes.atom), not a feed library:
the app already escapes every template, the feed is small and fixed, and it needs no new runtime
dependency. An entry's content is its own autoescaped HTML template (feed_entry.html, with the
word diff of monitor.changes.diff), escaped once more as the text of `<content type="html">`.

Ids are tag URIs (RFC 4151) of the public base URL's host: `tag:HOST,2024:change/ID` for an event
and `tag:HOST,2024:feeds/changes?QUERY` for a feed (its filters in canonical order), so they never
change when a feed is read again and differ between events and between filters. Times are RFC 3339
UTC. The feed's `updated` is its newest entry's (an empty feed's is the request time).

Conditional GET: a weak ETag hashes the feed's address, its entries' ids and what an entry shows
of its question's current view (an event is never changed; a released hold adds older events,
which the ids catch), so If-None-Match answers 304 with no body without rendering anything;
Cache-Control lets a reader or proxy keep a feed for FEED_MAX_AGE seconds."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select

from monitor.changes.diff import render_diff_html, word_diff
from monitor.notify.filtered import filtered_changes
from monitor.notify.render import FIELD_LABELS, KIND_LABELS, TEXT_FIELDS
from monitor.notify.subscriptions import filter_labels, make_filters
from monitor.queries.views import ChangeView, QuestionView, utc_text
from monitor.web.base import ctx, safe_href, transaction, web
from monitor.web.filtering import date_arg, filter_query, filters_from
from monitor.web.questions import question_href
from storage.models import Question
from storage.terms import House, canonical_uin

FEED_ENTRIES = 50
FEED_MAX_AGE = 300  # seconds a reader may keep a feed before asking again
# Why a year: a tag URI names its authority at a date; 2024 is when pqwatch's ids were first minted.
TAG_DATE = "2024"
# Bumped when the template changes what a feed says, so no reader keeps the old rendering.
FEED_FORMAT = "1"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# The characters XML 1.0 forbids in a document: scraped text must never make a feed unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Events read for a per-question feed of one session (see question_feed).
QUESTION_EVENTS = 1000


@dataclass(frozen=True)
class FeedEntry:
    """One change event as an Atom entry; every text in it is plain (the template escapes it)."""

    id: str
    title: str  # "Lords HL2472: Answer text changed"
    updated: str  # RFC 3339 UTC
    href: str  # the question's page
    source_href: str | None
    kind: str
    kind_label: str
    summary: str
    content_html: str  # HTML as text: escaped once more in the feed


@dataclass(frozen=True)
class Feed:
    """A whole feed, ready for its template."""

    id: str
    title: str
    subtitle: str | None
    updated: str
    self_href: str
    alternate_href: str
    home_href: str
    entries: tuple[FeedEntry, ...]


@web.get("/feeds/changes.atom")
def changes_feed() -> ResponseReturnValue:
    """The newest changes through the query string's filters (monitor.web.filtering)."""
    filters = filters_from(request.args)
    query = filter_query(filters)
    with transaction() as session:
        page = filtered_changes(session, filters, limit=FEED_ENTRIES)
    events = list(page.events)
    labels = "; ".join(f"{label}: {value}" for label, value in filter_labels(filters.as_json()))
    return _feed_response(
        events,
        feed_id=_tag(f"feeds/changes?{query}" if query else "feeds/changes"),
        title=f"pqwatch: changes ({labels})" if labels else "pqwatch: every change",
        subtitle="Changes to answers to UK parliamentary written questions",
        self_path="/feeds/changes.atom" + (f"?{query}" if query else ""),
        alternate_path="/changes" + (f"?{query}" if query else ""),
    )


@web.get("/feeds/questions/<house>/<uin>.atom")
def question_feed(house: str, uin: str) -> ResponseReturnValue:
    """The newest changes to one question: every session's question of that UIN, or the one
    tabled on `?tabled=YYYY-MM-DD`; a 404 when no such question is stored."""
    chamber = {name.lower(): name for name in House}.get(house.lower())
    if chamber is None:
        abort(404, description=f"There is no house called {house[:40]!r}.")
    number = canonical_uin(uin)
    tabled = date_arg(request.args, "tabled")
    if "\x00" in number or not number:
        abort(404, description="No such question is stored.")
    with transaction() as session:
        stored = select(Question.id).where(Question.house == chamber.value, Question.uin == number)
        if tabled is not None:
            stored = stored.where(Question.date_tabled == tabled)
        if session.scalar(stored.limit(1)) is None:
            abort(404, description=f"No written question {number} of the {chamber.value} is stored.")
        filters = make_filters(house=chamber.value, uin=number)
        # One UIN names a question in each session: with `tabled`, keep that session's events
        # (a question has tens of events, so reading QUESTION_EVENTS and filtering loses none).
        page = filtered_changes(session, filters, limit=FEED_ENTRIES if tabled is None else QUESTION_EVENTS)
    events = [pair for pair in page.events if tabled is None or pair[0].date_tabled == tabled]
    events = events[:FEED_ENTRIES]
    page_path = question_href(chamber.value, number, tabled)
    suffix = f"?tabled={tabled.isoformat()}" if tabled else ""
    return _feed_response(
        events,
        feed_id=_tag(f"feeds/questions/{chamber.value.lower()}/{number}{suffix}"),
        title=f"pqwatch: {chamber.value} {number}" + (f" tabled {tabled.isoformat()}" if tabled else ""),
        subtitle=_heading(events),
        self_path=f"/feeds/questions/{chamber.value.lower()}/{number}.atom{suffix}",
        alternate_path=page_path,
    )


def _feed_response(
    events: list[tuple[ChangeView, QuestionView | None]],
    *,
    feed_id: str,
    title: str,
    subtitle: str | None,
    self_path: str,
    alternate_path: str,
) -> Response:
    """The feed, or a 304 when the reader's ETag is still the feed's."""
    tag = feed_etag(self_path, events)
    headers = {"Cache-Control": f"public, max-age={FEED_MAX_AGE}"}
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304, headers=headers)
        response.set_etag(tag, weak=True)
        return response
    base = ctx().base_url
    newest = events[0][0].detected_at if events else ctx().clock()
    feed = Feed(
        id=feed_id,
        title=xml_text(title),
        subtitle=xml_text(subtitle) if subtitle else None,
        updated=utc_text(newest),
        self_href=base + self_path,
        alternate_href=base + alternate_path,
        home_href=base + "/",
        entries=tuple(feed_entry(event, view) for event, view in events),
    )
    body = render_template("feed_changes.atom", feed=feed)
    response = Response(body, content_type=ATOM_TYPE, headers=headers)
    response.set_etag(tag, weak=True)
    return response


def feed_etag(address: str, events: list[tuple[ChangeView, QuestionView | None]]) -> str:
    """The (weak) ETag of a feed: its address, and what each of its entries shows that can change."""
    digest = hashlib.sha256(f"{FEED_FORMAT}\n{ctx().base_url}{address}\n".encode())
    for event, view in events:
        shown = (view.heading, view.question_text, view.answering_body) if view else ()
        digest.update(f"{event.id}\t{shown!r}\n".encode())
    return digest.hexdigest()[:32]


def feed_entry(event: ChangeView, view: QuestionView | None) -> FeedEntry:
    """One event as an entry: titled by its question and kind, its content the word diff (or the
    old and new values) with links to the question's page and the source."""
    href = ctx().base_url + question_href(event.house.value, event.uin, event.date_tabled)
    kind_label = KIND_LABELS.get(event.kind, event.kind.value.replace("_", " ").capitalize())
    field_label = FIELD_LABELS.get(event.field or "", (event.field or "").replace("_", " ").capitalize())
    source_href = safe_href(xml_text(event.source_url))
    content = render_template(
        "feed_entry.html",
        href=href,
        house=event.house.value,
        uin=event.uin,
        heading=view.heading if view else None,
        kind_label=kind_label,
        field_label=field_label or None,
        detected=f"{event.detected_at:%Y-%m-%d %H:%M} UTC",
        diff_html=_diff_html(event),
        old=event.old,
        new=event.new,
        question_text=view.question_text if view else None,
        answering_body=view.answering_body if view else None,
        source_href=source_href,
        source_url=event.source_url,
        source_kind=event.source_kind.value,
    )
    return FeedEntry(
        id=_tag(f"change/{event.id}"),
        title=xml_text(f"{event.house.value} {event.uin}: {kind_label}"),
        updated=utc_text(event.detected_at),
        href=href,
        source_href=source_href,
        kind=event.kind.value,
        kind_label=kind_label,
        summary=xml_text(_summary(event, view, kind_label)),
        content_html=xml_text(content),
    )


def _diff_html(event: ChangeView) -> Markup | None:
    """The word diff of a text field's change, as HTML (escaped scraped text); None otherwise."""
    if event.field not in TEXT_FIELDS or event.old is None or event.new is None:
        return None
    diff = [[op, text] for op, text in event.diff] if event.diff else word_diff(event.old, event.new)
    return render_diff_html(diff)


SUMMARY_CHARS = 300


def _summary(event: ChangeView, view: QuestionView | None, kind_label: str) -> str:
    """A plain-text line for readers that show no HTML: the heading, or the new value, shortened."""
    shown = (view.heading or view.question_text) if view else None
    text = shown or event.new or event.old or kind_label
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"


def _heading(events: list[tuple[ChangeView, QuestionView | None]]) -> str | None:
    return next((view.heading for _, view in events if view is not None and view.heading), None)


def _tag(specific: str) -> str:
    """A tag URI (RFC 4151) under the public base URL's host."""
    host = urlsplit(ctx().base_url).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:{specific}"


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 forbids removed (the template escapes the rest)."""
    return _NOT_XML.sub("", text)
