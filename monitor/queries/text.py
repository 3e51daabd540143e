"""Text renderings shared by the command line and the demo."""

from __future__ import annotations

from typing import Any

from monitor.changes.diff import render_diff_text


def render_event_text(event: dict[str, Any]) -> str:
    """Render one change event as a block of text for a terminal."""
    head = (
        f"{event['detected_at']}  {event['kind']:<24} {event['house']} {event['uin']}"
        f" (tabled {event['date_tabled'] or 'unknown'})  {event['source_url']}"
    )
    if event["diff"]:
        return f"{head}\n    {render_diff_text(event['diff'])}"
    if event["field"]:
        return f"{head}\n    {event['field']}: {event['old']} -> {event['new']}"
    return head
