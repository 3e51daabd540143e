"""The export: the current view of every question, then every copy still unmatched (a copy
without a UIN that no single official question matches), in the contract's JSON and CSV forms."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy.orm import Session

from monitor.queries.views import CONTENT_NAMES, QuestionView, UnmatchedView, current_views, unmatched_views

ExportView = QuestionView | UnmatchedView

EXPORT_COLUMNS = (
    "house",
    "uin",
    "date_tabled",
    *CONTENT_NAMES,
    "sources",
    "version_count",
    "removed",
    "unmatched",
    "unmatched_reason",
)


def export_views(session: Session, *, department: str | None = None) -> list[ExportView]:
    """Every question's current view, then every unmatched copy: nothing read is left out."""
    views: list[ExportView] = list(current_views(session, department=department))
    views += unmatched_views(session, department=department)
    return views


def export_row(view: ExportView) -> dict[str, Any]:
    """One question or unmatched copy as a CSV row: the JSON form, lists joined by spaces, an
    unknown UIN empty."""
    row = view.as_json()
    row["grouped_with"] = " ".join(view.grouped_with)
    row["sources"] = " ".join(source.url for source in view.sources)
    return row


def write_export_csv(views: Iterable[ExportView], out: TextIO) -> None:
    """Print the export as CSV with a header of EXPORT_COLUMNS."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for view in views:
        writer.writerow(export_row(view))
