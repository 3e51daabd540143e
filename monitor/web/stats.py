"""The timeliness page (/stats): `pqwatch stats` as a table and a bar chart of the share answered
on time per answering body, drawn as SVG on the server (no script), with the method stated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from monitor.changes.lifecycle import COMMONS_WORKING_DAYS, LORDS_WORKING_DAYS
from monitor.changes.sessions import SESSIONS, UnknownSession, find_session
from monitor.queries.stats import STATS_COLUMNS, timeliness
from monitor.web.base import transaction, web
from storage.terms import House

COLUMN_LABELS = {
    "answering_body": "Answering body",
    "questions": "Questions",
    "answered": "Answered",
    "on_time_ordinary_pct": "On time % (ordinary)",
    "on_time_named_day_pct": "On time % (named day)",
    "median_working_days": "Median working days",
    "holding_rate_pct": "Holding answer %",
    "correction_rate_pct": "Corrected %",
    "withdrawn": "Withdrawn",
    "non_answer_rate_pct": "Non-answer %",
}

# The chart's geometry, in SVG user units (the chart scales to its box's width). Each body's name
# is on its own line above its bar, so the chart stays legible when a phone shrinks it.
LEFT = 4
BAR_WIDTH = 320
CHART_WIDTH = LEFT + BAR_WIDTH + 56  # room for "100.0%" after a full bar
ROW_HEIGHT = 40
CHART_TOP = 24
MAX_BARS = 30  # the bodies asked the most; the table has every one


@dataclass(frozen=True)
class Bar:
    """One body's bar: the share of its ordinary questions answered on time."""

    label: str
    title: str  # the whole label and figures, for a tooltip and a screen reader
    pct: float
    width: float
    y: int
    answered: int


@dataclass(frozen=True)
class Chart:
    """The bars, the height the SVG needs, and its gridlines (x positions and their labels)."""

    bars: tuple[Bar, ...]
    height: int
    grid: tuple[tuple[float, int], ...]


def bar_chart(rows: list[dict[str, Any]]) -> Chart:
    """The chart of the rows that answered an ordinary question, most questions first."""
    bars: list[Bar] = []
    for row in rows:
        pct = row["on_time_ordinary_pct"]
        if pct is None or len(bars) == MAX_BARS:
            continue
        name = row["answering_body"]
        bars.append(
            Bar(
                label=name if len(name) <= 48 else name[:47] + "…",
                title=f"{name}: {pct}% of ordinary questions on time ({row['answered']} answered)",
                pct=pct,
                width=round(BAR_WIDTH * pct / 100, 1),
                y=CHART_TOP + len(bars) * ROW_HEIGHT,
                answered=row["answered"],
            )
        )
    grid = tuple((LEFT + BAR_WIDTH * step / 100, step) for step in (0, 25, 50, 75, 100))
    return Chart(tuple(bars), CHART_TOP + len(bars) * ROW_HEIGHT + 10, grid)


@web.get("/stats")
def stats_page() -> ResponseReturnValue:
    """Each answering body's timeliness over the questions chosen by the query string (house,
    session, tabled_from, tabled_to)."""
    house = request.args.get("house") or None
    if house and house not in {h.value for h in House}:
        abort(400, description=f"house={house!r} is not Commons or Lords.")
    session_name = request.args.get("session") or None
    tabled_from = _day(request.args.get("tabled_from"), "tabled_from")
    tabled_to = _day(request.args.get("tabled_to"), "tabled_to")
    if session_name:
        try:
            chosen = find_session(session_name)
        except UnknownSession as error:
            abort(400, description=str(error))
        session_name = chosen.name
        tabled_from, tabled_to = chosen.narrowed(tabled_from, tabled_to)
    with transaction() as session:
        rows = [
            body.as_json()
            for body in timeliness(session, house=house, tabled_from=tabled_from, tabled_to=tabled_to)
        ]
    return render_template(
        "stats.html",
        title="Timeliness of answers",
        rows=rows,
        columns=[(name, COLUMN_LABELS[name]) for name in STATS_COLUMNS],
        chart=bar_chart(rows),
        left=LEFT,
        chart_width=CHART_WIDTH,
        houses=[h.value for h in House],
        sessions=[s.name for s in reversed(SESSIONS)],
        chosen={
            "house": house or "",
            "session": session_name or "",
            "tabled_from": request.args.get("tabled_from", ""),
            "tabled_to": request.args.get("tabled_to", ""),
        },
        commons_days=COMMONS_WORKING_DAYS,
        lords_days=LORDS_WORKING_DAYS,
    )


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name}={raw!r} is not a date (YYYY-MM-DD).")
