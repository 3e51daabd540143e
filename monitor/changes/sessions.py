"""Parliamentary sessions by name ("2023-24"), for `pqwatch stats --session` and the /stats page:
a question belongs to the session in which it was tabled.

A session runs from the day Parliament first met for it to the day before the next one met (the
days between prorogation or dissolution and that meeting have no business, so nothing is tabled).
The dates are the House of Commons' and House of Lords' session dates as Parliament lists them
(UK Parliament, "Parliamentary sessions" and the House of Commons Library's sessions data; the
What's On calendar API serves the same list at whatson-api.parliament.uk/calendar/sessions).
Both Houses share sessions. The latest session is open-ended: a new one is added here when it
begins (until then its questions count in the previous session, which `--tabled-from` corrects).

Names are Parliament's: the years the session spans ("2017-19"), or one year for a session that
began and ended within it ("2019"). A name may also be given by any spelling of its years that
starts in the same year and is unambiguous ("2024-26" for "2024-25", whose end was not known when
it began)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ParliamentarySession:
    """One session: its name and the days it covers (`ends` None while it is the latest)."""

    name: str
    begins: date
    ends: date | None

    def covers(self, day: date) -> bool:
        """Say whether a question tabled on `day` belongs to this session."""
        return self.begins <= day and (self.ends is None or day <= self.ends)

    def narrowed(self, tabled_from: date | None, tabled_to: date | None) -> tuple[date, date | None]:
        """The tabled-date range of this session within the range given (either end open)."""
        low = max(self.begins, tabled_from) if tabled_from else self.begins
        ends = [day for day in (self.ends, tabled_to) if day is not None]
        return low, min(ends) if ends else None


# (name, the day Parliament first met for it), oldest first.
_STARTS: tuple[tuple[str, date], ...] = (
    ("2010-12", date(2010, 5, 18)),
    ("2012-13", date(2012, 5, 9)),
    ("2013-14", date(2013, 5, 8)),
    ("2014-15", date(2014, 6, 4)),
    ("2015-16", date(2015, 5, 18)),
    ("2016-17", date(2016, 5, 18)),
    ("2017-19", date(2017, 6, 13)),
    ("2019", date(2019, 10, 14)),
    ("2019-21", date(2019, 12, 17)),
    ("2021-22", date(2021, 5, 11)),
    ("2022-23", date(2022, 5, 10)),
    ("2023-24", date(2023, 11, 7)),
    ("2024-25", date(2024, 7, 9)),
)

SESSIONS: tuple[ParliamentarySession, ...] = tuple(
    ParliamentarySession(
        name,
        begins,
        _STARTS[index + 1][1] - timedelta(days=1) if index + 1 < len(_STARTS) else None,
    )
    for index, (name, begins) in enumerate(_STARTS)
)


class UnknownSession(ValueError):
    """A session name that names no session (the message lists the known ones)."""


def find_session(name: str) -> ParliamentarySession:
    """The session a name gives: Parliament's own name, or years starting in the same year when
    only one session began that year ("2024-26" → "2024-25"). UnknownSession otherwise."""
    text = name.strip().replace("–", "-").replace("/", "-")
    for session in SESSIONS:
        if session.name == text:
            return session
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}|\d{4}))?", text)
    if match:
        starting = [session for session in SESSIONS if session.begins.year == int(match.group(1))]
        if len(starting) == 1:
            return starting[0]
    known = ", ".join(session.name for session in SESSIONS)
    raise UnknownSession(f"no parliamentary session {name!r} (known: {known})")


def session_of(day: date) -> ParliamentarySession | None:
    """The session a question tabled on `day` belongs to (None before the first listed)."""
    for session in reversed(SESSIONS):
        if session.covers(day):
            return session
    return None
