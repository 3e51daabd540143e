"""Text renderings shared by the command line and the demo."""

from __future__ import annotations

from monitor.changes.diff import render_diff_text
from monitor.queries.views import ChangeView, utc_text


def render_event_text(event: ChangeView) -> str:
    """Render one change event as a block of text for a terminal."""
    head = (
        f"{utc_text(event.detected_at)}  {event.kind:<24} {event.house} {event.uin}"
        f" (tabled {event.date_tabled or 'unknown'})  {event.source_url}"
    )
    if event.hold is not None:
        head += f"  [hold {event.hold.id}: {event.hold.state}]"
    if event.diff:
        return f"{head}\n    {render_diff_text([[op, text] for op, text in event.diff])}"
    if event.field:
        return f"{head}\n    {event.field}: {event.old} -> {event.new}"
    return head
