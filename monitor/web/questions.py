"""A question's page: its versions from every source, with word diffs within a source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from monitor.changes.diff import Diff, word_diff
from monitor.queries.views import QuestionHistory, VersionView, iso, question_history, utc_text
from monitor.web.base import safe_href, transaction, web
from storage.terms import House, VersionStatus

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


@web.get("/questions/<house>/<uin>")
def question_page(house: str, uin: str) -> ResponseReturnValue:
    """A question's versions from every source, newest first, with word diffs within a source."""
    chamber = {name.lower(): name for name in House}.get(house.lower())
    if chamber is None:
        abort(404, description=f"There is no house called {house!r}.")
    tabled = _tabled_arg(request.args.get("tabled"))
    with transaction() as session:
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
