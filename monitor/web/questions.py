"""A question's page: its versions from every source, with word diffs within a source, where it
stands and its thread; and how a change is shown in the lists (`index_row`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlsplit

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.changes.diff import Diff, render_diff_html, word_diff
from monitor.changes.lifecycle import london_date
from monitor.queries.export import question_thread
from monitor.queries.views import (
    ChangeView,
    QuestionHistory,
    QuestionView,
    VersionView,
    current_views,
    iso,
    question_history,
    utc_text,
)
from monitor.web.base import ctx, safe_href, transaction, web
from storage.models import Question
from storage.terms import House, SourceKind, VersionStatus

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


# What a reader calls each kind of source, in a version's heading.
SOURCE_NAMES = {
    SourceKind.API: "Official record (Written Questions API)",
    SourceKind.HTML: "Official record (questions-statements.parliament.uk)",
    SourceKind.HANSARD: "Official record (historic Hansard)",
    SourceKind.BLOG: "Blog copy",
}


@dataclass(frozen=True)
class VersionRow:
    """One version of a question on its page, with what changed since the source's previous one."""

    seq: int
    title: str  # "Blog copy on www.davidalton.net, version 2"
    read_at: str  # "3 Dec 2026, 07:40 UTC"
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
class SideBySide:
    """Where a blog copy disagrees with the official record: the two texts, marked up."""

    label: str  # "Answer"
    source: str  # the blog copy's host
    official: Markup  # the record's text, with what the copy lacks marked as deleted
    copy: Markup  # the copy's text, with what it adds marked as inserted


@dataclass(frozen=True)
class QuestionPage:
    """One question on its page: who asked it where, and its versions as rows, newest first."""

    house: str
    uin: str
    date_tabled: str | None  # YYYY-MM-DD
    tabled_text: str  # "5 January 2024"
    heading: str | None  # the latest present version's heading
    rows: tuple[VersionRow, ...]
    disagreements: tuple[SideBySide, ...]
    life: tuple[tuple[str, str], ...] = ()  # ("Status", "answered"), ("Due", "10 January 2024")
    thread: tuple[ThreadLink, ...] = ()


@dataclass(frozen=True)
class ThreadLink:
    """A question in this one's thread: one it follows up, or one that follows it up."""

    relation: str  # "Follows up" | "Followed up by"
    uin: str
    tabled_text: str | None  # "5 January 2024"; None when that question is not stored
    href: str | None


STATUS_TEXT = {
    "tabled": "tabled, not yet due",
    "due_today": "due today",
    "overdue": "overdue",
    "holding": "holding answer given",
    "answered": "answered",
    "corrected": "answered, then corrected",
    "withdrawn": "withdrawn",
}


@web.get("/questions/<house>/<uin>")
def question_page(house: str, uin: str) -> ResponseReturnValue:
    """A question's versions from every source, newest first, with word diffs within a source."""
    chamber = {name.lower(): name for name in House}.get(house.lower())
    if chamber is None:
        abort(404, description=f"There is no house called {house!r}.")
    tabled = _tabled_arg(request.args.get("tabled"))
    today = london_date(ctx().clock())
    with transaction() as session:
        history = question_history(session, uin, chamber)
        found = [q for q in history if tabled is None or q.date_tabled == tabled]
        if not found:
            abort(404, description=f"No written question {uin} of the {chamber.value} is stored.")
        pages = [
            question_page_of(question_thread(session, question), current_view(session, question), today)
            for question in found
        ]
    title = next((page.heading for page in pages if page.heading), None) if len(pages) == 1 else None
    return render_template(
        "question.html",
        questions=pages,
        house=chamber.value,
        uin=found[0].uin,
        title=title or f"{chamber.value} written question {found[0].uin}",
    )


@dataclass(frozen=True)
class IndexRow:
    """One change on the front page."""

    house: str
    uin: str
    href: str
    label: str  # "Answer text changed"
    when: str  # "3 Dec 2026, 07:40 UTC"
    summary: str | None  # the new text, shortened, or "old → new"


SUMMARY_CHARS = 200


def index_row(change: ChangeView) -> IndexRow:
    """A change as the front page lists it."""
    if change.field in TEXT_FIELDS or change.old is None:
        text = change.new or ""
        summary = text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
    else:
        summary = f"{change.old} → {change.new or '—'}"
    return IndexRow(
        house=change.house.value,
        uin=change.uin,
        href=question_href(change.house.value, change.uin, change.date_tabled),
        label=change.kind.value.replace("_", " ").capitalize(),
        when=f"{change.detected_at.day} {change.detected_at:%b %Y, %H:%M} UTC",
        summary=summary or None,
    )


def question_href(house: str, uin: str, tabled: date | None = None) -> str:
    """The path of a question's page (with its tabled date when given: one UIN, two sessions)."""
    path = f"/questions/{quote(house.lower())}/{quote(uin)}"
    return f"{path}?tabled={tabled.isoformat()}" if tabled else path


def long_date(value: date | None) -> str:
    """A date as a reader writes it: "5 January 2024"."""
    return f"{value.day} {value:%B %Y}" if value else "an unknown date"


def question_page_of(
    question: QuestionHistory, view: QuestionView | None = None, today: date | None = None
) -> QuestionPage:
    """A question as its page shows it: with its current view, where it stands `today` and its
    thread."""
    latest = _latest_present(question.versions)
    return QuestionPage(
        house=question.house.value,
        uin=question.uin,
        date_tabled=iso(question.date_tabled),
        tabled_text=long_date(question.date_tabled),
        heading=next((v.heading for v in reversed(latest.values()) if v.heading), None),
        rows=tuple(version_rows(question.versions)),
        disagreements=tuple(disagreements(latest)),
        life=life_rows(view, today) if view is not None else (),
        thread=thread_links(question),
    )


def current_view(session: Session, question: QuestionHistory) -> QuestionView | None:
    """The question's current view (official values first), if a source shows it."""
    ids = set(
        session.scalars(
            select(Question.id).where(
                Question.house == question.house,
                Question.uin == question.uin,
                Question.date_tabled == question.date_tabled
                if question.date_tabled
                else Question.date_tabled.is_(None),
            )
        )
    )
    return next(iter(current_views(session, question_ids=ids)), None) if ids else None


def life_rows(view: QuestionView, today: date | None) -> tuple[tuple[str, str], ...]:
    """Where the question stands: its status, due date, and how its answer came."""
    life = view.life_json(today)
    rows = [("Status", STATUS_TEXT.get(life["status"], life["status"]))]
    due = view.due()
    if due is not None:
        named = " (a named day)" if view.is_named_day else ""
        rows.append(("Due", f"{long_date(due)}{named}"))
    if life["answered_on_time"] is not None:
        days = life["working_days_to_answer"]
        timing = "on time" if life["answered_on_time"] else "late"
        rows.append(("Answered", f"{timing}, in {days} working day{'' if days == 1 else 's'}"))
    if view.non_answer_meaning:
        rows.append(("Non-answer", view.non_answer_meaning))
    return tuple(rows)


def thread_links(question: QuestionHistory) -> tuple[ThreadLink, ...]:
    """The questions it follows up and those following it up, each linked when stored."""
    return tuple(
        ThreadLink(
            relation=relation,
            uin=uin,
            tabled_text=long_date(day) if day else None,
            href=question_href(question.house.value, uin, day) if day else None,
        )
        for relation, links in (("Follows up", question.follows), ("Followed up by", question.followed_by))
        for uin, day in links
    )


def _latest_present(versions: Iterable[VersionView]) -> dict[str, VersionView]:
    """Each source's latest version, by source URL, if that version shows the question."""
    latest: dict[str, VersionView] = {}
    for version in versions:
        latest[version.source_url] = version
    return {url: v for url, v in latest.items() if v.status == VersionStatus.PRESENT}


def disagreements(latest: Mapping[str, VersionView]) -> Iterator[SideBySide]:
    """Where a blog copy's latest text differs from the official record's latest: side by side."""
    official = [v for v in latest.values() if v.source_kind != SourceKind.BLOG]
    if not official:
        return
    record = max(official, key=lambda v: v.observed_at)
    for copy in (v for v in latest.values() if v.source_kind == SourceKind.BLOG):
        for name, label in TEXT_FIELDS.items():
            old, new = getattr(record, name), getattr(copy, name)
            if not old or not new or old == new:
                continue
            diff = word_diff(old, new)
            yield SideBySide(
                label=label,
                source=urlsplit(copy.source_url).hostname or copy.source_url,
                official=render_diff_html([[op, text] for op, text in diff if op != "+"]),
                copy=render_diff_html([[op, text] for op, text in diff if op != "-"]),
            )


def _tabled_arg(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"tabled={raw!r} is not a date (YYYY-MM-DD).")


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
        title=version_title(version),
        read_at=f"{version.observed_at.day} {version.observed_at:%b %Y, %H:%M} UTC",
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


def version_title(version: VersionView) -> str:
    """A version's heading: which source it is (a blog copy by its host), and which version."""
    name = SOURCE_NAMES.get(version.source_kind, str(version.source_kind))
    if version.source_kind == SourceKind.BLOG:
        name = f"{name} on {urlsplit(version.source_url).hostname or version.source_url}"
    return f"{name}, version {version.seq}"


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
