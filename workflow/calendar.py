"""UK dates: England's working days and calendar arithmetic used by deadline rules."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


def today_london() -> date:
    """Today's date in England, whatever the server's time zone."""
    return datetime.now(LONDON).date()


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # subdiv="ENG" matters: without it England-only days such as the August bank holiday
    # are missing. Substitute days and one-off holidays come with the package.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    """True on a bank holiday in England (substitute days included)."""
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an English bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is day 0).

    Negative ``days`` count backwards. ``add_working_days(d, 0)`` is ``d`` even on a weekend.
    """
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start).

    Counted, not walked: the weekdays of the whole weeks and the days left over, less the
    bank holidays on weekdays in the range. The director's list computes it for every
    open escalation, some of them years overdue (issue 12, item 4).
    """
    if end < start:
        return -working_days_between(end, start)
    weeks, rest = divmod((end - start).days, 7)
    first = start.weekday()
    weekdays = weeks * 5 + sum(1 for i in range(1, rest + 1) if (first + i) % 7 < 5)
    holidays_on_weekdays = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in _bank_holidays(year)
        if start < day <= end and day.weekday() < 5
    )
    return weekdays - holidays_on_weekdays


def add_months(start: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = _calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def add_weeks(start: date, weeks: int) -> date:
    """Calendar weeks later."""
    return start + timedelta(weeks=weeks)


def add_days(start: date, days: int) -> date:
    """Calendar days later."""
    return start + timedelta(days=days)
