"""Meeting dates from a panel's schedule, and the dates that hang off a meeting."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta

from panels.config import WEEKDAYS, LeadTime, Schedule
from workflow.calendar import add_months, add_working_days, is_working_day


@dataclass(frozen=True)
class Slot:
    """A meeting the schedule plans: the rule's date, and the date it is held on."""

    scheduled_for: date  # the date the rule gives (the meeting's identity in the planner)
    meeting_date: date  # moved to the next working day if the rule's date is a holiday


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    days = [
        date(year, month, d)
        for d in range(1, _calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() == weekday
    ]
    return days[-1] if nth == -1 else days[nth - 1]


def rule_dates(schedule: Schedule, start: date, end: date) -> list[date]:
    """The dates the rule gives from ``start`` to ``end`` inclusive."""
    weekday = WEEKDAYS.index(schedule.weekday)
    out: list[date] = []
    if schedule.frequency == "monthly":
        assert schedule.week_of_month is not None  # validated on load
        year, month = start.year, start.month
        while date(year, month, 1) <= end:
            day = _nth_weekday(year, month, weekday, schedule.week_of_month)
            if start <= day <= end:
                out.append(day)
            month += 1
            if month == 13:
                year, month = year + 1, 1
        return out
    assert schedule.anchor is not None  # validated on load
    step = 7 if schedule.frequency == "weekly" else 14
    # The first panel date on or after start, in the anchor's rhythm (before or after it).
    offset = (start - schedule.anchor).days % step
    day = start if offset == 0 else start + timedelta(days=step - offset)
    while day <= end:
        out.append(day)
        day += timedelta(days=step)
    return out


def plan(schedule: Schedule, start: date, months: int | None = None) -> list[Slot]:
    """The forward planner: every meeting from ``start`` for ``months`` (default the config's)."""
    end = add_months(start, months or schedule.planner_months)
    slots = []
    for day in rule_dates(schedule, start, end - timedelta(days=1)):
        held = day
        if schedule.avoid_bank_holidays:
            while not is_working_day(held):
                held += timedelta(days=1)
        slots.append(Slot(day, held))
    return slots


def pack_due(meeting_date: date, lead: LeadTime) -> date:
    """The last day the pack may arrive for a meeting on ``meeting_date``."""
    if lead.unit == "working":
        return add_working_days(meeting_date, -lead.days)
    return meeting_date - timedelta(days=lead.days)


def minutes_due(meeting_date: date, working_days: int) -> date:
    """The day minutes are due: ``working_days`` working days after the meeting."""
    return add_working_days(meeting_date, working_days)
