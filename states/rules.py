"""Small guard and date-rule builders shared by journey definitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from workflow.calendar import add_days, add_months, add_weeks, add_working_days
from workflow.definition import Context, DateRule, Guard


def working_days_after(name: str, days: int) -> DateRule:
    """Due ``days`` working days after the recorded date ``name``."""

    def rule(ctx: Context) -> date | None:
        start = ctx.date_of(name)
        return None if start is None else add_working_days(start, days)

    return rule


def months_after(name: str, months: int) -> DateRule:
    """Due ``months`` calendar months after the recorded date ``name``."""

    def rule(ctx: Context) -> date | None:
        start = ctx.date_of(name)
        return None if start is None else add_months(start, months)

    return rule


def weeks_after(name: str, weeks: int) -> DateRule:
    """Due ``weeks`` weeks after the recorded date ``name``."""

    def rule(ctx: Context) -> date | None:
        start = ctx.date_of(name)
        return None if start is None else add_weeks(start, weeks)

    return rule


def days_after(name: str, days: int) -> DateRule:
    """Due ``days`` calendar days after the recorded date ``name``."""

    def rule(ctx: Context) -> date | None:
        start = ctx.date_of(name)
        return None if start is None else add_days(start, days)

    return rule


def occurred_on(ctx: Context) -> date:
    """The event's own date."""
    return ctx.occurred_on


def not_before_recorded(name: str, what: str) -> Guard:
    """The event may not be dated before the recorded date ``name``."""

    def guard(ctx: Context) -> str | None:
        earlier = ctx.journey_data.get(name)
        if earlier and ctx.occurred_on < date.fromisoformat(earlier):
            return f"The date {ctx.occurred_on.isoformat()} is before the {what} ({earlier})."
        return None

    return guard


def requires_recorded(name: str, reason: str) -> Guard:
    """The journey must already have recorded ``name``."""

    def guard(ctx: Context) -> str | None:
        return None if ctx.journey_data.get(name) else reason

    return guard


def when_given(name: str, check: Callable[[Context], str | None]) -> Guard:
    """Run ``check`` only once the event's ``name`` is given (quiet in previews)."""

    def guard(ctx: Context) -> str | None:
        return check(ctx) if name in ctx.event_data else None

    return guard
