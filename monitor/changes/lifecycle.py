"""A question's life from the official record's fields: when it is due, whether it was answered on
time, in how many working days, and where it stands now. Pure: fields and today's date in.

The method (README, "Due dates and lateness"):
- a working day is a weekday that is not a bank holiday in England and Wales (the `holidays`
  package's GB/England calendar, maintained from GOV.UK's list); sitting or not does not matter;
- working days to answer count from the day after tabling to the day of the answer, inclusive;
- the due date is the record's `dateForAnswer`; where it has none, a Commons question is due 5
  working days after tabling and a Lords question 10;
- on time: a Commons named-day question answered on or before its named day; any other Commons
  question answered within 5 working days of tabling (ordinary questions are due within a working
  week); a Lords question answered within 10 working days of tabling. Why 10 and not the 14 days
  the issue cites from the Lords Companion: the Lords now work to 10 working days (14 days was
  the earlier target), and Lords Business prints "Questions unanswered after 10 working days"
  (the project's reference, data-sources.md, "Late answers / date movement"); the Companion's own
  text could not be read here (no network), so this follows Lords Business;
- "answered" is the substantive answer: a holding answer does not stop the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
COMMONS_WORKING_DAYS = 5
LORDS_WORKING_DAYS = 10


class Lifecycle(StrEnum):
    """Where a question stands (`status` in the export)."""

    TABLED = "tabled"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    HOLDING = "holding"
    ANSWERED = "answered"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"


def london_today() -> date:
    """Today's date at Westminster."""
    return datetime.now(LONDON).date()


def london_date(moment: datetime) -> date:
    """The date at Westminster of a naive UTC moment (as pqwatch stores times)."""
    return moment.replace(tzinfo=UTC).astimezone(LONDON).date()


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """A weekday that is not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@lru_cache(maxsize=256)
def _year_index(year: int) -> tuple[int, ...]:
    """The working days of `year` on or before each of its days (by day of the year, from 0):
    the cumulative index that makes `working_days_between` a subtraction."""
    first = date(year, 1, 1)
    counts, total = [], 0
    for offset in range((date(year, 12, 31) - first).days + 1):
        total += is_working_day(first + timedelta(days=offset))
        counts.append(total)
    return tuple(counts)


def _working_days_through(day: date) -> int:
    """The working days of its year on or before `day`."""
    return _year_index(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start).

    Why an index: `pqwatch stats` and the current-state table count these for every answered
    question, so the count is a difference of cumulative counts, not a walk over the days."""
    if end <= start:
        return 0
    if start.year == end.year:
        return _working_days_through(end) - _working_days_through(start)
    count = _year_index(start.year)[-1] - _working_days_through(start)
    for year in range(start.year + 1, end.year):
        count += _year_index(year)[-1]
    return count + _working_days_through(end)


def add_working_days(start: date, days: int) -> date:
    """The working day `days` working days after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_working_day(day)
    return day


def due_date(house: str, date_tabled: date | None, date_for_answer: date | None) -> date | None:
    """The day the answer is due: the record's own, else by the house's rule."""
    if date_for_answer is not None:
        return date_for_answer
    if date_tabled is None:
        return None
    days = LORDS_WORKING_DAYS if house == "Lords" else COMMONS_WORKING_DAYS
    return add_working_days(date_tabled, days)


def answered_on_time(
    house: str,
    date_tabled: date | None,
    date_answered: date | None,
    date_for_answer: date | None,
    is_named_day: bool | None,
) -> bool | None:
    """Whether the substantive answer came on time; None while there is none (or no tabled date)."""
    if date_answered is None or date_tabled is None:
        return None
    if house == "Lords":
        return working_days_between(date_tabled, date_answered) <= LORDS_WORKING_DAYS
    if is_named_day and date_for_answer is not None:
        return date_answered <= date_for_answer
    return working_days_between(date_tabled, date_answered) <= COMMONS_WORKING_DAYS


def lifecycle_status(
    *,
    today: date,
    due: date | None,
    answered: bool,
    is_holding: bool,
    is_correction: bool,
    is_withdrawn: bool,
) -> Lifecycle:
    """Where a question stands today."""
    if is_withdrawn:
        return Lifecycle.WITHDRAWN
    if is_correction:
        return Lifecycle.CORRECTED
    if answered:
        return Lifecycle.ANSWERED
    if is_holding:
        return Lifecycle.HOLDING
    if due is not None and today == due:
        return Lifecycle.DUE_TODAY
    if due is not None and today > due:
        return Lifecycle.OVERDUE
    return Lifecycle.TABLED
